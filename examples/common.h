/*
 * common.h - the little the examples share: feature macros, the names of
 * the demo's resources, a plain hiredis connection for the job queue, and
 * small helpers for options and time. Include it first.
 *
 * The lease API (leasehold.h) covers leases and guarded writes. The queue
 * is an ordinary Redis list, so producers and workers open a plain hiredis
 * connection for LPUSH and BRPOP next to their lh_client.
 */
#ifndef EXAMPLES_COMMON_H
#define EXAMPLES_COMMON_H

#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "leasehold.h"

/* One resource per account: prefix "account", one argument (its id). */
#define EXAMPLE_ROOT "demo"
#define EXAMPLE_PREFIX "account"
#define EXAMPLE_TTL_MS 10000
/* How long the record of each account's last release is kept. The only
 * condition the examples use is the producer's cooldown (milliseconds
 * after a release), so it need not be kept for the default 7 days; a
 * cooldown may be at most this long. */
#define EXAMPLE_RETENTION_MS (10 * 60 * 1000)
/* Each account's data: a hash {balance, jobs} in the lease's hash slot. */
#define EXAMPLE_DATA "account"

/* The program's name, for its messages; main() sets it. */
static const char *prog = "example";

/* The id of account number 'i'. */
static inline void account_name(char *buf, size_t size, long i)
{
    snprintf(buf, size, "acct-%03ld", i);
}

/* The job queue of 'root', a plain Redis list. */
static inline void queue_name(char *buf, size_t size, const char *root)
{
    snprintf(buf, size, "%s:queue", root);
}

/* --url if given, else $LEASEHOLD_URL; NULL lets the library choose. */
static inline const char *example_url(const char *opt)
{
    return opt ? opt : getenv("LEASEHOLD_URL");
}

/* Why a hiredis call on 'ctx' gave 'r' (NULL, or not what we asked). */
static inline const char *reply_error(const redisContext *ctx,
                                      const redisReply *r)
{
    if (r == NULL)
        return ctx->errstr[0] ? ctx->errstr : "no reply";
    return r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply";
}

/* Send a command on 'ctx' and expect a reply of 'type'. 0 or -1. */
static inline int plain_command(redisContext *ctx, int type, int argc,
                                const char **argv)
{
    redisReply *r = redisCommandArgv(ctx, argc, argv, NULL);
    int rc = r != NULL && r->type == type ? 0 : -1;

    if (rc != 0)
        fprintf(stderr, "%s: %s: %s\n", prog, argv[0], reply_error(ctx, r));
    if (r)
        freeReplyObject(r);
    return rc;
}

/*
 * Log in and select the database on a fresh connection. 'auth' is
 * "[user]:password" or NULL, 'db' the database number as text or NULL.
 */
static inline int queue_setup(redisContext *ctx, char *auth, const char *db)
{
    char *colon = auth ? strchr(auth, ':') : NULL;
    const char *a[3] = {"AUTH", auth, NULL};

    if (colon != NULL) { /* AUTH password, or AUTH user password */
        *colon = '\0';
        a[1] = auth[0] ? auth : colon + 1;
        a[2] = auth[0] ? colon + 1 : NULL;
    }
    if (auth && plain_command(ctx, REDIS_REPLY_STATUS, a[2] ? 3 : 2, a))
        return -1;
    a[0] = "SELECT", a[1] = db;
    if (db && *db && plain_command(ctx, REDIS_REPLY_STATUS, 2, a))
        return -1;
    return 0;
}

/*
 * Open a plain hiredis connection to the Redis 'url' names (NULL: the
 * library's default). Only the common forms, without percent-escapes:
 * unix:///path[?db=N] and redis://[[user]:password@]host[:port][/db].
 * Returns the connection, or NULL with the reason on stderr.
 */
static inline redisContext *queue_connect(const char *url)
{
    struct timeval tv = {5, 0};
    char buf[1024], *host, *auth = NULL, *db = NULL, *p;
    redisContext *ctx = NULL;
    int port = 6379;

    snprintf(buf, sizeof(buf), "%s", url ? url : "redis://127.0.0.1:6379");
    if ((p = strchr(buf, '?')) != NULL) {
        *p = '\0'; /* of the query parameters, only db= matters here */
        while (p != NULL && db == NULL) {
            if (strncmp(++p, "db=", 3) == 0)
                db = p + 3;
            p = strchr(p, '&');
        }
        if (db != NULL)
            db[strcspn(db, "&")] = '\0';
    }
    if (strncmp(buf, "unix://", 7) == 0) {
        ctx = redisConnectUnixWithTimeout(buf + 7, tv);
    } else if (strncmp(buf, "redis://", 8) == 0) {
        host = buf + 8;
        if ((p = strrchr(host, '@')) != NULL)
            *p = '\0', auth = host, host = p + 1;
        if ((p = strchr(host, '/')) != NULL)
            *p = '\0', db = p + 1;
        if ((p = strrchr(host, ':')) != NULL)
            *p = '\0', port = (int)strtol(p + 1, NULL, 10);
        ctx = redisConnectWithTimeout(host, port, tv);
    } else {
        fprintf(stderr, "%s: cannot read the URL %s\n", prog, buf);
        return NULL;
    }
    if (ctx == NULL || ctx->err) {
        fprintf(stderr, "%s: connect: %s\n", prog,
                ctx ? ctx->errstr : "out of memory");
    } else if (redisSetTimeout(ctx, tv) == REDIS_OK &&
               queue_setup(ctx, auth, db) == 0) {
        return ctx;
    }
    if (ctx)
        redisFree(ctx);
    return NULL;
}

/*
 * Connect to Redis at 'url' and make the examples' factory under 'root'
 * with leases of 'ttl_ms'. Returns 0, or -1 with the reason on stderr.
 */
static inline int example_open(lh_client **client, lh_factory **factory,
                               const char *url, const char *root,
                               int64_t ttl_ms)
{
    lh_factory_options fopts = LH_FACTORY_OPTIONS_INIT;
    lh_error err;

    *factory = NULL;
    if (lh_client_open(client, url, NULL, &err) != LH_OK) {
        fprintf(stderr, "%s: connect: %s\n", prog, err.message);
        return -1;
    }
    fopts.root = root;
    fopts.retention_ms = EXAMPLE_RETENTION_MS;
    if (lh_factory_new(factory, EXAMPLE_PREFIX, 1, ttl_ms, &fopts, &err)) {
        fprintf(stderr, "%s: factory: %s\n", prog, err.message);
        lh_client_free(*client);
        *client = NULL;
        return -1;
    }
    return 0;
}

/*
 * Plain read of the account hash 'key' into 'balance' and 'jobs'
 * (missing fields are 0). Returns 0, or -1 with the reason on stderr.
 */
static inline int account_read(redisContext *ctx, const char *key,
                               long long *balance, long long *jobs)
{
    redisReply *r = redisCommand(ctx, "HMGET %s balance jobs", key);
    int rc = -1;

    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
        *balance = r->element[0]->str ? strtoll(r->element[0]->str, 0, 10) : 0;
        *jobs = r->element[1]->str ? strtoll(r->element[1]->str, 0, 10) : 0;
        rc = 0;
    } else {
        fprintf(stderr, "%s: HMGET %s: %s\n", prog, key, reply_error(ctx, r));
    }
    if (r)
        freeReplyObject(r);
    return rc;
}

/* A whole number from option text in [min, max]. 0 or -1. */
static inline int parse_long(long *out, const char *text, long min, long max)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* xorshift64: a tiny generator, good enough for the examples' choices. */
static inline uint64_t next_random(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* A seed for next_random() that differs between processes (never 0). */
static inline uint64_t random_seed(void)
{
    uint64_t seed = (uint64_t)getpid() << 32;
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    seed ^= (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    return seed | 1; /* xorshift needs a state that is not 0 */
}

/* Milliseconds on the monotonic clock. */
static inline int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

#endif /* EXAMPLES_COMMON_H */
