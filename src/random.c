/*
 * random.c - lease ids from the OS CSPRNG. getrandom(2) in chunks of at
 * most 256 bytes (never a short read for those on Linux), retried on EINTR;
 * a zero-byte read is an error, never an endless loop.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

lh_status lh__random_bytes(void *buf, size_t len)
{
    unsigned char *p = buf;

    while (len > 0) {
        size_t chunk = len > 256 ? 256 : len;
        ssize_t n = getrandom(p, chunk, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return LH_ERR_IO;
        p += n;
        len -= (size_t)n;
    }
    return LH_OK;
}

lh_status lh_id_generate(char out[LH_ID_HEX_LEN + 1], lh_error *err)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[LH_ID_HEX_LEN / 2];
    size_t i;

    if (out == NULL)
        return lh__seterr(err, LH_ERR_INVALID, "lease id: out is NULL");
    if (lh__random_bytes(raw, sizeof(raw)) != LH_OK) {
        out[0] = '\0';
        return lh__seterr(err, LH_ERR_IO, "getrandom: %s", strerror(errno));
    }
    for (i = 0; i < sizeof(raw); i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[LH_ID_HEX_LEN] = '\0';
    return LH_OK;
}
