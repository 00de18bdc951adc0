/*
 * check_list.c - lh_resource_list() against the suite's own redis-server
 * (tests/with-redis.sh).
 *
 * Covered: 3000 leases listed exactly once each, with their id, fence,
 * args and a TTL left; released and expired ones (also an expired lease
 * whose key lives on with its release record) not listed; leases of other
 * prefixes, roots and arities, data keys and keys of another type that
 * match the SCAN pattern skipped; arguments with bytes that keys escape;
 * arity 0; stopping early; the SCAN cursor really used (COUNT 1000, so
 * 3000 keys need several calls); invalid arguments.
 */
#include "helpers.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TTL 60000
#define MANY 3000

/* What a listing saw. */
typedef struct seen {
    int count;
    int stop_after; /* > 0: stop after this many */
    int *hits;      /* per index, for args "i<index>" */
    int nhits;
    int strays;       /* leases that were not expected */
    int bad_ttl;      /* TTL left outside (0, TTL] */
    char last[2][64]; /* the args of the last lease seen (up to 2) */
    size_t last_nargs;
    char last_id[LH_ID_HEX_LEN + 1];
    int64_t last_fence;
} seen;

static int on_lease(const lh_lease *l, void *payload)
{
    seen *s = payload;
    const char *a = lh_lease_arg(l, 0);
    long k = a && a[0] == 'i' ? strtol(a + 1, NULL, 10) : -1;
    size_t i;

    s->count++;
    if (lh_lease_ttl_ms(l) <= 0 || lh_lease_ttl_ms(l) > TTL)
        s->bad_ttl++;
    if (s->hits && k >= 0 && k < s->nhits)
        s->hits[k]++;
    else if (s->hits)
        s->strays++;
    s->last_nargs = lh_lease_nargs(l);
    for (i = 0; i < 2 && i < s->last_nargs; i++)
        snprintf(s->last[i], sizeof(s->last[i]), "%s", lh_lease_arg(l, i));
    snprintf(s->last_id, sizeof(s->last_id), "%s", lh_lease_id(l));
    s->last_fence = lh_lease_fence(l);
    return s->stop_after > 0 && s->count >= s->stop_after;
}

static lh_lease *take(lh_client *c, const lh_factory *f,
                      const char *const *args, size_t nargs, int64_t ttl)
{
    lh_acquire_options o = LH_ACQUIRE_OPTIONS_INIT;
    lh_lease *l = NULL;

    o.ttl_ms = ttl;
    ck_assert_msg(lh_lease_acquire(&l, c, f, args, nargs, &o) == LH_OK,
                  "acquire: %s", lh_errmsg(c));
    return l;
}

static lh_lease *take1(lh_client *c, const lh_factory *f, int i, int64_t ttl)
{
    char arg[32];
    const char *args[1];

    snprintf(arg, sizeof(arg), "i%d", i);
    args[0] = arg;
    return take(c, f, args, 1, ttl);
}

static void expire_lease(redisContext *rc, const lh_lease *l)
{
    char *key = NULL;

    ck_assert_int_eq(lh_lease_key(&key, l), LH_OK);
    th_expire_now(rc, key);
    lh_free(key);
}

static long long scan_calls(redisContext *rc)
{
    redisReply *r = th_cmd(rc, "INFO", "commandstats", NULL);
    const char *p = strstr(r->str, "cmdstat_scan:calls=");
    long long n = p ? strtoll(p + 19, NULL, 10) : 0;

    freeReplyObject(r);
    return n;
}

START_TEST(thousands_listed_once)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("many", "job", 1, TTL);
    lh_factory *other = th_factory("many", "other", 1, TTL);
    lh_factory *two = th_factory("many", "job", 2, TTL);
    lh_factory *none = th_factory("many", "job", 0, TTL);
    const char *pair[2] = {"i1", "x"};
    seen s;
    long long calls;
    int i;

    memset(&s, 0, sizeof(s));
    s.nhits = MANY;
    s.hits = calloc(MANY, sizeof(int));
    ck_assert_ptr_nonnull(s.hits);
    for (i = 0; i < MANY; i++) {
        lh_lease *l = take1(c, f, i, TTL);

        if (i % 10 == 3)
            ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_SUCCESS), LH_OK);
        else if (i % 10 == 7)
            expire_lease(rc, l);
        lh_lease_free(l);
    }
    lh_lease_free(take1(c, other, 1, TTL));
    lh_lease_free(take(c, two, pair, 2, TTL));
    lh_lease_free(take(c, none, NULL, 0, TTL));
    calls = scan_calls(rc);
    ck_assert_int_eq(lh_resource_list(c, f, on_lease, &s), LH_OK);
    ck_assert_int_gt(scan_calls(rc) - calls, 1);
    ck_assert_int_eq(s.count, MANY - 2 * (MANY / 10));
    ck_assert_int_eq(s.strays, 0);
    ck_assert_int_eq(s.bad_ttl, 0);
    for (i = 0; i < MANY; i++)
        ck_assert_int_eq(s.hits[i], i % 10 == 3 || i % 10 == 7 ? 0 : 1);
    free(s.hits);
    lh_factory_free(f);
    lh_factory_free(other);
    lh_factory_free(two);
    lh_factory_free(none);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

/* A lease taken after a release carries the release record and its own
 * deadline in the value: listed with its fence while held, and not once
 * that deadline passed, though its key lives on. */
START_TEST(history_values)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("hist", "job", 1, TTL);
    lh_lease *l = take1(c, f, 5, TTL);
    lh_resource_info info;
    const char *args[1] = {"i5"};
    char *key = NULL;
    int64_t deadline;
    seen s;

    ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_FAILURE), LH_OK);
    lh_lease_free(l);
    l = take1(c, f, 5, 300);
    memset(&s, 0, sizeof(s));
    ck_assert_int_eq(lh_resource_list(c, f, on_lease, &s), LH_OK);
    ck_assert_int_eq(s.count, 1);
    ck_assert_str_eq(s.last_id, lh_lease_id(l));
    ck_assert_int_eq(s.last_fence, lh_lease_fence(l));
    ck_assert_str_eq(s.last[0], "i5");
    deadline = th_now_ms() + 2000 * th_timeout_multiplier();
    do {
        poll(NULL, 0, 20);
        ck_assert_int_eq(lh_resource_inspect(&info, c, f, args, 1), LH_OK);
    } while (info.held && th_now_ms() < deadline);
    ck_assert_int_eq(info.held, 0);
    ck_assert_int_eq(lh_lease_key(&key, l), LH_OK);
    ck_assert_int_eq(th_cmd_int(rc, "EXISTS", key, NULL), 1);
    memset(&s, 0, sizeof(s));
    ck_assert_int_eq(lh_resource_list(c, f, on_lease, &s), LH_OK);
    ck_assert_int_eq(s.count, 0);
    lh_free(key);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

/* Arguments with the bytes keys escape come back as they were; data keys
 * and keys of another type that match the pattern are skipped. */
START_TEST(escaped_args_and_strays)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("esc", "j:b", 2, TTL);
    const char *args[2] = {"a:b{c}*?[x]%\\", ""};
    const char *other[2] = {"q", "r"};
    lh_lease *l = take(c, f, args, 2, TTL);
    char *data = NULL, *stray;
    seen s;

    ck_assert_int_eq(lh_lease_data_key(&data, l, "n}"), LH_OK);
    th_cmd_int(rc, "HSET", data, "f", "v", NULL);
    stray = lh__key_base(lh_factory_root(f), "j:b", other, 2, NULL);
    ck_assert_ptr_nonnull(stray);
    freeReplyObject(th_cmd(rc, "RPUSH", stray, "x", NULL));
    memset(&s, 0, sizeof(s));
    ck_assert_int_eq(lh_resource_list(c, f, on_lease, &s), LH_OK);
    ck_assert_int_eq(s.count, 1);
    ck_assert_int_eq(s.last_nargs, 2);
    ck_assert_str_eq(s.last[0], args[0]);
    ck_assert_str_eq(s.last[1], "");
    lh__free(stray);
    lh_free(data);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

START_TEST(arity_zero)
{
    lh_client *c = th_client();
    lh_factory *f = th_factory("zero", "only", 0, TTL);
    lh_factory *one = th_factory("zero", "only", 1, TTL);
    lh_lease *l;
    seen s;

    memset(&s, 0, sizeof(s));
    ck_assert_int_eq(lh_resource_list(c, f, on_lease, &s), LH_OK);
    ck_assert_int_eq(s.count, 0);
    lh_lease_free(take1(c, one, 1, TTL));
    l = take(c, f, NULL, 0, TTL);
    ck_assert_int_eq(lh_resource_list(c, f, on_lease, &s), LH_OK);
    ck_assert_int_eq(s.count, 1);
    ck_assert_int_eq(s.last_nargs, 0);
    ck_assert_str_eq(s.last_id, lh_lease_id(l));
    ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_NONE), LH_OK);
    memset(&s, 0, sizeof(s));
    ck_assert_int_eq(lh_resource_list(c, f, on_lease, &s), LH_OK);
    ck_assert_int_eq(s.count, 0);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_factory_free(one);
    lh_client_free(c);
}
END_TEST

START_TEST(stops_early)
{
    lh_client *c = th_client();
    lh_factory *f = th_factory("stop", "job", 1, TTL);
    seen s;
    int i;

    for (i = 0; i < 20; i++)
        lh_lease_free(take1(c, f, i, TTL));
    memset(&s, 0, sizeof(s));
    s.stop_after = 5;
    ck_assert_int_eq(lh_resource_list(c, f, on_lease, &s), LH_OK);
    ck_assert_int_eq(s.count, 5);
    lh_factory_free(f);
    lh_client_free(c);
}
END_TEST

START_TEST(invalid_arguments)
{
    lh_client *c = th_client();
    lh_factory *f = th_factory("inv", "job", 1, TTL);
    seen s;

    memset(&s, 0, sizeof(s));
    ck_assert_int_eq(lh_resource_list(NULL, f, on_lease, &s), LH_ERR_INVALID);
    ck_assert_int_eq(lh_resource_list(c, NULL, on_lease, &s), LH_ERR_INVALID);
    ck_assert_str_ne(lh_errmsg(c), "");
    ck_assert_int_eq(lh_resource_list(c, f, NULL, &s), LH_ERR_INVALID);
    ck_assert_int_eq(lh_resource_list(c, f, on_lease, &s), LH_OK);
    ck_assert_str_eq(lh_errmsg(c), "");
    ck_assert_int_eq(s.count, 0);
    lh_factory_free(f);
    lh_client_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("list");
    TCase *tc = tcase_create("list");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, thousands_listed_once);
    tcase_add_test(tc, history_values);
    tcase_add_test(tc, escaped_args_and_strays);
    tcase_add_test(tc, arity_zero);
    tcase_add_test(tc, stops_early);
    tcase_add_test(tc, invalid_arguments);
    suite_add_tcase(s, tc);
    return th_run(s);
}
