#!/usr/bin/env bash
# pg.sh: a private PostgreSQL 15 cluster in a directory of our own, listening
# only on a Unix socket inside it (no TCP port). PostgreSQL refuses to run as
# root: as root, the cluster runs as the unprivileged system user lwkpg.
#
#   pg.sh start DIR    create on first use (initdb), start, wait until ready;
#                      prints shell assignments: LWK_PG_SOCK=... LWK_PG_DIR=...
#   pg.sh stop DIR     stop (fast shutdown)
#   pg.sh kill DIR     stop at once (immediate shutdown)
#   pg.sh status DIR   exit 0 when running
#   pg.sh sock DIR     print the socket directory
#
# The superuser inside the cluster is "postgres"; local connections are
# trusted (only the cluster's user and root can reach the socket directory).
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: pg.sh start|stop|kill|status|sock DIR" >&2; exit 2; }

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

as_pg=()
if [ "$(id -u)" -eq 0 ]; then
    if ! id lwkpg >/dev/null 2>&1; then
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin lwkpg
    fi
    as_pg=(runuser -u lwkpg --)
fi

# The socket path must fit in sun_path (107 bytes) and the cluster's user must
# be able to reach the directory; otherwise use a short directory in /tmp.
sockdir="$dir/sock"
if [ ${#sockdir} -gt 80 ] || { [ ${#as_pg[@]} -gt 0 ] && ! "${as_pg[@]}" test -x "$dir"; }; then
    key=$(printf '%s' "$dir" | md5sum | cut -c1-12)
    sockdir="/tmp/lwkpg-$key"
fi
datadir="$dir/data"
if [ ${#as_pg[@]} -gt 0 ] && ! "${as_pg[@]}" test -x "$dir"; then
    key=$(printf '%s' "$dir" | md5sum | cut -c1-12)
    datadir="/var/tmp/lwkpg-$key/data"
fi

pgctl() { "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$datadir" "$@"; }

case "$cmd" in
start)
    mkdir -p "$sockdir" "$(dirname "$datadir")"
    chmod 700 "$sockdir"
    if [ ${#as_pg[@]} -gt 0 ]; then
        chown lwkpg "$sockdir" "$(dirname "$datadir")"
        [ -d "$datadir" ] && chown -R lwkpg "$datadir"
    fi
    if [ ! -f "$datadir/PG_VERSION" ]; then
        "${as_pg[@]}" "$PGBIN/initdb" -D "$datadir" -U postgres --auth=trust -E UTF8 \
            --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if ! pgctl status >/dev/null 2>&1; then
        logfile="$datadir/../postgres.log"
        pgctl -l "$logfile" -w -t 60 \
            -o "-c listen_addresses='' -c unix_socket_directories='$sockdir' -c max_connections=200 -c shared_buffers=128MB" \
            start >/dev/null || { tail -20 "$logfile" >&2; exit 1; }
    fi
    echo "LWK_PG_SOCK=$sockdir LWK_PG_DIR=$dir"
    ;;
stop)
    pgctl status >/dev/null 2>&1 && pgctl -m fast -w stop >/dev/null
    ;;
kill)
    pgctl status >/dev/null 2>&1 && pgctl -m immediate -w stop >/dev/null
    ;;
status)
    pgctl status >/dev/null 2>&1
    ;;
sock)
    echo "$sockdir"
    ;;
*)
    echo "usage: pg.sh start|stop|kill|status|sock DIR" >&2
    exit 2
    ;;
esac
