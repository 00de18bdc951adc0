/*
 * internal.h - declarations shared between the library's files (lh__*).
 * Nothing here is exported; tests built against the convenience library
 * may use it.
 */
#ifndef LH_INTERNAL_H
#define LH_INTERNAL_H

#include "fmacros.h"

#include <stdarg.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "leasehold.h"

#if defined(__GNUC__)
#define LH__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LH__PRINTF(a, b)
#endif

#define LH__ERRMSG_MAX 512

/* alloc.c: every allocation goes through these, so tests can fail the
 * N-th one. */
void *lh__malloc(size_t n);
void *lh__calloc(size_t nmemb, size_t size);
void *lh__realloc(void *p, size_t n);
char *lh__strdup(const char *s);
char *lh__memdup(const void *p, size_t n); /* adds a NUL */
void lh__free(void *p);
/* Tests: make the n-th allocation from now on (1-based) and every later
 * one fail; n <= 0 turns failures off. Returns allocations counted since
 * the last call. */
long lh__alloc_fail_after(long n);

/* error.c */
lh_status lh__seterr(lh_error *err, lh_status code, const char *fmt, ...)
    LH__PRINTF(3, 4);
lh_status lh__fail(lh_client *c, lh_status code, const char *fmt, ...)
    LH__PRINTF(3, 4);
void lh__clear(lh_client *c);
/* Copy a client's failure into an lh_error. */
lh_status lh__client_to_error(lh_error *err, lh_client *c, lh_status code);

/* util: validation shared by factory, lease and JSON code */
int lh__utf8_valid(const char *s, size_t len);
lh_status lh__check_name(lh_error *err, const char *what, const char *s);
lh_status lh__check_args(lh_error *err, int arity, const char *const *args,
                         size_t nargs);
lh_status lh__check_ttl(lh_error *err, const char *what, int64_t ttl_ms);
int lh__id_valid(const char *id);

/* url.c */
typedef enum lh__url_kind { LH__URL_TCP = 1, LH__URL_UNIX = 2 } lh__url_kind;

typedef struct lh__host {
    char *host;
    int port;
} lh__host;

typedef struct lh__url {
    lh__url_kind kind;
    lh__host *hosts; /* TCP: at least one */
    size_t nhosts;
    char *path;     /* UNIX */
    char *user;     /* NULL: none */
    char *password; /* NULL: no AUTH */
    int db;
    int64_t connect_timeout_ms; /* 0: default */
    int64_t timeout_ms;         /* 0: default */
} lh__url;

lh_status lh__url_parse(lh__url *out, const char *url, lh_error *err);
void lh__url_clear(lh__url *u);

/* conn.c: the transport. Today one node; the seam for Cluster, Sentinel
 * and Redlock. 'route' names the key that decides where a command goes. */
typedef struct lh__conn {
    lh__url url;
    char *url_text; /* as given, for opening another connection like it */
    redisContext *ctx;
    int64_t connect_timeout_ms;
    int64_t timeout_ms;
    int64_t applied_ms; /* the timeout set on ctx's socket */
    int min_replicas;   /* WAIT for this many replicas after each write */
} lh__conn;

typedef struct lh__cmd {
    int argc;
    const char **argv;
    const size_t *argvlen;
} lh__cmd;

lh_status lh__conn_connect(lh_client *c);
/* Open a new client with the URL and timeouts of 'c' (a renewer's own
 * connection). */
lh_status lh__client_open_like(lh_client **out, const lh_client *c,
                               lh_error *err);
/* Set the connect and command timeouts of 'c'; the next command applies
 * them to the open connection (dropped if that fails). Setting a timeout
 * back costs nothing until then: a blocking wait restores its caller's
 * timeout off the wake path. */
void lh__conn_set_timeouts(lh_client *c, int64_t connect_timeout_ms,
                           int64_t timeout_ms);
void lh__conn_close(lh__conn *conn);
/* Send 'n' commands in one write and read their 'n' replies into 'out'
 * (each may be an error reply). On failure every out[i] is NULL. */
lh_status lh__conn_pipeline(lh_client *c, const char *route, size_t n,
                            const lh__cmd *cmds, redisReply **out);
lh_status lh__conn_call(lh_client *c, const char *route, int argc,
                        const char **argv, const size_t *argvlen,
                        redisReply **out);

struct lh_client {
    lh__conn conn;
    char errmsg[LH__ERRMSG_MAX];
};

/* scripts.c and the generated lua_scripts.c */
typedef struct lh__script {
    const char *name;
    const char *src;
    size_t len;
    const char *sha; /* 40 hex digits */
    int readonly;    /* declared flags=no-writes: sent with EVALSHA_RO */
} lh__script;

extern const lh__script lh__script_acquire;
extern const lh__script lh__script_confirm;
extern const lh__script lh__script_extend;
extern const lh__script lh__script_release;
extern const lh__script lh__script_guard;
extern const lh__script lh__script_inspect;
extern const lh__script lh__script_wait;

/* Call 'script' with 'nkeys' keys then 'nargs' arguments (lengths may be
 * NULL for NUL-terminated strings). A non-error reply goes to *out; a
 * Redis error reply is LH_ERR_REDIS with its text. */
lh_status lh__script_call(lh_client *c, const lh__script *script, size_t nkeys,
                          const char *const *keys, const size_t *keylens,
                          size_t nargs, const char *const *args,
                          const size_t *arglens, redisReply **out);
/* The status a Redis error reply stands for, and its message. */
lh_status lh__redis_error(lh_client *c, const redisReply *r, const char *what);

/* keys.c */
/* The base key of a resource: "{" root ":" prefix (":" arg)* "}" with each
 * part escaped so the mapping is injective. */
char *lh__key_base(const char *root, const char *prefix,
                   const char *const *args, size_t nargs, size_t *len);
/* base + suffix, e.g. ":d:name" for a data key. */
char *lh__key_suffixed(const char *base, size_t baselen, const char *suffix,
                       size_t suffixlen, size_t *len);
/* Escape 's' as in a key into 'out' (3*len+1 bytes); returns the length. */
size_t lh__key_escape(char *out, const char *s, size_t len);
/* SCAN MATCH pattern for the lease keys of root/prefix with arity > 0. */
char *lh__key_pattern(const char *root, const char *prefix);
/* Split a base key back into its parts; NULL if not one of ours. */
int lh__key_parse(const char *key, size_t len, char **root, char **prefix,
                  char ***args, size_t *nargs);

/* factory.c / lease.c */
struct lh_factory {
    char *root;
    char *prefix;
    int arity;
    int64_t ttl_ms;
    int64_t retention_ms;
};

struct lh_lease {
    char id[LH_ID_HEX_LEN + 1];
    int64_t fence;
    int64_t ttl_ms;
    char *root;
    char *prefix;
    size_t nargs;
    char **args;
    char *key; /* lease key */
    size_t keylen;
    int64_t retention_ms;
};

/* Read integer element 'i' of an array reply; 0 if it is not one. */
int lh__int_at(const redisReply *r, size_t i, long long *out);
/* A reply of the wrong shape: LH_ERR_IO naming 'op' and 'key'; frees 'r'. */
lh_status lh__bad_reply(lh_client *c, redisReply *r, const char *op,
                        const char *key);

/* wait.c: block for a held resource; 'argv' are the acquire script's nine
 * arguments (ARGV[8], the wait, and ARGV[9], the entry, are filled here).
 * On LH_OK the lease 'l' holds its fence. */
/* acquire.c: LH_ERR_CONDITION with which conditions failed and when they
 * would pass, also into 'res'. */
lh_status lh__condition_failed(lh_client *c, const lh_lease *l,
                               long long failed, long long wait,
                               lh_acquire_result *res);
lh_status lh__acquire_wait(lh_client *c, lh_lease *l, const char **argv,
                           int64_t wait_ms, lh_acquire_result *res);

/* Build a lease value; copies every string. */
lh_status lh__lease_new(lh_lease **out, const char *root, const char *prefix,
                        const char *const *args, size_t nargs, const char *id,
                        int64_t fence, int64_t ttl_ms, int64_t retention_ms);

/* random.c */
lh_status lh__random_bytes(void *buf, size_t len);

#define LH__DEFAULT_ROOT "lh"
#define LH__DEFAULT_RETENTION_MS (7LL * 24 * 3600 * 1000)
#define LH__DEFAULT_TIMEOUT_MS 2000

#endif
