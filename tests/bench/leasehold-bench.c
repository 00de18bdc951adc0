/*
 * leasehold-bench.c - the benchmark driver of BENCH-PROTOCOL.md.
 *
 *   leasehold-bench --port P --mode MODE [flags]
 *
 * Modes throughput, latency, rtt, hold and handoff run the library's
 * synchronous API against 127.0.0.1:P and print key=value lines on
 * stdout; wakefloor measures the floor that handoff is judged against
 * (a process blocked in BLPOP woken by another's LPUSH). Flags come in
 * any order, as "--flag value" or "--flag=value"; unknown flags (and
 * their values) are ignored. Every loop is bounded by --duration and by
 * a count.
 *
 * Resources are named as the protocol names them ("tp:3", "lat"): the part
 * before the first ':' is the prefix of a factory with root "bench" and
 * the rest its one argument; a name without ':' gets an arity-0 factory.
 * Releases record outcome success, as a worker's normal path does.
 *
 * Flags beyond the protocol, for same-run comparisons and checks:
 *   --impl bare         the classic single-instance lock over bare
 *                       hiredis instead of the library: SET key token NX
 *                       PX to acquire, a Lua compare-and-delete to
 *                       release, a compare-and-PEXPIRE to extend; the key
 *                       is the resource name, the token 32 random hex
 *   --then-release 1    hold: release each lease right after acquiring
 *                       it, leaving only the per-resource release record
 *   --echo-conn separate
 *                       rtt: send the phase markers on a connection of
 *                       their own (see echo_open())
 *   --with-floor 1      handoff: interleave wake-floor reps with the
 *                       handoff reps and print both, and their ratios
 *   --seed N            handoff, wakefloor: seed of the holder's sleeps
 *
 * Exit status: 0 success, 1 a Redis or I/O failure, 2 usage.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <hiredis/hiredis.h>

#include "leasehold.h"

#define BENCH_ROOT "bench"
#define CMD_TIMEOUT_MS 2000
#define LEASE_TTL_MS 30000
#define FD_SCAN_MAX 4096
#define MAX_CLIENTS 1024
#define MAX_RESOURCE 128

enum { OP_FAIL = -1, OP_OK = 0, OP_BUSY = 1 };

/* ---- options -------------------------------------------------------- */

typedef struct opts {
    int port;
    const char *mode;
    int clients;
    int shared;      /* --keys shared */
    double duration; /* seconds */
    long long max_cycles;
    long long n;       /* rtt: K; hold: N */
    long long ttl_ms;  /* hold */
    int bare;          /* --impl bare */
    int then_release;  /* hold: release each lease at once */
    int echo_separate; /* rtt: phase markers on their own connection */
    long long reps;    /* handoff, wakefloor */
    long long seed;    /* handoff, wakefloor: the sleeps */
    int with_floor;    /* handoff: interleave wake-floor reps */
} opts;

static int usage(const char *why)
{
    fprintf(stderr,
            "leasehold-bench: %s\n"
            "usage: leasehold-bench --port P --mode "
            "throughput|latency|rtt|hold|handoff|wakefloor\n"
            "       [--clients N] [--keys distinct|shared] [--duration S]\n"
            "       [--max-cycles M] [--n N] [--ttl-ms T] [--reps R]\n"
            "       [--impl leasehold|bare] [--then-release 0|1]\n"
            "       [--echo-conn same|separate] [--with-floor 0|1]\n"
            "       [--seed N]\n",
            why);
    return 2;
}

static int parse_ll(const char *s, long long min, long long max, long long *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_seconds(const char *s, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0) || v > 86400)
        return -1;
    *out = v;
    return 0;
}

static int one_of(const char *val, const char *a, const char *b, int *out)
{
    if (strcmp(val, a) == 0)
        *out = 0;
    else if (strcmp(val, b) == 0)
        *out = 1;
    else
        return -1;
    return 0;
}

/* Set option 'name' (without "--") to 'val'. Returns 0, or -1 if 'val'
 * is bad. Names this program does not know are ignored. */
static int set_opt(opts *o, const char *name, const char *val)
{
    long long v = 0;
    int r = 0;

    if (strcmp(name, "mode") == 0)
        o->mode = val;
    else if (strcmp(name, "port") == 0) {
        if ((r = parse_ll(val, 1, 65535, &v)) == 0)
            o->port = (int)v;
    } else if (strcmp(name, "clients") == 0) {
        if ((r = parse_ll(val, 1, MAX_CLIENTS, &v)) == 0)
            o->clients = (int)v;
    } else if (strcmp(name, "keys") == 0)
        r = one_of(val, "distinct", "shared", &o->shared);
    else if (strcmp(name, "duration") == 0)
        r = parse_seconds(val, &o->duration);
    else if (strcmp(name, "max-cycles") == 0)
        r = parse_ll(val, 1, 1000000000000LL, &o->max_cycles);
    else if (strcmp(name, "n") == 0)
        r = parse_ll(val, 1, 100000000, &o->n);
    else if (strcmp(name, "ttl-ms") == 0)
        r = parse_ll(val, LH_MIN_TTL_MS, LH_MAX_TTL_MS, &o->ttl_ms);
    else if (strcmp(name, "impl") == 0)
        r = one_of(val, "leasehold", "bare", &o->bare);
    else if (strcmp(name, "then-release") == 0)
        r = one_of(val, "0", "1", &o->then_release);
    else if (strcmp(name, "echo-conn") == 0)
        r = one_of(val, "same", "separate", &o->echo_separate);
    else if (strcmp(name, "reps") == 0)
        r = parse_ll(val, 1, 100000000, &o->reps);
    else if (strcmp(name, "seed") == 0)
        r = parse_ll(val, 0, 1000000000000LL, &o->seed);
    else if (strcmp(name, "with-floor") == 0)
        r = one_of(val, "0", "1", &o->with_floor);
    return r;
}

/* Read "--name value" and "--name=value" in any order. A flag's value is
 * the next word unless that word is itself a flag; words that are not
 * flags or values are ignored. */
static int parse_args(opts *o, int argc, char **argv)
{
    char name[64];
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *eq, *val = "";
        size_t len;

        if (strncmp(a, "--", 2) != 0)
            continue;
        a += 2;
        eq = strchr(a, '=');
        len = eq ? (size_t)(eq - a) : strlen(a);
        if (len >= sizeof(name))
            continue;
        memcpy(name, a, len);
        name[len] = '\0';
        if (eq)
            val = eq + 1;
        else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
            val = argv[++i];
        if (set_opt(o, name, val) != 0) {
            fprintf(stderr, "leasehold-bench: --%s: bad value '%s'\n", name,
                    val);
            return -1;
        }
    }
    return 0;
}

/* ---- clock and statistics ------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The nearest-rank 'pct' percentile of 'n' sorted samples. */
static double percentile(const double *v, size_t n, unsigned pct)
{
    size_t rank = (pct * n + 99) / 100;

    return v[rank ? rank - 1 : 0];
}

/* ---- one client: the library, or the classic lock over hiredis ------- */

typedef struct held {
    lh_lease *lease;               /* leasehold */
    char key[MAX_RESOURCE];        /* bare: the lock's key */
    char token[LH_ID_HEX_LEN + 1]; /* bare: its value */
} held;

typedef struct sess {
    const opts *o;
    lh_client *lh;
    redisContext *rc;
    lh_factory *f; /* for 'prefix', 'arity' */
    char prefix[MAX_RESOURCE];
    int arity;
    char err[512];
} sess;

static int sess_fail(sess *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->err, sizeof(s->err), fmt, ap);
    va_end(ap);
    return OP_FAIL;
}

static redisContext *raw_connect(int port, char *err, size_t errlen)
{
    struct timeval tv;
    redisContext *rc;

    tv.tv_sec = CMD_TIMEOUT_MS / 1000;
    tv.tv_usec = (CMD_TIMEOUT_MS % 1000) * 1000;
    rc = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (rc == NULL || rc->err || redisSetTimeout(rc, tv) != REDIS_OK) {
        snprintf(err, errlen, "connect 127.0.0.1:%d: %s", port,
                 rc ? rc->errstr : "out of memory");
        if (rc)
            redisFree(rc);
        return NULL;
    }
    return rc;
}

static int sess_open(sess *s, const opts *o)
{
    lh_client_options co = LH_CLIENT_OPTIONS_INIT;
    char url[64];
    lh_error e;

    memset(s, 0, sizeof(*s));
    s->o = o;
    if (o->bare) {
        s->rc = raw_connect(o->port, s->err, sizeof(s->err));
        return s->rc ? OP_OK : OP_FAIL;
    }
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d", o->port);
    co.connect_timeout_ms = CMD_TIMEOUT_MS;
    co.timeout_ms = CMD_TIMEOUT_MS;
    if (lh_client_open(&s->lh, url, &co, &e) != LH_OK)
        return sess_fail(s, "lh_client_open %s: %s", url, e.message);
    return OP_OK;
}

static void sess_close(sess *s)
{
    lh_factory_free(s->f);
    lh_client_free(s->lh);
    if (s->rc)
        redisFree(s->rc);
    s->f = NULL;
    s->lh = NULL;
    s->rc = NULL;
}

/* Make s->f the factory of 'res' (reusing the last one when the prefix
 * and arity match) and point *arg at its argument, or NULL for arity 0. */
static int factory_for(sess *s, const char *res, const char **arg)
{
    lh_factory_options fo = LH_FACTORY_OPTIONS_INIT;
    const char *colon = strchr(res, ':');
    size_t plen = colon ? (size_t)(colon - res) : strlen(res);
    int arity = colon != NULL;
    lh_error e;

    *arg = colon ? colon + 1 : NULL;
    if (plen >= sizeof(s->prefix))
        return sess_fail(s, "resource name too long: %s", res);
    if (s->f && s->arity == arity && strlen(s->prefix) == plen &&
        memcmp(s->prefix, res, plen) == 0)
        return OP_OK;
    lh_factory_free(s->f);
    s->f = NULL;
    memcpy(s->prefix, res, plen);
    s->prefix[plen] = '\0';
    s->arity = arity;
    fo.root = BENCH_ROOT;
    if (lh_factory_new(&s->f, s->prefix, arity, LEASE_TTL_MS, &fo, &e))
        return sess_fail(s, "lh_factory_new %s: %s", s->prefix, e.message);
    return OP_OK;
}

static int lib_acquire(sess *s, const char *res, long long ttl, held *h)
{
    lh_acquire_options ao = LH_ACQUIRE_OPTIONS_INIT;
    const char *arg;
    lh_status st;

    if (factory_for(s, res, &arg) != OP_OK)
        return OP_FAIL;
    ao.ttl_ms = ttl;
    st = lh_lease_acquire(&h->lease, s->lh, s->f, arg ? &arg : NULL,
                          arg ? 1 : 0, &ao);
    if (st == LH_OK)
        return OP_OK;
    if (st == LH_ERR_HELD)
        return OP_BUSY;
    return sess_fail(s, "acquire %s: %s: %s", res, lh_status_name(st),
                     lh_errmsg(s->lh));
}

/* ---- the classic lock over bare hiredis ------------------------------ */

typedef struct bare_script {
    const char *sha;
    const char *src;
} bare_script;

static const bare_script cas_del = {
    "b70c2384248f88e6b75b9f89241a180f856ad852",
    "if redis.call(\"get\",KEYS[1]) == ARGV[1] then "
    "return redis.call(\"del\",KEYS[1]) else return 0 end"};

static const bare_script cas_pexpire = {
    "36e94d1c6e02fcefaa7ee5d79eee614dbac55f10",
    "if redis.call(\"get\",KEYS[1]) == ARGV[1] then "
    "return redis.call(\"pexpire\",KEYS[1],ARGV[2]) else return 0 end"};

static int is_noscript(const redisReply *r)
{
    return r->type == REDIS_REPLY_ERROR && r->len >= 8 &&
           memcmp(r->str, "NOSCRIPT", 8) == 0;
}

/* SCRIPT LOAD and EVALSHA in one pipeline, as the library does after
 * NOSCRIPT; the EVALSHA's reply is the answer. */
static redisReply *bare_reload(sess *s, const bare_script *sc, int argc,
                               const char **argv)
{
    const char *load[3] = {"SCRIPT", "LOAD", NULL};
    void *r1 = NULL, *r2 = NULL;

    load[2] = sc->src;
    if (redisAppendCommandArgv(s->rc, 3, load, NULL) != REDIS_OK ||
        redisAppendCommandArgv(s->rc, argc, argv, NULL) != REDIS_OK ||
        redisGetReply(s->rc, &r1) != REDIS_OK ||
        redisGetReply(s->rc, &r2) != REDIS_OK) {
        sess_fail(s, "SCRIPT LOAD: %s", s->rc->errstr);
        r2 = NULL;
    } else if (((redisReply *)r1)->type != REDIS_REPLY_STRING ||
               strcmp(((redisReply *)r1)->str, sc->sha) != 0) {
        sess_fail(s, "SCRIPT LOAD: unexpected SHA1");
        freeReplyObject(r2);
        r2 = NULL;
    }
    if (r1)
        freeReplyObject(r1);
    return r2;
}

/* EVALSHA 'sc' on 'h' (ARGV = token [, 'extra']) and expect integer 1. */
static int bare_eval(sess *s, const bare_script *sc, held *h, const char *extra,
                     const char *what)
{
    const char *argv[6] = {"EVALSHA", NULL, "1", NULL, NULL, NULL};
    int argc = extra ? 6 : 5, ok;
    redisReply *r;

    argv[1] = sc->sha;
    argv[3] = h->key;
    argv[4] = h->token;
    argv[5] = extra;
    r = redisCommandArgv(s->rc, argc, argv, NULL);
    if (r && is_noscript(r)) {
        freeReplyObject(r);
        r = bare_reload(s, sc, argc, argv);
        if (r == NULL)
            return OP_FAIL;
    }
    if (r == NULL)
        return sess_fail(s, "%s %s: %s", what, h->key, s->rc->errstr);
    ok = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    if (!ok)
        sess_fail(s, "%s %s: %s", what, h->key,
                  r->type == REDIS_REPLY_ERROR ? r->str : "not held");
    freeReplyObject(r);
    return ok ? OP_OK : OP_FAIL;
}

static int bare_acquire(sess *s, const char *res, long long ttl, held *h)
{
    const char *argv[6] = {"SET", NULL, NULL, "NX", "PX", NULL};
    char ttl_text[24];
    redisReply *r;
    lh_error e;
    int st;

    if (lh_id_generate(h->token, &e) != LH_OK)
        return sess_fail(s, "token: %s", e.message);
    snprintf(h->key, sizeof(h->key), "%s", res);
    snprintf(ttl_text, sizeof(ttl_text), "%lld", ttl);
    argv[1] = h->key;
    argv[2] = h->token;
    argv[5] = ttl_text;
    if ((r = redisCommandArgv(s->rc, 6, argv, NULL)) == NULL)
        return sess_fail(s, "SET %s: %s", res, s->rc->errstr);
    if (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0)
        st = OP_OK;
    else if (r->type == REDIS_REPLY_NIL)
        st = OP_BUSY;
    else
        st = sess_fail(s, "SET %s: unexpected reply %s", res,
                       r->type == REDIS_REPLY_ERROR ? r->str : "");
    freeReplyObject(r);
    return st;
}

/* ---- the operations, whichever implementation runs ------------------- */

static int op_acquire(sess *s, const char *res, long long ttl, held *h)
{
    return s->o->bare ? bare_acquire(s, res, ttl, h)
                      : lib_acquire(s, res, ttl, h);
}

static int op_extend(sess *s, held *h, long long ttl)
{
    char ttl_text[24];
    lh_status st;

    if (s->o->bare) {
        snprintf(ttl_text, sizeof(ttl_text), "%lld", ttl);
        return bare_eval(s, &cas_pexpire, h, ttl_text, "extend");
    }
    st = lh_lease_extend(NULL, s->lh, h->lease, ttl);
    if (st != LH_OK)
        return sess_fail(s, "extend: %s: %s", lh_status_name(st),
                         lh_errmsg(s->lh));
    return OP_OK;
}

/* Release 'h' and forget it (its handle is freed either way). */
static int op_release(sess *s, held *h)
{
    lh_status st;

    if (s->o->bare)
        return bare_eval(s, &cas_del, h, NULL, "release");
    st = lh_lease_release(s->lh, h->lease, LH_OUTCOME_SUCCESS);
    lh_lease_free(h->lease);
    h->lease = NULL;
    if (st != LH_OK)
        return sess_fail(s, "release: %s: %s", lh_status_name(st),
                         lh_errmsg(s->lh));
    return OP_OK;
}

/* Forget 'h' without releasing it in Redis. */
static void held_drop(held *h)
{
    lh_lease_free(h->lease);
    h->lease = NULL;
}

/* ---- throughput ------------------------------------------------------ */

typedef struct tp_shared {
    pthread_mutex_t mu;
    pthread_barrier_t go;
    long long taken; /* cycles done or under way, all clients */
    long long max_cycles;
    int stop;
    int failed;
} tp_shared;

typedef struct tp_worker {
    const opts *o;
    tp_shared *sh;
    pthread_t tid;
    int num;
    double end;
    long long cycles;
    long long attempts;
} tp_worker;

/* Take one cycle of the --max-cycles budget; 0 when it is spent or the
 * run stopped. A try that finds the resource held gives it back, so the
 * clients together never complete more than --max-cycles cycles. */
static int tp_take(tp_shared *sh)
{
    int ok;

    pthread_mutex_lock(&sh->mu);
    ok = !sh->stop && sh->taken < sh->max_cycles;
    sh->taken += ok;
    pthread_mutex_unlock(&sh->mu);
    return ok;
}

/* Settle a taken cycle: 'r' is OP_OK (done), OP_BUSY (given back) or
 * OP_FAIL (the run stops and fails). */
static void tp_settle(tp_shared *sh, int r)
{
    pthread_mutex_lock(&sh->mu);
    if (r == OP_BUSY)
        sh->taken--;
    else if (r == OP_FAIL)
        sh->failed = sh->stop = 1;
    pthread_mutex_unlock(&sh->mu);
}

/* Acquire and release until the duration passes, all clients together
 * reach --max-cycles, or this client made 1000 times that many tries. */
static void tp_loop(tp_worker *w, sess *s)
{
    double deadline = now_s() + w->o->duration;
    long long cap = w->sh->max_cycles * 1000;
    char res[MAX_RESOURCE];

    if (w->o->shared)
        snprintf(res, sizeof(res), "tp:shared");
    else
        snprintf(res, sizeof(res), "tp:%d", w->num);
    while (w->attempts < cap && now_s() < deadline && tp_take(w->sh)) {
        held h;
        int r;

        memset(&h, 0, sizeof(h));
        w->attempts++;
        r = op_acquire(s, res, LEASE_TTL_MS, &h);
        if (r == OP_OK)
            r = op_release(s, &h);
        if (r == OP_FAIL)
            fprintf(stderr, "leasehold-bench: client %d: %s\n", w->num, s->err);
        tp_settle(w->sh, r);
        if (r == OP_FAIL)
            break;
        w->cycles += r == OP_OK;
    }
}

static void *tp_thread(void *arg)
{
    tp_worker *w = arg;
    sess s;
    int ok = sess_open(&s, w->o) == OP_OK;

    if (!ok) {
        fprintf(stderr, "leasehold-bench: client %d: %s\n", w->num, s.err);
        tp_settle(w->sh, OP_FAIL);
    }
    pthread_barrier_wait(&w->sh->go);
    if (ok)
        tp_loop(w, &s);
    w->end = now_s();
    sess_close(&s);
    return NULL;
}

static void tp_print(const tp_worker *w, int n, double start)
{
    long long cycles = 0, attempts = 0;
    double end = start, elapsed;
    int i;

    for (i = 0; i < n; i++) {
        cycles += w[i].cycles;
        attempts += w[i].attempts;
        if (w[i].end > end)
            end = w[i].end;
    }
    elapsed = end - start;
    if (elapsed <= 0)
        elapsed = 1e-9;
    printf("cycles_per_sec=%.1f\n", (double)cycles / elapsed);
    printf("attempts_per_sec=%.1f\n", (double)attempts / elapsed);
    printf("cycles=%lld\n", cycles);
    printf("attempts=%lld\n", attempts);
    printf("elapsed_s=%.3f\n", elapsed);
}

static int run_throughput(const opts *o)
{
    tp_shared sh;
    tp_worker *w = calloc((size_t)o->clients, sizeof(*w));
    double start;
    int i, started = 0, rc = 1;

    if (w == NULL)
        return 1;
    memset(&sh, 0, sizeof(sh));
    sh.max_cycles = o->max_cycles > 0 ? o->max_cycles : 100000000LL;
    pthread_mutex_init(&sh.mu, NULL);
    pthread_barrier_init(&sh.go, NULL, (unsigned)o->clients + 1);
    for (i = 0; i < o->clients; i++) {
        w[i].o = o;
        w[i].sh = &sh;
        w[i].num = i;
        if (pthread_create(&w[i].tid, NULL, tp_thread, &w[i]) != 0)
            break;
        started++;
    }
    if (started < o->clients) {
        /* The barrier cannot be reached: nothing started may run. */
        fprintf(stderr, "leasehold-bench: cannot start client threads\n");
        abort();
    }
    pthread_barrier_wait(&sh.go);
    start = now_s();
    for (i = 0; i < started; i++)
        pthread_join(w[i].tid, NULL);
    if (!sh.failed) {
        tp_print(w, o->clients, start);
        rc = 0;
    }
    pthread_barrier_destroy(&sh.go);
    pthread_mutex_destroy(&sh.mu);
    free(w);
    return rc;
}

/* ---- latency --------------------------------------------------------- */

static int lat_cycle(sess *s, double *acq_us, double *rel_us)
{
    double t0, t1, t2;
    held h;
    int r;

    memset(&h, 0, sizeof(h));
    t0 = now_s();
    r = op_acquire(s, "lat", LEASE_TTL_MS, &h);
    t1 = now_s();
    if (r == OP_BUSY)
        return sess_fail(s, "acquire lat: held by another lease");
    if (r != OP_OK || op_release(s, &h) != OP_OK)
        return OP_FAIL;
    t2 = now_s();
    *acq_us = (t1 - t0) * 1e6;
    *rel_us = (t2 - t1) * 1e6;
    return OP_OK;
}

static void lat_print(double *acq, double *rel, size_t n)
{
    qsort(acq, n, sizeof(*acq), cmp_double);
    qsort(rel, n, sizeof(*rel), cmp_double);
    printf("n=%zu\n", n);
    printf("acquire_p50_us=%.1f\n", percentile(acq, n, 50));
    printf("acquire_p99_us=%.1f\n", percentile(acq, n, 99));
    printf("release_p50_us=%.1f\n", percentile(rel, n, 50));
    printf("release_p99_us=%.1f\n", percentile(rel, n, 99));
}

static int run_latency(const opts *o)
{
    long long max = o->max_cycles > 0 ? o->max_cycles : 100000;
    size_t n = 0, cap = max < 65536 ? (size_t)max : 65536;
    double *acq = malloc(cap * sizeof(double));
    double *rel = malloc(cap * sizeof(double));
    double deadline, a, r;
    int rc = 1;
    sess s;

    if (acq == NULL || rel == NULL)
        goto done;
    if (sess_open(&s, o) != OP_OK) {
        fprintf(stderr, "leasehold-bench: %s\n", s.err);
        goto done;
    }
    deadline = now_s() + o->duration;
    if (lat_cycle(&s, &a, &r) != OP_OK) /* warm-up */
        goto fail;
    while ((long long)n < max && now_s() < deadline) {
        if (n == cap) {
            double *na = realloc(acq, 2 * cap * sizeof(double));
            double *nr = na ? realloc(rel, 2 * cap * sizeof(double)) : NULL;

            acq = na ? na : acq;
            rel = nr ? nr : rel;
            if (nr == NULL)
                break;
            cap *= 2;
        }
        if (lat_cycle(&s, &acq[n], &rel[n]) != OP_OK)
            goto fail;
        n++;
    }
    if (n > 0) {
        lat_print(acq, rel, n);
        rc = 0;
    }
fail:
    if (rc)
        fprintf(stderr, "leasehold-bench: %s\n",
                s.err[0] ? s.err : "no samples");
    sess_close(&s);
done:
    free(acq);
    free(rel);
    return rc;
}

/* ---- hold ------------------------------------------------------------ */

/* Acquire leases mem:0 .. mem:<n-1> and keep them (or, with
 * --then-release, release each at once); *done counts the successes. */
static int hold_loop(sess *s, long long n, long long *done)
{
    double deadline = now_s() + s->o->duration;
    char res[MAX_RESOURCE];
    int r = OP_OK;

    for (*done = 0; *done < n && r == OP_OK; ++*done) {
        held h;

        if (now_s() >= deadline)
            return sess_fail(s, "duration passed after %lld leases", *done);
        memset(&h, 0, sizeof(h));
        snprintf(res, sizeof(res), "mem:%lld", *done);
        r = op_acquire(s, res, s->o->ttl_ms, &h);
        if (r == OP_BUSY)
            r = sess_fail(s, "acquire %s: held by another lease", res);
        else if (r == OP_OK && s->o->then_release)
            r = op_release(s, &h);
        held_drop(&h);
        if (r != OP_OK)
            return OP_FAIL;
    }
    return OP_OK;
}

static int run_hold(const opts *o)
{
    long long n = o->n > 0 ? o->n : 10000, done = 0;
    int r;
    sess s;

    if (sess_open(&s, o) != OP_OK) {
        fprintf(stderr, "leasehold-bench: %s\n", s.err);
        return 1;
    }
    r = hold_loop(&s, n, &done);
    printf("held=%lld\n", o->then_release ? 0 : done);
    if (o->then_release)
        printf("released=%lld\n", done);
    if (r != OP_OK)
        fprintf(stderr, "leasehold-bench: %s\n", s.err);
    sess_close(&s);
    return r == OP_OK ? 0 : 1;
}

/* ---- rtt: phase markers ---------------------------------------------- */

/*
 * Where the "ECHO phase:<name>" markers go.
 *
 * The protocol wants them on the connection that makes the lease calls,
 * so that a harness reading MONITOR can split the command stream into
 * phases by position and, if it likes, by client address. The library's
 * public API sends no raw command, so for the library each marker is
 * written straight onto the client's own socket: the one TCP socket to
 * 127.0.0.1:P that lh_client_open() added (the client is one connection).
 * That happens only between calls, when the client waits for no reply,
 * and the marker's reply is read to its exact last byte, so the client's
 * reader never sees a stray byte. The bare baseline sends ECHO on its own
 * hiredis context.
 *
 * If that socket cannot be told apart (or with --echo-conn separate), the
 * markers go on a connection of their own. MONITOR lists commands in the
 * order the server ran them, whatever their connection, and each marker's
 * reply is read before the next lease call is sent, so the markers still
 * split the stream at the right places; only a harness that counts by
 * client address would see them on another address. stderr says so.
 */
typedef struct echoer {
    int fd;           /* write the markers on this socket, or -1 */
    redisContext *rc; /* else send them on this context */
    int own;          /* 'rc' is ours to free */
} echoer;

/* Mark in 'set' the descriptors below 'max' that are TCP sockets
 * connected to 127.0.0.1:'port'. */
static void peer_sockets(int port, unsigned char *set, int max)
{
    int fd;

    for (fd = 0; fd < max; fd++) {
        struct sockaddr_in in;
        socklen_t len = sizeof(in);

        memset(&in, 0, sizeof(in));
        set[fd] = getpeername(fd, (struct sockaddr *)&in, &len) == 0 &&
                  in.sin_family == AF_INET &&
                  ntohs(in.sin_port) == (unsigned)port &&
                  in.sin_addr.s_addr == htonl(INADDR_LOOPBACK);
    }
}

/* Open 's' and find the socket its client added: *fd, or -1. */
static int open_with_socket(sess *s, const opts *o, int *fd)
{
    static unsigned char before[FD_SCAN_MAX], after[FD_SCAN_MAX];
    long lim = sysconf(_SC_OPEN_MAX);
    int max = lim > 0 && lim < FD_SCAN_MAX ? (int)lim : FD_SCAN_MAX;
    int i, found = 0;

    *fd = -1;
    peer_sockets(o->port, before, max);
    if (sess_open(s, o) != OP_OK)
        return OP_FAIL;
    peer_sockets(o->port, after, max);
    for (i = 0; i < max; i++)
        if (after[i] && !before[i]) {
            *fd = i;
            found++;
        }
    if (found != 1)
        *fd = -1;
    return OP_OK;
}

static int echo_open(echoer *e, sess *a, int fd)
{
    const opts *o = a->o;

    memset(e, 0, sizeof(*e));
    e->fd = -1;
    if (o->bare && !o->echo_separate) {
        e->rc = a->rc;
        return OP_OK;
    }
    if (!o->bare && !o->echo_separate && fd >= 0) {
        e->fd = fd;
        return OP_OK;
    }
    if (!o->echo_separate)
        fprintf(stderr, "leasehold-bench: the client's socket was not "
                        "found: phase markers go on a connection of "
                        "their own\n");
    e->rc = raw_connect(o->port, a->err, sizeof(a->err));
    e->own = 1;
    return e->rc ? OP_OK : OP_FAIL;
}

static void echo_close(echoer *e)
{
    if (e->own && e->rc)
        redisFree(e->rc);
    e->rc = NULL;
}

static int send_all(int fd, const char *buf, size_t len)
{
    size_t off = 0;

    while (off < len) {
        ssize_t k = send(fd, buf + off, len - off, MSG_NOSIGNAL);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        off += (size_t)k;
    }
    return 0;
}

/* Wait up to the command timeout for the socket to be readable. */
static int wait_readable(int fd)
{
    struct pollfd p;
    int r;

    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    do
        r = poll(&p, 1, CMD_TIMEOUT_MS);
    while (r < 0 && errno == EINTR);
    return r > 0 ? 0 : -1;
}

/* ECHO 'msg' on socket 'fd' and read back exactly its reply. */
static int fd_echo(sess *s, int fd, const char *msg)
{
    char req[MAX_RESOURCE + 64], want[MAX_RESOURCE + 32], got[sizeof(want)];
    size_t mlen = strlen(msg), wlen, n = 0;
    int rlen;

    rlen = snprintf(req, sizeof(req), "*2\r\n$4\r\nECHO\r\n$%zu\r\n%s\r\n",
                    mlen, msg);
    wlen = (size_t)snprintf(want, sizeof(want), "$%zu\r\n%s\r\n", mlen, msg);
    if (send_all(fd, req, (size_t)rlen) != 0)
        return sess_fail(s, "ECHO %s: send: %s", msg, strerror(errno));
    while (n < wlen) {
        ssize_t k;

        if (wait_readable(fd) != 0)
            return sess_fail(s, "ECHO %s: no reply", msg);
        k = recv(fd, got + n, wlen - n, 0);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (k <= 0)
            return sess_fail(s, "ECHO %s: connection closed", msg);
        n += (size_t)k;
        if (got[0] != '$')
            return sess_fail(s, "ECHO %s: error reply", msg);
    }
    if (memcmp(got, want, wlen) != 0)
        return sess_fail(s, "ECHO %s: unexpected reply", msg);
    return OP_OK;
}

/* Send the marker of phase 'name'; failures are reported on 's'. */
static int echo_phase(echoer *e, sess *s, const char *name)
{
    char msg[MAX_RESOURCE];
    const char *argv[2] = {"ECHO", NULL};
    redisReply *r;
    int ok;

    snprintf(msg, sizeof(msg), "phase:%s", name);
    if (e->fd >= 0)
        return fd_echo(s, e->fd, msg);
    argv[1] = msg;
    if ((r = redisCommandArgv(e->rc, 2, argv, NULL)) == NULL)
        return sess_fail(s, "ECHO %s: %s", msg, e->rc->errstr);
    ok = r->type == REDIS_REPLY_STRING && strcmp(r->str, msg) == 0;
    freeReplyObject(r);
    return ok ? OP_OK : sess_fail(s, "ECHO %s: unexpected reply", msg);
}

/* ---- rtt -------------------------------------------------------------- */

typedef struct rtt_run {
    sess a; /* makes the measured calls */
    sess b; /* holds rtt:busy */
    echoer e;
    held *hs; /* the K leases rtt:0 .. rtt:<K-1> */
    long long k;
    double deadline;
} rtt_run;

static int must_acquire(sess *s, const char *res, held *h)
{
    int r = op_acquire(s, res, LEASE_TTL_MS, h);

    if (r == OP_BUSY)
        return sess_fail(s, "acquire %s: held by another lease", res);
    return r;
}

static int in_time(rtt_run *t)
{
    if (now_s() < t->deadline)
        return 1;
    sess_fail(&t->a, "duration passed");
    return 0;
}

/* One acquire, extend and release of rtt:cold, each its own phase: the
 * first calls after the harness's SCRIPT FLUSH. */
static int rtt_cold(rtt_run *t)
{
    held h;

    memset(&h, 0, sizeof(h));
    if (echo_phase(&t->e, &t->a, "cold_acquire") != OP_OK ||
        must_acquire(&t->a, "rtt:cold", &h) != OP_OK)
        return OP_FAIL;
    if (echo_phase(&t->e, &t->a, "cold_extend") != OP_OK ||
        op_extend(&t->a, &h, LEASE_TTL_MS) != OP_OK ||
        echo_phase(&t->e, &t->a, "cold_release") != OP_OK ||
        op_release(&t->a, &h) != OP_OK) {
        held_drop(&h);
        return OP_FAIL;
    }
    return OP_OK;
}

/* K acquires, then K extends, then K releases, each block one phase. */
static int rtt_warm(rtt_run *t)
{
    char res[MAX_RESOURCE];
    long long i;

    if (echo_phase(&t->e, &t->a, "acquire") != OP_OK)
        return OP_FAIL;
    for (i = 0; i < t->k; i++) {
        snprintf(res, sizeof(res), "rtt:%lld", i);
        if (!in_time(t) || must_acquire(&t->a, res, &t->hs[i]) != OP_OK)
            return OP_FAIL;
    }
    if (echo_phase(&t->e, &t->a, "extend") != OP_OK)
        return OP_FAIL;
    for (i = 0; i < t->k; i++)
        if (!in_time(t) || op_extend(&t->a, &t->hs[i], LEASE_TTL_MS) != OP_OK)
            return OP_FAIL;
    if (echo_phase(&t->e, &t->a, "release") != OP_OK)
        return OP_FAIL;
    for (i = 0; i < t->k; i++)
        if (!in_time(t) || op_release(&t->a, &t->hs[i]) != OP_OK)
            return OP_FAIL;
    return OP_OK;
}

/* The second connection takes rtt:busy; the first tries it K times. */
static int rtt_busy(rtt_run *t)
{
    held busy, h;
    long long i;
    int r = OP_OK;

    memset(&busy, 0, sizeof(busy));
    if (must_acquire(&t->b, "rtt:busy", &busy) != OP_OK) {
        snprintf(t->a.err, sizeof(t->a.err), "%s", t->b.err);
        return OP_FAIL;
    }
    r = echo_phase(&t->e, &t->a, "acquire_busy");
    for (i = 0; i < t->k && r == OP_OK; i++) {
        memset(&h, 0, sizeof(h));
        if (!in_time(t))
            r = OP_FAIL;
        else if ((r = op_acquire(&t->a, "rtt:busy", LEASE_TTL_MS, &h)) == OP_OK)
            r = sess_fail(&t->a, "acquire rtt:busy: granted while held");
        else if (r == OP_BUSY)
            r = OP_OK;
        held_drop(&h);
    }
    if (r == OP_OK)
        r = echo_phase(&t->e, &t->a, "end");
    if (op_release(&t->b, &busy) != OP_OK && r == OP_OK) {
        snprintf(t->a.err, sizeof(t->a.err), "%s", t->b.err);
        r = OP_FAIL;
    }
    return r;
}

static int run_rtt(const opts *o)
{
    rtt_run t;
    long long i;
    int fd = -1, r = OP_FAIL;

    memset(&t, 0, sizeof(t));
    t.k = o->n > 0 ? o->n : 100;
    t.deadline = now_s() + o->duration;
    if ((t.hs = calloc((size_t)t.k, sizeof(*t.hs))) == NULL)
        return 1;
    if (open_with_socket(&t.a, o, &fd) != OP_OK)
        goto done;
    if (sess_open(&t.b, o) != OP_OK) {
        snprintf(t.a.err, sizeof(t.a.err), "%s", t.b.err);
        goto done;
    }
    if (echo_open(&t.e, &t.a, fd) == OP_OK && rtt_cold(&t) == OP_OK &&
        rtt_warm(&t) == OP_OK && rtt_busy(&t) == OP_OK)
        r = OP_OK;
done:
    if (r == OP_OK)
        printf("ok=1\n");
    else
        fprintf(stderr, "leasehold-bench: %s\n", t.a.err);
    for (i = 0; i < t.k; i++)
        held_drop(&t.hs[i]);
    free(t.hs);
    echo_close(&t.e);
    sess_close(&t.b);
    sess_close(&t.a);
    return r == OP_OK ? 0 : 1;
}

/* ---- handoff and the wake floor ---------------------------------------- */

/*
 * Two processes, each with its own connection. Per handoff rep the
 * holder (this process) acquires "handoff"; the waiter (a child) starts a
 * blocking acquire with the library's defaults (wait 10 s); once the
 * waiter's connection is blocked in Redis, the holder sleeps a seeded
 * uniform 150..450 ms, notes t_rel and releases; the waiter notes t_acq
 * when its acquire returns, releases, and reports t_acq. Sample: t_acq -
 * t_rel. A wake-floor rep is the same with the bare minimum: the child
 * blocks in BLPOP on its own connection, the parent notes t_push and
 * LPUSHes, the child notes when BLPOP returns. Both clocks are
 * CLOCK_MONOTONIC, the same in both processes. A third connection (the
 * parent's) polls INFO clients until the child is blocked, before the
 * sleep, so every sample starts from a blocked, idle waiter. One warm-up
 * rep of each kind is not counted.
 */
#define HANDOFF_WAIT_MS 10000
#define FLOOR_KEY "bench:wakefloor"

enum { REP_HANDOFF = 'h', REP_FLOOR = 'f', REP_QUIT = 'q' };

typedef struct rep_result {
    int ok;
    double t; /* t_acq or BLPOP's return, monotonic seconds */
} rep_result;

typedef struct hand {
    const opts *o;
    sess holder;        /* the holder's client */
    redisContext *push; /* the floor's LPUSH connection */
    redisContext *mon;  /* polls INFO clients */
    pid_t child;
    int to_child, from_child;
    unsigned long long rng;
    char err[512];
} hand;

static unsigned long long next_rand(unsigned long long *x)
{
    /* xorshift64* */
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 2685821657736338717ULL;
}

static void sleep_us(long long us)
{
    struct timespec ts;

    ts.tv_sec = us / 1000000;
    ts.tv_nsec = (us % 1000000) * 1000;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int read_full(int fd, void *buf, size_t len)
{
    size_t off = 0;

    while (off < len) {
        ssize_t k = read(fd, (char *)buf + off, len - off);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        off += (size_t)k;
    }
    return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
    size_t off = 0;

    while (off < len) {
        ssize_t k = write(fd, (const char *)buf + off, len - off);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        off += (size_t)k;
    }
    return 0;
}

/* The waiter's side of one handoff rep. */
static rep_result child_handoff(sess *s)
{
    lh_acquire_options ao = LH_ACQUIRE_OPTIONS_INIT;
    rep_result res = {0, 0};
    lh_lease *l = NULL;
    lh_status st;

    ao.wait_ms = HANDOFF_WAIT_MS;
    st = lh_lease_acquire(&l, s->lh, s->f, NULL, 0, &ao);
    res.t = now_s();
    if (st != LH_OK) {
        fprintf(stderr, "leasehold-bench: waiter: acquire: %s: %s\n",
                lh_status_name(st), lh_errmsg(s->lh));
        return res;
    }
    st = lh_lease_release(s->lh, l, LH_OUTCOME_SUCCESS);
    lh_lease_free(l);
    if (st != LH_OK)
        fprintf(stderr, "leasehold-bench: waiter: release: %s: %s\n",
                lh_status_name(st), lh_errmsg(s->lh));
    res.ok = st == LH_OK;
    return res;
}

/* The blocked side of one wake-floor rep. */
static rep_result child_floor(redisContext *rc)
{
    rep_result res = {0, 0};
    redisReply *r =
        redisCommand(rc, "BLPOP %s %d", FLOOR_KEY, HANDOFF_WAIT_MS / 1000);

    res.t = now_s();
    if (r == NULL || r->type != REDIS_REPLY_ARRAY)
        fprintf(stderr, "leasehold-bench: floor: BLPOP: %s\n",
                r ? "timed out" : rc->errstr);
    else
        res.ok = 1;
    if (r)
        freeReplyObject(r);
    return res;
}

/* The child: own client and own raw connection; serves reps until told
 * to quit or the pipe closes. */
static void child_main(const opts *o, int in, int out)
{
    struct timeval tv;
    redisContext *rc = NULL;
    const char *arg;
    sess s;
    char cmd;
    int ok;

    ok = sess_open(&s, o) == OP_OK && factory_for(&s, "handoff", &arg) == OP_OK;
    if (ok && (rc = raw_connect(o->port, s.err, sizeof(s.err))) != NULL) {
        tv.tv_sec = HANDOFF_WAIT_MS / 1000 + 5;
        tv.tv_usec = 0;
        ok = redisSetTimeout(rc, tv) == REDIS_OK;
    } else {
        ok = 0;
    }
    if (!ok)
        fprintf(stderr, "leasehold-bench: waiter: %s\n", s.err);
    while (ok && read_full(in, &cmd, 1) == 0 && cmd != REP_QUIT) {
        rep_result res =
            cmd == REP_HANDOFF ? child_handoff(&s) : child_floor(rc);

        if (write_full(out, &res, sizeof(res)) != 0)
            break;
    }
    if (rc)
        redisFree(rc);
    sess_close(&s);
    _exit(ok ? 0 : 1);
}

static int hand_fail(hand *h, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(h->err, sizeof(h->err), fmt, ap);
    va_end(ap);
    return OP_FAIL;
}

/* Wait (5 s at most) until exactly one client is blocked: the child. */
static int wait_blocked(hand *h)
{
    double deadline = now_s() + 5;

    for (;;) {
        redisReply *r = redisCommand(h->mon, "INFO clients");
        const char *p;
        long n = -1;

        if (r == NULL)
            return hand_fail(h, "INFO: %s", h->mon->errstr);
        if (r->type == REDIS_REPLY_STRING &&
            (p = strstr(r->str, "blocked_clients:")) != NULL)
            n = strtol(p + 16, NULL, 10);
        freeReplyObject(r);
        if (n == 1)
            return OP_OK;
        if (now_s() > deadline)
            return hand_fail(h, "the waiter never blocked");
        sleep_us(500);
    }
}

/* One rep of 'kind'; *sample in ms. */
static int hand_rep(hand *h, char kind, double *sample)
{
    rep_result res;
    held hl;
    double t0;
    int r = OP_OK;

    memset(&hl, 0, sizeof(hl));
    if (kind == REP_HANDOFF) {
        if ((r = op_acquire(&h->holder, "handoff", LEASE_TTL_MS, &hl)) != OP_OK)
            return hand_fail(h, "holder: acquire: %s",
                             r == OP_BUSY ? "held" : h->holder.err);
    }
    if (write_full(h->to_child, &kind, 1) != 0)
        r = hand_fail(h, "the waiter is gone");
    else if (wait_blocked(h) != OP_OK)
        r = OP_FAIL;
    if (r != OP_OK) {
        held_drop(&hl);
        return r;
    }
    sleep_us(150000 + (long long)(next_rand(&h->rng) % 300001));
    t0 = now_s();
    if (kind == REP_HANDOFF) {
        if (op_release(&h->holder, &hl) != OP_OK)
            r = hand_fail(h, "holder: %s", h->holder.err);
    } else {
        redisReply *x = redisCommand(h->push, "LPUSH %s 1", FLOOR_KEY);

        if (x == NULL || x->type != REDIS_REPLY_INTEGER)
            r = hand_fail(h, "LPUSH: %s", x ? "unexpected reply" : "no reply");
        if (x)
            freeReplyObject(x);
    }
    if (read_full(h->from_child, &res, sizeof(res)) != 0)
        return hand_fail(h, "the waiter is gone");
    if (r == OP_OK && !res.ok)
        r = hand_fail(h, "the waiter failed");
    if (r == OP_OK && res.t < t0)
        r = hand_fail(h, "the waiter returned before the release");
    *sample = (res.t - t0) * 1e3;
    return r;
}

static int hand_open(hand *h, const opts *o)
{
    int down[2], up[2];

    memset(h, 0, sizeof(*h));
    h->o = o;
    h->to_child = h->from_child = -1;
    h->rng = 0x9e3779b97f4a7c15ULL ^ (unsigned long long)o->seed;
    if (h->rng == 0)
        h->rng = 1;
    if (sess_open(&h->holder, o) != OP_OK)
        return hand_fail(h, "%s", h->holder.err);
    if ((h->push = raw_connect(o->port, h->err, sizeof(h->err))) == NULL ||
        (h->mon = raw_connect(o->port, h->err, sizeof(h->err))) == NULL)
        return OP_FAIL;
    if (pipe(down) != 0 || pipe(up) != 0)
        return hand_fail(h, "pipe: %s", strerror(errno));
    fflush(stdout);
    fflush(stderr);
    if ((h->child = fork()) < 0)
        return hand_fail(h, "fork: %s", strerror(errno));
    if (h->child == 0) {
        close(down[1]);
        close(up[0]);
        child_main(o, down[0], up[1]);
    }
    close(down[0]);
    close(up[1]);
    h->to_child = down[1];
    h->from_child = up[0];
    return OP_OK;
}

static void hand_close(hand *h)
{
    char quit = REP_QUIT;

    if (h->to_child >= 0) {
        if (write_full(h->to_child, &quit, 1) != 0)
            kill(h->child, SIGTERM);
        close(h->to_child);
    }
    if (h->from_child >= 0)
        close(h->from_child);
    if (h->child > 0)
        waitpid(h->child, NULL, 0);
    if (h->push)
        redisFree(h->push);
    if (h->mon)
        redisFree(h->mon);
    sess_close(&h->holder);
}

static void print_samples(const char *what, const char *sample_key, double *v,
                          size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        printf("%s=%.3f\n", sample_key, v[i]);
    qsort(v, n, sizeof(*v), cmp_double);
    printf("%s_p50_ms=%.3f\n", what, percentile(v, n, 50));
    printf("%s_p90_ms=%.3f\n", what, percentile(v, n, 90));
    printf("%s_max_ms=%.3f\n", what, v[n - 1]);
}

/* --mode handoff (kinds "h", or "hf" with --with-floor 1) and --mode
 * wakefloor ("f"). With both, the order alternates rep by rep. */
static int run_handoff(const opts *o, int handoff, int floor)
{
    long long reps = o->reps > 0 ? o->reps : 100;
    double *hs = calloc((size_t)reps, sizeof(double));
    double *fs = calloc((size_t)reps, sizeof(double));
    double deadline = now_s() + o->duration, x;
    size_t n = 0;
    int r = OP_FAIL;
    hand h;

    memset(&h, 0, sizeof(h));
    h.to_child = h.from_child = -1;
    if (o->bare) {
        fprintf(stderr, "leasehold-bench: --mode %s has no bare variant\n",
                o->mode);
        free(hs);
        free(fs);
        return 2;
    }
    if (hs == NULL || fs == NULL || hand_open(&h, o) != OP_OK)
        goto done;
    /* warm-up: scripts loaded, connections and code paths hot */
    if ((handoff && hand_rep(&h, REP_HANDOFF, &x) != OP_OK) ||
        (floor && hand_rep(&h, REP_FLOOR, &x) != OP_OK))
        goto done;
    while ((long long)n < reps && now_s() < deadline) {
        int first_floor = floor && (!handoff || n % 2 == 1);

        if (first_floor && hand_rep(&h, REP_FLOOR, &fs[n]) != OP_OK)
            goto done;
        if (handoff && hand_rep(&h, REP_HANDOFF, &hs[n]) != OP_OK)
            goto done;
        if (floor && !first_floor && hand_rep(&h, REP_FLOOR, &fs[n]) != OP_OK)
            goto done;
        n++;
    }
    if (n == 0) {
        hand_fail(&h, "no samples within --duration");
        goto done;
    }
    r = OP_OK;
    printf("n=%zu\n", n);
    if (handoff)
        print_samples("handoff", "sample_ms", hs, n);
    if (floor)
        print_samples("floor", handoff ? "floor_sample_ms" : "sample_ms", fs,
                      n);
    if (handoff && floor) {
        printf("ratio_p50=%.3f\n",
               percentile(hs, n, 50) / percentile(fs, n, 50));
        printf("ratio_p90=%.3f\n",
               percentile(hs, n, 90) / percentile(fs, n, 90));
    }
done:
    if (r != OP_OK)
        fprintf(stderr, "leasehold-bench: %s\n", h.err[0] ? h.err : "failed");
    hand_close(&h);
    free(hs);
    free(fs);
    return r == OP_OK ? 0 : 1;
}

/* ---- main ------------------------------------------------------------- */

int main(int argc, char **argv)
{
    struct sigaction sa;
    opts o;

    memset(&o, 0, sizeof(o));
    o.clients = 1;
    o.ttl_ms = 60000;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    if (parse_args(&o, argc, argv) != 0)
        return usage("bad arguments");
    if (o.port == 0)
        return usage("--port is required");
    if (o.mode == NULL)
        return usage("--mode is required");
    if (o.duration <= 0 &&
        (strcmp(o.mode, "handoff") == 0 || strcmp(o.mode, "wakefloor") == 0))
        o.duration = 600;
    else if (o.duration <= 0)
        o.duration = strcmp(o.mode, "hold") && strcmp(o.mode, "rtt") ? 10 : 60;
    if (strcmp(o.mode, "throughput") == 0)
        return run_throughput(&o);
    if (strcmp(o.mode, "latency") == 0)
        return run_latency(&o);
    if (strcmp(o.mode, "rtt") == 0)
        return run_rtt(&o);
    if (strcmp(o.mode, "hold") == 0)
        return run_hold(&o);
    if (strcmp(o.mode, "handoff") == 0)
        return run_handoff(&o, 1, o.with_floor);
    if (strcmp(o.mode, "wakefloor") == 0)
        return run_handoff(&o, 0, 1);
    return usage("unknown --mode");
}
