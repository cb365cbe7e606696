/* idn.h - internationalized host names in the ASCII form they are looked up under.
 *
 * A host name with a non-ASCII character (bücher.example) is fetched under its ASCII form
 * (xn--bcher-kva.example), as Go's net/http does (golang.org/x/net/idna, Lookup profile): UTS #46
 * non-transitional processing (so 'ß' stays a letter of its own, not "ss"), with the input put in
 * Unicode NFC first, case folded, STD3 rules (letters, digits and hyphens only). The conversion
 * is libidn2's UTF-8 call (idn2_lookup_u8), which does not depend on the locale: libcurl's own
 * conversion reads the host in the locale's charset and fails in the C locale the worker runs in.
 * libidn2 is opened on the first non-ASCII host (net/idn2_lazy.c); an ASCII host is never given
 * to it. */
#ifndef TW_IDN_H
#define TW_IDN_H

#include <stdbool.h>
#include <stddef.h>

/* Room for any ASCII host name libidn2 produces (at most 255 characters) and its NUL. */
#define IDN_HOST_MAX 256

/* A non-ASCII host of more than this many bytes is refused without converting it: four UTF-8
 * bytes for each character of the longest name DNS can carry, and room for characters that
 * processing removes (soft hyphens, ...). */
#define IDN_HOST_INPUT_MAX 1024

/* idn_is_ascii: s (NUL-terminated) has no byte >= 0x80. */
bool idn_is_ascii(const char *s);

/* idn_host_to_ascii writes into out the ASCII form of host (UTF-8, NUL-terminated: a host name
 * as libcurl's URL API gives it, percent-escapes decoded; no brackets, no port). An ASCII host is
 * copied unchanged. Returns 0; or -1 when host is not a valid internationalized name (or is too
 * long), with *why set to a static English reason ("string contains a disallowed character",
 * ...); or -2 when memory ran out. out is an empty string on failure. */
int idn_host_to_ascii(const char *host, char out[IDN_HOST_MAX], const char **why);

#endif
