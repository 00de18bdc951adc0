/*
 * check_renew.c - the renewer against the suite's own redis-server
 * (tests/with-redis.sh).
 *
 * Covered: a threaded renewer keeps a lease of 300 ms alive for five times
 * its TTL (the caller's own lease freed at once: the renewer has a copy);
 * losses reported once, with the right status, when the key is deleted
 * behind its back (NOT_HELD), taken over by another lease (NOT_OWNED),
 * released while the renewer runs, or when Redis is unreachable (the
 * server is stopped with SIGSTOP: IO, by the local clock, about when the
 * lease expires); the tick API driven by a loop (keeps alive, retries a
 * timed-out extend, reports loss, reports a late tick); freeing a renewer
 * while its extend is in flight, also while Redis is stopped; invalid
 * arguments; and that the callback never runs after lh_renewer_free()
 * returns. Timed windows are 200 ms or more; waits poll with a deadline.
 */
#include "helpers.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What the loss callback saw; written on the renewer's thread. */
typedef struct loss {
    int calls;
    int why;
    int late; /* calls made after lh_renewer_free() returned */
    int freed;
    int64_t at_ms;
    char message[LH__ERRMSG_MAX];
} loss;

static void on_loss(const lh_lease *lease, lh_status why, const char *message,
                    void *payload)
{
    loss *ls = payload;

    (void)lease;
    if (__atomic_load_n(&ls->freed, __ATOMIC_ACQUIRE))
        __atomic_add_fetch(&ls->late, 1, __ATOMIC_RELEASE);
    if (__atomic_load_n(&ls->calls, __ATOMIC_ACQUIRE) == 0) {
        snprintf(ls->message, sizeof(ls->message), "%s", message);
        __atomic_store_n(&ls->why, (int)why, __ATOMIC_RELAXED);
        __atomic_store_n(&ls->at_ms, th_now_ms(), __ATOMIC_RELAXED);
    }
    __atomic_add_fetch(&ls->calls, 1, __ATOMIC_RELEASE);
}

static int calls(loss *ls)
{
    return __atomic_load_n(&ls->calls, __ATOMIC_ACQUIRE);
}

/* A pacing delay for loops that watch a state over a window, or poll for
 * one with a deadline. */
static void pace(int ms)
{
    poll(NULL, 0, ms);
}

static int64_t scaled(int64_t ms)
{
    return ms * th_timeout_multiplier();
}

/* Poll until the callback has run or 'ms' (scaled) have passed. */
static int wait_loss(loss *ls, int64_t ms)
{
    int64_t deadline = th_now_ms() + scaled(ms);

    while (calls(ls) == 0 && th_now_ms() < deadline)
        pace(2);
    return calls(ls);
}

static lh_lease *acquire(lh_client *c, const lh_factory *f, const char *arg)
{
    const char *args[1];
    lh_lease *l = NULL;
    lh_status st;

    args[0] = arg;
    st = lh_lease_acquire(&l, c, f, args, 1, NULL);
    ck_assert_msg(st == LH_OK, "acquire %s: %s (%s)", arg, lh_status_name(st),
                  lh_errmsg(c));
    return l;
}

static lh_lease *copy_of(const lh_lease *l)
{
    lh_lease *copy = NULL;
    char *text = NULL;
    lh_error err;

    ck_assert_int_eq(lh_lease_to_json(&text, l), LH_OK);
    ck_assert_msg(lh_lease_from_json(&copy, text, strlen(text), NULL, &err) ==
                      LH_OK,
                  "%s", err.message);
    lh_free(text);
    return copy;
}

static lh_renewer *start(lh_client *c, const lh_lease *l, int64_t interval_ms,
                         int64_t ttl_ms, loss *ls)
{
    lh_renew_options o = LH_RENEW_OPTIONS_INIT;
    lh_renewer *r = NULL;
    lh_error err;
    lh_status st;

    o.interval_ms = interval_ms;
    o.ttl_ms = ttl_ms;
    st = lh_renewer_start(&r, c, l, &o, on_loss, ls, &err);
    ck_assert_msg(st == LH_OK, "start: %s (%s)", lh_status_name(st),
                  err.message);
    ck_assert_int_eq(err.code, LH_OK);
    ck_assert(r != NULL);
    return r;
}

static void del_key(redisContext *rc, const lh_lease *l)
{
    char *key = NULL;

    ck_assert_int_eq(lh_lease_key(&key, l), LH_OK);
    ck_assert_int_eq(th_cmd_int(rc, "DEL", key, NULL), 1);
    lh_free(key);
}

/* Poll until the renewer's status leaves LH_OK ('ms' scaled). */
static lh_status wait_status(const lh_renewer *r, int64_t ms)
{
    int64_t deadline = th_now_ms() + scaled(ms);

    while (lh_renewer_status(r) == LH_OK && th_now_ms() < deadline)
        pace(2);
    return lh_renewer_status(r);
}

static void free_renewer(lh_renewer *r, loss *ls)
{
    lh_renewer_free(r);
    __atomic_store_n(&ls->freed, 1, __ATOMIC_RELEASE);
}

/* Something for an out-parameter to point at before a call that must
 * set it to NULL. */
static char sentinel;
#define SENTINEL ((lh_renewer *)(void *)&sentinel)

/* ---- threaded renewers ------------------------------------------------- */

/* TTL 300 ms, an extend every 100 ms: held for 1500 ms, as the server
 * and the status say throughout. The caller's lease is freed at once. */
START_TEST(keeps_alive_five_ttls)
{
    lh_client *c = th_client();
    lh_factory *f = th_factory("alive", "job", 1, 300);
    lh_lease *l = acquire(c, f, "x"), *copy = copy_of(l);
    loss ls;
    lh_renewer *r;
    lh_lease_state state;
    int64_t t0;
    int rounds = 0;

    memset(&ls, 0, sizeof(ls));
    r = start(c, l, 0, 0, &ls);
    lh_lease_free(l);
    t0 = th_now_ms();
    while (th_now_ms() - t0 < 1500) {
        ck_assert_int_eq(lh_lease_confirm(&state, c, copy), LH_OK);
        ck_assert_msg(state.ttl_ms <= 300, "ttl %lld", (long long)state.ttl_ms);
        ck_assert_int_eq(lh_renewer_status(r), LH_OK);
        rounds++;
        pace(20);
    }
    ck_assert_int_ge(rounds, 10);
    ck_assert_int_eq(calls(&ls), 0);
    free_renewer(r, &ls);
    ck_assert_int_eq(lh_lease_release(c, copy, LH_OUTCOME_SUCCESS), LH_OK);
    ck_assert_int_eq(calls(&ls), 0);
    lh_lease_free(copy);
    lh_factory_free(f);
    lh_client_free(c);
}
END_TEST

START_TEST(loss_when_key_deleted)
{
    lh_client *c = th_client();
    redisContext *rc = th_raw();
    lh_factory *f = th_factory("deleted", "job", 1, 600);
    lh_lease *l = acquire(c, f, "x");
    loss ls;
    lh_renewer *r;

    memset(&ls, 0, sizeof(ls));
    r = start(c, l, 0, 0, &ls);
    del_key(rc, l);
    ck_assert_int_eq(wait_status(r, 2000), LH_ERR_NOT_HELD);
    ck_assert_int_eq(wait_loss(&ls, 2000), 1);
    free_renewer(r, &ls);
    ck_assert_int_eq(calls(&ls), 1);
    ck_assert_int_eq(ls.why, LH_ERR_NOT_HELD);
    ck_assert_msg(strstr(ls.message, "not held") != NULL, "%s", ls.message);
    ck_assert_int_eq(ls.late, 0);
    lh_lease_free(l);
    lh_factory_free(f);
    redisFree(rc);
    lh_client_free(c);
}
END_TEST

/* The lease (60 s) is renewed with a TTL of 3 s every second. Once the
 * first extend is seen (the TTL left drops to 3 s or less), the key is
 * deleted and another lease acquires the resource, well within the
 * second before the next extend, which then finds it not owned. */
START_TEST(loss_when_taken_over)
{
    lh_client *c = th_client();
    redisContext *rc = th_raw();
    lh_factory *f = th_factory("taken", "job", 1, 60000);
    lh_lease *l = acquire(c, f, "x"), *other;
    lh_lease_state state;
    int64_t deadline;
    loss ls;
    lh_renewer *r;

    memset(&ls, 0, sizeof(ls));
    r = start(c, l, 1000, 3000, &ls);
    deadline = th_now_ms() + scaled(2000);
    for (;;) {
        ck_assert_int_eq(lh_lease_confirm(&state, c, l), LH_OK);
        if (state.ttl_ms <= 3000)
            break;
        ck_assert_msg(th_now_ms() < deadline, "no extend seen");
        pace(2);
    }
    del_key(rc, l);
    other = acquire(c, f, "x");
    ck_assert_int_eq(wait_status(r, 3000), LH_ERR_NOT_OWNED);
    ck_assert_int_eq(wait_loss(&ls, 1000), 1);
    free_renewer(r, &ls);
    ck_assert_int_eq(calls(&ls), 1);
    ck_assert_int_eq(ls.why, LH_ERR_NOT_OWNED);
    /* The renewer did not touch the new holder. */
    ck_assert_int_eq(lh_lease_confirm(&state, c, other), LH_OK);
    ck_assert_int_gt(state.ttl_ms, 50000);
    lh_lease_free(other);
    lh_lease_free(l);
    lh_factory_free(f);
    redisFree(rc);
    lh_client_free(c);
}
END_TEST

/* Releasing while the renewer runs makes its next extend report
 * NOT_HELD; stopping first, then releasing, reports nothing. */
START_TEST(release_while_running_then_stop_first)
{
    lh_client *c = th_client();
    lh_factory *f = th_factory("release", "job", 1, 600);
    lh_lease *l = acquire(c, f, "x");
    loss ls;
    lh_renewer *r;

    memset(&ls, 0, sizeof(ls));
    r = start(c, l, 0, 0, &ls);
    ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_SUCCESS), LH_OK);
    ck_assert_int_eq(wait_loss(&ls, 2000), 1);
    ck_assert_int_eq(lh_renewer_status(r), LH_ERR_NOT_HELD);
    free_renewer(r, &ls);
    ck_assert_int_eq(ls.why, LH_ERR_NOT_HELD);
    lh_lease_free(l);

    l = acquire(c, f, "x");
    memset(&ls, 0, sizeof(ls));
    r = start(c, l, 0, 0, &ls);
    free_renewer(r, &ls);
    ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_SUCCESS), LH_OK);
    ck_assert_int_eq(calls(&ls), 0);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
}
END_TEST

/* Start, then free at once, 50 times: the first extend is usually in
 * flight when lh_renewer_free() runs. Then the same while the caller
 * releases and frees its lease: a loss may be reported, once, or not. */
START_TEST(free_while_extend_in_flight)
{
    lh_client *c = th_client();
    lh_factory *f = th_factory("inflight", "job", 1, 600);
    lh_lease *l = acquire(c, f, "x");
    loss ls;
    int i;

    for (i = 0; i < 50; i++) {
        memset(&ls, 0, sizeof(ls));
        free_renewer(start(c, l, 0, 0, &ls), &ls);
        ck_assert_int_eq(calls(&ls), 0);
    }
    ck_assert_int_eq(lh_lease_confirm(NULL, c, l), LH_OK);
    ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_SUCCESS), LH_OK);
    lh_lease_free(l);
    for (i = 0; i < 50; i++) {
        lh_renewer *r;

        memset(&ls, 0, sizeof(ls));
        l = acquire(c, f, "x");
        r = start(c, l, 0, 0, &ls);
        ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_FAILURE), LH_OK);
        lh_lease_free(l);
        free_renewer(r, &ls);
        ck_assert_int_le(calls(&ls), 1);
        ck_assert(calls(&ls) == 0 || ls.why == LH_ERR_NOT_HELD);
    }
    lh_factory_free(f);
    lh_client_free(c);
}
END_TEST

/* Renewers about to find their lease gone (the key deleted, an extend
 * every 50 ms) are freed: no callback starts after lh_renewer_free()
 * returns, even 200 ms later. */
START_TEST(no_callback_after_free)
{
    lh_client *c = th_client();
    redisContext *rc = th_raw();
    lh_factory *f = th_factory("nolate", "job", 1, 300);
    loss ls[10];
    int64_t t0;
    int i;

    memset(ls, 0, sizeof(ls));
    for (i = 0; i < 10; i++) {
        lh_lease *l = acquire(c, f, "x");
        lh_renewer *r = start(c, l, 50, 0, &ls[i]);

        del_key(rc, l);
        if (i % 2)
            pace(i * 10);
        free_renewer(r, &ls[i]);
        lh_lease_free(l);
    }
    t0 = th_now_ms();
    while (th_now_ms() - t0 < 200)
        pace(10);
    for (i = 0; i < 10; i++) {
        ck_assert_int_eq(__atomic_load_n(&ls[i].late, __ATOMIC_ACQUIRE), 0);
        ck_assert_int_le(calls(&ls[i]), 1);
    }
    lh_factory_free(f);
    redisFree(rc);
    lh_client_free(c);
}
END_TEST

/* ---- Redis unreachable: the server stopped with SIGSTOP ---------------- */

static long redis_pid(void)
{
    const char *pidfile = getenv("LEASEHOLD_TEST_REDIS_PIDFILE");
    FILE *fp;
    long pid = 0;

    ck_assert_msg(pidfile != NULL, "not run under tests/with-redis.sh");
    fp = fopen(pidfile, "r");
    ck_assert_msg(fp && fscanf(fp, "%ld", &pid) == 1 && pid > 1, "no pid");
    fclose(fp);
    return pid;
}

/* Unchecked teardown: runs in the parent, also after a failed or timed
 * out case, so the server never stays stopped. */
static void resume_redis(void)
{
    const char *pidfile = getenv("LEASEHOLD_TEST_REDIS_PIDFILE");
    FILE *fp = pidfile ? fopen(pidfile, "r") : NULL;
    long pid = 0;

    if (fp && fscanf(fp, "%ld", &pid) == 1 && pid > 1)
        kill((pid_t)pid, SIGCONT);
    if (fp)
        fclose(fp);
}

/* TTL 400 ms, an extend every 100 ms, then the server stops: the loss is
 * LH_ERR_IO, reported by the local clock about when the lease would have
 * expired (after its last extend, at most 100 ms before the stop), long
 * before the server comes back. Assertions wait until it has. */
START_TEST(loss_when_unreachable)
{
    lh_client *c = th_client();
    lh_factory *f = th_factory("stopped", "job", 1, 400);
    lh_lease *l = acquire(c, f, "x");
    long pid = redis_pid();
    int64_t t0, after;
    lh_status seen;
    loss ls;
    lh_renewer *r;
    int n;

    memset(&ls, 0, sizeof(ls));
    r = start(c, l, 100, 0, &ls);
    t0 = th_now_ms();
    while (th_now_ms() - t0 < 250)
        pace(10);
    ck_assert_int_eq(lh_renewer_status(r), LH_OK);
    ck_assert_int_eq(kill((pid_t)pid, SIGSTOP), 0);
    t0 = th_now_ms();
    n = wait_loss(&ls, 400 + 1000);
    seen = lh_renewer_status(r);
    kill((pid_t)pid, SIGCONT);
    ck_assert_int_eq(n, 1);
    after = ls.at_ms - t0;
    ck_assert_int_eq(ls.why, LH_ERR_IO);
    ck_assert_int_eq(seen, LH_ERR_IO);
    ck_assert_msg(strstr(ls.message, "local clock") != NULL, "%s", ls.message);
    /* not before the lease could have lapsed (its last extend was at
     * most one interval before the stop); the report itself came while
     * the server was still stopped (wait_loss above) */
    ck_assert_msg(after >= 400 - 200, "reported %lld ms after the stop",
                  (long long)after);
    free_renewer(r, &ls);
    ck_assert_int_eq(calls(&ls), 1);
    /* Nothing extended the lease meanwhile: it did expire. */
    ck_assert_int_eq(lh_lease_confirm(NULL, c, l), LH_ERR_NOT_HELD);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
}
END_TEST

/* An extend blocked on a stopped server does not hold lh_renewer_free()
 * for long: the renewer's connection times out within the interval. The
 * lease (3 s) is renewed with a TTL of 2 s every 200 ms; once the first
 * extend is seen, the server stops, and 250 ms later the second extend
 * is blocked. */
START_TEST(free_while_unreachable)
{
    lh_client *c = th_client();
    lh_factory *f = th_factory("stopfree", "job", 1, 3000);
    lh_lease *l = acquire(c, f, "x");
    long pid = redis_pid();
    lh_lease_state state;
    int64_t t0, took;
    loss ls;
    lh_renewer *r;

    memset(&ls, 0, sizeof(ls));
    r = start(c, l, 200, 2000, &ls);
    t0 = th_now_ms();
    do {
        ck_assert_int_eq(lh_lease_confirm(&state, c, l), LH_OK);
        ck_assert_msg(th_now_ms() - t0 < scaled(1000), "no extend seen");
    } while (state.ttl_ms > 2000);
    ck_assert_int_eq(kill((pid_t)pid, SIGSTOP), 0);
    t0 = th_now_ms();
    while (th_now_ms() - t0 < 250)
        pace(10);
    t0 = th_now_ms();
    lh_renewer_free(r);
    took = th_now_ms() - t0;
    kill((pid_t)pid, SIGCONT);
    /* the renewer's own timeout (within its interval) ended the blocked
     * extend, not the client's default command timeout */
    ck_assert_msg(took < LH__DEFAULT_TIMEOUT_MS, "free took %lld ms",
                  (long long)took);
    ck_assert_int_eq(calls(&ls), 0);
    ck_assert_int_eq(lh_lease_confirm(NULL, c, l), LH_OK);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
}
END_TEST

/* The renewer's connection is opened before start returns: a server that
 * does not answer within the client's timeout fails the start. */
START_TEST(start_fails_when_unreachable)
{
    lh_client_options o = LH_CLIENT_OPTIONS_INIT;
    lh_client *c = NULL, *setup = th_client();
    lh_factory *f = th_factory("stopstart", "job", 1, 3000);
    lh_lease *l = acquire(setup, f, "x");
    long pid = redis_pid();
    lh_renewer *r = SENTINEL;
    lh_error err;
    lh_status st;
    loss ls;

    memset(&ls, 0, sizeof(ls));
    o.timeout_ms = 200;
    ck_assert_int_eq(lh_client_open(&c, th_url(), &o, &err), LH_OK);
    ck_assert_int_eq(kill((pid_t)pid, SIGSTOP), 0);
    st = lh_renewer_start(&r, c, l, NULL, on_loss, &ls, &err);
    kill((pid_t)pid, SIGCONT);
    ck_assert_int_eq(st, LH_ERR_IO);
    ck_assert(r == NULL);
    ck_assert_int_eq(err.code, LH_ERR_IO);
    ck_assert_str_ne(err.message, "");
    ck_assert_int_eq(calls(&ls), 0);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
    lh_client_free(setup);
}
END_TEST

/* ---- ticked renewers --------------------------------------------------- */

/* Tick (waiting what next_ms says, 20 ms at most, between ticks) and
 * confirm for 'ms'; each tick must return LH_OK. */
static void tick_for(lh_renewer *r, lh_client *c, const lh_lease *l, int ms)
{
    int64_t t0 = th_now_ms(), next = 0;
    lh_status st;

    while (th_now_ms() - t0 < ms) {
        st = lh_renewer_tick(r, c, &next);
        ck_assert_msg(st == LH_OK, "tick: %s (%s)", lh_status_name(st),
                      lh_errmsg(c));
        ck_assert_msg(next >= 0 && next <= 100, "next %lld", (long long)next);
        ck_assert_int_eq(lh_lease_confirm(NULL, c, l), LH_OK);
        pace(next < 20 ? (int)next : 20);
    }
}

START_TEST(tick_keeps_alive_and_reports_loss)
{
    lh_client *c = th_client();
    redisContext *rc = th_raw();
    lh_factory *f = th_factory("tick", "job", 1, 300);
    lh_lease *l = acquire(c, f, "x");
    lh_renewer *r = NULL;
    int64_t next = 0, deadline;
    lh_status st;
    loss ls;

    memset(&ls, 0, sizeof(ls));
    ck_assert_int_eq(lh_renewer_new(&r, l, NULL, on_loss, &ls, NULL), LH_OK);
    tick_for(r, c, l, 1500);
    ck_assert_int_eq(calls(&ls), 0);
    del_key(rc, l);
    deadline = th_now_ms() + scaled(1000);
    while ((st = lh_renewer_tick(r, c, &next)) == LH_OK) {
        ck_assert_msg(th_now_ms() < deadline, "no loss seen");
        pace(next < 20 ? (int)next : 20);
    }
    ck_assert_int_eq(st, LH_ERR_NOT_HELD);
    ck_assert_int_eq(next, -1);
    ck_assert_int_eq(calls(&ls), 1);
    ck_assert_int_eq(ls.why, LH_ERR_NOT_HELD);
    ck_assert_int_eq(lh_renewer_status(r), LH_ERR_NOT_HELD);
    ck_assert_str_ne(lh_errmsg(c), "");
    /* Later ticks repeat the status; the callback ran once. */
    ck_assert_int_eq(lh_renewer_tick(r, c, &next), LH_ERR_NOT_HELD);
    ck_assert_int_eq(next, -1);
    ck_assert_int_eq(calls(&ls), 1);
    lh_renewer_free(r);
    lh_lease_free(l);
    lh_factory_free(f);
    redisFree(rc);
    lh_client_free(c);
}
END_TEST

/* CLIENT PAUSE ALL for 600 ms makes an extend time out (client timeout
 * 50 ms): the tick returns LH_OK and asks to be called again soon; once
 * the pause is over the lease is extended again and stays held. */
START_TEST(tick_retries_timed_out_extend)
{
    lh_client_options o = LH_CLIENT_OPTIONS_INIT;
    lh_client *c = NULL;
    redisContext *rc = th_raw();
    lh_factory *f = th_factory("tickretry", "job", 1, 1000);
    lh_renew_options ro = LH_RENEW_OPTIONS_INIT;
    lh_lease *l;
    lh_renewer *r = NULL;
    int64_t next = 0, deadline;
    loss ls;

    memset(&ls, 0, sizeof(ls));
    o.timeout_ms = 50;
    ck_assert_int_eq(lh_client_open(&c, th_url(), &o, NULL), LH_OK);
    l = acquire(c, f, "x");
    ro.interval_ms = 100;
    ck_assert_int_eq(lh_renewer_new(&r, l, &ro, on_loss, &ls, NULL), LH_OK);
    ck_assert_int_eq(lh_renewer_tick(r, c, &next), LH_OK);
    ck_assert_msg(next >= 1 && next <= 100, "next %lld", (long long)next);
    /* paused well within the lease's 1000 ms, and long enough that a
     * slow run still ticks in it */
    freeReplyObject(th_cmd(rc, "CLIENT", "PAUSE", "600", "ALL", NULL));
    deadline = th_now_ms() + 500; /* the next extend falls in the pause */
    do {
        ck_assert_msg(th_now_ms() < deadline, "no extend was due");
        pace((int)next);
        ck_assert_int_eq(lh_renewer_tick(r, c, &next), LH_OK);
    } while (lh_errmsg(c)[0] == '\0');
    ck_assert_msg(strstr(lh_errmsg(c), "timed out") != NULL, "%s",
                  lh_errmsg(c));
    ck_assert_msg(next >= 1 && next <= 100, "next %lld", (long long)next);
    ck_assert_int_eq(lh_renewer_status(r), LH_OK);
    freeReplyObject(th_cmd(rc, "PING", NULL)); /* the pause is over */
    tick_for(r, c, l, 1500);
    ck_assert_int_eq(calls(&ls), 0);
    lh_renewer_free(r);
    lh_lease_free(l);
    lh_factory_free(f);
    redisFree(rc);
    lh_client_free(c);
}
END_TEST

/* lh_renewer_release(): stop, then release, with no loss reported; the
 * release is the resource's last outcome. Threaded and ticked. */
START_TEST(renewer_release_in_order)
{
    lh_client *c = th_client();
    lh_factory *f = th_factory("relorder", "job", 1, 600);
    const char *args[] = {"x"};
    lh_resource_info info;
    lh_lease *l = acquire(c, f, "x");
    lh_renewer *r;
    loss ls;

    memset(&ls, 0, sizeof(ls));
    r = start(c, l, 5, 0, &ls); /* an extend after a release would fail */
    pace(20);
    ck_assert_int_eq(lh_renewer_status(r), LH_OK);
    ck_assert_int_eq(lh_renewer_release(r, c, LH_OUTCOME_SUCCESS), LH_OK);
    __atomic_store_n(&ls.freed, 1, __ATOMIC_RELEASE);
    ck_assert_int_eq(calls(&ls), 0);
    ck_assert_int_eq(lh_resource_inspect(&info, c, f, args, 1), LH_OK);
    ck_assert(!info.held);
    ck_assert_int_eq(info.last_outcome, LH_OUTCOME_SUCCESS);
    lh_lease_free(l);
    /* ticked; then a lease no longer held: the release's own status */
    l = acquire(c, f, "x");
    ck_assert_int_eq(lh_renewer_new(&r, l, NULL, on_loss, &ls, NULL), LH_OK);
    ck_assert_int_eq(lh_renewer_tick(r, c, NULL), LH_OK);
    ck_assert_int_eq(lh_renewer_release(r, c, LH_OUTCOME_FAILURE), LH_OK);
    ck_assert_int_eq(lh_renewer_new(&r, l, NULL, on_loss, &ls, NULL), LH_OK);
    ck_assert_int_eq(lh_renewer_release(r, c, LH_OUTCOME_FAILURE),
                     LH_ERR_NOT_HELD);
    ck_assert_int_eq(calls(&ls), 0);
    ck_assert_int_eq(lh_renewer_release(NULL, c, LH_OUTCOME_NONE),
                     LH_ERR_INVALID);
    ck_assert_int_eq(lh_renewer_new(&r, l, NULL, NULL, NULL, NULL), LH_OK);
    ck_assert_int_eq(lh_renewer_release(r, NULL, LH_OUTCOME_NONE),
                     LH_ERR_INVALID); /* and r is freed: valgrind */
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
}
END_TEST

/* A lease taken from a payload may have little time left: with
 * ttl_left_ms, the first deadline is that, not the lease's whole TTL. */
START_TEST(ttl_left_sets_first_deadline)
{
    lh_client *c = th_client();
    lh_factory *f = th_factory("ttlleft", "job", 1, 60000);
    lh_lease *l = acquire(c, f, "x");
    lh_renew_options ro = LH_RENEW_OPTIONS_INIT;
    lh_renewer *r = NULL;
    int64_t next = 0, t0;
    loss ls;

    memset(&ls, 0, sizeof(ls));
    ro.ttl_left_ms = 1;
    ck_assert_int_eq(lh_renewer_new(&r, l, &ro, on_loss, &ls, NULL), LH_OK);
    t0 = th_now_ms();
    while (th_now_ms() - t0 < 3)
        pace(1);
    ck_assert_int_eq(lh_renewer_tick(r, c, &next), LH_ERR_IO);
    ck_assert_int_eq(next, -1);
    ck_assert_int_eq(calls(&ls), 1);
    ck_assert_msg(strstr(ls.message, "local clock") != NULL, "%s", ls.message);
    lh_renewer_free(r);
    /* version 1 options do not have the field: the whole TTL counts */
    ro.version = 1;
    ck_assert_int_eq(lh_renewer_new(&r, l, &ro, NULL, NULL, NULL), LH_OK);
    t0 = th_now_ms();
    while (th_now_ms() - t0 < 3)
        pace(1);
    ck_assert_int_eq(lh_renewer_tick(r, c, &next), LH_OK);
    lh_renewer_free(r);
    ro.version = 2;
    ro.ttl_left_ms = -1;
    ck_assert_int_eq(lh_renewer_new(&r, l, &ro, NULL, NULL, NULL),
                     LH_ERR_INVALID);
    ck_assert_ptr_null(r);
    ro.ttl_left_ms = 31LL * 24 * 3600 * 1000; /* over the 30-day TTL cap */
    ck_assert_int_eq(lh_renewer_new(&r, l, &ro, NULL, NULL, NULL),
                     LH_ERR_INVALID);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(lh_lease_release(c, l, LH_OUTCOME_NONE), LH_OK);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
}
END_TEST

/* A tick that comes after the local deadline reports the loss (IO)
 * without sending an extend: by then the lease may have expired, and it
 * has (nothing extended it). */
START_TEST(tick_late_reports_io)
{
    lh_client *c = th_client();
    lh_factory *f = th_factory("ticklate", "job", 1, 300);
    lh_lease *l = acquire(c, f, "x");
    lh_renewer *r = NULL;
    int64_t next = 0, t0;
    loss ls;

    memset(&ls, 0, sizeof(ls));
    ck_assert_int_eq(lh_renewer_new(&r, l, NULL, on_loss, &ls, NULL), LH_OK);
    ck_assert_int_eq(lh_renewer_tick(r, c, &next), LH_OK);
    t0 = th_now_ms();
    while (th_now_ms() - t0 < 300 + 50)
        pace(10);
    ck_assert_int_eq(lh_renewer_tick(r, c, &next), LH_ERR_IO);
    ck_assert_int_eq(next, -1);
    ck_assert_int_eq(calls(&ls), 1);
    ck_assert_int_eq(ls.why, LH_ERR_IO);
    ck_assert_msg(strstr(lh_errmsg(c), "local clock") != NULL, "%s",
                  lh_errmsg(c));
    ck_assert_int_eq(lh_lease_confirm(NULL, c, l), LH_ERR_NOT_HELD);
    lh_renewer_free(r);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
}
END_TEST

/* ---- invalid arguments ------------------------------------------------- */

typedef struct bad_opts {
    unsigned version;
    int64_t interval_ms, ttl_ms, lease_ttl_ms;
} bad_opts;

static const bad_opts bad_rows[] = {
    {0, 0, 0, 1000},                 /* version */
    {1, 1000, 0, 1000},              /* interval == TTL */
    {1, 2000, 0, 1000},              /* interval > TTL */
    {1, 500, 400, 1000},             /* interval > the renew TTL */
    {1, -1, 0, 1000},                /* negative interval */
    {1, 0, -1, 1000},                /* negative TTL */
    {1, 0, 0, 2},                    /* TTL / 3 is 0 */
    {1, 0, LH_MAX_TTL_MS + 1, 1000}, /* TTL too long */
};

START_TEST(invalid_options)
{
    const bad_opts *b = &bad_rows[_i];
    lh_client *c = th_client();
    lh_factory *f = th_factory("invalid", "job", 1, b->lease_ttl_ms);
    lh_lease *l = acquire(c, f, "x");
    lh_renew_options o = LH_RENEW_OPTIONS_INIT;
    lh_renewer *r = SENTINEL;
    lh_error err;
    lh_status st;
    loss ls;

    memset(&ls, 0, sizeof(ls));
    o.version = b->version;
    o.interval_ms = b->interval_ms;
    o.ttl_ms = b->ttl_ms;
    ck_assert_int_eq(lh_renewer_new(&r, l, &o, on_loss, &ls, &err),
                     LH_ERR_INVALID);
    ck_assert(r == NULL);
    ck_assert_int_eq(err.code, LH_ERR_INVALID);
    ck_assert_str_ne(err.message, "");
    r = SENTINEL;
    ck_assert_int_eq(lh_renewer_start(&r, c, l, &o, on_loss, &ls, &err),
                     LH_ERR_INVALID);
    ck_assert(r == NULL);
    ck_assert_int_eq(calls(&ls), 0);
    st = lh_lease_release(c, l, LH_OUTCOME_NONE); /* a 2 ms lease expires */
    ck_assert(st == LH_OK || st == LH_ERR_NOT_HELD);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
}
END_TEST

START_TEST(invalid_arguments)
{
    lh_client *c = th_client();
    lh_factory *f = th_factory("invalid2", "job", 1, 1000);
    lh_lease *l = acquire(c, f, "x");
    lh_renewer *r = NULL, *t = NULL;
    int64_t next = 0;
    lh_error err;
    loss ls;

    memset(&ls, 0, sizeof(ls));
    ck_assert_int_eq(lh_renewer_new(&r, NULL, NULL, on_loss, &ls, &err),
                     LH_ERR_INVALID);
    ck_assert(r == NULL);
    ck_assert_msg(strstr(err.message, "lease") != NULL, "%s", err.message);
    ck_assert_int_eq(lh_renewer_start(&r, c, NULL, NULL, on_loss, &ls, &err),
                     LH_ERR_INVALID);
    ck_assert_int_eq(lh_renewer_start(&r, NULL, l, NULL, on_loss, &ls, &err),
                     LH_ERR_INVALID);
    ck_assert(r == NULL);
    ck_assert_int_eq(lh_renewer_new(NULL, l, NULL, NULL, NULL, NULL),
                     LH_ERR_INVALID);
    ck_assert_int_eq(lh_renewer_start(NULL, c, l, NULL, NULL, NULL, NULL),
                     LH_ERR_INVALID);
    ck_assert_int_eq(lh_renewer_status(NULL), LH_ERR_INVALID);
    ck_assert_int_eq(lh_renewer_tick(NULL, c, &next), LH_ERR_INVALID);
    ck_assert_int_eq(next, -1);
    ck_assert_int_eq(lh_renewer_new(&t, l, NULL, NULL, NULL, NULL), LH_OK);
    ck_assert_int_eq(lh_renewer_tick(t, NULL, &next), LH_ERR_INVALID);
    ck_assert_int_eq(lh_renewer_tick(t, c, NULL), LH_OK); /* NULL next */
    r = start(c, l, 0, 0, &ls);
    ck_assert_int_eq(lh_renewer_tick(r, c, &next), LH_ERR_INVALID);
    ck_assert_str_ne(lh_errmsg(c), "");
    lh_renewer_free(r);
    lh_renewer_free(t);
    lh_renewer_free(NULL);
    ck_assert_int_eq(calls(&ls), 0);
    lh_lease_free(l);
    lh_factory_free(f);
    lh_client_free(c);
}
END_TEST

/* ---- the suite --------------------------------------------------------- */

static TCase *tcase(Suite *s, const char *name, int timeout)
{
    TCase *tc = tcase_create(name);

    tcase_set_timeout(tc, timeout);
    suite_add_tcase(s, tc);
    return tc;
}

int main(void)
{
    Suite *s = suite_create("renew");
    TCase *tc;

    tc = tcase(s, "threaded", 10);
    tcase_add_test(tc, keeps_alive_five_ttls);
    tcase_add_test(tc, loss_when_key_deleted);
    tcase_add_test(tc, loss_when_taken_over);
    tcase_add_test(tc, release_while_running_then_stop_first);
    tcase_add_test(tc, free_while_extend_in_flight);
    tcase_add_test(tc, no_callback_after_free);
    tc = tcase(s, "unreachable", 10);
    tcase_add_unchecked_fixture(tc, NULL, resume_redis);
    tcase_add_test(tc, loss_when_unreachable);
    tcase_add_test(tc, free_while_unreachable);
    tcase_add_test(tc, start_fails_when_unreachable);
    tc = tcase(s, "tick", 10);
    tcase_add_test(tc, tick_keeps_alive_and_reports_loss);
    tcase_add_test(tc, tick_retries_timed_out_extend);
    tcase_add_test(tc, tick_late_reports_io);
    tcase_add_test(tc, ttl_left_sets_first_deadline);
    tcase_add_test(tc, renewer_release_in_order);
    tc = tcase(s, "invalid", 10);
    tcase_add_loop_test(tc, invalid_options, 0,
                        sizeof(bad_rows) / sizeof(bad_rows[0]));
    tcase_add_test(tc, invalid_arguments);
    return th_run(s);
}
