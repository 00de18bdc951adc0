/*
 * check_conditions.c - conditional acquires against a real redis-server:
 * cooldown (since any release, or since the last success), a success
 * required within a window, at most N acquires per sliding window, their
 * composition, the result they report (which condition, when it would
 * pass), their boundaries, and invalid conditions changing nothing.
 *
 * Windows are 300 ms or more; the tests assert order and status (the
 * acquire fails before the window has passed by server time and succeeds
 * after it), never how fast anything ran.
 */
#include "helpers.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TTL 60000
#define WINDOW 300

static lh_lease *take(lh_client *c, const lh_factory *f,
                      const lh_acquire_options *o)
{
    const char *args[] = {"x"};
    lh_lease *l = NULL;
    lh_status st = lh_lease_acquire(&l, c, f, args, 1, o);

    ck_assert_msg(st == LH_OK, "acquire: %s (%s)", lh_status_name(st),
                  lh_errmsg(c));
    return l;
}

static void take_and_release(lh_client *c, const lh_factory *f,
                             const lh_acquire_options *o, lh_outcome out)
{
    lh_lease *l = take(c, f, o);

    ck_assert_int_eq(lh_lease_release(c, l, out), LH_OK);
    lh_lease_free(l);
}

static lh_status try_take(lh_client *c, const lh_factory *f,
                          const lh_acquire_options *o)
{
    const char *args[] = {"x"};
    lh_lease *l = NULL;
    lh_status st = lh_lease_acquire(&l, c, f, args, 1, o);

    if (st == LH_OK) {
        ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_SUCCESS), LH_OK);
        lh_lease_free(l);
    } else {
        ck_assert_ptr_null(l);
    }
    return st;
}

static int64_t last_release(lh_client *c, const lh_factory *f)
{
    const char *args[] = {"x"};
    lh_resource_info info;

    ck_assert_int_eq(lh_resource_inspect(&info, c, f, args, 1), LH_OK);
    return info.last_release_ms;
}

/* Retry until the acquire passes its conditions; return the server time
 * of the success. Every failure must be the expected condition. */
static int64_t poll_until_taken(lh_client *c, const lh_factory *f,
                                const lh_acquire_options *o, unsigned expect,
                                redisContext *rc)
{
    int64_t deadline = th_now_ms() + 5000 * th_timeout_multiplier();
    lh_status st;

    while ((st = try_take(c, f, o)) == LH_ERR_CONDITION) {
        ck_assert_uint_eq(o->result->failed, expect);
        ck_assert_msg(th_now_ms() < deadline, "condition never passed");
    }
    ck_assert_msg(st == LH_OK, "%s", lh_errmsg(c));
    return th_server_ms(rc);
}

START_TEST(cooldown_since_any_release)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("cool", "job", 1, TTL);
    lh_acquire_options o = LH_ACQUIRE_OPTIONS_INIT;
    lh_acquire_result res;
    int64_t rel, at;

    o.cooldown_ms = WINDOW;
    o.result = &res;
    /* never released: nothing to cool down from */
    take_and_release(c, f, &o, LH_OUTCOME_FAILURE);
    rel = last_release(c, f);
    ck_assert_int_eq(try_take(c, f, &o), LH_ERR_CONDITION);
    ck_assert_uint_eq(res.failed, LH_COND_COOLDOWN);
    ck_assert(res.retry_after_ms > 0 && res.retry_after_ms <= WINDOW);
    ck_assert_ptr_nonnull(strstr(lh_errmsg(c), "cooldown"));
    at = poll_until_taken(c, f, &o, LH_COND_COOLDOWN, rc);
    ck_assert_msg(at - rel >= WINDOW, "taken %lld ms after the release",
                  (long long)(at - rel));
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

START_TEST(cooldown_since_success)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("cools", "job", 1, TTL);
    lh_acquire_options o = LH_ACQUIRE_OPTIONS_INIT;
    lh_acquire_result res;
    int64_t ok, failed;

    o.result = &res;
    take_and_release(c, f, NULL, LH_OUTCOME_SUCCESS);
    ok = last_release(c, f);
    o.cooldown_ms = 10 * WINDOW;
    o.cooldown_success_only = 1;
    ck_assert_int_eq(try_take(c, f, &o), LH_ERR_CONDITION);
    /* a failure since does not restart a success-only cooldown: it still
     * passes when counted from the success, at least WINDOW earlier */
    do {
        usleep(20 * 1000);
        take_and_release(c, f, NULL, LH_OUTCOME_FAILURE);
    } while ((failed = last_release(c, f)) - ok < WINDOW);
    ck_assert_int_eq(try_take(c, f, &o), LH_ERR_CONDITION);
    ck_assert_uint_eq(res.failed, LH_COND_COOLDOWN);
    ck_assert_msg(res.retry_after_ms <= ok + 10 * WINDOW - failed,
                  "retry after %lld ms: counted from the failure",
                  (long long)res.retry_after_ms);
    /* ... and a success-only cooldown with no success on record passes */
    lh_factory_free(f);
    f = th_factory("cools2", "job", 1, TTL);
    take_and_release(c, f, NULL, LH_OUTCOME_FAILURE);
    ck_assert_int_eq(try_take(c, f, &o), LH_OK);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

START_TEST(require_success_within)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("req", "job", 1, TTL);
    lh_acquire_options o = LH_ACQUIRE_OPTIONS_INIT;
    lh_acquire_result res;
    int64_t deadline = th_now_ms() + 5000 * th_timeout_multiplier(), ok, at;

    o.require_success_within_ms = WINDOW;
    o.result = &res;
    ck_assert_int_eq(try_take(c, f, &o), LH_ERR_CONDITION);
    ck_assert_uint_eq(res.failed, LH_COND_REQUIRE_SUCCESS);
    ck_assert_int_eq(res.retry_after_ms, -1);
    take_and_release(c, f, NULL, LH_OUTCOME_FAILURE);
    ck_assert_int_eq(try_take(c, f, &o), LH_ERR_CONDITION);
    take_and_release(c, f, NULL, LH_OUTCOME_SUCCESS);
    ok = last_release(c, f);
    /* Passes while the success is recent; failures since keep its time.
     * Once the window has passed by server time, it fails again. */
    for (;;) {
        const char *args[] = {"x"};
        lh_lease *l = NULL;
        lh_status st = lh_lease_acquire(&l, c, f, args, 1, &o);

        at = th_server_ms(rc);
        if (st == LH_ERR_CONDITION)
            break;
        ck_assert_msg(st == LH_OK, "%s", lh_errmsg(c));
        ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_FAILURE), LH_OK);
        lh_lease_free(l);
        ck_assert_msg(th_now_ms() < deadline, "the window never closed");
    }
    ck_assert_uint_eq(res.failed, LH_COND_REQUIRE_SUCCESS);
    ck_assert_msg(at - ok > WINDOW, "refused %lld ms after the success",
                  (long long)(at - ok));
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

START_TEST(max_acquires_per_window)
{
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("win", "job", 1, TTL);
    lh_acquire_options o = LH_ACQUIRE_OPTIONS_INIT;
    lh_acquire_result res;
    int64_t first, at;

    o.max_acquires = 2;
    o.window_ms = WINDOW;
    o.result = &res;
    first = th_server_ms(rc);
    ck_assert_int_eq(try_take(c, f, &o), LH_OK);
    ck_assert_int_eq(try_take(c, f, &o), LH_OK);
    /* acquires without the condition are not counted */
    take_and_release(c, f, NULL, LH_OUTCOME_NONE);
    ck_assert_int_eq(try_take(c, f, &o), LH_ERR_CONDITION);
    ck_assert_uint_eq(res.failed, LH_COND_MAX_PER_WINDOW);
    ck_assert(res.retry_after_ms > 0 && res.retry_after_ms <= WINDOW);
    at = poll_until_taken(c, f, &o, LH_COND_MAX_PER_WINDOW, rc);
    ck_assert_msg(at - first >= WINDOW, "third acquire %lld ms after first",
                  (long long)(at - first));
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

START_TEST(conditions_compose)
{
    lh_client *c = th_client();
    lh_factory *f = th_factory("both", "job", 1, TTL);
    lh_acquire_options o = LH_ACQUIRE_OPTIONS_INIT;
    lh_acquire_result res;

    take_and_release(c, f, NULL, LH_OUTCOME_FAILURE);
    o.cooldown_ms = 10 * WINDOW;
    o.require_success_within_ms = 10 * WINDOW;
    o.result = &res;
    ck_assert_int_eq(try_take(c, f, &o), LH_ERR_CONDITION);
    ck_assert_uint_eq(res.failed, LH_COND_COOLDOWN | LH_COND_REQUIRE_SUCCESS);
    ck_assert_int_eq(res.retry_after_ms, -1);
    lh_factory_free(f);
    lh_client_free(c);
}
END_TEST

START_TEST(held_before_conditions)
{
    lh_client *c = th_client();
    lh_factory *f = th_factory("heldc", "job", 1, TTL);
    lh_acquire_options o = LH_ACQUIRE_OPTIONS_INIT;
    lh_acquire_result res;
    lh_lease *l = take(c, f, NULL), *again = NULL;
    const char *args[] = {"x"};

    o.require_success_within_ms = WINDOW;
    o.result = &res;
    ck_assert_int_eq(try_take(c, f, &o), LH_ERR_HELD);
    ck_assert(res.retry_after_ms > 0 && res.retry_after_ms <= TTL);
    /* a retry by the holder passes whatever the conditions say */
    o.id = lh_lease_id(l);
    ck_assert_int_eq(lh_lease_acquire(&again, c, f, args, 1, &o), LH_OK);
    ck_assert_int_eq(lh_lease_fence(again), lh_lease_fence(l));
    lh_lease_free(again);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
}
END_TEST

START_TEST(version1_options_ignore_conditions)
{
    lh_client *c = th_client();
    lh_factory *f = th_factory("v1", "job", 1, TTL);
    lh_acquire_options o = LH_ACQUIRE_OPTIONS_INIT;

    take_and_release(c, f, NULL, LH_OUTCOME_FAILURE);
    o.version = 1;
    o.require_success_within_ms = WINDOW; /* not part of version 1 */
    ck_assert_int_eq(try_take(c, f, &o), LH_OK);
    lh_factory_free(f);
    lh_client_free(c);
}
END_TEST

static const struct bad_condition {
    int64_t cooldown, within, max, window;
} bad_conditions[] = {
    {-1, 0, 0, 0},
    {0, -1, 0, 0},
    {8LL * 24 * 3600 * 1000, 0, 0, 0}, /* longer than the 7-day retention */
    {0, 8LL * 24 * 3600 * 1000, 0, 0},
    {0, 0, 2, 0},
    {0, 0, 0, 100},
    {0, 0, LH_MAX_WINDOW_ACQUIRES + 1, 100},
    {0, 0, -1, 100},
};

START_TEST(invalid_conditions_change_nothing)
{
    const struct bad_condition *b = &bad_conditions[_i];
    redisContext *rc = th_raw();
    lh_client *c = th_client();
    lh_factory *f = th_factory("badc", "job", 1, TTL);
    lh_acquire_options o = LH_ACQUIRE_OPTIONS_INIT;
    lh_resource_info info;
    const char *args[] = {"x"};

    o.cooldown_ms = b->cooldown;
    o.require_success_within_ms = b->within;
    o.max_acquires = b->max;
    o.window_ms = b->window;
    ck_assert_int_eq(try_take(c, f, &o), LH_ERR_INVALID);
    ck_assert_str_ne(lh_errmsg(c), "");
    ck_assert_int_eq(lh_resource_inspect(&info, c, f, args, 1), LH_OK);
    ck_assert_int_eq(info.held, 0);
    ck_assert_int_eq(info.fence, -1);
    lh_factory_free(f);
    lh_client_free(c);
    redisFree(rc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conditions");
    TCase *tc = tcase_create("conditions");

    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, cooldown_since_any_release);
    tcase_add_test(tc, cooldown_since_success);
    tcase_add_test(tc, require_success_within);
    tcase_add_test(tc, max_acquires_per_window);
    tcase_add_test(tc, conditions_compose);
    tcase_add_test(tc, held_before_conditions);
    tcase_add_test(tc, version1_options_ignore_conditions);
    tcase_add_loop_test(tc, invalid_conditions_change_nothing, 0,
                        sizeof(bad_conditions) / sizeof(bad_conditions[0]));
    suite_add_tcase(s, tc);
    return th_run(s);
}
