/*
 * test_documents.c - the documents domain on real stores (LMDB, real
 * nodes of tests/node_fixture.h):
 *   - the index tolerates records of "documents" that are no documents
 *     (arbitrary bodies as `lienthong import` and the simulator write
 *     them): they are stored and replicated, and skipped by the list;
 *   - numbering with two servers of one unit (a province and its mirror):
 *     the one without the numbering register refuses; handing the register
 *     over in turn, syncing between issues, gives 1, 2, 3, 4 with no gap
 *     and no duplicate;
 *   - one flipped byte of one attachment chunk (a real bin chunk, written
 *     by the owner) makes the signature check say "changed"; the check
 *     was valid before;
 *   - a signature made by another key than the certified one (written
 *     into the record by its owner node) fails the check, naming why;
 *   - the index rebuilt by store_verify equals the one kept.
 */
#include "documents/doc_index.h"
#include "documents/documents.h"
#include "lib/hex.h"
#include "lib/mpjson.h"
#include "node/people/accounts.h"
#include "storage/hlc.h"
#include "tests/check.h"
#include "tests/node_fixture.h"

#include <msgpack.h>
#include <sodium.h>
#include <string.h>

static const doc_actor staff = {"van", "40", ROLE_STAFF};
static const doc_actor admin = {"adm", "40", ROLE_ADMIN};

static json_t *issue(documents *d, const unit_tree *t, const char *subject, doc_file *f, size_t nf)
{
    json_t *in =
        json_pack("{s:s, s:s, s:[s]}", "type", "CV", "subject", subject, "recipients", "412");
    lt_error e = {0};
    json_t *out = documents_create(d, in, f, nf, &staff, t, &e);
    json_decref(in);
    CHECKF(out != NULL, "issue %s: %s", subject, e.message);
    return out;
}

static void sync_pair(fx_node *a, fx_node *b)
{
    uint64_t now = hlc_wall_ms();
    repl_session *x = fx_session(a, true, false, now), *y = fx_session(b, false, false, now);
    fx_shuttle(x, y, now);
    CHECKF(repl_session_state(x) == REPL_OPEN, "%s", repl_session_error(x));
    repl_session_free(x);
    repl_session_free(y);
}

static int count_one(void *ctx, const char *id, size_t idlen)
{
    (void)id, (void)idlen;
    (*(size_t *)ctx)++;
    return 0;
}

/* Generic records of the collection: stored, indexed as nothing, skipped. */
static void generic_records(fx_node *p, documents *d, const unit_tree *t)
{
    fx_write(p, DOC_COLL, "56/KH-UBND", "Kế hoạch", "412");
    json_t *odd = json_pack("{s:s, s:s, s:i, s:s, s:s}", "notation", "7/CV", "unit", "40", "number",
                            7, "recipients", "not a list", "type", "CV");
    uint8_t *body;
    size_t len;
    char err[256];
    REQUIRE(mpjson_pack_object(odd, &body, &len, err, sizeof err) == 0);
    const char *to[] = {"412"};
    store_write w = {DOC_COLL, "odd-1", ENTRY_OP_PUT, body, len, to, 1};
    store_author a = node_author(&p->c);
    CHECKF(store_write_local(p->s, &a, &w, 1, NULL, err, sizeof err) == 0,
           "a record that looks almost like a document is stored: %s", err);
    free(body);
    json_decref(odd);
    CHECK(fx_has(p, DOC_COLL, "56/KH-UBND") && fx_has(p, DOC_COLL, "odd-1"));
    doc_query q = {.box = "out"};
    lt_error e = {0};
    json_t *l = documents_list(d, "40", &q, t, &e);
    REQUIRE(l);
    CHECKF(json_integer_value(json_object_get(l, "total")) == 0, "the out-box skips them (%lld)",
           (long long)json_integer_value(json_object_get(l, "total")));
    json_decref(l);
    q.box = NULL;
    l = documents_list(d, "40", &q, t, &e);
    CHECK(l && json_integer_value(json_object_get(l, "total")) == 0);
    json_decref(l);
    CHECK(!documents_get(d, "odd-1", "40", t, &e) && !strcmp(e.code, "document.not_found"));
}

/* Rewrites chunk 0 of attachment hex of document id with one byte flipped. */
static void chunk_flip(fx_node *p, const char *id, const char *hex, const uint8_t *data, size_t len,
                       size_t of)
{
    uint8_t *copy = malloc(len);
    memcpy(copy, data, len);
    copy[len / 2] ^= 1;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str_with_body(&pk, "data", 4);
    msgpack_pack_bin_with_body(&pk, copy, len);
    msgpack_pack_str_with_body(&pk, "n", 1);
    msgpack_pack_uint64(&pk, 0);
    msgpack_pack_str_with_body(&pk, "of", 2);
    msgpack_pack_uint64(&pk, of);
    char cid[ENTRY_MAX_NAME + 1], err[256];
    snprintf(cid, sizeof cid, "%s/%s/0", id, hex);
    const char *to[] = {"40", "412"};
    store_write w = {DOC_FILE_COLL, cid, ENTRY_OP_PUT, (uint8_t *)sb.data, sb.size, to, 2};
    store_author a = node_author(&p->c);
    CHECKF(store_write_local(p->s, &a, &w, 1, NULL, err, sizeof err) == 0, "flip: %s", err);
    msgpack_sbuffer_destroy(&sb);
    free(copy);
}

/* Account user of unit 40 with password pw on node p. */
static void account_make(fx_node *p, const char *user, const char *pw)
{
    account a = {.role = ROLE_STAFF};
    snprintf(a.name, sizeof a.name, "%s", user);
    snprintf(a.unit, sizeof a.unit, "40");
    REQUIRE(account_hash_password(pw, strlen(pw), a.hash) == 0);
    char err[256];
    REQUIRE(account_put(p->s, &a, err, sizeof err) == 0);
}

static void tampered_chunk(fx_node *p, documents *d, const unit_tree *t)
{
    static uint8_t pdf[60000];
    memcpy(pdf, "%PDF-1.4\n", 9);
    randombytes_buf(pdf + 9, sizeof pdf - 9);
    doc_file f = {"a.pdf", "application/pdf", pdf, sizeof pdf};
    json_t *out = issue(d, t, "Có tệp đính kèm", &f, 1);
    REQUIRE(out);
    const char *id = json_string_value(json_object_get(out, "id"));
    const char *hex = json_string_value(
        json_object_get(json_array_get(json_object_get(out, "files"), 0), "hash"));
    lt_error e = {0};
    char pw[] = "mat-khau-ky-so";
    char cert[DOC_CERT_ID_MAX];
    account_make(p, "van", pw);
    CHECKF(documents_signer_add(d, "van", "Chủ tịch", pw, strlen(pw), cert, &e) == 0,
           "signer add: %s", e.message);
    CHECKF(documents_sign(d, id, "van", pw, strlen(pw), &e) == 0, "sign: %s", e.message);
    json_t *v = documents_verify(d, id, "40", t, &e);
    CHECK(v && json_is_true(json_object_get(v, "valid")));
    json_decref(v);
    chunk_flip(p, id, hex, pdf, DOC_CHUNK, (sizeof pdf + DOC_CHUNK - 1) / DOC_CHUNK);
    v = documents_verify(d, id, "40", t, &e);
    CHECK(v && json_is_true(json_object_get(v, "changed")) &&
          json_is_false(json_object_get(v, "valid")));
    json_decref(v);
    json_decref(out);
}

/* Signs a new document, then replaces its signature with one of a key
 * that is not the certified one: the check says the signature does not
 * match. */
static void forged_signature(fx_node *p, documents *d, const unit_tree *t)
{
    json_t *out = issue(d, t, "Chữ ký giả", NULL, 0);
    REQUIRE(out);
    const char *id = json_string_value(json_object_get(out, "id"));
    lt_error e = {0};
    CHECKF(documents_sign(d, id, "van", "mat-khau-ky-so", 14, &e) == 0, "sign: %s", e.message);
    json_t *doc = documents_get(d, id, "40", t, &e);
    REQUIRE(doc);
    json_t *sig = json_deep_copy(json_object_get(doc, "signature"));
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], s64[64];
    char hex[129];
    crypto_sign_keypair(pk, sk);
    crypto_sign_detached(s64, NULL, (const uint8_t *)"forged", 6, sk);
    json_object_set_new(sig, "sig", json_string(hex_encode(s64, 64, hex)));
    json_t *patch = json_pack("{s:o}", "signature", sig);
    uint8_t *body;
    size_t len;
    char err[256];
    REQUIRE(mpjson_pack_object(patch, &body, &len, err, sizeof err) == 0);
    const char *to[] = {"40", "412"};
    store_write w = {DOC_COLL, id, ENTRY_OP_PATCH, body, len, to, 2};
    store_author a = node_author(&p->c);
    CHECKF(store_write_local(p->s, &a, &w, 1, NULL, err, sizeof err) == 0, "forge: %s", err);
    json_t *v = documents_verify(d, id, "40", t, &e);
    CHECK(v && json_is_false(json_object_get(v, "valid")) &&
          json_is_false(json_object_get(v, "changed")));
    CHECKF(v && strstr(json_string_value(json_array_get(json_object_get(v, "problems"), 0)),
                       "does not match"),
           "the check names the forged signature");
    json_decref(v);
    free(body);
    json_decref(patch);
    json_decref(doc);
    json_decref(out);
}

static void problem(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "verify: %s\n", msg);
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    const char *base = check_tmpdir();
    fx_node p1, p2, d;
    fx_node_make(&p1, base, "40", "province", NULL);
    fx_node_make(&p2, base, "40", "province", &p1); /* the mirror */
    fx_node_make(&d, base, "412", "district", &p1);
    sync_pair(&p2, &p1);
    unit_tree *t = unit_tree_new();
    REQUIRE(t && unit_tree_load(t, p1.s) == 0);
    documents *d1 = documents_new(p1.s, &p1.c), *d2 = documents_new(p2.s, &p2.c);
    REQUIRE(d1 && d2);

    generic_records(&p1, d1, t);

    /* two servers of one unit: only the holder of the numbering register
     * numbers; they hand it over in turn, syncing between issues */
    lt_error e = {0};
    json_t *in = json_pack("{s:s, s:s, s:[s]}", "type", "CV", "subject", "x", "recipients", "412");
    json_t *refused = documents_create(d2, in, NULL, 0, &staff, t, &e);
    CHECKF(!refused && !strcmp(e.code, "document.register_elsewhere"),
           "the mirror without the register refuses to number (%s)", e.code);
    json_decref(in);
    uint64_t want = 1;
    documents *holder = d1, *other = d2;
    const fx_node *other_node = &p2;
    for (int i = 0; i < 4; i++, want++) {
        json_t *out = issue(holder, t, i % 2 ? "mirror" : "primary", NULL, 0);
        CHECKF(out && (uint64_t)json_integer_value(json_object_get(out, "number")) == want,
               "issue %d got number %lld, want %llu", i,
               (long long)json_integer_value(json_object_get(out, "number")),
               (unsigned long long)want);
        json_decref(out);
        char to[65];
        hex_encode(other_node->c.pk, ENTRY_KEY_BYTES, to);
        CHECKF(documents_register_handover(holder, to, "turn", &admin, &e) == 0, "hand-over %d: %s",
               i, e.message);
        sync_pair(&p2, &p1);
        documents *x = holder;
        holder = other, other = x;
        other_node = other_node == &p2 ? &p1 : &p2;
    }
    size_t out1 = 0, out2 = 0;
    CHECK(doc_index_walk(p1.s, "o", "40", count_one, &out1) == 0 &&
          doc_index_walk(p2.s, "o", "40", count_one, &out2) == 0);
    CHECKF(out1 == 4 && out2 == 4, "both servers index the four documents (%zu, %zu)", out1, out2);

    tampered_chunk(&p1, d1, t);
    forged_signature(&p1, d1, t);

    char err[256];
    long problems = store_verify(p1.s, check_tmpdir(), problem, NULL, err, sizeof err);
    CHECKF(problems == 0, "store_verify rebuilds the same index (%ld problems, %s)", problems, err);

    documents_free(d1);
    documents_free(d2);
    unit_tree_free(t);
    fx_node_free(&d);
    fx_node_free(&p2);
    fx_node_free(&p1);
    return check_done();
}
