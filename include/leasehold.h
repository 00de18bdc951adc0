/*
 * leasehold.h - Redis-backed distributed leases for task-queue producers
 * and workers: the synchronous API.
 *
 * A *factory* names a family of resources (root, prefix, arity) and a
 * default TTL. A producer acquires a *lease* on one resource before it
 * enqueues a job, serializes the lease to JSON into the job payload, and a
 * worker parses it back, confirms it, makes guarded writes that happen only
 * while the lease is held, and releases it with an outcome.
 *
 * Conventions used by every declaration below:
 *  - Functions return lh_status: LH_OK (0) or a negative LH_ERR_* code.
 *    The comment of each function names the codes it is expected to return;
 *    any call that talks to Redis may also return LH_ERR_IO, LH_ERR_REDIS or
 *    LH_ERR_NOMEM. A failing call on a client leaves a one-line message in
 *    lh_errmsg(client); calls without a client fill an optional lh_error.
 *  - Out-parameters come first. On failure an out-pointer is set to NULL.
 *  - Strings the library allocates for the caller are freed with lh_free().
 *  - Thread-safety: a client is used by one thread at a time; factories and
 *    leases are immutable once built and may be read from any thread.
 *
 * Only standard headers and <jansson.h> (for the payload helpers) are
 * included: the hiredis version in use never shows in this ABI.
 */
#ifndef LEASEHOLD_H
#define LEASEHOLD_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define LH_EXTERN __attribute__((visibility("default")))
#else
#define LH_EXTERN
#endif

#define LH_VERSION_MAJOR 0
#define LH_VERSION_MINOR 1
#define LH_VERSION_PATCH 0
#define LH_VERSION_STRING "0.1.0"
#define LH_VERSION_HEX                                                         \
    ((LH_VERSION_MAJOR << 16) | (LH_VERSION_MINOR << 8) | LH_VERSION_PATCH)

/** The library's version string at run time, e.g. "0.1.0". Never NULL;
 * static storage. Thread-safety: safe. */
LH_EXTERN const char *lh_version(void);

/* ------------------------------------------------------------------------
 * Status codes. Values are fixed forever and never reused.
 */
#define LH_STATUS_MAP(XX)                                                      \
    XX(OK, 0, "success")                                                       \
    XX(ERR_INVALID, -1, "invalid argument or input")                           \
    XX(ERR_HELD, -2, "resource is held by another lease")                      \
    XX(ERR_NOT_HELD, -3, "lease is not held (expired or released)")            \
    XX(ERR_NOT_OWNED, -4, "resource is held by another lease id")              \
    XX(ERR_CONDITION, -5, "a condition of the acquire is not met")             \
    XX(ERR_TIMEOUT, -6, "wait deadline passed; nothing acquired")              \
    XX(ERR_IO, -7, "connection, protocol or command timeout error")            \
    XX(ERR_REDIS, -8, "Redis replied with an error")                           \
    XX(ERR_QUORUM, -9, "too few masters or replicas acknowledged")             \
    XX(ERR_CANCELLED, -10, "operation cancelled")                              \
    XX(ERR_NOMEM, -11, "out of memory")

/* clang-format off */
typedef enum lh_status {
#define LH_STATUS_ENUM_(name, value, text) LH_##name = value,
    LH_STATUS_MAP(LH_STATUS_ENUM_)
#undef LH_STATUS_ENUM_
    LH_STATUS_MIN_ = -11
} lh_status;
/* clang-format on */

/**
 * One sentence describing 'status' ("lease is not held ..."). Unknown
 * values give "unknown status". Never NULL; static storage.
 * Thread-safety: safe.
 */
LH_EXTERN const char *lh_strerror(int status);

/**
 * The status's enum name without the prefix ("ERR_NOT_HELD", "OK"), or
 * "UNKNOWN". Never NULL; static storage. Thread-safety: safe.
 */
LH_EXTERN const char *lh_status_name(int status);

/**
 * Error report for calls that have no client yet (opening a client,
 * building a factory, parsing a lease). Keep it on the stack; pass NULL if
 * you do not want details. On success 'code' is LH_OK and 'message' empty.
 */
typedef struct lh_error {
    int code;          /**< an lh_status */
    char message[256]; /**< one line, NUL-terminated */
    int reserved;
} lh_error;

/** Free memory the library allocated for the caller. NULL is a no-op.
 * Thread-safety: safe.
 */
LH_EXTERN void lh_free(void *ptr);

/* ------------------------------------------------------------------------
 * Durations
 */

/**
 * Parse a duration: a whole number followed by "ms", "s", "m" or "h"; a bare
 * number is milliseconds ("250", "250ms", "30s", "5m", "1h").
 * Returns: LH_OK with *out in ms, or LH_ERR_INVALID (empty, sign, spaces,
 * unknown unit, overflow). Thread-safety: safe.
 */
LH_EXTERN lh_status lh_duration_parse(int64_t *out, const char *text);

/* ------------------------------------------------------------------------
 * Client: one connection to Redis.
 */
typedef struct lh_client lh_client;

typedef struct lh_client_options {
    unsigned version;           /**< LH_CLIENT_OPTIONS_VERSION */
    int64_t connect_timeout_ms; /**< 0: from the URL, else 2000 */
    int64_t timeout_ms;         /**< per command; 0: from the URL, else 2000 */
    /* version 2 */
    int min_replicas; /**< after each write, WAIT for this many replicas;
                           too few within the command timeout (WAIT's own
                           timeout is 3/4 of it) is LH_ERR_QUORUM, and the
                           write did happen on the master */
} lh_client_options;

/* clang-format off */
#define LH_CLIENT_OPTIONS_VERSION 2
#define LH_CLIENT_OPTIONS_INIT {LH_CLIENT_OPTIONS_VERSION, 0, 0, 0}
/* clang-format on */

/**
 * Connect to Redis.
 *
 * 'url' is one of
 *   redis://[[user]:password@]host[:port][/db][?param=value&...]
 *   unix:///path/to.sock[?db=N&param=value...]
 * with parameters connect_timeout=DUR and timeout=DUR (see
 * lh_duration_parse). User and password may be percent-encoded. A NULL url
 * means redis://127.0.0.1:6379. rediss:// is refused: this build has no TLS.
 * Explicit non-zero 'opts' timeouts win over the URL's. 'opts' may be NULL.
 *
 * The client connects, authenticates (AUTH [user] password) and selects the
 * database before returning. Each later command has the command timeout; a
 * command that times out returns LH_ERR_IO ("timed out, may have been
 * applied") and drops the connection. A dropped connection is reopened
 * (timeouts, keepalive, AUTH and SELECT re-applied) on the next call.
 * SIGPIPE never reaches the process; its signal dispositions are untouched.
 *
 * Returns: LH_OK; LH_ERR_INVALID (bad URL or options); LH_ERR_IO (cannot
 * connect, or timed out); LH_ERR_REDIS (AUTH or SELECT refused).
 * Ownership: *out belongs to the caller: lh_client_free(). NULL on failure.
 * Thread-safety: a client is used by one thread at a time.
 */
LH_EXTERN lh_status lh_client_open(lh_client **out, const char *url,
                                   const lh_client_options *opts,
                                   lh_error *err);

/** Close the connection and free the client. NULL is a no-op.
 * Thread-safety: not while another thread uses the client.
 */
LH_EXTERN void lh_client_free(lh_client *client);

/**
 * The message of the last failed call on 'client': one line naming what
 * failed, which key and what Redis said. Empty after a call that succeeded.
 * Ownership: borrowed until the next call on the client. Never NULL ("no
 * client" for a NULL client). Thread-safety: as the client.
 */
LH_EXTERN const char *lh_errmsg(const lh_client *client);

/* ------------------------------------------------------------------------
 * Factory: names a family of resources.
 */
typedef struct lh_factory lh_factory;

typedef struct lh_factory_options {
    unsigned version;     /**< LH_FACTORY_OPTIONS_VERSION */
    const char *root;     /**< root prefix; NULL: "lh" */
    int64_t retention_ms; /**< how long a release record is kept: 0 means
                               7 days; at most 30 days */
} lh_factory_options;

#define LH_FACTORY_OPTIONS_VERSION 1
#define LH_FACTORY_OPTIONS_INIT                                                \
    {                                                                          \
        LH_FACTORY_OPTIONS_VERSION, NULL, 0                                    \
    }

#define LH_MAX_ARITY 16
#define LH_MAX_NAME_BYTES 256 /**< root and prefix */
#define LH_MAX_ARG_BYTES 1024 /**< each argument */
#define LH_MIN_TTL_MS 1
#define LH_MAX_TTL_MS (30LL * 24 * 3600 * 1000)

/**
 * Make a factory for resources named by 'arity' arguments (0 to 16) under
 * 'prefix', with leases of 'ttl_ms' by default (1 ms to 30 days).
 * Root and prefix are non-empty valid UTF-8 without NUL, at most 256 bytes.
 *
 * Returns: LH_OK or LH_ERR_INVALID (the message names the argument).
 * Ownership: *out belongs to the caller: lh_factory_free(). Strings are
 * copied. Thread-safety: an immutable value, usable from any thread.
 */
LH_EXTERN lh_status lh_factory_new(lh_factory **out, const char *prefix,
                                   int arity, int64_t ttl_ms,
                                   const lh_factory_options *opts,
                                   lh_error *err);

/** Free a factory. Leases made from it stay valid. NULL is a no-op.
 * Thread-safety: not while another thread uses the factory.
 */
LH_EXTERN void lh_factory_free(lh_factory *factory);

/**
 * What the factory was made with. Strings are borrowed for the factory's
 * lifetime. A NULL factory gives NULL, or -1 for the numbers.
 * Thread-safety: safe.
 */
LH_EXTERN const char *lh_factory_root(const lh_factory *factory);
LH_EXTERN const char *lh_factory_prefix(const lh_factory *factory);
LH_EXTERN int lh_factory_arity(const lh_factory *factory);
LH_EXTERN int64_t lh_factory_ttl_ms(const lh_factory *factory);

/**
 * The Redis key of a data item 'name' that belongs to the resource 'args'.
 * It lies in the same hash slot as the resource's lease, so a guarded write
 * to it works on Redis Cluster too. 'name' is any NUL-terminated string.
 * Returns: LH_OK or LH_ERR_INVALID (wrong arity, bad argument).
 * Ownership: *out is freed with lh_free(). Thread-safety: safe.
 */
LH_EXTERN lh_status lh_factory_data_key(char **out, const lh_factory *factory,
                                        const char *const *args, size_t nargs,
                                        const char *name, lh_error *err);

/* ------------------------------------------------------------------------
 * Leases: immutable values.
 */
typedef struct lh_lease lh_lease;

#define LH_ID_HEX_LEN 32

/**
 * Fill 'out' with a new lease id: 32 lowercase hex digits (128 bits from
 * the OS CSPRNG, getrandom(2)) and a NUL. Use it as lh_acquire_options.id
 * so an acquire whose reply was lost can be retried safely.
 * Returns: LH_OK or LH_ERR_IO (the CSPRNG failed). Thread-safety: safe.
 */
LH_EXTERN lh_status lh_id_generate(char out[LH_ID_HEX_LEN + 1], lh_error *err);

/** Conditions of a conditional acquire, as bits of lh_acquire_result. */
#define LH_COND_COOLDOWN 1u        /**< too soon after the last release */
#define LH_COND_REQUIRE_SUCCESS 2u /**< no successful release recently */
#define LH_COND_MAX_PER_WINDOW 4u  /**< too many acquires in the window */
#define LH_MAX_WINDOW_ACQUIRES 1000

/** What an acquire learned when it failed (see lh_acquire_options). */
typedef struct lh_acquire_result {
    unsigned failed;        /**< LH_ERR_CONDITION: LH_COND_* bits */
    int64_t retry_after_ms; /**< LH_ERR_CONDITION: ms until every failed
                                 condition would pass, or -1 if waiting
                                 alone cannot make it pass;
                                 LH_ERR_HELD: the holder's remaining TTL */
} lh_acquire_result;

/**
 * Options of lh_lease_acquire(). Conditions (version 2 fields) are checked
 * atomically, on Redis server time, whenever the resource would be taken
 * for the caller: by a one-try acquire that finds it free (a held resource
 * answers LH_ERR_HELD), by a waiting acquire when it queues and each time
 * it asks again, and by the release (or expiry) that would hand the lease
 * to it; all given conditions must hold. Only explicit releases count as
 * releases. Every duration must be at most the factory's retention.
 */
typedef struct lh_acquire_options {
    unsigned version; /**< LH_ACQUIRE_OPTIONS_VERSION */
    int64_t ttl_ms;   /**< 0: the factory's TTL */
    const char *id;   /**< NULL: a fresh id; else 32 lowercase hex digits */
    /* version 2 */
    int64_t cooldown_ms;       /**< 0: none; else at least this long since
                                    the last release (any outcome) */
    int cooldown_success_only; /**< 1: since the last successful release */
    int64_t require_success_within_ms; /**< 0: none; else a release with
                                            outcome success this recently */
    int64_t max_acquires;      /**< 0: none; else at most this many (up to
                                    LH_MAX_WINDOW_ACQUIRES) acquires made with
                                    this condition in any sliding window */
    int64_t window_ms;         /**< the window of max_acquires */
    lh_acquire_result *result; /**< optional out, filled on failure */
    /* version 3 */
    int64_t wait_ms; /**< 0: one try; else block while the resource is
                          held, up to this long (see lh_lease_acquire) */
} lh_acquire_options;

/* clang-format off */
#define LH_ACQUIRE_OPTIONS_VERSION 3
#define LH_ACQUIRE_OPTIONS_INIT \
    {LH_ACQUIRE_OPTIONS_VERSION, 0, NULL, 0, 0, 0, 0, 0, NULL, 0}
/* clang-format on */

/**
 * Acquire the resource named by 'args' (exactly the factory's arity of
 * NUL-terminated UTF-8 strings). Without opts->wait_ms this is one try,
 * in one round trip.
 *
 * With opts->wait_ms > 0, a held resource queues the caller (first come,
 * first served) and the call blocks until the holder's release hands the
 * lease over (the caller wakes holding it, with its full TTL and no
 * further round trip), or the holder's lease expires, or the wait passes:
 * LH_ERR_TIMEOUT, with nothing acquired and the caller out of the queue.
 * Waiting blocks the client's connection: give each waiter a client of
 * its own. Conditions are checked when the caller queues (a failed one
 * returns LH_ERR_CONDITION at once) and again when a release would hand
 * the lease over: a cooldown waiter is told LH_ERR_CONDITION right after
 * the holder's release (which restarts its cooldown) and the next waiter
 * is served; the caller is out of the queue either way. max_acquires
 * cannot be combined with a wait. LH_ERR_IO during a wait may leave the
 * caller queued, or already granted the lease: retry with the same
 * opts->id (the retry finds it held, or queues again) or let the entry's
 * deadline and the lease's TTL run out.
 *
 * The new lease has a fresh 128-bit id (or opts->id) and a fencing token
 * strictly greater than every earlier token of the resource, across
 * expiry, release and a restart of a Redis that lost its data. If opts->id
 * already holds the resource (a retry after a lost reply), the call
 * succeeds with the same fence and the TTL set anew.
 *
 * Returns: LH_OK; LH_ERR_HELD (another lease holds it); LH_ERR_TIMEOUT
 * (opts->wait_ms passed); LH_ERR_CONDITION
 * (a condition failed: opts->result, if given, says which and when it
 * would pass); LH_ERR_INVALID (wrong arity, bad argument, TTL, id or
 * condition).
 * Ownership: *out belongs to the caller: lh_lease_free(). NULL on failure.
 * Thread-safety: one thread at a time per client.
 */
LH_EXTERN lh_status lh_lease_acquire(lh_lease **out, lh_client *client,
                                     const lh_factory *factory,
                                     const char *const *args, size_t nargs,
                                     const lh_acquire_options *opts);

/** Free a lease (it is not released in Redis). NULL is a no-op.
 * Thread-safety: not while another thread reads the lease.
 */
LH_EXTERN void lh_lease_free(lh_lease *lease);

/**
 * What the lease holds. Strings are borrowed for the lease's lifetime. A
 * NULL lease gives NULL, or -1 for the numbers (0 for lh_lease_nargs).
 * Thread-safety: safe (a lease is immutable).
 */
LH_EXTERN const char *lh_lease_id(const lh_lease *lease);
LH_EXTERN int64_t lh_lease_fence(const lh_lease *lease);
LH_EXTERN int64_t lh_lease_ttl_ms(const lh_lease *lease);
LH_EXTERN const char *lh_lease_root(const lh_lease *lease);
LH_EXTERN const char *lh_lease_prefix(const lh_lease *lease);
LH_EXTERN size_t lh_lease_nargs(const lh_lease *lease);
/** Argument 'i' (0-based), or NULL when i >= lh_lease_nargs(). */
LH_EXTERN const char *lh_lease_arg(const lh_lease *lease, size_t i);

/**
 * The Redis key that holds 'lease' (for debugging and tools).
 * Returns: LH_OK or LH_ERR_NOMEM. Ownership: *out is freed with lh_free().
 * Thread-safety: safe.
 */
LH_EXTERN lh_status lh_lease_key(char **out, const lh_lease *lease);

/**
 * The Redis key of data item 'name' in the lease's hash slot; the same key
 * as lh_factory_data_key() gives for the lease's resource.
 * Returns: LH_OK, LH_ERR_INVALID ('name' NULL) or LH_ERR_NOMEM.
 * Ownership: *out is freed with lh_free(). Thread-safety: safe.
 */
LH_EXTERN lh_status lh_lease_data_key(char **out, const lh_lease *lease,
                                      const char *name);

/* ------------------------------------------------------------------------
 * JSON (compact, UTF-8):
 * {"v":1,"root":"lh","prefix":"person","args":["42"],"id":"<32 hex>",
 *  "fence":17,"ttl_ms":60000}
 */
#define LH_MAX_JSON_BYTES (64 * 1024)

/**
 * Serialize 'lease' as one line of compact JSON.
 * Returns: LH_OK or LH_ERR_NOMEM. Ownership: *out is freed with lh_free().
 * Thread-safety: safe.
 */
LH_EXTERN lh_status lh_lease_to_json(char **out, const lh_lease *lease);

/**
 * The lease as a new JSON object. Returns: LH_OK, LH_ERR_INVALID (a NULL
 * argument) or LH_ERR_NOMEM.
 * Ownership: *out is a new reference (json_decref()); NULL on failure.
 * Thread-safety: safe.
 */
LH_EXTERN lh_status lh_lease_to_json_value(json_t **out, const lh_lease *lease);

/**
 * Parse a lease from 'len' bytes of JSON text (at most 64 KiB). Strict:
 * a missing or ill-typed member, a wrong "v", an id that is not 32
 * lowercase hex digits, a negative fence, a bad TTL, a duplicate member or
 * a NUL byte are LH_ERR_INVALID with a message naming the member. Unknown
 * members are ignored. If 'factory' is not NULL, the lease's root, prefix
 * and number of args must match it, and the lease is released with the
 * factory's retention; otherwise with the default retention (7 days).
 * Returns: LH_OK or LH_ERR_INVALID. Ownership: *out: lh_lease_free().
 * Thread-safety: safe.
 */
LH_EXTERN lh_status lh_lease_from_json(lh_lease **out, const char *text,
                                       size_t len, const lh_factory *factory,
                                       lh_error *err);

/** As lh_lease_from_json() from a parsed object ('obj' is borrowed).
 * Thread-safety: safe, as long as no thread changes 'obj'.
 */
LH_EXTERN lh_status lh_lease_from_json_value(lh_lease **out, const json_t *obj,
                                             const lh_factory *factory,
                                             lh_error *err);

#define LH_PAYLOAD_MEMBER "lease"

/**
 * Put 'lease' into the job payload object 'payload' as member 'member'
 * (NULL: "lease"), replacing any earlier value.
 * Returns: LH_OK; LH_ERR_INVALID (payload is not an object);
 * LH_ERR_NOMEM. Ownership: 'payload' is borrowed and modified.
 * Thread-safety: a json_t is not thread-safe: one thread at a time per
 * payload.
 */
LH_EXTERN lh_status lh_payload_set_lease(json_t *payload, const char *member,
                                         const lh_lease *lease, lh_error *err);

/**
 * Take the lease out of member 'member' (NULL: "lease") of a job payload.
 * Returns: LH_OK or LH_ERR_INVALID (not an object, member missing, or the
 * lease is invalid: the message names the member).
 * Ownership: 'payload' is borrowed; *out: lh_lease_free().
 * Thread-safety: safe, as long as no thread changes 'payload'.
 */
LH_EXTERN lh_status lh_payload_get_lease(lh_lease **out, const json_t *payload,
                                         const char *member,
                                         const lh_factory *factory,
                                         lh_error *err);

/* ------------------------------------------------------------------------
 * Worker side
 */

/** What confirm and extend learn, in server time. */
typedef struct lh_lease_state {
    int64_t ttl_ms; /**< remaining time to live */
    int64_t fence;  /**< the fencing token held */
} lh_lease_state;

/**
 * Check, in one round trip, that 'lease' still holds its resource.
 * Returns: LH_OK (and *out, if not NULL); LH_ERR_NOT_HELD (no lease holds
 * the resource: it expired or was released); LH_ERR_NOT_OWNED (another
 * lease id holds it). Works on replicas and under CLIENT PAUSE WRITE.
 * Thread-safety: one thread at a time per client.
 */
LH_EXTERN lh_status lh_lease_confirm(lh_lease_state *out, lh_client *client,
                                     const lh_lease *lease);

/**
 * Set the remaining TTL of 'lease' to 'ttl_ms' from now (server time), or
 * to the lease's own TTL when 'ttl_ms' is 0; it never adds to what
 * remains. Owner only.
 * Returns: LH_OK; LH_ERR_NOT_HELD; LH_ERR_NOT_OWNED; LH_ERR_INVALID (TTL).
 * Thread-safety: one thread at a time per client.
 */
LH_EXTERN lh_status lh_lease_extend(lh_lease_state *out, lh_client *client,
                                    const lh_lease *lease, int64_t ttl_ms);

typedef enum lh_outcome {
    LH_OUTCOME_NONE = 0,
    LH_OUTCOME_SUCCESS = 1,
    LH_OUTCOME_FAILURE = 2
} lh_outcome;

/** "none", "success", "failure"; NULL for other values. Static storage.
 * Thread-safety: safe. */
LH_EXTERN const char *lh_outcome_name(lh_outcome outcome);

/**
 * Release 'lease' (compare-and-replace: owner only) and record 'outcome'
 * and the release time for the resource, kept for the retention of the
 * factory that made or parsed the lease (7 days by default). A retry
 * after a lost reply reports LH_ERR_NOT_HELD.
 * Returns: LH_OK; LH_ERR_NOT_HELD; LH_ERR_NOT_OWNED; LH_ERR_INVALID.
 * Thread-safety: one thread at a time per client.
 */
LH_EXTERN lh_status lh_lease_release(lh_client *client, const lh_lease *lease,
                                     lh_outcome outcome);

/** A reply of Redis to a guarded command (read-only for the caller). */
typedef enum lh_reply_type {
    LH_REPLY_NIL = 0,
    LH_REPLY_INTEGER = 1,
    LH_REPLY_STRING = 2,
    LH_REPLY_STATUS = 3,
    LH_REPLY_ARRAY = 4,
    LH_REPLY_ERROR = 5 /**< an error element inside an array */
} lh_reply_type;

typedef struct lh_reply {
    lh_reply_type type;
    long long integer; /**< LH_REPLY_INTEGER */
    char *str;         /**< STRING, STATUS, ERROR: NUL-terminated */
    size_t len;        /**< its length in bytes */
    size_t elements;   /**< LH_REPLY_ARRAY */
    struct lh_reply **element;
} lh_reply;

/** Free a reply and everything it holds. NULL is a no-op.
 * Thread-safety: safe.
 */
LH_EXTERN void lh_reply_free(lh_reply *reply);

/** Bit for argv[i] in a guarded command's key mask. */
#define LH_KEY(i) ((uint64_t)1 << (i))
#define LH_GUARD_MAX_ARGS 4096

/**
 * Run one Redis command atomically, only if 'lease' still holds its
 * resource, in one round trip (a Lua script checks ownership and runs it).
 *
 * argv[0] is the command name, argv[1..argc-1] its arguments; 'argvlen'
 * gives their lengths (NULL: each is NUL-terminated). Bit i of 'key_mask'
 * marks argv[i] as a key (1 <= i < 64), e.g. LH_KEY(1) for SET key value:
 * keys are declared to Redis, and on Cluster must share the lease's hash
 * slot (build them with lh_lease_data_key()). At most 4096 arguments.
 * A stale lease's guarded command changes nothing.
 *
 * Returns: LH_OK (and *out, if not NULL, is the command's reply);
 * LH_ERR_NOT_HELD; LH_ERR_NOT_OWNED; LH_ERR_INVALID; LH_ERR_REDIS (the
 * command itself failed: nothing was written).
 * Ownership: *out is freed with lh_reply_free(); NULL on failure.
 * Thread-safety: one thread at a time per client.
 */
LH_EXTERN lh_status lh_lease_guard(lh_reply **out, lh_client *client,
                                   const lh_lease *lease, int argc,
                                   const char *const *argv,
                                   const size_t *argvlen, uint64_t key_mask);

/**
 * A unit of work done under a lease: return the outcome to release with.
 * 'client' may be used for guarded writes.
 */
typedef lh_outcome (*lh_lease_fn)(lh_client *client, const lh_lease *lease,
                                  void *payload);

/**
 * Call 'fn' with 'lease', then release the lease with the outcome 'fn'
 * returns (a value that is not an lh_outcome counts as failure): C's
 * answer to a Python "with lease:" block.
 * Returns: the status of the release: LH_OK; LH_ERR_NOT_HELD or
 * LH_ERR_NOT_OWNED (the lease was lost while 'fn' ran); LH_ERR_INVALID
 * ('fn' or 'lease' NULL: nothing is called).
 * Thread-safety: one thread at a time per client; 'fn' runs in the
 * calling thread.
 */
LH_EXTERN lh_status lh_lease_scope(lh_client *client, const lh_lease *lease,
                                   lh_lease_fn fn, void *payload);

/* ------------------------------------------------------------------------
 * Listing held leases
 */

/**
 * Called for each lease found by lh_resource_list(). 'lease' is valid only
 * during the call (copy it with lh_lease_to_json() to keep it); its
 * lh_lease_ttl_ms() is the TTL left. Return 0 to go on, anything else to
 * stop the listing (lh_resource_list() then returns LH_OK).
 */
typedef int (*lh_list_fn)(const lh_lease *lease, void *payload);

/**
 * Call 'fn' once for each lease held under the factory's root and prefix
 * whose number of arguments is the factory's arity, scanning with SCAN
 * (never KEYS) in batches, so it works with any number of leases. A lease
 * taken or released during the scan may or may not be reported; one held
 * throughout is reported once.
 * Returns: LH_OK; LH_ERR_INVALID (NULL argument).
 * Thread-safety: one thread at a time per client; 'fn' runs in the
 * calling thread and must not use 'client'.
 */
LH_EXTERN lh_status lh_resource_list(lh_client *client,
                                     const lh_factory *factory, lh_list_fn fn,
                                     void *payload);

/* ------------------------------------------------------------------------
 * Inspecting a resource
 */
typedef struct lh_resource_info {
    int held;                /**< 1 if some lease holds it */
    int64_t ttl_ms;          /**< remaining TTL if held, else -1 */
    int64_t fence;           /**< held: the lease's fence; else the last
                                  recorded one; -1 if none is known */
    int has_last_outcome;    /**< 1 if a release was recorded */
    lh_outcome last_outcome; /**< the last release's outcome */
    int64_t last_release_ms; /**< its server time (ms since epoch), or -1 */
} lh_resource_info;

/**
 * Inspect the resource named by 'args', in one read-only round trip.
 * Returns: LH_OK or LH_ERR_INVALID (wrong arity, bad argument).
 * Thread-safety: one thread at a time per client.
 */
LH_EXTERN lh_status lh_resource_inspect(lh_resource_info *out,
                                        lh_client *client,
                                        const lh_factory *factory,
                                        const char *const *args, size_t nargs);

/* ------------------------------------------------------------------------
 * Auto-renewal
 *
 * A renewer keeps one lease alive by extending it every interval (ttl/3 by
 * default), either on a thread of its own with its own connection
 * (lh_renewer_start) or driven by the caller's loop (lh_renewer_new, then
 * lh_renewer_tick when due). It reports a loss once, through a callback
 * and a status that is cheap to poll: when an extend finds the lease not
 * held or not owned, or when Redis could not be reached before the lease
 * would have expired by the local monotonic clock, counted pessimistically
 * from the moment the last successful extend was sent. A failed extend
 * (unreachable, timed out, an error reply) is retried sooner, after the
 * smaller of the interval and half the time left.
 *
 * The renewer keeps its own copy of the lease: the caller may free its
 * lease at any time. Releasing the lease while the renewer runs makes the
 * next extend report LH_ERR_NOT_HELD: stop the renewer first
 * (lh_renewer_free), then release.
 */
typedef struct lh_renewer lh_renewer;

typedef struct lh_renew_options {
    unsigned version;    /**< LH_RENEW_OPTIONS_VERSION */
    int64_t interval_ms; /**< between extends; 0: the TTL / 3 */
    int64_t ttl_ms;      /**< each extend's TTL; 0: the lease's TTL */
    /* version 2 */
    int64_t ttl_left_ms; /**< the lease's time left now, such as
                              lh_lease_confirm()'s state.ttl_ms for a lease
                              taken from a job payload: the loss deadline
                              until an extend succeeds. 0: the lease's whole
                              TTL, right for a lease just acquired */
} lh_renew_options;

#define LH_RENEW_OPTIONS_VERSION 2
#define LH_RENEW_OPTIONS_INIT                                                  \
    {                                                                          \
        LH_RENEW_OPTIONS_VERSION, 0, 0, 0                                      \
    }

/**
 * Called at most once, when the lease is lost: 'why' is LH_ERR_NOT_HELD,
 * LH_ERR_NOT_OWNED, or LH_ERR_IO (Redis unreachable until the lease would
 * have expired); 'message' says more. A threaded renewer calls it on its
 * own thread, a ticked one inside lh_renewer_tick(). 'lease' (the
 * renewer's copy) and 'message' are valid only during the call. It is not
 * called when the renewer is freed first, nor for a loss found after
 * lh_renewer_free() was called, and never after lh_renewer_free()
 * returns. It must not call lh_renewer_free() on its own renewer.
 */
typedef void (*lh_loss_fn)(const lh_lease *lease, lh_status why,
                           const char *message, void *payload);

/**
 * Make a renewer for 'lease' to be driven by lh_renewer_tick(). 'on_loss'
 * may be NULL (poll lh_renewer_status() instead). The first tick extends
 * at once; until an extend has succeeded, the lease counts as ending
 * opts->ttl_left_ms after the renewer was made, or its whole TTL after
 * (make it right after acquiring, or pass the time left).
 * Returns: LH_OK; LH_ERR_INVALID (NULL 'out' or lease, bad version,
 * interval or TTL: the interval must be shorter than the TTL);
 * LH_ERR_NOMEM. On failure 'on_loss' is never called.
 * Ownership: *out: lh_renewer_free(); the lease is copied.
 * Thread-safety: safe.
 */
LH_EXTERN lh_status lh_renewer_new(lh_renewer **out, const lh_lease *lease,
                                   const lh_renew_options *opts,
                                   lh_loss_fn on_loss, void *payload,
                                   lh_error *err);

/**
 * Extend the lease if an extend is due, on 'client', and set *next_ms (if
 * not NULL) to the milliseconds until the next call is due (-1 once the
 * lease is lost). Calling earlier is harmless; calling later eats into
 * the margin: a tick after the local deadline reports the loss without
 * trying. The client's command timeout should be shorter than the
 * interval; an extend that returns after the deadline is a loss.
 * Returns: LH_OK (held, or a failed extend to retry while time is left:
 * lh_errmsg(client) then says what failed); LH_ERR_NOT_HELD,
 * LH_ERR_NOT_OWNED or LH_ERR_IO once the lease is lost (the callback runs
 * once, inside the first such call; later calls return the same status);
 * LH_ERR_INVALID (NULL renewer or client, or a threaded renewer).
 * Thread-safety: one thread at a time per renewer and per client.
 */
LH_EXTERN lh_status lh_renewer_tick(lh_renewer *renewer, lh_client *client,
                                    int64_t *next_ms);

/**
 * Start a renewer on its own thread and connection (opened, before this
 * returns, with the URL and timeouts of 'client', which is not used
 * afterwards). The connection's timeouts are capped at the interval, and
 * each call's at the time left before the local deadline, so a loss is
 * reported about when the lease would have expired; a call can still take
 * a few round trips (reconnect, handshake, script), and one blocked longer
 * than the TTL reports the loss when it returns. The thread blocks every
 * signal.
 * Returns: as lh_renewer_new(), and LH_ERR_INVALID ('client' NULL),
 * LH_ERR_IO (the connection cannot be opened, or the thread cannot start),
 * LH_ERR_REDIS (AUTH or SELECT refused).
 * Ownership: *out: lh_renewer_free() (which stops the thread).
 * Thread-safety: safe; the renewer runs on its own thread.
 */
LH_EXTERN lh_status lh_renewer_start(lh_renewer **out, lh_client *client,
                                     const lh_lease *lease,
                                     const lh_renew_options *opts,
                                     lh_loss_fn on_loss, void *payload,
                                     lh_error *err);

/**
 * LH_OK while the lease is believed held; afterwards the status that ended
 * it (set before the callback runs). One atomic load: cheap enough to
 * poll between units of work. A NULL renewer gives LH_ERR_INVALID.
 * Thread-safety: safe, from any thread.
 */
LH_EXTERN lh_status lh_renewer_status(const lh_renewer *renewer);

/**
 * Stop renewing and free the renewer: a threaded renewer's thread is woken
 * and joined (an extend in flight completes first, within the renewer's
 * timeouts; a callback that is running returns first). The lease is not
 * released: stop the renewer first, then release. NULL is a no-op.
 * Thread-safety: one thread; not from the loss callback; for a ticked
 * renewer, not during a tick.
 */
LH_EXTERN void lh_renewer_free(lh_renewer *renewer);

/**
 * Stop and free the renewer as lh_renewer_free() does, then release its
 * lease with 'outcome' on 'client' (lh_lease_release()): the end of a job,
 * in the right order, with no loss reported for the release itself.
 * The renewer is freed whatever the release returns.
 * Returns: as lh_lease_release(); LH_ERR_INVALID for a NULL renewer or
 * client (a renewer given is freed all the same).
 * Thread-safety: as lh_renewer_free(); 'client' by this thread only.
 */
LH_EXTERN lh_status lh_renewer_release(lh_renewer *renewer, lh_client *client,
                                       lh_outcome outcome);

#ifdef __cplusplus
}
#endif

#endif /* LEASEHOLD_H */
