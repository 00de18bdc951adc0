/*
 * url.c - connection URLs and durations.
 *
 *   redis://[[user]:password@]host[:port][/db][?connect_timeout=DUR&timeout=DUR]
 *   unix://[[user]:password@]/path/to.sock[?db=N&connect_timeout=DUR&timeout=DUR]
 *
 * Userinfo is percent-decoded; a host may be an [IPv6] literal. Everything
 * the URL says is checked here, so a bad URL fails before any connect, with
 * a message that names the part at fault.
 */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

lh_status lh_duration_parse(int64_t *out, const char *text)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    const char *p = text;
    int64_t n = 0;
    size_t i;

    if (out)
        *out = 0;
    if (text == NULL || out == NULL || !isdigit((unsigned char)*p))
        return LH_ERR_INVALID;
    for (; isdigit((unsigned char)*p); p++) {
        if (n > (INT64_MAX - (*p - '0')) / 10)
            return LH_ERR_INVALID;
        n = n * 10 + (*p - '0');
    }
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(p, units[i].unit) == 0) {
            if (n > INT64_MAX / units[i].ms)
                return LH_ERR_INVALID;
            *out = n * units[i].ms;
            return LH_OK;
        }
    }
    return LH_ERR_INVALID;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode [s, s+len) into a new string; NULL on a bad escape, an
 * encoded NUL or no memory ('*nomem' tells which). */
static char *decode(const char *s, size_t len, int *nomem)
{
    char *out = lh__malloc(len + 1), *o = out;
    size_t i;

    *nomem = out == NULL;
    if (out == NULL)
        return NULL;
    for (i = 0; i < len; i++) {
        if (s[i] != '%') {
            *o++ = s[i];
            continue;
        }
        if (i + 2 >= len) {
            lh__free(out);
            return NULL;
        }
        if (hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0 ||
            (s[i + 1] == '0' && s[i + 2] == '0')) {
            lh__free(out);
            return NULL;
        }
        *o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
        i += 2;
    }
    *o = '\0';
    return out;
}

static lh_status parse_int(lh_error *err, const char *what, const char *s,
                           size_t len, long min, long max, long *out)
{
    char buf[24], *end;
    long v;

    if (len == 0 || len >= sizeof(buf) || !isdigit((unsigned char)s[0]))
        return lh__seterr(err, LH_ERR_INVALID, "URL: bad %s \"%.*s\"", what,
                          (int)(len > 40 ? 40 : len), s);
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    v = strtol(buf, &end, 10);
    if (errno || *end || v < min || v > max)
        return lh__seterr(err, LH_ERR_INVALID, "URL: bad %s \"%s\"", what, buf);
    *out = v;
    return LH_OK;
}

static lh_status parse_userinfo(lh__url *u, const char *s, size_t len,
                                lh_error *err)
{
    const char *colon = memchr(s, ':', len);
    int nomem = 0;

    if (colon == NULL)
        return lh__seterr(err, LH_ERR_INVALID,
                          "URL: user info must be [user]:password");
    if (colon > s && (u->user = decode(s, (size_t)(colon - s), &nomem)) == NULL)
        goto bad;
    u->password = decode(colon + 1, len - (size_t)(colon - s) - 1, &nomem);
    if (u->password == NULL)
        goto bad;
    return LH_OK;
bad:
    return nomem ? lh__seterr(err, LH_ERR_NOMEM, "URL: out of memory")
                 : lh__seterr(err, LH_ERR_INVALID,
                              "URL: bad percent-escape in user info");
}

static lh_status parse_duration_param(lh_error *err, const char *name,
                                      const char *v, size_t len, int64_t *out)
{
    char buf[32];

    if (len >= sizeof(buf))
        return lh__seterr(err, LH_ERR_INVALID, "URL: bad %s", name);
    memcpy(buf, v, len);
    buf[len] = '\0';
    if (lh_duration_parse(out, buf) != LH_OK || *out <= 0)
        return lh__seterr(err, LH_ERR_INVALID,
                          "URL: bad %s \"%s\" (want e.g. 500ms, 2s)", name,
                          buf);
    return LH_OK;
}

/* "k=v&k=v" */
static lh_status parse_query(lh__url *u, const char *q, lh_error *err)
{
    while (*q) {
        size_t len = strcspn(q, "&"), klen;
        const char *eq = memchr(q, '=', len);
        lh_status st;
        long db;

        if (eq == NULL)
            return lh__seterr(err, LH_ERR_INVALID,
                              "URL: parameter \"%.*s\" has no value",
                              (int)(len > 40 ? 40 : len), q);
        klen = (size_t)(eq - q);
        if (klen == 15 && memcmp(q, "connect_timeout", 15) == 0)
            st = parse_duration_param(err, "connect_timeout", eq + 1,
                                      len - klen - 1, &u->connect_timeout_ms);
        else if (klen == 7 && memcmp(q, "timeout", 7) == 0)
            st = parse_duration_param(err, "timeout", eq + 1, len - klen - 1,
                                      &u->timeout_ms);
        else if (klen == 2 && memcmp(q, "db", 2) == 0) {
            st =
                parse_int(err, "db", eq + 1, len - klen - 1, 0, INT32_MAX, &db);
            u->db = (int)db;
        } else
            return lh__seterr(err, LH_ERR_INVALID,
                              "URL: unknown parameter \"%.*s\"",
                              (int)(klen > 40 ? 40 : klen), q);
        if (st != LH_OK)
            return st;
        q += len;
        if (*q == '&')
            q++;
    }
    return LH_OK;
}

static lh_status parse_host(lh__url *u, const char *s, size_t len,
                            lh_error *err)
{
    const char *end = s + len, *hend, *port = NULL;
    long p = 6379;
    int nomem = 0;

    if (len > 0 && s[0] == '[') {
        hend = memchr(s, ']', len);
        if (hend == NULL)
            return lh__seterr(err, LH_ERR_INVALID, "URL: unclosed [ in host");
        if (hend + 1 < s + len) {
            if (hend[1] != ':')
                return lh__seterr(err, LH_ERR_INVALID, "URL: bad host");
            port = hend + 2;
        }
        s++;
    } else {
        hend = memchr(s, ':', len);
        if (hend)
            port = hend + 1;
        else
            hend = s + len;
    }
    if (hend == s)
        return lh__seterr(err, LH_ERR_INVALID, "URL: no host");
    if (port && parse_int(err, "port", port, (size_t)(end - port), 1, 65535,
                          &p) != LH_OK)
        return LH_ERR_INVALID;
    if ((u->hosts = lh__calloc(1, sizeof(*u->hosts))) == NULL ||
        (u->hosts[0].host = decode(s, (size_t)(hend - s), &nomem)) == NULL)
        return nomem || !u->hosts
                   ? lh__seterr(err, LH_ERR_NOMEM, "URL: out of memory")
                   : lh__seterr(err, LH_ERR_INVALID, "URL: bad host");
    u->nhosts = 1;
    u->hosts[0].port = (int)p;
    return LH_OK;
}

static lh_status parse_tcp(lh__url *u, const char *s, lh_error *err)
{
    size_t alen = strcspn(s, "/?");
    const char *at = NULL, *p, *rest = s + alen;
    lh_status st;
    long db;

    for (p = s; p < s + alen; p++)
        if (*p == '@')
            at = p;
    u->kind = LH__URL_TCP;
    if (at && (st = parse_userinfo(u, s, (size_t)(at - s), err)) != LH_OK)
        return st;
    p = at ? at + 1 : s;
    if ((st = parse_host(u, p, (size_t)(s + alen - p), err)) != LH_OK)
        return st;
    if (*rest == '/') {
        size_t dlen = strcspn(rest + 1, "?");

        if (dlen > 0) {
            if ((st = parse_int(err, "database", rest + 1, dlen, 0, INT32_MAX,
                                &db)) != LH_OK)
                return st;
            u->db = (int)db;
        }
        rest += 1 + dlen;
    }
    return *rest == '?' ? parse_query(u, rest + 1, err) : LH_OK;
}

static lh_status parse_unix(lh__url *u, const char *s, lh_error *err)
{
    const char *slash = strchr(s, '/'), *at = NULL, *p;
    size_t plen;
    lh_status st;
    int nomem = 0;

    u->kind = LH__URL_UNIX;
    if (slash == NULL)
        return lh__seterr(err, LH_ERR_INVALID,
                          "URL: unix:// needs an absolute path");
    for (p = s; p < slash; p++)
        if (*p == '@')
            at = p;
    if (at == NULL && slash != s)
        return lh__seterr(err, LH_ERR_INVALID,
                          "URL: unix:// takes no host (unix:///path)");
    if (at && (st = parse_userinfo(u, s, (size_t)(at - s), err)) != LH_OK)
        return st;
    if (at && at + 1 != slash)
        return lh__seterr(err, LH_ERR_INVALID,
                          "URL: unix:// takes no host (unix:///path)");
    plen = strcspn(slash, "?");
    if (plen < 2)
        return lh__seterr(err, LH_ERR_INVALID, "URL: empty socket path");
    if ((u->path = decode(slash, plen, &nomem)) == NULL)
        return nomem ? lh__seterr(err, LH_ERR_NOMEM, "URL: out of memory")
                     : lh__seterr(err, LH_ERR_INVALID, "URL: bad socket path");
    return slash[plen] == '?' ? parse_query(u, slash + plen + 1, err) : LH_OK;
}

void lh__url_clear(lh__url *u)
{
    size_t i;

    for (i = 0; i < u->nhosts; i++)
        lh__free(u->hosts[i].host);
    lh__free(u->hosts);
    lh__free(u->path);
    lh__free(u->user);
    if (u->password) /* a secret: do not leave it in freed memory */
        explicit_bzero(u->password, strlen(u->password));
    lh__free(u->password);
    memset(u, 0, sizeof(*u));
}

lh_status lh__url_parse(lh__url *out, const char *url, lh_error *err)
{
    static const char *later[] = {"redis-sentinel://", "redis-cluster://",
                                  "redis-redlock://"};
    lh_status st;
    size_t i;

    memset(out, 0, sizeof(*out));
    if (url == NULL)
        url = "redis://127.0.0.1:6379";
    if (strncmp(url, "redis://", 8) == 0)
        st = parse_tcp(out, url + 8, err);
    else if (strncmp(url, "unix://", 7) == 0)
        st = parse_unix(out, url + 7, err);
    else if (strncmp(url, "rediss://", 9) == 0)
        st = lh__seterr(err, LH_ERR_INVALID,
                        "URL: rediss:// needs TLS, and this build has no "
                        "TLS support");
    else {
        st = lh__seterr(err, LH_ERR_INVALID,
                        "URL: unknown scheme (want redis:// or unix://)");
        for (i = 0; i < sizeof(later) / sizeof(later[0]); i++)
            if (strncmp(url, later[i], strlen(later[i])) == 0)
                st = lh__seterr(err, LH_ERR_INVALID,
                                "URL: %.*s is not supported by this version",
                                (int)strlen(later[i]) - 3, later[i]);
    }
    if (st != LH_OK)
        lh__url_clear(out);
    return st;
}
