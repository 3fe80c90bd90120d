#!/usr/bin/env bash
# dbsetup.sh: make a database ready for lwkd: create it if missing, apply the
# migrations, and create the daemon's login role lwkd (a member of
# lwk_daemon: not owner, not superuser, not BYPASSRLS).
#
#   dbsetup.sh SOCKDIR DBNAME      (superuser "postgres" over the socket)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sock=$1
db=$2
psql=(psql -X -q -v ON_ERROR_STOP=1 -h "$sock" -U postgres)

if [ "$("${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
    "${psql[@]}" -d postgres -c "CREATE DATABASE \"$db\"" >/dev/null
fi
"$here/migrate.sh" "host=$sock dbname=$db user=postgres" >/dev/null
"${psql[@]}" -d "$db" <<'SQL' >/dev/null
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lwkd') THEN
        CREATE ROLE lwkd LOGIN NOSUPERUSER NOBYPASSRLS IN ROLE lwk_daemon;
    END IF;
END
$$;
SQL
