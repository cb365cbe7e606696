/* idn2_lazy.c - the libidn2 functions the worker calls, forwarding to libidn2 opened on first use
 * (util/lazy_lib.h; the ASCII form of internationalized host names, net/idn.c).
 *
 * libidn2 is needed only when a URL to fetch, or a blacklist term, has a non-ASCII host name: a
 * worker that never meets one never maps it (libcurl, once opened, maps it as its own
 * dependency; the two share one copy). Each function has the name and the prototype of the real
 * one (<idn2.h> is included, so the compiler checks them) and calls it through an address
 * resolved once. A new libidn2 function needs a stub here and a line in IDN2_SYMBOLS (REAL()
 * does not compile without it); test_lazy_lib checks that every symbol listed resolves. */
#include "net/idn2_lazy.h"

#include <idn2.h>

#include "util/lazy_lib.h"

#ifndef TW_LIBIDN2_SONAME
#define TW_LIBIDN2_SONAME "libidn2.so.0"        /* Debian 12; meson passes the one it found */
#endif

#define IDN2_SYMBOLS(X) X(idn2_lookup_u8) X(idn2_strerror) X(idn2_free)

enum { IDN2_SYMBOLS(LAZY_SYM_ENUM) IDN2_SYMBOL_COUNT };
static struct lazy_sym syms[IDN2_SYMBOL_COUNT] = { IDN2_SYMBOLS(LAZY_SYM_ENTRY) };

static struct lazy_lib idn2_lib = LAZY_LIB_INIT(TW_LIBIDN2_SONAME,
    "internationalized host names in the web job kind", NULL);

/* REAL(name): libidn2's name, with the type of its prototype in the header. */
#define REAL(name) ((__typeof__(&name))lazy_lib_sym(&idn2_lib, &syms[LAZY_SYM_##name]))

bool idn2_lazy_loaded(void)
{
    return lazy_lib_loaded(&idn2_lib);
}

int idn2_lazy_resolve_all(char *err, size_t errlen)
{
    return lazy_lib_resolve_all(&idn2_lib, syms, IDN2_SYMBOL_COUNT, err, errlen);
}

int idn2_lookup_u8(const uint8_t *src, uint8_t **lookupname, int flags)
{
    return REAL(idn2_lookup_u8)(src, lookupname, flags);
}

const char *idn2_strerror(int rc)
{
    return REAL(idn2_strerror)(rc);
}

void idn2_free(void *ptr)
{
    REAL(idn2_free)(ptr);
}
