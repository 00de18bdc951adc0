/*
 * helpers.h - shared test support: connections to the suite's own
 * redis-server (tests/with-redis.sh), raw commands for setting up and
 * checking state behind the library's back, and the Check runner.
 */
#ifndef LH_TEST_HELPERS_H
#define LH_TEST_HELPERS_H

#include "internal.h"

#include <check.h>

/* The server tests/with-redis.sh started; fails the test if unset. */
const char *th_url(void);
/* A client on th_url(); asserts the open succeeded. */
lh_client *th_client(void);
/* A raw hiredis connection to the same server. */
redisContext *th_raw(void);
/* Run one command given as NUL-terminated strings, NULL-terminated list;
 * asserts a reply arrived. Free with freeReplyObject(). */
redisReply *th_cmd(redisContext *rc, const char *arg0, ...);
/* th_cmd for an integer reply (asserts the type). */
long long th_cmd_int(redisContext *rc, const char *arg0, ...);
/* A root prefix unique to this process and test: "t:<pid>:<name>".
 * Static storage, overwritten by the next call. */
const char *th_root(const char *name);
/* A factory under th_root(name); asserts success. */
lh_factory *th_factory(const char *name, const char *prefix, int arity,
                       int64_t ttl_ms);
/* Expire 'key' now (PEXPIRE 1) and poll until it is gone (2 s deadline). */
void th_expire_now(redisContext *rc, const char *key);
/* Kill the suite's redis-server and start it again, empty, on the same
 * port and socket; returns once it answers PING. */
void th_restart_redis(void);
/* Monotonic milliseconds. */
int64_t th_now_ms(void);
/* As th_raw(), without Check assertions, for forked workers: NULL on
 * failure. */
redisContext *th_raw_try(void);
/* The TCP port of th_url(). */
int th_port(void);
/* How many keys lie under th_root(name) (KEYS on the escaped root). */
long long th_key_count(redisContext *rc, const char *name);
/* Redis server time (TIME) in ms since the epoch. */
int64_t th_server_ms(redisContext *rc);
/* "ip:port" of the client's connection as the server sees it (for
 * CLIENT KILL ADDR); asserts the client is connected over TCP. */
void th_client_addr(const lh_client *c, char *buf, size_t size);
/* The scale factor of Check's timeouts (CK_TIMEOUT_MULTIPLIER, >= 1). */
int th_timeout_multiplier(void);
/* srunner_run_all in CK_NORMAL mode; returns the exit status for main. */
int th_run(Suite *s);

#endif
