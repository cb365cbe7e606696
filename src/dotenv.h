/* dotenv.h - parser for .env files (godotenv syntax, core-protocol.md 9.1).
 *
 * KEY=VALUE or KEY: VALUE, optional "export " prefix, '#' comment lines, names of letters, digits,
 * '_' and '.'; unquoted values trimmed and cut at " #"; $NAME and ${NAME} expanded from keys defined
 * earlier in the same file; double quotes expand \n, \r, \", \\ and variables; single quotes are
 * literal; CRLF accepted. The parser only reads memory: fuzzable, no I/O. */
#ifndef TW_DOTENV_H
#define TW_DOTENV_H

#include <stddef.h>

/* Bounds: larger input is refused, never truncated. */
#define DOTENV_MAX_FILE  (1024u * 1024u)      /* whole text */
#define DOTENV_MAX_LINE  (64u * 1024u)        /* one physical line, without its newline */
#define DOTENV_MAX_VALUE (1024u * 1024u)      /* one value after expansion */
#define DOTENV_MAX_TOTAL (4u * 1024u * 1024u) /* all values of the text after expansion */
#define DOTENV_MAX_ENTRIES 10000u              /* assignments in one text */

/* Called once per assignment in file order; returns 0 to go on, non-zero to stop. */
typedef int (*dotenv_fn)(const char *key, const char *value, void *ctx);

/* dotenv_parse parses text[0..len). Returns 0, or -1 with "line N: <reason>" in err (a text over
 * DOTENV_MAX_FILE gives a reason without a line). A parse error means nothing is delivered (the
 * callback is only called once the whole text parsed). When the callback stops, the result is -1
 * with "line N: refused by the caller" naming the line of that assignment. */
int dotenv_parse(const char *text, size_t len, dotenv_fn fn, void *ctx, char *err, size_t errlen);

#endif
