/*
 * check_api.c - the small public API and the allocation-failure loop.
 *
 * Status codes (fixed values, lh_strerror, lh_status_name, unknown
 * values), lh_version, lh_outcome_name, lease ids from lh_id_generate,
 * lh_factory_new's validation (each message names its argument) and the
 * NULL safety of every *_free function. Then, as jansson's test_chaos
 * does, each call is run with its n-th lh__ allocation failing for
 * n = 1, 2, ... until it succeeds: every failure must be LH_ERR_NOMEM with
 * its out-pointers NULL and nothing leaked (run under tests/valgrind.sh).
 * Only the "chaos-redis" case talks to the suite's Redis: acquire, confirm,
 * extend, guard, inspect and release under failing allocations.
 */
#include "helpers.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* A non-NULL pointer no call may leave in an out-parameter on failure. */
static char poison;
#define POISON ((void *)&poison)

#define ID "0123456789abcdef0123456789abcdef"

/* ---- status codes, version, outcomes ------------------------------------ */

static const struct {
    int value;
    const char *name;
    const char *text;
} statuses[] = {
#define XX(name, value, text) {value, #name, text},
    LH_STATUS_MAP(XX)
#undef XX
};

#define NSTATUSES ((int)(sizeof(statuses) / sizeof(statuses[0])))

START_TEST(status_names)
{
    int v = statuses[_i].value, j;

    ck_assert_str_eq(lh_status_name(v), statuses[_i].name);
    ck_assert_str_eq(lh_strerror(v), statuses[_i].text);
    ck_assert_str_ne(lh_strerror(v), "unknown status");
    ck_assert_uint_gt(strlen(lh_strerror(v)), 5);
    for (j = 0; j < NSTATUSES; j++)
        if (j != _i)
            ck_assert_str_ne(lh_strerror(v), statuses[j].text);
}
END_TEST

START_TEST(status_values_fixed)
{
    ck_assert_int_eq(NSTATUSES, 12);
    ck_assert_int_eq(LH_OK, 0);
    ck_assert_int_eq(LH_ERR_INVALID, -1);
    ck_assert_int_eq(LH_ERR_HELD, -2);
    ck_assert_int_eq(LH_ERR_NOT_HELD, -3);
    ck_assert_int_eq(LH_ERR_NOT_OWNED, -4);
    ck_assert_int_eq(LH_ERR_CONDITION, -5);
    ck_assert_int_eq(LH_ERR_TIMEOUT, -6);
    ck_assert_int_eq(LH_ERR_IO, -7);
    ck_assert_int_eq(LH_ERR_REDIS, -8);
    ck_assert_int_eq(LH_ERR_QUORUM, -9);
    ck_assert_int_eq(LH_ERR_CANCELLED, -10);
    ck_assert_int_eq(LH_ERR_NOMEM, -11);
    ck_assert_str_eq(lh_status_name(LH_OK), "OK");
    ck_assert_str_eq(lh_status_name(LH_ERR_NOT_HELD), "ERR_NOT_HELD");
}
END_TEST

static const int unknown_statuses[] = {1, 2, -12, 100, -1000, INT_MAX, INT_MIN};

START_TEST(status_unknown)
{
    int v = unknown_statuses[_i];

    ck_assert_str_eq(lh_strerror(v), "unknown status");
    ck_assert_str_eq(lh_status_name(v), "UNKNOWN");
}
END_TEST

START_TEST(version)
{
    char want[32];

    ck_assert_ptr_nonnull(lh_version());
    ck_assert_str_eq(lh_version(), LH_VERSION_STRING);
    snprintf(want, sizeof(want), "%d.%d.%d", LH_VERSION_MAJOR, LH_VERSION_MINOR,
             LH_VERSION_PATCH);
    ck_assert_str_eq(lh_version(), want);
    ck_assert_int_eq(LH_VERSION_HEX, (LH_VERSION_MAJOR << 16) |
                                         (LH_VERSION_MINOR << 8) |
                                         LH_VERSION_PATCH);
}
END_TEST

START_TEST(outcome_names)
{
    ck_assert_str_eq(lh_outcome_name(LH_OUTCOME_NONE), "none");
    ck_assert_str_eq(lh_outcome_name(LH_OUTCOME_SUCCESS), "success");
    ck_assert_str_eq(lh_outcome_name(LH_OUTCOME_FAILURE), "failure");
    ck_assert_ptr_null(lh_outcome_name((lh_outcome)3));
    ck_assert_ptr_null(lh_outcome_name((lh_outcome)-1));
    ck_assert_ptr_null(lh_outcome_name((lh_outcome)1000));
}
END_TEST

/* ---- lease ids ---------------------------------------------------------- */

static void assert_id(const char *id)
{
    size_t i;

    ck_assert_uint_eq(strlen(id), LH_ID_HEX_LEN);
    for (i = 0; i < LH_ID_HEX_LEN; i++)
        ck_assert_msg((id[i] >= '0' && id[i] <= '9') ||
                          (id[i] >= 'a' && id[i] <= 'f'),
                      "id \"%s\" is not lowercase hex", id);
    ck_assert(lh__id_valid(id));
}

START_TEST(id_generate)
{
    enum { N = 200 };
    static char ids[N][LH_ID_HEX_LEN + 1];
    unsigned seen[16] = {0};
    lh_error err;
    int i, j;

    for (i = 0; i < N; i++) {
        ck_assert_int_eq(lh_id_generate(ids[i], &err), LH_OK);
        assert_id(ids[i]);
        for (j = 0; j < LH_ID_HEX_LEN; j++)
            seen[ids[i][j] <= '9' ? ids[i][j] - '0' : ids[i][j] - 'a' + 10]++;
        for (j = 0; j < i; j++)
            ck_assert_str_ne(ids[i], ids[j]);
    }
    /* 6400 digits: each of the 16 appears about 400 times */
    for (j = 0; j < 16; j++)
        ck_assert_uint_gt(seen[j], 250);
    ck_assert_int_eq(lh_id_generate(ids[0], NULL), LH_OK);
    ck_assert_int_eq(lh_id_generate(NULL, &err), LH_ERR_INVALID);
}
END_TEST

START_TEST(id_valid)
{
    ck_assert(lh__id_valid(ID));
    ck_assert(!lh__id_valid(NULL));
    ck_assert(!lh__id_valid(""));
    ck_assert(!lh__id_valid("0123456789ABCDEF0123456789abcdef"));
    ck_assert(!lh__id_valid("0123456789abcdef0123456789abcde"));
    ck_assert(!lh__id_valid(ID "0"));
    ck_assert(!lh__id_valid("0123456789abcdef0123456789abcdeg"));
}
END_TEST

/* ---- lh_factory_new ----------------------------------------------------- */

static char long_name[LH_MAX_NAME_BYTES + 2]; /* 257 bytes */
static char max_name[LH_MAX_NAME_BYTES + 1];  /* 256 bytes */

static void fill_names(void)
{
    memset(long_name, 'n', LH_MAX_NAME_BYTES + 1);
    memset(max_name, 'm', LH_MAX_NAME_BYTES);
}

typedef struct factory_row {
    const char *root; /* NULL: the default */
    const char *prefix;
    int arity;
    int64_t ttl_ms;
    int64_t retention_ms;
    unsigned version;
    const char *needle; /* NULL: must succeed */
} factory_row;

#define DAY (24LL * 3600 * 1000)

static const factory_row factories[] = {
    /* accepted, at the bounds */
    {NULL, "p", 1, 60000, 0, 1, NULL},
    {"r", "p", 0, 1, 0, 1, NULL},
    {"r", "p", 16, LH_MAX_TTL_MS, 1, 1, NULL},
    {"r", "p", 2, 1000, 30 * DAY, 1, NULL},
    {max_name, max_name, 1, 1000, 0, 1, NULL},
    {"\xf0\x9f\x98\x80", "\xe6\x97\xa5 :{}%", 1, 1000, 0, 2, NULL},
    /* prefix */
    {NULL, "", 1, 1000, 0, 1, "prefix"},
    {NULL, NULL, 1, 1000, 0, 1, "prefix"},
    {NULL, long_name, 1, 1000, 0, 1, "prefix"},
    {NULL, "\xff", 1, 1000, 0, 1, "prefix"},
    {NULL, "a\xc3", 1, 1000, 0, 1, "prefix"},
    {NULL, "\xc0\x80", 1, 1000, 0, 1, "prefix"},
    {NULL, "\xed\xa0\x80", 1, 1000, 0, 1, "prefix"},
    {NULL, "\xf4\x90\x80\x80", 1, 1000, 0, 1, "prefix"},
    {NULL, "\xe0\x80\xaf", 1, 1000, 0, 1, "prefix"},
    /* root */
    {"", "p", 1, 1000, 0, 1, "root"},
    {long_name, "p", 1, 1000, 0, 1, "root"},
    {"\x80", "p", 1, 1000, 0, 1, "root"},
    {"\xf8\x88\x80\x80\x80", "p", 1, 1000, 0, 1, "root"},
    /* arity */
    {NULL, "p", -1, 1000, 0, 1, "arity"},
    {NULL, "p", 17, 1000, 0, 1, "arity"},
    {NULL, "p", INT_MIN, 1000, 0, 1, "arity"},
    /* ttl */
    {NULL, "p", 1, 0, 0, 1, "ttl"},
    {NULL, "p", 1, -1, 0, 1, "ttl"},
    {NULL, "p", 1, LH_MAX_TTL_MS + 1, 0, 1, "ttl"},
    {NULL, "p", 1, INT64_MIN, 0, 1, "ttl"},
    /* options */
    {NULL, "p", 1, 1000, -1, 1, "retention"},
    {NULL, "p", 1, 1000, 30 * DAY + 1, 1, "retention"},
    {NULL, "p", 1, 1000, 0, 0, "version"},
};

START_TEST(factory_new)
{
    const factory_row *r = &factories[_i];
    lh_factory_options o = LH_FACTORY_OPTIONS_INIT;
    lh_factory *f = POISON;
    lh_error err;
    lh_status st;

    fill_names();
    o.root = r->root;
    o.retention_ms = r->retention_ms;
    o.version = r->version;
    memset(&err, 0, sizeof(err));
    st = lh_factory_new(&f, r->prefix, r->arity, r->ttl_ms, &o, &err);
    if (r->needle == NULL) {
        ck_assert_msg(st == LH_OK, "row %d: %s", _i, err.message);
        ck_assert_str_eq(lh_factory_root(f), r->root ? r->root : "lh");
        ck_assert_str_eq(lh_factory_prefix(f), r->prefix);
        ck_assert_int_eq(lh_factory_arity(f), r->arity);
        ck_assert_int_eq(lh_factory_ttl_ms(f), r->ttl_ms);
        ck_assert_int_eq(f->retention_ms, r->retention_ms
                                              ? r->retention_ms
                                              : LH__DEFAULT_RETENTION_MS);
        lh_factory_free(f);
        return;
    }
    ck_assert_int_eq(st, LH_ERR_INVALID);
    ck_assert_int_eq(err.code, LH_ERR_INVALID);
    ck_assert_ptr_null(f);
    ck_assert_msg(strstr(err.message, r->needle) != NULL,
                  "row %d: message \"%s\" does not name %s", _i, err.message,
                  r->needle);
    f = POISON;
    ck_assert_int_eq(
        lh_factory_new(&f, r->prefix, r->arity, r->ttl_ms, &o, NULL),
        LH_ERR_INVALID);
    ck_assert_ptr_null(f);
}
END_TEST

START_TEST(factory_defaults)
{
    lh_factory *f = NULL;
    lh_error err;

    ck_assert_int_eq(lh_factory_new(&f, "p", 1, 1000, NULL, &err), LH_OK);
    ck_assert_str_eq(lh_factory_root(f), "lh");
    ck_assert_int_eq(f->retention_ms, LH__DEFAULT_RETENTION_MS);
    lh_factory_free(f);
    ck_assert_int_eq(lh_factory_new(NULL, "p", 1, 1000, NULL, &err),
                     LH_ERR_INVALID);
}
END_TEST

START_TEST(free_null)
{
    lh_factory_free(NULL);
    lh_lease_free(NULL);
    lh_client_free(NULL);
    lh_reply_free(NULL);
    lh_free(NULL);
    ck_assert_ptr_nonnull(lh_errmsg(NULL));
    ck_assert_int_eq(lh_lease_key(NULL, NULL), LH_ERR_INVALID);
}
END_TEST

/* ---- the allocation hook itself ----------------------------------------- */

START_TEST(alloc_hook)
{
    void *p;

    lh__alloc_fail_after(2);
    p = lh__malloc(8);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_null(lh__malloc(8));
    ck_assert_ptr_null(lh__calloc(1, 8));
    ck_assert_ptr_null(lh__strdup("x"));
    ck_assert_int_eq(lh__alloc_fail_after(0), 4);
    lh__free(p);
    p = lh__calloc(2, 8);
    ck_assert_ptr_nonnull(p);
    lh__free(p);
    ck_assert_ptr_null(lh__calloc(SIZE_MAX / 2, 4));
    ck_assert_ptr_null(lh__memdup("x", SIZE_MAX));
    ck_assert_int_eq(lh__alloc_fail_after(0), 1);
}
END_TEST

/* ---- allocation-failure loops ------------------------------------------- */

#define CHAOS_MAX 10000

/* Make the n-th lh__ allocation from now on fail, and every later one. */
static void arm(long n)
{
    lh__alloc_fail_after(n);
}

/* Turn failures off after a call made with allocation 'n' failing.
 * Returns 1 when the call succeeded (the loop is done), 0 after checking
 * that it failed with LH_ERR_NOMEM because allocation 'n' failed. */
static int disarm(lh_status st, long n, const char *what)
{
    long seen = lh__alloc_fail_after(0);

    if (st == LH_OK) {
        ck_assert_int_eq(seen, n - 1);
        return 1;
    }
    ck_assert_msg(st == LH_ERR_NOMEM, "%s: allocation %ld failing gave %s",
                  what, n, lh_status_name(st));
    ck_assert_msg(seen >= n, "%s: NOMEM with %ld allocations", what, seen);
    ck_assert_int_lt(n, CHAOS_MAX);
    return 0;
}

static void assert_nomem_err(const lh_error *err)
{
    ck_assert_int_eq(err->code, LH_ERR_NOMEM);
    ck_assert_ptr_nonnull(strstr(err->message, "out of memory"));
}

START_TEST(chaos_factory_new)
{
    lh_factory_options o = LH_FACTORY_OPTIONS_INIT;
    lh_factory *f = NULL;
    lh_error err;
    lh_status st;
    long n;

    o.root = "chaos";
    for (n = 1;; n++) {
        f = POISON;
        arm(n);
        st = lh_factory_new(&f, "person", 2, 1000, &o, &err);
        if (disarm(st, n, "lh_factory_new"))
            break;
        ck_assert_ptr_null(f);
        assert_nomem_err(&err);
    }
    ck_assert_int_ge(n, 4); /* the factory, its root and its prefix */
    lh_factory_free(f);
}
END_TEST

static const char *const sixteen[] = {"0", "1:", "{2}", "%3", "4", "5",
                                      "6", "7",  "8",   "9",  "a", "b",
                                      "c", "d",  "e",   ""};

static lh_lease *sample_lease(void)
{
    lh_lease *l = NULL;

    ck_assert_int_eq(lh__lease_new(&l, "chaos", "person", sixteen, 16, ID, 7,
                                   1000, LH__DEFAULT_RETENTION_MS),
                     LH_OK);
    return l;
}

static lh_factory *sample_factory(void)
{
    lh_factory_options o = LH_FACTORY_OPTIONS_INIT;
    lh_factory *f = NULL;

    o.root = "chaos";
    ck_assert_int_eq(lh_factory_new(&f, "person", 16, 1000, &o, NULL), LH_OK);
    return f;
}

START_TEST(chaos_lease_json)
{
    lh_lease *l = sample_lease(), *back = NULL;
    lh_factory *f = sample_factory();
    char *text = NULL;
    lh_error err;
    lh_status st;
    long n;

    for (n = 1;; n++) {
        text = POISON;
        arm(n);
        st = lh_lease_to_json(&text, l);
        if (disarm(st, n, "lh_lease_to_json"))
            break;
        ck_assert_ptr_null(text);
    }
    for (n = 1;; n++) {
        back = POISON;
        arm(n);
        st = lh_lease_from_json(&back, text, strlen(text), f, &err);
        if (disarm(st, n, "lh_lease_from_json"))
            break;
        ck_assert_ptr_null(back);
        assert_nomem_err(&err);
    }
    ck_assert_int_ge(n, 20); /* args, lease, strings, keys */
    ck_assert_str_eq(back->key, l->key);
    lh_lease_free(back);
    lh_free(text);
    lh_factory_free(f);
    lh_lease_free(l);
}
END_TEST

START_TEST(chaos_payload)
{
    lh_lease *l = sample_lease(), *back = NULL;
    lh_factory *f = sample_factory();
    json_t *payload = json_object();
    lh_error err;
    lh_status st;
    long n;

    for (n = 1;; n++) {
        arm(n);
        st = lh_payload_set_lease(payload, "job", l, &err);
        if (disarm(st, n, "lh_payload_set_lease"))
            break;
    }
    for (n = 1;; n++) {
        back = POISON;
        arm(n);
        st = lh_payload_get_lease(&back, payload, "job", f, &err);
        if (disarm(st, n, "lh_payload_get_lease"))
            break;
        ck_assert_ptr_null(back);
        assert_nomem_err(&err);
    }
    ck_assert_int_ge(n, 20);
    ck_assert_int_eq(lh_lease_fence(back), 7);
    lh_lease_free(back);
    json_decref(payload);
    lh_factory_free(f);
    lh_lease_free(l);
}
END_TEST

START_TEST(chaos_keys)
{
    lh_lease *l = sample_lease();
    lh_factory *f = sample_factory();
    char *fk = NULL, *lk = NULL, *k = NULL;
    lh_error err;
    lh_status st;
    long n;

    for (n = 1;; n++) {
        fk = POISON;
        arm(n);
        st = lh_factory_data_key(&fk, f, sixteen, 16, "count", &err);
        if (disarm(st, n, "lh_factory_data_key"))
            break;
        ck_assert_ptr_null(fk);
        assert_nomem_err(&err);
    }
    ck_assert_int_ge(n, 2);
    for (n = 1;; n++) {
        lk = POISON;
        arm(n);
        st = lh_lease_data_key(&lk, l, "count");
        if (disarm(st, n, "lh_lease_data_key"))
            break;
        ck_assert_ptr_null(lk);
    }
    ck_assert_str_eq(fk, lk);
    for (n = 1;; n++) {
        k = POISON;
        arm(n);
        st = lh_lease_key(&k, l);
        if (disarm(st, n, "lh_lease_key"))
            break;
        ck_assert_ptr_null(k);
    }
    ck_assert_str_eq(k, l->key);
    lh_free(k);
    lh_free(fk);
    lh_free(lk);
    lh_factory_free(f);
    lh_lease_free(l);
}
END_TEST

/* lh__key_parse has no status: it must simply not leak when it fails. */
START_TEST(chaos_key_parse)
{
    lh_lease *l = sample_lease();
    char *root = NULL, *prefix = NULL, **args = NULL;
    size_t nargs = 0, i;
    long n;
    int ok;

    for (n = 1;; n++) {
        arm(n);
        ok = lh__key_parse(l->key, l->keylen, &root, &prefix, &args, &nargs);
        lh__alloc_fail_after(0);
        if (ok)
            break;
        ck_assert_int_lt(n, CHAOS_MAX);
    }
    ck_assert_uint_eq(nargs, 16);
    for (i = 0; i < nargs; i++) {
        ck_assert_str_eq(args[i], sixteen[i]);
        lh__free(args[i]);
    }
    lh__free(args);
    lh__free(root);
    lh__free(prefix);
    lh_lease_free(l);
}
END_TEST

static const char *const chaos_urls[] = {
    "redis://us%40er:p%3Aw@[::1]:6380/2?connect_timeout=1s&timeout=2s",
    "unix://u:pw@/tmp/r%20.sock?db=3&timeout=5s",
    NULL,
};

START_TEST(chaos_url)
{
    lh__url u;
    lh_error err;
    lh_status st;
    long n;

    for (n = 1;; n++) {
        arm(n);
        st = lh__url_parse(&u, chaos_urls[_i], &err);
        if (disarm(st, n, "lh__url_parse"))
            break;
        assert_nomem_err(&err);
        ck_assert_ptr_null(u.hosts);
        ck_assert_ptr_null(u.path);
        ck_assert_ptr_null(u.user);
        ck_assert_ptr_null(u.password);
    }
    ck_assert_int_ge(n, 2);
    lh__url_clear(&u);
}
END_TEST

/* ---- allocation failures around Redis calls ----------------------------- */

START_TEST(chaos_client_open)
{
    lh_client *c = NULL;
    lh_error err;
    lh_status st;
    long n;

    for (n = 1;; n++) {
        c = POISON;
        arm(n);
        st = lh_client_open(&c, th_url(), NULL, &err);
        if (disarm(st, n, "lh_client_open"))
            break;
        ck_assert_ptr_null(c);
        assert_nomem_err(&err);
    }
    ck_assert_int_ge(n, 3); /* the client, its host list and host name */
    lh_client_free(c);
}
END_TEST

/* Acquire with allocations failing: each failure leaves Redis untouched. */
static lh_lease *chaos_acquire(lh_client *c, redisContext *rc,
                               const lh_factory *f, const char *const *args,
                               size_t nargs)
{
    char *key = lh__key_base(f->root, f->prefix, args, nargs, NULL);
    lh_lease *l = NULL;
    lh_status st;
    long n;

    for (n = 1;; n++) {
        l = POISON;
        arm(n);
        st = lh_lease_acquire(&l, c, f, args, nargs, NULL);
        if (disarm(st, n, "lh_lease_acquire"))
            break;
        ck_assert_ptr_null(l);
        ck_assert_ptr_nonnull(strstr(lh_errmsg(c), "out of memory"));
        ck_assert_int_eq(th_cmd_int(rc, "EXISTS", key, NULL), 0);
    }
    ck_assert_int_ge(n, 4);
    ck_assert_int_eq(th_cmd_int(rc, "EXISTS", key, NULL), 1);
    lh__free(key);
    return l;
}

/* Guard 'argv' (argv[1] a key) with allocations failing; returns the reply
 * of the run that succeeded. */
static lh_reply *chaos_guard(lh_client *c, const lh_lease *l, int argc,
                             const char *const *argv)
{
    lh_reply *reply = NULL;
    lh_status st;
    long n;

    for (n = 1;; n++) {
        reply = POISON;
        arm(n);
        st = lh_lease_guard(&reply, c, l, argc, argv, NULL, LH_KEY(1));
        if (disarm(st, n, "lh_lease_guard"))
            break;
        ck_assert_ptr_null(reply);
        ck_assert_ptr_nonnull(strstr(lh_errmsg(c), "out of memory"));
    }
    ck_assert_int_ge(n, 6);
    return reply;
}

static void chaos_state_calls(lh_client *c, const lh_lease *l)
{
    lh_lease_state state;
    lh_status st;
    long n;

    for (n = 1;; n++) {
        arm(n);
        st = lh_lease_confirm(&state, c, l);
        if (disarm(st, n, "lh_lease_confirm"))
            break;
    }
    ck_assert_int_eq(state.fence, lh_lease_fence(l));
    for (n = 1;; n++) {
        arm(n);
        st = lh_lease_extend(&state, c, l, 0);
        if (disarm(st, n, "lh_lease_extend"))
            break;
    }
    ck_assert_int_eq(state.fence, lh_lease_fence(l));
}

static void chaos_inspect(lh_client *c, const lh_factory *f,
                          const char *const *args, size_t nargs, int held)
{
    lh_resource_info info;
    lh_status st;
    long n;

    for (n = 1;; n++) {
        arm(n);
        st = lh_resource_inspect(&info, c, f, args, nargs);
        if (disarm(st, n, "lh_resource_inspect"))
            break;
        ck_assert_ptr_nonnull(strstr(lh_errmsg(c), "out of memory"));
    }
    ck_assert_int_ge(n, 2);
    ck_assert_int_eq(info.held, held);
}

START_TEST(chaos_redis)
{
    static const char *const args[] = {"a:b", "{c}"};
    const char *push[32], *range[4] = {"LRANGE", NULL, "0", "-1"};
    lh_factory *f = th_factory("chaos_redis", "job", 2, 10000);
    lh_client *c = th_client();
    redisContext *rc = th_raw();
    lh_lease *l = chaos_acquire(c, rc, f, args, 2);
    char *list = NULL, vals[30][12];
    lh_reply *reply;
    long n;
    int i;

    chaos_state_calls(c, l);
    chaos_inspect(c, f, args, 2, 1);
    ck_assert_int_eq(lh_lease_data_key(&list, l, "list"), LH_OK);
    /* 32 arguments: more than lh__script_call keeps on the stack */
    push[0] = "RPUSH";
    push[1] = list;
    for (i = 0; i < 30; i++) {
        snprintf(vals[i], sizeof(vals[i]), "%d", i);
        push[2 + i] = vals[i];
    }
    reply = chaos_guard(c, l, 32, push);
    ck_assert_int_eq(reply->type, LH_REPLY_INTEGER);
    lh_reply_free(reply);
    freeReplyObject(th_cmd(rc, "LTRIM", list, "0", "29", NULL));
    range[1] = list;
    reply = chaos_guard(c, l, 4, range);
    ck_assert_int_eq(reply->type, LH_REPLY_ARRAY);
    ck_assert_uint_eq(reply->elements, 30);
    ck_assert_str_eq(reply->element[29]->str, "29");
    lh_reply_free(reply);
    for (n = 1;; n++) {
        arm(n);
        if (disarm(lh_lease_release(c, l, LH_OUTCOME_SUCCESS), n,
                   "lh_lease_release"))
            break;
    }
    chaos_inspect(c, f, args, 2, 0);
    lh__free(list);
    lh_lease_free(l);
    redisFree(rc);
    lh_client_free(c);
    lh_factory_free(f);
}
END_TEST

static Suite *api_suite(void)
{
    Suite *s = suite_create("api");
    TCase *tc;

    tc = tcase_create("basics");
    tcase_add_loop_test(tc, status_names, 0, NSTATUSES);
    tcase_add_test(tc, status_values_fixed);
    tcase_add_loop_test(
        tc, status_unknown, 0,
        (int)(sizeof(unknown_statuses) / sizeof(unknown_statuses[0])));
    tcase_add_test(tc, version);
    tcase_add_test(tc, outcome_names);
    tcase_add_test(tc, id_generate);
    tcase_add_test(tc, id_valid);
    tcase_add_loop_test(tc, factory_new, 0,
                        (int)(sizeof(factories) / sizeof(factories[0])));
    tcase_add_test(tc, factory_defaults);
    tcase_add_test(tc, free_null);
    suite_add_tcase(s, tc);

    tc = tcase_create("chaos");
    tcase_add_test(tc, alloc_hook);
    tcase_add_test(tc, chaos_factory_new);
    tcase_add_test(tc, chaos_lease_json);
    tcase_add_test(tc, chaos_payload);
    tcase_add_test(tc, chaos_keys);
    tcase_add_test(tc, chaos_key_parse);
    tcase_add_loop_test(tc, chaos_url, 0,
                        (int)(sizeof(chaos_urls) / sizeof(chaos_urls[0])));
    tcase_set_timeout(tc, 10);
    suite_add_tcase(s, tc);

    tc = tcase_create("chaos-redis");
    tcase_add_test(tc, chaos_client_open);
    tcase_add_test(tc, chaos_redis);
    tcase_set_timeout(tc, 10);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(api_suite());
}
