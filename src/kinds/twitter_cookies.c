/* twitter_cookies.c - cookie accounts for the X credential backend: the cookie-file reader (text
 * and JSON forms) and the .x.com cookie jar (twitter_cookies.h has the formats and rules).
 *
 * Error messages name the line or the account and the cookie NAME, never a cookie value (values
 * are credentials). Names are echoed only after they passed the token check. */
#include "kinds/twitter_cookies.h"

#include "err.h"
#include "util/crypto.h"
#include "util/file_read.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* ---- character rules --------------------------------------------------------------------- */

static bool is_token_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !strchr("()<>@,;:\\\"/[]?={}", c);
}

static bool is_cookie_octet(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) ||
           (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

static bool valid_name_n(const char *s, size_t n)
{
    if (n == 0 || n > TWITTER_COOKIE_MAX_NAME)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_token_char((unsigned char)s[i]))
            return false;
    return true;
}

static bool valid_value_n(const char *s, size_t n)
{
    if (n > TWITTER_COOKIE_MAX_VALUE)
        return false;
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s++;
        n -= 2;
    }
    for (size_t i = 0; i < n; i++)
        if (!is_cookie_octet((unsigned char)s[i]))
            return false;
    return true;
}

bool twitter_jar_valid_name(const char *name)
{
    return name && valid_name_n(name, strlen(name));
}

bool twitter_jar_valid_value(const char *value)
{
    return value && valid_value_n(value, strlen(value));
}

/* ---- the jar ----------------------------------------------------------------------------- */

static struct twitter_cookie *jar_find(const struct twitter_jar *jar, const char *name, size_t n)
{
    for (size_t i = 0; i < jar->n; i++)
        if (strlen(jar->v[i].name) == n && memcmp(jar->v[i].name, name, n) == 0)
            return &jar->v[i];
    return NULL;
}

const char *twitter_jar_get(const struct twitter_jar *jar, const char *name)
{
    if (!jar || !name)
        return NULL;
    struct twitter_cookie *c = jar_find(jar, name, strlen(name));
    return c ? c->value : NULL;
}

/* Sets name[0..nl) = value[0..vl) (already validated). 0, -1 jar full, -2 OOM. */
static int jar_set_n(struct twitter_jar *jar, const char *name, size_t nl, const char *value,
                     size_t vl)
{
    char *v = strndup(value, vl);
    if (!v)
        return -2;
    struct twitter_cookie *c = jar_find(jar, name, nl);
    if (c) {
        crypto_free_text(c->value);
        c->value = v;
        return 0;
    }
    if (jar->n >= TWITTER_COOKIE_MAX_COUNT) {
        free(v);
        return -1;
    }
    char *nm = strndup(name, nl);
    struct twitter_cookie *nv = nm ? realloc(jar->v, (jar->n + 1) * sizeof *nv) : NULL;
    if (!nv) {
        free(nm);
        free(v);
        return -2;
    }
    jar->v = nv;
    nv[jar->n].name = nm;
    nv[jar->n].value = v;
    jar->n++;
    return 0;
}

int twitter_jar_set(struct twitter_jar *jar, const char *name, const char *value)
{
    if (!jar || !twitter_jar_valid_name(name) || !twitter_jar_valid_value(value))
        return -1;
    return jar_set_n(jar, name, strlen(name), value, strlen(value));
}

int twitter_jar_remove(struct twitter_jar *jar, const char *name)
{
    if (!jar || !name)
        return 0;
    struct twitter_cookie *c = jar_find(jar, name, strlen(name));
    if (!c)
        return 0;
    size_t i = (size_t)(c - jar->v);
    free(c->name);
    crypto_free_text(c->value);
    memmove(jar->v + i, jar->v + i + 1, (jar->n - i - 1) * sizeof *jar->v);
    jar->n--;
    if (jar->n == 0) {
        free(jar->v);
        jar->v = NULL;
    }
    return 1;
}

void twitter_jar_free(struct twitter_jar *jar)
{
    if (!jar)
        return;
    for (size_t i = 0; i < jar->n; i++) {
        free(jar->v[i].name);
        explicit_bzero(jar->v[i].value, strlen(jar->v[i].value));
        free(jar->v[i].value);
    }
    free(jar->v);
    jar->v = NULL;
    jar->n = 0;
}

int twitter_jar_copy(const struct twitter_jar *src, struct twitter_jar *dst)
{
    dst->v = NULL;
    dst->n = 0;
    for (size_t i = 0; i < src->n; i++) {
        if (jar_set_n(dst, src->v[i].name, strlen(src->v[i].name), src->v[i].value,
                      strlen(src->v[i].value)) != 0) {
            twitter_jar_free(dst);
            return -1;
        }
    }
    return 0;
}

char *twitter_jar_header(const struct twitter_jar *jar)
{
    size_t need = 1;
    for (size_t i = 0; i < jar->n; i++)
        need += strlen(jar->v[i].name) + 1 + strlen(jar->v[i].value) + 2;
    char *out = malloc(need);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < jar->n; i++) {
        o += (size_t)sprintf(out + o, "%s%s=%s", i ? "; " : "", jar->v[i].name, jar->v[i].value);
    }
    out[o] = '\0';
    return out;
}

/* Parses "a=b; c=d" into jar (appending). where prefixes messages ("" allowed). 0, -1, -2. */
static int parse_pairs(const char *s, size_t len, struct twitter_jar *jar, const char *where,
                       char *why, size_t whylen)
{
    const char *end = s + len;
    size_t pos = 0;
    while (s < end) {
        const char *semi = memchr(s, ';', (size_t)(end - s));
        const char *pe = semi ? semi : end;
        const char *a = s, *b = pe;
        while (a < b && is_blank(*a))
            a++;
        while (b > a && is_blank(b[-1]))
            b--;
        s = semi ? semi + 1 : end;
        if (a == b)
            continue;
        pos++;
        const char *eq = memchr(a, '=', (size_t)(b - a));
        if (!eq)
            return why_set(why, whylen, "%spair %zu of the cookie string has no '='", where, pos);
        const char *ne = eq, *vs = eq + 1;
        while (ne > a && is_blank(ne[-1]))
            ne--;
        while (vs < b && is_blank(*vs))
            vs++;
        if (!valid_name_n(a, (size_t)(ne - a)))
            return why_set(why, whylen, "%spair %zu of the cookie string: the name is not a valid "
                           "cookie name", where, pos);
        if (!valid_value_n(vs, (size_t)(b - vs)))
            return why_set(why, whylen, "%scookie \"%.*s\" has a character not allowed in a cookie "
                           "value (or is longer than %d bytes)", where, (int)(ne - a), a,
                           TWITTER_COOKIE_MAX_VALUE);
        int rc = jar_set_n(jar, a, (size_t)(ne - a), vs, (size_t)(b - vs));
        if (rc == -1)
            return why_set(why, whylen, "%smore than %d cookies", where, TWITTER_COOKIE_MAX_COUNT);
        if (rc == -2) {
            why_set(why, whylen, "out of memory");
            return -2;
        }
    }
    return 0;
}

static int check_login(const struct twitter_jar *jar, const char *where, char *why,
                       size_t whylen)
{
    static const char *const need[] = {"auth_token", "ct0"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = twitter_jar_get(jar, need[i]);
        if (!v || !*v || strcmp(v, "\"\"") == 0)
            return why_set(why, whylen, "%smissing %s", where, need[i]);
    }
    return 0;
}

int twitter_jar_from_string(const char *s, size_t len, bool require_login,
                            struct twitter_jar *out, char *why, size_t whylen)
{
    out->v = NULL;
    out->n = 0;
    if (!s)
        return why_set(why, whylen, "no cookie string");
    if (memchr(s, '\0', len) || memchr(s, '\r', len) || memchr(s, '\n', len)) {
        why_set(why, whylen, "the cookie string holds a control character");
        return -1;
    }
    int rc = parse_pairs(s, len, out, "", why, whylen);
    if (rc == 0 && require_login)
        rc = check_login(out, "", why, whylen);
    if (rc != 0)
        twitter_jar_free(out);
    return rc;
}

/* Whether a cookie domain (leading dots ignored, any case) is x.com/twitter.com or below.
 * *is_x tells which. */
static bool domain_ok(const char *d, size_t n, bool *is_x)
{
    while (n && *d == '.') {
        d++;
        n--;
    }
    static const char *const roots[] = {"x.com", "twitter.com"};
    for (size_t r = 0; r < 2; r++) {
        size_t rl = strlen(roots[r]);
        if ((n == rl && strncasecmp(d, roots[r], rl) == 0) ||
            (n > rl && d[n - rl - 1] == '.' && strncasecmp(d + n - rl, roots[r], rl) == 0)) {
            *is_x = r == 0;
            return true;
        }
    }
    return false;
}

/* Whether host is an IP address literal (IPv4 dotted digits, or IPv6, which holds ':'). */
static bool is_ip_literal(const char *host)
{
    if (strchr(host, ':'))
        return true;
    for (const char *p = host; *p; p++)
        if (!isdigit((unsigned char)*p) && *p != '.')
            return false;
    return true;
}

/* Whether a Set-Cookie's Domain attribute value d[0..n) may be taken from an answer of host
 * (lower case, no port), RFC 6265 5.2.3 and 5.3 step 6: one leading dot ignored; host must
 * domain-match it (be it, or end in "." + it, and not be an IP address). A domain without an
 * inner dot ("com") is a public suffix, refused unless it is the host itself. */
static bool domain_matches_host(const char *d, size_t n, const char *host)
{
    if (n && *d == '.') {
        d++;
        n--;
    }
    size_t hl = strlen(host);
    if (n == 0)
        return false;
    if (n == hl && strncasecmp(d, host, n) == 0)
        return true;
    if (!memchr(d, '.', n) || is_ip_literal(host))
        return false;
    return hl > n && host[hl - n - 1] == '.' && strncasecmp(host + hl - n, d, n) == 0;
}

int twitter_jar_set_cookie(struct twitter_jar *jar, const char *host, const char *set_cookie,
                           size_t len, time_t now)
{
    if (!jar || !host || !*host || !set_cookie || len == 0 || len > 2 * TWITTER_COOKIE_MAX_VALUE ||
        memchr(set_cookie, '\0', len) || memchr(set_cookie, '\n', len) ||
        memchr(set_cookie, '\r', len))
        return 0;
    const char *end = set_cookie + len;
    const char *semi = memchr(set_cookie, ';', len);
    const char *pe = semi ? semi : end;
    const char *eq = memchr(set_cookie, '=', (size_t)(pe - set_cookie));
    if (!eq)
        return 0;
    const char *a = set_cookie, *ne = eq, *vs = eq + 1, *ve = pe;
    while (a < ne && is_blank(*a))
        a++;
    while (ne > a && is_blank(ne[-1]))
        ne--;
    while (vs < ve && is_blank(*vs))
        vs++;
    while (ve > vs && is_blank(ve[-1]))
        ve--;
    if (!valid_name_n(a, (size_t)(ne - a)) || !valid_value_n(vs, (size_t)(ve - vs)))
        return 0;

    bool have_max_age = false, expired = false;
    const char *s = semi ? semi + 1 : end;
    while (s < end) {
        const char *n2 = memchr(s, ';', (size_t)(end - s));
        const char *ae = n2 ? n2 : end;
        while (s < ae && is_blank(*s))
            s++;
        const char *aeq = s;
        while (aeq < ae && *aeq != '=')
            aeq++;
        if (aeq == ae)
            aeq = NULL;
        const char *kn = aeq ? aeq : ae;
        while (kn > s && is_blank(kn[-1]))
            kn--;
        const char *av = aeq ? aeq + 1 : ae, *avend = ae;
        while (av < avend && is_blank(*av))
            av++;
        while (avend > av && is_blank(avend[-1]))
            avend--;
        size_t kl = (size_t)(kn - s), vl = (size_t)(avend - av);
        char val[256];
        if (vl >= sizeof val)
            return 0;                     /* no sane attribute is this long: ignore the cookie */
        memcpy(val, av, vl);
        val[vl] = '\0';
        if (kl == 6 && strncasecmp(s, "domain", 6) == 0) {
            if (vl && !domain_matches_host(val, vl, host))
                return 0;                 /* another site's cookie, or too wide a scope */
        } else if (kl == 7 && strncasecmp(s, "max-age", 7) == 0) {
            char *e;
            errno = 0;
            long long ma = strtoll(val, &e, 10);
            if (vl && e != val && *e == '\0') {
                have_max_age = true;
                expired = ma <= 0;
            }
        } else if (kl == 7 && strncasecmp(s, "expires", 7) == 0 && !have_max_age) {
            time_t t = curl_getdate(val, NULL);
            if (t != -1)
                expired = t <= now;
        }
        s = n2 ? n2 + 1 : end;
    }
    if (expired) {
        char name[TWITTER_COOKIE_MAX_NAME + 1];
        memcpy(name, a, (size_t)(ne - a));
        name[ne - a] = '\0';
        return twitter_jar_remove(jar, name);
    }
    struct twitter_cookie *c = jar_find(jar, a, (size_t)(ne - a));
    if (c && strlen(c->value) == (size_t)(ve - vs) && memcmp(c->value, vs, (size_t)(ve - vs)) == 0)
        return 0;
    int rc = jar_set_n(jar, a, (size_t)(ne - a), vs, (size_t)(ve - vs));
    return rc == 0 ? 1 : (rc == -2 ? -2 : 0);
}

/* ---- the cookie file --------------------------------------------------------------------- */

void twitter_cookie_file_free(struct twitter_cookie_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].username);
        twitter_jar_free(&f->v[i].jar);
    }
    free(f->v);
    f->v = NULL;
    f->n = 0;
}

/* Username rule: optional '@', then 1..MAX_USER of [A-Za-z0-9_]. Writes the bare name. */
static bool take_username(const char *s, size_t n, char out[TWITTER_COOKIE_MAX_USER + 1])
{
    if (n && s[0] == '@') {
        s++;
        n--;
    }
    if (n == 0 || n > TWITTER_COOKIE_MAX_USER)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

#define USERNAME_RULE "1.." "64" " characters of [A-Za-z0-9_] (optionally after '@')"

/* Adds an account (takes the jar). where names it for messages. 0 or -1. */
static int add_account(struct twitter_cookie_file *f, const char *user, struct twitter_jar *jar,
                       unsigned pos, const char *where, char *why, size_t whylen)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcasecmp(f->v[i].username, user) == 0) {
            twitter_jar_free(jar);
            return why_set(why, whylen, "%susername \"%s\" appears twice (also at %s %u)", where,
                           user, where[0] == 'l' ? "line" : "account", f->v[i].line);
        }
    if (f->n >= TWITTER_COOKIES_MAX_ACCOUNTS) {
        twitter_jar_free(jar);
        return why_set(why, whylen, "more than %d accounts", TWITTER_COOKIES_MAX_ACCOUNTS);
    }
    char *u = strdup(user);
    struct twitter_cookie_account *nv = u ? realloc(f->v, (f->n + 1) * sizeof *nv) : NULL;
    if (!nv) {
        free(u);
        twitter_jar_free(jar);
        return why_set(why, whylen, "out of memory");
    }
    f->v = nv;
    nv[f->n].username = u;
    nv[f->n].jar = *jar;
    nv[f->n].line = pos;
    f->n++;
    jar->v = NULL;
    jar->n = 0;
    return 0;
}

/* One text line (trimmed, non-empty, not a comment). */
static int parse_line(struct twitter_cookie_file *f, const char *s, size_t n, unsigned lineno,
                      char *why, size_t whylen)
{
    char where[32];
    snprintf(where, sizeof where, "line %u: ", lineno);
    char user[TWITTER_COOKIE_MAX_USER + 1];
    struct twitter_jar jar = {0};
    if (memchr(s, '=', n)) {
        size_t ul = 0;
        while (ul < n && !is_blank(s[ul]) && s[ul] != ':')
            ul++;
        if (!take_username(s, ul, user))
            return why_set(why, whylen, "%sthe username must be " USERNAME_RULE, where);
        size_t i = ul;
        while (i < n && is_blank(s[i]))
            i++;
        if (i < n && s[i] == ':') {
            i++;
            while (i < n && is_blank(s[i]))
                i++;
        }
        if (i == ul)
            return why_set(why, whylen, "%sexpected `username auth_token=...; ct0=...`", where);
        if (parse_pairs(s + i, n - i, &jar, where, why, whylen) != 0 ||
            check_login(&jar, where, why, whylen) != 0) {
            twitter_jar_free(&jar);
            return -1;
        }
    } else {
        const char *c1 = memchr(s, ':', n);
        const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(s + n - c1 - 1)) : NULL;
        if (!c2 || memchr(c2 + 1, ':', (size_t)(s + n - c2 - 1)))
            return why_set(why, whylen, "%sexpected username:auth_token:ct0 or `username "
                           "auth_token=...; ct0=...`", where);
        if (!take_username(s, (size_t)(c1 - s), user))
            return why_set(why, whylen, "%sthe username must be " USERNAME_RULE, where);
        const char *tok = c1 + 1, *ct0 = c2 + 1;
        size_t tl = (size_t)(c2 - tok), cl = (size_t)(s + n - ct0);
        if (tl == 0)
            return why_set(why, whylen, "%smissing auth_token", where);
        if (cl == 0)
            return why_set(why, whylen, "%smissing ct0", where);
        if (!valid_value_n(tok, tl))
            return why_set(why, whylen, "%scookie \"auth_token\" has a character not allowed in a "
                           "cookie value (or is longer than %d bytes)", where,
                           TWITTER_COOKIE_MAX_VALUE);
        if (!valid_value_n(ct0, cl))
            return why_set(why, whylen, "%scookie \"ct0\" has a character not allowed in a "
                           "cookie value (or is longer than %d bytes)", where,
                           TWITTER_COOKIE_MAX_VALUE);
        if (jar_set_n(&jar, "auth_token", 10, tok, tl) != 0 || jar_set_n(&jar, "ct0", 3, ct0, cl)) {
            twitter_jar_free(&jar);
            return why_set(why, whylen, "out of memory");
        }
    }
    return add_account(f, user, &jar, lineno, where, why, whylen);
}

static int parse_text(struct twitter_cookie_file *f, const char *data, size_t len, char *why,
                      size_t whylen)
{
    const char *end = data + len;
    unsigned lineno = 0;
    for (const char *s = data; s < end;) {
        lineno++;
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        if ((size_t)(le - s) > TWITTER_COOKIES_MAX_LINE)
            return why_set(why, whylen, "line %u: longer than %d bytes", lineno,
                           TWITTER_COOKIES_MAX_LINE);
        if (le > s && le[-1] == '\r')
            le--;
        while (s < le && is_blank(*s))
            s++;
        while (le > s && is_blank(le[-1]))
            le--;
        for (const char *p = s; p < le; p++)
            if ((unsigned char)*p < 0x20 && *p != '\t')
                return why_set(why, whylen, "line %u: control character (byte %u)", lineno,
                               (unsigned)(unsigned char)*p);
        if (le > s && *s != '#' && parse_line(f, s, (size_t)(le - s), lineno, why, whylen) != 0)
            return -1;
        s = next;
    }
    return 0;
}

/* ---- JSON -------------------------------------------------------------------------------- */

/* Member of obj whose key equals name case-insensitively. */
static json_t *get_ci(json_t *obj, const char *name)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
        if (strcasecmp(k, name) == 0)
            return v;
    return NULL;
}

static bool is_cookie_object(json_t *o)
{
    return json_is_object(o) && get_ci(o, "name") && get_ci(o, "value");
}

/* One export object into jar, in the pass for its domain kind (pass 0: twitter.com, 1: the rest,
 * so x.com wins). */
static int add_export_cookie(json_t *o, size_t idx, int pass, struct twitter_jar *jar,
                             const char *where, char *why, size_t whylen)
{
    if (!json_is_object(o))
        return why_set(why, whylen, "%scookie %zu is not an object", where, idx + 1);
    json_t *jn = get_ci(o, "name"), *jv = get_ci(o, "value"), *jd = get_ci(o, "domain");
    if (!json_is_string(jn))
        return why_set(why, whylen, "%scookie %zu has no \"name\" string", where, idx + 1);
    if (!json_is_string(jv))
        return why_set(why, whylen, "%scookie %zu has no \"value\" string", where, idx + 1);
    bool is_x = true;
    if (json_is_string(jd) && json_string_length(jd) > 0 &&
        !domain_ok(json_string_value(jd), json_string_length(jd), &is_x))
        return 0;                                       /* another site's cookie: skipped */
    if ((pass == 0) != !is_x)
        return 0;
    const char *name = json_string_value(jn), *value = json_string_value(jv);
    size_t nl = json_string_length(jn), vl = json_string_length(jv);
    if (!valid_name_n(name, nl))
        return why_set(why, whylen, "%scookie %zu: the name is not a valid cookie name", where,
                       idx + 1);
    if (!valid_value_n(value, vl))
        return why_set(why, whylen, "%scookie \"%s\" has a character not allowed in a cookie value "
                       "(or is longer than %d bytes)", where, name, TWITTER_COOKIE_MAX_VALUE);
    int rc = jar_set_n(jar, name, nl, value, vl);
    if (rc == -1)
        return why_set(why, whylen, "%smore than %d cookies", where, TWITTER_COOKIE_MAX_COUNT);
    if (rc == -2)
        return why_set(why, whylen, "out of memory");
    return 0;
}

/* <cookies> of one account into jar (see the header). 0 or -1. */
static int parse_cookies_value(json_t *v, struct twitter_jar *jar, const char *where, char *why,
                               size_t whylen)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
                return why_set(why, whylen, "%sthe cookie string holds a control character", where);
        return parse_pairs(s, n, jar, where, why, whylen) == 0 ? 0 : -1;
    }
    if (json_is_array(v)) {
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < json_array_size(v); i++)
                if (add_export_cookie(json_array_get(v, i), i, pass, jar, where, why, whylen))
                    return -1;
        return 0;
    }
    if (json_is_object(v)) {
        const char *k;
        json_t *val;
        json_object_foreach(v, k, val) {
            size_t kl = strlen(k);
            if (!valid_name_n(k, kl))
                return why_set(why, whylen, "%sa key is not a valid cookie name", where);
            if (!json_is_string(val))
                return why_set(why, whylen, "%scookie \"%s\" is not a string", where, k);
            if (!valid_value_n(json_string_value(val), json_string_length(val)))
                return why_set(why, whylen, "%scookie \"%s\" has a character not allowed in a "
                               "cookie value (or is longer than %d bytes)", where, k,
                               TWITTER_COOKIE_MAX_VALUE);
            int rc = jar_set_n(jar, k, kl, json_string_value(val), json_string_length(val));
            if (rc == -1)
                return why_set(why, whylen, "%smore than %d cookies", where,
                               TWITTER_COOKIE_MAX_COUNT);
            if (rc == -2)
                return why_set(why, whylen, "out of memory");
        }
        return 0;
    }
    return why_set(why, whylen, "%scookies must be a list of cookie objects, an object name → "
                   "value or a Cookie header string", where);
}

static int json_account(struct twitter_cookie_file *f, const char *user, json_t *cookies,
                        unsigned pos, char *why, size_t whylen)
{
    char where[TWITTER_COOKIE_MAX_USER + 32];
    snprintf(where, sizeof where, "account \"%s\": ", user);
    struct twitter_jar jar = {0};
    if (parse_cookies_value(cookies, &jar, where, why, whylen) != 0 ||
        check_login(&jar, where, why, whylen) != 0) {
        twitter_jar_free(&jar);
        return -1;
    }
    return add_account(f, user, &jar, pos, where, why, whylen);
}

/* The user id in a twid cookie ("u%3D123", "u=123", optionally quoted) as the username. */
static bool twid_username(const struct twitter_jar *jar, char out[TWITTER_COOKIE_MAX_USER + 1])
{
    const char *t = twitter_jar_get(jar, "twid");
    if (!t)
        return false;
    size_t n = strlen(t);
    if (n >= 2 && t[0] == '"' && t[n - 1] == '"') {
        t++;
        n -= 2;
    }
    size_t skip = (n > 4 && strncasecmp(t, "u%3D", 4) == 0) ? 4 : (n > 2 && !strncmp(t, "u=", 2))
                                                                   ? 2 : 0;
    if (!skip)
        return false;
    t += skip;
    n -= skip;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)t[i]))
            return false;
    return take_username(t, n, out);
}

static int parse_json(struct twitter_cookie_file *f, const char *data, size_t len, char *why,
                      size_t whylen)
{
    json_error_t jerr;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        /* jansson's text may quote the input ("near '...'"): keep secrets out of the message */
        char *near = strstr(jerr.text, " near ");
        if (near)
            *near = '\0';
        return why_set(why, whylen, "JSON: %s at line %d column %d", jerr.text, jerr.line,
                       jerr.column);
    }
    int rc = 0;
    char user[TWITTER_COOKIE_MAX_USER + 1];
    if (json_is_object(root)) {
        const char *k;
        json_t *v;
        unsigned pos = 0;
        json_object_foreach(root, k, v) {
            pos++;
            if (!take_username(k, strlen(k), user)) {
                rc = why_set(why, whylen, "account %u: the username must be " USERNAME_RULE, pos);
                break;
            }
            if ((rc = json_account(f, user, v, pos, why, whylen)) != 0)
                break;
        }
    } else if (json_is_array(root) && json_array_size(root) > 0 &&
               is_cookie_object(json_array_get(root, 0))) {
        struct twitter_jar jar = {0};
        rc = parse_cookies_value(root, &jar, "account 1: ", why, whylen);
        if (rc == 0)
            rc = check_login(&jar, "account 1: ", why, whylen);
        if (rc == 0 && !twid_username(&jar, user))
            rc = why_set(why, whylen, "a bare cookie export names no account: wrap it as "
                         "{\"<username>\": [...]} (or include the twid cookie)");
        if (rc == 0)
            rc = add_account(f, user, &jar, 1, "account 1: ", why, whylen);
        twitter_jar_free(&jar);
    } else if (json_is_array(root)) {
        for (size_t i = 0; i < json_array_size(root) && rc == 0; i++) {
            json_t *a = json_array_get(root, i);
            json_t *ju = json_is_object(a) ? get_ci(a, "username") : NULL;
            json_t *jc = json_is_object(a) ? get_ci(a, "cookies") : NULL;
            if (!json_is_string(ju) || !jc)
                rc = why_set(why, whylen, "account %zu: expected {\"username\": \"...\", "
                             "\"cookies\": ...}", i + 1);
            else if (!take_username(json_string_value(ju), json_string_length(ju), user))
                rc = why_set(why, whylen, "account %zu: the username must be " USERNAME_RULE,
                             i + 1);
            else
                rc = json_account(f, user, jc, (unsigned)(i + 1), why, whylen);
        }
    } else {
        rc = why_set(why, whylen, "JSON cookie file must be an object or a list");
    }
    json_decref(root);
    return rc;
}

int twitter_cookies_parse(const char *data, size_t len, struct twitter_cookie_file *out,
                          char *why, size_t whylen)
{
    out->v = NULL;
    out->n = 0;
    if (!data)
        return why_set(why, whylen, "no cookie data");
    if (len > TWITTER_COOKIES_MAX_FILE)
        return why_set(why, whylen, "cookie file too large (%zu bytes, limit %u)", len,
                       TWITTER_COOKIES_MAX_FILE);
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
    }
    size_t i = 0;
    while (i < len && (is_blank(data[i]) || data[i] == '\n' || data[i] == '\r'))
        i++;
    int rc;
    if (i < len && (data[i] == '[' || data[i] == '{')) {
        rc = parse_json(out, data, len, why, whylen);
    } else {
        rc = parse_text(out, data, len, why, whylen);
        if (rc == 0 && out->n == 0)
            rc = why_set(why, whylen, "no accounts in the cookie file");
    }
    if (rc == 0 && out->n == 0)
        rc = why_set(why, whylen, "no accounts in the cookie file");
    if (rc != 0)
        twitter_cookie_file_free(out);
    return rc;
}

int twitter_cookies_load(const char *path, struct twitter_cookie_file *out,
                         char *why, size_t whylen)
{
    out->v = NULL;
    out->n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);   /* a FIFO: refused below */
    if (fd < 0)
        return why_set(why, whylen, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return why_set(why, whylen, "%s is not a regular file", path);
    }
    if ((unsigned long long)st.st_size > TWITTER_COOKIES_MAX_FILE) {
        close(fd);
        return why_set(why, whylen, "%s is too large (%lld bytes, limit %u)", path,
                       (long long)st.st_size, TWITTER_COOKIES_MAX_FILE);
    }
    size_t cap = (size_t)st.st_size + 1;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return why_set(why, whylen, "out of memory");
    }
    ssize_t r = read_upto_fd(fd, buf, cap);
    int e = errno;
    close(fd);
    if (r < 0 || (size_t)r == cap) {      /* a read error, or the file grew while we read it */
        free(buf);
        if (r < 0)
            return why_set(why, whylen, "cannot read %s: %s", path, strerror(e));
        return why_set(why, whylen, "%s changed while being read", path);
    }
    size_t n = (size_t)r;
    int rc = twitter_cookies_parse(buf, n, out, why, whylen);
    explicit_bzero(buf, n);
    free(buf);
    return rc;
}
