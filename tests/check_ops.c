#include "helpers.h"

START_TEST(smoke)
{
    lh_client *c = th_client();
    lh_factory *f = th_factory("smoke", "person", 1, 60000);
    const char *args[] = {"42"};
    lh_lease *l = NULL, *l2 = NULL;
    lh_lease_state s;
    char *json;

    ck_assert_int_eq(lh_lease_acquire(&l, c, f, args, 1, NULL), LH_OK);
    ck_assert_int_eq(lh_lease_acquire(&l2, c, f, args, 1, NULL), LH_ERR_HELD);
    ck_assert_int_eq(lh_lease_confirm(&s, c, l), LH_OK);
    ck_assert_int_eq(s.fence, lh_lease_fence(l));
    ck_assert_int_eq(lh_lease_to_json(&json, l), LH_OK);
    printf("%s\n%s\n", json, lh_errmsg(c));
    lh_free(json);
    {
        const char *argv[] = {"SET", "k", "v"};
        lh_reply *r;
        ck_assert_int_eq(lh_lease_guard(&r, c, l, 3, argv, NULL, LH_KEY(1)), LH_OK);
        ck_assert_int_eq(r->type, LH_REPLY_STATUS);
        lh_reply_free(r);
    }
    ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_SUCCESS), LH_OK);
    ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_SUCCESS), LH_ERR_NOT_HELD);
    {
        lh_resource_info info;
        ck_assert_int_eq(lh_resource_inspect(&info, c, f, args, 1), LH_OK);
        ck_assert_int_eq(info.held, 0);
        ck_assert_int_eq(info.last_outcome, LH_OUTCOME_SUCCESS);
    }
    ck_assert_int_eq(lh_lease_acquire(&l2, c, f, args, 1, NULL), LH_OK);
    ck_assert(lh_lease_fence(l2) > lh_lease_fence(l));
    lh_lease_free(l);
    lh_lease_free(l2);
    lh_factory_free(f);
    lh_client_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops");
    TCase *tc = tcase_create("smoke");

    tcase_add_test(tc, smoke);
    suite_add_tcase(s, tc);
    return th_run(s);
}
