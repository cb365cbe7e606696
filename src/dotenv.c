/* dotenv.c - .env parser, godotenv v1.5.1 syntax, written for hostile input.
 *
 * The text is first copied with CRLF turned into LF; the copy pass also refuses NUL bytes and lines
 * longer than DOTENV_MAX_LINE. Then statements are read one after the other:
 *
 *     [export ]NAME [=|:] VALUE
 *
 * Blank lines and lines whose first non-blank byte is '#' are skipped. VALUE is one of
 *   - unquoted: up to the end of the line (LF or a lone CR); cut at the last '#' that follows a
 *     blank (as godotenv does), trimmed, then variables expanded; blanks there are godotenv's:
 *     space, tab, VT, FF, CR, and the characters NEL (U+0085) and no-break space (U+00A0);
 *   - "double quoted": may span lines; a backslash escapes the next byte; \n and \r become LF and
 *     CR, \$ stays for the expansion step, any other \X becomes X; then variables expanded;
 *   - 'single quoted': literal up to the next single quote.
 * After a closing quote only blanks and a '#' comment may follow on that line.
 *
 * Expansion follows godotenv's pattern `\?$(?{?[A-Z0-9_]*}?`: $NAME or ${NAME} with NAME of upper-
 * case letters, digits and '_' becomes the latest value of NAME assigned earlier in this text (or
 * nothing); \$... stays literal without its backslash; a '$' with no such name stays as written.
 * The process environment is never consulted.
 *
 * Where godotenv is lax in ways that hide mistakes we refuse instead: blanks inside a name, a
 * statement without '=' or ':', text after a closing quote. Every expanded value is bounded
 * (DOTENV_MAX_VALUE) and so is their sum (DOTENV_MAX_TOTAL), so "$A$A$A..." cannot explode. Names
 * are found by binary search in a sorted index (at most DOTENV_MAX_ENTRIES assignments), so no
 * choice of names makes lookups slow. Assignments are collected first and delivered only after
 * the whole text parsed. */
#include "dotenv.h"
#include "util/growbuf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a bounded growable byte buffer ---- */

struct buf {
    char *p;
    size_t len, cap, limit;
};

enum { BUF_OK = 0, BUF_NOMEM = -1, BUF_LIMIT = -2 };

static int buf_put(struct buf *b, const char *s, size_t n)
{
    if (n > b->limit - b->len)
        return BUF_LIMIT;
    struct growbuf g = { b->p, b->len, b->cap };
    if (growbuf_append(&g, s, n, 64) < 0)
        return BUF_NOMEM;
    b->p = g.data;
    b->len = g.len;
    b->cap = g.cap;
    return BUF_OK;
}

static int buf_putc(struct buf *b, char c)
{
    return buf_put(b, &c, 1);
}

/* buf_take returns the NUL-terminated contents (owned by the caller) and empties b. */
static char *buf_take(struct buf *b)
{
    char *p = b->p ? b->p : strdup("");
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

/* ---- parser state ---- */

struct entry {
    char *key;
    char *value;
    unsigned line;
};

struct parser {
    char *text; /* CRLF-normalised copy */
    size_t len;
    size_t pos;
    unsigned line;

    struct entry *entries;
    size_t count, cap;

    size_t *sorted; /* entry index of each distinct key, ordered by key */
    size_t nkeys;

    size_t total; /* bytes of all values so far */
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct parser *p, unsigned line, const char *fmt, ...)
{
    if (!p->err || !p->errlen)
        return -1;
    int n = snprintf(p->err, p->errlen, "line %u: ", line);
    if (n >= 0 && (size_t)n < p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

static bool is_name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.';
}

static bool is_expand_name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* describe_char writes c readably for an error message. */
static const char *describe_char(char c, char out[16])
{
    unsigned char u = (unsigned char)c;
    if (c == '\n')
        snprintf(out, 16, "end of line");
    else if (u > 0x20 && u < 0x7f && c != '\'')
        snprintf(out, 16, "'%c'", c);
    else
        snprintf(out, 16, "\\x%02x", u);
    return out;
}

/* ---- key index: distinct keys sorted, each naming its latest entry ---- */

/* compare_key orders the NUL-terminated key against name[0..n). */
static int compare_key(const char *key, const char *name, size_t n)
{
    int c = strncmp(key, name, n);
    if (c)
        return c;
    return key[n] ? 1 : 0;
}

/* index_find returns the position of name in the index, or where it belongs (*found false).
 * Binary search: worst case O(log n) whatever the names, unlike an unkeyed hash. */
static size_t index_find(const struct parser *p, const char *name, size_t n, bool *found)
{
    size_t lo = 0, hi = p->nkeys;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = compare_key(p->entries[p->sorted[mid]].key, name, n);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* index_lookup returns the latest value assigned to name[0..n), or NULL. */
static const char *index_lookup(const struct parser *p, const char *name, size_t n)
{
    bool found;
    size_t at = index_find(p, name, n, &found);
    return found ? p->entries[p->sorted[at]].value : NULL;
}

/* index_note points the index at entry i (a new key is inserted in order). Room is reserved. */
static void index_note(struct parser *p, size_t i)
{
    const char *key = p->entries[i].key;
    bool found;
    size_t at = index_find(p, key, strlen(key), &found);
    if (!found) {
        memmove(p->sorted + at + 1, p->sorted + at, (p->nkeys - at) * sizeof *p->sorted);
        p->nkeys++;
    }
    p->sorted[at] = i;
}

/* add_entry takes ownership of key and value (freed here on failure). */
static int add_entry(struct parser *p, char *key, char *value, unsigned line)
{
    if (p->count == DOTENV_MAX_ENTRIES) {
        free(key);
        free(value);
        return fail(p, line, "more than %u assignments", DOTENV_MAX_ENTRIES);
    }
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        struct entry *e = realloc(p->entries, cap * sizeof *e);
        size_t *sorted = e ? realloc(p->sorted, cap * sizeof *sorted) : NULL;
        if (e)
            p->entries = e;
        if (!sorted) {
            free(key);
            free(value);
            return fail(p, line, "out of memory");
        }
        p->sorted = sorted;
        p->cap = cap;
    }
    p->total += strlen(value);
    p->entries[p->count] = (struct entry){ key, value, line };
    index_note(p, p->count++);
    return 0;
}

/* ---- values ---- */

/* value_error turns a buffer failure into a message. */
static int value_error(struct parser *p, unsigned line, int rc, const struct buf *b)
{
    if (rc == BUF_NOMEM)
        return fail(p, line, "out of memory");
    if (b->limit < DOTENV_MAX_VALUE)
        return fail(p, line, "values exceed %u bytes in total after expansion", DOTENV_MAX_TOTAL);
    return fail(p, line, "value longer than %u bytes after expansion", DOTENV_MAX_VALUE);
}

/* match_variable measures the godotenv variable pattern at s[i] == '$' (after an optional
 * backslash): optional '(', optional '{', name, optional '}'. Sets the name span. */
static size_t match_variable(const char *s, size_t n, size_t i, size_t *name, size_t *name_len)
{
    i++; /* '$' */
    if (i < n && s[i] == '(')
        i++;
    if (i < n && s[i] == '{')
        i++;
    *name = i;
    while (i < n && is_expand_name_char(s[i]))
        i++;
    *name_len = i - *name;
    if (i < n && s[i] == '}')
        i++;
    return i;
}

/* expand appends s[0..n) to out with variables replaced. */
static int expand(const struct parser *p, const char *s, size_t n, struct buf *out)
{
    size_t i = 0;
    while (i < n) {
        bool escaped = s[i] == '\\' && i + 1 < n && s[i + 1] == '$';
        if (s[i] != '$' && !escaped) {
            size_t run = i;
            while (run < n && s[run] != '$' && s[run] != '\\')
                run++;
            if (run == i)
                run++;
            int rc = buf_put(out, s + i, run - i);
            if (rc)
                return rc;
            i = run;
            continue;
        }
        size_t dollar = escaped ? i + 1 : i, name, name_len;
        size_t end = match_variable(s, n, dollar, &name, &name_len);
        int rc;
        if (escaped) {
            rc = buf_put(out, s + dollar, end - dollar);
        } else if (name_len) {
            const char *v = index_lookup(p, s + name, name_len);
            rc = v ? buf_put(out, v, strlen(v)) : BUF_OK;
        } else {
            rc = buf_put(out, s + i, end - i);
        }
        if (rc)
            return rc;
        i = end;
    }
    return BUF_OK;
}

/* unescape_double applies the double-quote escapes to s[0..n): \n, \r become LF, CR; \$ is kept
 * for expand; a backslash before anything else is dropped. */
static int unescape_double(const char *s, size_t n, struct buf *out)
{
    for (size_t i = 0; i < n; i++) {
        int rc;
        if (s[i] != '\\' || i + 1 == n) {
            rc = buf_putc(out, s[i]);
        } else {
            char c = s[++i];
            if (c == 'n')
                rc = buf_putc(out, '\n');
            else if (c == 'r')
                rc = buf_putc(out, '\r');
            else if (c == '$')
                rc = buf_put(out, "\\$", 2);
            else
                rc = buf_putc(out, c);
        }
        if (rc)
            return rc;
    }
    return BUF_OK;
}

static size_t value_limit(const struct parser *p)
{
    size_t left = DOTENV_MAX_TOTAL - p->total;
    return left < DOTENV_MAX_VALUE ? left : DOTENV_MAX_VALUE;
}

/* finish_expansion expands raw[0..n) into a new string at *value. */
static int finish_expansion(struct parser *p, unsigned line, const char *raw, size_t n,
                            char **value)
{
    struct buf out = { .limit = value_limit(p) };
    int rc = expand(p, raw, n, &out);
    if (rc) {
        free(out.p);
        return value_error(p, line, rc, &out);
    }
    *value = buf_take(&out);
    return *value ? 0 : fail(p, line, "out of memory");
}

/* godotenv's blanks (around an unquoted value, after a closing quote, before a statement) are
 * characters, not bytes: besides the ASCII ones, U+0085 (NEL) and U+00A0 (no-break space, what a
 * copy from a web page often brings), two bytes each in UTF-8. blank_after / blank_before: the length of the blank that starts at s[0] / ends at s[n),
 * or 0. 0xC2 is never a continuation byte, so "C2 A0" ending a text is always that character. */
static size_t blank_after(const char *s, size_t n)
{
    if (n >= 1 && is_blank(s[0]))
        return 1;
    if (n >= 2 && (unsigned char)s[0] == 0xC2 && ((unsigned char)s[1] == 0xA0 ||
                                                  (unsigned char)s[1] == 0x85))
        return 2;
    return 0;
}

static size_t blank_before(const char *s, size_t n)
{
    if (n >= 1 && is_blank(s[n - 1]))
        return 1;
    if (n >= 2 && (unsigned char)s[n - 2] == 0xC2 && ((unsigned char)s[n - 1] == 0xA0 ||
                                                      (unsigned char)s[n - 1] == 0x85))
        return 2;
    return 0;
}

/* comment_cut returns where an unquoted value s[0..n) ends: at the last '#' preceded by a blank. */
static size_t comment_cut(const char *s, size_t n)
{
    for (size_t i = n; i-- > 1;)
        if (s[i] == '#' && blank_before(s, i))
            return i;
    return n;
}

static int parse_unquoted(struct parser *p, unsigned line, char **value)
{
    const char *s = p->text + p->pos;
    size_t n = 0, b;
    while (p->pos + n < p->len && s[n] != '\n' && s[n] != '\r')
        n++;
    p->pos += n;
    n = comment_cut(s, n);
    while ((b = blank_before(s, n)))
        n -= b;
    while ((b = blank_after(s, n))) {
        s += b;
        n -= b;
    }
    return finish_expansion(p, line, s, n, value);
}

/* rest_of_line_is_empty is true when only blanks and an optional comment follow p->pos. */
static bool rest_of_line_is_empty(const struct parser *p)
{
    size_t i = p->pos, b;
    while ((b = blank_after(p->text + i, p->len - i)))
        i += b;
    return i == p->len || p->text[i] == '\n' || p->text[i] == '#';
}

/* find_closing_quote returns the index of the quote closing the value opened before p->pos, or
 * p->len. A backslash escapes the next byte in double quotes only. Counts newlines crossed. */
static size_t find_closing_quote(const struct parser *p, char quote, unsigned *newlines)
{
    size_t i = p->pos;
    *newlines = 0;
    for (; i < p->len && p->text[i] != quote; i++) {
        if (quote == '"' && p->text[i] == '\\' && i + 1 < p->len)
            i++;
        if (p->text[i] == '\n')
            (*newlines)++;
    }
    return i;
}

static int parse_quoted(struct parser *p, unsigned line, char **value)
{
    char quote = p->text[p->pos++];
    const char *kind = quote == '"' ? "double" : "single";
    unsigned newlines;
    size_t start = p->pos, end = find_closing_quote(p, quote, &newlines);
    if (end == p->len)
        return fail(p, line, "unterminated %s-quoted value", kind);
    p->pos = end + 1;
    p->line += newlines;
    if (!rest_of_line_is_empty(p))
        return fail(p, p->line, "unexpected text after the closing %s quote", kind);

    const char *raw = p->text + start;
    size_t n = end - start;
    if (quote == '\'') {
        struct buf out = { .limit = value_limit(p) };
        int rc = buf_put(&out, raw, n);
        if (rc) {
            free(out.p);
            return value_error(p, line, rc, &out);
        }
        *value = buf_take(&out);
        return *value ? 0 : fail(p, line, "out of memory");
    }
    struct buf unescaped = { .limit = SIZE_MAX };
    int rc = unescape_double(raw, n, &unescaped);
    if (rc) {
        free(unescaped.p);
        return fail(p, line, "out of memory");
    }
    rc = finish_expansion(p, line, unescaped.p ? unescaped.p : "", unescaped.len, value);
    free(unescaped.p);
    return rc;
}

static int parse_value(struct parser *p, unsigned line, char **value)
{
    size_t b;
    while (p->text[p->pos] != '\r' && (b = blank_after(p->text + p->pos, p->len - p->pos)))
        p->pos += b;
    if (p->pos < p->len && (p->text[p->pos] == '"' || p->text[p->pos] == '\''))
        return parse_quoted(p, line, value);
    return parse_unquoted(p, line, value);
}

/* ---- names ---- */

static void skip_inline_blanks(struct parser *p)
{
    while (p->pos < p->len && (p->text[p->pos] == ' ' || p->text[p->pos] == '\t'))
        p->pos++;
}

static void skip_export_prefix(struct parser *p)
{
    static const char prefix[] = "export";
    size_t n = sizeof prefix - 1;
    if (p->len - p->pos > n && memcmp(p->text + p->pos, prefix, n) == 0 &&
        (p->text[p->pos + n] == ' ' || p->text[p->pos + n] == '\t')) {
        p->pos += n;
        skip_inline_blanks(p);
    }
}

/* parse_name reads "[export ]NAME" and the '=' or ':' after it; *key is owned by the caller. */
static int parse_name(struct parser *p, char **key)
{
    char shown[16];
    skip_export_prefix(p);
    size_t start = p->pos;
    while (p->pos < p->len && is_name_char(p->text[p->pos]))
        p->pos++;
    size_t n = p->pos - start, name_end = p->pos;
    int shown_len = n > 64 ? 64 : (int)n;
    skip_inline_blanks(p);
    char c = p->pos < p->len ? p->text[p->pos] : '\n';
    if (c == '=' || c == ':') {
        if (n == 0)
            return fail(p, p->line, "missing name before %s", describe_char(c, shown));
        p->pos++;
        *key = strndup(p->text + start, n);
        return *key ? 0 : fail(p, p->line, "out of memory");
    }
    if (n == 0)
        return fail(p, p->line, "expected a name, found %s", describe_char(c, shown));
    if (p->pos == name_end && c != '\n' && c != '\r')
        return fail(p, p->line, "invalid character %s in the name \"%.*s\"",
                    describe_char(c, shown), shown_len, p->text + start);
    return fail(p, p->line, "expected '=' or ':' after \"%.*s\"", shown_len, p->text + start);
}

/* ---- statements ---- */

/* skip_to_statement passes blank lines and comment lines; false at the end of the text. */
static bool skip_to_statement(struct parser *p)
{
    size_t b;
    while (p->pos < p->len) {
        char c = p->text[p->pos];
        if (c == '\n') {
            p->line++;
            p->pos++;
        } else if ((b = blank_after(p->text + p->pos, p->len - p->pos))) {
            p->pos += b;
        } else if (c == '#') {
            while (p->pos < p->len && p->text[p->pos] != '\n')
                p->pos++;
        } else {
            return true;
        }
    }
    return false;
}

static int parse_statement(struct parser *p)
{
    unsigned line = p->line;
    char *key, *value;
    if (parse_name(p, &key) < 0)
        return -1;
    if (parse_value(p, line, &value) < 0) {
        free(key);
        return -1;
    }
    return add_entry(p, key, value, line);
}

/* normalise copies text with CRLF turned into LF, refusing NUL bytes and over-long lines. */
static int normalise(struct parser *p, const char *text, size_t len)
{
    p->text = malloc(len + 1);
    if (!p->text)
        return fail(p, 1, "out of memory");
    size_t n = 0, line_len = 0;
    unsigned line = 1;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '\0')
            return fail(p, line, "NUL byte");
        if (c == '\r' && i + 1 < len && text[i + 1] == '\n')
            continue;
        if (c == '\n') {
            line++;
            line_len = 0;
        } else if (++line_len > DOTENV_MAX_LINE) {
            return fail(p, line, "line longer than %u bytes", DOTENV_MAX_LINE);
        }
        p->text[n++] = c;
    }
    p->text[n] = '\0';
    p->len = n;
    return 0;
}

static int deliver(struct parser *p, dotenv_fn fn, void *ctx)
{
    for (size_t i = 0; i < p->count; i++)
        if (fn && fn(p->entries[i].key, p->entries[i].value, ctx) != 0)
            return fail(p, p->entries[i].line, "refused by the caller");
    return 0;
}

static void parser_free(struct parser *p)
{
    for (size_t i = 0; i < p->count; i++) {
        free(p->entries[i].key);
        free(p->entries[i].value);
    }
    free(p->entries);
    free(p->sorted);
    free(p->text);
}

int dotenv_parse(const char *text, size_t len, dotenv_fn fn, void *ctx, char *err, size_t errlen)
{
    struct parser p = { .line = 1, .err = err, .errlen = errlen };
    if (err && errlen)
        err[0] = '\0';
    if (len > DOTENV_MAX_FILE) {
        if (err && errlen)
            snprintf(err, errlen, "file larger than %u bytes", DOTENV_MAX_FILE);
        return -1;
    }
    if (!text)
        len = 0;
    int rc = normalise(&p, text ? text : "", len);
    while (rc == 0 && skip_to_statement(&p))
        rc = parse_statement(&p);
    if (rc == 0)
        rc = deliver(&p, fn, ctx);
    parser_free(&p);
    return rc;
}
