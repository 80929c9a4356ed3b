// Shim for the OpenSSL 3 macros Swift cannot import (function-like macros and SSL_OP_* bit
// constants). Each wrapper is a `static inline` one-liner over the documented ctrl call, so
// nothing here needs its own object file. See ../../../shared/TOOLCHAIN.md ("C libraries").
#ifndef EPSILON_COPENSSL_SHIM_H
#define EPSILON_COPENSSL_SHIM_H

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/ocsp.h>
#include <openssl/evp.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

// MARK: Protocol versions and options
static inline int epsilon_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}
static inline int epsilon_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}
static inline uint64_t epsilon_SSL_OP_NO_TICKET(void) { return SSL_OP_NO_TICKET; }
static inline uint64_t epsilon_SSL_OP_NO_COMPRESSION(void) { return SSL_OP_NO_COMPRESSION; }
static inline uint64_t epsilon_SSL_OP_NO_RENEGOTIATION(void) { return SSL_OP_NO_RENEGOTIATION; }
static inline uint64_t epsilon_SSL_OP_CIPHER_SERVER_PREFERENCE(void) { return SSL_OP_CIPHER_SERVER_PREFERENCE; }
static inline uint64_t epsilon_SSL_OP_IGNORE_UNEXPECTED_EOF(void) { return SSL_OP_IGNORE_UNEXPECTED_EOF; }
static inline int epsilon_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_groups_list(ctx, list);
}
static inline long epsilon_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }
static inline long epsilon_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER(void) { return SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER; }
static inline long epsilon_SSL_MODE_ENABLE_PARTIAL_WRITE(void) { return SSL_MODE_ENABLE_PARTIAL_WRITE; }

// MARK: Session cache
static inline long epsilon_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}
static inline long epsilon_SSL_SESS_CACHE_CLIENT(void) { return SSL_SESS_CACHE_CLIENT; }
static inline long epsilon_SSL_SESS_CACHE_SERVER(void) { return SSL_SESS_CACHE_SERVER; }
static inline long epsilon_SSL_SESS_CACHE_NO_INTERNAL_STORE(void) { return SSL_SESS_CACHE_NO_INTERNAL_STORE; }
static inline long epsilon_SSL_CTX_sess_set_cache_size(SSL_CTX *ctx, long size) {
    return SSL_CTX_sess_set_cache_size(ctx, size);
}

// MARK: SNI
static inline int epsilon_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}
static inline void epsilon_SSL_CTX_set_servername_callback(SSL_CTX *ctx, int (*cb)(SSL *, int *, void *), void *arg) {
    SSL_CTX_set_tlsext_servername_callback(ctx, cb);
    SSL_CTX_set_tlsext_servername_arg(ctx, arg);
}

// MARK: OCSP stapling
static inline void epsilon_SSL_CTX_set_status_callback(SSL_CTX *ctx, int (*cb)(SSL *, void *), void *arg) {
    SSL_CTX_set_tlsext_status_cb(ctx, cb);
    SSL_CTX_set_tlsext_status_arg(ctx, arg);
}
static inline int epsilon_SSL_request_ocsp_status(SSL *ssl) {
    return (int)SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
}
/// Copies `len` bytes into OpenSSL-owned memory and hands them to `ssl` as the stapled response.
static inline int epsilon_SSL_staple_ocsp_response(SSL *ssl, const unsigned char *bytes, long len) {
    unsigned char *copy = OPENSSL_malloc(len > 0 ? (size_t)len : 1);
    if (copy == NULL) return 0;
    memcpy(copy, bytes, (size_t)len);
    if (!SSL_set_tlsext_status_ocsp_resp(ssl, copy, len)) { OPENSSL_free(copy); return 0; }
    return 1;
}
static inline long epsilon_SSL_get_ocsp_response(SSL *ssl, const unsigned char **out) {
    return SSL_get_tlsext_status_ocsp_resp(ssl, out);
}

// MARK: Memory BIOs
static inline long epsilon_BIO_pending(BIO *bio) { return (long)BIO_pending(bio); }
static inline long epsilon_BIO_set_mem_eof_return(BIO *bio, int value) { return BIO_set_mem_eof_return(bio, value); }

// MARK: Key log
/// Appends one SSLKEYLOGFILE line (and a newline) to the file at `path`; 1 on success.
static inline int epsilon_keylog_append(const char *path, const char *line) {
    FILE *file = fopen(path, "a");
    if (file == NULL) return 0;
    int ok = fputs(line, file) >= 0 && fputc('\n', file) != EOF;
    return fclose(file) == 0 && ok;
}

// MARK: Misc
static inline unsigned long epsilon_XN_FLAG_RFC2253(void) { return XN_FLAG_RFC2253; }
static inline const char *epsilon_getenv(const char *name) { return getenv(name); }
static inline void epsilon_OPENSSL_free(void *p) { OPENSSL_free(p); }
static inline int epsilon_OCSP_response_status_successful(void) { return OCSP_RESPONSE_STATUS_SUCCESSFUL; }

#endif
