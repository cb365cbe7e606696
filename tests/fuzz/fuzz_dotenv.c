/* fuzz_dotenv.c - libFuzzer target for the .env parser (dotenv.c).
 *
 * Input layout: byte 0 is the number of assignments after which the callback stops (0: never
 * stops); the rest is the file text. Properties: no crash or leak; every delivered key is a
 * non-empty name of letters, digits, '_' and '.', every value a string within DOTENV_MAX_VALUE;
 * nothing is delivered when the parse fails for another reason than the caller's stop; a failure
 * always has a message; parsing the same text twice delivers the same assignments. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dotenv.h"

struct seen {
    unsigned stop_after;    /* 0: never */
    unsigned count;
    unsigned long hash;     /* of every key and value delivered, in order */
    size_t total;
};

static unsigned long mix(unsigned long h, const char *s)
{
    for (; *s; s++)
        h = h * 1000003u ^ (unsigned char)*s;
    return h * 1000003u ^ 0xffu;
}

static bool valid_key(const char *k)
{
    if (!*k)
        return false;
    for (; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') ||
              *k == '_' || *k == '.'))
            return false;
    return true;
}

static int on_entry(const char *key, const char *value, void *ctx)
{
    struct seen *s = ctx;
    if (!key || !value || !valid_key(key) || strlen(value) > DOTENV_MAX_VALUE)
        abort();
    s->total += strlen(value);
    if (s->total > DOTENV_MAX_TOTAL)
        abort();
    s->hash = mix(mix(s->hash, key), value);
    s->count++;
    return s->stop_after && s->count == s->stop_after;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    char err[256];

    struct seen first = { .stop_after = data[0] };
    err[0] = '\0';
    int rc = dotenv_parse(text, len, on_entry, &first, err, sizeof err);
    bool stopped = first.stop_after && first.count == first.stop_after;
    if (rc < 0 && err[0] == '\0')
        abort();
    if (rc < 0 && !stopped && first.count != 0)
        abort();        /* a parse error delivers nothing */
    if (rc == 0 && stopped)
        abort();        /* a stop by the caller is a failure */
    if (stopped && !strstr(err, "refused by the caller"))
        abort();

    struct seen second = { .stop_after = data[0] };
    int rc2 = dotenv_parse(text, len, on_entry, &second, err, sizeof err);
    if (rc2 != rc || second.count != first.count || second.hash != first.hash)
        abort();        /* the parser keeps no state between calls */
    return 0;
}
