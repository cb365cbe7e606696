/* json_cost.c - a memory estimate of jansson's decoding of a JSON text (see json_cost.h).
 *
 * One pass over the bytes. A string is skipped to its closing quote (backslash escapes skipped in
 * pairs); it is a key when the next byte that is not whitespace is ':', and costs a member, else a
 * value. '{' and '[' cost a container, a run of number characters one number, true/false/null only
 * their slot (jansson shares one node for each). Everything else (',', ':', '}', ']', whitespace,
 * garbage) costs nothing. The longest token adds the lexer's buffer. Sums saturate at SIZE_MAX. */
#include "util/json_cost.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/json_scan.h"

static size_t add(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

size_t json_cost_estimate(const char *text, size_t len)
{
    size_t cost = 0, longest = 0;
    for (size_t i = 0; i < len;) {
        char c = text[i];
        size_t start = i;
        if (c == '"') {
            size_t end = json_scan_string_end(text, len, i);
            if (!end)
                end = len;              /* not closed: the rest of the text */
            size_t next = end;
            while (next < len && json_scan_space(text[next]))
                next++;
            size_t bytes = end - i;
            if (next < len && text[next] == ':')
                cost = add(cost, add(JSON_COST_MEMBER, bytes));
            else
                cost = add(cost, add(JSON_COST_STRING + JSON_COST_SLOT, bytes));
            i = end;
        } else if (c == '{' || c == '[') {
            cost = add(cost, (c == '{' ? JSON_COST_OBJECT : JSON_COST_ARRAY) + JSON_COST_SLOT);
            i++;
        } else if (json_scan_number_char(c)) {
            cost = add(cost, JSON_COST_NUMBER + JSON_COST_SLOT);
            while (i < len && json_scan_number_char(text[i]))
                i++;
        } else if (c >= 'a' && c <= 'z') {
            cost = add(cost, JSON_COST_SLOT);
            while (i < len && text[i] >= 'a' && text[i] <= 'z')
                i++;
        } else {
            i++;
            continue;
        }
        if (i - start > longest)
            longest = i - start;
    }
    /* the lexer's buffer holds one token at a time, and doubles: old and new at once */
    return add(cost, longest > SIZE_MAX / 4 ? SIZE_MAX : JSON_COST_TOKEN * longest);
}

size_t json_cost_bound(size_t len)
{
    size_t scaled = len > SIZE_MAX / JSON_COST_BOUND_FACTOR ? SIZE_MAX
                                                            : len * JSON_COST_BOUND_FACTOR;
    return add(scaled, JSON_COST_BOUND_BASE);
}

json_t *json_load_bounded(const char *text, size_t len, size_t flags, json_error_t *error)
{
    size_t cost = json_cost_estimate(text, len), bound = json_cost_bound(len);
    if (cost <= bound)
        return json_loadb(text, len, flags, error);
    if (error) {
        memset(error, 0, sizeof *error);
        error->line = error->column = -1;
        snprintf(error->source, sizeof error->source, "<buffer>");
        snprintf(error->text, sizeof error->text - 1,
                 "JSON text of %zu bytes would take about %zu MiB to decode (more than %zu MiB "
                 "allowed)", len, cost >> 20, bound >> 20);
        /* where jansson keeps the code json_error_code() reads (jansson.h) */
        error->text[sizeof error->text - 1] = (char)json_error_out_of_memory;
    }
    return NULL;
}
