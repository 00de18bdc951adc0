/*
 * worker.c - run queued jobs under the leases they carry.
 *
 * The worker pops a job, takes its lease out of the payload and confirms
 * it: a job whose lease expired while it waited in the queue is stale and
 * is skipped. Then it updates the account with a read-modify-write: a
 * plain read of the balance, and a guarded write of the new balance that
 * Redis applies only if the lease still holds the account. A worker that
 * was too slow (--slow-every K: 1 job in K, at random, outlasts its lease)
 * finds its write refused, so it can never overwrite a newer balance
 * written under a newer lease: no update is lost. Last, lh_lease_scope
 * releases the lease with outcome success or failure.
 *
 * The queue is a Redis list: producers LPUSH, workers BRPOP. The job
 * {"stop":true} ends a worker; so does an empty queue for --idle DUR.
 * --no-guard writes without the guard, to show the updates it would lose.
 *
 * Usage: worker [--url URL] [--root ROOT] [--slow-every K] [--idle DUR]
 *               [--no-guard]
 * Prints one line: done=N stale_rejected=N failures=N applied=SUM
 * refused_writes=N (applied: the sum of the amounts this worker added to
 * balances; refused_writes: the stale jobs whose lease expired while they
 * ran, the others expired in the queue).
 */
#include "common.h"

#include <getopt.h>

struct options {
    const char *url;  /* NULL: $LEASEHOLD_URL, else the default */
    const char *root; /* root of the factory and the queue */
    long slow_every;  /* 1 job in K (at random) outlasts its lease */
    int64_t idle_ms;  /* stop after the queue is empty this long; 0: never */
    int guarded;      /* 0 with --no-guard */
};

struct worker {
    lh_client *client;   /* for the lease calls */
    lh_factory *factory; /* checks that a job's lease is one of ours */
    redisContext *queue; /* plain connection: BRPOP and plain reads */
    struct options opt;
    uint64_t random; /* picks the slow jobs */
    long done, stale, failures, refused;
    long long applied;
};

/* How one job ended. */
enum result { APPLIED, STALE, FAILED };

/* What run_job() needs to know about a job, and what it found. */
struct job {
    struct worker *w;
    long long amount;
    int slow;
    enum result result;
};

static const char usage[] =
    "usage: worker [--url URL] [--root ROOT] [--slow-every K] [--idle DUR]\n"
    "              [--no-guard]\n";

/* Parse the command line into 'o'. 0, 1 for --help, or -1. */
static int parse_options(struct options *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},
        {"root", required_argument, NULL, 'r'},
        {"slow-every", required_argument, NULL, 's'},
        {"idle", required_argument, NULL, 'i'},
        {"no-guard", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c, bad = 0;

    o->url = NULL, o->root = EXAMPLE_ROOT, o->slow_every = 0;
    o->idle_ms = 0, o->guarded = 1;
    while (!bad && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'u')
            o->url = optarg;
        else if (c == 'r')
            o->root = optarg;
        else if (c == 's')
            bad = parse_long(&o->slow_every, optarg, 0, 1000000000L);
        else if (c == 'i')
            bad = lh_duration_parse(&o->idle_ms, optarg) != LH_OK;
        else if (c == 'n')
            o->guarded = 0;
        else
            return c == 'h' ? 1 : -1;
    }
    if (bad || optind != argc) {
        fprintf(stderr, "worker: bad option value or argument\n");
        return -1;
    }
    return 0;
}

/*
 * Write the account's new 'balance' and 'jobs' count. Both fields go in
 * one HSET, and lh_lease_guard() runs it only if 'lease' still holds the
 * account: one atomic check-and-write on the server, no race in between.
 * Returns LH_OK, LH_ERR_NOT_HELD or LH_ERR_NOT_OWNED (stale), or another
 * error.
 */
static lh_status write_account(struct worker *w, lh_client *client,
                               const lh_lease *lease, const char *key,
                               long long balance, long long jobs)
{
    char b[24], j[24];
    const char *argv[6] = {"HSET", key, "balance", b, "jobs", j};

    snprintf(b, sizeof(b), "%lld", balance);
    snprintf(j, sizeof(j), "%lld", jobs);
    if (!w->opt.guarded) /* what a worker without the guard would do */
        return plain_command(w->queue, REDIS_REPLY_INTEGER, 6, argv) == 0
                   ? LH_OK
                   : LH_ERR_IO;
    /* argv[1] is the only key: LH_KEY(1). */
    return lh_lease_guard(NULL, client, lease, 6, argv, NULL, LH_KEY(1));
}

/*
 * The work done under the lease (an lh_lease_fn): read the account, add
 * the job's amount, write it back under the lease. Its return value is
 * the outcome lh_lease_scope() releases the lease with.
 */
static lh_outcome run_job(lh_client *client, const lh_lease *lease,
                          void *payload)
{
    struct job *job = payload;
    const char *account = lh_lease_arg(lease, 0);
    long long balance, jobs;
    char *key = NULL;
    lh_status st;

    job->result = FAILED;
    /* The account's data key lies in the lease's hash slot, so the
     * guarded write works on Redis Cluster too. */
    if (lh_lease_data_key(&key, lease, EXAMPLE_DATA) != LH_OK) {
        fprintf(stderr, "worker: data key: out of memory\n");
        goto done;
    }
    /* A plain read is enough: if the balance changes after we read it,
     * it changed under a newer lease, and then our write is refused. */
    if (account_read(job->w->queue, key, &balance, &jobs) != 0)
        goto done;
    if (job->slow) /* too slow: the lease expires while we work */
        sleep_ms(lh_lease_ttl_ms(lease) * 3 / 2);
    st = write_account(job->w, client, lease, key, balance + job->amount,
                       jobs + 1);
    if (st == LH_OK)
        job->result = APPLIED;
    else if (st == LH_ERR_NOT_HELD || st == LH_ERR_NOT_OWNED)
        job->result = STALE; /* refused: nothing was written */
    else
        fprintf(stderr, "worker: write %s: %s\n", account, lh_errmsg(client));
done:
    lh_free(key);
    return job->result == APPLIED ? LH_OUTCOME_SUCCESS : LH_OUTCOME_FAILURE;
}

/*
 * Confirm 'lease', run the job under it and release it. The counters of
 * 'w' record how the job ended.
 */
static void run_leased(struct worker *w, const lh_lease *lease,
                       long long amount)
{
    struct job job = {w, amount, 0, FAILED};
    lh_status st;

    /* Is the lease still ours? It may have expired in the queue. */
    st = lh_lease_confirm(NULL, w->client, lease);
    if (st == LH_ERR_NOT_HELD || st == LH_ERR_NOT_OWNED) {
        w->stale++;
        return;
    }
    if (st != LH_OK) {
        fprintf(stderr, "worker: confirm: %s\n", lh_errmsg(w->client));
        w->failures++;
        return;
    }
    job.slow = w->opt.slow_every > 0 &&
               next_random(&w->random) % (uint64_t)w->opt.slow_every == 0;
    st = lh_lease_scope(w->client, lease, run_job, &job);
    /* NOT_HELD or NOT_OWNED: the lease was lost while the job ran; its
     * write was refused, so there is nothing more to do. */
    if (st != LH_OK && st != LH_ERR_NOT_HELD && st != LH_ERR_NOT_OWNED)
        fprintf(stderr, "worker: release: %s\n", lh_errmsg(w->client));
    w->done += job.result == APPLIED;
    w->stale += job.result == STALE;
    w->refused += job.result == STALE;
    w->failures += job.result == FAILED;
    if (job.result == APPLIED)
        w->applied += amount;
}

/*
 * Handle one popped job, the JSON text 'text' of 'len' bytes.
 * Returns 1 for a stop job, else 0.
 */
static int handle_job(struct worker *w, const char *text, size_t len)
{
    json_t *payload = json_loadb(text, len, 0, NULL);
    const char *account = NULL;
    json_int_t amount = 0;
    lh_lease *lease = NULL;
    lh_error err;
    int stop = 0;

    if (payload == NULL) {
        fprintf(stderr, "worker: a job is not JSON\n");
        w->failures++;
    } else if (json_is_true(json_object_get(payload, "stop"))) {
        stop = 1;
    } else if (json_unpack(payload, "{s:s, s:I}", "account", &account, "amount",
                           &amount) != 0) {
        fprintf(stderr, "worker: a job lacks account or amount\n");
        w->failures++;
    } else if (lh_payload_get_lease(&lease, payload, NULL, w->factory, &err) !=
               LH_OK) {
        fprintf(stderr, "worker: job lease: %s\n", err.message);
        w->failures++;
    } else if (strcmp(account, lh_lease_arg(lease, 0)) != 0) {
        fprintf(stderr, "worker: the lease is not on the job's account\n");
        w->failures++;
    } else {
        run_leased(w, lease, (long long)amount);
    }
    lh_lease_free(lease);
    json_decref(payload);
    return stop;
}

/*
 * Pop and handle jobs until a stop job, an empty queue for --idle, or an
 * error. Returns 0, or -1 if the queue failed.
 */
static int work(struct worker *w)
{
    int64_t idle_since = now_ms();
    redisReply *r;
    char qkey[512];
    int stop = 0;

    queue_name(qkey, sizeof(qkey), w->opt.root);
    while (!stop) {
        /* Wait at most 1 s for a job, then look at the idle time. */
        r = redisCommand(w->queue, "BRPOP %s 1", qkey);
        if (r == NULL || (r->type != REDIS_REPLY_NIL &&
                          (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
                           r->element[1]->type != REDIS_REPLY_STRING))) {
            fprintf(stderr, "worker: BRPOP %s: %s\n", qkey,
                    reply_error(w->queue, r));
            if (r)
                freeReplyObject(r);
            return -1;
        }
        if (r->type == REDIS_REPLY_NIL) {
            stop =
                w->opt.idle_ms > 0 && now_ms() - idle_since >= w->opt.idle_ms;
        } else {
            stop = handle_job(w, r->element[1]->str, r->element[1]->len);
            idle_since = now_ms();
        }
        freeReplyObject(r);
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct worker w;
    int rc;

    prog = "worker";
    memset(&w, 0, sizeof(w));
    if ((rc = parse_options(&w.opt, argc, argv)) != 0) {
        fputs(usage, rc > 0 ? stdout : stderr);
        return rc > 0 ? 0 : 2;
    }
    rc = 1;
    w.opt.url = example_url(w.opt.url);
    w.random = random_seed();
    /* The worker's factory TTL is unused: each lease carries its own. */
    if (example_open(&w.client, &w.factory, w.opt.url, w.opt.root,
                     EXAMPLE_TTL_MS) != 0 ||
        (w.queue = queue_connect(w.opt.url)) == NULL)
        goto done;
    if (work(&w) == 0)
        rc = 0;
    printf("done=%ld stale_rejected=%ld failures=%ld applied=%lld "
           "refused_writes=%ld\n",
           w.done, w.stale, w.failures, w.applied, w.refused);
done:
    if (w.queue)
        redisFree(w.queue);
    lh_factory_free(w.factory);
    lh_client_free(w.client);
    return rc;
}
