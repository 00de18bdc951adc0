#!/bin/sh
# cli.sh - the leasehold(1) tool against the suite's own redis-server
# (run under tests/with-redis.sh, which exports LEASEHOLD_TEST_URL).
#
# Every command and exit status (8 with --min-replicas and a replica the
# test starts), the JSON shapes (checked member by member with python3,
# and by python3 -m json.tool), a lease piped from acquire into confirm,
# payloads with a "lease" member, blocking and conditional acquires, list
# with thousands of leases, and run: success, failure, longer than the TTL,
# killed by a signal, signals passed on, a second run on the same resource,
# CMD not found or not executable, and a lease lost while CMD runs or found
# lost by the final release. Bad input (malformed JSON, wrong arity, bad
# durations, bad URLs) is exit 2 with one line on stderr and empty stdout.
# Ends with "N passed, M failed"; exits 1 if any check failed.
set -u

L=${LEASEHOLD_CLI:-${builddir:-.}/src/cli/leasehold}
U=${LEASEHOLD_TEST_URL:?run under tests/with-redis.sh}
R="t$$-cli"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
RCLI=${REDIS_CLI:-redis-cli}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/leasehold-cli.XXXXXX") || exit 99
bg=
cleanup() {
    [ -n "$bg" ] && kill "$bg" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
unset LEASEHOLD_URL
# trapper.sh SIGNAL MARKER [KEY]: a CMD that waits for SIGNAL, prints "got
# SIGNAL" and exits 0; it creates MARKER once its trap is set, after
# deleting KEY from Redis if given.
cat >"$tmp/trapper.sh" <<'SH'
trap 'kill $pid 2>/dev/null; echo "got $1"; exit 0' "$1"
[ $# -gt 2 ] && "$RCLI" -u "$U" DEL "$3" >/dev/null
sleep 30 &
pid=$!
: >"$2"
wait $pid
SH
export RCLI U
passed=0
failed=0

ok() {
    passed=$((passed + 1))
    echo "ok - $1"
}

not_ok() {
    failed=$((failed + 1))
    echo "not ok - $1"
    head -n 5 "$tmp/out" | sed 's/^/#   stdout: /'
    head -n 5 "$tmp/err" | sed 's/^/#   stderr: /'
}

# lh ARGS...: the tool on the test server under this run's root; stdout,
# stderr and the status land in $tmp/out, $tmp/err and $st.
lh() {
    "$L" --url "$U" --root "$R" "$@" >"$tmp/out" 2>"$tmp/err"
    st=$?
}

# lh_in TEXT ARGS...: as lh, with TEXT on stdin.
lh_in() {
    text=$1
    shift
    printf '%s\n' "$text" | "$L" --url "$U" --root "$R" "$@" \
        >"$tmp/out" 2>"$tmp/err"
    st=$?
}

# raw ARGS...: the tool without the default --url and --root.
raw() {
    "$L" "$@" >"$tmp/out" 2>"$tmp/err"
    st=$?
}

# expect STATUS NAME: the last status; on success stderr is empty.
expect() {
    if [ "$st" -eq "$1" ] && { [ "$1" -ne 0 ] || [ ! -s "$tmp/err" ]; }; then
        ok "$2"
    else
        not_ok "$2 (status $st, want $1)"
    fi
}

# expect_error STATUS NAME [TEXT]: the status, empty stdout and one line
# "leasehold: ..." on stderr (containing TEXT, if given).
expect_error() {
    if [ "$st" -eq "$1" ] && [ ! -s "$tmp/out" ] &&
        [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
        grep -q '^leasehold: ' "$tmp/err" &&
        { [ $# -lt 3 ] || grep -qi -- "$3" "$tmp/err"; }; then
        ok "$2"
    else
        not_ok "$2 (status $st, want $1 and one error line${3:+ with '$3'})"
    fi
}

# check_json NAME EXPR: stdout is one line of JSON (python3 -m json.tool
# accepts it) and the Python expression EXPR holds for it as 'd'.
check_json() {
    if [ "$(wc -l <"$tmp/out")" -eq 1 ] &&
        "$PY" -m json.tool <"$tmp/out" >/dev/null 2>&1 &&
        "$PY" -c 'import json, sys
d = json.loads(sys.stdin.read())
sys.exit(0 if eval("(" + sys.argv[1] + ")") else 1)' "$2" <"$tmp/out"; then
        ok "$1"
    else
        not_ok "$1 (JSON: $2)"
    fi
}

# poll_until TRIES CMD...: run CMD every 50 ms until it succeeds.
poll_until() {
    n=$1
    shift
    while [ "$n" -gt 0 ]; do
        "$@" && return 0
        sleep 0.05
        n=$((n - 1))
    done
    return 1
}

is_held() {
    "$L" --url "$U" --root "$R" inspect "$1" 2>/dev/null | grep -q '"held":true'
}

is_free() {
    "$L" --url "$U" --root "$R" inspect "$1" 2>/dev/null |
        grep -q '"held":false'
}

LEASE_MEMBERS='list(d) == ["v", "root", "prefix", "args", "id", "fence", "ttl_ms"]'
STATE_MEMBERS='list(d) == ["held", "ttl_ms", "fence"] and d["held"] is True'
INSPECT_MEMBERS='list(d) == ["held", "ttl_ms", "fence", "last_outcome", "last_release_ms"]'

# ---- help, version, usage -------------------------------------------------
raw --help
expect 0 "--help exits 0"
grep -q '^Usage: leasehold' "$tmp/out" && ok "--help on stdout" ||
    not_ok "--help on stdout"
for c in acquire confirm extend release inspect list run; do
    raw "$c" --help
    if [ "$st" -eq 0 ] && grep -q "leasehold .*$c" "$tmp/out" &&
        [ ! -s "$tmp/err" ]; then
        ok "$c --help"
    else
        not_ok "$c --help"
    fi
done
raw --version
expect 0 "--version"
grep -q '^leasehold [0-9][0-9.]*$' "$tmp/out" && ok "--version prints it" ||
    not_ok "--version prints it"
raw acquire --version
expect 0 "acquire --version"
raw
expect_error 2 "no command" "command"
raw frobnicate
expect_error 2 "unknown command" "frobnicate"
raw --frob list
expect_error 2 "unknown global option" "--frob"
lh acquire --frob a
expect_error 2 "unknown command option" "--frob"
lh acquire --url "$U" a
expect_error 2 "a global option after the command" "--url"

# ---- acquire, confirm, extend, release, inspect -------------------------------
lh acquire a
expect 0 "acquire"
check_json "acquire prints the lease" "$LEASE_MEMBERS"' and d["v"] == 1
    and d["root"] == "'"$R"'" and d["prefix"] == "default"
    and d["args"] == ["a"] and len(d["id"]) == 32
    and all(c in "0123456789abcdef" for c in d["id"])
    and isinstance(d["fence"], int) and d["fence"] >= 0
    and d["ttl_ms"] == 60000'
lease_a=$(cat "$tmp/out")
fence_a=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["fence"])' \
    "$lease_a")
lh acquire a
expect_error 3 "acquire a held resource: 3" "held"

"$L" --url "$U" --root "$R" acquire b | "$L" --url "$U" --root "$R" \
    confirm - >"$tmp/out" 2>"$tmp/err"
st=$?
expect 0 "acquire | confirm -"
check_json "confirm shape" "$STATE_MEMBERS"' and 0 < d["ttl_ms"] <= 60000'

lh_in "$lease_a" confirm -
expect 0 "confirm - (stdin)"
check_json "confirm reports the fence" "$STATE_MEMBERS and d['fence'] == $fence_a"
lh confirm "$lease_a"
expect 0 "confirm LEASE text"
lh confirm "{\"job\":7,\"lease\":$lease_a}"
expect 0 "confirm a payload with a lease member"
check_json "confirm payload shape" "$STATE_MEMBERS"
lh_in "{\"job\":7,\"lease\":$lease_a}" confirm -
expect 0 "confirm a payload on stdin"

lh extend --ttl 5s "$lease_a"
expect 0 "extend --ttl"
check_json "extend sets the TTL" "$STATE_MEMBERS and d['ttl_ms'] == 5000 and d['fence'] == $fence_a"
lh extend "$lease_a"
expect 0 "extend with the lease's TTL"
check_json "extend uses ttl_ms" "$STATE_MEMBERS"' and 59000 < d["ttl_ms"] <= 60000'
"$L" --url "$U" --root "$R" --ttl 7s extend "$lease_a" >"$tmp/out" \
    2>"$tmp/err"
st=$?
expect 0 "extend with a global --ttl"
check_json "a global --ttl counts for extend" "$STATE_MEMBERS and d['ttl_ms'] == 7000"
lh extend --ttl 2s "$lease_a"
check_json "extend never adds" "$STATE_MEMBERS and d['ttl_ms'] == 2000"

lh inspect a
expect 0 "inspect held"
check_json "inspect shape (held)" "$INSPECT_MEMBERS"' and d["held"] is True
    and 0 < d["ttl_ms"] <= 2000 and d["fence"] == '"$fence_a"'
    and d["last_outcome"] is None and d["last_release_ms"] is None'
lh inspect never
expect 0 "inspect a resource never taken"
check_json "inspect shape (never taken)" "$INSPECT_MEMBERS"' and d["held"] is False
    and d["ttl_ms"] is None and d["fence"] is None
    and d["last_outcome"] is None and d["last_release_ms"] is None'

lh release --outcome success "$lease_a"
expect 0 "release --outcome success"
check_json "release shape" 'list(d) == ["released", "outcome"]
    and d["released"] is True and d["outcome"] == "success"'
lh inspect a
check_json "inspect after release" "$INSPECT_MEMBERS"' and d["held"] is False
    and d["ttl_ms"] is None and d["fence"] == '"$fence_a"'
    and d["last_outcome"] == "success" and isinstance(d["last_release_ms"], int)
    and d["last_release_ms"] > 0'
lh release "$lease_a"
expect_error 4 "release twice: 4" "not held"
lh confirm "$lease_a"
expect_error 4 "confirm after release: 4" "not held"
lh extend "$lease_a"
expect_error 4 "extend after release: 4" "not held"

lh acquire c
lease_c=$(cat "$tmp/out")
lh_in "{\"lease\":$lease_c,\"more\":[1,2]}" release -
expect 0 "release a payload from stdin"
check_json "release without --outcome" 'd == {"released": True, "outcome": "none"}'
lh acquire c
lh release --outcome=failure "$(cat "$tmp/out")"
check_json "release --outcome=failure" 'd["outcome"] == "failure"'
lh inspect c
check_json "inspect records failure" 'd["last_outcome"] == "failure"'

# Not owned: the lease expired and another took the resource; not held:
# it expired and nobody holds it.
"$L" --url "$U" --root "$R" --ttl 200ms acquire d >"$tmp/old" 2>/dev/null
poll_until 100 is_free d && ok "a short lease expires" ||
    not_ok "a short lease expires"
lh confirm "$(cat "$tmp/old")"
expect_error 4 "expired, nobody holds it: 4" "not held"
lh acquire d
lh confirm "$(cat "$tmp/old")"
expect_error 5 "expired, another holds it: 5" "another"
lh release "$(cat "$tmp/old")"
expect_error 5 "release of a lease taken over: 5"

# ---- waiting and conditions -----------------------------------------------------
lh acquire w
lease_w=$(cat "$tmp/out")
lh acquire --wait 300ms w
expect_error 7 "acquire --wait passes: 7" "wait"
lh acquire --wait 0 w
expect_error 3 "acquire --wait 0 is one try: 3"
"$L" --url "$U" --root "$R" acquire --wait 10s w >"$tmp/waiter" \
    2>"$tmp/waiter.err" &
bg=$!
queued() {
    [ "$("$RCLI" -u "$U" EXISTS "{$R:default:w}:q")" = 1 ]
}
poll_until 100 queued || echo "# the waiter did not show in the queue"
lh release "$lease_w"
wait "$bg"
st=$?
bg=
cp "$tmp/waiter" "$tmp/out"
expect 0 "acquire --wait gets the lease on release"
check_json "the waiter's lease" "$LEASE_MEMBERS and d['args'] == ['w']"
lh confirm "$(cat "$tmp/waiter")"
expect 0 "the waiter holds it"

# a waiter with a cooldown: the holder's release starts it, so the grant
# refuses the waiter (6), and the resource stays free
lh acquire wc
lease_wc=$(cat "$tmp/out")
"$L" --url "$U" --root "$R" acquire --wait 10s --cooldown 1h wc \
    >"$tmp/waiter" 2>"$tmp/waiter.err" &
bg=$!
queued_wc() {
    [ "$("$RCLI" -u "$U" EXISTS "{$R:default:wc}:q")" = 1 ]
}
poll_until 100 queued_wc || echo "# the cooldown waiter did not show in the queue"
lh release --outcome success "$lease_wc"
wait "$bg"
st=$?
bg=
cp "$tmp/waiter.err" "$tmp/err"
cp "$tmp/waiter" "$tmp/out"
expect_error 6 "a cooldown waiter is refused by the release it waited for" "cooldown"
lh inspect wc
expect 0 "inspect after the refusal"
check_json "nobody holds it" "d['held'] is False and d['last_outcome'] == 'success'"

lh acquire cd
lh release --outcome success "$(cat "$tmp/out")"
lh acquire --cooldown 1h cd
expect_error 6 "acquire --cooldown not met: 6" "cooldown"
lh acquire --wait 5s --cooldown 1h cd
expect_error 6 "a failed condition is at once, also with --wait"
lh acquire --require-success-within 1h cd
expect 0 "acquire --require-success-within met"
lh acquire --require-success-within 1h never2
expect_error 6 "acquire --require-success-within not met: 6"
lh acquire --cooldown 1ms cd2
expect 0 "acquire --cooldown with no release"

# ---- list ------------------------------------------------------------------------
lh --prefix lst acquire x
lh --prefix lst acquire y
lease_y=$(cat "$tmp/out")
lh --prefix lst acquire z
lh release "$(cat "$tmp/out")"
lh --prefix lst --arity 2 acquire x y
lh --prefix lst list
expect 0 "list"
if [ "$(wc -l <"$tmp/out")" -eq 2 ] &&
    "$PY" -c 'import json, sys
ls = [json.loads(l) for l in sys.stdin]
assert sorted(l["args"][0] for l in ls) == ["x", "y"]
for l in ls:
    assert l["v"] == 1 and l["prefix"] == "lst" and len(l["args"]) == 1
    assert isinstance(l["fence"], int) and 0 < l["ttl_ms"] <= 60000
' <"$tmp/out"; then
    ok "list prints the held leases, one JSON line each"
else
    not_ok "list prints the held leases, one JSON line each"
fi
grep "\"args\":\[\"y\"\]" "$tmp/out" >"$tmp/listed"
lh confirm "$(cat "$tmp/listed")"
expect 0 "a listed lease confirms"
lh --prefix lst --arity 2 list
[ "$(wc -l <"$tmp/out")" -eq 1 ] && ok "list --arity 2" || not_ok "list --arity 2"
lh --prefix nothing list
expect 0 "list with nothing held"
[ ! -s "$tmp/out" ] && ok "list prints nothing" || not_ok "list prints nothing"
lh list extra
expect_error 2 "list takes no ARG"
"$RCLI" -u "$U" EVAL "for i = 1, tonumber(ARGV[2]) do
  redis.call('SET', '{' .. ARGV[1] .. ':many:' .. i .. '}',
             string.rep('a', 32) .. 'zz', 'PX', 60000)
end" 0 "$R" 3000 >/dev/null
lh --prefix many list
expect 0 "list thousands"
if [ "$(wc -l <"$tmp/out")" -eq 3000 ] &&
    [ "$(sort -u "$tmp/out" | wc -l)" -eq 3000 ]; then
    ok "list reports 3000 leases once each"
else
    not_ok "list reports 3000 leases once each ($(wc -l <"$tmp/out") lines)"
fi
# SIGPIPE is ignored: a closed stdout is a write error (1), not a kill.
{
    "$L" --url "$U" --root "$R" --prefix many list 2>"$tmp/err"
    echo $? >"$tmp/status"
} | head -n 1 >/dev/null
st=$(cat "$tmp/status")
cp "$tmp/waiter" "$tmp/out"
expect_error 1 "list into a closed pipe: 1, not SIGPIPE" "stdout"
lh --arity 0 --prefix single acquire
expect 0 "acquire with --arity 0"
check_json "an arity-0 lease" 'd["args"] == []'
lh --arity 0 --prefix single list
[ "$(wc -l <"$tmp/out")" -eq 1 ] && ok "list --arity 0" ||
    not_ok "list --arity 0"

# ---- input errors: exit 2, one line, empty stdout ------------------------------
lh confirm '{"v":1,'
expect_error 2 "malformed JSON" "JSON"
lh_in 'not json' confirm -
expect_error 2 "malformed JSON on stdin" "JSON"
lh confirm '[1,2]'
expect_error 2 "LEASE not an object"
lh confirm '{"job":1}'
expect_error 2 "payload without a lease"
bad_id=$(printf '%s' "$lease_y" | sed 's/"id":"[0-9a-f]*"/"id":"xyz"/')
lh confirm "$bad_id"
expect_error 2 "a bad id" "id"
lh confirm "$(printf '%s' "$lease_y" | sed 's/"fence":[0-9]*/"fence":-1/')"
expect_error 2 "a negative fence" "fence"
lh confirm '{"lease":{"v":2}}'
expect_error 2 "a bad lease in a payload"
lh confirm
expect_error 2 "confirm without LEASE"
lh confirm "$lease_y" "$lease_y"
expect_error 2 "confirm with two LEASEs"
lh acquire a b
expect_error 2 "acquire with too many ARGs" "arity"
lh acquire
expect_error 2 "acquire with no ARG" "arity"
lh inspect a b
expect_error 2 "inspect with too many ARGs" "arity"
lh --arity 2 confirm "$lease_y"
expect_error 2 "LEASE args vs --arity" "arity"
lh --arity 17 list
expect_error 2 "--arity 17" "--arity"
lh --arity x list
expect_error 2 "--arity x" "--arity"
"$L" --url "$U" --root other confirm "$lease_y" >"$tmp/out" 2>"$tmp/err"
st=$?
expect_error 2 "LEASE root vs --root" "root"
lh --prefix other confirm "$lease_y"
expect_error 2 "LEASE prefix vs --prefix" "prefix"
lh --prefix lst confirm "$lease_y"
expect 0 "LEASE matching an explicit --prefix"
"$L" --url "$U" confirm "$lease_y" >"$tmp/out" 2>"$tmp/err"
st=$?
expect 0 "LEASE root other than the default --root, not given"
for d in 5x 0 -1 1.5s 10d '' ' 5s' 5S; do
    lh --ttl "$d" acquire q
    expect_error 2 "--ttl '$d'" "--ttl"
done
lh --ttl 31d acquire q
expect_error 2 "--ttl above 30 days" "--ttl"
lh acquire --wait 1.5s q
expect_error 2 "acquire --wait 1.5s" "--wait"
lh acquire --cooldown soon q
expect_error 2 "acquire --cooldown soon" "--cooldown"
lh acquire --require-success-within 3x q
expect_error 2 "--require-success-within 3x" "--require-success-within"
lh extend --ttl 0 "$lease_y"
expect_error 2 "extend --ttl 0" "--ttl"
lh acquire --wait
expect_error 2 "an option without its value" "--wait"
lh release --outcome maybe "$lease_y"
expect_error 2 "release --outcome maybe" "outcome"
lh inspect q
check_json "bad input changed nothing" 'd["fence"] is None'
for u in 'bogus://x' 'redis://127.0.0.1:notaport' 'redis://127.0.0.1:6379/x' \
    'redis://127.0.0.1:6379?timeout=soon' ''; do
    raw --url "$u" inspect q
    expect_error 2 "bad URL '$u'" "URL"
done
raw --url "$U?frob=1" inspect q
expect_error 2 "unknown URL parameter" "frob"
raw --url "rediss://127.0.0.1:6379" inspect q
expect_error 2 "rediss:// refused" "TLS"
raw --url "$U?timeout=500ms&connect_timeout=1s" --root "$R" inspect q
expect 0 "URL parameters"
if [ -n "${LEASEHOLD_TEST_UNIX:-}" ]; then
    raw --url "unix://$LEASEHOLD_TEST_UNIX?db=0" --root "$R" inspect q
    expect 0 "a unix:// URL"
fi
LEASEHOLD_URL=$U "$L" --root "$R" inspect q >"$tmp/out" 2>"$tmp/err"
st=$?
expect 0 "LEASEHOLD_URL"
LEASEHOLD_URL=bogus://x "$L" --root "$R" inspect q >"$tmp/out" 2>"$tmp/err"
st=$?
expect_error 2 "LEASEHOLD_URL is used" "URL"
LEASEHOLD_URL=bogus://x "$L" --url "$U" --root "$R" inspect q \
    >"$tmp/out" 2>"$tmp/err"
st=$?
expect 0 "--url wins over LEASEHOLD_URL"
raw --url redis://127.0.0.1:1 inspect q
expect_error 1 "Redis unreachable: 1"
lh --min-replicas 0 inspect q
expect 0 "--min-replicas 0"
lh --min-replicas x inspect q
expect_error 2 "--min-replicas x" "min-replicas"

# ---- replicas: WAIT after each write ------------------------------------------
# No replica: the write happens on the master, too few acknowledge: 8.
lh --min-replicas 1 acquire mr1
expect_error 8 "--min-replicas 1 without replicas: 8" "master"
lh inspect mr1
check_json "the unacknowledged write is on the master" 'd["held"] is True'
# A replica of the test server: the same acquire is acknowledged.
rport=$(( ( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 20000 ) + 30000 ))
mport=${U##*:}
"$RCLI" -u "$U" CONFIG SET repl-diskless-sync-delay 0 >/dev/null
redis-server --bind 127.0.0.1 --port "$rport" --save '' --appendonly no \
    --replicaof 127.0.0.1 "$mport" --dir "$tmp" --logfile "$tmp/replica.log" \
    --daemonize yes --pidfile "$tmp/replica.pid" >/dev/null 2>&1
replica_online() {
    "$RCLI" -u "$U" INFO replication | grep -q "port=$rport,state=online"
}
if poll_until 200 replica_online; then
    lh --min-replicas 1 acquire mr2
    expect 0 "--min-replicas 1 with a replica online"
    lh --min-replicas 2 acquire mr3
    expect_error 8 "--min-replicas 2 with one replica: 8" "1 of 2"
else
    not_ok "a replica of the test server came online"
fi
[ -s "$tmp/replica.pid" ] && kill "$(cat "$tmp/replica.pid")" 2>/dev/null

# ---- run ---------------------------------------------------------------------------
lh run r1 -- true
expect 0 "run: CMD succeeds"
lh inspect r1
check_json "run released with success" 'd["held"] is False and d["last_outcome"] == "success"'
lh run r1 -- sh -c 'exit 3'
expect 3 "run: CMD fails with its status"
lh inspect r1
check_json "run released with failure" 'd["held"] is False and d["last_outcome"] == "failure"'
lh run r1 -- sh -c 'echo out; echo err >&2'
if [ "$st" -eq 0 ] && [ "$(cat "$tmp/out")" = out ] &&
    [ "$(cat "$tmp/err")" = err ]; then
    ok "run: CMD's stdout and stderr are its own"
else
    not_ok "run: CMD's stdout and stderr are its own"
fi
lh --ttl 300ms run r2 -- sh -c "sleep 1; \"$L\" --url \"$U\" --root \"$R\" inspect r2"
expect 0 "run: CMD longer than the TTL"
check_json "run: still held after 3 TTLs (renewed)" 'd["held"] is True'
lh inspect r2
check_json "run: released after" 'd["held"] is False and d["last_outcome"] == "success"'
lh run r3 -- sh -c 'kill -TERM $$'
expect 143 "run: CMD killed by SIGTERM: 143"
lh run r3 -- sh -c 'kill -KILL $$'
expect 137 "run: CMD killed by SIGKILL: 137"
lh inspect r3
check_json "run: killed CMD released with failure" 'd["held"] is False and d["last_outcome"] == "failure"'
lh run r4 -- ./no/such/command
expect_error 127 "run: CMD not found: 127" "no/such"
lh inspect r4
check_json "run: 127 released with failure" 'd["held"] is False and d["last_outcome"] == "failure"'
lh run r4 -- no-such-command-anywhere
expect_error 127 "run: CMD not on PATH: 127"
printf 'x\n' >"$tmp/noexec"
chmod 644 "$tmp/noexec"
lh run r4 -- "$tmp/noexec"
expect_error 126 "run: CMD not executable: 126"
lh run r4 -- "$tmp"
expect_error 126 "run: CMD a directory: 126"
lh inspect r4
check_json "run: 126 released" 'd["held"] is False'
lh --arity 0 --prefix r0 run -- true
expect 0 "run with --arity 0"
lh --arity 2 run -- -a b -- true
expect 0 "run: ARGs after a leading --"
lh run -- r5 -- sh -c 'echo "$@"' x -- y
if [ "$st" -eq 0 ] && [ "$(cat "$tmp/out")" = "-- y" ]; then
    ok "run: -- inside CMD is CMD's"
else
    not_ok "run: -- inside CMD is CMD's"
fi
lh run r5 --wait 1s -- true
expect 0 "run: options after ARGs"
lh run r5 true
expect_error 2 "run without --" "--"
lh run r5 --
expect_error 2 "run without CMD" "CMD"
lh run a b -- true
expect_error 2 "run with too many ARGs" "arity"
lh run --wait soon r5 -- true
expect_error 2 "run --wait soon" "--wait"
raw --url redis://127.0.0.1:1 run r5 -- touch "$tmp/ran"
if [ "$st" -eq 1 ] && [ ! -e "$tmp/ran" ]; then
    ok "run: Redis unreachable: 1, CMD not run"
else
    not_ok "run: Redis unreachable: 1, CMD not run (status $st)"
fi

# A second run on a resource held by a running one: 75, CMD not run.
"$L" --url "$U" --root "$R" run r6 -- sleep 30 >/dev/null 2>&1 &
bg=$!
poll_until 100 is_held r6
lh run r6 -- touch "$tmp/ran"
if [ "$st" -eq 75 ] && [ ! -e "$tmp/ran" ] && grep -q held "$tmp/err"; then
    ok "run: a second run exits 75, CMD not run"
else
    not_ok "run: a second run exits 75, CMD not run (status $st)"
fi
lh run --wait 200ms r6 -- touch "$tmp/ran"
expect_error 75 "run --wait passes: 75"
kill -TERM "$bg"
wait "$bg"
st=$?
bg=
expect 143 "run: SIGTERM passed on to CMD"
lh inspect r6
check_json "run: released after SIGTERM" 'd["held"] is False and d["last_outcome"] == "failure"'

"$L" --url "$U" --root "$R" run r7 -- sh "$tmp/trapper.sh" HUP "$tmp/m7" \
    >"$tmp/hup" 2>&1 &
bg=$!
poll_until 200 test -e "$tmp/m7"
kill -HUP "$bg"
wait "$bg"
st=$?
bg=
if [ "$st" -eq 0 ] && grep -q "got HUP" "$tmp/hup"; then
    ok "run: SIGHUP passed on to CMD"
else
    not_ok "run: SIGHUP passed on to CMD (status $st)"
fi

# SIGINT, from a parent that does not ignore it (a shell's background job
# would start with SIGINT ignored, and CMD would inherit that).
"$PY" -c 'import os, signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_DFL)
L, U, R, tmp = sys.argv[1:5]
p = subprocess.Popen([L, "--url", U, "--root", R, "run", "r10", "--", "sh",
                      "-c", ": >\"$0\"; exec sleep 30", tmp + "/m10"])
deadline = time.time() + 10
while not os.path.exists(tmp + "/m10") and time.time() < deadline:
    time.sleep(0.02)
p.send_signal(signal.SIGINT)
sys.exit(p.wait())' "$L" "$U" "$R" "$tmp" >"$tmp/out" 2>"$tmp/err"
st=$?
expect 130 "run: SIGINT passed on to CMD: 130"
lh inspect r10
check_json "run: released after SIGINT" 'd["held"] is False and d["last_outcome"] == "failure"'

lh run --cooldown 1h r1 -- touch "$tmp/ran"
if [ "$st" -eq 75 ] && [ ! -e "$tmp/ran" ] && grep -q condition "$tmp/err"; then
    ok "run: a failed condition is 75"
else
    not_ok "run: a failed condition is 75 (status $st)"
fi

# The lease lost while CMD runs: CMD gets SIGTERM, the status is 76.
key="{$R:default:r8}"
lh --ttl 600ms run r8 -- sh "$tmp/trapper.sh" TERM "$tmp/m8" "$key"
if [ "$st" -eq 76 ] && grep -q '^got TERM$' "$tmp/out" &&
    grep -q 'lost' "$tmp/err"; then
    ok "run: lease lost while CMD runs: SIGTERM, 76"
else
    not_ok "run: lease lost while CMD runs: SIGTERM, 76 (status $st)"
fi
lh run r9 -- sh -c '"$RCLI" -u "$U" DEL "$0" >/dev/null' "{$R:default:r9}"
expect_error 76 "run: loss found by the final release: 76" "lost"

# Never left held after a normal exit.
lh inspect r1
check_json "run: nothing left held" 'd["held"] is False'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
