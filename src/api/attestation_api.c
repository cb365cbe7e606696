/* attestation_api.c - GET /attestation: the current attested TLS identity, for verifiers.
 *
 * Served in enclave mode only (the route is absent in standalone mode) and open like /healthz:
 * everything in it is already in the certificate any TLS client receives. The answer is
 *   {"attestation_type": "dcap", "quote": "<base64 of the SGX quote>",
 *    "report_data": "<hex of the 64 bytes the quote carries>",
 *    "certificate": "<PEM>", "not_before": "<RFC 3339>", "expires_at": "<RFC 3339>"}
 * A verifier checks the quote (Intel's chain, the enclave measurements), that the report data is
 * SHA-256 of the certificate's SubjectPublicKeyInfo followed by 32 zero bytes, and that the
 * certificate is the one the TLS handshake presented. Without attestation (OE_SIMULATION and
 * Gramine's attestation_type "none") the answer is 503; so it is, with Retry-After, on a
 * connection whose certificate was renewed since it was accepted: the identity described is
 * always that of the connection asking. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "tee/attested_tls.h"
#include "tee/ratls.h"
#include "util/b64.h"

struct describe {
    const char *attestation_type;
    const char *conn_cert;      /* PEM the connection was handshaken with; NULL: unknown */
    json_t *doc;
    bool no_quote;
    bool other_cert;            /* the current identity is not the connection's (renewed since) */
};

static void rfc3339(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void describe_current(const struct ratls_cert *c, void *arg)
{
    struct describe *d = arg;
    char hex[2 * sizeof c->report_data + 1], from[32], until[32];

    if (c->quote == NULL) {
        d->no_quote = true;
        return;
    }
    if (d->conn_cert != NULL && strcmp(d->conn_cert, c->cert_pem) != 0) {
        d->other_cert = true;
        return;
    }
    for (size_t i = 0; i < sizeof c->report_data; i++)
        snprintf(hex + 2 * i, 3, "%02x", c->report_data[i]);
    rfc3339(c->not_before, from);
    rfc3339(c->not_after, until);
    char *quote = b64_encode_alloc(c->quote, c->quote_len);
    if (quote != NULL)
        d->doc = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "attestation_type", d->attestation_type,
                           "quote", quote, "report_data", hex, "certificate", c->cert_pem,
                           "not_before", from, "expires_at", until);
    free(quote);
}

void api_attestation(struct app *app, const struct http_request *req, struct http_response *resp)
{
    struct describe d = { .attestation_type = app->platform.attestation_type,
                          .conn_cert = http_tls_cert(req) };
    attested_tls_read(app->tls, describe_current, &d);
    if (d.no_quote) {
        http_reply_error(resp, 503, "attestation unavailable: Gramine runs without remote "
                                    "attestation (attestation_type none, OE_SIMULATION)");
        return;
    }
    if (d.other_cert) {
        /* A connection accepted before a renewal (the answer closes it), or one accepted by the
         * new listener in the instant before the new identity is published: either way the
         * current identity is not the certificate this connection presented, which a verifier
         * would compare it with. */
        http_reply_error(resp, 503, "the TLS certificate of this connection was renewed; "
                                    "reconnect for the current one");
        http_add_header(resp, "Retry-After", "1");
        return;
    }
    if (d.doc == NULL) {
        http_reply_error(resp, 500, "out of memory");
        return;
    }
    http_reply_json(resp, 200, d.doc);
}
