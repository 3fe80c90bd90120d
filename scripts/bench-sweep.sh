#!/usr/bin/env bash
# bench-sweep.sh: open-loop lwk-bench runs at rising rates, one fresh lwkd
# each, and a line per rate: where the p99 passes a bound is the capacity at
# that bound (docs/bench.md "Finding the limit").
#
#   scripts/bench-sweep.sh [--db] [--unix] [--rates "1000 2000 4000"] -- [lwk-bench options]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
pre=()
rates="1000 2000 4000 6000 8000 10000"
while [ $# -gt 0 ]; do
    case $1 in
    --db | --unix) pre+=("$1") ;;
    --rates) rates=$2; shift ;;
    --) shift; break ;;
    *) break ;;
    esac
    shift
done
printf '%8s %9s %9s %8s %8s %8s %9s %8s %9s %8s %9s %7s %7s\n' rate acked/s events/s p50_ms p99_ms \
    p999_ms lwkd_cpu% lwkd_us bench_cpu% bench_us pg_cpu% db_p99 errors
first=1
for r in $rates; do
    nobuild=$([ $first = 1 ] && echo 0 || echo 1)
    first=0
    j=$(LWK_BENCH_NOBUILD=$nobuild scripts/bench.sh "${pre[@]}" -- "$@" --rate "$r" --json \
        --progress 0 2>/dev/null) || true
    [ -n "$j" ] || { echo "rate $r: run failed" >&2; continue; }
    python3 -c '
import json, sys
j = json.loads(sys.argv[1]); r = sys.argv[2]
l = j.get("lwkd") or {}
db = j.get("db") or {}
print("%8s %9.0f %9.0f %8.2f %8.2f %8.2f %9.1f %8.1f %9.1f %8.1f %9s %7s %7d" % (r, j["acked_per_s"],
      j["events_per_s"], j["latency_ms"]["p50"], j["latency_ms"]["p99"], j["latency_ms"]["p999"],
      l.get("cpu_load_pct", 0), l.get("cpu_us_per_submission", 0), j["bench_cpu_load_pct"],
      j["bench_cpu_us_per_submission"],
      "%.1f" % j["postgres_cpu_load_pct"] if "postgres_cpu_load_pct" in j else "-",
      "%.0f" % db["lag_ms"]["p99"] if db and db.get("lag_ms") else "-", j["errors"]))
' "$j" "$r"
done
