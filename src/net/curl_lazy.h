/* curl_lazy.h - libcurl, opened on first use (see curl_lazy.c and util/lazy_lib.h).
 *
 * Code that uses libcurl includes <curl/curl.h> and calls it as usual; the worker is not linked
 * with libcurl, the functions it calls are defined in curl_lazy.c. These are the loader's own
 * entry points. */
#ifndef TW_CURL_LAZY_H
#define TW_CURL_LAZY_H

#include <stdbool.h>
#include <stddef.h>

/* curl_lazy_loaded: libcurl has been opened (and curl_global_init has run). */
bool curl_lazy_loaded(void);

/* curl_lazy_cleanup runs curl_global_cleanup if libcurl was ever opened; otherwise nothing. Call
 * once at exit, after every thread that used libcurl has stopped. */
void curl_lazy_cleanup(void);

/* curl_lazy_resolve_all opens libcurl and resolves every function the stubs forward to, now.
 * Returns 0, or -1 with err (which library, which symbol, why). For the unit tests. */
int curl_lazy_resolve_all(char *err, size_t errlen);

#endif
