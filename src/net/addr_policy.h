/* addr_policy.h - which hosts and addresses the web crawler may connect to (and where the
 * redirects of other upstream calls may lead: net/fetch.h redirects_public_only).
 *
 * Two independent checks, both applied to every URL fetched (redirect targets included):
 *   - the blacklist, on host names: a term blocks the host equal to it and every subdomain of it
 *     ("example.com" blocks "example.com" and "a.example.com", not "badexample.com"); comparison
 *     is case-insensitive and ignores one trailing dot; empty terms never match; a host or a term
 *     written in Unicode is compared in its ASCII form (net/idn.h), so "bücher.example" and
 *     "xn--bcher-kva.example" block each other's spelling (a term with no valid ASCII form is
 *     compared as written); an IPv6 literal, host ("[...]") or term (with or without brackets),
 *     is compared as the IPv4 address it carries when IPv4-mapped ("[::ffff:7f00:1]" is
 *     "127.0.0.1", the address connected to), else in its canonical IPv6 text;
 *   - the address policy, on the address actually connected to (after DNS): private, loopback,
 *     link-local, unique-local, CGNAT, multicast, reserved and unspecified addresses are refused,
 *     for IPv4 and IPv6 alike, including IPv4 embedded in IPv6 (mapped, compatible, NAT64, 6to4).
 * The address check runs inside curl's open-socket callback (addr_policy_install), i.e. on the
 * very address curl is about to connect to, so there is no window between the check and the
 * connection for a DNS answer to change (no DNS rebinding). */
#ifndef TW_ADDR_POLICY_H
#define TW_ADDR_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include <sys/socket.h>

#include <curl/curl.h>

struct str_list;

/* addr_policy_host_blacklisted: true when host matches a term of list (see above). On a match
 * and when term != NULL, *term points at the matching list element. */
bool addr_policy_host_blacklisted(const struct str_list *list, const char *host, const char **term);

/* addr_policy_sockaddr_public: true when sa (AF_INET or AF_INET6) is a public unicast address.
 * Any other family is refused. */
bool addr_policy_sockaddr_public(const struct sockaddr *sa, size_t len);

/* What the open-socket callback reports back: set when a connection was refused. */
struct addr_policy_guard {
    bool allow_private;        /* true: every address is allowed */
    CURL *hops_of;             /* non-NULL: only the connections this handle opens while following
                                * a redirect are checked (the first request's own are not) */
    bool refused;              /* set by the callback when it refused an address */
    char refused_addr[64];     /* the refused address, printable */
};

/* addr_policy_install makes easy open its sockets through the policy of guard (which must
 * outlive the transfer). Returns a CURLcode. */
CURLcode addr_policy_install(CURL *easy, struct addr_policy_guard *guard);

#endif
