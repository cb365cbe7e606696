/* cli_args.c - KEY=VALUE words to a JSON arguments object, and "-" as standard input. */
#include "cli_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STDIN (64u * 1024u * 1024u)

static json_t *word_value(const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    return v ? v : json_string(text);
}

json_t *cli_job_arguments(const char *base, char *const *words, int count, char *why,
                          size_t whylen)
{
    json_error_t jerr;
    json_t *args = base ? json_loads(base, 0, &jerr) : json_object();
    if (!json_is_object(args)) {
        snprintf(why, whylen, "--args is not a JSON object%s%s", base ? ": " : "",
                 base ? jerr.text : "");
        json_decref(args);
        return NULL;
    }
    for (int i = 0; i < count; i++) {
        const char *eq = strchr(words[i], '=');
        if (!eq || eq == words[i]) {
            snprintf(why, whylen, "expected KEY=VALUE, got \"%.100s\"", words[i]);
            json_decref(args);
            return NULL;
        }
        char *key = strndup(words[i], (size_t)(eq - words[i]));
        json_t *value = word_value(eq + 1);
        int rc = key && value ? json_object_set_new(args, key, value) : -1;
        free(key);
        if (rc < 0) {
            snprintf(why, whylen, "cannot use \"%.100s\"", words[i]);
            json_decref(args);
            return NULL;
        }
    }
    return args;
}

char *cli_read_word(const char *word)
{
    if (strcmp(word, "-") != 0)
        return strdup(word);
    /* read up to the first newline, refusing the line as soon as it passes MAX_STDIN (getline
     * would first take all of it, however long, into memory) */
    char *line = NULL;
    size_t len = 0, cap = 0;
    int c;
    while ((c = getchar()) != EOF && c != '\n') {
        if (len == MAX_STDIN) {
            free(line);
            return NULL;
        }
        if (len + 1 >= cap) {
            size_t grown_cap = cap ? cap * 2 : 4096;
            char *grown = realloc(line, grown_cap);
            if (!grown) {
                free(line);
                return NULL;
            }
            line = grown;
            cap = grown_cap;
        }
        line[len++] = (char)c;
    }
    if (ferror(stdin) || (c == EOF && len == 0) || (!line && !(line = malloc(1)))) {
        free(line);
        return NULL;
    }
    while (len > 0 && line[len - 1] == '\r')
        len--;
    line[len] = '\0';
    return line;
}
