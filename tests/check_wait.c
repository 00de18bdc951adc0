/*
 * check_wait.c - blocking acquires (lh_acquire_options.wait_ms) against a
 * real redis-server: a waiter woken by a release and by the holder's
 * expiry, the deadline (LH_ERR_TIMEOUT, nothing held, no queue entry
 * left; also with a command timeout shorter than Redis's lateness in
 * ending a block), no queue jumping by a newcomer, many waiters served in
 * FIFO order with no double holders, waiters that time out, are killed
 * (also alone in the queue, with a later waiter) or are stopped while
 * queued, a grant given back by a waiter whose deadline passed, the
 * queue's expiry when a waiter rejoins, conditions with a wait, and
 * invalid wait options.
 *
 * Waiters are forked processes, each with its own client; a test starts
 * the next one only once the previous one's entry is in the resource's
 * queue (the list at lease key + ":q"), so the queue order is known. A
 * waiter that gets the lease confirms it and logs "S:<tag>:<fence>" and
 * "E:<tag>:<fence>" with guarded RPUSHes before it releases: the log shows
 * the order, and a waiter that believed it held the lease while it did not
 * would have a guarded write refused (it exits with W_REFUSED). Waiters
 * report through their exit status, never Check assertions.
 *
 * Short waits and TTLs are 300 ms or more; nothing asserts how fast
 * anything ran: the tests poll for states with deadlines scaled by
 * CK_TIMEOUT_MULTIPLIER, and force a state where waiting for it would
 * only cost time (a stopped waiter's block ended with CLIENT UNBLOCK, as
 * its timeout would end it).
 */
#include "helpers.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PREFIX "job"
#define TTL 60000   /* a holder that never expires during a test */
#define WINDOW 300  /* short waits and TTLs */
#define MAX_KIDS 16 /* processes a test forks */

/* How a waiter process ends. */
enum {
    W_HELD = 0,        /* acquired, confirmed, logged, released */
    W_ERROR = 1,       /* setup failed or an unexpected status */
    W_UNCONFIRMED = 2, /* the acquire said OK, confirm did not */
    W_REFUSED = 3,     /* a guarded write was refused: it never held it */
    W_RELEASE = 4,     /* the release failed */
    W_TIMEOUT = 10,    /* LH_ERR_TIMEOUT */
    W_CONDITION = 20   /* + the failed bits: LH_ERR_CONDITION */
};

typedef struct fixture {
    char root[200];
    lh_client *c;
    lh_factory *f;
    redisContext *rc;
    char *key; /* the lease key */
    char *q;   /* its waiter queue */
    char *log; /* where waiters log, in the resource's slot */
    char *go;  /* a waiter with 'hold' releases after a push here */
} fixture;

typedef struct waiter {
    int tag;         /* logged as S:<tag>:<fence> and E:<tag>:<fence> */
    int64_t wait_ms; /* 0: long */
    int hold;        /* keep the lease until the parent pushes to 'go' */
    int64_t cooldown_ms, within_ms; /* conditions, 0: none */
    int success_only;               /* the cooldown counts successes */
    char id[LH_ID_HEX_LEN + 1];
    char name[16]; /* its connection's CLIENT SETNAME */
    pid_t pid;
    int status;
} waiter;

static const char *const ARGS[] = {"x"};

static int64_t scaled(int64_t ms)
{
    return ms * th_timeout_multiplier();
}

static void nap(void)
{
    struct timespec ts = {0, 2000000};

    nanosleep(&ts, NULL);
}

/* ---- processes this test started: killed if the test ends early ------- */

static pid_t kids[MAX_KIDS];
static int nkids;

static void kill_kids(void)
{
    int i;

    for (i = 0; i < nkids; i++)
        if (kids[i] > 0) {
            kill(kids[i], SIGKILL);
            waitpid(kids[i], NULL, 0);
        }
    nkids = 0;
}

static void forget_kid(pid_t pid)
{
    int i;

    for (i = 0; i < nkids; i++)
        if (kids[i] == pid)
            kids[i] = 0;
}

/* ---- the fixture -------------------------------------------------------- */

static void fx_open(fixture *x, const char *name)
{
    static int registered;
    lh_error err;
    size_t len;

    if (!registered && atexit(kill_kids) == 0)
        registered = 1;
    memset(x, 0, sizeof(*x));
    snprintf(x->root, sizeof(x->root), "%s", th_root(name));
    x->c = th_client();
    x->f = th_factory(name, PREFIX, 1, TTL);
    x->rc = th_raw();
    x->key = lh__key_base(x->root, PREFIX, ARGS, 1, &len);
    ck_assert_ptr_nonnull(x->key);
    x->q = lh__key_suffixed(x->key, len, ":q", 2, NULL);
    ck_assert_ptr_nonnull(x->q);
    ck_assert_int_eq(lh_factory_data_key(&x->log, x->f, ARGS, 1, "log", &err),
                     LH_OK);
    ck_assert_int_eq(lh_factory_data_key(&x->go, x->f, ARGS, 1, "go", &err),
                     LH_OK);
}

static void fx_close(fixture *x)
{
    kill_kids();
    lh_factory_free(x->f);
    lh_client_free(x->c);
    redisFree(x->rc);
    lh__free(x->key);
    lh__free(x->q);
    lh_free(x->log);
    lh_free(x->go);
}

static lh_lease *take(lh_client *c, const lh_factory *f, int64_t ttl_ms,
                      int64_t wait_ms, const char *id)
{
    lh_acquire_options o = LH_ACQUIRE_OPTIONS_INIT;
    lh_lease *l = NULL;
    lh_status st;

    o.ttl_ms = ttl_ms;
    o.wait_ms = wait_ms;
    o.id = id;
    st = lh_lease_acquire(&l, c, f, ARGS, 1, &o);
    ck_assert_msg(st == LH_OK, "acquire: %s (%s)", lh_status_name(st),
                  lh_errmsg(c));
    ck_assert_ptr_nonnull(l);
    return l;
}

/* A release record for the resource, so leases carry a history. */
static void make_history(fixture *x, lh_outcome outcome)
{
    lh_lease *l = take(x->c, x->f, 0, 0, NULL);

    ck_assert_int_eq(lh_lease_release(x->c, l, outcome), LH_OK);
    lh_lease_free(l);
}

static int64_t held_fence(fixture *x)
{
    lh_resource_info info;

    ck_assert_int_eq(lh_resource_inspect(&info, x->c, x->f, ARGS, 1), LH_OK);
    return info.held ? info.fence : -1;
}

/* The id in the lease key's value, or "" if none holds it. */
static void holder_id(fixture *x, char out[LH_ID_HEX_LEN + 1])
{
    redisReply *r = th_cmd(x->rc, "GET", x->key, NULL);

    out[0] = '\0';
    if (r->type == REDIS_REPLY_STRING && r->len >= LH_ID_HEX_LEN &&
        r->str[0] != '-') {
        memcpy(out, r->str, LH_ID_HEX_LEN);
        out[LH_ID_HEX_LEN] = '\0';
    }
    freeReplyObject(r);
}

/* The queue's entries (id ':' deadline ':' ttl, base 36). */
static redisReply *queue(fixture *x)
{
    redisReply *r = th_cmd(x->rc, "LRANGE", x->q, "0", "-1", NULL);

    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    return r;
}

/* The position of 'id' in the queue, or -1. */
static int queue_pos(fixture *x, const char *id)
{
    redisReply *r = queue(x);
    int pos = -1;
    size_t i;

    for (i = 0; i < r->elements && pos < 0; i++)
        if (strncmp(r->element[i]->str, id, LH_ID_HEX_LEN) == 0)
            pos = (int)i;
    freeReplyObject(r);
    return pos;
}

/* The server deadline of the entry of 'id' (ms since the epoch). */
static int64_t entry_deadline(fixture *x, const char *id)
{
    redisReply *r = queue(x);
    int64_t d = -1;
    size_t i;

    for (i = 0; i < r->elements; i++)
        if (strncmp(r->element[i]->str, id, LH_ID_HEX_LEN) == 0)
            d = strtoll(r->element[i]->str + LH_ID_HEX_LEN + 1, NULL, 36);
    freeReplyObject(r);
    ck_assert_msg(d > 0, "no queue entry for %s", id);
    return d;
}

static void wait_queued(fixture *x, const waiter *w)
{
    int64_t deadline = th_now_ms() + scaled(10000);

    while (queue_pos(x, w->id) < 0) {
        ck_assert_msg(th_now_ms() < deadline, "waiter %d never queued", w->tag);
        nap();
    }
}

static long long llen(fixture *x, const char *key)
{
    return th_cmd_int(x->rc, "LLEN", key, NULL);
}

static int wake_list_exists(fixture *x, const char *id)
{
    char suffix[8 + LH_ID_HEX_LEN];
    char *wk;
    long long n;

    snprintf(suffix, sizeof(suffix), ":w:%s", id);
    wk = lh__key_suffixed(x->key, strlen(x->key), suffix, strlen(suffix), NULL);
    ck_assert_ptr_nonnull(wk);
    n = th_cmd_int(x->rc, "EXISTS", wk, NULL);
    lh__free(wk);
    return n != 0;
}

/* ---- a waiter process (no Check assertions here) ------------------------ */

static lh_status guarded_log(lh_client *c, const lh_lease *l,
                             const char *logkey, char what, int tag)
{
    char entry[64];
    const char *argv[3];

    snprintf(entry, sizeof(entry), "%c:%d:%lld", what, tag,
             (long long)lh_lease_fence(l));
    argv[0] = "RPUSH", argv[1] = logkey, argv[2] = entry;
    return lh_lease_guard(NULL, c, l, 3, argv, NULL, LH_KEY(1));
}

/* Wait (bounded) for the parent's push to 'go'. */
static int wait_go(const char *go)
{
    redisContext *rc = th_raw_try();
    int64_t deadline = th_now_ms() + scaled(30000);
    int ok = 0;

    while (rc && !ok && th_now_ms() < deadline) {
        redisReply *r = redisCommand(rc, "BLPOP %s 1", go);

        if (r == NULL)
            break;
        ok = r->type == REDIS_REPLY_ARRAY;
        freeReplyObject(r);
    }
    if (rc)
        redisFree(rc);
    return ok;
}

static int waiter_run(const fixture *x, const waiter *w, lh_client *c,
                      const lh_factory *f)
{
    lh_acquire_options o = LH_ACQUIRE_OPTIONS_INIT;
    lh_acquire_result res;
    const char *setname[3] = {"CLIENT", "SETNAME", NULL};
    redisReply *r = NULL;
    lh_lease_state s;
    lh_lease *l = NULL;
    lh_status st;
    int code = W_HELD;

    setname[2] = w->name;
    if (lh__conn_call(c, NULL, 3, setname, NULL, &r) != LH_OK)
        return W_ERROR;
    freeReplyObject(r);
    o.wait_ms = w->wait_ms ? w->wait_ms : scaled(30000);
    o.id = w->id;
    o.cooldown_ms = w->cooldown_ms;
    o.cooldown_success_only = w->success_only;
    o.require_success_within_ms = w->within_ms;
    o.result = &res;
    st = lh_lease_acquire(&l, c, f, ARGS, 1, &o);
    if (st == LH_ERR_TIMEOUT)
        return l == NULL ? W_TIMEOUT : W_ERROR;
    /* a cooldown passes in at most its length; success required: never */
    if (st == LH_ERR_CONDITION)
        return l == NULL && res.failed > 0 &&
                       ((res.failed & LH_COND_REQUIRE_SUCCESS)
                            ? res.retry_after_ms == -1
                            : res.retry_after_ms > 0 &&
                                  res.retry_after_ms <= w->cooldown_ms)
                   ? W_CONDITION + (int)res.failed
                   : W_ERROR;
    if (st != LH_OK) {
        fprintf(stderr, "waiter %d: %s: %s\n", w->tag, lh_status_name(st),
                lh_errmsg(c));
        return W_ERROR;
    }
    if (strcmp(lh_lease_id(l), w->id) != 0)
        code = W_ERROR;
    else if (lh_lease_confirm(&s, c, l) != LH_OK ||
             s.fence != lh_lease_fence(l))
        code = W_UNCONFIRMED;
    else if (guarded_log(c, l, x->log, 'S', w->tag) != LH_OK)
        code = W_REFUSED;
    else if (w->hold && !wait_go(x->go))
        code = W_ERROR;
    else if (guarded_log(c, l, x->log, 'E', w->tag) != LH_OK)
        code = W_REFUSED;
    else if (lh_lease_release(c, l, LH_OUTCOME_SUCCESS) != LH_OK)
        code = W_RELEASE;
    lh_lease_free(l);
    return code;
}

static void waiter_main(const fixture *x, const waiter *w)
{
    lh_factory_options fo = LH_FACTORY_OPTIONS_INIT;
    lh_client *c = NULL;
    lh_factory *f = NULL;
    int code = W_ERROR;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    fo.root = x->root;
    if (lh_client_open(&c, getenv("LEASEHOLD_TEST_URL"), NULL, NULL) == LH_OK &&
        lh_factory_new(&f, PREFIX, 1, TTL, &fo, NULL) == LH_OK)
        code = waiter_run(x, w, c, f);
    lh_factory_free(f);
    lh_client_free(c);
    _exit(code);
}

/* ---- the parent's side -------------------------------------------------- */

static void waiter_init(waiter *w, int tag, int64_t wait_ms)
{
    memset(w, 0, sizeof(*w));
    w->tag = tag;
    w->wait_ms = wait_ms;
    ck_assert_int_eq(lh_id_generate(w->id, NULL), LH_OK);
    snprintf(w->name, sizeof(w->name), "waiter%d", tag);
}

static void start(const fixture *x, waiter *w)
{
    ck_assert(nkids < MAX_KIDS);
    fflush(stdout);
    fflush(stderr);
    w->pid = fork();
    ck_assert(w->pid >= 0);
    if (w->pid == 0)
        waiter_main(x, w);
    kids[nkids++] = w->pid;
}

/* Start 'w' and wait until its entry is queued. */
static void start_queued(fixture *x, waiter *w)
{
    start(x, w);
    wait_queued(x, w);
}

/* Wait for 'w' to exit and assert its exit status. */
static void finish(waiter *w, int expect)
{
    int64_t deadline = th_now_ms() + scaled(30000);
    pid_t r;

    while ((r = waitpid(w->pid, &w->status, WNOHANG)) == 0) {
        ck_assert_msg(th_now_ms() < deadline, "waiter %d did not finish",
                      w->tag);
        nap();
    }
    ck_assert(r == w->pid);
    forget_kid(w->pid);
    ck_assert_msg(WIFEXITED(w->status), "waiter %d died of signal %d", w->tag,
                  WIFSIGNALED(w->status) ? WTERMSIG(w->status) : 0);
    ck_assert_msg(WEXITSTATUS(w->status) == expect,
                  "waiter %d exited %d, expected %d", w->tag,
                  WEXITSTATUS(w->status), expect);
}

static void kill_waiter(waiter *w)
{
    ck_assert_int_eq(kill(w->pid, SIGKILL), 0);
    ck_assert(waitpid(w->pid, &w->status, 0) == w->pid);
    forget_kid(w->pid);
    ck_assert(WIFSIGNALED(w->status) && WTERMSIG(w->status) == SIGKILL);
}

/* The CLIENT LIST line of connection 'name': 0 if it is not connected,
 * else 1, with its *id, *blocked if it waits in a blocking command and
 * *pending if the server has unread input from it. */
static int client_state(fixture *x, const char *name, long long *id,
                        int *blocked, int *pending)
{
    redisReply *r = th_cmd(x->rc, "CLIENT", "LIST", NULL);
    char pat[32];
    const char *line, *end, *flags, *qbuf;
    int found = 0;

    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    snprintf(pat, sizeof(pat), " name=%s ", name);
    if ((line = strstr(r->str, pat)) != NULL) {
        end = strchr(line, '\n');
        while (line > r->str && line[-1] != '\n')
            line--;
        flags = strstr(line, " flags=");
        qbuf = strstr(line, " qbuf=");
        ck_assert(strncmp(line, "id=", 3) == 0 && flags && qbuf);
        ck_assert(!end || (flags < end && qbuf < end));
        *id = strtoll(line + 3, NULL, 10);
        *blocked = 0;
        for (flags += 7; *flags != ' '; flags++)
            *blocked |= *flags == 'b';
        *pending = strncmp(qbuf + 6, "0 ", 2) != 0;
        found = 1;
    }
    freeReplyObject(r);
    return found;
}

static void wait_disconnected(fixture *x, const waiter *w)
{
    int64_t deadline = th_now_ms() + scaled(10000);
    long long id;
    int b, p;

    while (client_state(x, w->name, &id, &b, &p)) {
        ck_assert_msg(th_now_ms() < deadline, "waiter %d still connected",
                      w->tag);
        nap();
    }
}

static char proc_state(pid_t pid)
{
    char path[64], state = 0;
    FILE *fp;

    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    if ((fp = fopen(path, "r")) == NULL)
        return 0;
    if (fscanf(fp, "%*d (%*[^)]) %c", &state) != 1)
        state = 0;
    fclose(fp);
    return state;
}

/* SIGSTOP 'w' while its connection is blocked in BLPOP, so that once
 * continued it first reads that BLPOP's reply; then end the block as its
 * timeout would (CLIENT UNBLOCK ... TIMEOUT), leaving the stopped
 * waiter's connection idle: a grant pushed now stays unread. */
static void stop_waiter(fixture *x, const waiter *w)
{
    int64_t deadline = th_now_ms() + scaled(10000);
    int blocked = 0, pending = 0;
    char idtext[32];
    long long id = 0;

    for (;;) {
        ck_assert_msg(th_now_ms() < deadline, "could not stop waiter %d",
                      w->tag);
        if (!client_state(x, w->name, &id, &blocked, &pending) || !blocked) {
            nap();
            continue;
        }
        ck_assert_int_eq(kill(w->pid, SIGSTOP), 0);
        while (proc_state(w->pid) != 'T')
            ck_assert_msg(th_now_ms() < deadline, "waiter %d did not stop",
                          w->tag);
        if (client_state(x, w->name, &id, &blocked, &pending) && blocked &&
            !pending)
            break;
        ck_assert_int_eq(kill(w->pid, SIGCONT), 0);
    }
    snprintf(idtext, sizeof(idtext), "%lld", id);
    ck_assert_int_eq(
        th_cmd_int(x->rc, "CLIENT", "UNBLOCK", idtext, "TIMEOUT", NULL), 1);
    ck_assert(client_state(x, w->name, &id, &blocked, &pending));
    ck_assert(!blocked);
}

/* One log entry: what ('S' or 'E'), tag and fence. */
static void log_entry(const redisReply *e, char *what, int *tag, int64_t *fence)
{
    char *end;

    ck_assert_int_eq(e->type, REDIS_REPLY_STRING);
    ck_assert(e->len > 4 && e->str[1] == ':');
    *what = e->str[0];
    *tag = (int)strtol(e->str + 2, &end, 10);
    ck_assert(*end == ':');
    *fence = strtoll(end + 1, NULL, 10);
}

/* The log is S/E pairs of 'tags' in this order, one holder at a time,
 * with fences strictly rising from above 'above'. Returns the last. */
static int64_t check_log(fixture *x, const int *tags, int n, int64_t above)
{
    redisReply *r = th_cmd(x->rc, "LRANGE", x->log, "0", "-1", NULL);
    int64_t last = above;
    int i;

    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_msg(r->elements == (size_t)(2 * n),
                  "log has %zu entries, expected %d", r->elements, 2 * n);
    for (i = 0; i < n; i++) {
        char w1, w2;
        int t1, t2;
        int64_t f1, f2;

        log_entry(r->element[2 * i], &w1, &t1, &f1);
        log_entry(r->element[2 * i + 1], &w2, &t2, &f2);
        ck_assert_msg(w1 == 'S' && w2 == 'E' && t1 == tags[i] && t2 == t1,
                      "log entry %d: %s %s, expected waiter %d", i,
                      r->element[2 * i]->str, r->element[2 * i + 1]->str,
                      tags[i]);
        ck_assert_int_eq(f1, f2);
        ck_assert_msg(f1 > last, "fence %lld after %lld", (long long)f1,
                      (long long)last);
        last = f1;
    }
    freeReplyObject(r);
    return last;
}

/* Wait until the log has 'n' entries. */
static void wait_log(fixture *x, long long n)
{
    int64_t deadline = th_now_ms() + scaled(10000);

    while (llen(x, x->log) < n) {
        ck_assert_msg(th_now_ms() < deadline, "log stays short of %lld", n);
        nap();
    }
}

/* ---- a waiter woken by a release ---------------------------------------- */

START_TEST(woken_by_release)
{
    fixture x;
    lh_lease *h, *l;
    lh_lease_state s;
    char id[LH_ID_HEX_LEN + 1];
    pid_t pid;
    int status;

    fx_open(&x, "release");
    h = take(x.c, x.f, 0, 0, NULL);
    ck_assert_int_eq(lh_id_generate(id, NULL), LH_OK);
    fflush(stdout);
    fflush(stderr);
    /* The holder releases from another process once this one waits. */
    if ((pid = fork()) == 0) {
        lh_client *c = NULL;
        redisContext *rc = th_raw_try();
        int64_t deadline = th_now_ms() + scaled(10000);
        int code = 1;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        while (rc && th_now_ms() < deadline) {
            redisReply *r = redisCommand(rc, "LRANGE %s 0 -1", x.q);

            if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
                strncmp(r->element[0]->str, id, LH_ID_HEX_LEN) == 0) {
                freeReplyObject(r);
                if (lh_client_open(&c, getenv("LEASEHOLD_TEST_URL"), NULL,
                                   NULL) == LH_OK &&
                    lh_lease_release(c, h, LH_OUTCOME_SUCCESS) == LH_OK)
                    code = 0;
                break;
            }
            if (r)
                freeReplyObject(r);
            nap();
        }
        lh_client_free(c);
        lh_lease_free(h);
        if (rc)
            redisFree(rc);
        _exit(code);
    }
    ck_assert(pid > 0);
    kids[nkids++] = pid;
    l = take(x.c, x.f, 0, scaled(20000), id);
    ck_assert(waitpid(pid, &status, 0) == pid);
    forget_kid(pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_str_eq(lh_lease_id(l), id);
    ck_assert_int_gt(lh_lease_fence(l), lh_lease_fence(h));
    ck_assert_int_eq(lh_lease_ttl_ms(l), TTL);
    ck_assert_int_eq(lh_lease_confirm(&s, x.c, l), LH_OK);
    ck_assert_int_eq(s.fence, lh_lease_fence(l));
    ck_assert_int_gt(s.ttl_ms, TTL - scaled(5000));
    ck_assert_int_eq(lh_lease_confirm(NULL, x.c, h), LH_ERR_NOT_OWNED);
    ck_assert_int_eq(held_fence(&x), lh_lease_fence(l));
    /* The handoff left nothing of the wait behind. */
    ck_assert_int_eq(th_cmd_int(x.rc, "EXISTS", x.q, NULL), 0);
    ck_assert(!wake_list_exists(&x, id));
    ck_assert_int_eq(lh_lease_release(x.c, l, LH_OUTCOME_SUCCESS), LH_OK);
    lh_lease_free(l);
    lh_lease_free(h);
    fx_close(&x);
}
END_TEST

/* ---- a waiter woken by the holder's expiry ------------------------------- */

START_TEST(woken_by_expiry)
{
    fixture x;
    lh_client *hc;
    lh_lease *h, *l;
    lh_lease_state s;

    fx_open(&x, "expiry");
    /* With a history, the lease value carries its deadline. */
    if (_i == 1)
        make_history(&x, LH_OUTCOME_SUCCESS);
    hc = th_client();
    h = take(hc, x.f, WINDOW, 0, NULL);
    ck_assert_int_eq(held_fence(&x), lh_lease_fence(h));
    /* Nobody releases: the waiter must notice the expiry by itself. */
    l = take(x.c, x.f, 0, scaled(20000), NULL);
    ck_assert_int_gt(lh_lease_fence(l), lh_lease_fence(h));
    ck_assert_int_eq(lh_lease_confirm(&s, x.c, l), LH_OK);
    ck_assert_int_eq(s.fence, lh_lease_fence(l));
    ck_assert_int_eq(lh_lease_confirm(NULL, hc, h), LH_ERR_NOT_OWNED);
    ck_assert_int_eq(lh_lease_release(hc, h, LH_OUTCOME_SUCCESS),
                     LH_ERR_NOT_OWNED);
    ck_assert_int_eq(th_cmd_int(x.rc, "EXISTS", x.q, NULL), 0);
    ck_assert(!wake_list_exists(&x, lh_lease_id(l)));
    ck_assert_int_eq(lh_lease_release(x.c, l, LH_OUTCOME_SUCCESS), LH_OK);
    lh_lease_free(l);
    lh_lease_free(h);
    lh_client_free(hc);
    fx_close(&x);
}
END_TEST

/* ---- the deadline ------------------------------------------------------- */

START_TEST(deadline_honoured)
{
    lh_acquire_options o = LH_ACQUIRE_OPTIONS_INIT;
    fixture x;
    lh_client *wc;
    lh_lease *h, *l = NULL;
    lh_lease_state s;
    char id[LH_ID_HEX_LEN + 1];
    int64_t t0;
    lh_status st;

    fx_open(&x, "deadline");
    h = take(x.c, x.f, 0, 0, NULL);
    wc = th_client();
    ck_assert_int_eq(lh_id_generate(id, NULL), LH_OK);
    o.id = id;
    o.wait_ms = WINDOW;
    t0 = th_now_ms();
    st = lh_lease_acquire(&l, wc, x.f, ARGS, 1, &o);
    ck_assert_msg(st == LH_ERR_TIMEOUT, "%s (%s)", lh_status_name(st),
                  lh_errmsg(wc));
    ck_assert_int_ge(th_now_ms() - t0, WINDOW);
    ck_assert_ptr_null(l);
    ck_assert_str_ne(lh_errmsg(wc), "");
    /* Nothing held by the waiter, nothing of it left in Redis. */
    ck_assert_int_eq(lh_lease_confirm(&s, x.c, h), LH_OK);
    ck_assert_int_eq(s.fence, lh_lease_fence(h));
    ck_assert_int_eq(th_cmd_int(x.rc, "EXISTS", x.q, NULL), 0);
    ck_assert_int_eq(queue_pos(&x, id), -1);
    ck_assert(!wake_list_exists(&x, id));
    /* The holder's release goes to nobody: the resource is free. */
    ck_assert_int_eq(lh_lease_release(x.c, h, LH_OUTCOME_SUCCESS), LH_OK);
    ck_assert_int_eq(held_fence(&x), -1);
    /* The client works on, e.g. a wait that finds the resource free. */
    lh_lease_free(h);
    h = take(wc, x.f, 0, WINDOW, NULL);
    lh_lease_free(h);
    lh_client_free(wc);
    fx_close(&x);
}
END_TEST

/* Redis ends a block's timeout on its cron tick, late by up to 1000/hz
 * ms (here hz 2: up to 500 ms). A command timeout shorter than that
 * lateness must not turn the end of a wait into LH_ERR_IO. */
START_TEST(short_command_timeout)
{
    lh_acquire_options o = LH_ACQUIRE_OPTIONS_INIT;
    fixture x;
    lh_client *wc = NULL;
    lh_lease *h, *l = NULL;
    redisReply *r;
    char url[512], hz[32];
    lh_error err;
    lh_status st;
    int i;

    fx_open(&x, "cmdtimeout");
    r = th_cmd(x.rc, "CONFIG", "GET", "hz", NULL);
    ck_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 2);
    snprintf(hz, sizeof(hz), "%s", r->element[1]->str);
    freeReplyObject(r);
    snprintf(url, sizeof(url), "%s?timeout=50ms", th_url());
    ck_assert_msg(lh_client_open(&wc, url, NULL, &err) == LH_OK, "%s",
                  err.message);
    h = take(x.c, x.f, 0, 0, NULL);
    freeReplyObject(th_cmd(x.rc, "CONFIG", "SET", "hz", "2", NULL));
    o.wait_ms = WINDOW;
    for (i = 0; i < 3; i++) {
        st = lh_lease_acquire(&l, wc, x.f, ARGS, 1, &o);
        if (st != LH_ERR_TIMEOUT)
            freeReplyObject(th_cmd(x.rc, "CONFIG", "SET", "hz", hz, NULL));
        ck_assert_msg(st == LH_ERR_TIMEOUT, "wait %d: %s (%s)", i,
                      lh_status_name(st), lh_errmsg(wc));
    }
    freeReplyObject(th_cmd(x.rc, "CONFIG", "SET", "hz", hz, NULL));
    ck_assert_int_eq(th_cmd_int(x.rc, "EXISTS", x.q, NULL), 0);
    lh_lease_free(h);
    lh_client_free(wc);
    fx_close(&x);
}
END_TEST

/* A waiter whose deadline passed with an unread grant gives it back. */
START_TEST(grant_given_back_at_deadline)
{
    fixture x;
    waiter a;
    lh_lease *h;
    lh_resource_info info;
    int64_t deadline, granted;
    char id[LH_ID_HEX_LEN + 1];

    fx_open(&x, "giveback");
    h = take(x.c, x.f, 0, 0, NULL);
    waiter_init(&a, 0, scaled(1000));
    start_queued(&x, &a);
    deadline = entry_deadline(&x, a.id);
    stop_waiter(&x, &a);
    ck_assert_int_eq(lh_lease_release(x.c, h, LH_OUTCOME_SUCCESS), LH_OK);
    /* The stopped waiter holds an unread grant... */
    holder_id(&x, id);
    ck_assert_str_eq(id, a.id);
    granted = held_fence(&x);
    ck_assert_int_gt(granted, lh_lease_fence(h));
    ck_assert(wake_list_exists(&x, a.id));
    /* ...until its deadline has passed; then it wakes up. */
    while (th_server_ms(x.rc) <= deadline + 50)
        nap();
    ck_assert_int_eq(kill(a.pid, SIGCONT), 0);
    finish(&a, W_TIMEOUT);
    ck_assert_int_eq(lh_resource_inspect(&info, x.c, x.f, ARGS, 1), LH_OK);
    ck_assert_int_eq(info.held, 0);
    ck_assert_int_eq(info.fence, granted);
    ck_assert_int_eq(info.has_last_outcome, 1); /* the holder's release */
    ck_assert_int_eq(info.last_outcome, LH_OUTCOME_SUCCESS);
    ck_assert(!wake_list_exists(&x, a.id));
    ck_assert_int_eq(th_cmd_int(x.rc, "EXISTS", x.q, NULL), 0);
    ck_assert_int_eq(llen(&x, x.log), 0);
    lh_lease_free(h);
    fx_close(&x);
}
END_TEST

/* ---- no queue jumping -------------------------------------------------- */

START_TEST(newcomer_does_not_jump_queue)
{
    lh_acquire_options o = LH_ACQUIRE_OPTIONS_INIT;
    lh_acquire_result res;
    fixture x;
    waiter w;
    lh_client *nc;
    lh_lease *h, *l = NULL;
    int64_t deadline = th_now_ms() + scaled(10000);
    char id[LH_ID_HEX_LEN + 1];
    lh_status st;
    int tags[] = {0};

    fx_open(&x, "newcomer");
    if (_i == 1)
        make_history(&x, LH_OUTCOME_SUCCESS);
    h = take(x.c, x.f, 0, 0, NULL);
    waiter_init(&w, 0, 0);
    start_queued(&x, &w);
    /* The holder's lease runs out; the waiter blocks for up to 2 s more
     * before it would notice by itself. */
    ck_assert_int_eq(lh_lease_extend(NULL, x.c, h, 1), LH_OK);
    while (held_fence(&x) == lh_lease_fence(h))
        ck_assert_msg(th_now_ms() < deadline, "the lease did not expire");
    nc = th_client();
    ck_assert_int_eq(lh_id_generate(id, NULL), LH_OK);
    o.id = id;
    o.result = &res;
    st = lh_lease_acquire(&l, nc, x.f, ARGS, 1, &o);
    ck_assert_msg(st == LH_ERR_HELD, "newcomer: %s", lh_status_name(st));
    ck_assert_ptr_null(l);
    ck_assert_int_gt(res.retry_after_ms, 0);
    ck_assert_int_eq(queue_pos(&x, id), -1);
    finish(&w, W_HELD);
    check_log(&x, tags, 1, lh_lease_fence(h));
    ck_assert_int_eq(th_cmd_int(x.rc, "EXISTS", x.q, NULL), 0);
    /* Now the newcomer gets it. */
    l = take(nc, x.f, 0, 0, id);
    lh_lease_free(l);
    lh_lease_free(h);
    lh_client_free(nc);
    fx_close(&x);
}
END_TEST

/* ---- many waiters, FIFO ------------------------------------------------- */

START_TEST(fifo_many_waiters)
{
    enum { N = 6 };
    fixture x;
    waiter w[N];
    lh_lease *h;
    int tags[N], i;

    fx_open(&x, "fifo");
    h = take(x.c, x.f, 0, 0, NULL);
    for (i = 0; i < N; i++) {
        waiter_init(&w[i], i, 0);
        start_queued(&x, &w[i]);
        tags[i] = i;
    }
    for (i = 0; i < N; i++)
        ck_assert_int_eq(queue_pos(&x, w[i].id), i);
    ck_assert_int_eq(lh_lease_release(x.c, h, LH_OUTCOME_SUCCESS), LH_OK);
    for (i = 0; i < N; i++)
        finish(&w[i], W_HELD);
    check_log(&x, tags, N, lh_lease_fence(h));
    ck_assert_int_eq(held_fence(&x), -1);
    ck_assert_int_eq(th_cmd_int(x.rc, "EXISTS", x.q, NULL), 0);
    for (i = 0; i < N; i++)
        ck_assert(!wake_list_exists(&x, w[i].id));
    lh_lease_free(h);
    fx_close(&x);
}
END_TEST

/* ---- waiters that time out while queued are skipped ------------------- */

START_TEST(timed_out_waiters_skipped)
{
    enum { N = 5 };
    fixture x;
    waiter w[N];
    lh_lease *h;
    int tags[] = {0, 2, 4}, i;

    fx_open(&x, "timeout");
    h = take(x.c, x.f, 0, 0, NULL);
    for (i = 0; i < N; i++) {
        waiter_init(&w[i], i, i % 2 ? scaled(WINDOW) : 0);
        start_queued(&x, &w[i]);
    }
    finish(&w[1], W_TIMEOUT);
    finish(&w[3], W_TIMEOUT);
    /* They took their entries with them. */
    ck_assert_int_eq(llen(&x, x.q), 3);
    ck_assert_int_eq(queue_pos(&x, w[1].id), -1);
    ck_assert_int_eq(queue_pos(&x, w[3].id), -1);
    ck_assert_int_eq(lh_lease_release(x.c, h, LH_OUTCOME_SUCCESS), LH_OK);
    finish(&w[0], W_HELD);
    finish(&w[2], W_HELD);
    finish(&w[4], W_HELD);
    check_log(&x, tags, 3, lh_lease_fence(h));
    ck_assert_int_eq(held_fence(&x), -1);
    ck_assert_int_eq(th_cmd_int(x.rc, "EXISTS", x.q, NULL), 0);
    lh_lease_free(h);
    fx_close(&x);
}
END_TEST

/* ---- waiters killed while queued are skipped ----------------------------
 * Waiter 1 is killed with its deadline far ahead: its turn comes, its
 * grant stays unread, and it is revoked after the reservation. Waiter 2
 * is killed with a short wait whose deadline then passes: the grant skips
 * its entry. Waiter 3 must get the lease well before the TTL of waiter
 * 1's grant (60 s) would have run out: its own wait is shorter. */
START_TEST(killed_waiters_skipped)
{
    enum { N = 4 };
    fixture x;
    waiter w[N];
    lh_lease *h;
    int64_t deadline2;
    int tags[] = {0, 3}, i;

    fx_open(&x, "killed");
    h = take(x.c, x.f, 0, 0, NULL);
    for (i = 0; i < N; i++)
        waiter_init(&w[i], i, i == 2 ? scaled(1000) : 0);
    for (i = 0; i < 3; i++)
        start_queued(&x, &w[i]);
    deadline2 = entry_deadline(&x, w[2].id);
    kill_waiter(&w[1]);
    kill_waiter(&w[2]);
    start_queued(&x, &w[3]);
    wait_disconnected(&x, &w[1]);
    wait_disconnected(&x, &w[2]);
    while (th_server_ms(x.rc) <= deadline2)
        nap();
    ck_assert_int_eq(llen(&x, x.q), 4);
    ck_assert_int_eq(lh_lease_release(x.c, h, LH_OUTCOME_SUCCESS), LH_OK);
    finish(&w[0], W_HELD);
    finish(&w[3], W_HELD);
    check_log(&x, tags, 2, lh_lease_fence(h));
    ck_assert_int_eq(held_fence(&x), -1);
    ck_assert_int_eq(th_cmd_int(x.rc, "EXISTS", x.q, NULL), 0);
    ck_assert(!wake_list_exists(&x, w[1].id));
    ck_assert(!wake_list_exists(&x, w[2].id));
    lh_lease_free(h);
    fx_close(&x);
}
END_TEST

/* A waiter killed while queued alone: its turn comes with nobody behind
 * it, so nobody is nudged. A waiter that comes later still gets the lease
 * after the reservation, not after the dead waiter's TTL (60 s): its own
 * wait is shorter than that. */
START_TEST(killed_alone_then_newcomer_waits)
{
    fixture x;
    waiter w[2];
    lh_lease *h;
    char id[LH_ID_HEX_LEN + 1];
    int tags[] = {1};

    fx_open(&x, "killedalone");
    h = take(x.c, x.f, 0, 0, NULL);
    waiter_init(&w[0], 0, 0);
    waiter_init(&w[1], 1, scaled(10000));
    start_queued(&x, &w[0]);
    kill_waiter(&w[0]);
    wait_disconnected(&x, &w[0]);
    ck_assert_int_eq(lh_lease_release(x.c, h, LH_OUTCOME_SUCCESS), LH_OK);
    holder_id(&x, id);
    ck_assert_str_eq(id, w[0].id);
    start(&x, &w[1]);
    finish(&w[1], W_HELD);
    check_log(&x, tags, 1, lh_lease_fence(h));
    ck_assert(!wake_list_exists(&x, w[0].id));
    ck_assert_int_eq(th_cmd_int(x.rc, "EXISTS", x.q, NULL), 0);
    lh_lease_free(h);
    fx_close(&x);
}
END_TEST

/* ---- a stopped waiter's unread grant is revoked ------------------------ */

START_TEST(stopped_waiter_grant_revoked)
{
    fixture x;
    waiter a, b;
    lh_lease *h;
    char id[LH_ID_HEX_LEN + 1];
    int tags[] = {1, 0};

    fx_open(&x, "stopped");
    h = take(x.c, x.f, 0, 0, NULL);
    waiter_init(&a, 0, 0);
    waiter_init(&b, 1, 0);
    b.hold = 1;
    start_queued(&x, &a);
    start_queued(&x, &b);
    stop_waiter(&x, &a);
    ck_assert_int_eq(lh_lease_release(x.c, h, LH_OUTCOME_SUCCESS), LH_OK);
    /* The grant to A stays unread; B, behind it, gets the lease after
     * the reservation. */
    wait_log(&x, 1);
    holder_id(&x, id);
    ck_assert_str_eq(id, b.id);
    ck_assert(!wake_list_exists(&x, a.id));
    /* A, continued, finds no grant: it rejoins the queue and does not
     * write while B holds. */
    ck_assert_int_eq(kill(a.pid, SIGCONT), 0);
    wait_queued(&x, &a);
    ck_assert_int_eq(llen(&x, x.log), 1);
    holder_id(&x, id);
    ck_assert_str_eq(id, b.id);
    /* B releases: A gets the lease properly, after B. */
    th_cmd_int(x.rc, "RPUSH", x.go, "1", NULL);
    finish(&b, W_HELD);
    finish(&a, W_HELD);
    check_log(&x, tags, 2, lh_lease_fence(h));
    ck_assert_int_eq(held_fence(&x), -1);
    ck_assert_int_eq(th_cmd_int(x.rc, "EXISTS", x.q, NULL), 0);
    lh_lease_free(h);
    fx_close(&x);
}
END_TEST

/* ---- conditions and invalid options ---------------------------------- */

START_TEST(conditions_fail_at_once)
{
    lh_acquire_options o = LH_ACQUIRE_OPTIONS_INIT;
    lh_acquire_result res;
    fixture x;
    lh_lease *h, *l = NULL;
    int64_t t0;
    lh_status st;

    fx_open(&x, "conditions");
    make_history(&x, LH_OUTCOME_FAILURE); /* no success ever */
    o.wait_ms = scaled(20000);
    o.result = &res;
    /* Free resource, cooldown not over. */
    o.cooldown_ms = TTL;
    t0 = th_now_ms();
    st = lh_lease_acquire(&l, x.c, x.f, ARGS, 1, &o);
    ck_assert_msg(st == LH_ERR_CONDITION, "%s", lh_status_name(st));
    ck_assert_uint_eq(res.failed, LH_COND_COOLDOWN);
    ck_assert_int_gt(res.retry_after_ms, 0);
    /* Held resource: the condition fails at once, no waiting. */
    h = take(x.c, x.f, 0, 0, NULL);
    st = lh_lease_acquire(&l, x.c, x.f, ARGS, 1, &o);
    ck_assert_msg(st == LH_ERR_CONDITION, "%s", lh_status_name(st));
    ck_assert_ptr_null(l);
    ck_assert_uint_eq(res.failed, LH_COND_COOLDOWN);
    o.cooldown_ms = 0;
    o.require_success_within_ms = TTL;
    st = lh_lease_acquire(&l, x.c, x.f, ARGS, 1, &o);
    ck_assert_msg(st == LH_ERR_CONDITION, "%s", lh_status_name(st));
    ck_assert_uint_eq(res.failed, LH_COND_REQUIRE_SUCCESS);
    ck_assert_int_eq(res.retry_after_ms, -1);
    ck_assert_int_lt(th_now_ms() - t0, o.wait_ms);
    ck_assert_int_eq(th_cmd_int(x.rc, "EXISTS", x.q, NULL), 0);
    ck_assert_int_eq(held_fence(&x), lh_lease_fence(h));
    lh_lease_free(h);
    fx_close(&x);
}
END_TEST

/* ---- a grant checks the waiter's conditions ----------------------------- */

/* The first waiter's cooldown (any release) cannot hold right after the
 * holder's release: it is told so, and the next waiter is served. */
START_TEST(grant_checks_cooldown)
{
    fixture x;
    waiter w[2];
    lh_lease *h;
    int tags[] = {1};
    char holder[LH_ID_HEX_LEN + 1];

    fx_open(&x, "grantcool");
    h = take(x.c, x.f, 0, 0, NULL);
    waiter_init(&w[0], 0, 0);
    w[0].cooldown_ms = TTL;
    waiter_init(&w[1], 1, 0);
    w[1].hold = 1;
    start_queued(&x, &w[0]); /* no release yet: its cooldown holds */
    start_queued(&x, &w[1]);
    ck_assert_int_eq(lh_lease_release(x.c, h, LH_OUTCOME_SUCCESS), LH_OK);
    finish(&w[0], W_CONDITION + LH_COND_COOLDOWN);
    ck_assert(!wake_list_exists(&x, w[0].id));
    holder_id(&x, holder);
    ck_assert_str_eq(holder, w[1].id);
    ck_assert_int_eq(th_cmd_int(x.rc, "RPUSH", x.go, "1", NULL), 1);
    finish(&w[1], W_HELD);
    check_log(&x, tags, 1, lh_lease_fence(h));
    ck_assert_int_eq(th_cmd_int(x.rc, "EXISTS", x.q, NULL), 0);
    lh_lease_free(h);
    fx_close(&x);
}
END_TEST

/* A cooldown since the last success holds after a failed release. */
START_TEST(grant_success_only_cooldown)
{
    fixture x;
    waiter w;
    lh_lease *h;
    int tags[] = {0};

    fx_open(&x, "grantcools");
    h = take(x.c, x.f, 0, 0, NULL);
    waiter_init(&w, 0, 0);
    w.cooldown_ms = TTL;
    w.success_only = 1;
    start_queued(&x, &w);
    ck_assert_int_eq(lh_lease_release(x.c, h, LH_OUTCOME_FAILURE), LH_OK);
    finish(&w, W_HELD);
    check_log(&x, tags, 1, lh_lease_fence(h));
    lh_lease_free(h);
    fx_close(&x);
}
END_TEST

/* A success required within a window that has passed by the release. */
START_TEST(grant_checks_success_within)
{
    fixture x;
    waiter w;
    lh_lease *h;
    int64_t t0;
    char holder[LH_ID_HEX_LEN + 1];

    fx_open(&x, "grantwithin");
    t0 = th_now_ms();
    make_history(&x, LH_OUTCOME_SUCCESS);
    h = take(x.c, x.f, 0, 0, NULL);
    waiter_init(&w, 0, 0);
    /* long enough to queue in, short of the 2 s block cap (at normal
     * speed: then the release's grant is what refuses it; slowed down,
     * its re-ask does, with the same answer) */
    w.within_ms = scaled(1000);
    start_queued(&x, &w); /* the success is recent: it queues */
    while (th_now_ms() - t0 <= w.within_ms + 100)
        nap();
    if (th_timeout_multiplier() == 1)
        ck_assert_int_ge(queue_pos(&x, w.id), 0);
    ck_assert_int_eq(lh_lease_release(x.c, h, LH_OUTCOME_FAILURE), LH_OK);
    finish(&w, W_CONDITION + LH_COND_REQUIRE_SUCCESS);
    holder_id(&x, holder);
    ck_assert_str_eq(holder, "");
    ck_assert_int_eq(th_cmd_int(x.rc, "EXISTS", x.q, NULL), 0);
    ck_assert(!wake_list_exists(&x, w.id));
    lh_lease_free(h);
    fx_close(&x);
}
END_TEST

/* A waiter whose conditions fail when it asks again (its block capped at
 * 2 s while the holder keeps the lease) leaves the queue: the holder's
 * release then finds nobody to hand the lease to. */
START_TEST(condition_failing_while_queued_leaves)
{
    fixture x;
    waiter w;
    lh_lease *h;
    char holder[LH_ID_HEX_LEN + 1];

    fx_open(&x, "reask");
    make_history(&x, LH_OUTCOME_SUCCESS);
    h = take(x.c, x.f, 0, 0, NULL);
    waiter_init(&w, 0, 0);
    w.within_ms = scaled(1000); /* time to queue; lapsed by a re-ask */
    start_queued(&x, &w);
    finish(&w, W_CONDITION + LH_COND_REQUIRE_SUCCESS);
    ck_assert_int_eq(th_cmd_int(x.rc, "EXISTS", x.q, NULL), 0);
    ck_assert_int_eq(lh_lease_release(x.c, h, LH_OUTCOME_SUCCESS), LH_OK);
    holder_id(&x, holder);
    ck_assert_str_eq(holder, "");
    lh_lease_free(h);
    fx_close(&x);
}
END_TEST

/* A waiter killed while queued, refused by the grant: the refusal stays on
 * its wake list. A retry with the same id must not read it. */
START_TEST(stale_refusal_not_read_by_retry)
{
    fixture x;
    waiter w[2];
    lh_lease *h, *h2;
    int tags[] = {1};

    fx_open(&x, "stale");
    h = take(x.c, x.f, 0, 0, NULL);
    waiter_init(&w[0], 0, 0);
    w[0].cooldown_ms = TTL;
    start_queued(&x, &w[0]);
    kill_waiter(&w[0]);
    ck_assert_int_eq(lh_lease_release(x.c, h, LH_OUTCOME_SUCCESS), LH_OK);
    ck_assert(wake_list_exists(&x, w[0].id)); /* the unread refusal */
    h2 = take(x.c, x.f, 0, 0, NULL);
    waiter_init(&w[1], 1, 0); /* the same id, no conditions */
    memcpy(w[1].id, w[0].id, sizeof(w[1].id));
    start_queued(&x, &w[1]);
    ck_assert_int_eq(lh_lease_release(x.c, h2, LH_OUTCOME_SUCCESS), LH_OK);
    finish(&w[1], W_HELD);
    check_log(&x, tags, 1, lh_lease_fence(h2));
    lh_lease_free(h);
    lh_lease_free(h2);
    fx_close(&x);
}
END_TEST

static const struct {
    int64_t wait_ms, max_acquires, window_ms;
} bad_waits[] = {
    {1000, 1, 1000},
    {-1, 0, 0},
    {LH_MAX_TTL_MS + 1, 0, 0},
};

START_TEST(invalid_wait_options)
{
    lh_acquire_options o = LH_ACQUIRE_OPTIONS_INIT;
    fixture x;
    lh_lease *l = NULL;

    fx_open(&x, "invalid");
    o.wait_ms = bad_waits[_i].wait_ms;
    o.max_acquires = bad_waits[_i].max_acquires;
    o.window_ms = bad_waits[_i].window_ms;
    ck_assert_int_eq(lh_lease_acquire(&l, x.c, x.f, ARGS, 1, &o),
                     LH_ERR_INVALID);
    ck_assert_ptr_null(l);
    ck_assert_str_ne(lh_errmsg(x.c), "");
    ck_assert_int_eq(th_key_count(x.rc, "invalid"), 0);
    fx_close(&x);
}
END_TEST

/* A wait that finds the resource free takes it in one call and leaves no
 * queue or wake list; a retry with the holder's id keeps its fence. */
START_TEST(free_resource_taken_at_once)
{
    fixture x;
    lh_lease *l, *again;
    char id[LH_ID_HEX_LEN + 1];

    fx_open(&x, "free");
    ck_assert_int_eq(lh_id_generate(id, NULL), LH_OK);
    l = take(x.c, x.f, 0, scaled(20000), id);
    ck_assert_int_eq(held_fence(&x), lh_lease_fence(l));
    ck_assert_int_eq(th_key_count(x.rc, "free"), 1);
    again = take(x.c, x.f, 0, scaled(20000), id);
    ck_assert_int_eq(lh_lease_fence(again), lh_lease_fence(l));
    ck_assert_int_eq(th_key_count(x.rc, "free"), 1);
    ck_assert_int_eq(lh_lease_release(x.c, l, LH_OUTCOME_SUCCESS), LH_OK);
    lh_lease_free(l);
    lh_lease_free(again);
    fx_close(&x);
}
END_TEST

static void b36(char *out, size_t size, int64_t n)
{
    char tmp[16];
    size_t k = 0, i;

    do {
        tmp[k++] = "0123456789abcdefghijklmnopqrstuvwxyz"[n % 36];
        n /= 36;
    } while (n > 0 && k < sizeof(tmp));
    ck_assert(k < size);
    for (i = 0; i < k; i++)
        out[i] = tmp[k - 1 - i];
    out[k] = '\0';
}

/* A waiter that rejoins the queue through the wait script (its grant was
 * revoked) when the queue is gone gives the queue an expiry, as an
 * acquire would: a waiter that then dies leaves nothing forever. */
START_TEST(rejoin_keeps_queue_expiry)
{
    fixture x;
    lh_lease *h;
    redisReply *r;
    char id[LH_ID_HEX_LEN + 1], entry[96], deadline[16], ttl[16];
    const char *argv[5];
    size_t keylen;
    long long code, pttl;

    fx_open(&x, "rejoin");
    h = take(x.c, x.f, 0, 0, NULL);
    ck_assert_int_eq(lh_id_generate(id, NULL), LH_OK);
    b36(deadline, sizeof(deadline), th_server_ms(x.rc) + 10000);
    b36(ttl, sizeof(ttl), TTL);
    snprintf(entry, sizeof(entry), "%s:%s:%s", id, deadline, ttl);
    argv[0] = id, argv[1] = entry, argv[2] = "check";
    argv[3] = lh_lease_id(h), argv[4] = "100";
    keylen = strlen(x.key);
    ck_assert_int_eq(lh__script_call(x.c, &lh__script_wait, 1,
                                     (const char *const *)&x.key, &keylen, 5,
                                     argv, NULL, &r),
                     LH_OK);
    ck_assert(lh__int_at(r, 0, &code));
    ck_assert_int_eq(code, 3);
    freeReplyObject(r);
    ck_assert_int_eq(queue_pos(&x, id), 0);
    pttl = th_cmd_int(x.rc, "PTTL", x.q, NULL);
    ck_assert_int_gt(pttl, TTL);
    ck_assert_int_le(pttl, 10000 + TTL + 1000);
    lh_lease_free(h);
    fx_close(&x);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wait");
    TCase *tc = tcase_create("wait");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, woken_by_release);
    tcase_add_loop_test(tc, woken_by_expiry, 0, 2);
    tcase_add_test(tc, deadline_honoured);
    tcase_add_test(tc, short_command_timeout);
    tcase_add_test(tc, grant_given_back_at_deadline);
    tcase_add_loop_test(tc, newcomer_does_not_jump_queue, 0, 2);
    tcase_add_test(tc, fifo_many_waiters);
    tcase_add_test(tc, timed_out_waiters_skipped);
    tcase_add_test(tc, killed_waiters_skipped);
    tcase_add_test(tc, killed_alone_then_newcomer_waits);
    tcase_add_test(tc, stopped_waiter_grant_revoked);
    tcase_add_test(tc, conditions_fail_at_once);
    tcase_add_test(tc, grant_checks_cooldown);
    tcase_add_test(tc, grant_success_only_cooldown);
    tcase_add_test(tc, grant_checks_success_within);
    tcase_add_test(tc, condition_failing_while_queued_leaves);
    tcase_add_test(tc, stale_refusal_not_read_by_retry);
    tcase_add_loop_test(tc, invalid_wait_options, 0,
                        sizeof(bad_waits) / sizeof(bad_waits[0]));
    tcase_add_test(tc, free_resource_taken_at_once);
    tcase_add_test(tc, rejoin_keeps_queue_expiry);
    suite_add_tcase(s, tc);
    return th_run(s);
}
