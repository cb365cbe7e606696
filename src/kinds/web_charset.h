/* web_charset.h - a page's bytes in the charset its Content-Type declares, as UTF-8, decoded the
 * way Go's crawler decodes them (golang.org/x/net/html/charset: WHATWG labels, bad bytes become
 * U+FFFD and decoding goes on; numeric character references as Go's parser reads them). */
#ifndef TW_WEB_CHARSET_H
#define TW_WEB_CHARSET_H

#include <stddef.h>

/* web_charset_iconv_name: the iconv name of the WHATWG encoding that label stands for (for
 * "iso-8859-1" and "us-ascii" that is windows-1252, for "gb2312" GBK, ...); label itself when it
 * names nothing WHATWG decodes differently from iconv. */
const char *web_charset_iconv_name(const char *label);

/* web_charset_to_utf8 decodes html[0..len) from charset label into UTF-8 (malloc'd, NUL-ended,
 * its length in *out_len): an invalid or unmappable sequence becomes U+FFFD and decoding goes on
 * after it (libxml2 with iconv stopped there and dropped the rest of the page). NULL when iconv
 * does not know the charset or on OOM. */
char *web_charset_to_utf8(const char *html, size_t len, const char *label, size_t *out_len);

/* web_char_refs_as_go rewrites the character references of a page (in UTF-8 or any
 * ASCII-compatible charset: what it writes is ASCII, "&#x2019;" or "&amp;") so that libxml2 2.9
 * reads them as Go's HTML parser does: &#128; to &#159; are the windows-1252 characters (&#146;
 * a right quote, not U+0092); &#0;, a surrogate or a value past U+10FFFF is U+FFFD (libxml2
 * dropped them); "&#" without digits stays text (libxml2 dropped it); every named reference is
 * looked up in the HTML standard's table, as Go does (libxml2 knows only HTML 4's names and
 * none written without ';', so "&check;" and "&nbsp" stayed as written), legacy names without
 * ';' included and "&name=" in an attribute value left as text. The content of script and style
 * elements is left alone (neither parser reads references there). Returns a new NUL-ended text
 * (its length in *out_len), or NULL when there is nothing to rewrite (or on OOM: the page is then
 * parsed as it is). */
char *web_char_refs_as_go(const char *html, size_t len, size_t *out_len);

/* web_raw_text_element_len: the length of the script or style element opening at html[i]
 * ("<script ...>" up to and with its "</script"; to the end when never closed), or 0 when none
 * opens there. Both parsers read its content as text. */
size_t web_raw_text_element_len(const char *html, size_t len, size_t i);

#endif
