#!/usr/bin/env bash
# test.sh: the whole test suite, as CI runs it. Installs what is missing,
# builds (warnings are errors), starts a private PostgreSQL for the run, runs
# every test with ctest, then builds again with AddressSanitizer and
# UndefinedBehaviorSanitizer and runs every test once more.
#
# LWK_TEST_QUICK=1 skips the sanitizer pass (for a quick local loop).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/deps.sh

# One private cluster for the whole run; each test makes its own database.
pgdir=$(mktemp -d /tmp/lwk-test-pg.XXXXXX)
chmod 755 "$pgdir"
cleanup() { scripts/pg.sh stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$pgdir"; }
trap cleanup EXIT
eval "$(scripts/pg.sh start "$pgdir")"
export LWK_TEST_PG_SOCK=$LWK_PG_SOCK

status=0
run_suite() {
    local dir=$1; shift
    cmake -S . -B "$dir" -DLWK_WERROR=ON "$@" >/dev/null
    cmake --build "$dir" -j2 >/dev/null 2>"$dir.build.log" || { cat "$dir.build.log" >&2; return 1; }
    (cd "$dir" && ctest --output-on-failure --timeout 300) || return 1
}

echo "== tests (RelWithDebInfo) =="
run_suite build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo || status=1
if [ "${LWK_TEST_QUICK:-0}" != 1 ]; then
    echo "== tests under AddressSanitizer + UndefinedBehaviorSanitizer =="
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DLWK_SANITIZE=ON -DLWK_FUZZ=ON || status=1
fi
exit $status
