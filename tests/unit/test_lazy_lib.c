/* test_lazy_lib.c - libraries opened on first use (util/lazy_lib.c and the stubs net/curl_lazy.c,
 * kinds/libxml_lazy.c, store/hiredis_lazy.c, tee/libcrypto_lazy.c, http/gnutls_lazy.c,
 * net/idn2_lazy.c, util/libm_lazy.c): nothing is mapped before the first call; every
 * symbol of every stub file resolves in the installed libraries; the stubs forward arguments and
 * results (each argument type range of the variadic curl_easy_setopt, getinfo's pointer, xmlFree
 * read through its address, hiredis's reader and connect); and a library that is missing, lacks
 * a symbol or fails to initialise gives an error naming it, or, through lazy_lib_sym, a logged
 * message and abort() instead of a crash. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <hiredis/hiredis.h>
#include <idn2.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <math.h>

#include "kinds/html_walk.h"
#include "kinds/libxml_lazy.h"
#include "http/gnutls_lazy.h"
#include "net/curl_lazy.h"
#include "net/fetch.h"
#include "net/idn2_lazy.h"
#include "store/hiredis_lazy.h"
#include "tee/libcrypto_lazy.h"
#include "util/file_read.h"
#include "util/lazy_lib.h"
#include "util/libm_lazy.h"

#include "proc_maps.h"

/* Runs first: this program is linked like the worker, so none of the four is mapped yet. */
static void test_nothing_mapped_before_first_use(void **state)
{
    (void)state;
    assert_false(maps_mention("/libcurl"));
    assert_false(maps_mention("/libxml2"));
    assert_false(maps_mention("/libhiredis"));
    assert_false(maps_mention("/libicuuc"));
    assert_false(maps_mention("/libcrypto"));
    assert_false(libcrypto_lazy_loaded());
    assert_false(curl_lazy_loaded());
    assert_false(maps_mention("/libidn2"));
    assert_false(idn2_lazy_loaded());
    fetch_global_cleanup();                 /* nothing to clean: must not open libcurl */
    assert_false(curl_lazy_loaded());
    libxml_free(NULL);                      /* freeing nothing needs no library either */
    assert_false(maps_mention("/libcurl"));
    assert_false(maps_mention("/libxml2"));
    /* libmicrohttpd is linked in, GnuTLS is not (libcurl's libldap maps it later, so first) */
    assert_false(maps_mention("/libgnutls"));
    assert_false(maps_mention("/libp11-kit"));
    assert_false(gnutls_lazy_loaded());
    /* libm: only the sanitizer runtime, which needs it itself, may have mapped it */
    assert_false(libm_lazy_loaded());
    if (maps_mention("/libm.so"))
        assert_true(maps_mention("/libasan"));
}

/* libmicrohttpd's constructor calls gnutls_global_init: held until GnuTLS is opened, and the
 * matching deinit is not passed on to a library that was never opened. */
static void test_gnutls_global_init_is_held_until_first_use(void **state)
{
    (void)state;
    assert_int_equal(gnutls_global_init(), 0);
    gnutls_global_deinit();
    assert_false(gnutls_lazy_loaded());
    assert_false(maps_mention("/libgnutls"));
}

static void test_every_stub_resolves(void **state)
{
    (void)state;
    char err[512] = "";
    assert_int_equal(curl_lazy_resolve_all(err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(libxml_lazy_resolve_all(err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(hiredis_lazy_resolve_all(err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(libcrypto_lazy_resolve_all(err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(gnutls_lazy_resolve_all(err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(libm_lazy_resolve_all(err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(idn2_lazy_resolve_all(err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_true(idn2_lazy_loaded());
    assert_true(maps_mention("/libidn2"));
    assert_true(gnutls_lazy_loaded());
    assert_true(maps_mention("/libgnutls"));
    assert_true(libm_lazy_loaded());
    assert_true(maps_mention("/libm.so"));
    assert_true(libcrypto_lazy_loaded());
    assert_true(maps_mention("/libcrypto"));
    assert_true(curl_lazy_loaded());
    assert_true(maps_mention("/libcurl"));
    assert_true(maps_mention("/libxml2"));
    assert_true(maps_mention("/libhiredis"));
}

static size_t discard(char *data, size_t size, size_t nmemb, void *userdata)
{
    (void)data;
    (void)userdata;
    return size * nmemb;
}

static void test_curl_stubs_forward(void **state)
{
    (void)state;
    CURL *e = curl_easy_init();
    assert_non_null(e);
    static char tag[] = "mine";
    /* one option of each argument type range, each accepted as that type */
    assert_int_equal(curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 1500L), CURLE_OK);          /* long */
    assert_int_equal(curl_easy_setopt(e, CURLOPT_PRIVATE, tag), CURLE_OK);          /* object */
    assert_int_equal(curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard), CURLE_OK);  /* func */
    assert_int_equal(curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)1 << 40),
                     CURLE_OK);                                                         /* off_t */
    struct curl_blob blob = { .data = (void *)"x", .len = 1, .flags = CURL_BLOB_COPY };
    CURLcode brc = curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);                     /* blob */
    assert_true(brc == CURLE_OK || brc == CURLE_NOT_BUILT_IN);
    /* an option number out of every range is not known, as libcurl itself would say; values
     * libcurl checks arrive as sent: a negative long and a negative curl_off_t are refused */
    assert_int_equal(curl_easy_setopt(e, (CURLoption)99999, 0L), CURLE_UNKNOWN_OPTION);
    assert_int_equal(curl_easy_setopt(e, CURLOPT_MAXREDIRS, -2L), CURLE_BAD_FUNCTION_ARGUMENT);
    assert_int_equal(curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)-5),
                     CURLE_BAD_FUNCTION_ARGUMENT);
    /* the object pointer comes back unchanged through getinfo's pointer argument */
    char *got = NULL;
    assert_int_equal(curl_easy_getinfo(e, CURLINFO_PRIVATE, &got), CURLE_OK);
    assert_ptr_equal(got, tag);
    assert_string_equal(curl_easy_strerror(CURLE_UNKNOWN_OPTION),
                        "An unknown option was passed in to libcurl");
    char *esc = curl_easy_escape(e, "a b/c", 0);
    assert_string_equal(esc, "a%20b%2Fc");
    curl_free(esc);
    curl_easy_cleanup(e);

    CURLU *u = curl_url();
    assert_non_null(u);
    assert_int_equal(curl_url_set(u, CURLUPART_URL, "https://Example.com/a/../b?q=1", 0),
                     CURLUE_OK);
    CURLU *copy = curl_url_dup(u);
    char *host = NULL, *url = NULL;
    assert_int_equal(curl_url_get(copy, CURLUPART_HOST, &host, 0), CURLUE_OK);
    assert_string_equal(host, "Example.com");
    assert_int_equal(curl_url_get(copy, CURLUPART_URL, &url, 0), CURLUE_OK);
    assert_string_equal(url, "https://Example.com/b?q=1");
    curl_free(host);
    curl_free(url);
    curl_url_cleanup(copy);
    curl_url_cleanup(u);
    assert_string_equal(curl_url_strerror(CURLUE_BAD_HANDLE),
                        "An invalid CURLU pointer was passed as argument");

    assert_int_equal(curl_getdate("Wed, 21 Oct 2015 07:28:00 GMT", NULL), 1445412480);
    struct curl_slist *l = curl_slist_append(NULL, "A: 1");
    l = curl_slist_append(l, "B: 2");
    assert_string_equal(l->next->data, "B: 2");
    curl_slist_free_all(l);

    CURLM *m = curl_multi_init();
    assert_non_null(m);
    assert_int_equal(curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 2L), CURLM_OK);
    assert_int_equal(curl_multi_setopt(m, (CURLMoption)99999, 0L), CURLM_UNKNOWN_OPTION);
    int running = -1, queued = -1;
    assert_int_equal(curl_multi_perform(m, &running), CURLM_OK);
    assert_int_equal(running, 0);
    assert_null(curl_multi_info_read(m, &queued));
    assert_int_equal(curl_multi_cleanup(m), CURLM_OK);
}

static void test_libxml_stubs_forward(void **state)
{
    (void)state;
    const char html[] = "<html><body><p>x</p><a href=\"/x\" id=\"k\">hi <b>there</b></a>"
                        "</body></html>";
    htmlDocPtr doc = htmlReadMemory(html, (int)strlen(html), NULL, "UTF-8",
                                    HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NONET);
    assert_non_null(doc);
    xmlNode *top = (xmlNode *)doc, *n = doc->children;
    while (n && !html_is_element(n, "a"))
        n = html_next_in_order(n, top);
    assert_non_null(n);
    xmlChar *href = xmlGetProp(n, (const xmlChar *)"href");
    assert_string_equal((const char *)href, "/x");
    libxml_free(href);
    assert_non_null(xmlHasProp(n, (const xmlChar *)"id"));
    assert_null(xmlHasProp(n, (const xmlChar *)"class"));
    xmlChar *text = xmlNodeGetContent(n);
    assert_string_equal((const char *)text, "hi there");
    libxml_free(text);
    xmlFreeDoc(doc);
}

static void test_hiredis_stubs_forward(void **state)
{
    (void)state;
    redisReader *r = redisReaderCreate();
    assert_non_null(r);
    redisReaderFree(r);
    /* a port nobody listens on: the connect fails and says so */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    struct timeval tv = { 2, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", ntohs(a.sin_port), tv);
    assert_non_null(c);
    assert_int_not_equal(c->err, 0);
    const char *argv[] = { "PING" };
    size_t lens[] = { 4 };
    assert_int_equal(redisAppendCommandArgv(c, 1, argv, lens), REDIS_OK);   /* buffered only */
    int done = 0;
    assert_int_equal(redisBufferWrite(c, &done), REDIS_ERR);   /* a failed context sends nothing */
    assert_int_equal(redisBufferRead(c), REDIS_ERR);           /* ... and reads nothing */
    void *reply = NULL;
    assert_int_equal(redisGetReplyFromReader(c, &reply), REDIS_OK);
    assert_null(reply);
    redisFree(c);
}

/* ---- failures ---------------------------------------------------------------------------- */

#define MISSING "libtw-no-such-library.so.7"
static struct lazy_lib missing = LAZY_LIB_INIT(MISSING, "testing", NULL);
static struct lazy_sym missing_fn = LAZY_SYM_INIT("tw_no_such_function");

/* The maths stubs give libm's results (inputs volatile, so the compiler cannot fold the calls). */
static void test_libm_stubs_forward(void **state)
{
    (void)state;
    volatile double half = 0.5, one = 1.0, two = 2.0, ten = 10.0, minus = -2.75, big = 7.5;
    assert_float_equal(sin(half), 0.479425538604203, 1e-15);
    assert_float_equal(cos(half), 0.8775825618903728, 1e-15);
    assert_float_equal(tan(half), 0.5463024898437905, 1e-15);
    double s = 0, c = 0;
    sincos(half, &s, &c);
    assert_float_equal(s, 0.479425538604203, 1e-15);
    assert_float_equal(c, 0.8775825618903728, 1e-15);
    assert_float_equal(asin(half), 0.5235987755982989, 1e-15);
    assert_float_equal(acos(half), 1.0471975511965979, 1e-15);
    assert_float_equal(atan(one), 0.7853981633974483, 1e-15);
    assert_float_equal(atan2(one, two), 0.4636476090008061, 1e-15);
    assert_float_equal(sinh(one), 1.1752011936438014, 1e-15);
    assert_float_equal(cosh(one), 1.5430806348152437, 1e-15);
    assert_float_equal(tanh(half), 0.46211715726000974, 1e-15);
    assert_float_equal(asinh(one), 0.881373587019543, 1e-15);
    assert_float_equal(acosh(two), 1.3169578969248166, 1e-15);
    assert_float_equal(atanh(half), 0.5493061443340549, 1e-15);
    assert_float_equal(exp(one), 2.718281828459045, 1e-15);
    assert_float_equal(log(ten), 2.302585092994046, 1e-15);
    assert_float_equal(pow(two, ten), 1024.0, 0.0);
    assert_float_equal(sqrt(two), 1.4142135623730951, 1e-15);
    assert_float_equal(fmod(big, two), 1.5, 0.0);
    assert_float_equal(trunc(minus), -2.0, 0.0);
    assert_true(isnan(sqrt(minus)));        /* libm's domain handling, not a reimplementation */
}

/* The worker's code calls sin, cos and floor (twitter_txid.c, web.c). GCC at -O2 makes sin and
 * cos one sincos and inlines floor, but GCC at -O0 or -Os and clang leave the calls as they are:
 * each needs a stub, or such a build of the worker fails to link (libm is not linked). Called
 * through pointers here, as such a build calls them, so the symbols are needed at any -O. */
static void test_libm_stubs_cover_what_any_compiler_calls(void **state)
{
    (void)state;
    double (*volatile fn_floor)(double) = floor;
    double (*volatile fn_sin)(double) = sin;
    double (*volatile fn_cos)(double) = cos;
    assert_float_equal(fn_floor(-2.5), -3.0, 0.0);
    assert_float_equal(fn_floor(2.999), 2.0, 0.0);
    assert_float_equal(fn_floor(1e300), 1e300, 0.0);
    assert_true(signbit(fn_floor(-0.0)));   /* libm's, to the sign of zero */
    assert_float_equal(fn_sin(0.5), 0.479425538604203, 1e-15);
    assert_float_equal(fn_cos(0.5), 0.8775825618903728, 1e-15);
    char err[512] = "";
    assert_int_equal(libm_lazy_resolve_all(err, sizeof err), 0);
    assert_true(libm_lazy_loaded());
}

/* The GnuTLS stubs reach GnuTLS (the TLS round trip itself: tests/e2e/test_enclave.py). */
static void test_gnutls_stubs_forward(void **state)
{
    (void)state;
    const char *text = gnutls_strerror(GNUTLS_E_AGAIN);
    assert_non_null(text);
    assert_non_null(strstr(text, "again"));
    void *p = gnutls_malloc(32);              /* GnuTLS's allocator: libc's malloc */
    assert_non_null(p);
    memset(p, 0, 32);
    free(p);
    gnutls_priority_t prio = NULL;
    assert_int_equal(gnutls_priority_init(&prio, "NORMAL", NULL), GNUTLS_E_SUCCESS);
    gnutls_priority_deinit(prio);
    const char *bad = NULL;
    assert_true(gnutls_priority_init(&prio, "NO-SUCH-THING", &bad) < 0);
    assert_non_null(bad);
}

/* The libidn2 stubs forward arguments and results (the conversions themselves: test_idn). */
static void test_idn2_stubs_forward(void **state)
{
    (void)state;
    uint8_t *out = NULL;
    assert_int_equal(idn2_lookup_u8((const uint8_t *)"b\xc3\xbc" "cher.example", &out,
                                    IDN2_NONTRANSITIONAL), IDN2_OK);
    assert_string_equal((const char *)out, "xn--bcher-kva.example");
    idn2_free(out);
    out = NULL;
    assert_int_equal(idn2_lookup_u8((const uint8_t *)"-b\xc3\xbc", &out, IDN2_NONTRANSITIONAL),
                     IDN2_HYPHEN_STARTEND);
    assert_null(out);
    assert_string_equal(idn2_strerror(IDN2_HYPHEN_STARTEND),
                        "string start/ends with forbidden hyphen");
}

static void test_missing_library_is_reported(void **state)
{
    (void)state;
    char err[512] = "";
    assert_int_equal(lazy_lib_try_open(&missing, err, sizeof err), -1);
    assert_non_null(strstr(err, MISSING " (needed for testing) cannot be loaded"));
    assert_non_null(strstr(err, "cannot open shared object file"));   /* dlerror's reason */
    assert_false(lazy_lib_loaded(&missing));
    err[0] = '\0';
    assert_int_equal(lazy_lib_resolve_all(&missing, &missing_fn, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, MISSING));
}

static struct lazy_lib libc_lib = LAZY_LIB_INIT("libc.so.6", "testing", NULL);

static void test_missing_symbol_is_reported(void **state)
{
    (void)state;
    struct lazy_sym syms[] = { LAZY_SYM_INIT("strlen"), LAZY_SYM_INIT("tw_no_such_function") };
    char err[512] = "";
    assert_int_equal(lazy_lib_resolve_all(&libc_lib, syms, 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "libc.so.6 (needed for testing) lacks tw_no_such_function"));
    assert_non_null(atomic_load(&syms[0].addr));                    /* the first one resolved */
    assert_null(atomic_load(&syms[1].addr));
}

static int calls;

static int failing_init(void *handle, char *err, size_t errlen)
{
    (void)handle;
    snprintf(err, errlen, "init said no (%d)", ++calls);
    return -1;
}

static struct lazy_lib failing = LAZY_LIB_INIT("libc.so.6", "testing", failing_init);

static void test_failing_init_is_reported_and_retried(void **state)
{
    (void)state;
    char err[512] = "";
    assert_int_equal(lazy_lib_try_open(&failing, err, sizeof err), -1);
    assert_string_equal(err,
                        "libc.so.6 (needed for testing) cannot be initialised: init said no (1)");
    assert_false(lazy_lib_loaded(&failing));
    assert_int_equal(lazy_lib_try_open(&failing, err, sizeof err), -1);
    assert_int_equal(calls, 2);
}

/* lazy_lib_sym on a missing library: the child logs what is missing and why, then aborts. */
static void test_missing_library_aborts_with_a_message(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        lazy_lib_sym(&missing, &missing_fn);
        _exit(0);                                  /* not reached */
    }
    close(fds[1]);
    char out[4096];
    ssize_t n = read_upto_fd(fds[0], out, sizeof out - 1);
    close(fds[0]);
    assert_true(n > 0);
    out[n] = '\0';
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    assert_non_null(strstr(out, MISSING " (needed for testing) cannot be loaded"));
    assert_non_null(strstr(out, "cannot open shared object file"));
    assert_non_null(strstr(out, "the worker cannot go on"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_mapped_before_first_use),
        cmocka_unit_test(test_gnutls_global_init_is_held_until_first_use),
        cmocka_unit_test(test_every_stub_resolves),
        cmocka_unit_test(test_libm_stubs_forward),
        cmocka_unit_test(test_libm_stubs_cover_what_any_compiler_calls),
        cmocka_unit_test(test_gnutls_stubs_forward),
        cmocka_unit_test(test_curl_stubs_forward),
        cmocka_unit_test(test_libxml_stubs_forward),
        cmocka_unit_test(test_hiredis_stubs_forward),
        cmocka_unit_test(test_idn2_stubs_forward),
        cmocka_unit_test(test_missing_library_is_reported),
        cmocka_unit_test(test_missing_symbol_is_reported),
        cmocka_unit_test(test_failing_init_is_reported_and_retried),
        cmocka_unit_test(test_missing_library_aborts_with_a_message),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fetch_global_cleanup();
    return rc;
}
