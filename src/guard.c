/*
 * guard.c - guarded writes: one Redis command run by a script only while
 * the lease holds its resource, so a worker whose lease expired or was
 * taken cannot write, even if it has not noticed yet.
 *
 * The command travels as data: the lease key and the command's keys in
 * KEYS (so Redis, and a Cluster, see every key), the other arguments in
 * ARGV, and a layout string saying which argument slot takes which.
 */
#include "internal.h"

#include <string.h>

void lh_reply_free(lh_reply *reply)
{
    size_t i;

    if (reply == NULL)
        return;
    for (i = 0; i < reply->elements; i++)
        lh_reply_free(reply->element[i]);
    lh__free(reply->element);
    lh__free(reply->str);
    lh__free(reply);
}

/* A deep copy of a hiredis reply in our own public type; NULL: no memory
 * or a reply type we do not know. */
static lh_reply *copy_reply(const redisReply *r)
{
    lh_reply *out = lh__calloc(1, sizeof(*out));

    if (out == NULL)
        return NULL;
    switch (r->type) {
    case REDIS_REPLY_NIL:
        out->type = LH_REPLY_NIL;
        return out;
    case REDIS_REPLY_INTEGER:
        out->type = LH_REPLY_INTEGER;
        out->integer = r->integer;
        return out;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        out->type = r->type == REDIS_REPLY_STRING   ? LH_REPLY_STRING
                    : r->type == REDIS_REPLY_STATUS ? LH_REPLY_STATUS
                                                    : LH_REPLY_ERROR;
        out->len = r->len;
        if ((out->str = lh__memdup(r->str, r->len)) == NULL)
            break;
        return out;
    case REDIS_REPLY_ARRAY:
        out->type = LH_REPLY_ARRAY;
        if (r->elements && (out->element = lh__calloc(
                                r->elements, sizeof(lh_reply *))) == NULL)
            break;
        for (; out->elements < r->elements; out->elements++)
            if ((out->element[out->elements] =
                     copy_reply(r->element[out->elements])) == NULL)
                goto fail;
        return out;
    }
fail:
    lh_reply_free(out);
    return NULL;
}

static lh_status check_command(lh_client *c, int argc, const char *const *argv,
                               uint64_t key_mask)
{
    int i;

    if (argc < 1 || argc > LH_GUARD_MAX_ARGS || argv == NULL)
        return lh__fail(c, LH_ERR_INVALID,
                        "guard: argc must be 1 to %d with argv given",
                        LH_GUARD_MAX_ARGS);
    if ((key_mask & 1) || (argc < 64 && (key_mask >> argc) != 0))
        return lh__fail(c, LH_ERR_INVALID,
                        "guard: key_mask marks argv[0] or an argument past "
                        "argc");
    for (i = 0; i < argc; i++)
        if (argv[i] == NULL)
            return lh__fail(c, LH_ERR_INVALID, "guard: argv[%d] is NULL", i);
    return LH_OK;
}

/* Split argv into script KEYS and ARGV, in the arrays given (argc + 2
 * entries each), and write the layout string. */
static void split(const lh_lease *l, int argc, const char *const *argv,
                  const size_t *argvlen, uint64_t key_mask, char *layout,
                  const char **keys, size_t *klen, size_t *nkeys,
                  const char **args, size_t *alen, size_t *nargs)
{
    int i;

    keys[0] = l->key, klen[0] = l->keylen, *nkeys = 1;
    args[0] = l->id, alen[0] = LH_ID_HEX_LEN;
    args[1] = layout, alen[1] = (size_t)(argc - 1);
    args[2] = argv[0], alen[2] = argvlen ? argvlen[0] : strlen(argv[0]);
    *nargs = 3;
    for (i = 1; i < argc; i++) {
        size_t len = argvlen ? argvlen[i] : strlen(argv[i]);
        int is_key = i < 64 && (key_mask & LH_KEY(i));

        layout[i - 1] = is_key ? 'k' : 'a';
        if (is_key)
            keys[*nkeys] = argv[i], klen[(*nkeys)++] = len;
        else
            args[*nargs] = argv[i], alen[(*nargs)++] = len;
    }
    layout[argc - 1] = '\0';
}

lh_status lh_lease_guard(lh_reply **out, lh_client *c, const lh_lease *l,
                         int argc, const char *const *argv,
                         const size_t *argvlen, uint64_t key_mask)
{
    const char **keys = NULL, **args = NULL;
    size_t *klen = NULL, *alen = NULL, nkeys, nargs;
    char *layout = NULL;
    redisReply *r = NULL;
    long long code;
    lh_status st;

    if (out)
        *out = NULL;
    if (c == NULL)
        return LH_ERR_INVALID;
    lh__clear(c);
    if (l == NULL)
        return lh__fail(c, LH_ERR_INVALID, "guard: lease is NULL");
    if ((st = check_command(c, argc, argv, key_mask)) != LH_OK)
        return st;
    keys = lh__calloc((size_t)argc + 2, sizeof(*keys));
    args = lh__calloc((size_t)argc + 2, sizeof(*args));
    klen = lh__calloc((size_t)argc + 2, sizeof(*klen));
    alen = lh__calloc((size_t)argc + 2, sizeof(*alen));
    layout = lh__malloc((size_t)argc);
    if (!keys || !args || !klen || !alen || !layout) {
        st = lh__fail(c, LH_ERR_NOMEM, "guard: out of memory");
        goto done;
    }
    split(l, argc, argv, argvlen, key_mask, layout, keys, klen, &nkeys, args,
          alen, &nargs);
    st = lh__script_call(c, &lh__script_guard, nkeys, keys, klen, nargs, args,
                         alen, &r);
    if (st != LH_OK)
        goto done;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
        r->element[0]->type != REDIS_REPLY_INTEGER ||
        ((code = r->element[0]->integer) == 1 && r->elements != 2) ||
        (code != 1 && code != -1 && code != -2)) {
        st = lh__fail(c, LH_ERR_IO, "guard %.200s: unexpected reply", l->key);
        goto done;
    }
    if (code != 1)
        st = lh__fail(c, code == -1 ? LH_ERR_NOT_HELD : LH_ERR_NOT_OWNED,
                      "guard %.200s: %s", l->key,
                      code == -1 ? "not held (expired or released)"
                                 : "held by another lease id");
    else if (out && (*out = copy_reply(r->element[1])) == NULL)
        st = lh__fail(c, LH_ERR_NOMEM,
                      "guard %.200s: out of memory copying the reply (the "
                      "command was applied)",
                      l->key);
done:
    if (r)
        freeReplyObject(r);
    lh__free((void *)keys);
    lh__free((void *)args);
    lh__free(klen);
    lh__free(alen);
    lh__free(layout);
    return st;
}
