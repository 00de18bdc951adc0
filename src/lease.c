/*
 * lease.c - the lease value: who (id), which resource (root, prefix,
 * args), its fence and TTL, and the Redis keys it lives under, computed
 * once when the lease is built. A lease is immutable after that, so any
 * thread may read it.
 */
#include "internal.h"

#include <string.h>

void lh_lease_free(lh_lease *lease)
{
    size_t i;

    if (lease == NULL)
        return;
    for (i = 0; i < lease->nargs; i++)
        lh__free(lease->args[i]);
    lh__free(lease->args);
    lh__free(lease->root);
    lh__free(lease->prefix);
    lh__free(lease->key);
    lh__free(lease);
}

lh_status lh__lease_new(lh_lease **out, const char *root, const char *prefix,
                        const char *const *args, size_t nargs, const char *id,
                        int64_t fence, int64_t ttl_ms, int64_t retention_ms)
{
    lh_lease *l = lh__calloc(1, sizeof(*l));

    *out = NULL;
    if (l == NULL)
        return LH_ERR_NOMEM;
    memcpy(l->id, id, LH_ID_HEX_LEN + 1);
    l->fence = fence;
    l->ttl_ms = ttl_ms;
    l->retention_ms = retention_ms;
    if ((l->root = lh__strdup(root)) == NULL ||
        (l->prefix = lh__strdup(prefix)) == NULL ||
        (nargs && (l->args = lh__calloc(nargs, sizeof(char *))) == NULL))
        goto nomem;
    for (; l->nargs < nargs; l->nargs++)
        if ((l->args[l->nargs] = lh__strdup(args[l->nargs])) == NULL)
            goto nomem;
    l->key = lh__key_base(root, prefix, (const char *const *)l->args, nargs,
                          &l->keylen);
    if (l->key == NULL)
        goto nomem;
    *out = l;
    return LH_OK;
nomem:
    lh_lease_free(l);
    return LH_ERR_NOMEM;
}

const char *lh_lease_id(const lh_lease *lease)
{
    return lease ? lease->id : NULL;
}

int64_t lh_lease_fence(const lh_lease *lease)
{
    return lease ? lease->fence : -1;
}

int64_t lh_lease_ttl_ms(const lh_lease *lease)
{
    return lease ? lease->ttl_ms : -1;
}

const char *lh_lease_root(const lh_lease *lease)
{
    return lease ? lease->root : NULL;
}

const char *lh_lease_prefix(const lh_lease *lease)
{
    return lease ? lease->prefix : NULL;
}

size_t lh_lease_nargs(const lh_lease *lease)
{
    return lease ? lease->nargs : 0;
}

const char *lh_lease_arg(const lh_lease *lease, size_t i)
{
    return lease && i < lease->nargs ? lease->args[i] : NULL;
}

lh_status lh_lease_key(char **out, const lh_lease *lease)
{
    if (out == NULL)
        return LH_ERR_INVALID;
    *out = NULL;
    if (lease == NULL)
        return LH_ERR_INVALID;
    *out = lh__memdup(lease->key, lease->keylen);
    return *out ? LH_OK : LH_ERR_NOMEM;
}

lh_status lh_lease_data_key(char **out, const lh_lease *lease, const char *name)
{
    size_t nlen;
    char *key;

    if (out == NULL)
        return LH_ERR_INVALID;
    *out = NULL;
    if (lease == NULL || name == NULL)
        return LH_ERR_INVALID;
    nlen = strlen(name);
    if (nlen > SIZE_MAX - lease->keylen - 4 ||
        (key = lh__malloc(lease->keylen + 3 + nlen + 1)) == NULL)
        return LH_ERR_NOMEM;
    memcpy(key, lease->key, lease->keylen);
    memcpy(key + lease->keylen, ":d:", 3);
    memcpy(key + lease->keylen + 3, name, nlen + 1);
    *out = key;
    return LH_OK;
}
