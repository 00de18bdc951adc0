/*
 * valid.c - the input limits of DESIGN 2a in one place: names, arguments,
 * TTLs and lease ids. Each check names the argument at fault, so a caller
 * can tell which of its inputs to fix.
 */
#include "internal.h"

#include <string.h>

/* Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above
 * U+10FFFF. jansson validates the same way but exports no function for it. */
int lh__utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;

    while (p < end) {
        unsigned c = *p++, need, min, cp;

        if (c < 0x80)
            continue;
        if (c >= 0xc2 && c <= 0xdf)
            need = 1, min = 0x80, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            need = 2, min = 0x800, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            need = 3, min = 0x10000, cp = c & 0x07;
        else
            return 0;
        if ((size_t)(end - p) < need)
            return 0;
        while (need--) {
            if ((*p & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (*p++ & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
    }
    return 1;
}

lh_status lh__check_name(lh_error *err, const char *what, const char *s)
{
    size_t len;

    if (s == NULL)
        return lh__seterr(err, LH_ERR_INVALID, "%s: is NULL", what);
    len = strnlen(s, LH_MAX_NAME_BYTES + 1);
    if (len == 0)
        return lh__seterr(err, LH_ERR_INVALID, "%s: is empty", what);
    if (len > LH_MAX_NAME_BYTES)
        return lh__seterr(err, LH_ERR_INVALID, "%s: longer than %d bytes", what,
                          LH_MAX_NAME_BYTES);
    if (!lh__utf8_valid(s, len))
        return lh__seterr(err, LH_ERR_INVALID, "%s: not valid UTF-8", what);
    return LH_OK;
}

lh_status lh__check_args(lh_error *err, int arity, const char *const *args,
                         size_t nargs)
{
    size_t i, len;

    if (nargs != (size_t)arity)
        return lh__seterr(err, LH_ERR_INVALID,
                          "args: %zu given, the arity is %d", nargs, arity);
    if (nargs > 0 && args == NULL)
        return lh__seterr(err, LH_ERR_INVALID, "args: is NULL");
    for (i = 0; i < nargs; i++) {
        if (args[i] == NULL)
            return lh__seterr(err, LH_ERR_INVALID, "args[%zu]: is NULL", i);
        len = strnlen(args[i], LH_MAX_ARG_BYTES + 1);
        if (len > LH_MAX_ARG_BYTES)
            return lh__seterr(err, LH_ERR_INVALID,
                              "args[%zu]: longer than %d bytes", i,
                              LH_MAX_ARG_BYTES);
        if (!lh__utf8_valid(args[i], len))
            return lh__seterr(err, LH_ERR_INVALID, "args[%zu]: not valid UTF-8",
                              i);
    }
    return LH_OK;
}

lh_status lh__check_ttl(lh_error *err, const char *what, int64_t ttl_ms)
{
    if (ttl_ms < LH_MIN_TTL_MS || ttl_ms > LH_MAX_TTL_MS)
        return lh__seterr(err, LH_ERR_INVALID,
                          "%s: %lld ms is outside 1 ms to 30 days", what,
                          (long long)ttl_ms);
    return LH_OK;
}

int lh__id_valid(const char *id)
{
    size_t i;

    if (id == NULL)
        return 0;
    for (i = 0; i < LH_ID_HEX_LEN; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return 0;
    return id[LH_ID_HEX_LEN] == '\0';
}
