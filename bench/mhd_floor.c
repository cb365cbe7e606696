/* mhd_floor.c - mhd-floor: libmicrohttpd alone, set up like the worker, answering a fixed body.
 *
 * The "libmicrohttpd alone" peer of bench/floor.sh. It starts an MHD daemon on 127.0.0.1:PORT
 * with the daemon flags and options of src/http/server.c in the worker's default standalone
 * configuration (HTTP_THREADS=1: one epoll internal thread, no thread pool; turbo; suspend/resume
 * allowed; HTTP_TIMEOUT_SECONDS=30; HTTP_MAX_CONNECTIONS=1024; a 16 KiB connection pool; listen
 * backlog 1024; a completion callback; an explicit IPv4 socket address) and answers every GET with
 * the worker's /healthz answer: {"status":"ok","service":"tee-worker"} and a newline, as
 * application/json, from one prebuilt persistent response queued on the handler's second call, as
 * the worker does. Anything but GET gets 405 with the same kind of prebuilt response.
 *
 * Its idle VmRSS is the floor of any server built on this libmicrohttpd (and what the library
 * loads with it); its CPU per request is MHD's transport floor. It runs until SIGINT or SIGTERM.
 *
 * usage: mhd-floor PORT
 * Not a test: nothing runs it but bench/floor.sh. Links only libmicrohttpd (and libc). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

static const char healthz_body[] = "{\"status\":\"ok\",\"service\":\"tee-worker\"}\n";
static const char not_allowed_body[] = "{\"error\":\"method not allowed\"}\n";

static struct MHD_Response *healthz_response;
static struct MHD_Response *not_allowed_response;
static char first_call_seen;           /* its address marks a request past its first call */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    (void)upload_data;
    if (*con_cls == NULL) {             /* first call: headers only, answer on a later call */
        *con_cls = &first_call_seen;
        return MHD_YES;
    }
    if (*upload_data_size) {            /* a body: read and dropped */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) == 0)
        return MHD_queue_response(conn, MHD_HTTP_OK, healthz_response);
    return MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, not_allowed_response);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    *con_cls = NULL;
}

static struct MHD_Response *json_response(const char *body, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
                                                             MHD_RESPMEM_PERSISTENT);
    if (r && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json") != MHD_YES) {
        MHD_destroy_response(r);
        r = NULL;
    }
    return r;
}

int main(int argc, char **argv)
{
    char *end = NULL;
    unsigned long port = argc == 2 ? strtoul(argv[1], &end, 10) : 0;
    if (argc != 2 || !end || *end || port == 0 || port > 65535) {
        fprintf(stderr, "usage: mhd-floor PORT   (serves 127.0.0.1:PORT until SIGINT/SIGTERM)\n");
        return 2;
    }

    /* Block the stop signals before MHD starts its thread, so only sigwait below sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    healthz_response = json_response(healthz_body, sizeof healthz_body - 1);
    not_allowed_response = json_response(not_allowed_body, sizeof not_allowed_body - 1);
    if (!healthz_response || !not_allowed_response) {
        fprintf(stderr, "mhd-floor: cannot build the responses\n");
        return 1;
    }

    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, on_request, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "mhd-floor: cannot listen on 127.0.0.1:%lu: %s\n", port,
                errno ? strerror(errno) : "MHD_start_daemon failed");
        return 1;
    }

    int sig = 0;
    sigwait(&stop, &sig);
    MHD_stop_daemon(d);
    MHD_destroy_response(healthz_response);
    MHD_destroy_response(not_allowed_response);
    return 0;
}
