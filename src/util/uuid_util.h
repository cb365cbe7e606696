/* uuid_util.h - UUIDv4 text ids (lowercase, 36 characters with hyphens) for jobs and workers. */
#ifndef TW_UUID_UTIL_H
#define TW_UUID_UTIL_H

#include <stdbool.h>
#include <stdint.h>

/* uuid_v4 writes a fresh random UUIDv4 (getrandom, batched; libuuid as fallback) as 36 characters
 * and a NUL. */
void uuid_v4(char out[37]);

/* uuid_text_valid is true when s is exactly 36 characters of canonical UUID text (any version,
 * lower or upper case hex). */
bool uuid_text_valid(const char *s);

/* uuid_text_lower_valid: uuid_text_valid with lower-case hex only, as uuid_v4 writes ids (a job's
 * uid is matched as that text, as Go matches it and the shared store keys it). */
bool uuid_text_lower_valid(const char *s);

/* uuid_text_to_bytes reads canonical 8-4-4-4-12 text (either case, exactly 36 characters) into
 * its 16 bytes; false for anything else. */
bool uuid_text_to_bytes(const char *text, uint8_t out[16]);

#endif
