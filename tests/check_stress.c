/*
 * check_stress.c - many processes, few resources: mutual exclusion and
 * fencing under contention, against the suite's own redis-server.
 *
 * Forked workers (8 by default) each run jobs (500 by default) that
 * read-modify-write one of a few shared counters under a lease: acquire
 * (retrying while held), log "S:<fence>:<worker>" with a guarded RPUSH,
 * GET the counter with a plain read, SET it to value + 1 with a guarded
 * write, log "E:<fence>:<worker>", release. Every 20th job the worker
 * makes its own lease expire before the write (PEXPIRE 1, then waits for
 * the key to go), so another worker can take the resource: the stale
 * write must be refused and the job is retried. Afterwards the parent
 * checks that each resource's log is a run of sections with strictly
 * rising fences, each "E" right after its own "S" (no double holders),
 * and that the counters add up to the increments the workers reported
 * through a pipe (no lost updates). Two variations: SCRIPT FLUSH run over
 * and over by the parent while workers run, and a Redis restart (without
 * its data) in the middle of a smaller run, where workers retry on
 * LH_ERR_IO and fences still rise across the restart.
 *
 * LEASEHOLD_STRESS_JOBS sets the jobs per worker (e.g. 50 under
 * valgrind); the variations scale with it.
 */
#include "helpers.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_WORKERS 16
#define MAX_RESOURCES 8
#define PREFIX "counter"

typedef struct stress_cfg {
    int workers;
    int jobs; /* per worker */
    int resources;
    int expire_every; /* force an expiry on every n-th job; 0: never */
    int faults;       /* Redis may fail: retry on LH_ERR_IO and losses */
    int64_t ttl_ms;
} stress_cfg;

/* What a worker tells the parent when it is done. */
typedef struct report {
    long done;         /* jobs finished */
    long increments;   /* guarded SETs that succeeded */
    long forced;       /* leases expired on purpose */
    long refused;      /* stale guarded writes refused */
    long held_retries; /* acquires that found the resource held */
    long io_retries;   /* LH_ERR_IO or a lost lease, retried */
    int failed;
    char msg[256];
} report;

typedef struct worker {
    const stress_cfg *cfg;
    const char *root;
    int id;
    lh_client *c;
    lh_factory *f;
    redisContext *raw;
    int64_t deadline;
    report rep;
} worker;

enum { JOB_DONE, JOB_RETRY, JOB_FAIL };

static int jobs_per_worker(void)
{
    const char *s = getenv("LEASEHOLD_STRESS_JOBS");
    long n = s ? strtol(s, NULL, 10) : 500;

    return n >= 1 && n <= 100000 ? (int)n : 500;
}

/* ---- the worker (a forked child: no Check assertions here) ------------ */

static int wfail(worker *w, const char *fmt, ...)
{
    va_list ap;
    int n;

    w->rep.failed = 1;
    n = snprintf(w->rep.msg, sizeof(w->rep.msg), "worker %d: ", w->id);
    va_start(ap, fmt);
    vsnprintf(w->rep.msg + n, sizeof(w->rep.msg) - (size_t)n, fmt, ap);
    va_end(ap);
    return JOB_FAIL;
}

static int lost(lh_status st)
{
    return st == LH_ERR_NOT_HELD || st == LH_ERR_NOT_OWNED;
}

/* A status the job may retry after: only when faults are expected. */
static int retryable(const worker *w, lh_status st)
{
    return w->cfg->faults && (st == LH_ERR_IO || lost(st));
}

static int acquire_retrying(worker *w, const char *arg, lh_lease **out)
{
    lh_acquire_options o = LH_ACQUIRE_OPTIONS_INIT;
    const char *args[1];
    char id[LH_ID_HEX_LEN + 1];
    lh_status st;

    args[0] = arg;
    if (lh_id_generate(id, NULL) != LH_OK)
        return wfail(w, "no lease id");
    /* One id for every try: a try whose reply was lost is retried
     * safely (the same lease comes back). */
    o.id = id;
    o.ttl_ms = w->cfg->ttl_ms;
    for (;;) {
        st = lh_lease_acquire(out, w->c, w->f, args, 1, &o);
        if (st == LH_OK)
            return JOB_DONE;
        if (th_now_ms() > w->deadline)
            return wfail(w, "deadline passed acquiring %s: %s", arg,
                         lh_errmsg(w->c));
        if (st == LH_ERR_HELD) {
            w->rep.held_retries++;
            sched_yield();
        } else if (st == LH_ERR_IO && w->cfg->faults) {
            w->rep.io_retries++;
            sched_yield();
        } else {
            return wfail(w, "acquire %s: %s", arg, lh_errmsg(w->c));
        }
    }
}

static lh_status log_entry(worker *w, const lh_lease *l, const char *log,
                           char tag)
{
    char entry[64];
    const char *argv[3];

    snprintf(entry, sizeof(entry), "%c:%lld:%d", tag,
             (long long)lh_lease_fence(l), w->id);
    argv[0] = "RPUSH", argv[1] = log, argv[2] = entry;
    return lh_lease_guard(NULL, w->c, l, 3, argv, NULL, LH_KEY(1));
}

/* A plain read of the counter: 0 if missing, -1 if Redis failed (the raw
 * connection is then reopened). */
static long long raw_counter(worker *w, const char *key)
{
    const char *argv[2] = {"GET", key};
    redisReply *r = w->raw ? redisCommandArgv(w->raw, 2, argv, NULL) : NULL;
    long long v = -1;

    if (r && r->type == REDIS_REPLY_NIL)
        v = 0;
    else if (r && r->type == REDIS_REPLY_STRING)
        v = strtoll(r->str, NULL, 10);
    if (r)
        freeReplyObject(r);
    else {
        if (w->raw)
            redisFree(w->raw);
        w->raw = th_raw_try();
    }
    return v;
}

/* Make our own lease expire now, and wait until Redis has dropped it. */
static int force_expiry(worker *w, const lh_lease *l)
{
    char *key = NULL;
    redisReply *r;
    int gone = 0;

    if (lh_lease_key(&key, l) != LH_OK)
        return wfail(w, "lease key");
    r = redisCommand(w->raw, "PEXPIRE %s 1", key);
    if (r)
        freeReplyObject(r);
    /* Gone means: no longer our id (another worker may take it at once). */
    while (!gone && th_now_ms() < w->deadline) {
        r = redisCommand(w->raw, "GET %s", key);
        gone = r && (r->type == REDIS_REPLY_NIL ||
                     (r->type == REDIS_REPLY_STRING &&
                      strncmp(r->str, lh_lease_id(l), LH_ID_HEX_LEN) != 0));
        if (r)
            freeReplyObject(r);
        else
            break;
    }
    lh_free(key);
    if (!gone)
        return wfail(w, "forced expiry did not happen");
    w->rep.forced++;
    return JOB_DONE;
}

/* The guarded SET of value + 1; 'stale' says our lease was expired. */
static int increment(worker *w, const lh_lease *l, const char *counter,
                     long long value, int stale)
{
    char text[32];
    const char *argv[3];
    lh_status st;

    snprintf(text, sizeof(text), "%lld", value + 1);
    argv[0] = "SET", argv[1] = counter, argv[2] = text;
    st = lh_lease_guard(NULL, w->c, l, 3, argv, NULL, LH_KEY(1));
    if (st == LH_OK && stale)
        return wfail(w, "a stale lease's guarded write was applied");
    if (st == LH_OK) {
        w->rep.increments++;
        return JOB_DONE;
    }
    if (stale && lost(st)) {
        w->rep.refused++;
        return JOB_RETRY;
    }
    if (retryable(w, st)) {
        w->rep.io_retries++;
        return JOB_RETRY;
    }
    return wfail(w, "guarded SET: %s", lh_errmsg(w->c));
}

/* The critical section, with the lease held; JOB_RETRY leaves the lease
 * to the caller to give back. */
static int critical(worker *w, const lh_lease *l, int force)
{
    char *counter = NULL, *log = NULL;
    long long value;
    lh_status st;
    int rc = JOB_FAIL;

    if (lh_lease_data_key(&counter, l, "counter") != LH_OK ||
        lh_lease_data_key(&log, l, "log") != LH_OK) {
        wfail(w, "data keys");
        goto done;
    }
    if ((st = log_entry(w, l, log, 'S')) != LH_OK) {
        rc = retryable(w, st) ? JOB_RETRY
                              : wfail(w, "log S: %s", lh_errmsg(w->c));
        goto done;
    }
    if ((value = raw_counter(w, counter)) < 0) {
        rc = w->cfg->faults ? JOB_RETRY : wfail(w, "GET counter failed");
        goto done;
    }
    if (force && (rc = force_expiry(w, l)) != JOB_DONE)
        goto done;
    if ((rc = increment(w, l, counter, value, force)) != JOB_DONE)
        goto done;
    if ((st = log_entry(w, l, log, 'E')) != LH_OK)
        rc = retryable(w, st) ? JOB_RETRY
                              : wfail(w, "log E: %s", lh_errmsg(w->c));
done:
    lh_free(counter);
    lh_free(log);
    return rc;
}

static int job(worker *w, int resource, int force)
{
    char arg[16];
    lh_lease *l = NULL;
    lh_status st;
    int rc;

    snprintf(arg, sizeof(arg), "r%d", resource);
    if ((rc = acquire_retrying(w, arg, &l)) != JOB_DONE)
        return rc;
    rc = critical(w, l, force);
    if (rc == JOB_DONE) {
        st = lh_lease_release(w->c, l, LH_OUTCOME_SUCCESS);
        /* With faults, a release that failed still finished the job:
         * its write and log entry are in (or were lost with) Redis. */
        if (st != LH_OK && !retryable(w, st))
            rc = wfail(w, "release: %s", lh_errmsg(w->c));
        else
            w->rep.done++;
    } else if (rc == JOB_RETRY) {
        /* Give back a lease we may still hold (not after a forced
         * expiry: it is gone, and another worker may hold the resource). */
        st = lh_lease_release(w->c, l, LH_OUTCOME_FAILURE);
        if (st == LH_OK && !w->cfg->faults)
            rc = wfail(w, "a stale lease was released");
    }
    lh_lease_free(l);
    return rc;
}

static unsigned next_random(unsigned *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static int worker_setup(worker *w)
{
    lh_factory_options fo = LH_FACTORY_OPTIONS_INIT;
    lh_error err;

    fo.root = w->root;
    if (lh_factory_new(&w->f, PREFIX, 1, w->cfg->ttl_ms, &fo, &err) != LH_OK)
        return wfail(w, "factory: %s", err.message);
    while (lh_client_open(&w->c, getenv("LEASEHOLD_TEST_URL"), NULL, &err) !=
           LH_OK) {
        if (!w->cfg->faults || th_now_ms() > w->deadline)
            return wfail(w, "open: %s", err.message);
        sched_yield();
    }
    if ((w->raw = th_raw_try()) == NULL && !w->cfg->faults)
        return wfail(w, "raw connection");
    return JOB_DONE;
}

static void worker_main(const stress_cfg *cfg, const char *root, int id,
                        int64_t deadline, int fd)
{
    worker w;
    unsigned seed = 2654435761u * (unsigned)(id + 1);
    int j = 0, forced_this_job = 0, resource = 0, rc;

    memset(&w, 0, sizeof(w));
    w.cfg = cfg, w.root = root, w.id = id, w.deadline = deadline;
    rc = worker_setup(&w);
    while (rc != JOB_FAIL && j < cfg->jobs) {
        int force = cfg->expire_every && !forced_this_job &&
                    j % cfg->expire_every == cfg->expire_every - 1;

        if (!forced_this_job)
            resource = (int)(next_random(&seed) % (unsigned)cfg->resources);
        rc = job(&w, resource, force);
        if (rc == JOB_DONE)
            j++, forced_this_job = 0;
        else if (rc == JOB_RETRY && force)
            forced_this_job = 1;
        if (rc == JOB_RETRY && th_now_ms() > deadline)
            rc = wfail(&w, "deadline passed retrying job %d", j);
    }
    if (write(fd, &w.rep, sizeof(w.rep)) != (ssize_t)sizeof(w.rep))
        w.rep.failed = 1;
    close(fd);
    lh_client_free(w.c);
    lh_factory_free(w.f);
    if (w.raw)
        redisFree(w.raw);
    _exit(w.rep.failed ? 1 : 0);
}

/* ---- the parent ------------------------------------------------------- */

typedef struct crew {
    const stress_cfg *cfg;
    char root[200];
    pid_t pid[MAX_WORKERS];
    int fd[MAX_WORKERS];
    int status[MAX_WORKERS];
    int reaped[MAX_WORKERS];
    report total;
    int64_t started;
} crew;

static void crew_start(crew *cr, const stress_cfg *cfg, const char *name)
{
    int64_t deadline = th_now_ms() + 40000LL * th_timeout_multiplier();
    int i;

    memset(cr, 0, sizeof(*cr));
    cr->cfg = cfg;
    snprintf(cr->root, sizeof(cr->root), "%s", th_root(name));
    ck_assert(cfg->workers <= MAX_WORKERS && cfg->resources <= MAX_RESOURCES);
    fflush(stdout);
    fflush(stderr);
    cr->started = th_now_ms();
    for (i = 0; i < cfg->workers; i++) {
        int p[2];

        ck_assert(pipe(p) == 0);
        cr->pid[i] = fork();
        ck_assert(cr->pid[i] >= 0);
        if (cr->pid[i] == 0) {
            close(p[0]);
            worker_main(cfg, cr->root, i, deadline, p[1]);
        }
        close(p[1]);
        cr->fd[i] = p[0];
    }
}

/* Reap the workers that have exited; with 'block', wait for all. Returns
 * how many still run. */
static int crew_reap(crew *cr, int block)
{
    int i, running = 0;

    for (i = 0; i < cr->cfg->workers; i++) {
        pid_t r;

        if (cr->reaped[i])
            continue;
        do
            r = waitpid(cr->pid[i], &cr->status[i], block ? 0 : WNOHANG);
        while (r < 0 && errno == EINTR);
        ck_assert(r >= 0);
        if (r == cr->pid[i])
            cr->reaped[i] = 1;
        else
            running++;
    }
    return running;
}

/* Wait for every worker; assert each finished all its jobs. */
static void crew_finish(crew *cr, const char *what)
{
    int i;

    crew_reap(cr, 1);
    for (i = 0; i < cr->cfg->workers; i++) {
        report r;
        ssize_t n = read(cr->fd[i], &r, sizeof(r));

        close(cr->fd[i]);
        ck_assert_msg(n == (ssize_t)sizeof(r),
                      "worker %d sent no report "
                      "(status %d)",
                      i, cr->status[i]);
        ck_assert_msg(!r.failed, "%s", r.msg);
        ck_assert_msg(WIFEXITED(cr->status[i]) &&
                          WEXITSTATUS(cr->status[i]) == 0,
                      "worker %d: status %d", i, cr->status[i]);
        ck_assert_int_eq(r.done, cr->cfg->jobs);
        cr->total.done += r.done;
        cr->total.increments += r.increments;
        cr->total.forced += r.forced;
        cr->total.refused += r.refused;
        cr->total.held_retries += r.held_retries;
        cr->total.io_retries += r.io_retries;
    }
    printf("%s: %d workers x %d jobs on %d resources in %lld ms: "
           "%ld held retries, %ld forced expiries, %ld stale writes "
           "refused, %ld I/O retries\n",
           what, cr->cfg->workers, cr->cfg->jobs, cr->cfg->resources,
           (long long)(th_now_ms() - cr->started), cr->total.held_retries,
           cr->total.forced, cr->total.refused, cr->total.io_retries);
}

static char *resource_key(const crew *cr, int resource, const char *name)
{
    lh_factory_options fo = LH_FACTORY_OPTIONS_INIT;
    lh_factory *f = NULL;
    char arg[16], *key = NULL;
    const char *args[1];

    fo.root = cr->root;
    ck_assert_int_eq(lh_factory_new(&f, PREFIX, 1, 1000, &fo, NULL), LH_OK);
    snprintf(arg, sizeof(arg), "r%d", resource);
    args[0] = arg;
    ck_assert_int_eq(lh_factory_data_key(&key, f, args, 1, name, NULL), LH_OK);
    lh_factory_free(f);
    return key;
}

static long long counter_value(redisContext *rc, const crew *cr, int res)
{
    char *key = resource_key(cr, res, "counter");
    redisReply *r = th_cmd(rc, "GET", key, NULL);
    long long v = 0;

    ck_assert(r->type == REDIS_REPLY_NIL || r->type == REDIS_REPLY_STRING);
    if (r->type == REDIS_REPLY_STRING)
        v = strtoll(r->str, NULL, 10);
    freeReplyObject(r);
    lh_free(key);
    return v;
}

typedef struct log_stats {
    long starts, ends;
    long long first, last; /* fences of the first and last section */
} log_stats;

/* Check a resource's log: sections "S:f:w" [ "E:f:w" ] with fences rising
 * strictly (and above 'after'), each E right after its own S. */
static void check_log(redisContext *rc, const crew *cr, int res,
                      long long after, log_stats *st)
{
    char *key = resource_key(cr, res, "log");
    redisReply *r = th_cmd(rc, "LRANGE", key, "0", "-1", NULL);
    long long prev = after;
    int open = 0, holder = -1;
    size_t i;

    memset(st, 0, sizeof(*st));
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    for (i = 0; i < r->elements; i++) {
        const char *e = r->element[i]->str;
        char tag;
        long long fence;
        int who;

        ck_assert_msg(sscanf(e, "%c:%lld:%d", &tag, &fence, &who) == 3,
                      "bad log entry %s", e);
        if (tag == 'S') {
            ck_assert_msg(fence > prev,
                          "r%d entry %zu: fence %lld after "
                          "%lld",
                          res, i, fence, prev);
            if (st->starts++ == 0)
                st->first = fence;
            prev = fence, open = 1, holder = who;
        } else {
            ck_assert_msg(tag == 'E' && open && fence == prev && who == holder,
                          "r%d entry %zu: %s inside another holder's "
                          "section (last S fence %lld by %d)",
                          res, i, e, prev, holder);
            st->ends++;
            open = 0;
        }
    }
    st->last = prev;
    freeReplyObject(r);
    lh_free(key);
}

/* Logs and counters agree: per resource, one increment per finished
 * section; with 'busy', a holder may be between its SET and its E. Returns
 * the sum of the counters. */
static long long check_all(redisContext *rc, const crew *cr,
                           const long long *after, int busy, log_stats *stats)
{
    long long sum = 0;
    int i;

    for (i = 0; i < cr->cfg->resources; i++) {
        long long v = counter_value(rc, cr, i);

        check_log(rc, cr, i, after ? after[i] : 0, &stats[i]);
        ck_assert_msg(v == stats[i].ends || (busy && v == stats[i].ends + 1),
                      "r%d: counter %lld, %ld sections", i, v, stats[i].ends);
        sum += v;
    }
    return sum;
}

static void check_totals(redisContext *rc, const crew *cr)
{
    log_stats stats[MAX_RESOURCES];
    long long sum = check_all(rc, cr, NULL, 0, stats);
    long starts = 0;
    int i;

    for (i = 0; i < cr->cfg->resources; i++)
        starts += stats[i].starts;
    ck_assert_int_eq(cr->total.done, (long)cr->cfg->workers * cr->cfg->jobs);
    ck_assert_int_eq(cr->total.increments, cr->total.done);
    /* No lost update: every increment is in the counters. */
    ck_assert_int_eq(sum, cr->total.increments);
    /* Every forced expiry ended in a refused write and a retry. */
    ck_assert_int_eq(cr->total.refused, cr->total.forced);
    ck_assert_int_eq(starts, cr->total.done + cr->total.forced);
    if (cr->cfg->expire_every)
        ck_assert_int_eq(cr->total.forced,
                         (long)cr->cfg->workers *
                             (cr->cfg->jobs / cr->cfg->expire_every));
}

START_TEST(contention_with_forced_expiry)
{
    stress_cfg cfg = {8, 0, 4, 20, 0, 10000};
    redisContext *rc;
    crew cr;

    cfg.jobs = jobs_per_worker();
    crew_start(&cr, &cfg, "contend");
    crew_finish(&cr, "contention");
    rc = th_raw();
    check_totals(rc, &cr);
    ck_assert(cr.total.forced > 0 || cfg.jobs < cfg.expire_every);
    redisFree(rc);
}
END_TEST

static int scripts_loaded(redisContext *rc)
{
    redisReply *r =
        redisCommand(rc, "SCRIPT EXISTS %s %s %s", lh__script_acquire.sha,
                     lh__script_guard.sha, lh__script_release.sha);
    int any = 0;
    size_t i;

    if (r == NULL)
        return -1;
    for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
        any |= r->element[i]->integer == 1;
    freeReplyObject(r);
    return any;
}

/* The parent flushes the script cache as soon as a worker has loaded a
 * script again, until the workers are done. */
START_TEST(contention_with_script_flush)
{
    stress_cfg cfg = {8, 0, 4, 20, 0, 10000};
    redisContext *rc;
    long flushes = 0, errors = 0;
    crew cr;

    cfg.jobs = jobs_per_worker() / 4 > 20 ? jobs_per_worker() / 4 : 20;
    crew_start(&cr, &cfg, "flush");
    rc = th_raw_try();
    while (rc && crew_reap(&cr, 0) > 0) {
        redisReply *r = redisCommand(rc, "SCRIPT FLUSH");
        int loaded = 0;

        if (r == NULL || r->type != REDIS_REPLY_STATUS)
            errors++;
        else
            flushes++;
        if (r)
            freeReplyObject(r);
        while (!loaded && crew_reap(&cr, 0) > 0) {
            loaded = scripts_loaded(rc);
            if (loaded < 0)
                errors++;
            sched_yield();
        }
    }
    crew_finish(&cr, "script flush");
    ck_assert_msg(rc != NULL, "no raw connection for the flusher");
    ck_assert_int_eq(errors, 0);
    printf("script flush: %ld flushes while the workers ran\n", flushes);
    ck_assert(flushes >= 10);
    check_totals(rc, &cr);
    redisFree(rc);
}
END_TEST

/* Restart Redis, empty, once a third of the work is done. Writes are
 * paused first, so the logs read just before the kill are complete. */
START_TEST(restart_mid_run)
{
    stress_cfg cfg = {4, 0, 2, 0, 1, 10000};
    log_stats before[MAX_RESOURCES], after[MAX_RESOURCES];
    long long last[MAX_RESOURCES], sum = 0, ends = 0, ends_before = 0;
    int64_t deadline = th_now_ms() + 30000LL * th_timeout_multiplier();
    redisContext *rc;
    crew cr;
    int i;

    cfg.jobs = jobs_per_worker() / 5 > 20 ? jobs_per_worker() / 5 : 20;
    crew_start(&cr, &cfg, "restart");
    rc = th_raw();
    while (sum < (long long)cfg.workers * cfg.jobs / 3) {
        ck_assert_msg(th_now_ms() < deadline && crew_reap(&cr, 0) > 0,
                      "the workers made no progress");
        for (sum = 0, i = 0; i < cfg.resources; i++)
            sum += counter_value(rc, &cr, i);
        sched_yield();
    }
    freeReplyObject(th_cmd(rc, "CLIENT", "PAUSE", "10000", "WRITE", NULL));
    check_all(rc, &cr, NULL, 1, before);
    redisFree(rc);
    th_restart_redis();
    crew_finish(&cr, "restart");
    rc = th_raw();
    for (i = 0; i < cfg.resources; i++) {
        ck_assert(before[i].starts > 0);
        last[i] = before[i].last;
    }
    /* After the restart: the same properties, fences above all earlier
     * ones, and the counters match the sections logged since. */
    check_all(rc, &cr, last, 0, after);
    for (i = 0; i < cfg.resources; i++) {
        ends_before += before[i].ends;
        ends += after[i].ends;
    }
    ck_assert_msg(ends > 0, "no work after the restart");
    printf("restart: %lld sections logged before, %lld after\n", ends_before,
           ends);
    redisFree(rc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stress");
    TCase *tc = tcase_create("stress");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, contention_with_forced_expiry);
    tcase_add_test(tc, contention_with_script_flush);
    tcase_add_test(tc, restart_mid_run);
    suite_add_tcase(s, tc);
    return th_run(s);
}
