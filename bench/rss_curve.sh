#!/usr/bin/env bash
# bench/rss_curve.sh - memory stays flat as jobs go through: VmRSS and the store's size every STEP
# jobs up to TOTAL telemetry jobs through the full four-step pipeline, default settings.
#
# Target (issue 3): VmRSS within 10% between 100k and 1M jobs; the database bounded by the result
# cache and the nonce age (nonces live JOB_SIGNATURE_MAX_AGE_SECONDS, 24 h by default, so during a
# run shorter than that the nonce table grows by design; its size per nonce is printed).
# Environment: TOTAL (1000000), STEP (100000), CLIENTS (16), BUILD_DIR, NO_BUILD as common.sh.
source "$(dirname "$0")/common.sh"

TOTAL=${TOTAL:-1000000}
STEP=${STEP:-100000}
CLIENTS=${CLIENTS:-16}

need_cmd curl curl
bench_build
PORT=$(free_port)
start_worker "$PORT" ""
DB="$BENCH_TMP/worker-$PORT/data/tee-worker.db"
say "jobs        VmRSS kB   anon kB   db+wal kB   jobs/s"
say "0           $(rss_kb "$WORKER_PID")"
done_jobs=0
first_rss=""
while [ "$done_jobs" -lt "$TOTAL" ]; do
    start=$(date +%s.%N)
    "$PIPELINE_BIN" --port "$PORT" --jobs "$STEP" --clients "$CLIENTS" --pid "$WORKER_PID" --quiet \
        > /dev/null || die "pipeline-bench failed"
    end=$(date +%s.%N)
    done_jobs=$((done_jobs + STEP))
    rss=$(rss_kb "$WORKER_PID")
    anon=$(awk '/^RssAnon:/ { print $2 }' "/proc/$WORKER_PID/status")
    db=$(du -k -c "$DB"* 2>/dev/null | tail -1 | cut -f1)
    rate=$(awk -v n="$STEP" -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", n / (b - a) }')
    printf '%-11s %-10s %-9s %-11s %s\n' "$done_jobs" "$rss" "$anon" "$db" "$rate"
    [ "$done_jobs" -eq "$STEP" ] && first_rss=$rss
done
awk -v a="$first_rss" -v b="$rss" -v s="$STEP" -v t="$TOTAL" 'BEGIN {
    g = (b - a) * 100 / a
    printf "VmRSS %d kB after %d jobs, %d kB after %d: %+.1f%% (target within 10%%): %s\n",
           a, s, b, t, g, (g <= 10 && g >= -10) ? "MET" : "MISSED" }'
