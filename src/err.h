/* err.h - the one error carrier of the service.
 *
 * A failure that a client may see travels as a struct err: the HTTP status it maps to and a
 * human-readable message that becomes {"error": msg}. 4xx means the client's fault, 5xx ours.
 * Functions that can fail take a `struct err *` (never NULL) and return 0 or a negative value.
 * Lower-level modules that only explain a failure in a caller's text buffer (char *why, size_t
 * whylen) fill it with why_set. A message longer than its buffer is cut, never in the middle of a
 * UTF-8 character. */
#ifndef TW_ERR_H
#define TW_ERR_H

#include <stdarg.h>
#include <stdio.h>

#include "util/utf8.h"

struct err {
    int http;       /* HTTP status to answer with; 0 while no error */
    char msg[256];  /* message for {"error": ...}; NUL-terminated */
};

/* err_set fills e with status and a printf-formatted message; returns -1 so callers can
 * write `return err_set(e, 400, "...")`. */
__attribute__((format(printf, 3, 4)))
static inline int err_set(struct err *e, int http, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    e->http = http;
    int w = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    if (w >= (int)sizeof e->msg)
        e->msg[utf8_trim_partial(e->msg, sizeof e->msg - 1)] = '\0';
    va_end(ap);
    return -1;
}

/* why_set writes a printf-formatted message into why (when why is non-NULL and whylen > 0);
 * returns -1 so callers can write `return why_set(why, whylen, "...")`. */
__attribute__((format(printf, 3, 4)))
static inline int why_set(char *why, size_t whylen, const char *fmt, ...)
{
    if (why && whylen) {
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(why, whylen, fmt, ap);
        if (w >= 0 && (size_t)w >= whylen)
            why[utf8_trim_partial(why, whylen - 1)] = '\0';
        va_end(ap);
    }
    return -1;
}

static inline void err_clear(struct err *e)
{
    e->http = 0;
    e->msg[0] = '\0';
}

#endif
