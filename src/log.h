/* log.h - levelled logging to stderr, text or JSON lines; the level can change at run time.
 *
 * Secrets never go through here. Lines are written with one write(2) so threads do not interleave. */
#ifndef TW_LOG_H
#define TW_LOG_H

#include <stdbool.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };

/* log_level_parse maps "debug", "info", "warn"/"warning", "error" (any case) to a level. Returns the
 * level, or -1 when name is not one of those. */
int log_level_parse(const char *name);
const char *log_level_name(int level);

void log_init(int level, bool json);
void log_set_level(int level);
int log_get_level(void);
bool log_enabled(int level);

__attribute__((format(printf, 2, 3)))
void log_msg(int level, const char *fmt, ...);

/* log_job writes a line about one job: in JSON mode with members "job_uid" and "kind" after "msg";
 * in text mode prefixed "job <uid> (<kind>) ". uid and kind may be NULL. */
__attribute__((format(printf, 4, 5)))
void log_job(int level, const char *uid, const char *kind, const char *fmt, ...);

#define log_debug(...) do { if (log_enabled(LOG_DEBUG)) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
