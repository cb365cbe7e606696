/* hiredis_lazy.c - the hiredis functions the Redis store calls, forwarding to libhiredis opened
 * on first use (see util/lazy_lib.h).
 *
 * Each function has the name and the prototype of the real one (the header is included, so the
 * compiler checks them) and calls it through an address resolved once. The store sends with
 * redisAppendCommandArgv + redisBufferWrite and reads with redisBufferRead +
 * redisGetReplyFromReader, counting what it reads (redis_conn.c), never with the unbounded
 * redisGetReply or redisCommand. A new hiredis function needs a stub here and a line in HIREDIS_SYMBOLS
 * (REAL() does not compile without it); test_lazy_lib checks that every symbol listed resolves. */
#include "store/hiredis_lazy.h"

#include <hiredis/hiredis.h>

#include "util/lazy_lib.h"

#ifndef TW_LIBHIREDIS_SONAME
#define TW_LIBHIREDIS_SONAME "libhiredis.so.0.14"   /* Debian 12; meson passes the one it found */
#endif

#define HIREDIS_SYMBOLS(X) \
    X(redisConnectWithTimeout) X(redisSetTimeout) X(redisEnableKeepAlive) X(redisFree) \
    X(redisAppendCommandArgv) X(redisBufferWrite) X(redisBufferRead) X(redisGetReplyFromReader) \
    X(freeReplyObject) X(redisReaderCreate) X(redisReaderFree)

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

int redisAppendCommandArgv(redisContext *c, int argc, const char **argv, const size_t *argvlen)
{
    return REAL(redisAppendCommandArgv)(c, argc, argv, argvlen);
}

int redisBufferWrite(redisContext *c, int *done)
{
    return REAL(redisBufferWrite)(c, done);
}

int redisBufferRead(redisContext *c)
{
    return REAL(redisBufferRead)(c);
}

int redisGetReplyFromReader(redisContext *c, void **reply)
{
    return REAL(redisGetReplyFromReader)(c, reply);
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
