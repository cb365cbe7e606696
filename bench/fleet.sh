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
# Two durability levels, each against its peer: SQLite DURABILITY=normal (no fsync per commit;
# survives a crash of the process) against Redis appendfsync everysec (the same: a Redis crash
# loses nothing written, a power loss up to ~1 s), then SQLite DURABILITY=full (fsync per commit)
# against Redis appendfsync always (fsync before every reply; CONFIG SET between the two halves).
#
# Environment: CLIENTS (16), WARMUP (500), JOBS (3000), BUILD_DIR (/tmp/bench-build),
# NO_BUILD (1 = use the binaries already built), QUIET_WAIT (5), QUIET_BUSY (10).
source "$(dirname "$0")/common.sh"

CLIENTS=${CLIENTS:-16}
WARMUP=${WARMUP:-500}
JOBS=${JOBS:-3000}
QUIET_WAIT=${QUIET_WAIT:-5}

need_cmd curl curl
need_cmd redis-server redis-server
bench_build
[ -x "$PIPELINE_BIN" ] || die "no $PIPELINE_BIN after the build"

# ---- redis-server (appendonly yes; appendfsync set per half below) ---------------------------------------------------------------------------
REDIS_PORT=$(free_port)
mkdir -p "$BENCH_TMP/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$BENCH_TMP/redis" --appendonly yes \
    --appendfsync everysec --save "" --daemonize no --logfile "$BENCH_TMP/redis/log" &
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
declare -A JPS P50 P99 WCPU RCPU POLLS
run_config() {   # NAME STORE(sqlite|redis) WORKERS [VAR=VALUE...]
    local name=$1 store=$2 n=$3 ports=() pids=() i port extra=()
    shift 3
    extra=("$@")
    [ "$store" = redis ] && { redis_cmd FLUSHALL > /dev/null; extra+=(STORE_URL="redis://127.0.0.1:$REDIS_PORT/0" SEALING_KEYS_FILE="$KEYS_FILE"); }
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
    POLLS[$name]=$(field polls_per_job)
    P50[$name]=$(field p50_ms)
    P99[$name]=$(field p99_ms)
    WCPU[$name]=$(awk -v d=$((w1 - w0)) -v hz="$HZ" -v n="$JOBS" 'BEGIN { printf "%.0f", d * 1e6 / hz / n }')
    RCPU[$name]=0
    [ "$store" = redis ] && RCPU[$name]=$(awk -v d=$((r1 - r0)) -v hz="$HZ" -v n="$JOBS" 'BEGIN { printf "%.0f", d * 1e6 / hz / n }')
    printf '  %-16s %d worker(s) %6.0f jobs/s  p50 %6.2f ms  p99 %7.2f ms  %5.1f polls/job  CPU/job: workers %4d us + redis %3d us = %4d us\n' \
        "$name" "$n" "${JPS[$name]}" "${P50[$name]}" "${P99[$name]}" "${POLLS[$name]}" "${WCPU[$name]}" \
        "${RCPU[$name]}" "$(( ${WCPU[$name]} + ${RCPU[$name]} ))"
    for i in "${pids[@]}"; do stop_pid "$i"; done
}

say "fleet bench: tee-worker $("$WORKER_BIN" --version 2>/dev/null | awk '{print $2}') (release)," \
    "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')," \
    "$CLIENTS clients, $WARMUP warm-up + $JOBS measured jobs per configuration, $(nproc) cores," \
    "$(date -u +%Y-%m-%dT%H:%MZ)"
machine_note
ratios() {   # SQLITE REDIS1 REDIS...
    local sq=$1 r1=$2 c
    shift 2
    for c in "$r1" "$@"; do
        awk -v c="$c" -v j="${JPS[$c]}" -v s="${JPS[$sq]}" -v r="${JPS[$r1]}" \
            -v cw="$(( ${WCPU[$c]} + ${RCPU[$c]} ))" -v cs="${WCPU[$sq]}" -v sq="$sq" -v r1="$r1" \
            'BEGIN { printf "  %-16s jobs/s %.2fx %s, %.2fx %s; CPU/job %.2fx %s\n", c, j / s, sq, j / r, r1, cw / cs, sq }'
    done
}

say "--- no fsync per write: SQLite DURABILITY=normal, Redis appendfsync everysec"
redis_cmd CONFIG SET appendfsync everysec > /dev/null
run_config sqlite-normal sqlite 1
run_config redis-everysec-1 redis 1
run_config redis-everysec-2 redis 2
run_config redis-everysec-3 redis 3
say "--- fsync before every answer: SQLite DURABILITY=full, Redis appendfsync always"
redis_cmd CONFIG SET appendfsync always > /dev/null
run_config sqlite-full sqlite 1 DURABILITY=full
run_config redis-always-1 redis 1
run_config redis-always-2 redis 2
run_config redis-always-3 redis 3

say "--- ratios"
ratios sqlite-normal redis-everysec-1 redis-everysec-2 redis-everysec-3
ratios sqlite-full redis-always-1 redis-always-2 redis-always-3
