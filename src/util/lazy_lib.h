/* lazy_lib.h - shared libraries opened with dlopen on first use instead of linked at start-up.
 *
 * libcurl, libxml2 and libhiredis (and what they pull in: OpenSSL's libssl, Kerberos, LDAP, ICU,
 * libstdc++, ...) are needed only by the job kinds that fetch or parse HTML and by the Redis store;
 * OpenSSL's libcrypto only by the key distributor's key and the enclave's certificate; libidn2
 * only by a non-ASCII host name to fetch (net/idn2_lazy.c).
 * A worker that never runs those maps none of their pages, runs none of their relocations and
 * constructors. Each library has a stub file next to its users (net/curl_lazy.c,
 * kinds/libxml_lazy.c, store/hiredis_lazy.c, tee/libcrypto_lazy.c) that defines the functions our
 * code calls, with the library's own names and prototypes, forwarding to the real ones found here.
 *
 * A library that cannot be opened, or lacks a symbol, stops the process (lazy_lib_sym): the
 * worker's package depends on these libraries, so their absence is a broken installation, and a
 * stub has no way to report an error its real counterpart would not. The message names the
 * library and says why (dlerror). The lazy_lib_try_* calls report instead of stopping, for the
 * unit test that checks every stub resolves. */
#ifndef TW_LAZY_LIB_H
#define TW_LAZY_LIB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct lazy_lib {
    const char *soname;              /* what dlopen is given, e.g. "libcurl.so.4" */
    const char *needed_for;          /* for the error message: what the worker needs it for */
    /* on_load, when set, runs once right after dlopen and before any symbol is handed out
     * (libcurl's global init). Returns 0, or -1 with err; it must not call lazy_lib_sym on lib. */
    int (*on_load)(void *handle, char *err, size_t errlen);
    pthread_mutex_t lock;            /* serialises the one dlopen */
    _Atomic(void *) handle;          /* NULL until opened (and on_load succeeded) */
};

#define LAZY_LIB_INIT(soname_, needed_for_, on_load_) \
    { .soname = (soname_), .needed_for = (needed_for_), .on_load = (on_load_), \
      .lock = PTHREAD_MUTEX_INITIALIZER, .handle = NULL }

/* One symbol of a library, resolved once and then read with one atomic load. */
struct lazy_sym {
    const char *name;
    _Atomic(void *) addr;
};

#define LAZY_SYM_INIT(name_) { .name = (name_), .addr = NULL }

/* A stub file lists its library's symbols once, as an X-macro LIST(X) of names, and gets an index
 * per name and the table from it:
 *     enum { LIST(LAZY_SYM_ENUM) COUNT };
 *     static struct lazy_sym syms[COUNT] = { LIST(LAZY_SYM_ENTRY) };
 * so syms[LAZY_SYM_name] is name's slot. */
#define LAZY_SYM_ENUM(name_) LAZY_SYM_##name_,
#define LAZY_SYM_ENTRY(name_) [LAZY_SYM_##name_] = LAZY_SYM_INIT(#name_),

/* lazy_lib_sym returns the address of sym in lib, opening lib on the first call (thread-safe).
 * Never returns NULL: a library or symbol that cannot be found is logged and the process aborts. */
void *lazy_lib_sym(struct lazy_lib *lib, struct lazy_sym *sym);

/* lazy_lib_loaded: lib has been opened (its on_load ran). */
bool lazy_lib_loaded(struct lazy_lib *lib);

/* lazy_lib_try_open opens lib like lazy_lib_sym but reports failure: 0, or -1 with err naming the
 * library and dlerror's reason. */
int lazy_lib_try_open(struct lazy_lib *lib, char *err, size_t errlen);

/* lazy_lib_resolve_all resolves every one of syms[0..n) now (opening lib first). Returns 0, or -1
 * with err naming the library and the first symbol it lacks. */
int lazy_lib_resolve_all(struct lazy_lib *lib, struct lazy_sym *syms, size_t n, char *err,
                         size_t errlen);

#endif
