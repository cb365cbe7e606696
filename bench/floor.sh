#!/usr/bin/env bash
# bench/floor.sh - what the HTTP transport and the libraries cost alone, next to the worker.
#
# Two floors under the worker's targets, measured in one run against named peers:
#
# CPU. pipeline-bench with CLIENTS keep-alive client threads (16) runs JOBS "jobs" (50000, after
# WARMUP unmeasured ones) against each of:
#   full     the release tee-worker, the real four-step job flow (what pipeline.sh measures);
#   worker   the same tee-worker, each job = 4 x GET /healthz (pipeline-bench --floor /healthz):
#            its HTTP transport alone, a prebuilt response, no job;
#   mhd      mhd-floor (bench/mhd_floor.c): libmicrohttpd alone, with the worker's daemon flags and
#            options, answering the same body; 4 x GET /healthz;
#   nginx    a private nginx (1 worker process, like the worker's single HTTP thread; access log
#            off; keepalive_requests raised) answering the same body; 4 x GET /healthz.
# Server CPU per job = utime+stime of the serving process (for nginx its worker process; the
# master stays idle) from /proc/PID/stat over the run, divided by the jobs. ROUNDS rounds (3), the
# order rotated each round; the medians are compared with the 100 us target.
#
# Memory. Idle VmRSS of rss-empty (a C program that only waits: libc), rss-libs (the same, linked
# with the worker's libraries and calling one function of each), mhd-floor, nginx's worker process
# (its master listed too) and the tee-worker, each after answering a request (the rss-* ones
# answer none) and 1 s of rest, before any load; compared with the 4096 kB target.
#
# Nothing is pinned, as in pipeline.sh: the target is about the worker as deployed, with the load
# generator sharing the 2 cores; server CPU per job does not depend on who else runs. Each measured
# run waits (up to QUIET_WAIT s, 15 here so the script stays near 3 minutes) for a quiet machine
# and reports "other": CPU used meanwhile by neither the server nor the load generator, in % of
# one core.
#
# Environment: CLIENTS (16), WARMUP (2000), JOBS (50000), ROUNDS (3), QUIET_WAIT (15),
# QUIET_BUSY (10), BUILD_DIR (/tmp/bench-build), NO_BUILD (1 = use the binaries already built).
source "$(dirname "$0")/common.sh"

CLIENTS=${CLIENTS:-16}
WARMUP=${WARMUP:-2000}
JOBS=${JOBS:-50000}
ROUNDS=${ROUNDS:-3}
QUIET_WAIT=${QUIET_WAIT:-15}
CPU_TARGET_US=100
RSS_TARGET_KB=4096

need_cmd nginx nginx nginx-light
need_cmd curl curl
bench_build
MHD_FLOOR_BIN="$BUILD_DIR/bench/mhd-floor"
RSS_EMPTY_BIN="$BUILD_DIR/bench/rss-empty"
RSS_LIBS_BIN="$BUILD_DIR/bench/rss-libs"
for b in "$PIPELINE_BIN" "$MHD_FLOOR_BIN" "$RSS_EMPTY_BIN" "$RSS_LIBS_BIN"; do
    [ -x "$b" ] || die "no $b after the build"
done

# start_bg NAME CMD...: starts CMD in the background from $BENCH_TMP; sets BG_PID.
start_bg() {
    local name=$1; shift
    (cd "$BENCH_TMP" && exec "$@") > "$BENCH_TMP/$name.log" 2>&1 &
    BG_PID=$!
    BENCH_PIDS+=("$BG_PID")
}

# --- every process, started before any load
start_bg rss-empty "$RSS_EMPTY_BIN"; EMPTY_PID=$BG_PID
start_bg rss-libs "$RSS_LIBS_BIN"; LIBS_PID=$BG_PID
WPORT=$(free_port)
start_worker "$WPORT" ""
MPORT=$(free_port)
start_bg mhd-floor "$MHD_FLOOR_BIN" "$MPORT"; MHD_PID=$BG_PID
wait_http "http://127.0.0.1:$MPORT/healthz" 10 || { cat "$BENCH_TMP/mhd-floor.log" >&2; die "mhd-floor did not start"; }
NPORT=$(free_port)
start_nginx "$NPORT" 1 ""
NGINX_WORKER=$(pgrep -P "$NGINX_PID" | head -1)
[ -n "$NGINX_WORKER" ] || die "no nginx worker process"
for p in "$WPORT" "$MPORT" "$NPORT"; do
    curl -fsS -o /dev/null "http://127.0.0.1:$p/healthz"
done
for p in "$EMPTY_PID" "$LIBS_PID"; do
    kill -0 "$p" 2> /dev/null || die "rss-empty or rss-libs exited: $(cat "$BENCH_TMP"/rss-*.log)"
done
sleep 1

# mem_row LABEL PID: one row of the memory table.
mem_row() {
    awk -v l="$1" -v t="$RSS_TARGET_KB" '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 }
        END { printf "  %-52s %6d kB  %6d kB  %6d kB  %5.2f\n", l, r, a, f, r / t }' "/proc/$2/status"
}

say "floor bench: $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "$(git -C "$REPO_DIR" diff --quiet HEAD 2>/dev/null || echo '(tree modified)')"
say "  tee-worker $("$WORKER_BIN" --version 2>/dev/null | awk '{print $2}') (release, default settings, pid $WORKER_PID, port $WPORT);" \
    "libmicrohttpd $(dpkg-query -W -f '${Version}' libmicrohttpd12 2>/dev/null || echo '?');" \
    "$(nginx -v 2>&1 | sed 's/^nginx version: //') (master $NGINX_PID, worker $NGINX_WORKER, port $NPORT);" \
    "mhd-floor pid $MHD_PID, port $MPORT"
machine_note | sed 's/^/  /'

say "--- idle memory (after one request, or none for rss-*, and 1 s of rest; before any load)"
printf '  %-52s %9s  %9s  %9s  %s\n' "process" "VmRSS" "anonymous" "file" "/ 4096 kB"
mem_row "rss-empty (libc only)" "$EMPTY_PID"
mem_row "rss-libs (the worker's libraries loaded, unused)" "$LIBS_PID"
mem_row "mhd-floor (libmicrohttpd alone)" "$MHD_PID"
mem_row "nginx worker process (1 worker)" "$NGINX_WORKER"
mem_row "nginx master process (besides the worker)" "$NGINX_PID"
mem_row "tee-worker" "$WORKER_PID"
say "  (nginx's worker is forked from its master: its VmRSS counts only the file pages it touched"
say "  itself since the fork; the two share most of their pages)"

# by_mapping PID: the mappings with the most resident memory, "name kB" (the rest summed).
by_mapping() {
    awk '/^[0-9a-f]+-[0-9a-f]+ / { n = (NF >= 6 ? $6 : "[anon]"); sub(/.*\//, "", n); sub(/\.so.*/, "", n) }
         /^Rss:/ { r[n] += $2 } END { for (n in r) if (r[n] > 0) print r[n], n }' "/proc/$1/smaps" |
        sort -rn | awk '{ if (NR <= 9) printf "%s%s %d", (NR > 1 ? ", " : ""), $2, $1; else o += $1 }
                        END { if (o) printf ", other %d", o; print " (kB)" }'
}
say "  resident by mapping, rss-libs:   $(by_mapping "$LIBS_PID")"
say "  resident by mapping, mhd-floor:  $(by_mapping "$MHD_PID")"
say "  resident by mapping, tee-worker: $(by_mapping "$WORKER_PID")"

# --- CPU
declare -A PORT_OF=([full]=$WPORT [worker]=$WPORT [mhd]=$MPORT [nginx]=$NPORT)
declare -A PID_OF=([full]=$WORKER_PID [worker]=$WORKER_PID [mhd]=$MHD_PID [nginx]=$NGINX_WORKER)
declare -A LABEL=([full]="tee-worker, full job (4-step flow)" [worker]="tee-worker, 4 x GET /healthz"
                  [mhd]="mhd-floor, 4 x GET /healthz" [nginx]="nginx (1 worker), 4 x GET /healthz")
declare -A CPU_ALL USER_ALL SYS_ALL JPS_ALL OTHER_ALL
KEYS=(full worker mhd nginx)

# bench_args KEY: pipeline-bench's arguments for KEY.
bench_args() {
    BENCH_ARGS=(--port "${PORT_OF[$1]}" --clients "$CLIENTS")
    [ "$1" = full ] || BENCH_ARGS+=(--floor /healthz)
}

say "--- warm-up: $WARMUP jobs each"
for k in "${KEYS[@]}"; do
    bench_args "$k"
    "$PIPELINE_BIN" "${BENCH_ARGS[@]}" --jobs "$WARMUP" --quiet > /dev/null || die "warm-up of $k failed"
done

# measure ROUND KEY: one measured run of JOBS jobs; prints a line and appends to the KEY's lists.
measure() {
    local r=$1 k=$2 out res b0 b1
    bench_args "$k"
    wait_quiet
    b0=$(busy_ticks)
    out=$("$PIPELINE_BIN" "${BENCH_ARGS[@]}" --pid "${PID_OF[$k]}" --jobs "$JOBS" --quiet) ||
        { printf '%s\n' "$out" >&2; die "measured run of $k failed"; }
    b1=$(busy_ticks)
    res=$(grep '^RESULT' <<< "$out")
    f() { tr ' ' '\n' <<< "$res" | awk -F= -v k="$1" '$1 == k { print $2 }'; }
    local cpu user sys jps other
    cpu=$(f server_cpu_us_per_job) user=$(f server_user_us_per_job) sys=$(f server_sys_us_per_job)
    jps=$(f jobs_per_s)
    # CPU used meanwhile by neither the server process nor the load generator, % of one core.
    other=$(awk -v b=$((b1 - b0)) -v hz="$(getconf CLK_TCK)" -v s="$cpu" -v c="$(f client_cpu_us_per_job)" \
        -v n="$(f ok)" -v t="$(f elapsed_s)" \
        'BEGIN { o = b / hz - (s + c) * n / 1e6; if (o < 0) o = 0; printf "%.0f", 100 * o / t }')
    CPU_ALL[$k]+="$cpu " USER_ALL[$k]+="$user " SYS_ALL[$k]+="$sys " JPS_ALL[$k]+="$jps "
    OTHER_ALL[$k]+="$other "
    printf '  round %d  %-38s %7.1f us/job (user %6.1f + sys %6.1f)  %6.0f jobs/s  %4.2f req/job  other %3s%%\n' \
        "$r" "${LABEL[$k]}" "$cpu" "$user" "$sys" "$jps" "$(f requests_per_job)" "$other"
}

say "--- measured: $ROUNDS rounds of $JOBS jobs each, $CLIENTS clients, order rotated each round"
for r in $(seq "$ROUNDS"); do
    for i in 0 1 2 3; do
        measure "$r" "${KEYS[$(((i + r - 1) % 4))]}"
    done
done

# median_round KEY: "CPU USER SYS" of KEY's median round by CPU (the mean of the two middle
# rounds when ROUNDS is even), so that user + sys adds up to the CPU shown.
median_round() {
    paste -d ' ' <(tr ' ' '\n' <<< "${CPU_ALL[$1]}" | grep -v '^$') \
                 <(tr ' ' '\n' <<< "${USER_ALL[$1]}" | grep -v '^$') \
                 <(tr ' ' '\n' <<< "${SYS_ALL[$1]}" | grep -v '^$') | sort -g |
        awk '{ c[NR] = $1; u[NR] = $2; s[NR] = $3 }
             END { a = int((NR + 1) / 2); b = int(NR / 2) + 1
                   printf "%.1f %.1f %.1f\n", (c[a] + c[b]) / 2, (u[a] + u[b]) / 2, (s[a] + s[b]) / 2 }'
}
read -r FULL _ _ <<< "$(median_round full)"
say "--- server CPU per job, median of $ROUNDS rounds (4 requests per job in every row)"
printf '  %-38s %9s  %17s  %9s  %11s  %s\n' "" "CPU/job" "user + sys" "/ 100 us" "/ full job" "other CPU (per round)"
for k in "${KEYS[@]}"; do
    read -r c u sy <<< "$(median_round "$k")"
    printf '  %-38s %6.1f us  %7.1f + %7.1f  %8.2fx  %10.2f   %s%%\n' "${LABEL[$k]}" "$c" "$u" "$sy" \
        "$(awk -v a="$c" -v t="$CPU_TARGET_US" 'BEGIN { print a / t }')" \
        "$(awk -v a="$c" -v b="$FULL" 'BEGIN { print a / b }')" \
        "$(tr -s ' ' <<< "${OTHER_ALL[$k]}" | sed 's/ $//; s/ /%, /g')"
done
say "  target: server CPU per job <= $CPU_TARGET_US us"
