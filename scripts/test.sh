#!/usr/bin/env bash
# test.sh - build and run the whole test suite: every unit and end-to-end test under ASan+UBSan,
# then the unit tests and the fast end-to-end tests (under ~30 s each there) again under valgrind
# (memcheck, leaks are errors; tests/valgrind.supp holds the system libraries' false positives),
# then every libFuzzer target for 15 s (clang; see README "Fuzzing"). Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh test || exit 1

fail_setup() { echo "$1"; echo "0 passed, 1 failed"; exit 1; }

asan=build-test-asan
vg=build-test-valgrind
[ -d "$asan" ] || meson setup "$asan" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || fail_setup "meson setup failed"
[ -d "$vg" ] || meson setup "$vg" >/dev/null || fail_setup "meson setup failed"
ninja -C "$asan" >/dev/null || { ninja -C "$asan" | tail -30; fail_setup "build failed (sanitizers)"; }
ninja -C "$vg" >/dev/null || { ninja -C "$vg" | tail -30; fail_setup "build failed"; }

meson test -C "$asan" --print-errorlogs --num-processes 2
meson test -C "$vg" --suite unit --print-errorlogs --num-processes 2 \
    --wrap='valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-origins=no' \
    --test-args='' --timeout-multiplier 4
# Only the fast ones (seconds under valgrind, 2 shared cores, measured 2026-11-26): flow 20, ring 28,
# bad_input 19, auth 5-11, config_errors 24-25 (2026-11-27), metrics 10-13, pprof 10, lazy_libs 9, twitter_apify
# 12-20. The others pass too (TW_VALGRIND=1 meson test e2e_<name>) but take longer (measured
# 2026-11-27, two at a time): web 49-56, tiktok 64-68, tiktok_search 14, reddit 28, twitter_api
# 42-46, twitter_credential 86-100, cli 70-89, durability 93, shutdown 40, request_deadline 58,
# answer_budget 10, enclave 30, renewal_stalled 15, fleet 205-220, redis_lookup_bound 11,
# redis_status_budget 32, redis_stream_oversize 46 s.
TW_VALGRIND=1 meson test -C "$vg" e2e_flow e2e_ring e2e_bad_input e2e_auth e2e_config_errors \
    e2e_metrics e2e_pprof e2e_lazy_libs e2e_twitter_apify --logbase e2e-valgrind \
    --print-errorlogs --num-processes 2 --timeout-multiplier 3
# The libFuzzer targets (clang, tests/fuzz): each fuzzes 15 s from its seeds, one test each.
fz=build-test-fuzz
fuzz_logs=()
[ -d "$fz" ] || CC=clang meson setup "$fz" -Dfuzz=true -Dtests=false -Db_sanitize=address,undefined \
    -Db_lundef=false >/dev/null
if ninja -C "$fz" >/dev/null; then
    fuzz_build_ok=1
    meson test -C "$fz" --suite fuzz --print-errorlogs --num-processes 2
    fuzz_logs=("$fz/meson-logs/testlog.json")
else
    ninja -C "$fz" | tail -20
    fuzz_build_ok=0
fi
# The release build (what scripts/run.sh runs) must compile warning-free at -O3 too.
rel=build-test-release
[ -d "$rel" ] || meson setup "$rel" --buildtype=release -Dtests=false >/dev/null
if ninja -C "$rel" >/dev/null; then release_ok=1; else ninja -C "$rel" | tail -20; release_ok=0; fi
python3 scripts/test_summary.py --extra "release build" "$release_ok" --extra "fuzz build" "$fuzz_build_ok" \
    "$asan/meson-logs/testlog.json" "$vg/meson-logs/testlog-valgrind.json" "$vg/meson-logs/e2e-valgrind.json" \
    "${fuzz_logs[@]}"
