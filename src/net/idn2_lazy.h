/* idn2_lazy.h - libidn2, opened on first use (see idn2_lazy.c and util/lazy_lib.h).
 *
 * Code that converts host names (net/idn.c) includes <idn2.h> and calls it as usual; the worker
 * is not linked with libidn2, the functions it calls are defined in idn2_lazy.c. These are the
 * loader's own entry points. */
#ifndef TW_IDN2_LAZY_H
#define TW_IDN2_LAZY_H

#include <stdbool.h>
#include <stddef.h>

/* idn2_lazy_loaded: libidn2 has been opened by the worker's stubs. */
bool idn2_lazy_loaded(void);

/* idn2_lazy_resolve_all opens libidn2 and resolves every function the stubs forward to, now.
 * Returns 0, or -1 with err (which library, which symbol, why). For the unit tests. */
int idn2_lazy_resolve_all(char *err, size_t errlen);

#endif
