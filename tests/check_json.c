/*
 * check_json.c - the lease as JSON (src/json.c, DESIGN 4).
 *
 * Writing: the exact compact form {"v":1,"root":...,"prefix":...,
 * "args":[...],"id":...,"fence":N,"ttl_ms":N}, and a round trip through
 * text, through json_t values and through a job payload (default and
 * custom member) that gives back every field. Reading is strict: every
 * malformed form in one table (not JSON, not an object, each member
 * missing or ill-typed, bad v, id, fence, TTL, args, duplicates, NUL,
 * factory mismatch) is LH_ERR_INVALID with a message that names the member
 * at fault, and unknown members are ignored. No Redis is needed.
 */
#include "helpers.h"

#include <stdlib.h>
#include <string.h>

#define ID "0123456789abcdef0123456789abcdef"

/* The members of a good lease, to build variants from. */
#define M_V "\"v\":1"
#define M_ROOT "\"root\":\"lh\""
#define M_PREFIX "\"prefix\":\"person\""
#define M_ARGS "\"args\":[\"42\"]"
#define M_ID "\"id\":\"" ID "\""
#define M_FENCE "\"fence\":17"
#define M_TTL "\"ttl_ms\":60000"
#define M_ALL                                                                  \
    M_V "," M_ROOT "," M_PREFIX "," M_ARGS "," M_ID "," M_FENCE "," M_TTL
#define GOOD "{" M_ALL "}"

/* A non-NULL pointer no call may leave in an out-parameter on failure. */
static char poison;
#define POISON ((void *)&poison)

static lh_lease *make_lease(const char *root, const char *prefix,
                            const char *const *args, size_t nargs,
                            int64_t fence, int64_t ttl)
{
    lh_lease *l = NULL;

    ck_assert_int_eq(lh__lease_new(&l, root, prefix, args, nargs, ID, fence,
                                   ttl, LH__DEFAULT_RETENTION_MS),
                     LH_OK);
    return l;
}

static lh_factory *make_factory(const char *root, const char *prefix, int arity)
{
    lh_factory_options o = LH_FACTORY_OPTIONS_INIT;
    lh_factory *f = NULL;

    o.root = root;
    o.retention_ms = 12345;
    ck_assert_int_eq(lh_factory_new(&f, prefix, arity, 60000, &o, NULL), LH_OK);
    return f;
}

static void assert_same_lease(const lh_lease *a, const lh_lease *b)
{
    size_t i;

    ck_assert_str_eq(lh_lease_id(a), lh_lease_id(b));
    ck_assert_str_eq(lh_lease_root(a), lh_lease_root(b));
    ck_assert_str_eq(lh_lease_prefix(a), lh_lease_prefix(b));
    ck_assert_int_eq(lh_lease_fence(a), lh_lease_fence(b));
    ck_assert_int_eq(lh_lease_ttl_ms(a), lh_lease_ttl_ms(b));
    ck_assert_uint_eq(lh_lease_nargs(a), lh_lease_nargs(b));
    for (i = 0; i < lh_lease_nargs(a); i++)
        ck_assert_str_eq(lh_lease_arg(a, i), lh_lease_arg(b, i));
    ck_assert_ptr_null(lh_lease_arg(a, lh_lease_nargs(a)));
    ck_assert_str_eq(a->key, b->key);
}

/* Parse 'text' expecting LH_ERR_INVALID with 'needle' in the message. */
static void assert_invalid(const char *text, size_t len, const lh_factory *f,
                           const char *needle)
{
    lh_lease *l = POISON;
    lh_error err;

    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(lh_lease_from_json(&l, text, len, f, &err),
                     LH_ERR_INVALID);
    ck_assert_ptr_null(l);
    ck_assert_int_eq(err.code, LH_ERR_INVALID);
    ck_assert_msg(strstr(err.message, needle) != NULL,
                  "message \"%s\" does not name %s", err.message, needle);
    /* and without an lh_error */
    ck_assert_int_eq(lh_lease_from_json(&l, text, len, f, NULL),
                     LH_ERR_INVALID);
    ck_assert_ptr_null(l);
}

/* ---- writing and round trips -------------------------------------------- */

START_TEST(exact_format)
{
    static const char *const args[] = {"42"};
    lh_lease *l = make_lease("lh", "person", args, 1, 17, 60000);
    char *text = POISON;

    ck_assert_int_eq(lh_lease_to_json(&text, l), LH_OK);
    ck_assert_str_eq(text, GOOD);
    lh_free(text);
    lh_lease_free(l);
}
END_TEST

START_TEST(exact_format_escapes)
{
    static const char *const args[] = {"a\"b\\c", "\xc3\xa9", "\t", ""};
    lh_lease *l = make_lease("r", "p/q", args, 4, 0, 1);
    char *text = NULL;

    ck_assert_int_eq(lh_lease_to_json(&text, l), LH_OK);
    ck_assert_str_eq(text, "{\"v\":1,\"root\":\"r\",\"prefix\":\"p/q\","
                           "\"args\":[\"a\\\"b\\\\c\",\"\xc3\xa9\",\"\\t\","
                           "\"\"],\"id\":\"" ID "\",\"fence\":0,"
                           "\"ttl_ms\":1}");
    lh_free(text);
    lh_lease_free(l);
}
END_TEST

START_TEST(exact_format_arity0)
{
    lh_lease *l = make_lease("lh", "queue", NULL, 0, 9223372036854775807LL,
                             LH_MAX_TTL_MS);
    char *text = NULL;

    ck_assert_int_eq(lh_lease_to_json(&text, l), LH_OK);
    ck_assert_str_eq(text, "{\"v\":1,\"root\":\"lh\",\"prefix\":\"queue\","
                           "\"args\":[],\"id\":\"" ID "\","
                           "\"fence\":9223372036854775807,"
                           "\"ttl_ms\":2592000000}");
    lh_free(text);
    lh_lease_free(l);
}
END_TEST

typedef struct lease_row {
    const char *root;
    const char *prefix;
    size_t nargs;
    const char *args[LH_MAX_ARITY];
    int64_t fence;
    int64_t ttl;
} lease_row;

static const lease_row leases[] = {
    {"lh", "person", 1, {"42"}, 17, 60000},
    {"lh", "queue", 0, {NULL}, 0, 1},
    {"lh", "p", 1, {""}, 1, LH_MAX_TTL_MS},
    {"lh", "p", 3, {"", "", ""}, 9223372036854775807LL, 1000},
    {"a:b", "{c}", 2, {"a:b", "{%}\\*?[]"}, 5, 5},
    {"\xc3\xa9", "\xe6\x97\xa5", 2, {"\xf0\x9f\x98\x80", "\x01\x1f\x7f"}, 3, 3},
    {"q\"", "\\", 1, {"\"\\/\b\f\n\r\t"}, 42, 42},
    {"r",
     "p",
     16,
     {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e",
      "f"},
     16,
     16},
};

START_TEST(round_trip_text)
{
    const lease_row *r = &leases[_i];
    lh_lease *l =
        make_lease(r->root, r->prefix, r->args, r->nargs, r->fence, r->ttl);
    lh_lease *back = POISON;
    char *text = NULL, *again = NULL;
    lh_error err;

    ck_assert_int_eq(lh_lease_to_json(&text, l), LH_OK);
    ck_assert_ptr_null(strchr(text, '\n'));
    ck_assert_int_eq(lh_lease_from_json(&back, text, strlen(text), NULL, &err),
                     LH_OK);
    assert_same_lease(l, back);
    ck_assert_int_eq(back->retention_ms, LH__DEFAULT_RETENTION_MS);
    /* writing the parsed lease gives the same text */
    ck_assert_int_eq(lh_lease_to_json(&again, back), LH_OK);
    ck_assert_str_eq(text, again);
    lh_free(again);
    lh_free(text);
    lh_lease_free(back);
    lh_lease_free(l);
}
END_TEST

START_TEST(round_trip_value)
{
    const lease_row *r = &leases[_i];
    lh_lease *l =
        make_lease(r->root, r->prefix, r->args, r->nargs, r->fence, r->ttl);
    lh_lease *back = POISON;
    json_t *obj = POISON;

    ck_assert_int_eq(lh_lease_to_json_value(&obj, l), LH_OK);
    ck_assert(json_is_object(obj));
    ck_assert_int_eq(json_integer_value(json_object_get(obj, "v")), 1);
    ck_assert_int_eq(lh_lease_from_json_value(&back, obj, NULL, NULL), LH_OK);
    assert_same_lease(l, back);
    json_decref(obj);
    lh_lease_free(back);
    lh_lease_free(l);
}
END_TEST

START_TEST(round_trip_with_factory)
{
    const lease_row *r = &leases[_i];
    lh_factory *f = make_factory(r->root, r->prefix, (int)r->nargs);
    lh_lease *l =
        make_lease(r->root, r->prefix, r->args, r->nargs, r->fence, r->ttl);
    lh_lease *back = NULL;
    char *text = NULL;

    ck_assert_int_eq(lh_lease_to_json(&text, l), LH_OK);
    ck_assert_int_eq(lh_lease_from_json(&back, text, strlen(text), f, NULL),
                     LH_OK);
    assert_same_lease(l, back);
    /* the release metadata's retention comes from the factory */
    ck_assert_int_eq(back->retention_ms, 12345);
    lh_free(text);
    lh_lease_free(back);
    lh_lease_free(l);
    lh_factory_free(f);
}
END_TEST

START_TEST(round_trip_long_strings)
{
    char name[LH_MAX_NAME_BYTES + 1], arg[LH_MAX_ARG_BYTES + 1];
    const char *args[1] = {arg};
    lh_lease *l, *back = NULL;
    char *text = NULL;

    memset(name, 'n', LH_MAX_NAME_BYTES);
    name[LH_MAX_NAME_BYTES] = '\0';
    memset(arg, ':', LH_MAX_ARG_BYTES);
    arg[LH_MAX_ARG_BYTES] = '\0';
    l = make_lease(name, name, args, 1, 1, 1);
    ck_assert_int_eq(lh_lease_to_json(&text, l), LH_OK);
    ck_assert_int_eq(lh_lease_from_json(&back, text, strlen(text), NULL, NULL),
                     LH_OK);
    assert_same_lease(l, back);
    lh_free(text);
    lh_lease_free(back);
    lh_lease_free(l);
}
END_TEST

static const char *const with_unknown[] = {
    "{\"acquired_ms\":1700000000000," M_V "," M_ROOT "," M_PREFIX "," M_ARGS
    "," M_ID "," M_FENCE "," M_TTL "}",
    "{" M_V "," M_ROOT "," M_PREFIX "," M_ARGS "," M_ID "," M_FENCE "," M_TTL
    ",\"validity_ms\":59990,\"x\":{\"y\":[1,null,\"z\"]}}",
    "{" M_TTL "," M_FENCE "," M_ID "," M_ARGS "," M_PREFIX "," M_ROOT "," M_V
    ",\"V\":2,\"Root\":7}",
    " \n{ " M_V " , " M_ROOT "," M_PREFIX "," M_ARGS "," M_ID "," M_FENCE
    "," M_TTL " }\n ",
};

START_TEST(unknown_members_ignored)
{
    const char *text = with_unknown[_i];
    lh_factory *f = make_factory("lh", "person", 1);
    lh_lease *l = POISON;
    lh_error err;

    ck_assert_msg(lh_lease_from_json(&l, text, strlen(text), f, &err) == LH_OK,
                  "%s", err.message);
    ck_assert_str_eq(lh_lease_id(l), ID);
    ck_assert_str_eq(lh_lease_arg(l, 0), "42");
    ck_assert_int_eq(lh_lease_fence(l), 17);
    ck_assert_int_eq(lh_lease_ttl_ms(l), 60000);
    lh_lease_free(l);
    lh_factory_free(f);
}
END_TEST

/* ---- malformed text ----------------------------------------------------- */

typedef struct bad_row {
    const char *text;
    const char *needle; /* must appear in the message */
    int factory;        /* 1: check against ("lh", "person", arity 1) */
} bad_row;

#define WITHOUT_V M_ROOT "," M_PREFIX "," M_ARGS "," M_ID "," M_FENCE "," M_TTL
#define WITHOUT_ROOT M_V "," M_PREFIX "," M_ARGS "," M_ID "," M_FENCE "," M_TTL
#define WITHOUT_PREFIX M_V "," M_ROOT "," M_ARGS "," M_ID "," M_FENCE "," M_TTL
#define WITHOUT_ARGS M_V "," M_ROOT "," M_PREFIX "," M_ID "," M_FENCE "," M_TTL
#define WITHOUT_ID M_V "," M_ROOT "," M_PREFIX "," M_ARGS "," M_FENCE "," M_TTL
#define WITHOUT_FENCE M_V "," M_ROOT "," M_PREFIX "," M_ARGS "," M_ID "," M_TTL
#define WITHOUT_TTL M_V "," M_ROOT "," M_PREFIX "," M_ARGS "," M_ID "," M_FENCE

static const bad_row bad[] = {
    /* not JSON, not an object (jansson itself wants '[' or '{') */
    {"nope", "expected", 0},
    {"", "expected", 0},
    {"{" WITHOUT_TTL ",", "expected", 0},
    {GOOD "x", "end of file expected", 0},
    {GOOD GOOD, "end of file expected", 0},
    {"{'v':1}", "lease JSON", 0},
    {"[]", "not an object", 0},
    {"[" GOOD "]", "not an object", 0},
    {"42", "'{' expected", 0},
    {"\"lease\"", "'{' expected", 0},
    {"null", "'{' expected", 0},
    {"{}", "\"v\"", 0},
    /* v */
    {"{" WITHOUT_V "}", "\"v\"", 0},
    {"{\"v\":2," WITHOUT_V "}", "\"v\"", 0},
    {"{\"v\":0," WITHOUT_V "}", "\"v\"", 0},
    {"{\"v\":-1," WITHOUT_V "}", "\"v\"", 0},
    {"{\"v\":\"1\"," WITHOUT_V "}", "\"v\"", 0},
    {"{\"v\":1.0," WITHOUT_V "}", "\"v\"", 0},
    {"{\"v\":true," WITHOUT_V "}", "\"v\"", 0},
    {"{\"v\":null," WITHOUT_V "}", "\"v\"", 0},
    {"{\"v\":[1]," WITHOUT_V "}", "\"v\"", 0},
    /* root */
    {"{" WITHOUT_ROOT "}", "\"root\"", 0},
    {"{\"root\":42," WITHOUT_ROOT "}", "\"root\"", 0},
    {"{\"root\":null," WITHOUT_ROOT "}", "\"root\"", 0},
    {"{\"root\":[\"lh\"]," WITHOUT_ROOT "}", "\"root\"", 0},
    {"{\"root\":\"\"," WITHOUT_ROOT "}", "\"root\"", 0},
    {"{\"root\":\"l\\u0000h\"," WITHOUT_ROOT "}", "\"root\"", 0},
    /* prefix */
    {"{" WITHOUT_PREFIX "}", "\"prefix\"", 0},
    {"{\"prefix\":1," WITHOUT_PREFIX "}", "\"prefix\"", 0},
    {"{\"prefix\":{}," WITHOUT_PREFIX "}", "\"prefix\"", 0},
    {"{\"prefix\":\"\"," WITHOUT_PREFIX "}", "\"prefix\"", 0},
    {"{\"prefix\":\"\\u0000\"," WITHOUT_PREFIX "}", "\"prefix\"", 0},
    /* args */
    {"{" WITHOUT_ARGS "}", "\"args\"", 0},
    {"{\"args\":\"42\"," WITHOUT_ARGS "}", "\"args\"", 0},
    {"{\"args\":{\"0\":\"42\"}," WITHOUT_ARGS "}", "\"args\"", 0},
    {"{\"args\":null," WITHOUT_ARGS "}", "\"args\"", 0},
    {"{\"args\":[42]," WITHOUT_ARGS "}", "\"args[0]\"", 0},
    {"{\"args\":[null]," WITHOUT_ARGS "}", "\"args[0]\"", 0},
    {"{\"args\":[\"a\",[]]," WITHOUT_ARGS "}", "\"args[1]\"", 0},
    {"{\"args\":[\"a\",\"b\",true]," WITHOUT_ARGS "}", "\"args[2]\"", 0},
    {"{\"args\":[\"4\\u00002\"]," WITHOUT_ARGS "}", "\"args[0]\"", 0},
    {"{\"args\":[\"0\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\","
     "\"9\",\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\"]," WITHOUT_ARGS "}",
     "\"args\"", 0},
    /* id */
    {"{" WITHOUT_ID "}", "\"id\"", 0},
    {"{\"id\":42," WITHOUT_ID "}", "\"id\"", 0},
    {"{\"id\":null," WITHOUT_ID "}", "\"id\"", 0},
    {"{\"id\":\"\"," WITHOUT_ID "}", "\"id\"", 0},
    {"{\"id\":\"0123456789ABCDEF0123456789abcdef\"," WITHOUT_ID "}", "\"id\"",
     0},
    {"{\"id\":\"0123456789abcdef0123456789abcde\"," WITHOUT_ID "}", "\"id\"",
     0},
    {"{\"id\":\"0123456789abcdef0123456789abcdef0\"," WITHOUT_ID "}", "\"id\"",
     0},
    {"{\"id\":\"0123456789abcdef0123456789abcdeg\"," WITHOUT_ID "}", "\"id\"",
     0},
    {"{\"id\":\"0123456789abcdef 123456789abcdef\"," WITHOUT_ID "}", "\"id\"",
     0},
    {"{\"id\":\"0123456789abcdef0123456789abcde\\u0000\"," WITHOUT_ID "}",
     "\"id\"", 0},
    {"{\"id\":\"0123456789abcdef0123456789abcdef\\u0000\"," WITHOUT_ID "}",
     "\"id\"", 0},
    /* fence */
    {"{" WITHOUT_FENCE "}", "\"fence\"", 0},
    {"{\"fence\":-1," WITHOUT_FENCE "}", "\"fence\"", 0},
    {"{\"fence\":-9223372036854775808," WITHOUT_FENCE "}", "\"fence\"", 0},
    {"{\"fence\":1.5," WITHOUT_FENCE "}", "\"fence\"", 0},
    {"{\"fence\":17.0," WITHOUT_FENCE "}", "\"fence\"", 0},
    {"{\"fence\":1e3," WITHOUT_FENCE "}", "\"fence\"", 0},
    {"{\"fence\":\"17\"," WITHOUT_FENCE "}", "\"fence\"", 0},
    {"{\"fence\":null," WITHOUT_FENCE "}", "\"fence\"", 0},
    {"{\"fence\":false," WITHOUT_FENCE "}", "\"fence\"", 0},
    /* ttl_ms */
    {"{" WITHOUT_TTL "}", "\"ttl_ms\"", 0},
    {"{\"ttl_ms\":0," WITHOUT_TTL "}", "\"ttl_ms\"", 0},
    {"{\"ttl_ms\":-1," WITHOUT_TTL "}", "\"ttl_ms\"", 0},
    {"{\"ttl_ms\":2592000001," WITHOUT_TTL "}", "\"ttl_ms\"", 0},
    {"{\"ttl_ms\":9223372036854775807," WITHOUT_TTL "}", "\"ttl_ms\"", 0},
    {"{\"ttl_ms\":60000.5," WITHOUT_TTL "}", "\"ttl_ms\"", 0},
    {"{\"ttl_ms\":\"60s\"," WITHOUT_TTL "}", "\"ttl_ms\"", 0},
    /* duplicate members */
    {"{\"v\":1," M_V "," WITHOUT_V "}", "\"v\"", 0},
    {"{" M_ALL ",\"args\":[\"43\"]}", "\"args\"", 0},
    {"{" M_ROOT "," M_V "," M_ROOT "," M_PREFIX "," M_ARGS "," M_ID "," M_FENCE
     "," M_TTL "}",
     "\"root\"", 0},
    {"{" WITHOUT_ID "," M_ID "," M_ID "}", "\"id\"", 0},
    {"{" WITHOUT_FENCE "," M_FENCE ",\"fence\":18}", "\"fence\"", 0},
    /* against a factory ("lh", "person", arity 1) */
    {"{\"args\":[]," WITHOUT_ARGS "}", "\"args\"", 1},
    {"{\"args\":[\"4\",\"2\"]," WITHOUT_ARGS "}", "\"args\"", 1},
    {"{\"root\":\"lh2\"," WITHOUT_ROOT "}", "\"root\"", 1},
    {"{\"root\":\"LH\"," WITHOUT_ROOT "}", "\"root\"", 1},
    {"{\"prefix\":\"persons\"," WITHOUT_PREFIX "}", "\"prefix\"", 1},
    {"{\"prefix\":\"person \"," WITHOUT_PREFIX "}", "\"prefix\"", 1},
};

START_TEST(malformed)
{
    const bad_row *r = &bad[_i];
    lh_factory *f = r->factory ? make_factory("lh", "person", 1) : NULL;

    assert_invalid(r->text, strlen(r->text), f, r->needle);
    lh_factory_free(f);
}
END_TEST

START_TEST(good_text_parses)
{
    lh_factory *f = make_factory("lh", "person", 1);
    lh_lease *l = NULL;
    lh_error err;

    ck_assert_msg(lh_lease_from_json(&l, GOOD, strlen(GOOD), f, &err) == LH_OK,
                  "%s", err.message);
    lh_lease_free(l);
    lh_factory_free(f);
}
END_TEST

START_TEST(raw_nul_byte)
{
    static const char text[] = "{" WITHOUT_TTL ",\"ttl_ms\":60000\0}";
    static const char tail[] = GOOD "\0";
    static const char mid[] = "{" M_V "\0," WITHOUT_V "}";

    assert_invalid(text, sizeof(text) - 1, NULL, "NUL");
    assert_invalid(tail, sizeof(tail) - 1, NULL, "NUL");
    assert_invalid(mid, sizeof(mid) - 1, NULL, "NUL");
    /* a length that stops short of the object's end */
    assert_invalid(GOOD, strlen(GOOD) - 1, NULL, "expected");
}
END_TEST

START_TEST(invalid_utf8_text)
{
    static const char text[] = "{\"root\":\"\xff\"," WITHOUT_ROOT "}";

    assert_invalid(text, strlen(text), NULL, "lease JSON");
}
END_TEST

/* GOOD with an unknown member "pad" that brings it to 'size' bytes. */
static char *padded(size_t size)
{
    static const char head[] = "{\"pad\":\"";
    size_t rest = strlen(GOOD) - 1, fill = size - strlen(head) - 2 - rest;
    char *text = malloc(size + 1);

    ck_assert_ptr_nonnull(text);
    memcpy(text, head, strlen(head));
    memset(text + strlen(head), 'x', fill);
    memcpy(text + strlen(head) + fill, "\",", 2);
    memcpy(text + size - rest, &GOOD[1], rest + 1);
    ck_assert_uint_eq(strlen(text), size);
    return text;
}

START_TEST(size_limit)
{
    char *text = padded(LH_MAX_JSON_BYTES);
    lh_lease *l = NULL;
    lh_error err;

    ck_assert_msg(lh_lease_from_json(&l, text, strlen(text), NULL, &err) ==
                      LH_OK,
                  "%s", err.message);
    lh_lease_free(l);
    free(text);
    text = padded(LH_MAX_JSON_BYTES + 1);
    assert_invalid(text, strlen(text), NULL, "65536");
    free(text);
}
END_TEST

/* ---- malformed values (json_t built by the caller) ---------------------- */

static json_t *good_value(void)
{
    json_t *obj = json_loads(GOOD, 0, NULL);

    ck_assert_ptr_nonnull(obj);
    return obj;
}

static void assert_value_invalid(json_t *obj, const char *needle)
{
    lh_lease *l = POISON;
    lh_error err;

    ck_assert_int_eq(lh_lease_from_json_value(&l, obj, NULL, &err),
                     LH_ERR_INVALID);
    ck_assert_ptr_null(l);
    ck_assert_msg(strstr(err.message, needle) != NULL,
                  "message \"%s\" does not name %s", err.message, needle);
    json_decref(obj);
}

/* Member 'name' set to 'value' (a new reference) in a good lease. */
static json_t *with_member(const char *name, json_t *value)
{
    json_t *obj = good_value();

    ck_assert_ptr_nonnull(value);
    ck_assert_int_eq(json_object_set_new(obj, name, value), 0);
    return obj;
}

static json_t *args_of(json_t *elem)
{
    json_t *a = json_array();

    ck_assert_int_eq(json_array_append_new(a, elem), 0);
    return a;
}

START_TEST(malformed_values)
{
    char big[LH_MAX_ARG_BYTES + 2];

    assert_value_invalid(json_array(), "not an object");
    assert_value_invalid(with_member("root", json_stringn("l\0h", 3)),
                         "\"root\"");
    assert_value_invalid(with_member("prefix", json_stringn("\0", 1)),
                         "\"prefix\"");
    assert_value_invalid(with_member("id", json_stringn(ID "\0", 33)),
                         "\"id\"");
    assert_value_invalid(
        with_member("args", args_of(json_stringn("4\0002", 3))), "\"args[0]\"");
    assert_value_invalid(with_member("root", json_string_nocheck("\xff")),
                         "\"root\"");
    assert_value_invalid(
        with_member("prefix", json_string_nocheck("\xed\xa0\x80")),
        "\"prefix\"");
    assert_value_invalid(
        with_member("args", args_of(json_string_nocheck("\xc0\x80"))),
        "\"args[0]\"");
    memset(big, 'r', LH_MAX_NAME_BYTES + 1);
    big[LH_MAX_NAME_BYTES + 1] = '\0';
    assert_value_invalid(with_member("root", json_string(big)), "\"root\"");
    assert_value_invalid(with_member("prefix", json_string(big)), "\"prefix\"");
    memset(big, 'a', LH_MAX_ARG_BYTES + 1);
    big[LH_MAX_ARG_BYTES + 1] = '\0';
    assert_value_invalid(with_member("args", args_of(json_string(big))),
                         "\"args[0]\"");
}
END_TEST

START_TEST(misuse)
{
    lh_lease *l = POISON;
    lh_error err;

    ck_assert_int_eq(lh_lease_from_json(NULL, GOOD, strlen(GOOD), NULL, &err),
                     LH_ERR_INVALID);
    ck_assert_int_eq(lh_lease_from_json(&l, NULL, 0, NULL, &err),
                     LH_ERR_INVALID);
    ck_assert_ptr_null(l);
    l = POISON;
    ck_assert_int_eq(lh_lease_from_json_value(&l, NULL, NULL, &err),
                     LH_ERR_INVALID);
    ck_assert_ptr_null(l);
    ck_assert_int_eq(lh_lease_to_json(NULL, NULL), LH_ERR_INVALID);
    ck_assert_int_eq(lh_lease_to_json_value(NULL, NULL), LH_ERR_INVALID);
}
END_TEST

/* ---- payloads ----------------------------------------------------------- */

static lh_lease *sample_lease(int64_t fence)
{
    static const char *const args[] = {"42"};

    return make_lease("lh", "person", args, 1, fence, 60000);
}

static void payload_round_trip(const char *member)
{
    lh_lease *l = sample_lease(17), *back = POISON;
    json_t *payload = json_pack("{s:s, s:i}", "job", "resize", "n", 3);
    const char *name = member ? member : "lease";
    lh_error err;

    ck_assert_int_eq(lh_payload_set_lease(payload, member, l, &err), LH_OK);
    ck_assert(json_is_object(json_object_get(payload, name)));
    ck_assert_str_eq(json_string_value(json_object_get(payload, "job")),
                     "resize");
    ck_assert_uint_eq(json_object_size(payload), 3);
    ck_assert_int_eq(lh_payload_get_lease(&back, payload, member, NULL, &err),
                     LH_OK);
    assert_same_lease(l, back);
    lh_lease_free(back);
    json_decref(payload);
    lh_lease_free(l);
}

START_TEST(payload_default_member)
{
    payload_round_trip(NULL);
    payload_round_trip(LH_PAYLOAD_MEMBER);
}
END_TEST

START_TEST(payload_custom_member)
{
    lh_lease *l = sample_lease(1), *back = NULL;
    json_t *payload = json_object();

    payload_round_trip("job_lease");
    payload_round_trip("");
    /* a custom member is not found under the default name */
    ck_assert_int_eq(lh_payload_set_lease(payload, "mine", l, NULL), LH_OK);
    ck_assert_int_eq(lh_payload_get_lease(&back, payload, NULL, NULL, NULL),
                     LH_ERR_INVALID);
    ck_assert_ptr_null(back);
    json_decref(payload);
    lh_lease_free(l);
}
END_TEST

START_TEST(payload_replaces)
{
    lh_lease *a = sample_lease(1), *b = sample_lease(2), *back = NULL;
    json_t *payload = json_object();

    ck_assert_int_eq(lh_payload_set_lease(payload, NULL, a, NULL), LH_OK);
    ck_assert_int_eq(lh_payload_set_lease(payload, NULL, b, NULL), LH_OK);
    ck_assert_uint_eq(json_object_size(payload), 1);
    ck_assert_int_eq(lh_payload_get_lease(&back, payload, NULL, NULL, NULL),
                     LH_OK);
    ck_assert_int_eq(lh_lease_fence(back), 2);
    lh_lease_free(back);
    json_decref(payload);
    lh_lease_free(a);
    lh_lease_free(b);
}
END_TEST

static void assert_payload_invalid(const json_t *payload, const char *member,
                                   const lh_factory *f, const char *needle)
{
    lh_lease *l = POISON;
    lh_error err;

    ck_assert_int_eq(lh_payload_get_lease(&l, payload, member, f, &err),
                     LH_ERR_INVALID);
    ck_assert_ptr_null(l);
    ck_assert_msg(strstr(err.message, needle) != NULL,
                  "message \"%s\" does not name %s", err.message, needle);
}

START_TEST(payload_errors)
{
    json_t *arr = json_array(), *p = json_object();
    lh_factory *f = make_factory("lh", "other", 1);
    lh_lease *l = sample_lease(1);
    lh_error err;

    assert_payload_invalid(arr, NULL, NULL, "not an object");
    assert_payload_invalid(NULL, NULL, NULL, "not an object");
    assert_payload_invalid(p, NULL, NULL, "\"lease\"");
    assert_payload_invalid(p, "mine", NULL, "\"mine\"");
    json_object_set_new(p, "lease", json_string(GOOD));
    assert_payload_invalid(p, NULL, NULL, "\"lease\" is not an object");
    json_object_set_new(p, "lease", json_array());
    assert_payload_invalid(p, NULL, NULL, "\"lease\" is not an object");
    json_object_set_new(p, "lease", json_pack("{s:i}", "v", 1));
    assert_payload_invalid(p, NULL, NULL, "\"root\"");
    ck_assert_int_eq(lh_payload_set_lease(p, NULL, l, NULL), LH_OK);
    assert_payload_invalid(p, NULL, f, "\"prefix\"");
    ck_assert_int_eq(lh_payload_set_lease(arr, NULL, l, &err), LH_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.message, "not an object"));
    ck_assert_int_eq(lh_payload_set_lease(NULL, NULL, l, &err), LH_ERR_INVALID);
    ck_assert_int_eq(lh_payload_set_lease(p, NULL, NULL, &err), LH_ERR_INVALID);
    ck_assert_int_eq(lh_payload_get_lease(NULL, p, NULL, NULL, &err),
                     LH_ERR_INVALID);
    json_decref(arr);
    json_decref(p);
    lh_factory_free(f);
    lh_lease_free(l);
}
END_TEST

static Suite *json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc;
    int nleases = (int)(sizeof(leases) / sizeof(leases[0]));

    tc = tcase_create("write");
    tcase_add_test(tc, exact_format);
    tcase_add_test(tc, exact_format_escapes);
    tcase_add_test(tc, exact_format_arity0);
    tcase_add_loop_test(tc, round_trip_text, 0, nleases);
    tcase_add_loop_test(tc, round_trip_value, 0, nleases);
    tcase_add_loop_test(tc, round_trip_with_factory, 0, nleases);
    tcase_add_test(tc, round_trip_long_strings);
    suite_add_tcase(s, tc);

    tc = tcase_create("read");
    tcase_add_test(tc, good_text_parses);
    tcase_add_loop_test(tc, unknown_members_ignored, 0,
                        (int)(sizeof(with_unknown) / sizeof(with_unknown[0])));
    tcase_add_test(tc, misuse);
    suite_add_tcase(s, tc);

    tc = tcase_create("malformed");
    tcase_add_loop_test(tc, malformed, 0, (int)(sizeof(bad) / sizeof(bad[0])));
    tcase_add_test(tc, raw_nul_byte);
    tcase_add_test(tc, invalid_utf8_text);
    tcase_add_test(tc, size_limit);
    tcase_add_test(tc, malformed_values);
    suite_add_tcase(s, tc);

    tc = tcase_create("payload");
    tcase_add_test(tc, payload_default_member);
    tcase_add_test(tc, payload_custom_member);
    tcase_add_test(tc, payload_replaces);
    tcase_add_test(tc, payload_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(json_suite());
}
