/* fuzz_twitter_txid.c - libFuzzer target for the x-client-transaction-id page and script
 * parsing (kinds/twitter_txid.h); the inputs come from the network (x.com home page, JS chunks).
 *
 * The input is tried as a page (hops and the full parse), as an x-web chunk and as an indices
 * script for a fixed good page; its first 11 bytes also form an animation row. Properties
 * checked: every URL produced is absolute http(s); an error always comes with a reason; a state
 * derived from anything yields a 94-character id for the page's 48-byte key and an animation
 * key of lowercase hex. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kinds/twitter_txid.h"

static void check_url(const char *u)
{
    if (!u || (strncasecmp(u, "http://", 7) != 0 && strncasecmp(u, "https://", 8) != 0))
        abort();
}

static void check_state(const struct twitter_txid_state *st, size_t want_len)
{
    const char *a = twitter_txid_state_anim_key(st);
    if (!a || !*a || strlen(a) >= TWITTER_TXID_ANIM_MAX)
        abort();
    for (const char *p = a; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            abort();
    char id[TWITTER_TXID_ID_MAX];
    if (twitter_txid_make_raw(st, "GET", "/i/api/graphql/x/Op", 100, 7, id, sizeof id) != 0)
        abort();
    if (want_len && strlen(id) != want_len)
        abort();
}

/* A good page (48-byte key, key[5] % 4 = 2 selects the third frame). */
static const char GOOD_PAGE[] =
    "<html><head><meta name=\"twitter-site-verification\" "
    "content=\"AwoRGB8mLTQ7QklQV15lbHN6gYiPlp2kq7K5wMfO1dzj6vH4/wYNFBsiKTA3PkVM\">"
    "<script>{1:\"ondemand.s\"}+{1:\"abcdef0\"}</script></head><body>"
    "<svg id=\"loading-x-anim-0\"><g><path/><path d=\"M 10,30 C 1 2 3 4 5 6 7 8 9 10 11\"/></g></svg>"
    "<svg id=\"loading-x-anim-1\"><g><path/><path d=\"M 10,30 C 1 2 3 4 5 6 7 8 9 10 11\"/></g></svg>"
    "<svg id=\"loading-x-anim-2\"><g><path/><path d=\"M 10,30 C"
    " 5 22 39 56 73 90 107 124 141 158 175 C 36 53 70 87 104 121 138 155 172 189 206"
    " C 67 84 101 118 135 152 169 186 203 220 237 C 98 115 132 149 166 183 200 217 234 251 12"
    " C 129 146 163 180 197 214 231 248 9 26 43 C 160 177 194 211 228 245 6 23 40 57 74"
    " C 191 208 225 242 3 20 37 54 71 88 105 C 222 239 0 17 34 51 68 85 102 119 136"
    " C 253 14 31 48 65 82 99 116 133 150 167 C 28 45 62 79 96 113 130 147 164 181 198"
    " C 59 76 93 110 127 144 161 178 195 212 229 C 90 107 124 141 158 175 192 209 226 243 4"
    " C 121 138 155 172 189 206 223 240 1 18 35 C 152 169 186 203 220 237 254 15 32 49 66"
    " C 183 200 217 234 251 12 29 46 63 80 97 C 214 231 248 9 26 43 60 77 94 111 128\"/></g></svg>"
    "<svg id=\"loading-x-anim-3\"><g><path/><path d=\"M 10,30 C 1 2 3 4 5 6 7 8 9 10 11\"/></g></svg>"
    "</body></html>";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    char why[256];

    struct twitter_txid_hop hop;
    int rc = twitter_txid_next_hop(s, size, "https://x.com/home", &hop);
    if (rc == 1) {
        check_url(hop.url);
        twitter_txid_hop_free(&hop);
    } else if (rc != 0 || hop.url || hop.body) {
        abort();
    }

    struct twitter_txid_page *page = NULL;
    why[0] = '\0';
    rc = twitter_txid_page_parse(s, size, "https://x.com/home", "https://abs.twimg.com", &page,
                                 why, sizeof why);
    if (rc == TWITTER_TXID_OK) {
        size_t n = 0;
        const char *const *chunks = twitter_txid_page_chunks(page, &n);
        const char *script = twitter_txid_page_script_url(page);
        if (!script && n == 0)
            abort();
        if (script)
            check_url(script);
        for (size_t i = 0; i < n; i++)
            check_url(chunks[i]);
        struct twitter_txid_state *st = NULL;
        if (twitter_txid_derive(page, s, size, &st, why, sizeof why) == TWITTER_TXID_OK) {
            check_state(st, 0);
            twitter_txid_state_free(st);
        }
        twitter_txid_page_free(page);
    } else if (page || !why[0]) {
        abort();
    }

    char *url = NULL;
    rc = twitter_txid_find_script(s, size, "https://abs.twimg.com/x-web/x-web/assets/a.js", &url);
    if (rc == 1)
        check_url(url);
    else if (rc != 0 || url)
        abort();
    free(url);

    static struct twitter_txid_page *good;
    if (!good && twitter_txid_page_parse(GOOD_PAGE, sizeof GOOD_PAGE - 1, "https://x.com/home",
                                         NULL, &good, why, sizeof why) != TWITTER_TXID_OK)
        abort();
    struct twitter_txid_state *st = NULL;
    why[0] = '\0';
    rc = twitter_txid_derive(good, s, size, &st, why, sizeof why);
    if (rc == TWITTER_TXID_OK) {
        check_state(st, 94);
        twitter_txid_state_free(st);
    } else if (st || !why[0]) {
        abort();
    }

    if (size >= TWITTER_TXID_ROW_LEN + 2) {
        int row[TWITTER_TXID_ROW_LEN];
        for (int i = 0; i < TWITTER_TXID_ROW_LEN; i++)
            row[i] = data[i];
        double ft = (double)(data[11] | data[12] << 8) * (double)(data[0] + 1);
        char anim[TWITTER_TXID_ANIM_MAX];
        if (twitter_txid_animation_key(row, ft, anim, sizeof anim) != 0)
            abort();
    }
    return 0;
}
