/* addr_policy.c - host blacklist matching and the public-address rule for outbound crawling.
 *
 * The address rule is a table of refused IPv4 prefixes; IPv6 has its own table, and IPv6 forms
 * that carry an IPv4 address (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::/96,
 * 6to4 2002::/16) are judged by the IPv4 address inside. The check is enforced in curl's
 * open-socket callback, on the exact address being connected to. */
#include "net/addr_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "net/idn.h"

/* ---- blacklist ---------------------------------------------------------------------------- */

/* Length of s without one trailing '.'. */
static size_t len_without_dot(const char *s)
{
    size_t n = strlen(s);
    return (n > 0 && s[n - 1] == '.') ? n - 1 : n;
}

/* The ASCII form of the name s[0..len) into out (net/idn.h); a name that has none (invalid, too
 * long) is copied as written, so it matches only itself. Returns out, or NULL when it does not
 * fit. */
static const char *ascii_form(const char *s, size_t len, char out[IDN_HOST_MAX])
{
    char name[IDN_HOST_INPUT_MAX + 1];
    if (len > IDN_HOST_INPUT_MAX)
        return NULL;
    memcpy(name, s, len);
    name[len] = '\0';
    const char *why = NULL;
    if (idn_host_to_ascii(name, out, &why) == 0)
        return out;
    if (len >= IDN_HOST_MAX)
        return NULL;
    memcpy(out, name, len + 1);
    return out;
}

/* The IPv6 literal s[0..len) ("[...]" as curl gives a host, or a term with or without the
 * brackets) in the one spelling the blacklist compares: the IPv4 address it carries when it is
 * IPv4-mapped (the address connected to: "[::ffff:a9fe:a9fe]" is "169.254.169.254"), else its
 * canonical IPv6 text. NULL when s is no IPv6 literal. */
static const char *v6_literal_form(const char *s, size_t len, char out[INET6_ADDRSTRLEN])
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    char text[INET6_ADDRSTRLEN];
    struct in6_addr a;
    if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
        s++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof text || !memchr(s, ':', len))
        return NULL;
    memcpy(text, s, len);
    text[len] = '\0';
    if (inet_pton(AF_INET6, text, &a) != 1)
        return NULL;
    if (memcmp(a.s6_addr, mapped, sizeof mapped) == 0)
        return inet_ntop(AF_INET, a.s6_addr + 12, out, INET6_ADDRSTRLEN);
    return inet_ntop(AF_INET6, &a, out, INET6_ADDRSTRLEN);
}

/* host (hlen bytes, ASCII form, an IPv6 literal in v6_literal_form) is term or a subdomain of it. */
static bool host_matches(const char *host, size_t hlen, const char *term)
{
    while (*term == ' ' || *term == '\t')
        term++;
    size_t tlen = len_without_dot(term);
    while (tlen > 0 && (term[tlen - 1] == ' ' || term[tlen - 1] == '\t'))
        tlen--;
    char literal[INET6_ADDRSTRLEN];
    const char *v6 = v6_literal_form(term, tlen, literal);
    if (v6) {
        term = v6;
        tlen = strlen(v6);
    }
    char ascii[IDN_HOST_MAX];
    for (size_t i = 0; i < tlen; i++) {
        if ((unsigned char)term[i] >= 0x80) {     /* written in Unicode: compare its ASCII form */
            if (!(term = ascii_form(term, tlen, ascii)))
                return false;
            tlen = len_without_dot(term);
            break;
        }
    }
    if (tlen == 0 || tlen > hlen)
        return false;
    if (strncasecmp(host + hlen - tlen, term, tlen) != 0)
        return false;
    return tlen == hlen || host[hlen - tlen - 1] == '.';
}

bool addr_policy_host_blacklisted(const struct str_list *list, const char *host, const char **term)
{
    if (!list || !host || list->count == 0)
        return false;
    char ascii[IDN_HOST_MAX];
    if (!idn_is_ascii(host) && !(host = ascii_form(host, strlen(host), ascii)))
        return false;
    size_t hlen = len_without_dot(host);
    char literal[INET6_ADDRSTRLEN];
    const char *v6 = v6_literal_form(host, hlen, literal);
    if (v6) {
        host = v6;
        hlen = strlen(v6);
    }
    for (size_t i = 0; i < list->count; i++) {
        if (list->items[i] && host_matches(host, hlen, list->items[i])) {
            if (term)
                *term = list->items[i];
            return true;
        }
    }
    return false;
}

/* ---- addresses ---------------------------------------------------------------------------- */

struct v4_prefix { uint32_t net; unsigned bits; };

static const struct v4_prefix refused_v4[] = {
    { 0x00000000u, 8 },   /* 0.0.0.0/8 "this network", unspecified */
    { 0x0a000000u, 8 },   /* 10/8 private */
    { 0x64400000u, 10 },  /* 100.64/10 carrier-grade NAT */
    { 0x7f000000u, 8 },   /* 127/8 loopback */
    { 0xa9fe0000u, 16 },  /* 169.254/16 link-local */
    { 0xac100000u, 12 },  /* 172.16/12 private */
    { 0xc0000000u, 24 },  /* 192.0.0/24 protocol assignments */
    { 0xc0000200u, 24 },  /* 192.0.2/24 documentation */
    { 0xc0a80000u, 16 },  /* 192.168/16 private */
    { 0xc6120000u, 15 },  /* 198.18/15 benchmarking */
    { 0xc6336400u, 24 },  /* 198.51.100/24 documentation */
    { 0xcb007100u, 24 },  /* 203.0.113/24 documentation */
    { 0xe0000000u, 4 },   /* 224/4 multicast */
    { 0xf0000000u, 4 },   /* 240/4 reserved, broadcast */
};

static bool v4_public(uint32_t a)
{
    for (size_t i = 0; i < sizeof refused_v4 / sizeof refused_v4[0]; i++) {
        uint32_t mask = 0xffffffffu << (32 - refused_v4[i].bits);
        if ((a & mask) == refused_v4[i].net)
            return false;
    }
    return true;
}

static uint32_t be32_at(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static bool v6_public(const uint8_t a[16])
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
    if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0 || all_zero(a, 12))
        return v4_public(be32_at(a + 12));        /* mapped, NAT64, compatible (also ::, ::1) */
    if (a[0] == 0x20 && a[1] == 0x02)
        return v4_public(be32_at(a + 2));         /* 6to4 */
    if (a[0] == 0 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b && a[4] == 0 && a[5] == 1)
        return false;                             /* 64:ff9b:1::/48 local-use NAT64 */
    if ((a[0] & 0xfe) == 0xfc)
        return false;                             /* fc00::/7 unique local */
    if (a[0] == 0xfe && (a[1] & 0x80) == 0x80)
        return false;                             /* fe80::/10 link-local, fec0::/10 site-local */
    if (a[0] == 0xff)
        return false;                             /* ff00::/8 multicast */
    if (a[0] == 0x01 && a[1] == 0 && all_zero(a + 2, 6))
        return false;                             /* 100::/64 discard */
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
        return false;                             /* 2001:db8::/32 documentation */
    return true;
}

bool addr_policy_sockaddr_public(const struct sockaddr *sa, size_t len)
{
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return v4_public(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        return v6_public(in6->sin6_addr.s6_addr);
    }
    return false;
}

/* ---- curl glue ---------------------------------------------------------------------------- */

static void print_addr(const struct sockaddr *sa, char *out, size_t outlen)
{
    const void *src = NULL;
    if (sa->sa_family == AF_INET)
        src = &((const struct sockaddr_in *)sa)->sin_addr;
    else if (sa->sa_family == AF_INET6)
        src = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (!src || !inet_ntop(sa->sa_family, src, out, (socklen_t)outlen))
        snprintf(out, outlen, "(address family %d)", sa->sa_family);
}

static curl_socket_t open_checked_socket(void *clientp, curlsocktype purpose,
                                         struct curl_sockaddr *address)
{
    struct addr_policy_guard *guard = clientp;
    if (purpose != CURLSOCKTYPE_IPCXN)
        return CURL_SOCKET_BAD;
    long hops = 1;     /* without hops_of, every connection is checked */
    if (guard->hops_of &&
        curl_easy_getinfo(guard->hops_of, CURLINFO_REDIRECT_COUNT, &hops) != CURLE_OK)
        hops = 1;
    if (!guard->allow_private && hops > 0 &&
        !addr_policy_sockaddr_public(&address->addr, address->addrlen)) {
        guard->refused = true;
        print_addr(&address->addr, guard->refused_addr, sizeof guard->refused_addr);
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

CURLcode addr_policy_install(CURL *easy, struct addr_policy_guard *guard)
{
    CURLcode rc = curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, open_checked_socket);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, guard);
    return rc;
}
