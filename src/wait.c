/*
 * wait.c - blocking acquire: woken by release, handed over directly, FIFO.
 *
 * A waiter's failed try queues it (its id, deadline and TTL) in the same
 * acquire script call. It then blocks on its own connection in
 * BLPOP wake nudge: the release script grants the lease to the first live
 * waiter and pushes the grant onto that waiter's wake list, so Redis itself
 * wakes it already holding the lease: no round trip after the release. The
 * nudge list tells the next waiter that a grant was made; if that grant is
 * still unread after the reservation, the grantee is gone and the wait
 * script passes the lease on. Every block is capped by the holder's TTL
 * left, so an expiry is noticed (the acquire script then grants the first
 * waiter). A waiter whose deadline passes leaves the queue and gives back
 * a grant it may have had, then returns LH_ERR_TIMEOUT.
 *
 * The waiter's connection is blocked while it waits: pass a client used
 * for nothing else.
 */
#include "internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RESERVATION_MS 120 /* a grant unread this long is revoked (+tick) */
#define RESERVATION_ARG "100"
#define BLOCK_CAP_MS 2000 /* re-check at least this often */
/* Redis ends a blocking command's timeout on its cron tick, up to
 * 1000/hz ms late (hz >= 1): the socket waits that much longer. */
#define TICK_SLACK_MS 1000

typedef struct waiter {
    lh_client *c;
    lh_lease *l;
    char *wake, *nudge;     /* keys */
    lh_acquire_result *res; /* the caller's, or NULL */
    char entry[96];         /* the queue entry the acquire script made */
    int64_t deadline;       /* monotonic ms */
    int64_t busy_ms;        /* the holder's TTL left, as last seen */
} waiter;

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* BLPOP on 'nkeys' of (wake, nudge) for 'ms'; *r is NULL on a timeout. */
static lh_status block_on(waiter *w, int nkeys, int64_t ms, redisReply **r)
{
    const char *argv[4];
    char secs[32];
    int64_t old = w->c->conn.timeout_ms;
    lh_status st;

    if (ms < 10)
        ms = 10;
    snprintf(secs, sizeof(secs), "%" PRId64 ".%03d", ms / 1000,
             (int)(ms % 1000));
    argv[0] = "BLPOP";
    argv[1] = w->wake;
    argv[2] = w->nudge;
    argv[nkeys + 1] = secs;
    /* the socket must outwait the server's own timeout */
    lh__conn_set_timeouts(w->c, w->c->conn.connect_timeout_ms,
                          old + ms + TICK_SLACK_MS);
    st = lh__conn_call(w->c, w->l->key, nkeys + 2, argv, NULL, r);
    lh__conn_set_timeouts(w->c, w->c->conn.connect_timeout_ms, old);
    if (st == LH_OK && (*r)->type == REDIS_REPLY_NIL) {
        freeReplyObject(*r);
        *r = NULL;
    } else if (st == LH_OK &&
               ((*r)->type != REDIS_REPLY_ARRAY || (*r)->elements != 2)) {
        st = lh__bad_reply(w->c, *r, "wait", w->l->key);
        *r = NULL;
    }
    return st;
}

/* The wait script: 'check' a nudge's grantee, or 'leave'. */
static lh_status wait_call(waiter *w, const char *mode, const char *granted,
                           long long *code, long long *val)
{
    const char *argv[5];
    redisReply *r;
    lh_status st;
    long long wait = 0;

    argv[0] = w->l->id, argv[1] = w->entry, argv[2] = mode;
    argv[3] = granted ? granted : "", argv[4] = RESERVATION_ARG;
    st = lh__script_call(w->c, &lh__script_wait, 1,
                         (const char *const *)&w->l->key, &w->l->keylen, 5,
                         argv, NULL, &r);
    if (st != LH_OK)
        return st;
    *val = 0;
    if (!lh__int_at(r, 0, code) || (*code != 0 && !lh__int_at(r, 1, val)) ||
        (*code == 2 && !lh__int_at(r, 2, &wait)))
        return lh__bad_reply(w->c, r, "wait", w->l->key);
    freeReplyObject(r);
    if (*code == 2)
        return lh__condition_failed(w->c, w->l, *val, wait, w->res);
    return LH_OK;
}

/* Leave the queue (giving back a grant that came meanwhile). */
static lh_status leave(waiter *w)
{
    long long code, val;

    return wait_call(w, "leave", NULL, &code, &val);
}

static lh_status give_up(waiter *w)
{
    lh_status st = leave(w);

    if (st != LH_OK)
        return st;
    return lh__fail(w->c, LH_ERR_TIMEOUT,
                    "acquire %.200s: still held when the wait ended",
                    w->l->key);
}

/* What a wake list gave us: a grant "fence:time" (base 36), or a refusal
 * "-" failed ":" wait when a grant found our conditions failing. */
static lh_status take_grant(waiter *w, const redisReply *g)
{
    char *end;

    if (g->len > 1 && g->str[0] == '-') {
        long long failed = strtoll(g->str + 1, &end, 10);

        if (*end == ':' && failed > 0)
            return lh__condition_failed(w->c, w->l, failed,
                                        strtoll(end + 1, NULL, 10), w->res);
    } else if ((w->l->fence = strtoll(g->str, NULL, 36)) > 0) {
        return LH_OK;
    }
    return lh__fail(w->c, LH_ERR_IO, "wait %.200s: bad grant", w->l->key);
}

/* After a nudge: give the grantee its reservation, then have the wait
 * script revoke an unread grant. LH_OK: we hold it; 1: keep waiting. */
static int after_nudge(waiter *w, const redisReply *nudge, lh_status *st)
{
    char granted[LH_ID_HEX_LEN + 1];
    redisReply *r = NULL;
    long long code, val;

    if (nudge->len < LH_ID_HEX_LEN)
        return 1;
    memcpy(granted, nudge->str, LH_ID_HEX_LEN);
    granted[LH_ID_HEX_LEN] = '\0';
    if (strcmp(granted, w->l->id) == 0)
        return 1;
    *st = block_on(w, 1, min64(RESERVATION_MS, w->deadline - now_ms()), &r);
    if (*st == LH_OK && r) {
        *st = take_grant(w, r->element[1]);
        freeReplyObject(r);
        return 0;
    }
    if (*st != LH_OK ||
        (*st = wait_call(w, "check", granted, &code, &val)) != LH_OK)
        return 0;
    if (code == 1) {
        w->l->fence = val;
        return 0;
    }
    w->busy_ms = val;
    return 1;
}

/* Block until granted, the holder's TTL runs out (return 1: ask again)
 * or the deadline passes. */
static int block(waiter *w, lh_status *st)
{
    redisReply *r;

    for (;;) {
        int64_t left = w->deadline - now_ms(), ms;

        if (left <= 0) {
            *st = give_up(w);
            return 0;
        }
        ms = min64(left,
                   min64(BLOCK_CAP_MS, w->busy_ms > 0 ? w->busy_ms + 1 : 1));
        if ((*st = block_on(w, 2, ms, &r)) != LH_OK)
            return 0;
        if (r == NULL)
            return 1;
        if (r->element[0]->len == strlen(w->wake) &&
            memcmp(r->element[0]->str, w->wake, strlen(w->wake)) == 0) {
            *st = take_grant(w, r->element[1]);
            freeReplyObject(r);
            return 0;
        }
        if (!after_nudge(w, r->element[1], st)) {
            freeReplyObject(r);
            return 0;
        }
        freeReplyObject(r);
    }
}

/* One acquire script call in waiting mode: 0 done (*st says how), 1 queued
 * (w->busy_ms and w->entry set). */
static int try_once(waiter *w, const char **argv, lh_status *st)
{
    char left[24];
    redisReply *r;
    long long code, a, b = 0;
    int64_t ms = w->deadline - now_ms();

    if (ms <= 0) {
        *st = give_up(w);
        return 0;
    }
    snprintf(left, sizeof(left), "%" PRId64, ms);
    argv[7] = left, argv[8] = w->entry;
    *st = lh__script_call(w->c, &lh__script_acquire, 1,
                          (const char *const *)&w->l->key, &w->l->keylen, 9,
                          argv, NULL, &r);
    if (*st != LH_OK)
        return 0;
    if (!lh__int_at(r, 0, &code) || !lh__int_at(r, 1, &a) ||
        (code == 2 && !lh__int_at(r, 2, &b)) ||
        (code == 3 &&
         (r->elements < 3 || r->element[2]->type != REDIS_REPLY_STRING ||
          r->element[2]->len >= sizeof(w->entry))) ||
        code < 0 || code > 3) {
        *st = lh__bad_reply(w->c, r, "acquire", w->l->key);
        return 0;
    }
    if (code == 3) {
        memcpy(w->entry, r->element[2]->str, r->element[2]->len + 1);
        w->busy_ms = a;
    }
    freeReplyObject(r);
    if (code == 0) /* the wait ran out on the way */
        *st = give_up(w);
    else if (code == 1)
        w->l->fence = a, *st = LH_OK;
    else if (code == 2 && w->entry[0] != '\0' && (*st = leave(w)) != LH_OK)
        ; /* asked again, refused: it must not stay queued */
    else if (code == 2)
        *st = lh__condition_failed(w->c, w->l, a, b, w->res);
    return code == 3;
}

lh_status lh__acquire_wait(lh_client *c, lh_lease *l, const char **argv,
                           int64_t wait_ms, lh_acquire_result *res)
{
    waiter w;
    lh_status st = LH_OK;
    char *tmp;
    size_t len;

    memset(&w, 0, sizeof(w));
    w.c = c, w.l = l, w.res = res, w.deadline = now_ms() + wait_ms;
    tmp = lh__key_suffixed(l->key, l->keylen, ":w:", 3, &len);
    w.wake =
        tmp ? lh__key_suffixed(tmp, len, l->id, LH_ID_HEX_LEN, NULL) : NULL;
    lh__free(tmp);
    w.nudge = lh__key_suffixed(l->key, l->keylen, ":n", 2, NULL);
    if (w.wake == NULL || w.nudge == NULL) {
        st = lh__fail(c, LH_ERR_NOMEM, "acquire: out of memory");
        goto done;
    }
    while (try_once(&w, argv, &st) && block(&w, &st))
        ;
done:
    lh__free(w.wake);
    lh__free(w.nudge);
    return st;
}
