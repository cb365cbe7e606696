/* fuzz_redis_reply.c - libFuzzer target for what the Redis store reads from the server
 * (store/redis_reply.h): the input is raw RESP bytes, parsed by hiredis's own reader exactly as a
 * connection would, then handed to the XREADGROUP, XAUTOCLAIM and re-read reply checks; the input is also
 * tried as a STORE_URL. Properties checked: a count is never above what was asked for; every entry
 * has a valid id; an entry with a job has a 36-character uid and a job length within the bound and
 * inside the reply; one described as too large has no job, non-negative measures and a uid that
 * is empty or 36 characters; the claim cursor is a valid id; a consumer listed for removal (XINFO CONSUMERS)
 * has a bounded name without NUL and is not this worker; a parsed URL has a host and a port in range.
 * The reader is bounded as the pool's connections are (redis_reader_bound): hiredis 0.14 would
 * otherwise allocate any element count a reply declares; the fuzzer found that with one line. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "store/redis_reply.h"

#define MAX 8
#define MAX_JOB 4096

static void check_entries(const struct redis_entry *e, int n)
{
    if (n > MAX)
        abort();
    for (int i = 0; i < n; i++) {
        if (!redis_entry_id_valid(e[i].id, strlen(e[i].id)))
            abort();
        if (e[i].job && (strlen(e[i].uid) != REDIS_UID_LEN || e[i].job_len == 0 ||
                         e[i].job_len > MAX_JOB))
            abort();
        if (e[i].oversize && (e[i].job || e[i].stored_bytes < 0 || e[i].stored_fields < 0 ||
                              (e[i].uid[0] && strlen(e[i].uid) != REDIS_UID_LEN)))
            abort();
        if (e[i].job) {   /* the job must be readable to its end (ASan checks the bounds) */
            volatile uint8_t sum = 0;
            for (size_t k = 0; k < e[i].job_len; k++)
                sum ^= (uint8_t)e[i].job[k];
            (void)sum;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    redisReader *reader = redisReaderCreate();
    if (!reader)
        return 0;
    redis_reader_bound(reader);    /* as every connection of the store's pool */
    if (redisReaderFeed(reader, (const char *)data, size) == REDIS_OK) {
        void *reply = NULL;
        int rounds = 0;
        while (rounds++ < 4 && redisReaderGetReply(reader, &reply) == REDIS_OK && reply) {
            struct redis_entry e[MAX];
            char err[256], next[REDIS_ENTRY_ID_MAX + 1];
            int n = redis_parse_read(reply, e, MAX, MAX_JOB, err, sizeof err);
            check_entries(e, n);
            n = redis_parse_autoclaim(reply, e, MAX, MAX_JOB, next, err, sizeof err);
            check_entries(e, n);
            if (n >= 0 && !redis_entry_id_valid(next, strlen(next)))
                abort();
            n = redis_parse_entries(reply, e, MAX, MAX_JOB, err, sizeof err);
            check_entries(e, n);
            n = redis_parse_reread(reply, e, MAX, MAX_JOB, err, sizeof err);
            check_entries(e, n);
            struct redis_consumer gone[MAX];
            n = redis_parse_idle_consumers(reply, "self", 1000, gone, MAX, err, sizeof err);
            if (n > MAX)
                abort();
            for (int i = 0; i < n; i++)   /* a listed name: not self, within bounds, no NUL */
                if (gone[i].len == 0 || gone[i].len > REDIS_CONSUMER_NAME_MAX ||
                    strlen(gone[i].name) != gone[i].len || strcmp(gone[i].name, "self") == 0)
                    abort();
            freeReplyObject(reply);
            reply = NULL;
        }
    }
    redisReaderFree(reader);

    char *url = malloc(size + 1);
    if (url) {
        memcpy(url, data, size);
        url[size] = '\0';
        struct redis_url u;
        char err[256];
        if (redis_url_parse(url, &u, err, sizeof err) == 0 &&
            (!u.host[0] || u.port < 1 || u.port > 65535 || u.db < 0))
            abort();
        free(url);
    }
    return 0;
}
