/* utf8.h - UTF-8 validity as jansson checks it, and printing untrusted text into messages that
 * become JSON.
 *
 * A message built from a client's bytes, an upstream answer or a parser's error text is bounded
 * without cutting a character in two. Bytes that are not part of a valid UTF-8 sequence are kept
 * as they are: the JSON writer (util/json_out.h) writes each of them as \ufffd, as Go's
 * encoding/json does (core-protocol.md 1: invalid UTF-8 replaced by U+FFFD), so the text after
 * them still reaches the client.
 * Use: snprintf(buf, n, "... %.*s ...", utf8_print_len(s, 64), s). */
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
 * most max bytes and does not cut a valid UTF-8 character (as jansson checks it: no overlong
 * forms, no surrogates, nothing above U+10FFFF) in two. A byte that does not start a valid
 * character counts as one byte and is kept. */
int utf8_print_len(const char *s, size_t max);

/* utf8_trim_partial returns n less the bytes of a character that s[0..n) ends in the middle of
 * (a lead byte followed by fewer continuation bytes than it announces): where a bounded write
 * (snprintf) cut a character in two, the text ends before it instead of carrying the broken
 * bytes, which JSON would show as U+FFFD. */
size_t utf8_trim_partial(const char *s, size_t n);

/* utf8_excerpt writes a one-line excerpt of body[0..len) to out (outlen >= 1 bytes): at most
 * outlen - 1 bytes, cut as utf8_print_len cuts, control bytes (NUL included) as spaces, bytes
 * that are not part of a valid character kept as they are. Returns how many bytes of body it took
 * (less than len when cut; the caller may mark that). */
size_t utf8_excerpt(const char *body, size_t len, char *out, size_t outlen);

#endif
