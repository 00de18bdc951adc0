/*
 * acquire.c - taking a resource: the request (id, TTL and conditions)
 * checked and laid out as the acquire script's arguments, one script call,
 * and its reply read into a lease or a status.
 *
 * Conditions travel as ARGV[3..7] only when the caller asked for one, so a
 * plain acquire sends two arguments and the script skips the condition
 * code. The acquisition log of the max-per-window condition is a second
 * key, "base:a", in the resource's slot, sent only with that condition.
 */
#include "internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The script's arguments: id, TTL and, with conditions, five more. */
typedef struct request {
    char id[LH_ID_HEX_LEN + 1];
    char num[5][24]; /* ttl, cooldown, within, max acquires, window */
    const char *argv[9];
    size_t argc;
    int64_t ttl;
    int64_t wait_ms; /* > 0: a blocking acquire (wait.c) */
    int windowed;    /* the max-per-window condition: send KEYS[2] */
} request;

/* wait_ms came with version 3 of the options. */
static int64_t wait_of(const lh_acquire_options *o)
{
    return o && o->version >= 3 ? o->wait_ms : 0;
}

static int has_conditions(const lh_acquire_options *o)
{
    return o && o->version >= 2 &&
           (o->cooldown_ms || o->require_success_within_ms || o->max_acquires ||
            o->window_ms || wait_of(o));
}

/* Durations of conditions: 0 (none) or 1 ms up to the retention, which
 * keeps the history they read (DESIGN 2a). */
static lh_status check_conditions(lh_client *c, const lh_factory *f,
                                  const lh_acquire_options *o)
{
    const struct {
        const char *name;
        int64_t ms;
    } d[] = {{"cooldown", o->cooldown_ms},
             {"require_success_within", o->require_success_within_ms},
             {"window", o->window_ms}};
    size_t i;

    for (i = 0; i < sizeof(d) / sizeof(d[0]); i++)
        if (d[i].ms < 0 || d[i].ms > f->retention_ms)
            return lh__fail(c, LH_ERR_INVALID,
                            "acquire: %s %" PRId64 " ms is outside 0 to the "
                            "retention (%" PRId64 " ms)",
                            d[i].name, d[i].ms, f->retention_ms);
    if (wait_of(o) < 0 || wait_of(o) > LH_MAX_TTL_MS)
        return lh__fail(c, LH_ERR_INVALID,
                        "acquire: wait %" PRId64 " ms is outside 0 to 30 days",
                        wait_of(o));
    if (wait_of(o) > 0 && o->max_acquires > 0)
        return lh__fail(c, LH_ERR_INVALID,
                        "acquire: max_acquires cannot be combined with a "
                        "wait");
    if (o->max_acquires < 0 || o->max_acquires > LH_MAX_WINDOW_ACQUIRES ||
        (o->max_acquires > 0) != (o->window_ms > 0))
        return lh__fail(c, LH_ERR_INVALID,
                        "acquire: max_acquires (1 to %d) and window_ms go "
                        "together",
                        LH_MAX_WINDOW_ACQUIRES);
    return LH_OK;
}

static void lay_out(request *q, const lh_acquire_options *o)
{
    int64_t v[5] = {0, 0, 0, 0, 0};
    size_t i;

    v[0] = q->ttl;
    q->argv[0] = q->id;
    q->argc = 2;
    if (has_conditions(o)) {
        v[1] = o->cooldown_ms, v[2] = o->require_success_within_ms;
        v[3] = o->max_acquires, v[4] = o->window_ms;
        q->argc = 7;
        q->windowed = o->max_acquires > 0;
        q->wait_ms = wait_of(o);
    }
    for (i = 0; i < 5; i++)
        snprintf(q->num[i], sizeof(q->num[i]), "%" PRId64, v[i]);
    q->argv[1] = q->num[0];
    q->argv[2] = q->num[1];
    q->argv[3] = o && o->cooldown_success_only ? "s" : "a";
    q->argv[4] = q->num[2], q->argv[5] = q->num[3], q->argv[6] = q->num[4];
}

static lh_status make_request(lh_client *c, const lh_factory *f,
                              const char *const *args, size_t nargs,
                              const lh_acquire_options *o, request *q)
{
    lh_error e;
    lh_status st;

    memset(q, 0, sizeof(*q));
    if (f == NULL)
        return lh__fail(c, LH_ERR_INVALID, "acquire: factory is NULL");
    if (o && o->version < 1)
        return lh__fail(c, LH_ERR_INVALID, "acquire options: bad version");
    if (lh__check_args(&e, f->arity, args, nargs) != LH_OK)
        return lh__fail(c, LH_ERR_INVALID, "acquire: %s", e.message);
    q->ttl = o && o->ttl_ms ? o->ttl_ms : f->ttl_ms;
    if (lh__check_ttl(&e, "acquire: ttl", q->ttl) != LH_OK)
        return lh__fail(c, LH_ERR_INVALID, "%s", e.message);
    if (o && o->version >= 2 && (st = check_conditions(c, f, o)) != LH_OK)
        return st;
    if (o && o->id) {
        if (!lh__id_valid(o->id))
            return lh__fail(c, LH_ERR_INVALID,
                            "acquire: id must be 32 lowercase hex digits");
        memcpy(q->id, o->id, LH_ID_HEX_LEN + 1);
    } else if (lh_id_generate(q->id, &e) != LH_OK) {
        return lh__fail(c, LH_ERR_IO, "acquire: %s", e.message);
    }
    lay_out(q, o);
    return LH_OK;
}

lh_status lh__condition_failed(lh_client *c, const lh_lease *l,
                               long long failed, long long wait,
                               lh_acquire_result *res)
{
    if (res) {
        res->failed = (unsigned)failed;
        res->retry_after_ms = wait;
    }
    return lh__fail(c, LH_ERR_CONDITION,
                    "acquire %.200s: condition not met:%s%s%s; %s %lld ms",
                    l->key, failed & LH_COND_COOLDOWN ? " cooldown" : "",
                    failed & LH_COND_REQUIRE_SUCCESS ? " require-success" : "",
                    failed & LH_COND_MAX_PER_WINDOW ? " max-per-window" : "",
                    wait < 0 ? "time alone will not pass it" : "passes in",
                    wait < 0 ? 0LL : wait);
}

/* Read the script's reply into the lease's fence, or a status. */
static lh_status read_reply(lh_client *c, redisReply *r, lh_lease *l,
                            lh_acquire_result *res)
{
    long long code, a, b = 0;

    if (!lh__int_at(r, 0, &code) || !lh__int_at(r, 1, &a) ||
        (code != 0 && code != 1 && code != 2) ||
        (code == 2 && !lh__int_at(r, 2, &b)))
        return lh__bad_reply(c, r, "acquire", l->key);
    freeReplyObject(r);
    if (code == 1) {
        l->fence = a;
        return LH_OK;
    }
    if (code == 2)
        return lh__condition_failed(c, l, a, b, res);
    if (res) {
        res->failed = 0;
        res->retry_after_ms = a;
    }
    return lh__fail(c, LH_ERR_HELD,
                    "acquire %.200s: held by another lease for %lld ms", l->key,
                    a);
}

lh_status lh_lease_acquire(lh_lease **out, lh_client *c, const lh_factory *f,
                           const char *const *args, size_t nargs,
                           const lh_acquire_options *opts)
{
    const char *keys[2];
    size_t klen[2];
    lh_lease *l = NULL;
    redisReply *r = NULL;
    request q;
    lh_status st;

    if (c == NULL)
        return LH_ERR_INVALID;
    lh__clear(c);
    if (out == NULL)
        return lh__fail(c, LH_ERR_INVALID, "acquire: out is NULL");
    *out = NULL;
    if ((st = make_request(c, f, args, nargs, opts, &q)) != LH_OK)
        return st;
    /* Build the lease first, so its key serves the call and no memory
     * failure can come after Redis has granted it. */
    if (lh__lease_new(&l, f->root, f->prefix, args, nargs, q.id, 0, q.ttl,
                      f->retention_ms) != LH_OK)
        return lh__fail(c, LH_ERR_NOMEM, "acquire: out of memory");
    keys[0] = l->key, klen[0] = l->keylen;
    keys[1] = q.windowed
                  ? lh__key_suffixed(l->key, l->keylen, ":a", 2, &klen[1])
                  : NULL;
    if (q.windowed && keys[1] == NULL)
        st = lh__fail(c, LH_ERR_NOMEM, "acquire: out of memory");
    else if (q.wait_ms > 0)
        st = lh__acquire_wait(c, l, q.argv, q.wait_ms, opts->result);
    else
        st = lh__script_call(c, &lh__script_acquire, q.windowed ? 2 : 1, keys,
                             klen, q.argc, q.argv, NULL, &r);
    lh__free((void *)keys[1]);
    if (st == LH_OK && q.wait_ms <= 0)
        st = read_reply(c, r, l,
                        opts && opts->version >= 2 ? opts->result : NULL);
    if (st == LH_OK)
        *out = l;
    else
        lh_lease_free(l);
    return st;
}
