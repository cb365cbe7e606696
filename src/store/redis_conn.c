/* redis_conn.c - the connection pool and the reconnect back-off (see redis_conn.h). */
#include "store/redis_conn.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "log.h"
#include "util/crypto.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

struct slot {
    pthread_mutex_t lock;
    redisContext *c;
};

struct redis_pool {
    struct redis_url url;
    int feeder_timeout_ms;
    struct slot slots[REDIS_SLOTS];
    unsigned next_shared;            /* round-robin start for REDIS_SLOT_ANY */
    pthread_mutex_t state_lock;      /* guards what follows */
    long long retry_at_ms;           /* no connection attempt before this (monotonic) */
    unsigned backoff_ms;
    bool down;                       /* the last attempt failed */
    char last_error[256];
};

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

struct redis_pool *redis_pool_new(const struct redis_url *url, int feeder_timeout_ms)
{
    struct redis_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->url = *url;
    p->feeder_timeout_ms = feeder_timeout_ms;
    for (size_t i = 0; i < REDIS_SLOTS; i++)
        pthread_mutex_init(&p->slots[i].lock, NULL);
    pthread_mutex_init(&p->state_lock, NULL);
    return p;
}

void redis_pool_free(struct redis_pool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < REDIS_SLOTS; i++) {
        if (p->slots[i].c)
            redisFree(p->slots[i].c);
        pthread_mutex_destroy(&p->slots[i].lock);
    }
    pthread_mutex_destroy(&p->state_lock);
    crypto_wipe(&p->url, sizeof p->url);
    free(p);
}

/* note_failure records why the server cannot be used and arms the back-off. */
static void note_failure(struct redis_pool *p, const char *what, const char *why)
{
    pthread_mutex_lock(&p->state_lock);
    bool was_down = p->down;
    snprintf(p->last_error, sizeof p->last_error, "redis %.64s:%d %.32s: %.120s", p->url.host, p->url.port,
             what, why);
    p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (p->backoff_ms > BACKOFF_MAX_MS)
        p->backoff_ms = BACKOFF_MAX_MS;
    p->retry_at_ms = now_ms() + p->backoff_ms;
    p->down = true;
    char msg[sizeof p->last_error];
    memcpy(msg, p->last_error, sizeof msg);
    pthread_mutex_unlock(&p->state_lock);
    if (!was_down)
        log_error("store: %s; reconnecting with back-off", msg);
}

static void note_success(struct redis_pool *p)
{
    pthread_mutex_lock(&p->state_lock);
    bool was_down = p->down;
    p->down = false;
    p->backoff_ms = 0;
    p->retry_at_ms = 0;
    pthread_mutex_unlock(&p->state_lock);
    if (was_down)
        log_info("store: redis %s:%d reachable again", p->url.host, p->url.port);
}

/* may_connect: false (reason filled) while a back-off runs. */
static bool may_connect(struct redis_pool *p, char *reason, size_t reasonlen)
{
    pthread_mutex_lock(&p->state_lock);
    bool ok = !p->down || now_ms() >= p->retry_at_ms;
    if (!ok)
        snprintf(reason, reasonlen, "%s (retrying)", p->last_error);
    pthread_mutex_unlock(&p->state_lock);
    return ok;
}

static int handshake(struct redis_pool *p, redisContext *c, char *why, size_t whylen)
{
    redisReply *r = NULL;
    if (p->url.password[0]) {
        if (p->url.user[0])
            r = redisCommand(c, "AUTH %s %s", p->url.user, p->url.password);
        else
            r = redisCommand(c, "AUTH %s", p->url.password);
        if (!redis_reply_ok(r, -1)) {
            snprintf(why, whylen, "AUTH failed: %.120s", r ? r->str : c->errstr);
            freeReplyObject(r);
            return -1;
        }
        freeReplyObject(r);
    }
    if (p->url.db) {
        r = redisCommand(c, "SELECT %d", p->url.db);
        if (!redis_reply_ok(r, -1)) {
            snprintf(why, whylen, "SELECT %d failed: %.120s", p->url.db, r ? r->str : c->errstr);
            freeReplyObject(r);
            return -1;
        }
        freeReplyObject(r);
    }
    return 0;
}

/* connect_slot gives the slot a working context (caller holds the slot's lock). */
static int connect_slot(struct redis_pool *p, size_t i, char *reason, size_t reasonlen)
{
    struct slot *s = &p->slots[i];
    if (s->c && !s->c->err)
        return 0;
    if (s->c) {
        redisFree(s->c);
        s->c = NULL;
    }
    if (!may_connect(p, reason, reasonlen))
        return -1;
    struct timeval connect_tv = { REDIS_COMMAND_TIMEOUT_MS / 1000, 0 };
    redisContext *c = redisConnectWithTimeout(p->url.host, p->url.port, connect_tv);
    char why[160];
    if (!c || c->err) {
        snprintf(why, sizeof why, "%s", c ? c->errstr : "out of memory");
        if (c)
            redisFree(c);
        note_failure(p, "unreachable", why);
        snprintf(reason, reasonlen, "redis %.64s:%d unreachable: %.120s", p->url.host, p->url.port, why);
        return -1;
    }
    redis_reader_bound(c->reader);
    int ms = i == REDIS_SLOT_FEEDER ? p->feeder_timeout_ms : REDIS_COMMAND_TIMEOUT_MS;
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    if (redisSetTimeout(c, tv) != REDIS_OK || redisEnableKeepAlive(c) != REDIS_OK ||
        handshake(p, c, why, sizeof why) < 0) {
        if (c->err)
            snprintf(why, sizeof why, "%s", c->errstr);
        redisFree(c);
        note_failure(p, "refused the connection", why);
        snprintf(reason, reasonlen, "redis %.64s:%d refused the connection: %.120s", p->url.host,
                 p->url.port, why);
        return -1;
    }
    s->c = c;
    note_success(p);
    return 0;
}

/* lock_slot picks and locks a slot: a free shared one for REDIS_SLOT_ANY. */
static size_t lock_slot(struct redis_pool *p, int slot)
{
    if (slot >= 0) {
        pthread_mutex_lock(&p->slots[slot].lock);
        return (size_t)slot;
    }
    unsigned start = __atomic_fetch_add(&p->next_shared, 1, __ATOMIC_RELAXED);
    for (unsigned k = 0; k < REDIS_POOL_SHARED; k++) {
        size_t i = (start + k) % REDIS_POOL_SHARED;
        if (pthread_mutex_trylock(&p->slots[i].lock) == 0)
            return i;
    }
    size_t i = start % REDIS_POOL_SHARED;
    pthread_mutex_lock(&p->slots[i].lock);
    return i;
}

int redis_pool_run(struct redis_pool *p, int slot, size_t n, const struct redis_cmd *cmds,
                   redisReply **replies, char *reason, size_t reasonlen)
{
    return redis_pool_run_sent(p, slot, n, cmds, replies, reason, reasonlen, NULL);
}

int redis_pool_run_sent(struct redis_pool *p, int slot, size_t n, const struct redis_cmd *cmds,
                        redisReply **replies, char *reason, size_t reasonlen, bool *sent)
{
    for (size_t k = 0; k < n; k++)
        replies[k] = NULL;
    if (sent)
        *sent = false;
    size_t i = lock_slot(p, slot);
    struct slot *s = &p->slots[i];
    int rc = connect_slot(p, i, reason, reasonlen);
    if (rc == 0) {
        if (sent)
            *sent = true;   /* from here on the server may have received the commands */
        for (size_t k = 0; k < n && rc == 0; k++)
            if (redisAppendCommandArgv(s->c, cmds[k].argc, cmds[k].argv, cmds[k].lens) != REDIS_OK)
                rc = -1;
        for (size_t k = 0; k < n && rc == 0; k++) {
            void *r = NULL;
            if (redisGetReply(s->c, &r) != REDIS_OK || !r)
                rc = -1;
            replies[k] = r;
        }
        if (rc < 0) {
            char why[160];
            snprintf(why, sizeof why, "%s", s->c->err ? s->c->errstr : "out of memory");
            snprintf(reason, reasonlen, "redis %.64s:%d connection failed: %.120s", p->url.host,
                     p->url.port, why);
            note_failure(p, "connection failed", why);
            redisFree(s->c);
            s->c = NULL;
            for (size_t k = 0; k < n; k++) {
                freeReplyObject(replies[k]);
                replies[k] = NULL;
            }
        }
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

redisReply *redis_pool_command(struct redis_pool *p, char *reason, size_t reasonlen, int argc,
                               const char **argv, const size_t *lens)
{
    return redis_pool_command_sent(p, reason, reasonlen, argc, argv, lens, NULL);
}

redisReply *redis_pool_command_sent(struct redis_pool *p, char *reason, size_t reasonlen, int argc,
                                    const char **argv, const size_t *lens, bool *sent)
{
    struct redis_cmd cmd = { argc, argv, lens };
    redisReply *r = NULL;
    return redis_pool_run_sent(p, REDIS_SLOT_ANY, 1, &cmd, &r, reason, reasonlen, sent) == 0 ? r
                                                                                            : NULL;
}

bool redis_pool_may_connect(struct redis_pool *p, long long *wait_ms)
{
    pthread_mutex_lock(&p->state_lock);
    long long left = p->down ? p->retry_at_ms - now_ms() : 0;
    pthread_mutex_unlock(&p->state_lock);
    *wait_ms = left > 0 ? left : 0;
    return left <= 0;
}

int redis_pool_health(struct redis_pool *p, char *reason, size_t reasonlen)
{
    const char *argv[] = { "PING" };
    size_t lens[] = { 4 };
    redisReply *r = redis_pool_command(p, reason, reasonlen, 1, argv, lens);
    if (!r)
        return -1;
    int rc = 0;
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(reason, reasonlen, "redis %.64s:%d: %.120s", p->url.host, p->url.port, r->str);
        rc = -1;
    }
    freeReplyObject(r);
    return rc;
}
