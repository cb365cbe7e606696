/* test_twitter_txid.c - the x-client-transaction-id generator (kinds/twitter_txid.h):
 * the test vectors of twitter-modern.md §3.3.8 (every one, exactly), the same vector reached
 * through a synthetic home page and indices script for each page layout (§3.3.3), the page hops
 * (§3.3.1), error classification (logged-out app, Cloudflare challenge, garbage) and argument
 * checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "kinds/twitter_txid.h"
#include "util/b64.h"

/* ---- vector 1 inputs ----------------------------------------------------------------------- */

#define V1_KEY_B64 "AwoRGB8mLTQ7QklQV15lbHN6gYiPlp2kq7K5wMfO1dzj6vH4/wYNFBsiKTA3PkVM"
#define V1_ANIM "25364710147ae147ae147b0147ae147ae147b100"
#define V1_PATH "/i/api/graphql/BGd0T_j7oVwlW5U79tO_0A/SearchTimeline"
#define V1_ID "WllQS0JFfHduYRgTCg0EPzYpINvS1czH/vHo45qdlI+GubCroqVcV05BeHNqbWQfFlq7r19M/jEukgJ1ajQng5WBY88WWQ"
#define V1_SHA_HEAD "16a46b74c8582f306e7dd9cfdb39954c"   /* first 16 bytes of the SHA-256 */

static void v1_key(uint8_t key[48])
{
    for (int i = 0; i < 48; i++)
        key[i] = (uint8_t)((7 * i + 3) % 256);
}

static void v1_rows(int rows[16][TWITTER_TXID_ROW_LEN])
{
    for (int r = 0; r < 16; r++)
        for (int c = 0; c < TWITTER_TXID_ROW_LEN; c++)
            rows[r][c] = (31 * r + 17 * c + 5) % 256;
}

static void test_vector1_key_bytes_base64(void **state)
{
    (void)state;
    uint8_t key[48];
    v1_key(key);
    char enc[80];
    b64_encode(key, sizeof key, enc);
    assert_string_equal(enc, V1_KEY_B64);
}

static void test_vector1_animation_key(void **state)
{
    (void)state;
    uint8_t key[48];
    int rows[16][TWITTER_TXID_ROW_LEN];
    v1_key(key);
    v1_rows(rows);
    int idx[] = {2, 12, 14, 7};
    char anim[TWITTER_TXID_ANIM_MAX], why[128];
    assert_int_equal(twitter_txid_key_from_parts(key, sizeof key, idx, 4,
                                                 (const int (*)[TWITTER_TXID_ROW_LEN])rows, 16,
                                                 anim, sizeof anim, why, sizeof why), 0);
    assert_string_equal(anim, V1_ANIM);
    /* the same through the row-level function: row 1, frame time 7*5*4 = 140 */
    const int row1[TWITTER_TXID_ROW_LEN] = {36, 53, 70, 87, 104, 121, 138, 155, 172, 189, 206};
    assert_memory_equal(rows[1], row1, sizeof row1);
    assert_int_equal(twitter_txid_animation_key(row1, 140.0, anim, sizeof anim), 0);
    assert_string_equal(anim, V1_ANIM);
}

/* Account cookies go to the web base's host and x.com only, never to twimg.com or elsewhere,
 * whatever a hop in the home page leads to. */
static void test_cookie_hosts(void **state)
{
    (void)state;
    const char *base = "https://x.com";
    assert_true(twitter_txid_cookie_host("https://x.com/x/migrate?tok=1", base));
    assert_true(twitter_txid_cookie_host("https://mobile.X.com/home", base));
    assert_false(twitter_txid_cookie_host("https://abs.twimg.com/x/migrate", base));
    assert_false(twitter_txid_cookie_host("https://twimg.com/", base));
    assert_false(twitter_txid_cookie_host("https://twitter.com/x/migrate", base));
    assert_false(twitter_txid_cookie_host("https://evilx.com/", base));
    assert_false(twitter_txid_cookie_host("https://x.com.evil.example/", base));
    assert_false(twitter_txid_cookie_host("not a url", base));
    /* a configured base (the tests' fake): its host, not another host of the same machine */
    assert_true(twitter_txid_cookie_host("http://127.0.0.1:8081/x/migrate", "http://127.0.0.1:8081"));
    assert_false(twitter_txid_cookie_host("http://localhost:8081/x/migrate", "http://127.0.0.1:8081"));
}

/* A request's copy of a state makes the same ids after the original is freed (a rebuild frees
 * the account's state while requests may still be building their headers). */
static void test_state_copy_outlives_the_original(void **state)
{
    (void)state;
    uint8_t key[48];
    v1_key(key);
    struct twitter_txid_state *st = NULL;
    assert_int_equal(twitter_txid_state_new(key, sizeof key, V1_ANIM, &st), TWITTER_TXID_OK);
    struct twitter_txid_state *copy = twitter_txid_state_dup(st);
    assert_non_null(copy);
    twitter_txid_state_free(st);
    char id[TWITTER_TXID_ID_MAX];
    assert_int_equal(twitter_txid_make_raw(copy, "GET", V1_PATH, 100000000u, 0x5A, id, sizeof id),
                     0);
    assert_string_equal(id, V1_ID);
    twitter_txid_state_free(copy);
    assert_null(twitter_txid_state_dup(NULL));
}

static void test_vector1_id(void **state)
{
    (void)state;
    uint8_t key[48];
    v1_key(key);
    struct twitter_txid_state *st = NULL;
    assert_int_equal(twitter_txid_state_new(key, sizeof key, V1_ANIM, &st), TWITTER_TXID_OK);
    char id[TWITTER_TXID_ID_MAX];
    assert_int_equal(twitter_txid_make_raw(st, "GET", V1_PATH, 100000000u, 0x5A, id, sizeof id), 0);
    assert_string_equal(id, V1_ID);
    assert_int_equal(strlen(id), 94);

    /* decode it back: random byte, key, time bytes 00 E1 F5 05, SHA-256 head, 3 */
    char padded[100];
    snprintf(padded, sizeof padded, "%s==", id);
    uint8_t *raw = NULL;
    size_t n = 0;
    assert_int_equal(b64_decode(padded, strlen(padded), &raw, &n, NULL, 0), 0);
    assert_int_equal(n, 70);
    assert_int_equal(raw[0], 0x5A);
    for (size_t i = 1; i < n; i++)
        raw[i] ^= raw[0];
    assert_memory_equal(raw + 1, key, 48);
    const uint8_t tb[4] = {0x00, 0xE1, 0xF5, 0x05};
    assert_memory_equal(raw + 49, tb, 4);
    char hex[33];
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[53 + i]);
    assert_string_equal(hex, V1_SHA_HEAD);
    assert_int_equal(raw[69], 3);
    free(raw);

    /* the query string is not part of the path */
    char id2[TWITTER_TXID_ID_MAX];
    assert_int_equal(twitter_txid_make_raw(st, "GET", V1_PATH "?variables=%7B%7D", 100000000u,
                                           0x5A, id2, sizeof id2), 0);
    assert_string_equal(id2, V1_ID);
    /* anything else changes it */
    assert_int_equal(twitter_txid_make_raw(st, "POST", V1_PATH, 100000000u, 0x5A, id2,
                                           sizeof id2), 0);
    assert_string_not_equal(id2, V1_ID);
    assert_int_equal(twitter_txid_make_raw(st, "GET", V1_PATH, 100000001u, 0x5A, id2,
                                           sizeof id2), 0);
    assert_string_not_equal(id2, V1_ID);
    twitter_txid_state_free(st);
}

static void test_vector1_from_pair(void **state)
{
    (void)state;
    struct twitter_txid_state *st = NULL;
    char why[128];
    assert_int_equal(twitter_txid_state_from_pair(V1_KEY_B64, V1_ANIM, &st, why, sizeof why),
                     TWITTER_TXID_OK);
    assert_string_equal(twitter_txid_state_anim_key(st), V1_ANIM);
    char id[TWITTER_TXID_ID_MAX];
    assert_int_equal(twitter_txid_make_raw(st, "GET", V1_PATH, 100000000u, 0x5A, id, sizeof id), 0);
    assert_string_equal(id, V1_ID);
    twitter_txid_state_free(st);

    assert_int_equal(twitter_txid_state_from_pair("not base64!", V1_ANIM, &st, why, sizeof why),
                     TWITTER_TXID_ERR_PARSE);
    assert_null(st);
    assert_non_null(strstr(why, "base64"));
    assert_int_equal(twitter_txid_state_from_pair("AAAA", V1_ANIM, &st, why, sizeof why),
                     TWITTER_TXID_ERR_PARSE);
    assert_non_null(strstr(why, "3 bytes"));
    assert_int_equal(twitter_txid_state_from_pair(V1_KEY_B64, "12G4", &st, why, sizeof why),
                     TWITTER_TXID_ERR_PARSE);
    assert_int_equal(twitter_txid_state_from_pair(V1_KEY_B64, "", &st, why, sizeof why),
                     TWITTER_TXID_ERR_PARSE);
    assert_null(st);
}

static void test_vector2_animation_key(void **state)
{
    (void)state;
    const int row[TWITTER_TXID_ROW_LEN] = {55, 120, 200, 18, 77, 240, 31, 99, 163, 12, 250};
    char anim[TWITTER_TXID_ANIM_MAX];
    assert_int_equal(twitter_txid_animation_key(row, 147.0, anim, sizeof anim), 0);
    assert_string_equal(anim, "3677c9100ccccccccccccd00ccccccccccccd100");
    /* 147 rounds to 150: 150 itself and 145 (half up) give the same key, 1000 does not */
    char other[TWITTER_TXID_ANIM_MAX];
    assert_int_equal(twitter_txid_animation_key(row, 150.0, other, sizeof other), 0);
    assert_string_equal(other, anim);
    assert_int_equal(twitter_txid_animation_key(row, 145.0, other, sizeof other), 0);
    assert_string_equal(other, anim);
    assert_int_equal(twitter_txid_animation_key(row, 1000.0, other, sizeof other), 0);
    assert_string_not_equal(other, anim);
    /* too small an output buffer is refused, not truncated */
    assert_int_equal(twitter_txid_animation_key(row, 147.0, other, 10), -1);
}

/* Vector 3: any id decodes to key ‖ time ‖ hash ‖ 3 and its time is "now". */
static void test_vector3_decoding_check(void **state)
{
    (void)state;
    struct twitter_txid_state *st = NULL;
    char why[128];
    assert_int_equal(twitter_txid_state_from_pair(V1_KEY_B64, V1_ANIM, &st, why, sizeof why), 0);
    time_t now = time(NULL);
    char id[TWITTER_TXID_ID_MAX];
    assert_int_equal(twitter_txid_make(st, "POST", "/1.1/onboarding/task.json", now, id,
                                       sizeof id), 0);
    assert_int_equal(strlen(id), 94);
    assert_null(strchr(id, '='));
    char padded[100];
    snprintf(padded, sizeof padded, "%s==", id);
    uint8_t *raw = NULL;
    size_t n = 0;
    assert_int_equal(b64_decode(padded, strlen(padded), &raw, &n, NULL, 0), 0);
    assert_int_equal(n, 70);
    for (size_t i = 1; i < n; i++)
        raw[i] ^= raw[0];
    assert_int_equal(raw[n - 1], 3);
    uint32_t t = (uint32_t)raw[49] | (uint32_t)raw[50] << 8 | (uint32_t)raw[51] << 16 |
                 (uint32_t)raw[52] << 24;
    assert_int_equal((long long)t, (long long)now - 1682924400LL);
    free(raw);
    /* a clock before the epoch is refused */
    assert_int_equal(twitter_txid_make(st, "GET", "/x", 1000, id, sizeof id), -1);
    twitter_txid_state_free(st);
}

/* ---- a second set of vectors ---------------------------------------------------------------
 * Computed for this test by a separate script written from the formulas of §3.3.6/§3.3.7 only
 * (Python doubles, math.floor rounding, hashlib, base64); it first reproduced the spec's
 * vectors 1 and 2. The rows cover t = 0, t just above 1 (upper colour clamp), t far above 1
 * (extrapolation), c0 = 0 and negative easing output (lower clamp). */

struct anim_case {
    int row[TWITTER_TXID_ROW_LEN];
    double frame_time;
    const char *anim;
};

static void test_second_vectors_animation(void **state)
{
    (void)state;
    static const struct anim_case cases[] = {
        {{0, 0, 0, 255, 255, 255, 255, 0, 0, 255, 255}, 4095,
         "ffffff10028f5c28f5c28f60028f5c28f5c28f6100"},
        {{200, 10, 90, 20, 250, 5, 128, 255, 255, 0, 0}, 0, "c8a5a100100"},
        {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 50625,
         "48494a0f851eb851eb850428f5c28f5c290428f5c28f5c290f851eb851eb8500"},
        {{255, 128, 0, 0, 128, 255, 100, 0, 200, 0, 100}, 2025,
         "88807701eb851eb851eb80fd70a3d70a3d70fd70a3d70a3d701eb851eb851eb800"},
        {{17, 34, 51, 68, 85, 102, 119, 136, 153, 170, 187}, 1234,
         "18293a0e147ae147ae14807ae147ae147ae07ae147ae147ae0e147ae147ae14800"},
        {{90, 180, 45, 135, 225, 30, 240, 51, 0, 204, 255}, 3001,
         "75cf240eb851eb851eb88063d70a3d70a3d8063d70a3d70a3d80eb851eb851eb8800"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char anim[TWITTER_TXID_ANIM_MAX];
        assert_int_equal(twitter_txid_animation_key(cases[i].row, cases[i].frame_time, anim,
                                                    sizeof anim), 0);
        assert_string_equal(anim, cases[i].anim);
    }
}

static void test_second_vectors_chain(void **state)
{
    (void)state;
    uint8_t key[48];
    int rows[16][TWITTER_TXID_ROW_LEN];
    for (int i = 0; i < 48; i++)
        key[i] = (uint8_t)((13 * i * i + 5 * i + 11) % 256);
    for (int r = 0; r < 16; r++)
        for (int c = 0; c < TWITTER_TXID_ROW_LEN; c++)
            rows[r][c] = (97 * r + 29 * c * c + 7) % 256;
    char enc[80];
    b64_encode(key, sizeof key, enc);
    assert_string_equal(enc, "Cx1Jj+9p/atzVVFnl+FFw1sN2b+/2Q1bw0Xhl2dRVXOr/Wnvj0kdCxM1ccc3wWUj");
    /* row key[40] % 16 = 3, frame time 525 → 530, easing output slightly below 0 */
    int idx[] = {40, 3, 9, 27};
    char anim[TWITTER_TXID_ANIM_MAX], why[128];
    assert_int_equal(twitter_txid_key_from_parts(key, sizeof key, idx, 4,
                                                 (const int (*)[TWITTER_TXID_ROW_LEN])rows, 16,
                                                 anim, sizeof anim, why, sizeof why), 0);
    assert_string_equal(anim, "2a429b1011eb851eb851ec011eb851eb851ec100");
    struct twitter_txid_state *st = NULL;
    assert_int_equal(twitter_txid_state_new(key, sizeof key, anim, &st), TWITTER_TXID_OK);
    char id[TWITTER_TXID_ID_MAX];
    assert_int_equal(twitter_txid_make_raw(st, "POST",
                                           "/graphql/ML-n2SfAxx5S_9QMqNejbg/SearchTimeline",
                                           112233445u, 0xC3, id, sizeof id), 0);
    assert_string_equal(id, "w8jeikwsqj5osJaSpFQihgCYzhp8fBrOmACGIlSkkpawaD6qLEyK3sjQ9rIE9AKm4CZIc8"
                            "UXqGlqg/xGdUYTPY4b9SaVwA");
    /* time 0 and XOR byte 0 leave the payload readable */
    assert_int_equal(twitter_txid_make_raw(st, "GET", "/1.1/account/settings.json", 0, 0, id,
                                           sizeof id), 0);
    assert_string_equal(id, "AAsdSY/vaf2rc1VRZ5fhRcNbDdm/v9kNW8NF4ZdnUVVzq/1p749JHQsTNXHHN8FlIwAA"
                            "AAAizEpZNiJTi7GzzTNFUT1eAw");
    twitter_txid_state_free(st);
}

static void test_make_arguments(void **state)
{
    (void)state;
    struct twitter_txid_state *st = NULL;
    char why[128];
    assert_int_equal(twitter_txid_state_from_pair(V1_KEY_B64, V1_ANIM, &st, why, sizeof why), 0);
    char id[TWITTER_TXID_ID_MAX];
    assert_int_equal(twitter_txid_make_raw(st, "get", V1_PATH, 1, 1, id, sizeof id), -1);
    assert_int_equal(twitter_txid_make_raw(st, "", V1_PATH, 1, 1, id, sizeof id), -1);
    assert_int_equal(twitter_txid_make_raw(st, "GET", "i/api", 1, 1, id, sizeof id), -1);
    assert_int_equal(twitter_txid_make_raw(st, "GET", NULL, 1, 1, id, sizeof id), -1);
    assert_int_equal(twitter_txid_make_raw(NULL, "GET", V1_PATH, 1, 1, id, sizeof id), -1);
    assert_int_equal(twitter_txid_make_raw(st, "GET", V1_PATH, 1, 1, id, 94), -1);
    assert_int_equal(twitter_txid_make_raw(st, "GET", V1_PATH, 1, 1, id, 95), 0);
    assert_int_equal(strlen(id), 94);
    twitter_txid_state_free(st);

    uint8_t key[4] = {1, 2, 3, 4};
    assert_int_equal(twitter_txid_state_new(key, sizeof key, V1_ANIM, &st),
                     TWITTER_TXID_ERR_PARSE);
    assert_null(st);
}

/* ---- a synthetic home page carrying vector 1 ------------------------------------------------ */

/* The frame path: 9 characters dropped, then 16 rows separated by 'C'. Signs and decimal points
 * in the numbers split/lose nothing we rely on here except the deliberate "12.5" case. */
static char *frame_path(void)
{
    int rows[16][TWITTER_TXID_ROW_LEN];
    v1_rows(rows);
    char *d = malloc(4096);
    size_t o = (size_t)sprintf(d, "M 10,30 C");
    for (int r = 0; r < 16; r++) {
        if (r)
            o += (size_t)sprintf(d + o, " C");
        for (int c = 0; c < TWITTER_TXID_ROW_LEN; c++)
            o += (size_t)sprintf(d + o, "%s%d", c % 2 ? "," : " ", rows[r][c]);
    }
    return d;
}

/* A decoy path (frames other than key[5] % 4 = 2) that would give a different key. */
#define DECOY_D "M 10,30 C 1 2 3 4 5 6 7 8 9 10 11 C 1 2 3 4 5 6 7 8 9 10 11"

static char *home_page(const char *scripts)
{
    char *d = frame_path();
    char *html = NULL;
    int n = asprintf(&html,
        "<!DOCTYPE html><html dir=\"ltr\" lang=\"en\"><head>\n"
        "<meta charset=\"utf-8\" />\n"
        "<meta name=\"twitter-site-verification\" content=\"" V1_KEY_B64 "\" />\n"
        "%s\n</head><body>\n"
        "<div id=\"react-root\"><div><svg id=\"loading-x-anim-0\" viewBox=\"0 0 1 1\">\n"
        "  <g>\n    <path d=\"M 0 0\"></path>\n    <path d=\"" DECOY_D "\"></path>\n  </g></svg>\n"
        "<svg id=\"loading-x-anim-1\"><g><path d=\"M 0\"/><path d=\"" DECOY_D "\"/></g></svg>\n"
        "<svg id=\"loading-x-anim-2\">\n<g>\n<path d=\"M 0 0\"></path>\n"
        "<path d=\"%s\"></path>\n</g>\n</svg>\n"
        "<svg id=\"loading-x-anim-3\"><g><path d=\"M 0\"/><path d=\"" DECOY_D "\"/></g></svg>\n"
        "</div></div></body></html>\n", scripts, d);
    free(d);
    assert_true(n > 0);
    return html;
}

/* An indices script in the minified style: the indices are 2, 12, 14, 7. */
static const char INDICES_JS[] =
    "(self.webpackChunk_twitter_responsive_web=self.webpackChunk_twitter_responsive_web||[])"
    ".push([[20113],{12345:(e,t,n)=>{n.d(t,{default:()=>o});var r=n(1),"
    "o=function(){return [(a[2],16),parseInt(xy[12], 16)+(b[12], 16),(c[14],\n 16),(d[7],16),"
    "(e[123],16),(f[1],17),(g[3]16)].join(\"\")}}}]);";

static void derive_and_check(const struct twitter_txid_page *page)
{
    struct twitter_txid_state *st = NULL;
    char why[256] = "";
    int rc = twitter_txid_derive(page, INDICES_JS, sizeof INDICES_JS - 1, &st, why, sizeof why);
    if (rc != TWITTER_TXID_OK)
        fail_msg("derive: %s", why);
    assert_string_equal(twitter_txid_state_anim_key(st), V1_ANIM);
    char id[TWITTER_TXID_ID_MAX];
    assert_int_equal(twitter_txid_make_raw(st, "GET", V1_PATH, 100000000u, 0x5A, id, sizeof id), 0);
    assert_string_equal(id, V1_ID);
    twitter_txid_state_free(st);
}

static void test_page_webpack_map(void **state)
{
    (void)state;
    /* id → name map and id → hash map, entry at the start of the map, 16-hex hash */
    char *html = home_page(
        "<script>window.__SCRIPTS_LOADED__={};!function(){var e={};"
        "n.u=e=>e+\".\"+{20113:\"ondemand.s\",20114:\"bundle.Foo\"}[e]+\".\"+"
        "{20114:\"aaaaaaa\",20113:\"0123456789abcdef\"}[e]+\"a.js\"}();</script>");
    struct twitter_txid_page *page = NULL;
    char why[256] = "";
    int rc = twitter_txid_page_parse(html, strlen(html), "https://x.com/home",
                                     "http://127.0.0.1:9/", &page, why, sizeof why);
    if (rc != TWITTER_TXID_OK)
        fail_msg("parse: %s", why);
    assert_string_equal(twitter_txid_page_script_url(page),
                        "http://127.0.0.1:9/responsive-web/client-web/ondemand.s.0123456789abcdefa.js");
    size_t n = 99;
    twitter_txid_page_chunks(page, &n);
    assert_int_equal(n, 0);
    derive_and_check(page);
    twitter_txid_page_free(page);
    free(html);
}

static void test_page_webpack_single_quotes_7hex(void **state)
{
    (void)state;
    char *html = home_page("<script>n.u=e=>e+'.'+{1:'main',  777 : 'ondemand.s'}[e]+'.'+"
                           "{ 777 :'abc1234',1:'fffffff'}[e]+'a.js'</script>");
    struct twitter_txid_page *page = NULL;
    char why[256] = "";
    assert_int_equal(twitter_txid_page_parse(html, strlen(html), "https://x.com/home", NULL,
                                             &page, why, sizeof why), TWITTER_TXID_OK);
    assert_string_equal(twitter_txid_page_script_url(page),
                        "https://abs.twimg.com/responsive-web/client-web/ondemand.s.abc1234a.js");
    derive_and_check(page);
    twitter_txid_page_free(page);
    free(html);
}

static void test_page_webpack_old_layout(void **state)
{
    (void)state;
    char *html = home_page("<script>var m={\"bundle.A\":\"1111111\",\"ondemand.s\":\"7e3f2a1\"};"
                           "</script>");
    struct twitter_txid_page *page = NULL;
    char why[256] = "";
    assert_int_equal(twitter_txid_page_parse(html, strlen(html), "https://x.com/home",
                                             "https://abs.twimg.com", &page, why, sizeof why),
                     TWITTER_TXID_OK);
    assert_string_equal(twitter_txid_page_script_url(page),
                        "https://abs.twimg.com/responsive-web/client-web/ondemand.s.7e3f2a1a.js");
    derive_and_check(page);
    twitter_txid_page_free(page);
    free(html);
}

static void test_page_xweb(void **state)
{
    (void)state;
    char *html = home_page(
        "<script type=\"module\" crossorigin src=\"https://abs.twimg.com/x-web/x-web/assets/"
        "entry-client-BvX1.js\"></script>\n"
        "<link rel=\"modulepreload\" href=\"https://abs.twimg.com/x-web/x-web/assets/vendor-9a.js\">\n"
        "<link rel=\"modulepreload\" href=\"https://abs.twimg.com/x-web/x-web/assets/"
        "sentry-filter-Q2.js\">\n"
        "<link rel=\"modulepreload\" href=\"/x-web/x-web/assets/rooted-1.js\">\n"
        "<link rel=\"stylesheet\" href=\"https://abs.twimg.com/x-web/x-web/assets/style.css\">\n"
        "<script>var dup=\"https://abs.twimg.com/x-web/x-web/assets/vendor-9a.js\";</script>");
    struct twitter_txid_page *page = NULL;
    char why[256] = "";
    int rc = twitter_txid_page_parse(html, strlen(html), "http://127.0.0.1:8/home", NULL, &page,
                                     why, sizeof why);
    if (rc != TWITTER_TXID_OK)
        fail_msg("parse: %s", why);
    assert_null(twitter_txid_page_script_url(page));
    size_t n = 0;
    const char *const *chunks = twitter_txid_page_chunks(page, &n);
    assert_int_equal(n, 4);
    assert_string_equal(chunks[0], "https://abs.twimg.com/x-web/x-web/assets/sentry-filter-Q2.js");
    assert_string_equal(chunks[1], "https://abs.twimg.com/x-web/x-web/assets/entry-client-BvX1.js");
    assert_string_equal(chunks[2], "https://abs.twimg.com/x-web/x-web/assets/vendor-9a.js");
    assert_string_equal(chunks[3], "http://127.0.0.1:8/x-web/x-web/assets/rooted-1.js");

    /* the chunk search: only a real import of sign.o / ondemand.s counts */
    char *url = NULL;
    const char miss[] = "const design={};var a=\"design.o-1.js\";import(\"./other.js\")";
    assert_int_equal(twitter_txid_find_script(miss, sizeof miss - 1, chunks[0], &url), 0);
    assert_null(url);
    const char hit[] = "x.then(()=>import(\"./sign.o-Dk3_x.js\")).catch(()=>{})";
    assert_int_equal(twitter_txid_find_script(hit, sizeof hit - 1, chunks[0], &url), 1);
    assert_string_equal(url, "https://abs.twimg.com/x-web/x-web/assets/sign.o-Dk3_x.js");
    free(url);
    const char up[] = "import('../lib/ondemand.s-77.js')";
    assert_int_equal(twitter_txid_find_script(up, sizeof up - 1, chunks[0], &url), 1);
    assert_string_equal(url, "https://abs.twimg.com/x-web/x-web/lib/ondemand.s-77.js");
    free(url);

    derive_and_check(page);
    twitter_txid_page_free(page);
    free(html);
}

static void test_page_logged_out_and_challenge(void **state)
{
    (void)state;
    char *html = home_page("<script type=\"module\" src=\"https://abs.twimg.com/x-web/x-web/"
                           "assets/entry-client-logged-out-AB.js\"></script>");
    struct twitter_txid_page *page = NULL;
    char why[256] = "";
    assert_int_equal(twitter_txid_page_parse(html, strlen(html), "https://x.com/home", NULL,
                                             &page, why, sizeof why), TWITTER_TXID_ERR_ACCOUNT);
    assert_null(page);
    assert_non_null(strstr(why, "logged-out"));
    free(html);

    const char cf[] = "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
                      "<script src=\"/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1\">"
                      "</script></body></html>";
    assert_int_equal(twitter_txid_page_parse(cf, sizeof cf - 1, "https://x.com/home", NULL,
                                             &page, why, sizeof why), TWITTER_TXID_ERR_CHALLENGE);
    assert_non_null(strstr(why, "Cloudflare"));

    const char plain[] = "<html><body>hello</body></html>";
    assert_int_equal(twitter_txid_page_parse(plain, sizeof plain - 1, "https://x.com/home", NULL,
                                             &page, why, sizeof why), TWITTER_TXID_ERR_PARSE);
    assert_non_null(strstr(why, "ondemand.s"));
    assert_int_equal(twitter_txid_page_parse("", 0, "https://x.com/home", NULL, &page, why,
                                             sizeof why), TWITTER_TXID_ERR_PARSE);
    assert_null(page);
}

static void replace(char *s, const char *from, const char *to)
{
    char *p = strstr(s, from);
    assert_non_null(p);
    assert_int_equal(strlen(from), strlen(to));
    memcpy(p, to, strlen(to));
}

static void test_page_broken_parts(void **state)
{
    (void)state;
    const char *scripts = "<script>{1:\"ondemand.s\"}+{1:\"abcdef0\"}</script>";
    struct twitter_txid_page *page = NULL;
    char why[256];

    char *html = home_page(scripts);
    replace(html, "twitter-site-verification", "twitter-site-verificatioX");
    assert_int_equal(twitter_txid_page_parse(html, strlen(html), "https://x.com/home", NULL,
                                             &page, why, sizeof why), TWITTER_TXID_ERR_PARSE);
    assert_non_null(strstr(why, "meta tag"));
    free(html);

    html = home_page(scripts);
    replace(html, "AwoRGB8m", "AwoRGB*m");
    assert_int_equal(twitter_txid_page_parse(html, strlen(html), "https://x.com/home", NULL,
                                             &page, why, sizeof why), TWITTER_TXID_ERR_PARSE);
    assert_non_null(strstr(why, "not base64"));
    free(html);

    html = home_page(scripts);
    for (char *p = html; (p = strstr(p, "loading-x-anim")); p++)
        p[0] = 'L';
    assert_int_equal(twitter_txid_page_parse(html, strlen(html), "https://x.com/home", NULL,
                                             &page, why, sizeof why), TWITTER_TXID_ERR_PARSE);
    assert_non_null(strstr(why, "frames"));
    free(html);

    /* the selected frame's second path has no d attribute */
    html = home_page(scripts);
    char *f2 = strstr(html, "loading-x-anim-2");
    char *d2 = strstr(f2, "d=\"M 10,30 C");
    d2[0] = 'x';
    assert_int_equal(twitter_txid_page_parse(html, strlen(html), "https://x.com/home", NULL,
                                             &page, why, sizeof why), TWITTER_TXID_ERR_PARSE);
    assert_non_null(strstr(why, "frame 2 has no path data"));
    assert_null(page);
    free(html);

    /* the path data too short to hold rows */
    html = home_page(scripts);
    f2 = strstr(html, "loading-x-anim-2");
    d2 = strstr(f2, "d=\"M 10,30 C");
    memcpy(d2 + 3, "M\"    ", 6);
    assert_int_equal(twitter_txid_page_parse(html, strlen(html), "https://x.com/home", NULL,
                                             &page, why, sizeof why), TWITTER_TXID_ERR_PARSE);
    assert_non_null(strstr(why, "too short"));
    free(html);
}

static void test_derive_errors(void **state)
{
    (void)state;
    char *html = home_page("<script>{1:\"ondemand.s\"}+{1:\"abcdef0\"}</script>");
    struct twitter_txid_page *page = NULL;
    char why[256];
    assert_int_equal(twitter_txid_page_parse(html, strlen(html), "https://x.com/home", NULL,
                                             &page, why, sizeof why), TWITTER_TXID_OK);
    struct twitter_txid_state *st = NULL;
    const char none[] = "function(){return (a[1],17)+(b[123],16)+(c[4] ,16)}";
    assert_int_equal(twitter_txid_derive(page, none, sizeof none - 1, &st, why, sizeof why),
                     TWITTER_TXID_ERR_PARSE);
    assert_non_null(strstr(why, "no key-byte indices"));
    const char one[] = "(a[2],16)";
    assert_int_equal(twitter_txid_derive(page, one, sizeof one - 1, &st, why, sizeof why),
                     TWITTER_TXID_ERR_PARSE);
    assert_non_null(strstr(why, "at least 2"));
    const char far[] = "(a[2],16)(a[60],16)";
    assert_int_equal(twitter_txid_derive(page, far, sizeof far - 1, &st, why, sizeof why),
                     TWITTER_TXID_ERR_PARSE);
    assert_non_null(strstr(why, "outside"));
    assert_int_equal(twitter_txid_derive(page, "", 0, &st, why, sizeof why),
                     TWITTER_TXID_ERR_PARSE);
    assert_null(st);
    twitter_txid_page_free(page);
    free(html);

    /* a frame whose selected row is short: key[2] % 16 = 1 → row 1 has only 3 numbers */
    html = home_page("<script>{1:\"ondemand.s\"}+{1:\"abcdef0\"}</script>");
    char *f2 = strstr(html, "loading-x-anim-2");
    char *d = strstr(f2, "M 10,30 C");
    char *c1 = strchr(d + 9, 'C');
    memcpy(c1 + 1, " 1 2 3C", 7);
    assert_int_equal(twitter_txid_page_parse(html, strlen(html), "https://x.com/home", NULL,
                                             &page, why, sizeof why), TWITTER_TXID_OK);
    assert_int_equal(twitter_txid_derive(page, INDICES_JS, sizeof INDICES_JS - 1, &st, why,
                                         sizeof why), TWITTER_TXID_ERR_PARSE);
    assert_non_null(strstr(why, "fewer than"));
    twitter_txid_page_free(page);
    free(html);
}

/* ---- hostile sizes ---------------------------------------------------------------------------
 * Pages and scripts made of one repeated trap each must be handled in time linear in their size
 * (a quadratic scan of 2 MB takes minutes); the CPU time bound is generous for valgrind. */

static char *repeat(const char *unit, size_t total, size_t *len)
{
    size_t ul = strlen(unit), n = total / ul;
    char *s = malloc(n * ul + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * ul, unit, ul);
    s[n * ul] = '\0';
    *len = n * ul;
    return s;
}

static void test_hostile_sizes(void **state)
{
    (void)state;
    clock_t start = clock();
    const size_t size = 2u * 1024 * 1024;
    size_t len;
    char why[256];
    struct twitter_txid_page *page = NULL;

    char *s = repeat("/x-web/", size, &len);
    assert_int_equal(twitter_txid_page_parse(s, len, "https://x.com/home", NULL, &page, why,
                                             sizeof why), TWITTER_TXID_ERR_PARSE);
    free(s);
    s = repeat("'ondemand.s'", size, &len);
    assert_int_equal(twitter_txid_page_parse(s, len, "https://x.com/home", NULL, &page, why,
                                             sizeof why), TWITTER_TXID_ERR_PARSE);
    free(s);
    s = repeat("1:'ondemand.s',", size, &len);
    assert_int_equal(twitter_txid_page_parse(s, len, "https://x.com/home", NULL, &page, why,
                                             sizeof why), TWITTER_TXID_ERR_PARSE);
    assert_null(page);
    free(s);

    struct twitter_txid_hop hop;
    s = repeat("document.location='abc\n", size, &len);
    assert_int_equal(twitter_txid_next_hop(s, len, "https://x.com/", &hop), 0);
    free(s);

    char *url = NULL;
    s = repeat("/sign.o", size, &len);
    assert_int_equal(twitter_txid_find_script(s, len, "https://a.b/c.js", &url), 0);
    free(s);
    s = repeat("'./ondemand.s", size, &len);
    assert_int_equal(twitter_txid_find_script(s, len, "https://a.b/c.js", &url), 0);
    assert_null(url);
    free(s);

    double cpu = (double)(clock() - start) / CLOCKS_PER_SEC;
    assert_true(cpu < 60.0);

    /* one start tag of 100000 distinct attributes: libxml2 compares each with every earlier one
     * (~25 s under the sanitizers for this one tag) unless the page is capped first */
    size_t reps = 100000, n = 0;
    s = malloc(reps * 16 + 64);
    assert_non_null(s);
    n += (size_t)sprintf(s + n, "<html><body><div");
    for (size_t i = 0; i < reps; i++)
        n += (size_t)sprintf(s + n, " a%zu=v", i);
    n += (size_t)sprintf(s + n, "></div></body></html>");
    start = clock();
    assert_int_equal(twitter_txid_next_hop(s, n, "https://x.com/", &hop), 0);
    cpu = (double)(clock() - start) / CLOCKS_PER_SEC;
    if (cpu > 10.0)
        fail_msg("a tag of %zu attributes took %.1f s of CPU", reps, cpu);
    free(s);
}

/* ---- hops ---------------------------------------------------------------------------------- */

static void test_hops(void **state)
{
    (void)state;
    struct twitter_txid_hop hop;
    const char redirect[] = "<html><head><script>document.location = \"https://x.com/x/migrate?"
                            "tok=abc%2D1\";</script></head></html>";
    assert_int_equal(twitter_txid_next_hop(redirect, sizeof redirect - 1, "https://x.com/home",
                                           &hop), 1);
    assert_string_equal(hop.url, "https://x.com/x/migrate?tok=abc%2D1");
    assert_null(hop.body);
    twitter_txid_hop_free(&hop);

    const char form[] = "<html><body><form action=\"https://x.com/x/migrate\" method=\"post\" "
                        "name=\"f\"><input type=\"hidden\" name=\"tok\" value=\"a b&c=d\">"
                        "<input type=\"hidden\" name=\"data\" value=\"xyz\"><input type=\"submit\">"
                        "</form></body></html>";
    assert_int_equal(twitter_txid_next_hop(form, sizeof form - 1, "https://twitter.com/", &hop), 1);
    assert_string_equal(hop.url, "https://x.com/x/migrate");
    assert_string_equal(hop.body, "tok=a+b%26c%3Dd&data=xyz");
    twitter_txid_hop_free(&hop);

    const char refresh[] = "<html><head><meta http-equiv=\"refresh\" content=\"0; url = "
                           "https://twitter.com/x/migrate?tok=QQ\"></head></html>";
    assert_int_equal(twitter_txid_next_hop(refresh, sizeof refresh - 1, "https://twitter.com/",
                                           &hop), 1);
    assert_string_equal(hop.url, "https://twitter.com/x/migrate?tok=QQ");
    assert_null(hop.body);
    twitter_txid_hop_free(&hop);

    /* a refresh elsewhere, a comparison, and the real page: no hop */
    const char other[] = "<html><head><meta http-equiv=\"refresh\" content=\"0; url=/login\">"
                         "<script>if(document.location == \"x\"){}</script></head></html>";
    assert_int_equal(twitter_txid_next_hop(other, sizeof other - 1, "https://x.com/", &hop), 0);
    assert_null(hop.url);
    char *html = home_page("<script>document.location = \"https://x.com/elsewhere\"</script>");
    assert_int_equal(twitter_txid_next_hop(html, strlen(html), "https://x.com/home", &hop), 0);
    free(html);
    assert_int_equal(twitter_txid_next_hop("", 0, "https://x.com/", &hop), 0);

    /* hops only lead to X's hosts or the page's own host */
    const char evil[] = "<script>document.location = \"https://x.com.evil.example/x/migrate?tok=1\""
                        "</script>";
    assert_int_equal(twitter_txid_next_hop(evil, sizeof evil - 1, "https://x.com/", &hop), 0);
    assert_null(hop.url);
    const char evil_form[] = "<form action=\"http://169.254.169.254/x/migrate\"><input name=\"a\" "
                             "value=\"b\"></form>";
    assert_int_equal(twitter_txid_next_hop(evil_form, sizeof evil_form - 1, "https://x.com/",
                                           &hop), 0);
    const char local[] = "<script>document.location = \"/x/migrate?tok=2\"</script>";
    assert_int_equal(twitter_txid_next_hop(local, sizeof local - 1, "http://127.0.0.1:5/home",
                                           &hop), 1);
    assert_string_equal(hop.url, "http://127.0.0.1:5/x/migrate?tok=2");
    twitter_txid_hop_free(&hop);
    const char sub[] = "<script>document.location = \"https://mobile.twitter.com/x/migrate\"</script>";
    assert_int_equal(twitter_txid_next_hop(sub, sizeof sub - 1, "https://x.com/", &hop), 1);
    twitter_txid_hop_free(&hop);
}

static void test_foreign_script_hosts(void **state)
{
    (void)state;
    char *html = home_page(
        "<link rel=\"modulepreload\" href=\"https://evil.example/x-web/assets/sentry-filter-1.js\">"
        "<link rel=\"modulepreload\" href=\"https://abs.twimg.com.evil.example/x-web/a-1.js\">"
        "<link rel=\"modulepreload\" href=\"http://127.0.0.1:7/x-web/assets/own-1.js\">"
        "<link rel=\"modulepreload\" href=\"https://abs.twimg.com/x-web/assets/main-1.js\">");
    struct twitter_txid_page *page = NULL;
    char why[256];
    assert_int_equal(twitter_txid_page_parse(html, strlen(html), "https://x.com/home",
                                             "http://127.0.0.1:7", &page, why, sizeof why),
                     TWITTER_TXID_OK);
    size_t n = 0;
    const char *const *chunks = twitter_txid_page_chunks(page, &n);
    assert_int_equal(n, 2);
    assert_string_equal(chunks[0], "http://127.0.0.1:7/x-web/assets/own-1.js");
    assert_string_equal(chunks[1], "https://abs.twimg.com/x-web/assets/main-1.js");
    twitter_txid_page_free(page);
    free(html);

    char *url = NULL;
    const char js[] = "import(\"https://evil.example/sign.o-1.js\");import(\"./sign.o-2.js\")";
    assert_int_equal(twitter_txid_find_script(js, sizeof js - 1,
                                              "https://abs.twimg.com/x-web/assets/c.js", &url), 1);
    assert_string_equal(url, "https://abs.twimg.com/x-web/assets/sign.o-2.js");
    free(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector1_key_bytes_base64),
        cmocka_unit_test(test_vector1_animation_key),
        cmocka_unit_test(test_vector1_id),
        cmocka_unit_test(test_vector1_from_pair),
        cmocka_unit_test(test_vector2_animation_key),
        cmocka_unit_test(test_vector3_decoding_check),
        cmocka_unit_test(test_second_vectors_animation),
        cmocka_unit_test(test_second_vectors_chain),
        cmocka_unit_test(test_make_arguments),
        cmocka_unit_test(test_page_webpack_map),
        cmocka_unit_test(test_page_webpack_single_quotes_7hex),
        cmocka_unit_test(test_page_webpack_old_layout),
        cmocka_unit_test(test_page_xweb),
        cmocka_unit_test(test_page_logged_out_and_challenge),
        cmocka_unit_test(test_page_broken_parts),
        cmocka_unit_test(test_derive_errors),
        cmocka_unit_test(test_hops),
        cmocka_unit_test(test_state_copy_outlives_the_original),
        cmocka_unit_test(test_cookie_hosts),
        cmocka_unit_test(test_hostile_sizes),
        cmocka_unit_test(test_foreign_script_hosts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
