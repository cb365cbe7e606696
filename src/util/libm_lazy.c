/* libm_lazy.c - the maths functions the worker's code and SQLite call, forwarding to libm opened
 * on first use (util/lazy_lib.h).
 *
 * SQLite, linked from Debian's static archive (meson.build says why), has SQL functions for
 * trigonometry, logarithms and powers that the worker's statements never call; the worker's own
 * code calls sin, cos and floor only to make Twitter's transaction id (and floor to tell whole
 * numbers in web.c). Linking libm for them cost ~300 kB of resident pages at start-up (its
 * relocations and CPU-dispatch resolvers run when it loads), in a worker that may never call one.
 * The list is what the link needs with any compiler and optimisation level: GCC at -O2 turns
 * sin and cos into one sincos and inlines floor, but GCC at -O0 or -Os and clang call sin, cos and
 * floor themselves. A new maths function fails the link (--no-undefined) until it has a stub here;
 * test_lazy_lib checks that every symbol listed resolves, and that the results are libm's. Each
 * stub has the name and prototype of the real one (<math.h> is included, so the compiler checks
 * them). */
#include "util/libm_lazy.h"

#include <math.h>

#include "util/lazy_lib.h"

#ifndef TW_LIBM_SONAME
#define TW_LIBM_SONAME "libm.so.6"              /* glibc's; meson passes the one it found */
#endif

#define LIBM_SYMBOLS(X) \
    X(sin) X(cos) X(tan) X(sincos) X(asin) X(acos) X(atan) X(atan2) \
    X(sinh) X(cosh) X(tanh) X(asinh) X(acosh) X(atanh) \
    X(exp) X(log) X(pow) X(sqrt) X(fmod) X(trunc) X(floor)

enum { LIBM_SYMBOLS(LAZY_SYM_ENUM) LIBM_SYMBOL_COUNT };
static struct lazy_sym syms[LIBM_SYMBOL_COUNT] = { LIBM_SYMBOLS(LAZY_SYM_ENTRY) };

static struct lazy_lib libm_lib = LAZY_LIB_INIT(TW_LIBM_SONAME,
    "maths functions (Twitter's transaction id, SQLite's SQL maths)", NULL);

/* REAL(name): libm's name, with the type of its prototype in the header. */
#define REAL(name) ((__typeof__(&name))lazy_lib_sym(&libm_lib, &syms[LAZY_SYM_##name]))

bool libm_lazy_loaded(void)
{
    return lazy_lib_loaded(&libm_lib);
}

int libm_lazy_resolve_all(char *err, size_t errlen)
{
    return lazy_lib_resolve_all(&libm_lib, syms, LIBM_SYMBOL_COUNT, err, errlen);
}

/* one argument, one result */
#define UNARY(name) double name(double x) { return REAL(name)(x); }
/* two arguments, one result */
#define BINARY(name) double name(double x, double y) { return REAL(name)(x, y); }

UNARY(sin) UNARY(cos) UNARY(tan) UNARY(asin) UNARY(acos) UNARY(atan)
UNARY(sinh) UNARY(cosh) UNARY(tanh) UNARY(asinh) UNARY(acosh) UNARY(atanh)
UNARY(exp) UNARY(log) UNARY(sqrt) UNARY(trunc) UNARY(floor)
BINARY(atan2) BINARY(pow) BINARY(fmod)

void sincos(double x, double *s, double *c)
{
    REAL(sincos)(x, s, c);
}
