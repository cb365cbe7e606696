/* gnutls_lazy.c - the GnuTLS functions libmicrohttpd calls, forwarding to GnuTLS opened on first
 * use (util/lazy_lib.h).
 *
 * The worker links Debian's static libmicrohttpd (meson.build says why); its HTTPS code calls
 * GnuTLS, which only the enclave's attested listener uses (http_start_tls). A standalone worker
 * thus never maps GnuTLS and what it pulls in (p11-kit, gmp, hogweed, tasn1, idn2, unistring:
 * about 2 MB resident, and their start-up work: p11-kit reads its module configuration).
 *
 * Each function below has the name and prototype of the real one (the headers are included, so
 * the compiler checks them) and calls it through an address resolved once. The list is what
 * libmicrohttpd.a references: one it starts to call fails the link (--no-undefined) until it has
 * a stub here; test_lazy_lib checks that every symbol listed resolves.
 *
 * gnutls_global_init is the one call made before any TLS is wanted: libmicrohttpd's library
 * constructor makes it. It is held until GnuTLS is opened (an HTTPS daemon starting), when
 * on_load makes it for real; gnutls_global_deinit (libmicrohttpd's destructor) is passed on only
 * if GnuTLS was opened, so the two stay paired. gnutls_malloc, a variable in GnuTLS (the allocator
 * it frees with gnutls_free), is defined here as a function that calls GnuTLS's own. */
#include "http/gnutls_lazy.h"

#include <dlfcn.h>
#include <stdio.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "util/lazy_lib.h"

#ifndef TW_LIBGNUTLS_SONAME
#define TW_LIBGNUTLS_SONAME "libgnutls.so.30"   /* Debian 12; meson passes the one it found */
#endif

#define GNUTLS_SYMBOLS(X) \
    X(gnutls_global_init) X(gnutls_global_deinit) X(gnutls_malloc) X(gnutls_strerror) \
    X(gnutls_init) X(gnutls_deinit) X(gnutls_handshake) X(gnutls_bye) \
    X(gnutls_record_recv) X(gnutls_record_send) X(gnutls_record_check_pending) \
    X(gnutls_record_get_direction) X(gnutls_session_get_ptr) X(gnutls_session_set_ptr) \
    X(gnutls_transport_set_int2) X(gnutls_priority_init) X(gnutls_priority_deinit) \
    X(gnutls_priority_set) X(gnutls_credentials_set) X(gnutls_alpn_set_protocols) \
    X(gnutls_cipher_get) X(gnutls_protocol_get_version) \
    X(gnutls_certificate_allocate_credentials) X(gnutls_certificate_free_credentials) \
    X(gnutls_certificate_server_set_request) X(gnutls_certificate_set_dh_params) \
    X(gnutls_certificate_set_retrieve_function2) X(gnutls_certificate_set_retrieve_function3) \
    X(gnutls_certificate_set_x509_key_mem) X(gnutls_certificate_set_x509_key_mem2) \
    X(gnutls_certificate_set_x509_trust_mem) \
    X(gnutls_dh_params_init) X(gnutls_dh_params_deinit) X(gnutls_dh_params_import_pkcs3) \
    X(gnutls_psk_allocate_server_credentials) X(gnutls_psk_free_server_credentials) \
    X(gnutls_psk_set_server_credentials_function)

enum { GNUTLS_SYMBOLS(LAZY_SYM_ENUM) GNUTLS_SYMBOL_COUNT };
static struct lazy_sym syms[GNUTLS_SYMBOL_COUNT] = { GNUTLS_SYMBOLS(LAZY_SYM_ENTRY) };

/* The global initialisation libmicrohttpd asked for before GnuTLS was open. GnuTLS also
 * initialises itself when loaded, unless GNUTLS_NO_IMPLICIT_INIT is set; the explicit call keeps
 * the library usable either way (the calls are counted, the second costs nothing). */
static int init_gnutls(void *handle, char *err, size_t errlen)
{
    __typeof__(&gnutls_global_init) global_init =
        (__typeof__(&gnutls_global_init))dlsym(handle, "gnutls_global_init");
    if (!global_init) {
        snprintf(err, errlen, "%s", dlerror());
        return -1;
    }
    int rc = global_init();
    if (rc < 0) {
        snprintf(err, errlen, "gnutls_global_init failed (code %d)", rc);
        return -1;
    }
    return 0;
}

static struct lazy_lib gnutls_lib = LAZY_LIB_INIT(TW_LIBGNUTLS_SONAME,
    "the enclave's HTTPS listener", init_gnutls);

/* REAL(name): GnuTLS's name, with the type of its prototype in the header. */
#define REAL(name) ((__typeof__(&name))lazy_lib_sym(&gnutls_lib, &syms[LAZY_SYM_##name]))

bool gnutls_lazy_loaded(void)
{
    return lazy_lib_loaded(&gnutls_lib);
}

int gnutls_lazy_resolve_all(char *err, size_t errlen)
{
    return lazy_lib_resolve_all(&gnutls_lib, syms, GNUTLS_SYMBOL_COUNT, err, errlen);
}

int gnutls_global_init(void)
{
    /* before GnuTLS is open: held, made by init_gnutls when it is */
    return gnutls_lazy_loaded() ? REAL(gnutls_global_init)() : 0;
}

void gnutls_global_deinit(void)
{
    if (gnutls_lazy_loaded())
        REAL(gnutls_global_deinit)();
}

static void *call_gnutls_malloc(size_t size)
{
    gnutls_alloc_function *real = (gnutls_alloc_function *)lazy_lib_sym(&gnutls_lib,
                                                                        &syms[LAZY_SYM_gnutls_malloc]);
    return (*real)(size);
}

gnutls_alloc_function gnutls_malloc = call_gnutls_malloc;

const char *gnutls_strerror(int error)
{
    return REAL(gnutls_strerror)(error);
}

int gnutls_init(gnutls_session_t *session, unsigned int flags)
{
    return REAL(gnutls_init)(session, flags);
}

void gnutls_deinit(gnutls_session_t session)
{
    REAL(gnutls_deinit)(session);
}

int gnutls_handshake(gnutls_session_t session)
{
    return REAL(gnutls_handshake)(session);
}

int gnutls_bye(gnutls_session_t session, gnutls_close_request_t how)
{
    return REAL(gnutls_bye)(session, how);
}

ssize_t gnutls_record_recv(gnutls_session_t session, void *data, size_t data_size)
{
    return REAL(gnutls_record_recv)(session, data, data_size);
}

ssize_t gnutls_record_send(gnutls_session_t session, const void *data, size_t data_size)
{
    return REAL(gnutls_record_send)(session, data, data_size);
}

size_t gnutls_record_check_pending(gnutls_session_t session)
{
    return REAL(gnutls_record_check_pending)(session);
}

int gnutls_record_get_direction(gnutls_session_t session)
{
    return REAL(gnutls_record_get_direction)(session);
}

void *gnutls_session_get_ptr(gnutls_session_t session)
{
    return REAL(gnutls_session_get_ptr)(session);
}

void gnutls_session_set_ptr(gnutls_session_t session, void *ptr)
{
    REAL(gnutls_session_set_ptr)(session, ptr);
}

void gnutls_transport_set_int2(gnutls_session_t session, int r, int s)
{
    REAL(gnutls_transport_set_int2)(session, r, s);
}

int gnutls_priority_init(gnutls_priority_t *priority_cache, const char *priorities,
                         const char **err_pos)
{
    return REAL(gnutls_priority_init)(priority_cache, priorities, err_pos);
}

void gnutls_priority_deinit(gnutls_priority_t priority_cache)
{
    REAL(gnutls_priority_deinit)(priority_cache);
}

int gnutls_priority_set(gnutls_session_t session, gnutls_priority_t priority)
{
    return REAL(gnutls_priority_set)(session, priority);
}

int gnutls_credentials_set(gnutls_session_t session, gnutls_credentials_type_t type, void *cred)
{
    return REAL(gnutls_credentials_set)(session, type, cred);
}

int gnutls_alpn_set_protocols(gnutls_session_t session, const gnutls_datum_t *protocols,
                              unsigned protocols_size, unsigned flags)
{
    return REAL(gnutls_alpn_set_protocols)(session, protocols, protocols_size, flags);
}

gnutls_cipher_algorithm_t gnutls_cipher_get(gnutls_session_t session)
{
    return REAL(gnutls_cipher_get)(session);
}

gnutls_protocol_t gnutls_protocol_get_version(gnutls_session_t session)
{
    return REAL(gnutls_protocol_get_version)(session);
}

int gnutls_certificate_allocate_credentials(gnutls_certificate_credentials_t *res)
{
    return REAL(gnutls_certificate_allocate_credentials)(res);
}

void gnutls_certificate_free_credentials(gnutls_certificate_credentials_t sc)
{
    REAL(gnutls_certificate_free_credentials)(sc);
}

void gnutls_certificate_server_set_request(gnutls_session_t session,
                                           gnutls_certificate_request_t req)
{
    REAL(gnutls_certificate_server_set_request)(session, req);
}

void gnutls_certificate_set_dh_params(gnutls_certificate_credentials_t res,
                                      gnutls_dh_params_t dh_params)
{
    REAL(gnutls_certificate_set_dh_params)(res, dh_params);
}

void gnutls_certificate_set_retrieve_function2(gnutls_certificate_credentials_t cred,
                                               gnutls_certificate_retrieve_function2 *func)
{
    REAL(gnutls_certificate_set_retrieve_function2)(cred, func);
}

void gnutls_certificate_set_retrieve_function3(gnutls_certificate_credentials_t cred,
                                               gnutls_certificate_retrieve_function3 *func)
{
    REAL(gnutls_certificate_set_retrieve_function3)(cred, func);
}

int gnutls_certificate_set_x509_key_mem(gnutls_certificate_credentials_t res,
                                        const gnutls_datum_t *cert, const gnutls_datum_t *key,
                                        gnutls_x509_crt_fmt_t type)
{
    return REAL(gnutls_certificate_set_x509_key_mem)(res, cert, key, type);
}

int gnutls_certificate_set_x509_key_mem2(gnutls_certificate_credentials_t res,
                                         const gnutls_datum_t *cert, const gnutls_datum_t *key,
                                         gnutls_x509_crt_fmt_t type, const char *pass,
                                         unsigned int flags)
{
    return REAL(gnutls_certificate_set_x509_key_mem2)(res, cert, key, type, pass, flags);
}

int gnutls_certificate_set_x509_trust_mem(gnutls_certificate_credentials_t res,
                                          const gnutls_datum_t *ca, gnutls_x509_crt_fmt_t type)
{
    return REAL(gnutls_certificate_set_x509_trust_mem)(res, ca, type);
}

int gnutls_dh_params_init(gnutls_dh_params_t *dh_params)
{
    return REAL(gnutls_dh_params_init)(dh_params);
}

void gnutls_dh_params_deinit(gnutls_dh_params_t dh_params)
{
    REAL(gnutls_dh_params_deinit)(dh_params);
}

int gnutls_dh_params_import_pkcs3(gnutls_dh_params_t params, const gnutls_datum_t *pkcs3_params,
                                  gnutls_x509_crt_fmt_t format)
{
    return REAL(gnutls_dh_params_import_pkcs3)(params, pkcs3_params, format);
}

int gnutls_psk_allocate_server_credentials(gnutls_psk_server_credentials_t *sc)
{
    return REAL(gnutls_psk_allocate_server_credentials)(sc);
}

void gnutls_psk_free_server_credentials(gnutls_psk_server_credentials_t sc)
{
    REAL(gnutls_psk_free_server_credentials)(sc);
}

void gnutls_psk_set_server_credentials_function(gnutls_psk_server_credentials_t cred,
                                                gnutls_psk_server_credentials_function *func)
{
    REAL(gnutls_psk_set_server_credentials_function)(cred, func);
}
