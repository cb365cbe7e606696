/* teeworker.h - libteeworker, a small C client for the tee-worker HTTP API.
 *
 * The four steps of a job (README "Using it"):
 *   tw_generate   POST /job/generate  job JSON            -> signature (the sealed job)
 *   tw_submit     POST /job/add       signature           -> job uid
 *   tw_status     GET  /job/status/   uid                 -> sealed result (+ sealed cursor), or pending
 *   tw_decrypt    POST /job/result    signature + sealed  -> clear result
 * plus tw_wait (poll with a retry budget and a delay, as the Go client's GetResult) and
 * tw_get_result (wait, then return the result sealed or decrypted, with the next cursor).
 *
 * A client holds one libcurl handle, so consecutive calls reuse the connection (keep-alive). A
 * client is not for concurrent use: give each thread its own. Strings returned through char **
 * are malloc'd and owned by the caller (free with tw_free or free). Every call returns TW_OK (0),
 * TW_PENDING (tw_status only), or a negative TW_E_* code with *err filled when err is not NULL:
 * err->message carries the server's own error text when there is one, made safe to print (control
 * characters and invalid UTF-8 replaced); uids and sealed values must be printable ASCII, else the
 * answer is TW_E_PROTOCOL. */
#ifndef TEEWORKER_H
#define TEEWORKER_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TW_CLIENT_VERSION "0.1.0"

enum tw_code {
    TW_OK = 0,
    TW_PENDING = 1,          /* tw_status: the job is queued or running */
    TW_E_INVALID = -1,       /* a bad argument to the library */
    TW_E_NOMEM = -2,
    TW_E_TRANSPORT = -3,     /* no HTTP answer: connection refused, DNS, TLS, timeout */
    TW_E_SERVER = -4,        /* the server answered an error status (err->http_status) */
    TW_E_TIMEOUT = -5,       /* tw_wait: still pending when the retry budget ran out */
    TW_E_PROTOCOL = -6,      /* an answer that is not what the API promises */
};

struct tw_error {
    int code;                /* enum tw_code */
    long http_status;        /* 0 when there was no HTTP answer */
    char message[512];
};

struct tw_options {
    const char *url;                 /* required: base URL, e.g. "http://127.0.0.1:8080" */
    const char *api_key;             /* sent as "Authorization: Bearer <key>"; NULL or "" = none */
    long connect_timeout_ms;         /* 0 = 10000 */
    long request_timeout_ms;         /* whole request; 0 = 60000 */
    bool insecure_skip_verify;       /* TLS: accept any certificate (Go's IgnoreTLSCert) */
    const char *pinned_public_key;   /* TLS: accept only this key: "sha256//<base64>" or a PEM/DER
                                        file (the attested certificate's key); implies no chain check */
    const char *ca_file;             /* TLS: CA bundle to verify against instead of the system's */
    const char *user_agent;          /* NULL = "libteeworker/<version>" */
};

/* Progress of tw_wait: called before each poll after the first, with the state the server
 * reported ("queued", "running", "unknown") and the time since tw_wait started. */
typedef void (*tw_progress_fn)(void *user, const char *state, double elapsed_s, unsigned attempt);

struct tw_wait_options {
    unsigned max_attempts;           /* polls before TW_E_TIMEOUT; 0 = 60 */
    unsigned delay_ms;               /* pause between polls; 0 = 1000 */
    tw_progress_fn progress;         /* optional */
    void *user;
};

struct tw_status_info {
    char *sealed_result;             /* TW_OK: the sealed result */
    char *sealed_cursor;             /* TW_OK: X-Next-Cursor, sealed; NULL when the job has none */
    char state[16];                  /* TW_PENDING: "queued", "running" or "unknown" */
};

struct tw_client;

/* tw_client_new copies opts. Returns NULL with err on a bad option (pinned_public_key or ca_file
 * with a URL that is not https://, among others) or out of memory. */
struct tw_client *tw_client_new(const struct tw_options *opts, struct tw_error *err);
void tw_client_free(struct tw_client *c);

/* tw_generate sends job_json (a Job object: {"type":..., "arguments":{...}}) and returns the
 * signature in *signature. */
int tw_generate(struct tw_client *c, const char *job_json, char **signature, struct tw_error *err);

/* tw_generate_args builds the job from type and arguments_json (an object; NULL = {}). */
int tw_generate_args(struct tw_client *c, const char *type, const char *arguments_json,
                     char **signature, struct tw_error *err);

/* tw_submit queues a signature; *uid receives the job uid. */
int tw_submit(struct tw_client *c, const char *signature, char **uid, struct tw_error *err);

/* tw_submit_when_free is tw_submit asked again, within the budget of wait (NULL: the defaults),
 * while the worker answers 503: a full job queue, a store that is away or a worker shutting down
 * has not admitted the job nor recorded its signature, so sending it again is safe. */
int tw_submit_when_free(struct tw_client *c, const char *signature,
                        const struct tw_wait_options *wait, char **uid, struct tw_error *err);

/* tw_status asks once: TW_OK with info->sealed_result (and sealed_cursor), TW_PENDING with
 * info->state, or an error (the job's own error is TW_E_SERVER with its message). Clear info
 * with tw_status_info_clear. */
int tw_status(struct tw_client *c, const char *uid, struct tw_status_info *info,
              struct tw_error *err);
void tw_status_info_clear(struct tw_status_info *info);

/* tw_wait polls tw_status until the job is done, fails, or the budget runs out (TW_E_TIMEOUT).
 * Transport errors and 503 answers (a busy worker: its answer budget spent, its store away) while
 * polling are retried within the same budget. wait may be NULL. */
int tw_wait(struct tw_client *c, const char *uid, const struct tw_wait_options *wait,
            struct tw_status_info *info, struct tw_error *err);

/* tw_decrypt opens a sealed value (a result or a cursor) of the job `signature` through
 * /job/result: *clear receives the bytes (NUL-terminated), *len their length (len may be NULL).
 * Works later too, on a sealed result kept from tw_get_result(decrypt = false). */
int tw_decrypt(struct tw_client *c, const char *signature, const char *sealed, char **clear,
               size_t *len, struct tw_error *err);

/* tw_get_result waits for job uid (submitted from signature) and returns its result in *result,
 * sealed or decrypted; *next_cursor (when not NULL) receives the job's next cursor, clear when
 * decrypt is true and sealed otherwise, or NULL when it has none. Opening them is asked again on
 * a 503 answer, within the same kind of budget as the wait. */
int tw_get_result(struct tw_client *c, const char *signature, const char *uid,
                  const struct tw_wait_options *wait, bool decrypt, char **result,
                  char **next_cursor, struct tw_error *err);

/* tw_strerror names a tw_code. */
const char *tw_strerror(int code);

void tw_free(void *p);

#ifdef __cplusplus
}
#endif

#endif
