#!/usr/bin/env bash
# bench-redis.sh: the same lwk-bench run against a plain broadcaster, Redis
# pub/sub, one channel per session (docs/bench.md "Comparison with Redis").
#
#   scripts/bench-redis.sh [--unix] -- [lwk-bench options]
#
# Needs redis-server (Debian: apt-get install redis-server; not in deps.sh,
# the comparison is optional). Starts a private redis-server on a free port
# and a Unix socket, without persistence, with maxclients for the load;
# runs lwk-bench --target redis with --server-pid; stops it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

use_unix=0
while [ $# -gt 0 ]; do
    case $1 in
    --unix) use_unix=1 ;;
    --) shift; break ;;
    *) break ;;
    esac
    shift
done

command -v redis-server >/dev/null || {
    echo "bench-redis.sh: redis-server not found (apt-get install redis-server)" >&2
    exit 77
}
build=${LWK_BENCH_BUILD:-$root/build-bench}
if [ "${LWK_BENCH_NOBUILD:-0}" != 1 ]; then
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j2 --target lwk-bench >/dev/null
fi

ulimit -Hn 65536 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"

tmp=$(mktemp -d /tmp/lwk-bench-redis.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis_pid=
cleanup() {
    if [ -n "$redis_pid" ] && kill -0 "$redis_pid" 2>/dev/null; then
        kill -TERM "$redis_pid" 2>/dev/null || true
        wait "$redis_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# No persistence, no protected mode games: a broadcaster and nothing else.
redis-server --port "$port" --bind 127.0.0.1 --unixsocket "$tmp/redis.sock" \
    --unixsocketperm 700 --save '' --appendonly no --maxclients 60000 \
    --dir "$tmp" --logfile "$tmp/redis.log" --daemonize no &
redis_pid=$!
for _ in $(seq 100); do
    [ -S "$tmp/redis.sock" ] && break
    kill -0 "$redis_pid" 2>/dev/null || { cat "$tmp/redis.log" >&2; exit 1; }
    sleep 0.05
done

target=(--host 127.0.0.1 --port "$port")
[ "$use_unix" = 1 ] && target=(--socket "$tmp/redis.sock")
echo "bench-redis.sh: $(redis-server --version | cut -d' ' -f1-3), pid $redis_pid, $(nproc) cores, $(date -u +%FT%TZ)" >&2
status=0
read -r -a wrap <<<"${LWK_BENCH_WRAP:-}"
"${wrap[@]}" "$build/client/lwk-bench" --target redis "${target[@]}" --server-pid "$redis_pid" "$@" ||
    status=$?
exit $status
