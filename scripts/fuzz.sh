#!/usr/bin/env bash
# fuzz.sh - build the libFuzzer targets (tests/fuzz, clang + ASan + UBSan) and fuzz each one for a
# bounded time, starting from a scratch copy of its seed corpus (the seeds in the repository are
# never written). Prints one line per target and exits non-zero when any target crashed, leaked or
# tripped a sanitizer; the reproducer is kept as build-fuzz/fuzz-out/<target>/crash-*.
#
# Usage: scripts/fuzz.sh [seconds-per-target] [target...]
#   scripts/fuzz.sh             20 s each (CI runs 15 s each through meson test --suite fuzz)
#   scripts/fuzz.sh 600         a longer run: 10 minutes each
#   scripts/fuzz.sh 600 job     one target
# Reproduce a crash: build-fuzz/tests/fuzz/fuzz_<target> build-fuzz/fuzz-out/<target>/crash-...
# The scratch corpora stay in build-fuzz/fuzz-out/<target>/corpus; a later run starts from them too.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh test || exit 1

seconds="${1:-20}"
shift || true
dir=build-fuzz
if [ ! -d "$dir" ]; then
    CC=clang meson setup "$dir" -Dfuzz=true -Dtests=false -Db_sanitize=address,undefined \
        -Db_lundef=false >/dev/null || { echo "meson setup failed"; exit 1; }
fi
ninja -C "$dir" >/dev/null || { ninja -C "$dir" | tail -30; echo "build failed"; exit 1; }

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for exe in "$dir"/tests/fuzz/fuzz_*; do
        [ -x "$exe" ] && [ -f "$exe" ] && targets+=("${exe##*/fuzz_}")
    done
fi

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
failed=0
for t in "${targets[@]}"; do
    exe="$dir/tests/fuzz/fuzz_$t"
    out="$dir/fuzz-out/$t"
    mkdir -p "$out/corpus"
    cp -n tests/fuzz/corpus/"$t"/* "$out/corpus/" 2>/dev/null
    rm -f "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-*
    "$exe" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=25 -detect_leaks=1 \
        -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" >"$out/log" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log")
        echo "ok     fuzz_$t: ${runs:-?} runs in ${seconds}s, corpus $(ls "$out/corpus" | wc -l) inputs"
    else
        failed=$((failed + 1))
        summary=$(grep -m1 -E '^SUMMARY|ERROR:' "$out/log")
        echo "FAILED fuzz_$t: ${summary:-exit $rc} (log $out/log, input $(ls "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* 2>/dev/null | head -1))"
    fi
done
[ "$failed" -eq 0 ]
