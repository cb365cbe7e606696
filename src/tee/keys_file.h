/* keys_file.h - SEALING_KEYS_FILE: the ring keys a standalone fleet shares.
 *
 * A text file of 32-byte keys, one per line, newest first, each as 64 hex digits or as base64
 * (44 characters with padding). Blank lines and lines starting with '#' are skipped. The file must
 * be a regular file readable by its owner only (mode 0600 or 0400): anything else is refused, as
 * are malformed, duplicate or all-zero keys and more than max keys. Generate one with
 *   (umask 077; openssl rand -hex 32 > sealing-keys) */
#ifndef TW_KEYS_FILE_H
#define TW_KEYS_FILE_H

#include <stddef.h>
#include <stdint.h>

#define KEYS_FILE_MAX_BYTES 4096

/* keys_file_load reads path into keys (newest first). Returns the number of keys (>= 1), or -1
 * with err naming the file and the line. keys is wiped on failure. */
int keys_file_load(const char *path, uint8_t (*keys)[32], size_t max, char *err, size_t errlen);

/* keys_file_parse parses the text of such a file (tests; keys_file_load after its checks). */
int keys_file_parse(const char *text, size_t len, uint8_t (*keys)[32], size_t max, char *err,
                    size_t errlen);

#endif
