/* uuid_util.c - UUIDv4 text ids for jobs and workers.
 *
 * Generation: 16 random bytes (crypto_random, batched per thread: one getrandom system call per
 * id was a visible cost per job) with the version-4 and RFC 4122 variant bits set, printed in
 * canonical lowercase form by libuuid; libuuid's uuid_generate_random when getrandom fails.
 * Validation is a plain character-class check of the 8-4-4-4-12 layout; it accepts any version
 * and either case, since ids may come from elsewhere. */
#include "util/uuid_util.h"

#include <string.h>

#include "util/crypto.h"
#include "util/hex.h"
#include <uuid/uuid.h>

void uuid_v4(char out[37])
{
    uuid_t raw;

    if (crypto_random(raw, sizeof raw) == 0) {
        raw[6] = (uint8_t)((raw[6] & 0x0f) | 0x40);     /* version 4 */
        raw[8] = (uint8_t)((raw[8] & 0x3f) | 0x80);     /* variant 10xx */
    } else {
        uuid_generate_random(raw);
    }
    uuid_unparse_lower(raw, out);
}

static bool is_hyphen_position(size_t i)
{
    return i == 8 || i == 13 || i == 18 || i == 23;
}

bool uuid_text_to_bytes(const char *text, uint8_t out[16])
{
    if (!text)
        return false;
    size_t nibbles = 0;
    for (size_t i = 0; i < 36; i++) {
        if (is_hyphen_position(i)) {
            if (text[i] != '-')
                return false;
            continue;
        }
        int v = hex_value(text[i]);   /* also stops at a NUL before 36 characters */
        if (v < 0)
            return false;
        if (nibbles % 2 == 0)
            out[nibbles / 2] = (uint8_t)(v << 4);
        else
            out[nibbles / 2] |= (uint8_t)v;
        nibbles++;
    }
    return text[36] == '\0';
}

bool uuid_text_valid(const char *s)
{
    uint8_t bytes[16];
    return uuid_text_to_bytes(s, bytes);
}

bool uuid_text_lower_valid(const char *s)
{
    return uuid_text_valid(s) && strpbrk(s, "ABCDEF") == NULL;
}
