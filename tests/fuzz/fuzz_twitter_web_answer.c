/* fuzz_twitter_web_answer.c - libFuzzer target for the credential backend's handling of what X
 * and the operator send it outside the timeline parsers: answer classification
 * (twitter_web_request.h), TWITTER_ACCOUNTS items and TOTP secrets (twitter_accounts.h,
 * twitter_web_login.h).
 *
 * Input layout: byte 0 picks the entry point; for classification bytes 1-2 are the HTTP status
 * (big endian, mod 600), byte 3 picks the content type and x-rate-limit-remaining, the rest is
 * the body. Properties checked: no crash or leak; the verdict is a known one and the message is
 * NUL-terminated within its buffer; an accepted account item splits into non-empty parts without
 * ':' in the user name; a TOTP code is six digits. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "kinds/twitter_accounts.h"
#include "kinds/twitter_web_login.h"
#include "kinds/twitter_web_request.h"

static char *text_of(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return NULL;
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

static void fuzz_classify(const uint8_t *data, size_t size)
{
    if (size < 3)
        return;
    static const char *const types[] = { "application/json", "text/html; charset=utf-8", NULL,
                                         "TEXT/HTML" };
    static const char *const remaining[] = { NULL, "0", "12", "x" };
    struct tw_web_answer a = { .status = ((long)data[0] << 8 | data[1]) % 600 };
    a.json = json_loadb((const char *)data + 3, size - 3, 0, NULL);
    tw_web_classify(&a, types[data[2] & 3], remaining[(data[2] >> 2) & 3]);
    if (a.verdict < TWV_OK || a.verdict > TWV_FAILED ||
        memchr(a.message, '\0', sizeof a.message) == NULL)
        abort();
    json_decref(a.json);
}

static void fuzz_spec(const uint8_t *data, size_t size)
{
    char *s = text_of(data, size), *u, *p, *t;
    if (!s)
        return;
    if (tw_accounts_parse_spec(s, &u, &p, &t) == 0) {
        if (!*u || !*p || strchr(u, ':') || (t && !*t))
            abort();
        free(u);
        free(p);
        free(t);
    } else if (u || p || t) {
        abort();
    }
    free(s);
}

static void fuzz_totp(const uint8_t *data, size_t size)
{
    char *s = text_of(data, size), code[7];
    if (!s)
        return;
    if (tw_totp(s, (time_t)1700000000, code) == 0 &&
        (strlen(code) != 6 || strspn(code, "0123456789") != 6))
        abort();
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    switch (data[0] % 3) {
    case 0:
        fuzz_classify(data + 1, size - 1);
        break;
    case 1:
        fuzz_spec(data + 1, size - 1);
        break;
    default:
        fuzz_totp(data + 1, size - 1);
        break;
    }
    return 0;
}
