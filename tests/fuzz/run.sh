#!/usr/bin/env bash
# run.sh: builds the decoder fuzzer with clang (libFuzzer, ASan, UBSan) into
# OUTDIR and runs it for SECONDS (0: until stopped) from the seed corpus in
# tests/fuzz/corpus. Exits non-zero on any crash, leak or failed check; 77
# (skipped) when clang or libFuzzer is missing.
#
#   tests/fuzz/run.sh OUTDIR [SECONDS] [extra libFuzzer options...]
#   tests/fuzz/run.sh build/fuzz 3600 -jobs=2 -workers=2
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: run.sh OUTDIR [SECONDS] [libFuzzer options]}
secs=${2:-60}
shift $(( $# >= 2 ? 2 : 1 ))
mkdir -p "$out/corpus" "$out/artifacts"

cc=${CLANG:-$(command -v clang || command -v clang-14 || true)}
if [ -z "$cc" ]; then
    echo "run.sh: clang not found (apt-get install clang libclang-rt-14-dev): skipped" >&2
    exit 77
fi
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' |
        "$cc" -x c - -fsanitize=fuzzer -o "$out/.probe" 2>/dev/null; then
    echo "run.sh: $cc cannot link libFuzzer (apt-get install libclang-rt-14-dev): skipped" >&2
    exit 77
fi
rm -f "$out/.probe"

# shellcheck disable=SC2046
"$cc" -std=c11 -g -O1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
    -I"$src/proto" -I"$src/tests/unit" \
    "$src/tests/fuzz/fuzz_decode.c" "$src/proto/msg.c" "$src/proto/frame.c" \
    "$src/tests/unit/proto_gen.c" \
    $(pkg-config --cflags --libs msgpack) \
    -o "$out/fuzz_decode"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}:abort_on_error=0
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# New inputs go to the build directory's corpus; the committed seeds are read only.
exec "$out/fuzz_decode" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -max_len=16384 -print_final_stats=1 -artifact_prefix="$out/artifacts/" \
    "$@" "$out/corpus" "$src/tests/fuzz/corpus"
