/*
 * tls.c - loading certificates, keys and CAs into OpenSSL contexts. See
 * tls.h.
 */
#include "node/http/tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

/* OpenSSL's last error as text ("" when none), clearing its queue. */
static const char *tls_why(char *buf, size_t cap)
{
    unsigned long e = ERR_peek_last_error();
    buf[0] = '\0';
    if (e)
        ERR_error_string_n(e, buf, cap);
    ERR_clear_error();
    return buf;
}

/* The certificate chain of path: the leaf into *leaf, the rest into
 * *chain. Returns 0, or -1 with err. */
static int read_chain(const char *path, X509 **leaf, STACK_OF(X509) * *chain, char *err,
                      size_t errlen)
{
    char why[256];
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read the TLS certificate %s: %s", path, strerror(errno));
        return -1;
    }
    *leaf = PEM_read_X509(f, NULL, NULL, NULL);
    *chain = sk_X509_new_null();
    X509 *x;
    while (*leaf && *chain && (x = PEM_read_X509(f, NULL, NULL, NULL)))
        if (!sk_X509_push(*chain, x))
            X509_free(x);
    fclose(f);
    ERR_clear_error(); /* the end of the file reads as an error */
    if (!*leaf || !*chain) {
        snprintf(err, errlen,
                 "%s holds no PEM certificate (%s): give the certificate file "
                 "(-----BEGIN CERTIFICATE-----), leaf first, then its intermediates",
                 path, tls_why(why, sizeof why));
        X509_free(*leaf);
        sk_X509_pop_free(*chain, X509_free);
        return -1;
    }
    return 0;
}

static EVP_PKEY *read_key(const char *path, char *err, size_t errlen)
{
    char why[256];
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read the TLS key %s: %s", path, strerror(errno));
        return NULL;
    }
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!k)
        snprintf(err, errlen,
                 "%s holds no unencrypted PEM private key (%s): give the key of the "
                 "certificate, without a passphrase",
                 path, tls_why(why, sizeof why));
    return k;
}

/* The serial number of x in hex into out. */
static void serial_hex(X509 *x, char *out, size_t cap)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    snprintf(out, cap, "%s", hex ? hex : "?");
    OPENSSL_free(hex);
    BN_free(bn);
}

int tls_ctx_load_pair(void *ssl_ctx, const char *cert_file, const char *key_file, char *serial,
                      size_t cap, char *err, size_t errlen)
{
    X509 *leaf;
    STACK_OF(X509) * chain;
    char why[256];
    if (read_chain(cert_file, &leaf, &chain, err, errlen))
        return -1;
    EVP_PKEY *key = read_key(key_file, err, errlen);
    int rc = -1;
    if (!key)
        goto out;
    if (X509_check_private_key(leaf, key) != 1) {
        ERR_clear_error();
        snprintf(err, errlen,
                 "the key %s does not belong to the certificate %s: give the key the "
                 "certificate was made for",
                 key_file, cert_file);
        goto out;
    }
    if (SSL_CTX_use_cert_and_key(ssl_ctx, leaf, key, chain, 1) != 1) {
        snprintf(err, errlen, "OpenSSL refused the certificate %s with the key %s: %s", cert_file,
                 key_file, tls_why(why, sizeof why));
        goto out;
    }
    if (serial)
        serial_hex(leaf, serial, cap);
    rc = 0;
out:
    EVP_PKEY_free(key);
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    return rc;
}

int tls_pair_check(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
    SSL_CTX *scratch = SSL_CTX_new(TLS_server_method());
    if (!scratch) {
        snprintf(err, errlen, "OpenSSL cannot make a TLS context (out of memory)");
        return -1;
    }
    int rc = tls_ctx_load_pair(scratch, cert_file, key_file, NULL, 0, err, errlen);
    SSL_CTX_free(scratch);
    return rc;
}

int tls_ctx_trust(void *ssl_ctx, const char *ca_file, char *err, size_t errlen)
{
    char why[256];
    int ok = ca_file ? SSL_CTX_load_verify_locations(ssl_ctx, ca_file, NULL)
                     : SSL_CTX_set_default_verify_paths(ssl_ctx);
    if (ok != 1) {
        snprintf(err, errlen, "cannot load the CA certificates of %s: %s",
                 ca_file ? ca_file : "the system store", tls_why(why, sizeof why));
        return -1;
    }
    return 0;
}

const char *tls_verify_error(void *ssl)
{
    long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    return v == X509_V_OK ? NULL : X509_verify_cert_error_string(v);
}

int tls_ca_file_check(const char *ca_file, char *err, size_t errlen)
{
    X509 *leaf;
    STACK_OF(X509) * chain;
    if (read_chain(ca_file, &leaf, &chain, err, errlen))
        return -1;
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    return 0;
}
