/*
 * list.c - the leases held under a factory's root and prefix.
 *
 * Base keys of arity >= 1 match the SCAN pattern "{root:prefix:*}"
 * (lh__key_pattern); keys that do not parse back, or whose arity is not the
 * factory's, are skipped before anything is read. Each batch of candidates
 * is read in one pipeline: GET and PTTL per key, then one TIME. A value is
 * read as src/lua/inspect.lua reads it (doc/PROTOCOL.md): held when its
 * first byte is not '-', the id in the first 32 bytes, the fence in base 36
 * up to the first '|', and after an optional '|history' a '|deadline' in
 * base-36 server ms. A held value whose deadline has passed is expired; the
 * TTL left is the deadline minus the server time, or the key's PTTL when
 * there is no deadline. Arity 0 has one base key, read directly.
 *
 * SCAN may return a key twice (when the keyspace shrinks during the scan),
 * so the keys already reported are kept in a small hash set and a lease
 * held throughout is reported once.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define SCAN_COUNT "1000"

/* The keys reported so far: open addressing, FNV-1a, at most half full. */
typedef struct seen_set {
    char **slot;
    size_t *len;
    size_t cap, n;
} seen_set;

typedef struct lister {
    lh_client *c;
    const lh_factory *f;
    lh_list_fn fn;
    void *payload;
    seen_set seen;
    int stop;
} lister;

/* One key of a batch that parsed back with the factory's arity. */
typedef struct candidate {
    const char *key;
    size_t len;
    char **args;
    size_t nargs;
} candidate;

/* ---- the set of reported keys ------------------------------------------ */

static uint64_t fnv1a(const char *s, size_t len)
{
    uint64_t h = 14695981039346656037ULL;
    size_t i;

    for (i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* The slot that holds 'key', or the empty slot where it would go. */
static size_t seen_find(const seen_set *s, const char *key, size_t len)
{
    size_t i = (size_t)fnv1a(key, len) & (s->cap - 1);

    while (s->slot[i] &&
           (s->len[i] != len || memcmp(s->slot[i], key, len) != 0))
        i = (i + 1) & (s->cap - 1);
    return i;
}

static int seen_grow(seen_set *s)
{
    seen_set g;
    size_t i, j;

    g.cap = s->cap ? 2 * s->cap : 256;
    g.n = s->n;
    g.slot = lh__calloc(g.cap, sizeof(*g.slot));
    g.len = lh__calloc(g.cap, sizeof(*g.len));
    if (g.slot == NULL || g.len == NULL) {
        lh__free(g.slot);
        lh__free(g.len);
        return -1;
    }
    for (i = 0; i < s->cap; i++) {
        if (s->slot[i] == NULL)
            continue;
        j = seen_find(&g, s->slot[i], s->len[i]);
        g.slot[j] = s->slot[i];
        g.len[j] = s->len[i];
    }
    lh__free(s->slot);
    lh__free(s->len);
    *s = g;
    return 0;
}

/* 1 if 'key' is new (and now recorded), 0 if seen before, -1 on NOMEM. */
static int seen_add(seen_set *s, const char *key, size_t len)
{
    size_t i;

    if (2 * (s->n + 1) > s->cap && seen_grow(s) != 0)
        return -1;
    i = seen_find(s, key, len);
    if (s->slot[i])
        return 0;
    if ((s->slot[i] = lh__memdup(key, len)) == NULL)
        return -1;
    s->len[i] = len;
    s->n++;
    return 1;
}

static void seen_free(seen_set *s)
{
    size_t i;

    for (i = 0; i < s->cap; i++)
        lh__free(s->slot[i]);
    lh__free(s->slot);
    lh__free(s->len);
}

/* ---- reading a value ----------------------------------------------------- */

/* A non-negative base-36 number of 'len' bytes; -1 if malformed. */
static int64_t base36(const char *s, size_t len)
{
    int64_t v = 0;
    size_t i;

    if (len == 0 || len > 12) /* 36^12 > 2^62: no overflow below */
        return -1;
    for (i = 0; i < len; i++) {
        char ch = s[i];
        int d = ch >= '0' && ch <= '9'   ? ch - '0'
                : ch >= 'a' && ch <= 'z' ? ch - 'a' + 10
                : ch >= 'A' && ch <= 'Z' ? ch - 'A' + 10
                                         : -1;

        if (d < 0)
            return -1;
        v = v * 36 + d;
    }
    return v;
}

/* Read a lease value: 1 if it is held at 'now' (filling 'id', *fence and
 * *left, the TTL left), else 0 (released, expired, or not ours). */
static int read_value(const redisReply *v, long long pttl, int64_t now,
                      char id[LH_ID_HEX_LEN + 1], int64_t *fence, int64_t *left)
{
    const char *s, *end, *bar, *bar2 = NULL;

    if (v->type != REDIS_REPLY_STRING || v->len <= LH_ID_HEX_LEN ||
        v->str[0] == '-')
        return 0;
    s = v->str, end = v->str + v->len;
    memcpy(id, s, LH_ID_HEX_LEN);
    id[LH_ID_HEX_LEN] = '\0';
    bar = memchr(s + LH_ID_HEX_LEN, '|', (size_t)(end - s) - LH_ID_HEX_LEN);
    if (bar)
        bar2 = memchr(bar + 1, '|', (size_t)(end - bar - 1));
    *fence = base36(s + LH_ID_HEX_LEN,
                    (size_t)((bar ? bar : end) - s) - LH_ID_HEX_LEN);
    if (!lh__id_valid(id) || *fence < 0)
        return 0;
    if (bar2) {
        int64_t deadline = base36(bar2 + 1, (size_t)(end - bar2 - 1));

        *left = deadline < 0 ? 0 : deadline - now;
    } else {
        *left = pttl;
    }
    return *left > 0;
}

/* Server time in ms from a TIME reply; -1 if it is not one. */
static int64_t time_ms(const redisReply *r)
{
    long long sec, usec;
    char *end;

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING ||
        r->element[1]->type != REDIS_REPLY_STRING)
        return -1;
    sec = strtoll(r->element[0]->str, &end, 10);
    if (*end != '\0' || sec < 0)
        return -1;
    usec = strtoll(r->element[1]->str, &end, 10);
    if (*end != '\0' || usec < 0)
        return -1;
    return (int64_t)sec * 1000 + usec / 1000;
}

/* ---- reporting ----------------------------------------------------------- */

/* Call the callback for 'k' if its GET and PTTL replies say it is held and
 * it has not been reported yet. */
static lh_status report(lister *ls, const candidate *k, const redisReply *get,
                        const redisReply *pttl, int64_t now)
{
    char id[LH_ID_HEX_LEN + 1];
    int64_t fence, left;
    lh_lease *l;
    int fresh = 1;

    if (pttl->type != REDIS_REPLY_INTEGER ||
        !read_value(get, pttl->integer, now, id, &fence, &left))
        return LH_OK;
    if (ls->f->arity > 0 && (fresh = seen_add(&ls->seen, k->key, k->len)) <= 0)
        return fresh == 0
                   ? LH_OK
                   : lh__fail(ls->c, LH_ERR_NOMEM, "list: out of memory");
    if (lh__lease_new(&l, ls->f->root, ls->f->prefix,
                      (const char *const *)k->args, k->nargs, id, fence, left,
                      ls->f->retention_ms) != LH_OK)
        return lh__fail(ls->c, LH_ERR_NOMEM, "list: out of memory");
    ls->stop = ls->fn(l, ls->payload) != 0;
    lh_lease_free(l);
    return LH_OK;
}

/* Read 'n' candidates in one pipeline (GET and PTTL each, then TIME) and
 * report the held ones. */
static lh_status read_batch(lister *ls, const candidate *k, size_t n)
{
    size_t ncmd = 2 * n + 1, i;
    const char **argv = lh__calloc(2 * ncmd, sizeof(*argv));
    size_t *lens = lh__calloc(2 * ncmd, sizeof(*lens));
    lh__cmd *cmds = lh__calloc(ncmd, sizeof(*cmds));
    redisReply **r = lh__calloc(ncmd, sizeof(*r));
    lh_status st = LH_ERR_NOMEM;
    int64_t now;

    if (argv == NULL || lens == NULL || cmds == NULL || r == NULL) {
        lh__fail(ls->c, st, "list: out of memory");
        goto done;
    }
    for (i = 0; i < ncmd; i++) {
        argv[2 * i] = i == ncmd - 1 ? "TIME" : i % 2 ? "PTTL" : "GET";
        lens[2 * i] = strlen(argv[2 * i]);
        argv[2 * i + 1] = i < ncmd - 1 ? k[i / 2].key : NULL;
        lens[2 * i + 1] = i < ncmd - 1 ? k[i / 2].len : 0;
        cmds[i].argc = i == ncmd - 1 ? 1 : 2;
        cmds[i].argv = argv + 2 * i;
        cmds[i].argvlen = lens + 2 * i;
    }
    if ((st = lh__conn_pipeline(ls->c, k[0].key, ncmd, cmds, r)) != LH_OK)
        goto done;
    if ((now = time_ms(r[ncmd - 1])) < 0) {
        st = lh__fail(ls->c, LH_ERR_IO, "list: unexpected reply to TIME");
        goto done;
    }
    for (i = 0; i < n && st == LH_OK && !ls->stop; i++)
        st = report(ls, &k[i], r[2 * i], r[2 * i + 1], now);
done:
    for (i = 0; r && i < ncmd; i++)
        if (r[i])
            freeReplyObject(r[i]);
    lh__free(argv);
    lh__free(lens);
    lh__free(cmds);
    lh__free(r);
    return st;
}

/* ---- scanning ----------------------------------------------------------- */

static void free_args(char **args, size_t nargs)
{
    while (nargs > 0)
        lh__free(args[--nargs]);
    lh__free(args);
}

/* Parse 'key' into 'k' if it is a base key of the factory's root, prefix
 * and arity: 1 if so, 0 if not, -1 on NOMEM (never told apart from "not
 * ours" by lh__key_parse, so a key lost to NOMEM is merely skipped). */
static int candidate_parse(const lh_factory *f, const redisReply *key,
                           candidate *k)
{
    char *root = NULL, *prefix = NULL, **args = NULL;
    size_t nargs = 0;
    int ours;

    if (key->type != REDIS_REPLY_STRING ||
        !lh__key_parse(key->str, key->len, &root, &prefix, &args, &nargs))
        return 0;
    ours = nargs == (size_t)f->arity && strcmp(root, f->root) == 0 &&
           strcmp(prefix, f->prefix) == 0;
    lh__free(root);
    lh__free(prefix);
    if (!ours) {
        free_args(args, nargs);
        return 0;
    }
    k->key = key->str, k->len = key->len;
    k->args = args, k->nargs = nargs;
    return 1;
}

/* Report the held leases among the keys of one SCAN reply. */
static lh_status scan_batch(lister *ls, const redisReply *keys)
{
    candidate *k;
    size_t n = 0, i;
    lh_status st = LH_OK;

    if (keys->elements == 0)
        return LH_OK;
    if ((k = lh__calloc(keys->elements, sizeof(*k))) == NULL)
        return lh__fail(ls->c, LH_ERR_NOMEM, "list: out of memory");
    for (i = 0; i < keys->elements; i++)
        n += candidate_parse(ls->f, keys->element[i], &k[n]);
    if (n > 0)
        st = read_batch(ls, k, n);
    for (i = 0; i < n; i++)
        free_args(k[i].args, k[i].nargs);
    lh__free(k);
    return st;
}

/* SCAN with the factory's pattern until the cursor comes back to 0. */
static lh_status scan_all(lister *ls)
{
    const char *argv[6] = {"SCAN", "0", "MATCH", NULL, "COUNT", SCAN_COUNT};
    char *pattern = lh__key_pattern(ls->f->root, ls->f->prefix);
    char cursor[32] = "0";
    lh_status st = LH_OK;
    redisReply *r;

    if (pattern == NULL)
        return lh__fail(ls->c, LH_ERR_NOMEM, "list: out of memory");
    argv[3] = pattern;
    do {
        argv[1] = cursor;
        if ((st = lh__conn_call(ls->c, NULL, 6, argv, NULL, &r)) != LH_OK)
            break;
        if (r->type == REDIS_REPLY_ERROR) {
            st = lh__redis_error(ls->c, r, "list: SCAN");
        } else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
                   r->element[0]->type != REDIS_REPLY_STRING ||
                   r->element[0]->len >= sizeof(cursor) ||
                   r->element[1]->type != REDIS_REPLY_ARRAY) {
            st = lh__fail(ls->c, LH_ERR_IO, "list: unexpected reply to SCAN");
        } else {
            memcpy(cursor, r->element[0]->str, r->element[0]->len + 1);
            st = scan_batch(ls, r->element[1]);
        }
        freeReplyObject(r);
    } while (st == LH_OK && !ls->stop && strcmp(cursor, "0") != 0);
    lh__free(pattern);
    return st;
}

/* Arity 0: the one base key of the prefix. */
static lh_status read_single(lister *ls)
{
    candidate k;
    char *key;
    lh_status st;

    key = lh__key_base(ls->f->root, ls->f->prefix, NULL, 0, &k.len);
    if (key == NULL)
        return lh__fail(ls->c, LH_ERR_NOMEM, "list: out of memory");
    k.key = key, k.args = NULL, k.nargs = 0;
    st = read_batch(ls, &k, 1);
    lh__free(key);
    return st;
}

lh_status lh_resource_list(lh_client *client, const lh_factory *factory,
                           lh_list_fn fn, void *payload)
{
    lister ls;
    lh_status st;

    if (client == NULL)
        return LH_ERR_INVALID;
    lh__clear(client);
    if (factory == NULL || fn == NULL)
        return lh__fail(client, LH_ERR_INVALID,
                        "list: factory or callback is NULL");
    memset(&ls, 0, sizeof(ls));
    ls.c = client, ls.f = factory, ls.fn = fn, ls.payload = payload;
    st = factory->arity == 0 ? read_single(&ls) : scan_all(&ls);
    seen_free(&ls.seen);
    return st;
}
