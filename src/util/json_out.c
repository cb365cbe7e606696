/* json_out.c - JSON text written directly, byte for byte as Go's encoding/json writes it (see
 * json_out.h for the rules). */
#include "util/json_out.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

#define JSON_OUT_FIRST 256

bool json_out_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_char_len(s + i, len - i);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

int json_out_raw(struct growbuf *b, const char *s, size_t n)
{
    return growbuf_append(b, s, n, JSON_OUT_FIRST);
}

/* ---- strings ------------------------------------------------------------------------------ */

/* 1 for the ASCII bytes Go writes as they are: not a control character, '"', '\\', '<', '>' or
 * '&' (Go's htmlSafeSet). */
static const unsigned char ascii_plain[128] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     /* 0x10 */
    1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1,     /* 0x20: '"' '&' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1,     /* 0x30: '<' '>' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,     /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,     /* 0x50: '\\' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,     /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,     /* 0x70: DEL as is */
};

static const char hex_lower[] = "0123456789abcdef";

/* The escape of an ASCII byte that is not plain, into esc (6 bytes); returns its length. */
static size_t ascii_escape(unsigned char c, char *esc)
{
    esc[0] = '\\';
    switch (c) {
    case '"': esc[1] = '"'; return 2;
    case '\\': esc[1] = '\\'; return 2;
    case '\b': esc[1] = 'b'; return 2;
    case '\f': esc[1] = 'f'; return 2;
    case '\n': esc[1] = 'n'; return 2;
    case '\r': esc[1] = 'r'; return 2;
    case '\t': esc[1] = 't'; return 2;
    default:
        memcpy(esc + 1, "u00", 3);
        esc[4] = hex_lower[c >> 4];
        esc[5] = hex_lower[c & 0xf];
        return 6;
    }
}

int json_out_string(struct growbuf *b, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    if (json_out_raw(b, "\"", 1) < 0)
        return -1;
    size_t run = 0;     /* start of the bytes not written yet */
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        char esc[6];
        size_t n, skip = 1;
        if (c < 0x80) {
            if (ascii_plain[c]) {
                i++;
                continue;
            }
            n = ascii_escape(c, esc);
        } else {
            size_t clen = utf8_char_len(s + i, len - i);
            if (clen == 0) {
                memcpy(esc, "\\ufffd", 6);      /* this byte starts no valid character */
                n = 6;
            } else if (clen == 3 && c == 0xe2 && p[i + 1] == 0x80 &&
                       (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
                memcpy(esc, p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
                n = 6;
                skip = 3;
            } else {
                i += clen;
                continue;
            }
        }
        if (json_out_raw(b, s + run, i - run) < 0 || json_out_raw(b, esc, n) < 0)
            return -1;
        i += skip;
        run = i;
    }
    if (json_out_raw(b, s + run, len - run) < 0)
        return -1;
    return json_out_raw(b, "\"", 1);
}

/* ---- numbers ------------------------------------------------------------------------------ */

int json_out_int(struct growbuf *b, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRId64, v);
    return json_out_raw(b, num, (size_t)n);
}

/* reads_back: the decimal m x 10^e is read (strtod, correctly rounded) as a. */
static bool reads_back(uint64_t m, int e, double a, double *back)
{
    char buf[48];
    char *p = buf + 24, *q = buf + 24;
    do
        *--p = (char)('0' + m % 10);
    while (m /= 10);
    *q++ = 'e';
    if (e < 0)
        *q++ = '-';
    unsigned ue = e < 0 ? (unsigned)-e : (unsigned)e;
    char rev[8];
    int nr = 0;
    do
        rev[nr++] = (char)('0' + ue % 10);
    while (ue /= 10);
    while (nr)
        *q++ = rev[--nr];
    *q = '\0';
    *back = strtod(p, NULL);
    return *back == a;
}

/* The 17 significant digits of a (> 0, finite), correctly rounded: every double reads back from
 * them. d17 holds them as characters, x the decimal exponent of the first. */
struct digits17 {
    char d17[17];
    int x;
};

static void digits17_of(double a, struct digits17 *g)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%.16e", a);      /* d.dddddddddddddddde[+-]xx */
    g->d17[0] = buf[0];
    memcpy(g->d17 + 1, buf + 2, 16);
    g->x = (int)strtol(buf + 19, NULL, 10);
}

/* nearest_digits: the n-digit decimal nearest to a (ties to even), as *m x 10^*e. It is the
 * 17 digits rounded at n, unless they are exactly halfway there (then a itself may be above,
 * below or on the midpoint, and printf, exact, decides). */
static void nearest_digits(double a, const struct digits17 *g, int n, uint64_t *m, int *e)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (uint64_t)(g->d17[i] - '0');
    *e = g->x - (n - 1);
    if (n < 17) {
        char first = g->d17[n];
        bool rest_zero = true;
        for (int i = n + 1; i < 17 && rest_zero; i++)
            rest_zero = g->d17[i] == '0';
        if (first == '5' && rest_zero) {
            char buf[40];
            snprintf(buf, sizeof buf, "%.*e", n - 1, a);
            v = 0;
            const char *p = buf;
            for (; *p && *p != 'e'; p++)
                if (*p != '.')
                    v = v * 10 + (uint64_t)(*p - '0');
            *e = (int)strtol(p + 1, NULL, 10) - (n - 1);
        } else if (first > '5' || (first == '5' && !rest_zero)) {
            v++;
        }
    }
    *m = v;
}

/* try_digits: is there a decimal of n significant digits that reads back as a? If so, *mant x
 * 10^*e10 is the one closest to a. The closest n-digit decimal is tried first; when it does not
 * read back, the interval of decimals that do may still hold the n-digit neighbour on a's other
 * side (the interval is lopsided at a power of two), which is then the answer. */
static bool try_digits(double a, const struct digits17 *g, int n, uint64_t *mant, int *e10)
{
    uint64_t m;
    int e;
    nearest_digits(a, g, n, &m, &e);
    double back;
    if (reads_back(m, e, a, &back)) {
        *mant = m;
        *e10 = e;
        return true;
    }
    uint64_t pow = 1;       /* 10^(n-1): the smallest n-digit mantissa */
    for (int i = 1; i < n; i++)
        pow *= 10;
    if (back > a && m == pow) {     /* below 10^k the n-digit grid is ten times finer */
        m = pow * 10 - 1;
        e--;
    } else {
        m = back > a ? m - 1 : m + 1;
    }
    if (!reads_back(m, e, a, &back))
        return false;
    *mant = m;
    *e10 = e;
    return true;
}

/* shortest_digits writes the fewest significant digits that read back as a (> 0, finite), with
 * no trailing zero, into digits (at least 18 bytes, not terminated); returns how many, and sets
 * *dp so that a = 0.<digits> x 10^dp. A decimal of n digits that reads back is also one of n + 1
 * digits, so the fewest is found by bisection over 1..16, 17 digits always reading back. */
static int shortest_digits(double a, char *digits, int *dp)
{
    struct digits17 g;
    digits17_of(a, &g);
    int lo = 1, hi = 17;
    uint64_t mant = 0, m;
    int e10 = 0, e;
    bool have = false;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (try_digits(a, &g, mid, &m, &e)) {
            hi = mid;
            mant = m;
            e10 = e;
            have = true;
        } else {
            lo = mid + 1;
        }
    }
    if (!have) {
        mant = 0;
        for (int i = 0; i < 17; i++)
            mant = mant * 10 + (uint64_t)(g.d17[i] - '0');
        e10 = g.x - 16;
    }
    char tmp[24];
    int nd = snprintf(tmp, sizeof tmp, "%" PRIu64, mant);
    while (nd > 1 && tmp[nd - 1] == '0') {
        nd--;
        e10++;
    }
    memcpy(digits, tmp, (size_t)nd);
    *dp = nd + e10;
    return nd;
}

/* real_text: json_out_real_text, or with readable (JSON_OUT_READABLE_REALS) an integral value
 * beyond the int64 range in exponent form and negative zero as -0.0. */
static size_t real_text(double v, char *out, bool readable)
{
    if (!isfinite(v))
        return 0;
    char *o = out;
    if (signbit(v))
        *o++ = '-';
    double a = signbit(v) ? -v : v;
    if (a == 0) {
        if (readable && signbit(v)) {
            memcpy(o, "0.0", 4);    /* jansson reads "-0" as the integer 0 */
            return (size_t)(o + 3 - out);
        }
        *o++ = '0';
        *o = '\0';
        return (size_t)(o - out);
    }
    if (a < 9007199254740992.0 && a == (double)(int64_t)a) {
        /* an integer below 2^53 is its own shortest form (every other decimal of as many
         * digits is at least 1 away, more than half a unit in the last place) */
        o += snprintf(o, 24, "%" PRId64, (int64_t)a);
        return (size_t)(o - out);
    }
    char d[18];
    int dp;
    int nd = shortest_digits(a, d, &dp);
    if (a < 1e-6 || a >= 1e21 || (readable && a >= 9223372036854775808.0 && dp >= nd)) {
        *o++ = d[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, d + 1, (size_t)nd - 1);
            o += nd - 1;
        }
        int x = dp - 1;
        /* Go writes e-07 and e+21; its JSON encoder then drops the 0 of a one-digit negative
         * exponent; a positive one is at least 21 here */
        o += snprintf(o, 8, x < 0 ? "e-%d" : "e+%02d", x < 0 ? -x : x);
    } else if (dp <= 0) {
        memcpy(o, "0.", 2);
        o += 2;
        memset(o, '0', (size_t)-dp);
        o += -dp;
        memcpy(o, d, (size_t)nd);
        o += nd;
    } else if (dp >= nd) {
        memcpy(o, d, (size_t)nd);
        o += nd;
        memset(o, '0', (size_t)(dp - nd));
        o += dp - nd;
    } else {
        memcpy(o, d, (size_t)dp);
        o += dp;
        *o++ = '.';
        memcpy(o, d + dp, (size_t)(nd - dp));
        o += nd - dp;
    }
    *o = '\0';
    return (size_t)(o - out);
}

size_t json_out_real_text(double v, char *out)
{
    return real_text(v, out, false);
}

static int put_real(struct growbuf *b, double v, bool readable)
{
    char num[JSON_OUT_REAL_MAX];
    size_t n = real_text(v, num, readable);
    return n ? json_out_raw(b, num, n) : -1;
}

int json_out_real(struct growbuf *b, double v)
{
    return put_real(b, v, false);
}

/* ---- values ------------------------------------------------------------------------------- */

struct member {
    const char *key;
    size_t key_len;
    const json_t *value;
};

static int member_cmp(const void *x, const void *y)
{
    const struct member *a = x, *b = y;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    if (c)
        return c;
    return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

static int put_value(struct growbuf *b, const json_t *v, unsigned flags, int depth);

static int put_member(struct growbuf *b, bool first, const char *key, size_t key_len,
                      const json_t *value, unsigned flags, int depth)
{
    return (first ? 0 : json_out_raw(b, ",", 1)) | json_out_string(b, key, key_len) |
           json_out_raw(b, ":", 1) | put_value(b, value, flags, depth);
}

static int put_object(struct growbuf *b, const json_t *v, unsigned flags, int depth)
{
    json_t *o = (json_t *)v;    /* jansson's iterators take a non-const object; nothing changes */
    size_t count = json_object_size(o);
    if (json_out_raw(b, "{", 1) < 0)
        return -1;
    int bad = 0;
    if (!(flags & JSON_OUT_SORT_KEYS) || count < 2) {
        bool first = true;
        for (void *it = json_object_iter(o); it && !bad; it = json_object_iter_next(o, it)) {
            bad |= put_member(b, first, json_object_iter_key(it), json_object_iter_key_len(it),
                              json_object_iter_value(it), flags, depth);
            first = false;
        }
    } else {
        struct member small[16];
        struct member *m = count <= 16 ? small : malloc(count * sizeof *m);
        if (!m)
            return -1;
        size_t n = 0;
        for (void *it = json_object_iter(o); it && n < count; it = json_object_iter_next(o, it))
            m[n++] = (struct member){ json_object_iter_key(it), json_object_iter_key_len(it),
                                      json_object_iter_value(it) };
        qsort(m, n, sizeof *m, member_cmp);
        for (size_t i = 0; i < n && !bad; i++)
            bad |= put_member(b, i == 0, m[i].key, m[i].key_len, m[i].value, flags, depth);
        if (m != small)
            free(m);
    }
    return bad ? -1 : json_out_raw(b, "}", 1);
}

static int put_value(struct growbuf *b, const json_t *v, unsigned flags, int depth)
{
    if (!v || depth > JSON_OUT_MAX_DEPTH)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return put_object(b, v, flags, depth + 1);
    case JSON_ARRAY: {
        int bad = json_out_raw(b, "[", 1);
        for (size_t i = 0, n = json_array_size(v); i < n && !bad; i++)
            bad |= (i ? json_out_raw(b, ",", 1) : 0) |
                   put_value(b, json_array_get(v, i), flags, depth + 1);
        return bad ? -1 : json_out_raw(b, "]", 1);
    }
    case JSON_STRING:
        return json_out_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return json_out_int(b, (int64_t)json_integer_value(v));
    case JSON_REAL:
        return put_real(b, json_real_value(v), flags & JSON_OUT_READABLE_REALS);
    case JSON_TRUE:
        return json_out_raw(b, "true", 4);
    case JSON_FALSE:
        return json_out_raw(b, "false", 5);
    case JSON_NULL:
        return json_out_raw(b, "null", 4);
    }
    return -1;
}

int json_out_value(struct growbuf *b, const json_t *v, unsigned flags)
{
    return put_value(b, v, flags, 0);
}

char *json_out_text(const json_t *v, unsigned flags, size_t *len)
{
    struct growbuf b = { 0 };
    if (json_out_value(&b, v, flags) < 0) {
        free(b.data);
        return NULL;
    }
    if (b.cap - b.len > b.len / 8 + 64) {
        /* the text may be kept a while (a stored result): give back the doubling's slack */
        char *fit = realloc(b.data, b.len + 1);
        if (fit)
            b.data = fit;
    }
    if (len)
        *len = b.len;
    return b.data;
}
