/* hiredis_lazy.c - the hiredis functions the Redis store calls, forwarding to libhiredis opened
 * on first use (see util/lazy_lib.h).
 *
 * Each function has the name and the prototype of the real one (the header is included, so the
 * compiler checks them) and calls it through an address resolved once. redisCommand is variadic:
 * it forwards its arguments as a va_list to redisvCommand, which is what hiredis's own
 * redisCommand does. A new hiredis function needs a stub here and a line in HIREDIS_SYMBOLS
 * (REAL() does not compile without it); test_lazy_lib checks that every symbol listed resolves. */
#include "store/hiredis_lazy.h"

#include <stdarg.h>

#include <hiredis/hiredis.h>

#include "util/lazy_lib.h"

#ifndef TW_LIBHIREDIS_SONAME
#define TW_LIBHIREDIS_SONAME "libhiredis.so.0.14"   /* Debian 12; meson passes the one it found */
#endif

#define HIREDIS_SYMBOLS(X) \
    X(redisConnectWithTimeout) X(redisSetTimeout) X(redisEnableKeepAlive) X(redisFree) \
    X(redisvCommand) X(redisAppendCommandArgv) X(redisGetReply) X(freeReplyObject) \
    X(redisReaderCreate) X(redisReaderFree)

enum { HIREDIS_SYMBOLS(LAZY_SYM_ENUM) HIREDIS_SYMBOL_COUNT };
static struct lazy_sym syms[HIREDIS_SYMBOL_COUNT] = { HIREDIS_SYMBOLS(LAZY_SYM_ENTRY) };

static struct lazy_lib hiredis_lib = LAZY_LIB_INIT(TW_LIBHIREDIS_SONAME,
    "the Redis store (STORE_URL=redis://...)", NULL);

/* REAL(name): hiredis's name, with the type of its prototype in the header. */
#define REAL(name) ((__typeof__(&name))lazy_lib_sym(&hiredis_lib, &syms[LAZY_SYM_##name]))

int hiredis_lazy_resolve_all(char *err, size_t errlen)
{
    return lazy_lib_resolve_all(&hiredis_lib, syms, HIREDIS_SYMBOL_COUNT, err, errlen);
}

redisContext *redisConnectWithTimeout(const char *ip, int port, const struct timeval tv)
{
    return REAL(redisConnectWithTimeout)(ip, port, tv);
}

int redisSetTimeout(redisContext *c, const struct timeval tv)
{
    return REAL(redisSetTimeout)(c, tv);
}

int redisEnableKeepAlive(redisContext *c)
{
    return REAL(redisEnableKeepAlive)(c);
}

void redisFree(redisContext *c)
{
    REAL(redisFree)(c);
}

void *redisCommand(redisContext *c, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    void *reply = REAL(redisvCommand)(c, format, ap);
    va_end(ap);
    return reply;
}

int redisAppendCommandArgv(redisContext *c, int argc, const char **argv, const size_t *argvlen)
{
    return REAL(redisAppendCommandArgv)(c, argc, argv, argvlen);
}

int redisGetReply(redisContext *c, void **reply)
{
    return REAL(redisGetReply)(c, reply);
}

void freeReplyObject(void *reply)
{
    REAL(freeReplyObject)(reply);
}

redisReader *redisReaderCreate(void)
{
    return REAL(redisReaderCreate)();
}

void redisReaderFree(redisReader *r)
{
    REAL(redisReaderFree)(r);
}
