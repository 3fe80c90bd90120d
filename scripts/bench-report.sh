#!/usr/bin/env bash
# bench-report.sh: the analysis benchmark (docs/analysis.md). Fills a private
# PostgreSQL cluster with about N scores of synthetic history
# (scripts/seed-demo.sh), refreshes the analysis, and times `lwk-report` as an
# analyst of one organisation (quarterly trend, teams x items heatmap) and as
# the programme office (all organisations). Not a test: it takes a while the
# first time (the data stays in DIR for the next run).
#
#   usage: bench-report.sh [--dir DIR] [--scale N] [--runs N] [--report BIN]
#
#   --dir DIR      cluster directory (default /tmp/lwk-bench-pg)
#   --scale N      scores to generate when the database is new (default 10000000)
#   --runs N       timed runs per report (default 7); the table shows the median
#   --report BIN   the lwk-report binary (default build-report/client/lwk-report)
set -euo pipefail
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(cd -- "$here/.." && pwd)
dir=/tmp/lwk-bench-pg scale=10000000 runs=7 bin=$root/build-report/client/lwk-report
while [[ $# -gt 0 ]]; do
    case $1 in
    --dir) dir=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --report) bin=$2; shift 2 ;;
    *) sed -n '/^#   usage:/,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
    esac
done
[[ -x $bin ]] || { echo "bench-report: build lwk-report first (cmake --build build-report --target lwk-report)" >&2; exit 1; }

mkdir -p "$dir"
chmod 755 "$dir"
eval "$("$here/pg.sh" start "$dir")"
db=lwkbench
su=(psql -X -q -tA -v ON_ERROR_STOP=1 -h "$LWK_PG_SOCK" -U postgres -d "$db")
"$here/dbsetup.sh" "$LWK_PG_SOCK" "$db"

now() { date +%s.%N; }
have=$("${su[@]}" -c "SELECT count(*) FROM lwk.scores")
if ((have == 0)); then
    echo "== generating about $scale scores (once; kept in $dir)"
    t0=$(now)
    "$here/seed-demo.sh" "host=$LWK_PG_SOCK dbname=$db user=postgres" --scale "$scale" --teams 50 --years 8 \
        --prefix Bench --fast --no-refresh
    echo "generate: $(echo "$(now) - $t0" | bc) s"
    "${su[@]}" -c "VACUUM ANALYZE"
fi

echo "== refresh"
t0=$(now)
"${su[@]}" -c "SELECT lwk.refresh_analysis(false)" >/dev/null
echo "refresh_analysis(false): $(echo "$(now) - $t0" | bc) s"
t0=$(now)
"${su[@]}" -c "SELECT lwk.refresh_analysis()" >/dev/null
echo "refresh_analysis() (concurrently): $(echo "$(now) - $t0" | bc) s"
"${su[@]}" -c "VACUUM ANALYZE lwk.mv_item_period, lwk.mv_session_period, lwk.mv_action_period,
                                lwk.mv_theme_period, lwk.mv_session_item"

# One analyst login for the organisation with the most scores; one programme login.
"${su[@]}" <<'SQL'
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_analyst') THEN
        CREATE ROLE bench_analyst LOGIN IN ROLE lwk_analyst;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_programme') THEN
        CREATE ROLE bench_programme LOGIN IN ROLE lwk_programme;
    END IF;
END
$$;
DELETE FROM lwk.analyst_organisations WHERE role_name = 'bench_analyst';
INSERT INTO lwk.analyst_organisations (role_name, organisation_id)
SELECT 'bench_analyst', organisation_id FROM lwk.mv_session_item
 GROUP BY organisation_id ORDER BY sum(n) DESC, organisation_id LIMIT 1;
SQL

echo "== data"
"${su[@]}" -F ' ' -c "SELECT 'scores', count(*) FROM lwk.scores UNION ALL
                       SELECT 'sessions', count(*) FROM lwk.sessions UNION ALL
                       SELECT 'organisations', count(*) FROM lwk.organisations UNION ALL
                       SELECT 'teams', count(*) FROM lwk.org_units WHERE kind = 'team' UNION ALL
                       SELECT 'actions', count(*) FROM lwk.actions UNION ALL
                       SELECT 'analyst org scores', sum(n) FROM lwk.mv_session_item
                        WHERE organisation_id = (SELECT organisation_id FROM lwk.analyst_organisations
                                                  WHERE role_name = 'bench_analyst')"
"${su[@]}" -F ' ' -c "SELECT 'database size', pg_size_pretty(pg_database_size('$db'))"

analyst="host=$LWK_PG_SOCK dbname=$db user=bench_analyst"
programme="host=$LWK_PG_SOCK dbname=$db user=bench_programme"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# time_it LABEL CONNINFO ARGS...: median, min and max wall time of $runs runs
# (after one warm-up run), each a whole lwk-report process: connect, resolve
# the scope, query, format, write.
time_it() {
    local label=$1 conn=$2
    shift 2
    "$bin" --db "$conn" "$@" -o "$out/warm" || { echo "bench-report: $label failed" >&2; exit 1; }
    local times=()
    for ((i = 0; i < runs; i++)); do
        local t0 t1
        t0=$(now)
        "$bin" --db "$conn" "$@" -o "$out/run"
        t1=$(now)
        times+=("$(echo "($t1 - $t0) * 1000" | bc)")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk -v label="$label" -v rows="$(wc -c <"$out/run")" '
        { t[NR] = $1 } END { printf "%-44s median %7.1f ms  min %7.1f  max %7.1f  (%d bytes)\n",
                                    label, t[int((NR + 1) / 2)], t[1], t[NR], rows }'
}

echo "== lwk-report, $runs runs each"
time_it "analyst: trend, organisation, per quarter" "$analyst" trend --period quarter --format json
time_it "analyst: heatmap teams x items, a quarter" "$analyst" heatmap --period quarter --format json
time_it "analyst: trend, per month" "$analyst" trend --period month --format json
time_it "analyst: all reports, html" "$analyst" all --period quarter --format html
time_it "programme: trend, all organisations" "$programme" trend --period quarter --format json
time_it "programme: heatmap organisations x items" "$programme" heatmap --period quarter --format json
time_it "programme: all reports, html" "$programme" all --period year --format html
