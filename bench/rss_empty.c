/* rss_empty.c - rss-empty and rss-libs: programs that only wait, for the idle-memory floors.
 *
 * rss-empty links nothing but libc: its VmRSS is what any dynamically linked C program on this
 * machine has before doing anything (the loader, libc, the stack). rss-libs is the same source
 * built with RSS_WORKER_LIBS: it links the shared libraries of what the worker links in from
 * static archives (libmicrohttpd, jansson, nettle, libuuid, libsqlite3; the worker listed them as
 * NEEDED until it took the archives) and calls one trivial function of each
 * once, so the linker keeps them all and the loader maps, relocates and initialises them; nothing
 * else. Its VmRSS is what those libraries cost loaded but unused. Both wait for SIGINT or SIGTERM.
 *
 * Not a test: nothing runs them but bench/floor.sh. */
#include <signal.h>
#include <stdio.h>

#ifdef RSS_WORKER_LIBS
#include <jansson.h>
#include <microhttpd.h>
#include <nettle/version.h>
#include <sqlite3.h>
#include <uuid/uuid.h>

/* touch_libs calls one function of each library; returns 0 when all answered. */
static int touch_libs(void)
{
    uuid_t u;
    uuid_clear(u);
    const char *v[] = { MHD_get_version(), jansson_version_str(), nettle_version_major() == 3 ? "nettle" : NULL,
                        sqlite3_libversion() };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (!v[i])
            return -1;
    return uuid_is_null(u) ? 0 : -1;
}
#else
static int touch_libs(void)
{
    return 0;
}
#endif

int main(void)
{
    if (touch_libs() < 0) {
        fprintf(stderr, "rss: a library did not answer\n");
        return 1;
    }
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    int sig = 0;
    sigwait(&stop, &sig);
    return 0;
}
