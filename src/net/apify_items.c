/* apify_items.c - a dataset page's text into its items, one bad item costing only itself
 * (see apify.h).
 *
 * A page is a bare JSON array (or null) of whatever the actor wrote, so an item may hold what
 * jansson cannot represent while the rest of the page is fine:
 *   - an integer beyond int64: read as a real (util/json_bigint.h), as Go reads it into a float64
 *     or []any field (an int field then fails that item in the decoders, as in Go);
 *   - a string with \u0000: the decoders and the results keep C strings, so such an item is
 *     replaced by null (decoders skip null items);
 *   - a number beyond double (1e400) or a key with \u0000, which jansson refuses outright: the
 *     page is then decoded item by item (a structural scan finds the item boundaries, jansson
 *     decodes each item) and only those items become null.
 * Anything else that jansson refuses (broken syntax) fails the page, and a page whose decoding
 * would take too much memory (json_load_bounded) is refused before jansson sees it. Replaced items
 * keep their place, so the page's size, and with it the next cursor, stay what Apify sent. */
#include "net/apify.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util/json_bigint.h"
#include "util/json_cost.h"
#include "util/json_scan.h"

#define PAGE_FLAGS (JSON_DECODE_ANY | JSON_ALLOW_NUL)
#define SKIPS_LOGGED 3

struct skips {
    size_t count;
};

static void skip_item(struct skips *s, size_t index, const char *why)
{
    if (s->count++ < SKIPS_LOGGED)
        log_warn("apify: dataset item %zu skipped: %.160s", index, why);
}

/* item_local: a jansson failure that concerns one value of an otherwise well-formed page. */
static bool item_local(const json_error_t *jerr)
{
    enum json_error_code code = json_error_code(jerr);
    return code == json_error_numeric_overflow || code == json_error_null_byte_in_key;
}

static size_t skip_space(const char *text, size_t len, size_t i)
{
    while (i < len && json_scan_space(text[i]))
        i++;
    return i;
}

/* value_end returns the index just past the value starting at text[i] (structurally: a string to
 * its closing quote, a container to its matching bracket, counting brackets only, a scalar to the
 * next delimiter), or 0 when the text ends inside it. jansson checks the value itself. */
static size_t value_end(const char *text, size_t len, size_t i)
{
    size_t depth = 0;
    while (i < len) {
        char c = text[i];
        if (c == '"') {
            if (!(i = json_scan_string_end(text, len, i)))
                return 0;
            if (depth == 0)
                return i;
        } else if (c == '{' || c == '[') {
            depth++;
            i++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return i;           /* a scalar ended by its container */
            i++;
            if (--depth == 0)
                return i;
        } else if (depth == 0 && (c == ',' || json_scan_space(c))) {
            return i;
        } else {
            i++;
        }
    }
    return depth == 0 ? i : 0;
}

/* items_one_by_one decodes the array text[0..len) element by element; an element jansson refuses
 * for an item-local reason becomes null. Returns the array, or NULL with why set. */
static json_t *items_one_by_one(const char *text, size_t len, struct skips *skips, char *why,
                                size_t whylen)
{
    json_t *items = json_array();
    size_t i = skip_space(text, len, 0), index = 0;
    if (!items) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    if (i >= len || text[i] != '[')
        goto malformed;
    i = skip_space(text, len, i + 1);
    if (i < len && text[i] == ']') {
        i++;
    } else {
        for (;;) {
            size_t end = i < len ? value_end(text, len, i) : 0;
            if (end <= i)
                goto malformed;
            json_error_t jerr;
            json_t *item = json_loadb(text + i, end - i, PAGE_FLAGS, &jerr);
            if (!item && !item_local(&jerr)) {
                snprintf(why, whylen, "item %zu: %s", index, jerr.text);
                json_decref(items);
                return NULL;
            }
            if (!item) {
                skip_item(skips, index, jerr.text);
                item = json_null();
            }
            if (json_array_append_new(items, item) < 0) {
                snprintf(why, whylen, "out of memory");
                json_decref(items);
                return NULL;
            }
            index++;
            i = skip_space(text, len, end);
            if (i < len && text[i] == ',') {
                i = skip_space(text, len, i + 1);
                continue;
            }
            if (i < len && text[i] == ']') {
                i++;
                break;
            }
            goto malformed;
        }
    }
    if (skip_space(text, len, i) == len)
        return items;
malformed:
    snprintf(why, whylen, "malformed JSON array near byte %zu", i);
    json_decref(items);
    return NULL;
}

/* holds_nul: some string in v (at any depth) has a \u0000. Iterative: the nesting is jansson's
 * (up to 2048 levels) and job threads have small stacks. */
static int holds_nul(json_t *v)
{
    size_t n = 0, cap = 16;
    json_t **stack = malloc(cap * sizeof *stack);
    if (!stack)
        return -1;
    stack[n++] = v;
    int found = 0;
    while (n > 0 && !found) {
        json_t *top = stack[--n];
        if (json_is_string(top)) {
            found = strlen(json_string_value(top)) != json_string_length(top);
            continue;
        }
        size_t children = json_is_array(top) ? json_array_size(top) : json_object_size(top);
        if (children > cap - n) {
            size_t want = cap * 2 > n + children ? cap * 2 : n + children;
            json_t **grown = realloc(stack, want * sizeof *stack);
            if (!grown) {
                free(stack);
                return -1;
            }
            stack = grown;
            cap = want;
        }
        if (json_is_array(top)) {
            for (size_t i = 0; i < children; i++)
                stack[n++] = json_array_get(top, i);
        } else if (json_is_object(top)) {
            const char *key;
            json_t *member;
            json_object_foreach(top, key, member)
                stack[n++] = member;
        }
    }
    free(stack);
    return found;
}

int apify_items_parse(const char *text, size_t len, json_t **items, char *why, size_t whylen)
{
    *items = NULL;
    struct skips skips = { 0 };
    json_error_t jerr;
    json_t *doc = json_load_bounded(text, len, PAGE_FLAGS, &jerr);
    char *copy = NULL;
    size_t copy_len = 0;
    if (!doc && json_error_code(&jerr) == json_error_numeric_overflow &&
        (copy = json_big_ints_as_reals(text, len, &copy_len))) {
        text = copy;
        len = copy_len;
        doc = json_loadb(text, len, PAGE_FLAGS, &jerr);
    }
    if (!doc && item_local(&jerr)) {
        doc = items_one_by_one(text, len, &skips, why, whylen);
        free(copy);
        if (!doc)
            return -1;
    } else {
        free(copy);
        if (!doc) {
            snprintf(why, whylen, "%s", jerr.text);
            return -1;
        }
    }
    if (json_is_null(doc)) {
        json_decref(doc);
        doc = json_array();
        if (!doc) {
            snprintf(why, whylen, "out of memory");
            return -1;
        }
    }
    if (!json_is_array(doc)) {
        json_decref(doc);
        snprintf(why, whylen, "expected a JSON array");
        return -1;
    }
    for (size_t i = 0; i < json_array_size(doc); i++) {
        int nul = holds_nul(json_array_get(doc, i));
        if (nul < 0 || (nul && json_array_set_new(doc, i, json_null()) < 0)) {
            json_decref(doc);
            snprintf(why, whylen, "out of memory");
            return -1;
        }
        if (nul)
            skip_item(&skips, i, "a string holds a NUL character (\\u0000)");
    }
    if (skips.count > SKIPS_LOGGED)
        log_warn("apify: %zu dataset items of %zu skipped in all", skips.count,
                 json_array_size(doc));
    *items = doc;
    return 0;
}
