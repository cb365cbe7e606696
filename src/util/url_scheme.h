/* url_scheme.h - the scheme at the start of a URL or link as RFC 3986 3.1 writes it (a letter,
 * then letters, digits, '+', '-' or '.', then ':'), shared by the web kind's URL checks, link
 * resolution and the TikTok transcription's video URL check. */
#ifndef TW_URL_SCHEME_H
#define TW_URL_SCHEME_H

#include <ctype.h>
#include <stddef.h>

/* url_scheme_len: the length of the scheme that url starts with, without its ':'; 0 when url
 * does not start with one. */
static inline size_t url_scheme_len(const char *url)
{
    if (!isalpha((unsigned char)url[0]))
        return 0;
    size_t i = 1;
    while (isalnum((unsigned char)url[i]) || url[i] == '+' || url[i] == '-' || url[i] == '.')
        i++;
    return url[i] == ':' ? i : 0;
}

#endif
