/* web_charset.c - decoding a page from its declared charset into UTF-8 (see web_charset.h). */
#include "kinds/web_charset.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kinds/html_entities.h"
#include "util/growbuf.h"

/* WHATWG encoding labels whose encoding is not what iconv means by the label (Encoding Standard,
 * "Encodings" table): the Latin-1 and ASCII labels are windows-1252, the GB2312 ones GBK, ... */
static const struct {
    const char *label;
    const char *iconv_name;
} whatwg_labels[] = {
    { "ansi_x3.4-1968", "WINDOWS-1252" }, { "ascii", "WINDOWS-1252" },
    { "cp1252", "WINDOWS-1252" }, { "cp819", "WINDOWS-1252" },
    { "csisolatin1", "WINDOWS-1252" }, { "ibm819", "WINDOWS-1252" },
    { "iso-8859-1", "WINDOWS-1252" }, { "iso-ir-100", "WINDOWS-1252" },
    { "iso8859-1", "WINDOWS-1252" }, { "iso88591", "WINDOWS-1252" },
    { "iso_8859-1", "WINDOWS-1252" }, { "iso_8859-1:1987", "WINDOWS-1252" },
    { "l1", "WINDOWS-1252" }, { "latin1", "WINDOWS-1252" }, { "us-ascii", "WINDOWS-1252" },
    { "windows-1252", "WINDOWS-1252" }, { "x-cp1252", "WINDOWS-1252" },
    { "cp1254", "WINDOWS-1254" }, { "csisolatin5", "WINDOWS-1254" },
    { "iso-8859-9", "WINDOWS-1254" }, { "iso-ir-148", "WINDOWS-1254" },
    { "iso8859-9", "WINDOWS-1254" }, { "iso88599", "WINDOWS-1254" },
    { "iso_8859-9", "WINDOWS-1254" }, { "iso_8859-9:1989", "WINDOWS-1254" },
    { "l5", "WINDOWS-1254" }, { "latin5", "WINDOWS-1254" }, { "x-cp1254", "WINDOWS-1254" },
    { "dos-874", "WINDOWS-874" }, { "iso-8859-11", "WINDOWS-874" },
    { "iso8859-11", "WINDOWS-874" }, { "iso885911", "WINDOWS-874" },
    { "tis-620", "WINDOWS-874" },
    { "chinese", "GBK" }, { "csgb2312", "GBK" }, { "csiso58gb231280", "GBK" },
    { "gb2312", "GBK" }, { "gb_2312", "GBK" }, { "gb_2312-80", "GBK" }, { "iso-ir-58", "GBK" },
    { "x-gbk", "GBK" },
    { "cseuckr", "CP949" }, { "csksc56011987", "CP949" }, { "euc-kr", "CP949" },
    { "iso-ir-149", "CP949" }, { "korean", "CP949" }, { "ks_c_5601-1987", "CP949" },
    { "ks_c_5601-1989", "CP949" }, { "ksc5601", "CP949" }, { "ksc_5601", "CP949" },
    { "windows-949", "CP949" },
    { "csshiftjis", "CP932" }, { "ms932", "CP932" }, { "ms_kanji", "CP932" },
    { "shift-jis", "CP932" }, { "shift_jis", "CP932" }, { "sjis", "CP932" },
    { "windows-31j", "CP932" }, { "x-sjis", "CP932" },
    { "big5", "BIG5-HKSCS" }, { "big5-hkscs", "BIG5-HKSCS" }, { "cn-big5", "BIG5-HKSCS" },
    { "csbig5", "BIG5-HKSCS" }, { "x-x-big5", "BIG5-HKSCS" },
    { "csunicode", "UTF-16LE" }, { "iso-10646-ucs-2", "UTF-16LE" }, { "ucs-2", "UTF-16LE" },
    { "unicode", "UTF-16LE" }, { "unicodefeff", "UTF-16LE" }, { "utf-16", "UTF-16LE" },
};

const char *web_charset_iconv_name(const char *label)
{
    for (size_t i = 0; i < sizeof whatwg_labels / sizeof whatwg_labels[0]; i++)
        if (strcasecmp(label, whatwg_labels[i].label) == 0)
            return whatwg_labels[i].iconv_name;
    return label;
}

/* The five bytes windows-1252 leaves unassigned decode to the C1 control of the same value in
 * WHATWG's windows-1252; iconv refuses them. */
static bool windows_1252_hole(unsigned char c)
{
    return c == 0x81 || c == 0x8d || c == 0x8f || c == 0x90 || c == 0x9d;
}

char *web_charset_to_utf8(const char *html, size_t len, const char *label, size_t *out_len)
{
    const char *name = web_charset_iconv_name(label);
    iconv_t cd = iconv_open("UTF-8", name);
    if (cd == (iconv_t)-1)
        return NULL;
    bool cp1252 = strcmp(name, "WINDOWS-1252") == 0;
    struct growbuf out = { 0 };
    char chunk[4096];
    char *in = (char *)html;
    size_t left = len;
    bool failed = false;
    while (left && !failed) {
        char *o = chunk;
        size_t room = sizeof chunk;
        int why = iconv(cd, &in, &left, &o, &room) == (size_t)-1 ? errno : 0;
        if (o > chunk && growbuf_append(&out, chunk, (size_t)(o - chunk), len + 16) < 0) {
            failed = true;
        } else if (why == EILSEQ || why == EINVAL) {  /* a bad sequence, or one cut at the end */
            unsigned char c = (unsigned char)*in;
            char c1[2] = { (char)(0xc0 | c >> 6), (char)(0x80 | (c & 0x3f)) };
            failed = cp1252 && windows_1252_hole(c) ? growbuf_append(&out, c1, 2, len + 16) < 0
                                                    : growbuf_append(&out, "\xef\xbf\xbd", 3,
                                                                     len + 16) < 0;
            in++;
            left--;
            iconv(cd, NULL, NULL, NULL, NULL);       /* a fresh shift state after it */
        } else if (why && why != E2BIG) {
            failed = true;
        }
    }
    iconv_close(cd);
    if (failed || growbuf_append(&out, "", 1, 16) < 0) {
        free(out.data);
        return NULL;
    }
    *out_len = out.len - 1;
    return out.data;
}

/* ---- numeric character references ------------------------------------------------------- */

/* What Go's parser (and the HTML standard) reads &#128; .. &#159; as. */
static const unsigned short c1_as_windows_1252[32] = {
    0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
    0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
    0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
    0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
};

/* A reference to cp as libxml2 reads it in any ASCII-compatible charset ("&#x2019;"). */
static size_t put_char_ref(char *out, size_t size, unsigned cp)
{
    return (size_t)snprintf(out, size, "&#x%X;", cp);
}

static int digit_value(char c, bool hex)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (hex && ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'))
        return (c | 0x20) - 'a' + 10;
    return -1;
}

size_t web_raw_text_element_len(const char *html, size_t len, size_t i)
{
    static const char *const names[] = { "script", "style" };
    for (size_t k = 0; k < 2; k++) {
        size_t n = strlen(names[k]);
        if (len - i < n + 2 || strncasecmp(html + i + 1, names[k], n) != 0)
            continue;
        char after = html[i + 1 + n];
        if (after != '>' && after != '/' && after != ' ' && after != '\t' && after != '\n' &&
            after != '\r' && after != '\f')
            continue;
        for (size_t j = i + 1 + n; j + n + 2 <= len; j++)
            if (html[j] == '<' && html[j + 1] == '/' && strncasecmp(html + j + 2, names[k], n) == 0)
                return j + 2 + n - i;
        return len - i;             /* never closed: raw text to the end */
    }
    return 0;
}

/* The reference &#... at html[i]: its end, with the ASCII text libxml2 should read in its place
 * in text (text_len 0: keep it as written, libxml2 reads it as Go does). */
static size_t numeric_ref(const char *html, size_t len, size_t i, char *text, size_t *text_len)
{
    size_t j = i + 2;
    bool hex = j < len && (html[j] == 'x' || html[j] == 'X');
    j += hex;
    unsigned long value = 0;
    size_t digits = 0;
    for (int d; j < len && (d = digit_value(html[j], hex)) >= 0; j++, digits++)
        value = value > 0x10ffff ? value : value * (hex ? 16 : 10) + (unsigned long)d;
    *text_len = 0;
    if (!digits) {
        memcpy(text, "&amp;", 5);           /* "&#" stays text, as Go leaves it */
        *text_len = 5;
        return i + 1;
    }
    if (value >= 0x80 && value <= 0x9f)
        *text_len = put_char_ref(text, 16, c1_as_windows_1252[value - 0x80]);
    else if (value == 0 || (value >= 0xd800 && value <= 0xdfff) || value > 0x10ffff)
        *text_len = put_char_ref(text, 16, 0xfffd);
    return j < len && html[j] == ';' ? j + 1 : j;
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* The named reference at html[i] ('&' and a letter or digit) read as Go's parser reads it (the
 * longest name of the standard's table; in text, failing that, the longest legacy name without
 * ';' that starts it; in an attribute, "&name=" stays text): its end, with its code points as
 * numeric references in text, or "&amp;" and the end i + 1 when it stays text. libxml2 2.9 knows
 * only HTML 4's names and none without ';', so it never gets to read one. */
static size_t named_ref(const char *html, size_t len, size_t i, bool attribute, char *text,
                        size_t *text_len)
{
    size_t j = i + 1;
    while (j < len && is_alnum(html[j]) && j - i <= HTML_ENTITY_MAX_NAME)
        j++;
    if (j < len && html[j] == ';')
        j++;
    const char *name = html + i + 1;
    size_t n = j - i - 1;
    unsigned cp[2];
    int count = 0;
    if (attribute && name[n - 1] != ';' && j < len && html[j] == '=')
        count = 0;
    else if ((count = html_entity_lookup(name, n, cp)) == 0 && !attribute) {
        size_t k = n - 1 < HTML_ENTITY_MAX_LEGACY_NAME ? n - 1 : HTML_ENTITY_MAX_LEGACY_NAME;
        for (; k > 1 && !(count = html_entity_lookup(name, k, cp)); k--)
            ;
        j = i + 1 + k;
    }
    if (!count) {
        memcpy(text, "&amp;", 5);
        *text_len = 5;
        return i + 1;
    }
    *text_len = put_char_ref(text, 16, cp[0]);
    if (count == 2)
        *text_len += put_char_ref(text + *text_len, 16, cp[1]);
    return j;
}

/* Where the scan is: in text, in a tag, in an attribute value. */
struct markup_state {
    bool in_tag, after_equals, unquoted;
    char quote;                     /* the quote of the value being read, or 0 */
};

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Steps the state over html[i] (not a reference): a tag opens at '<' and a letter or "</" and a
 * letter, and ends at '>' outside a quoted value. */
static void markup_step(struct markup_state *m, const char *html, size_t len, size_t i)
{
    char c = html[i];
    if (!m->in_tag) {
        m->in_tag = c == '<' && i + 1 < len &&
                    (is_letter(html[i + 1]) ||
                     (html[i + 1] == '/' && i + 2 < len && is_letter(html[i + 2])));
        m->after_equals = m->unquoted = false;
        m->quote = 0;
    } else if (m->quote) {
        if (c == m->quote)
            m->quote = 0;
    } else if (c == '>') {
        m->in_tag = false;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        m->unquoted = false;
    } else if (m->after_equals) {
        m->after_equals = false;
        if (c == '"' || c == '\'')
            m->quote = c;
        else
            m->unquoted = true;
    } else if (c == '=' && !m->unquoted) {
        m->after_equals = true;
    }
}

char *web_char_refs_as_go(const char *html, size_t len, size_t *out_len)
{
    struct growbuf out = { 0 };
    struct markup_state m = { 0 };
    int bad = 0;
    size_t copied = 0;              /* html[0..copied) is in out */
    for (size_t i = 0; i < len && !bad;) {
        size_t raw = !m.in_tag && html[i] == '<' ? web_raw_text_element_len(html, len, i) : 0;
        if (raw) {
            i += raw;
            continue;
        }
        bool in_value = m.in_tag && (m.quote || m.unquoted);
        bool ref = html[i] == '&' && i + 1 < len && (!m.in_tag || in_value) &&
                   (html[i + 1] == '#' || is_alnum(html[i + 1]));
        if (!ref) {
            markup_step(&m, html, len, i);
            i++;
            continue;
        }
        char text[32];
        size_t text_len = 0;
        size_t end = html[i + 1] == '#' ? numeric_ref(html, len, i, text, &text_len)
                                        : named_ref(html, len, i, in_value, text, &text_len);
        if (text_len) {
            bad |= growbuf_append(&out, html + copied, i - copied, len + 16) |
                   growbuf_append(&out, text, text_len, len + 16);
            copied = end;
        }
        i = end;
    }
    if (!bad && copied == 0)
        return NULL;                /* nothing to rewrite: no copy */
    bad |= growbuf_append(&out, html + copied, len - copied, len + 16) |
           growbuf_append(&out, "", 1, 16);
    if (bad) {
        free(out.data);
        return NULL;
    }
    *out_len = out.len - 1;
    return out.data;
}
