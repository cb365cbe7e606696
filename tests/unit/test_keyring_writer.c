/* test_keyring_writer.c - additions to the key ring on the writer's thread: they are applied in
 * the order handed over (newest first, a retired key re-sent refused), sealing and opening go on
 * while a write is held up, a failed write is reported, and stopping lets the queued additions
 * finish. The ring's secrets are sealed files in a temporary DATA_DIR, behind a gate that holds
 * every write until the test opens it. */
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "config.h"
#include "platform_fixtures.h"
#include "tee/keyring.h"
#include "tee/keyring_writer.h"
#include "tee/platform.h"
#include "tee/seal.h"

#define KA ((const uint8_t *)"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
#define KB ((const uint8_t *)"BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB")
#define KC ((const uint8_t *)"CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC")
#define MAX_DONE 16

struct fixture {
    char dir[64];
    struct config cfg;
    struct platform platform;
    struct secret_store files;      /* the sealed-file backend of platform */
    struct secret_store gated;      /* files, each put held while the gate is closed */
    pthread_mutex_t lock;
    pthread_cond_t changed;
    bool gate_closed;
    bool fail_puts;
    int puts_waiting;               /* puts held at the gate now */
    int done;                       /* additions reported */
    int rc[MAX_DONE];               /* their results, in the order reported */
    char msg[MAX_DONE][256];
};

static int gated_get(void *ctx, const char *name, const char *label, uint8_t **data, size_t *len,
                     char *err, size_t errlen)
{
    struct fixture *f = ctx;
    return f->files.get(f->files.ctx, name, label, data, len, err, errlen);
}

static int gated_put(void *ctx, const char *name, const char *label, const uint8_t *data,
                     size_t len, bool replace, char *err, size_t errlen)
{
    struct fixture *f = ctx;
    pthread_mutex_lock(&f->lock);
    f->puts_waiting++;
    pthread_cond_broadcast(&f->changed);
    while (f->gate_closed)
        pthread_cond_wait(&f->changed, &f->lock);
    f->puts_waiting--;
    bool fail = f->fail_puts;
    pthread_mutex_unlock(&f->lock);
    if (fail) {
        snprintf(err, errlen, "disk on fire");
        return -1;
    }
    return f->files.put(f->files.ctx, name, label, data, len, replace, err, errlen);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/tw-ringw-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->cfg.data_dir = f->dir;
    f->cfg.standalone = true;
    open_ok(&f->cfg, &f->platform);
    platform_file_secrets(&f->platform, &f->files);
    f->gated = (struct secret_store){ .get = gated_get, .put = gated_put, .ctx = f };
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->changed, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    pthread_cond_destroy(&f->changed);
    pthread_mutex_destroy(&f->lock);
    platform_close(&f->platform);
    remove_tree(f->dir);
    free(f);
    return 0;
}

static void added(void *ctx, int rc, const struct err *e)
{
    struct fixture *f = ctx;
    pthread_mutex_lock(&f->lock);   /* no cmocka assertion here: not the test's thread */
    if (f->done < MAX_DONE) {
        f->rc[f->done] = rc;
        snprintf(f->msg[f->done], sizeof f->msg[f->done], "%s", rc < 0 ? e->msg : "");
    }
    f->done++;
    pthread_cond_broadcast(&f->changed);
    pthread_mutex_unlock(&f->lock);
}

static void set_gate(struct fixture *f, bool closed)
{
    pthread_mutex_lock(&f->lock);
    f->gate_closed = closed;
    pthread_cond_broadcast(&f->changed);
    pthread_mutex_unlock(&f->lock);
}

static void wait_put_held(struct fixture *f)
{
    pthread_mutex_lock(&f->lock);
    while (f->puts_waiting == 0)
        pthread_cond_wait(&f->changed, &f->lock);
    pthread_mutex_unlock(&f->lock);
}

static void wait_done(struct fixture *f, int n)
{
    pthread_mutex_lock(&f->lock);
    while (f->done < n)
        pthread_cond_wait(&f->changed, &f->lock);
    pthread_mutex_unlock(&f->lock);
}

static int done_now(struct fixture *f)
{
    pthread_mutex_lock(&f->lock);
    int n = f->done;
    pthread_mutex_unlock(&f->lock);
    return n;
}

static struct keyring *ring_open(struct fixture *f, const struct secret_store *secrets)
{
    char err[512] = "";
    struct keyring *kr = keyring_open(&f->platform, true, secrets, err, sizeof err);

    if (!kr)
        fail_msg("keyring_open: %s", err);
    return kr;
}

static struct keyring_writer *writer_start(struct keyring *kr)
{
    char err[256] = "";
    struct keyring_writer *w = keyring_writer_start(kr, err, sizeof err);

    if (!w)
        fail_msg("keyring_writer_start: %s", err);
    return w;
}

/* seals_with: what the ring seals now opens with key alone. */
static bool seals_with(struct keyring *kr, const uint8_t *key)
{
    struct err e = { 0 };
    char *text = keyring_seal(kr, NULL, 0, (const uint8_t *)"probe", 5, &e);
    uint8_t *pt = NULL;
    size_t ptlen = 0;
    char why[128];

    if (!text)
        fail_msg("keyring_seal: %s", e.msg);
    bool ok = seal_open(key, NULL, 0, text, strlen(text), &pt, &ptlen, why, sizeof why) == 0 &&
              ptlen == 5 && memcmp(pt, "probe", 5) == 0;
    free(pt);
    free(text);
    return ok;
}

/* opens: the ring opens what key sealed. */
static bool opens(struct keyring *kr, const uint8_t *key)
{
    char *text = seal_encrypt(key, NULL, 0, (const uint8_t *)"probe", 5);
    uint8_t *pt = NULL;
    size_t ptlen = 0;
    char cause[512];

    assert_non_null(text);
    bool ok = keyring_open_sealed(kr, NULL, 0, text, strlen(text), &pt, &ptlen, cause,
                                  sizeof cause) == 0;
    free(pt);
    free(text);
    return ok;
}

static void test_additions_in_order_while_sealing_goes_on(void **state)
{
    struct fixture *f = *state;
    struct keyring *kr = ring_open(f, &f->gated);
    struct keyring_writer *w = writer_start(kr);

    set_gate(f, true);
    /* A, B, C, then A again: A was pushed out of the two-key ring by C, so it is refused */
    const uint8_t *keys[] = { KA, KB, KC, KA, KB };
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(keyring_writer_add(w, keys[i], added, f), 0);
    wait_put_held(f);
    /* The write of A is held: the ring seals (with the local key: A is not in it until written),
     * opens, and nothing was reported yet. (A ring that held its lock across the write would
     * hang here, until the test's timeout.) */
    assert_int_equal(keyring_count(kr), 0);
    assert_false(seals_with(kr, KA));
    assert_false(opens(kr, KA));
    assert_int_equal(done_now(f), 0);
    set_gate(f, false);
    wait_done(f, 5);
    assert_int_equal(f->rc[0], KEYRING_ADDED);
    assert_int_equal(f->rc[1], KEYRING_ADDED);
    assert_int_equal(f->rc[2], KEYRING_ADDED);
    assert_int_equal(f->rc[3], KEYRING_RETIRED);
    assert_int_equal(f->rc[4], KEYRING_PRESENT);
    assert_int_equal(keyring_count(kr), 2);
    assert_true(seals_with(kr, KC));
    assert_true(opens(kr, KB));
    assert_false(opens(kr, KA));
    keyring_writer_stop(w);
    keyring_free(kr);

    /* what was written is what a restart finds: C newest, B, A retired */
    kr = ring_open(f, &f->files);
    assert_int_equal(keyring_count(kr), 2);
    assert_true(seals_with(kr, KC));
    assert_true(opens(kr, KB));
    struct err e = { 0 };
    assert_int_equal(keyring_add(kr, KA, &e), KEYRING_RETIRED);
    keyring_free(kr);
}

static void test_failed_write_is_reported_and_changes_nothing(void **state)
{
    struct fixture *f = *state;
    struct keyring *kr = ring_open(f, &f->gated);
    struct keyring_writer *w = writer_start(kr);

    f->fail_puts = true;
    assert_int_equal(keyring_writer_add(w, KA, added, f), 0);
    wait_done(f, 1);
    assert_int_equal(f->rc[0], -1);
    assert_string_equal(f->msg[0], "failed to persist the key ring: disk on fire");
    assert_int_equal(keyring_count(kr), 0);
    f->fail_puts = false;   /* the writer is idle: no put runs now */
    assert_int_equal(keyring_writer_add(w, KA, added, f), 0);
    wait_done(f, 2);
    assert_int_equal(f->rc[1], KEYRING_ADDED);
    assert_true(seals_with(kr, KA));
    keyring_writer_stop(w);
    keyring_free(kr);
}

static void test_stop_finishes_the_queued_additions(void **state)
{
    struct fixture *f = *state;
    struct keyring *kr = ring_open(f, &f->gated);
    struct keyring_writer *w = writer_start(kr);

    set_gate(f, true);
    assert_int_equal(keyring_writer_add(w, KA, added, f), 0);
    assert_int_equal(keyring_writer_add(w, KB, added, f), 0);
    wait_put_held(f);
    set_gate(f, false);
    keyring_writer_stop(w);     /* returns once both are added and reported */
    assert_int_equal(done_now(f), 2);
    assert_int_equal(f->rc[0], KEYRING_ADDED);
    assert_int_equal(f->rc[1], KEYRING_ADDED);
    assert_true(seals_with(kr, KB));
    keyring_writer_stop(NULL);
    assert_int_equal(keyring_writer_add(NULL, KC, added, f), -1);
    assert_int_equal(done_now(f), 2);
    keyring_free(kr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_additions_in_order_while_sealing_goes_on, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_is_reported_and_changes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stop_finishes_the_queued_additions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
