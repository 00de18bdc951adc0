#include "helpers.h"

START_TEST(placeholder)
{
    ck_assert_int_eq(lh_strerror(LH_OK)[0], 's');
}
END_TEST

int main(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("placeholder");

    tcase_add_test(tc, placeholder);
    suite_add_tcase(s, tc);
    return th_run(s);
}
