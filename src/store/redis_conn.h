/* redis_conn.h - connections to the Redis server, and the one place that reconnects.
 *
 * A pool of REDIS_POOL_SHARED connections for short commands (any thread takes a free one), plus
 * dedicated slots for the threads that block (the job feeder's XREADGROUP ... BLOCK) or write in
 * batches. Each slot holds at most one hiredis context behind a mutex. A context that failed at the
 * connection level (refused, reset, timeout) is dropped; the next use reconnects. Reconnecting
 * backs off (100 ms doubling to 5 s) while the server stays unreachable: during a back-off, callers
 * fail at once with the last reason, so a dead server costs nothing per request. Every connection
 * sends AUTH (when the URL has a password) and SELECT (db != 0) before use, and has socket timeouts
 * (commands never wait forever).
 *
 * What a connection reads is bounded: the server is outside the enclave and may be hostile, and
 * hiredis 0.14 buffers a bulk string (or fills an array) of whatever size the server declares.
 * Every byte read for the replies of one round trip is counted; beyond the pool's reply_max the
 * connection fails (logged, dropped, reconnected with back-off, as for any I/O error), so a
 * connection never holds much more than reply_max bytes of reply (redis_reader_bound bounds the
 * element tables arrays declare). The replies built from those bytes are bounded as well: a
 * reply of many tiny elements takes far more memory than it has bytes, and the objects of one
 * round trip may take reply_max + 64 KiB together (redis_reader_budget). */
#ifndef TW_REDIS_CONN_H
#define TW_REDIS_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

#include "store/redis_reply.h"

#define REDIS_POOL_SHARED 4
#define REDIS_SLOT_ANY (-1)
#define REDIS_SLOT_FEEDER REDIS_POOL_SHARED
#define REDIS_SLOT_WRITER (REDIS_POOL_SHARED + 1)
#define REDIS_SLOTS (REDIS_POOL_SHARED + 2)
#define REDIS_COMMAND_TIMEOUT_MS 3000

struct redis_pool;

/* redis_pool_new copies url; feeder_timeout_ms is the socket timeout of the feeder slot (longer
 * than its BLOCK time); reply_max bounds the bytes the replies of one round trip may take together
 * (the largest legitimate answer plus a margin). Nothing is connected yet. */
struct redis_pool *redis_pool_new(const struct redis_url *url, int feeder_timeout_ms,
                                  size_t reply_max);
void redis_pool_free(struct redis_pool *p);

/* A command: argc arguments with lengths. */
struct redis_cmd {
    int argc;
    const char **argv;
    const size_t *lens;
};

/* redis_pool_run sends n commands on one connection of slot (REDIS_SLOT_ANY = a free shared one)
 * in one round trip and reads the n replies into replies[] (caller frees each with
 * freeReplyObject). Returns 0, or -1 with reason when the server is unreachable or the connection
 * failed (replies[] all NULL). Error replies are replies: the caller checks them. */
int redis_pool_run(struct redis_pool *p, int slot, size_t n, const struct redis_cmd *cmds,
                   redisReply **replies, char *reason, size_t reasonlen);

/* redis_pool_run_sent is redis_pool_run that also says, on failure, whether the commands may
 * have reached the server (*sent true: the connection failed after they were written, or while
 * they were being written, so the server may have run them without its reply coming back). */
int redis_pool_run_sent(struct redis_pool *p, int slot, size_t n, const struct redis_cmd *cmds,
                        redisReply **replies, char *reason, size_t reasonlen, bool *sent);

/* redis_pool_run_within is redis_pool_run with a tighter bound for this round trip: its replies
 * may take reply_max bytes together (at most the pool's bound), beyond which the connection fails
 * as for any reply over the pool's bound. For an answer whose size the caller learnt first and
 * counted against a budget (a result read for /job/status), so that a server that sends more
 * than it announced costs no more than what was counted. */
int redis_pool_run_within(struct redis_pool *p, int slot, size_t n, const struct redis_cmd *cmds,
                          size_t reply_max, redisReply **replies, char *reason, size_t reasonlen);

/* redis_pool_command: one command on a shared connection; NULL with reason on failure. */
redisReply *redis_pool_command(struct redis_pool *p, char *reason, size_t reasonlen, int argc,
                               const char **argv, const size_t *lens);
redisReply *redis_pool_command_sent(struct redis_pool *p, char *reason, size_t reasonlen, int argc,
                                    const char **argv, const size_t *lens, bool *sent);

/* redis_pool_may_connect: false while a reconnect back-off runs, *wait_ms its time left. */
bool redis_pool_may_connect(struct redis_pool *p, long long *wait_ms);

/* redis_pool_health sends PING. 0 when PONG came back, else -1 with the reason. */
int redis_pool_health(struct redis_pool *p, char *reason, size_t reasonlen);

#endif
