/* fuzz_twitter_cookies.c - libFuzzer target for the cookie-file reader and the cookie jar
 * (kinds/twitter_cookies.h).
 *
 * The input is tried as a cookie file, as a Cookie header / storage string and as a Set-Cookie
 * value. Properties checked: a failure leaves the file empty with a message free of control
 * characters; every accepted account has a valid username and a jar holding non-empty
 * auth_token and ct0 with only valid names and values; a jar's storage string reads back to the
 * same jar; Set-Cookie never lets an invalid name or value into a jar. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kinds/twitter_cookies.h"

static void check_message(const char *why)
{
    if (!why[0])
        abort();
    for (const char *p = why; *p; p++)
        if ((unsigned char)*p < 0x20)
            abort();
}

static void check_jar(const struct twitter_jar *jar)
{
    if (jar->n > TWITTER_COOKIE_MAX_COUNT)
        abort();
    for (size_t i = 0; i < jar->n; i++) {
        if (!twitter_jar_valid_name(jar->v[i].name) || !twitter_jar_valid_value(jar->v[i].value))
            abort();
        for (size_t j = 0; j < i; j++)
            if (strcmp(jar->v[i].name, jar->v[j].name) == 0)
                abort();
    }
}

static void check_round_trip(const struct twitter_jar *jar)
{
    char *h = twitter_jar_header(jar);
    if (!h)
        return;
    struct twitter_jar back;
    char why[256];
    if (twitter_jar_from_string(h, strlen(h), false, &back, why, sizeof why) != 0)
        abort();
    if (back.n != jar->n)
        abort();
    for (size_t i = 0; i < back.n; i++)
        if (strcmp(back.v[i].name, jar->v[i].name) || strcmp(back.v[i].value, jar->v[i].value))
            abort();
    twitter_jar_free(&back);
    free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    char why[256] = "";
    struct twitter_cookie_file f;
    if (twitter_cookies_parse(s, size, &f, why, sizeof why) == 0) {
        if (f.n == 0)
            abort();
        for (size_t i = 0; i < f.n; i++) {
            const char *u = f.v[i].username;
            size_t ul = strlen(u);
            if (ul == 0 || ul > TWITTER_COOKIE_MAX_USER)
                abort();
            for (size_t k = 0; k < ul; k++)
                if (!isalnum((unsigned char)u[k]) && u[k] != '_')
                    abort();
            const char *tok = twitter_jar_get(&f.v[i].jar, "auth_token");
            const char *ct0 = twitter_jar_get(&f.v[i].jar, "ct0");
            if (!tok || !*tok || !ct0 || !*ct0)
                abort();
            check_jar(&f.v[i].jar);
            check_round_trip(&f.v[i].jar);
        }
        twitter_cookie_file_free(&f);
    } else {
        if (f.v || f.n)
            abort();
        check_message(why);
    }

    struct twitter_jar jar;
    int rc = twitter_jar_from_string(s, size, false, &jar, why, sizeof why);
    if (rc == 0) {
        check_jar(&jar);
        check_round_trip(&jar);
        if (twitter_jar_set_cookie(&jar, "api.x.com", s, size, 1700000000) < -2)
            abort();
        check_jar(&jar);
        twitter_jar_free(&jar);
    } else if (jar.v || jar.n) {
        abort();
    }

    struct twitter_jar sc = {0};
    twitter_jar_set(&sc, "ct0", "x");
    twitter_jar_set_cookie(&sc, "api.x.com", s, size, 1700000000);
    check_jar(&sc);
    twitter_jar_free(&sc);
    return 0;
}
