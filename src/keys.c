/*
 * keys.c - from (root, prefix, args) to Redis keys.
 *
 * A resource's base key is "{" root ":" prefix (":" arg)* "}" where each
 * part is escaped: the bytes % : { } * ? [ ] \ and control bytes become
 * %XX. Escaped parts hold no ':' so the part list, and with it the arity,
 * can be read back: the mapping is injective. They hold no '{' or '}', so
 * the whole base is the hash tag: every key of one resource shares a slot
 * and different resources spread over the slots. They hold no glob bytes,
 * so a SCAN MATCH pattern built from root and prefix matches literally.
 * Other keys of the resource append a suffix after the '}' (doc/PROTOCOL.md).
 */
#include "internal.h"

#include <string.h>

static int must_escape(unsigned char c)
{
    return c < 0x20 || c == 0x7f || strchr("%:{}*?[]\\", c) != NULL;
}

size_t lh__key_escape(char *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c != 0 && must_escape(c)) {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return o;
}

char *lh__key_base(const char *root, const char *prefix,
                   const char *const *args, size_t nargs, size_t *len)
{
    size_t i, cap = 3 * (strlen(root) + strlen(prefix)) + 4, o;
    char *key;

    for (i = 0; i < nargs; i++)
        cap += 3 * strlen(args[i]) + 1;
    if ((key = lh__malloc(cap)) == NULL)
        return NULL;
    key[0] = '{';
    o = 1 + lh__key_escape(key + 1, root, strlen(root));
    key[o++] = ':';
    o += lh__key_escape(key + o, prefix, strlen(prefix));
    for (i = 0; i < nargs; i++) {
        key[o++] = ':';
        o += lh__key_escape(key + o, args[i], strlen(args[i]));
    }
    key[o++] = '}';
    key[o] = '\0';
    if (len)
        *len = o;
    return key;
}

char *lh__key_suffixed(const char *base, size_t baselen, const char *suffix,
                       size_t suffixlen, size_t *len)
{
    char *key;

    if (suffixlen > SIZE_MAX - baselen - 1 ||
        (key = lh__malloc(baselen + suffixlen + 1)) == NULL)
        return NULL;
    memcpy(key, base, baselen);
    memcpy(key + baselen, suffix, suffixlen);
    key[baselen + suffixlen] = '\0';
    if (len)
        *len = baselen + suffixlen;
    return key;
}

char *lh__key_pattern(const char *root, const char *prefix)
{
    size_t cap = 3 * (strlen(root) + strlen(prefix)) + 6, o;
    char *pat = lh__malloc(cap);

    if (pat == NULL)
        return NULL;
    pat[0] = '{';
    o = 1 + lh__key_escape(pat + 1, root, strlen(root));
    pat[o++] = ':';
    o += lh__key_escape(pat + o, prefix, strlen(prefix));
    memcpy(pat + o, ":*}", 4);
    return pat;
}

static int unhex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Unescape one part [s, s+len) into a new string; NULL if malformed. */
static char *unescape(const char *s, size_t len)
{
    char *out = lh__malloc(len + 1), *o = out;
    size_t i;

    if (out == NULL)
        return NULL;
    for (i = 0; i < len; i++) {
        if (s[i] != '%') {
            *o++ = s[i];
        } else if (i + 2 < len && unhex(s[i + 1]) >= 0 &&
                   unhex(s[i + 2]) >= 0) {
            *o++ = (char)(unhex(s[i + 1]) * 16 + unhex(s[i + 2]));
            i += 2;
        } else {
            lh__free(out);
            return NULL;
        }
    }
    *o = '\0';
    return out;
}

static void free_parts(char **parts, size_t n)
{
    while (n > 0)
        lh__free(parts[--n]);
    lh__free(parts);
}

int lh__key_parse(const char *key, size_t len, char **root, char **prefix,
                  char ***args, size_t *nargs)
{
    size_t i, n = 1, start = 1, k = 0;
    char **parts;

    if (len < 4 || key[0] != '{' || key[len - 1] != '}' ||
        memchr(key + 1, '}', len - 2) != NULL)
        return 0;
    for (i = 1; i < len - 1; i++)
        n += key[i] == ':';
    if (n < 2 || (parts = lh__calloc(n, sizeof(*parts))) == NULL)
        return 0;
    for (i = 1; i <= len - 1; i++) {
        if (i < len - 1 && key[i] != ':')
            continue;
        if ((parts[k++] = unescape(key + start, i - start)) == NULL) {
            free_parts(parts, k);
            return 0;
        }
        start = i + 1;
    }
    *root = parts[0];
    *prefix = parts[1];
    *nargs = n - 2;
    memmove(parts, parts + 2, (n - 2) * sizeof(*parts));
    *args = parts;
    return 1;
}
