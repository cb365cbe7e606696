/* libm_lazy.h - the C library's maths library (libm), opened on first use (see libm_lazy.c and
 * util/lazy_lib.h).
 *
 * Code keeps calling sin, pow, ... from <math.h>; the worker is not linked with libm, the
 * functions called are defined in libm_lazy.c. These are the loader's own entry points. */
#ifndef TW_LIBM_LAZY_H
#define TW_LIBM_LAZY_H

#include <stdbool.h>
#include <stddef.h>

/* libm_lazy_loaded: libm has been opened by the worker's stubs. */
bool libm_lazy_loaded(void);

/* libm_lazy_resolve_all opens libm and resolves every function the stubs forward to, now.
 * Returns 0, or -1 with err (which library, which symbol, why). For the unit tests. */
int libm_lazy_resolve_all(char *err, size_t errlen);

#endif
