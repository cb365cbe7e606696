#!/usr/bin/env bash
# bench/fleet.sh - fleet mode: the four-step job flow against one, two and three workers sharing a
# Redis store, and against one worker on its SQLite store, in the same run.
#
# Starts a private redis-server (Debian package; loopback, temp dir, appendonly yes, appendfsync
# always: the persistence README asks for) and release tee-workers (standalone, LOG_LEVEL=error,
# defaults otherwise; the Redis ones with STORE_URL and one shared SEALING_KEYS_FILE). For each
# configuration pipeline-bench runs WARMUP unmeasured then JOBS measured jobs with CLIENTS client
# threads spread over the workers' ports (client i keeps a connection to worker i mod n; a job is
# generated, added and polled on that worker and runs on whichever worker takes it). CPU per job
# is utime+stime from /proc/PID/stat of every worker, and of redis-server, over the measured run.
# Prints jobs/s, latency, CPU per job and the ratios to the SQLite worker and to one Redis worker.
# Redis is flushed between configurations. Nothing is pinned: on a 2-core machine the load
# generator, the workers and redis-server share the cores (see bench/README.md for what that means).
#
# Environment: CLIENTS (16), WARMUP (1000), JOBS (10000), BUILD_DIR (/tmp/bench-build),
# NO_BUILD (1 = use the binaries already built), QUIET_WAIT (60), QUIET_BUSY (10).
source "$(dirname "$0")/common.sh"

CLIENTS=${CLIENTS:-16}
WARMUP=${WARMUP:-1000}
JOBS=${JOBS:-10000}
QUIET_WAIT=${QUIET_WAIT:-60}

need_cmd curl curl
need_cmd redis-server redis-server
bench_build
[ -x "$PIPELINE_BIN" ] || die "no $PIPELINE_BIN after the build"

# ---- redis-server ---------------------------------------------------------------------------
REDIS_PORT=$(free_port)
mkdir -p "$BENCH_TMP/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$BENCH_TMP/redis" --appendonly yes \
    --appendfsync always --save "" --daemonize no --logfile "$BENCH_TMP/redis/log" &
REDIS_PID=$!
BENCH_PIDS+=("$REDIS_PID")
redis_cmd() { python3 - "$REDIS_PORT" "$@" <<'PY'
import socket, sys
port, args = int(sys.argv[1]), sys.argv[2:]
out = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args)
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(out)
print(s.recv(4096).decode(errors="replace").strip())
PY
}
for _ in $(seq 100); do
    [ "$(redis_cmd PING 2>/dev/null)" = "+PONG" ] && break
    sleep 0.05
done
[ "$(redis_cmd PING 2>/dev/null)" = "+PONG" ] || die "redis-server did not start"

KEYS_FILE="$BENCH_TMP/sealing-keys"
(umask 077; python3 -c 'import os; print(os.urandom(32).hex())' > "$KEYS_FILE")

# ---- helpers ----------------------------------------------------------------------------------
# cpu_ticks PID...: utime+stime of the processes, summed, in clock ticks.
cpu_ticks() {
    local total=0 pid t
    for pid in "$@"; do
        t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat")
        total=$((total + t))
    done
    echo "$total"
}

stop_pid() {
    kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    wait "$1" 2>/dev/null || true
}

HZ=$(getconf CLK_TCK)
declare -A JPS P50 P99 WCPU RCPU
run_config() {   # NAME STORE(sqlite|redis) WORKERS
    local name=$1 store=$2 n=$3 ports=() pids=() i port extra=()
    [ "$store" = redis ] && { redis_cmd FLUSHALL > /dev/null; extra=(STORE_URL="redis://127.0.0.1:$REDIS_PORT/0" SEALING_KEYS_FILE="$KEYS_FILE"); }
    for i in $(seq "$n"); do
        port=$(free_port)
        start_worker "$port" "" "${extra[@]+"${extra[@]}"}"
        ports+=("$port")
        pids+=("$WORKER_PID")
    done
    local list
    list=$(IFS=,; echo "${ports[*]}")
    "$PIPELINE_BIN" --port "$list" --clients "$CLIENTS" --jobs "$WARMUP" --quiet > /dev/null ||
        die "$name: warm-up failed"
    wait_quiet
    local w0 r0 w1 r1 out
    w0=$(cpu_ticks "${pids[@]}")
    r0=$(cpu_ticks "$REDIS_PID")
    out=$("$PIPELINE_BIN" --port "$list" --clients "$CLIENTS" --jobs "$JOBS" --quiet) ||
        { printf '%s\n' "$out"; die "$name: measured run failed"; }
    w1=$(cpu_ticks "${pids[@]}")
    r1=$(cpu_ticks "$REDIS_PID")
    field() { tr ' ' '\n' <<< "$out" | awk -F= -v k="$1" '$1 == k { print $2 }'; }
    JPS[$name]=$(field jobs_per_s)
    P50[$name]=$(field p50_ms)
    P99[$name]=$(field p99_ms)
    WCPU[$name]=$(awk -v d=$((w1 - w0)) -v hz="$HZ" -v n="$JOBS" 'BEGIN { printf "%.0f", d * 1e6 / hz / n }')
    RCPU[$name]=0
    [ "$store" = redis ] && RCPU[$name]=$(awk -v d=$((r1 - r0)) -v hz="$HZ" -v n="$JOBS" 'BEGIN { printf "%.0f", d * 1e6 / hz / n }')
    printf '  %-10s %2d worker(s)  %7.0f jobs/s  p50 %6.2f ms  p99 %7.2f ms  CPU/job: workers %4d us + redis %3d us = %4d us\n' \
        "$name" "$n" "${JPS[$name]}" "${P50[$name]}" "${P99[$name]}" "${WCPU[$name]}" "${RCPU[$name]}" \
        $((WCPU[$name] + RCPU[$name]))
    for i in "${pids[@]}"; do stop_pid "$i"; done
}

say "fleet bench: tee-worker $("$WORKER_BIN" --version 2>/dev/null | awk '{print $2}') (release)," \
    "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') (appendfsync always)," \
    "$CLIENTS clients, $WARMUP warm-up + $JOBS measured jobs per configuration, $(nproc) cores," \
    "$(date -u +%Y-%m-%dT%H:%MZ)"
machine_note
run_config sqlite-1 sqlite 1
run_config redis-1 redis 1
run_config redis-2 redis 2
run_config redis-3 redis 3

say "--- ratios"
for c in redis-1 redis-2 redis-3; do
    awk -v c="$c" -v j="${JPS[$c]}" -v s="${JPS[sqlite-1]}" -v r="${JPS[redis-1]}" \
        -v cw="$((WCPU[$c] + RCPU[$c]))" -v cs="${WCPU[sqlite-1]}" \
        'BEGIN { printf "  %-8s jobs/s %.2fx sqlite-1, %.2fx redis-1; CPU/job %.2fx sqlite-1\n", c, j / s, j / r, cw / cs }'
done
