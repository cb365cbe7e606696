/* hex.h - the value of one hexadecimal digit (either case), for the few places that read hex text
 * (uuids, key files). */
#ifndef TW_HEX_H
#define TW_HEX_H

/* hex_value: 0..15 for '0'-'9', 'a'-'f', 'A'-'F'; -1 for anything else (NUL included). */
static inline int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
