/* costly_json.h - a JSON text that is cheap to send and costly to decode, for the tests of the
 * decoders that refuse such texts before jansson reads them (util/json_cost.h). Header-only. */
#ifndef TESTS_COSTLY_JSON_H
#define TESTS_COSTLY_JSON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* costly_json: prefix (an object's opening and members, ending with a comma) followed by a
 * padding member of 700000 empty objects and "}": some 2 MB of text that jansson would take some
 * 200 MB to decode. *len receives its length. Caller frees. */
static char *costly_json(const char *prefix, size_t *len)
{
    size_t n = 700000, p = strlen(prefix);
    char *text = malloc(p + 3 * n + 16);
    if (!text)
        abort();
    char *w = text + sprintf(text, "%s\"pad\":[{}", prefix);
    for (size_t i = 1; i < n; i++, w += 3)
        memcpy(w, ",{}", 3);
    w += sprintf(w, "]}");
    *len = (size_t)(w - text);
    return text;
}

#endif
