/* gnutls_lazy.h - GnuTLS, opened on first use (see gnutls_lazy.c and util/lazy_lib.h).
 *
 * libmicrohttpd's TLS code calls GnuTLS as usual; the worker is not linked with GnuTLS, the
 * functions it calls are defined in gnutls_lazy.c. These are the loader's own entry points. */
#ifndef TW_GNUTLS_LAZY_H
#define TW_GNUTLS_LAZY_H

#include <stdbool.h>
#include <stddef.h>

/* gnutls_lazy_loaded: GnuTLS has been opened (an HTTPS listener was started). */
bool gnutls_lazy_loaded(void);

/* gnutls_lazy_resolve_all opens GnuTLS and resolves every symbol the stubs forward to, now.
 * Returns 0, or -1 with err (which library, which symbol, why). For the unit tests. */
int gnutls_lazy_resolve_all(char *err, size_t errlen);

#endif
