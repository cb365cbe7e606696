/* test_file_read.c - read_upto_fd / read_upto_path (util/file_read.c): whole short files, the
 * byte limit, data that arrives in pieces (a pipe), a missing file; and clock_after_ms
 * (util/clock_after.c): the millisecond offset and tv_nsec kept below one second. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/clock_after.h"
#include "util/file_read.h"

static void write_temp(char path[64], const char *text)
{
    strcpy(path, "/tmp/tw-file-read-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void test_whole_file_and_limit(void **state)
{
    (void)state;
    char path[64], buf[16];
    write_temp(path, "0123456789");
    memset(buf, 'x', sizeof buf);
    assert_int_equal(read_upto_path(path, buf, sizeof buf), 10);
    assert_memory_equal(buf, "0123456789", 10);
    assert_int_equal(buf[10], 'x');                     /* nothing written past the data */
    assert_int_equal(read_upto_path(path, buf, 4), 4);   /* the limit wins */
    assert_memory_equal(buf, "0123", 4);
    assert_int_equal(read_upto_path(path, buf, 0), 0);
    unlink(path);
}

static void test_missing_file(void **state)
{
    (void)state;
    char buf[4];
    errno = 0;
    assert_int_equal(read_upto_path("/nonexistent/tw-file-read", buf, sizeof buf), -1);
    assert_int_equal(errno, ENOENT);
}

static void test_pieces_until_eof(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], "abc", 3), 3);
    assert_int_equal(write(p[1], "defg", 4), 4);
    close(p[1]);
    char buf[32];
    assert_int_equal(read_upto_fd(p[0], buf, sizeof buf), 7);
    assert_memory_equal(buf, "abcdefg", 7);
    assert_int_equal(read_upto_fd(p[0], buf, sizeof buf), 0);   /* at EOF */
    close(p[0]);
    assert_int_equal(read_upto_fd(p[0], buf, sizeof buf), -1);  /* a closed descriptor */
    assert_int_equal(errno, EBADF);
}

static long long ms_between(const struct timespec *a, const struct timespec *b)
{
    return (long long)(b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

static void test_clock_after(void **state)
{
    (void)state;
    static const long offsets[] = { 0, 1, 200, 999, 1000, 1999, 3000, 86400000 };
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        struct timespec before, after, t;
        clock_gettime(CLOCK_MONOTONIC, &before);
        t = clock_after_ms(CLOCK_MONOTONIC, offsets[i]);
        clock_gettime(CLOCK_MONOTONIC, &after);
        assert_true(t.tv_nsec >= 0 && t.tv_nsec < 1000000000L);
        assert_true(ms_between(&before, &t) >= offsets[i]);
        assert_true(ms_between(&after, &t) <= offsets[i]);
    }
    struct timespec now, t;
    clock_gettime(CLOCK_REALTIME, &now);
    t = clock_after_ms(CLOCK_REALTIME, 500);
    assert_true(t.tv_nsec < 1000000000L);
    assert_true(ms_between(&now, &t) >= 500 && ms_between(&now, &t) < 60000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_file_and_limit),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_pieces_until_eof),
        cmocka_unit_test(test_clock_after),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
