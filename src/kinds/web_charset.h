/* web_charset.h - a page's bytes in the charset its Content-Type declares, as UTF-8, decoded the
 * way Go's crawler decodes them (golang.org/x/net/html/charset: WHATWG labels, bad bytes become
 * U+FFFD and decoding goes on). */
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

#endif
