/*
 * renew.c - auto-renewal: a renewer keeps one lease alive by extending it
 * every interval, and reports once, through a callback and an atomic
 * status, when the lease is lost.
 *
 * It owns a copy of the lease (so the caller may free or release its own
 * at any time), the local deadline, the loss report and, for a threaded
 * renewer, the thread and the thread's own connection. The deadline is
 * pessimistic and on CLOCK_MONOTONIC: the clock is read just before each
 * extend is sent, and an extend that succeeds keeps the lease safe until
 * that moment plus the TTL, however late its reply came. An extend that
 * finds the lease not held or not owned is a loss at once. Any other
 * failure (Redis unreachable, a timeout, an error reply) is retried sooner,
 * after min(interval, half the time left), until the deadline passes: then
 * the loss is LH_ERR_IO. A threaded renewer also bounds each call by the
 * time left, so an unreachable Redis is reported about when the lease would
 * have expired, not a whole command timeout later.
 *
 * The status is one int, read and written with __atomic builtins (as in
 * alloc.c); every other field belongs to the one thread that ticks: the
 * caller's, or the renewer's own, which waits on a condition variable on
 * the monotonic clock so that lh_renewer_free() wakes it at once.
 */
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct lh_renewer {
    lh_lease *lease;     /* our own copy */
    int64_t interval_us; /* between extends */
    int64_t ttl_ms;      /* each extend's TTL */
    int64_t deadline_us; /* monotonic: the lease is safe until then */
    int64_t next_us;     /* monotonic: the next extend is due */
    lh_loss_fn on_loss;
    void *payload;
    int status;                   /* an lh_status; __atomic access only */
    char message[LH__ERRMSG_MAX]; /* why the lease was lost */
    /* threaded renewers only */
    lh_client *client;                      /* the thread's connection */
    int64_t connect_timeout_ms, timeout_ms; /* its longest timeouts */
    int sync_ready;                         /* mutex and cond initialized */
    int started;                            /* the thread runs: join it */
    pthread_t thread;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int stop; /* under 'mutex': lh_renewer_free() was called */
};

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static void clear_error(lh_error *err)
{
    if (err) {
        err->code = LH_OK;
        err->message[0] = '\0';
    }
}

/* The interval, TTL and first time left that 'opts' asks for, checked
 * against 'lease'. */
static lh_status settings(int64_t *interval_ms, int64_t *ttl_ms,
                          int64_t *left_ms, const lh_lease *lease,
                          const lh_renew_options *opts, lh_error *err)
{
    if (lease == NULL)
        return lh__seterr(err, LH_ERR_INVALID, "renewer: lease is NULL");
    if (opts &&
        (opts->version < 1 || opts->interval_ms < 0 || opts->ttl_ms < 0 ||
         (opts->version >= 2 && opts->ttl_left_ms < 0)))
        return lh__seterr(err, LH_ERR_INVALID,
                          "renew options: bad version, interval, ttl or "
                          "ttl_left");
    *ttl_ms = opts && opts->ttl_ms ? opts->ttl_ms : lease->ttl_ms;
    *left_ms = opts && opts->version >= 2 && opts->ttl_left_ms > 0
                   ? opts->ttl_left_ms
                   : lease->ttl_ms;
    if (lh__check_ttl(err, "renew options: ttl", *ttl_ms) != LH_OK ||
        lh__check_ttl(err, "renew options: ttl_left", *left_ms) != LH_OK)
        return LH_ERR_INVALID;
    *interval_ms = opts && opts->interval_ms ? opts->interval_ms : *ttl_ms / 3;
    if (*interval_ms < 1 || *interval_ms >= *ttl_ms)
        return lh__seterr(err, LH_ERR_INVALID,
                          "renew options: interval %lld ms is not between "
                          "1 ms and the TTL (%lld ms)",
                          (long long)*interval_ms, (long long)*ttl_ms);
    return LH_OK;
}

/* Build a renewer driven by ticks. Until its first extend succeeds (the
 * first tick sends one at once), the lease has opts->ttl_left_ms left, or
 * counts as acquired just now. */
static lh_status make(lh_renewer **out, const lh_lease *lease,
                      const lh_renew_options *opts, lh_loss_fn on_loss,
                      void *payload, lh_error *err)
{
    int64_t interval_ms = 0, ttl_ms = 0, left_ms = 0;
    lh_renewer *r = NULL;
    lh_status st;

    if (out == NULL)
        return lh__seterr(err, LH_ERR_INVALID, "renewer: out is NULL");
    *out = NULL;
    if ((st = settings(&interval_ms, &ttl_ms, &left_ms, lease, opts, err)) !=
        LH_OK)
        goto done;
    st = LH_ERR_NOMEM;
    if ((r = lh__calloc(1, sizeof(*r))) == NULL ||
        lh__lease_new(&r->lease, lease->root, lease->prefix,
                      (const char *const *)lease->args, lease->nargs, lease->id,
                      lease->fence, lease->ttl_ms,
                      lease->retention_ms) != LH_OK) {
        lh__seterr(err, st, "renewer: out of memory");
        goto done;
    }
    r->interval_us = interval_ms * 1000;
    r->ttl_ms = ttl_ms;
    r->on_loss = on_loss;
    r->payload = payload;
    r->status = LH_OK;
    r->next_us = now_us();
    r->deadline_us = r->next_us + left_ms * 1000;
    *out = r;
    r = NULL;
    st = LH_OK;
    clear_error(err);
done:
    lh_renewer_free(r);
    return st;
}

/* The lease may have expired by the local clock: say why, in r->message,
 * with 'last', the last failure seen. */
static lh_status deadline_passed(lh_renewer *r, const char *last)
{
    snprintf(r->message, sizeof(r->message),
             "renew %.150s: no extend succeeded before the lease would "
             "have expired by the local clock (%.250s)",
             r->lease->key, last);
    return LH_ERR_IO;
}

/* A threaded renewer bounds each call by the time left before the
 * deadline, so that an unreachable Redis is reported about on time. A
 * call is a few round trips at most (reconnect, handshake, script), each
 * under these timeouts. */
static void bound_timeouts(lh_renewer *r, int64_t now)
{
    int64_t left_ms = (r->deadline_us - now + 999) / 1000;
    int64_t t = min64(r->timeout_ms, left_ms < 1 ? 1 : left_ms);

    lh__conn_set_timeouts(r->client, min64(r->connect_timeout_ms, t), t);
}

/* One turn: if an extend is due, send it on 'c' and move the deadline and
 * the next due time. Returns LH_OK while the lease is held; otherwise the
 * loss, with r->message saying why (the status is left to the caller). */
static lh_status step(lh_renewer *r, lh_client *c)
{
    static const char slow[] = "the extend took longer than the TTL";
    int64_t sent = now_us(), now, delay;
    lh_status st;

    if (sent < r->next_us)
        return LH_OK;
    if (sent >= r->deadline_us)
        return deadline_passed(r, "no extend was sent in time");
    if (r->client)
        bound_timeouts(r, sent);
    st = lh_lease_extend(NULL, c, r->lease, r->ttl_ms);
    if (st == LH_ERR_NOT_HELD || st == LH_ERR_NOT_OWNED) {
        snprintf(r->message, sizeof(r->message), "%s", lh_errmsg(c));
        return st;
    }
    if (st == LH_OK) {
        r->deadline_us = sent + r->ttl_ms * 1000;
        r->next_us = sent + r->interval_us;
    }
    now = now_us();
    if (now >= r->deadline_us)
        return deadline_passed(r, st == LH_OK ? slow : lh_errmsg(c));
    if (st != LH_OK) {
        delay = min64(r->interval_us, (r->deadline_us - now) / 2);
        r->next_us = min64(r->deadline_us, now + (delay < 1000 ? 1000 : delay));
    }
    return LH_OK;
}

lh_status lh_renewer_new(lh_renewer **out, const lh_lease *lease,
                         const lh_renew_options *opts, lh_loss_fn on_loss,
                         void *payload, lh_error *err)
{
    return make(out, lease, opts, on_loss, payload, err);
}

lh_status lh_renewer_tick(lh_renewer *r, lh_client *c, int64_t *next_ms)
{
    lh_status st;
    int64_t wait_us;

    if (next_ms)
        *next_ms = -1;
    if (c == NULL)
        return LH_ERR_INVALID;
    lh__clear(c);
    if (r == NULL || r->client != NULL)
        return lh__fail(c, LH_ERR_INVALID,
                        "renewer tick: NULL, or it runs on its own thread");
    st = (lh_status)__atomic_load_n(&r->status, __ATOMIC_ACQUIRE);
    if (st != LH_OK)
        return lh__fail(c, st, "%s", r->message);
    if ((st = step(r, c)) != LH_OK) {
        __atomic_store_n(&r->status, (int)st, __ATOMIC_RELEASE);
        lh__fail(c, st, "%s", r->message);
        if (r->on_loss)
            r->on_loss(r->lease, st, r->message, r->payload);
        return st;
    }
    wait_us = r->next_us - now_us();
    if (next_ms)
        *next_ms = wait_us > 0 ? (wait_us + 999) / 1000 : 0;
    return LH_OK;
}

/* Wait until 'when' (monotonic microseconds) or until lh_renewer_free()
 * asks the thread to stop; returns 1 if it did. */
static int wait_until(lh_renewer *r, int64_t when)
{
    struct timespec ts;
    int rc = 0, stop;

    ts.tv_sec = (time_t)(when / 1000000);
    ts.tv_nsec = (long)(when % 1000000) * 1000;
    pthread_mutex_lock(&r->mutex);
    while (!r->stop && rc == 0)
        rc = pthread_cond_timedwait(&r->cond, &r->mutex, &ts);
    stop = r->stop;
    pthread_mutex_unlock(&r->mutex);
    return stop;
}

/* The renewer's thread: extend when due, wait, until the lease is lost or
 * lh_renewer_free() stops it. A loss found after that call began is not
 * reported: the caller has stopped listening. */
static void *run(void *arg)
{
    lh_renewer *r = arg;
    lh_status st;
    int stop;

    while ((st = step(r, r->client)) == LH_OK && !wait_until(r, r->next_us))
        ;
    if (st == LH_OK)
        return NULL;
    __atomic_store_n(&r->status, (int)st, __ATOMIC_RELEASE);
    pthread_mutex_lock(&r->mutex);
    stop = r->stop;
    pthread_mutex_unlock(&r->mutex);
    if (!stop && r->on_loss)
        r->on_loss(r->lease, st, r->message, r->payload);
    return NULL;
}

/* The mutex, the condition variable (on the monotonic clock) and the
 * thread, with every signal blocked in it: the process's signals go to
 * the application's threads, never to ours. */
static lh_status start_thread(lh_renewer *r, lh_error *err)
{
    pthread_condattr_t attr;
    sigset_t all, old;
    int rc;

    if ((rc = pthread_condattr_init(&attr)) != 0)
        goto done;
    if ((rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)) == 0 &&
        (rc = pthread_cond_init(&r->cond, &attr)) == 0 &&
        (rc = pthread_mutex_init(&r->mutex, NULL)) != 0)
        pthread_cond_destroy(&r->cond);
    pthread_condattr_destroy(&attr);
    if (rc != 0)
        goto done;
    r->sync_ready = 1;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&r->thread, NULL, run, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    r->started = rc == 0;
done:
    if (rc == 0)
        return LH_OK;
    return lh__seterr(err, rc == ENOMEM ? LH_ERR_NOMEM : LH_ERR_IO,
                      "renewer: cannot start its thread (error %d)", rc);
}

lh_status lh_renewer_start(lh_renewer **out, lh_client *client,
                           const lh_lease *lease, const lh_renew_options *opts,
                           lh_loss_fn on_loss, void *payload, lh_error *err)
{
    lh_renewer *r = NULL;
    lh_status st;
    int64_t interval_ms;

    if (out)
        *out = NULL;
    if (out == NULL || client == NULL)
        return lh__seterr(err, LH_ERR_INVALID, "renewer: %s is NULL",
                          out ? "client" : "out");
    if ((st = make(&r, lease, opts, on_loss, payload, err)) != LH_OK)
        goto done;
    if ((st = lh__client_open_like(&r->client, client, err)) != LH_OK)
        goto done;
    interval_ms = r->interval_us / 1000;
    r->connect_timeout_ms = min64(client->conn.connect_timeout_ms, interval_ms);
    r->timeout_ms = min64(client->conn.timeout_ms, interval_ms);
    lh__conn_set_timeouts(r->client, r->connect_timeout_ms, r->timeout_ms);
    if ((st = start_thread(r, err)) != LH_OK)
        goto done;
    *out = r;
    r = NULL;
done:
    lh_renewer_free(r);
    return st;
}

lh_status lh_renewer_status(const lh_renewer *renewer)
{
    if (renewer == NULL)
        return LH_ERR_INVALID;
    return (lh_status)__atomic_load_n(&renewer->status, __ATOMIC_ACQUIRE);
}

/* Stop a threaded renewer's thread (a no-op for a ticked one). */
static void stop(lh_renewer *renewer)
{
    if (renewer->started) {
        pthread_mutex_lock(&renewer->mutex);
        renewer->stop = 1;
        pthread_cond_signal(&renewer->cond);
        pthread_mutex_unlock(&renewer->mutex);
        pthread_join(renewer->thread, NULL);
        renewer->started = 0;
    }
}

void lh_renewer_free(lh_renewer *renewer)
{
    if (renewer == NULL)
        return;
    stop(renewer);
    if (renewer->sync_ready) {
        pthread_cond_destroy(&renewer->cond);
        pthread_mutex_destroy(&renewer->mutex);
    }
    lh_client_free(renewer->client);
    lh_lease_free(renewer->lease);
    lh__free(renewer);
}

lh_status lh_renewer_release(lh_renewer *renewer, lh_client *client,
                             lh_outcome outcome)
{
    lh_status st;

    if (renewer == NULL || client == NULL) {
        if (client)
            lh__fail(client, LH_ERR_INVALID, "renewer release: NULL renewer");
        lh_renewer_free(renewer);
        return LH_ERR_INVALID;
    }
    stop(renewer);
    st = lh_lease_release(client, renewer->lease, outcome);
    lh_renewer_free(renewer);
    return st;
}
