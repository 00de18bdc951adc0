/*
 * conn.c - the transport: one "call" interface over a Redis connection.
 *
 * It owns connecting (connect timeout, command timeout, keepalive, AUTH,
 * SELECT, all re-applied on every reconnect), noticing a connection the
 * server closed before a command is sent, dropping the connection after
 * any I/O error or timeout (a late reply must never answer the next
 * command), and raising no SIGPIPE (it sends with MSG_NOSIGNAL). The
 * lease logic above sees only lh__conn_call and lh__conn_pipeline;
 * 'route' is the key a Cluster transport would route by.
 *
 * This is the only file that tests HIREDIS_MAJOR.
 */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static struct timeval tv_ms(int64_t ms)
{
    struct timeval tv;

    tv.tv_sec = (time_t)(ms / 1000);
    tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
    return tv;
}

/* Commands are written here, not by hiredis: send(2) with MSG_NOSIGNAL
 * raises no SIGPIPE on a connection the server closed, so the process's
 * signal mask and dispositions are never touched (hiredis write(2)s).
 * hiredis formats the commands and reads the replies. */
#define SEND_BATCH 16

static int send_all(int fd, struct iovec *iov, size_t n)
{
    struct msghdr m;
    ssize_t k;

    memset(&m, 0, sizeof(m));
    while (n > 0) {
        m.msg_iov = iov, m.msg_iovlen = n;
        if ((k = sendmsg(fd, &m, MSG_NOSIGNAL)) < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        for (; n > 0 && (size_t)k >= iov->iov_len; iov++, n--)
            k -= (ssize_t)iov->iov_len;
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + k;
            iov->iov_len -= (size_t)k;
        }
    }
    return 0;
}

/* Format and send 'n' commands, SEND_BATCH to a syscall. 0; -1 when a
 * send failed (*saved_errno says why); -2 when formatting ran out of
 * memory (commands of earlier batches may have gone out). */
static int send_commands(int fd, size_t n, const lh__cmd *cmds,
                         int *saved_errno)
{
    struct iovec iov[SEND_BATCH];
    char *buf[SEND_BATCH];
    size_t i, k, j;
    int rc = 0;

    for (i = 0; rc == 0 && i < n; i += k) {
        k = n - i < SEND_BATCH ? n - i : SEND_BATCH;
        for (j = 0; j < k; j++) {
            long long len =
                redisFormatCommandArgv(&buf[j], cmds[i + j].argc,
                                       cmds[i + j].argv, cmds[i + j].argvlen);

            if (len < 0)
                break;
            iov[j].iov_base = buf[j], iov[j].iov_len = (size_t)len;
        }
        if (j < k)
            rc = -2;
        else if ((rc = send_all(fd, iov, k)) != 0)
            *saved_errno = errno; /* before free() may change it */
        while (j > 0)
            redisFreeCommand(buf[--j]);
    }
    return rc;
}

static int is_timeout(const redisContext *ctx, int saved_errno)
{
#if HIREDIS_MAJOR >= 1
    if (ctx->err == REDIS_ERR_TIMEOUT)
        return 1;
#endif
    return (ctx->err == REDIS_ERR_IO || ctx->err == 0) &&
           (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK);
}

static const char *where(const lh__conn *conn, char *buf, size_t size)
{
    if (conn->url.kind == LH__URL_UNIX)
        snprintf(buf, size, "%s", conn->url.path);
    else
        snprintf(buf, size, "%s:%d", conn->url.hosts[0].host,
                 conn->url.hosts[0].port);
    return buf;
}

/* Record the failure of 'ctx', drop the connection, return LH_ERR_IO. */
static lh_status io_fail(lh_client *c, const char *what, int saved_errno)
{
    lh__conn *conn = &c->conn;
    char addr[300];

    if (conn->ctx && is_timeout(conn->ctx, saved_errno))
        lh__fail(c, LH_ERR_IO,
                 "%s %s: timed out after %lld ms (the command may have "
                 "been applied)",
                 what, where(conn, addr, sizeof(addr)),
                 (long long)conn->timeout_ms);
    else
        lh__fail(c, LH_ERR_IO, "%s %s: %s", what,
                 where(conn, addr, sizeof(addr)),
                 conn->ctx && conn->ctx->err ? conn->ctx->errstr
                 : saved_errno               ? strerror(saved_errno)
                                             : "connection lost");
    lh__conn_close(conn);
    return LH_ERR_IO;
}

void lh__conn_close(lh__conn *conn)
{
    if (conn->ctx)
        redisFree(conn->ctx);
    conn->ctx = NULL;
}

/* Send 'n' commands on the open connection and read their replies. Any
 * failure drops the connection: a late reply must never answer the next
 * command. */
static lh_status exchange(lh_client *c, size_t n, const lh__cmd *cmds,
                          redisReply **out)
{
    lh__conn *conn = &c->conn;
    size_t i;
    int saved = 0;
    void *r;

    if (conn->applied_ms != conn->timeout_ms) {
        if (redisSetTimeout(conn->ctx, tv_ms(conn->timeout_ms)) != REDIS_OK)
            return io_fail(c, "send to", errno);
        conn->applied_ms = conn->timeout_ms;
    }
    switch (send_commands(conn->ctx->fd, n, cmds, &saved)) {
    case 0:
        break;
    case -2: /* a later batch could not be formatted: drop the connection */
        lh__conn_close(conn);
        return lh__fail(c, LH_ERR_NOMEM, "send: out of memory");
    default:
        return io_fail(c, "send to", saved);
    }
    for (i = 0; i < n; i++) {
        errno = 0;
        if (redisGetReply(conn->ctx, &r) != REDIS_OK || r == NULL) {
            saved = errno;
            break;
        }
        out[i] = r;
    }
    if (i == n)
        return LH_OK;
    while (i > 0) {
        freeReplyObject(out[--i]);
        out[i] = NULL;
    }
    return io_fail(c, "reply from", saved);
}

/* The commands that open a session: AUTH and SELECT as the URL asks, or
 * a PING. 'argv' and 'lens' have room for two commands of three words. */
static size_t session_commands(const lh__url *u, char *db, size_t dbsize,
                               const char *argv[2][3], size_t lens[2][3],
                               lh__cmd *cmds)
{
    size_t n = 0, i;
    int k;

    if (u->password) {
        k = 0;
        argv[n][k++] = "AUTH";
        if (u->user)
            argv[n][k++] = u->user;
        argv[n][k++] = u->password;
        cmds[n++].argc = k;
    }
    if (u->db != 0) {
        snprintf(db, dbsize, "%d", u->db);
        argv[n][0] = "SELECT";
        argv[n][1] = db;
        cmds[n++].argc = 2;
    }
    if (n == 0) {
        argv[0][0] = "PING";
        cmds[n++].argc = 1;
    }
    for (i = 0; i < n; i++) {
        for (k = 0; k < cmds[i].argc; k++)
            lens[i][k] = strlen(argv[i][k]);
        cmds[i].argv = argv[i];
        cmds[i].argvlen = lens[i];
    }
    return n;
}

/* AUTH and SELECT (or a PING), pipelined, under the command timeout: a
 * connect that succeeded proves little until the server has answered. A
 * server that greets with an error (maxclients, protected mode) has its
 * text reported as the reply to the first command. */
static lh_status handshake(lh_client *c)
{
    const char *argv[2][3];
    size_t lens[2][3], n, i;
    redisReply *r[2] = {NULL, NULL};
    lh__cmd cmds[2];
    char db[16];
    lh_status st;

    n = session_commands(&c->conn.url, db, sizeof(db), argv, lens, cmds);
    st = exchange(c, n, cmds, r);
    for (i = 0; st == LH_OK && i < n; i++)
        if (r[i]->type == REDIS_REPLY_ERROR)
            st = lh__redis_error(c, r[i], argv[i][0]);
    for (i = 0; i < n; i++)
        if (r[i])
            freeReplyObject(r[i]);
    if (st != LH_OK)
        lh__conn_close(&c->conn);
    return st;
}

lh_status lh__conn_connect(lh_client *c)
{
    lh__conn *conn = &c->conn;
    struct timeval ctv = tv_ms(conn->connect_timeout_ms);
    struct timeval ttv = tv_ms(conn->timeout_ms);
    char addr[300];

    lh__conn_close(conn);
    if (conn->url.kind == LH__URL_UNIX)
        conn->ctx = redisConnectUnixWithTimeout(conn->url.path, ctv);
    else
        conn->ctx = redisConnectWithTimeout(conn->url.hosts[0].host,
                                            conn->url.hosts[0].port, ctv);
    if (conn->ctx == NULL)
        return lh__fail(c, LH_ERR_NOMEM, "connect: out of memory");
    if (conn->ctx->err) {
        lh__fail(c, LH_ERR_IO, "connect %s: %s",
                 where(conn, addr, sizeof(addr)), conn->ctx->errstr);
        lh__conn_close(conn);
        return LH_ERR_IO;
    }
    conn->applied_ms = conn->timeout_ms;
    if (redisSetTimeout(conn->ctx, ttv) != REDIS_OK ||
        (conn->url.kind == LH__URL_TCP &&
         redisEnableKeepAlive(conn->ctx) != REDIS_OK))
        return io_fail(c, "connect", errno);
    return handshake(c);
}

/* Has the server closed the connection (or sent bytes nobody asked for)
 * while it was idle? Then reconnect before sending, so a restart or an
 * idle-timeout kill costs no failed command. */
static int went_stale(const redisContext *ctx)
{
    struct pollfd p;

    p.fd = ctx->fd;
    p.events = POLLIN;
    p.revents = 0;
    return poll(&p, 1, 0) != 0;
}

lh_status lh__conn_pipeline(lh_client *c, const char *route, size_t n,
                            const lh__cmd *cmds, redisReply **out)
{
    lh__conn *conn = &c->conn;
    lh_status st;
    size_t i;

    (void)route;
    for (i = 0; i < n; i++)
        out[i] = NULL;
    if (conn->ctx && went_stale(conn->ctx))
        lh__conn_close(conn);
    if (conn->ctx == NULL && (st = lh__conn_connect(c)) != LH_OK)
        return st;
    return exchange(c, n, cmds, out);
}

lh_status lh__conn_call(lh_client *c, const char *route, int argc,
                        const char **argv, const size_t *argvlen,
                        redisReply **out)
{
    lh__cmd cmd;

    cmd.argc = argc;
    cmd.argv = argv;
    cmd.argvlen = argvlen;
    return lh__conn_pipeline(c, route, 1, &cmd, out);
}

void lh_client_free(lh_client *client)
{
    if (client == NULL)
        return;
    lh__conn_close(&client->conn);
    lh__url_clear(&client->conn.url);
    if (client->conn.url_text) /* may hold the password */
        explicit_bzero(client->conn.url_text, strlen(client->conn.url_text));
    lh__free(client->conn.url_text);
    lh__free(client);
}

lh_status lh_client_open(lh_client **out, const char *url,
                         const lh_client_options *opts, lh_error *err)
{
    lh_client *c;
    lh_status st;

    if (out == NULL)
        return lh__seterr(err, LH_ERR_INVALID, "client: out is NULL");
    *out = NULL;
    if (opts && (opts->version < 1 || opts->connect_timeout_ms < 0 ||
                 opts->timeout_ms < 0 ||
                 (opts->version >= 2 && opts->min_replicas < 0)))
        return lh__seterr(err, LH_ERR_INVALID,
                          "client options: bad version or timeout");
    if ((c = lh__calloc(1, sizeof(*c))) == NULL)
        return lh__seterr(err, LH_ERR_NOMEM, "client: out of memory");
    if ((st = lh__url_parse(&c->conn.url, url, err)) != LH_OK) {
        lh__free(c);
        return st;
    }
    if (url && (c->conn.url_text = lh__strdup(url)) == NULL) {
        lh_client_free(c);
        return lh__seterr(err, LH_ERR_NOMEM, "client: out of memory");
    }
    c->conn.connect_timeout_ms =
        opts && opts->connect_timeout_ms ? opts->connect_timeout_ms
        : c->conn.url.connect_timeout_ms ? c->conn.url.connect_timeout_ms
                                         : LH__DEFAULT_TIMEOUT_MS;
    c->conn.timeout_ms = opts && opts->timeout_ms ? opts->timeout_ms
                         : c->conn.url.timeout_ms ? c->conn.url.timeout_ms
                                                  : LH__DEFAULT_TIMEOUT_MS;
    c->conn.min_replicas = opts && opts->version >= 2 && opts->min_replicas > 0
                               ? opts->min_replicas
                               : 0;
    if ((st = lh__conn_connect(c)) != LH_OK) {
        lh__client_to_error(err, c, st);
        lh_client_free(c);
        return st;
    }
    if (err) {
        err->code = LH_OK;
        err->message[0] = '\0';
    }
    *out = c;
    return LH_OK;
}

lh_status lh__client_open_like(lh_client **out, const lh_client *c,
                               lh_error *err)
{
    lh_client_options o = LH_CLIENT_OPTIONS_INIT;

    o.connect_timeout_ms = c->conn.connect_timeout_ms;
    o.timeout_ms = c->conn.timeout_ms;
    o.min_replicas = c->conn.min_replicas;
    return lh_client_open(out, c->conn.url_text, &o, err);
}

void lh__conn_set_timeouts(lh_client *c, int64_t connect_timeout_ms,
                           int64_t timeout_ms)
{
    c->conn.connect_timeout_ms = connect_timeout_ms;
    c->conn.timeout_ms = timeout_ms;
}
