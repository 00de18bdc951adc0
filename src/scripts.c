/*
 * scripts.c - calling the embedded Lua scripts.
 *
 * Each operation is one EVALSHA (EVALSHA_RO for scripts that declare
 * flags=no-writes) of a script whose source and SHA1 were embedded at build
 * time (build-aux/lua2c.sh). When Redis answers NOSCRIPT (after SCRIPT
 * FLUSH, a restart, or eviction of scripts), SCRIPT LOAD and the same
 * EVALSHA go out in one pipeline, and the EVALSHA's reply is the answer:
 * one extra round trip, once. Should the script be flushed again between
 * the two (possible while a large command arrives), EVAL sends the source
 * itself. Data reaches a script only through KEYS and ARGV; no input is
 * ever spliced into Lua source.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

lh_status lh__redis_error(lh_client *c, const redisReply *r, const char *what)
{
    return lh__fail(c, LH_ERR_REDIS, "%s: %.*s", what,
                    (int)(r->len > 300 ? 300 : r->len), r->str);
}

static int is_noscript(const redisReply *r)
{
    return r->type == REDIS_REPLY_ERROR && r->len >= 8 &&
           memcmp(r->str, "NOSCRIPT", 8) == 0;
}

static lh_status reload_and_call(lh_client *c, const lh__script *s,
                                 const lh__cmd *eval, redisReply **out)
{
    const char *argv[3] = {"SCRIPT", "LOAD", NULL};
    size_t lens[3] = {6, 4, 0};
    redisReply *r[2];
    lh__cmd cmds[2];
    lh_status st;

    argv[2] = s->src;
    lens[2] = s->len;
    cmds[0].argc = 3;
    cmds[0].argv = argv;
    cmds[0].argvlen = lens;
    cmds[1] = *eval;
    if ((st = lh__conn_pipeline(c, eval->argc > 3 ? eval->argv[3] : NULL, 2,
                                cmds, r)) != LH_OK)
        return st;
    freeReplyObject(r[0]);
    *out = r[1];
    return LH_OK;
}

/* EVALSHA; after NOSCRIPT, SCRIPT LOAD + EVALSHA in one pipeline; after a
 * second NOSCRIPT (another client flushed between the two: Redis runs
 * other clients' commands while a large EVALSHA arrives in several
 * reads), EVAL with the source, which no flush can split. 'cmd' is the
 * EVALSHA; its first two words are changed for the EVAL. */
static lh_status call_with_fallback(lh_client *c, const lh__script *script,
                                    lh__cmd *cmd, const char **argv,
                                    size_t *lens, redisReply **r)
{
    const char *route = cmd->argc > 3 ? argv[3] : NULL;
    lh_status st = lh__conn_call(c, route, cmd->argc, argv, lens, r);

    if (st == LH_OK && is_noscript(*r)) {
        freeReplyObject(*r);
        *r = NULL;
        st = reload_and_call(c, script, cmd, r);
    }
    if (st == LH_OK && is_noscript(*r)) {
        freeReplyObject(*r);
        *r = NULL;
        argv[0] = script->readonly ? "EVAL_RO" : "EVAL";
        argv[1] = script->src;
        lens[0] = strlen(argv[0]);
        lens[1] = script->len;
        st = lh__conn_call(c, route, cmd->argc, argv, lens, r);
    }
    return st;
}

/* Lay out EVALSHA sha numkeys keys... args... into 'argv' and 'lens'. */
static void evalsha_words(const lh__script *script, char *numkeys, size_t nkeys,
                          const char *const *keys, const size_t *keylens,
                          size_t nargs, const char *const *args,
                          const size_t *arglens, const char **argv,
                          size_t *lens)
{
    size_t i;

    argv[0] = script->readonly ? "EVALSHA_RO" : "EVALSHA";
    argv[1] = script->sha;
    argv[2] = numkeys;
    for (i = 0; i < 3; i++)
        lens[i] = strlen(argv[i]);
    for (i = 0; i < nkeys; i++) {
        argv[3 + i] = keys[i];
        lens[3 + i] = keylens ? keylens[i] : strlen(keys[i]);
    }
    for (i = 0; i < nargs; i++) {
        argv[3 + nkeys + i] = args[i];
        lens[3 + nkeys + i] = arglens ? arglens[i] : strlen(args[i]);
    }
}

/* After a write, WAIT for the client's min_replicas on the same
 * connection; WAIT's own timeout is shorter than the socket's, so too few
 * replicas is LH_ERR_QUORUM, never an I/O timeout. */
static lh_status wait_replicas(lh_client *c, const lh__script *script,
                               const char *key)
{
    const char *argv[3];
    char n[16], ms[24];
    redisReply *r;
    long long acked;
    lh_status st;

    snprintf(n, sizeof(n), "%d", c->conn.min_replicas);
    snprintf(ms, sizeof(ms), "%lld", (long long)(c->conn.timeout_ms * 3 / 4));
    argv[0] = "WAIT", argv[1] = n, argv[2] = ms;
    if ((st = lh__conn_call(c, key, 3, argv, NULL, &r)) != LH_OK)
        return st;
    if (r->type != REDIS_REPLY_INTEGER) {
        st = r->type == REDIS_REPLY_ERROR ? lh__redis_error(c, r, "WAIT")
                                          : lh__fail(c, LH_ERR_IO,
                                                     "WAIT: "
                                                     "unexpected reply");
        freeReplyObject(r);
        return st;
    }
    acked = r->integer;
    freeReplyObject(r);
    if (acked >= c->conn.min_replicas)
        return LH_OK;
    return lh__fail(c, LH_ERR_QUORUM,
                    "%s %.200s: the write happened on the master, but only "
                    "%lld of %d replicas acknowledged it within %s ms",
                    script->name, key ? key : "", acked, c->conn.min_replicas,
                    ms);
}

lh_status lh__script_call(lh_client *c, const lh__script *script, size_t nkeys,
                          const char *const *keys, const size_t *keylens,
                          size_t nargs, const char *const *args,
                          const size_t *arglens, redisReply **out)
{
    const char *sv[24], **argv = sv;
    size_t sl[24], *lens = sl, n = 3 + nkeys + nargs;
    char numkeys[24], what[128];
    redisReply *r = NULL;
    lh__cmd cmd;
    lh_status st;

    *out = NULL;
    if (n > 24) {
        argv = lh__calloc(n, sizeof(*argv));
        lens = lh__calloc(n, sizeof(*lens));
        if (argv == NULL || lens == NULL) {
            st = lh__fail(c, LH_ERR_NOMEM, "%s: out of memory", script->name);
            goto done;
        }
    }
    snprintf(numkeys, sizeof(numkeys), "%zu", nkeys);
    evalsha_words(script, numkeys, nkeys, keys, keylens, nargs, args, arglens,
                  argv, lens);
    cmd.argc = (int)n;
    cmd.argv = argv;
    cmd.argvlen = lens;
    if ((st = call_with_fallback(c, script, &cmd, argv, lens, &r)) != LH_OK)
        goto done;
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(what, sizeof(what), "%s %.80s", script->name,
                 nkeys ? keys[0] : "");
        st = lh__redis_error(c, r, what);
        freeReplyObject(r);
        goto done;
    }
    if (!script->readonly && c->conn.min_replicas > 0 &&
        (st = wait_replicas(c, script, nkeys ? keys[0] : NULL)) != LH_OK) {
        freeReplyObject(r);
        goto done;
    }
    *out = r;
done:
    if (argv != sv)
        lh__free((void *)argv);
    if (lens != sl)
        lh__free(lens);
    return st;
}
