/* proc_maps.h - maps_mention for the unit tests that check which libraries a process has mapped
 * (test_lazy_lib, test_idn). Header-only. */
#ifndef TESTS_PROC_MAPS_H
#define TESTS_PROC_MAPS_H

#include <stdbool.h>
#include <string.h>

#include "util/file_read.h"

/* maps_mention: /proc/self/maps names a file containing what. */
static bool maps_mention(const char *what)
{
    static char maps[1 << 20];
    ssize_t n = read_upto_path("/proc/self/maps", maps, sizeof maps - 1);
    assert_true(n > 0);
    maps[n] = '\0';
    return strstr(maps, what) != NULL;
}

#endif
