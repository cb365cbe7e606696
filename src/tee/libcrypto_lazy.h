/* libcrypto_lazy.h - OpenSSL's libcrypto, opened on first use (see libcrypto_lazy.c and
 * util/lazy_lib.h).
 *
 * Code that uses libcrypto (tee/keydist.c, tee/ratls.c) includes the OpenSSL headers and calls it
 * as usual; the worker is not linked with libcrypto, the functions it calls are defined in
 * libcrypto_lazy.c. These are the loader's own entry points. */
#ifndef TW_LIBCRYPTO_LAZY_H
#define TW_LIBCRYPTO_LAZY_H

#include <stdbool.h>
#include <stddef.h>

/* libcrypto_lazy_loaded: libcrypto has been opened by the worker's stubs. */
bool libcrypto_lazy_loaded(void);

/* libcrypto_lazy_resolve_all opens libcrypto and resolves every function the stubs forward to,
 * now. Returns 0, or -1 with err (which library, which symbol, why). For the unit tests. */
int libcrypto_lazy_resolve_all(char *err, size_t errlen);

#endif
