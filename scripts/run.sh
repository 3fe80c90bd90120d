#!/usr/bin/env bash
# run.sh: the quick start. Installs what is missing, builds, starts a private
# PostgreSQL in .lwk/pg (first run: creates it and applies the migrations),
# and runs lwkd in the foreground on 127.0.0.1:7411 and .lwk/lwkd.sock.
# Ctrl-C stops lwkd and then the private PostgreSQL.
#
# LWK_DATABASE_URL=conninfo  use that database instead (no private cluster;
#                            migrations are applied unless LWK_SKIP_MIGRATE=1)
# LWK_PORT=N                 TCP port (default 7411)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/deps.sh
mkdir -p .lwk
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >.lwk/build.log 2>&1 &&
    cmake --build build -j2 >>.lwk/build.log 2>&1 || { cat .lwk/build.log >&2; exit 1; }

mkdir -p .lwk
chmod 700 .lwk
port=${LWK_PORT:-7411}
private_pg=
if [ -n "${LWK_DATABASE_URL:-}" ]; then
    dburl=$LWK_DATABASE_URL
    [ "${LWK_SKIP_MIGRATE:-0}" = 1 ] || scripts/migrate.sh "$dburl"
else
    eval "$(scripts/pg.sh start .lwk/pg)"
    private_pg=1
    scripts/dbsetup.sh "$LWK_PG_SOCK" lwk
    dburl="host=$LWK_PG_SOCK dbname=lwk user=lwkd"
fi

# An admin token for this installation, made once and kept private.
if [ ! -s .lwk/admin-token ]; then
    (umask 077 && head -c 24 /dev/urandom | base64 | tr '+/' '-_' >.lwk/admin-token)
fi

stop_all() {
    trap - INT TERM EXIT
    [ -n "${lwkd_pid:-}" ] && kill -TERM "$lwkd_pid" 2>/dev/null && wait "$lwkd_pid" 2>/dev/null || true
    [ -n "$private_pg" ] && scripts/pg.sh stop .lwk/pg || true
    echo "lwk: stopped" >&2
}
trap stop_all INT TERM EXIT

envp=
[ "$port" = 7411 ] || envp="LWK_PORT=$port "
cat >&2 <<MSG
lwk: starting lwkd on 127.0.0.1:$port and $root/.lwk/lwkd.sock
lwk: in another terminal:   ${envp}build/client/lwk status
lwk: admin token:           ${envp}LWK_TOKEN=\$(cat .lwk/admin-token) build/client/lwk status
lwk: press Ctrl-C to stop lwkd${private_pg:+ and the private PostgreSQL}
MSG
# In a process group of its own, so that Ctrl-C reaches lwkd once, through
# stop_all, and the drain is not cut short by a second signal.
LWKD_ADMIN_TOKEN=$(cat .lwk/admin-token) setsid build/daemon/lwkd \
    --listen-tcp "127.0.0.1:$port" --listen-unix "$root/.lwk/lwkd.sock" \
    --set spool_path="$root/.lwk/spool" --database "$dburl" &
lwkd_pid=$!
wait "$lwkd_pid" || true
