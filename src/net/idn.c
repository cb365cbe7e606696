/* idn.c - host names to their ASCII (xn--) form with libidn2 (see idn.h).
 *
 * The flags: IDN2_NONTRANSITIONAL (UTS #46 mapping and non-transitional processing, as Go's
 * Lookup profile; it implies IDN2_NFC_INPUT, said anyway). Go's profile also applies the STD3
 * rules, but libidn2's IDN2_USE_STD3_ASCII_RULES drops the characters they disallow instead of
 * refusing the name ("a_b.bücher" would become "ab.xn--bcher-kva", another host): the rules are
 * checked here instead, on the result, which must hold only letters, digits, hyphens and dots
 * (what a non-ASCII character maps to, e.g. a full-width low line, is checked the same way).
 * Labels already in xn-- form are checked by libidn2 (its default A-label round trip) and kept.
 * The result is copied into the caller's buffer and libidn2's copy freed at once, so no caller
 * handles libidn2's memory. */
#include "net/idn.h"

#include <stdint.h>
#include <string.h>

#include <idn2.h>

#define IDN_LOOKUP_FLAGS (IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT)

bool idn_is_ascii(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p >= 0x80)
            return false;
    return true;
}

/* The STD3 rules: letters, digits, hyphens, and dots between labels. */
static bool std3_host(const char *s)
{
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.'))
            return false;
    return true;
}

int idn_host_to_ascii(const char *host, char out[IDN_HOST_MAX], const char **why)
{
    out[0] = '\0';
    size_t len = strlen(host);
    if (idn_is_ascii(host)) {
        if (len >= IDN_HOST_MAX) {
            *why = "host name longer than 255 characters";
            return -1;
        }
        memcpy(out, host, len + 1);
        return 0;
    }
    if (len > IDN_HOST_INPUT_MAX) {
        *why = "host name too long";
        return -1;
    }
    uint8_t *ascii = NULL;
    int rc = idn2_lookup_u8((const uint8_t *)host, &ascii, IDN_LOOKUP_FLAGS);
    if (rc == IDN2_MALLOC) {
        *why = "out of memory";
        return -2;
    }
    if (rc != IDN2_OK) {
        if (ascii)
            idn2_free(ascii);
        *why = idn2_strerror(rc);
        return -1;
    }
    size_t n = ascii ? strlen((const char *)ascii) : 0;
    int result = 0;
    if (n == 0 || n >= IDN_HOST_MAX || !std3_host((const char *)ascii)) {
        *why = n == 0 ? "empty host name" : n >= IDN_HOST_MAX ?
               "host name longer than 255 characters" :
               "character not allowed in a host name";
        result = -1;
    } else {
        memcpy(out, ascii, n + 1);
    }
    if (ascii)
        idn2_free(ascii);
    return result;
}
