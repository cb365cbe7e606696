/* html_entities.h - the HTML standard's named character references (as Go's parser knows them). */
#ifndef TW_HTML_ENTITIES_H
#define TW_HTML_ENTITIES_H

#include <stddef.h>

/* The longest name, and the longest of those valid without a ';' ("AElig" .. "yuml"). */
#define HTML_ENTITY_MAX_NAME 32
#define HTML_ENTITY_MAX_LEGACY_NAME 6

/* html_entity_lookup: the code points of name[0..len) (with its ';' when it has one, as
 * "amp;" or the legacy "amp"), 1 or 2 of them in cp; 0 when it names nothing. */
int html_entity_lookup(const char *name, size_t len, unsigned cp[2]);

#endif
