/* lazy_lib.c - dlopen on first use, dlsym once per symbol (see lazy_lib.h).
 *
 * The handle and every resolved address are published with a release store after they are
 * complete, so the common path is one acquire load. The first open takes the library's mutex
 * (not pthread_once: its routine takes no argument, and one once-routine per library would be
 * boilerplate in every stub file). Libraries are opened RTLD_NOW (a missing symbol of theirs
 * fails here, not in the middle of a job) and RTLD_LOCAL (their symbols do not join the global
 * scope), and never closed. */
#include "util/lazy_lib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

/* open_locked: lib->lock held. */
static void *open_locked(struct lazy_lib *lib, char *err, size_t errlen)
{
    void *h = atomic_load_explicit(&lib->handle, memory_order_relaxed);
    if (h)
        return h;
    h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(err, errlen, "%s (needed for %s) cannot be loaded: %s", lib->soname,
                 lib->needed_for, why ? why : "dlopen failed");
        return NULL;
    }
    if (lib->on_load) {
        char why[200] = "";
        if (lib->on_load(h, why, sizeof why) < 0) {
            /* the handle stays open (dlclose of a half-initialised library is no safer) but is
             * not published: the next call tries on_load again */
            snprintf(err, errlen, "%s (needed for %s) cannot be initialised: %s", lib->soname,
                     lib->needed_for, why);
            return NULL;
        }
    }
    atomic_store_explicit(&lib->handle, h, memory_order_release);
    return h;
}

static void *open_lib(struct lazy_lib *lib, char *err, size_t errlen)
{
    void *h = atomic_load_explicit(&lib->handle, memory_order_acquire);
    if (h)
        return h;
    pthread_mutex_lock(&lib->lock);
    h = open_locked(lib, err, errlen);
    pthread_mutex_unlock(&lib->lock);
    return h;
}

static void *resolve(struct lazy_lib *lib, struct lazy_sym *sym, char *err, size_t errlen)
{
    void *addr = atomic_load_explicit(&sym->addr, memory_order_acquire);
    if (addr)
        return addr;
    void *h = open_lib(lib, err, errlen);
    if (!h)
        return NULL;
    dlerror();
    addr = dlsym(h, sym->name);
    if (!addr) {
        const char *why = dlerror();
        snprintf(err, errlen, "%s (needed for %s) lacks %s: %s", lib->soname, lib->needed_for,
                 sym->name, why ? why : "symbol is NULL");
        return NULL;
    }
    /* two threads may both get here: they store the same address */
    atomic_store_explicit(&sym->addr, addr, memory_order_release);
    return addr;
}

void *lazy_lib_sym(struct lazy_lib *lib, struct lazy_sym *sym)
{
    char err[512];
    void *addr = resolve(lib, sym, err, sizeof err);
    if (addr)
        return addr;
    /* The worker's package depends on this library: without it the call that got here has no
     * way on, and no caller of the real function expects an error meaning "not installed". */
    log_error("%s; install the package that provides it (the worker cannot go on)", err);
    abort();
}

bool lazy_lib_loaded(struct lazy_lib *lib)
{
    return atomic_load_explicit(&lib->handle, memory_order_acquire) != NULL;
}

int lazy_lib_try_open(struct lazy_lib *lib, char *err, size_t errlen)
{
    return open_lib(lib, err, errlen) ? 0 : -1;
}

int lazy_lib_resolve_all(struct lazy_lib *lib, struct lazy_sym *syms, size_t n, char *err,
                         size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        if (!resolve(lib, &syms[i], err, errlen))
            return -1;
    return 0;
}
