#!/usr/bin/env bash
# bench/ab.sh - two tee-worker binaries head to head on the four-step job flow, same run.
#
#   bash bench/ab.sh OLD_BUILD_DIR NEW_BUILD_DIR          # e.g. a release build of main~3 and of main
#
# For each of ROUNDS rounds (default 4), alternating which goes first: a fresh worker of each
# binary (standalone, fresh DATA_DIR, LOG_LEVEL=error, EXTRA_ENV="VAR=VALUE ..." added to both),
# WARMUP jobs unmeasured, then JOBS jobs through NEW_BUILD_DIR's pipeline-bench with CLIENTS client
# threads. Prints each round's server CPU per job (user + sys), jobs/s and p99, the medians, and
# RATIO new/old of the CPU per job (< 1: the new binary spends less). Each side waits for a quiet
# machine first (QUIET_WAIT, QUIET_BUSY as common.sh). LAYOUT (shared, loop or pinned: common.sh
# set_layout; shared by default) places both workers alike. This is how the per-change figures in
# bench/README.md were measured; shorter than pipeline.sh, so compare ratios, not absolute figures.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 OLD_BUILD_DIR NEW_BUILD_DIR" >&2; exit 2; }
OLD_DIR=$(cd "$1" && pwd)
NEW_DIR=$(cd "$2" && pwd)
source "$(dirname "$0")/common.sh"

ROUNDS=${ROUNDS:-4}
WARMUP=${WARMUP:-2000}
JOBS=${JOBS:-20000}
CLIENTS=${CLIENTS:-16}
LAYOUT=${LAYOUT:-shared}
set_layout "$LAYOUT"
read -r -a EXTRA <<< "${EXTRA_ENV:-}"
PIPELINE_BIN="$NEW_DIR/bench/pipeline-bench"
for d in "$OLD_DIR" "$NEW_DIR"; do
    [ -x "$d/tee-worker" ] || die "no $d/tee-worker (build it first: meson setup DIR --buildtype=release -Dtests=false)"
done
[ -x "$PIPELINE_BIN" ] || die "no $PIPELINE_BIN"
need_cmd curl curl

field() { tr ' ' '\n' <<< "$1" | awk -F= -v k="$2" '$1 == k { print $2 }'; }

# measure DIR: one fresh worker of DIR's binary; prints "cpu user sys jobs_per_s p99_ms".
measure() {
    WORKER_BIN="$1/tee-worker"
    local port
    port=$(free_port)
    start_worker "$port" "$SERVER_CPUS" ${LAYOUT_SETTINGS[@]+"${LAYOUT_SETTINGS[@]}"} \
        ${EXTRA[@]+"${EXTRA[@]}"}
    ${GEN_PIN[@]+"${GEN_PIN[@]}"} "$PIPELINE_BIN" --port "$port" --clients "$CLIENTS" --jobs "$WARMUP" > /dev/null ||
        die "warm-up failed against $1"
    wait_quiet
    local out r
    out=$(${GEN_PIN[@]+"${GEN_PIN[@]}"} "$PIPELINE_BIN" --port "$port" --clients "$CLIENTS" --jobs "$JOBS" --pid "$WORKER_PID") ||
        die "measured run failed against $1"
    stop_worker "$WORKER_PID"
    r=$(grep '^RESULT' <<< "$out")
    echo "$(field "$r" server_cpu_us_per_job) $(field "$r" server_user_us_per_job)" \
         "$(field "$r" server_sys_us_per_job) $(field "$r" jobs_per_s) $(field "$r" p99_ms)"
}

say "ab: old $OLD_DIR/tee-worker, new $NEW_DIR/tee-worker; $ROUNDS rounds of $JOBS jobs" \
    "($WARMUP warm-up), $CLIENTS clients, layout $LAYOUT${EXTRA_ENV:+, $EXTRA_ENV}; $(date -u +%Y-%m-%dT%H:%MZ)"
machine_note
: > "$BENCH_TMP/old" && : > "$BENCH_TMP/new"
for round in $(seq "$ROUNDS"); do
    order=(old new)
    [ $((round % 2)) -eq 0 ] && order=(new old)
    for side in "${order[@]}"; do
        dir=$OLD_DIR
        [ "$side" = new ] && dir=$NEW_DIR
        m=$(measure "$dir")
        echo "$m" >> "$BENCH_TMP/$side"
        read -r cpu user sys jps p99 <<< "$m"
        printf '  round %d %-3s  %7.1f us/job (user %6.1f + sys %6.1f)  %7.1f jobs/s  p99 %6.2f ms\n' \
            "$round" "$side" "$cpu" "$user" "$sys" "$jps" "$p99"
    done
done
OLD_CPU=$(awk '{ print $1 }' "$BENCH_TMP/old" | median)
NEW_CPU=$(awk '{ print $1 }' "$BENCH_TMP/new" | median)
OLD_JPS=$(awk '{ print $4 }' "$BENCH_TMP/old" | median)
NEW_JPS=$(awk '{ print $4 }' "$BENCH_TMP/new" | median)
printf 'median: old %.1f us/job %.0f jobs/s | new %.1f us/job %.0f jobs/s\n' \
    "$OLD_CPU" "$OLD_JPS" "$NEW_CPU" "$NEW_JPS"
awk -v o="$OLD_CPU" -v n="$NEW_CPU" -v oj="$OLD_JPS" -v nj="$NEW_JPS" \
    'BEGIN { printf "RATIO new/old CPU per job (median) = %.3f; jobs/s new/old = %.3f\n", n / o, nj / oj }'
