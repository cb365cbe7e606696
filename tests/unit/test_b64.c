/* test_b64.c - base64: RFC 4648 vectors, round trips, and Go StdEncoding decoding behaviour
 * (error offsets, CR/LF skipping, required padding, tolerated non-zero pad bits). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/b64.h"

struct pair {
    const char *plain;
    const char *encoded;
};

static const struct pair rfc4648[] = {
    { "", "" },         { "f", "Zg==" },        { "fo", "Zm8=" },         { "foo", "Zm9v" },
    { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
};

/* Decodes s (as a C string) and checks the result equals want[0..wantlen). */
static void assert_decodes_to(const char *s, const char *want, size_t wantlen)
{
    uint8_t *out = NULL;
    size_t outlen = 0;
    char err[128] = "";

    int rc = b64_decode(s, strlen(s), &out, &outlen, err, sizeof err);
    if (rc != 0)
        fail_msg("decoding \"%s\" failed: %s", s, err);
    assert_int_equal(outlen, wantlen);
    assert_memory_equal(out, want, wantlen);
    assert_int_equal(out[outlen], '\0');
    free(out);
}

/* Decodes in[0..n) and checks it fails at Go's offset. */
static void assert_fails_at(const char *in, size_t n, long offset)
{
    uint8_t *out = (uint8_t *)"untouched";
    size_t outlen = 12345;
    char err[128] = "";
    char want[128];

    snprintf(want, sizeof want, "illegal base64 data at input byte %ld", offset);
    int rc = b64_decode(in, n, &out, &outlen, err, sizeof err);
    if (rc != -1 || strcmp(err, want) != 0)
        fail_msg("input \"%.*s\": rc %d, err \"%s\", want \"%s\"", (int)n, in, rc, err, want);
    assert_string_equal(out, "untouched");
    assert_int_equal(outlen, 12345);
}

static void test_encode_rfc4648(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        const struct pair *p = &rfc4648[i];
        char *enc = b64_encode_alloc((const uint8_t *)p->plain, strlen(p->plain));
        assert_non_null(enc);
        assert_string_equal(enc, p->encoded);
        assert_int_equal(b64_encoded_len(strlen(p->plain)), strlen(p->encoded));
        free(enc);
    }
}

static void test_decode_rfc4648(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++)
        assert_decodes_to(rfc4648[i].encoded, rfc4648[i].plain, strlen(rfc4648[i].plain));
}

static void test_round_trip_all_lengths(void **state)
{
    uint8_t buf[600];

    (void)state;
    srand(1234);
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)rand();
    for (size_t n = 0; n <= sizeof buf; n++) {
        char *enc = b64_encode_alloc(buf, n);
        uint8_t *dec = NULL;
        size_t declen = 0;
        assert_non_null(enc);
        assert_int_equal(strlen(enc), b64_encoded_len(n));
        assert_int_equal(b64_decode(enc, strlen(enc), &dec, &declen, NULL, 0), 0);
        assert_int_equal(declen, n);
        assert_memory_equal(dec, buf, n);
        free(dec);
        free(enc);
    }
}

static void test_encode_all_byte_values(void **state)
{
    uint8_t all[256];
    char out[345];

    (void)state;
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    b64_encode(all, 3, out);
    assert_string_equal(out, "AAEC");
    b64_encode(all + 253, 3, out);
    assert_string_equal(out, "/f7/");
    b64_encode(all, 256, out);
    assert_int_equal(strlen(out), b64_encoded_len(256));
    assert_int_equal(b64_encoded_len(256), 344);
}

/* The corrupt-input table of Go's encoding/base64 tests, plus offsets inside later quanta. */
static void test_go_error_offsets(void **state)
{
    static const struct {
        const char *in;
        long offset;
    } cases[] = {
        { "!!!!", 0 },      { "====", 0 },        { "x===", 1 },       { "=AAA", 0 },
        { "A=AA", 1 },      { "AA=A", 2 },        { "AA==A", 4 },      { "AAA=AAAA", 4 },
        { "AAAAA", 4 },     { "AAAAAA", 4 },      { "A=", 1 },         { "A==", 1 },
        { "AA=", 3 },       { "AAAAAA=", 7 },     { "YWJjZA=====", 8 }, { "A!\n", 1 },
        { "A=\n", 1 },      { "Zm9v Zg==", 4 },   { "ab-_", 2 },       { "Zm9vYmFy_", 8 },
        { " Zm9v", 0 },     { "Zm9v\t", 4 },      { "Zm8=\r\nx", 6 },  { "Zg=\n\nx", 4 },
        { "Zg==\n=", 5 },   { "Zm9v\r\nZg", 6 },
        /* Go reports "position - symbols read" for a short last quantum, CR/LF not subtracted. */
        { "Z\nm", 1 },      { "Zm\r\n9", 2 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_fails_at(cases[i].in, strlen(cases[i].in), cases[i].offset);
}

static void test_missing_padding(void **state)
{
    (void)state;
    assert_fails_at("Zg", 2, 0);
    assert_fails_at("Zm8", 3, 0);
    assert_fails_at("Zm9vZg", 6, 4);
    assert_fails_at("Zm9vYmE", 7, 4);
    assert_fails_at("Zg=", 3, 3);      /* "not enough padding" names the end of the input */
}

static void test_nul_and_high_bytes(void **state)
{
    (void)state;
    assert_fails_at("Zm9v\0Zg==", 9, 4);
    assert_fails_at("Zm\xc3\xa9", 4, 2);
    assert_fails_at("Zm9v\x80", 5, 4);
}

static void test_crlf_skipped(void **state)
{
    (void)state;
    assert_decodes_to("Zm\r\n9v", "foo", 3);
    assert_decodes_to("\r\nZm9v\r\n", "foo", 3);
    assert_decodes_to("Z\nm\n9\nv\nY\ng\n=\n=\n", "foob", 4);
    assert_decodes_to("Zg=\r\n=", "f", 1);
    assert_decodes_to("Zm8=\n\n\n", "fo", 2);
    assert_decodes_to("\n", "", 0);
    assert_decodes_to("\r\n\r\n", "", 0);
}

static void test_tolerant_pad_bits(void **state)
{
    (void)state;
    assert_decodes_to("Zh==", "f", 1);     /* 'h' carries non-zero unused bits */
    assert_decodes_to("Zm9=", "fo", 2);
    assert_decodes_to("//8=", "\xff\xff", 2);
    assert_decodes_to("//9=", "\xff\xff", 2);
}

static void test_empty_and_error_buffer(void **state)
{
    uint8_t *out = NULL;
    size_t outlen = 1;
    char small[8];

    (void)state;
    assert_int_equal(b64_decode(NULL, 0, &out, &outlen, NULL, 0), 0);
    assert_int_equal(outlen, 0);
    assert_int_equal(out[0], '\0');
    free(out);
    /* A short error buffer is truncated, never overrun; a NULL one is allowed. */
    assert_int_equal(b64_decode("!!!!", 4, &out, &outlen, small, sizeof small), -1);
    assert_string_equal(small, "illegal");
    assert_int_equal(b64_decode("!!!!", 4, &out, &outlen, NULL, 0), -1);
}

/* Decoding in place (b64_decode_into with out == in) gives what b64_decode gives, bytes and
 * errors alike, newlines and padding included. */
static void test_decode_in_place(void **state)
{
    static const char *const inputs[] = {
        "", "Zg==", "Zm8=", "Zm9v", "Zm9vYmFy", "Zm9v\r\nYmFy", "\nZm9vYg==\n", "Zm9vYg=",
        "Zm9v!mFy", "Zm9vYg==x", "Zm9vY", "////+++/AAAA", "Zm9vYmFyYmF6cXV4cXV1eA==",
    };
    (void)state;
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        size_t n = strlen(inputs[i]);
        uint8_t *want = NULL;
        size_t wantlen = 0;
        char want_err[96] = "", err[96] = "";
        int want_rc = b64_decode(inputs[i], n, &want, &wantlen, want_err, sizeof want_err);
        char *buf = malloc(n + 1);
        assert_non_null(buf);
        memcpy(buf, inputs[i], n + 1);
        size_t len = 0;
        int rc = b64_decode_into(buf, n, (uint8_t *)buf, &len, err, sizeof err);
        assert_int_equal(rc, want_rc);
        if (rc == 0) {
            assert_int_equal(len, wantlen);
            assert_memory_equal(buf, want, len);
            assert_int_equal(buf[len], '\0');
        } else {
            assert_string_equal(err, want_err);
        }
        free(buf);
        free(want);
    }
    /* A long text (fast path all the way) decodes in place too. */
    uint8_t bytes[3000];
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (uint8_t)(i * 7 + 3);
    char *text = b64_encode_alloc(bytes, sizeof bytes);
    assert_non_null(text);
    size_t len = 0;
    assert_int_equal(b64_decode_into(text, strlen(text), (uint8_t *)text, &len, NULL, 0), 0);
    assert_int_equal(len, sizeof bytes);
    assert_memory_equal(text, bytes, sizeof bytes);
    free(text);
}

static void test_encode_alloc_refuses_overflow(void **state)
{
    (void)state;
    assert_null(b64_encode_alloc((const uint8_t *)"", SIZE_MAX));
    assert_null(b64_encode_alloc((const uint8_t *)"", SIZE_MAX / 4 * 3 + 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_rfc4648),
        cmocka_unit_test(test_decode_rfc4648),
        cmocka_unit_test(test_round_trip_all_lengths),
        cmocka_unit_test(test_encode_all_byte_values),
        cmocka_unit_test(test_go_error_offsets),
        cmocka_unit_test(test_missing_padding),
        cmocka_unit_test(test_nul_and_high_bytes),
        cmocka_unit_test(test_crlf_skipped),
        cmocka_unit_test(test_tolerant_pad_bits),
        cmocka_unit_test(test_empty_and_error_buffer),
        cmocka_unit_test(test_decode_in_place),
        cmocka_unit_test(test_encode_alloc_refuses_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
