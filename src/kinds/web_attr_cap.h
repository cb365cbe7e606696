/* web_attr_cap.h - the bound on attributes per start tag of a page, applied to its source before
 * libxml2 parses it. */
#ifndef TW_WEB_ATTR_CAP_H
#define TW_WEB_ATTR_CAP_H

#include <stddef.h>

#include <libxml/tree.h>

/* Attributes of one start tag kept as written; past them only the first href and src are. */
#define WEB_MAX_ATTRIBUTES_PER_TAG 256

/* web_cap_attributes: a copy of html[0..len) (malloc'd, NUL-ended, its length in *out_len) whose
 * start tags keep their first WEB_MAX_ATTRIBUTES_PER_TAG attributes and, of the rest, only the
 * first href and the first src (the only ones the web extraction reads; an element's first
 * attribute of a name is the one both parsers keep). libxml2 2.9 compares each attribute of a tag
 * with every earlier one, so one tag of a million attributes took it tens of minutes. NULL when
 * no tag is over the bound (nothing to change) or on OOM. Works on the bytes of any
 * ASCII-compatible charset. */
char *web_cap_attributes(const char *html, size_t len, size_t *out_len);

/* web_read_html parses html[0..len) (at most INT32_MAX bytes are read) with libxml2 as the worker
 * parses every page (recovering, no network, no error output), its start tags bounded first
 * (web_cap_attributes). url and encoding as htmlReadMemory takes them (encoding NULL: libxml2's
 * own detection). NULL when libxml2 makes no document. */
xmlDoc *web_read_html(const char *html, size_t len, const char *url, const char *encoding);

#endif
