/* test_redis_reply.c - the pure parts of the Redis store: STORE_URL parsing, key names, and the
 * checks of XREADGROUP / XAUTOCLAIM replies (built by hand: a reply is untrusted input). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/redis_reply.h"

/* ---- STORE_URL ---- */

static void test_url_forms(void **state)
{
    (void)state;
    struct redis_url u;
    char err[256];
    assert_int_equal(redis_url_parse("redis://127.0.0.1:6380/2", &u, err, sizeof err), 0);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 2);
    assert_string_equal(u.password, "");
    assert_int_equal(redis_url_parse("redis://cache.internal", &u, err, sizeof err), 0);
    assert_string_equal(u.host, "cache.internal");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);
    assert_int_equal(redis_url_parse("redis://:s3cr%40t@h:1/", &u, err, sizeof err), 0);
    assert_string_equal(u.password, "s3cr@t");
    assert_string_equal(u.user, "");
    assert_string_equal(u.host, "h");
    assert_int_equal(redis_url_parse("redis://fleet:pw@h:7000/5", &u, err, sizeof err), 0);
    assert_string_equal(u.user, "fleet");
    assert_string_equal(u.password, "pw");
    assert_int_equal(u.port, 7000);
    assert_int_equal(u.db, 5);
}

static void test_url_refusals(void **state)
{
    (void)state;
    struct redis_url u;
    char err[256];
    static const char *const bad[] = {
        "redis://", "redis://h:0", "redis://h:65536", "redis://h:12x", "redis://h/abc",
        "redis://pw@h", "redis://[::1]:6379", "http://h", "redis://:%zz@h", "redis://:%4@h",
        "redis://h h:1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (redis_url_parse(bad[i], &u, err, sizeof err) == 0)
            fail_msg("accepted %s", bad[i]);
        assert_true(strncmp(err, "STORE_URL: ", 11) == 0);
    }
    assert_int_equal(redis_url_parse("rediss://:topsecret@h:6380", &u, err, sizeof err), -1);
    assert_non_null(strstr(err, "TLS"));
    assert_non_null(strstr(err, "stunnel"));
    assert_null(strstr(err, "topsecret"));
    assert_int_equal(redis_url_parse("redis://:topsecret@h:99999", &u, err, sizeof err), -1);
    assert_null(strstr(err, "topsecret"));
}

/* ---- key names ---- */

static void test_keys(void **state)
{
    (void)state;
    char key[REDIS_KEY_MAX];
    assert_int_equal(redis_key(key, sizeof key, "tee-worker:", "result:",
                               "0b8e2c1a-1111-4222-8333-944455556666"), 0);
    assert_string_equal(key, "tee-worker:result:0b8e2c1a-1111-4222-8333-944455556666");
    assert_int_equal(redis_key(key, sizeof key, "fleet-a:", REDIS_STREAM, NULL), 0);
    assert_string_equal(key, "fleet-a:jobs");
    char small[8];
    assert_int_equal(redis_key(small, sizeof small, "tee-worker:", "job:", "x"), -1);
    assert_true(redis_prefix_valid("tee-worker:"));
    assert_false(redis_prefix_valid(""));
    assert_false(redis_prefix_valid("has space"));
    assert_false(redis_prefix_valid("tab\there"));
    char longp[REDIS_PREFIX_MAX + 2];
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    assert_false(redis_prefix_valid(longp));
    longp[REDIS_PREFIX_MAX] = '\0';
    assert_true(redis_prefix_valid(longp));
}

static void test_entry_ids(void **state)
{
    (void)state;
    assert_true(redis_entry_id_valid("1700000000000-0", 15));
    assert_true(redis_entry_id_valid("0-0", 3));
    assert_false(redis_entry_id_valid("-1", 2));
    assert_false(redis_entry_id_valid("1-", 2));
    assert_false(redis_entry_id_valid("1-2-3", 5));
    assert_false(redis_entry_id_valid("1a-2", 4));
    assert_false(redis_entry_id_valid("12", 2));
    char longid[64];
    memset(longid, '1', sizeof longid);
    longid[30] = '-';
    assert_false(redis_entry_id_valid(longid, sizeof longid));
}

/* ---- replies, built by hand ---- */

#define UID "0b8e2c1a-1111-4222-8333-944455556666"

struct fake {
    redisReply nodes[64];
    redisReply *ptrs[64];
    size_t used, pused;
};

static redisReply *str(struct fake *f, const char *s)
{
    redisReply *r = &f->nodes[f->used++];
    memset(r, 0, sizeof *r);
    r->type = REDIS_REPLY_STRING;
    r->str = (char *)s;
    r->len = strlen(s);
    return r;
}

static redisReply *nil(struct fake *f)
{
    redisReply *r = &f->nodes[f->used++];
    memset(r, 0, sizeof *r);
    r->type = REDIS_REPLY_NIL;
    return r;
}

static redisReply *arr(struct fake *f, size_t n, ...)
{
    redisReply *r = &f->nodes[f->used++];
    memset(r, 0, sizeof *r);
    r->type = REDIS_REPLY_ARRAY;
    r->elements = n;
    r->element = &f->ptrs[f->pused];
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        f->ptrs[f->pused++] = va_arg(ap, redisReply *);
    va_end(ap);
    return r;
}

static redisReply *entry(struct fake *f, const char *id, const char *uid, const char *job)
{
    return arr(f, 2, str(f, id), arr(f, 4, str(f, "uid"), str(f, uid), str(f, "job"), str(f, job)));
}

static void test_read_reply(void **state)
{
    (void)state;
    struct fake f = { 0 };
    struct redis_entry e[4];
    char err[256];
    /* a timeout */
    assert_int_equal(redis_parse_read(nil(&f), e, 4, 1000, err, sizeof err), 0);
    /* two entries, one deleted meanwhile (fields nil) */
    redisReply *list = arr(&f, 2, entry(&f, "5-1", UID, "sealed-job-text"),
                           arr(&f, 2, str(&f, "6-0"), nil(&f)));
    redisReply *r = arr(&f, 1, arr(&f, 2, str(&f, "tee-worker:jobs"), list));
    assert_int_equal(redis_parse_read(r, e, 4, 1000, err, sizeof err), 2);
    assert_string_equal(e[0].id, "5-1");
    assert_string_equal(e[0].uid, UID);
    assert_int_equal(e[0].job_len, 15);
    assert_memory_equal(e[0].job, "sealed-job-text", 15);
    assert_string_equal(e[1].id, "6-0");
    assert_null(e[1].job);
    /* more entries than asked for */
    assert_int_equal(redis_parse_read(r, e, 1, 1000, err, sizeof err), -1);
    /* a job larger than allowed: handed back without a job, to be acknowledged away */
    assert_int_equal(redis_parse_read(r, e, 4, 10, err, sizeof err), 2);
    assert_null(e[0].job);
    /* an error reply */
    redisReply er = { .type = REDIS_REPLY_ERROR, .str = (char *)"NOGROUP No such key", .len = 19 };
    assert_int_equal(redis_parse_read(&er, e, 4, 1000, err, sizeof err), -1);
    assert_string_equal(err, "NOGROUP No such key");
    assert_int_equal(redis_parse_read(NULL, e, 4, 1000, err, sizeof err), -1);
}

static void test_malformed_entries(void **state)
{
    (void)state;
    struct redis_entry e[4];
    char err[256];
    {   /* a bad id is an error, not an entry */
        struct fake f = { 0 };
        redisReply *list = arr(&f, 1, entry(&f, "x-1", UID, "j"));
        assert_int_equal(redis_parse_entries(list, e, 4, 1000, err, sizeof err), -1);
    }
    {   /* a bad uid, a missing job field, an odd field list: returned without a job */
        struct fake f = { 0 };
        redisReply *list = arr(&f, 3, entry(&f, "1-1", "not-a-uuid-at-all-not-a-uuid-at-all!", "j"),
                               arr(&f, 2, str(&f, "1-2"), arr(&f, 2, str(&f, "uid"), str(&f, UID))),
                               arr(&f, 2, str(&f, "1-3"), arr(&f, 1, str(&f, "uid"))));
        assert_int_equal(redis_parse_entries(list, e, 4, 1000, err, sizeof err), 3);
        for (int i = 0; i < 3; i++) {
            assert_null(e[i].job);
            assert_string_equal(e[i].uid, "");
        }
        assert_string_equal(e[2].id, "1-3");
    }
    {   /* not arrays where arrays belong */
        struct fake f = { 0 };
        assert_int_equal(redis_parse_entries(str(&f, "x"), e, 4, 1000, err, sizeof err), -1);
        redisReply *r = arr(&f, 1, str(&f, "tee-worker:jobs"));
        assert_int_equal(redis_parse_read(r, e, 4, 1000, err, sizeof err), -1);
        redisReply *list = arr(&f, 1, arr(&f, 3, str(&f, "1-1"), nil(&f), nil(&f)));
        assert_int_equal(redis_parse_entries(list, e, 4, 1000, err, sizeof err), -1);
    }
}

static void test_autoclaim_reply(void **state)
{
    (void)state;
    struct fake f = { 0 };
    struct redis_entry e[4];
    char err[256], next[REDIS_ENTRY_ID_MAX + 1];
    redisReply *r = arr(&f, 3, str(&f, "17-3"), arr(&f, 1, entry(&f, "9-0", UID, "sealed")),
                        arr(&f, 0));
    assert_int_equal(redis_parse_autoclaim(r, e, 4, 1000, next, err, sizeof err), 1);
    assert_string_equal(next, "17-3");
    assert_string_equal(e[0].uid, UID);
    /* Redis 6.2 shape: two elements */
    redisReply *r2 = arr(&f, 2, str(&f, "0-0"), arr(&f, 0));
    assert_int_equal(redis_parse_autoclaim(r2, e, 4, 1000, next, err, sizeof err), 0);
    assert_string_equal(next, "0-0");
    /* a bad cursor */
    redisReply *r3 = arr(&f, 2, str(&f, "zz"), arr(&f, 0));
    assert_int_equal(redis_parse_autoclaim(r3, e, 4, 1000, next, err, sizeof err), -1);
    /* Redis 6.2: an entry deleted while pending comes back as nil, and is skipped */
    redisReply *r4 = arr(&f, 2, str(&f, "21-0"),
                         arr(&f, 3, nil(&f), entry(&f, "12-0", UID, "sealed"), nil(&f)));
    assert_int_equal(redis_parse_autoclaim(r4, e, 4, 1000, next, err, sizeof err), 1);
    assert_string_equal(next, "21-0");
    assert_string_equal(e[0].id, "12-0");
    assert_string_equal(e[0].uid, UID);
    /* elsewhere a nil entry is still malformed */
    redisReply *list = arr(&f, 1, nil(&f));
    assert_int_equal(redis_parse_entries(list, e, 4, 1000, err, sizeof err), -1);
}

static redisReply *integer(struct fake *f, long long v)
{
    redisReply *r = &f->nodes[f->used++];
    memset(r, 0, sizeof *r);
    r->type = REDIS_REPLY_INTEGER;
    r->integer = v;
    return r;
}

/* The store's re-read answers an entry too large to be sent as [id, nil, bytes, fields, uid]:
 * only redis_parse_reread takes that shape, and only when each part has its type. */
static void test_reread_reply(void **state)
{
    (void)state;
    struct redis_entry e[4];
    char err[256];
    {   /* a normal entry, one too large with its uid, one too large whose uid is not a UUID */
        struct fake f = { 0 };
        redisReply *list = arr(&f, 3, entry(&f, "5-1", UID, "sealed"),
                               arr(&f, 5, str(&f, "5-2"), nil(&f), integer(&f, 136314922),
                                   integer(&f, 4), str(&f, UID)),
                               arr(&f, 5, str(&f, "5-3"), nil(&f), integer(&f, 70000),
                                   integer(&f, 70000), str(&f, "")));
        assert_int_equal(redis_parse_reread(list, e, 4, 1000, err, sizeof err), 3);
        assert_false(e[0].oversize);
        assert_non_null(e[0].job);
        assert_string_equal(e[0].uid, UID);
        assert_true(e[1].oversize);
        assert_null(e[1].job);
        assert_string_equal(e[1].id, "5-2");
        assert_string_equal(e[1].uid, UID);
        assert_int_equal(e[1].stored_bytes, 136314922);
        assert_int_equal(e[1].stored_fields, 4);
        assert_true(e[2].oversize);
        assert_string_equal(e[2].uid, "");
        assert_int_equal(e[2].stored_fields, 70000);
        /* the entry list of a plain read never has that shape */
        assert_int_equal(redis_parse_entries(list, e, 4, 1000, err, sizeof err), -1);
    }
    {   /* a uid that is not a UUID is left out */
        struct fake f = { 0 };
        redisReply *list = arr(&f, 1, arr(&f, 5, str(&f, "5-2"), nil(&f), integer(&f, 1),
                                          integer(&f, 2), str(&f, "../../etc/passwd")));
        assert_int_equal(redis_parse_reread(list, e, 4, 1000, err, sizeof err), 1);
        assert_true(e[0].oversize);
        assert_string_equal(e[0].uid, "");
    }
    {   /* each part of the description checked: malformed is an error, not an entry */
        struct fake f = { 0 };
        redisReply *bad[] = {
            arr(&f, 5, str(&f, "5-2"), str(&f, "x"), integer(&f, 1), integer(&f, 2), str(&f, UID)),
            arr(&f, 5, str(&f, "5-2"), nil(&f), integer(&f, -1), integer(&f, 2), str(&f, UID)),
            arr(&f, 5, str(&f, "5-2"), nil(&f), integer(&f, 1), str(&f, "2"), str(&f, UID)),
            arr(&f, 5, str(&f, "5-2"), nil(&f), integer(&f, 1), integer(&f, 2), nil(&f)),
            arr(&f, 5, str(&f, "x-2"), nil(&f), integer(&f, 1), integer(&f, 2), str(&f, UID)),
            arr(&f, 4, str(&f, "5-2"), nil(&f), integer(&f, 1), integer(&f, 2)),
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            redisReply *list = arr(&f, 1, bad[i]);
            if (redis_parse_reread(list, e, 4, 1000, err, sizeof err) != -1)
                fail_msg("malformed description %zu accepted", i);
        }
    }
}

/* resp parses n bytes of RESP text with hiredis's reader, as a connection would (caller frees);
 * RESP(literal) passes a literal whole, NULs included. */
#define RESP(lit) resp(lit, sizeof lit - 1)
static redisReply *resp(const char *text, size_t n)
{
    redisReader *r = redisReaderCreate();
    assert_non_null(r);
    void *reply = NULL;
    assert_int_equal(redisReaderFeed(r, text, n), REDIS_OK);
    assert_int_equal(redisReaderGetReply(r, &reply), REDIS_OK);
    assert_non_null(reply);
    redisReaderFree(r);
    return reply;
}

#define CONSUMER(name, pending, idle) \
    "*6\r\n$4\r\nname\r\n$" #name "\r\n$7\r\npending\r\n:" #pending "\r\n$4\r\nidle\r\n:" #idle "\r\n"

/* XINFO CONSUMERS: only consumers with no pending entries, idle long enough, and not this worker
 * may be removed; anything malformed is left alone. */
static void test_idle_consumers(void **state)
{
    (void)state;
    struct redis_consumer out[8];
    char err[256];
    /* Redis 7.0's form (name, pending, idle) and 7.2's (inactive added, fields in any order) */
    redisReply *r = RESP("*7\r\n"
        CONSUMER(6\r\ngone-1, 0, 90000)
        CONSUMER(6\r\nbusy-1, 2, 90000)           /* pending entries: jobs to take over */
        CONSUMER(6\r\nlive-1, 0, 100)             /* recently active */
        CONSUMER(6\r\nself-0, 0, 90000)           /* this worker */
        "*8\r\n$4\r\nidle\r\n:90000\r\n$8\r\ninactive\r\n:90000\r\n$7\r\npending\r\n:0\r\n"
        "$4\r\nname\r\n$6\r\ngone-2\r\n"
        CONSUMER(6\r\nedge-1, 0, 60000)           /* idle exactly the bound */
        CONSUMER(6\r\nedge-2, 0, 59999));
    int n = redis_parse_idle_consumers(r, "self-0", 60000, out, 8, err, sizeof err);
    assert_int_equal(n, 3);
    assert_string_equal(out[0].name, "gone-1");
    assert_int_equal(out[0].len, 6);
    assert_string_equal(out[1].name, "gone-2");
    assert_string_equal(out[2].name, "edge-1");
    /* at most max */
    assert_int_equal(redis_parse_idle_consumers(r, "self-0", 60000, out, 1, err, sizeof err), 1);
    assert_string_equal(out[0].name, "gone-1");
    freeReplyObject(r);

    /* malformed descriptions are skipped, never listed */
    r = RESP("*11\r\n"
        ":1\r\n"                                                     /* not an array */
        "*5\r\n$4\r\nname\r\n$1\r\na\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n"   /* odd count */
        "*4\r\n$4\r\nname\r\n$1\r\nb\r\n$4\r\nidle\r\n:90000\r\n"  /* no pending */
        "*4\r\n$4\r\nname\r\n$1\r\nc\r\n$7\r\npending\r\n:0\r\n"   /* no idle */
        "*4\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n:90000\r\n"    /* no name */
        CONSUMER(1\r\nd, -1, 90000)                                  /* negative pending */
        "*6\r\n$4\r\nname\r\n$1\r\ne\r\n$7\r\npending\r\n$1\r\n0\r\n$4\r\nidle\r\n:90000\r\n"
        "*6\r\n$4\r\nname\r\n:5\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n:90000\r\n"
        "*8\r\n$4\r\nname\r\n$1\r\nf\r\n$7\r\npending\r\n:0\r\n$7\r\npending\r\n:3\r\n"
        "$4\r\nidle\r\n:90000\r\n"                                   /* pending twice */
        CONSUMER(3\r\ng\0h, 0, 90000)                                /* NUL in the name */
        CONSUMER(0\r\n, 0, 90000));                                  /* empty name */
    assert_int_equal(redis_parse_idle_consumers(r, "self-0", 60000, out, 8, err, sizeof err), 0);
    freeReplyObject(r);

    char longname[256];
    snprintf(longname, sizeof longname, "*1\r\n*6\r\n$4\r\nname\r\n$%d\r\n%0*d\r\n$7\r\npending"
             "\r\n:0\r\n$4\r\nidle\r\n:90000\r\n", REDIS_CONSUMER_NAME_MAX + 1,
             REDIS_CONSUMER_NAME_MAX + 1, 0);
    r = resp(longname, strlen(longname));
    assert_int_equal(redis_parse_idle_consumers(r, "self-0", 60000, out, 8, err, sizeof err), 0);
    freeReplyObject(r);

    r = RESP("-NOGROUP No such key\r\n");
    assert_int_equal(redis_parse_idle_consumers(r, "self-0", 60000, out, 8, err, sizeof err), -1);
    assert_non_null(strstr(err, "NOGROUP"));
    freeReplyObject(r);
    r = RESP("$2\r\nhi\r\n");
    assert_int_equal(redis_parse_idle_consumers(r, "self-0", 60000, out, 8, err, sizeof err), -1);
    freeReplyObject(r);
    assert_int_equal(redis_parse_idle_consumers(NULL, "self-0", 60000, out, 8, err, sizeof err), -1);
}

/* A declared element count above the bound fails the reader before anything is allocated for it;
 * replies within the bound (nested ones too) are built as hiredis builds them. */
static void test_reader_bounds_array_counts(void **state)
{
    (void)state;
    static const char ok[] = "*2\r\n*2\r\n:1\r\n$3\r\nabc\r\n:7\r\n";
    redisReader *r = redisReaderCreate();
    assert_non_null(r);
    redis_reader_bound(r);
    void *reply = NULL;
    assert_int_equal(redisReaderFeed(r, ok, sizeof ok - 1), REDIS_OK);
    assert_int_equal(redisReaderGetReply(r, &reply), REDIS_OK);
    redisReply *top = reply;
    assert_non_null(top);
    assert_int_equal(top->type, REDIS_REPLY_ARRAY);
    assert_int_equal(top->elements, 2);
    assert_int_equal(top->element[0]->type, REDIS_REPLY_ARRAY);
    assert_string_equal(top->element[0]->element[1]->str, "abc");
    assert_int_equal(top->element[1]->integer, 7);
    freeReplyObject(reply);
    redisReaderFree(r);

    static const char huge[] = "*1\r\n*2\r\n$3\r\njob\r\n*455556666\r\n";
    r = redisReaderCreate();
    assert_non_null(r);
    redis_reader_bound(r);
    reply = NULL;
    assert_int_equal(redisReaderFeed(r, huge, sizeof huge - 1), REDIS_OK);
    assert_int_equal(redisReaderGetReply(r, &reply), REDIS_ERR);
    assert_null(reply);
    redisReaderFree(r);

    char at_bound[32];
    int n = snprintf(at_bound, sizeof at_bound, "*%d\r\n", REDIS_REPLY_ARRAY_MAX + 1);
    r = redisReaderCreate();
    redis_reader_bound(r);
    assert_int_equal(redisReaderFeed(r, at_bound, (size_t)n), REDIS_OK);
    assert_int_equal(redisReaderGetReply(r, &reply), REDIS_ERR);
    redisReaderFree(r);
}

/* A budgeted reader charges every object it builds: a reply whose objects fit is built whole
 * (and the charge is what it took); one whose objects do not fails as hiredis's out of memory,
 * with the budget marked exceeded, whatever few bytes it was read from. */
static void test_reader_charges_its_budget(void **state)
{
    (void)state;
    static const char ok[] = "*3\r\n:1\r\n$3\r\nabc\r\n$-1\r\n";
    struct redis_reply_budget budget = { .max = 1024 };
    redisReader *r = redisReaderCreate();
    assert_non_null(r);
    redis_reader_bound(r);
    redis_reader_budget(r, &budget);
    void *reply = NULL;
    assert_int_equal(redisReaderFeed(r, ok, sizeof ok - 1), REDIS_OK);
    assert_int_equal(redisReaderGetReply(r, &reply), REDIS_OK);
    assert_non_null(reply);
    assert_int_equal(((redisReply *)reply)->elements, 3);
    freeReplyObject(reply);
    /* the array and its table, an integer, a string and its text, a nil */
    assert_int_equal(budget.used, REDIS_OBJECT_COST + 3 * sizeof(redisReply *) + REDIS_OBJECT_COST +
                                      2 * REDIS_OBJECT_COST + 3 + REDIS_OBJECT_COST);
    assert_false(budget.exceeded);

    /* 100 empty statuses: 304 bytes to read, some 16 KB once built */
    char tiny[512];
    int n = snprintf(tiny, sizeof tiny, "*100\r\n");
    for (int i = 0; i < 100; i++)
        n += snprintf(tiny + n, sizeof tiny - (size_t)n, "+\r\n");
    budget = (struct redis_reply_budget){ .max = 4096 };
    assert_int_equal(redisReaderFeed(r, tiny, (size_t)n), REDIS_OK);
    reply = NULL;
    assert_int_equal(redisReaderGetReply(r, &reply), REDIS_ERR);
    assert_null(reply);
    assert_true(budget.exceeded);
    assert_true(budget.used <= budget.max);
    redisReaderFree(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_forms),
        cmocka_unit_test(test_url_refusals),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_entry_ids),
        cmocka_unit_test(test_read_reply),
        cmocka_unit_test(test_malformed_entries),
        cmocka_unit_test(test_autoclaim_reply),
        cmocka_unit_test(test_reread_reply),
        cmocka_unit_test(test_reader_bounds_array_counts),
        cmocka_unit_test(test_reader_charges_its_budget),
        cmocka_unit_test(test_idle_consumers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
