/* html_walk.h - walking a libxml2 HTML tree in document order, for the kinds that read pages
 * (the web extractor, the X home page of the transaction id). */
#ifndef TW_HTML_WALK_H
#define TW_HTML_WALK_H

#include <stdbool.h>
#include <string.h>

#include <libxml/tree.h>

/* html_next_skipping_children: the node after n and all its descendants in document order
 * inside top, or NULL at the end. */
static inline xmlNode *html_next_skipping_children(xmlNode *n, const xmlNode *top)
{
    while (n && n != top && !n->next)
        n = n->parent;
    return (n && n != top) ? n->next : NULL;
}

/* html_next_in_order: the node after n in document order (children first) inside top, or NULL
 * at the end. */
static inline xmlNode *html_next_in_order(xmlNode *n, const xmlNode *top)
{
    if (n->type == XML_ELEMENT_NODE && n->children)
        return n->children;
    return html_next_skipping_children(n, top);
}

/* html_is_element: n is an element named name (libxml2's HTML parser lower-cases tag names). */
static inline bool html_is_element(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->name && strcmp((const char *)n->name, name) == 0;
}

#endif
