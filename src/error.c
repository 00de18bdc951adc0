/*
 * error.c - status codes and messages. The enum, lh_strerror() and
 * lh_status_name() come from one table, LH_STATUS_MAP, in the header.
 * Messages live in a fixed buffer in the client (or the caller's lh_error),
 * so reporting LH_ERR_NOMEM never allocates.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

const char *lh_strerror(int status)
{
    switch (status) {
#define XX(name, value, text)                                                  \
    case value:                                                                \
        return text;
        LH_STATUS_MAP(XX)
#undef XX
    }
    return "unknown status";
}

const char *lh_status_name(int status)
{
    switch (status) {
#define XX(name, value, text)                                                  \
    case value:                                                                \
        return #name;
        LH_STATUS_MAP(XX)
#undef XX
    }
    return "UNKNOWN";
}

const char *lh_version(void)
{
    return LH_VERSION_STRING;
}

const char *lh_outcome_name(lh_outcome outcome)
{
    switch (outcome) {
    case LH_OUTCOME_NONE:
        return "none";
    case LH_OUTCOME_SUCCESS:
        return "success";
    case LH_OUTCOME_FAILURE:
        return "failure";
    }
    return NULL;
}

static void format(char *buf, size_t size, lh_status code, const char *fmt,
                   va_list ap)
{
    if (fmt)
        vsnprintf(buf, size, fmt, ap);
    else
        snprintf(buf, size, "%s", lh_strerror(code));
}

lh_status lh__seterr(lh_error *err, lh_status code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return code;
    err->code = code;
    va_start(ap, fmt);
    format(err->message, sizeof(err->message), code, fmt, ap);
    va_end(ap);
    return code;
}

lh_status lh__fail(lh_client *c, lh_status code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    format(c->errmsg, sizeof(c->errmsg), code, fmt, ap);
    va_end(ap);
    return code;
}

void lh__clear(lh_client *c)
{
    c->errmsg[0] = '\0';
}

lh_status lh__client_to_error(lh_error *err, lh_client *c, lh_status code)
{
    return lh__seterr(err, code, "%s", c->errmsg);
}

const char *lh_errmsg(const lh_client *client)
{
    return client ? client->errmsg : "no client";
}
