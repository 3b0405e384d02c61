/*
 * test_tls.c - the OpenSSL side of HTTPS (node/http/tls.h) and the URL
 * schemes (node/http/url.h): a self-signed pair loads and gives its serial,
 * a key of another certificate or a file that is no PEM is refused and
 * changes nothing, the key file is 0600; wss:// and https:// set tls and
 * port 443, and each parser takes only its schemes.
 */
#include "node/http/tls.h"
#include "node/http/url.h"
#include "tests/check.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

/* The serial of the certificate ctx serves, in hex. */
static void ctx_serial(SSL_CTX *ctx, char *out, size_t cap)
{
    X509 *x = SSL_CTX_get0_certificate(ctx);
    BIGNUM *bn = x ? ASN1_INTEGER_to_BN(X509_get_serialNumber(x), NULL) : NULL;
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    snprintf(out, cap, "%s", hex ? hex : "");
    OPENSSL_free(hex);
    BN_free(bn);
}

static void test_selfsign_and_load(void)
{
    char c1[128], k1[128], c2[128], k2[128], bad[128], err[512], serial[128], now[128];
    const char *hosts[] = {"localhost", "127.0.0.1"};
    path(c1, sizeof c1, "c1.pem");
    path(k1, sizeof k1, "k1.pem");
    path(c2, sizeof c2, "c2.pem");
    path(k2, sizeof k2, "k2.pem");
    path(bad, sizeof bad, "bad.pem");
    REQUIRE(tls_selfsign(c1, k1, hosts, 2, 30, err, sizeof err) == 0);
    REQUIRE(tls_selfsign(c2, k2, hosts, 1, 30, err, sizeof err) == 0);
    struct stat st;
    CHECK(stat(k1, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(tls_selfsign(c1, k1, hosts, 0, 30, err, sizeof err) == -1 && strstr(err, "host"));

    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    REQUIRE(ctx);
    CHECK(tls_ctx_load_pair(ctx, c1, k1, serial, sizeof serial, err, sizeof err) == 0);
    ctx_serial(ctx, now, sizeof now);
    CHECKF(serial[0] && !strcmp(serial, now), "serial %s, served %s", serial, now);
    CHECK(tls_pair_check(c2, k2, err, sizeof err) == 0);

    /* the key of another certificate: refused, the served pair unchanged */
    CHECK(tls_ctx_load_pair(ctx, c2, k1, NULL, 0, err, sizeof err) == -1);
    CHECKF(strstr(err, "does not belong to the certificate") != NULL, "%s", err);
    ctx_serial(ctx, now, sizeof now);
    CHECK(!strcmp(serial, now));

    FILE *f = fopen(bad, "w");
    REQUIRE(f);
    fputs("not a certificate\n", f);
    fclose(f);
    CHECK(tls_ctx_load_pair(ctx, bad, k1, NULL, 0, err, sizeof err) == -1);
    CHECKF(strstr(err, bad) && strstr(err, "no PEM certificate"), "%s", err);
    CHECK(tls_ctx_load_pair(ctx, c1, bad, NULL, 0, err, sizeof err) == -1);
    CHECKF(strstr(err, bad) && strstr(err, "private key"), "%s", err);
    CHECK(tls_ca_file_check(bad, err, sizeof err) == -1);
    CHECK(tls_ca_file_check(c1, err, sizeof err) == 0);
    ctx_serial(ctx, now, sizeof now);
    CHECK(!strcmp(serial, now));
    SSL_CTX_free(ctx);
    const char *names[] = {"c1.pem", "k1.pem", "c2.pem", "k2.pem", "bad.pem"};
    for (size_t i = 0; i < 5; i++) {
        char p[128];
        path(p, sizeof p, names[i]);
        unlink(p);
    }
}

static void test_url_schemes(void)
{
    url_parts u;
    char err[256], ws[300];
    CHECK(url_parse("ws://10.0.0.1/", false, &u, err, sizeof err) == 0 && !u.tls && u.port == 80);
    CHECK(url_parse("wss://prov.example/", false, &u, err, sizeof err) == 0 && u.tls &&
          u.port == 443 && !strcmp(u.host, "prov.example"));
    CHECK(url_parse("wss://10.0.0.1:8443/x", false, &u, err, sizeof err) == 0 && u.tls &&
          u.port == 8443 && !strcmp(u.path, "/x"));
    url_ws(&u, ws, sizeof ws);
    CHECKF(!strcmp(ws, "wss://10.0.0.1:8443/"), "%s", ws);
    CHECK(url_parse("https://10.0.0.1:8443/", true, &u, err, sizeof err) == 0 && u.tls);
    url_ws(&u, ws, sizeof ws);
    CHECK(!strcmp(ws, "wss://10.0.0.1:8443/"));
    CHECK(url_parse("http://10.0.0.1:8080/", true, &u, err, sizeof err) == 0 && !u.tls);
    url_ws(&u, ws, sizeof ws);
    CHECK(!strcmp(ws, "ws://10.0.0.1:8080/"));
    CHECK(url_parse("https://10.0.0.1/", false, &u, err, sizeof err) == -1 &&
          strstr(err, "ws:// or wss://"));
    CHECK(url_parse("ftp://10.0.0.1/", true, &u, err, sizeof err) == -1 && strstr(err, "https://"));
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/lt-tls-XXXXXX");
    REQUIRE(mkdtemp(dir));
    test_selfsign_and_load();
    test_url_schemes();
    rmdir(dir);
    return check_done();
}
