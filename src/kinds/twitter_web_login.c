/* twitter_web_login.c - the onboarding login flow and TOTP codes (see twitter_web_login.h). */
#include "kinds/twitter_web_login.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "config.h"
#include "jobs/kind.h"
#include "kinds/twitter_accounts.h"
#include "kinds/twitter_keys.h"
#include "kinds/twitter_web_request.h"
#include "log.h"
#include "util/crypto.h"
#include "util/json_out.h"

/* ---- TOTP (RFC 6238 over RFC 4226) ---- */

static int base32_decode(const char *s, unsigned char *out, size_t cap, size_t *len)
{
    unsigned long long acc = 0;
    int bits = 0;
    *len = 0;
    for (; *s; s++) {
        int c = toupper((unsigned char)*s), v;
        if (c == ' ' || c == '=' || c == '-')
            continue;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= '2' && c <= '7')
            v = c - '2' + 26;
        else
            return -1;
        acc = (acc << 5) | (unsigned)v;
        bits += 5;
        if (bits >= 8) {
            if (*len >= cap)
                return -1;
            out[(*len)++] = (unsigned char)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    return *len ? 0 : -1;
}

int tw_totp(const char *secret, time_t now, char out[7])
{
    unsigned char key[128], msg[8], mac[CRYPTO_SHA1_LEN];
    size_t keylen;
    if (!secret || base32_decode(secret, key, sizeof key, &keylen) < 0)
        return -1;
    unsigned long long counter = (unsigned long long)now / 30;
    for (int i = 7; i >= 0; i--) {
        msg[i] = (unsigned char)(counter & 0xff);
        counter >>= 8;
    }
    crypto_hmac_sha1(key, keylen, msg, sizeof msg, mac);
    crypto_wipe(key, sizeof key);
    int off = mac[CRYPTO_SHA1_LEN - 1] & 0x0f;
    unsigned long code = ((unsigned long)(mac[off] & 0x7f) << 24) |
                         ((unsigned long)mac[off + 1] << 16) | ((unsigned long)mac[off + 2] << 8) |
                         mac[off + 3];
    snprintf(out, 7, "%06lu", code % 1000000);
    return 0;
}

/* ---- the flow ---- */

struct flow {
    const struct config *cfg;
    const struct job_ctx *ctx;
    const struct tw_account *a;
    struct twitter_jar *jar;
    long *rest_s;               /* the caller's: cool-down seconds when X rate-limits the flow */
    char guest[64];
    char token[512];            /* flow_token */
    char subtask[96];           /* subtasks[0].subtask_id of the last answer, "" when none */
    char hint[160];             /* text X shows with it (DenyLoginSubtask, LoginAcid) */
};

static void absorb(struct flow *f, const struct tw_web_answer *ans)
{
    for (const char *line = ans->set_cookies; line && *line;) {
        size_t len = strcspn(line, "\n");
        twitter_jar_set_cookie(f->jar, ans->host, line, len, time(NULL));
        line += len + (line[len] == '\n');
    }
}

/* pause: the pacing between steps, bounded by the job's deadline. */
static int pause_step(struct flow *f, struct err *e)
{
    long ms = f->cfg->twitter_login_step_delay_ms, left = job_ctx_remaining_ms(f->ctx);
    if (left <= ms)
        return err_set(e, 504, "job deadline reached during the login flow");
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (ms > 0 && nanosleep(&ts, &ts) != 0) {
    }
    return 0;
}

/* rate_limited: the flow's answer was X's rate limit (429 / code 88): sets the cool-down the
 * headers ask for and e (429). Returns -1. */
static int rate_limited(struct flow *f, const struct tw_web_answer *ans, const char *what,
                        struct err *e)
{
    long s = twitter_keys_parse_cooldown(ans->reset, ans->retry_after, time(NULL));
    if (f->rest_s)
        *f->rest_s = s;
    return err_set(e, 429, "%s rate limited by X (HTTP %ld: %.120s); next try in %ld s", what,
                   ans->status, ans->message, s);
}

static int guest_token(struct flow *f, struct err *e)
{
    char url[1024];
    snprintf(url, sizeof url, "%s/1.1/guest/activate.json", f->cfg->twitter_login_base);
    struct tw_web_request req = { .method = "POST", .url = url, .body = "" };
    struct tw_web_answer ans;
    if (tw_web_send(f->cfg, f->ctx, &req, &ans, e) < 0)
        return -1;
    absorb(f, &ans);
    const char *gt = json_string_value(json_object_get(ans.json, "guest_token"));
    int rc = 0;
    if (ans.verdict == TWV_RATE_LIMITED)
        rc = rate_limited(f, &ans, "guest token activation", e);
    else if (ans.status != 200 || !gt || !*gt || strlen(gt) >= sizeof f->guest)
        rc = err_set(e, 502, "guest token activation failed (HTTP %ld): %s", ans.status,
                     ans.message[0] ? ans.message : "guest_token not found");
    else if (!twitter_jar_valid_value(gt))   /* it goes out as a header and a cookie as it is */
        rc = err_set(e, 502, "guest token activation failed: the guest_token holds a character "
                     "no header or cookie may carry");
    else
        snprintf(f->guest, sizeof f->guest, "%s", gt);
    tw_web_answer_clear(&ans);
    if (rc == 0 && twitter_jar_set(f->jar, "gt", f->guest) < -1)
        rc = err_set(e, 500, "out of memory");
    return rc;
}

/* step: POST text (a JSON body, consumed: wiped and freed) to the flow; reads flow_token and the
 * first subtask. */
static int step(struct flow *f, bool first, char *text, struct err *e)
{
    char url[1024];
    snprintf(url, sizeof url, "%s/1.1/onboarding/task.json%s", f->cfg->twitter_login_base,
             first ? "?flow_name=login" : "");
    char *cookie = twitter_jar_header(f->jar);
    if (!text || !cookie) {
        crypto_free_text(text);
        crypto_free_text(cookie);
        return err_set(e, 500, "out of memory");
    }
    struct tw_web_request req = { .method = "POST", .url = url, .body = text,
                                  .cookie_header = cookie, .guest_token = f->guest };
    struct tw_web_answer ans;
    int rc = tw_web_send(f->cfg, f->ctx, &req, &ans, e);
    crypto_free_text(text);
    crypto_free_text(cookie);
    if (rc < 0)
        return -1;
    absorb(f, &ans);
    json_t *errors = json_object_get(ans.json, "errors");
    const char *tok = json_string_value(json_object_get(ans.json, "flow_token"));
    json_t *sub = json_array_get(json_object_get(ans.json, "subtasks"), 0);
    const char *id = json_string_value(json_object_get(sub, "subtask_id"));
    if (ans.verdict == TWV_RATE_LIMITED) {
        rc = rate_limited(f, &ans, "login flow", e);
    } else if (!json_is_object(ans.json)) {
        rc = err_set(e, 502, "login flow answered HTTP %ld without JSON", ans.status);
    } else if (json_array_size(errors) > 0 && ans.status >= 500) {
        /* X's own trouble ("Over capacity", code 130): the next job tries again */
        rc = err_set(e, 502, "login flow failed (HTTP %ld, X error %d): %s", ans.status,
                     ans.code, ans.message);
    } else if (json_array_size(errors) > 0) {
        rc = err_set(e, 401, "auth error (%d): %s", ans.code, ans.message);
    } else if (!tok || strlen(tok) >= sizeof f->token) {
        rc = err_set(e, 502, "login flow answered HTTP %ld without a flow token", ans.status);
    } else {
        snprintf(f->token, sizeof f->token, "%s", tok);
        snprintf(f->subtask, sizeof f->subtask, "%s", id ? id : "");
        const char *hint = json_string_value(json_object_get(json_object_get(
            json_object_get(sub, "cta"), "secondary_text"), "text"));
        if (!hint)
            hint = json_string_value(json_object_get(json_object_get(
                json_object_get(sub, "enter_text"), "hint_text"), "text"));
        if (!hint)
            hint = json_string_value(json_object_get(json_object_get(sub, "enter_text"),
                                                     "hint_text"));
        snprintf(f->hint, sizeof f->hint, "%s", hint ? hint : "");
    }
    tw_web_answer_clear(&ans);
    return rc;
}

/* dump: the text of body (consumed), NULL when there is none or on OOM. */
static char *dump(json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    return text;
}

/* answer: the body answering subtask `id` with input object `key: input` (consumed). */
static char *answer(struct flow *f, const char *key, json_t *input)
{
    return dump(json_pack("{s:s, s:[{s:s, s:o}]}", "flow_token", f->token, "subtask_inputs",
                          "subtask_id", f->subtask, key, input));
}

/* escaped_len / put_escaped: s as the inside of a JSON string, escaped as json_dumps escapes it
 * (without JSON_ENSURE_ASCII): \" \\ \b \f \n \r \t, other bytes below 0x20 as \u00XX. */
static const char escaped_bytes[] = "\"\\\b\f\n\r\t", escape_letters[] = "\"\\bfnrt";

static size_t escaped_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += strchr(escaped_bytes, *s) ? 2 : (unsigned char)*s < 0x20 ? 6 : 1;
    return n;
}

static char *put_escaped(char *o, const char *s)
{
    for (; *s; s++) {
        const char *named = strchr(escaped_bytes, *s);
        if (named) {
            *o++ = '\\';
            *o++ = escape_letters[named - escaped_bytes];
        } else if ((unsigned char)*s < 0x20) {
            o += sprintf(o, "\\u%04X", (unsigned)(unsigned char)*s);
        } else {
            *o++ = *s;
        }
    }
    return o;
}

char *tw_login_secret_body(const char *flow_token, const char *subtask, const char *key,
                           const char *field, const char *secret)
{
    /* literal text and, between, the strings: parts[1], [3], ... are escaped */
    const char *parts[] = {
        "{\"flow_token\":\"", flow_token, "\",\"subtask_inputs\":[{\"subtask_id\":\"", subtask,
        "\",\"", key, "\":{\"", field, "\":\"", secret, "\",\"link\":\"next_link\"}}]}",
    };
    size_t n = sizeof parts / sizeof *parts, need = 1;
    for (size_t i = 0; i < n; i++) {
        if (i % 2 && !json_out_utf8_valid(parts[i], strlen(parts[i])))
            return NULL;
        need += i % 2 ? escaped_len(parts[i]) : strlen(parts[i]);
    }
    char *out = malloc(need), *o = out;     /* sized once: no copy left behind by a realloc */
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++)
        o = i % 2 ? put_escaped(o, parts[i]) : stpcpy(o, parts[i]);
    *o = '\0';
    return out;
}

static char *next_body(struct flow *f, struct err *e)
{
    const char *id = f->subtask;
    const struct tw_account *a = f->a;
    if (strcmp(id, "LoginJsInstrumentationSubtask") == 0)
        return answer(f, "js_instrumentation", json_pack("{s:s, s:s}", "response", "{}",
                                                          "link", "next_link"));
    if (strcmp(id, "LoginEnterUserIdentifierSSO") == 0)
        return answer(f, "settings_list", json_pack(
            "{s:[{s:s, s:{s:{s:s}}}], s:s}", "setting_responses", "key", "user_identifier",
            "response_data", "text_data", "result", a->name, "link", "next_link"));
    if (strcmp(id, "LoginEnterAlternateIdentifierSubtask") == 0) {
        log_info("twitter: account %s: X asks for an alternate identifier (unusual activity "
                 "challenge); answering with the user name", a->name);
        return answer(f, "enter_text", json_pack("{s:s, s:s}", "text", a->name, "link",
                                                 "next_link"));
    }
    if (strcmp(id, "LoginEnterPassword") == 0)
        return tw_login_secret_body(f->token, f->subtask, "enter_password", "password",
                                    a->password);
    if (strcmp(id, "AccountDuplicationCheck") == 0)
        return answer(f, "check_logged_in_account", json_pack("{s:s}", "link",
                                                              "AccountDuplicationCheck_false"));
    if (strcmp(id, "LoginTwoFactorAuthChallenge") == 0) {
        char code[7];
        if (!a->totp_secret) {
            err_set(e, 401, "X asks for a two-factor code and the account has no TOTP secret "
                    "(TWITTER_ACCOUNTS user:password:totp_secret)");
            return NULL;
        }
        if (tw_totp(a->totp_secret, time(NULL), code) < 0) {
            err_set(e, 401, "the account's TOTP secret is not base32");
            return NULL;
        }
        char *body = tw_login_secret_body(f->token, f->subtask, "enter_text", "text", code);
        explicit_bzero(code, sizeof code);
        return body;
    }
    if (strcmp(id, "LoginAcid") == 0)
        err_set(e, 401, "auth error: LoginAcid (X asks for the account's e-mail or an e-mailed "
                "code: %.100s); log in from a browser and use its cookies", f->hint);
    else if (strcmp(id, "DenyLoginSubtask") == 0)
        err_set(e, 401, "auth error: DenyLoginSubtask (%.150s)", f->hint);
    else if (strcmp(id, "ArkoseLogin") == 0)
        err_set(e, 401, "auth error: ArkoseLogin (X wants a captcha solved in a browser)");
    else
        err_set(e, 401, "auth error: unsupported login step %s", id);
    return NULL;
}

static bool done(const struct flow *f)
{
    return !f->subtask[0] || strcmp(f->subtask, "LoginSuccessSubtask") == 0;
}

int tw_login(const struct config *cfg, const struct job_ctx *ctx, const struct tw_account *a,
             struct twitter_jar *jar, long *rest_s, struct err *e)
{
    struct flow f = { .cfg = cfg, .ctx = ctx, .a = a, .jar = jar, .rest_s = rest_s };
    if (!a->password)
        return err_set(e, 401, "the account has no password");
    log_info("twitter: account %s: logging in (onboarding flow)", a->name);
    if (guest_token(&f, e) < 0)
        return -1;
    char *start = dump(json_pack("{s:{s:{s:{}, s:{s:s}}}, s:{}}", "input_flow_data",
                                 "flow_context", "debug_overrides", "start_location", "location",
                                 "manual_link", "subtask_versions"));
    if (!start || step(&f, true, start, e) < 0)
        return e->http ? -1 : err_set(e, 500, "out of memory");
    for (int n = 0; !done(&f); n++) {
        if (n >= TW_LOGIN_MAX_STEPS)
            return err_set(e, 401, "login flow did not finish in %d steps (last: %s)",
                           TW_LOGIN_MAX_STEPS, f.subtask);
        char *body = next_body(&f, e);
        if (!body)
            return e->http ? -1 : err_set(e, 500, "out of memory");
        if (pause_step(&f, e) < 0) {
            crypto_free_text(body);
            return -1;
        }
        if (step(&f, false, body, e) < 0)
            return -1;
    }
    twitter_jar_remove(jar, "gt");
    if (!twitter_jar_get(jar, "auth_token") || !twitter_jar_get(jar, "ct0"))
        return err_set(e, 401, "login flow ended without the auth_token and ct0 cookies "
                       "(probably an IP ban or a challenge X did not show)");
    return 0;
}
