/* curl_lazy.c - the libcurl functions the worker calls, forwarding to libcurl opened on first use.
 *
 * Each function below has the name and the prototype of the real one (the header is included,
 * so the compiler checks them) and calls it through an address resolved once (util/lazy_lib.h).
 * The first call of any of them opens libcurl and runs curl_global_init, which therefore happens
 * exactly once, before any other libcurl call, in whichever thread gets there first. The list is
 * what src/ calls: a new libcurl function needs a stub here (the link fails until it has one) and
 * a line in CURL_SYMBOLS (REAL() does not compile without it); test_lazy_lib checks that every
 * symbol listed resolves.
 *
 * The variadic setters take their one argument with the type the option's number range says
 * (curl.h: LONG < OBJECTPOINT 10000 < FUNCTIONPOINT 20000 < OFF_T 30000 < BLOB 40000) and pass it
 * on with that type; curl_easy_getinfo's argument is always a pointer. */
#include "net/curl_lazy.h"

#include <dlfcn.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "util/lazy_lib.h"

#ifndef TW_LIBCURL_SONAME
#define TW_LIBCURL_SONAME "libcurl.so.4"       /* Debian 12; meson passes the one it found */
#endif

#define CURL_SYMBOLS(X) \
    X(curl_global_init) X(curl_global_cleanup) \
    X(curl_easy_init) X(curl_easy_setopt) X(curl_easy_perform) X(curl_easy_cleanup) \
    X(curl_easy_getinfo) X(curl_easy_header) X(curl_easy_strerror) X(curl_easy_escape) \
    X(curl_free) X(curl_getdate) X(curl_slist_append) X(curl_slist_free_all) \
    X(curl_multi_init) X(curl_multi_setopt) X(curl_multi_add_handle) \
    X(curl_multi_remove_handle) X(curl_multi_perform) X(curl_multi_poll) \
    X(curl_multi_info_read) X(curl_multi_cleanup) \
    X(curl_url) X(curl_url_dup) X(curl_url_set) X(curl_url_get) X(curl_url_cleanup) \
    X(curl_url_strerror) X(curl_share_init) X(curl_share_setopt) X(curl_share_cleanup)

enum { CURL_SYMBOLS(LAZY_SYM_ENUM) CURL_SYMBOL_COUNT };
static struct lazy_sym syms[CURL_SYMBOL_COUNT] = { CURL_SYMBOLS(LAZY_SYM_ENTRY) };

/* libcurl's memory functions: every block it frees is wiped first. Its blocks hold what the
 * worker sends and receives: requests with their Cookie and authorization headers, and POST
 * bodies (libcurl copies a small body behind the request's headers, so the X login's password
 * step passes through one of its buffers); freed as they are, the credentials would stay in
 * freed heap memory. A block that realloc moves is wiped as well. */
static void wiping_free(void *p)
{
    if (p) {
        explicit_bzero(p, malloc_usable_size(p));
        free(p);
    }
}

static void *wiping_realloc(void *p, size_t n)
{
    if (!p)
        return malloc(n);
    if (n == 0) {
        wiping_free(p);
        return NULL;
    }
    size_t have = malloc_usable_size(p);
    if (n <= have)
        return p;                        /* it fits where it is */
    void *q = malloc(n);
    if (q) {
        memcpy(q, p, have);
        wiping_free(p);
    }
    return q;
}

/* curl_global_init must run before any other libcurl call: it runs here, right after dlopen,
 * as curl_global_init_mem with the wiping memory functions above. */
static int init_curl(void *handle, char *err, size_t errlen)
{
    __typeof__(&curl_global_init_mem) global_init =
        (__typeof__(&curl_global_init_mem))dlsym(handle, "curl_global_init_mem");
    if (!global_init) {
        snprintf(err, errlen, "%s", dlerror());
        return -1;
    }
    CURLcode rc = global_init(CURL_GLOBAL_DEFAULT, malloc, wiping_free, wiping_realloc, strdup,
                              calloc);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "curl_global_init failed (code %d)", (int)rc);
        return -1;
    }
    return 0;
}

static struct lazy_lib curl_lib = LAZY_LIB_INIT(TW_LIBCURL_SONAME,
    "the job kinds that fetch: web, twitter, tiktok, reddit, apify", init_curl);

/* REAL(name): libcurl's name, with the type of its prototype in the header. */
#define REAL(name) ((__typeof__(&name))lazy_lib_sym(&curl_lib, &syms[LAZY_SYM_##name]))

bool curl_lazy_loaded(void)
{
    return lazy_lib_loaded(&curl_lib);
}

void curl_lazy_cleanup(void)
{
    if (lazy_lib_loaded(&curl_lib))
        REAL(curl_global_cleanup)();
}

int curl_lazy_resolve_all(char *err, size_t errlen)
{
    return lazy_lib_resolve_all(&curl_lib, syms, CURL_SYMBOL_COUNT, err, errlen);
}

/* ---- easy interface ------------------------------------------------------------------------ */

CURL *curl_easy_init(void)
{
    return REAL(curl_easy_init)();
}

/* A function pointer of any type, as it travels through the variadic argument; curl reads it back
 * as the callback type of the option. */
typedef void (*any_function)(void);

/* The parentheses around the name keep curl.h's type-checking macro of the same name out. */
CURLcode (curl_easy_setopt)(CURL *curl, CURLoption option, ...)
{
    va_list ap;
    va_start(ap, option);
    CURLcode rc;
    if (option < CURLOPTTYPE_LONG)
        rc = CURLE_UNKNOWN_OPTION;
    else if (option < CURLOPTTYPE_OBJECTPOINT)
        rc = REAL(curl_easy_setopt)(curl, option, va_arg(ap, long));
    else if (option < CURLOPTTYPE_FUNCTIONPOINT)
        rc = REAL(curl_easy_setopt)(curl, option, va_arg(ap, void *));
    else if (option < CURLOPTTYPE_OFF_T)
        rc = REAL(curl_easy_setopt)(curl, option, va_arg(ap, any_function));
    else if (option < CURLOPTTYPE_BLOB)
        rc = REAL(curl_easy_setopt)(curl, option, va_arg(ap, curl_off_t));
    else if (option < CURLOPTTYPE_BLOB + 10000)
        rc = REAL(curl_easy_setopt)(curl, option, va_arg(ap, struct curl_blob *));
    else
        rc = CURLE_UNKNOWN_OPTION;
    va_end(ap);
    return rc;
}

CURLcode curl_easy_perform(CURL *curl)
{
    return REAL(curl_easy_perform)(curl);
}

void curl_easy_cleanup(CURL *curl)
{
    REAL(curl_easy_cleanup)(curl);
}

CURLcode (curl_easy_getinfo)(CURL *curl, CURLINFO info, ...)
{
    va_list ap;
    va_start(ap, info);
    void *out = va_arg(ap, void *);
    va_end(ap);
    return REAL(curl_easy_getinfo)(curl, info, out);
}

CURLHcode curl_easy_header(CURL *easy, const char *name, size_t index, unsigned int origin,
                           int request, struct curl_header **hout)
{
    return REAL(curl_easy_header)(easy, name, index, origin, request, hout);
}

const char *curl_easy_strerror(CURLcode code)
{
    return REAL(curl_easy_strerror)(code);
}

char *curl_easy_escape(CURL *handle, const char *string, int length)
{
    return REAL(curl_easy_escape)(handle, string, length);
}

void curl_free(void *p)
{
    REAL(curl_free)(p);
}

time_t curl_getdate(const char *p, const time_t *unused)
{
    return REAL(curl_getdate)(p, unused);
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *data)
{
    return REAL(curl_slist_append)(list, data);
}

void curl_slist_free_all(struct curl_slist *list)
{
    REAL(curl_slist_free_all)(list);
}

/* ---- multi interface ----------------------------------------------------------------------- */

CURLM *curl_multi_init(void)
{
    return REAL(curl_multi_init)();
}

CURLMcode (curl_multi_setopt)(CURLM *multi_handle, CURLMoption option, ...)
{
    va_list ap;
    va_start(ap, option);
    CURLMcode rc;
    if (option < CURLOPTTYPE_LONG)
        rc = CURLM_UNKNOWN_OPTION;
    else if (option < CURLOPTTYPE_OBJECTPOINT)
        rc = REAL(curl_multi_setopt)(multi_handle, option, va_arg(ap, long));
    else if (option < CURLOPTTYPE_FUNCTIONPOINT)
        rc = REAL(curl_multi_setopt)(multi_handle, option, va_arg(ap, void *));
    else if (option < CURLOPTTYPE_OFF_T)
        rc = REAL(curl_multi_setopt)(multi_handle, option, va_arg(ap, any_function));
    else if (option < CURLOPTTYPE_BLOB)
        rc = REAL(curl_multi_setopt)(multi_handle, option, va_arg(ap, curl_off_t));
    else
        rc = CURLM_UNKNOWN_OPTION;
    va_end(ap);
    return rc;
}

CURLMcode curl_multi_add_handle(CURLM *multi_handle, CURL *curl_handle)
{
    return REAL(curl_multi_add_handle)(multi_handle, curl_handle);
}

CURLMcode curl_multi_remove_handle(CURLM *multi_handle, CURL *curl_handle)
{
    return REAL(curl_multi_remove_handle)(multi_handle, curl_handle);
}

CURLMcode curl_multi_perform(CURLM *multi_handle, int *running_handles)
{
    return REAL(curl_multi_perform)(multi_handle, running_handles);
}

CURLMcode curl_multi_poll(CURLM *multi_handle, struct curl_waitfd extra_fds[],
                          unsigned int extra_nfds, int timeout_ms, int *ret)
{
    return REAL(curl_multi_poll)(multi_handle, extra_fds, extra_nfds, timeout_ms, ret);
}

CURLMsg *curl_multi_info_read(CURLM *multi_handle, int *msgs_in_queue)
{
    return REAL(curl_multi_info_read)(multi_handle, msgs_in_queue);
}

CURLMcode curl_multi_cleanup(CURLM *multi_handle)
{
    return REAL(curl_multi_cleanup)(multi_handle);
}

/* ---- share interface ----------------------------------------------------------------------- */

CURLSH *curl_share_init(void)
{
    return REAL(curl_share_init)();
}

/* CURLSHOPT_SHARE/UNSHARE take an int (curl_lock_data), the lock functions a function pointer,
 * USERDATA a pointer. */
CURLSHcode (curl_share_setopt)(CURLSH *share, CURLSHoption option, ...)
{
    va_list ap;
    va_start(ap, option);
    CURLSHcode rc;
    switch (option) {
    case CURLSHOPT_SHARE:
    case CURLSHOPT_UNSHARE:
        rc = REAL(curl_share_setopt)(share, option, va_arg(ap, int));
        break;
    case CURLSHOPT_LOCKFUNC:
    case CURLSHOPT_UNLOCKFUNC:
        rc = REAL(curl_share_setopt)(share, option, va_arg(ap, any_function));
        break;
    case CURLSHOPT_USERDATA:
        rc = REAL(curl_share_setopt)(share, option, va_arg(ap, void *));
        break;
    default:
        rc = CURLSHE_BAD_OPTION;
        break;
    }
    va_end(ap);
    return rc;
}

CURLSHcode curl_share_cleanup(CURLSH *share)
{
    return REAL(curl_share_cleanup)(share);
}

/* ---- URL API ------------------------------------------------------------------------------- */

CURLU *curl_url(void)
{
    return REAL(curl_url)();
}

CURLU *curl_url_dup(CURLU *in)
{
    return REAL(curl_url_dup)(in);
}

CURLUcode curl_url_set(CURLU *handle, CURLUPart what, const char *part, unsigned int flags)
{
    return REAL(curl_url_set)(handle, what, part, flags);
}

CURLUcode curl_url_get(CURLU *handle, CURLUPart what, char **part, unsigned int flags)
{
    return REAL(curl_url_get)(handle, what, part, flags);
}

void curl_url_cleanup(CURLU *handle)
{
    REAL(curl_url_cleanup)(handle);
}

const char *curl_url_strerror(CURLUcode code)
{
    return REAL(curl_url_strerror)(code);
}
