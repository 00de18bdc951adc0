/*
 * demo.c - the main job: producers and workers share accounts in Redis,
 * some workers are slow or get stuck, and no update is lost.
 *
 * Unless $LEASEHOLD_URL names a Redis to use, the demo starts a private
 * redis-server on a Unix socket in a new temporary directory (no TCP
 * port, so no port clash) and stops it at the end. With $LEASEHOLD_URL it
 * works under a fresh root, so it never touches anyone else's keys.
 *
 * It runs several producer and worker processes at once (the programs
 * next to this one). Producers lease an account before they queue a job
 * for it, unless the account was released less than a cooldown ago;
 * workers run each job under its lease, renewed while the job works.
 * One job in K (--slow-every, at random) works for twice the lease TTL:
 * its renewer keeps the lease alive and its write goes through. One job
 * in K (--stuck-every) stalls for longer than the TTL without renewing,
 * like a stopped process: its lease expires, a newer job for the account
 * may get a new lease, and the stuck worker's write is skipped (its
 * renewer noticed the loss) or refused by the guard (it stalled after its
 * last check). At the end the demo counts, independently of the leases,
 * the updates recorded in Redis against those the workers report applied:
 * each lost update is one missing. It must be 0.
 *
 * Usage: demo [--producers N] [--jobs N] [--accounts N] [--workers N]
 *             [--ttl DUR] [--slow-every K] [--stuck-every K]
 *             [--interval DUR] [--cooldown DUR] [--no-guard]
 * Exit status 0 only if every process ran cleanly and no update was lost.
 */
#include "common.h"

#include <getopt.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define MAX_PROCS 64

struct options {
    long producers, jobs, accounts, workers, slow_every, stuck_every;
    int64_t ttl_ms, interval_ms, cooldown_ms;
    int guarded; /* 0 with --no-guard: watch updates get lost */
};

/* A private redis-server and its temporary directory. */
struct server {
    pid_t pid;
    char dir[64], sock[96], log[96];
};

/* A producer or worker process and the line it printed. */
struct child {
    pid_t pid; /* -1 once reaped */
    int fd;    /* read end of its stdout; -1 once closed */
    int ok;    /* it exited with status 0 */
    char line[256];
};

/* What the producers and workers reported, added up. */
struct totals {
    long long enqueued, duplicates, done, stale, applied;
    long long cooldowns;   /* jobs not queued: the account was cooling down */
    long long refused;     /* stale jobs whose write the guard refused */
    long long lost;        /* stale jobs whose renewer found the loss */
    long long renewed;     /* jobs done that outlived their TTL */
    long long failures;    /* of producers and workers */
    long long jobs_failed; /* jobs that a worker could not run */
    int broken;            /* some process failed or printed no summary */
};

/* What Redis holds for all accounts, added up. */
struct ledger {
    long long balance; /* the sum of the balances */
    long long updates; /* the count of updates recorded with them */
    long long held;    /* accounts still leased */
};

struct demo {
    struct options opt;
    const char *url;
    int external; /* $LEASEHOLD_URL: clean up after ourselves */
    char root[64], qkey[128];
    char producer[1024], worker[1024]; /* paths of the programs */
    struct child *kids;                /* workers first, then producers */
    struct totals t;
};

static volatile sig_atomic_t got_signal;

static const char usage[] =
    "usage: demo [--producers N] [--jobs N] [--accounts N] [--workers N]\n"
    "            [--ttl DUR] [--slow-every K] [--stuck-every K]\n"
    "            [--interval DUR] [--cooldown DUR] [--no-guard]\n";

/* Parse the command line into 'o'. 0, 1 for --help, or -1. */
static int parse_options(struct options *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"producers", required_argument, NULL, 'p'},
        {"jobs", required_argument, NULL, 'j'},
        {"accounts", required_argument, NULL, 'a'},
        {"workers", required_argument, NULL, 'w'},
        {"ttl", required_argument, NULL, 't'},
        {"slow-every", required_argument, NULL, 's'},
        {"stuck-every", required_argument, NULL, 'k'},
        {"interval", required_argument, NULL, 'i'},
        {"cooldown", required_argument, NULL, 'c'},
        {"no-guard", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c, bad = 0;

    o->producers = 3, o->jobs = 200, o->accounts = 20, o->workers = 4;
    o->slow_every = 40, o->stuck_every = 40, o->ttl_ms = 200;
    o->interval_ms = 10, o->cooldown_ms = 20, o->guarded = 1;
    while (!bad && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'p' || c == 'w')
            bad = parse_long(c == 'p' ? &o->producers : &o->workers, optarg, 1,
                             MAX_PROCS);
        else if (c == 'j' || c == 'a')
            bad = parse_long(c == 'j' ? &o->jobs : &o->accounts, optarg,
                             c == 'a', 1000000L);
        else if (c == 's' || c == 'k')
            bad = parse_long(c == 's' ? &o->slow_every : &o->stuck_every,
                             optarg, 0, 1000000L);
        else if (c == 't' || c == 'i' || c == 'c')
            bad = lh_duration_parse(c == 't'   ? &o->ttl_ms
                                    : c == 'i' ? &o->interval_ms
                                               : &o->cooldown_ms,
                                    optarg) != LH_OK;
        else if (c == 'n')
            o->guarded = 0;
        else
            return c == 'h' ? 1 : -1;
    }
    if (bad || optind != argc) {
        fprintf(stderr, "demo: bad option value or argument\n");
        return -1;
    }
    return 0;
}

static void on_signal(int sig)
{
    got_signal = sig;
}

/* SIGINT, SIGTERM and SIGHUP interrupt our waits (no SA_RESTART), so we
 * can still stop what we started and remove the temporary directory. */
static void catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* In a child just forked: exec 'argv', and die if the demo dies. */
static void exec_child(const char *const *argv)
{
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
    execvp(argv[0], (char *const *)argv);
    fprintf(stderr, "demo: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Wait until the server answers PING, at most 10 s. 0 or -1. */
static int wait_for_ping(struct server *s)
{
    int64_t deadline = now_ms() + 10000;
    struct timeval tv = {1, 0};
    redisContext *ctx;
    redisReply *r;
    int status, ready = 0;

    while (!ready && !got_signal && now_ms() < deadline) {
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = -1;
            fprintf(stderr, "demo: redis-server exited at start\n");
            return -1;
        }
        ctx = redisConnectUnixWithTimeout(s->sock, tv);
        r = ctx && !ctx->err ? redisCommand(ctx, "PING") : NULL;
        ready = r && r->type == REDIS_REPLY_STATUS && !strcmp(r->str, "PONG");
        if (r)
            freeReplyObject(r);
        if (ctx)
            redisFree(ctx);
        if (!ready)
            sleep_ms(20);
    }
    if (!ready)
        fprintf(stderr, "demo: redis-server did not answer PING in 10 s\n");
    return ready ? 0 : -1;
}

/*
 * Start a private redis-server in a new temporary directory: no TCP
 * port, a Unix socket, no persistence. Returns 0 once it answers PING,
 * or -1 with the reason on stderr.
 */
static int start_server(struct server *s)
{
    /* clang-format off */
    const char *argv[] = {"redis-server", "--port", "0", "--unixsocket",
                          s->sock, "--save", "", "--appendonly", "no",
                          "--daemonize", "no", "--logfile", s->log, NULL};
    /* clang-format on */

    snprintf(s->dir, sizeof(s->dir), "/tmp/leasehold-demo.XXXXXX");
    if (mkdtemp(s->dir) == NULL) {
        perror("demo: mkdtemp");
        s->dir[0] = '\0';
        return -1;
    }
    snprintf(s->sock, sizeof(s->sock), "%s/redis.sock", s->dir);
    snprintf(s->log, sizeof(s->log), "%s/redis.log", s->dir);
    fflush(stdout);
    if ((s->pid = fork()) < 0) {
        perror("demo: fork");
        return -1;
    }
    if (s->pid == 0)
        exec_child(argv);
    return wait_for_ping(s);
}

/* Copy the server's log to stderr, to show why it failed. */
static void show_log(const struct server *s)
{
    FILE *f = s->dir[0] ? fopen(s->log, "r") : NULL;
    char line[512];

    while (f && fgets(line, sizeof(line), f))
        fputs(line, stderr);
    if (f)
        fclose(f);
}

/* Stop the private server, if one runs, and remove its directory. */
static void stop_server(struct server *s)
{
    int64_t deadline = now_ms() + 5000;
    int status;
    pid_t r = 0;

    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        while ((r = waitpid(s->pid, &status, WNOHANG)) == 0 &&
               now_ms() < deadline)
            sleep_ms(10);
        if (r == 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
        }
        s->pid = -1;
    }
    if (s->dir[0] == '\0')
        return;
    unlink(s->sock);
    unlink(s->log);
    if (rmdir(s->dir) != 0)
        fprintf(stderr, "demo: rmdir %s: %s\n", s->dir, strerror(errno));
}

/*
 * The path of program 'name' next to the demo's own binary, in 'out'.
 * (Under libtool's wrapper that is examples/.libs, where the real
 * producer and worker binaries are, too.) Returns 0 or -1.
 */
static int sibling(char *out, size_t size, const char *name)
{
    char self[900], *slash;
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    if (n <= 0) {
        perror("demo: /proc/self/exe");
        return -1;
    }
    self[n] = '\0';
    if ((slash = strrchr(self, '/')) != NULL)
        *slash = '\0';
    snprintf(out, size, "%s/%s", self, name);
    if (access(out, X_OK) != 0) {
        fprintf(stderr, "demo: %s: %s\n", out, strerror(errno));
        return -1;
    }
    return 0;
}

/*
 * Start 'argv' (argv[0] is the program's path) with its stdout on a pipe
 * that we read. Returns 0, or -1 with the reason on stderr.
 */
static int spawn(struct child *c, const char *const *argv)
{
    int fds[2];

    if (pipe(fds) != 0) {
        perror("demo: pipe");
        return -1;
    }
    fflush(stdout);
    if ((c->pid = fork()) < 0) {
        perror("demo: fork");
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (c->pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        exec_child(argv);
    }
    close(fds[1]);
    c->fd = fds[0];
    return 0;
}

/*
 * Read what the child prints until it closes its stdout, then reap it.
 * Returns 0, or -1 if a signal came.
 */
static int collect(struct child *c)
{
    char scratch[256];
    size_t used = 0;
    ssize_t n;
    int status, full;

    do {
        full = used + 1 >= sizeof(c->line); /* then read to discard */
        n = read(c->fd, full ? scratch : c->line + used,
                 full ? sizeof(scratch) : sizeof(c->line) - 1 - used);
        used += n > 0 && !full ? (size_t)n : 0;
    } while (n > 0 || (n < 0 && errno == EINTR && !got_signal));
    close(c->fd);
    c->fd = -1;
    c->line[used] = '\0';
    c->line[strcspn(c->line, "\n")] = '\0';
    if (n < 0)
        return -1;
    while (waitpid(c->pid, &status, 0) < 0)
        if (errno != EINTR || got_signal)
            return -1;
    c->pid = -1;
    c->ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    return 0;
}

/* Stop and reap the children still running, and close their pipes. */
static void stop_children(struct child *kids, long n)
{
    long i;

    for (i = 0; i < n; i++)
        if (kids[i].pid > 0)
            kill(kids[i].pid, SIGTERM);
    for (i = 0; i < n; i++) {
        if (kids[i].pid > 0)
            waitpid(kids[i].pid, NULL, 0);
        if (kids[i].fd >= 0)
            close(kids[i].fd);
        kids[i].pid = -1, kids[i].fd = -1;
    }
}

static int start_worker(struct demo *d, struct child *c)
{
    char slow[24], stuck[24];
    /* clang-format off */
    const char *argv[] = {d->worker, "--url", d->url, "--root", d->root,
                          "--slow-every", slow, "--stuck-every", stuck,
                          "--idle", "5s",
                          d->opt.guarded ? NULL : "--no-guard", NULL};
    /* clang-format on */

    snprintf(slow, sizeof(slow), "%ld", d->opt.slow_every);
    snprintf(stuck, sizeof(stuck), "%ld", d->opt.stuck_every);
    return spawn(c, argv);
}

static int start_producer(struct demo *d, struct child *c)
{
    char jobs[24], accounts[24], ttl[32], interval[32], cooldown[32];
    /* clang-format off */
    const char *argv[] = {d->producer, "--url", d->url, "--root", d->root,
                          "--jobs", jobs, "--accounts", accounts,
                          "--ttl", ttl, "--interval", interval,
                          "--cooldown", cooldown, NULL};
    /* clang-format on */

    snprintf(jobs, sizeof(jobs), "%ld", d->opt.jobs);
    snprintf(accounts, sizeof(accounts), "%ld", d->opt.accounts);
    snprintf(ttl, sizeof(ttl), "%lldms", (long long)d->opt.ttl_ms);
    snprintf(interval, sizeof(interval), "%lldms",
             (long long)d->opt.interval_ms);
    snprintf(cooldown, sizeof(cooldown), "%lldms",
             (long long)d->opt.cooldown_ms);
    return spawn(c, argv);
}

/* Find "key=N" in a summary 'line'. 0 or -1. */
static int report_value(const char *line, const char *key, long long *out)
{
    size_t len = strlen(key);
    const char *p = line;
    char *end;

    for (; (p = strstr(p, key)) != NULL; p += len) {
        if ((p == line || p[-1] == ' ') && p[len] == '=') {
            errno = 0;
            *out = strtoll(p + len + 1, &end, 10);
            return errno || end == p + len + 1 ? -1 : 0;
        }
    }
    return -1;
}

/* Add the summary of producer or worker 'c' to the totals. */
static void add_report(struct totals *t, const struct child *c, int worker)
{
    const char *l = c->line;
    long long a = 0, b = 0, f = 0, applied = 0, refused = 0, lost = 0;
    long long renewed = 0, cooldowns = 0;
    int bad = !c->ok || report_value(l, "failures", &f);

    if (worker) {
        bad |= report_value(l, "done", &a) != 0;
        bad |= report_value(l, "stale_rejected", &b) != 0;
        bad |= report_value(l, "applied", &applied) != 0;
        bad |= report_value(l, "refused_writes", &refused) != 0;
        bad |= report_value(l, "lost_leases", &lost) != 0;
        bad |= report_value(l, "renewed", &renewed) != 0;
        t->done += a, t->stale += b, t->applied += applied;
        t->refused += refused, t->lost += lost, t->renewed += renewed;
        t->jobs_failed += f;
    } else {
        bad |= report_value(l, "enqueued", &a) != 0;
        bad |= report_value(l, "duplicates_refused", &b) != 0;
        bad |= report_value(l, "cooldown_refused", &cooldowns) != 0;
        t->enqueued += a, t->duplicates += b, t->cooldowns += cooldowns;
    }
    t->failures += f;
    t->broken |= bad;
    printf("  %-8s %s%s\n", worker ? "worker" : "producer",
           c->line[0] ? c->line : "(no summary)",
           c->ok ? "" : " [exited with an error]");
}

/*
 * Run the workers and the producers at once. When the producers are
 * done, queue one stop job per worker (behind every real job: LPUSH adds
 * at the head, workers pop at the tail) and wait for the workers.
 * Returns 0, or -1 if they could not all run.
 */
static int run_processes(struct demo *d, redisContext *q)
{
    const long nw = d->opt.workers, n = nw + d->opt.producers;
    const char *stop[] = {"LPUSH", d->qkey, "{\"stop\":true}"};
    long i;

    for (i = 0; i < n; i++)
        if ((i < nw ? start_worker(d, &d->kids[i])
                    : start_producer(d, &d->kids[i])) != 0)
            return -1;
    for (i = nw; i < n; i++) {
        if (collect(&d->kids[i]) != 0)
            return -1;
        add_report(&d->t, &d->kids[i], 0);
    }
    for (i = 0; i < nw; i++)
        if (plain_command(q, REDIS_REPLY_INTEGER, 3, stop) != 0)
            return -1;
    for (i = 0; i < nw; i++) {
        if (collect(&d->kids[i]) != 0)
            return -1;
        add_report(&d->t, &d->kids[i], 1);
    }
    return 0;
}

/*
 * Add what Redis holds for account number 'i' to 'l': read its data
 * plainly and inspect its lease. With $LEASEHOLD_URL, delete its data
 * afterwards. Returns 0, or -1 with the reason on stderr.
 */
static int check_account(struct demo *d, lh_client *client, const lh_factory *f,
                         redisContext *q, long i, struct ledger *l)
{
    char name[32], *key = NULL;
    const char *args[1] = {name}, *del[2] = {"DEL", NULL};
    lh_resource_info info;
    long long balance, updates;
    lh_error err;
    int rc = -1;

    account_name(name, sizeof(name), i);
    if (lh_factory_data_key(&key, f, args, 1, EXAMPLE_DATA, &err)) {
        fprintf(stderr, "demo: data key: %s\n", err.message);
        goto done;
    }
    if (account_read(q, key, &balance, &updates) != 0)
        goto done;
    if (lh_resource_inspect(&info, client, f, args, 1) != LH_OK) {
        fprintf(stderr, "demo: inspect %s: %s\n", name, lh_errmsg(client));
        goto done;
    }
    l->balance += balance, l->updates += updates, l->held += info.held;
    del[1] = key;
    if (d->external && plain_command(q, REDIS_REPLY_INTEGER, 2, del) != 0)
        goto done;
    rc = 0;
done:
    lh_free(key);
    return rc;
}

/*
 * Print the summary; its last five lines are what the main job promises.
 * "lost updates" counts the updates the workers applied that Redis does
 * not hold. Returns the exit status: 0 only if all went well.
 */
static int report(const struct demo *d, const struct ledger *l, int64_t ms)
{
    const struct totals *t = &d->t;
    long long lost = t->done - l->updates;
    const char *why = NULL;

    printf("\njobs enqueued: %lld (done %lld, failed %lld, stale %lld: "
           "%lld expired in the queue,\n  %lld lost their lease while "
           "running and skipped their write, %lld had\n  their write "
           "refused by the guard)\n",
           t->enqueued, t->done, t->jobs_failed, t->stale,
           t->stale - t->lost - t->refused, t->lost, t->refused);
    printf("jobs done that outlived their lease TTL, kept alive by their "
           "renewer: %lld\n",
           t->renewed);
    printf("updates the workers applied: %lld, amounts summing to %lld\n",
           t->done, t->applied);
    printf("updates recorded in Redis:   %lld, balances summing to %lld\n",
           l->updates, l->balance);
    printf("accounts still leased: %lld\nrun time: %.1f s\n", l->held,
           (double)ms / 1000.0);
    printf("jobs done: %lld\nduplicates refused: %lld\n", t->done,
           t->duplicates);
    printf("cooldowns refused: %lld\n", t->cooldowns);
    printf("stale leases rejected: %lld\nlost updates: %lld\n", t->stale, lost);
    if (t->broken || t->failures > 0)
        why = "a producer or a worker failed";
    else if (t->enqueued != t->done + t->stale + t->jobs_failed)
        why = "some jobs were never run";
    else if (l->held > 0)
        why = "some accounts are still leased";
    else if (lost != 0 || l->balance != t->applied)
        why = "the balances in Redis do not match the applied updates";
    if (why)
        fprintf(stderr, "demo: FAILED: %s\n", why);
    return why ? 1 : 0;
}

/*
 * Choose the Redis: $LEASEHOLD_URL under a fresh root, or a private
 * server whose URL goes to 'url'. Returns 0 or -1.
 */
static int setup_redis(struct demo *d, struct server *s, char *url, size_t size)
{
    d->url = getenv("LEASEHOLD_URL");
    if (d->url != NULL && d->url[0] != '\0') {
        d->external = 1;
        snprintf(d->root, sizeof(d->root), "demo-%ld-%lld", (long)getpid(),
                 (long long)time(NULL));
        printf("redis: $LEASEHOLD_URL, under the new root %s (its lease "
               "records expire in 10 minutes)\n",
               d->root);
    } else {
        if (start_server(s) != 0) {
            show_log(s);
            if (!got_signal)
                fprintf(stderr, "demo: could not start redis-server; "
                                "install it, or set LEASEHOLD_URL\n");
            return -1;
        }
        snprintf(url, size, "unix://%s", s->sock);
        d->url = url;
        snprintf(d->root, sizeof(d->root), "%s", EXAMPLE_ROOT);
        printf("redis: a private redis-server at %s\n", url);
    }
    queue_name(d->qkey, sizeof(d->qkey), d->root);
    return 0;
}

/* Connect, run everything, check and report. Returns the exit status. */
static int run_demo(struct demo *d)
{
    lh_client *client = NULL;
    lh_factory *factory = NULL;
    redisContext *q = NULL;
    struct ledger ledger = {0, 0, 0};
    const char *del[2] = {"DEL", d->qkey};
    int64_t start = now_ms();
    long i, n = d->opt.workers + d->opt.producers;
    int rc = 1;

    if (example_open(&client, &factory, d->url, d->root, d->opt.ttl_ms) ||
        (q = queue_connect(d->url)) == NULL)
        goto done;
    if ((d->kids = calloc((size_t)n, sizeof(*d->kids))) == NULL)
        goto done;
    for (i = 0; i < n; i++)
        d->kids[i].pid = -1, d->kids[i].fd = -1;
    if (run_processes(d, q) != 0)
        goto done;
    for (i = 0; i < d->opt.accounts; i++)
        if (check_account(d, client, factory, q, i, &ledger) != 0)
            goto done;
    rc = report(d, &ledger, now_ms() - start);
done:
    if (d->kids)
        stop_children(d->kids, n);
    free(d->kids);
    if (q && d->external) /* the stop jobs of workers that left idle */
        plain_command(q, REDIS_REPLY_INTEGER, 2, del);
    if (q)
        redisFree(q);
    lh_factory_free(factory);
    lh_client_free(client);
    return rc;
}

int main(int argc, char **argv)
{
    struct server s = {-1, "", "", ""};
    struct demo d;
    char url[128];
    int rc;

    prog = "demo";
    memset(&d, 0, sizeof(d));
    if ((rc = parse_options(&d.opt, argc, argv)) != 0) {
        fputs(usage, rc > 0 ? stdout : stderr);
        return rc > 0 ? 0 : 2;
    }
    catch_signals();
    printf("leasehold demo: %ld producers x %ld jobs on %ld accounts, "
           "%ld workers\n",
           d.opt.producers, d.opt.jobs, d.opt.accounts, d.opt.workers);
    printf("lease TTL %lld ms, renewed while a job runs; cooldown %lld ms "
           "after a release\n",
           (long long)d.opt.ttl_ms, (long long)d.opt.cooldown_ms);
    if (d.opt.slow_every > 0)
        printf("1 job in %ld, at random, works for twice the TTL; ",
               d.opt.slow_every);
    else
        printf("no job is slow; ");
    if (d.opt.stuck_every > 0)
        printf("1 in %ld stalls without renewing", d.opt.stuck_every);
    else
        printf("none stalls");
    printf("%s\n", d.opt.guarded ? "" : "; writes NOT guarded");
    rc = 1;
    if (sibling(d.producer, sizeof(d.producer), "producer") == 0 &&
        sibling(d.worker, sizeof(d.worker), "worker") == 0 &&
        setup_redis(&d, &s, url, sizeof(url)) == 0)
        rc = run_demo(&d);
    stop_server(&s);
    if (got_signal) {
        fprintf(stderr, "demo: stopped by signal %d\n", (int)got_signal);
        rc = 1;
    }
    return rc;
}
