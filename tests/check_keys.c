/*
 * check_keys.c - the key mapping of src/keys.c (DESIGN 3).
 *
 * (root, prefix, args) to a base key must be injective whatever bytes the
 * parts hold (":" "{" "}" "%" "\" glob bytes, spaces, empty strings,
 * control bytes, multi-byte UTF-8), and arity must count: ("a:b") and
 * ("a", "b") differ. The base key is one hash tag with no inner braces,
 * so every key of a resource (base, base ":m", data keys) lands in one
 * Redis Cluster slot; the test computes slots itself with CRC16-XMODEM as
 * the cluster spec does. lh__key_parse must read every base key back, the
 * SCAN pattern must hold no glob byte from its escaped parts, and the data
 * keys of a factory and of a lease must agree. No Redis is needed.
 */
#include "helpers.h"

#include <stdlib.h>
#include <string.h>

/* ---- support ------------------------------------------------------------ */

typedef struct tuple {
    const char *root;
    const char *prefix;
    size_t nargs;
    const char *args[LH_MAX_ARITY];
} tuple;

/* CRC16-XMODEM (poly 0x1021, init 0), the hash of Redis Cluster. */
static unsigned crc16(const char *buf, size_t len)
{
    unsigned crc = 0;
    size_t i;
    int b;

    for (i = 0; i < len; i++) {
        crc ^= (unsigned)(unsigned char)buf[i] << 8;
        for (b = 0; b < 8; b++)
            crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff
                               : (crc << 1) & 0xffff;
    }
    return crc;
}

/* The part of 'key' Redis Cluster hashes: between the first '{' and the
 * first '}' after it, if that is not empty; else the whole key. */
static const char *hash_tag(const char *key, size_t len, size_t *taglen)
{
    const char *open = memchr(key, '{', len), *close;

    if (open != NULL) {
        close = memchr(open + 1, '}', len - (size_t)(open + 1 - key));
        if (close != NULL && close > open + 1) {
            *taglen = (size_t)(close - open - 1);
            return open + 1;
        }
    }
    *taglen = len;
    return key;
}

static unsigned slot_of(const char *key)
{
    size_t taglen;
    const char *tag = hash_tag(key, strlen(key), &taglen);

    return crc16(tag, taglen) & 16383;
}

static char *base_of(const tuple *t)
{
    size_t len = 0;
    char *key = lh__key_base(t->root, t->prefix, t->args, t->nargs, &len);

    ck_assert_ptr_nonnull(key);
    ck_assert_uint_eq(len, strlen(key));
    return key;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort 'keys' and fail if two are equal: the tuples they came from were
 * all different, so a repeat is a collision. */
static void assert_all_distinct(char **keys, size_t n)
{
    size_t i;

    qsort(keys, n, sizeof(*keys), cmp_str);
    for (i = 1; i < n; i++)
        ck_assert_msg(strcmp(keys[i - 1], keys[i]) != 0,
                      "two tuples map to the key \"%s\"", keys[i]);
}

static void free_keys(char **keys, size_t n)
{
    while (n > 0)
        lh__free(keys[--n]);
    free(keys);
}

/* Parse 'key' and compare the parts with 't'. */
static void assert_parses_to(const char *key, const tuple *t)
{
    char *root = NULL, *prefix = NULL, **args = NULL;
    size_t nargs = 99, i;

    ck_assert_msg(
        lh__key_parse(key, strlen(key), &root, &prefix, &args, &nargs),
        "cannot parse \"%s\"", key);
    ck_assert_str_eq(root, t->root);
    ck_assert_str_eq(prefix, t->prefix);
    ck_assert_uint_eq(nargs, t->nargs);
    for (i = 0; i < nargs; i++)
        ck_assert_str_eq(args[i], t->args[i]);
    for (i = 0; i < nargs; i++)
        lh__free(args[i]);
    lh__free(args);
    lh__free(root);
    lh__free(prefix);
}

/* ---- the table ---------------------------------------------------------- */

/* All different tuples, chosen to collide under a careless mapping. */
static const tuple tuples[] = {
    {"lh", "person", 1, {"42"}},
    {"lh", "person", 1, {"a:b"}},
    {"lh", "person", 2, {"a", "b"}},
    {"lh", "person", 0, {NULL}},
    {"lh", "person", 1, {""}},
    {"lh", "person", 2, {"", ""}},
    {"lh", "person", 3, {"", "", ""}},
    {"lh", "person", 2, {"a:", "b"}},
    {"lh", "person", 2, {"a", ":b"}},
    {"lh", "person:a", 0, {NULL}},
    {"lh", "person", 1, {"a"}},
    {"lh:person", "a", 0, {NULL}},
    {"l", "h:person", 1, {"a"}},
    {"lh", "p", 1, {":"}},
    {"lh", "p", 1, {"%3A"}},
    {"lh", "p", 1, {"%"}},
    {"lh", "p", 1, {"%25"}},
    {"lh", "p", 1, {"%%"}},
    {"lh", "p", 1, {"{"}},
    {"lh", "p", 1, {"}"}},
    {"lh", "p", 1, {"{x}"}},
    {"lh", "p", 1, {"}{"}},
    {"lh", "p", 1, {"\\"}},
    {"lh", "p", 1, {"\\:"}},
    {"lh", "p", 1, {"*"}},
    {"lh", "p", 1, {"?"}},
    {"lh", "p", 1, {"["}},
    {"lh", "p", 1, {"]"}},
    {"lh", "p", 1, {"[a-z]*?"}},
    {"lh", "p", 1, {" "}},
    {"lh", "p", 1, {"  "}},
    {"lh", "p", 1, {"a b"}},
    {"lh", "p", 1, {"\x01"}},
    {"lh", "p", 1, {"\x1f"}},
    {"lh", "p", 1, {"\x7f"}},
    {"lh", "p", 1, {"\t\r\n"}},
    {"lh", "p", 1, {"\xc3\xa9"}},
    {"lh", "p", 1, {"%C3%A9"}},
    {"lh", "p", 1, {"\xe6\x97\xa5\xe6\x9c\xac"}},
    {"lh", "p", 1, {"\xf0\x9f\x98\x80"}},
    {"lh", "p", 2, {"\xf0\x9f\x98\x80", "%F0%9F%98%80"}},
    {"{", "}", 1, {":"}},
    {"}", "{", 1, {":"}},
    {"a b", "c d", 2, {"e f", "g"}},
    {"r", "p", 4, {"x", "", "y", ""}},
    {"r",
     "p",
     16,
     {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e",
      "f"}},
    {"r",
     "p",
     16,
     {"", "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""}},
    {"\xc3\xa9", "\xe2\x82\xac", 1, {"\xc2\xa0"}},
    {"%", "%", 1, {"%"}},
    {":", ":", 1, {":"}},
};

#define NTUPLES (sizeof(tuples) / sizeof(tuples[0]))

/* ---- base key ----------------------------------------------------------- */

START_TEST(base_is_one_hash_tag)
{
    const tuple *t = &tuples[_i];
    char *key = base_of(t);
    size_t len = strlen(key), i, colons = 0;

    ck_assert_int_eq(key[0], '{');
    ck_assert_int_eq(key[len - 1], '}');
    ck_assert_ptr_null(memchr(key + 1, '{', len - 2));
    ck_assert_ptr_null(memchr(key + 1, '}', len - 2));
    for (i = 0; i < len; i++)
        colons += key[i] == ':';
    /* one separator after the root, one before each argument */
    ck_assert_uint_eq(colons, 1 + t->nargs);
    lh__free(key);
}
END_TEST

START_TEST(base_parses_back)
{
    char *key = base_of(&tuples[_i]);

    assert_parses_to(key, &tuples[_i]);
    lh__free(key);
}
END_TEST

START_TEST(base_table_injective)
{
    char **keys = calloc(NTUPLES, sizeof(*keys));
    size_t i;

    ck_assert_ptr_nonnull(keys);
    for (i = 0; i < NTUPLES; i++)
        keys[i] = base_of(&tuples[i]);
    assert_all_distinct(keys, NTUPLES);
    free_keys(keys, NTUPLES);
}
END_TEST

static void assert_keys_differ(const tuple *a, const tuple *b)
{
    char *ka = base_of(a), *kb = base_of(b);

    ck_assert_str_ne(ka, kb);
    lh__free(ka);
    lh__free(kb);
}

START_TEST(arity_counts)
{
    static const tuple one = {"lh", "p", 1, {"a:b"}};
    static const tuple two = {"lh", "p", 2, {"a", "b"}};
    static const tuple none = {"lh", "p", 0, {NULL}};
    static const tuple empty1 = {"lh", "p", 1, {""}};
    static const tuple empty2 = {"lh", "p", 2, {"", ""}};
    static const tuple in_prefix = {"lh", "p:a", 0, {NULL}};
    static const tuple as_arg = {"lh", "p", 1, {"a"}};

    assert_keys_differ(&one, &two);
    assert_keys_differ(&none, &empty1);
    assert_keys_differ(&empty1, &empty2);
    assert_keys_differ(&none, &empty2);
    assert_keys_differ(&in_prefix, &as_arg);
}
END_TEST

START_TEST(base_spelling)
{
    static const tuple plain = {"lh", "person", 1, {"42"}};
    static const tuple tricky = {"lh", "p", 3, {"a:b", "{%}", ""}};
    static const tuple none = {"lh", "p", 0, {NULL}};
    char *k;

    k = base_of(&plain);
    ck_assert_str_eq(k, "{lh:person:42}");
    lh__free(k);
    k = base_of(&tricky);
    ck_assert_str_eq(k, "{lh:p:a%3Ab:%7B%25%7D:}");
    lh__free(k);
    k = base_of(&none);
    ck_assert_str_eq(k, "{lh:p}");
    lh__free(k);
}
END_TEST

static const struct {
    const char *in;
    const char *out;
} escapes[] = {
    {"", ""},
    {"abc", "abc"},
    {":", "%3A"},
    {"%", "%25"},
    {"{", "%7B"},
    {"}", "%7D"},
    {"*", "%2A"},
    {"?", "%3F"},
    {"[", "%5B"},
    {"]", "%5D"},
    {"\\", "%5C"},
    {"\x01", "%01"},
    {"\x1f", "%1F"},
    {"\x7f", "%7F"},
    {" ", " "},
    {"\xc3\xa9", "\xc3\xa9"},
    {"a:b:c", "a%3Ab%3Ac"},
};

START_TEST(escape_table)
{
    const char *in = escapes[_i].in;
    char out[64];
    size_t n = lh__key_escape(out, in, strlen(in));

    ck_assert_uint_eq(n, strlen(escapes[_i].out));
    ck_assert_str_eq(out, escapes[_i].out);
}
END_TEST

START_TEST(suffixed)
{
    size_t len = 0;
    char *k = lh__key_suffixed("{r:p:1}", 7, ":m", 2, &len);

    ck_assert_str_eq(k, "{r:p:1}:m");
    ck_assert_uint_eq(len, 9);
    lh__free(k);
    k = lh__key_suffixed("{r:p:1}", 7, "", 0, NULL);
    ck_assert_str_eq(k, "{r:p:1}");
    lh__free(k);
}
END_TEST

/* ---- exhaustive and randomized injectivity ------------------------------ */

/* Strings of length 0..3 over an alphabet that can spell an escape. */
static const char alphabet[] = ":%3A";
#define NALPHA 4
#define NSMALL (1 + NALPHA + NALPHA * NALPHA + NALPHA * NALPHA * NALPHA)

static void small_string(char *buf, size_t index)
{
    size_t len = 0, n = 1, base = 0;

    while (index >= base + n) {
        base += n;
        n *= NALPHA;
        len++;
    }
    index -= base;
    buf[len] = '\0';
    while (len-- > 0) {
        buf[len] = alphabet[index % NALPHA];
        index /= NALPHA;
    }
}

START_TEST(exhaustive_small_alphabet)
{
    static const char *roots[] = {"r", "r:"};
    static const char *prefixes[] = {"p", "%", "p:%3A"};
    size_t per = 1 + NSMALL + NSMALL * NSMALL;
    size_t total = 2 * 3 * per, n = 0, r, p, a, b;
    char **keys = calloc(total, sizeof(*keys));
    char s1[8], s2[8];
    tuple t;

    ck_assert_ptr_nonnull(keys);
    for (r = 0; r < 2; r++)
        for (p = 0; p < 3; p++) {
            t.root = roots[r];
            t.prefix = prefixes[p];
            t.args[0] = s1;
            t.args[1] = s2;
            t.nargs = 0;
            keys[n++] = base_of(&t);
            for (a = 0; a < NSMALL; a++) {
                small_string(s1, a);
                t.nargs = 1;
                keys[n++] = base_of(&t);
                t.nargs = 2;
                for (b = 0; b < NSMALL; b++) {
                    small_string(s2, b);
                    keys[n++] = base_of(&t);
                }
            }
        }
    ck_assert_uint_eq(n, total);
    assert_all_distinct(keys, n);
    free_keys(keys, n);
}
END_TEST

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static const char *const tokens[] = {
    "a", ":", "%", "3A",   "{",    "}",        "\\",  "*", "?",
    "[", "]", " ", "\x01", "\x7f", "\xc3\xa9", "%25", "",
};
#define NTOKENS (sizeof(tokens) / sizeof(tokens[0]))

/* A random string of 'min'..3 tokens into 'buf' (room for 64 bytes). */
static void random_part(char *buf, size_t min)
{
    size_t n = min + rng() % (4 - min), i, o = 0;

    for (i = 0; i < n; i++) {
        const char *tok = tokens[rng() % (NTOKENS - 1)];

        memcpy(buf + o, tok, strlen(tok));
        o += strlen(tok);
    }
    buf[o] = '\0';
}

typedef struct rtuple {
    char parts[2 + 4][64];
    tuple t;
    char *key;
} rtuple;

static void random_tuple(rtuple *rt)
{
    size_t i;

    random_part(rt->parts[0], 1);
    random_part(rt->parts[1], 1);
    rt->t.root = rt->parts[0];
    rt->t.prefix = rt->parts[1];
    rt->t.nargs = rng() % 5;
    for (i = 0; i < rt->t.nargs; i++) {
        random_part(rt->parts[2 + i], 0);
        rt->t.args[i] = rt->parts[2 + i];
    }
    rt->key = base_of(&rt->t);
}

static int same_tuple(const tuple *a, const tuple *b)
{
    size_t i;

    if (strcmp(a->root, b->root) || strcmp(a->prefix, b->prefix) ||
        a->nargs != b->nargs)
        return 0;
    for (i = 0; i < a->nargs; i++)
        if (strcmp(a->args[i], b->args[i]) != 0)
            return 0;
    return 1;
}

static int cmp_rkey(const void *a, const void *b)
{
    return strcmp(((const rtuple *)a)->key, ((const rtuple *)b)->key);
}

START_TEST(randomized_tricky_bytes)
{
    enum { N = 2500 };
    rtuple *rt = calloc(N, sizeof(*rt));
    size_t i;

    ck_assert_ptr_nonnull(rt);
    for (i = 0; i < N; i++) {
        random_tuple(&rt[i]);
        assert_parses_to(rt[i].key, &rt[i].t);
    }
    qsort(rt, N, sizeof(*rt), cmp_rkey);
    for (i = 0; i < N; i++) {
        /* qsort moved the parts: point the tuple at its own copy again */
        size_t k;

        rt[i].t.root = rt[i].parts[0];
        rt[i].t.prefix = rt[i].parts[1];
        for (k = 0; k < rt[i].t.nargs; k++)
            rt[i].t.args[k] = rt[i].parts[2 + k];
    }
    for (i = 1; i < N; i++)
        if (strcmp(rt[i - 1].key, rt[i].key) == 0)
            ck_assert_msg(same_tuple(&rt[i - 1].t, &rt[i].t),
                          "different tuples share the key \"%s\"", rt[i].key);
    for (i = 0; i < N; i++)
        lh__free(rt[i].key);
    free(rt);
}
END_TEST

/* ---- parsing foreign keys ------------------------------------------------ */

static const char *const not_ours[] = {
    "",          "{}",        "{r}",     "r:p",         "{r:p",
    "r:p}",      "{r:p}}",    "{r:}p}",  "{r:p:%}",     "{r:p:%4}",
    "{r:p:%zz}", "{r:p:%4G}", "{r:p}:m", "{r:p:1}:d:}", "x{r:p}",
};

START_TEST(parse_rejects)
{
    const char *key = not_ours[_i];
    char *root = NULL, *prefix = NULL, **args = NULL;
    size_t nargs = 0;

    ck_assert_msg(
        !lh__key_parse(key, strlen(key), &root, &prefix, &args, &nargs),
        "\"%s\" parsed as a base key", key);
}
END_TEST

/* ---- SCAN pattern ------------------------------------------------------- */

/* Glob match for patterns whose only metacharacter is '*'. */
static int star_match(const char *pat, const char *s)
{
    if (*pat == '\0')
        return *s == '\0';
    if (*pat == '*') {
        for (;; s++) {
            if (star_match(pat + 1, s))
                return 1;
            if (*s == '\0')
                return 0;
        }
    }
    return *pat == *s && star_match(pat + 1, s + 1);
}

static const struct {
    const char *root;
    const char *prefix;
} names[] = {
    {"lh", "person"}, {"*", "?"},      {"[a-z]", "]["},
    {"\\", "\\*"},    {"a:b", "c:d"},  {"{", "}"},
    {"%2A", "%"},     {"a b", "\x01"}, {"\xc3\xa9", "\xf0\x9f\x98\x80"},
};

START_TEST(pattern_is_literal)
{
    const char *root = names[_i].root, *prefix = names[_i].prefix;
    char *pat = lh__key_pattern(root, prefix);
    size_t len;

    ck_assert_ptr_nonnull(pat);
    len = strlen(pat);
    ck_assert_uint_ge(len, 4);
    ck_assert_str_eq(pat + len - 3, ":*}");
    ck_assert_int_eq(pat[0], '{');
    ck_assert_ptr_eq(strchr(pat, '*'), pat + len - 2);
    ck_assert_ptr_null(strpbrk(pat, "?[]\\"));
    lh__free(pat);
}
END_TEST

START_TEST(pattern_matches_own_leases)
{
    const char *root = names[_i].root, *prefix = names[_i].prefix;
    char *pat = lh__key_pattern(root, prefix), *k;
    tuple t = {NULL, NULL, 0, {"1", "a:*", "}"}};
    char longer[300];

    t.root = root;
    t.prefix = prefix;
    for (t.nargs = 0; t.nargs <= 3; t.nargs++) {
        k = base_of(&t);
        /* arity 0 has no argument part to match */
        ck_assert_int_eq(star_match(pat, k), t.nargs > 0);
        lh__free(k);
    }
    t.nargs = 1;
    snprintf(longer, sizeof(longer), "%sx", prefix);
    t.prefix = longer;
    k = base_of(&t);
    ck_assert_msg(!star_match(pat, k), "%s matches %s", pat, k);
    lh__free(k);
    snprintf(longer, sizeof(longer), "%s:x", prefix);
    k = base_of(&t);
    ck_assert_msg(!star_match(pat, k), "%s matches %s", pat, k);
    lh__free(k);
    lh__free(pat);
}
END_TEST

/* ---- data keys and slots ------------------------------------------------ */

static lh_lease *lease_for(const tuple *t)
{
    lh_lease *l = NULL;

    ck_assert_int_eq(lh__lease_new(&l, t->root, t->prefix, t->args, t->nargs,
                                   "0123456789abcdef0123456789abcdef", 1, 1000,
                                   1000),
                     LH_OK);
    return l;
}

static lh_factory *factory_for(const tuple *t)
{
    lh_factory_options o = LH_FACTORY_OPTIONS_INIT;
    lh_factory *f = NULL;
    lh_error err;

    o.root = t->root;
    ck_assert_msg(
        lh_factory_new(&f, t->prefix, (int)t->nargs, 1000, &o, &err) == LH_OK,
        "%s", err.message);
    return f;
}

static const char *const data_names[] = {"counter", "",  "{x}",     "}",
                                         "a:b",     "{", "\xc3\xa9"};

START_TEST(data_keys_agree)
{
    const tuple *t = &tuples[_i];
    lh_factory *f = factory_for(t);
    lh_lease *l = lease_for(t);
    char *base = base_of(t), *fk, *lk;
    size_t i, blen = strlen(base);
    lh_error err;

    for (i = 0; i < sizeof(data_names) / sizeof(data_names[0]); i++) {
        ck_assert_int_eq(
            lh_factory_data_key(&fk, f, t->args, t->nargs, data_names[i], &err),
            LH_OK);
        ck_assert_int_eq(lh_lease_data_key(&lk, l, data_names[i]), LH_OK);
        ck_assert_str_eq(fk, lk);
        ck_assert_int_eq(strncmp(fk, base, blen), 0);
        ck_assert_str_eq(fk + blen + 3, data_names[i]);
        ck_assert_uint_eq(slot_of(fk), slot_of(base));
        lh_free(fk);
        lh_free(lk);
    }
    lh__free(base);
    lh_lease_free(l);
    lh_factory_free(f);
}
END_TEST

START_TEST(one_slot_per_resource)
{
    const tuple *t = &tuples[_i];
    lh_lease *l = lease_for(t);
    char *base = base_of(t), *key, *meta;
    size_t taglen;
    const char *tag = hash_tag(base, strlen(base), &taglen);

    /* the whole base is the tag: root, prefix and every argument */
    ck_assert_ptr_eq(tag, base + 1);
    ck_assert_uint_eq(taglen, strlen(base) - 2);
    meta = lh__key_suffixed(base, strlen(base), ":m", 2, NULL);
    ck_assert_int_eq(lh_lease_key(&key, l), LH_OK);
    ck_assert_str_eq(key, base);
    ck_assert_uint_eq(slot_of(meta), slot_of(base));
    ck_assert_uint_eq(slot_of(l->key), slot_of(base));
    lh_free(key);
    lh__free(meta);
    lh__free(base);
    lh_lease_free(l);
}
END_TEST

START_TEST(tags_differ_between_resources)
{
    char *keys[NTUPLES];
    size_t i, j, li, lj;
    const char *ti, *tj;

    for (i = 0; i < NTUPLES; i++)
        keys[i] = base_of(&tuples[i]);
    for (i = 0; i < NTUPLES; i++)
        for (j = i + 1; j < NTUPLES; j++) {
            ti = hash_tag(keys[i], strlen(keys[i]), &li);
            tj = hash_tag(keys[j], strlen(keys[j]), &lj);
            ck_assert_msg(li != lj || memcmp(ti, tj, li) != 0,
                          "rows %zu and %zu share a hash tag", i, j);
        }
    for (i = 0; i < NTUPLES; i++)
        lh__free(keys[i]);
}
END_TEST

START_TEST(resources_spread_over_slots)
{
    enum { N = 2000 };
    static unsigned char used[16384];
    tuple t = {"lh", "job", 1, {NULL}};
    char arg[16], *k;
    size_t i, distinct = 0;

    t.args[0] = arg;
    for (i = 0; i < N; i++) {
        snprintf(arg, sizeof(arg), "%zu", i);
        k = base_of(&t);
        distinct += !used[slot_of(k)];
        used[slot_of(k)] = 1;
        lh__free(k);
    }
    /* about 1880 expected for uniform hashing */
    ck_assert_uint_ge(distinct, 1700);
}
END_TEST

START_TEST(crc16_matches_redis)
{
    ck_assert_uint_eq(crc16("123456789", 9), 0x31c3);
    ck_assert_uint_eq(slot_of("foo"), 12182);
    ck_assert_uint_eq(slot_of("bar"), 5061);
    ck_assert_uint_eq(slot_of("hello"), 866);
    ck_assert_uint_eq(slot_of("{user1000}.following"), 3443);
    ck_assert_uint_eq(slot_of("foo{}{bar}"), 8363);
    ck_assert_uint_eq(slot_of("foo{{bar}}zap"), 4015);
    ck_assert_uint_eq(slot_of("{lh:person:42}"), 2893);
    ck_assert_uint_eq(slot_of("{lh:person:42}:m"), 2893);
}
END_TEST

START_TEST(data_key_rejects)
{
    static const char *const one[] = {"a"};
    static const char *const two[] = {"a", "b"};
    static const char *const null_arg[] = {NULL};
    static const char *const bad_utf8[] = {"\xff"};
    tuple t = {"r", "p", 1, {"a"}};
    lh_factory *f = factory_for(&t);
    lh_lease *l = lease_for(&t);
    char *k = (char *)"x";
    lh_error err;

    ck_assert_int_eq(lh_factory_data_key(&k, f, two, 2, "n", &err),
                     LH_ERR_INVALID);
    ck_assert_ptr_null(k);
    ck_assert_ptr_nonnull(strstr(err.message, "arity"));
    ck_assert_int_eq(lh_factory_data_key(&k, f, NULL, 1, "n", &err),
                     LH_ERR_INVALID);
    ck_assert_int_eq(lh_factory_data_key(&k, f, null_arg, 1, "n", &err),
                     LH_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.message, "args[0]"));
    ck_assert_int_eq(lh_factory_data_key(&k, f, bad_utf8, 1, "n", &err),
                     LH_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.message, "args[0]"));
    ck_assert_int_eq(lh_factory_data_key(&k, f, one, 1, NULL, NULL),
                     LH_ERR_INVALID);
    ck_assert_int_eq(lh_factory_data_key(&k, NULL, one, 1, "n", NULL),
                     LH_ERR_INVALID);
    ck_assert_int_eq(lh_factory_data_key(NULL, f, one, 1, "n", NULL),
                     LH_ERR_INVALID);
    ck_assert_int_eq(lh_lease_data_key(&k, l, NULL), LH_ERR_INVALID);
    ck_assert_ptr_null(k);
    ck_assert_int_eq(lh_lease_data_key(&k, NULL, "n"), LH_ERR_INVALID);
    ck_assert_int_eq(lh_lease_data_key(NULL, l, "n"), LH_ERR_INVALID);
    lh_lease_free(l);
    lh_factory_free(f);
}
END_TEST

static Suite *keys_suite(void)
{
    Suite *s = suite_create("keys");
    TCase *tc;
    int n = (int)NTUPLES;

    tc = tcase_create("base");
    tcase_add_loop_test(tc, base_is_one_hash_tag, 0, n);
    tcase_add_loop_test(tc, base_parses_back, 0, n);
    tcase_add_test(tc, base_table_injective);
    tcase_add_test(tc, arity_counts);
    tcase_add_test(tc, base_spelling);
    tcase_add_loop_test(tc, escape_table, 0,
                        (int)(sizeof(escapes) / sizeof(escapes[0])));
    tcase_add_test(tc, suffixed);
    tcase_add_loop_test(tc, parse_rejects, 0,
                        (int)(sizeof(not_ours) / sizeof(not_ours[0])));
    suite_add_tcase(s, tc);

    tc = tcase_create("injective");
    tcase_add_test(tc, exhaustive_small_alphabet);
    tcase_add_test(tc, randomized_tricky_bytes);
    tcase_set_timeout(tc, 20);
    suite_add_tcase(s, tc);

    tc = tcase_create("pattern");
    tcase_add_loop_test(tc, pattern_is_literal, 0,
                        (int)(sizeof(names) / sizeof(names[0])));
    tcase_add_loop_test(tc, pattern_matches_own_leases, 0,
                        (int)(sizeof(names) / sizeof(names[0])));
    suite_add_tcase(s, tc);

    tc = tcase_create("slots");
    tcase_add_test(tc, crc16_matches_redis);
    tcase_add_loop_test(tc, data_keys_agree, 0, n);
    tcase_add_loop_test(tc, one_slot_per_resource, 0, n);
    tcase_add_test(tc, tags_differ_between_resources);
    tcase_add_test(tc, resources_spread_over_slots);
    tcase_add_test(tc, data_key_rejects);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(keys_suite());
}
