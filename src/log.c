/* log.c - levelled logging to stderr.
 *
 * One atomic level read on every call site (log_enabled), so a disabled debug line costs a load
 * and a compare. Each line is formatted into a stack buffer and written with one write(2): lines
 * from different threads never interleave. JSON mode writes {"time","level","msg"} objects, plus
 * "job_uid" and "kind" for lines about one job (log_job). */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static _Atomic int current_level = LOG_INFO;
static bool json_lines;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

int log_level_parse(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < 4; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    if (strcasecmp(name, "warning") == 0)
        return LOG_WARN;
    return -1;
}

const char *log_level_name(int level)
{
    return (level >= 0 && level < 4) ? level_names[level] : "info";
}

void log_init(int level, bool json)
{
    log_set_level(level);
    json_lines = json;
}

void log_set_level(int level)
{
    if (level >= LOG_DEBUG && level <= LOG_ERROR)
        atomic_store(&current_level, level);
}

int log_get_level(void)
{
    return atomic_load(&current_level);
}

bool log_enabled(int level)
{
    return level >= atomic_load(&current_level);
}

/* json_escape_into appends s to buf as JSON string contents; returns the new length. */
static size_t json_escape_into(char *buf, size_t len, size_t cap, const char *s)
{
    for (; *s && len + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf[len++] = '\\';
            buf[len++] = (char)c;
        } else if (c < 0x20) {
            len += (size_t)snprintf(buf + len, cap - len, "\\u%04x", c);
        } else {
            buf[len++] = (char)c;
        }
    }
    return len;
}

/* log_write formats one line (with the job's uid and kind when given) and writes it. */
static void log_write(int level, const char *uid, const char *kind, const char *fmt, va_list ap)
{
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[40];
    size_t w = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + w, sizeof when - w, ".%03ldZ", ts.tv_nsec / 1000000);

    char line[4096];
    size_t len;
    if (json_lines) {
        len = (size_t)snprintf(line, sizeof line, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"", when,
                               log_level_name(level));
        len = json_escape_into(line, len, sizeof line - 300, msg);
        if (uid) {
            len += (size_t)snprintf(line + len, sizeof line - len, "\",\"job_uid\":\"");
            len = json_escape_into(line, len, sizeof line - 200, uid);
        }
        if (kind) {
            len += (size_t)snprintf(line + len, sizeof line - len, "\",\"kind\":\"");
            len = json_escape_into(line, len, sizeof line - 100, kind);
        }
        len += (size_t)snprintf(line + len, sizeof line - len, "\"}\n");
    } else {
        if (uid || kind)
            len = (size_t)snprintf(line, sizeof line, "%s %-5s job %.64s (%.64s) %s\n", when,
                                   log_level_name(level), uid ? uid : "-", kind ? kind : "-", msg);
        else
            len = (size_t)snprintf(line, sizeof line, "%s %-5s %s\n", when, log_level_name(level),
                                   msg);
        if (len >= sizeof line) {
            len = sizeof line - 1;
            line[len - 1] = '\n';
        }
    }
    ssize_t n = write(STDERR_FILENO, line, len);
    (void)n;
}

void log_msg(int level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    log_write(level, NULL, NULL, fmt, ap);
    va_end(ap);
}

void log_job(int level, const char *uid, const char *kind, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    log_write(level, uid, kind, fmt, ap);
    va_end(ap);
}
