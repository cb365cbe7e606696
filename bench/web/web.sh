#!/usr/bin/env bash
# web.sh - crawl benchmark: the worker's `web` job against Crawlee's CheerioCrawler.
#
# Generates a 585-page site (gen_site.py: fan-out 8, three levels below the start page), serves
# it with nginx on loopback, then crawls all of it RUNS times with each contender at the same
# concurrency (4, no delay, depth 4 = the start page and three levels below):
#   - tee-worker (release build): one web job per run through the four-step flow, timed from
#     /job/add to the result being ready; WEBSCRAPER_MAX_PAGES raised to 1000;
#   - Crawlee (npm @crawlee/cheerio, installed once into $CRAWLEE_DIR): crawlee_crawl.mjs.
# Prints pages/s (median of the runs) and peak RSS (VmHWM, the largest of the runs; each run is a
# fresh worker process, as each Crawlee run is a fresh node process) for both, and the ratios. Targets: >= 2x Crawlee's pages/s and
# <= 1/10 of its peak RSS.
# Environment: RUNS (default 3), CONCURRENCY (4), CRAWLEE_DIR (/tmp/tw-crawlee), BUILD_DIR,
# NO_BUILD=1 (see common.sh).
source "$(dirname "$0")/../common.sh"

RUNS=${RUNS:-3}
CONCURRENCY=${CONCURRENCY:-4}
CRAWLEE_DIR=${CRAWLEE_DIR:-/tmp/tw-crawlee}
WEB_DIR="$BENCH_DIR/web"

need_cmd nginx nginx-light nginx
need_cmd node nodejs
need_cmd npm npm
bench_build

# --- the site ---------------------------------------------------------------------------------
SITE="$BENCH_TMP/site"
PAGES=$(python3 "$WEB_DIR/gen_site.py" "$SITE")
chmod a+rx "$BENCH_TMP"        # nginx workers run as an unprivileged user when started by root
chmod -R a+rX "$SITE"
NGINX_PORT=$(free_port)
mkdir -p "$BENCH_TMP/nginx/logs"
cat > "$BENCH_TMP/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $BENCH_TMP/nginx/nginx.pid;
error_log $BENCH_TMP/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    include /etc/nginx/mime.types;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $SITE;
        location / { try_files \$uri \$uri/ =404; }
    }
}
CONF
nginx -p "$BENCH_TMP/nginx" -c "$BENCH_TMP/nginx/nginx.conf" -g 'daemon off;' &
BENCH_PIDS+=("$!")
START_URL="http://127.0.0.1:$NGINX_PORT/index.html"
wait_http "$START_URL" 10 || die "nginx did not start"

# --- Crawlee ----------------------------------------------------------------------------------
if [ ! -d "$CRAWLEE_DIR/node_modules/@crawlee/cheerio" ]; then
    say "installing @crawlee/cheerio into $CRAWLEE_DIR"
    mkdir -p "$CRAWLEE_DIR"
    [ -f "$CRAWLEE_DIR/package.json" ] || echo '{"name":"tw-crawlee-bench","private":true}' > "$CRAWLEE_DIR/package.json"
    (cd "$CRAWLEE_DIR" && npm install --no-audit --no-fund @crawlee/cheerio > "$BENCH_TMP/npm.log" 2>&1) ||
        { tail -20 "$BENCH_TMP/npm.log" >&2; die "npm install @crawlee/cheerio failed"; }
fi
cp "$WEB_DIR/crawlee_crawl.mjs" "$CRAWLEE_DIR/crawlee_crawl.mjs"
CRAWLEE_VERSION=$(node -p "require('$CRAWLEE_DIR/node_modules/@crawlee/cheerio/package.json').version")

# --- the runs ---------------------------------------------------------------------------------
# Each run gets a fresh worker, as each Crawlee run is a fresh process, so both peaks are those of
# one crawl (a worker kept across runs also holds the earlier results in its result store).
run_worker() {
    local port
    port=$(free_port)
    start_worker "$port" "" WEBSCRAPER_ALLOW_PRIVATE=true WEBSCRAPER_MAX_PAGES=1000 \
        WEBSCRAPER_HOST_CONCURRENCY="$CONCURRENCY" WEBSCRAPER_DELAY_MS=0 JOB_TIMEOUT_SECONDS=600 \
        HTTP_MAX_BODY_BYTES=67108864   # the sealed result of 585 pages is over 1 MiB
    local out
    out=$(python3 "$WEB_DIR/run_job.py" "$port" "$START_URL" 4) || die "worker run failed: $out"
    local hwm
    hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$WORKER_PID/status")
    kill -TERM "$WORKER_PID"
    wait "$WORKER_PID" 2>/dev/null || true
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["peak_rss_kb"]=int(sys.argv[2]); print(json.dumps(d))' "$out" "$hwm"
}

say "web crawl benchmark: $PAGES pages, depth 4, concurrency $CONCURRENCY, $RUNS runs each"
machine_note
wait_quiet

worker_runs=() crawlee_runs=()
for run in $(seq "$RUNS"); do
    out=$(run_worker)
    worker_runs+=("$out")
    say "  tee-worker run $run: $out"
    out=$(cd "$CRAWLEE_DIR" && node crawlee_crawl.mjs "$START_URL" 4 "$CONCURRENCY" 2> "$BENCH_TMP/crawlee.err" | tail -1) ||
        { tail -20 "$BENCH_TMP/crawlee.err" >&2; die "crawlee run failed"; }
    crawlee_runs+=("$out")
    say "  crawlee run $run:    $out"
done

python3 - "$CRAWLEE_VERSION" "${worker_runs[@]}" --- "${crawlee_runs[@]}" <<'PY'
import json, statistics, sys
version = sys.argv[1]
rest = sys.argv[2:]; cut = rest.index("---")
w = [json.loads(x) for x in rest[:cut]]; c = [json.loads(x) for x in rest[cut + 1:]]
w_pps = statistics.median(r["pages"] / r["seconds"] for r in w)
c_pps = statistics.median(r["pages"] / r["seconds"] for r in c)
c_peak = max(r["peak_rss_kb"] for r in c)
worker_peak = max(r["peak_rss_kb"] for r in w)
print("tee-worker web job : %7.1f pages/s  peak RSS %7d kB  (%d pages a run)" % (w_pps, worker_peak, w[0]["pages"]))
print("crawlee %-10s : %7.1f pages/s  peak RSS %7d kB  (%d pages a run)" % (version, c_pps, c_peak, c[0]["pages"]))
print("ratio: pages/s x%.2f (target >= 2), peak RSS 1/%.1f (target >= 10)" % (w_pps / c_pps, c_peak / worker_peak))
PY
