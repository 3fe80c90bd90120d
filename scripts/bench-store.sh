#!/usr/bin/env bash
# bench-store.sh: what PostgreSQL spends per stored event (docs/bench.md).
#
#   scripts/bench-store.sh [--sessions S] [--rate R] [--duration D]
#                          [--batches "50 200 1000"] [--runs N] [--before NNN]
#
# 1. Capture: a private PostgreSQL, a fresh lwkd persisting to it and
#    lwk-bench driving S sessions of 12 participants at R submissions/s for
#    D seconds. The event log it leaves is the workload.
# 2. Replay: for two schemas, the migrations up to NNN (default 020, the
#    projection before sql/021) and all of them, a fresh database gets the
#    captured events through lwk.store_events in batches of each size, one
#    transaction per batch, as lwkd sends them. Printed per schema and batch
#    size: the backend's CPU time per event (the least of N runs; user+system
#    from /proc, so another process's load changes it little), and whether
#    the tables the projection fills came out the same for both schemas.
#
# LWK_BENCH_BUILD=DIR picks the build dir (default build-bench, Release);
# LWK_BENCH_NOBUILD=1 skips the build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

sessions=300
rate=3000
duration=20
batches="50 200 1000"
runs=3
before=020
while [ $# -gt 0 ]; do
    case $1 in
    --sessions) sessions=$2; shift ;;
    --rate) rate=$2; shift ;;
    --duration) duration=$2; shift ;;
    --batches) batches=$2; shift ;;
    --runs) runs=$2; shift ;;
    --before) before=$2; shift ;;
    *) echo "usage: $0 [--sessions S] [--rate R] [--duration D] [--batches LIST] [--runs N] [--before NNN]" >&2
       exit 2 ;;
    esac
    shift
done

build=${LWK_BENCH_BUILD:-$root/build-bench}
if [ "${LWK_BENCH_NOBUILD:-0}" != 1 ]; then
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j2 --target lwkd lwk-bench >/dev/null
fi
ulimit -Hn 65536 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"

tmp=$(mktemp -d /tmp/lwk-bench-store.XXXXXX)
chmod 755 "$tmp"
lwkd_pid=
cleanup() {
    if [ -n "$lwkd_pid" ] && kill -0 "$lwkd_pid" 2>/dev/null; then
        kill -TERM "$lwkd_pid" 2>/dev/null || true
        wait "$lwkd_pid" 2>/dev/null || true
    fi
    scripts/pg.sh stop "$tmp/pg" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT

eval "$(scripts/pg.sh start "$tmp/pg")"
sock=$LWK_PG_SOCK
psql=(psql -X -q -v ON_ERROR_STOP=1 -h "$sock" -U postgres)

# ---- 1. capture ---------------------------------------------------------------
scripts/dbsetup.sh "$sock" lwkcapture
token=$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')
LWKD_ADMIN_TOKEN=$token "$build/daemon/lwkd" --listen-unix "$tmp/lwkd.sock" \
    --database "host=$sock dbname=lwkcapture user=lwkd" --set spool_path="$tmp/spool" \
    --log-level warn --set max_clients=60000 --set max_sessions=20000 \
    --set rate_limit_rps=100000 --set rate_limit_burst=100000 2>"$tmp/lwkd.log" &
lwkd_pid=$!
for _ in $(seq 100); do
    [ -S "$tmp/lwkd.sock" ] && break
    sleep 0.05
done
sleep 1
echo "bench-store.sh: capturing $sessions sessions at $rate/s for $duration s" >&2
"$build/client/lwk-bench" --socket "$tmp/lwkd.sock" --token "$token" --sessions "$sessions" \
    --participants 12 --duration "$duration" --warmup 1 --rate "$rate" \
    --db "host=$sock dbname=lwkcapture user=postgres" >"$tmp/bench.txt" 2>&1 ||
    { cat "$tmp/bench.txt" >&2; exit 1; }
kill -TERM "$lwkd_pid"
wait "$lwkd_pid" || true
lwkd_pid=

# Batches in commit order (one created_at per transaction lwkd committed).
"${psql[@]}" -d lwkcapture -c "\\copy (SELECT dense_rank() OVER (ORDER BY created_at), session_id, seq, kind, payload, data FROM lwk.session_events) TO '$tmp/events.copy'"
"${psql[@]}" -d lwkcapture -c "\\copy (SELECT id, name FROM lwk.organisations) TO '$tmp/orgs.copy'"
"${psql[@]}" -d lwkcapture -c "\\copy (SELECT id, organisation_id, kind, name FROM lwk.org_units) TO '$tmp/units.copy'"
n_events=$(wc -l <"$tmp/events.copy")
n_commits=$("${psql[@]}" -d lwkcapture -tAc "SELECT count(DISTINCT created_at) FROM lwk.session_events")
echo "bench-store.sh: $n_events events in $n_commits commits; kinds:" >&2
"${psql[@]}" -d lwkcapture -tAc "SELECT kind || ' ' || count(*) FROM lwk.session_events GROUP BY kind ORDER BY count(*) DESC" |
    paste -sd, >&2

# ---- 2. replay ----------------------------------------------------------------
mkdir "$tmp/sql-before"
for f in sql/[0-9][0-9][0-9]_*.sql; do
    n=${f#sql/}
    [ "$((10#${n:0:3}))" -le "$((10#$before))" ] && ln -s "$root/$f" "$tmp/sql-before/$n"
done

tables="participants score_rounds scores keywords themes theme_items theme_votes actions
        action_status_history desired_scores desired_score_proposals look_ahead_items summaries
        reactions evaluations projection_errors rejected_events"

# replay DB BATCH -> least backend CPU ms over $runs runs
replay() {
    local db=$1 bs=$2 best=
    "${psql[@]}" -d "$db" -v bs="$bs" <<'SQL'
DROP TABLE IF EXISTS public.batches;
CREATE TABLE public.batches AS
SELECT g AS b, array_agg(session_id ORDER BY o) s, array_agg(seq ORDER BY o) q,
       array_agg(kind ORDER BY o) k, array_agg(payload ORDER BY o) p, array_agg(data ORDER BY o) d
  FROM (SELECT c.*, (row_number() OVER (ORDER BY c.b, c.session_id, c.seq) - 1) / :bs AS g,
               row_number() OVER (ORDER BY c.b, c.session_id, c.seq) AS o
          FROM public.capture c) x
 GROUP BY g;
SQL
    for _ in $(seq "$runs"); do
        "${psql[@]}" -d "$db" -c "TRUNCATE lwk.session_events, lwk.sessions, lwk.projection_errors,
                                  lwk.rejected_events RESTART IDENTITY CASCADE" 2>/dev/null
        local ms
        ms=$("${psql[@]}" -tA -d "$db" <<'SQL'
CREATE FUNCTION pg_temp.cpu_ms() RETURNS bigint LANGUAGE sql AS
$$ SELECT (split_part(s, ' ', 14)::bigint + split_part(s, ' ', 15)::bigint) * 1000
          / current_setting('lwk.hz')::bigint FROM pg_read_file('/proc/self/stat') s $$;
SELECT pg_temp.cpu_ms() AS c0 \gset
CALL public.replay();
SELECT pg_temp.cpu_ms() - :c0;
SQL
)
        if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
    done
    echo "$best"
}

# digest DB -> one line per table: name md5 rows
digest() {
    local t
    for t in $tables; do
        echo "$t $("${psql[@]}" -tA -d "$1" -c "SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) || ' ' || count(*) FROM lwk.$t x")"
    done
    echo "sessions $("${psql[@]}" -tA -d "$1" -c "SELECT md5(string_agg(concat_ws(',', id, organisation_id, team_id, instrument_version_id, facilitator_id, status, started_at, closed_at, last_seq, next_session_date), '|' ORDER BY id)) FROM lwk.sessions")"
}

hz=$(getconf CLK_TCK)
printf '%-12s %7s %12s %14s\n' schema batch "cpu ms" "us per event"
for schema in before all; do
    db=lwkreplay_$schema
    "${psql[@]}" -d postgres -c "CREATE DATABASE $db" >/dev/null
    if [ $schema = before ]; then
        scripts/migrate.sh "host=$sock dbname=$db user=postgres" "$tmp/sql-before" >/dev/null
    else
        scripts/migrate.sh "host=$sock dbname=$db user=postgres" >/dev/null
    fi
    "${psql[@]}" -d "$db" <<SQL
ALTER DATABASE $db SET lwk.hz = '$hz';
CREATE TABLE public.orgs (id bigint, name text);
CREATE TABLE public.units (id bigint, organisation_id bigint, kind text, name text);
\\copy public.orgs FROM '$tmp/orgs.copy'
\\copy public.units FROM '$tmp/units.copy'
INSERT INTO lwk.organisations (id, name) OVERRIDING SYSTEM VALUE SELECT id, name FROM public.orgs;
INSERT INTO lwk.org_units (id, organisation_id, kind, name) OVERRIDING SYSTEM VALUE
SELECT id, organisation_id, kind, name FROM public.units;
CREATE TABLE public.capture (b int, session_id bigint, seq bigint, kind text, payload bytea, data jsonb);
\\copy public.capture FROM '$tmp/events.copy'
CREATE PROCEDURE public.replay() LANGUAGE plpgsql AS \$\$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM public.batches ORDER BY b LOOP
        PERFORM lwk.store_events(r.s, r.q, r.k, r.p, r.d);
        COMMIT;
    END LOOP;
END \$\$;
SQL
    for bs in $batches; do
        ms=$(replay "$db" "$bs")
        printf '%-12s %7s %12s %14s\n' "$schema" "$bs" "$ms" \
            "$(awk -v m="$ms" -v n="$n_events" 'BEGIN { printf "%.1f", m * 1000 / n }')"
        digest "$db" >"$tmp/digest-$schema-$bs"
    done
done
for bs in $batches; do
    if cmp -s "$tmp/digest-before-$bs" "$tmp/digest-all-$bs"; then
        echo "batch $bs: the projected tables are the same with both schemas"
    else
        echo "batch $bs: the projected tables DIFFER:"
        diff "$tmp/digest-before-$bs" "$tmp/digest-all-$bs" || true
        exit 1
    fi
done
