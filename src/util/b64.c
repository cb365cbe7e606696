/* b64.c - standard base64 (RFC 4648) with the decoding behaviour of Go's base64.StdEncoding.
 *
 * Decoding walks the input one quantum (four symbols) at a time, the way Go's decodeQuantum does,
 * so that every error names the same offset Go would: CR and LF are skipped without taking a
 * symbol slot, '=' may only end the text (after two or three symbols), anything after the padding
 * other than CR/LF is trailing garbage, and a short final quantum without padding is an error at
 * "position - symbols read". Unused trailing bits are ignored, as Go's non-strict mode does. */
#include "util/b64.h"

#include <stdbool.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Largest n whose encoded length (plus the NUL) still fits in a size_t. */
#define B64_ENCODE_MAX ((SIZE_MAX / 4 - 1) * 3)

size_t b64_encoded_len(size_t n)
{
    return (n / 3 + (n % 3 != 0)) * 4;
}

void b64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t i = 0;

    for (; n - i >= 3; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *out++ = b64_alphabet[v >> 18 & 63];
        *out++ = b64_alphabet[v >> 12 & 63];
        *out++ = b64_alphabet[v >> 6 & 63];
        *out++ = b64_alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        *out++ = b64_alphabet[v >> 18 & 63];
        *out++ = b64_alphabet[v >> 12 & 63];
        *out++ = '=';
        *out++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        *out++ = b64_alphabet[v >> 18 & 63];
        *out++ = b64_alphabet[v >> 12 & 63];
        *out++ = b64_alphabet[v >> 6 & 63];
        *out++ = '=';
    }
    *out = '\0';
}

char *b64_encode_alloc(const uint8_t *in, size_t n)
{
    if (n > B64_ENCODE_MAX)
        return NULL;
    char *out = malloc(b64_encoded_len(n) + 1);
    if (out)
        b64_encode(in, n, out);
    return out;
}

/* Value of one alphabet symbol, or -1 for any other byte. */
static int symbol_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

static bool is_newline(char c)
{
    return c == '\r' || c == '\n';
}

static size_t skip_newlines(const char *in, size_t n, size_t i)
{
    while (i < n && is_newline(in[i]))
        i++;
    return i;
}

/* Writes the first nsym - 1 bytes held by nsym (2..4) symbols. */
static size_t emit_bytes(const uint8_t sym[4], size_t nsym, uint8_t *dst)
{
    uint32_t v = (uint32_t)sym[0] << 18 | (uint32_t)sym[1] << 12 | (uint32_t)sym[2] << 6 | sym[3];

    dst[0] = (uint8_t)(v >> 16);
    if (nsym > 2)
        dst[1] = (uint8_t)(v >> 8);
    if (nsym > 3)
        dst[2] = (uint8_t)v;
    return nsym - 1;
}

/* Reader state: the input, the read position, and where the first error was found. */
struct b64_reader {
    const char *in;
    size_t n;
    size_t pos;
    size_t bad;     /* offset reported in the error message */
};

enum quantum_result { QUANTUM_MORE, QUANTUM_LAST, QUANTUM_ERROR };

/* The padding '=' was just read after nsym symbols: check the rest of the text is only the
 * remaining padding and newlines. */
static enum quantum_result finish_padding(struct b64_reader *r, size_t nsym)
{
    if (nsym < 2) {
        r->bad = r->pos - 1;
        return QUANTUM_ERROR;
    }
    if (nsym == 2) {
        r->pos = skip_newlines(r->in, r->n, r->pos);
        if (r->pos == r->n) {
            r->bad = r->n;
            return QUANTUM_ERROR;
        }
        if (r->in[r->pos] != '=') {
            r->bad = r->pos - 1;
            return QUANTUM_ERROR;
        }
        r->pos++;
    }
    r->pos = skip_newlines(r->in, r->n, r->pos);
    if (r->pos < r->n) {
        r->bad = r->pos;
        return QUANTUM_ERROR;
    }
    return QUANTUM_LAST;
}

/* Decodes one quantum at r->pos into dst, adding the bytes written to *written. */
static enum quantum_result decode_quantum(struct b64_reader *r, uint8_t *dst, size_t *written)
{
    uint8_t sym[4] = { 0 };
    size_t nsym = 0;

    while (nsym < 4) {
        if (r->pos == r->n) {
            if (nsym == 0)
                return QUANTUM_LAST;
            r->bad = r->pos - nsym;
            return QUANTUM_ERROR;
        }
        char c = r->in[r->pos++];
        int v = symbol_value((unsigned char)c);
        if (v >= 0) {
            sym[nsym++] = (uint8_t)v;
            continue;
        }
        if (is_newline(c))
            continue;
        if (c != '=') {
            r->bad = r->pos - 1;
            return QUANTUM_ERROR;
        }
        enum quantum_result res = finish_padding(r, nsym);
        if (res == QUANTUM_LAST)
            *written += emit_bytes(sym, nsym, dst);
        return res;
    }
    *written += emit_bytes(sym, 4, dst);
    return QUANTUM_MORE;
}

/* Symbol values for the fast path: 0..63, or 0xff for anything else ('=', CR, LF, garbage). */
static uint8_t fast_table[256];
static pthread_once_t fast_table_once = PTHREAD_ONCE_INIT;

static void fast_table_build(void)
{
    memset(fast_table, 0xff, sizeof fast_table);
    for (int i = 0; i < 64; i++)
        fast_table[(unsigned char)b64_alphabet[i]] = (uint8_t)i;
}

/* fast_quanta decodes whole quanta of four alphabet symbols from r->pos while there are any,
 * leaving anything unusual (padding, newlines, errors, a short tail) to decode_quantum. */
static void fast_quanta(struct b64_reader *r, uint8_t *dst, size_t *written)
{
    const unsigned char *p = (const unsigned char *)r->in;
    size_t pos = r->pos, len = *written;
    while (r->n - pos >= 4) {
        uint32_t a = fast_table[p[pos]], b = fast_table[p[pos + 1]];
        uint32_t c = fast_table[p[pos + 2]], d = fast_table[p[pos + 3]];
        if ((a | b | c | d) & 0x80)
            break;
        uint32_t v = a << 18 | b << 12 | c << 6 | d;
        dst[len] = (uint8_t)(v >> 16);
        dst[len + 1] = (uint8_t)(v >> 8);
        dst[len + 2] = (uint8_t)v;
        len += 3;
        pos += 4;
    }
    r->pos = pos;
    *written = len;
}

int b64_decode_into(const char *in, size_t n, uint8_t *out, size_t *outlen, char *err,
                    size_t errlen)
{
    struct b64_reader r = { .in = in, .n = n, .pos = 0, .bad = 0 };
    size_t len = 0;
    enum quantum_result res = QUANTUM_MORE;

    pthread_once(&fast_table_once, fast_table_build);
    while (res == QUANTUM_MORE) {
        fast_quanta(&r, out, &len);
        if (r.pos == n)
            break;
        res = decode_quantum(&r, out + len, &len);
    }
    if (res == QUANTUM_ERROR) {
        if (err && errlen)
            snprintf(err, errlen, "illegal base64 data at input byte %zu", r.bad);
        return -1;
    }
    out[len] = '\0';
    *outlen = len;
    return 0;
}

int b64_decode(const char *in, size_t n, uint8_t **out, size_t *outlen, char *err, size_t errlen)
{
    /* Every four input bytes give at most three output bytes; +3 for a final partial quantum. */
    uint8_t *buf = malloc(n / 4 * 3 + 3 + 1);

    if (!buf) {
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (b64_decode_into(in, n, buf, outlen, err, errlen) != 0) {
        free(buf);
        return -1;
    }
    *out = buf;
    return 0;
}
