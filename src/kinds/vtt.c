/* vtt.c - WebVTT to plain text (see vtt.h for the rules).
 *
 * One pass over the lines with a small block state machine: a block is a run of non-blank lines.
 * The first line may open the header block; a block whose first line is NOTE, STYLE or REGION is
 * skipped; any other block is a cue when its first or second line is a timing line ("-->"), and
 * then only the lines after the timing line are text. Blocks that are neither are dropped, as a
 * WebVTT parser does. Text goes through tag removal and reference decoding into an output that
 * collapses whitespace. The output never outgrows the input (+1), so it is allocated once. Every
 * step is linear in the input, hostile input included (unclosed tags, long lines). */
#include "kinds/vtt.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

enum block_state {
    AT_BLOCK_START,   /* after a blank line (or at the start) */
    IN_HEADER,        /* the WEBVTT line and its metadata lines */
    AFTER_ID,         /* one non-timing line seen: a cue identifier if a timing line follows */
    IN_CUE_TEXT,      /* lines after a timing line */
    SKIPPING,         /* NOTE, STYLE, REGION or an unrecognised block */
};

struct text_out {
    char *buf;
    size_t len, cap;
    bool space_pending;
};

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void put_byte(struct text_out *o, unsigned char c)
{
    if (is_space(c)) {
        o->space_pending = true;
        return;
    }
    if (c < 0x20 || c == 0x7f)
        return;             /* other control bytes (and NULs) carry no text */
    if (o->space_pending && o->len > 0 && o->len + 1 < o->cap)
        o->buf[o->len++] = ' ';
    o->space_pending = false;
    if (o->len + 1 < o->cap)
        o->buf[o->len++] = (char)c;
}

/* put_codepoint writes cp as UTF-8; returns false for values that are not characters. */
static bool put_codepoint(struct text_out *o, uint32_t cp)
{
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return false;
    char bytes[4];
    size_t n = utf8_put_codepoint(cp, bytes);
    for (size_t i = 0; i < n; i++)
        put_byte(o, (unsigned char)bytes[i]);
    return true;
}

static bool parse_number(const char *s, size_t n, uint32_t *out)
{
    unsigned base = 10;
    if (n > 0 && (s[0] == 'x' || s[0] == 'X')) {
        base = 16;
        s++;
        n--;
    }
    if (n == 0 || n > 8)
        return false;
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d;
        if (s[i] >= '0' && s[i] <= '9')
            d = (unsigned)(s[i] - '0');
        else if (base == 16 && s[i] >= 'a' && s[i] <= 'f')
            d = (unsigned)(s[i] - 'a' + 10);
        else if (base == 16 && s[i] >= 'A' && s[i] <= 'F')
            d = (unsigned)(s[i] - 'A' + 10);
        else
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

/* put_reference decodes the character reference at s ('&' first, n bytes available) and returns
 * the bytes it used, or 0 when s does not start a known reference (the '&' is then literal). */
static size_t put_reference(struct text_out *o, const char *s, size_t n)
{
    static const struct { const char *name; const char *text; } named[] = {
        { "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" }, { "apos", "'" },
        { "nbsp", " " }, { "lrm", "" }, { "rlm", "" },
    };
    const char *semi = memchr(s, ';', n < 12 ? n : 12);
    if (!semi)
        return 0;
    const char *name = s + 1;
    size_t name_len = (size_t)(semi - name);
    if (name_len > 0 && name[0] == '#') {
        uint32_t cp;
        if (!parse_number(name + 1, name_len - 1, &cp) || !put_codepoint(o, cp))
            return 0;
        return name_len + 2;
    }
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        if (strlen(named[i].name) == name_len && memcmp(named[i].name, name, name_len) == 0) {
            for (const char *t = named[i].text; *t; t++)
                put_byte(o, (unsigned char)*t);
            return name_len + 2;
        }
    }
    return 0;
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* put_text writes one line of cue text: tags removed (a '<' that is not followed by a letter,
 * digit or '/', or has no '>' later on the line, is literal: "a < b"), references decoded, control
 * bytes dropped; the line ends in a (collapsible) space. Linear: a search for '>' either jumps
 * past what it scanned or finds none up to the end of the line, which is then remembered (else
 * every '<' of "<a<a<a..." would scan the rest of the line again). */
static void put_text(struct text_out *o, const char *s, size_t n)
{
    bool no_close_left = false;     /* no '>' from here to the end of the line */
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '<' && !no_close_left && i + 1 < n &&
            (is_alnum(s[i + 1]) || s[i + 1] == '/')) {
            const char *close = memchr(s + i, '>', n - i);
            if (close) {
                i = (size_t)(close - s);
                continue;
            }
            no_close_left = true;
        } else if (s[i] == '&') {
            size_t used = put_reference(o, s + i, n - i);
            if (used) {
                i += used - 1;
                continue;
            }
        }
        put_byte(o, (unsigned char)s[i]);
    }
    o->space_pending = true;
}

static bool has_arrow(const char *s, size_t n)
{
    return memmem(s, n, "-->", 3) != NULL;
}

static bool has_time_part(const char *s, size_t n)
{
    return memchr(s, ':', n) != NULL;
}

/* looks_like_timing: "-->" with a time (something with ':') on both sides. */
static bool looks_like_timing(const char *s, size_t n)
{
    const char *arrow = memmem(s, n, "-->", 3);
    if (!arrow)
        return false;
    size_t left = (size_t)(arrow - s);
    return has_time_part(s, left) && has_time_part(arrow + 3, n - left - 3);
}

/* starts_with_word: s begins with word followed by the end of the line, a space or a tab. */
static bool starts_with_word(const char *s, size_t n, const char *word)
{
    size_t w = strlen(word);
    return n >= w && memcmp(s, word, w) == 0 && (n == w || s[w] == ' ' || s[w] == '\t');
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_space((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_space((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

static bool is_header_line(const char *s, size_t n)
{
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
        n -= 3;
    }
    return starts_with_word(s, n, "WEBVTT");
}

/* next_state handles one trimmed, non-blank line of a VTT document, writing its text if any. */
static enum block_state next_state(struct text_out *o, enum block_state st, const char *t, size_t n)
{
    switch (st) {
    case AT_BLOCK_START:
        if (has_arrow(t, n))
            return IN_CUE_TEXT;
        if (starts_with_word(t, n, "NOTE") || starts_with_word(t, n, "STYLE") ||
            starts_with_word(t, n, "REGION"))
            return SKIPPING;
        return AFTER_ID;
    case IN_HEADER:
        /* a cue right after the header without the blank line: be lenient */
        return looks_like_timing(t, n) ? IN_CUE_TEXT : IN_HEADER;
    case AFTER_ID:
        return has_arrow(t, n) ? IN_CUE_TEXT : SKIPPING;
    case IN_CUE_TEXT:
        /* a timing line inside cue text: the blank line before a new cue is missing */
        if (!looks_like_timing(t, n))
            put_text(o, t, n);
        return IN_CUE_TEXT;
    case SKIPPING:
        break;
    }
    return SKIPPING;
}

/* line_end returns the length of the line at s (up to LF, CR LF or a lone CR) and sets *next. */
static size_t line_end(const char *s, size_t n, size_t *next)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n' || s[i] == '\r') {
            *next = i + 1 + (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n');
            return i;
        }
    }
    *next = n;
    return n;
}

char *vtt_to_text(const char *vtt, size_t len, size_t *out_len)
{
    struct text_out o = { .cap = len + 2 };
    o.buf = malloc(o.cap);
    if (!o.buf)
        return NULL;
    size_t first_next;
    size_t first_len = line_end(vtt, len, &first_next);
    bool header = is_header_line(vtt, first_len);
    bool plain = !header && !has_arrow(vtt, len);
    enum block_state st = AT_BLOCK_START;
    for (size_t pos = 0, next; pos < len; pos += next) {
        const char *t = vtt + pos;
        size_t n = line_end(t, len - pos, &next);
        trim(&t, &n);
        if (plain)
            put_text(&o, t, n);
        else if (pos == 0 && header)
            st = IN_HEADER;
        else if (n == 0)
            st = AT_BLOCK_START;
        else
            st = next_state(&o, st, t, n);
    }
    o.buf[o.len] = '\0';
    if (out_len)
        *out_len = o.len;
    return o.buf;
}
