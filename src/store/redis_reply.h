/* redis_reply.h - the pure parts of the Redis backend: STORE_URL parsing, key names, and checks of
 * what the server answers (a reply is untrusted: types, counts and sizes are checked before use).
 * No I/O here, so the unit tests build replies by hand. */
#ifndef TW_REDIS_REPLY_H
#define TW_REDIS_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

#define REDIS_ENTRY_ID_MAX 48          /* "<ms>-<seq>", two 64-bit numbers */
#define REDIS_UID_LEN 36
#define REDIS_KEY_MAX 320
#define REDIS_PREFIX_MAX 128
#define REDIS_STREAM "jobs"
#define REDIS_GROUP "workers"

struct redis_url {
    char host[256];
    int port;                /* 6379 by default */
    int db;                  /* 0 by default */
    char user[128];          /* ACL user, "" = default user */
    char password[256];      /* "" = no AUTH */
};

/* redis_url_parse reads redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]. rediss:// is refused with the
 * reason (this hiredis has no TLS). Returns 0, or -1 with err (the password is never quoted). */
int redis_url_parse(const char *url, struct redis_url *out, char *err, size_t errlen);

/* redis_key writes prefix + kind + id (id may be NULL) to out. Returns 0, or -1 when too long. */
int redis_key(char *out, size_t outlen, const char *prefix, const char *kind, const char *id);

/* redis_prefix_valid: 1..REDIS_PREFIX_MAX printable ASCII characters without spaces. */
bool redis_prefix_valid(const char *prefix);

/* One stream entry handed to a worker. */
struct redis_entry {
    char id[REDIS_ENTRY_ID_MAX + 1];
    char uid[REDIS_UID_LEN + 1];  /* "" when missing or not a UUID */
    const char *job;         /* points into the reply; NULL for an entry deleted meanwhile */
    size_t job_len;
    /* An entry too large to be read (redis_parse_reread only; job NULL): what the server measured
     * of it, its fields' bytes (names and values) and their count. */
    bool oversize;
    long long stored_bytes;
    long long stored_fields;
};

/* redis_entry_id_valid: "<digits>-<digits>", at most REDIS_ENTRY_ID_MAX characters. */
bool redis_entry_id_valid(const char *id, size_t len);

/* redis_parse_entries reads an entry list ([[id, [field, value, ...]], ...]) into out (up to max).
 * Entries whose fields are missing or malformed are returned with job == NULL and uid "" so the
 * caller can acknowledge them away; a malformed id or a list longer than max is an error.
 * max_job bounds the job text. Returns the number of entries or -1 with err. */
int redis_parse_entries(const redisReply *list, struct redis_entry *out, size_t max,
                        size_t max_job, char *err, size_t errlen);

/* redis_parse_reread reads an entry list as redis_parse_entries does, where an entry may also be
 * [id, nil, bytes, fields, uid]: one the server found too large to send (the store's reread
 * script), returned with oversize set, its measures, and its uid when that is a UUID ("" else). */
int redis_parse_reread(const redisReply *list, struct redis_entry *out, size_t max,
                       size_t max_job, char *err, size_t errlen);

/* redis_parse_read reads an XREADGROUP reply (nil on timeout, or [[stream, entries]]). */
int redis_parse_read(const redisReply *r, struct redis_entry *out, size_t max, size_t max_job,
                     char *err, size_t errlen);

/* redis_parse_autoclaim reads an XAUTOCLAIM reply ([next-id, entries, deleted-ids] in Redis 7,
 * [next-id, entries] in 6.2) and copies the next start id to next. */
int redis_parse_autoclaim(const redisReply *r, struct redis_entry *out, size_t max,
                          size_t max_job, char next[REDIS_ENTRY_ID_MAX + 1], char *err,
                          size_t errlen);

/* A consumer of the group that may be removed (redis_parse_idle_consumers). */
#define REDIS_CONSUMER_NAME_MAX 64     /* worker ids are 36; longer names are left alone */
struct redis_consumer {
    char name[REDIS_CONSUMER_NAME_MAX + 1];
    size_t len;
};

/* redis_parse_idle_consumers reads an XINFO CONSUMERS reply (an array with one [field, value, ...]
 * array per consumer: name, pending, idle and, from Redis 7.2, inactive) and lists in out (up to
 * max) the consumers that may be removed: no pending entries, idle at least idle_min_ms, not named
 * self. A consumer whose description is malformed (a field missing, repeated or of the wrong type,
 * a negative count, a name with NUL or too long) is not listed. Returns the number listed, or -1
 * with err when the reply is not an array. */
int redis_parse_idle_consumers(const redisReply *r, const char *self, long long idle_min_ms,
                               struct redis_consumer *out, size_t max, char *err, size_t errlen);

/* REDIS_REPLY_ARRAY_MAX bounds the element count of any array a reply may declare. hiredis 0.14
 * allocates the element table as soon as it reads "*<count>", before any element arrives, so
 * without a bound a hostile or spoofed server (the connection is plain TCP) could make the worker
 * allocate gigabytes with one line. Our largest legitimate reply is the EXEC of a full result batch
 * (a few hundred elements). */
#define REDIS_REPLY_ARRAY_MAX 65536

/* redis_reader_bound makes reader refuse (as hiredis's out-of-memory error, which fails the
 * connection) any array declaring more than REDIS_REPLY_ARRAY_MAX elements; everything else is
 * built by hiredis's own functions. Bulk strings are allocated only once all their bytes have
 * arrived, but the reader buffers those bytes whatever length was declared: the connection pool
 * bounds what it reads per round trip (redis_conn.h). */
void redis_reader_bound(redisReader *reader);

/* What the objects a bounded reader builds may take in memory. Counting the bytes read is not
 * enough: each element of a reply is a separate allocation of some 64 bytes (and a string's
 * another), so a reply of tiny elements ("+\r\n", 3 bytes each) takes some 30 times its size
 * once built. Each object is charged its allocations, with their overhead (REDIS_OBJECT_COST);
 * one that would take `used` past `max` is refused (the reader fails as out of memory) and
 * `exceeded` is set. The caller resets used and exceeded for each round trip. */
struct redis_reply_budget {
    size_t max;
    size_t used;
    bool exceeded;
};
#define REDIS_OBJECT_COST 80   /* a redisReply (48 bytes) and malloc's overhead, rounded up */

/* redis_reader_budget charges what reader (bounded by redis_reader_bound) builds to budget, which
 * must outlive it; NULL stops the charging. */
void redis_reader_budget(redisReader *reader, struct redis_reply_budget *budget);

/* redis_reply_ok: the reply exists, is not an error, and (when type >= 0) has that type. */
bool redis_reply_ok(const redisReply *r, int type);

#endif
