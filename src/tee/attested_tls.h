/* attested_tls.h - the worker's current attested TLS identity (ratls.h) and its renewal.
 *
 * In enclave mode the worker serves HTTPS only, with a certificate that carries a quote over its
 * key. attested_tls_open makes the first identity; attested_tls_start runs a thread that makes a
 * new key, quote and certificate after two thirds of the validity (core-protocol.md 10 #32: the Go
 * worker's certificate simply expired) and hands them to an installer (the HTTP server's
 * http_replace_tls, through app.c). A failed renewal is logged and retried every 10 s while the
 * old certificate is still valid. Thread-safe. */
#ifndef TW_ATTESTED_TLS_H
#define TW_ATTESTED_TLS_H

#include <stddef.h>

struct platform;
struct ratls_cert;
struct attested_tls;

/* Where a renewed identity goes. install returns 0 or -1 with err (the old one then stays);
 * tick runs about once a second on the renewal thread (the server reaps replaced listeners). */
struct tls_installer {
    int (*install)(void *ctx, const char *key_pem, const char *cert_pem, char *err, size_t errlen);
    void (*tick)(void *ctx);
    void *ctx;
};

/* attested_tls_open makes the first identity (p must outlive the result). NULL with err. */
struct attested_tls *attested_tls_open(const struct platform *p, unsigned validity_s, char *err,
                                       size_t errlen);

/* attested_tls_start starts the renewal thread. Returns 0 or -1 with err. */
int attested_tls_start(struct attested_tls *at, const struct tls_installer *installer, char *err,
                       size_t errlen);

/* attested_tls_stop stops and joins the renewal thread (if started); the identity stays readable. */
void attested_tls_stop(struct attested_tls *at);

/* attested_tls_read calls fn with the current identity under the lock (fn must not keep it). */
void attested_tls_read(struct attested_tls *at, void (*fn)(const struct ratls_cert *, void *),
                       void *ctx);

/* attested_tls_free stops the thread and frees everything. NULL is fine. */
void attested_tls_free(struct attested_tls *at);

#endif
