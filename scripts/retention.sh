#!/usr/bin/env bash
# retention.sh: remove free text older than the retention period (keywords,
# reactions, evaluation text, summaries, look-ahead items, notes, names,
# the event log of those sessions), keeping every aggregate. A wrapper
# around lwk.apply_retention() (sql/012_retention.sql); docs/analysis.md.
#
#   usage: retention.sh CONNINFO [INTERVAL]
#
# INTERVAL is a PostgreSQL interval ('2 years', '18 months'); without it,
# lwk.analysis_settings.text_retention (default 2 years). Connect as the
# database owner or a superuser: analysts and the daemon may not run it.
# Prints what was changed, one "what<TAB>rows" line each; exit 0 on success.
# Run it from cron or a systemd timer, e.g. nightly:
#   15 3 * * *  lwk  /usr/share/lwk/scripts/retention.sh 'dbname=lwk'
set -euo pipefail
prog=${0##*/}
if [[ $# -lt 1 || $# -gt 2 || -z $1 ]]; then
    echo "usage: $prog CONNINFO [INTERVAL]" >&2
    exit 2
fi
# The interval goes in as a bound value, never spliced into the SQL.
psql -X -q -tA -F $'\t' -v ON_ERROR_STOP=1 -d "$1" -v keep="${2:-}" <<'SQL'
SELECT what, affected FROM lwk.apply_retention(nullif(:'keep', '')::interval);
SQL
