/* test_keyring.c - the key ring: which key seals, which keys open, rotation and retirement,
 * persistence in DATA_DIR/keyring, Go's error wording, and the Go vectors of
 * tests/vectors/sealing.json (path in TW_VECTORS). Each test has its own temporary DATA_DIR. */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/sha.h>

#include "config.h"
#include "platform_fixtures.h"
#include "tee/keyring.h"
#include "tee/platform.h"
#include "tee/seal.h"

#define K1 ((const uint8_t *)"0123456789abcdef0123456789abcdef")
#define K2 ((const uint8_t *)"fedcba9876543210fedcba9876543210")
#define K3 ((const uint8_t *)"33333333333333333333333333333333")
#define AUTH_FAILED "AES decrypt error: cipher: message authentication failed"
#define ANY_KEY "failed to decrypt with any key in the ring: failed to decrypt with any key. Errors: "

struct fixture {
    char dir[64];
    struct config cfg;
    struct platform platform;
    struct secret_store secrets;    /* the sealed-file backend of platform */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/tw-keyring-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->cfg.data_dir = f->dir;
    f->cfg.standalone = true; /* the enclave backend needs Gramine; the ring mode is separate */
    open_ok(&f->cfg, &f->platform);
    platform_file_secrets(&f->platform, &f->secrets);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    platform_close(&f->platform);
    remove_tree(f->dir);
    free(f);
    return 0;
}

static struct keyring *ring_open(struct fixture *f, bool with_local_key)
{
    char err[512] = "";
    struct keyring *kr = keyring_open(&f->platform, with_local_key, &f->secrets, err, sizeof err);

    if (kr == NULL)
        fail_msg("keyring_open: %s", err);
    return kr;
}

static int ring_add(struct keyring *kr, const uint8_t *key)
{
    struct err e = {0};
    int rc = keyring_add(kr, key, &e);

    if (rc < 0)
        fail_msg("keyring_add: %s", e.msg);
    return rc;
}

/* seal_text seals msg (salt "") through the ring; caller frees. */
static char *seal_text(struct keyring *kr, const char *msg)
{
    struct err e = {0};
    char *out = keyring_seal(kr, NULL, 0, (const uint8_t *)msg, strlen(msg), &e);

    if (out == NULL)
        fail_msg("keyring_seal: %d %s", e.http, e.msg);
    return out;
}

/* opens_with is true when text opens with key alone (salt "") and gives msg. */
static bool opens_with(const uint8_t *key, const char *text, const char *msg)
{
    uint8_t *pt = NULL;
    size_t ptlen = 0;
    char err[128];
    bool ok = seal_open(key, NULL, 0, text, strlen(text), &pt, &ptlen, err, sizeof err) == 0;

    ok = ok && ptlen == strlen(msg) && memcmp(pt, msg, ptlen) == 0;
    free(pt);
    return ok;
}

/* assert_seals_with checks that the ring now seals with key. */
static void assert_seals_with(struct keyring *kr, const uint8_t *key)
{
    char *text = seal_text(kr, "probe");

    assert_true(opens_with(key, text, "probe"));
    free(text);
}

/* ring_opens_in is true when the ring opens text (salt "") into msg; cause gets the failure.
 * With check_in_place, opening in place must give the same outcome (not while the ring may
 * change between the two opens). */
static bool ring_opens_in(struct keyring *kr, const char *text, const char *msg, char *cause,
                          size_t causelen, bool check_in_place)
{
    uint8_t *pt = NULL;
    size_t ptlen = 0;
    bool ok = keyring_open_sealed(kr, NULL, 0, text, strlen(text), &pt, &ptlen, cause,
                                  causelen) == 0;

    if (!check_in_place) {
        if (ok) {
            assert_int_equal(pt[ptlen], '\0');
            ok = ptlen == strlen(msg) && memcmp(pt, msg, ptlen) == 0;
        }
        free(pt);
        return ok;
    }
    /* Opening in place (in a copy of the text) gives the same outcome, cause and plaintext. */
    char *copy = strdup(text), cause2[512] = "";
    size_t len2 = 0;
    assert_non_null(copy);
    assert_true(causelen <= sizeof cause2);
    int rc2 = keyring_open_in_place(kr, NULL, 0, copy, strlen(text), &len2, cause2, causelen);
    assert_int_equal(rc2 == 0, ok);
    if (ok) {
        assert_int_equal(pt[ptlen], '\0');
        assert_int_equal(len2, ptlen);
        assert_memory_equal(copy, pt, ptlen + 1);
        ok = ptlen == strlen(msg) && memcmp(pt, msg, ptlen) == 0;
    } else {
        assert_string_equal(cause2, cause);
    }
    free(copy);
    free(pt);
    return ok;
}

static bool ring_opens(struct keyring *kr, const char *text, const char *msg, char *cause,
                       size_t causelen)
{
    return ring_opens_in(kr, text, msg, cause, causelen, true);
}

static char *seal_with(const uint8_t *key, const char *msg)
{
    char *text = seal_encrypt(key, NULL, 0, (const uint8_t *)msg, strlen(msg));

    assert_non_null(text);
    return text;
}

/* ------------------------------------------------------------------------------------------ */

static void test_empty_ring_in_enclave_mode(void **state)
{
    struct fixture *f = *state;
    struct keyring *kr = ring_open(f, false);
    struct err e = {0};
    char cause[512] = "", *text = seal_with(K1, "x");

    assert_int_equal(keyring_count(kr), 0);
    assert_null(keyring_seal(kr, NULL, 0, (const uint8_t *)"x", 1, &e));
    assert_int_equal(e.http, 500);
    assert_string_equal(e.msg, "no keys available in key ring");
    assert_false(ring_opens(kr, text, "x", cause, sizeof cause));
    assert_string_equal(cause, "no keys available in key ring");
    free(text);
    keyring_free(kr);
}

static void test_standalone_seals_with_local_key(void **state)
{
    struct fixture *f = *state;
    struct keyring *kr = ring_open(f, true);
    uint8_t local[32];
    char cause[512] = "", *text;

    platform_derive(&f->platform, PLATFORM_LABEL_LOCAL_SEAL, local);
    assert_int_equal(keyring_count(kr), 0);
    text = seal_text(kr, "hello");
    assert_true(opens_with(local, text, "hello"));
    assert_true(ring_opens(kr, text, "hello", cause, sizeof cause));
    free(text);
    keyring_free(kr);

    /* the local key is the same after a restart */
    kr = ring_open(f, true);
    assert_seals_with(kr, local);
    keyring_free(kr);
}

static void test_rotation_and_retirement(void **state)
{
    struct fixture *f = *state;
    struct keyring *kr = ring_open(f, false);
    char cause[512], *under_k1, *under_k2;

    assert_int_equal(ring_add(kr, K1), KEYRING_ADDED);
    assert_int_equal(keyring_count(kr), 1);
    assert_seals_with(kr, K1);
    under_k1 = seal_with(K1, "one");

    assert_int_equal(ring_add(kr, K2), KEYRING_ADDED);
    assert_int_equal(keyring_count(kr), 2);
    assert_seals_with(kr, K2);
    under_k2 = seal_with(K2, "two");
    assert_true(ring_opens(kr, under_k1, "one", cause, sizeof cause));

    assert_int_equal(ring_add(kr, K1), KEYRING_PRESENT); /* not moved to the front */
    assert_int_equal(keyring_count(kr), 2);
    assert_seals_with(kr, K2);

    assert_int_equal(ring_add(kr, K3), KEYRING_ADDED); /* K1 drops out and is retired */
    assert_int_equal(keyring_count(kr), 2);
    assert_seals_with(kr, K3);
    assert_true(ring_opens(kr, under_k2, "two", cause, sizeof cause));
    assert_false(ring_opens(kr, under_k1, "one", cause, sizeof cause));

    assert_int_equal(ring_add(kr, K1), KEYRING_RETIRED);
    assert_int_equal(keyring_count(kr), 2);
    assert_seals_with(kr, K3);
    assert_int_equal(ring_add(kr, K2), KEYRING_PRESENT);
    free(under_k1);
    free(under_k2);
    keyring_free(kr);
}

/* SEALING_KEYS_FILE's ring: the file's keys, newest first; nothing is persisted, nothing added. */
static void test_fixed_ring(void **state)
{
    struct fixture *f = *state;
    uint8_t keys[2][32];
    char err[256], cause[512];
    memcpy(keys[0], K2, 32);
    memcpy(keys[1], K1, 32);
    struct keyring *kr = keyring_open_fixed(&f->platform, (const uint8_t (*)[32])keys, 2, err,
                                            sizeof err);
    assert_non_null(kr);
    assert_int_equal(keyring_count(kr), 2);
    assert_seals_with(kr, K2);
    char *under_k1 = seal_with(K1, "older");
    assert_true(ring_opens(kr, under_k1, "older", cause, sizeof cause));
    struct err e = { 0 };
    assert_int_equal(keyring_add(kr, K3, &e), -1);
    assert_non_null(strstr(e.msg, "SEALING_KEYS_FILE"));
    assert_seals_with(kr, K2);
    free(under_k1);
    keyring_free(kr);
    /* a second worker with the same file opens what the first sealed */
    struct keyring *other = keyring_open_fixed(&f->platform, (const uint8_t (*)[32])keys, 1, err,
                                               sizeof err);
    assert_non_null(other);
    assert_seals_with(other, K2);
    keyring_free(other);
    assert_null(keyring_open_fixed(&f->platform, (const uint8_t (*)[32])keys, 0, err, sizeof err));
    assert_null(keyring_open_fixed(&f->platform, (const uint8_t (*)[32])keys, 3, err, sizeof err));
}

static void test_ring_persisted(void **state)
{
    struct fixture *f = *state;
    struct keyring *kr = ring_open(f, false);
    char err[512], path[PATH_MAX], cause[512], *under_k2 = seal_with(K2, "two");
    struct stat st;

    ring_add(kr, K1);
    ring_add(kr, K2);
    ring_add(kr, K3);
    keyring_free(kr);

    snprintf(path, sizeof path, "%s/keyring", f->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* a fresh platform and ring from the same DATA_DIR */
    platform_close(&f->platform);
    assert_int_equal(platform_open(&f->platform, &f->cfg, err, sizeof err), 0);
    kr = ring_open(f, false);
    assert_int_equal(keyring_count(kr), 2);
    assert_seals_with(kr, K3);
    assert_true(ring_opens(kr, under_k2, "two", cause, sizeof cause));
    assert_int_equal(ring_add(kr, K1), KEYRING_RETIRED);
    assert_int_equal(ring_add(kr, K2), KEYRING_PRESENT);
    assert_int_equal(ring_add(kr, K3), KEYRING_PRESENT);
    free(under_k2);
    keyring_free(kr);
}

static void test_many_retired_keys_bounded(void **state)
{
    struct fixture *f = *state;
    struct keyring *kr = ring_open(f, false);
    uint8_t key[32];

    memset(key, 'k', sizeof key);
    for (int i = 0; i < 70; i++) {
        key[0] = (uint8_t)i;
        assert_int_equal(ring_add(kr, key), KEYRING_ADDED);
    }
    keyring_free(kr);
    kr = ring_open(f, false); /* the file stays loadable */
    assert_int_equal(keyring_count(kr), 2);
    key[0] = 67; /* among the newest 64 retired */
    assert_int_equal(ring_add(kr, key), KEYRING_RETIRED);
    key[0] = 69; /* still in the ring */
    assert_int_equal(ring_add(kr, key), KEYRING_PRESENT);
    key[0] = 0; /* the oldest retired digests were forgotten (at most 64 kept) */
    assert_int_equal(ring_add(kr, key), KEYRING_ADDED);
    keyring_free(kr);
}

static void test_open_tries_ring_then_local_key(void **state)
{
    struct fixture *f = *state;
    struct keyring *kr = ring_open(f, true);
    uint8_t local[32];
    char cause[512], *under_local, *under_k1, *under_k2;

    platform_derive(&f->platform, PLATFORM_LABEL_LOCAL_SEAL, local);
    under_local = seal_with(local, "local");
    under_k1 = seal_with(K1, "one");
    under_k2 = seal_with(K2, "two");
    ring_add(kr, K1);
    ring_add(kr, K2);
    assert_seals_with(kr, K2); /* a ring key seals even in standalone mode */
    assert_true(ring_opens(kr, under_k2, "two", cause, sizeof cause));
    assert_true(ring_opens(kr, under_k1, "one", cause, sizeof cause));
    assert_true(ring_opens(kr, under_local, "local", cause, sizeof cause));
    free(under_local);
    free(under_k1);
    free(under_k2);
    keyring_free(kr);
}

static void test_error_texts(void **state)
{
    struct fixture *f = *state;
    struct keyring *kr = ring_open(f, true);
    char cause[512], *under_k3 = seal_with(K3, "three");

    assert_false(ring_opens(kr, under_k3, "three", cause, sizeof cause));
    assert_string_equal(cause, ANY_KEY "key 1: " AUTH_FAILED);

    ring_add(kr, K1);
    ring_add(kr, K2);
    assert_false(ring_opens(kr, under_k3, "three", cause, sizeof cause));
    assert_string_equal(cause, ANY_KEY "key 1: " AUTH_FAILED "; key 2: " AUTH_FAILED
                                       "; key 3: " AUTH_FAILED);

    assert_false(ring_opens(kr, "!!!!", "", cause, sizeof cause));
    assert_string_equal(cause, "failed to decrypt with any key in the ring: base64 decode error: "
                               "illegal base64 data at input byte 0");

    /* outer layer fine, inner layer "AAAA" = 3 bytes: too short for an IV */
    assert_false(ring_opens(kr, "QUFBQQ==", "", cause, sizeof cause));
    assert_string_equal(cause, ANY_KEY "key 1: AES decrypt error: invalid cipher text length; "
                                       "key 2: AES decrypt error: invalid cipher text length; "
                                       "key 3: AES decrypt error: invalid cipher text length");

    /* a small cause buffer is truncated, not overrun */
    assert_false(ring_opens(kr, under_k3, "three", cause, 40));
    assert_int_equal(strlen(cause), 39);
    free(under_k3);
    keyring_free(kr);
}

static void test_failed_persist_leaves_ring_unchanged(void **state)
{
    struct fixture *f = *state;
    struct keyring *kr = ring_open(f, false);
    char path[PATH_MAX];
    struct err e = {0};

    ring_add(kr, K1);
    snprintf(path, sizeof path, "%s/keyring", f->dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0700), 0); /* the rename onto it must fail */
    assert_int_equal(keyring_add(kr, K2, &e), -1);
    assert_int_equal(e.http, 500);
    assert_non_null(strstr(e.msg, "failed to persist the key ring"));
    assert_int_equal(keyring_count(kr), 1);
    assert_seals_with(kr, K1);
    assert_int_equal(rmdir(path), 0);
    keyring_free(kr);
}

static void test_corrupt_ring_file_refused(void **state)
{
    struct fixture *f = *state;
    struct keyring *kr = ring_open(f, false);
    char path[PATH_MAX], err[512] = "";
    uint8_t byte;
    int fd;

    ring_add(kr, K1);
    keyring_free(kr);
    snprintf(path, sizeof path, "%s/keyring", f->dir);
    fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &byte, 1, 30), 1);
    byte ^= 0x10;
    assert_int_equal(pwrite(fd, &byte, 1, 30), 1);
    close(fd);
    assert_null(keyring_open(&f->platform, false, &f->secrets, err, sizeof err));
    assert_non_null(strstr(err, "keyring"));

    /* well sealed but not a ring */
    assert_int_equal(platform_write_sealed(&f->platform, "keyring", PLATFORM_LABEL_KEYRING,
                                           (const uint8_t *)"TWKR\001\003\000", 7, err,
                                           sizeof err), 0);
    assert_null(keyring_open(&f->platform, false, &f->secrets, err, sizeof err));
    assert_non_null(strstr(err, "malformed key ring"));
}

/* ------------------------------------------------------------------------------------------ */
/* Go vectors                                                                                   */

static json_t *load_vectors(void)
{
    const char *path = getenv("TW_VECTORS");
    json_error_t jerr;
    json_t *root;

    if (path == NULL)
        path = "tests/vectors/sealing.json";
    root = json_load_file(path, 0, &jerr);
    if (root == NULL)
        fail_msg("%s: %s", path, jerr.text);
    return root;
}

static void check_vector(struct keyring *kr, json_t *v)
{
    json_t *salt = json_object_get(v, "salt"), *pt = json_object_get(v, "plaintext");
    const char *sealed = json_string_value(json_object_get(v, "sealed"));
    const char *digest_hex = json_string_value(json_object_get(v, "plaintext_sha256"));
    uint8_t *out = NULL, digest[SHA256_DIGEST_LENGTH];
    size_t outlen = 0;
    char cause[512], hex[2 * SHA256_DIGEST_LENGTH + 1];

    assert_non_null(sealed);
    if (keyring_open_sealed(kr, (const uint8_t *)json_string_value(salt), json_string_length(salt),
                            sealed, strlen(sealed), &out, &outlen, cause, sizeof cause) != 0)
        fail_msg("vector did not open: %s", cause);
    if (json_is_string(pt)) {
        assert_int_equal(outlen, json_string_length(pt));
        assert_memory_equal(out, json_string_value(pt), outlen);
    }
    SHA256(out, outlen, digest);
    for (size_t i = 0; i < sizeof digest; i++)
        sprintf(hex + 2 * i, "%02x", digest[i]);
    assert_string_equal(hex, digest_hex);
    free(out);
}

static void test_go_vectors_open_through_ring(void **state)
{
    struct fixture *f = *state;
    struct keyring *kr = ring_open(f, false);
    json_t *root = load_vectors(), *keys = json_object_get(root, "ring_keys"), *v;
    const char *k1 = json_string_value(json_object_get(keys, "K1"));
    const char *k2 = json_string_value(json_object_get(keys, "K2"));
    size_t i;

    assert_true(k1 != NULL && strlen(k1) == SEAL_KEY_LEN);
    assert_true(k2 != NULL && strlen(k2) == SEAL_KEY_LEN);
    ring_add(kr, (const uint8_t *)k1);
    ring_add(kr, (const uint8_t *)k2);
    assert_true(json_array_size(json_object_get(root, "seal")) > 0);
    json_array_foreach(json_object_get(root, "seal"), i, v)
        check_vector(kr, v);
    json_decref(root);
    keyring_free(kr);
}

/* ------------------------------------------------------------------------------------------ */
/* Concurrency smoke test: sealers and openers while keys rotate.                               */

struct worker_arg {
    struct keyring *kr;
    int failures;
};

static void *seal_and_open_loop(void *p)
{
    struct worker_arg *a = p;
    char cause[512];

    for (int i = 0; i < 200; i++) {
        struct err e = {0};
        char *text = keyring_seal(a->kr, NULL, 0, (const uint8_t *)"m", 1, &e);
        /* the sealing key may rotate out of the ring in between; only a missing key is a fault */
        if (text == NULL)
            a->failures++;
        else if (!ring_opens_in(a->kr, text, "m", cause, sizeof cause, false) &&
                 strstr(cause, AUTH_FAILED) == NULL)
            a->failures++;
        free(text);
    }
    return NULL;
}

static void test_concurrent_use(void **state)
{
    struct fixture *f = *state;
    struct keyring *kr = ring_open(f, true);
    struct worker_arg args[3] = {{kr, 0}, {kr, 0}, {kr, 0}};
    pthread_t th[3];
    uint8_t key[32];

    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&th[i], NULL, seal_and_open_loop, &args[i]), 0);
    memset(key, 'c', sizeof key);
    for (int i = 0; i < 10; i++) {
        key[0] = (uint8_t)i;
        ring_add(kr, key);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].failures, 0);
    }
    keyring_free(kr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty_ring_in_enclave_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_standalone_seals_with_local_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation_and_retirement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ring_persisted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixed_ring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_retired_keys_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_tries_ring_then_local_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_texts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_persist_leaves_ring_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_ring_file_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_go_vectors_open_through_ring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_use, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
