/* b64.h - RFC 4648 standard base64, with Go's StdEncoding decoding rules.
 *
 * Encoding always pads with '='. Decoding is what Go peers expect of us and what they produce:
 * padding required, '\r' and '\n' skipped anywhere, any other byte outside the alphabet is an
 * error naming its offset ("illegal base64 data at input byte N", N counted in the input as
 * given, CR/LF included), non-zero unused trailing bits tolerated. */
#ifndef TW_B64_H
#define TW_B64_H

#include <stddef.h>
#include <stdint.h>

/* Number of characters b64_encode writes for n input bytes (without the NUL). */
size_t b64_encoded_len(size_t n);

/* b64_encode writes b64_encoded_len(n) characters and a NUL to out. */
void b64_encode(const uint8_t *in, size_t n, char *out);

/* b64_encode_alloc returns a new NUL-terminated string (caller frees with free()), NULL on OOM
 * or when the encoding of n bytes would not fit in a size_t. */
char *b64_encode_alloc(const uint8_t *in, size_t n);

/* b64_decode decodes in[0..n). On success returns 0 and sets *out to a new buffer of *outlen
 * bytes plus a trailing NUL not counted in *outlen (caller frees with free()). On failure returns
 * -1 and writes Go's message ("illegal base64 data at input byte N") to err (errlen bytes; err may
 * be NULL), or "out of memory". */
int b64_decode(const char *in, size_t n, uint8_t **out, size_t *outlen, char *err, size_t errlen);

/* b64_decode_into is b64_decode into a buffer the caller provides, with a trailing NUL: out holds
 * at least n / 4 * 3 + 4 bytes, or is in itself with room for n + 1 bytes (decoding in place:
 * every output byte is written over input already read). On failure the content of out is
 * unspecified. */
int b64_decode_into(const char *in, size_t n, uint8_t *out, size_t *outlen, char *err,
                    size_t errlen);

#endif
