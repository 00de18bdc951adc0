/*
 * helpers.c - see helpers.h.
 */
#include "helpers.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *th_url(void)
{
    const char *url = getenv("LEASEHOLD_TEST_URL");

    ck_assert_msg(url != NULL,
                  "LEASEHOLD_TEST_URL is unset: run under tests/with-redis.sh");
    return url;
}

lh_client *th_client(void)
{
    lh_client *c = NULL;
    lh_error err;
    lh_status st = lh_client_open(&c, th_url(), NULL, &err);

    ck_assert_msg(st == LH_OK, "open %s: %s", th_url(), err.message);
    return c;
}

redisContext *th_raw(void)
{
    lh__url u;
    lh_error err;
    redisContext *rc;
    struct timeval tv = {5, 0};

    ck_assert_msg(lh__url_parse(&u, th_url(), &err) == LH_OK, "%s",
                  err.message);
    rc = redisConnectWithTimeout(u.hosts[0].host, u.hosts[0].port, tv);
    lh__url_clear(&u);
    ck_assert_msg(rc != NULL && rc->err == 0, "raw connect failed");
    redisSetTimeout(rc, tv);
    return rc;
}

static redisReply *vcmd(redisContext *rc, const char *arg0, va_list ap)
{
    const char *argv[64];
    int argc = 0;
    const char *a;
    redisReply *r;

    argv[argc++] = arg0;
    while ((a = va_arg(ap, const char *)) != NULL && argc < 64)
        argv[argc++] = a;
    r = redisCommandArgv(rc, argc, argv, NULL);
    ck_assert_msg(r != NULL, "%s: no reply (%s)", arg0, rc->errstr);
    return r;
}

redisReply *th_cmd(redisContext *rc, const char *arg0, ...)
{
    va_list ap;
    redisReply *r;

    va_start(ap, arg0);
    r = vcmd(rc, arg0, ap);
    va_end(ap);
    return r;
}

long long th_cmd_int(redisContext *rc, const char *arg0, ...)
{
    va_list ap;
    redisReply *r;
    long long v;

    va_start(ap, arg0);
    r = vcmd(rc, arg0, ap);
    va_end(ap);
    ck_assert_msg(r->type == REDIS_REPLY_INTEGER, "%s: not an integer (%s)",
                  arg0, r->type == REDIS_REPLY_ERROR ? r->str : "?");
    v = r->integer;
    freeReplyObject(r);
    return v;
}

const char *th_root(const char *name)
{
    static char buf[200];

    snprintf(buf, sizeof(buf), "t:%ld:%s", (long)getpid(), name);
    return buf;
}

lh_factory *th_factory(const char *name, const char *prefix, int arity,
                       int64_t ttl_ms)
{
    lh_factory_options o = LH_FACTORY_OPTIONS_INIT;
    lh_factory *f = NULL;
    lh_error err;

    o.root = th_root(name);
    ck_assert_msg(lh_factory_new(&f, prefix, arity, ttl_ms, &o, &err) == LH_OK,
                  "factory: %s", err.message);
    return f;
}

int64_t th_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void th_expire_now(redisContext *rc, const char *key)
{
    int64_t deadline = th_now_ms() + 2000;

    th_cmd_int(rc, "PEXPIRE", key, "1", NULL);
    while (th_cmd_int(rc, "EXISTS", key, NULL) != 0)
        ck_assert_msg(th_now_ms() < deadline, "%s did not expire", key);
}

static int ping_ok(void)
{
    redisContext *rc;
    lh__url u;
    lh_error err;
    struct timeval tv = {0, 200000};
    redisReply *r;
    int ok = 0;

    if (lh__url_parse(&u, th_url(), &err) != LH_OK)
        return 0;
    rc = redisConnectWithTimeout(u.hosts[0].host, u.hosts[0].port, tv);
    lh__url_clear(&u);
    if (rc && rc->err == 0) {
        redisSetTimeout(rc, tv);
        r = redisCommand(rc, "PING");
        ok = r && r->type == REDIS_REPLY_STATUS;
        if (r)
            freeReplyObject(r);
    }
    if (rc)
        redisFree(rc);
    return ok;
}

/* A killed daemon lingers as a zombie until init reaps it; that is dead
 * enough: its port and socket are closed. */
static int process_alive(long pid)
{
    char path[64], state = 0;
    FILE *fp;
    int ok;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    if ((fp = fopen(path, "r")) == NULL)
        return 0;
    ok = fscanf(fp, "%*d (%*[^)]) %c", &state) == 1;
    fclose(fp);
    return ok && state != 'Z' && state != 'X';
}

static long read_pid(const char *pidfile)
{
    FILE *fp = fopen(pidfile, "r");
    long pid = 0;

    if (fp) {
        if (fscanf(fp, "%ld", &pid) != 1)
            pid = 0;
        fclose(fp);
    }
    return pid;
}

/* Start the daemonizing redis-server; it writes the pidfile itself. */
static void start_server(const char *conf)
{
    pid_t child = fork();
    int status;

    ck_assert(child >= 0);
    if (child == 0) {
        execlp("redis-server", "redis-server", conf, (char *)NULL);
        _exit(127);
    }
    ck_assert(waitpid(child, &status, 0) == child);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "redis-server did not start");
}

/* Kill the server, then start it again until it answers: the kernel may
 * release the dead server's port a moment after it is reaped, and a
 * server that finds the port busy exits, so a failed start is retried. */
void th_restart_redis(void)
{
    const char *conf = getenv("LEASEHOLD_TEST_REDIS_CONF");
    const char *pidfile = getenv("LEASEHOLD_TEST_REDIS_PIDFILE");
    int64_t deadline = th_now_ms() + 10000;
    long pid;

    ck_assert_msg(conf && pidfile, "not run under tests/with-redis.sh");
    pid = read_pid(pidfile);
    ck_assert_msg(pid > 0, "no redis pid");
    kill((pid_t)pid, SIGKILL);
    while (process_alive(pid))
        ck_assert_msg(th_now_ms() < deadline, "redis-server did not die");
    unlink(pidfile);
    while (!ping_ok()) {
        pid = read_pid(pidfile);
        if (pid <= 0 || !process_alive(pid)) {
            unlink(pidfile);
            start_server(conf);
        }
        ck_assert_msg(th_now_ms() < deadline, "restarted redis: no PONG");
    }
}

int th_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

redisContext *th_raw_try(void)
{
    const char *url = getenv("LEASEHOLD_TEST_URL");
    struct timeval tv = {5, 0};
    redisContext *rc = NULL;
    lh__url u;
    lh_error err;

    if (url == NULL || lh__url_parse(&u, url, &err) != LH_OK)
        return NULL;
    if (u.kind == LH__URL_TCP)
        rc = redisConnectWithTimeout(u.hosts[0].host, u.hosts[0].port, tv);
    lh__url_clear(&u);
    if (rc == NULL || rc->err != 0 || redisSetTimeout(rc, tv) != REDIS_OK) {
        if (rc)
            redisFree(rc);
        return NULL;
    }
    return rc;
}

int th_port(void)
{
    lh__url u;
    lh_error err;
    int port;

    ck_assert_msg(lh__url_parse(&u, th_url(), &err) == LH_OK, "%s",
                  err.message);
    ck_assert(u.kind == LH__URL_TCP);
    port = u.hosts[0].port;
    lh__url_clear(&u);
    return port;
}

long long th_key_count(redisContext *rc, const char *name)
{
    const char *root = th_root(name);
    char *esc = malloc(3 * strlen(root) + 1), *pattern;
    size_t len = lh__key_escape(esc, root, strlen(root));
    redisReply *r;
    long long n;

    pattern = malloc(len + 4);
    ck_assert(esc != NULL && pattern != NULL);
    snprintf(pattern, len + 4, "{%s:*", esc);
    r = th_cmd(rc, "KEYS", pattern, NULL);
    ck_assert_msg(r->type == REDIS_REPLY_ARRAY, "KEYS: not an array");
    n = (long long)r->elements;
    freeReplyObject(r);
    free(pattern);
    free(esc);
    return n;
}

int64_t th_server_ms(redisContext *rc)
{
    redisReply *r = th_cmd(rc, "TIME", NULL);
    int64_t ms;

    ck_assert_msg(r->type == REDIS_REPLY_ARRAY && r->elements == 2,
                  "TIME: unexpected reply");
    ms = (int64_t)strtoll(r->element[0]->str, NULL, 10) * 1000 +
         strtoll(r->element[1]->str, NULL, 10) / 1000;
    freeReplyObject(r);
    return ms;
}

void th_client_addr(const lh_client *c, char *buf, size_t size)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    char ip[INET_ADDRSTRLEN];

    ck_assert_msg(c->conn.ctx != NULL, "client is not connected");
    ck_assert(getsockname(c->conn.ctx->fd, (struct sockaddr *)&a, &alen) == 0);
    ck_assert(a.sin_family == AF_INET);
    ck_assert(inet_ntop(AF_INET, &a.sin_addr, ip, sizeof(ip)) != NULL);
    snprintf(buf, size, "%s:%d", ip, (int)ntohs(a.sin_port));
}

int th_timeout_multiplier(void)
{
    const char *m = getenv("CK_TIMEOUT_MULTIPLIER");
    long v = m ? strtol(m, NULL, 10) : 1;

    return v >= 1 && v <= 1000 ? (int)v : 1;
}
