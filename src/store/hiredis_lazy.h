/* hiredis_lazy.h - libhiredis, opened on first use (see hiredis_lazy.c and util/lazy_lib.h).
 *
 * The Redis store includes <hiredis/hiredis.h> and calls it as usual; the worker is not linked
 * with libhiredis, the functions it calls are defined in hiredis_lazy.c, so a worker on the
 * SQLite store never maps it. */
#ifndef TW_HIREDIS_LAZY_H
#define TW_HIREDIS_LAZY_H

#include <stddef.h>

/* hiredis_lazy_resolve_all opens libhiredis and resolves every function the stubs forward to,
 * now. Returns 0, or -1 with err (which library, which symbol, why). For the unit tests. */
int hiredis_lazy_resolve_all(char *err, size_t errlen);

#endif
