# bench/common.sh - shared helpers for the bench scripts (sourced, not run).
#
# Builds the release tree, finds free loopback ports, starts a tee-worker in a clean environment
# (only the variables a script passes, a fresh DATA_DIR, run from that directory so no stray .env
# is read), waits for it, and cleans up on exit: only the processes these scripts started are
# stopped, by their pid. Everything temporary lives under one mktemp directory.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
BUILD_DIR=${BUILD_DIR:-/tmp/bench-build}
BENCH_TMP=$(mktemp -d /tmp/tw-bench.XXXXXX)
BENCH_PIDS=()

bench_cleanup() {
    local pid
    for pid in "${BENCH_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${BENCH_PIDS[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$BENCH_TMP"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# bench_build: release build in $BUILD_DIR (reused when present); tee-worker and pipeline-bench.
# Reconfigures once when the first try fails: the top-level meson.build lists the sources that
# exist at configure time, so files added since need a reconfigure. NO_BUILD=1 skips building and
# uses the binaries already in $BUILD_DIR (say, while the tree is mid-edit and does not compile).
bench_build() {
    WORKER_BIN="$BUILD_DIR/tee-worker"
    PIPELINE_BIN="$BUILD_DIR/bench/pipeline-bench"
    if [ "${NO_BUILD:-0}" = 1 ]; then
        [ -x "$WORKER_BIN" ] || die "NO_BUILD=1 but no $WORKER_BIN"
        say "NO_BUILD=1: using $WORKER_BIN as built $(date -u -r "$WORKER_BIN" +%Y-%m-%dT%H:%MZ)"
        return 0
    fi
    if [ ! -f "$BUILD_DIR/build.ninja" ]; then
        (cd "$REPO_DIR" && meson setup "$BUILD_DIR" --buildtype=release -Dtests=false) \
            > "$BENCH_TMP/meson-setup.log" 2>&1 || { cat "$BENCH_TMP/meson-setup.log" >&2; die "meson setup failed"; }
    fi
    if ! ninja -C "$BUILD_DIR" > "$BENCH_TMP/ninja.log" 2>&1; then
        (cd "$REPO_DIR" && meson setup --reconfigure "$BUILD_DIR" --buildtype=release -Dtests=false) \
            > "$BENCH_TMP/meson-setup.log" 2>&1 || { cat "$BENCH_TMP/meson-setup.log" >&2; die "meson reconfigure failed"; }
        ninja -C "$BUILD_DIR" > "$BENCH_TMP/ninja.log" 2>&1 || { tail -30 "$BENCH_TMP/ninja.log" >&2; die "build failed"; }
    fi
    local bt
    bt=$(meson introspect --buildoptions "$BUILD_DIR" 2>/dev/null |
         python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"))' 2>/dev/null || echo unknown)
    [ "$bt" = release ] || say "warning: $BUILD_DIR has buildtype=$bt, not release"
    [ -x "$WORKER_BIN" ] || die "no $WORKER_BIN after the build"
}

# free_port: prints a TCP port free on 127.0.0.1 right now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# need_cmd CMD PACKAGE...: installs the first Debian package that provides CMD when it is missing.
need_cmd() {
    local cmd=$1; shift
    command -v "$cmd" > /dev/null 2>&1 && return 0
    say "installing $* for $cmd"
    local pkg
    for pkg in "$@"; do
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" > "$BENCH_TMP/apt.log" 2>&1 ||
            { apt-get update -q > /dev/null 2>&1 &&
              DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" > "$BENCH_TMP/apt.log" 2>&1; } || true
        command -v "$cmd" > /dev/null 2>&1 && return 0
    done
    die "cannot install $cmd (tried: $*)"
}

# wait_http URL [SECONDS]: waits until URL answers 200.
wait_http() {
    local url=$1 secs=${2:-10} i
    for i in $(seq $((secs * 20))); do
        curl -fsS -o /dev/null "$url" 2> /dev/null && return 0
        sleep 0.05
    done
    return 1
}

# start_worker PORT [CPU_LIST] [VAR=VALUE...]: starts tee-worker on 127.0.0.1:PORT with a fresh
# DATA_DIR, STANDALONE=true, LOG_LEVEL=error and nothing else from the caller's environment
# except the extra VAR=VALUE pairs. Sets WORKER_PID. CPU_LIST ("" for none) pins it with taskset.
start_worker() {
    local port=$1 cpus=${2:-}
    shift 2 || shift $#
    local dir="$BENCH_TMP/worker-$port"
    mkdir -p "$dir/data"
    local pin=()
    [ -n "$cpus" ] && pin=(taskset -c "$cpus")
    (cd "$dir" && exec env -i PATH="$PATH" HOME="$dir" STANDALONE=true DATA_DIR="$dir/data" \
        LISTEN_ADDRESS="127.0.0.1:$port" LOG_LEVEL=error "$@" ${pin[@]+"${pin[@]}"} "$WORKER_BIN") \
        > "$dir/stdout.log" 2> "$dir/stderr.log" &
    WORKER_PID=$!
    BENCH_PIDS+=("$WORKER_PID")
    if ! wait_http "http://127.0.0.1:$port/healthz" 10; then
        cat "$dir/stderr.log" >&2 || true
        die "tee-worker did not answer /healthz on port $port"
    fi
}

# set_layout LAYOUT: how pipeline.sh and ab.sh place a worker and the load generator.
#   shared  nothing pinned
#   loop    the worker's HTTP_CPUS=1 (its HTTP thread and store writer on core 1), nothing else
#   pinned  the worker on core 1 (taskset), the load generator on core 0
# Sets SERVER_CPUS (start_worker's CPU_LIST), GEN_PIN (a command prefix for the load generator)
# and LAYOUT_SETTINGS (VAR=VALUE pairs for start_worker).
set_layout() {
    SERVER_CPUS="" GEN_PIN=() LAYOUT_SETTINGS=()
    case $1 in
        shared) ;;
        loop)
            [ "$(nproc)" -ge 2 ] || die "layout loop needs 2 cores"
            LAYOUT_SETTINGS=(HTTP_CPUS=1) ;;
        pinned)
            [ "$(nproc)" -ge 2 ] && command -v taskset > /dev/null ||
                die "layout pinned needs 2 cores and taskset"
            SERVER_CPUS=1 GEN_PIN=(taskset -c 0) ;;
        *) die "unknown layout $1 (shared, loop or pinned)" ;;
    esac
}

# stop_worker PID: stops a worker start_worker started and waits for it to exit.
stop_worker() {
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# start_nginx PORT WORKERS [CPU_LIST]: starts a private nginx on 127.0.0.1:PORT answering
# GET /healthz with the worker's 39-byte /healthz body ({"status":"ok","service":"tee-worker"} and
# a newline) as application/json: its own prefix, config, pid file, logs and temp paths under
# $BENCH_TMP/nginx, daemon off, WORKERS worker processes, access log off, keepalive_requests raised
# so that, like MHD, it never closes a busy keep-alive connection (nginx's default closes one every
# 1000 requests). CPU_LIST ("" for none) pins it with taskset. Sets NDIR, NGINX_PID (the master)
# and NGINX_PIDS (the master and its workers, space-separated).
start_nginx() {
    local port=$1 workers=$2 cpus=${3:-}
    NDIR="$BENCH_TMP/nginx"
    mkdir -p "$NDIR/logs" "$NDIR/tmp"
    cat > "$NDIR/nginx.conf" <<EOF_NGINX
# private nginx for the bench scripts (bench/common.sh start_nginx)
daemon off;
master_process on;
worker_processes $workers;
pid $NDIR/nginx.pid;
error_log $NDIR/logs/error.log error;
events {
    worker_connections 1024;
}
http {
    access_log off;
    server_tokens off;
    keepalive_timeout 65;
    keepalive_requests 100000000;
    client_body_temp_path $NDIR/tmp/body;
    proxy_temp_path $NDIR/tmp/proxy;
    fastcgi_temp_path $NDIR/tmp/fastcgi;
    uwsgi_temp_path $NDIR/tmp/uwsgi;
    scgi_temp_path $NDIR/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        location = /healthz {
            default_type application/json;
            return 200 '{"status":"ok","service":"tee-worker"}\n';
        }
    }
}
EOF_NGINX
    local pin=()
    [ -n "$cpus" ] && pin=(taskset -c "$cpus")
    ${pin[@]+"${pin[@]}"} nginx -p "$NDIR" -c "$NDIR/nginx.conf" -e "$NDIR/logs/error.log" \
        > "$NDIR/logs/stdout.log" 2>&1 &
    NGINX_PID=$!
    BENCH_PIDS+=("$NGINX_PID")
    wait_http "http://127.0.0.1:$port/healthz" 10 || { cat "$NDIR/logs/"*.log >&2; die "nginx did not start"; }
    NGINX_PIDS="$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"
}

# rss_kb PID: VmRSS in kB.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# median: median of the numbers on stdin (one a line).
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# mem_line PID: "VmRSS N kB (anonymous A kB, file-backed F kB)" from /proc/PID/status.
mem_line() {
    awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 }
         END { printf "VmRSS %s kB (anonymous %s kB, file-backed %s kB)", r, a, f }' "/proc/$1/status"
}

# busy_ticks: clock ticks all CPUs have spent busy since boot (user, nice, system, irq, softirq,
# steal).
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# busy_percent_1s: how busy the CPUs are over the next second, in % of all cores.
busy_percent_1s() {
    local a b
    a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
    sleep 1
    b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); d = y[2] - x[2]
        printf "%.0f", (d > 0 ? 100 * (y[1] - x[1]) / d : 0) }'
}

# wait_quiet: waits (up to QUIET_WAIT seconds, default 120) until the machine's CPUs are less than
# QUIET_BUSY % busy (default 10) over one second, so other work on a shared machine disturbs a
# measurement less. Says so when it gives up; the measurement then goes on anyway.
wait_quiet() {
    local limit=${QUIET_WAIT:-120} max=${QUIET_BUSY:-10} start=$SECONDS p
    while :; do
        p=$(busy_percent_1s)
        [ "$p" -lt "$max" ] && return 0
        if [ $((SECONDS - start)) -ge "$limit" ]; then
            say "  (machine still ${p}% busy after ${limit} s of waiting for quiet; measuring anyway)" >&2
            return 0
        fi
    done
}

# machine_note: cores, load, and how busy the CPUs were over one second, so a reader can tell a
# machine shared with other work from a slow server.
machine_note() {
    printf 'machine: %s cores, load average %s, CPUs %s%% busy (of all cores) over one second\n' \
        "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(busy_percent_1s)"
}
