/* libxml_lazy.c - the libxml2 functions the worker calls, forwarding to libxml2 opened on first
 * use (see util/lazy_lib.h; the HTML of the web kind and of X's home page).
 *
 * Each function has the name and the prototype of the real one (the headers are included, so the
 * compiler checks them) and calls it through an address resolved once. Opening the library runs
 * xmlInitParser, under the loader's lock, before any other libxml2 call. xmlFree is a variable
 * of libxml2 (a pointer to its deallocator), not a function: libxml_free reads it through its
 * resolved address on every call and calls what it holds. A new libxml2 function needs a stub
 * here and a line in LIBXML_SYMBOLS (REAL() does not compile without it); test_lazy_lib checks
 * that every symbol listed resolves. */
#include "kinds/libxml_lazy.h"

#include <dlfcn.h>
#include <stdio.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "util/lazy_lib.h"

#ifndef TW_LIBXML2_SONAME
#define TW_LIBXML2_SONAME "libxml2.so.2"       /* Debian 12; meson passes the one it found */
#endif

#define LIBXML_SYMBOLS(X) \
    X(xmlInitParser) X(htmlReadMemory) X(xmlFreeDoc) X(xmlGetProp) X(xmlHasProp) \
    X(xmlNodeGetContent) X(xmlFree)

enum { LIBXML_SYMBOLS(LAZY_SYM_ENUM) LIBXML_SYMBOL_COUNT };
static struct lazy_sym syms[LIBXML_SYMBOL_COUNT] = { LIBXML_SYMBOLS(LAZY_SYM_ENTRY) };

/* drop_message is libxml2's error handler: HTML_PARSE_NOERROR silences the parser, but not the
 * encoding layer, which printed "encoding error : input conversion failed ..." straight to stderr
 * for any page whose bytes do not decode in the charset it names: lines outside the logger (not
 * JSON under LOG_FORMAT=json) that any web page could add. */
static void drop_message(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

/* xmlInitParser is not safe to race with a first parse in another thread: it runs here, once,
 * and so does the silencing of libxml2's messages, for this thread (libxml2's error handler is
 * per thread) and as the default of every other. */
static int init_parser(void *handle, char *err, size_t errlen)
{
    __typeof__(&xmlInitParser) init = (__typeof__(&xmlInitParser))dlsym(handle, "xmlInitParser");
    __typeof__(&xmlSetGenericErrorFunc) set_here =
        (__typeof__(&xmlSetGenericErrorFunc))dlsym(handle, "xmlSetGenericErrorFunc");
    __typeof__(&xmlThrDefSetGenericErrorFunc) set_default =
        (__typeof__(&xmlThrDefSetGenericErrorFunc))dlsym(handle, "xmlThrDefSetGenericErrorFunc");
    if (!init || !set_here || !set_default) {
        const char *why = dlerror();
        snprintf(err, errlen, "%s", why ? why : "no xmlInitParser or error handler setters");
        return -1;
    }
    init();
    set_default(NULL, drop_message);
    set_here(NULL, drop_message);
    return 0;
}

static struct lazy_lib libxml_lib = LAZY_LIB_INIT(TW_LIBXML2_SONAME,
    "HTML parsing: the web job kind and X's transaction id", init_parser);

/* REAL(name): libxml2's function name, with the type of its prototype in the headers. */
#define REAL(name) ((__typeof__(&name))lazy_lib_sym(&libxml_lib, &syms[LAZY_SYM_##name]))

int libxml_lazy_resolve_all(char *err, size_t errlen)
{
    return lazy_lib_resolve_all(&libxml_lib, syms, LIBXML_SYMBOL_COUNT, err, errlen);
}

void libxml_free(void *p)
{
    if (!p)
        return;
    xmlFreeFunc *deallocator = lazy_lib_sym(&libxml_lib, &syms[LAZY_SYM_xmlFree]);
    (*deallocator)(p);
}

htmlDocPtr htmlReadMemory(const char *buffer, int size, const char *URL, const char *encoding,
                          int options)
{
    return REAL(htmlReadMemory)(buffer, size, URL, encoding, options);
}

void xmlFreeDoc(xmlDocPtr cur)
{
    REAL(xmlFreeDoc)(cur);
}

xmlChar *xmlGetProp(const xmlNode *node, const xmlChar *name)
{
    return REAL(xmlGetProp)(node, name);
}

xmlAttrPtr xmlHasProp(const xmlNode *node, const xmlChar *name)
{
    return REAL(xmlHasProp)(node, name);
}

xmlChar *xmlNodeGetContent(const xmlNode *cur)
{
    return REAL(xmlNodeGetContent)(cur);
}
