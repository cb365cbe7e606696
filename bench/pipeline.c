/* pipeline.c - pipeline-bench: load generator for the four-step job flow of a running worker.
 *
 * C client threads (default 16) share one counter of N jobs. Each thread owns one keep-alive
 * HTTP/1.1 connection and runs, per job, the flow of core-protocol.md section 0:
 *
 *   POST /job/generate {"type":"telemetry","arguments":{}}        -> 200 text S
 *   POST /job/add      {"encrypted_job":S}                         -> 200 {"uid":U}
 *   GET  /job/status/U  (again while 404, no pause by default)     -> 200 text R
 *   POST /job/result   {"encrypted_result":R,"encrypted_request":S} -> 200 clear result
 *
 * The HTTP client is a small hand-written one over blocking sockets: one request at a time per
 * connection, bodies framed by Content-Length (chunked and close-delimited bodies are understood
 * too), reconnect when the server says "Connection: close" or drops an idle connection. JSON is
 * written by hand (the sealed texts are base64, escaped anyway); the {"uid"} answer is read with
 * jansson. Every socket has a receive timeout and every job a polling deadline, so a run always
 * ends by itself.
 *
 * Measured: wall time -> jobs/s; per-job latency of the whole four-step flow -> p50 and p99; the
 * number of status GETs per job; with --pid P, the server's utime+stime from /proc/P/stat before
 * and after the run (clock ticks, sysconf(_SC_CLK_TCK)) divided by the jobs -> server CPU per job
 * in microseconds (polls included, since they are part of what a job costs the server), and VmRSS
 * (and its anonymous part, RssAnon) from /proc/P/status before and after. The last line is machine-readable ("RESULT k=v ...") for
 * bench/pipeline.sh.
 *
 * --floor PATH replaces the flow: each "job" is then 4 sequential GET PATH on the client's
 * keep-alive connection, each of which must answer 200 with a non-empty body; everything else
 * (threads, connections, the measurement, the RESULT line) is the same, and polls_per_job is 0.
 * Against GET /healthz this gives the server CPU of the HTTP transport alone for the 4 keep-alive
 * requests a job takes (bench/floor.sh).
 *
 * Not a test: nothing runs it but the bench scripts. Only libc, pthreads and jansson. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define RECV_TIMEOUT_S 10          /* one response may take this long at most */
#define POLL_DEADLINE_NS (30LL * 1000000000LL)  /* a job must finish within this */
#define MAX_ERRORS_SHOWN 5
#define MAX_ERRORS_BEFORE_STOP 100
#define MAX_PORTS 16

/* ---------------------------------------------------------------------------------------------
 * Options and shared state */

struct options {
    const char *host;
    unsigned port;                 /* the first of ports[] */
    unsigned ports[MAX_PORTS];     /* --port 8081,8082,...: client i talks to ports[i % nports] */
    unsigned nports;
    long jobs;
    unsigned clients;
    long pid;                      /* 0: no server figures */
    unsigned poll_delay_us;        /* pause between two status polls; 0 = none */
    const char *job_type;
    const char *api_key;           /* sent as Authorization: Bearer when set */
    const char *floor_path;        /* --floor: a job is 4 GETs of this path instead of the flow */
    bool quiet;                    /* only the RESULT line */
};

struct shared {
    const struct options *opt;
    struct sockaddr_storage addr[MAX_PORTS];
    socklen_t addrlen;
    char host_header[MAX_PORTS][128];
    char generate_body[256];
    size_t generate_len;
    atomic_long next_job;
    atomic_long done_jobs;
    atomic_long failed_jobs;
    atomic_long status_gets;        /* every GET /job/status, the final 200 included */
    atomic_long status_404;
    atomic_long requests;
    atomic_long reconnects;
    atomic_bool stop;
    int64_t *latency_ns;            /* per job index; -1 for a failed job */
    pthread_mutex_t err_lock;
    long errors_shown;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* report_error prints the first few job failures; stops the run after too many. */
static void report_error(struct shared *sh, const char *fmt, ...)
{
    long failed = atomic_fetch_add(&sh->failed_jobs, 1) + 1;
    pthread_mutex_lock(&sh->err_lock);
    if (sh->errors_shown < MAX_ERRORS_SHOWN) {
        sh->errors_shown++;
        va_list ap;
        va_start(ap, fmt);
        fputs("pipeline-bench: job failed: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
    pthread_mutex_unlock(&sh->err_lock);
    if (failed >= MAX_ERRORS_BEFORE_STOP && !atomic_exchange(&sh->stop, true))
        fprintf(stderr, "pipeline-bench: %ld failed jobs, stopping\n", failed);
}

/* ---------------------------------------------------------------------------------------------
 * A growable byte buffer */

struct buf {
    char *p;
    size_t len;
    size_t cap;
};

static int buf_reserve(struct buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int buf_append(struct buf *b, const char *s, size_t n)
{
    if (buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

/* buf_json_string appends s as a JSON string literal (quotes included). */
static int buf_json_string(struct buf *b, const char *s, size_t n)
{
    if (buf_reserve(b, n + 2) < 0)
        return -1;
    b->p[b->len++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char esc[2] = { '\\', (char)c };
            if (buf_append(b, esc, 2) < 0)
                return -1;
        } else if (c < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", c);
            if (buf_puts(b, esc) < 0)
                return -1;
        } else if (buf_append(b, (const char *)&c, 1) < 0) {
            return -1;
        }
    }
    return buf_append(b, "\"", 1);
}

/* ---------------------------------------------------------------------------------------------
 * A keep-alive HTTP/1.1 connection */

struct conn {
    struct shared *sh;
    int fd;                         /* -1 when not connected */
    unsigned target;                /* index into opt->ports */
    bool used;                      /* has carried a complete exchange since it was opened */
    struct buf in;                  /* bytes received; in.p[start..len) not yet consumed */
    size_t start;
    struct buf body;                /* decoded body of the last response */
    char err[160];
};

struct reply {
    int status;
    const char *body;               /* NUL-terminated, valid until the next request */
    size_t body_len;
};

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->used = false;
    c->in.len = 0;
    c->start = 0;
}

static int conn_open(struct conn *c)
{
    conn_close(c);
    int fd = socket(c->sh->addr[c->target].ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(c->err, sizeof c->err, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = { .tv_sec = RECV_TIMEOUT_S };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (const struct sockaddr *)&c->sh->addr[c->target], c->sh->addrlen) < 0) {
        snprintf(c->err, sizeof c->err, "connect: %s", strerror(errno));
        close(fd);
        return -1;
    }
    c->fd = fd;
    return 0;
}

static int send_all(struct conn *c, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(c->fd, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            snprintf(c->err, sizeof c->err, "send: %s", strerror(errno));
            return -1;
        }
        size_t left = (size_t)w;
        while (n > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

/* fill reads more bytes into c->in. Returns bytes read, 0 on EOF, -1 on error. */
static ssize_t fill(struct conn *c)
{
    if (buf_reserve(&c->in, 16384) < 0) {
        snprintf(c->err, sizeof c->err, "out of memory");
        return -1;
    }
    for (;;) {
        ssize_t r = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len - 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(c->err, sizeof c->err, "recv: %s", errno == EAGAIN ? "timed out" :
                     strerror(errno));
            return -1;
        }
        c->in.len += (size_t)r;
        c->in.p[c->in.len] = '\0';
        return r;
    }
}

/* header_value finds "Name:" at a line start within [head, end) and returns its trimmed value. */
static const char *header_value(const char *head, const char *end, const char *name,
                                size_t *vlen)
{
    size_t nlen = strlen(name);
    const char *line = memchr(head, '\n', (size_t)(end - head));   /* skip the status line */
    while (line && line < end) {
        line++;
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol)
            eol = end;
        if ((size_t)(eol - line) > nlen && line[nlen] == ':' && strncasecmp(line, name, nlen) == 0) {
            const char *v = line + nlen + 1;
            const char *ve = eol;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        line = eol;
    }
    return NULL;
}

/* need_bytes makes sure at least n unconsumed bytes are buffered. */
static int need_bytes(struct conn *c, size_t n)
{
    while (c->in.len - c->start < n) {
        ssize_t r = fill(c);
        if (r <= 0) {
            if (r == 0)
                snprintf(c->err, sizeof c->err, "connection closed mid-response");
            return -1;
        }
    }
    return 0;
}

/* read_chunked decodes a chunked body from c->in into c->body. */
static int read_chunked(struct conn *c)
{
    for (;;) {
        char *eol;
        while (!(eol = memmem(c->in.p + c->start, c->in.len - c->start, "\r\n", 2)))
            if (need_bytes(c, c->in.len - c->start + 1) < 0)
                return -1;
        char *end;
        unsigned long size = strtoul(c->in.p + c->start, &end, 16);
        if (end == c->in.p + c->start) {
            snprintf(c->err, sizeof c->err, "bad chunk size");
            return -1;
        }
        c->start = (size_t)(eol + 2 - c->in.p);
        if (size == 0) {   /* trailers, then an empty line */
            for (;;) {
                while (!(eol = memmem(c->in.p + c->start, c->in.len - c->start, "\r\n", 2)))
                    if (need_bytes(c, c->in.len - c->start + 1) < 0)
                        return -1;
                bool empty = eol == c->in.p + c->start;
                c->start = (size_t)(eol + 2 - c->in.p);
                if (empty)
                    return 0;
            }
        }
        if (need_bytes(c, size + 2) < 0 || buf_append(&c->body, c->in.p + c->start, size) < 0)
            return -1;
        c->start += size + 2;
    }
}

/* exchange sends one request and reads its response. Returns 0, -1 on error (c->err set), or
 * -2 when the connection was found closed before any byte of the response (safe to retry). */
static int exchange(struct conn *c, const char *method, const char *path, const char *body,
                    size_t body_len, struct reply *out)
{
    struct shared *sh = c->sh;
    char head[768];
    int hn;
    const char *key = sh->opt->api_key;
    if (body)
        hn = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: %s\r\n%s%s%sContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n", method, path, sh->host_header[c->target],
                      key ? "Authorization: Bearer " : "", key ? key : "", key ? "\r\n" : "",
                      body_len);
    else
        hn = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: %s\r\n%s%s%s\r\n", method, path,
                      sh->host_header[c->target], key ? "Authorization: Bearer " : "", key ? key : "",
                      key ? "\r\n" : "");
    if (hn < 0 || (size_t)hn >= sizeof head) {
        snprintf(c->err, sizeof c->err, "request head too long");
        return -1;
    }
    struct iovec iov[2] = { { head, (size_t)hn }, { (void *)body, body ? body_len : 0 } };
    bool reused = c->used;
    if (c->start == c->in.len)
        c->start = c->in.len = 0;
    if (send_all(c, iov, body ? 2 : 1) < 0)
        return reused ? -2 : -1;
    atomic_fetch_add_explicit(&sh->requests, 1, memory_order_relaxed);

    /* status line and headers */
    char *hend;
    size_t scanned = c->start;
    for (;;) {
        hend = memmem(c->in.p ? c->in.p + scanned : "", c->in.len - scanned, "\r\n\r\n", 4);
        if (hend)
            break;
        scanned = c->in.len > c->start + 3 ? c->in.len - 3 : c->start;
        ssize_t r = fill(c);
        if (r == 0 && reused && c->in.len == c->start)
            return -2;
        if (r <= 0) {
            if (r == 0)
                snprintf(c->err, sizeof c->err, "connection closed before the response");
            return -1;
        }
    }
    const char *h = c->in.p + c->start;
    const char *he = hend + 2;
    if (strncmp(h, "HTTP/1.", 7) != 0 || he - h < 12) {
        snprintf(c->err, sizeof c->err, "not an HTTP/1.x response");
        return -1;
    }
    int status = atoi(h + 9);
    bool http10 = h[7] == '0';
    size_t vlen;
    const char *v = header_value(h, he, "Connection", &vlen);
    bool close_after = http10 ? !(v && vlen == 10 && strncasecmp(v, "keep-alive", 10) == 0)
                              : (v && vlen == 5 && strncasecmp(v, "close", 5) == 0);
    const char *te = header_value(h, he, "Transfer-Encoding", &vlen);
    bool chunked = te && vlen >= 7 && strncasecmp(te + vlen - 7, "chunked", 7) == 0;
    const char *cl = header_value(h, he, "Content-Length", &vlen);
    long long length = cl ? strtoll(cl, NULL, 10) : -1;
    bool no_body = strcmp(method, "HEAD") == 0 || status == 204 || status == 304 ||
                   (status >= 100 && status < 200);
    c->start = (size_t)(hend + 4 - c->in.p);

    c->body.len = 0;
    if (buf_reserve(&c->body, 0) < 0) {
        snprintf(c->err, sizeof c->err, "out of memory");
        return -1;
    }
    if (no_body) {
        /* nothing */
    } else if (chunked) {
        if (read_chunked(c) < 0)
            return -1;
    } else if (length >= 0) {
        if (need_bytes(c, (size_t)length) < 0 ||
            buf_append(&c->body, c->in.p + c->start, (size_t)length) < 0)
            return -1;
        c->start += (size_t)length;
    } else {   /* delimited by the end of the connection */
        ssize_t r;
        while ((r = fill(c)) > 0)
            ;
        if (r < 0 || buf_append(&c->body, c->in.p + c->start, c->in.len - c->start) < 0)
            return -1;
        c->start = c->in.len;
        close_after = true;
    }
    c->body.p[c->body.len] = '\0';
    if (c->start == c->in.len)
        c->start = c->in.len = 0;
    c->used = true;
    if (close_after)
        conn_close(c);
    out->status = status;
    out->body = c->body.p;
    out->body_len = c->body.len;
    return 0;
}

/* request is exchange with connecting as needed and one retry on a connection found closed. */
static int request(struct conn *c, const char *method, const char *path, const char *body,
                   size_t body_len, struct reply *out)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (c->fd < 0) {
            if (conn_open(c) < 0)
                return -1;
            atomic_fetch_add_explicit(&c->sh->reconnects, 1, memory_order_relaxed);
        }
        int rc = exchange(c, method, path, body, body_len, out);
        if (rc == 0)
            return 0;
        conn_close(c);
        if (rc != -2)
            return -1;
    }
    snprintf(c->err, sizeof c->err, "connection closed twice in a row");
    return -1;
}

/* ---------------------------------------------------------------------------------------------
 * One client thread */

struct client {
    struct shared *sh;
    pthread_t thread;
    struct conn conn;
    struct buf sealed_job;          /* S */
    struct buf sealed_result;       /* R */
    struct buf req;                 /* request body being built */
};

static void trim_snippet(char *dst, size_t dstlen, const char *s, size_t n)
{
    size_t k = n < dstlen - 1 ? n : dstlen - 1;
    memcpy(dst, s, k);
    dst[k] = '\0';
    for (size_t i = 0; i < k; i++)
        if ((unsigned char)dst[i] < 0x20)
            dst[i] = ' ';
}

#define FAIL_HTTP(step, rp)                                                                       \
    do {                                                                                          \
        char snip_[160];                                                                          \
        trim_snippet(snip_, sizeof snip_, (rp)->body, (rp)->body_len);                            \
        report_error(sh, "%s: HTTP %d: %s", step, (rp)->status, snip_);                           \
        return -1;                                                                                \
    } while (0)

#define FAIL_NET(step)                                                                            \
    do {                                                                                          \
        report_error(sh, "%s: %s", step, cl->conn.err);                                           \
        return -1;                                                                                \
    } while (0)

#define FLOOR_REQUESTS_PER_JOB 4

/* run_floor_job runs one --floor "job": 4 sequential GETs of the floor path, each 200 with a body.
 * Returns 0 or -1 (already reported). */
static int run_floor_job(struct client *cl)
{
    struct shared *sh = cl->sh;
    struct reply r;
    for (int i = 0; i < FLOOR_REQUESTS_PER_JOB; i++) {
        if (request(&cl->conn, "GET", sh->opt->floor_path, NULL, 0, &r) < 0)
            FAIL_NET("floor GET");
        if (r.status != 200 || r.body_len == 0)
            FAIL_HTTP("floor GET", &r);
    }
    return 0;
}

/* run_job runs one four-step job. Returns 0 or -1 (already reported). */
static int run_job(struct client *cl)
{
    struct shared *sh = cl->sh;
    struct reply r;
    if (sh->opt->floor_path)
        return run_floor_job(cl);

    /* 1. generate */
    if (request(&cl->conn, "POST", "/job/generate", sh->generate_body, sh->generate_len, &r) < 0)
        FAIL_NET("generate");
    if (r.status != 200 || r.body_len == 0)
        FAIL_HTTP("generate", &r);
    cl->sealed_job.len = 0;
    if (buf_append(&cl->sealed_job, r.body, r.body_len) < 0)
        FAIL_NET("generate (out of memory)");

    /* 2. add */
    cl->req.len = 0;
    if (buf_puts(&cl->req, "{\"encrypted_job\":") < 0 ||
        buf_json_string(&cl->req, cl->sealed_job.p, cl->sealed_job.len) < 0 ||
        buf_puts(&cl->req, "}") < 0)
        FAIL_NET("add (out of memory)");
    if (request(&cl->conn, "POST", "/job/add", cl->req.p, cl->req.len, &r) < 0)
        FAIL_NET("add");
    if (r.status != 200)
        FAIL_HTTP("add", &r);
    json_error_t jerr;
    json_t *doc = json_loadb(r.body, r.body_len, JSON_DISABLE_EOF_CHECK, &jerr);
    const char *uid = json_string_value(json_object_get(doc, "uid"));
    if (!uid || strlen(uid) > 64) {
        json_decref(doc);
        FAIL_HTTP("add (no uid)", &r);
    }
    char path[96];
    snprintf(path, sizeof path, "/job/status/%s", uid);
    json_decref(doc);

    /* 3. poll status until 200 */
    int64_t deadline = now_ns() + POLL_DEADLINE_NS;
    for (;;) {
        if (request(&cl->conn, "GET", path, NULL, 0, &r) < 0)
            FAIL_NET("status");
        atomic_fetch_add_explicit(&sh->status_gets, 1, memory_order_relaxed);
        if (r.status == 200)
            break;
        if (r.status != 404)
            FAIL_HTTP("status", &r);
        atomic_fetch_add_explicit(&sh->status_404, 1, memory_order_relaxed);
        if (now_ns() > deadline) {
            report_error(sh, "status: job %s not finished after %lld s", path + 12,
                         POLL_DEADLINE_NS / 1000000000LL);
            return -1;
        }
        if (sh->opt->poll_delay_us)
            usleep(sh->opt->poll_delay_us);
    }
    cl->sealed_result.len = 0;
    if (buf_append(&cl->sealed_result, r.body, r.body_len) < 0)
        FAIL_NET("status (out of memory)");

    /* 4. result */
    cl->req.len = 0;
    if (buf_puts(&cl->req, "{\"encrypted_result\":") < 0 ||
        buf_json_string(&cl->req, cl->sealed_result.p, cl->sealed_result.len) < 0 ||
        buf_puts(&cl->req, ",\"encrypted_request\":") < 0 ||
        buf_json_string(&cl->req, cl->sealed_job.p, cl->sealed_job.len) < 0 ||
        buf_puts(&cl->req, "}") < 0)
        FAIL_NET("result (out of memory)");
    if (request(&cl->conn, "POST", "/job/result", cl->req.p, cl->req.len, &r) < 0)
        FAIL_NET("result");
    if (r.status != 200 || r.body_len == 0)
        FAIL_HTTP("result", &r);
    return 0;
}

static void *client_main(void *arg)
{
    struct client *cl = arg;
    struct shared *sh = cl->sh;
    long total = sh->opt->jobs;
    while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
        long i = atomic_fetch_add(&sh->next_job, 1);
        if (i >= total)
            break;
        int64_t t0 = now_ns();
        if (run_job(cl) == 0) {
            sh->latency_ns[i] = now_ns() - t0;
            atomic_fetch_add_explicit(&sh->done_jobs, 1, memory_order_relaxed);
        } else {
            sh->latency_ns[i] = -1;
        }
    }
    conn_close(&cl->conn);
    return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * The server process, seen through /proc */

/* proc_cpu_ticks returns utime+stime of pid (all threads) in clock ticks, or -1. */
static long long proc_cpu_ticks(long pid, long long *user, long long *sys)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[4096];
    bool ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!ok)
        return -1;
    /* The command name (field 2) may hold spaces and parentheses: start after the last ')'. */
    char *p = strrchr(line, ')');
    if (!p)
        return -1;
    p++;
    /* After ')': field 3 (state) ... field 14 utime, field 15 stime. */
    unsigned long long ut = 0, st = 0;
    char *save = NULL;
    int field = 3;
    for (char *tok = strtok_r(p, " ", &save); tok; tok = strtok_r(NULL, " ", &save), field++) {
        if (field == 14)
            ut = strtoull(tok, NULL, 10);
        else if (field == 15) {
            st = strtoull(tok, NULL, 10);
            break;
        }
    }
    if (field != 15)
        return -1;
    *user = (long long)ut;
    *sys = (long long)st;
    return (long long)(ut + st);
}

/* proc_status_kb returns the kB figure of one /proc/PID/status line ("VmRSS:", "RssAnon:"),
 * or -1. */
static long proc_status_kb(long pid, const char *key)
{
    size_t klen = strlen(key);
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, klen) == 0) {
            kb = strtol(line + klen, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

/* ---------------------------------------------------------------------------------------------
 * Main */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* percentile p (whole percent) of sorted v[0..n) by nearest rank: rank = ceil(p * n / 100), in
 * integers, so that 0.99 * n landing a hair above a whole number in floating point does not push
 * p99 one rank up. */
static int64_t percentile(const int64_t *v, size_t n, unsigned p)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)(((unsigned long long)p * n + 99) / 100);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

static void usage(FILE *f)
{
    fputs("usage: pipeline-bench --port P[,P2,...] [--host 127.0.0.1] [--jobs 10000] [--clients 16]\n"
          "                      [--pid SERVER_PID] [--poll-delay-us 0] [--type telemetry]\n"
          "                      [--api-key KEY] [--floor PATH] [--quiet]\n"
          "Runs the four-step job flow (generate, add, poll status, result) against a running\n"
          "tee-worker over keep-alive HTTP/1.1 and prints jobs/s, latency p50/p99, status polls\n"
          "per job and, with --pid, the server's CPU time per job and its VmRSS. With several\n"
          "ports (a fleet), client i keeps its connection to the (i mod n)-th port.\n"
          "--floor PATH: each job is instead 4 sequential GET PATH on the same connection (each\n"
          "must answer 200 with a body), e.g. --floor /healthz: the transport's cost alone.\n", f);
}

static long parse_long(const char *name, const char *s, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        fprintf(stderr, "pipeline-bench: %s: expected an integer from %ld to %ld, got \"%s\"\n",
                name, min, max, s);
        exit(2);
    }
    return v;
}

static int resolve_target(struct shared *sh)
{
    const struct options *o = sh->opt;
    const char *host = strcmp(o->host, "localhost") == 0 ? "127.0.0.1" : o->host;
    for (unsigned i = 0; i < o->nports; i++) {
        memset(&sh->addr[i], 0, sizeof sh->addr[i]);
        struct sockaddr_in *v4 = (struct sockaddr_in *)&sh->addr[i];
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&sh->addr[i];
        if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
            v4->sin_family = AF_INET;
            v4->sin_port = htons((uint16_t)o->ports[i]);
            sh->addrlen = sizeof *v4;
            snprintf(sh->host_header[i], sizeof sh->host_header[i], "%s:%u", host, o->ports[i]);
        } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
            v6->sin6_family = AF_INET6;
            v6->sin6_port = htons((uint16_t)o->ports[i]);
            sh->addrlen = sizeof *v6;
            snprintf(sh->host_header[i], sizeof sh->host_header[i], "[%s]:%u", host, o->ports[i]);
        } else {
            fprintf(stderr, "pipeline-bench: --host must be a numeric IPv4 or IPv6 address (or "
                    "localhost), got \"%s\"\n", o->host);
            return -1;
        }
    }
    return 0;
}

/* parse_ports reads "P" or "P1,P2,..." into o->ports. */
static void parse_ports(struct options *o, const char *arg)
{
    char copy[256];
    if (snprintf(copy, sizeof copy, "%s", arg) >= (int)sizeof copy) {
        fprintf(stderr, "pipeline-bench: --port list too long\n");
        exit(2);
    }
    o->nports = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (o->nports == MAX_PORTS) {
            fprintf(stderr, "pipeline-bench: at most %d ports\n", MAX_PORTS);
            exit(2);
        }
        o->ports[o->nports++] = (unsigned)parse_long("--port", tok, 1, 65535);
    }
    o->port = o->nports ? o->ports[0] : 0;
}

int main(int argc, char **argv)
{
    struct options opt = { .host = "127.0.0.1", .jobs = 10000, .clients = 16,
                           .job_type = "telemetry" };
    static const struct option longopts[] = {
        { "host", required_argument, NULL, 'H' },
        { "port", required_argument, NULL, 'p' },
        { "jobs", required_argument, NULL, 'n' },
        { "clients", required_argument, NULL, 'c' },
        { "pid", required_argument, NULL, 'P' },
        { "poll-delay-us", required_argument, NULL, 'd' },
        { "type", required_argument, NULL, 't' },
        { "api-key", required_argument, NULL, 'k' },
        { "floor", required_argument, NULL, 'f' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "H:p:n:c:P:d:t:k:f:qh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'H': opt.host = optarg; break;
        case 'p': parse_ports(&opt, optarg); break;
        case 'n': opt.jobs = parse_long("--jobs", optarg, 1, 100000000); break;
        case 'c': opt.clients = (unsigned)parse_long("--clients", optarg, 1, 4096); break;
        case 'P': opt.pid = parse_long("--pid", optarg, 1, 1L << 30); break;
        case 'd': opt.poll_delay_us = (unsigned)parse_long("--poll-delay-us", optarg, 0, 1000000);
                  break;
        case 't': opt.job_type = optarg; break;
        case 'k': opt.api_key = optarg; break;
        case 'f':
            if (optarg[0] != '/' || strlen(optarg) > 512 || strpbrk(optarg, " \r\n")) {
                fprintf(stderr, "pipeline-bench: --floor: expected a path starting with / (no "
                        "spaces, at most 512 bytes), got \"%s\"\n", optarg);
                return 2;
            }
            opt.floor_path = optarg;
            break;
        case 'q': opt.quiet = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc || opt.port == 0) {
        usage(stderr);
        return 2;
    }
    if ((long)opt.clients > opt.jobs)
        opt.clients = (unsigned)opt.jobs;

    static struct shared sh;
    sh.opt = &opt;
    pthread_mutex_init(&sh.err_lock, NULL);
    if (resolve_target(&sh) < 0)
        return 2;
    struct buf gen = { 0 };
    if (buf_puts(&gen, "{\"type\":") < 0 ||
        buf_json_string(&gen, opt.job_type, strlen(opt.job_type)) < 0 ||
        buf_puts(&gen, ",\"arguments\":{}}") < 0 || gen.len >= sizeof sh.generate_body) {
        fprintf(stderr, "pipeline-bench: --type too long\n");
        return 2;
    }
    memcpy(sh.generate_body, gen.p, gen.len + 1);
    sh.generate_len = gen.len;
    free(gen.p);

    sh.latency_ns = calloc((size_t)opt.jobs, sizeof *sh.latency_ns);
    struct client *clients = calloc(opt.clients, sizeof *clients);
    if (!sh.latency_ns || !clients) {
        fprintf(stderr, "pipeline-bench: out of memory\n");
        return 1;
    }

    /* Connect every client first, so connection set-up is outside the measured window. */
    for (unsigned i = 0; i < opt.clients; i++) {
        clients[i].sh = &sh;
        clients[i].conn.sh = &sh;
        clients[i].conn.fd = -1;
        clients[i].conn.target = i % opt.nports;
        if (conn_open(&clients[i].conn) < 0) {
            fprintf(stderr, "pipeline-bench: %s:%u: %s\n", opt.host,
                    opt.ports[clients[i].conn.target], clients[i].conn.err);
            for (unsigned j = 0; j < i; j++)
                conn_close(&clients[j].conn);
            free(clients);
            free(sh.latency_ns);
            return 1;
        }
    }

    long long u0 = 0, s0 = 0, u1 = 0, s1 = 0;
    long rss0 = -1, rss1 = -1, anon0 = -1, anon1 = -1;
    if (opt.pid) {
        rss0 = proc_status_kb(opt.pid, "VmRSS:");
        anon0 = proc_status_kb(opt.pid, "RssAnon:");
        if (proc_cpu_ticks(opt.pid, &u0, &s0) < 0 || rss0 < 0) {
            fprintf(stderr, "pipeline-bench: cannot read /proc/%ld (is --pid right?)\n", opt.pid);
            for (unsigned j = 0; j < opt.clients; j++)
                conn_close(&clients[j].conn);
            free(clients);
            free(sh.latency_ns);
            return 1;
        }
    }
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    int64_t t0 = now_ns();
    for (unsigned i = 0; i < opt.clients; i++)
        if (pthread_create(&clients[i].thread, NULL, client_main, &clients[i]) != 0) {
            fprintf(stderr, "pipeline-bench: cannot start client thread %u\n", i);
            atomic_store(&sh.stop, true);
            opt.clients = i;
            break;
        }
    for (unsigned i = 0; i < opt.clients; i++)
        pthread_join(clients[i].thread, NULL);
    int64_t elapsed = now_ns() - t0;
    getrusage(RUSAGE_SELF, &ru1);
    if (opt.pid) {
        rss1 = proc_status_kb(opt.pid, "VmRSS:");
        anon1 = proc_status_kb(opt.pid, "RssAnon:");
        if (proc_cpu_ticks(opt.pid, &u1, &s1) < 0)
            u1 = u0, s1 = s0;
    }

    long done = atomic_load(&sh.done_jobs);
    long failed = atomic_load(&sh.failed_jobs);
    long attempted = done + failed;
    int64_t *lat = malloc((size_t)(done ? done : 1) * sizeof *lat);
    if (!lat) {
        fprintf(stderr, "pipeline-bench: out of memory\n");
        return 1;
    }
    size_t n = 0;
    long scanned = atomic_load(&sh.next_job) < opt.jobs ? atomic_load(&sh.next_job) : opt.jobs;
    for (long i = 0; i < scanned; i++)
        if (sh.latency_ns[i] > 0)
            lat[n++] = sh.latency_ns[i];
    qsort(lat, n, sizeof *lat, cmp_i64);

    double secs = (double)elapsed / 1e9;
    double jobs_per_s = secs > 0 ? (double)done / secs : 0;
    double p50_ms = (double)percentile(lat, n, 50) / 1e6;
    double p99_ms = (double)percentile(lat, n, 99) / 1e6;
    long gets = atomic_load(&sh.status_gets);
    long nf = atomic_load(&sh.status_404);
    long reqs = atomic_load(&sh.requests);
    double per = attempted ? 1.0 / (double)attempted : 0;
    double tick_us = 1e6 / (double)sysconf(_SC_CLK_TCK);
    double srv_user_us = (double)(u1 - u0) * tick_us * per;
    double srv_sys_us = (double)(s1 - s0) * tick_us * per;
    double srv_us = srv_user_us + srv_sys_us;
    double cli_us = ((double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) * 1e6 +
                     (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) +
                     (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) * 1e6 +
                     (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec)) * per;

    if (!opt.quiet) {
        if (opt.floor_path)
            printf("pipeline-bench: %ld floor jobs (%d x GET %s), %u clients, %s\n", opt.jobs,
                   FLOOR_REQUESTS_PER_JOB, opt.floor_path, opt.clients, sh.host_header[0]);
        else
            printf("pipeline-bench: %ld jobs (%s), %u clients, %s, poll delay %u us\n", opt.jobs,
                   opt.job_type, opt.clients, sh.host_header[0], opt.poll_delay_us);
        printf("  completed          %ld ok, %ld failed, %ld reconnects\n", done, failed,
               atomic_load(&sh.reconnects));
        printf("  elapsed            %.3f s\n", secs);
        printf("  throughput         %.0f jobs/s (%.0f requests/s)\n", jobs_per_s,
               secs > 0 ? (double)reqs / secs : 0);
        printf("  job latency p50    %.3f ms\n", p50_ms);
        printf("  job latency p99    %.3f ms\n", p99_ms);
        printf("  status polls/job   %.3f GETs (%.3f of them 404 not ready), %.3f requests/job\n",
               gets * per, nf * per, reqs * per);
        if (opt.pid) {
            printf("  server CPU/job     %.1f us (user %.1f + sys %.1f), %.1f us/request\n",
                   srv_us, srv_user_us, srv_sys_us, reqs ? srv_us * (double)attempted /
                   (double)reqs : 0);
            printf("  server VmRSS       %ld kB before, %ld kB after (anonymous: %ld kB before, "
                   "%ld kB after)\n", rss0, rss1, anon0, anon1);
        }
        printf("  client CPU/job     %.1f us (this load generator, all threads)\n", cli_us);
    }
    printf("RESULT jobs=%ld ok=%ld failed=%ld clients=%u elapsed_s=%.3f jobs_per_s=%.1f "
           "p50_ms=%.3f p99_ms=%.3f polls_per_job=%.3f notfound_per_job=%.3f "
           "requests_per_job=%.3f server_cpu_us_per_job=%.1f server_user_us_per_job=%.1f "
           "server_sys_us_per_job=%.1f rss_before_kb=%ld rss_after_kb=%ld "
           "anon_before_kb=%ld anon_after_kb=%ld client_cpu_us_per_job=%.1f\n",
           opt.jobs, done, failed, opt.clients, secs, jobs_per_s, p50_ms, p99_ms, gets * per,
           nf * per, reqs * per, opt.pid ? srv_us : -1.0, opt.pid ? srv_user_us : -1.0,
           opt.pid ? srv_sys_us : -1.0, rss0, rss1, anon0, anon1, cli_us);

    for (unsigned i = 0; i < opt.clients; i++) {
        conn_close(&clients[i].conn);
        free(clients[i].conn.in.p);
        free(clients[i].conn.body.p);
        free(clients[i].sealed_job.p);
        free(clients[i].sealed_result.p);
        free(clients[i].req.p);
    }
    free(clients);
    free(lat);
    free(sh.latency_ns);
    return failed ? 1 : 0;
}
