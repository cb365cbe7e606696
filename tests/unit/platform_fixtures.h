/* platform_fixtures.h - what the platform unit tests (test_platform.c, test_gramine.c) share:
 * removing a test's temporary directory tree, and opening a platform that must open or must
 * refuse with a given reason. */
#ifndef TW_TEST_PLATFORM_FIXTURES_H
#define TW_TEST_PLATFORM_FIXTURES_H

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "config.h"
#include "tee/platform.h"

static inline int remove_tree_entry(const char *path, const struct stat *st, int flag,
                                    struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* remove_tree deletes dir and everything below it (a test's mkdtemp directory). */
static inline void remove_tree(const char *dir)
{
    nftw(dir, remove_tree_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* open_ok opens p with cfg and fails the test, with the platform's reason, when that fails. */
static inline void open_ok(const struct config *cfg, struct platform *p)
{
    char err[512] = "";

    if (platform_open(p, cfg, err, sizeof err) != 0)
        fail_msg("platform_open: %s", err);
}

/* open_fails checks that opening a platform with cfg fails with an error mentioning needle. */
static inline void open_fails(const struct config *cfg, const char *needle)
{
    struct platform p;
    char err[512] = "";

    assert_int_equal(platform_open(&p, cfg, err, sizeof err), -1);
    if (strstr(err, needle) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

#endif
