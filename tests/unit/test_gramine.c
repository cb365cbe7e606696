/* test_gramine.c - the gramine-sgx platform backend and the attested certificate, against a
 * stand-in of Gramine's attestation directory (a temporary directory named by
 * GRAMINE_ATTESTATION_DIR): attestation_type, keys/_sgx_mrsigner, user_report_data and quote.
 *
 * The quote is either a regular file the test prepares for a report data it chose, or a FIFO
 * answered by a thread that reads user_report_data and builds a quote around it, as Gramine
 * does; the certificate test then checks that the quote in the certificate carries SHA-256 of the
 * certificate's own public key, and that the TCG DICE evidence carries a second quote over the
 * claims naming that key. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "config.h"
#include "tee/keyring.h"
#include "tee/platform.h"
#include "tee/ratls.h"

#include "platform_fixtures.h"

#define QUOTE_LEN 436            /* 48 header + 384 report body + 4 (no signature data) */
#define REPORT_DATA_AT 368

struct fixture {
    char dir[64];
    char data[96];               /* DATA_DIR */
    char attest[96];             /* the stand-in attestation directory */
    struct config cfg;
};

static void write_at(const struct fixture *f, const char *name, const void *data, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", f->attest, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static void read_at(const struct fixture *f, const char *name, uint8_t *out, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", f->attest, name);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, out, len), (ssize_t)len);
    close(fd);
}

static const uint8_t KEY_A[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t KEY_B[16] = { 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 };

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    char keys[128];

    assert_non_null(f);
    strcpy(f->dir, "/tmp/tw-gramine-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->data, sizeof f->data, "%s/data", f->dir);
    snprintf(f->attest, sizeof f->attest, "%s/attestation", f->dir);
    snprintf(keys, sizeof keys, "%s/keys", f->attest);
    assert_int_equal(mkdir(f->attest, 0700), 0);
    assert_int_equal(mkdir(keys, 0700), 0);
    write_at(f, "attestation_type", "dcap", 4);
    write_at(f, "keys/_sgx_mrsigner", KEY_A, sizeof KEY_A);
    write_at(f, "user_report_data", (const uint8_t[64]){ 0 }, 64);
    f->cfg.data_dir = f->data;
    f->cfg.standalone = false;
    f->cfg.gramine_attestation_dir = f->attest;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    remove_tree(f->dir);
    free(f);
    return 0;
}

/* ---- the sealing key ---- */

static void test_root_key_follows_the_signer_key(void **state)
{
    struct fixture *f = *state;
    struct platform p, q;
    uint8_t first[32];

    open_ok(&f->cfg, &p);
    assert_string_equal(p.ops->name, "gramine-sgx");
    assert_true(p.enclave);
    assert_string_equal(p.attestation_type, "dcap");
    assert_string_equal(p.attestation_dir, f->attest);
    memcpy(first, p.root_key, 32);
    assert_memory_not_equal(first, (uint8_t[32]){ 0 }, 32);
    assert_memory_not_equal(first, KEY_A, sizeof KEY_A);   /* stretched, never the raw key */
    platform_close(&p);

    open_ok(&f->cfg, &q);                                         /* same signer: same key */
    assert_memory_equal(q.root_key, first, 32);
    platform_close(&q);

    write_at(f, "keys/_sgx_mrsigner", KEY_B, sizeof KEY_B);   /* another signer */
    open_ok(&f->cfg, &q);
    assert_memory_not_equal(q.root_key, first, 32);
    platform_close(&q);
}

static void test_sealed_worker_id_and_ring_survive_and_refuse_another_signer(void **state)
{
    struct fixture *f = *state;
    struct platform p;
    struct secret_store files;
    char id[37], again[37], err[512] = "";
    uint8_t ring_key[SEAL_KEY_LEN];
    struct err e = { 0 };

    memset(ring_key, 0x5a, sizeof ring_key);
    open_ok(&f->cfg, &p);
    platform_file_secrets(&p, &files);
    assert_int_equal(secrets_worker_id(&files, id, err, sizeof err), 0);
    struct keyring *kr = keyring_open(&p, false, &files, err, sizeof err);
    assert_non_null(kr);
    assert_int_equal(keyring_add(kr, ring_key, &e), KEYRING_ADDED);
    keyring_free(kr);
    platform_close(&p);

    /* a restart under the same signer finds both */
    open_ok(&f->cfg, &p);
    platform_file_secrets(&p, &files);
    assert_int_equal(secrets_worker_id(&files, again, err, sizeof err), 0);
    assert_string_equal(again, id);
    kr = keyring_open(&p, false, &files, err, sizeof err);
    assert_non_null(kr);
    assert_int_equal(keyring_count(kr), 1);
    assert_int_equal(keyring_add(kr, ring_key, &e), KEYRING_PRESENT);
    keyring_free(kr);
    platform_close(&p);

    /* another signer key opens neither, and says why */
    write_at(f, "keys/_sgx_mrsigner", KEY_B, sizeof KEY_B);
    open_ok(&f->cfg, &p);
    platform_file_secrets(&p, &files);
    assert_int_equal(secrets_worker_id(&files, again, err, sizeof err), -1);
    assert_non_null(strstr(err, "another platform key"));
    err[0] = '\0';
    assert_null(keyring_open(&p, false, &files, err, sizeof err));
    assert_true(err[0] != '\0');
    platform_close(&p);
}

/* ---- refusals ---- */

static void test_refusals(void **state)
{
    struct fixture *f = *state;
    char path[256];

    write_at(f, "keys/_sgx_mrsigner", KEY_A, 15);
    open_fails(&f->cfg, "cannot read the enclave sealing key");
    snprintf(path, sizeof path, "%s/keys/_sgx_mrsigner", f->attest);
    unlink(path);
    open_fails(&f->cfg, "cannot read the enclave sealing key");
    write_at(f, "keys/_sgx_mrsigner", KEY_A, sizeof KEY_A);

    write_at(f, "attestation_type", "tdx-maybe", 9);
    open_fails(&f->cfg, "unknown attestation type");
    write_at(f, "attestation_type", "none\n", 5);
    open_fails(&f->cfg, "OE_SIMULATION");

    snprintf(path, sizeof path, "%s/attestation_type", f->attest);
    unlink(path);
    open_fails(&f->cfg, "enclave mode needs Gramine-SGX");
    open_fails(&f->cfg, "STANDALONE=true");
}

/* OE_SIMULATION: Gramine without remote attestation runs, seals, but produces no quotes. */
static void test_no_attestation_under_oe_simulation(void **state)
{
    struct fixture *f = *state;
    struct platform p;
    uint8_t rd[64] = { 0 }, *quote = NULL;
    size_t len = 0;
    char err[256] = "";

    write_at(f, "attestation_type", "none\n", 5);
    f->cfg.oe_simulation = true;
    open_ok(&f->cfg, &p);
    assert_string_equal(p.attestation_type, "none");
    assert_int_equal(platform_quote(&p, rd, &quote, &len, err, sizeof err), 1);
    assert_null(quote);
    struct ratls_cert *c = ratls_create(&p, 3600, err, sizeof err);
    assert_non_null(c);
    assert_null(c->quote);
    X509 *x = d2i_X509(NULL, (const unsigned char *[]){ c->cert_der }, (long)c->cert_der_len);
    assert_non_null(x);
    ASN1_OBJECT *oid = OBJ_txt2obj(RATLS_QUOTE_OID, 1);
    assert_int_equal(X509_get_ext_by_OBJ(x, oid, -1), -1);
    ASN1_OBJECT_free(oid);
    oid = OBJ_txt2obj(RATLS_EVIDENCE_OID, 1);
    assert_int_equal(X509_get_ext_by_OBJ(x, oid, -1), -1);
    ASN1_OBJECT_free(oid);
    assert_null(c->evidence);
    X509_free(x);
    ratls_free(c);
    platform_close(&p);
}

/* ---- quotes from a prepared regular file ---- */

static void make_quote(const uint8_t rd[64], uint8_t out[QUOTE_LEN])
{
    memset(out, 0, QUOTE_LEN);
    out[0] = 3;                  /* version 3 */
    out[2] = 2;                  /* ECDSA-256 */
    memcpy(out + REPORT_DATA_AT, rd, 64);
}

static void test_quote_checks_report_data(void **state)
{
    struct fixture *f = *state;
    struct platform p;
    uint8_t rd[64], written[64], prepared[QUOTE_LEN], *quote = NULL;
    size_t len = 0;
    char err[512] = "";

    for (int i = 0; i < 64; i++)
        rd[i] = (uint8_t)(i * 7 + 1);
    make_quote(rd, prepared);
    write_at(f, "quote", prepared, sizeof prepared);
    open_ok(&f->cfg, &p);
    assert_int_equal(platform_quote(&p, rd, &quote, &len, err, sizeof err), 0);
    read_at(f, "user_report_data", written, sizeof written);
    assert_memory_equal(written, rd, 64);
    assert_int_equal(len, QUOTE_LEN);
    assert_memory_equal(quote, prepared, QUOTE_LEN);
    free(quote);

    rd[5] ^= 1;                  /* the quote no longer carries what is written */
    quote = NULL;
    assert_int_equal(platform_quote(&p, rd, &quote, &len, err, sizeof err), -1);
    assert_non_null(strstr(err, "does not carry the report data"));
    assert_null(quote);

    write_at(f, "quote", prepared, 400);   /* too short for a report body */
    assert_int_equal(platform_quote(&p, rd, &quote, &len, err, sizeof err), -1);
    assert_non_null(strstr(err, "is not an SGX quote"));
    platform_close(&p);
}

/* ---- the certificate, with a FIFO answered like Gramine answers ---- */

struct quoter {
    const struct fixture *f;
    pthread_t thread;
    int rounds;                  /* quotes to give */
    int answered;
};

/* quoter_main answers each new report data once, like Gramine: waits until user_report_data
 * changes (so it never writes twice into one read of the FIFO), then writes a quote around it. */
static void *quoter_main(void *arg)
{
    struct quoter *q = arg;
    char path[256];
    uint8_t last[64] = { 0 }, rd[64], quote[QUOTE_LEN];

    snprintf(path, sizeof path, "%s/quote", q->f->attest);
    for (int round = 0; round < q->rounds; round++) {
        for (int wait = 0;; wait++) {
            read_at(q->f, "user_report_data", rd, sizeof rd);
            if (memcmp(rd, last, sizeof rd) != 0)
                break;
            if (wait > 5000)
                return NULL;
            usleep(1000);
        }
        int fd = open(path, O_WRONLY);     /* until the worker opens it for reading */
        if (fd < 0)
            return NULL;
        read_at(q->f, "user_report_data", rd, sizeof rd);
        memcpy(last, rd, sizeof rd);
        make_quote(rd, quote);
        if (write(fd, quote, sizeof quote) == (ssize_t)sizeof quote)
            q->answered++;
        close(fd);
    }
    return NULL;
}

/* check_evidence: the TCG DICE extension is tag(60000, [bstr(quote2), bstr(claims)]) with the
 * claims naming spki_hash and quote2 carrying SHA-256(claims). */
static void check_evidence(X509 *x, const uint8_t spki_hash[32])
{
    uint8_t claims[51], claims_hash[32];
    size_t n = 0;

    claims[n++] = 0xa1;                                  /* map(1) */
    claims[n++] = 0x6b;                                  /* text(11) */
    memcpy(claims + n, "pubkey-hash", 11);
    n += 11;
    claims[n++] = 0x58, claims[n++] = 36;                /* bstr(36) */
    claims[n++] = 0x82, claims[n++] = 0x01;              /* [1, */
    claims[n++] = 0x58, claims[n++] = 32;                /*  bstr(32) */
    memcpy(claims + n, spki_hash, 32);                   /* ] */
    SHA256(claims, sizeof claims, claims_hash);

    ASN1_OBJECT *oid = OBJ_txt2obj(RATLS_EVIDENCE_OID, 1);
    int at = X509_get_ext_by_OBJ(x, oid, -1);
    ASN1_OBJECT_free(oid);
    assert_true(at >= 0);
    X509_EXTENSION *ext = X509_get_ext(x, at);
    assert_int_equal(X509_EXTENSION_get_critical(ext), 0);
    const ASN1_OCTET_STRING *value = X509_EXTENSION_get_data(ext);
    const uint8_t *e = ASN1_STRING_get0_data(value);
    static const uint8_t head[] = { 0xd9, 0xea, 0x60,    /* tag 60000 */
                                    0x82,                /* array(2) */
                                    0x59, 0x01, 0xb4 };  /* bstr(436): the quote */
    assert_int_equal(ASN1_STRING_length(value), (int)(sizeof head + QUOTE_LEN + 2 + sizeof claims));
    assert_memory_equal(e, head, sizeof head);
    const uint8_t *quote2 = e + sizeof head;
    assert_memory_equal(quote2 + REPORT_DATA_AT, claims_hash, 32);
    assert_memory_equal(quote2 + REPORT_DATA_AT + 32, (uint8_t[32]){ 0 }, 32);
    const uint8_t *tail = quote2 + QUOTE_LEN;
    assert_int_equal(tail[0], 0x58);
    assert_int_equal(tail[1], sizeof claims);
    assert_memory_equal(tail + 2, claims, sizeof claims);
}

static void test_certificate_carries_quote_over_its_key(void **state)
{
    struct fixture *f = *state;
    struct platform p;
    struct quoter q = { .f = f, .rounds = 2 };
    char path[256], err[512] = "";
    uint8_t spki_hash[32], written[64];

    snprintf(path, sizeof path, "%s/quote", f->attest);
    assert_int_equal(mkfifo(path, 0600), 0);
    open_ok(&f->cfg, &p);
    assert_int_equal(pthread_create(&q.thread, NULL, quoter_main, &q), 0);
    time_t before = time(NULL);
    struct ratls_cert *c = ratls_create(&p, 3600, err, sizeof err);
    pthread_join(q.thread, NULL);
    if (!c)
        fail_msg("ratls_create: %s", err);
    assert_int_equal(q.answered, 2);    /* the quote over the key, the quote over the claims */

    /* the certificate, its key and validity */
    const unsigned char *der = c->cert_der;
    X509 *x = d2i_X509(NULL, &der, (long)c->cert_der_len);
    assert_non_null(x);
    BIO *kb = BIO_new_mem_buf(c->key_pem, -1);
    EVP_PKEY *key = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
    assert_non_null(key);
    assert_int_equal(X509_check_private_key(x, key), 1);
    assert_int_equal(X509_verify(x, key), 1);               /* self-signed */
    assert_int_equal(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
    assert_true(X509_cmp_time(X509_get0_notAfter(x), &(time_t){ before + 3590 }) > 0);
    assert_true(X509_cmp_time(X509_get0_notAfter(x), &(time_t){ before + 3700 }) < 0);
    assert_true(X509_cmp_time(X509_get0_notBefore(x), &(time_t){ before }) < 0);

    /* the quote extension: non-critical, the raw quote */
    ASN1_OBJECT *oid = OBJ_txt2obj(RATLS_QUOTE_OID, 1);
    int at = X509_get_ext_by_OBJ(x, oid, -1);
    assert_true(at >= 0);
    X509_EXTENSION *ext = X509_get_ext(x, at);
    assert_int_equal(X509_EXTENSION_get_critical(ext), 0);
    const ASN1_OCTET_STRING *value = X509_EXTENSION_get_data(ext);
    assert_int_equal(ASN1_STRING_length(value), QUOTE_LEN);
    const uint8_t *quote = ASN1_STRING_get0_data(value);
    assert_int_equal(c->quote_len, QUOTE_LEN);
    assert_memory_equal(quote, c->quote, QUOTE_LEN);

    /* its report data: SHA-256 of the certificate's SubjectPublicKeyInfo, then zeros */
    unsigned char *spki = NULL;
    int n = i2d_PUBKEY(X509_get0_pubkey(x), &spki);
    assert_true(n > 0);
    SHA256(spki, (size_t)n, spki_hash);
    OPENSSL_free(spki);
    assert_memory_equal(quote + REPORT_DATA_AT, spki_hash, 32);
    assert_memory_equal(quote + REPORT_DATA_AT + 32, (uint8_t[32]){ 0 }, 32);
    assert_memory_equal(c->report_data, quote + REPORT_DATA_AT, 64);
    read_at(f, "user_report_data", written, sizeof written);
    assert_memory_not_equal(written, c->report_data, 64);   /* the claims' hash came last */
    check_evidence(x, spki_hash);

    ASN1_OBJECT_free(oid);
    EVP_PKEY_free(key);
    BIO_free(kb);
    X509_free(x);
    ratls_free(c);
    platform_close(&p);
}

/* Two identities never share a key (each renewal is a fresh key pair). */
static void test_fresh_key_each_time(void **state)
{
    struct fixture *f = *state;
    struct platform p;
    char err[256] = "";

    f->cfg.standalone = true;    /* no quotes needed for this one */
    open_ok(&f->cfg, &p);
    struct ratls_cert *a = ratls_create(&p, 60, err, sizeof err);
    struct ratls_cert *b = ratls_create(&p, 60, err, sizeof err);
    assert_non_null(a);
    assert_non_null(b);
    assert_null(a->quote);
    assert_memory_not_equal(a->report_data, b->report_data, 32);
    assert_string_not_equal(a->key_pem, b->key_pem);
    ratls_free(a);
    ratls_free(b);
    platform_close(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_root_key_follows_the_signer_key, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_sealed_worker_id_and_ring_survive_and_refuse_another_signer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_attestation_under_oe_simulation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quote_checks_report_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certificate_carries_quote_over_its_key, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fresh_key_each_time, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
