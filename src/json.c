/*
 * json.c - a lease as JSON (DESIGN 4) and in a job payload, via jansson.
 *
 *   {"v":1,"root":"lh","prefix":"person","args":["42"],"id":"<32 hex>",
 *    "fence":17,"ttl_ms":60000}
 *
 * Writing is compact UTF-8. Reading is strict: every member is checked and
 * a failure names it; unknown members are ignored so later versions can
 * add some. Text is limited to 64 KiB and duplicate members are refused.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

lh_status lh_lease_to_json_value(json_t **out, const lh_lease *lease)
{
    json_t *obj, *args;
    size_t i;

    if (out == NULL)
        return LH_ERR_INVALID;
    *out = NULL;
    if (lease == NULL)
        return LH_ERR_INVALID;
    if ((args = json_array()) == NULL)
        return LH_ERR_NOMEM;
    for (i = 0; i < lease->nargs; i++)
        if (json_array_append_new(args, json_string(lease->args[i])) != 0) {
            json_decref(args);
            return LH_ERR_NOMEM;
        }
    obj = json_pack("{s:i, s:s, s:s, s:o, s:s, s:I, s:I}", "v", 1, "root",
                    lease->root, "prefix", lease->prefix, "args", args, "id",
                    lease->id, "fence", (json_int_t)lease->fence, "ttl_ms",
                    (json_int_t)lease->ttl_ms);
    if (obj == NULL)
        return LH_ERR_NOMEM;
    *out = obj;
    return LH_OK;
}

lh_status lh_lease_to_json(char **out, const lh_lease *lease)
{
    json_t *obj;
    size_t n;
    lh_status st;

    if (out == NULL)
        return LH_ERR_INVALID;
    *out = NULL;
    if ((st = lh_lease_to_json_value(&obj, lease)) != LH_OK)
        return st;
    /* json_dumpb into our own buffer, so the caller frees with lh_free()
     * whatever allocator jansson was given. */
    n = json_dumpb(obj, NULL, 0, JSON_COMPACT);
    if (n == 0 || (*out = lh__malloc(n + 1)) == NULL) {
        json_decref(obj);
        return LH_ERR_NOMEM;
    }
    json_dumpb(obj, *out, n, JSON_COMPACT);
    (*out)[n] = '\0';
    json_decref(obj);
    return LH_OK;
}

static lh_status bad(lh_error *err, const char *member, const char *why)
{
    return lh__seterr(err, LH_ERR_INVALID, "lease JSON: member \"%s\" %s",
                      member, why);
}

static lh_status get_string(const json_t *obj, const char *member,
                            const char **out, lh_error *err)
{
    const json_t *v = json_object_get(obj, member);

    if (v == NULL)
        return bad(err, member, "is missing");
    if (!json_is_string(v))
        return bad(err, member, "must be a string");
    *out = json_string_value(v);
    if (strlen(*out) != json_string_length(v))
        return bad(err, member, "must not contain NUL");
    return LH_OK;
}

static lh_status get_int(const json_t *obj, const char *member, json_int_t *out,
                         lh_error *err)
{
    const json_t *v = json_object_get(obj, member);

    if (v == NULL)
        return bad(err, member, "is missing");
    if (!json_is_integer(v))
        return bad(err, member, "must be an integer");
    *out = json_integer_value(v);
    return LH_OK;
}

/* Check "args" and collect pointers to its strings into a new array. */
static lh_status get_args(const json_t *obj, const char ***out, size_t *n,
                          lh_error *err)
{
    const json_t *v = json_object_get(obj, "args");
    char what[32];
    size_t i;

    *out = NULL;
    if (v == NULL)
        return bad(err, "args", "is missing");
    if (!json_is_array(v))
        return bad(err, "args", "must be an array of strings");
    *n = json_array_size(v);
    if (*n > LH_MAX_ARITY)
        return bad(err, "args", "has more than 16 elements");
    if (*n && (*out = lh__calloc(*n, sizeof(**out))) == NULL)
        return lh__seterr(err, LH_ERR_NOMEM, "lease JSON: out of memory");
    for (i = 0; i < *n; i++) {
        const json_t *a = json_array_get(v, i);

        if (!json_is_string(a) ||
            strlen(json_string_value(a)) != json_string_length(a)) {
            snprintf(what, sizeof(what), "args[%zu]", i);
            lh__free((void *)*out);
            *out = NULL;
            return bad(err, what, "must be a string without NUL");
        }
        (*out)[i] = json_string_value(a);
    }
    return LH_OK;
}

static lh_status check_arg_values(const char **args, size_t nargs,
                                  lh_error *err)
{
    char what[32];
    size_t i;

    for (i = 0; i < nargs; i++) {
        size_t len = strlen(args[i]);

        snprintf(what, sizeof(what), "args[%zu]", i);
        if (len > LH_MAX_ARG_BYTES)
            return bad(err, what, "is longer than 1024 bytes");
        if (!lh__utf8_valid(args[i], len))
            return bad(err, what, "is not valid UTF-8");
    }
    return LH_OK;
}

static lh_status check_factory(const lh_factory *f, const char *root,
                               const char *prefix, size_t nargs, lh_error *err)
{
    if (f == NULL)
        return LH_OK;
    if (strcmp(root, f->root) != 0)
        return bad(err, "root", "does not match the factory's root");
    if (strcmp(prefix, f->prefix) != 0)
        return bad(err, "prefix", "does not match the factory's prefix");
    if (nargs != (size_t)f->arity)
        return lh__seterr(err, LH_ERR_INVALID,
                          "lease JSON: member \"args\" has %zu elements, "
                          "the arity is %d",
                          nargs, f->arity);
    return LH_OK;
}

static lh_status check_fields(const json_t *obj, const char **root,
                              const char **prefix, const char **id,
                              json_int_t *fence, json_int_t *ttl, lh_error *err)
{
    json_int_t v = 0;
    lh_status st;

    if (!json_is_object(obj))
        return lh__seterr(err, LH_ERR_INVALID, "lease JSON: not an object");
    if ((st = get_int(obj, "v", &v, err)) != LH_OK)
        return st;
    if (v != 1)
        return bad(err, "v", "must be 1");
    if ((st = get_string(obj, "root", root, err)) != LH_OK ||
        (st = lh__check_name(err, "lease JSON: member \"root\"", *root)) ||
        (st = get_string(obj, "prefix", prefix, err)) != LH_OK ||
        (st = lh__check_name(err, "lease JSON: member \"prefix\"", *prefix)) ||
        (st = get_string(obj, "id", id, err)) != LH_OK)
        return st;
    if (!lh__id_valid(*id))
        return bad(err, "id", "must be 32 lowercase hex digits");
    if ((st = get_int(obj, "fence", fence, err)) != LH_OK)
        return st;
    if (*fence < 0)
        return bad(err, "fence", "must not be negative");
    if ((st = get_int(obj, "ttl_ms", ttl, err)) != LH_OK)
        return st;
    if (lh__check_ttl(NULL, "ttl_ms", *ttl) != LH_OK)
        return bad(err, "ttl_ms", "must be from 1 ms to 30 days");
    return LH_OK;
}

lh_status lh_lease_from_json_value(lh_lease **out, const json_t *obj,
                                   const lh_factory *factory, lh_error *err)
{
    const char *root, *prefix, *id, **args = NULL;
    json_int_t fence = 0, ttl = 0;
    size_t nargs = 0;
    lh_status st;

    if (out == NULL)
        return lh__seterr(err, LH_ERR_INVALID, "lease JSON: out is NULL");
    *out = NULL;
    if ((st = check_fields(obj, &root, &prefix, &id, &fence, &ttl, err)) ||
        (st = get_args(obj, &args, &nargs, err)))
        return st;
    if ((st = check_arg_values(args, nargs, err)) != LH_OK)
        goto done;
    if ((st = check_factory(factory, root, prefix, nargs, err)) != LH_OK)
        goto done;
    st = lh__lease_new(
        out, root, prefix, args, nargs, id, (int64_t)fence, (int64_t)ttl,
        factory ? factory->retention_ms : LH__DEFAULT_RETENTION_MS);
    if (st != LH_OK)
        lh__seterr(err, st, "lease JSON: out of memory");
done:
    lh__free((void *)args);
    return st;
}

lh_status lh_lease_from_json(lh_lease **out, const char *text, size_t len,
                             const lh_factory *factory, lh_error *err)
{
    json_error_t jerr;
    json_t *obj;
    lh_status st;

    if (out == NULL)
        return lh__seterr(err, LH_ERR_INVALID, "lease JSON: out is NULL");
    *out = NULL;
    if (text == NULL)
        return lh__seterr(err, LH_ERR_INVALID, "lease JSON: text is NULL");
    if (len > LH_MAX_JSON_BYTES)
        return lh__seterr(err, LH_ERR_INVALID,
                          "lease JSON: longer than %d bytes",
                          LH_MAX_JSON_BYTES);
    /* jansson 2.14 skips a raw NUL byte right after a number or literal,
     * so {"fence":1<NUL>} would parse: refuse NUL bytes outright. */
    if (memchr(text, '\0', len) != NULL)
        return lh__seterr(err, LH_ERR_INVALID,
                          "lease JSON: text contains a NUL byte");
    /* JSON_ALLOW_NUL: a \u0000 reaches the member checks, so the message
     * names the member that holds it. */
    obj = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (obj == NULL)
        return lh__seterr(err, LH_ERR_INVALID,
                          "lease JSON: %s (line %d, column %d)", jerr.text,
                          jerr.line, jerr.column);
    st = lh_lease_from_json_value(out, obj, factory, err);
    json_decref(obj);
    return st;
}

lh_status lh_payload_set_lease(json_t *payload, const char *member,
                               const lh_lease *lease, lh_error *err)
{
    json_t *obj;
    lh_status st;

    if (!json_is_object(payload))
        return lh__seterr(err, LH_ERR_INVALID, "payload: not an object");
    if (lease == NULL)
        return lh__seterr(err, LH_ERR_INVALID, "payload: lease is NULL");
    if (member && !lh__utf8_valid(member, strlen(member)))
        return lh__seterr(err, LH_ERR_INVALID,
                          "payload: member name is not valid UTF-8");
    if ((st = lh_lease_to_json_value(&obj, lease)) != LH_OK)
        return lh__seterr(err, st, "payload: out of memory");
    if (json_object_set_new(payload, member ? member : LH_PAYLOAD_MEMBER,
                            obj) != 0)
        return lh__seterr(err, LH_ERR_NOMEM, "payload: out of memory");
    return LH_OK;
}

lh_status lh_payload_get_lease(lh_lease **out, const json_t *payload,
                               const char *member, const lh_factory *factory,
                               lh_error *err)
{
    const char *name = member ? member : LH_PAYLOAD_MEMBER;
    const json_t *obj;

    if (out == NULL)
        return lh__seterr(err, LH_ERR_INVALID, "payload: out is NULL");
    *out = NULL;
    if (!json_is_object(payload))
        return lh__seterr(err, LH_ERR_INVALID, "payload: not an object");
    if ((obj = json_object_get(payload, name)) == NULL)
        return lh__seterr(err, LH_ERR_INVALID,
                          "payload: member \"%s\" is missing", name);
    if (!json_is_object(obj))
        return lh__seterr(err, LH_ERR_INVALID,
                          "payload: member \"%s\" is not an object", name);
    return lh_lease_from_json_value(out, obj, factory, err);
}
