#!/usr/bin/env bash
# deps.sh: install the Debian 12 packages lwk needs to build, run and test,
# only those that are missing. Works as root or through sudo.
set -euo pipefail

PKGS=(
    build-essential cmake pkg-config git
    libuv1-dev libmsgpack-dev libpq-dev libssl-dev libncurses-dev libedit-dev
    libsystemd-dev libcmocka-dev gettext zlib1g-dev
    postgresql-15 postgresql-client-15
    python3 python3-msgpack tmux clang libclang-rt-14-dev systemd locales
    chromium  # the HTML report test renders in headless Chromium (issue 9)
)

missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
ensure_locale() {
    # Dutch is the users' language: the clients' tests run with nl_NL.UTF-8.
    if ! locale -a 2>/dev/null | grep -qi '^nl_NL\.utf-\?8$'; then
        "${SUDO[@]}" sed -i 's/^# *nl_NL.UTF-8 UTF-8/nl_NL.UTF-8 UTF-8/' /etc/locale.gen
        grep -q '^nl_NL.UTF-8 UTF-8' /etc/locale.gen || echo 'nl_NL.UTF-8 UTF-8' | "${SUDO[@]}" tee -a /etc/locale.gen >/dev/null
        "${SUDO[@]}" locale-gen >/dev/null
    fi
}
if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
if [ ${#missing[@]} -eq 0 ]; then
    ensure_locale
    exit 0
fi

echo "deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
    echo "deps: missing packages (${missing[*]}) and not root, no sudo" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
ensure_locale
