#!/usr/bin/env bash
# bench-compare.sh: lwkd and Redis pub/sub under the same lwk-bench shape,
# one after the other, and the ratio of the figures (docs/bench.md).
#
#   scripts/bench-compare.sh [--unix] -- [lwk-bench options]
#
# Prints both JSON reports (one line each, prefixed lwkd: and redis:) and a
# table of lwkd / Redis. Exit status 77 when redis-server is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
pre=()
while [ $# -gt 0 ]; do
    case $1 in
    --unix) pre+=(--unix) ;;
    --) shift; break ;;
    *) break ;;
    esac
    shift
done
command -v redis-server >/dev/null || { echo "bench-compare.sh: no redis-server" >&2; exit 77; }
out=$(mktemp -d /tmp/lwk-bench-compare.XXXXXX)
trap 'rm -rf "$out"' EXIT
scripts/bench.sh "${pre[@]}" -- "$@" --json >"$out/lwkd.json" 2>"$out/lwkd.err" || true
LWK_BENCH_NOBUILD=1 scripts/bench-redis.sh "${pre[@]}" -- "$@" --json >"$out/redis.json" \
    2>"$out/redis.err" || true
for t in lwkd redis; do
    [ -s "$out/$t.json" ] || { echo "bench-compare.sh: $t run failed:" >&2; cat "$out/$t.err" >&2; exit 1; }
    echo "$t: $(cat "$out/$t.json")"
done
python3 - "$out/lwkd.json" "$out/redis.json" <<'PY'
import json, sys
l, r = (json.load(open(p)) for p in sys.argv[1:3])
def g(d, *path):
    for k in path:
        d = d.get(k) if isinstance(d, dict) else None
    return d
rows = [
    ("connections", ("connections",)),
    ("set-up connections/s", ("connect_rate_per_s",)),
    ("submissions acked/s", ("acked_per_s",)),
    ("events delivered/s", ("events_per_s",)),
    ("latency p50 ms", ("latency_ms", "p50")),
    ("latency p99 ms", ("latency_ms", "p99")),
    ("latency p99.9 ms", ("latency_ms", "p999")),
    ("latency max ms", ("latency_ms", "max")),
    ("server CPU % of a core", None),
    ("server CPU us/submission", None),
    ("server RSS bytes/idle conn", None),
    ("bench CPU us/submission", ("bench_cpu_us_per_submission",)),
    ("errors", ("errors",)),
]
print("%-28s %14s %14s %8s" % ("", "lwkd", "redis", "ratio"))
for name, path in rows:
    if path is None:
        key = {"server CPU % of a core": "cpu_load_pct", "server CPU us/submission": "cpu_us_per_submission",
               "server RSS bytes/idle conn": "rss_per_idle_connection_bytes"}[name]
        a, b = g(l, "lwkd", key), g(r, "redis", key)
    else:
        a, b = g(l, *path), g(r, *path)
    ratio = "%.2f" % (a / b) if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else "-"
    print("%-28s %14s %14s %8s" % (name, a, b, ratio))
print("(lwkd also runs the session flow and validates, sequences, logs and spools every event;")
print(" redis only relays. Events per submission: lwkd %.1f, redis %.1f.)" % (
    l["events_per_s"] / l["acked_per_s"] if l["acked_per_s"] else 0,
    r["events_per_s"] / r["acked_per_s"] if r["acked_per_s"] else 0))
PY
