/*
 * check_url.c - connection URLs (src/url.c, lh__url_parse) and durations
 * (lh_duration_parse), DESIGN 2a and 6.
 *
 * Every accepted form is parsed and each field checked: redis:// with
 * host, port, [IPv6], userinfo (percent-decoded), /db and the timeout
 * parameters; unix:///path with ?db= and a password; the NULL default.
 * Every rejected form is LH_ERR_INVALID with a message naming the part at
 * fault, and leaves the struct empty. Durations: each unit, the bounds of
 * int64, and each malformed spelling. No Redis is needed.
 */
#include "helpers.h"

#include <string.h>

/* ---- accepted URLs ------------------------------------------------------ */

typedef struct good_url {
    const char *url;
    lh__url_kind kind;
    const char *host; /* TCP */
    int port;
    const char *path; /* UNIX */
    const char *user;
    const char *password;
    int db;
    int64_t connect_timeout_ms;
    int64_t timeout_ms;
} good_url;

#define TCP LH__URL_TCP
#define UNIX LH__URL_UNIX

static const good_url good[] = {
    {"redis://localhost", TCP, "localhost", 6379, NULL, NULL, NULL, 0, 0, 0},
    {"redis://127.0.0.1:6380", TCP, "127.0.0.1", 6380, NULL, NULL, NULL, 0, 0,
     0},
    {"redis://h:1", TCP, "h", 1, NULL, NULL, NULL, 0, 0, 0},
    {"redis://h:65535", TCP, "h", 65535, NULL, NULL, NULL, 0, 0, 0},
    {"redis://[::1]", TCP, "::1", 6379, NULL, NULL, NULL, 0, 0, 0},
    {"redis://[::1]:6381", TCP, "::1", 6381, NULL, NULL, NULL, 0, 0, 0},
    {"redis://[::1]:6380/2", TCP, "::1", 6380, NULL, NULL, NULL, 2, 0, 0},
    {"redis://[2001:db8::7]:7000?timeout=3s", TCP, "2001:db8::7", 7000, NULL,
     NULL, NULL, 0, 0, 3000},
    {"redis://user:pass@host:1234", TCP, "host", 1234, NULL, "user", "pass", 0,
     0, 0},
    {"redis://:secret@host", TCP, "host", 6379, NULL, NULL, "secret", 0, 0, 0},
    {"redis://u:@host", TCP, "host", 6379, NULL, "u", "", 0, 0, 0},
    {"redis://us%40er:p%3Aa%2Fss%25@h", TCP, "h", 6379, NULL, "us@er",
     "p:a/ss%", 0, 0, 0},
    {"redis://%41b:%c3%a9%C3%A9@h", TCP, "h", 6379, NULL, "Ab",
     "\xc3\xa9\xc3\xa9", 0, 0, 0},
    {"redis://u:p@ss@h", TCP, "h", 6379, NULL, "u", "p@ss", 0, 0, 0},
    {"redis://:pw@[::1]:6390/3", TCP, "::1", 6390, NULL, NULL, "pw", 3, 0, 0},
    {"redis://h/15", TCP, "h", 6379, NULL, NULL, NULL, 15, 0, 0},
    {"redis://h/", TCP, "h", 6379, NULL, NULL, NULL, 0, 0, 0},
    {"redis://h/2147483647", TCP, "h", 6379, NULL, NULL, NULL, 2147483647, 0,
     0},
    {"redis://h:6379/0?connect_timeout=500ms&timeout=2s", TCP, "h", 6379, NULL,
     NULL, NULL, 0, 500, 2000},
    {"redis://h?timeout=1m", TCP, "h", 6379, NULL, NULL, NULL, 0, 0, 60000},
    {"redis://h:7000?connect_timeout=250", TCP, "h", 7000, NULL, NULL, NULL, 0,
     250, 0},
    {"redis://h/4?timeout=1h&connect_timeout=10s", TCP, "h", 6379, NULL, NULL,
     NULL, 4, 10000, 3600000},
    {"redis://h?db=5", TCP, "h", 6379, NULL, NULL, NULL, 5, 0, 0},
    {"unix:///tmp/redis.sock", UNIX, NULL, 0, "/tmp/redis.sock", NULL, NULL, 0,
     0, 0},
    {"unix:///tmp/redis.sock?db=3", UNIX, NULL, 0, "/tmp/redis.sock", NULL,
     NULL, 3, 0, 0},
    {"unix://:pw@/run/r.sock", UNIX, NULL, 0, "/run/r.sock", NULL, "pw", 0, 0,
     0},
    {"unix://u:p%40w@/run/r.sock?db=1&timeout=5s&connect_timeout=1s", UNIX,
     NULL, 0, "/run/r.sock", "u", "p@w", 1, 1000, 5000},
    {"unix:///tmp/a%20b.sock", UNIX, NULL, 0, "/tmp/a b.sock", NULL, NULL, 0, 0,
     0},
    {"unix:///r", UNIX, NULL, 0, "/r", NULL, NULL, 0, 0, 0},
};

static void assert_str_or_null(const char *got, const char *want,
                               const char *what)
{
    if (want == NULL)
        ck_assert_msg(got == NULL, "%s: got \"%s\", want none", what, got);
    else
        ck_assert_msg(got != NULL && strcmp(got, want) == 0,
                      "%s: got \"%s\", want \"%s\"", what, got ? got : "(null)",
                      want);
}

static void assert_parsed(const lh__url *u, const good_url *g)
{
    ck_assert_int_eq(u->kind, g->kind);
    if (g->kind == LH__URL_TCP) {
        ck_assert_uint_eq(u->nhosts, 1);
        ck_assert_str_eq(u->hosts[0].host, g->host);
        ck_assert_int_eq(u->hosts[0].port, g->port);
        ck_assert_ptr_null(u->path);
    } else {
        ck_assert_uint_eq(u->nhosts, 0);
        ck_assert_str_eq(u->path, g->path);
    }
    assert_str_or_null(u->user, g->user, "user");
    assert_str_or_null(u->password, g->password, "password");
    ck_assert_int_eq(u->db, g->db);
    ck_assert_int_eq(u->connect_timeout_ms, g->connect_timeout_ms);
    ck_assert_int_eq(u->timeout_ms, g->timeout_ms);
}

START_TEST(accepted)
{
    const good_url *g = &good[_i];
    lh__url u;
    lh_error err;

    ck_assert_msg(lh__url_parse(&u, g->url, &err) == LH_OK, "%s: %s", g->url,
                  err.message);
    assert_parsed(&u, g);
    lh__url_clear(&u);
    ck_assert_ptr_null(u.hosts);
    ck_assert_uint_eq(u.nhosts, 0);
    /* an lh_error is optional */
    ck_assert_int_eq(lh__url_parse(&u, g->url, NULL), LH_OK);
    lh__url_clear(&u);
}
END_TEST

START_TEST(null_is_default)
{
    static const good_url def = {NULL, TCP,  "127.0.0.1", 6379, NULL,
                                 NULL, NULL, 0,           0,    0};
    lh__url u;

    ck_assert_int_eq(lh__url_parse(&u, NULL, NULL), LH_OK);
    assert_parsed(&u, &def);
    lh__url_clear(&u);
}
END_TEST

/* ---- rejected URLs ------------------------------------------------------ */

static const struct {
    const char *url;
    const char *needle; /* must appear in the message */
} bad[] = {
    {"rediss://h:6380", "TLS"},
    {"rediss://:pw@h", "TLS"},
    {"http://h", "scheme"},
    {"", "scheme"},
    {"REDIS://h", "scheme"},
    {"redis:/h", "scheme"},
    {"redis:h", "scheme"},
    {"localhost:6379", "scheme"},
    {"redis-sentinel://h:26379/mymaster", "not supported"},
    {"redis-cluster://h:7000,h:7001", "not supported"},
    {"redis-redlock://a:1,b:2,c:3", "not supported"},
    {"redis://h:0", "port"},
    {"redis://h:65536", "port"},
    {"redis://h:99999999999999999999", "port"},
    {"redis://h:abc", "port"},
    {"redis://h:", "port"},
    {"redis://h:-1", "port"},
    {"redis://h:+1", "port"},
    {"redis://h: 1", "port"},
    {"redis://h:6379x", "port"},
    {"redis://h:1:2", "port"},
    {"redis://[::1]:0", "port"},
    {"redis://[::1]:", "port"},
    {"redis://[::1]:x/2", "port"},
    {"redis://[::1]x", "host"},
    {"redis://[::1", "["},
    {"redis://[]:6379", "host"},
    {"redis://h%zz:6379", "bad host"},
    {"redis://h%00", "bad host"},
    {"redis://h/abc", "database"},
    {"redis://h/-1", "database"},
    {"redis://h/1x", "database"},
    {"redis://h/2147483648", "database"},
    {"redis://h/1/2", "database"},
    {"redis://h?foo=1", "unknown parameter \"foo\""},
    {"redis://h?timeout=2s&bogus=1", "unknown parameter \"bogus\""},
    {"redis://h?Timeout=2s", "unknown parameter"},
    {"redis://h?sentinel_password=x", "unknown parameter"},
    {"redis://h?timeout", "timeout"},
    {"redis://h?timeout=", "timeout"},
    {"redis://h?timeout=0", "timeout"},
    {"redis://h?timeout=0ms", "timeout"},
    {"redis://h?timeout=2x", "timeout"},
    {"redis://h?timeout=-1s", "timeout"},
    {"redis://h?timeout=99999999999999999999h", "timeout"},
    {"redis://h?connect_timeout=1.5s", "connect_timeout"},
    {"redis://h?connect_timeout=2S", "connect_timeout"},
    {"redis://h?db=x", "db"},
    {"unix:///p?db=x", "db"},
    {"unix:///p?db=-1", "db"},
    {"unix:///p?db=", "db"},
    {"unix:///p?user=x", "unknown parameter"},
    {"unix:///p?timeout=1d", "timeout"},
    {"redis://", "no host"},
    {"redis://:6379", "no host"},
    {"redis://user:pw@", "no host"},
    {"redis://:pw@:6379/1", "no host"},
    {"redis:///0", "no host"},
    {"redis://user@h", "user info"},
    {"redis://@h", "user info"},
    {"redis://%zz:pw@h", "percent"},
    {"redis://u:p%4@h", "percent"},
    {"redis://u:p%@h", "percent"},
    {"redis://u:%g0@h", "percent"},
    {"redis://u:p%00@h", "percent"},
    {"redis://%00:p@h", "percent"},
    {"unix://host/tmp/r.sock", "no host"},
    {"unix://tmp/r.sock", "no host"},
    {"unix://u:p@host/tmp/r.sock", "no host"},
    {"unix://user@/tmp/r.sock", "user info"},
    {"unix://", "absolute path"},
    {"unix://?db=1", "absolute path"},
    {"unix:///", "empty"},
    {"unix:///?db=1", "empty"},
    {"unix:///p%zz", "socket path"},
    {"unix:///p%00", "socket path"},
};

START_TEST(rejected)
{
    const char *url = bad[_i].url;
    lh__url u;
    lh_error err;

    memset(&err, 0, sizeof(err));
    ck_assert_msg(lh__url_parse(&u, url, &err) == LH_ERR_INVALID,
                  "\"%s\" was accepted", url);
    ck_assert_int_eq(err.code, LH_ERR_INVALID);
    ck_assert_msg(strstr(err.message, bad[_i].needle) != NULL,
                  "%s: message \"%s\" does not mention %s", url, err.message,
                  bad[_i].needle);
    ck_assert_msg(strncmp(err.message, "URL: ", 5) == 0, "%s", err.message);
    /* nothing is left behind */
    ck_assert_ptr_null(u.hosts);
    ck_assert_uint_eq(u.nhosts, 0);
    ck_assert_ptr_null(u.path);
    ck_assert_ptr_null(u.user);
    ck_assert_ptr_null(u.password);
    ck_assert_int_eq(lh__url_parse(&u, url, NULL), LH_ERR_INVALID);
}
END_TEST

/* A bad URL fails lh_client_open before any connection is tried. */
START_TEST(client_open_refuses)
{
    static char poison;
    lh_client *c = (lh_client *)(void *)&poison;
    lh_error err;

    ck_assert_int_eq(lh_client_open(&c, "rediss://127.0.0.1:1", NULL, &err),
                     LH_ERR_INVALID);
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(strstr(err.message, "TLS"));
    ck_assert_int_eq(lh_client_open(&c, "redis://h?x=1", NULL, &err),
                     LH_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.message, "\"x\""));
}
END_TEST

/* ---- durations ---------------------------------------------------------- */

static const struct {
    const char *text;
    int64_t ms;
} durations[] = {
    {"250", 250},
    {"250ms", 250},
    {"30s", 30000},
    {"5m", 300000},
    {"1h", 3600000},
    {"0", 0},
    {"0ms", 0},
    {"007s", 7000},
    {"1", 1},
    {"60000", 60000},
    {"9223372036854775807", INT64_MAX},
    {"9223372036854775807ms", INT64_MAX},
    {"9223372036854775s", 9223372036854775000LL},
    {"153722867280912m", 9223372036854720000LL},
    {"2562047788015h", 9223372036854000000LL},
};

START_TEST(duration_valid)
{
    int64_t ms = -5;

    ck_assert_msg(lh_duration_parse(&ms, durations[_i].text) == LH_OK,
                  "\"%s\" refused", durations[_i].text);
    ck_assert_int_eq(ms, durations[_i].ms);
}
END_TEST

static const char *const bad_durations[] = {
    "",
    "-1",
    "+1",
    "1.5s",
    " 1s",
    "1s ",
    "1 s",
    "1d",
    "1S",
    "1MS",
    "1Ms",
    "1sm",
    "1mss",
    "ms",
    "s",
    "1e3",
    "0x10",
    "1,000",
    "9223372036854775808",
    "9223372036854775808ms",
    "99999999999999999999",
    "9223372036854776s",
    "153722867280913m",
    "2562047788016h",
};

START_TEST(duration_invalid)
{
    int64_t ms = -5;

    ck_assert_msg(lh_duration_parse(&ms, bad_durations[_i]) == LH_ERR_INVALID,
                  "\"%s\" accepted", bad_durations[_i]);
    ck_assert_int_eq(ms, 0);
}
END_TEST

START_TEST(duration_null)
{
    int64_t ms = -5;

    ck_assert_int_eq(lh_duration_parse(&ms, NULL), LH_ERR_INVALID);
    ck_assert_int_eq(lh_duration_parse(NULL, "1s"), LH_ERR_INVALID);
}
END_TEST

static Suite *url_suite(void)
{
    Suite *s = suite_create("url");
    TCase *tc;

    tc = tcase_create("accepted");
    tcase_add_loop_test(tc, accepted, 0, (int)(sizeof(good) / sizeof(good[0])));
    tcase_add_test(tc, null_is_default);
    suite_add_tcase(s, tc);

    tc = tcase_create("rejected");
    tcase_add_loop_test(tc, rejected, 0, (int)(sizeof(bad) / sizeof(bad[0])));
    tcase_add_test(tc, client_open_refuses);
    suite_add_tcase(s, tc);

    tc = tcase_create("duration");
    tcase_add_loop_test(tc, duration_valid, 0,
                        (int)(sizeof(durations) / sizeof(durations[0])));
    tcase_add_loop_test(
        tc, duration_invalid, 0,
        (int)(sizeof(bad_durations) / sizeof(bad_durations[0])));
    tcase_add_test(tc, duration_null);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(url_suite());
}
