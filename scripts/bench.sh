#!/usr/bin/env bash
# bench.sh: one lwk-bench run against a fresh lwkd (docs/bench.md).
#
#   scripts/bench.sh [--db] [--unix] [--perf FILE] [--set key=value ...] -- [lwk-bench options]
#
# Builds lwkd and lwk-bench in build-bench (Release), raises the descriptor
# limit, starts lwkd on a free port and a Unix socket with max_clients and
# rate limits fit for the load, runs lwk-bench with --lwkd-pid and the admin
# token, and stops lwkd. Everything else goes to lwk-bench as given.
#
#   --db         a private PostgreSQL (scripts/pg.sh) with a fresh database:
#                lwkd persists to it, the bench measures rows/s and lag
#                (--db, --pg-pid)
#   --unix       connect over the Unix socket instead of TCP
#   --perf FILE  record lwkd with perf (call graphs) into FILE during the run
#   --set k=v    extra lwkd settings (after the defaults below)
#
# LWK_BENCH_NOBUILD=1 skips the build; LWK_BENCH_BUILD=DIR picks the build dir;
# LWK_BENCH_WRAP="perf record -g -o FILE --" runs lwk-bench under a wrapper;
# LWK_BENCH_PGSTATS=1 (with --db) prints where PostgreSQL spent its time:
# the statement and the PL/pgSQL functions (track_functions = all).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

use_db=0
use_unix=0
perf_out=
sets=()
while [ $# -gt 0 ]; do
    case $1 in
    --db) use_db=1 ;;
    --unix) use_unix=1 ;;
    --perf) perf_out=$2; shift ;;
    --set) sets+=(--set "$2"); shift ;;
    --) shift; break ;;
    *) break ;;
    esac
    shift
done

build=${LWK_BENCH_BUILD:-$root/build-bench}
if [ "${LWK_BENCH_NOBUILD:-0}" != 1 ]; then
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j2 --target lwkd lwk-bench >/dev/null
fi

# 14,000 connections need as many descriptors in lwkd and in the bench.
ulimit -Hn 65536 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"

tmp=$(mktemp -d /tmp/lwk-bench.XXXXXX)
chmod 755 "$tmp"
token=$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
lwkd_pid=
pg_started=0

cleanup() {
    if [ -n "$lwkd_pid" ] && kill -0 "$lwkd_pid" 2>/dev/null; then
        kill -TERM "$lwkd_pid" 2>/dev/null || true
        wait "$lwkd_pid" 2>/dev/null || true
    fi
    if [ "$pg_started" = 1 ]; then
        scripts/pg.sh stop "$tmp/pg" >/dev/null 2>&1 || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

dburl=
bench_db=()
if [ "$use_db" = 1 ]; then
    eval "$(scripts/pg.sh start "$tmp/pg")"
    pg_started=1
    scripts/dbsetup.sh "$LWK_PG_SOCK" lwkbench
    if [ "${LWK_BENCH_PGSTATS:-0}" = 1 ]; then
        psql -X -q -h "$LWK_PG_SOCK" -U postgres -d lwkbench \
            -c "ALTER DATABASE lwkbench SET track_functions = 'all'" >/dev/null
    fi
    dburl="host=$LWK_PG_SOCK dbname=lwkbench user=lwkd"
    pg_pid=$(head -1 "$tmp/pg/data/postmaster.pid")
    # The bench reads lwk.sessions as the superuser (row-level security hides
    # other organisations' rows from the daemon's role).
    bench_db=(--db "host=$LWK_PG_SOCK dbname=lwkbench user=postgres" --pg-pid "$pg_pid")
fi

LWKD_ADMIN_TOKEN=$token "$build/daemon/lwkd" \
    --listen-tcp "127.0.0.1:$port" --listen-unix "$tmp/lwkd.sock" \
    --database "$dburl" --set spool_path="$tmp/spool" --log-level warn \
    --set max_clients=60000 --set max_sessions=20000 \
    --set rate_limit_rps=100000 --set rate_limit_burst=100000 \
    "${sets[@]}" 2>"$tmp/lwkd.log" &
lwkd_pid=$!
for _ in $(seq 100); do
    [ -S "$tmp/lwkd.sock" ] && break
    kill -0 "$lwkd_pid" 2>/dev/null || { cat "$tmp/lwkd.log" >&2; exit 1; }
    sleep 0.05
done
if [ "$use_db" = 1 ]; then
    # Wait until lwkd has its database (status db: ok) before loading it.
    for _ in $(seq 100); do
        LWK_HOST=127.0.0.1 LWK_PORT=$port "$build/client/lwk" status 2>/dev/null |
            grep -q 'database: *ok' && break || sleep 0.1
    done 2>/dev/null || true
fi

target=(--host 127.0.0.1 --port "$port")
[ "$use_unix" = 1 ] && target=(--socket "$tmp/lwkd.sock")

perf_pid=
if [ -n "$perf_out" ]; then
    perf record -g -o "$perf_out" -p "$lwkd_pid" 2>/dev/null &
    perf_pid=$!
fi

echo "bench.sh: lwkd pid $lwkd_pid, $(nproc) cores, ulimit -n $(ulimit -n), $(date -u +%FT%TZ)" >&2
status=0
read -r -a wrap <<<"${LWK_BENCH_WRAP:-}"
"${wrap[@]}" "$build/client/lwk-bench" "${target[@]}" --token "$token" --lwkd-pid "$lwkd_pid" \
    "${bench_db[@]}" "$@" || status=$?

if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
fi
if [ "$use_db" = 1 ] && [ "${LWK_BENCH_PGSTATS:-0}" = 1 ]; then
    sleep 1 # the statistics collector's last report
    psql -X -h "$LWK_PG_SOCK" -U postgres -d lwkbench >&2 <<'SQL'
SELECT funcname, calls, round(total_time::numeric, 0) AS total_ms,
       round(self_time::numeric, 0) AS self_ms,
       round((total_time / nullif(calls, 0) * 1000)::numeric, 1) AS us_per_call
  FROM pg_stat_user_functions ORDER BY total_time DESC LIMIT 12;
SELECT relname, n_tup_ins, n_tup_upd FROM pg_stat_user_tables
 WHERE n_tup_ins + n_tup_upd > 0 ORDER BY n_tup_ins + n_tup_upd DESC LIMIT 8;
SQL
fi
if grep -q 'level=\(warn\|error\)' "$tmp/lwkd.log"; then
    echo "bench.sh: lwkd warnings:" >&2
    grep 'level=\(warn\|error\)' "$tmp/lwkd.log" | sort | uniq -c | sort -rn | head -20 >&2
fi
exit $status
