/*
 * factory.c - the lease operations: acquire, confirm, extend, release,
 * guarded write and inspect, each one script call (one round trip).
 *
 * Each operation checks its input before anything is sent, so bad input
 * changes nothing in Redis, then reads the script's flat reply: a leading
 * 1 for success, -1 for not held, -2 for held by another lease id
 * (doc/PROTOCOL.md). A reply of any other shape is LH_ERR_IO (protocol).
 */
#include "internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* ---- factory ---------------------------------------------------------- */

void lh_factory_free(lh_factory *factory)
{
    if (factory == NULL)
        return;
    lh__free(factory->root);
    lh__free(factory->prefix);
    lh__free(factory);
}

lh_status lh_factory_new(lh_factory **out, const char *prefix, int arity,
                         int64_t ttl_ms, const lh_factory_options *opts,
                         lh_error *err)
{
    const char *root = opts && opts->root ? opts->root : LH__DEFAULT_ROOT;
    lh_factory *f;
    lh_status st;

    if (out == NULL)
        return lh__seterr(err, LH_ERR_INVALID, "factory: out is NULL");
    *out = NULL;
    if (opts && opts->version < 1)
        return lh__seterr(err, LH_ERR_INVALID, "factory options: bad version");
    if ((st = lh__check_name(err, "root", root)) != LH_OK ||
        (st = lh__check_name(err, "prefix", prefix)) != LH_OK ||
        (st = lh__check_ttl(err, "ttl", ttl_ms)) != LH_OK)
        return st;
    if (arity < 0 || arity > LH_MAX_ARITY)
        return lh__seterr(err, LH_ERR_INVALID, "arity: %d is outside 0 to %d",
                          arity, LH_MAX_ARITY);
    if (opts && (opts->retention_ms < 0 || opts->retention_ms > LH_MAX_TTL_MS))
        return lh__seterr(err, LH_ERR_INVALID,
                          "retention: outside 1 ms to 30 days");
    if ((f = lh__calloc(1, sizeof(*f))) == NULL ||
        (f->root = lh__strdup(root)) == NULL ||
        (f->prefix = lh__strdup(prefix)) == NULL) {
        lh_factory_free(f);
        return lh__seterr(err, LH_ERR_NOMEM, "factory: out of memory");
    }
    f->arity = arity;
    f->ttl_ms = ttl_ms;
    f->retention_ms = opts && opts->retention_ms ? opts->retention_ms
                                                 : LH__DEFAULT_RETENTION_MS;
    *out = f;
    return LH_OK;
}

const char *lh_factory_root(const lh_factory *factory)
{
    return factory ? factory->root : NULL;
}

const char *lh_factory_prefix(const lh_factory *factory)
{
    return factory ? factory->prefix : NULL;
}

int lh_factory_arity(const lh_factory *factory)
{
    return factory ? factory->arity : -1;
}

int64_t lh_factory_ttl_ms(const lh_factory *factory)
{
    return factory ? factory->ttl_ms : -1;
}

lh_status lh_factory_data_key(char **out, const lh_factory *factory,
                              const char *const *args, size_t nargs,
                              const char *name, lh_error *err)
{
    char *base;
    size_t len;

    if (out == NULL)
        return lh__seterr(err, LH_ERR_INVALID, "data key: out is NULL");
    *out = NULL;
    if (factory == NULL || name == NULL)
        return lh__seterr(err, LH_ERR_INVALID,
                          "data key: factory or name is NULL");
    if (lh__check_args(err, factory->arity, args, nargs) != LH_OK)
        return LH_ERR_INVALID;
    base = lh__key_base(factory->root, factory->prefix, args, nargs, &len);
    if (base)
        *out = lh__key_suffixed(base, len, ":d:", 3, &len);
    if (*out) {
        char *full = lh__key_suffixed(*out, len, name, strlen(name), NULL);

        lh__free(*out);
        *out = full;
    }
    lh__free(base);
    return *out ? LH_OK : lh__seterr(err, LH_ERR_NOMEM, "out of memory");
}

/* ---- replies ---------------------------------------------------------- */

lh_status lh__bad_reply(lh_client *c, redisReply *r, const char *op,
                        const char *key)
{
    lh__fail(c, LH_ERR_IO, "%s %.200s: unexpected reply from Redis", op, key);
    freeReplyObject(r);
    return LH_ERR_IO;
}

int lh__int_at(const redisReply *r, size_t i, long long *out)
{
    if (r->type != REDIS_REPLY_ARRAY || i >= r->elements ||
        r->element[i]->type != REDIS_REPLY_INTEGER)
        return 0;
    *out = r->element[i]->integer;
    return 1;
}

/* The {-1} / {-2} answers shared by confirm, extend, release and guard. */
static lh_status ownership(lh_client *c, long long code, const char *op,
                           const lh_lease *l)
{
    if (code == -1)
        return lh__fail(c, LH_ERR_NOT_HELD,
                        "%s %.200s: not held (expired or released)", op,
                        l->key);
    return lh__fail(c, LH_ERR_NOT_OWNED, "%s %.200s: held by another lease id",
                    op, l->key);
}

/* Call 'script' on the lease's key with ARGV = (id, extra...) and read a
 * reply {1, a, b} into 'out' (as ttl, fence), or its ownership failure. */
static lh_status owner_call(lh_client *c, const lh_lease *l, const char *op,
                            const lh__script *script, const char *extra,
                            lh_lease_state *out)
{
    const char *args[2] = {l->id, extra};
    redisReply *r;
    long long code, a = 0, b = 0;
    lh_status st;

    st = lh__script_call(c, script, 1, (const char *const *)&l->key, &l->keylen,
                         extra ? 2 : 1, args, NULL, &r);
    if (st != LH_OK)
        return st;
    if (!lh__int_at(r, 0, &code) || (code != 1 && code != -1 && code != -2) ||
        (code == 1 && (!lh__int_at(r, 1, &a) || !lh__int_at(r, 2, &b))))
        return lh__bad_reply(c, r, op, l->key);
    freeReplyObject(r);
    if (code != 1)
        return ownership(c, code, op, l);
    if (out) {
        out->ttl_ms = a;
        out->fence = b;
    }
    return LH_OK;
}

static lh_status check_lease(lh_client *c, const lh_lease *l)
{
    if (c == NULL)
        return LH_ERR_INVALID;
    lh__clear(c);
    if (l == NULL)
        return lh__fail(c, LH_ERR_INVALID, "lease is NULL");
    return LH_OK;
}

/* ---- operations (acquire is in acquire.c) ------------------------------ */

lh_status lh_lease_confirm(lh_lease_state *out, lh_client *c, const lh_lease *l)
{
    lh_status st = check_lease(c, l);

    return st ? st
              : owner_call(c, l, "confirm", &lh__script_confirm, NULL, out);
}

lh_status lh_lease_extend(lh_lease_state *out, lh_client *c, const lh_lease *l,
                          int64_t ttl_ms)
{
    lh_status st = check_lease(c, l);
    char ttl_text[24];
    lh_error e;

    if (st != LH_OK)
        return st;
    if (ttl_ms == 0)
        ttl_ms = l->ttl_ms;
    if (lh__check_ttl(&e, "extend: ttl", ttl_ms) != LH_OK)
        return lh__fail(c, LH_ERR_INVALID, "%s", e.message);
    snprintf(ttl_text, sizeof(ttl_text), "%" PRId64, ttl_ms);
    return owner_call(c, l, "extend", &lh__script_extend, ttl_text, out);
}

lh_status lh_lease_release(lh_client *c, const lh_lease *l, lh_outcome outcome)
{
    const char *name = lh_outcome_name(outcome), *argv[3];
    char retention[24];
    redisReply *r;
    long long code;
    lh_status st = check_lease(c, l);

    if (st != LH_OK)
        return st;
    if (name == NULL)
        return lh__fail(c, LH_ERR_INVALID, "release: unknown outcome %d",
                        (int)outcome);
    snprintf(retention, sizeof(retention), "%" PRId64, l->retention_ms);
    argv[0] = l->id, argv[1] = name, argv[2] = retention;
    st =
        lh__script_call(c, &lh__script_release, 1, (const char *const *)&l->key,
                        &l->keylen, 3, argv, NULL, &r);
    if (st != LH_OK)
        return st;
    if (!lh__int_at(r, 0, &code) || (code != 1 && code != -1 && code != -2))
        return lh__bad_reply(c, r, "release", l->key);
    freeReplyObject(r);
    return code == 1 ? LH_OK : ownership(c, code, "release", l);
}

lh_status lh_lease_scope(lh_client *c, const lh_lease *l, lh_lease_fn fn,
                         void *payload)
{
    lh_status st = check_lease(c, l);
    lh_outcome outcome;

    if (st != LH_OK)
        return st;
    if (fn == NULL)
        return lh__fail(c, LH_ERR_INVALID, "scope: fn is NULL");
    /* An outcome that is not one counts as failure: the lease is
     * released either way, never left held. */
    outcome = fn(c, l, payload);
    if (lh_outcome_name(outcome) == NULL)
        outcome = LH_OUTCOME_FAILURE;
    return lh_lease_release(c, l, outcome);
}

static void fill_info(lh_resource_info *out, const redisReply *r)
{
    const redisReply *o = r->element[3];

    out->held = r->element[0]->integer == 1;
    out->ttl_ms = r->element[1]->integer;
    out->fence = r->element[2]->integer;
    out->has_last_outcome = o->len > 0;
    out->last_outcome = LH_OUTCOME_NONE;
    if (o->len == 7 && memcmp(o->str, "success", 7) == 0)
        out->last_outcome = LH_OUTCOME_SUCCESS;
    else if (o->len == 7 && memcmp(o->str, "failure", 7) == 0)
        out->last_outcome = LH_OUTCOME_FAILURE;
    out->last_release_ms = r->element[4]->integer;
}

lh_status lh_resource_inspect(lh_resource_info *out, lh_client *c,
                              const lh_factory *f, const char *const *args,
                              size_t nargs)
{
    redisReply *r;
    char *key;
    size_t klen, i;
    lh_error e;
    lh_status st;

    if (c == NULL)
        return LH_ERR_INVALID;
    lh__clear(c);
    if (out == NULL || f == NULL)
        return lh__fail(c, LH_ERR_INVALID, "inspect: out or factory is NULL");
    if (lh__check_args(&e, f->arity, args, nargs) != LH_OK)
        return lh__fail(c, LH_ERR_INVALID, "inspect: %s", e.message);
    if ((key = lh__key_base(f->root, f->prefix, args, nargs, &klen)) == NULL)
        return lh__fail(c, LH_ERR_NOMEM, "inspect: out of memory");
    st = lh__script_call(c, &lh__script_inspect, 1, (const char *const *)&key,
                         &klen, 0, NULL, NULL, &r);
    if (st != LH_OK)
        goto done;
    for (i = 0; i < 5; i++) {
        long long v;

        if (i != 3 && !lh__int_at(r, i, &v))
            break;
        if (i == 3 &&
            (r->elements < 4 || r->element[3]->type != REDIS_REPLY_STRING))
            break;
    }
    if (i < 5) {
        st = lh__bad_reply(c, r, "inspect", key);
        goto done;
    }
    fill_info(out, r);
    freeReplyObject(r);
done:
    lh__free(key);
    return st;
}
