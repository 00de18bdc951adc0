/*
 * producer.c - queue jobs, each one under a lease on its account.
 *
 * Before it queues a job, the producer acquires a lease on the account
 * the job changes. While that lease is held (the job waits in the queue,
 * then a worker runs it) no other producer can queue a job for the same
 * account: the acquire returns LH_ERR_HELD and the duplicate is refused
 * instead of queued. The lease travels inside the job, as JSON in its
 * "lease" member; the worker that pops the job confirms it, writes under
 * it and releases it.
 *
 * The acquire also asks for a cooldown (--cooldown DUR): an account that
 * was released less than DUR ago gets no new job yet. Redis checks it in
 * the same atomic acquire, on its own clock, against the time of the
 * account's last release; when it fails the acquire returns
 * LH_ERR_CONDITION (not LH_ERR_HELD: nobody holds the account) and says
 * when it would pass. Such a job is counted as a cooldown refused.
 *
 * Usage: producer [--url URL] [--root ROOT] [--jobs N] [--accounts N]
 *                 [--ttl DUR] [--interval DUR] [--cooldown DUR]
 * Prints one line: enqueued=N duplicates_refused=N cooldown_refused=N
 * failures=N
 */
#include "common.h"

#include <getopt.h>

struct options {
    const char *url;     /* NULL: $LEASEHOLD_URL, else the default */
    const char *root;    /* root of the factory and the queue */
    long jobs;           /* how many jobs to try to queue */
    long accounts;       /* pick each job's account among this many */
    int64_t ttl_ms;      /* lease TTL: covers queueing and running */
    int64_t interval_ms; /* pause between two jobs */
    int64_t cooldown_ms; /* since the account's last release; 0: none */
};

/* How an attempt to queue a job ended. */
enum attempt {
    QUEUED,    /* leased and pushed */
    DUPLICATE, /* the account is leased: a job for it is queued or running */
    COOLDOWN,  /* the account is free but was released too recently */
    FAILED     /* an error, told on stderr */
};

static const char usage[] =
    "usage: producer [--url URL] [--root ROOT] [--jobs N] [--accounts N]\n"
    "                [--ttl DUR] [--interval DUR] [--cooldown DUR]\n";

/* Parse the command line into 'o'. 0, 1 for --help, or -1. */
static int parse_options(struct options *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},
        {"root", required_argument, NULL, 'r'},
        {"jobs", required_argument, NULL, 'j'},
        {"accounts", required_argument, NULL, 'a'},
        {"ttl", required_argument, NULL, 't'},
        {"interval", required_argument, NULL, 'i'},
        {"cooldown", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c, bad = 0;

    o->url = NULL, o->root = EXAMPLE_ROOT, o->jobs = 100, o->accounts = 10;
    o->ttl_ms = EXAMPLE_TTL_MS, o->interval_ms = 0, o->cooldown_ms = 20;
    while (!bad && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'u')
            o->url = optarg;
        else if (c == 'r')
            o->root = optarg;
        else if (c == 'j')
            bad = parse_long(&o->jobs, optarg, 0, 1000000000L);
        else if (c == 'a')
            bad = parse_long(&o->accounts, optarg, 1, 1000000L);
        else if (c == 't')
            bad = lh_duration_parse(&o->ttl_ms, optarg) != LH_OK;
        else if (c == 'i' || c == 'c')
            bad =
                lh_duration_parse(c == 'i' ? &o->interval_ms : &o->cooldown_ms,
                                  optarg) != LH_OK;
        else
            return c == 'h' ? 1 : -1;
    }
    if (bad || optind != argc) {
        fprintf(stderr, "producer: bad option value or argument\n");
        return -1;
    }
    return 0;
}

/*
 * Put 'lease' into the job payload 'job' and push the job onto the list
 * 'qkey'. Returns 0, or -1 with the reason on stderr.
 */
static int push_job(redisContext *queue, const char *qkey, json_t *job,
                    const lh_lease *lease)
{
    redisReply *r = NULL;
    char *text = NULL;
    lh_error err;
    int rc = -1;

    if (lh_payload_set_lease(job, NULL, lease, &err) != LH_OK) {
        fprintf(stderr, "producer: payload: %s\n", err.message);
        goto done;
    }
    if ((text = json_dumps(job, JSON_COMPACT)) == NULL) {
        fprintf(stderr, "producer: payload: out of memory\n");
        goto done;
    }
    r = redisCommand(queue, "LPUSH %s %s", qkey, text);
    if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
        fprintf(stderr, "producer: LPUSH %s: %s\n", qkey,
                reply_error(queue, r));
        goto done;
    }
    rc = 0;
done:
    if (r)
        freeReplyObject(r);
    free(text);
    return rc;
}

/*
 * Queue one job that adds 'amount' to 'account': lease first, then push.
 * The lease is granted only if the account was last released at least
 * 'cooldown_ms' ago (0: no cooldown).
 */
static enum attempt enqueue_one(lh_client *client, const lh_factory *factory,
                                redisContext *queue, const char *qkey,
                                const char *account, long amount,
                                int64_t cooldown_ms)
{
    lh_acquire_options ao = LH_ACQUIRE_OPTIONS_INIT;
    lh_acquire_result why = {0, 0};
    const char *args[1] = {account};
    lh_lease *lease = NULL;
    enum attempt rc = FAILED;
    json_t *job;
    lh_status st;

    ao.cooldown_ms = cooldown_ms; /* since the last release, any outcome */
    ao.result = &why;             /* on LH_ERR_CONDITION: which, and when */
    /* One try, no waiting: we get the account or another job has it. */
    st = lh_lease_acquire(&lease, client, factory, args, 1, &ao);
    if (st == LH_ERR_HELD)
        return DUPLICATE;
    /* The account is free but cooling down: why.failed is
     * LH_COND_COOLDOWN and the cooldown passes in why.retry_after_ms. A
     * real producer would queue the job again then; this one drops it. */
    if (st == LH_ERR_CONDITION && (why.failed & LH_COND_COOLDOWN))
        return COOLDOWN;
    if (st != LH_OK) {
        fprintf(stderr, "producer: acquire %s: %s\n", account,
                lh_errmsg(client));
        return FAILED;
    }
    job = json_pack("{s:s, s:I}", "account", account, "amount",
                    (json_int_t)amount);
    if (job != NULL && push_job(queue, qkey, job, lease) == 0) {
        rc = QUEUED;
    } else {
        if (job == NULL)
            fprintf(stderr, "producer: payload: out of memory\n");
        /* Not queued: free the account now rather than after the TTL. */
        if (lh_lease_release(client, lease, LH_OUTCOME_FAILURE) != LH_OK)
            fprintf(stderr, "producer: release %s: %s\n", account,
                    lh_errmsg(client));
    }
    json_decref(job);
    lh_lease_free(lease);
    return rc;
}

int main(int argc, char **argv)
{
    long enqueued = 0, duplicates = 0, cooldowns = 0, failures = 0, i;
    lh_client *client = NULL;
    lh_factory *factory = NULL;
    redisContext *queue = NULL;
    uint64_t seed = random_seed();
    struct options o;
    char qkey[512], account[32];
    int rc;

    prog = "producer";
    if ((rc = parse_options(&o, argc, argv)) != 0) {
        fputs(usage, rc > 0 ? stdout : stderr);
        return rc > 0 ? 0 : 2;
    }
    rc = 1;
    o.url = example_url(o.url);
    if (example_open(&client, &factory, o.url, o.root, o.ttl_ms) != 0 ||
        (queue = queue_connect(o.url)) == NULL)
        goto done;
    queue_name(qkey, sizeof(qkey), o.root);
    for (i = 0; i < o.jobs; i++) {
        long amount = 1 + (long)(next_random(&seed) % 100);
        enum attempt r;

        account_name(account, sizeof(account),
                     (long)(next_random(&seed) % (uint64_t)o.accounts));
        r = enqueue_one(client, factory, queue, qkey, account, amount,
                        o.cooldown_ms);
        enqueued += r == QUEUED, duplicates += r == DUPLICATE;
        cooldowns += r == COOLDOWN, failures += r == FAILED;
        if (o.interval_ms > 0)
            sleep_ms(o.interval_ms);
    }
    printf("enqueued=%ld duplicates_refused=%ld cooldown_refused=%ld "
           "failures=%ld\n",
           enqueued, duplicates, cooldowns, failures);
    rc = failures > 0;
done:
    if (queue)
        redisFree(queue);
    lh_factory_free(factory);
    lh_client_free(client);
    return rc;
}
