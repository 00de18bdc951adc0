/*
 * check_ops.c - every lease operation and status against the suite's own
 * redis-server (tests/with-redis.sh).
 *
 * Covered: acquire (OK, HELD, INVALID input that writes nothing, the
 * idempotent retry with the same id), fencing tokens that rise across
 * release, expiry and a restart of a Redis without persistence; confirm,
 * extend (sets the TTL, never adds; owner only), release (outcomes
 * recorded, retries, stale leases), guarded writes (every reply type,
 * stale leases write nothing, Redis errors, key mask checks), scope and
 * inspect, and lh_errmsg() after failure and success. Then the embedded
 * scripts: their SHAs, the NOSCRIPT fallback after SCRIPT FLUSH, and the
 * commands each operation sends (MONITOR and INFO commandstats). Last the
 * transport: unix socket, SELECT, ACL AUTH, reconnects after CLIENT KILL
 * and a restart, command timeouts without confusion by a late reply, a
 * closed port, and SIGPIPE kept from the process.
 */
#include "helpers.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define TTL 60000
#define BIG (1u << 20) /* a value that reaches Redis in many reads */

/* ---- small helpers ----------------------------------------------------- */

static char *lease_key(const lh_lease *l)
{
    char *key = NULL;

    ck_assert_int_eq(lh_lease_key(&key, l), LH_OK);
    return key;
}

static char *data_key(const lh_lease *l, const char *name)
{
    char *key = NULL;

    ck_assert_int_eq(lh_lease_data_key(&key, l, name), LH_OK);
    return key;
}

static lh_lease *acquire1(lh_client *c, const lh_factory *f, const char *arg)
{
    const char *args[1];
    lh_lease *l = NULL;
    lh_status st;

    args[0] = arg;
    st = lh_lease_acquire(&l, c, f, args, 1, NULL);
    ck_assert_msg(st == LH_OK, "acquire %s: %s (%s)", arg, lh_status_name(st),
                  lh_errmsg(c));
    ck_assert(l != NULL);
    ck_assert_str_eq(lh_errmsg(c), "");
    return l;
}

static void expire_lease(redisContext *rc, const lh_lease *l)
{
    char *key = lease_key(l);

    th_expire_now(rc, key);
    lh_free(key);
}

/* The remaining TTL of the lease 'l' holds, as the scripts see it (a
 * value that carries a release history has its own deadline, and a key
 * PTTL of the record's retention); -2 when 'l' does not hold. */
static long long pttl_of(redisContext *rc, const lh_lease *l)
{
    lh_client *c = th_client();
    lh_lease_state s;
    long long v = -2;

    (void)rc;
    if (lh_lease_confirm(&s, c, l) == LH_OK)
        v = s.ttl_ms;
    lh_client_free(c);
    return v;
}

/* Raw GET: a malloc'd copy, or NULL for a missing key. */
static char *raw_get(redisContext *rc, const char *key)
{
    redisReply *r = th_cmd(rc, "GET", key, NULL);
    char *v = NULL;

    ck_assert_msg(r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_NIL,
                  "GET %s: unexpected reply", key);
    if (r->type == REDIS_REPLY_STRING) {
        v = malloc(r->len + 1);
        ck_assert(v != NULL);
        memcpy(v, r->str, r->len + 1);
    }
    freeReplyObject(r);
    return v;
}

static void assert_raw_value(redisContext *rc, const char *key,
                             const char *want)
{
    char *v = raw_get(rc, key);

    if (want == NULL)
        ck_assert_msg(v == NULL, "%s: expected no value, got %s", key, v);
    else
        ck_assert_msg(v != NULL && strcmp(v, want) == 0,
                      "%s: expected %s, got %s", key, want, v ? v : "nil");
    free(v);
}

static void assert_errmsg_has(const lh_client *c, const char *part)
{
    ck_assert_msg(strstr(lh_errmsg(c), part) != NULL,
                  "errmsg \"%s\" lacks \"%s\"", lh_errmsg(c), part);
}

/* A failure of 'st' (expected 'want') whose message names the lease key. */
static void assert_fail_names_key(lh_client *c, lh_status st, lh_status want,
                                  const lh_lease *l)
{
    char *key = lease_key(l);

    ck_assert_msg(st == want, "got %s, want %s (%s)", lh_status_name(st),
                  lh_status_name(want), lh_errmsg(c));
    assert_errmsg_has(c, key);
    lh_free(key);
}

static lh_status guard_set(lh_client *c, const lh_lease *l, const char *key,
                           const char *value)
{
    const char *argv[3];

    argv[0] = "SET", argv[1] = key, argv[2] = value;
    return lh_lease_guard(NULL, c, l, 3, argv, NULL, LH_KEY(1));
}

static lh_reply *guard_ok(lh_client *c, const lh_lease *l, int argc,
                          const char *const *argv, uint64_t mask)
{
    lh_reply *r = NULL;
    lh_status st = lh_lease_guard(&r, c, l, argc, argv, NULL, mask);

    ck_assert_msg(st == LH_OK, "guard %s: %s (%s)", argv[0], lh_status_name(st),
                  lh_errmsg(c));
    ck_assert(r != NULL);
    ck_assert_str_eq(lh_errmsg(c), "");
    return r;
}

static void inspect1(lh_resource_info *info, lh_client *c, const lh_factory *f,
                     const char *arg)
{
    const char *args[1];
    lh_status st;

    args[0] = arg;
    st = lh_resource_inspect(info, c, f, args, 1);
    ck_assert_msg(st == LH_OK, "inspect: %s", lh_errmsg(c));
    ck_assert_str_eq(lh_errmsg(c), "");
}

static lh_client *client_at(const char *url)
{
    lh_client *c = NULL;
    lh_error err;
    lh_status st = lh_client_open(&c, url, NULL, &err);

    ck_assert_msg(st == LH_OK, "open %s: %s", url, err.message);
    ck_assert_int_eq(err.code, LH_OK);
    return c;
}

static void url_with(char *buf, size_t size, const char *suffix)
{
    snprintf(buf, size, "%s%s", th_url(), suffix);
}

/* ---- acquire ----------------------------------------------------------- */

START_TEST(acquire_ok_then_held)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("acq_ok", "job", 1, TTL);
    lh_factory *f0 = th_factory("acq_ok", "single", 0, TTL);
    const char *args[] = {"a"};
    lh_lease *l = acquire1(c, f, "a"), *l2 = (lh_lease *)1, *lb, *z, *z2;
    char *key = lease_key(l), *v;
    size_t i;

    ck_assert_int_eq(strlen(lh_lease_id(l)), LH_ID_HEX_LEN);
    for (i = 0; i < LH_ID_HEX_LEN; i++)
        ck_assert(strchr("0123456789abcdef", lh_lease_id(l)[i]) != NULL);
    ck_assert(lh_lease_fence(l) > 0);
    ck_assert_int_eq(lh_lease_ttl_ms(l), TTL);
    ck_assert_str_eq(lh_lease_root(l), th_root("acq_ok"));
    ck_assert_str_eq(lh_lease_prefix(l), "job");
    ck_assert_uint_eq(lh_lease_nargs(l), 1);
    ck_assert_str_eq(lh_lease_arg(l, 0), "a");
    ck_assert(lh_lease_arg(l, 1) == NULL);
    /* The lease key holds the id; its TTL is the lease's. */
    v = raw_get(rc, key);
    ck_assert(v != NULL && strncmp(v, lh_lease_id(l), LH_ID_HEX_LEN) == 0);
    free(v);
    ck_assert(pttl_of(rc, l) > TTL / 2 && pttl_of(rc, l) <= TTL);

    ck_assert_int_eq(lh_lease_acquire(&l2, c, f, args, 1, NULL), LH_ERR_HELD);
    ck_assert(l2 == NULL);
    assert_errmsg_has(c, key);
    /* Another resource is free; success clears the message. */
    lb = acquire1(c, f, "b");
    ck_assert(lh_lease_fence(lb) > 0);
    /* Arity 0: one resource per prefix. */
    ck_assert_int_eq(lh_lease_acquire(&z, c, f0, NULL, 0, NULL), LH_OK);
    ck_assert_int_eq(lh_lease_nargs(z), 0);
    ck_assert_int_eq(lh_lease_acquire(&z2, c, f0, NULL, 0, NULL), LH_ERR_HELD);
    ck_assert(z2 == NULL);
    ck_assert_int_eq(th_key_count(rc, "acq_ok"), 3);

    lh_free(key);
    lh_lease_free(l);
    lh_lease_free(lb);
    lh_lease_free(z);
    lh_factory_free(f);
    lh_factory_free(f0);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

static char long_arg[LH_MAX_ARG_BYTES + 2];

typedef struct bad_acquire {
    const char *what; /* a word the message must contain */
    size_t nargs;
    const char *arg; /* NULL: a NULL argument */
    int64_t ttl_ms;
    const char *id;
    unsigned version;
} bad_acquire;

static const bad_acquire bad_acquires[] = {
    {"arg", 0, "a", 0, NULL, 1},
    {"arg", 2, "a", 0, NULL, 1},
    {"arg", 1, NULL, 0, NULL, 1},
    {"arg", 1, "\xff\xfe", 0, NULL, 1},
    {"arg", 1, long_arg, 0, NULL, 1},
    {"ttl", 1, "a", -1, NULL, 1},
    {"ttl", 1, "a", LH_MAX_TTL_MS + 1, NULL, 1},
    {"id", 1, "a", 0, "0123456789ABCDEF0123456789abcdef", 1},
    {"id", 1, "a", 0, "0123456789abcdef0123456789abcde", 1},
    {"id", 1, "a", 0, "0123456789abcdef0123456789abcdef0", 1},
    {"id", 1, "a", 0, "0123456789abcdef0123456789abcdeg", 1},
    {"id", 1, "a", 0, "", 1},
    {"version", 1, "a", 0, NULL, 0},
};

START_TEST(acquire_invalid)
{
    const bad_acquire *b = &bad_acquires[_i];
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f;
    char name[32];
    lh_acquire_options o = LH_ACQUIRE_OPTIONS_INIT;
    const char *args[2];
    lh_lease *l = (lh_lease *)1, *ok;
    lh_status st;

    snprintf(name, sizeof(name), "acq_inv%d", _i);
    f = th_factory(name, "job", 1, TTL);
    memset(long_arg, 'x', LH_MAX_ARG_BYTES + 1);
    long_arg[LH_MAX_ARG_BYTES + 1] = '\0';
    args[0] = b->arg, args[1] = "b";
    o.ttl_ms = b->ttl_ms;
    o.id = b->id;
    o.version = b->version;
    st = lh_lease_acquire(&l, c, f, args, b->nargs, &o);
    ck_assert_msg(st == LH_ERR_INVALID, "row %d: %s", _i, lh_status_name(st));
    ck_assert(l == NULL);
    ck_assert_msg(strcasestr(lh_errmsg(c), b->what) != NULL,
                  "row %d: \"%s\" lacks \"%s\"", _i, lh_errmsg(c), b->what);
    ck_assert_int_eq(th_key_count(rc, name), 0);
    /* Nothing is stuck: a good call works and clears the message. */
    ok = acquire1(c, f, "a");
    ck_assert_int_eq(th_key_count(rc, name), 1);
    ck_assert_int_eq(lh_lease_acquire(NULL, c, f, args, 1, NULL),
                     LH_ERR_INVALID);
    lh_lease_free(ok);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

START_TEST(acquire_idempotent_retry)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("acq_retry", "job", 1, TTL);
    lh_acquire_options o = LH_ACQUIRE_OPTIONS_INIT, o2 = o;
    const char *args[] = {"r"};
    char id[LH_ID_HEX_LEN + 1], id2[LH_ID_HEX_LEN + 1], *key;
    lh_lease *l1, *l2, *l3, *other = (lh_lease *)1;

    ck_assert_int_eq(lh_id_generate(id, NULL), LH_OK);
    ck_assert_int_eq(lh_id_generate(id2, NULL), LH_OK);
    ck_assert_str_ne(id, id2);
    o.id = id;
    ck_assert_int_eq(lh_lease_acquire(&l1, c, f, args, 1, &o), LH_OK);
    ck_assert_str_eq(lh_lease_id(l1), id);
    key = lease_key(l1);
    /* Let time pass on the server's clock (by shortening the TTL): the
     * retry sets the TTL anew and keeps the fence. */
    th_cmd_int(rc, "PEXPIRE", key, "5000", NULL);
    ck_assert(th_cmd_int(rc, "PTTL", key, NULL) <= 5000);
    ck_assert_int_eq(lh_lease_acquire(&l2, c, f, args, 1, &o), LH_OK);
    ck_assert_int_eq(lh_lease_fence(l2), lh_lease_fence(l1));
    ck_assert_str_eq(lh_lease_id(l2), id);
    ck_assert(th_cmd_int(rc, "PTTL", key, NULL) > 5000);
    /* A retry with another TTL sets that TTL. */
    o.ttl_ms = 5 * TTL;
    ck_assert_int_eq(lh_lease_acquire(&l3, c, f, args, 1, &o), LH_OK);
    ck_assert_int_eq(lh_lease_fence(l3), lh_lease_fence(l1));
    ck_assert_int_eq(lh_lease_ttl_ms(l3), 5 * TTL);
    ck_assert(th_cmd_int(rc, "PTTL", key, NULL) > TTL);
    /* Another id is refused; the holder is untouched. */
    o2.id = id2;
    ck_assert_int_eq(lh_lease_acquire(&other, c, f, args, 1, &o2), LH_ERR_HELD);
    ck_assert(other == NULL);
    ck_assert_int_eq(lh_lease_confirm(NULL, c, l1), LH_OK);
    lh_free(key);
    lh_lease_free(l1);
    lh_lease_free(l2);
    lh_lease_free(l3);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

START_TEST(acquire_ttl_option)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("acq_ttl", "job", 1, TTL);
    lh_acquire_options o = LH_ACQUIRE_OPTIONS_INIT;
    const char *args[] = {"t"};
    lh_lease *l;

    o.ttl_ms = 300000;
    ck_assert_int_eq(lh_lease_acquire(&l, c, f, args, 1, &o), LH_OK);
    ck_assert_int_eq(lh_lease_ttl_ms(l), 300000);
    ck_assert(pttl_of(rc, l) > TTL && pttl_of(rc, l) <= 300000);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

START_TEST(fence_rises_across_release)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("fence_rel", "job", 1, TTL);
    lh_resource_info info;
    int64_t last = 0;
    int i;

    for (i = 0; i < 20; i++) {
        lh_lease *l = acquire1(c, f, "x");

        ck_assert_msg(lh_lease_fence(l) > last, "fence %lld after %lld",
                      (long long)lh_lease_fence(l), (long long)last);
        last = lh_lease_fence(l);
        ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_NONE), LH_OK);
        lh_lease_free(l);
    }
    inspect1(&info, c, f, "x");
    ck_assert_int_eq(info.held, 0);
    ck_assert_int_eq(info.fence, last);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

START_TEST(fence_rises_across_expiry)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("fence_exp", "job", 1, TTL);
    int64_t last = 0;
    int i;

    for (i = 0; i < 5; i++) {
        lh_lease *l = acquire1(c, f, "x");

        ck_assert(lh_lease_fence(l) > last);
        last = lh_lease_fence(l);
        expire_lease(rc, l);
        ck_assert_int_eq(lh_lease_confirm(NULL, c, l), LH_ERR_NOT_HELD);
        lh_lease_free(l);
    }
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

START_TEST(fence_rises_across_restart)
{
    lh_client *c = th_client();
    lh_factory *f = th_factory("fence_rst", "job", 1, TTL);
    lh_resource_info info;
    lh_lease *l1, *l2, *l3;

    l1 = acquire1(c, f, "x");
    ck_assert_int_eq(lh_lease_release(c, l1, LH_OUTCOME_SUCCESS), LH_OK);
    l2 = acquire1(c, f, "x");
    ck_assert(lh_lease_fence(l2) > lh_lease_fence(l1));
    th_restart_redis();
    /* The data is gone: no lease, no recorded fence... */
    ck_assert_int_eq(lh_lease_confirm(NULL, c, l2), LH_ERR_NOT_HELD);
    inspect1(&info, c, f, "x");
    ck_assert_int_eq(info.held, 0);
    ck_assert_int_eq(info.fence, -1);
    ck_assert_int_eq(info.has_last_outcome, 0);
    /* ...and yet the next fence is higher. */
    l3 = acquire1(c, f, "x");
    ck_assert_msg(lh_lease_fence(l3) > lh_lease_fence(l2),
                  "fence %lld after restart, %lld before",
                  (long long)lh_lease_fence(l3), (long long)lh_lease_fence(l2));
    lh_lease_free(l1);
    lh_lease_free(l2);
    lh_lease_free(l3);
    lh_factory_free(f);
    lh_client_free(c);
}
END_TEST

/* ---- confirm ----------------------------------------------------------- */

START_TEST(confirm_ok)
{
    lh_client *c = th_client();
    lh_factory *f = th_factory("conf_ok", "job", 1, TTL);
    lh_lease *l = acquire1(c, f, "x");
    lh_lease_state s = {-5, -5};

    ck_assert_int_eq(lh_lease_confirm(&s, c, l), LH_OK);
    ck_assert_str_eq(lh_errmsg(c), "");
    ck_assert(s.ttl_ms > 0 && s.ttl_ms <= TTL);
    ck_assert_int_eq(s.fence, lh_lease_fence(l));
    ck_assert_int_eq(lh_lease_confirm(NULL, c, l), LH_OK);
    ck_assert_int_eq(lh_lease_confirm(&s, c, NULL), LH_ERR_INVALID);
    ck_assert_str_ne(lh_errmsg(c), "");
    ck_assert_int_eq(lh_lease_confirm(&s, NULL, l), LH_ERR_INVALID);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
}
END_TEST

START_TEST(confirm_not_held)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("conf_nh", "job", 1, TTL);
    lh_lease *l = acquire1(c, f, "x"), *l2;

    ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_NONE), LH_OK);
    assert_fail_names_key(c, lh_lease_confirm(NULL, c, l), LH_ERR_NOT_HELD, l);
    assert_errmsg_has(c, "not held");
    l2 = acquire1(c, f, "x");
    expire_lease(rc, l2);
    assert_fail_names_key(c, lh_lease_confirm(NULL, c, l2), LH_ERR_NOT_HELD,
                          l2);
    lh_lease_free(l);
    lh_lease_free(l2);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

START_TEST(confirm_not_owned)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("conf_no", "job", 1, TTL);
    lh_lease *l1 = acquire1(c, f, "x"), *l2;
    lh_lease_state s;

    expire_lease(rc, l1);
    l2 = acquire1(c, f, "x");
    assert_fail_names_key(c, lh_lease_confirm(&s, c, l1), LH_ERR_NOT_OWNED, l1);
    assert_errmsg_has(c, "another lease");
    ck_assert_int_eq(lh_lease_confirm(&s, c, l2), LH_OK);
    ck_assert_int_eq(s.fence, lh_lease_fence(l2));
    ck_assert_str_eq(lh_errmsg(c), "");
    lh_lease_free(l1);
    lh_lease_free(l2);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

/* confirm and inspect are read-only scripts: they answer while writes are
 * paused (a write would wait for the pause and time out here). */
START_TEST(confirm_under_write_pause)
{
    redisContext *rc = th_raw();
    lh_client *c, *cw = th_client();
    lh_factory *f = th_factory("conf_pause", "job", 1, TTL);
    lh_lease *l = acquire1(cw, f, "x");
    lh_resource_info info;
    lh_lease_state s;
    redisReply *r;
    char url[512];

    url_with(url, sizeof(url), "?timeout=1s");
    c = client_at(url);
    /* Warm both read-only scripts before the pause. */
    ck_assert_int_eq(lh_lease_confirm(&s, c, l), LH_OK);
    inspect1(&info, c, f, "x");
    r = th_cmd(rc, "CLIENT", "PAUSE", "2500", "WRITE", NULL);
    ck_assert_int_eq(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    ck_assert_msg(lh_lease_confirm(&s, c, l) == LH_OK, "%s", lh_errmsg(c));
    ck_assert_int_eq(s.fence, lh_lease_fence(l));
    inspect1(&info, c, f, "x");
    ck_assert_int_eq(info.held, 1);
    r = th_cmd(rc, "CLIENT", "UNPAUSE", NULL);
    freeReplyObject(r);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
    lh_client_free(cw);
    redisFree(rc);
}
END_TEST

/* ---- extend ------------------------------------------------------------ */

START_TEST(extend_sets_never_adds)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("ext_set", "job", 1, TTL);
    lh_lease *l = acquire1(c, f, "x");
    lh_lease_state s;
    long long p;

    ck_assert_int_eq(lh_lease_extend(&s, c, l, 10000), LH_OK);
    ck_assert_str_eq(lh_errmsg(c), "");
    ck_assert_int_eq(s.ttl_ms, 10000);
    ck_assert_int_eq(s.fence, lh_lease_fence(l));
    p = pttl_of(rc, l);
    ck_assert_msg(p > 5000 && p <= 10000, "PTTL %lld after extend 10s", p);
    ck_assert_int_eq(lh_lease_extend(&s, c, l, 2 * TTL), LH_OK);
    p = pttl_of(rc, l);
    ck_assert_msg(p > TTL && p <= 2 * TTL, "PTTL %lld after extend 120s", p);
    /* 0: the lease's own TTL, shorter than what remains. */
    ck_assert_int_eq(lh_lease_extend(&s, c, l, 0), LH_OK);
    ck_assert_int_eq(s.ttl_ms, TTL);
    p = pttl_of(rc, l);
    ck_assert_msg(p > TTL / 2 && p <= TTL, "PTTL %lld after extend 0", p);
    ck_assert_int_eq(lh_lease_extend(NULL, c, l, 1000), LH_OK);
    ck_assert(pttl_of(rc, l) <= 1000);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

START_TEST(extend_owner_only)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("ext_own", "job", 1, TTL);
    lh_lease *l1 = acquire1(c, f, "x"), *l2, *forged;
    lh_lease_state s;
    lh_error err;
    json_t *j;
    char *text, other[LH_ID_HEX_LEN + 1];

    ck_assert_int_eq(lh_lease_release(c, l1, LH_OUTCOME_NONE), LH_OK);
    assert_fail_names_key(c, lh_lease_extend(&s, c, l1, 0), LH_ERR_NOT_HELD,
                          l1);
    l2 = acquire1(c, f, "x");
    assert_fail_names_key(c, lh_lease_extend(&s, c, l1, 5 * TTL),
                          LH_ERR_NOT_OWNED, l1);
    ck_assert(pttl_of(rc, l2) <= TTL);
    /* The same resource under another id, as a forger would send it. */
    ck_assert_int_eq(lh_lease_to_json_value(&j, l2), LH_OK);
    ck_assert_int_eq(lh_id_generate(other, NULL), LH_OK);
    json_object_set_new(j, "id", json_string(other));
    text = json_dumps(j, JSON_COMPACT);
    ck_assert_int_eq(lh_lease_from_json(&forged, text, strlen(text), f, &err),
                     LH_OK);
    assert_fail_names_key(c, lh_lease_extend(&s, c, forged, 5 * TTL),
                          LH_ERR_NOT_OWNED, forged);
    ck_assert(pttl_of(rc, l2) <= TTL);
    ck_assert_int_eq(lh_lease_release(c, forged, LH_OUTCOME_NONE),
                     LH_ERR_NOT_OWNED);
    ck_assert_int_eq(lh_lease_confirm(NULL, c, l2), LH_OK);
    free(text);
    json_decref(j);
    lh_lease_free(forged);
    lh_lease_free(l1);
    lh_lease_free(l2);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

START_TEST(extend_invalid_ttl)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("ext_inv", "job", 1, TTL);
    lh_lease *l = acquire1(c, f, "x");

    ck_assert_int_eq(lh_lease_extend(NULL, c, l, -1), LH_ERR_INVALID);
    assert_errmsg_has(c, "ttl");
    ck_assert_int_eq(lh_lease_extend(NULL, c, l, LH_MAX_TTL_MS + 1),
                     LH_ERR_INVALID);
    ck_assert(pttl_of(rc, l) <= TTL);
    ck_assert_int_eq(lh_lease_extend(NULL, c, NULL, 1000), LH_ERR_INVALID);
    ck_assert_int_eq(lh_lease_extend(NULL, c, l, LH_MAX_TTL_MS), LH_OK);
    ck_assert(pttl_of(rc, l) > TTL);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

/* ---- release ----------------------------------------------------------- */

START_TEST(release_records_outcome)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory_options fo = LH_FACTORY_OPTIONS_INIT;
    lh_factory *f = NULL;
    lh_resource_info info;
    lh_lease *l;
    char *key;
    int64_t before, after;
    long long p;

    fo.root = th_root("rel_ok");
    fo.retention_ms = 3600000;
    ck_assert_int_eq(lh_factory_new(&f, "job", 1, TTL, &fo, NULL), LH_OK);
    l = acquire1(c, f, "x");
    key = lease_key(l);
    before = th_server_ms(rc);
    ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_SUCCESS), LH_OK);
    after = th_server_ms(rc);
    ck_assert_str_eq(lh_errmsg(c), "");
    /* What stays is a tombstone: '-' fence '|' history. */
    {
        redisReply *r = th_cmd(rc, "GET", key, NULL);

        ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
        ck_assert_int_eq(r->str[0], '-');
        ck_assert_ptr_nonnull(strchr(r->str, '|'));
        freeReplyObject(r);
    }
    inspect1(&info, c, f, "x");
    ck_assert_int_eq(info.held, 0);
    ck_assert_int_eq(info.ttl_ms, -1);
    ck_assert_int_eq(info.fence, lh_lease_fence(l));
    ck_assert_int_eq(info.has_last_outcome, 1);
    ck_assert_int_eq(info.last_outcome, LH_OUTCOME_SUCCESS);
    ck_assert_msg(
        info.last_release_ms >= before && info.last_release_ms <= after,
        "release at %lld, outside %lld..%lld", (long long)info.last_release_ms,
        (long long)before, (long long)after);
    /* The record expires by itself after the retention. */
    p = th_cmd_int(rc, "PTTL", key, NULL);
    ck_assert_msg(p > TTL && p <= 3600000, "tombstone PTTL %lld", p);
    /* A retry (after a lost reply) is NOT_HELD and records nothing. */
    assert_fail_names_key(c, lh_lease_release(c, l, LH_OUTCOME_FAILURE),
                          LH_ERR_NOT_HELD, l);
    inspect1(&info, c, f, "x");
    ck_assert_int_eq(info.last_outcome, LH_OUTCOME_SUCCESS);
    lh_free(key);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

START_TEST(release_each_outcome)
{
    static const lh_outcome outcomes[] = {LH_OUTCOME_NONE, LH_OUTCOME_FAILURE,
                                          LH_OUTCOME_SUCCESS,
                                          LH_OUTCOME_FAILURE, LH_OUTCOME_NONE};
    lh_client *c = th_client();
    lh_factory *f = th_factory("rel_each", "job", 1, TTL);
    lh_resource_info info;
    int64_t prev = -1;
    size_t i;

    for (i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++) {
        lh_lease *l = acquire1(c, f, "x");

        ck_assert_int_eq(lh_lease_release(c, l, outcomes[i]), LH_OK);
        inspect1(&info, c, f, "x");
        ck_assert_int_eq(info.has_last_outcome, 1);
        ck_assert_int_eq(info.last_outcome, outcomes[i]);
        ck_assert(info.last_release_ms >= prev);
        prev = info.last_release_ms;
        lh_lease_free(l);
    }
    lh_factory_free(f);
    lh_client_free(c);
}
END_TEST

START_TEST(release_not_owned)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("rel_no", "job", 1, TTL);
    lh_lease *l1 = acquire1(c, f, "x"), *l2;
    lh_resource_info info;

    expire_lease(rc, l1);
    assert_fail_names_key(c, lh_lease_release(c, l1, LH_OUTCOME_SUCCESS),
                          LH_ERR_NOT_HELD, l1);
    l2 = acquire1(c, f, "x");
    assert_fail_names_key(c, lh_lease_release(c, l1, LH_OUTCOME_SUCCESS),
                          LH_ERR_NOT_OWNED, l1);
    ck_assert_int_eq(lh_lease_confirm(NULL, c, l2), LH_OK);
    inspect1(&info, c, f, "x");
    ck_assert_int_eq(info.held, 1);
    ck_assert_int_eq(info.fence, lh_lease_fence(l2));
    ck_assert_int_eq(info.has_last_outcome, 0);
    ck_assert_int_eq(info.last_release_ms, -1);
    lh_lease_free(l1);
    lh_lease_free(l2);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

START_TEST(release_invalid_outcome)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("rel_inv", "job", 1, TTL);
    lh_lease *l = acquire1(c, f, "x");
    lh_resource_info info;
    char *key = lease_key(l);
    redisReply *before = th_cmd(rc, "GET", key, NULL), *after;

    ck_assert_int_eq(lh_lease_release(c, l, (lh_outcome)3), LH_ERR_INVALID);
    assert_errmsg_has(c, "outcome");
    ck_assert_int_eq(lh_lease_release(c, l, (lh_outcome)-1), LH_ERR_INVALID);
    ck_assert_int_eq(lh_lease_release(c, NULL, LH_OUTCOME_NONE),
                     LH_ERR_INVALID);
    ck_assert_int_eq(lh_lease_confirm(NULL, c, l), LH_OK);
    after = th_cmd(rc, "GET", key, NULL);
    ck_assert_int_eq(after->type, REDIS_REPLY_STRING);
    ck_assert_str_eq(after->str, before->str);
    freeReplyObject(before);
    freeReplyObject(after);
    inspect1(&info, c, f, "x");
    ck_assert_int_eq(info.held, 1);
    ck_assert_int_eq(info.has_last_outcome, 0);
    lh_free(key);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

/* ---- guarded writes ---------------------------------------------------- */

static void assert_reply_str(const lh_reply *r, lh_reply_type type,
                             const char *want)
{
    ck_assert_int_eq(r->type, type);
    ck_assert_uint_eq(r->len, strlen(want));
    ck_assert_str_eq(r->str, want);
}

/* A guarded command with 'argc' arguments that must succeed. */
#define GUARD_OK(c, l, mask, ...)                                              \
    guard_ok(                                                                  \
        (c), (l),                                                              \
        (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)),   \
        (const char *[]){__VA_ARGS__}, (mask))

START_TEST(guard_reply_types)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("guard_types", "job", 1, TTL);
    lh_lease *l = acquire1(c, f, "x");
    char *k = data_key(l, "k"), *n = data_key(l, "n"), *lst = data_key(l, "l");
    char *missing = data_key(l, "missing");
    lh_reply *r;

    r = GUARD_OK(c, l, LH_KEY(1), "SET", k, "v");
    assert_reply_str(r, LH_REPLY_STATUS, "OK");
    lh_reply_free(r);
    r = GUARD_OK(c, l, LH_KEY(1), "GET", k);
    assert_reply_str(r, LH_REPLY_STRING, "v");
    lh_reply_free(r);
    r = GUARD_OK(c, l, LH_KEY(1), "GET", missing);
    ck_assert_int_eq(r->type, LH_REPLY_NIL);
    lh_reply_free(r);
    r = GUARD_OK(c, l, LH_KEY(1), "INCR", n);
    ck_assert_int_eq(r->type, LH_REPLY_INTEGER);
    ck_assert_int_eq(r->integer, 1);
    lh_reply_free(r);
    r = GUARD_OK(c, l, LH_KEY(1), "INCRBY", n, "41");
    ck_assert_int_eq(r->integer, 42);
    lh_reply_free(r);
    r = GUARD_OK(c, l, LH_KEY(1), "RPUSH", lst, "a", "b", "c");
    ck_assert_int_eq(r->type, LH_REPLY_INTEGER);
    ck_assert_int_eq(r->integer, 3);
    lh_reply_free(r);
    assert_raw_value(rc, k, "v");
    assert_raw_value(rc, n, "42");
    lh_free(k);
    lh_free(n);
    lh_free(lst);
    lh_free(missing);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

START_TEST(guard_array_replies)
{
    lh_client *c = th_client();
    lh_factory *f = th_factory("guard_arrays", "job", 1, TTL);
    lh_lease *l = acquire1(c, f, "x");
    char *k = data_key(l, "k"), *lst = data_key(l, "l");
    char *missing = data_key(l, "missing");
    lh_reply *r;

    lh_reply_free(GUARD_OK(c, l, LH_KEY(1), "SET", k, "v"));
    lh_reply_free(GUARD_OK(c, l, LH_KEY(1), "RPUSH", lst, "a", "b", "c"));
    r = GUARD_OK(c, l, LH_KEY(1), "LRANGE", lst, "0", "-1");
    ck_assert_int_eq(r->type, LH_REPLY_ARRAY);
    ck_assert_uint_eq(r->elements, 3);
    assert_reply_str(r->element[0], LH_REPLY_STRING, "a");
    assert_reply_str(r->element[2], LH_REPLY_STRING, "c");
    lh_reply_free(r);
    /* A nil inside an array. */
    r = GUARD_OK(c, l, LH_KEY(1) | LH_KEY(2), "MGET", k, missing);
    ck_assert_int_eq(r->type, LH_REPLY_ARRAY);
    ck_assert_uint_eq(r->elements, 2);
    assert_reply_str(r->element[0], LH_REPLY_STRING, "v");
    ck_assert_int_eq(r->element[1]->type, LH_REPLY_NIL);
    lh_reply_free(r);
    r = GUARD_OK(c, l, LH_KEY(1), "LRANGE", missing, "0", "-1");
    ck_assert_int_eq(r->type, LH_REPLY_ARRAY);
    ck_assert_uint_eq(r->elements, 0);
    lh_reply_free(r);
    lh_free(k);
    lh_free(lst);
    lh_free(missing);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
}
END_TEST

/* Binary arguments with explicit lengths; a reply is optional; the data
 * key of a lease is the factory's data key of its resource. */
START_TEST(guard_binary_and_keys)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("guard_bin", "job", 1, TTL);
    lh_lease *l = acquire1(c, f, "x");
    const char *fargs[] = {"x"}, *bin[3];
    char *k = data_key(l, "k"), *fk = NULL;
    size_t binlen[3];
    redisReply *raw;

    ck_assert_int_eq(lh_factory_data_key(&fk, f, fargs, 1, "k", NULL), LH_OK);
    ck_assert_str_eq(fk, k);
    bin[0] = "SET", bin[1] = k, bin[2] = "a\0b";
    binlen[0] = 3, binlen[1] = strlen(k), binlen[2] = 3;
    ck_assert_int_eq(lh_lease_guard(NULL, c, l, 3, bin, binlen, LH_KEY(1)),
                     LH_OK);
    ck_assert_str_eq(lh_errmsg(c), "");
    raw = th_cmd(rc, "GET", k, NULL);
    ck_assert_uint_eq(raw->len, 3);
    ck_assert(memcmp(raw->str, "a\0b", 3) == 0);
    freeReplyObject(raw);
    lh_free(fk);
    lh_free(k);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

/* The most arguments a guarded command may have. */
START_TEST(guard_max_args)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("guard_max", "job", 1, TTL);
    lh_lease *l = acquire1(c, f, "x");
    char *k = data_key(l, "set");
    const char **argv = calloc(LH_GUARD_MAX_ARGS, sizeof(*argv));
    char(*members)[16] = calloc(LH_GUARD_MAX_ARGS, sizeof(*members));
    lh_reply *r;
    int i;

    ck_assert(argv != NULL && members != NULL);
    argv[0] = "SADD", argv[1] = k;
    for (i = 2; i < LH_GUARD_MAX_ARGS; i++) {
        snprintf(members[i], sizeof(members[i]), "m%d", i);
        argv[i] = members[i];
    }
    r = guard_ok(c, l, LH_GUARD_MAX_ARGS, argv, LH_KEY(1));
    ck_assert_int_eq(r->type, LH_REPLY_INTEGER);
    ck_assert_int_eq(r->integer, LH_GUARD_MAX_ARGS - 2);
    ck_assert_int_eq(th_cmd_int(rc, "SCARD", k, NULL), LH_GUARD_MAX_ARGS - 2);
    lh_reply_free(r);
    free(members);
    free(argv);
    lh_free(k);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

START_TEST(guard_stale_lease_writes_nothing)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("guard_stale", "job", 1, TTL);
    lh_lease *l1 = acquire1(c, f, "x"), *l2;
    char *k = data_key(l1, "k");
    const char *incr[] = {"INCR", k};
    lh_reply *r = (lh_reply *)1;

    ck_assert_int_eq(guard_set(c, l1, k, "one"), LH_OK);
    expire_lease(rc, l1);
    assert_fail_names_key(c, guard_set(c, l1, k, "two"), LH_ERR_NOT_HELD, l1);
    assert_raw_value(rc, k, "one");
    ck_assert_int_eq(lh_lease_guard(&r, c, l1, 2, incr, NULL, LH_KEY(1)),
                     LH_ERR_NOT_HELD);
    ck_assert(r == NULL);
    l2 = acquire1(c, f, "x");
    assert_fail_names_key(c, guard_set(c, l1, k, "three"), LH_ERR_NOT_OWNED,
                          l1);
    assert_errmsg_has(c, "another lease");
    assert_raw_value(rc, k, "one");
    ck_assert_int_eq(guard_set(c, l2, k, "four"), LH_OK);
    assert_raw_value(rc, k, "four");
    ck_assert_int_eq(lh_lease_release(c, l2, LH_OUTCOME_NONE), LH_OK);
    ck_assert_int_eq(guard_set(c, l2, k, "five"), LH_ERR_NOT_HELD);
    assert_raw_value(rc, k, "four");
    lh_free(k);
    lh_lease_free(l1);
    lh_lease_free(l2);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

START_TEST(guard_command_error)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("guard_err", "job", 1, TTL);
    lh_lease *l = acquire1(c, f, "x");
    char *k = data_key(l, "k");
    const char *incr[] = {"INCR", k};
    const char *lpush[] = {"LPUSH", k, "x"};
    const char *unknown[] = {"NOSUCHCOMMAND", k};
    lh_reply *r = (lh_reply *)1;

    ck_assert_int_eq(guard_set(c, l, k, "abc"), LH_OK);
    assert_fail_names_key(c, lh_lease_guard(&r, c, l, 2, incr, NULL, LH_KEY(1)),
                          LH_ERR_REDIS, l);
    ck_assert(r == NULL);
    assert_errmsg_has(c, "not an integer");
    assert_raw_value(rc, k, "abc");
    ck_assert_int_eq(lh_lease_guard(NULL, c, l, 3, lpush, NULL, LH_KEY(1)),
                     LH_ERR_REDIS);
    assert_errmsg_has(c, "WRONGTYPE");
    ck_assert_int_eq(lh_lease_guard(NULL, c, l, 2, unknown, NULL, LH_KEY(1)),
                     LH_ERR_REDIS);
    ck_assert_str_ne(lh_errmsg(c), "");
    assert_raw_value(rc, k, "abc");
    /* The lease is unharmed and the next call is clean. */
    ck_assert_int_eq(lh_lease_confirm(NULL, c, l), LH_OK);
    ck_assert_str_eq(lh_errmsg(c), "");
    lh_free(k);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

START_TEST(guard_invalid_input)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("guard_inv", "job", 1, TTL);
    lh_lease *l = acquire1(c, f, "x");
    char *k = data_key(l, "k");
    const char *set[] = {"SET", k, "v"};
    const char *holes[] = {"SET", NULL, "v"};
    lh_reply *r = (lh_reply *)1;

    ck_assert_int_eq(lh_lease_guard(&r, c, l, 0, set, NULL, 0), LH_ERR_INVALID);
    ck_assert(r == NULL);
    ck_assert_str_ne(lh_errmsg(c), "");
    ck_assert_int_eq(
        lh_lease_guard(&r, c, l, LH_GUARD_MAX_ARGS + 1, set, NULL, LH_KEY(1)),
        LH_ERR_INVALID);
    ck_assert_int_eq(lh_lease_guard(&r, c, l, 3, NULL, NULL, LH_KEY(1)),
                     LH_ERR_INVALID);
    ck_assert_int_eq(lh_lease_guard(&r, c, l, 3, holes, NULL, LH_KEY(1)),
                     LH_ERR_INVALID);
    assert_errmsg_has(c, "argv[1]");
    ck_assert_int_eq(
        lh_lease_guard(&r, c, l, 3, set, NULL, LH_KEY(0) | LH_KEY(1)),
        LH_ERR_INVALID);
    assert_errmsg_has(c, "key_mask");
    ck_assert_int_eq(
        lh_lease_guard(&r, c, l, 3, set, NULL, LH_KEY(1) | LH_KEY(3)),
        LH_ERR_INVALID);
    ck_assert_int_eq(lh_lease_guard(&r, c, l, 3, set, NULL, LH_KEY(63)),
                     LH_ERR_INVALID);
    ck_assert_int_eq(lh_lease_guard(&r, c, NULL, 3, set, NULL, LH_KEY(1)),
                     LH_ERR_INVALID);
    ck_assert_int_eq(lh_lease_guard(&r, NULL, l, 3, set, NULL, LH_KEY(1)),
                     LH_ERR_INVALID);
    ck_assert(r == NULL);
    ck_assert_int_eq(th_cmd_int(rc, "EXISTS", k, NULL), 0);
    /* A key given as a plain argument is still written by the command. */
    ck_assert_int_eq(lh_lease_guard(NULL, c, l, 3, set, NULL, 0), LH_OK);
    assert_raw_value(rc, k, "v");
    lh_free(k);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

/* ---- scope ------------------------------------------------------------- */

typedef struct scope_ctx {
    redisContext *rc;
    lh_factory *f;
    int calls;
    lh_outcome outcome;
    int lose; /* 1: expire the lease; 2: and let another take it */
    lh_lease *thief;
} scope_ctx;

static lh_outcome scope_fn(lh_client *c, const lh_lease *l, void *payload)
{
    scope_ctx *s = payload;
    char *n = data_key(l, "n");
    const char *incr[] = {"INCR", n};

    s->calls++;
    ck_assert_int_eq(lh_lease_guard(NULL, c, l, 2, incr, NULL, LH_KEY(1)),
                     LH_OK);
    if (s->lose)
        expire_lease(s->rc, l);
    if (s->lose == 2)
        s->thief = acquire1(c, s->f, "x");
    lh_free(n);
    return s->outcome;
}

START_TEST(scope_releases_with_outcome)
{
    /* Not an outcome: counts as failure, and the lease is released. */
    static const lh_outcome outcomes[] = {
        LH_OUTCOME_SUCCESS, LH_OUTCOME_FAILURE, LH_OUTCOME_NONE, (lh_outcome)7};
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("scope_ok", "job", 1, TTL);
    lh_resource_info info;
    size_t i;

    for (i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++) {
        scope_ctx s = {rc, f, 0, outcomes[i], 0, NULL};
        lh_lease *l = acquire1(c, f, "x");
        char *n = data_key(l, "n");
        char want[8];

        ck_assert_int_eq(lh_lease_scope(c, l, scope_fn, &s), LH_OK);
        ck_assert_int_eq(s.calls, 1);
        ck_assert_str_eq(lh_errmsg(c), "");
        inspect1(&info, c, f, "x");
        ck_assert_int_eq(info.held, 0);
        ck_assert_int_eq(info.has_last_outcome, 1);
        ck_assert_int_eq(info.last_outcome, lh_outcome_name(outcomes[i])
                                                ? outcomes[i]
                                                : LH_OUTCOME_FAILURE);
        snprintf(want, sizeof(want), "%d", (int)i + 1);
        assert_raw_value(rc, n, want);
        lh_free(n);
        lh_lease_free(l);
    }
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

START_TEST(scope_reports_loss)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("scope_lost", "job", 1, TTL);
    scope_ctx s = {NULL, NULL, 0, LH_OUTCOME_SUCCESS, 1, NULL};
    lh_resource_info info;
    lh_lease *l = acquire1(c, f, "x");

    s.rc = rc, s.f = f;
    assert_fail_names_key(c, lh_lease_scope(c, l, scope_fn, &s),
                          LH_ERR_NOT_HELD, l);
    ck_assert_int_eq(s.calls, 1);
    inspect1(&info, c, f, "x");
    ck_assert_int_eq(info.has_last_outcome, 0);
    lh_lease_free(l);
    /* Lost to another holder: NOT_OWNED, and the holder keeps it. */
    l = acquire1(c, f, "x");
    s.lose = 2;
    assert_fail_names_key(c, lh_lease_scope(c, l, scope_fn, &s),
                          LH_ERR_NOT_OWNED, l);
    ck_assert(s.thief != NULL);
    ck_assert_int_eq(lh_lease_confirm(NULL, c, s.thief), LH_OK);
    /* No fn: nothing is called, nothing released. */
    ck_assert_int_eq(lh_lease_scope(c, s.thief, NULL, &s), LH_ERR_INVALID);
    ck_assert_str_ne(lh_errmsg(c), "");
    ck_assert_int_eq(s.calls, 2);
    ck_assert_int_eq(lh_lease_confirm(NULL, c, s.thief), LH_OK);
    lh_lease_free(s.thief);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

/* ---- inspect ----------------------------------------------------------- */

/* The release history lives in the one key of the resource: acquiring
 * again carries it into the held value, and a failure keeps the time of
 * the last success ('.' and base 36) for conditions to read. */
START_TEST(history_across_holds)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("hist", "job", 1, TTL);
    lh_resource_info info;
    lh_lease *l = acquire1(c, f, "x");
    char *key = lease_key(l), ok36[16];
    const char *dot;
    redisReply *r;
    int64_t ok_ms;

    ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_SUCCESS), LH_OK);
    lh_lease_free(l);
    inspect1(&info, c, f, "x");
    ok_ms = info.last_release_ms;
    l = acquire1(c, f, "x");
    inspect1(&info, c, f, "x");
    ck_assert_int_eq(info.held, 1);
    ck_assert_int_eq(info.has_last_outcome, 1);
    ck_assert_int_eq(info.last_outcome, LH_OUTCOME_SUCCESS);
    ck_assert_int_eq(info.last_release_ms, ok_ms);
    ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_FAILURE), LH_OK);
    lh_lease_free(l);
    l = acquire1(c, f, "x");
    ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_NONE), LH_OK);
    inspect1(&info, c, f, "x");
    ck_assert_int_eq(info.last_outcome, LH_OUTCOME_NONE);
    ck_assert(info.last_release_ms >= ok_ms);
    ck_assert_int_eq(info.fence, lh_lease_fence(l));
    r = th_cmd(rc, "GET", key, NULL);
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_msg(r->str[0] == '-' && (dot = strchr(r->str, '.')) != NULL,
                  "tombstone %s", r->str);
    snprintf(ok36, sizeof(ok36), "%s", dot + 1);
    ck_assert_int_eq(strtoll(ok36, NULL, 36), ok_ms);
    freeReplyObject(r);
    lh_free(key);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

/* A lease that expires (without release) on a resource with a release
 * record leaves the record in place for its retention (DESIGN 2a). */
START_TEST(history_survives_expiry)
{
    lh_client *c = th_client();
    lh_factory *f = th_factory("histexp", "job", 1, TTL);
    lh_acquire_options o = LH_ACQUIRE_OPTIONS_INIT;
    lh_resource_info info;
    const char *args[] = {"x"};
    lh_lease *l = acquire1(c, f, "x"), *l2, *l3;
    int64_t rel, deadline = th_now_ms() + 5000 * th_timeout_multiplier();
    lh_status st;

    ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_SUCCESS), LH_OK);
    inspect1(&info, c, f, "x");
    rel = info.last_release_ms;
    o.ttl_ms = 200;
    ck_assert_int_eq(lh_lease_acquire(&l2, c, f, args, 1, &o), LH_OK);
    ck_assert(lh_lease_fence(l2) > lh_lease_fence(l));
    while ((st = lh_lease_confirm(NULL, c, l2)) == LH_OK)
        ck_assert_msg(th_now_ms() < deadline, "the 200 ms lease never ended");
    ck_assert_int_eq(st, LH_ERR_NOT_HELD);
    inspect1(&info, c, f, "x");
    ck_assert_int_eq(info.held, 0);
    ck_assert_int_eq(info.has_last_outcome, 1);
    ck_assert_int_eq(info.last_outcome, LH_OUTCOME_SUCCESS);
    ck_assert_int_eq(info.last_release_ms, rel);
    ck_assert_int_eq(info.fence, lh_lease_fence(l2));
    ck_assert_int_eq(lh_lease_extend(NULL, c, l2, 0), LH_ERR_NOT_HELD);
    ck_assert_int_eq(lh_lease_release(c, l2, LH_OUTCOME_FAILURE),
                     LH_ERR_NOT_HELD);
    l3 = acquire1(c, f, "x");
    ck_assert(lh_lease_fence(l3) > lh_lease_fence(l2));
    ck_assert_int_eq(lh_lease_release(c, l2, LH_OUTCOME_FAILURE),
                     LH_ERR_NOT_OWNED);
    inspect1(&info, c, f, "x");
    ck_assert_int_eq(info.held, 1);
    ck_assert_int_eq(info.last_release_ms, rel);
    lh_lease_free(l);
    lh_lease_free(l2);
    lh_lease_free(l3);
    lh_factory_free(f);
    lh_client_free(c);
}
END_TEST

START_TEST(inspect_states)
{
    lh_client *c = th_client();
    lh_factory *f = th_factory("insp", "job", 1, TTL);
    lh_factory *f0 = th_factory("insp", "single", 0, 2 * TTL);
    const char *two[] = {"x", "y"};
    lh_resource_info info;
    lh_lease *l, *z;

    memset(&info, 0x55, sizeof(info));
    inspect1(&info, c, f, "x");
    ck_assert_int_eq(info.held, 0);
    ck_assert_int_eq(info.ttl_ms, -1);
    ck_assert_int_eq(info.fence, -1);
    ck_assert_int_eq(info.has_last_outcome, 0);
    ck_assert_int_eq(info.last_release_ms, -1);
    l = acquire1(c, f, "x");
    inspect1(&info, c, f, "x");
    ck_assert_int_eq(info.held, 1);
    ck_assert(info.ttl_ms > 0 && info.ttl_ms <= TTL);
    ck_assert_int_eq(info.fence, lh_lease_fence(l));
    ck_assert_int_eq(info.has_last_outcome, 0);
    ck_assert_int_eq(info.last_release_ms, -1);
    ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_FAILURE), LH_OK);
    inspect1(&info, c, f, "x");
    ck_assert_int_eq(info.held, 0);
    ck_assert_int_eq(info.fence, lh_lease_fence(l));
    ck_assert_int_eq(info.last_outcome, LH_OUTCOME_FAILURE);
    ck_assert(info.last_release_ms > 0);
    ck_assert_int_eq(lh_resource_inspect(&info, c, f, two, 2), LH_ERR_INVALID);
    ck_assert_str_ne(lh_errmsg(c), "");
    ck_assert_int_eq(lh_resource_inspect(&info, c, f, NULL, 0), LH_ERR_INVALID);
    ck_assert_int_eq(lh_resource_inspect(&info, c, NULL, two, 1),
                     LH_ERR_INVALID);
    ck_assert_int_eq(lh_lease_acquire(&z, c, f0, NULL, 0, NULL), LH_OK);
    ck_assert_int_eq(lh_resource_inspect(&info, c, f0, NULL, 0), LH_OK);
    ck_assert_int_eq(info.held, 1);
    ck_assert(info.ttl_ms > TTL);
    ck_assert_int_eq(info.fence, lh_lease_fence(z));
    lh_lease_free(z);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_factory_free(f0);
    lh_client_free(c);
}
END_TEST

/* ---- scripts ----------------------------------------------------------- */

static const lh__script *const all_scripts[] = {
    &lh__script_acquire, &lh__script_confirm, &lh__script_extend,
    &lh__script_release, &lh__script_guard,   &lh__script_inspect};
#define NSCRIPTS (sizeof(all_scripts) / sizeof(all_scripts[0]))

static void load_scripts(redisContext *rc)
{
    size_t i;

    for (i = 0; i < NSCRIPTS; i++) {
        const char *argv[3] = {"SCRIPT", "LOAD", all_scripts[i]->src};
        size_t lens[3] = {6, 4, all_scripts[i]->len};
        redisReply *r = redisCommandArgv(rc, 3, argv, lens);

        ck_assert_msg(r && r->type == REDIS_REPLY_STRING, "SCRIPT LOAD %s",
                      all_scripts[i]->name);
        ck_assert_msg(strcmp(r->str, all_scripts[i]->sha) == 0,
                      "%s: embedded SHA %s, Redis says %s",
                      all_scripts[i]->name, all_scripts[i]->sha, r->str);
        freeReplyObject(r);
    }
}

START_TEST(script_shas_match_redis)
{
    redisContext *rc = th_raw();
    redisReply *r;
    size_t i;

    r = th_cmd(rc, "SCRIPT", "FLUSH", NULL);
    freeReplyObject(r);
    load_scripts(rc);
    for (i = 0; i < NSCRIPTS; i++) {
        const lh__script *s = all_scripts[i];

        ck_assert_uint_eq(strlen(s->sha), 40);
        ck_assert_uint_eq(strlen(s->src), s->len);
        ck_assert_int_eq(s->readonly,
                         s == &lh__script_confirm || s == &lh__script_inspect);
        ck_assert_int_eq(s->readonly,
                         strncmp(s->src, "#!lua flags=no-writes", 21) == 0);
        r = th_cmd(rc, "SCRIPT", "EXISTS", s->sha, NULL);
        ck_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
                  r->element[0]->integer == 1);
        freeReplyObject(r);
    }
    redisFree(rc);
}
END_TEST

static void script_flush(redisContext *rc)
{
    redisReply *r = th_cmd(rc, "SCRIPT", "FLUSH", NULL);

    ck_assert_int_eq(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
}

START_TEST(every_op_after_script_flush)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("flush", "job", 1, TTL);
    const char *args[] = {"x"};
    lh_resource_info info;
    lh_lease_state s;
    lh_lease *l, *l2;
    char *k;

    script_flush(rc);
    l = acquire1(c, f, "x");
    k = data_key(l, "k");
    script_flush(rc);
    ck_assert_int_eq(lh_lease_acquire(&l2, c, f, args, 1, NULL), LH_ERR_HELD);
    script_flush(rc);
    ck_assert_int_eq(lh_lease_confirm(&s, c, l), LH_OK);
    ck_assert_int_eq(s.fence, lh_lease_fence(l));
    script_flush(rc);
    ck_assert_int_eq(lh_lease_extend(&s, c, l, 2 * TTL), LH_OK);
    ck_assert(pttl_of(rc, l) > TTL);
    script_flush(rc);
    ck_assert_int_eq(guard_set(c, l, k, "v"), LH_OK);
    assert_raw_value(rc, k, "v");
    script_flush(rc);
    inspect1(&info, c, f, "x");
    ck_assert_int_eq(info.held, 1);
    script_flush(rc);
    ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_SUCCESS), LH_OK);
    script_flush(rc);
    ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_SUCCESS),
                     LH_ERR_NOT_HELD);
    script_flush(rc);
    ck_assert_int_eq(guard_set(c, l, k, "w"), LH_ERR_NOT_HELD);
    assert_raw_value(rc, k, "v");
    lh_free(k);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

/* A child that runs SCRIPT FLUSH over and over until 'stop' reads EOF
 * (the parent closed it, or died). */
static pid_t start_flusher(int *stop_fd)
{
    int p[2];
    pid_t pid;

    ck_assert(pipe(p) == 0);
    pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        redisContext *rc = th_raw_try();
        struct pollfd pf;

        close(p[1]);
        pf.fd = p[0];
        pf.events = POLLIN;
        while (rc && poll(&pf, 1, 0) == 0) {
            redisReply *r = redisCommand(rc, "SCRIPT FLUSH");

            if (r == NULL)
                break;
            freeReplyObject(r);
        }
        if (rc)
            redisFree(rc);
        _exit(0);
    }
    close(p[0]);
    *stop_fd = p[1];
    return pid;
}

/* A large EVALSHA reaches Redis in several reads, and another client's
 * SCRIPT FLUSH can run between the SCRIPT LOAD and it: the fallback must
 * still get the command run. */
START_TEST(big_guarded_writes_under_script_flush)
{
    int stop, i, status;
    pid_t flusher = start_flusher(&stop); /* first: it inherits no heap */
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("bigflush", "job", 1, TTL);
    lh_lease *l = acquire1(c, f, "x");
    char *k = data_key(l, "k"), *v = malloc(BIG + 1), *n = data_key(l, "n");
    const char *incr[2];

    ck_assert(v != NULL);
    memset(v, 'v', BIG);
    v[BIG] = '\0';
    incr[0] = "INCR", incr[1] = n;
    for (i = 0; i < 40; i++) {
        lh_status st = guard_set(c, l, k, v);

        ck_assert_msg(st == LH_OK, "write %d: %s", i, lh_errmsg(c));
        ck_assert_int_eq(lh_lease_guard(NULL, c, l, 2, incr, NULL, LH_KEY(1)),
                         LH_OK);
    }
    close(stop);
    ck_assert(waitpid(flusher, &status, 0) == flusher);
    ck_assert_int_eq(th_cmd_int(rc, "STRLEN", k, NULL), BIG);
    assert_raw_value(rc, n, "40");
    free(v);
    lh_free(k);
    lh_free(n);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

/* Round trips. A MONITOR connection sees every command the server runs;
 * those run by a script are marked "lua" and do not count. ECHO markers
 * from another connection frame the operation. INFO commandstats deltas
 * confirm the count independently. */

enum { OP_ACQUIRE, OP_CONFIRM, OP_EXTEND, OP_RELEASE, OP_GUARD, OP_INSPECT };

typedef struct rt_row {
    const char *name;
    int op;
    const lh__script *script;
    int flushed;
} rt_row;

static const rt_row rt_rows[] = {
    {"acquire", OP_ACQUIRE, &lh__script_acquire, 0},
    {"confirm", OP_CONFIRM, &lh__script_confirm, 0},
    {"extend", OP_EXTEND, &lh__script_extend, 0},
    {"release", OP_RELEASE, &lh__script_release, 0},
    {"guard", OP_GUARD, &lh__script_guard, 0},
    {"inspect", OP_INSPECT, &lh__script_inspect, 0},
    {"acquire", OP_ACQUIRE, &lh__script_acquire, 1},
    {"confirm", OP_CONFIRM, &lh__script_confirm, 1},
    {"extend", OP_EXTEND, &lh__script_extend, 1},
    {"release", OP_RELEASE, &lh__script_release, 1},
    {"guard", OP_GUARD, &lh__script_guard, 1},
    {"inspect", OP_INSPECT, &lh__script_inspect, 1},
};

static void run_op(int op, lh_client *c, const lh_factory *f, lh_lease *l,
                   lh_lease **acquired)
{
    const char *args[] = {"rt"};
    lh_resource_info info;
    lh_status st = LH_OK;
    char *k;

    switch (op) {
    case OP_ACQUIRE:
        st = lh_lease_acquire(acquired, c, f, args, 1, NULL);
        break;
    case OP_CONFIRM:
        st = lh_lease_confirm(NULL, c, l);
        break;
    case OP_EXTEND:
        st = lh_lease_extend(NULL, c, l, 0);
        break;
    case OP_RELEASE:
        st = lh_lease_release(c, l, LH_OUTCOME_SUCCESS);
        break;
    case OP_GUARD:
        k = data_key(l, "k");
        st = guard_set(c, l, k, "v");
        lh_free(k);
        break;
    case OP_INSPECT:
        st = lh_resource_inspect(&info, c, f, args, 1);
        break;
    }
    ck_assert_msg(st == LH_OK, "op %d: %s", op, lh_errmsg(c));
}

/* The value of 'field' (e.g. "calls") of cmdstat_'name' in an INFO text;
 * 0 when the command has not run. */
static long long cmdstat(const char *info, const char *name, const char *field)
{
    char needle[128];
    const char *p, *end;

    snprintf(needle, sizeof(needle), "\ncmdstat_%s:", name);
    if ((p = strstr(info, needle)) == NULL)
        return 0;
    end = strchr(p + 1, '\n');
    snprintf(needle, sizeof(needle), "%s=", field);
    p = strstr(p, needle);
    if (p == NULL || (end && p > end))
        return 0;
    return strtoll(p + strlen(needle), NULL, 10);
}

static char *info_commandstats(redisContext *rc)
{
    redisReply *r = th_cmd(rc, "INFO", "commandstats", NULL);
    char *text;

    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    text = malloc(r->len + 2);
    ck_assert(text != NULL);
    text[0] = '\n';
    memcpy(text + 1, r->str, r->len + 1);
    freeReplyObject(r);
    return text;
}

/* Every command whose call count changed between 'a' and 'b' is either
 * expected (and changed by exactly the given amount) or run by a script. */
static void check_stat_delta(const char *a, const char *b, const char *evalsha,
                             int flushed)
{
    static const char *const by_scripts[] = {
        "get",  "set",    "pexpire", "pttl",  "time",
        "del",  "exists", "lpop",    "rpush", "lpos",
        "lrem", "lindex", "lpush",   "ltrim", NULL};
    const char *p = b;

    ck_assert_int_eq(cmdstat(b, evalsha, "calls") -
                         cmdstat(a, evalsha, "calls"),
                     flushed ? 2 : 1);
    ck_assert_int_eq(cmdstat(b, "script|load", "calls") -
                         cmdstat(a, "script|load", "calls"),
                     flushed ? 1 : 0);
    ck_assert_int_eq(cmdstat(b, "info", "calls") - cmdstat(a, "info", "calls"),
                     1);
    ck_assert_int_eq(cmdstat(b, "echo", "calls") - cmdstat(a, "echo", "calls"),
                     2);
    while ((p = strstr(p, "\ncmdstat_")) != NULL) {
        char name[64];
        size_t n = strcspn(p + 9, ":");
        int i, known = 0;

        ck_assert(n < sizeof(name));
        memcpy(name, p + 9, n);
        name[n] = '\0';
        p += 9;
        if (strcmp(name, evalsha) == 0 || strcmp(name, "script|load") == 0 ||
            strcmp(name, "info") == 0 || strcmp(name, "echo") == 0)
            continue;
        for (i = 0; by_scripts[i]; i++)
            known |= strcmp(name, by_scripts[i]) == 0;
        if (!known)
            ck_assert_msg(cmdstat(b, name, "calls") ==
                              cmdstat(a, name, "calls"),
                          "%s ran during the operation", name);
    }
}

/* Read MONITOR lines up to the end marker; copy the first words of the
 * commands clients (not scripts) sent after the begin marker. */
static int monitored(redisContext *mon, const char *begin, const char *end,
                     char seen[][128], int max)
{
    int in = 0, n = 0;

    for (;;) {
        void *v = NULL;
        redisReply *r;

        ck_assert_msg(redisGetReply(mon, &v) == REDIS_OK && v, "MONITOR: %s",
                      mon->errstr);
        r = v;
        ck_assert_int_eq(r->type, REDIS_REPLY_STATUS);
        if (strstr(r->str, end)) {
            freeReplyObject(r);
            return n;
        }
        if (strstr(r->str, begin))
            in = 1;
        else if (in && !strstr(r->str, " lua]")) {
            const char *cmd = strchr(r->str, ']');

            ck_assert(cmd != NULL);
            ck_assert_msg(n < max, "too many commands");
            snprintf(seen[n++], 128, "%s", cmd + 2);
        }
        freeReplyObject(r);
    }
}

/* Run every operation once, so the library has loaded every script. */
static void warm_up(lh_client *c, const lh_factory *f)
{
    lh_lease *l = acquire1(c, f, "warm");

    run_op(OP_CONFIRM, c, f, l, NULL);
    run_op(OP_EXTEND, c, f, l, NULL);
    run_op(OP_GUARD, c, f, l, NULL);
    run_op(OP_INSPECT, c, f, l, NULL);
    run_op(OP_RELEASE, c, f, l, NULL);
    lh_lease_free(l);
}

/* The commands sent: EVALSHA (or EVALSHA_RO) of the operation's script;
 * after a flush that EVALSHA, one SCRIPT LOAD and the EVALSHA again. */
static void check_sent(const rt_row *row, const char *evalsha, char seen[][128],
                       int n)
{
    char want[64];

    snprintf(want, sizeof(want), "\"%s\" \"%s\"", evalsha, row->script->sha);
    ck_assert_msg(n == (row->flushed ? 3 : 1), "%s: %d commands sent",
                  row->name, n);
    ck_assert_msg(strncasecmp(seen[0], want, strlen(want)) == 0, "sent %s",
                  seen[0]);
    if (row->flushed) {
        ck_assert_msg(strncasecmp(seen[1], "\"script\" \"load\"", 15) == 0,
                      "sent %s", seen[1]);
        ck_assert_msg(strncasecmp(seen[2], want, strlen(want)) == 0, "sent %s",
                      seen[2]);
    }
}

START_TEST(one_round_trip_per_op)
{
    const rt_row *row = &rt_rows[_i];
    redisContext *rc = th_raw(), *mon = th_raw();
    lh_client *c = th_client();
    lh_factory *f;
    lh_lease *l = NULL, *got = NULL;
    const char *evalsha = row->script->readonly ? "evalsha_ro" : "evalsha";
    char seen[8][128], begin[64], end[64], *a, *b;

    snprintf(begin, sizeof(begin), "rt%d", _i);
    f = th_factory(begin, "job", 1, TTL);
    warm_up(c, f);
    if (row->op != OP_ACQUIRE && row->op != OP_INSPECT)
        l = acquire1(c, f, "rt");
    if (row->flushed)
        script_flush(rc);
    freeReplyObject(th_cmd(mon, "MONITOR", NULL));
    snprintf(begin, sizeof(begin), "begin-%ld-%d", (long)getpid(), _i);
    snprintf(end, sizeof(end), "end-%ld-%d", (long)getpid(), _i);
    a = info_commandstats(rc);
    freeReplyObject(th_cmd(rc, "ECHO", begin, NULL));
    run_op(row->op, c, f, l, &got);
    freeReplyObject(th_cmd(rc, "ECHO", end, NULL));
    b = info_commandstats(rc);
    check_sent(row, evalsha, seen, monitored(mon, begin, end, seen, 8));
    check_stat_delta(a, b, evalsha, row->flushed);
    free(a);
    free(b);
    lh_lease_free(l);
    lh_lease_free(got);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(mon);
    redisFree(rc);
}
END_TEST

/* ---- connections ------------------------------------------------------- */

START_TEST(conn_unix_socket)
{
    const char *path = getenv("LEASEHOLD_TEST_UNIX");
    redisContext *rc = th_raw();
    lh_factory *f = th_factory("unix", "job", 1, TTL);
    lh_client *c;
    lh_lease *l;
    redisReply *r;
    char url[512], *key;

    ck_assert_msg(path != NULL, "LEASEHOLD_TEST_UNIX is unset");
    snprintf(url, sizeof(url), "unix://%s", path);
    c = client_at(url);
    l = acquire1(c, f, "x");
    key = lease_key(l);
    ck_assert_int_eq(th_cmd_int(rc, "EXISTS", key, NULL), 1);
    ck_assert_int_eq(lh_lease_confirm(NULL, c, l), LH_OK);
    /* Kill it: the next call reconnects over the socket. */
    r = th_cmd(rc, "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes", NULL);
    ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
    ck_assert_int_ge(r->integer, 1);
    freeReplyObject(r);
    ck_assert_msg(lh_lease_confirm(NULL, c, l) == LH_OK, "%s", lh_errmsg(c));
    ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_NONE), LH_OK);
    ck_assert_int_eq(lh_lease_confirm(NULL, c, l), LH_ERR_NOT_HELD);
    lh_free(key);
    lh_lease_free(l);
    lh_client_free(c);
    lh_factory_free(f);
    redisFree(rc);
}
END_TEST

static void assert_in_db(redisContext *rc, const char *key, const char *db)
{
    redisReply *r = th_cmd(rc, "SELECT", db, NULL);

    ck_assert_int_eq(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    ck_assert_msg(th_cmd_int(rc, "EXISTS", key, NULL) == 1, "not in db %s", db);
    r = th_cmd(rc, "SELECT", "0", NULL);
    freeReplyObject(r);
    ck_assert_msg(th_cmd_int(rc, "EXISTS", key, NULL) == 0, "key in db 0");
}

START_TEST(conn_select_db)
{
    redisContext *rc = th_raw();
    lh_factory *f = th_factory("db", "job", 1, TTL);
    const char *path = getenv("LEASEHOLD_TEST_UNIX");
    lh_client *c, *cu;
    lh_lease *l, *lu;
    char url[512], *key, *keyu;

    url_with(url, sizeof(url), "/3");
    c = client_at(url);
    l = acquire1(c, f, "x");
    key = lease_key(l);
    assert_in_db(rc, key, "3");
    /* Also after a reconnect (SELECT is re-applied). */
    freeReplyObject(
        th_cmd(rc, "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes", NULL));
    ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_NONE), LH_OK);
    lh_lease_free(l);
    l = acquire1(c, f, "x");
    assert_in_db(rc, key, "3");
    snprintf(url, sizeof(url), "unix://%s?db=5", path);
    cu = client_at(url);
    lu = acquire1(cu, f, "y");
    keyu = lease_key(lu);
    assert_in_db(rc, keyu, "5");
    lh_free(key);
    lh_free(keyu);
    lh_lease_free(l);
    lh_lease_free(lu);
    lh_client_free(c);
    lh_client_free(cu);
    lh_factory_free(f);
    redisFree(rc);
}
END_TEST

START_TEST(conn_acl_auth)
{
    redisContext *rc = th_raw();
    lh_factory *f = th_factory("acl", "job", 1, TTL);
    lh_client *c, *bad = (lh_client *)1;
    lh_lease *l;
    lh_error err;
    redisReply *r;
    char user[64], url[512], needle[80];
    int port = th_port();

    snprintf(user, sizeof(user), "t_%ld", (long)getpid());
    r = th_cmd(rc, "ACL", "SETUSER", user, "on", ">pw", "~*", "&*", "+@all",
               NULL);
    ck_assert_msg(r->type == REDIS_REPLY_STATUS, "ACL SETUSER: %s",
                  r->type == REDIS_REPLY_ERROR ? r->str : "?");
    freeReplyObject(r);
    snprintf(url, sizeof(url), "redis://%s:pw@127.0.0.1:%d", user, port);
    c = client_at(url);
    l = acquire1(c, f, "x");
    /* The library's connection is authenticated as that user. */
    r = th_cmd(rc, "CLIENT", "LIST", NULL);
    snprintf(needle, sizeof(needle), " user=%s ", user);
    ck_assert_msg(strstr(r->str, needle) != NULL, "no client as %s", user);
    freeReplyObject(r);
    /* AUTH is re-applied on reconnect. */
    freeReplyObject(th_cmd(rc, "CLIENT", "KILL", "USER", user, NULL));
    ck_assert_msg(lh_lease_confirm(NULL, c, l) == LH_OK, "%s", lh_errmsg(c));
    snprintf(url, sizeof(url), "redis://%s:wrong@127.0.0.1:%d", user, port);
    ck_assert_int_eq(lh_client_open(&bad, url, NULL, &err), LH_ERR_REDIS);
    ck_assert(bad == NULL);
    ck_assert_int_eq(err.code, LH_ERR_REDIS);
    ck_assert_msg(strstr(err.message, "WRONGPASS") != NULL, "%s", err.message);
    snprintf(url, sizeof(url), "redis://nosuch_%s:pw@127.0.0.1:%d", user, port);
    ck_assert_int_eq(lh_client_open(&bad, url, NULL, &err), LH_ERR_REDIS);
    snprintf(url, sizeof(url), "redis://:pw@127.0.0.1:%d", port);
    ck_assert_int_eq(lh_client_open(&bad, url, NULL, &err), LH_ERR_REDIS);
    ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_NONE), LH_OK);
    lh_client_free(c);
    ck_assert_int_eq(th_cmd_int(rc, "ACL", "DELUSER", user, NULL), 1);
    lh_lease_free(l);
    lh_factory_free(f);
    redisFree(rc);
}
END_TEST

/* A user that may not run scripts: Redis's refusal comes back as
 * LH_ERR_REDIS with its text, and nothing is written. */
START_TEST(conn_acl_noperm)
{
    redisContext *rc = th_raw();
    lh_factory *f = th_factory("noperm", "job", 1, TTL);
    const char *args[] = {"x"};
    lh_lease *l = (lh_lease *)1;
    lh_client *c;
    redisReply *r;
    char user[64], url[512];

    snprintf(user, sizeof(user), "t_%ld_noperm", (long)getpid());
    r = th_cmd(rc, "ACL", "SETUSER", user, "on", ">pw", "~*", "&*", "+@all",
               "-evalsha", "-evalsha_ro", "-eval", "-eval_ro", NULL);
    ck_assert_int_eq(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    snprintf(url, sizeof(url), "redis://%s:pw@127.0.0.1:%d", user, th_port());
    c = client_at(url);
    ck_assert_int_eq(lh_lease_acquire(&l, c, f, args, 1, NULL), LH_ERR_REDIS);
    ck_assert(l == NULL);
    assert_errmsg_has(c, "NOPERM");
    ck_assert_int_eq(th_key_count(rc, "noperm"), 0);
    lh_client_free(c);
    ck_assert_int_eq(th_cmd_int(rc, "ACL", "DELUSER", user, NULL), 1);
    lh_factory_free(f);
    redisFree(rc);
}
END_TEST

START_TEST(conn_reconnect_after_kill)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("kill", "job", 1, TTL);
    lh_lease *l = acquire1(c, f, "x");
    char addr[64], addr2[64];
    lh_lease_state s;
    int i;

    for (i = 0; i < 3; i++) {
        th_client_addr(c, addr, sizeof(addr));
        ck_assert_int_eq(th_cmd_int(rc, "CLIENT", "KILL", "ADDR", addr, NULL),
                         1);
        ck_assert_msg(lh_lease_confirm(&s, c, l) == LH_OK, "after kill: %s",
                      lh_errmsg(c));
        ck_assert_str_eq(lh_errmsg(c), "");
        ck_assert_int_eq(s.fence, lh_lease_fence(l));
        th_client_addr(c, addr2, sizeof(addr2));
        ck_assert_str_ne(addr, addr2);
    }
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

START_TEST(conn_after_restart)
{
    lh_client *c = th_client();
    lh_factory *f = th_factory("restart", "job", 1, TTL);
    lh_lease *l = acquire1(c, f, "x"), *l2;

    th_restart_redis();
    ck_assert_msg(lh_lease_confirm(NULL, c, l) == LH_ERR_NOT_HELD, "%s",
                  lh_errmsg(c));
    l2 = acquire1(c, f, "x");
    ck_assert(lh_lease_fence(l2) > lh_lease_fence(l));
    th_restart_redis();
    ck_assert_msg(lh_lease_release(c, l2, LH_OUTCOME_NONE) == LH_ERR_NOT_HELD,
                  "%s", lh_errmsg(c));
    lh_lease_free(l);
    lh_lease_free(l2);
    lh_factory_free(f);
    lh_client_free(c);
}
END_TEST

/* Wait for the end of a CLIENT PAUSE or DEBUG SLEEP: a raw command is
 * answered only then. */
static void wait_server(redisContext *rc)
{
    redisReply *r = th_cmd(rc, "PING", NULL);

    ck_assert_int_eq(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
}

START_TEST(conn_timeout_under_pause)
{
    redisContext *rc = th_raw();
    lh_client *c, *setup = th_client();
    lh_factory *f = th_factory("tmo", "job", 1, TTL);
    lh_lease *l = acquire1(setup, f, "x");
    char url[512], addr[64], addr2[64], *k = data_key(l, "k");
    const char *get[2];
    lh_reply *r = NULL;
    int64_t t0, took;

    ck_assert_int_eq(guard_set(setup, l, k, "fresh"), LH_OK);
    url_with(url, sizeof(url), "?timeout=200ms");
    c = client_at(url);
    ck_assert_int_eq(lh_lease_confirm(NULL, c, l), LH_OK);
    th_client_addr(c, addr, sizeof(addr));
    freeReplyObject(th_cmd(rc, "CLIENT", "PAUSE", "1500", "ALL", NULL));
    t0 = th_now_ms();
    ck_assert_int_eq(lh_lease_confirm(NULL, c, l), LH_ERR_IO);
    took = th_now_ms() - t0;
    assert_errmsg_has(c, "timed out");
    assert_errmsg_has(c, "may have been applied");
    ck_assert_msg(took >= 195, "timed out after %lld ms", (long long)took);
    wait_server(rc);
    /* A fresh connection; the late confirm reply is not read as this
     * command's answer. */
    get[0] = "GET", get[1] = k;
    r = guard_ok(c, l, 2, get, LH_KEY(1));
    assert_reply_str(r, LH_REPLY_STRING, "fresh");
    th_client_addr(c, addr2, sizeof(addr2));
    ck_assert_str_ne(addr, addr2);
    ck_assert_int_eq(lh_lease_confirm(NULL, c, l), LH_OK);
    lh_reply_free(r);
    lh_free(k);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
    lh_client_free(setup);
    redisFree(rc);
}
END_TEST

/* CLIENT PAUSE WRITE holds a guarded write (a write script) but lets
 * read-only scripts through. The write times out; a confirm right after
 * must not queue behind it on the old connection: it gets a new one. */
START_TEST(conn_timeout_write_pause)
{
    redisContext *rc = th_raw();
    lh_client *c, *setup = th_client();
    lh_factory *f = th_factory("tmo_w", "job", 1, TTL);
    lh_lease *l = acquire1(setup, f, "x");
    char url[512], *n = data_key(l, "n"), *now;
    const char *incr[2], *get[2];
    lh_resource_info info;
    lh_lease_state s;
    lh_reply *r;

    url_with(url, sizeof(url), "?timeout=200ms");
    c = client_at(url);
    ck_assert_int_eq(guard_set(c, l, n, "10"), LH_OK);
    ck_assert_int_eq(lh_lease_confirm(&s, c, l), LH_OK);
    inspect1(&info, c, f, "x");
    freeReplyObject(th_cmd(rc, "CLIENT", "PAUSE", "2000", "WRITE", NULL));
    incr[0] = "INCR", incr[1] = n;
    ck_assert_int_eq(lh_lease_guard(NULL, c, l, 2, incr, NULL, LH_KEY(1)),
                     LH_ERR_IO);
    assert_errmsg_has(c, "timed out");
    ck_assert_msg(lh_lease_confirm(&s, c, l) == LH_OK, "%s", lh_errmsg(c));
    ck_assert_int_eq(s.fence, lh_lease_fence(l));
    ck_assert_str_eq(lh_errmsg(c), "");
    inspect1(&info, c, f, "x");
    ck_assert_int_eq(info.fence, lh_lease_fence(l));
    freeReplyObject(th_cmd(rc, "CLIENT", "UNPAUSE", NULL));
    now = raw_get(rc, n);
    ck_assert(now != NULL &&
              (strcmp(now, "10") == 0 || strcmp(now, "11") == 0));
    get[0] = "GET", get[1] = n;
    r = guard_ok(c, l, 2, get, LH_KEY(1));
    assert_reply_str(r, LH_REPLY_STRING, now);
    lh_reply_free(r);
    free(now);
    lh_free(n);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
    lh_client_free(setup);
    redisFree(rc);
}
END_TEST

/* Put the server to sleep for 'secs' from 'sleeper' without waiting for
 * the answer, and return once it sleeps (a PING on 'probe' goes
 * unanswered for 50 ms). */
static void server_sleep(redisContext *sleeper, redisContext *probe,
                         const char *secs)
{
    struct timeval short_tv = {0, 50000};
    int64_t deadline = th_now_ms() + 1000;
    const char *argv[3] = {"DEBUG", "SLEEP", secs};
    void *v;
    int done = 0;

    ck_assert_int_eq(redisAppendCommandArgv(sleeper, 3, argv, NULL), REDIS_OK);
    while (!done)
        ck_assert_int_eq(redisBufferWrite(sleeper, &done), REDIS_OK);
    redisSetTimeout(probe, short_tv);
    while ((v = redisCommand(probe, "PING")) != NULL) {
        freeReplyObject(v);
        ck_assert_msg(th_now_ms() < deadline, "DEBUG SLEEP did not start");
    }
}

static void server_wake(redisContext *sleeper)
{
    void *v = NULL;

    ck_assert_int_eq(redisGetReply(sleeper, &v), REDIS_OK);
    freeReplyObject(v);
}

/* DEBUG SLEEP: the timed-out command stays queued and is run when the
 * server wakes (it may have been applied). Calls go on failing with
 * LH_ERR_IO while it sleeps; the first that succeeds must get its own
 * reply, never a late one. */
START_TEST(conn_timeout_late_reply)
{
    redisContext *rc = th_raw(), *sleeper = th_raw(), *probe = th_raw();
    lh_client *c, *setup = th_client();
    lh_factory *f = th_factory("late", "job", 1, TTL);
    lh_lease *l = acquire1(setup, f, "x");
    char url[512], *n = data_key(l, "n"), *now;
    const char *incr[2], *get[2];
    lh_reply *r = NULL;
    lh_status st;
    int64_t deadline;

    url_with(url, sizeof(url), "?timeout=200ms");
    c = client_at(url);
    ck_assert_int_eq(guard_set(c, l, n, "10"), LH_OK);
    server_sleep(sleeper, probe, "1");
    incr[0] = "INCR", incr[1] = n;
    ck_assert_int_eq(lh_lease_guard(NULL, c, l, 2, incr, NULL, LH_KEY(1)),
                     LH_ERR_IO);
    assert_errmsg_has(c, "timed out");
    get[0] = "GET", get[1] = n;
    deadline = th_now_ms() + 5000 * th_timeout_multiplier();
    while ((st = lh_lease_guard(&r, c, l, 2, get, NULL, LH_KEY(1))) ==
           LH_ERR_IO)
        ck_assert_msg(th_now_ms() < deadline, "no answer after the sleep");
    ck_assert_msg(st == LH_OK, "%s", lh_errmsg(c));
    server_wake(sleeper);
    now = raw_get(rc, n);
    ck_assert(now != NULL &&
              (strcmp(now, "10") == 0 || strcmp(now, "11") == 0));
    assert_reply_str(r, LH_REPLY_STRING, now);
    lh_reply_free(r);
    r = guard_ok(c, l, 2, incr, LH_KEY(1));
    ck_assert_int_eq(r->type, LH_REPLY_INTEGER);
    ck_assert_int_eq(r->integer, strtoll(now, NULL, 10) + 1);
    lh_reply_free(r);
    free(now);
    lh_free(n);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
    lh_client_free(setup);
    redisFree(probe);
    redisFree(sleeper);
    redisFree(rc);
}
END_TEST

/* A call whose reply is lost may have been applied. Here it was: the
 * server runs the queued command when it wakes. Retrying the acquire with
 * the same id returns the same lease and fence; retrying the release
 * reports NOT_HELD. */
START_TEST(retry_after_lost_reply)
{
    redisContext *rc = th_raw(), *sleeper = th_raw(), *probe = th_raw();
    lh_factory *f = th_factory("lost", "job", 1, TTL);
    lh_acquire_options o = LH_ACQUIRE_OPTIONS_INIT;
    const char *args[] = {"x"};
    char url[512], id[LH_ID_HEX_LEN + 1], *key, *v;
    lh_lease *l = (lh_lease *)1, *l2;
    lh_client *c;

    url_with(url, sizeof(url), "?timeout=200ms");
    c = client_at(url);
    ck_assert_int_eq(lh_id_generate(id, NULL), LH_OK);
    o.id = id;
    server_sleep(sleeper, probe, "1");
    ck_assert_int_eq(lh_lease_acquire(&l, c, f, args, 1, &o), LH_ERR_IO);
    ck_assert(l == NULL);
    assert_errmsg_has(c, "may have been applied");
    server_wake(sleeper);
    ck_assert_int_eq(lh_lease_acquire(&l2, c, f, args, 1, &o), LH_OK);
    key = lease_key(l2);
    v = raw_get(rc, key);
    ck_assert(v != NULL);
    ck_assert_msg(
        strncmp(v, id, LH_ID_HEX_LEN) == 0 &&
            strtoll(v + LH_ID_HEX_LEN, NULL, 36) == lh_lease_fence(l2),
        "stored %s, retry got fence %lld", v, (long long)lh_lease_fence(l2));
    /* The release, too, is applied while its reply is lost. */
    server_sleep(sleeper, probe, "1");
    ck_assert_int_eq(lh_lease_release(c, l2, LH_OUTCOME_SUCCESS), LH_ERR_IO);
    server_wake(sleeper);
    ck_assert_int_eq(lh_lease_release(c, l2, LH_OUTCOME_SUCCESS),
                     LH_ERR_NOT_HELD);
    ck_assert_int_eq(lh_lease_confirm(NULL, c, l2), LH_ERR_NOT_HELD);
    free(v);
    lh_free(key);
    lh_lease_free(l2);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(probe);
    redisFree(sleeper);
    redisFree(rc);
}
END_TEST

/* A loopback port nobody listens on (bound, then closed). */
static int closed_port(void)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    ck_assert(getsockname(fd, (struct sockaddr *)&a, &alen) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

START_TEST(conn_closed_port)
{
    lh_client *c = (lh_client *)1;
    lh_error err;
    char url[128], port[16];
    int p = closed_port();

    snprintf(url, sizeof(url), "redis://127.0.0.1:%d?connect_timeout=500ms", p);
    snprintf(port, sizeof(port), "%d", p);
    ck_assert_int_eq(lh_client_open(&c, url, NULL, &err), LH_ERR_IO);
    ck_assert(c == NULL);
    ck_assert_int_eq(err.code, LH_ERR_IO);
    ck_assert_msg(strstr(err.message, port) != NULL, "%s", err.message);
    ck_assert_int_eq(lh_client_open(NULL, url, NULL, &err), LH_ERR_INVALID);
}
END_TEST

/* ---- SIGPIPE ----------------------------------------------------------- */

#define HUGE_VALUE (32u << 20)

typedef struct sig_state {
    sigset_t mask;
    struct sigaction act;
} sig_state;

static void sig_save(sig_state *s)
{
    struct sigaction dfl;

    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    ck_assert(sigaction(SIGPIPE, &dfl, NULL) == 0);
    ck_assert(pthread_sigmask(SIG_SETMASK, NULL, &s->mask) == 0);
    ck_assert(sigaction(SIGPIPE, NULL, &s->act) == 0);
    ck_assert(s->act.sa_handler == SIG_DFL);
    ck_assert(!sigismember(&s->mask, SIGPIPE));
}

static void sig_assert_unchanged(const sig_state *s)
{
    sig_state now;
    sigset_t pending;
    int i;

    ck_assert(pthread_sigmask(SIG_SETMASK, NULL, &now.mask) == 0);
    ck_assert(sigaction(SIGPIPE, NULL, &now.act) == 0);
    ck_assert(now.act.sa_handler == SIG_DFL);
    ck_assert(now.act.sa_flags == s->act.sa_flags);
    for (i = 1; i < 32; i++)
        ck_assert_msg(sigismember(&now.mask, i) == sigismember(&s->mask, i),
                      "signal %d changed in the mask", i);
    ck_assert(sigpending(&pending) == 0);
    ck_assert(!sigismember(&pending, SIGPIPE));
}

/* Did a child running 'fn' die of SIGPIPE? Shows that the scenario really
 * raises it for a client without the library's protection. */
static int dies_of_sigpipe(void (*fn)(int), int arg)
{
    pid_t pid = fork();
    int status;

    ck_assert(pid >= 0);
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        fn(arg);
        _exit(0);
    }
    ck_assert(waitpid(pid, &status, 0) == pid);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE;
}

static void raw_big_set(redisContext *c, size_t size)
{
    char *v = malloc(size);
    const char *argv[3];
    size_t lens[3];
    redisReply *r;

    if (v == NULL)
        _exit(2);
    memset(v, 'x', size);
    argv[0] = "SET", argv[1] = "t:sigpipe", argv[2] = v;
    lens[0] = 3, lens[1] = 9, lens[2] = size;
    r = redisCommandArgv(c, 3, argv, lens);
    if (r)
        freeReplyObject(r);
    free(v);
}

/* A hiredis client whose connection the server killed while it was idle. */
static void unprotected_after_kill(int unused)
{
    redisContext *c = th_raw_try(), *k = th_raw_try();
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    char addr[64];
    redisReply *r;

    (void)unused;
    if (c == NULL || k == NULL ||
        getsockname(c->fd, (struct sockaddr *)&a, &alen) != 0)
        _exit(2);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", (int)ntohs(a.sin_port));
    r = redisCommand(k, "CLIENT KILL ADDR %s", addr);
    if (r == NULL || r->type != REDIS_REPLY_INTEGER || r->integer != 1)
        _exit(3);
    freeReplyObject(r);
    raw_big_set(c, BIG);
}

START_TEST(sigpipe_after_client_kill)
{
    sig_state before;
    redisContext *rc;
    lh_client *c;
    lh_factory *f;
    lh_lease *l;
    char *k, *v, addr[64];
    lh_status st;
    int i;

    /* First, while this process holds no heap a child could report. */
    sig_save(&before);
    ck_assert_msg(dies_of_sigpipe(unprotected_after_kill, 0),
                  "the scenario did not raise SIGPIPE");
    rc = th_raw();
    c = th_client();
    f = th_factory("sigpipe", "job", 1, TTL);
    l = acquire1(c, f, "x");
    k = data_key(l, "big");
    v = malloc(BIG + 1);
    ck_assert(v != NULL);
    memset(v, 'y', BIG);
    v[BIG] = '\0';
    for (i = 0; i < 3; i++) {
        th_client_addr(c, addr, sizeof(addr));
        ck_assert_int_eq(th_cmd_int(rc, "CLIENT", "KILL", "ADDR", addr, NULL),
                         1);
        st = guard_set(c, l, k, v);
        ck_assert_msg(st == LH_OK || st == LH_ERR_IO, "%s: %s",
                      lh_status_name(st), lh_errmsg(c));
        sig_assert_unchanged(&before);
        if (st == LH_OK)
            ck_assert_int_eq(th_cmd_int(rc, "STRLEN", k, NULL), BIG);
    }
    ck_assert_int_eq(lh_lease_confirm(NULL, c, l), LH_OK);
    free(v);
    lh_free(k);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

/* A one-shot fake server: answers the handshake PING, then, as soon as
 * the next command starts to arrive, sends FIN and closes with that
 * command unread (RST): every later write of the client is EPIPE, which
 * raises SIGPIPE unless it is blocked. The library cannot see this coming
 * by polling the idle connection. */
static void fake_server(int ls)
{
    char buf[64];
    size_t got = 0;
    ssize_t n;
    int fd = accept(ls, NULL, NULL);

    if (fd < 0)
        _exit(2);
    while (got < 14 && (n = read(fd, buf, 14 - got)) > 0)
        got += (size_t)n;
    if (got != 14 || memcmp(buf, "*1\r\n$4\r\nPING\r\n", 14) != 0 ||
        write(fd, "+PONG\r\n", 7) != 7)
        _exit(3);
    if (read(fd, buf, 1) != 1)
        _exit(4);
    shutdown(fd, SHUT_WR);
    close(fd);
    _exit(0);
}

static pid_t start_fake_server(int *port)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    pid_t pid;

    ck_assert(ls >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert(bind(ls, (struct sockaddr *)&a, sizeof(a)) == 0);
    ck_assert(listen(ls, 1) == 0);
    ck_assert(getsockname(ls, (struct sockaddr *)&a, &alen) == 0);
    *port = ntohs(a.sin_port);
    pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0)
        fake_server(ls);
    close(ls);
    return pid;
}

static void unprotected_to_fake(int port)
{
    redisContext *c = redisConnect("127.0.0.1", port);
    redisReply *r;

    if (c == NULL || c->err)
        _exit(2);
    r = redisCommand(c, "PING");
    if (r == NULL)
        _exit(3);
    freeReplyObject(r);
    raw_big_set(c, HUGE_VALUE);
}

START_TEST(sigpipe_peer_gone_mid_write)
{
    /* The servers first: they inherit no heap to report under valgrind. */
    int port1, port2, status;
    pid_t server1 = start_fake_server(&port1);
    pid_t server2 = start_fake_server(&port2);
    lh_client *c, *fc;
    lh_factory *f;
    lh_lease *l;
    char *k, *v, url[128];
    sig_state before;
    lh_status st;

    sig_save(&before);
    ck_assert_msg(dies_of_sigpipe(unprotected_to_fake, port1),
                  "the fake server did not make a write raise SIGPIPE");
    ck_assert(waitpid(server1, &status, 0) == server1);
    c = th_client();
    f = th_factory("sigpipe2", "job", 1, TTL);
    l = acquire1(c, f, "x");
    k = data_key(l, "big");
    v = malloc(HUGE_VALUE + 1);
    ck_assert(v != NULL);
    memset(v, 'z', HUGE_VALUE);
    v[HUGE_VALUE] = '\0';
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d?timeout=5s", port2);
    fc = client_at(url);
    st = guard_set(fc, l, k, v);
    ck_assert_msg(st == LH_ERR_IO, "%s: %s", lh_status_name(st), lh_errmsg(fc));
    ck_assert_str_ne(lh_errmsg(fc), "");
    sig_assert_unchanged(&before);
    ck_assert(waitpid(server2, &status, 0) == server2);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* The real server was never involved, and the lease is fine. */
    ck_assert_int_eq(lh_lease_confirm(NULL, c, l), LH_OK);
    free(v);
    lh_free(k);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(fc);
    lh_client_free(c);
}
END_TEST

/* ---- the suite --------------------------------------------------------- */

static TCase *tcase(Suite *s, const char *name, int timeout)
{
    TCase *tc = tcase_create(name);

    tcase_set_timeout(tc, timeout);
    suite_add_tcase(s, tc);
    return tc;
}

static void add_lease_cases(Suite *s)
{
    TCase *tc;

    tc = tcase(s, "acquire", 20);
    tcase_add_test(tc, acquire_ok_then_held);
    tcase_add_loop_test(tc, acquire_invalid, 0,
                        sizeof(bad_acquires) / sizeof(bad_acquires[0]));
    tcase_add_test(tc, acquire_idempotent_retry);
    tcase_add_test(tc, acquire_ttl_option);
    tcase_add_test(tc, fence_rises_across_release);
    tcase_add_test(tc, fence_rises_across_expiry);
    tcase_add_test(tc, fence_rises_across_restart);
    tc = tcase(s, "confirm", 10);
    tcase_add_test(tc, confirm_ok);
    tcase_add_test(tc, confirm_not_held);
    tcase_add_test(tc, confirm_not_owned);
    tcase_add_test(tc, confirm_under_write_pause);
    tc = tcase(s, "extend", 10);
    tcase_add_test(tc, extend_sets_never_adds);
    tcase_add_test(tc, extend_owner_only);
    tcase_add_test(tc, extend_invalid_ttl);
    tc = tcase(s, "release", 10);
    tcase_add_test(tc, release_records_outcome);
    tcase_add_test(tc, release_each_outcome);
    tcase_add_test(tc, release_not_owned);
    tcase_add_test(tc, release_invalid_outcome);
}

static void add_write_cases(Suite *s)
{
    TCase *tc;

    tc = tcase(s, "guard", 10);
    tcase_add_test(tc, guard_reply_types);
    tcase_add_test(tc, guard_array_replies);
    tcase_add_test(tc, guard_binary_and_keys);
    tcase_add_test(tc, guard_max_args);
    tcase_add_test(tc, guard_stale_lease_writes_nothing);
    tcase_add_test(tc, guard_command_error);
    tcase_add_test(tc, guard_invalid_input);
    tc = tcase(s, "scope", 10);
    tcase_add_test(tc, scope_releases_with_outcome);
    tcase_add_test(tc, scope_reports_loss);
    tc = tcase(s, "inspect", 10);
    tcase_add_test(tc, inspect_states);
    tcase_add_test(tc, history_across_holds);
    tcase_add_test(tc, history_survives_expiry);
    tc = tcase(s, "scripts", 20);
    tcase_add_test(tc, script_shas_match_redis);
    tcase_add_test(tc, every_op_after_script_flush);
    tcase_add_test(tc, big_guarded_writes_under_script_flush);
    tcase_add_loop_test(tc, one_round_trip_per_op, 0,
                        sizeof(rt_rows) / sizeof(rt_rows[0]));
}

static void add_conn_cases(Suite *s)
{
    TCase *tc;

    tc = tcase(s, "conn", 20);
    tcase_add_test(tc, conn_unix_socket);
    tcase_add_test(tc, conn_select_db);
    tcase_add_test(tc, conn_acl_auth);
    tcase_add_test(tc, conn_acl_noperm);
    tcase_add_test(tc, conn_reconnect_after_kill);
    tcase_add_test(tc, conn_after_restart);
    tcase_add_test(tc, conn_timeout_under_pause);
    tcase_add_test(tc, conn_timeout_write_pause);
    tcase_add_test(tc, conn_timeout_late_reply);
    tcase_add_test(tc, retry_after_lost_reply);
    tcase_add_test(tc, conn_closed_port);
    tc = tcase(s, "sigpipe", 20);
    tcase_add_test(tc, sigpipe_after_client_kill);
    tcase_add_test(tc, sigpipe_peer_gone_mid_write);
}

int main(void)
{
    Suite *s = suite_create("ops");

    add_lease_cases(s);
    add_write_cases(s);
    add_conn_cases(s);
    return th_run(s);
}
