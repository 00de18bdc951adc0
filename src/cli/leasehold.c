/*
 * leasehold.c - the `leasehold` command-line tool (DESIGN section 6,
 * leasehold(1)), built on the public API only.
 *
 * The global options define a factory; one command follows with its own
 * options: acquire, confirm, extend, release, inspect, list and run. Every
 * input is checked before Redis is contacted, so bad input is exit 2 and
 * changes nothing. Results go to stdout as one line of compact JSON; an
 * error is one line "leasehold: <what>" on stderr with nothing on stdout.
 *
 * `run` is a distributed flock(1): it acquires, starts CMD, keeps the lease
 * alive with a threaded renewer (every ttl/3, on its own connection), and
 * releases with CMD's outcome. The main thread sleeps in poll(2) on a
 * self-pipe that the signal handlers (SIGINT, SIGTERM, SIGHUP: forwarded
 * to CMD; SIGCHLD: reap it) and the renewer's loss callback write to. On a
 * loss CMD gets SIGTERM, then SIGKILL 10 s later, and the status is 76.
 * CMD gets back the signal dispositions and mask leasehold started with,
 * PR_SET_PDEATHSIG SIGTERM, and none of leasehold's own descriptors.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <jansson.h>

#include "leasehold.h"

/* Exit statuses (leasehold(1), EXIT STATUS). */
enum {
    ES_OK = 0,
    ES_IO = 1,
    ES_USAGE = 2,
    ES_HELD = 3,
    ES_NOT_HELD = 4,
    ES_NOT_OWNED = 5,
    ES_CONDITION = 6,
    ES_TIMEOUT = 7,
    ES_QUORUM = 8,
    ES_NOT_ACQUIRED = 75,
    ES_LOST = 76,
    ES_NOEXEC = 126,
    ES_NOTFOUND = 127
};

/* Parsers return GO_ON to continue, or the status to exit with. */
#define GO_ON (-1)

#define KILL_DELAY_MS 10000 /* SIGTERM, then SIGKILL this much later */
/* Descriptors checked for CMD's inheritance: the ones the tool opens are
 * the lowest free, so below this unless it was started with ~1000 open. */
#define FD_SCAN 1024
#define EV_LOSS 0 /* self-pipe byte: the renewer lost the lease */

/* ---- errors and output ------------------------------------------------ -- */

/* Print "leasehold: <what>" as one line on stderr; return 'status'. */
static int fail(int status, const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    size_t i;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    for (i = 0; msg[i]; i++)
        if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
            msg[i] = ' ';
    fprintf(stderr, "leasehold: %s\n", msg);
    return status;
}

static int exit_status(lh_status st)
{
    switch (st) {
    case LH_OK:
        return ES_OK;
    case LH_ERR_INVALID:
        return ES_USAGE;
    case LH_ERR_HELD:
        return ES_HELD;
    case LH_ERR_NOT_HELD:
        return ES_NOT_HELD;
    case LH_ERR_NOT_OWNED:
        return ES_NOT_OWNED;
    case LH_ERR_CONDITION:
        return ES_CONDITION;
    case LH_ERR_TIMEOUT:
        return ES_TIMEOUT;
    case LH_ERR_QUORUM:
        return ES_QUORUM;
    default:
        return ES_IO;
    }
}

/* The client's message for 'st' (or the status's text). */
static const char *errtext(const lh_client *c, lh_status st)
{
    const char *m = c ? lh_errmsg(c) : "";

    return *m ? m : lh_strerror(st);
}

/* Write one line to stdout and flush it: 0, or -1 if it could not be
 * written (SIGPIPE is ignored: a closed pipe is EPIPE here). */
static int emit(const char *line)
{
    if (fputs(line, stdout) == EOF || fputc('\n', stdout) == EOF ||
        fflush(stdout) == EOF)
        return -1;
    return 0;
}

static int emit_failed(void)
{
    return fail(ES_IO, "writing to stdout: %s", strerror(errno));
}

/* ---- help ------------------------------------------------------------- -- */

static const char tool_help[] =
    "Usage: leasehold [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "Distributed leases on Redis: take, check, extend and release a lease\n"
    "on a resource, or run a command while holding one.\n"
    "\n"
    "Global options (before COMMAND):\n"
    "  --url URL          Redis URL (default: $LEASEHOLD_URL, else\n"
    "                     redis://127.0.0.1:6379)\n"
    "  --root ROOT        key root (default: lh)\n"
    "  --prefix P         resource family (default: default)\n"
    "  --arity N          ARGs naming a resource, 0 to 16 (default: 1)\n"
    "  --ttl DUR          lease TTL (default: 60s)\n"
    "  --min-replicas N   replicas to acknowledge each write (default: 0;\n"
    "                     too few within the timeout: exit 8)\n"
    "  -h, --help         show this help and exit\n"
    "  --version          show the version and exit\n"
    "\n"
    "Commands (COMMAND --help for more):\n"
    "  acquire [--wait DUR] [--cooldown DUR] [--require-success-within DUR]\n"
    "          ARG...\n"
    "  confirm LEASE\n"
    "  extend [--ttl DUR] LEASE\n"
    "  release [--outcome success|failure] LEASE\n"
    "  inspect ARG...\n"
    "  list\n"
    "  run [--wait DUR] [--cooldown DUR] [--require-success-within DUR]\n"
    "      ARG... -- CMD [ARGS...]\n"
    "\n"
    "DUR is a whole number with ms, s, m or h (a bare number is ms).\n"
    "LEASE is lease JSON, a job payload with a \"lease\" member, or - to\n"
    "read it from stdin.\n"
    "\n"
    "Exit status: 0 success, 1 I/O or Redis error, 2 usage or invalid\n"
    "input, 3 held by another lease, 4 not held, 5 not owned, 6 condition\n"
    "not met, 7 wait deadline passed, 8 quorum not reached. run: CMD's\n"
    "status (128+N if signal N killed it), 75 not acquired, 76 lease lost,\n"
    "126 CMD not executable, 127 CMD not found. See leasehold(1).\n";

static const char acquire_help[] =
    "Usage: leasehold [GLOBAL OPTIONS] acquire [OPTIONS] ARG...\n"
    "\n"
    "Acquire the resource named by ARG... (--arity of them) and print the\n"
    "lease as one line of JSON.\n"
    "\n"
    "  --wait DUR                    wait up to DUR while it is held\n"
    "                                (first come, first served); 0: one try\n"
    "  --cooldown DUR                only if the last release was at least\n"
    "                                DUR ago\n"
    "  --require-success-within DUR  only if a release with outcome success\n"
    "                                happened within DUR\n"
    "\n"
    "Exit status: 0 acquired, 3 held by another lease, 6 a condition is\n"
    "not met, 7 the wait passed, 1 I/O or Redis error, 2 invalid input.\n";

static const char confirm_help[] =
    "Usage: leasehold [GLOBAL OPTIONS] confirm LEASE\n"
    "\n"
    "Check that LEASE still holds its resource; print\n"
    "{\"held\":true,\"ttl_ms\":N,\"fence\":N}. LEASE is lease JSON, a job\n"
    "payload with a \"lease\" member, or - for stdin.\n"
    "\n"
    "Exit status: 0 held, 4 not held, 5 held by another lease, 1 I/O or\n"
    "Redis error, 2 invalid input.\n";

static const char extend_help[] =
    "Usage: leasehold [GLOBAL OPTIONS] extend [--ttl DUR] LEASE\n"
    "\n"
    "Set the TTL left of LEASE to DUR from now (default: the global --ttl\n"
    "if given, else the lease's own TTL); print\n"
    "{\"held\":true,\"ttl_ms\":N,\"fence\":N}.\n"
    "\n"
    "Exit status: 0 extended, 4 not held, 5 held by another lease, 1 I/O\n"
    "or Redis error, 2 invalid input.\n";

static const char release_help[] =
    "Usage: leasehold [GLOBAL OPTIONS] release [--outcome success|failure]"
    " LEASE\n"
    "\n"
    "Release LEASE, recording the outcome (none without --outcome); print\n"
    "{\"released\":true,\"outcome\":\"success\"|\"failure\"|\"none\"}.\n"
    "\n"
    "Exit status: 0 released, 4 not held, 5 held by another lease, 1 I/O\n"
    "or Redis error, 2 invalid input.\n";

static const char inspect_help[] =
    "Usage: leasehold [GLOBAL OPTIONS] inspect ARG...\n"
    "\n"
    "Print the state of the resource named by ARG...:\n"
    "{\"held\":bool,\"ttl_ms\":N|null,\"fence\":N|null,\n"
    " \"last_outcome\":\"success\"|\"failure\"|\"none\"|null,"
    "\"last_release_ms\":N|null}\n"
    "\n"
    "Exit status: 0, 1 I/O or Redis error, 2 invalid input.\n";

static const char list_help[] =
    "Usage: leasehold [GLOBAL OPTIONS] list\n"
    "\n"
    "Print one line of lease JSON per lease held under --root and --prefix\n"
    "with --arity args (\"ttl_ms\" is the TTL left). Uses SCAN, never KEYS.\n"
    "\n"
    "Exit status: 0, 1 I/O or Redis error, 2 invalid input.\n";

static const char run_help[] =
    "Usage: leasehold [GLOBAL OPTIONS] run [OPTIONS] ARG... -- CMD"
    " [ARGS...]\n"
    "\n"
    "Acquire the resource named by ARG..., run CMD while renewing the lease\n"
    "every ttl/3, then release it with outcome success if CMD exited 0,\n"
    "else failure. SIGINT, SIGTERM and SIGHUP are passed on to CMD. If the\n"
    "lease is lost, CMD gets SIGTERM (SIGKILL 10 s later).\n"
    "\n"
    "  --wait DUR                    wait up to DUR while it is held\n"
    "  --cooldown DUR                as for acquire\n"
    "  --require-success-within DUR  as for acquire\n"
    "\n"
    "Exit status: CMD's status (128+N if signal N killed it), 75 not\n"
    "acquired (held, wait passed or condition not met), 76 lease lost,\n"
    "126 CMD not executable, 127 CMD not found, 1 I/O or Redis error\n"
    "(also a failed release), 2 invalid input.\n";

/* ---- options ------------------------------------------------------------  */

enum opt_id {
    O_HELP,
    O_VERSION,
    O_URL,
    O_ROOT,
    O_PREFIX,
    O_ARITY,
    O_TTL,
    O_MIN_REPLICAS,
    O_WAIT,
    O_COOLDOWN,
    O_WITHIN,
    O_OUTCOME
};

typedef struct optspec {
    const char *name;
    enum opt_id id;
    int takes_value;
} optspec;

/* clang-format off */
#define STD_OPTS {"--help", O_HELP, 0}, {"-h", O_HELP, 0}, \
    {"--version", O_VERSION, 0}
#define END_OPTS {NULL, O_HELP, 0}

static const optspec global_opts[] = {
    STD_OPTS, {"--url", O_URL, 1}, {"--root", O_ROOT, 1},
    {"--prefix", O_PREFIX, 1}, {"--arity", O_ARITY, 1}, {"--ttl", O_TTL, 1},
    {"--min-replicas", O_MIN_REPLICAS, 1}, END_OPTS};
static const optspec acquire_opts[] = {
    STD_OPTS, {"--wait", O_WAIT, 1}, {"--cooldown", O_COOLDOWN, 1},
    {"--require-success-within", O_WITHIN, 1}, END_OPTS};
static const optspec plain_opts[] = {STD_OPTS, END_OPTS};
static const optspec extend_opts[] = {STD_OPTS, {"--ttl", O_TTL, 1}, END_OPTS};
static const optspec release_opts[] = {
    STD_OPTS, {"--outcome", O_OUTCOME, 1}, END_OPTS};
/* clang-format on */

/* What take_option() found at argv[*i]. */
enum { T_OPTION, T_POSITIONAL, T_END, T_ERROR };

/* Read the option at argv[*i] ("--name VALUE", "--name=VALUE" or a flag)
 * and advance *i past it. "-" and words not starting with '-' are
 * positional, "--" ends the options; neither is consumed. */
static int take_option(int argc, char **argv, int *i, const optspec *specs,
                       const char *where, const optspec **spec,
                       const char **value)
{
    const char *a = argv[*i], *eq;
    size_t n;

    if (strcmp(a, "--") == 0)
        return T_END;
    if (a[0] != '-' || a[1] == '\0')
        return T_POSITIONAL;
    eq = strchr(a, '=');
    n = eq && a[1] == '-' ? (size_t)(eq - a) : strlen(a);
    for (*spec = specs; (*spec)->name; (*spec)++)
        if (strlen((*spec)->name) == n && strncmp((*spec)->name, a, n) == 0)
            break;
    if ((*spec)->name == NULL) {
        fail(ES_USAGE, "%sunknown option %s (try --help)", where, a);
        return T_ERROR;
    }
    *value = NULL;
    if (eq && a[1] == '-')
        *value = eq + 1;
    else if ((*spec)->takes_value && *i + 1 < argc)
        *value = argv[++*i];
    if ((*spec)->takes_value != (*value != NULL)) {
        fail(ES_USAGE, "%s%s %s", where, (*spec)->name,
             (*spec)->takes_value ? "needs a value" : "takes no value");
        return T_ERROR;
    }
    ++*i;
    return T_OPTION;
}

/* A duration option: 0 or more ('positive': above 0, at most 30 days). */
static int parse_duration(int64_t *out, const char *name, const char *text,
                          int positive)
{
    if (lh_duration_parse(out, text) != LH_OK)
        return fail(ES_USAGE,
                    "%s: bad duration \"%s\" (want a whole number with ms, "
                    "s, m or h)",
                    name, text);
    if (positive && (*out < LH_MIN_TTL_MS || *out > LH_MAX_TTL_MS))
        return fail(ES_USAGE, "%s: %s is outside 1ms to 30 days", name, text);
    return GO_ON;
}

/* A whole number from 'min' to 'max'. */
static int parse_int(long *out, const char *name, const char *text, long min,
                     long max)
{
    char *end;

    errno = 0;
    *out = strtol(text, &end, 10);
    if (errno || text[0] < '0' || text[0] > '9' || *end || *out < min ||
        *out > max)
        return fail(ES_USAGE,
                    "%s: \"%s\" is not a whole number from %ld to %ld", name,
                    text, min, max);
    return GO_ON;
}

/* ---- global options and the factory ------------------------------------ - */

typedef struct tool {
    const char *url, *root, *prefix;
    int root_set, prefix_set, ttl_set;
    long arity, min_replicas;
    int64_t ttl_ms;
    lh_factory *factory;
    lh_client *client;
} tool;

static int version(void)
{
    char line[64];

    snprintf(line, sizeof(line), "leasehold %s", LH_VERSION_STRING);
    return emit(line) == 0 ? ES_OK : emit_failed();
}

static int global_option(tool *t, const optspec *o, const char *v)
{
    switch (o->id) {
    case O_HELP:
        return fputs(tool_help, stdout) == EOF || fflush(stdout) == EOF
                   ? emit_failed()
                   : ES_OK;
    case O_VERSION:
        return version();
    case O_URL:
        t->url = v;
        return GO_ON;
    case O_ROOT:
        t->root = v, t->root_set = 1;
        return GO_ON;
    case O_PREFIX:
        t->prefix = v, t->prefix_set = 1;
        return GO_ON;
    case O_ARITY:
        return parse_int(&t->arity, "--arity", v, 0, LH_MAX_ARITY);
    case O_TTL:
        t->ttl_set = 1;
        return parse_duration(&t->ttl_ms, "--ttl", v, 1);
    case O_MIN_REPLICAS:
        if (parse_int(&t->min_replicas, "--min-replicas", v, 0, 1000) != GO_ON)
            return ES_USAGE;
        return GO_ON;
    default:
        return fail(ES_USAGE, "internal: unexpected option %s", o->name);
    }
}

/* Read the global options up to COMMAND; *i is left on COMMAND. */
static int parse_globals(tool *t, int argc, char **argv, int *i)
{
    const optspec *o;
    const char *v;
    int rc;

    for (*i = 1; *i < argc;) {
        switch (take_option(argc, argv, i, global_opts, "", &o, &v)) {
        case T_ERROR:
            return ES_USAGE;
        case T_OPTION:
            if ((rc = global_option(t, o, v)) != GO_ON)
                return rc;
            break;
        case T_END:
            return fail(ES_USAGE, "-- before COMMAND (try --help)");
        default:
            return GO_ON;
        }
    }
    return fail(ES_USAGE, "no COMMAND given (try --help)");
}

static int make_factory(tool *t)
{
    lh_factory_options fo = LH_FACTORY_OPTIONS_INIT;
    lh_error err;

    fo.root = t->root;
    if (lh_factory_new(&t->factory, t->prefix, (int)t->arity, t->ttl_ms, &fo,
                       &err) != LH_OK)
        return fail(ES_USAGE, "--%s", err.message);
    return GO_ON;
}

static int connect_client(tool *t)
{
    lh_client_options co = LH_CLIENT_OPTIONS_INIT;
    lh_error err;
    lh_status st;

    co.min_replicas = (int)t->min_replicas;
    st = lh_client_open(&t->client, t->url, &co, &err);
    if (st != LH_OK)
        return fail(exit_status(st), "%s", err.message);
    return GO_ON;
}

/* ---- the command line of a command --------------------------------------  */

typedef struct cmdline {
    const struct command *cmd;
    int64_t wait_ms, cooldown_ms, within_ms, ttl_ms;
    int ttl_set, outcome_set;
    lh_outcome outcome;
    char **pos; /* positional arguments */
    int npos;
    char **exec; /* run: CMD and its arguments, NULL-terminated */
} cmdline;

typedef struct command {
    const char *name;
    const optspec *opts;
    const char *help;
    int (*fn)(tool *t, cmdline *cl);
} command;

static int command_option(cmdline *cl, const optspec *o, const char *v)
{
    char where[64];

    snprintf(where, sizeof(where), "%s %s", cl->cmd->name, o->name);
    switch (o->id) {
    case O_HELP:
        return fputs(cl->cmd->help, stdout) == EOF || fflush(stdout) == EOF
                   ? emit_failed()
                   : ES_OK;
    case O_VERSION:
        return version();
    case O_WAIT:
        return parse_duration(&cl->wait_ms, where, v, 0);
    case O_COOLDOWN:
        return parse_duration(&cl->cooldown_ms, where, v, 0);
    case O_WITHIN:
        return parse_duration(&cl->within_ms, where, v, 0);
    case O_TTL:
        cl->ttl_set = 1;
        return parse_duration(&cl->ttl_ms, where, v, 1);
    case O_OUTCOME:
        cl->outcome_set = 1;
        if (strcmp(v, "success") == 0 || strcmp(v, "failure") == 0) {
            cl->outcome = v[0] == 's' ? LH_OUTCOME_SUCCESS : LH_OUTCOME_FAILURE;
            return GO_ON;
        }
        return fail(ES_USAGE, "%s: \"%s\" is not success or failure", where, v);
    default:
        return fail(ES_USAGE, "internal: unexpected option %s", o->name);
    }
}

/* run: at the "--" in argv[i], with 'npos' ARGs gathered before it. That
 * "--" starts CMD, unless no ARG came before it and some are due: then it
 * only ends the options, so that ARGs may start with '-', and the next
 * "--" starts CMD. */
static int split_run(cmdline *cl, int argc, char **argv, int i, long arity)
{
    int j = i;

    if (cl->npos == 0 && arity > 0) {
        for (j = i + 1; j < argc && strcmp(argv[j], "--") != 0; j++)
            ;
        if (j == argc)
            return fail(ES_USAGE, "run: no -- before CMD (try run --help)");
        cl->pos = argv + i + 1;
        cl->npos = j - i - 1;
    }
    if (j + 1 == argc)
        return fail(ES_USAGE, "run: no CMD after -- (try run --help)");
    cl->exec = argv + j + 1; /* argv[argc] is NULL */
    return GO_ON;
}

/* The options and arguments after COMMAND (argv[i] on). Options may come
 * anywhere before "--"; for run, "--" is where CMD starts. */
static int parse_command(cmdline *cl, int argc, char **argv, int i, long arity)
{
    int is_run = strcmp(cl->cmd->name, "run") == 0;
    char where[64];
    const optspec *o;
    const char *v;
    int rc, k;

    snprintf(where, sizeof(where), "%s: ", cl->cmd->name);
    cl->pos = argv + i; /* positionals are gathered in place */
    while (i < argc) {
        k = take_option(argc, argv, &i, cl->cmd->opts, where, &o, &v);
        if (k == T_ERROR)
            return ES_USAGE;
        if (k == T_OPTION && (rc = command_option(cl, o, v)) != GO_ON)
            return rc;
        if (k == T_POSITIONAL)
            cl->pos[cl->npos++] = argv[i++];
        if (k == T_END && is_run)
            return split_run(cl, argc, argv, i, arity);
        if (k == T_END)
            for (i++; i < argc; i++)
                cl->pos[cl->npos++] = argv[i];
    }
    if (is_run)
        return fail(ES_USAGE, "run: no -- before CMD (try run --help)");
    return GO_ON;
}

/* ARG... must be --arity of them. */
static int check_args(const tool *t, const cmdline *cl)
{
    if (cl->npos != t->arity)
        return fail(ES_USAGE, "%s: %d ARG%s given, but --arity is %ld",
                    cl->cmd->name, cl->npos, cl->npos == 1 ? "" : "s",
                    t->arity);
    return GO_ON;
}

/* ---- LEASE arguments ----------------------------------------------------- */

/* All of stdin, at most LH_MAX_JSON_BYTES. */
static int read_stdin(char **out, size_t *len)
{
    size_t cap = LH_MAX_JSON_BYTES + 1, n = 0, k;
    char *buf = malloc(cap);

    if (buf == NULL)
        return fail(ES_IO, "LEASE: out of memory");
    while (n < cap && (k = fread(buf + n, 1, cap - n, stdin)) > 0)
        n += k;
    if (ferror(stdin) || n == cap) {
        free(buf);
        return ferror(stdin)
                   ? fail(ES_IO, "LEASE: reading stdin: %s", strerror(errno))
                   : fail(ES_USAGE, "LEASE: more than %d bytes",
                          LH_MAX_JSON_BYTES);
    }
    *out = buf;
    *len = n;
    return GO_ON;
}

static lh_status no_lease(lh_error *err)
{
    snprintf(err->message, sizeof(err->message),
             "neither a lease (no member \"v\") nor a job payload (no "
             "member \"%s\")",
             LH_PAYLOAD_MEMBER);
    return err->code = LH_ERR_INVALID;
}

/* Parse 'text' as a lease object, or a payload with a "lease" member. */
static int parse_lease_text(lh_lease **out, const char *text, size_t len)
{
    json_error_t je;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    lh_error err;
    lh_status st;

    if (doc == NULL)
        return fail(ES_USAGE, "LEASE: malformed JSON at line %d column %d: %s",
                    je.line, je.column, je.text);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return fail(ES_USAGE, "LEASE: not a JSON object");
    }
    if (json_object_get(doc, "v") != NULL)
        st = lh_lease_from_json(out, text, len, NULL, &err);
    else if (json_object_get(doc, LH_PAYLOAD_MEMBER) != NULL)
        st = lh_payload_get_lease(out, doc, NULL, NULL, &err);
    else
        st = no_lease(&err);
    json_decref(doc);
    if (st != LH_OK)
        return fail(exit_status(st), "LEASE: %s", err.message);
    return GO_ON;
}

/* The LEASE argument ("-": stdin), checked against --arity and an
 * explicit --root or --prefix. */
static int get_lease(lh_lease **out, const tool *t, const cmdline *cl)
{
    char *buf = NULL;
    size_t len;
    int rc;

    if (cl->npos != 1)
        return fail(ES_USAGE, "%s: needs exactly one LEASE (try %s --help)",
                    cl->cmd->name, cl->cmd->name);
    if (strcmp(cl->pos[0], "-") == 0 && (rc = read_stdin(&buf, &len)) != GO_ON)
        return rc;
    rc = buf ? parse_lease_text(out, buf, len)
             : parse_lease_text(out, cl->pos[0], strlen(cl->pos[0]));
    free(buf);
    if (rc != GO_ON)
        return rc;
    if (lh_lease_nargs(*out) != (size_t)t->arity)
        rc = fail(ES_USAGE, "LEASE has %zu arg%s, but --arity is %ld",
                  lh_lease_nargs(*out), lh_lease_nargs(*out) == 1 ? "" : "s",
                  t->arity);
    else if (t->root_set && strcmp(lh_lease_root(*out), t->root) != 0)
        rc = fail(ES_USAGE, "LEASE root \"%s\" is not --root \"%s\"",
                  lh_lease_root(*out), t->root);
    else if (t->prefix_set && strcmp(lh_lease_prefix(*out), t->prefix) != 0)
        rc = fail(ES_USAGE, "LEASE prefix \"%s\" is not --prefix \"%s\"",
                  lh_lease_prefix(*out), t->prefix);
    if (rc != GO_ON) {
        lh_lease_free(*out);
        *out = NULL;
    }
    return rc;
}

/* ---- acquire, confirm, extend, release, inspect, list -------------------- */

static lh_status take(lh_lease **out, const tool *t, const cmdline *cl)
{
    lh_acquire_options o = LH_ACQUIRE_OPTIONS_INIT;

    o.wait_ms = cl->wait_ms;
    o.cooldown_ms = cl->cooldown_ms;
    o.require_success_within_ms = cl->within_ms;
    return lh_lease_acquire(out, t->client, t->factory,
                            (const char *const *)cl->pos, (size_t)cl->npos, &o);
}

static int cmd_acquire(tool *t, cmdline *cl)
{
    lh_lease *l = NULL;
    char *json = NULL;
    lh_status st;
    int rc;

    if ((rc = check_args(t, cl)) != GO_ON || (rc = connect_client(t)) != GO_ON)
        return rc;
    if ((st = take(&l, t, cl)) != LH_OK)
        return fail(exit_status(st), "%s", errtext(t->client, st));
    rc = ES_OK;
    if (lh_lease_to_json(&json, l) != LH_OK)
        rc = fail(ES_IO, "acquire: out of memory");
    else if (emit(json) != 0)
        rc = emit_failed();
    if (rc != ES_OK) /* nobody learned the lease: give it back */
        lh_lease_release(t->client, l, LH_OUTCOME_NONE);
    lh_free(json);
    lh_lease_free(l);
    return rc;
}

static int print_state(const lh_lease_state *s)
{
    char line[128];

    snprintf(line, sizeof(line),
             "{\"held\":true,\"ttl_ms\":%" PRId64 ",\"fence\":%" PRId64 "}",
             s->ttl_ms, s->fence);
    return emit(line) == 0 ? ES_OK : emit_failed();
}

/* confirm, extend and release: a LEASE, one call, one line. */
static int cmd_lease_op(tool *t, cmdline *cl)
{
    lh_lease *l = NULL;
    lh_lease_state s;
    lh_status st;
    char line[96];
    int rc, op = cl->cmd->name[0];

    memset(&s, 0, sizeof(s));
    if ((rc = get_lease(&l, t, cl)) != GO_ON)
        return rc;
    if ((rc = connect_client(t)) != GO_ON)
        goto done;
    if (op == 'c')
        st = lh_lease_confirm(&s, t->client, l);
    else if (op == 'e')
        st = lh_lease_extend(&s, t->client, l,
                             cl->ttl_set  ? cl->ttl_ms
                             : t->ttl_set ? t->ttl_ms
                                          : 0);
    else
        st = lh_lease_release(t->client, l, cl->outcome);
    if (st != LH_OK) {
        rc = fail(exit_status(st), "%s", errtext(t->client, st));
    } else if (op != 'r') {
        rc = print_state(&s);
    } else {
        snprintf(line, sizeof(line), "{\"released\":true,\"outcome\":\"%s\"}",
                 lh_outcome_name(cl->outcome));
        rc = emit(line) == 0 ? ES_OK : emit_failed();
    }
done:
    lh_lease_free(l);
    return rc;
}

/* 'v' as JSON, or null when 'known' is 0. */
static const char *num_or_null(char *buf, size_t size, int known, int64_t v)
{
    if (!known)
        return "null";
    snprintf(buf, size, "%" PRId64, v);
    return buf;
}

static int cmd_inspect(tool *t, cmdline *cl)
{
    char line[256], ttl[24], fence[24], last[24], outcome[16] = "null";
    lh_resource_info in;
    lh_status st;
    int rc;

    if ((rc = check_args(t, cl)) != GO_ON || (rc = connect_client(t)) != GO_ON)
        return rc;
    st = lh_resource_inspect(&in, t->client, t->factory,
                             (const char *const *)cl->pos, (size_t)cl->npos);
    if (st != LH_OK)
        return fail(exit_status(st), "%s", errtext(t->client, st));
    if (in.has_last_outcome)
        snprintf(outcome, sizeof(outcome), "\"%s\"",
                 lh_outcome_name(in.last_outcome));
    snprintf(line, sizeof(line),
             "{\"held\":%s,\"ttl_ms\":%s,\"fence\":%s,\"last_outcome\":%s,"
             "\"last_release_ms\":%s}",
             in.held ? "true" : "false",
             num_or_null(ttl, sizeof(ttl), in.held, in.ttl_ms),
             num_or_null(fence, sizeof(fence), in.fence >= 0, in.fence),
             outcome,
             num_or_null(last, sizeof(last), in.last_release_ms >= 0,
                         in.last_release_ms));
    return emit(line) == 0 ? ES_OK : emit_failed();
}

/* list: print each lease; stop at the first failed write ('payload' is
 * the errno, or 0). */
static int print_listed(const lh_lease *l, void *payload)
{
    int *failed = payload;
    char *json = NULL;

    if (lh_lease_to_json(&json, l) != LH_OK)
        *failed = ENOMEM;
    else if (emit(json) != 0)
        *failed = errno ? errno : EIO;
    lh_free(json);
    return *failed != 0;
}

static int cmd_list(tool *t, cmdline *cl)
{
    int failed = 0, rc;
    lh_status st;

    if (cl->npos != 0)
        return fail(ES_USAGE, "list: takes no ARG (try list --help)");
    if ((rc = connect_client(t)) != GO_ON)
        return rc;
    st = lh_resource_list(t->client, t->factory, print_listed, &failed);
    if (st != LH_OK)
        return fail(exit_status(st), "%s", errtext(t->client, st));
    if (failed)
        return fail(ES_IO, "writing to stdout: %s", strerror(failed));
    return ES_OK;
}

/* ---- run: signals -------------------------------------------------------- */

static const int handled_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGCHLD,
                                      SIGPIPE};
#define NSIGNALS (sizeof(handled_signals) / sizeof(handled_signals[0]))

/* What the process started with, for CMD; and the self-pipe. */
static struct sigaction initial_action[NSIGNALS];
static sigset_t initial_mask;
static unsigned char initial_fds[FD_SCAN / 8];
static int self_pipe[2] = {-1, -1};

static void save_initial_state(void)
{
    struct sigaction ignore;
    size_t i;

    for (i = 0; i < NSIGNALS; i++)
        sigaction(handled_signals[i], NULL, &initial_action[i]);
    sigprocmask(SIG_SETMASK, NULL, &initial_mask);
    memset(&ignore, 0, sizeof(ignore));
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, NULL);
}

/* Remember which descriptors the tool was started with: CMD inherits
 * those, and none that the tool opened itself. */
static void save_initial_fds(void)
{
    int fd;

    for (fd = 0; fd < FD_SCAN; fd++)
        if (fcntl(fd, F_GETFD) != -1)
            initial_fds[fd / 8] |= (unsigned char)(1u << (fd % 8));
}

static void close_own_fds_on_exec(void)
{
    int fd, flags;

    for (fd = 0; fd < FD_SCAN; fd++)
        if (!(initial_fds[fd / 8] & (1u << (fd % 8))) &&
            (flags = fcntl(fd, F_GETFD)) != -1 && !(flags & FD_CLOEXEC))
            fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

/* Async-signal-safe: note the signal on the self-pipe. */
static void on_signal(int signo)
{
    int saved = errno;
    unsigned char b = (unsigned char)signo;

    if (write(self_pipe[1], &b, 1) < 0) {
        /* full: the loop is awake already */
    }
    errno = saved;
}

static int install_handlers(void)
{
    struct sigaction sa;
    size_t i;

    if (pipe2(self_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    for (i = 0; i < NSIGNALS; i++)
        if (handled_signals[i] != SIGPIPE &&
            sigaction(handled_signals[i], &sa, NULL) != 0)
            return -1;
    return 0;
}

/* Block (or unblock) the signals the loop handles, around library calls
 * that may connect, so they never see EINTR. */
static void hold_signals(int how)
{
    sigset_t set;
    size_t i;

    sigemptyset(&set);
    for (i = 0; i < NSIGNALS; i++)
        if (handled_signals[i] != SIGPIPE)
            sigaddset(&set, handled_signals[i]);
    pthread_sigmask(how, &set, NULL);
}

/* ---- run: CMD ------------------------------------------------------------ */

typedef struct runner {
    pid_t pid;
    int status;      /* waitpid's */
    int lost;        /* the loss is being acted on */
    int64_t kill_at; /* monotonic ms of the SIGKILL; 0: none due */
    lh_renewer *renewer;
    char loss[512]; /* written by the renewer's thread, read after it ends */
} runner;

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Between fork and exec: async-signal-safe calls only. */
static void child(char **cmd, int errfd, pid_t parent)
{
    int e;
    size_t i;

    for (i = 0; i < NSIGNALS; i++)
        sigaction(handled_signals[i], &initial_action[i], NULL);
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
        _exit(ES_IO); /* the tool is gone: CMD must not run unleased */
    sigprocmask(SIG_SETMASK, &initial_mask, NULL);
    execvp(cmd[0], cmd);
    e = errno;
    if (write(errfd, &e, sizeof(e)) < 0) {
        /* the parent sees EOF and the status below */
    }
    _exit(e == ENOENT || e == ENOTDIR ? ES_NOTFOUND : ES_NOEXEC);
}

/* Start CMD. GO_ON once it runs; else 126/127 (reaped) or 1. */
static int spawn(runner *r, char **cmd)
{
    int ep[2], e = 0;
    pid_t parent = getpid();
    sigset_t all, old;
    ssize_t n;

    if (pipe2(ep, O_CLOEXEC) != 0)
        return fail(ES_IO, "run: pipe: %s", strerror(errno));
    close_own_fds_on_exec();
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    if ((r->pid = fork()) == 0) {
        close(ep[0]);
        child(cmd, ep[1], parent);
    }
    e = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(ep[1]);
    if (r->pid < 0) {
        close(ep[0]);
        return fail(ES_IO, "run: fork: %s", strerror(e));
    }
    do
        n = read(ep[0], &e, sizeof(e));
    while (n < 0 && errno == EINTR);
    close(ep[0]);
    if (n != (ssize_t)sizeof(e))
        return GO_ON; /* exec succeeded: the pipe closed */
    while (waitpid(r->pid, &r->status, 0) < 0 && errno == EINTR)
        ;
    return fail(e == ENOENT || e == ENOTDIR ? ES_NOTFOUND : ES_NOEXEC,
                "run: cannot run \"%s\": %s", cmd[0], strerror(e));
}

/* The renewer's thread: remember why, wake the loop. */
static void on_loss(const lh_lease *lease, lh_status why, const char *message,
                    void *payload)
{
    runner *r = payload;
    unsigned char b = EV_LOSS;

    (void)lease;
    (void)why;
    snprintf(r->loss, sizeof(r->loss), "%s", message);
    if (write(self_pipe[1], &b, 1) < 0) {
        /* full: the loop is awake already */
    }
}

static void start_kill(runner *r)
{
    r->lost = 1;
    kill(r->pid, SIGTERM);
    r->kill_at = now_ms() + KILL_DELAY_MS;
}

/* Handle what the self-pipe holds: forward signals, act on a loss. */
static void drain(runner *r)
{
    unsigned char buf[64];
    ssize_t n, i;

    while ((n = read(self_pipe[0], buf, sizeof(buf))) > 0)
        for (i = 0; i < n; i++)
            if (buf[i] == SIGINT || buf[i] == SIGTERM || buf[i] == SIGHUP)
                kill(r->pid, buf[i]);
    if (!r->lost && lh_renewer_status(r->renewer) != LH_OK)
        start_kill(r);
}

/* Wait for CMD to end, sleeping in poll(2) between events. */
static int watch(runner *r)
{
    struct pollfd p;
    int64_t left;
    pid_t w;

    for (;;) {
        if ((w = waitpid(r->pid, &r->status, WNOHANG)) == r->pid)
            return GO_ON;
        if (w < 0 && errno != EINTR)
            return fail(ES_IO, "run: waitpid: %s", strerror(errno));
        left = r->kill_at ? r->kill_at - now_ms() : -1;
        if (r->kill_at && left <= 0) {
            kill(r->pid, SIGKILL);
            r->kill_at = 0;
            continue;
        }
        p.fd = self_pipe[0];
        p.events = POLLIN;
        p.revents = 0;
        if (poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left) < 0 &&
            errno != EINTR)
            return fail(ES_IO, "run: poll: %s", strerror(errno));
        drain(r);
    }
}

/* CMD's status as a shell gives it. */
static int cmd_status(int status)
{
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WIFEXITED(status) ? WEXITSTATUS(status) : ES_IO;
}

/* Stop renewing and release: success if CMD exited 0, else failure. A
 * loss is 76. When 'rc' is a status already reported (CMD did not run),
 * the lease is given back quietly, so stderr keeps one line. */
static int finish(tool *t, const lh_lease *l, runner *r, int rc)
{
    int ok = rc == GO_ON && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
    lh_status st = r->renewer ? lh_renewer_status(r->renewer) : LH_OK;

    lh_renewer_free(r->renewer);
    r->renewer = NULL;
    if (rc != GO_ON) {
        if (st == LH_OK && !r->lost)
            lh_lease_release(t->client, l, LH_OUTCOME_FAILURE);
        return rc;
    }
    if (st != LH_OK || r->lost) /* not ours any more: nothing to release */
        return fail(ES_LOST, "run: lease lost: %s",
                    r->loss[0] ? r->loss : lh_strerror(st));
    st = lh_lease_release(t->client, l,
                          ok ? LH_OUTCOME_SUCCESS : LH_OUTCOME_FAILURE);
    if (st == LH_ERR_NOT_HELD || st == LH_ERR_NOT_OWNED)
        return fail(ES_LOST, "run: lease lost: %s", errtext(t->client, st));
    if (st != LH_OK)
        return fail(ES_IO, "run: %s (the lease ends with its TTL)",
                    errtext(t->client, st));
    return cmd_status(r->status);
}

/* With the lease held: renew it, run CMD, release. */
static int supervise(tool *t, const cmdline *cl, const lh_lease *l)
{
    lh_renew_options ro = LH_RENEW_OPTIONS_INIT;
    runner r;
    lh_error err;
    lh_status st;
    int rc;

    memset(&r, 0, sizeof(r));
    hold_signals(SIG_BLOCK);
    if (install_handlers() != 0) {
        rc = fail(ES_IO, "run: signal set-up: %s", strerror(errno));
        return finish(t, l, &r, rc);
    }
    ro.interval_ms = lh_lease_ttl_ms(l) / 3 > 0 ? lh_lease_ttl_ms(l) / 3 : 1;
    st = lh_renewer_start(&r.renewer, t->client, l, &ro, on_loss, &r, &err);
    if (st != LH_OK) {
        rc = fail(exit_status(st), "run: cannot renew: %s", err.message);
        return finish(t, l, &r, rc);
    }
    rc = spawn(&r, cl->exec);
    hold_signals(SIG_UNBLOCK);
    if (rc == GO_ON)
        rc = watch(&r);
    hold_signals(SIG_BLOCK);
    return finish(t, l, &r, rc);
}

static int cmd_run(tool *t, cmdline *cl)
{
    lh_lease *l = NULL;
    lh_status st;
    int rc;

    if ((rc = check_args(t, cl)) != GO_ON)
        return rc;
    if (t->ttl_ms < 2)
        return fail(ES_USAGE, "run: --ttl must be at least 2ms to be renewed");
    save_initial_fds();
    if ((rc = connect_client(t)) != GO_ON)
        return rc;
    st = take(&l, t, cl);
    if (st == LH_ERR_HELD || st == LH_ERR_TIMEOUT || st == LH_ERR_CONDITION)
        return fail(ES_NOT_ACQUIRED, "run: not acquired, CMD not run: %s",
                    errtext(t->client, st));
    if (st != LH_OK)
        return fail(exit_status(st), "%s", errtext(t->client, st));
    rc = supervise(t, cl, l);
    lh_lease_free(l);
    return rc;
}

/* ---- main -------------------------------------------------------------- */

static const command commands[] = {
    {"acquire", acquire_opts, acquire_help, cmd_acquire},
    {"confirm", plain_opts, confirm_help, cmd_lease_op},
    {"extend", extend_opts, extend_help, cmd_lease_op},
    {"release", release_opts, release_help, cmd_lease_op},
    {"inspect", plain_opts, inspect_help, cmd_inspect},
    {"list", plain_opts, list_help, cmd_list},
    {"run", acquire_opts, run_help, cmd_run},
};

static const command *find_command(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    const char *env = getenv("LEASEHOLD_URL");
    tool t;
    cmdline cl;
    int i, rc;

    save_initial_state();
    memset(&t, 0, sizeof(t));
    memset(&cl, 0, sizeof(cl));
    t.url = env && *env ? env : "redis://127.0.0.1:6379";
    t.root = "lh", t.prefix = "default", t.arity = 1, t.ttl_ms = 60000;
    if ((rc = parse_globals(&t, argc, argv, &i)) != GO_ON)
        return rc;
    if ((cl.cmd = find_command(argv[i])) == NULL)
        return fail(ES_USAGE, "unknown command \"%s\" (try --help)", argv[i]);
    cl.outcome = LH_OUTCOME_NONE;
    if ((rc = parse_command(&cl, argc, argv, i + 1, t.arity)) == GO_ON &&
        (rc = make_factory(&t)) == GO_ON)
        rc = cl.cmd->fn(&t, &cl);
    lh_client_free(t.client);
    lh_factory_free(t.factory);
    return rc;
}
