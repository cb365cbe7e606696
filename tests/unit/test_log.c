/* test_log.c - what log.c writes: one line per call whatever the message holds, so text taken from
 * requests or upstream answers cannot forge log lines or reach a terminal as control sequences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "util/utf8.h"

/* capture_begin points stderr at a temporary file; capture_end restores it and returns what was
 * written (caller frees). */
static int saved_stderr = -1;
static FILE *capture_file;

static void capture_begin(void)
{
    capture_file = tmpfile();
    assert_non_null(capture_file);
    saved_stderr = dup(STDERR_FILENO);
    assert_true(saved_stderr >= 0);
    assert_true(dup2(fileno(capture_file), STDERR_FILENO) >= 0);
}

static char *capture_end(size_t *len)
{
    assert_true(dup2(saved_stderr, STDERR_FILENO) >= 0);
    close(saved_stderr);
    assert_int_equal(fseek(capture_file, 0, SEEK_END), 0);    /* written through the fd */
    long n = ftell(capture_file);
    assert_true(n >= 0);
    char *text = calloc(1, (size_t)n + 1);
    assert_non_null(text);
    rewind(capture_file);
    assert_int_equal(fread(text, 1, (size_t)n, capture_file), (size_t)n);
    fclose(capture_file);
    *len = (size_t)n;
    return text;
}

static size_t count_byte(const char *s, size_t len, char c)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += s[i] == c;
    return n;
}

/* assert_one_clean_line: nothing below 0x20 but the final newline, no DEL, no C1 control characters
 * (U+0080..U+009F), and valid UTF-8 throughout. */
static void assert_one_clean_line(const char *s, size_t len)
{
    assert_true(len > 0);
    assert_int_equal(s[len - 1], '\n');
    for (size_t i = 0; i + 1 < len;) {
        unsigned char c = (unsigned char)s[i];
        assert_true(c >= 0x20 && c != 0x7f);
        size_t n = utf8_char_len(s + i, len - 1 - i);
        assert_true(n > 0);
        if (n == 2)
            assert_false(c == 0xc2 && (unsigned char)s[i + 1] < 0xa0);
        i += n;
    }
}

static const char hostile[] = "https://x.example/a\n2026-01-01T00:00:00.000Z error forged line"
                              "\r\x1b[2J\x1b]0;title\x07\x7f \xc2\x9b" "31m \xff\xfe end";

static void test_text_line_cannot_be_forged(void **state)
{
    (void)state;
    log_init(LOG_DEBUG, false);
    capture_begin();
    log_warn("web job %s: failed", hostile);
    size_t len = 0;
    char *out = capture_end(&len);
    assert_int_equal(count_byte(out, len, '\n'), 1);
    assert_one_clean_line(out, len);
    assert_non_null(strstr(out, " warn  web job https://x.example/a\\n2026-01-01T00:00:00.000Z error "
                                "forged line\\r\\x1b[2J"));
    assert_non_null(strstr(out, " end: failed\n"));
    free(out);
}

static void test_text_job_line_escapes_uid_and_kind(void **state)
{
    (void)state;
    log_init(LOG_DEBUG, false);
    capture_begin();
    log_job(LOG_INFO, "uid\n1", "kind\x1b[1m", "failed: %s", "upstream said\nno");
    size_t len = 0;
    char *out = capture_end(&len);
    assert_one_clean_line(out, len);
    assert_non_null(strstr(out, " info  job uid\\n1 (kind\\x1b[1m) failed: upstream said\\nno\n"));
    free(out);
}

static void test_printable_text_is_kept(void **state)
{
    (void)state;
    log_init(LOG_DEBUG, false);
    capture_begin();
    log_info("plain \"text\" with a \\ backslash, a tab\tand UTF-8 caf\xc3\xa9 \xe2\x82\xac");
    size_t len = 0;
    char *out = capture_end(&len);
    assert_non_null(strstr(out, " info  plain \"text\" with a \\ backslash, a tab\\tand UTF-8 "
                                "caf\xc3\xa9 \xe2\x82\xac\n"));
    free(out);
}

static void test_json_line_is_valid_utf8(void **state)
{
    (void)state;
    log_init(LOG_DEBUG, true);
    capture_begin();
    log_job(LOG_ERROR, "u\xff", "web", "failed: %s", hostile);
    size_t len = 0;
    char *out = capture_end(&len);
    log_init(LOG_INFO, false);
    assert_one_clean_line(out, len);
    assert_non_null(strstr(out, "\\n2026-01-01T00:00:00.000Z error forged line\\r\\u001b[2J"));
    assert_non_null(strstr(out, "\\ufffd\\ufffd end\",\"job_uid\":\"u\\ufffd\",\"kind\":\"web\"}\n"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_line_cannot_be_forged),
        cmocka_unit_test(test_text_job_line_escapes_uid_and_kind),
        cmocka_unit_test(test_printable_text_is_kept),
        cmocka_unit_test(test_json_line_is_valid_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
