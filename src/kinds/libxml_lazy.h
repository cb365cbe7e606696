/* libxml_lazy.h - libxml2, opened on first use (see libxml_lazy.c and util/lazy_lib.h).
 *
 * Code that parses HTML includes libxml2's headers and calls it as usual, with one exception:
 * memory libxml2 hands out is freed with libxml_free, not xmlFree (a variable of libxml2, which a
 * program that is not linked with libxml2 cannot refer to). The first call of any libxml2
 * function opens the library and runs xmlInitParser; callers need not. */
#ifndef TW_LIBXML_LAZY_H
#define TW_LIBXML_LAZY_H

#include <stddef.h>

/* libxml_free frees p (from xmlGetProp, xmlNodeGetContent, ...) with libxml2's xmlFree; NULL is
 * fine. */
void libxml_free(void *p);

/* libxml_lazy_resolve_all opens libxml2 and resolves every symbol the stubs use, now. Returns 0,
 * or -1 with err (which library, which symbol, why). For the unit tests. */
int libxml_lazy_resolve_all(char *err, size_t errlen);

#endif
