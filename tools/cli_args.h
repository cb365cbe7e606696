/* cli_args.h - turning command-line words into job JSON for tee-worker-cli. */
#ifndef TW_CLI_ARGS_H
#define TW_CLI_ARGS_H

#include <jansson.h>

/* cli_job_arguments builds the arguments object from `base` (a JSON object text, or NULL) and
 * KEY=VALUE words: VALUE is taken as JSON when it parses as JSON (2, true, [1,2], {"a":1},
 * "quoted"), else as a string (https://example.com). Returns a new object, or NULL with why. */
json_t *cli_job_arguments(const char *base, char *const *words, int count, char *why,
                          size_t whylen);

/* cli_read_word returns word, or for "-" the first line of standard input (trailing newline
 * removed, at most 64 MiB); the result is malloc'd. NULL on error. */
char *cli_read_word(const char *word);

#endif
