/* platform_backends.h - the backends behind platform.h and the few helpers they share with
 * platform.c. Internal to src/tee/: the rest of the worker goes through platform_open. */
#ifndef TW_PLATFORM_BACKENDS_H
#define TW_PLATFORM_BACKENDS_H

#include <stddef.h>
#include <stdint.h>

#include "tee/platform.h"

/* Standalone: a random 32-byte root key in DATA_DIR/platform.key (mode 0600). */
extern const struct platform_ops platform_standalone_ops;

/* Gramine-SGX: root key expanded from <GRAMINE_ATTESTATION_DIR>/keys/_sgx_mrsigner; quotes from
 * user_report_data and quote in the same directory. */
extern const struct platform_ops platform_gramine_ops;


/* platform_fsync_dir makes a rename or creation inside dir durable. Returns 0 or -1 (errno). */
int platform_fsync_dir(const char *dir);

/* platform_path writes dir + "/" + name into out. Returns 0, or -1 when it does not fit. */
int platform_path(char *out, size_t outlen, const char *dir, const char *name);

/* platform_create_file creates dir/name holding buf[0..len), mode 0600, whole or not at all: the
 * bytes go to a temporary file in dir, synced, which is then linked (or, without hard links,
 * renamed) to the name and the directory synced, so a crash leaves no partial file under the
 * name. Returns 0 (created; a failed sync of dir is only logged), 1 when dir/name already exists
 * (left as it is), or -1 with err (not created). */
int platform_create_file(const char *dir, const char *name, const uint8_t *buf, size_t len,
                         char *err, size_t errlen);

#endif
