/* config.c - every setting of the worker, from the environment, .env files and defaults.
 *
 * One table (`vars`) names each variable, its kind, its field in struct config, its default and,
 * for integers, its range. Loading has three steps:
 *   1. collect_env: the raw string of every variable present in the environment (even empty);
 *   2. collect_files: $DATA_DIR/.env then ./.env fill only variables still unset; within one file
 *      the last assignment wins. DATA_DIR is never taken from a file; a DATA_DIR that does not
 *      exist is fine (no .env there), one that exists but is not a directory is an error;
 *   3. convert: each raw string (or the default when unset or empty) is parsed by its kind into a
 *      scratch struct config, which is copied out only when everything parsed.
 * Errors are returned as text naming the variable, the expected form and the bad value (quoted,
 * escaped, shortened), plus the file it came from. Nothing here logs. */
#include "config.h"

#include "dotenv.h"
#include "err.h"
#include "kinds/twitter_accounts.h"
#include "kinds/twitter_web_call.h"
#include "kinds/twitter_web_login.h"
#include "log.h"
#include "util/crypto.h"
#include "util/file_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#define DEFAULT_DATA_DIR "/home/masa"
/* The X web client's bearer token ("NRILg"), used for every logged-in call (twitter-modern.md 2.2). */
#define TWITTER_DEFAULT_BEARER                                                                    \
    "AAAAAAAAAAAAAAAAAAAAANRILgAAAAAAnNwIzUejRCOuH5E6I8xnZz4puTs%3D1Zv7ttfk8LF81IUq16cHjhLTvJu4FA33A" \
    "GWWjCpTnA"
#define MAX_RAW_VALUE (1024u * 1024u)

enum var_kind {
    VK_STRING,     /* char *, as given */
    VK_URL,        /* char *, http(s)://..., trailing '/' removed */
    VK_LIST,       /* struct str_list */
    VK_BOOL,       /* bool: true/false/1/0/yes/no */
    VK_NONEMPTY,   /* bool: any non-empty value is true */
    VK_UINT,       /* unsigned, range-checked */
    VK_SIZE,       /* size_t, range-checked */
    VK_RATIO,      /* double in (0, 1] */
    VK_LOG_LEVEL,  /* int, enum log_level */
    VK_LOG_FORMAT, /* bool log_json */
    VK_LISTEN,     /* char *, ":port", "host:port" or "[v6]:port" */
    VK_DURABILITY, /* char *, "normal" or "full" (any case, kept in lower case) */
};

struct var_spec {
    const char *name;
    enum var_kind kind;
    size_t offset;
    const char *def;
    unsigned long long min, max;
    bool env_only;
};

#define AT(field) offsetof(struct config, field)
#define DAY 86400ull
#define YEAR (365ull * DAY)

static const struct var_spec vars[] = {
    { "LOG_LEVEL", VK_LOG_LEVEL, AT(log_level), "info", 0, 0, false },
    { "LOG_FORMAT", VK_LOG_FORMAT, AT(log_json), "text", 0, 0, false },
    { "DATA_DIR", VK_STRING, AT(data_dir), DEFAULT_DATA_DIR, 0, 0, true },
    { "STANDALONE", VK_BOOL, AT(standalone), "false", 0, 0, false },
    { "LISTEN_ADDRESS", VK_LISTEN, AT(listen_address), ":8080", 0, 0, false },
    { "API_KEY", VK_STRING, AT(api_key), "", 0, 0, false },
    { "HTTP_MAX_BODY_BYTES", VK_SIZE, AT(http_max_body), "1048576", 1024, 64ull << 20, false },
    { "HTTP_MAX_RESULT_BODY_BYTES", VK_SIZE, AT(http_max_result_body), "67108864", 1024,
      1024ull << 20, false },
    { "HTTP_TIMEOUT_SECONDS", VK_UINT, AT(http_timeout_s), "30", 1, 3600, false },
    { "HTTP_THREADS", VK_UINT, AT(http_threads), "1", 1, 256, false },
    { "HTTP_MAX_CONNECTIONS", VK_UINT, AT(http_max_connections), "1024", 1, 65536, false },
    { "HTTP_CPUS", VK_LIST, AT(http_cpus), "", 0, 0, false },
    { "SHUTDOWN_DRAIN_SECONDS", VK_UINT, AT(shutdown_drain_s), "10", 1, 3600, false },
    { "KEY_DISTRIBUTOR_PUBKEY", VK_STRING, AT(key_distributor_pubkey), "", 0, 0, false },
    { "MINERS_WHITE_LIST", VK_LIST, AT(miners_white_list), "", 0, 0, false },
    { "MAX_JOBS", VK_UINT, AT(max_jobs), "10", 1, 4096, false },
    { "SCHED_BATCH", VK_BOOL, AT(sched_batch), "true", 0, 0, false },
    { "WRITER_FOLLOWS_HTTP", VK_BOOL, AT(writer_follows_http), "true", 0, 0, false },
    { "DURABILITY", VK_DURABILITY, AT(durability), "normal", 0, 0, false },
    { "STORE_URL", VK_STRING, AT(store_url), "", 0, 0, false },
    { "STORE_REDIS_PREFIX", VK_STRING, AT(store_redis_prefix), "tee-worker:", 0, 0, false },
    { "STORE_REDIS_CLAIM_MARGIN_SECONDS", VK_UINT, AT(store_redis_claim_margin_s), "30", 1, DAY,
      false },
    { "SEALING_KEYS_FILE", VK_STRING, AT(sealing_keys_file), "", 0, 0, false },
    { "JOB_QUEUE_MAX", VK_UINT, AT(job_queue_max), "10000", 1, 10000000, false },
    { "JOB_TIMEOUT_SECONDS", VK_UINT, AT(job_timeout_s), "300", 1, DAY, false },
    { "JOB_SIGNATURE_MAX_AGE_SECONDS", VK_UINT, AT(job_signature_max_age_s), "86400", 1, YEAR,
      false },
    { "RESULT_CACHE_MAX_SIZE", VK_UINT, AT(result_cache_max_size), "1000", 1, 10000000, false },
    { "RESULT_CACHE_MAX_AGE_SECONDS", VK_UINT, AT(result_cache_max_age_s), "600", 1, YEAR, false },
    { "RESULT_CACHE_MAX_BYTES", VK_SIZE, AT(result_cache_max_bytes), "268435456", 1u << 20,
      1ull << 40, false },
    { "STATS_BUF_SIZE", VK_UINT, AT(stats_buf_size), "128", 1, 1048576, false },
    { "READYZ_MIN_SAMPLES", VK_UINT, AT(readyz_min_samples), "20", 1, 1000000, false },
    { "READYZ_ERROR_THRESHOLD", VK_RATIO, AT(readyz_error_threshold), "0.95", 0, 0, false },
    { "ENABLE_PPROF", VK_BOOL, AT(enable_pprof), "false", 0, 0, false },
    { "OE_SIMULATION", VK_NONEMPTY, AT(oe_simulation), "", 0, 0, false },
    { "GRAMINE_ATTESTATION_DIR", VK_STRING, AT(gramine_attestation_dir), "/dev/attestation", 0, 0,
      true },
    { "TLS_CERT_VALIDITY_SECONDS", VK_UINT, AT(tls_cert_validity_s), "2592000", 3, YEAR, false },
    { "WEBSCRAPER_BLACKLIST", VK_LIST, AT(webscraper_blacklist), "", 0, 0, false },
    { "WEBSCRAPER_MAX_DEPTH", VK_UINT, AT(webscraper_max_depth), "5", 1, 32, false },
    { "WEBSCRAPER_ALLOW_PRIVATE", VK_BOOL, AT(webscraper_allow_private), "false", 0, 0, false },
    { "WEBSCRAPER_HOST_CONCURRENCY", VK_UINT, AT(webscraper_host_concurrency), "4", 1, 64, false },
    { "WEBSCRAPER_DELAY_MS", VK_UINT, AT(webscraper_delay_ms), "0", 0, 60000, false },
    { "WEBSCRAPER_MAX_PAGES", VK_UINT, AT(webscraper_max_pages), "100", 1, 100000, false },
    { "WEBSCRAPER_MAX_PAGE_BYTES", VK_SIZE, AT(webscraper_max_page_bytes), "5242880", 1024,
      256ull << 20, false },
    { "TWITTER_ACCOUNTS", VK_LIST, AT(twitter_accounts), "", 0, 0, false },
    { "TWITTER_API_KEYS", VK_LIST, AT(twitter_api_keys), "", 0, 0, false },
    { "TWITTER_SKIP_LOGIN_VERIFICATION", VK_BOOL, AT(twitter_skip_login_verification), "false",
      0, 0, false },
    { "TWITTER_X_API_BASE", VK_URL, AT(twitter_x_api_base), "https://api.x.com/2", 0, 0, false },
    { "TWITTER_COOKIES_FILE", VK_STRING, AT(twitter_cookies_file), "", 0, 0, false },
    { "TWITTER_WEB_BASE", VK_URL, AT(twitter_web_base), "https://x.com", 0, 0, false },
    { "TWITTER_GRAPHQL_BASE", VK_URL, AT(twitter_graphql_base), "https://x.com/i/api/graphql", 0,
      0, false },
    { "TWITTER_LOGIN_BASE", VK_URL, AT(twitter_login_base), "https://api.x.com", 0, 0, false },
    { "TWITTER_ASSET_BASE", VK_URL, AT(twitter_asset_base), "https://abs.twimg.com", 0, 0, false },
    { "TWITTER_BEARER_TOKEN", VK_STRING, AT(twitter_bearer_token), TWITTER_DEFAULT_BEARER, 0, 0,
      false },
    { "TWITTER_QUERY_IDS", VK_LIST, AT(twitter_query_ids), "", 0, 0, false },
    { "TWITTER_FEATURES", VK_STRING, AT(twitter_features), "", 0, 0, false },
    { "TWITTER_ACCOUNT_CONCURRENCY", VK_UINT, AT(twitter_account_concurrency), "1", 1, 64, false },
    { "TWITTER_LOGIN_STEP_DELAY_MS", VK_UINT, AT(twitter_login_step_delay_ms), "1500", 0, 60000,
      false },
    { "APIFY_API_KEY", VK_STRING, AT(apify_api_key), "", 0, 0, false },
    { "APIFY_BASE_URL", VK_URL, AT(apify_base_url), "https://api.apify.com/v2", 0, 0, false },
    { "APIFY_POLL_INTERVAL_MS", VK_UINT, AT(apify_poll_interval_ms), "5000", 10, 60000, false },
    { "TIKTOK_DEFAULT_LANGUAGE", VK_STRING, AT(tiktok_default_language), "eng-US", 0, 0, false },
    { "TIKTOK_API_USER_AGENT", VK_STRING, AT(tiktok_api_user_agent), "", 0, 0, false },
    { "TIKTOK_TRANSCRIPTION_ENDPOINT", VK_URL, AT(tiktok_transcription_endpoint),
      "https://submagic-free-tools.fly.dev/api/tiktok-transcription", 0, 0, false },
};

const char *config_variable_name(size_t i)
{
    return i < sizeof vars / sizeof vars[0] ? vars[i].name : NULL;
}

#define NVARS (sizeof vars / sizeof vars[0])

bool config_variable_env_only(size_t i)
{
    return i < NVARS && vars[i].env_only;
}

const char *config_variable_default(size_t i)
{
    return i < NVARS ? vars[i].def : NULL;
}

bool config_variable_range(size_t i, unsigned long long *min, unsigned long long *max)
{
    if (i >= NVARS || (vars[i].kind != VK_UINT && vars[i].kind != VK_SIZE))
        return false;
    *min = vars[i].min;
    *max = vars[i].max;
    return true;
}

/* Where a raw value came from: unset, the environment, or file number (origin - ORIGIN_FILE). */
enum { ORIGIN_UNSET = 0, ORIGIN_ENV = 1, ORIGIN_FILE = 2 };

struct raw_value {
    char *value;
    int origin;
};

struct loader {
    struct raw_value raw[NVARS];
    char paths[2][4096];
    int file;   /* index into paths while reading a file */
    bool nomem; /* set by the dotenv callback */
};

/* ---- small helpers ---- */

/* quote_value writes s for an error message: at most 64 bytes, '"', '\\' and non-printable bytes
 * escaped, "..." when shortened. */
static const char *quote_value(const char *s, char *out, size_t outlen)
{
    size_t o = 0, i = 0;
    for (; s[i] && i < 64 && o + 8 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            o += (size_t)snprintf(out + o, outlen - o, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    if (s[i] && o + 4 < outlen)
        o += (size_t)snprintf(out + o, outlen - o, "...");
    out[o] = '\0';
    return out;
}

static int var_index(const char *name)
{
    for (size_t i = 0; i < NVARS; i++)
        if (strcmp(vars[i].name, name) == 0)
            return (int)i;
    return -1;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* ---- parsers, one per kind; each returns 0 or -1 with the text after "NAME: expected " ---- */

struct bad {
    char what[160]; /* the expected form, e.g. "an integer from 1 to 4096" */
};

static int parse_decimal(const char *s, unsigned long long *out)
{
    if (*s == '+')
        s++;
    if (!*s)
        return -1;
    unsigned long long v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (~0ull - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int parse_integer(const struct var_spec *v, const char *s, void *field, struct bad *bad)
{
    unsigned long long n;
    if (parse_decimal(s, &n) < 0 || n < v->min || n > v->max) {
        snprintf(bad->what, sizeof bad->what, "an integer from %llu to %llu", v->min, v->max);
        return -1;
    }
    if (v->kind == VK_SIZE)
        *(size_t *)field = (size_t)n;
    else
        *(unsigned *)field = (unsigned)n;
    return 0;
}

static int parse_bool(const char *s, bool *field, struct bad *bad)
{
    static const char *const yes[] = { "true", "1", "yes" }, *const no[] = { "false", "0", "no" };
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
            *field = strcasecmp(s, yes[i]) == 0;
            return 0;
        }
    }
    snprintf(bad->what, sizeof bad->what, "true or false (or 1/0, yes/no)");
    return -1;
}

/* parse_ratio accepts "[+]digits[.digits]" (or ".digits", any number of digits) in (0, 1],
 * without strtod's locale, exponents, hex or nan. The integer part decides above 1 exactly ("1.0"
 * and "1.000" are 1, "1.0000000000000000001" is above it); a fraction is read from its first
 * RATIO_DIGITS digits after the leading zeros (the rest moves the value by less than 1e-17 of
 * itself), mantissa / 10^k of exact doubles. */
#define RATIO_DIGITS 17
static int parse_ratio(const char *s, double *field, struct bad *bad)
{
    const char *p = *s == '+' ? s + 1 : s;
    size_t int_len = strspn(p, "0123456789");
    const char *frac = p + int_len;
    size_t frac_len = 0;
    if (*frac == '.') {
        frac++;
        frac_len = strspn(frac, "0123456789");
    }
    const char *end = frac_len ? frac + frac_len : frac;
    bool ok = !*end && int_len + frac_len > 0;
    while (int_len > 0 && *p == '0') {          /* the integer part without its leading zeros */
        p++;
        int_len--;
    }
    double v = 0;
    if (ok && int_len == 1 && *p == '1') {       /* 1, unless a fraction digit is not 0 */
        ok = strspn(frac, "0") >= frac_len;
        v = 1;
    } else if (ok && int_len == 0) {
        unsigned long long mantissa = 0;
        double divisor = 1;
        int significant = 0;
        for (size_t i = 0; i < frac_len && significant < RATIO_DIGITS; i++) {
            mantissa = mantissa * 10 + (unsigned)(frac[i] - '0');
            divisor *= 10;
            significant += mantissa > 0;
        }
        v = (double)mantissa / divisor;
    } else {
        ok = false;
    }
    if (!ok || !(v > 0 && v <= 1)) {
        snprintf(bad->what, sizeof bad->what, "a decimal number greater than 0 and at most 1");
        return -1;
    }
    *field = v;
    return 0;
}

static int parse_log_level(const char *s, int *field, struct bad *bad)
{
    int level = log_level_parse(s);
    if (level < 0) {
        snprintf(bad->what, sizeof bad->what, "debug, info, warn, warning or error");
        return -1;
    }
    *field = level;
    return 0;
}

static int parse_log_format(const char *s, bool *field, struct bad *bad)
{
    if (strcasecmp(s, "text") != 0 && strcasecmp(s, "json") != 0) {
        snprintf(bad->what, sizeof bad->what, "text or json");
        return -1;
    }
    *field = strcasecmp(s, "json") == 0;
    return 0;
}

static int parse_durability(const char *s, char **field, struct bad *bad)
{
    const char *name = NULL;
    if (strcasecmp(s, "normal") == 0)
        name = "normal";
    else if (strcasecmp(s, "full") == 0)
        name = "full";
    if (!name) {
        snprintf(bad->what, sizeof bad->what, "normal or full");
        return -1;
    }
    *field = strdup(name);
    return *field ? 0 : -2;
}

static bool chars_in(const char *s, size_t n, const char *allowed_punct)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum && !strchr(allowed_punct, c))
            return false;
    }
    return true;
}

static bool valid_port(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 5 || strspn(s, "0123456789") != n)
        return false;
    long port = strtol(s, NULL, 10);
    return port >= 1 && port <= 65535;
}

/* listen_form_ok checks ":port", "host:port" and "[v6]:port"; the HTTP layer resolves names. */
static bool listen_form_ok(const char *s)
{
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close == s + 1 || close[1] != ':')
            return false;
        return chars_in(s + 1, (size_t)(close - s - 1), ":.%_-") && valid_port(close + 2);
    }
    const char *colon = strrchr(s, ':');
    if (!colon || colon - s > 253)
        return false;
    return chars_in(s, (size_t)(colon - s), ".-_") && valid_port(colon + 1);
}

static int parse_listen(const char *s, char **field, struct bad *bad)
{
    if (!listen_form_ok(s)) {
        snprintf(bad->what, sizeof bad->what,
                 "\":port\", \"host:port\" or \"[v6]:port\" with a port from 1 to 65535");
        return -1;
    }
    *field = strdup(s);
    return *field ? 0 : -2;
}

static int parse_url(const char *s, char **field, struct bad *bad)
{
    size_t scheme = strncasecmp(s, "https://", 8) == 0 ? 8 : strncasecmp(s, "http://", 7) == 0 ? 7 : 0;
    size_t n = strlen(s);
    bool clean = true;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] == 0x7f)
            clean = false;
    while (n > scheme && s[n - 1] == '/')
        n--;
    if (!scheme || n == scheme || !clean || s[scheme] == '/') {
        snprintf(bad->what, sizeof bad->what, "an http:// or https:// URL");
        return -1;
    }
    *field = strndup(s, n);
    return *field ? 0 : -2;
}

/* parse_list splits on ',', trims each element and drops empty ones. Returns 0 or -2 (memory). */
static int parse_list(const char *s, struct str_list *list)
{
    size_t max = 1;
    for (const char *p = s; *p; p++)
        max += *p == ',';
    list->items = calloc(max, sizeof *list->items);
    if (!list->items)
        return -2;
    for (const char *p = s;; p++) {
        const char *end = strchrnul(p, ',');
        const char *a = p, *b = end;
        while (a < b && is_space(*a))
            a++;
        while (b > a && is_space(b[-1]))
            b--;
        if (b > a && !(list->items[list->count++] = strndup(a, (size_t)(b - a))))
            return -2;
        if (!*end)
            return 0;
        p = end;
    }
}

static int parse_string(const char *s, char **field)
{
    *field = strdup(s);
    return *field ? 0 : -2;
}

/* convert_one parses s into its field: 0, -1 (bad value, bad->what filled) or -2 (memory). */
static int convert_one(const struct var_spec *v, const char *s, struct config *cfg, struct bad *bad)
{
    void *field = (char *)cfg + v->offset;
    switch (v->kind) {
    case VK_STRING: return parse_string(s, field);
    case VK_URL: return parse_url(s, field, bad);
    case VK_LIST: return parse_list(s, field);
    case VK_BOOL: return parse_bool(s, field, bad);
    case VK_NONEMPTY: *(bool *)field = *s != '\0'; return 0;
    case VK_UINT:
    case VK_SIZE: return parse_integer(v, s, field, bad);
    case VK_RATIO: return parse_ratio(s, field, bad);
    case VK_LOG_LEVEL: return parse_log_level(s, field, bad);
    case VK_LOG_FORMAT: return parse_log_format(s, field, bad);
    case VK_LISTEN: return parse_listen(s, field, bad);
    case VK_DURABILITY: return parse_durability(s, field, bad);
    }
    return -1;
}

static int convert_all(const struct loader *ld, struct config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < NVARS; i++) {
        const struct raw_value *r = &ld->raw[i];
        const char *s = r->value && *r->value ? r->value : vars[i].def;
        struct bad bad = { "" };
        int rc = convert_one(&vars[i], s, cfg, &bad);
        if (rc == -2)
            return why_set(err, errlen, "%s: out of memory", vars[i].name);
        if (rc < 0) {
            char shown[300];
            char from[4200] = "";
            if (r->origin >= ORIGIN_FILE)
                snprintf(from, sizeof from, " (set in %s)", ld->paths[r->origin - ORIGIN_FILE]);
            return why_set(err, errlen, "%s: expected %s, got \"%s\"%s", vars[i].name, bad.what,
                           quote_value(s, shown, sizeof shown), from);
        }
    }
    return 0;
}

/* ---- sources ---- */

static int collect_env(struct loader *ld, config_getenv_fn get, void *ctx, char *err, size_t errlen)
{
    for (size_t i = 0; i < NVARS; i++) {
        const char *v = get ? get(vars[i].name, ctx) : NULL;
        if (!v)
            continue;
        if (strlen(v) > MAX_RAW_VALUE)
            return why_set(err, errlen, "%s: value longer than %u bytes", vars[i].name,
                           MAX_RAW_VALUE);
        if (!(ld->raw[i].value = strdup(v)))
            return why_set(err, errlen, "%s: out of memory", vars[i].name);
        ld->raw[i].origin = ORIGIN_ENV;
    }
    return 0;
}

/* read_all reads fd to its end into buf (room for DOTENV_MAX_FILE + 1 bytes). Returns NULL or
 * what went wrong. */
static const char *read_all(int fd, char *buf, size_t *len)
{
    ssize_t total = read_upto_fd(fd, buf, DOTENV_MAX_FILE + 1);
    if (total < 0)
        return strerror(errno);
    if (total > DOTENV_MAX_FILE)
        return "larger than 1 MiB";
    *len = (size_t)total;
    return NULL;
}

/* read_file reads a regular file of at most DOTENV_MAX_FILE bytes into *text (caller frees).
 * Returns 0, 1 when it does not exist, or -1 with a message. */
static int read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        return why_set(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    }
    struct stat st;
    const char *problem = NULL;
    char *buf = NULL;
    if (fstat(fd, &st) < 0)
        problem = strerror(errno);
    else if (!S_ISREG(st.st_mode))
        problem = "not a regular file";
    else if (!(buf = malloc(DOTENV_MAX_FILE + 1)))
        problem = "out of memory";
    else
        problem = read_all(fd, buf, len);
    close(fd);
    if (problem) {
        if (buf)
            explicit_bzero(buf, DOTENV_MAX_FILE + 1);
        free(buf);
        return why_set(err, errlen, "%s: cannot read: %s", path, problem);
    }
    *text = buf;
    return 0;
}

/* on_pair is the dotenv callback: it fills a variable unless a stronger source set it. */
static int on_pair(const char *key, const char *value, void *ctx)
{
    struct loader *ld = ctx;
    int i = var_index(key);
    int origin = ORIGIN_FILE + ld->file;
    if (i < 0 || vars[i].env_only)
        return 0;
    struct raw_value *r = &ld->raw[i];
    if (r->origin != ORIGIN_UNSET && r->origin != origin)
        return 0;
    char *copy = strdup(value);
    if (!copy) {
        ld->nomem = true;
        return 1;
    }
    crypto_free_text(r->value);
    r->value = copy;
    r->origin = origin;
    return 0;
}

static int read_dotenv(struct loader *ld, int file, char *err, size_t errlen)
{
    const char *path = ld->paths[file];
    char *text = NULL, msg[256];
    size_t len = 0;
    int rc = read_file(path, &text, &len, err, errlen);
    if (rc)
        return rc > 0 ? 0 : -1;
    ld->file = file;
    rc = dotenv_parse(text, len, on_pair, ld, msg, sizeof msg);
    explicit_bzero(text, len);
    free(text);
    if (rc < 0)
        return why_set(err, errlen, "%s: %s", path, ld->nomem ? "out of memory" : msg);
    return 0;
}

static int collect_files(struct loader *ld, char *err, size_t errlen)
{
    const struct raw_value *dd = &ld->raw[var_index("DATA_DIR")];
    const char *dir = dd->value && *dd->value ? dd->value : DEFAULT_DATA_DIR;
    size_t n = strlen(dir);
    const char *sep = n && dir[n - 1] == '/' ? "" : "/";
    struct stat st;
    if (stat(dir, &st) == 0 ? !S_ISDIR(st.st_mode) : errno == ENOTDIR)
        return why_set(err, errlen, "DATA_DIR: %s is not a directory", dir);
    if (n + 6 >= sizeof ld->paths[0])
        return why_set(err, errlen, "DATA_DIR: path longer than %zu bytes",
                       sizeof ld->paths[0] - 7);
    snprintf(ld->paths[0], sizeof ld->paths[0], "%s%s.env", dir, sep);
    snprintf(ld->paths[1], sizeof ld->paths[1], "./.env");
    for (int f = 0; f < 2; f++)
        if (read_dotenv(ld, f, err, errlen) < 0)
            return -1;
    return 0;
}

static void loader_free(struct loader *ld)
{
    for (size_t i = 0; i < NVARS; i++)
        crypto_free_text(ld->raw[i].value);
}

/* ---- public ---- */

/* check_twitter_accounts: every TWITTER_ACCOUNTS item splits as user:password[:totp_secret] and
 * its TOTP secret is base32, so a typo stops the start-up instead of leaving an account out (or
 * failing its first two-factor login). Names the item by number, never its text: it holds a
 * password. */
static int check_twitter_accounts(const struct config *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < c->twitter_accounts.count; i++) {
        char *user, *pass, *totp, code[7];
        if (tw_accounts_parse_spec(c->twitter_accounts.items[i], &user, &pass, &totp) < 0)
            return why_set(err, errlen, "TWITTER_ACCOUNTS: item #%zu is not "
                           "user:password[:totp_secret] (a password cannot contain ':')", i + 1);
        bool bad_totp = totp && tw_totp(totp, 0, code) < 0;
        if (bad_totp)
            why_set(err, errlen, "TWITTER_ACCOUNTS: item #%zu (account %.64s): the totp_secret is "
                    "not base32 (A-Z, 2-7)", i + 1, user);
        free(user);
        crypto_free_text(pass);
        crypto_free_text(totp);
        if (bad_totp)
            return -1;
    }
    return 0;
}

/* check_twitter: the shapes of TWITTER_ACCOUNTS (above), TWITTER_QUERY_IDS ("Operation=id[@GET|
 * @POST]", id of [A-Za-z0-9_-]) and TWITTER_FEATURES (a JSON object), so a typo fails at
 * start-up. */
static int check_twitter(const struct config *c, char *err, size_t errlen)
{
    if (check_twitter_accounts(c, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < c->twitter_query_ids.count; i++) {
        const char *it = c->twitter_query_ids.items[i], *p = it;
        size_t name = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
        size_t id = p[name] == '=' ? strspn(p + name + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
                                                          "opqrstuvwxyz0123456789_-") : 0;
        const char *rest = p + name + 1 + id;
        if (!name || !id || (*rest && strcmp(rest, "@GET") != 0 && strcmp(rest, "@POST") != 0))
            return why_set(err, errlen, "TWITTER_QUERY_IDS: expected Operation=queryId[@GET|@POST], "
                           "got \"%.64s\"", it);
        /* the operation must be one the backend calls, spelt as X spells it: an override of a
         * misspelt one ("searchTimeline") would be ignored, the stale id kept */
        char op[64] = "";
        if (name < sizeof op) {
            memcpy(op, p, name);
            op[name] = '\0';
        }
        if (!op[0] || tw_gql_parse(op) < 0) {
            char names[512] = "";
            size_t used = 0;
            for (int g = 0; g < TWG_COUNT && used < sizeof names; g++)
                used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", g ? ", " : "",
                                         tw_gql_name((enum tw_gql)g));
            return why_set(err, errlen, "TWITTER_QUERY_IDS: expected an operation of the "
                           "credential backend (%s), got \"%.*s\"", names,
                           (int)(name < 64 ? name : 64), p);
        }
        for (size_t k = 0; k < i; k++)
            if (strncmp(c->twitter_query_ids.items[k], p, name + 1) == 0)
                return why_set(err, errlen, "TWITTER_QUERY_IDS: expected each operation once, "
                               "got %s twice", op);
    }
    const char *f = c->twitter_features;
    if (f && *f) {
        json_error_t je;
        json_t *doc = json_loads(f, 0, &je);
        bool ok = json_is_object(doc), parsed = doc != NULL;
        json_decref(doc);
        char shown[300];
        if (!ok)
            return why_set(err, errlen, "TWITTER_FEATURES: expected a JSON object of feature "
                           "flags (%s), got \"%s\"", parsed ? "not an object" : je.text,
                           quote_value(f, shown, sizeof shown));
    }
    return 0;
}

/* check_store_url: the scheme of STORE_URL (empty, sqlite:[PATH], redis:// or rediss://, which
 * the store refuses with its own reason), so a typo is a configuration error like any other. The
 * value is not shown: it may hold a password. */
static int check_store_url(const struct config *c, char *err, size_t errlen)
{
    const char *u = c->store_url ? c->store_url : "";
    if (!*u || strncmp(u, "sqlite:", 7) == 0 || strncmp(u, "redis://", 8) == 0 ||
        strncmp(u, "rediss://", 9) == 0)
        return 0;
    return why_set(err, errlen, "STORE_URL: expected sqlite:[PATH] or "
                   "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] (the value is not shown: it may "
                   "hold a password)");
}

/* header_unsafe_byte: the offset of the first byte of s that cannot stand in an HTTP header
 * field value (C0 controls, tab included, and DEL), or -1. libcurl sends a header as it is given,
 * so a newline there (a key file's trailing one, a "\n" in a double-quoted .env value) would end
 * the header early or add one of its own. */
static long header_unsafe_byte(const char *s)
{
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return (long)(p - s);
    return -1;
}

/* check_secret: a key or token that goes into an HTTP header: no control character and no blank
 * at either end (HTTP does not count blanks around a field value as part of it: clients and
 * proxies drop them, so an API_KEY ending in one is not what a client sends). The value is never
 * shown; item is the list item's number, 0 for a plain variable. */
static int check_secret(const char *name, size_t item, const char *s, char *err, size_t errlen)
{
    if (!s || !*s)
        return 0;
    char which[32] = "";
    if (item)
        snprintf(which, sizeof which, " item #%zu", item);
    long bad = header_unsafe_byte(s);
    if (bad >= 0)
        return why_set(err, errlen, "%s:%s holds a control character (byte 0x%02x at offset "
                       "%ld), which an HTTP header cannot carry (the value is not shown: it is a "
                       "secret)", name, which, (unsigned char)s[bad], bad);
    size_t n = strlen(s);
    if (s[0] == ' ' || s[n - 1] == ' ')
        return why_set(err, errlen, "%s:%s starts or ends with a blank (the value is not shown: "
                       "it is a secret)", name, which);
    return 0;
}

/* check_header_values: every setting sent in (or compared with) an HTTP header field. */
static int check_header_values(const struct config *c, char *err, size_t errlen)
{
    if (check_secret("API_KEY", 0, c->api_key, err, errlen) < 0 ||
        check_secret("APIFY_API_KEY", 0, c->apify_api_key, err, errlen) < 0 ||
        check_secret("TWITTER_BEARER_TOKEN", 0, c->twitter_bearer_token, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < c->twitter_api_keys.count; i++)
        if (check_secret("TWITTER_API_KEYS", i + 1, c->twitter_api_keys.items[i], err,
                         errlen) < 0)
            return -1;
    const char *ua = c->tiktok_api_user_agent;
    if (ua && header_unsafe_byte(ua) >= 0) {
        char shown[300];
        return why_set(err, errlen, "TIKTOK_API_USER_AGENT: expected text without control "
                       "characters (it is sent as the User-Agent header), got \"%s\"",
                       quote_value(ua, shown, sizeof shown));
    }
    return 0;
}

int config_load_from(struct config *cfg, config_getenv_fn get, void *ctx, char *err, size_t errlen)
{
    struct loader *ld = calloc(1, sizeof *ld);
    struct config tmp = { 0 };
    int rc;
    if (err && errlen)
        err[0] = '\0';
    if (!ld)
        rc = why_set(err, errlen, "configuration: out of memory");
    else
        rc = (collect_env(ld, get, ctx, err, errlen) < 0 || collect_files(ld, err, errlen) < 0 ||
              convert_all(ld, &tmp, err, errlen) < 0 || check_twitter(&tmp, err, errlen) < 0 ||
              check_store_url(&tmp, err, errlen) < 0 ||
              check_header_values(&tmp, err, errlen) < 0)
                 ? -1 : 0;
    if (ld)
        loader_free(ld);
    free(ld);
    if (rc < 0) {
        config_free(&tmp);
        memset(cfg, 0, sizeof *cfg);
        return -1;
    }
    *cfg = tmp;
    return 0;
}

static const char *process_getenv(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

int config_load(struct config *cfg, char *err, size_t errlen)
{
    return config_load_from(cfg, process_getenv, NULL, err, errlen);
}

static void str_list_free(struct str_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        crypto_free_text(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

/* config_free wipes every string value as it frees it: any of them may hold a key or a password. */
void config_free(struct config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < NVARS; i++) {
        void *field = (char *)cfg + vars[i].offset;
        if (vars[i].kind == VK_LIST)
            str_list_free(field);
        else if (vars[i].kind == VK_STRING || vars[i].kind == VK_URL || vars[i].kind == VK_LISTEN ||
                 vars[i].kind == VK_DURABILITY)
            crypto_free_text(*(char **)field);
    }
    memset(cfg, 0, sizeof *cfg);
}

bool str_list_contains(const struct str_list *l, const char *s)
{
    if (!l || !s)
        return false;
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i], s) == 0)
            return true;
    return false;
}
