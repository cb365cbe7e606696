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
    struct redis_reply_budget budget;   /* what c's replies may take once built (exchange) */
    unsigned long failures_seen;     /* the pool's failure count when c was opened */
};

struct redis_pool {
    struct redis_url url;
    int feeder_timeout_ms;
    size_t reply_max;                /* bytes the replies of one round trip may take together */
    struct slot slots[REDIS_SLOTS];
    unsigned next_shared;            /* round-robin start for REDIS_SLOT_ANY */
    pthread_mutex_t state_lock;      /* guards what follows */
    long long retry_at_ms;           /* no connection attempt before this (monotonic) */
    unsigned backoff_ms;
    unsigned long failures;          /* connection failures so far (atomic) */
    bool down;                       /* the last attempt failed */
    char last_error[256];
};

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

struct redis_pool *redis_pool_new(const struct redis_url *url, int feeder_timeout_ms,
                                  size_t reply_max)
{
    struct redis_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->url = *url;
    p->feeder_timeout_ms = feeder_timeout_ms;
    p->reply_max = reply_max;
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
    __atomic_add_fetch(&p->failures, 1, __ATOMIC_RELEASE);   /* read without the lock */
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

/* What the replies of a round trip may take once built beyond its bound on the bytes read: the
 * objects around the texts (a result read within its announced length is a few replies too). */
#define REPLY_OBJECTS_SLACK (64 * 1024)

/* exchange sends n commands on c and reads their n replies into replies[] (all NULL on entry),
 * as redisGetReply would, but counting every byte read for them: once more than reply_max have
 * come without the replies being complete, it gives up. What the replies take once built is
 * bounded too (c's reader charges its budget, redis_reply.h): reply_max + REPLY_OBJECTS_SLACK,
 * whatever the number of elements those bytes declare. The socket timeouts bound each read as
 * before. Returns 0, or -1 with why (c is then unusable; replies already read stay in replies[]
 * for the caller to free). */
static int exchange(redisContext *c, size_t n, const struct redis_cmd *cmds, redisReply **replies,
                    size_t reply_max, char *why, size_t whylen)
{
    struct redis_reply_budget *budget = c->reader->privdata;
    if (budget)
        *budget = (struct redis_reply_budget){ .max = reply_max + REPLY_OBJECTS_SLACK };
    for (size_t k = 0; k < n; k++)
        if (redisAppendCommandArgv(c, cmds[k].argc, cmds[k].argv, cmds[k].lens) != REDIS_OK)
            goto failed;
    int written = 0;
    do
        if (redisBufferWrite(c, &written) != REDIS_OK)
            goto failed;
    while (!written);
    size_t received = 0;
    for (size_t k = 0; k < n; k++) {
        void *r = NULL;
        if (redisGetReplyFromReader(c, &r) != REDIS_OK)
            goto failed;
        while (!r) {
            size_t before = c->reader->len;   /* redisBufferRead appends what it read */
            if (redisBufferRead(c) != REDIS_OK)
                goto failed;
            received += c->reader->len - before;
            if (received > reply_max) {
                snprintf(why, whylen, "reply larger than %zu bytes (more than any legitimate "
                         "answer): dropped", reply_max);
                return -1;
            }
            if (redisGetReplyFromReader(c, &r) != REDIS_OK)
                goto failed;
        }
        replies[k] = r;
    }
    return 0;
failed:
    if (budget && budget->exceeded)
        snprintf(why, whylen, "reply larger than %zu bytes once built in memory (more than "
                 "any legitimate answer): dropped", budget->max);
    else
        snprintf(why, whylen, "%s", c->err ? c->errstr : "out of memory");
    return -1;
}

/* command runs one command of at most 4 NUL-terminated arguments on c, within the pool's reply
 * bound (the handshake's AUTH and SELECT). */
static redisReply *command(struct redis_pool *p, redisContext *c, int argc, const char **argv,
                           char *why, size_t whylen)
{
    size_t lens[4];
    for (int i = 0; i < argc && i < 4; i++)
        lens[i] = strlen(argv[i]);
    struct redis_cmd cmd = { argc, argv, lens };
    redisReply *r = NULL;
    if (exchange(c, 1, &cmd, &r, p->reply_max, why, whylen) < 0) {
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

static int handshake(struct redis_pool *p, redisContext *c, char *why, size_t whylen)
{
    char fail[160];
    redisReply *r = NULL;
    if (p->url.password[0]) {
        const char *with_user[] = { "AUTH", p->url.user, p->url.password };
        const char *without[] = { "AUTH", p->url.password };
        r = p->url.user[0] ? command(p, c, 3, with_user, fail, sizeof fail)
                           : command(p, c, 2, without, fail, sizeof fail);
        if (!redis_reply_ok(r, -1)) {
            snprintf(why, whylen, "AUTH failed: %.120s", r ? r->str : fail);
            freeReplyObject(r);
            return -1;
        }
        freeReplyObject(r);
    }
    if (p->url.db) {
        char db[16];
        snprintf(db, sizeof db, "%d", p->url.db);
        const char *sel[] = { "SELECT", db };
        r = command(p, c, 2, sel, fail, sizeof fail);
        if (!redis_reply_ok(r, -1)) {
            snprintf(why, whylen, "SELECT %d failed: %.120s", p->url.db, r ? r->str : fail);
            freeReplyObject(r);
            return -1;
        }
        freeReplyObject(r);
    }
    return 0;
}

/* connect_slot gives the slot a working context (caller holds the slot's lock). A context opened
 * before the pool's latest failure is not used: when one connection fails the server has most
 * likely restarted or dropped them all, and trying each in turn would fail each request once more
 * and double the back-off each time; a new connection costs a round trip. */
static int connect_slot(struct redis_pool *p, size_t i, char *reason, size_t reasonlen)
{
    struct slot *s = &p->slots[i];
    unsigned long failures = __atomic_load_n(&p->failures, __ATOMIC_ACQUIRE);
    if (s->c && !s->c->err && s->failures_seen == failures)
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
    redis_reader_budget(c->reader, &s->budget);
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
    s->failures_seen = failures;
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

/* run sends n commands on one connection of slot and reads their replies within reply_max bytes
 * (redis_pool_run_sent, redis_pool_run_within). */
static int run(struct redis_pool *p, int slot, size_t n, const struct redis_cmd *cmds,
               size_t reply_max, redisReply **replies, char *reason, size_t reasonlen, bool *sent)
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
        char why[160];
        rc = exchange(s->c, n, cmds, replies, reply_max, why, sizeof why);
        if (rc < 0) {
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

int redis_pool_run(struct redis_pool *p, int slot, size_t n, const struct redis_cmd *cmds,
                   redisReply **replies, char *reason, size_t reasonlen)
{
    return run(p, slot, n, cmds, p->reply_max, replies, reason, reasonlen, NULL);
}

int redis_pool_run_sent(struct redis_pool *p, int slot, size_t n, const struct redis_cmd *cmds,
                        redisReply **replies, char *reason, size_t reasonlen, bool *sent)
{
    return run(p, slot, n, cmds, p->reply_max, replies, reason, reasonlen, sent);
}

int redis_pool_run_within(struct redis_pool *p, int slot, size_t n, const struct redis_cmd *cmds,
                          size_t reply_max, redisReply **replies, char *reason, size_t reasonlen)
{
    return run(p, slot, n, cmds, reply_max < p->reply_max ? reply_max : p->reply_max, replies,
               reason, reasonlen, NULL);
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
