#!/usr/bin/env bash
# bench/healthz.sh - GET /healthz throughput: tee-worker against nginx, same run, same body.
#
# Both servers answer the same fixed 39-byte body, {"status":"ok","service":"tee-worker"} plus the
# newline Go's c.JSON writes (the worker's real /healthz), as application/json over keep-alive
# HTTP/1.1. wrk -t1 -c64 -d10s loads each in turn, alternating which goes first, ROUNDS times
# (after a short unmeasured warm-up of each); the script prints every round's req/s, the medians
# and the ratio worker/nginx of the medians. Target: >= 0.9. Each round also shows the server's
# CPU time per request (from /proc/PID/stat) and the CPU used meanwhile by neither server nor wrk
# ("other", % of one core): the machine is shared, so a disturbed round shows as such. Before each
# round the script waits (up to QUIET_WAIT s, default 120) for the CPUs to be under QUIET_BUSY %
# busy (default 10), and a round during which other work took more than DISTURBED % (default 20)
# of a core is run again (up to RETRIES times, default 3).
#
# Fairness: the same number of server threads on both sides. THREADS=1 (default): the worker's
# single MHD epoll thread (HTTP_THREADS=1, its default) against nginx worker_processes 1, each
# pinned to CPU 1 while wrk is pinned to CPU 0, so on this 2-core machine server and load
# generator never fight over a core. THREADS=2: HTTP_THREADS=2 against worker_processes 2, no
# pinning (wrk then shares the cores with the server, as a deployment would). nginx runs as a
# private instance: its own prefix, config, pid file and logs in a temp directory, daemon off,
# access log off, keepalive_requests raised so that, like MHD, it never closes a busy connection.
#
# Environment: THREADS (1), ROUNDS (3), DURATION (10s), CONNECTIONS (64), PIN (1 = pin when
# THREADS=1), QUIET_WAIT (120), QUIET_BUSY (10), DISTURBED (20), RETRIES (3),
# BUILD_DIR (/tmp/bench-build), NO_BUILD (1 = use the binaries already built).
source "$(dirname "$0")/common.sh"

THREADS=${THREADS:-1}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
PIN=${PIN:-1}

need_cmd nginx nginx nginx-light
need_cmd wrk wrk
need_cmd curl curl
bench_build

SERVER_CPUS="" WRK=(wrk)
if [ "$THREADS" = 1 ] && [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset > /dev/null; then
    SERVER_CPUS=1
    WRK=(taskset -c 0 wrk)
fi

# --- the worker
WPORT=$(free_port)
start_worker "$WPORT" "$SERVER_CPUS" HTTP_THREADS="$THREADS"

# --- nginx, private instance (bench/common.sh start_nginx)
NPORT=$(free_port)
start_nginx "$NPORT" "$THREADS" "$SERVER_CPUS"

WURL="http://127.0.0.1:$WPORT/healthz"
NURL="http://127.0.0.1:$NPORT/healthz"

# --- same answer from both, and both keep the connection open
describe() {
    local name=$1 url=$2 body ctype reuse
    body=$(curl -fsS "$url" | od -An -c | tr -s ' ' | tr -d '\n')
    ctype=$(curl -fsS -o /dev/null -w '%{content_type}' "$url")
    reuse=$(curl -sv -o /dev/null -o /dev/null "$url" "$url" 2>&1 | grep -ci 're-using existing connection' || true)
    printf '  %-10s body [%s ] (%s bytes), %s, keep-alive: %s\n' "$name" "$body" \
        "$(curl -fsS "$url" | wc -c)" "$ctype" "$([ "$reuse" -ge 1 ] && echo yes || echo NO)"
}
say "healthz bench: wrk -t1 -c$CONNECTIONS -d$DURATION, $ROUNDS rounds, $THREADS server thread(s) each," \
    "$([ -n "$SERVER_CPUS" ] && echo "servers pinned to CPU $SERVER_CPUS, wrk to CPU 0" || echo "no pinning")"
say "  tee-worker $("$WORKER_BIN" --version 2>/dev/null | awk '{print $2}') (pid $WORKER_PID, port $WPORT)," \
    "libmicrohttpd $(dpkg-query -W -f '${Version}' libmicrohttpd12 2>/dev/null || echo '?');" \
    "$(nginx -v 2>&1 | sed 's/^nginx version: //') (pid $NGINX_PID, port $NPORT)"
machine_note | sed 's/^/  /'
describe tee-worker "$WURL"
describe nginx "$NURL"

# ticks_of PID...: utime+stime of the processes, in clock ticks (fields 14 and 15 of /proc/PID/stat,
# counted after the ")" that closes the command name).
ticks_of() {
    local t=0 p v
    for p in "$@"; do
        v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }') || v=0
        t=$((t + ${v:-0}))
    done
    echo "$t"
}
# run_wrk NAME URL PID...: one wrk run against URL served by the processes PID...; prints
# "REQ_PER_S OTHER US_PER_REQ": OTHER is the CPU that neither the server nor wrk used meanwhile,
# in % of one core (other work on the machine, kernel threads), a sign of a disturbed round;
# US_PER_REQ is the server's CPU time per request in microseconds.
run_wrk() {
    local name=$1 url=$2; shift 2
    local out rps b0 b1 s0 s1 c t0 t1 TIMEFORMAT='%3U %3S'
    b0=$(busy_ticks); s0=$(ticks_of "$@"); t0=$(date +%s%N)
    { time "${WRK[@]}" -t1 -c"$CONNECTIONS" -d"$DURATION" "$url" > "$BENCH_TMP/wrk.out" 2>&1; } \
        2> "$BENCH_TMP/wrk.time"
    t1=$(date +%s%N); s1=$(ticks_of "$@"); b1=$(busy_ticks)
    out=$(cat "$BENCH_TMP/wrk.out")
    c=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", ($1 + $2) * hz + 0.5 }' "$BENCH_TMP/wrk.time")
    rps=$(awk '/^Requests\/sec:/ { print $2 }' <<< "$out")
    [ -n "$rps" ] || { printf '%s\n' "$out" >&2; die "wrk against $name printed no Requests/sec"; }
    grep -E 'Non-2xx|Socket errors' <<< "$out" | sed "s/^/  $name: /" >&2 || true
    awk -v r="$rps" -v b=$((b1 - b0)) -v s=$((s1 - s0)) -v c="$c" -v ns=$((t1 - t0)) \
        -v hz="$(getconf CLK_TCK)" 'BEGIN { o = b - s - c; if (o < 0) o = 0
            secs = ns / 1e9
            printf "%s %.0f %.2f\n", r, 100 * o / (secs * hz), s / hz * 1e6 / (r * secs) }'
}

say "  warm-up (2 s each, not counted)"
DURATION_SAVED=$DURATION DURATION=2s
run_wrk tee-worker "$WURL" "$WORKER_PID" > /dev/null
run_wrk nginx "$NURL" $NGINX_PIDS > /dev/null
DURATION=$DURATION_SAVED

W_ALL=() N_ALL=() WCPU_ALL=() NCPU_ALL=()
# A round in which other work took more than DISTURBED % of a core during either half is run
# again, up to RETRIES times; the last try counts, marked "(disturbed)" if it still was.
DISTURBED=${DISTURBED:-20}
RETRIES=${RETRIES:-3}
for r in $(seq "$ROUNDS"); do
    for try in $(seq 0 "$RETRIES"); do
        wait_quiet
        if [ $((r % 2)) = 1 ]; then
            wo=$(run_wrk tee-worker "$WURL" "$WORKER_PID"); no=$(run_wrk nginx "$NURL" $NGINX_PIDS)
        else
            no=$(run_wrk nginx "$NURL" $NGINX_PIDS); wo=$(run_wrk tee-worker "$WURL" "$WORKER_PID")
        fi
        read -r w wother wcpu <<< "$wo"
        read -r n nother ncpu <<< "$no"
        note=""
        if [ "$wother" -gt "$DISTURBED" ] || [ "$nother" -gt "$DISTURBED" ]; then
            note=" (disturbed)"
            if [ "$try" -lt "$RETRIES" ]; then
                printf '  round %d: disturbed by other work (other CPU %s%% / %s%%), running it again\n' \
                    "$r" "$wother" "$nother"
                continue
            fi
        fi
        break
    done
    W_ALL+=("$w") N_ALL+=("$n") WCPU_ALL+=("$wcpu") NCPU_ALL+=("$ncpu")
    printf '  round %d: tee-worker %7.0f req/s %5.2f us/req (other %3s%%) | nginx %7.0f req/s %5.2f us/req (other %3s%%) | ratio %.3f%s\n' \
        "$r" "$w" "$wcpu" "$wother" "$n" "$ncpu" "$nother" "$(awk -v a="$w" -v b="$n" 'BEGIN { print a / b }')" "$note"
done
WMED=$(printf '%s\n' "${W_ALL[@]}" | median)
NMED=$(printf '%s\n' "${N_ALL[@]}" | median)
RATIO=$(awk -v a="$WMED" -v b="$NMED" 'BEGIN { printf "%.3f", a / b }')
WCPUMED=$(printf '%s\n' "${WCPU_ALL[@]}" | median)
NCPUMED=$(printf '%s\n' "${NCPU_ALL[@]}" | median)
printf '  median:  tee-worker %7.0f req/s %5.2f us/req              | nginx %7.0f req/s %5.2f us/req\n' \
    "$WMED" "$WCPUMED" "$NMED" "$NCPUMED"
say "  server CPU per request, nginx/worker (median): $(awk -v a="$WCPUMED" -v b="$NCPUMED" 'BEGIN { printf "%.3f", b / a }') (>= 1: the worker spends less)"
VERDICT=$(awk -v r="$RATIO" 'BEGIN { print (r >= 0.9 ? "meets" : "MISSES") }')
say "RATIO worker/nginx (median) = $RATIO  (target >= 0.9: $VERDICT)"
