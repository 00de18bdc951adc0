/*
 * worker.c - run queued jobs under the leases they carry.
 *
 * The worker pops a job, takes its lease out of the payload and confirms
 * it: a job whose lease expired while it waited in the queue is stale and
 * is skipped. Then it updates the account with a read-modify-write: a
 * plain read of the balance, some work, and a guarded write of the new
 * balance that Redis applies only if the lease still holds the account.
 * Last, lh_lease_scope releases the lease with outcome success or failure.
 *
 * While a job works, a renewer keeps its lease alive. The worker drives it
 * from its own loop: the work comes in small steps, and between two steps
 * lh_renewer_tick() extends the lease when an extend is due (every third
 * of the TTL). So a job that is slow but alive (--slow-every K: 1 job in
 * K, at random, works for twice its lease's TTL) keeps its lease and its
 * write goes through. Before writing, the worker polls the renewer's
 * status (one atomic load, no round trip) and skips the write of a lease
 * that was lost; the renewer is stopped before the lease is released.
 *
 * A stuck process does not renew: --stuck-every K makes 1 job in K stall
 * for 1.5 times its TTL without ticking, as if the process were stopped
 * (SIGSTOP, swapping, a long pause). Half of these stall in the middle of
 * the work: the next tick finds the lease lost and the write is skipped.
 * The others stall right after the status check, before the write: the
 * check said "held", but it is out of date by the time the write is sent,
 * and the guard refuses the write. Either way no stale write lands, and no
 * newer balance written under a newer lease is overwritten.
 *
 * The queue is a Redis list: producers LPUSH, workers BRPOP. The job
 * {"stop":true} ends a worker; so does an empty queue for --idle DUR.
 * --no-guard writes without the guard, to show the updates it would lose.
 *
 * Usage: worker [--url URL] [--root ROOT] [--slow-every K]
 *               [--stuck-every K] [--idle DUR] [--no-guard]
 * Prints one line: done=N stale_rejected=N failures=N applied=SUM
 * refused_writes=N lost_leases=N renewed=N (applied: the sum of the
 * amounts this worker added to balances; stale_rejected: the jobs whose
 * lease was lost, of which refused_writes lost it while they ran and had
 * their write refused by the guard, lost_leases lost it while they ran and
 * skipped their write, and the others found it expired in the queue;
 * renewed: the jobs done that ran for longer than their lease's TTL).
 */
#include "common.h"

#include <getopt.h>

/* The work of a job comes in steps of a 40th of its lease's TTL: a job
 * works for 1 step, a slow one for 80 (twice the TTL). */
#define STEPS_PER_TTL 40
#define SLOW_STEPS (2 * STEPS_PER_TTL)

struct options {
    const char *url;  /* NULL: $LEASEHOLD_URL, else the default */
    const char *root; /* root of the factory and the queue */
    long slow_every;  /* 1 job in K (at random) works for twice the TTL */
    long stuck_every; /* 1 job in K (at random) stalls without renewing */
    int64_t idle_ms;  /* stop after the queue is empty this long; 0: never */
    int guarded;      /* 0 with --no-guard */
};

struct worker {
    lh_client *client;   /* for the lease calls and the renewals */
    lh_factory *factory; /* checks that a job's lease is one of ours */
    redisContext *queue; /* plain connection: BRPOP and plain reads */
    struct options opt;
    uint64_t random; /* picks the slow and the stuck jobs */
    long done, stale, failures, refused, lost, renewed;
    long long applied;
};

/* How one job ended. */
enum result {
    APPLIED, /* written under the lease */
    LOST,    /* the renewer found the lease lost: the write was skipped */
    REFUSED, /* the lease was lost: the guard refused the write */
    FAILED   /* an error */
};

/* Where a stuck job stalls, if it does. */
enum stall { NO_STALL, STALL_IN_WORK, STALL_BEFORE_WRITE };

/* What run_job() needs to know about a job, and what it found. */
struct job {
    struct worker *w;
    long long amount;
    int slow;
    enum stall stall;
    enum result result;
    int64_t ran_ms; /* from the renewer's start to the write */
};

static const char usage[] =
    "usage: worker [--url URL] [--root ROOT] [--slow-every K]\n"
    "              [--stuck-every K] [--idle DUR] [--no-guard]\n";

/* Parse the command line into 'o'. 0, 1 for --help, or -1. */
static int parse_options(struct options *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},
        {"root", required_argument, NULL, 'r'},
        {"slow-every", required_argument, NULL, 's'},
        {"stuck-every", required_argument, NULL, 'k'},
        {"idle", required_argument, NULL, 'i'},
        {"no-guard", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c, bad = 0;

    o->url = NULL, o->root = EXAMPLE_ROOT, o->slow_every = 0;
    o->stuck_every = 0, o->idle_ms = 0, o->guarded = 1;
    while (!bad && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'u')
            o->url = optarg;
        else if (c == 'r')
            o->root = optarg;
        else if (c == 's' || c == 'k')
            bad = parse_long(c == 's' ? &o->slow_every : &o->stuck_every,
                             optarg, 0, 1000000000L);
        else if (c == 'i')
            bad = lh_duration_parse(&o->idle_ms, optarg) != LH_OK;
        else if (c == 'n')
            o->guarded = 0;
        else
            return c == 'h' ? 1 : -1;
    }
    if (bad || optind != argc) {
        fprintf(stderr, "worker: bad option value or argument\n");
        return -1;
    }
    return 0;
}

/* 1 time in 'every' (never if 'every' is 0), at random. */
static int one_in(struct worker *w, long every)
{
    return every > 0 && next_random(&w->random) % (uint64_t)every == 0;
}

/*
 * Write the account's new 'balance' and 'jobs' count. Both fields go in
 * one HSET, and lh_lease_guard() runs it only if 'lease' still holds the
 * account: one atomic check-and-write on the server, no race in between.
 * Returns LH_OK, LH_ERR_NOT_HELD or LH_ERR_NOT_OWNED (stale), or another
 * error.
 */
static lh_status write_account(struct worker *w, lh_client *client,
                               const lh_lease *lease, const char *key,
                               long long balance, long long jobs)
{
    char b[24], j[24];
    const char *argv[6] = {"HSET", key, "balance", b, "jobs", j};

    snprintf(b, sizeof(b), "%lld", balance);
    snprintf(j, sizeof(j), "%lld", jobs);
    if (!w->opt.guarded) /* what a worker without the guard would do */
        return plain_command(w->queue, REDIS_REPLY_INTEGER, 6, argv) == 0
                   ? LH_OK
                   : LH_ERR_IO;
    /* argv[1] is the only key: LH_KEY(1). */
    return lh_lease_guard(NULL, client, lease, 6, argv, NULL, LH_KEY(1));
}

/*
 * The work done under the lease (an lh_lease_fn): read the account, work
 * while a renewer keeps the lease alive, and, if the lease is still held,
 * write the account back under it. Its return value is the outcome
 * lh_lease_scope() releases the lease with.
 */
static lh_outcome run_job(lh_client *client, const lh_lease *lease,
                          void *payload)
{
    struct job *job = payload;
    const char *account = lh_lease_arg(lease, 0);
    const int64_t ttl = lh_lease_ttl_ms(lease);
    const int64_t step_ms = ttl >= STEPS_PER_TTL ? ttl / STEPS_PER_TTL : 1;
    const long steps = job->slow ? SLOW_STEPS : 1;
    lh_renewer *renewer = NULL;
    int64_t started = now_ms();
    long long balance, jobs;
    char *key = NULL;
    lh_error err;
    lh_status st;
    long i;

    job->result = FAILED;
    /*
     * A renewer driven from this function (no thread, no connection of
     * its own): lh_renewer_tick() extends the lease on 'client' when an
     * extend is due, every third of the TTL, and does nothing otherwise.
     * No loss callback: we poll lh_renewer_status() instead. (Work that
     * cannot stop to tick, such as one long blocking call, would use
     * lh_renewer_start(): a thread and a connection per renewer.)
     */
    if (lh_renewer_new(&renewer, lease, NULL, NULL, NULL, &err) != LH_OK) {
        fprintf(stderr, "worker: renewer: %s\n", err.message);
        return LH_OUTCOME_FAILURE;
    }
    /* The first tick extends at once: the lease gets its whole TTL back,
     * however long it waited in the queue. */
    lh_renewer_tick(renewer, client, NULL);
    /* The account's data key lies in the lease's hash slot, so the
     * guarded write works on Redis Cluster too. */
    if (lh_lease_data_key(&key, lease, EXAMPLE_DATA) != LH_OK) {
        fprintf(stderr, "worker: data key: out of memory\n");
        goto done;
    }
    /* A plain read is enough: if the balance changes after we read it,
     * it changed under a newer lease, and then our write is refused. */
    if (account_read(job->w->queue, key, &balance, &jobs) != 0)
        goto done;
    for (i = 0; i < steps && lh_renewer_status(renewer) == LH_OK; i++) {
        if (job->stall == STALL_IN_WORK && i == steps / 2)
            sleep_ms(ttl * 3 / 2); /* stuck: nothing runs, no renewal */
        else
            sleep_ms(step_ms); /* one step of the work */
        /* Extend, if due. A tick after a stall finds the lease's local
         * deadline passed: it reports the loss (LH_ERR_IO) at once. */
        lh_renewer_tick(renewer, client, NULL);
    }
    /* Still held? One atomic load: no round trip. */
    if (lh_renewer_status(renewer) != LH_OK) {
        job->result = LOST; /* the write would be refused: skip it */
        goto done;
    }
    /* The check above is advice, not a promise: a process can stop right
     * after it. The guard, checked by Redis with the write, is what
     * keeps a stale write out. */
    if (job->stall == STALL_BEFORE_WRITE)
        sleep_ms(ttl * 3 / 2); /* stuck right here */
    st = write_account(job->w, client, lease, key, balance + job->amount,
                       jobs + 1);
    job->ran_ms = now_ms() - started;
    if (st == LH_OK)
        job->result = APPLIED;
    else if (st == LH_ERR_NOT_HELD || st == LH_ERR_NOT_OWNED)
        job->result = REFUSED; /* nothing was written */
    else
        fprintf(stderr, "worker: write %s: %s\n", account, lh_errmsg(client));
done:
    /* Stop, then release: the renewer stops here, and lh_lease_scope()
     * releases the lease once we return. */
    lh_renewer_free(renewer);
    lh_free(key);
    return job->result == APPLIED ? LH_OUTCOME_SUCCESS : LH_OUTCOME_FAILURE;
}

/*
 * Confirm 'lease', run the job under it and release it. The counters of
 * 'w' record how the job ended.
 */
static void run_leased(struct worker *w, const lh_lease *lease,
                       long long amount)
{
    struct job job = {w, amount, 0, NO_STALL, FAILED, 0};
    lh_status st;

    /* Is the lease still ours? It may have expired in the queue. */
    st = lh_lease_confirm(NULL, w->client, lease);
    if (st == LH_ERR_NOT_HELD || st == LH_ERR_NOT_OWNED) {
        w->stale++;
        return;
    }
    if (st != LH_OK) {
        fprintf(stderr, "worker: confirm: %s\n", lh_errmsg(w->client));
        w->failures++;
        return;
    }
    job.slow = one_in(w, w->opt.slow_every);
    if (one_in(w, w->opt.stuck_every))
        job.stall =
            next_random(&w->random) % 2 ? STALL_IN_WORK : STALL_BEFORE_WRITE;
    st = lh_lease_scope(w->client, lease, run_job, &job);
    /* NOT_HELD or NOT_OWNED: the lease was lost while the job ran; its
     * write was skipped or refused, so there is nothing more to do. */
    if (st != LH_OK && st != LH_ERR_NOT_HELD && st != LH_ERR_NOT_OWNED)
        fprintf(stderr, "worker: release: %s\n", lh_errmsg(w->client));
    w->done += job.result == APPLIED;
    w->stale += job.result == LOST || job.result == REFUSED;
    w->lost += job.result == LOST;
    w->refused += job.result == REFUSED;
    w->failures += job.result == FAILED;
    if (job.result == APPLIED) {
        w->applied += amount;
        w->renewed += job.ran_ms > lh_lease_ttl_ms(lease);
    }
}

/*
 * Handle one popped job, the JSON text 'text' of 'len' bytes.
 * Returns 1 for a stop job, else 0.
 */
static int handle_job(struct worker *w, const char *text, size_t len)
{
    json_t *payload = json_loadb(text, len, 0, NULL);
    const char *account = NULL;
    json_int_t amount = 0;
    lh_lease *lease = NULL;
    lh_error err;
    int stop = 0;

    if (payload == NULL) {
        fprintf(stderr, "worker: a job is not JSON\n");
        w->failures++;
    } else if (json_is_true(json_object_get(payload, "stop"))) {
        stop = 1;
    } else if (json_unpack(payload, "{s:s, s:I}", "account", &account, "amount",
                           &amount) != 0) {
        fprintf(stderr, "worker: a job lacks account or amount\n");
        w->failures++;
    } else if (lh_payload_get_lease(&lease, payload, NULL, w->factory, &err) !=
               LH_OK) {
        fprintf(stderr, "worker: job lease: %s\n", err.message);
        w->failures++;
    } else if (strcmp(account, lh_lease_arg(lease, 0)) != 0) {
        fprintf(stderr, "worker: the lease is not on the job's account\n");
        w->failures++;
    } else {
        run_leased(w, lease, (long long)amount);
    }
    lh_lease_free(lease);
    json_decref(payload);
    return stop;
}

/*
 * Pop and handle jobs until a stop job, an empty queue for --idle, or an
 * error. Returns 0, or -1 if the queue failed.
 */
static int work(struct worker *w)
{
    int64_t idle_since = now_ms();
    redisReply *r;
    char qkey[512];
    int stop = 0;

    queue_name(qkey, sizeof(qkey), w->opt.root);
    while (!stop) {
        /* Wait at most 1 s for a job, then look at the idle time. */
        r = redisCommand(w->queue, "BRPOP %s 1", qkey);
        if (r == NULL || (r->type != REDIS_REPLY_NIL &&
                          (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
                           r->element[1]->type != REDIS_REPLY_STRING))) {
            fprintf(stderr, "worker: BRPOP %s: %s\n", qkey,
                    reply_error(w->queue, r));
            if (r)
                freeReplyObject(r);
            return -1;
        }
        if (r->type == REDIS_REPLY_NIL) {
            stop =
                w->opt.idle_ms > 0 && now_ms() - idle_since >= w->opt.idle_ms;
        } else {
            stop = handle_job(w, r->element[1]->str, r->element[1]->len);
            idle_since = now_ms();
        }
        freeReplyObject(r);
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct worker w;
    int rc;

    prog = "worker";
    memset(&w, 0, sizeof(w));
    if ((rc = parse_options(&w.opt, argc, argv)) != 0) {
        fputs(usage, rc > 0 ? stdout : stderr);
        return rc > 0 ? 0 : 2;
    }
    rc = 1;
    w.opt.url = example_url(w.opt.url);
    w.random = random_seed();
    /* The worker's factory TTL is unused: each lease carries its own. */
    if (example_open(&w.client, &w.factory, w.opt.url, w.opt.root,
                     EXAMPLE_TTL_MS) != 0 ||
        (w.queue = queue_connect(w.opt.url)) == NULL)
        goto done;
    if (work(&w) == 0)
        rc = 0;
    printf("done=%ld stale_rejected=%ld failures=%ld applied=%lld "
           "refused_writes=%ld lost_leases=%ld renewed=%ld\n",
           w.done, w.stale, w.failures, w.applied, w.refused, w.lost,
           w.renewed);
done:
    if (w.queue)
        redisFree(w.queue);
    lh_factory_free(w.factory);
    lh_client_free(w.client);
    return rc;
}
