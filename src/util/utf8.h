/* utf8.h - UTF-8 validity as jansson checks it, and printing untrusted text into messages that
 * become JSON.
 *
 * A JSON reply must be valid UTF-8 (jansson refuses anything else), so a message built from a
 * client's bytes or from a parser's error text must neither cut a character in two nor carry an
 * invalid sequence. Use: snprintf(buf, n, "... %.*s ...", utf8_print_len(s, 64), s). */
#ifndef TW_UTF8_H
#define TW_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* utf8_char_len returns the length (1 to 4) of the valid UTF-8 character that starts s, reading
 * at most n bytes, or 0 when there is none (n == 0, a stray or truncated sequence, an overlong
 * form, a surrogate, above U+10FFFF). Any byte below 0x80, NUL included, is a character of 1. */
size_t utf8_char_len(const char *s, size_t n);

/* utf8_put_codepoint writes code point cp (at most U+10FFFF; the caller refuses surrogates and
 * any other value it does not want) as UTF-8 into out and returns its length, 1 to 4. */
size_t utf8_put_codepoint(uint32_t cp, char out[4]);

/* utf8_print_len returns the length of the longest prefix of the NUL-terminated s that is at
 * most max bytes, is valid UTF-8 (as jansson checks it: no overlong forms, no surrogates, nothing
 * above U+10FFFF) and ends on a character boundary. It stops at the first invalid sequence. */
int utf8_print_len(const char *s, size_t max);

/* utf8_excerpt writes a one-line excerpt of body[0..len) to out (outlen >= 1 bytes): at most
 * outlen - 1 bytes, cut on a character boundary, control bytes as spaces, and when the excerpt is
 * not valid UTF-8 every byte >= 0x80 as '?'. Returns how many bytes of body it took (less than len
 * when cut; the caller may mark that). */
size_t utf8_excerpt(const char *body, size_t len, char *out, size_t outlen);

#endif
