/* log.c - levelled logging to stderr.
 *
 * One atomic level read on every call site (log_enabled), so a disabled debug line costs a load
 * and a compare. Each line is formatted into a stack buffer and written with one write(2): lines
 * from different threads never interleave. JSON mode writes {"time","level","msg"} objects, plus
 * "job_uid" and "kind" for lines about one job (log_job). Messages often carry text from requests
 * or upstream answers (URLs, error bodies), so in both formats control characters and invalid
 * UTF-8 are escaped: one call is always one line, and nothing reaches a terminal as a control
 * sequence. */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "util/utf8.h"

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

/* escape_into appends at most max bytes of s to buf[len..cap) and returns the new length. What
 * could forge a line or drive a terminal is escaped: control characters (C0, DEL and the C1 range
 * U+0080..U+009F), and bytes that are not valid UTF-8 (\ufffd in JSON, \xNN in text). In JSON,
 * '"' and '\\' are escaped too. It stops on a character boundary when buf is full. */
static size_t escape_into(char *buf, size_t len, size_t cap, const char *s, size_t max, bool json)
{
    size_t left = strnlen(s, max);

    while (left > 0 && len + 8 < cap) {
        unsigned char c = (unsigned char)*s;
        size_t n = utf8_char_len(s, left);
        unsigned code = n == 1 ? c : n == 2 ? (unsigned)((c & 0x1f) << 6 | (s[1] & 0x3f)) : 0x100;
        if (n == 0) {
            len += (size_t)snprintf(buf + len, cap - len, json ? "\\ufffd" : "\\x%02x", c);
            n = 1;
        } else if (code < 0x20 && (c == '\n' || c == '\r' || c == '\t')) {
            buf[len++] = '\\';
            buf[len++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        } else if (code < 0x20 || (code >= 0x7f && code < 0xa0)) {
            len += (size_t)snprintf(buf + len, cap - len, json ? "\\u%04x" : "\\x%02x", code);
        } else if (json && (c == '"' || c == '\\')) {
            buf[len++] = '\\';
            buf[len++] = (char)c;
        } else {
            memcpy(buf + len, s, n);
            len += n;
        }
        s += n;
        left -= n;
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
        len = escape_into(line, len, sizeof line - 300, msg, sizeof msg, true);
        if (uid) {
            len += (size_t)snprintf(line + len, sizeof line - len, "\",\"job_uid\":\"");
            len = escape_into(line, len, sizeof line - 200, uid, 64, true);
        }
        if (kind) {
            len += (size_t)snprintf(line + len, sizeof line - len, "\",\"kind\":\"");
            len = escape_into(line, len, sizeof line - 100, kind, 64, true);
        }
        len += (size_t)snprintf(line + len, sizeof line - len, "\"}\n");
    } else {
        len = (size_t)snprintf(line, sizeof line, "%s %-5s ", when, log_level_name(level));
        if (uid || kind) {
            len += (size_t)snprintf(line + len, sizeof line - len, "job ");
            len = escape_into(line, len, sizeof line - 200, uid ? uid : "-", 64, false);
            len += (size_t)snprintf(line + len, sizeof line - len, " (");
            len = escape_into(line, len, sizeof line - 100, kind ? kind : "-", 64, false);
            len += (size_t)snprintf(line + len, sizeof line - len, ") ");
        }
        len = escape_into(line, len, sizeof line - 1, msg, sizeof msg, false);
        line[len++] = '\n';
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
