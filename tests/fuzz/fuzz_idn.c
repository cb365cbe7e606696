/* fuzz_idn.c - libFuzzer target for host names to their ASCII form (net/idn.h).
 *
 * Input: a host name (up to its first NUL), as a link or a redirect may carry one. The result is
 * 0 with a name of at most 255 bytes that converts to itself (an ASCII input copied as it is, a
 * non-ASCII one made of letters, digits, hyphens and dots, not empty), or -1 with a reason and
 * an empty name, or -2 (out of memory); and the blacklist, given the input as a term, blocks the
 * name it converted to (a term is compared in its ASCII form) when the input has no blanks or
 * dots at its ends, which the blacklist trims, and converts to a name with no empty label (not
 * ".", which is no term). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "net/addr_policy.h"
#include "net/idn.h"

static bool std3(const char *s)
{
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") ==
           strlen(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *host = malloc(size + 1);
    if (!host)
        return 0;
    memcpy(host, data, size);
    host[size] = '\0';
    char out[IDN_HOST_MAX], again[IDN_HOST_MAX];
    const char *why = NULL;
    int rc = idn_host_to_ascii(host, out, &why);
    if (rc == 0) {
        size_t n = strlen(out);
        if (n >= IDN_HOST_MAX || !idn_is_ascii(out))
            abort();
        if (idn_is_ascii(host) ? strcmp(out, host) != 0 : n == 0 || !std3(out))
            abort();
        if (idn_host_to_ascii(out, again, &why) != 0 || strcmp(again, out) != 0)
            abort();
        size_t hl = strlen(host);
        bool trimmed_ends = hl && !strchr(" \t.", host[0]) && !strchr(" \t.", host[hl - 1]);
        char *items[] = { host };
        struct str_list list = { items, 1 };
        if (trimmed_ends && !idn_is_ascii(host) && !strstr(out, "..") && strcmp(out, ".") != 0 &&
            !addr_policy_host_blacklisted(&list, out, NULL))
            abort();         /* a term in Unicode does not block its own ASCII form */
    } else if (rc == -1) {
        if (!why || out[0] != '\0')
            abort();
    } else if (rc != -2) {
        abort();
    }
    free(host);
    return 0;
}
