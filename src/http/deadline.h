/* deadline.h - request deadlines: a client must send each request whole (headers and body) within
 * a bound, or its connection is cut. libmicrohttpd only closes connections that go idle, so a
 * client trickling a byte every few seconds would otherwise hold its connection for ever (and
 * HTTP_MAX_CONNECTIONS such clients lock everybody out).
 *
 * The rule: a request is due within limit_s seconds of the moment its connection became ready for
 * it (accepted, or the previous request on it completed), plus one second for every body_rate
 * bytes of body received so far (counted up to the request's body limit), so a large upload over a
 * slow link keeps its connection as long as it averages body_rate bytes per second. A request
 * received whole is never cut, however long its answer takes (a deferred request included), until
 * it completes and the connection waits for the next one.
 *
 * Time is counted in sweeps: deadline_sweep (once a second, from the table's own thread) advances
 * the clock by one tick and cuts the connections past their deadline with shutdown(2), so that
 * the server's next read fails and it closes the connection itself. A tick is never shorter than a
 * second, so a request gets limit_s seconds at least, and is cut at most about two seconds after.
 *
 * Threads: deadline_open and deadline_close take the table's lock (once per connection);
 * deadline_body, deadline_received and deadline_next are called by the thread that serves the
 * connection and take no lock. deadline_close must be called before the connection's descriptor
 * is closed: a sweep holds the lock across shutdown(2), so it can never hit a reused descriptor. */
#ifndef TW_HTTP_DEADLINE_H
#define TW_HTTP_DEADLINE_H

#include <stdbool.h>
#include <stddef.h>

struct deadline_table;
struct deadline_conn;

/* deadline_table_new makes an empty table (clock at tick 0, no thread yet). NULL when out of
 * memory. */
struct deadline_table *deadline_table_new(unsigned limit_s, size_t body_rate);

/* deadline_table_run starts the thread that sweeps the table once a second. Returns 0 or -1. */
int deadline_table_run(struct deadline_table *t);

/* deadline_table_free stops the thread (if running) and frees the table; every connection must be
 * closed (deadline_close) by then. NULL is ignored. */
void deadline_table_free(struct deadline_table *t);

/* deadline_open registers a connection just accepted on fd: its first request is due from now.
 * NULL when out of memory (the connection then has no deadline). */
struct deadline_conn *deadline_open(struct deadline_table *t, int fd);

/* deadline_close forgets c (the connection is closing; its descriptor is still open). */
void deadline_close(struct deadline_table *t, struct deadline_conn *c);

/* deadline_body records that total bytes of the current request's body have arrived so far
 * (counted against the deadline as the caller decides: capped at the request's body limit). */
void deadline_body(struct deadline_conn *c, size_t total);

/* deadline_received says the current request arrived whole: it is not cut from now on. Returns
 * false when a sweep cut the connection first (the request must then not be served). */
bool deadline_received(struct deadline_conn *c);

/* deadline_next says the current request completed: the next one is due from now. */
void deadline_next(struct deadline_table *t, struct deadline_conn *c);

/* deadline_sweep advances the clock one tick and cuts every connection waiting for a request past
 * its deadline. Returns how many it cut. (The table's thread calls it once a second.) */
size_t deadline_sweep(struct deadline_table *t);

#endif
