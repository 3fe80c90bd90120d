#!/usr/bin/env bash
# test_systemd_security.sh: checks the units in systemd/ without booting them.
#
#   - lwkd.service scores at most 2.0 with `systemd-analyze security
#     --offline=yes` (and passes --threshold=20), and keeps every hardening
#     directive we rely on;
#   - lwkd.service, lwkd.socket and the user unit lwk-kiosk.service pass
#     `systemd-analyze verify` (with a stand-in ExecStart binary when lwkd or
#     lwk-kiosk is not installed);
#   - lwk-sysusers.conf and lwk-tmpfiles.conf apply cleanly to a scratch root
#     (as root only: tmpfiles must chown).
#
# Needs systemd >= 252 for --offline; without systemd-analyze it prints SKIP
# and exits 77. Installs nothing. Last line: "N passed, N failed".
set -u

here=$(cd "$(dirname "$0")" && pwd)
src=${LWK_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
units=$src/systemd
max_exposure=2.0

passed=0
failed=0
ok() {
    passed=$((passed + 1))
    printf 'ok - %s\n' "$*"
}
not_ok() {
    failed=$((failed + 1))
    printf 'not ok - %s\n' "$*"
}
note() { printf '# %s\n' "$*"; }
finish() {
    printf '%d passed, %d failed\n' "$passed" "$failed"
    [ "$failed" -eq 0 ]
    exit
}
skip_all() {
    printf 'SKIP: %s\n' "$*"
    printf '%d passed, %d failed\n' 0 0
    exit 77
}

if ! command -v systemd-analyze >/dev/null 2>&1; then
    skip_all "systemd-analyze not found; this test needs systemd >= 252 (it installs nothing)"
fi
version=$(systemd-analyze --version 2>/dev/null | awk 'NR == 1 { print $2 }')
case $version in
'' | *[!0-9]*) skip_all "cannot read the systemd version from 'systemd-analyze --version'" ;;
esac
if [ "$version" -lt 252 ]; then
    skip_all "systemd $version is older than 252: no 'security --offline=yes'"
fi
note "systemd $version, units from $units"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lwk-systemd.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# Works on a copy, so that nothing else in systemd/ is picked up as a drop-in.
mkdir -p "$tmp/units"
cp "$units/lwkd.service" "$units/lwkd.socket" "$units/lwk-kiosk.service" "$tmp/units/" || {
    not_ok "copy units from $units"
    finish
}

# ---- exposure score ----------------------------------------------------

out=$(cd "$tmp/units" && systemd-analyze security --offline=yes --no-pager ./lwkd.service 2>&1)
score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p')
if [ -z "$score" ]; then
    not_ok "systemd-analyze security printed no overall exposure level"
    printf '%s\n' "$out" | sed 's/^/#   /'
elif awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s + 0 <= m + 0) }'; then
    ok "lwkd.service exposure $score <= $max_exposure"
else
    not_ok "lwkd.service exposure $score > $max_exposure; what still counts:"
    printf '%s\n' "$out" | grep -F '✗' | sed 's/^/#   /'
fi

if (cd "$tmp/units" && systemd-analyze security --offline=yes --threshold=20 --no-pager \
    ./lwkd.service >/dev/null 2>&1); then
    ok "systemd-analyze security --offline=yes --threshold=20 passes"
else
    not_ok "systemd-analyze security --offline=yes --threshold=20 fails"
fi

# ---- directives that must stay -----------------------------------------

# unit file, then the exact lines it must contain
require_lines() {
    local file=$1 missing=""
    shift
    for line in "$@"; do
        grep -qxF -- "$line" "$units/$file" || missing="$missing [$line]"
    done
    if [ -z "$missing" ]; then
        ok "$file has its $# required directives"
    else
        not_ok "$file lacks:$missing"
    fi
}

require_lines lwkd.service \
    'Type=notify' \
    'ExecStart=/usr/bin/lwkd --config /etc/lwk/lwkd.conf' \
    'Restart=on-failure' 'WatchdogSec=30' 'User=lwk' \
    'StateDirectory=lwk' 'RuntimeDirectory=lwk' 'RuntimeDirectoryPreserve=yes' \
    'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
    'PrivateDevices=yes' 'ProtectKernelTunables=yes' 'ProtectKernelModules=yes' \
    'ProtectKernelLogs=yes' 'ProtectControlGroups=yes' 'ProtectClock=yes' \
    'ProtectHostname=yes' 'ProtectProc=invisible' 'ProcSubset=pid' \
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' 'RestrictNamespaces=yes' \
    'RestrictRealtime=yes' 'RestrictSUIDSGID=yes' 'LockPersonality=yes' \
    'MemoryDenyWriteExecute=yes' 'SystemCallFilter=@system-service' \
    'SystemCallFilter=~@privileged @resources' 'SystemCallArchitectures=native' \
    'CapabilityBoundingSet=' 'AmbientCapabilities=' 'PrivateUsers=yes' 'UMask=0077' \
    'DevicePolicy=closed'

require_lines lwkd.socket \
    'ListenStream=127.0.0.1:7411' 'ListenStream=/run/lwk/lwkd.sock' 'WantedBy=sockets.target'

# shellcheck disable=SC2016 # ${LWK_KIOSK_CODE} is literal unit text
require_lines lwk-kiosk.service \
    'EnvironmentFile=%h/.config/lwk/kiosk.env' 'ExecStart=/usr/bin/lwk-kiosk ${LWK_KIOSK_CODE}' \
    'Restart=always' 'StandardInput=tty' 'WantedBy=default.target'

# ---- systemd-analyze verify --------------------------------------------

# A unit whose ExecStart binary is absent fails verify, so point it at
# /bin/true when the real program is not installed.
stand_in() {
    local unit=$1 binary=$2
    if [ ! -x "$binary" ]; then
        sed -i "s#^ExecStart=$binary#ExecStart=/bin/true#" "$tmp/units/$unit"
        note "$binary is not installed: verifying $unit with ExecStart=/bin/true"
    fi
}
stand_in lwkd.service /usr/bin/lwkd
stand_in lwk-kiosk.service /usr/bin/lwk-kiosk

# Runs verify; a manager that cannot start in this environment is a skip.
verify() {
    local what=$1
    shift
    local vout
    if vout=$("$@" 2>&1) && [ -z "$vout" ]; then
        ok "systemd-analyze verify $what"
    elif printf '%s\n' "$vout" | grep -q 'Failed to initialize manager\|Failed to lookup RuntimeDirectory'; then
        note "skipped: systemd-analyze verify $what cannot run here: $(printf '%s' "$vout" | head -n 1)"
    else
        not_ok "systemd-analyze verify $what"
        printf '%s\n' "$vout" | sed 's/^/#   /'
    fi
}
verify "lwkd.service lwkd.socket" \
    systemd-analyze verify --man=no "$tmp/units/lwkd.service" "$tmp/units/lwkd.socket"
mkdir -p "$tmp/xdg-runtime"
chmod 0700 "$tmp/xdg-runtime"
verify "--user lwk-kiosk.service" \
    env XDG_RUNTIME_DIR="$tmp/xdg-runtime" \
    systemd-analyze verify --user --man=no "$tmp/units/lwk-kiosk.service"

# ---- sysusers.d and tmpfiles.d -----------------------------------------

if [ "$(id -u)" -ne 0 ]; then
    note "skipped: sysusers/tmpfiles check needs root (tmpfiles chowns to lwk)"
elif ! command -v systemd-sysusers >/dev/null 2>&1 || ! command -v systemd-tmpfiles >/dev/null 2>&1; then
    note "skipped: systemd-sysusers or systemd-tmpfiles not found"
else
    root=$tmp/root
    mkdir -p "$root/etc" "$root/usr/lib/sysusers.d" "$root/usr/lib/tmpfiles.d"
    cp "$units/lwk-sysusers.conf" "$root/usr/lib/sysusers.d/lwk.conf"
    cp "$units/lwk-tmpfiles.conf" "$root/usr/lib/tmpfiles.d/lwk.conf"
    if sout=$(systemd-sysusers --root="$root" 2>&1) &&
        grep -q '^lwk:x:[0-9]*:[0-9]*:[^:]*:/var/lib/lwk:' "$root/etc/passwd"; then
        ok "lwk-sysusers.conf creates user lwk with home /var/lib/lwk"
    else
        not_ok "lwk-sysusers.conf"
        printf '%s\n' "$sout" | sed 's/^/#   /'
    fi
    lwk_uid=$(awk -F: '$1 == "lwk" { print $3 }' "$root/etc/passwd")
    if tout=$(systemd-tmpfiles --root="$root" --create 2>&1); then
        bad=""
        # path mode owner-uid (root is 0)
        while read -r path mode owner; do
            got=$(stat -c '%a %u' "$root$path" 2>/dev/null)
            [ "$got" = "$mode $owner" ] || bad="$bad [$path: '$got', want '$mode $owner']"
        done <<EOF
/etc/lwk 750 0
/var/lib/lwk 700 $lwk_uid
/var/lib/lwk/spool 700 $lwk_uid
/run/lwk 755 $lwk_uid
EOF
        if [ -z "$bad" ]; then
            ok "lwk-tmpfiles.conf creates /etc/lwk, /var/lib/lwk, its spool and /run/lwk"
        else
            not_ok "lwk-tmpfiles.conf:$bad"
        fi
    else
        not_ok "systemd-tmpfiles --create with lwk-tmpfiles.conf"
        printf '%s\n' "$tout" | sed 's/^/#   /'
    fi
fi

finish
