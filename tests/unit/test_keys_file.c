/* test_keys_file.c - SEALING_KEYS_FILE: hex and base64 keys, comments, refusals (malformed,
 * duplicate, all-zero, too many, none), and the file checks (mode 0600 only, regular file, size). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tee/keys_file.h"

#define HEX_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
/* base64 of 32 bytes 0xff */
#define B64_B "//////////////////////////////////////////8="

static void test_parse_hex_and_base64(void **state)
{
    (void)state;
    uint8_t keys[2][32];
    char err[200];
    const char text[] = "# fleet keys, newest first\n\n  " HEX_A "  \r\n" B64_B "\n";
    assert_int_equal(keys_file_parse(text, strlen(text), keys, 2, err, sizeof err), 2);
    for (int i = 0; i < 32; i++) {
        assert_int_equal(keys[0][i], i);
        assert_int_equal(keys[1][i], 0xff);
    }
    const char upper[] = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F";
    assert_int_equal(keys_file_parse(upper, strlen(upper), keys, 2, err, sizeof err), 1);
    assert_int_equal(keys[0][10], 10);
}

static void test_parse_refusals(void **state)
{
    (void)state;
    uint8_t keys[2][32];
    char err[200];
    static const struct { const char *text, *want; } bad[] = {
        { "", "no key" },
        { "# only a comment\n\n", "no key" },
        { HEX_A "\n" HEX_A "\n", "line 2: the same key" },
        { HEX_A "\n" B64_B "\n" "1111111111111111111111111111111111111111111111111111111111111111\n",
          "line 3: more than 2 keys" },
        { "00010203\n", "line 1: not a 32-byte key" },
        { "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", "line 1: not a" },
        { "AAAA\n", "line 1: not a" },
        { "//////////////////////////////////////////8=AAAA\n", "line 1: not a" },
        /* a placeholder, never a key: sealing with it would protect nothing (DECISIONS.md) */
        { "# fleet\n0000000000000000000000000000000000000000000000000000000000000000\n",
          "line 2: an all-zero key" },
        { HEX_A "\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "line 2: an all-zero key" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (keys_file_parse(bad[i].text, strlen(bad[i].text), keys, 2, err, sizeof err) != -1)
            fail_msg("accepted case %zu", i);
        if (!strstr(err, bad[i].want))
            fail_msg("case %zu: %s (wanted %s)", i, err, bad[i].want);
    }
}

static char *write_file(const char *text, mode_t mode)
{
    char *path = strdup("/tmp/tw-keys-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static void test_load_checks_the_file(void **state)
{
    (void)state;
    uint8_t keys[2][32];
    char err[300];
    char *ok = write_file(HEX_A "\n", 0600);
    assert_int_equal(keys_file_load(ok, keys, 2, err, sizeof err), 1);
    assert_int_equal(keys[0][31], 31);
    assert_int_equal(chmod(ok, 0400), 0);
    assert_int_equal(keys_file_load(ok, keys, 2, err, sizeof err), 1);
    assert_int_equal(chmod(ok, 0640), 0);
    assert_int_equal(keys_file_load(ok, keys, 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "mode 0640"));
    assert_non_null(strstr(err, "0600"));
    assert_int_equal(chmod(ok, 0604), 0);
    assert_int_equal(keys_file_load(ok, keys, 2, err, sizeof err), -1);
    unlink(ok);
    assert_int_equal(keys_file_load(ok, keys, 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "No such file"));
    free(ok);

    char big[KEYS_FILE_MAX_BYTES + 100];
    memset(big, '#', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char *large = write_file(big, 0600);
    assert_int_equal(keys_file_load(large, keys, 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "larger than"));
    unlink(large);
    free(large);

    assert_int_equal(keys_file_load("/tmp", keys, 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a regular file"));
    char *malformed = write_file("nope\n", 0600);
    assert_int_equal(keys_file_load(malformed, keys, 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "line 1"));
    assert_non_null(strstr(err, malformed));
    unlink(malformed);
    free(malformed);
}

/* A key file reached through a symbolic link is the file it names: Kubernetes mounts each key
 * of a Secret as a link into a "..data/" directory, systemd and Docker use bind mounts. The type
 * and mode checks apply to the file the link names. */
static void test_load_follows_a_symbolic_link(void **state)
{
    (void)state;
    uint8_t keys[2][32];
    char err[300] = "";
    char *target = write_file(HEX_A "\n", 0400);
    char link_path[] = "/tmp/tw-keys-link-XXXXXX";
    int fd = mkstemp(link_path);
    assert_true(fd >= 0);
    close(fd);
    unlink(link_path);
    assert_int_equal(symlink(target, link_path), 0);
    if (keys_file_load(link_path, keys, 2, err, sizeof err) != 1)
        fail_msg("refused a link to a mode-0400 key file: %s", err);
    assert_int_equal(keys[0][31], 31);
    assert_int_equal(chmod(target, 0644), 0);
    assert_int_equal(keys_file_load(link_path, keys, 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "mode 0644"));
    unlink(link_path);
    unlink(target);
    free(target);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_hex_and_base64),
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_load_checks_the_file),
        cmocka_unit_test(test_load_follows_a_symbolic_link),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
