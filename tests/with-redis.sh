#!/bin/sh
# with-redis.sh PROGRAM [ARGS...] - run a test against its own redis-server.
#
# The automake LOG_COMPILER for every test: makes a private directory with a
# config (loopback only, random high port, no persistence, a unix socket),
# starts redis-server, waits for PONG (10 s at most), exports
#   LEASEHOLD_TEST_URL        redis://127.0.0.1:PORT
#   LEASEHOLD_TEST_UNIX       the unix socket path
#   LEASEHOLD_TEST_REDIS_CONF the config (restart with: redis-server CONF)
#   LEASEHOLD_TEST_REDIS_PIDFILE
# runs the program and stops the server by PID on exit (also a restarted
# one). Tests never look at LEASEHOLD_URL. A missing redis-server is a hard
# error (99), not a skip.
set -u
server=${REDIS_SERVER:-redis-server}
command -v "$server" >/dev/null 2>&1 || {
    echo "with-redis.sh: redis-server not found (apt-get install redis-server)" >&2
    exit 99
}
dir=$(mktemp -d "${TMPDIR:-/tmp}/leasehold-test.XXXXXX") || exit 99
pidfile="$dir/redis.pid"
stop() {
    if [ -s "$pidfile" ]; then
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null
        n=0
        while kill -0 "$pid" 2>/dev/null && [ $n -lt 100 ]; do
            sleep 0.05; n=$((n + 1))
        done
        kill -9 "$pid" 2>/dev/null
    fi
    rm -rf "$dir"
}
trap stop EXIT
trap 'exit 1' INT TERM HUP

ping() {
    "${REDIS_CLI:-redis-cli}" -p "$1" ping 2>/dev/null | grep -q PONG
}

started=
for attempt in 1 2 3 4 5 6 7 8; do
    port=$(( ( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 20000 ) + 30000 ))
    cat > "$dir/redis.conf" <<CONF
bind 127.0.0.1
port $port
unixsocket $dir/redis.sock
unixsocketperm 700
save ""
appendonly no
daemonize yes
pidfile $pidfile
logfile $dir/redis.log
dir $dir
enable-debug-command local
CONF
    : > "$dir/redis.log"
    "$server" "$dir/redis.conf" || continue
    deadline=$(( $(date +%s) + 10 ))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        if ping "$port"; then started=1; break; fi
        if grep -q "Address already in use" "$dir/redis.log"; then break; fi
        sleep 0.02
    done
    [ -n "$started" ] && break
    [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
    rm -f "$pidfile"
done
if [ -z "$started" ]; then
    echo "with-redis.sh: redis-server did not start; its log:" >&2
    cat "$dir/redis.log" >&2
    exit 99
fi

export LEASEHOLD_TEST_URL="redis://127.0.0.1:$port"
export LEASEHOLD_TEST_UNIX="$dir/redis.sock"
export LEASEHOLD_TEST_REDIS_CONF="$dir/redis.conf"
export LEASEHOLD_TEST_REDIS_PIDFILE="$pidfile"
unset LEASEHOLD_URL
"$@"
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
    echo "--- redis-server log ---" >&2
    tail -n 30 "$dir/redis.log" >&2
fi
exit $rc
