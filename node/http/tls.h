/*
 * tls.h - the OpenSSL side of HTTPS and wss:// (libwebsockets owns the
 * connections; these functions prepare and renew its SSL_CTXs) and the
 * self-signed certificate of `lienthong tls selfsign`.
 *
 * SSL_CTX pointers are void * here so that callers need not include
 * OpenSSL's headers.
 */
#ifndef LT_TLS_H
#define LT_TLS_H

#include <stddef.h>

/* Loads the PEM certificate chain cert_file and the PEM key key_file,
 * checks that they belong together, then makes ssl_ctx (an SSL_CTX *)
 * serve them. Nothing changes on any failure: returns -1 with err naming
 * the file and the reason. On 0, serial holds the certificate's serial
 * number in hex (cap bytes; may be NULL). */
int tls_ctx_load_pair(void *ssl_ctx, const char *cert_file, const char *key_file, char *serial,
                      size_t cap, char *err, size_t errlen);

/* Makes the client ssl_ctx (an SSL_CTX *) trust the CAs of ca_file, or
 * the system's CA store when ca_file is NULL. Returns 0, or -1 with err. */
int tls_ctx_trust(void *ssl_ctx, const char *ca_file, char *err, size_t errlen);

/* Why ssl (an SSL *, may be NULL) refused its peer's certificate, in
 * OpenSSL's words ("self-signed certificate", "certificate has expired",
 * "hostname mismatch"), or NULL when it did not. */
const char *tls_verify_error(void *ssl);

/* Checks that ca_file holds at least one PEM certificate. Returns 0, or
 * -1 with err saying what is wrong with the file and what to do. */
int tls_ca_file_check(const char *ca_file, char *err, size_t errlen);

/* Checks that cert_file and key_file load and match (tls_ctx_load_pair on
 * a scratch context). Returns 0, or -1 with err. */
int tls_pair_check(const char *cert_file, const char *key_file, char *err, size_t errlen);

/* Writes a new self-signed certificate for the host names and IP
 * addresses hosts[0..nhosts) (subjectAltName; the first is the common
 * name), valid for days from now, with a new P-256 key: the key to
 * key_file (mode 0600) and the certificate to cert_file, each through a
 * temporary file renamed into place. Returns 0, or -1 with err. */
int tls_selfsign(const char *cert_file, const char *key_file, const char *const *hosts,
                 size_t nhosts, int days, char *err, size_t errlen);

#endif
