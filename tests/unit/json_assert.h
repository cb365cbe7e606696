/* json_assert.h - comparing a JSON value with the exact compact text a client receives for it
 * (written by util/json_out.h as Go writes it, key order included), for the unit tests of the
 * decoders (test_apify.c, test_twitter_v2.c, test_twitter_web_parse.c). Include after cmocka.h. */
#ifndef TW_TEST_JSON_ASSERT_H
#define TW_TEST_JSON_ASSERT_H

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/json_out.h"

/* assert_json_is: value is written (compact, as Go) exactly as want. */
static inline void assert_json_is(const json_t *value, const char *want)
{
    assert_non_null(value);
    char *got = json_out_text(value, 0, NULL);
    if (strcmp(got, want) != 0)
        fail_msg("JSON mismatch\n got: %s\nwant: %s", got, want);
    free(got);
}

/* assert_json_text: the same, and consumes value. */
static inline void assert_json_text(json_t *value, const char *want)
{
    assert_json_is(value, want);
    json_decref(value);
}

/* assert_json_sent: value, a request body for a third-party service, is sent (json_dumps,
 * compact: jansson's bytes, not Go's) exactly as want; consumes value. */
static inline void assert_json_sent(json_t *value, const char *want)
{
    assert_non_null(value);
    char *got = json_dumps(value, JSON_COMPACT);
    if (strcmp(got, want) != 0)
        fail_msg("JSON mismatch\n got: %s\nwant: %s", got, want);
    free(got);
    json_decref(value);
}

#endif
