/* platform.h - what the trusted platform gives the worker: a root sealing key, a place for
 * sealed files and (in an enclave) attestation quotes. Backends are a table of function pointers
 * chosen at start-up (curl vtls style): standalone (STANDALONE=true: a random 32-byte root key in
 * DATA_DIR, mode 0600, no quotes) and gramine-sgx (otherwise: the root key from the enclave's
 * signer-bound sealing key, quotes over 64 bytes of report data; platform_gramine.c).
 *
 * The root key is never used directly: every use gets its own key through HKDF-SHA256 with a
 * distinct label (platform_derive). Sealed files are AES-256-GCM under such a derived key with
 * the label as AAD: magic "TWS1" || IV12 || ct || tag16. */
#ifndef TW_PLATFORM_H
#define TW_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

/* Labels of the derived keys; one per purpose. */
#define PLATFORM_LABEL_LOCAL_SEAL "tee-worker local sealing key v1"
#define PLATFORM_LABEL_WORKER_ID  "tee-worker worker_id file v1"
#define PLATFORM_LABEL_KEYRING    "tee-worker key ring file v1"
#define PLATFORM_LABEL_STORE      "tee-worker store secrets v1"

struct platform;

#define PLATFORM_REPORT_DATA_LEN 64
#define PLATFORM_QUOTE_MAX (64 * 1024)

struct platform_ops {
    const char *name;                       /* "standalone", "gramine-sgx" */
    /* open fills p->root_key (and p->attestation_type); returns 0 or -1 with err */
    int (*open)(struct platform *p, const struct config *cfg, char *err, size_t errlen);
    /* quote: see platform_quote; NULL when the backend has no attestation */
    int (*quote)(const struct platform *p, const uint8_t report_data[PLATFORM_REPORT_DATA_LEN],
                 uint8_t **quote, size_t *len, char *err, size_t errlen);
};

struct platform {
    const struct platform_ops *ops;
    char *data_dir;                         /* owned copy of cfg->data_dir */
    char *attestation_dir;                  /* gramine-sgx: owned copy of GRAMINE_ATTESTATION_DIR */
    char attestation_type[16];              /* gramine-sgx: "dcap", "epid" or "none"; "" standalone */
    bool enclave;                           /* true under an enclave backend */
    bool data_dir_locked;                   /* platform_lock_data_dir holds data_dir_fd */
    int data_dir_fd;
    uint8_t root_key[32];
};

/* platform_open picks the backend from cfg (standalone when cfg->standalone, else the enclave
 * backend, which fails clearly when no enclave runtime is present), creates DATA_DIR when missing
 * (mode 0700), removes the temporary files of writes that did not finish (older than a minute,
 * named .<name>.tw-tmp.XXXXXX) and loads or creates the root key. Returns 0 or -1 with err. */
int platform_open(struct platform *p, const struct config *cfg, char *err, size_t errlen);

/* platform_lock_data_dir makes DATA_DIR this process's: an exclusive lock (flock) on the
 * directory, held until platform_close or the process ends (kill -9 included). A second worker
 * on the same DATA_DIR would share the worker id, and with a Redis store its consumer in the
 * stream: each restart of either would run again the jobs the other runs. Returns 0; -1 with err
 * when another process holds the lock. A directory that cannot be opened or a file system
 * without flock (some FUSE or network file systems, an enclave runtime) is logged as a warning,
 * and the worker runs unlocked. */
int platform_lock_data_dir(struct platform *p, char *err, size_t errlen);

/* platform_quote asks the platform for an attestation quote whose report data is report_data
 * (64 bytes; RA-TLS puts SHA-256 of the TLS public key in the first 32 and zeros after). Returns 0
 * with *quote (new buffer, caller frees) and *len; 1 when this platform cannot attest (standalone,
 * or Gramine with attestation_type "none"); -1 with err. Not thread-safe: the Gramine files are
 * one per process, so callers serialise (the certificate rotation is the only caller). */
int platform_quote(const struct platform *p, const uint8_t report_data[PLATFORM_REPORT_DATA_LEN],
                   uint8_t **quote, size_t *len, char *err, size_t errlen);

/* platform_close zeroes the keys and frees what platform_open allocated. */
void platform_close(struct platform *p);

/* platform_derive = HKDF-SHA256(ikm = root key, salt = none, info = label), 32 bytes. */
void platform_derive(const struct platform *p, const char *label, uint8_t out[32]);

/* platform_write_sealed seals data under the key for label and writes DATA_DIR/name atomically
 * (temp file, fsync, rename, fsync of DATA_DIR; mode 0600). Returns 0 once the new file is in
 * place (a failed fsync of DATA_DIR is only logged: the file is installed, its surviving a crash
 * of the machine uncertain), or -1 with err when the old file, if any, is still there. */
int platform_write_sealed(const struct platform *p, const char *name, const char *label,
                          const uint8_t *data, size_t len, char *err, size_t errlen);

/* platform_read_sealed reads and opens DATA_DIR/name. Returns 1 with *data and *len (new buffer,
 * NUL-terminated, caller frees) when the file exists and opens; 0 when it does not exist; -1 with
 * err when it exists but cannot be read or opened (corrupt, other key). */
int platform_read_sealed(const struct platform *p, const char *name, const char *label,
                         uint8_t **data, size_t *len, char *err, size_t errlen);

/* In-memory sealing in the same format as the sealed files, under a key the caller derived with
 * platform_derive: out receives "TWS1" || IV || ct || tag, ptlen + PLATFORM_SEALED_OVERHEAD bytes;
 * label is the AAD. platform_open_bytes writes bloblen - PLATFORM_SEALED_OVERHEAD bytes to out and
 * returns 0, -1 for a bad magic or length, -2 when authentication fails. */
#define PLATFORM_SEALED_OVERHEAD (4 + 12 + 16)
int platform_seal_bytes(const uint8_t key[32], const char *label, const uint8_t *pt, size_t ptlen,
                        uint8_t *out);
int platform_open_bytes(const uint8_t key[32], const char *label, const uint8_t *blob,
                        size_t bloblen, uint8_t *out);

/* A place for the worker's small long-lived secrets (the key ring, the worker id), by name.
 * Two implementations: sealed files in DATA_DIR (platform_file_secrets, used before a store exists
 * and by tests) and the store's secrets table (store_secrets). label names the purpose; the file
 * backend derives its key from it, the store binds it as AAD.
 *   get: 1 found (*data new buffer, NUL-terminated, caller frees), 0 absent, -1 error (err)
 *   put: 0 written, 1 not written because it exists and replace is false, -1 error (err) */
struct secret_store {
    int (*get)(void *ctx, const char *name, const char *label, uint8_t **data, size_t *len,
               char *err, size_t errlen);
    int (*put)(void *ctx, const char *name, const char *label, const uint8_t *data, size_t len,
               bool replace, char *err, size_t errlen);
    void *ctx;
};

/* platform_file_secrets fills out with the sealed-file backend of p (p must outlive it). */
void platform_file_secrets(const struct platform *p, struct secret_store *out);

/* secrets_worker_id loads the worker id from secrets ("worker_id") or creates a new UUIDv4 there
 * (first writer wins). out receives 36 characters and a NUL. Returns 0 or -1 with err. */
int secrets_worker_id(const struct secret_store *secrets, char out[37], char *err, size_t errlen);

/* platform_worker_id loads the worker id from DATA_DIR/worker_id (sealed) or creates a new UUIDv4
 * there. out receives 36 characters and a NUL. Returns 0 or -1 with err. */
int platform_worker_id(const struct platform *p, char out[37], char *err, size_t errlen);

#endif
