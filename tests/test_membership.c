/*
 * test_membership.c - certificate lifetime with real nodes in temp dirs:
 * the validity rule for revoked and rotated keys (unit_tree_key_valid_at),
 * the handshake refusing revoked, superseded and expired keys while a
 * rotated issuer's earlier certificates stay good, key fingerprints, the
 * signed enrolment request, and enrolment through the parent's request
 * table (enrol_submit, enrol_approve, network_join).
 */
#include "lib/hex.h"
#include "node/membership/enrol.h"
#include "node/membership/fingerprint.h"
#include "storage/record.h"
#include "tests/check.h"
#include "tests/node_fixture.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Opens a session pair at now; returns the refusing side's error or "". */
static const char *handshake(fx_node *lower, fx_node *upper, uint64_t now, char *out, size_t cap)
{
    repl_session *a = fx_session(lower, true, false, now),
                 *b = fx_session(upper, false, false, now);
    fx_shuttle(a, b, now);
    bool open = repl_session_state(a) == REPL_OPEN && repl_session_state(b) == REPL_OPEN;
    snprintf(out, cap, "%s",
             open                                 ? ""
             : repl_session_state(b) != REPL_OPEN ? repl_session_error(b)
                                                  : repl_session_error(a));
    repl_session_free(a);
    repl_session_free(b);
    return out;
}

static void test_revocation_cutoff(fx_node *d, fx_node *c1)
{
    char why[256], err[256];
    fx_write(c1, "reports", "R-1", "một", NULL);
    fx_write(c1, "reports", "R-2", "hai", NULL);
    CHECKF(!*handshake(c1, d, hlc_wall_ms(), why, sizeof why), "%s", why);
    fx_write(c1, "reports", "R-3", "ba, chưa gửi", NULL); /* the district never sees seq 3 */
    uint64_t upto = 0;
    char aud[NETWORK_AUDIENCE_MAX];
    REQUIRE(network_audience(d->s, d->c.unit, aud) == 0);
    REQUIRE(network_end_cert(&d->c, d->s, c1->c.pk, aud, "máy bị mất", &upto, err, sizeof err) ==
            0);
    CHECKF(upto == 2, "cut-off %llu", (unsigned long long)upto);
    REQUIRE(repl_node_reload(&d->rn, err, sizeof err) == 0);
    uint64_t got = 0;
    CHECK(unit_tree_key_state(d->rn.tree, c1->c.pk, &got) == KEY_REVOKED && got == 2);
    CHECK(unit_tree_revoked(d->rn.tree, c1->c.pk));
    CHECK(unit_tree_key_valid_at(d->rn.tree, c1->c.pk, 1));
    CHECK(unit_tree_key_valid_at(d->rn.tree, c1->c.pk, 2));
    CHECK(!unit_tree_key_valid_at(d->rn.tree, c1->c.pk, 3));
    CHECK(unit_tree_key_valid_at(d->rn.tree, d->c.pk, 1000000)); /* live keys: any seq */
    CHECK(strstr(handshake(c1, d, hlc_wall_ms(), why, sizeof why), "revoked") != NULL);
    CHECK(fx_has(d, "reports", "R-2")); /* earlier entries stay */
}

/* Rotates n's key with its parent p as `lienthong rotate` does, in
 * process: p certifies the new key and supersedes the old one, n applies
 * the entries and moves to the new key. Returns the old cut-off. */
static uint64_t rotate(fx_node *n, fx_node *p, uint8_t old_pk[32])
{
    char err[512];
    uint8_t pk[32], sk[64];
    crypto_sign_keypair(pk, sk);
    node_config child = n->c;
    memcpy(child.pk, pk, 32);
    child.enrolled = false;
    store_origin o;
    uint64_t upto = store_origin_get(n->s, n->c.pk, &o) == 0 ? o.max_seq : 0;
    network_rotation rot = {n->c.pk, upto};
    uint64_t seqs[3];
    size_t k = 0;
    int rc = network_certify(&p->c, p->s, &child, &rot, seqs, &k, err, sizeof err);
    REQUIRE(rc == 0);
    CHECK(k == 2); /* the old certificate's end and the new certificate */
    store_input in[3];
    apply_result res[3];
    for (size_t i = 0; i < k; i++) {
        uint8_t *b;
        size_t len;
        REQUIRE(store_entry_get(p->s, p->c.pk, seqs[i], &b, &len) == 0);
        in[i] = (store_input){b, len};
    }
    REQUIRE(store_apply(n->s, in, k, 0, res, NULL, err, sizeof err) == 0);
    for (size_t i = 0; i < k; i++)
        free((void *)in[i].bytes);
    memcpy(old_pk, n->c.pk, 32);
    memcpy(n->c.pk, pk, 32);
    memcpy(n->c.sk, sk, 64);
    repl_node_release(&n->rn);
    rc = repl_node_init(&n->rn, n->s, n->c.unit, n->c.pk, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    REQUIRE(repl_node_reload(&p->rn, err, sizeof err) == 0);
    return upto;
}

static void test_rotation(fx_node *p, fx_node *d, fx_node *c2)
{
    char why[256], err[256], owner[64];
    fx_write(c2, "reports", "K-1", "trước khi đổi khoá", NULL);
    CHECKF(!*handshake(c2, d, hlc_wall_ms(), why, sizeof why), "%s", why);
    fx_node old_c2 = *c2; /* keeps the old key, shares the store */
    uint8_t old[32];
    uint64_t upto = rotate(c2, d, old);
    REQUIRE(repl_node_init(&old_c2.rn, c2->s, c2->c.unit, old, err, sizeof err) == 0);
    CHECK(upto == 1);
    CHECK(unit_tree_key_state(d->rn.tree, old, NULL) == KEY_SUPERSEDED);
    CHECK(unit_tree_key_valid_at(d->rn.tree, old, 1) &&
          !unit_tree_key_valid_at(d->rn.tree, old, 2));
    CHECKF(strstr(handshake(&old_c2, d, hlc_wall_ms(), why, sizeof why), "replaced") != NULL, "%s",
           why);
    repl_node_release(&old_c2.rn);
    /* the new key links, writes from seq 1, and the record keeps its unit */
    CHECKF(!*handshake(c2, d, hlc_wall_ms(), why, sizeof why), "%s", why);
    fx_write(c2, "reports", "K-1", "sau khi đổi khoá", NULL);
    fx_write(c2, "reports", "K-2", "khoá mới", NULL);
    store_origin o;
    CHECK(store_origin_get(c2->s, c2->c.pk, &o) == 0 && o.max_seq == 2);
    CHECKF(!*handshake(c2, d, hlc_wall_ms(), why, sizeof why), "%s", why);
    CHECK(fx_has(d, "reports", "K-2"));
    uint8_t *rec;
    size_t len;
    REQUIRE(store_record_get(d->s, "reports", "K-1", &rec, &len) == 0);
    CHECK(record_owner(rec, len, owner, sizeof owner) == 0 && !strcmp(owner, c2->c.unit));
    free(rec);
    /* a rotated issuer: the district's certificates issued by its old key
     * before the cut-off stay good for its communes */
    uint8_t dold[32];
    rotate(d, p, dold);
    CHECKF(!*handshake(d, p, hlc_wall_ms(), why, sizeof why), "%s", why);
    CHECKF(!*handshake(c2, d, hlc_wall_ms(), why, sizeof why), "%s", why);
    (void)err;
}

static void test_expiry(fx_node *p, fx_node *d)
{
    char why[256], unit[33], err[256];
    store_input chain[CHAIN_MAX];
    int n = chain_collect(d->s, d->c.pk, chain, err, sizeof err);
    REQUIRE(n == 2);
    uint64_t now = hlc_wall_ms(), hour = 3600ull * 1000;
    CHECK(chain_verify(chain, 2, d->c.pk, p->c.root_key, now, unit, why, sizeof why) == 0);
    CHECK(chain_verify(chain, 2, d->c.pk, p->c.root_key, now - 23 * hour, unit, why, sizeof why) ==
          0); /* within the not_before grace */
    CHECK(chain_verify(chain, 2, d->c.pk, p->c.root_key, now - 25 * hour, unit, why, sizeof why) !=
          0);
    CHECK(chain_verify(chain, 2, d->c.pk, p->c.root_key, now + NETWORK_CERT_VALID_MS + hour, unit,
                       why, sizeof why) != 0);
    CHECKF(strstr(why, "expired") != NULL, "%s", why);
    for (int i = 0; i < n; i++)
        free((void *)chain[i].bytes);
    /* the handshake uses the same clock: two years on, the link is refused */
    CHECK(strstr(handshake(d, p, now + NETWORK_CERT_VALID_MS + hour, why, sizeof why), "expired") !=
          NULL);
}

static void test_fingerprint(void)
{
    uint8_t a[32] = {0}, b[32] = {1};
    char fa[FINGERPRINT_LEN], fa2[FINGERPRINT_LEN], fb[FINGERPRINT_LEN];
    fingerprint_key(a, fa);
    fingerprint_key(a, fa2);
    fingerprint_key(b, fb);
    CHECK(!strcmp(fa, fa2) && strcmp(fa, fb));
    CHECK(strlen(fa) == 19 && fa[4] == '-' && fa[9] == '-' && fa[14] == '-');
    CHECK(strcspn(fa, "ILOU") == strlen(fa));
}

static void test_request_wire(fx_node *n)
{
    char err[256];
    enrol_request r = {.kind = ENROL_ENROL, .at_ms = 1}, got;
    memcpy(r.key, n->c.pk, 32);
    strcpy(r.unit, "16690");
    strcpy(r.name, "Xã Nghi Kim");
    strcpy(r.tier, "commune");
    json_t *body = enrol_request_sign(&r, n->c.sk, NULL);
    char *text = json_dumps(body, JSON_COMPACT);
    CHECKF(enrol_request_open((uint8_t *)text, strlen(text), &got, err, sizeof err) == 0, "%s",
           err);
    CHECK(!strcmp(got.unit, "16690") && !memcmp(got.key, n->c.pk, 32) && !got.parent_unit[0]);
    char *at = strstr(text, "16690");
    at[4] = '1'; /* tamper with the signed payload */
    CHECK(enrol_request_open((uint8_t *)text, strlen(text), &got, err, sizeof err) != 0);
    CHECKF(strstr(err, "signature") != NULL, "%s", err);
    CHECK(enrol_request_open((const uint8_t *)"{\"payload\":", 11, &got, err, sizeof err) != 0);
    CHECKF(strstr(err, "not JSON") != NULL, "%s", err);
    r.kind = ENROL_ROTATE; /* without the new key's signature */
    json_t *rot = enrol_request_sign(&r, n->c.sk, NULL);
    char *rtext = json_dumps(rot, JSON_COMPACT);
    CHECK(enrol_request_open((uint8_t *)rtext, strlen(rtext), &got, err, sizeof err) != 0);
    free(rtext);
    json_decref(rot);
    free(text);
    json_decref(body);
}

/* A commune asks the district through the request table. */
static void test_request_flow(fx_node *d, const char *base)
{
    char err[512];
    node_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.dir, sizeof c.dir, "%s/16690-net", base);
    strcpy(c.unit, "16690");
    strcpy(c.name, "Xã Nghi Kim");
    strcpy(c.tier, "commune");
    strcpy(c.listen, "127.0.0.1:0");
    node_config_default_tiers(&c);
    store *cs;
    REQUIRE(node_config_create(&c, err, sizeof err) == 0);
    REQUIRE(node_store_create(&c, &cs, err, sizeof err) == 0);
    store_close(cs);
    enrol_request r = {.kind = ENROL_ENROL, .at_ms = hlc_wall_ms()};
    memcpy(r.key, c.pk, 32);
    strcpy(r.unit, c.unit);
    strcpy(r.name, c.name);
    strcpy(r.tier, c.tier);
    strcpy(r.parent_unit, "999"); /* not the district */
    json_t *rec = NULL;
    CHECK(enrol_submit(&d->c, d->s, &r, "127.0.0.1", &rec, err, sizeof err) == 422);
    CHECKF(strstr(err, "999") != NULL, "%s", err);
    strcpy(r.parent_unit, d->c.unit);
    CHECK(enrol_submit(&d->c, d->s, &r, "127.0.0.1", &rec, err, sizeof err) == 201);
    char id[ENROL_ID_LEN];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(rec, "id")));
    json_decref(rec);
    CHECK(enrol_submit(&d->c, d->s, &r, "127.0.0.1", &rec, err, sizeof err) == 200);
    CHECK(!strcmp(json_string_value(json_object_get(rec, "id")), id)); /* the same request */
    json_decref(rec);
    CHECKF(enrol_approve(&d->c, d->s, id, &rec, err, sizeof err) == 0, "%s", err);
    CHECK(!strcmp(json_string_value(json_object_get(rec, "state")), "approved"));
    CHECK(enrol_approve(&d->c, d->s, id, NULL, err, sizeof err) != 0); /* once */
    /* the entries, exactly as signed, make the child a member */
    json_t *e, *entries = json_object_get(rec, "entries");
    size_t i, n = json_array_size(entries);
    store_input *in = calloc(n, sizeof *in);
    json_array_foreach(entries, i, e)
    {
        const char *b64 = json_string_value(e);
        uint8_t *b = malloc(strlen(b64));
        size_t len;
        REQUIRE(sodium_base642bin(b, strlen(b64), b64, strlen(b64), NULL, &len, NULL,
                                  sodium_base64_VARIANT_ORIGINAL) == 0);
        in[i] = (store_input){b, len};
    }
    int rc = network_join(&c, in, n, "ws://127.0.0.1:9/", err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    CHECK(c.enrolled && c.has_root_key && !strcmp(c.parent_unit, d->c.unit) &&
          !strcmp(c.upstreams[0], "ws://127.0.0.1:9/") && c.ntiers == 4);
    /* a second node for the same unit is refused at approval */
    uint8_t other_pk[32], other_sk[64];
    crypto_sign_keypair(other_pk, other_sk);
    memcpy(r.key, other_pk, 32);
    json_decref(rec);
    CHECK(enrol_submit(&d->c, d->s, &r, "127.0.0.1", &rec, err, sizeof err) == 201);
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(rec, "id")));
    json_decref(rec);
    rec = NULL;
    CHECK(enrol_approve(&d->c, d->s, id, &rec, err, sizeof err) != 0);
    CHECKF(strstr(err, "already has a certified node") != NULL, "%s", err);
    CHECK(enrol_refuse(d->s, id, "trùng mã", &rec, err, sizeof err) == 0);
    json_decref(rec);
    for (i = 0; i < n; i++)
        free((void *)in[i].bytes);
    free(in);
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    const char *base = check_tmpdir();
    fx_node p, d, c1, c2;
    fx_tree4(base, &p, &d, &c1, &c2);
    test_fingerprint();
    test_request_wire(&c1);
    test_expiry(&p, &d);
    test_revocation_cutoff(&d, &c1);
    test_request_flow(&d, base);
    test_rotation(&p, &d, &c2);
    fx_node_free(&p);
    fx_node_free(&d);
    fx_node_free(&c1);
    fx_node_free(&c2);
    return check_done();
}
