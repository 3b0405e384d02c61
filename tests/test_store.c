/*
 * test_store.c - the LMDB store (storage/store*) on real files in temp
 * dirs: local writes and their hash chain, applying to a second store
 * (duplicates, digests, records), out-of-order entries and forged links,
 * bad signatures, equivocation and banning, refused local writes, the
 * node clock, deeply nested bodies, put/patch/delete semantics,
 * the owner index, blobs, the arrival feed, map growth, two handles on one
 * directory, and store_verify on a healthy and on a corrupted store.
 */
#include "lib/hex.h"
#include "lib/mpjson.h"
#include "storage/entry.h"
#include "storage/hlc.h"
#include "storage/record.h"
#include "storage/store.h"
#include "tests/check.h"

#include <lmdb.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char err[512];

typedef struct {
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    const char *unit;
} author;

static void author_init(author *a, const char *unit)
{
    crypto_sign_keypair(a->pk, a->sk);
    a->unit = unit;
}

static store *open_store(const char *dir, size_t map)
{
    store_options o = {.map_size = map};
    store *s = NULL;
    CHECKF(store_open(&s, dir, &o, err, sizeof err) == 0, "%s", err);
    REQUIRE(s != NULL);
    return s;
}

/* Packs a JSON object text (NULL: no body) into a malloc'd msgpack map. */
static uint8_t *pack_json(const char *text, size_t *len)
{
    *len = 0;
    if (!text)
        return NULL;
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    REQUIRE(j != NULL);
    uint8_t *out = NULL;
    int rc = mpjson_pack_object(j, &out, len, err, sizeof err);
    json_decref(j);
    REQUIRE(rc == 0);
    return out;
}

/* One local write; returns its seq, or 0 when refused. */
static uint64_t write1(store *s, const author *a, const char *coll, const char *id, entry_op op,
                       const char *json)
{
    size_t blen;
    uint8_t *body = pack_json(json, &blen);
    store_author sa = {a->pk, a->sk, a->unit};
    store_write w = {coll, id, op, body, blen, NULL, 0};
    uint64_t seq = 0;
    int rc = store_write_local(s, &sa, &w, 1, &seq, err, sizeof err);
    CHECKF(rc == 0, "write %s/%s: %s", coll, id, err);
    free(body);
    return rc ? 0 : seq;
}

/* Builds and signs an entry directly (any seq, prev and hlc). */
static uint8_t *make_entry(const author *a, uint64_t seq, const uint8_t *prev, uint64_t hlc,
                           const char *coll, const char *id, entry_op op, const char *json,
                           size_t *len)
{
    size_t blen;
    uint8_t *body = pack_json(json, &blen);
    entry_fields f = {a->pk, seq, prev, hlc, a->unit, coll, id, op, body, blen, NULL, 0};
    uint8_t *out = NULL;
    int rc = entry_encode(&f, a->sk, &out, len, err, sizeof err);
    free(body);
    CHECKF(rc == 0, "%s", err);
    REQUIRE(out != NULL);
    return out;
}

/* Packs and signs an entry by hand, body bytes as given (for bodies that
 * entry_encode refuses): seq 1, put, coll "deep", id "d". */
static uint8_t *raw_entry(const author *a, const uint8_t *body, size_t blen, size_t *len)
{
    static const uint8_t zeros[ENTRY_HASH_BYTES];
    static const char *const keys[] = {"v",    "origin", "seq", "prev", "hlc", "unit",
                                       "coll", "id",     "op",  "body", "to"};
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 12);
    for (int i = 0; i < 11; i++) {
        msgpack_pack_str_with_body(&pk, keys[i], strlen(keys[i]));
        switch (i) {
        case 0: msgpack_pack_uint8(&pk, 1); break;
        case 1: msgpack_pack_bin_with_body(&pk, a->pk, ENTRY_KEY_BYTES); break;
        case 2: msgpack_pack_uint8(&pk, 1); break;
        case 3: msgpack_pack_bin_with_body(&pk, zeros, ENTRY_HASH_BYTES); break;
        case 4: msgpack_pack_uint8(&pk, 7); break;
        case 5: msgpack_pack_str_with_body(&pk, a->unit, strlen(a->unit)); break;
        case 6: msgpack_pack_str_with_body(&pk, "deep", 4); break;
        case 7: msgpack_pack_str_with_body(&pk, "d", 1); break;
        case 8: msgpack_pack_str_with_body(&pk, "put", 3); break;
        case 9: msgpack_sbuffer_write(&sb, (const char *)body, blen); break;
        case 10: msgpack_pack_array(&pk, 0); break;
        }
    }
    uint8_t sig[ENTRY_SIG_BYTES];
    crypto_sign_detached(sig, NULL, (const uint8_t *)sb.data, sb.size, a->sk);
    msgpack_pack_str_with_body(&pk, "sig", 3);
    msgpack_pack_bin_with_body(&pk, sig, sizeof sig);
    *len = sb.size;
    return (uint8_t *)sb.data;
}

/* ---- lists of entry bytes ----------------------------------------------- */

typedef struct {
    uint8_t **b;
    size_t *len;
    uint64_t *pos;
    size_t n, cap;
} elist;

static void elist_add(elist *l, const uint8_t *b, size_t len, uint64_t pos)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->b = realloc(l->b, l->cap * sizeof *l->b);
        l->len = realloc(l->len, l->cap * sizeof *l->len);
        l->pos = realloc(l->pos, l->cap * sizeof *l->pos);
        REQUIRE(l->b && l->len && l->pos);
    }
    l->b[l->n] = malloc(len);
    REQUIRE(l->b[l->n] != NULL);
    memcpy(l->b[l->n], b, len);
    l->len[l->n] = len;
    l->pos[l->n++] = pos;
}

static void elist_free(elist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->b[i]);
    free(l->b);
    free(l->len);
    free(l->pos);
    memset(l, 0, sizeof *l);
}

static int log_collect(void *ctx, const uint8_t *b, size_t len)
{
    elist_add(ctx, b, len, 0);
    return 0;
}

static int arrivals_collect(void *ctx, uint64_t pos, const uint8_t *b, size_t len)
{
    elist_add(ctx, b, len, pos);
    return 0;
}

/* Applies entries[from..to) one batch; results into res. */
static void apply_range(store *s, const elist *l, size_t from, size_t to, apply_result *res)
{
    store_input *in = calloc(to - from + 1, sizeof *in);
    REQUIRE(in != NULL);
    for (size_t i = from; i < to; i++)
        in[i - from] = (store_input){l->b[i], l->len[i]};
    CHECKF(store_apply(s, in, to - from, 0, res, NULL, err, sizeof err) == 0, "%s", err);
    free(in);
}

/* Applies one entry and returns its result (detail into *detail). */
static apply_result apply1(store *s, const uint8_t *b, size_t len, char *detail)
{
    store_input in = {b, len};
    apply_result r = APPLY_ERR_SHAPE;
    char details[1][STORE_ERR_LEN];
    CHECKF(store_apply(s, &in, 1, 0, &r, details, err, sizeof err) == 0, "%s", err);
    if (detail)
        strcpy(detail, details[0]);
    return r;
}

/* ---- snapshots: digests and records as comparable text/bytes ------------ */

typedef struct {
    char *buf;
    size_t len, cap;
} sbuf;

static void sbuf_put(sbuf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->buf = realloc(b->buf, b->cap);
        REQUIRE(b->buf != NULL);
    }
    memcpy(b->buf + b->len, p, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

static void sbuf_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sbuf_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    sbuf_put(b, tmp, (size_t)n);
}

static int coll_line(void *ctx, const char *coll, uint64_t live,
                     const uint8_t digest[STORE_DIGEST_BYTES])
{
    char hex[2 * STORE_DIGEST_BYTES + 1];
    sbuf_printf(ctx, "%s %llu %s\n", coll, (unsigned long long)live,
                hex_encode(digest, STORE_DIGEST_BYTES, hex));
    return 0;
}

static int record_bytes(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t reclen)
{
    sbuf *b = ctx;
    uint32_t n[2] = {(uint32_t)idlen, (uint32_t)reclen};
    sbuf_put(b, n, sizeof n);
    sbuf_put(b, id, idlen);
    sbuf_put(b, rec, reclen);
    return 0;
}

typedef struct {
    store *s;
    sbuf *out;
} snap_ctx;

static int coll_records(void *ctx, const char *coll, uint64_t live, const uint8_t *digest)
{
    (void)live;
    (void)digest;
    snap_ctx *c = ctx;
    sbuf_printf(c->out, "[%s]", coll);
    return store_records(c->s, coll, record_bytes, c->out);
}

/* Digests (text) and every record's bytes of s. */
static void snapshot(store *s, sbuf *digests, sbuf *records)
{
    memset(digests, 0, sizeof *digests);
    memset(records, 0, sizeof *records);
    sbuf_put(digests, "", 0);
    sbuf_put(records, "", 0);
    CHECK(store_collections(s, coll_line, digests) == 0);
    snap_ctx c = {s, records};
    CHECK(store_collections(s, coll_records, &c) == 0);
}

/* True when a and b hold equal digests and byte-identical records. */
static bool same_state(store *a, store *b)
{
    sbuf da, ra, db, rb;
    snapshot(a, &da, &ra);
    snapshot(b, &db, &rb);
    bool same = da.len == db.len && !memcmp(da.buf, db.buf, da.len) && ra.len == rb.len &&
                !memcmp(ra.buf, rb.buf, ra.len);
    if (!same)
        fprintf(stderr, "digests differ:\n%s---\n%s", da.buf, db.buf);
    free(da.buf);
    free(ra.buf);
    free(db.buf);
    free(rb.buf);
    return same;
}

/* The live count of coll (0 when absent). */
typedef struct {
    const char *coll;
    uint64_t live;
    bool found;
} live_ctx;

static int live_one(void *ctx, const char *coll, uint64_t live, const uint8_t *digest)
{
    (void)digest;
    live_ctx *c = ctx;
    if (!strcmp(coll, c->coll)) {
        c->live = live;
        c->found = true;
    }
    return 0;
}

static uint64_t live_count(store *s, const char *coll)
{
    live_ctx c = {coll, 0, false};
    CHECK(store_collections(s, live_one, &c) == 0);
    return c.live;
}

/* The record as JSON text (compact, sorted keys); "" when absent. */
static char *record_json(store *s, const char *coll, const char *id, bool *deleted)
{
    uint8_t *rec;
    size_t len;
    int rc = store_record_get(s, coll, id, &rec, &len);
    if (rc)
        return strdup("");
    if (deleted)
        *deleted = record_is_deleted(rec, len);
    json_t *j = record_to_json(rec, len, id, strlen(id), err, sizeof err);
    free(rec);
    CHECKF(j != NULL, "%s", err);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : strdup("?");
    json_decref(j);
    return text;
}

/* Checks record coll/id against the expected compact JSON text. */
static void expect_record(store *s, const char *coll, const char *id, const char *want,
                          bool want_deleted, int line)
{
    bool deleted = !want_deleted;
    char *got = record_json(s, coll, id, &deleted);
    json_error_t jerr;
    json_t *w = json_loads(want, 0, &jerr);
    char *wtext = json_dumps(w, JSON_COMPACT | JSON_SORT_KEYS);
    CHECKF(!strcmp(got, wtext), "line %d: %s/%s is %s, want %s", line, coll, id, got, wtext);
    CHECKF(deleted == want_deleted, "line %d: %s/%s deleted=%d", line, coll, id, deleted);
    free(got);
    free(wtext);
    json_decref(w);
}

/* ---- verify reports ------------------------------------------------------ */

typedef struct {
    int n;
    char msgs[16][512];
} reports;

static void report(void *ctx, const char *msg)
{
    reports *r = ctx;
    if (r->n < 16)
        snprintf(r->msgs[r->n], sizeof r->msgs[0], "%s", msg);
    r->n++;
}

static long verify(store *s, reports *r)
{
    static const char *scratch;
    if (!scratch)
        scratch = check_tmpdir();
    memset(r, 0, sizeof *r);
    long n = store_verify(s, scratch, report, r, err, sizeof err);
    CHECKF(n >= 0, "store_verify: %s", err);
    for (int i = 0; i < r->n && i < 16; i++)
        fprintf(stderr, "  verify: %s\n", r->msgs[i]);
    return n;
}

/* ---- tests ---------------------------------------------------------------- */

static author alice, bob, carol;

static void test_local_and_replica(void)
{
    store *a = open_store(check_tmpdir(), 0);
    /* Ten writes in two batches: seqs 1..10. */
    const char *texts[] = {"{\"name\": \"Đèn giao thông 1\", \"state\": \"xanh\"}",
                           "{\"state\": \"đỏ\"}", NULL};
    store_author sa = {alice.pk, alice.sk, alice.unit};
    size_t l0, l1;
    uint8_t *b0 = pack_json(texts[0], &l0), *b1 = pack_json(texts[1], &l1);
    store_write w[7];
    for (int i = 0; i < 7; i++)
        w[i] = (store_write){"lights",
                             i % 2 ? "den-1" : "den-2",
                             i == 0   ? ENTRY_OP_PUT
                             : i == 6 ? ENTRY_OP_DELETE
                                      : ENTRY_OP_PATCH,
                             i == 0 ? b0 : b1,
                             i == 0 ? l0 : l1,
                             NULL,
                             0};
    uint64_t seqs[7] = {0};
    CHECKF(store_write_local(a, &sa, w, 3, seqs, err, sizeof err) == 0, "%s", err);
    CHECK(seqs[0] == 1 && seqs[1] == 2 && seqs[2] == 3);
    CHECKF(store_write_local(a, &sa, w, 7, seqs, err, sizeof err) == 0, "%s", err);
    CHECK(seqs[0] == 4 && seqs[6] == 10);
    free(b0);
    free(b1);

    store_origin o;
    CHECK(store_origin_get(a, alice.pk, &o) == 0);
    CHECK(o.max_seq == 10 && o.count == 10 && !o.equivocated);
    CHECK(store_origin_get(a, bob.pk, &o) == 1);
    CHECK(store_entry_count(a) == 10);
    CHECK(store_arrival_last(a) == 10);

    /* The chain: seq 1..10, prev links, increasing HLC, valid signatures. */
    elist log = {0};
    CHECK(store_log_scan(a, alice.pk, log_collect, &log) == 0);
    CHECK(log.n == 10);
    uint8_t prev[ENTRY_HASH_BYTES] = {0};
    uint64_t last_hlc = 0;
    for (size_t i = 0; i < log.n; i++) {
        entry_view v;
        REQUIRE(entry_decode(log.b[i], log.len[i], &v, err, sizeof err) == 0);
        CHECK(v.seq == i + 1);
        CHECKF(!memcmp(v.prev, prev, ENTRY_HASH_BYTES), "seq %zu prev link", i + 1);
        CHECK(v.hlc > last_hlc);
        CHECK(v.unit.size == 2 && !memcmp(v.unit.ptr, "40", 2));
        CHECK(!memcmp(v.origin, alice.pk, ENTRY_KEY_BYTES));
        CHECK(entry_verify(&v));
        last_hlc = v.hlc;
        entry_hash(log.b[i], log.len[i], prev);
        entry_view_free(&v);
        uint8_t *got;
        size_t glen;
        CHECK(store_entry_get(a, alice.pk, i + 1, &got, &glen) == 0);
        CHECK(glen == log.len[i] && !memcmp(got, log.b[i], glen));
        free(got);
    }
    uint8_t *none;
    size_t nlen;
    CHECK(store_entry_get(a, alice.pk, 11, &none, &nlen) == 1);
    CHECK(store_record_get(a, "lights", "den-9", &none, &nlen) == 1);

    /* A replica: all added, then all duplicates; same digests and records. */
    store *b = open_store(check_tmpdir(), 0);
    apply_result res[10];
    apply_range(b, &log, 0, log.n, res);
    for (int i = 0; i < 10; i++)
        CHECKF(res[i] == APPLY_ADDED, "entry %d: %s", i, apply_result_str(res[i]));
    CHECK(store_arrival_last(b) == 10);
    apply_range(b, &log, 0, log.n, res);
    for (int i = 0; i < 10; i++)
        CHECKF(res[i] == APPLY_DUPLICATE, "entry %d: %s", i, apply_result_str(res[i]));
    CHECK(store_arrival_last(b) == 10 && store_entry_count(b) == 10);
    CHECK(same_state(a, b));
    reports r;
    CHECK(verify(a, &r) == 0);
    CHECK(verify(b, &r) == 0);

    /* The arrival feed, in the order entries arrived. */
    elist arr = {0};
    CHECK(store_arrivals(b, 0, arrivals_collect, &arr) == 0);
    CHECK(arr.n == 10);
    for (size_t i = 0; i < arr.n && i < log.n; i++)
        CHECK(arr.pos[i] == i + 1 && arr.len[i] == log.len[i] &&
              !memcmp(arr.b[i], log.b[i], log.len[i]));
    elist_free(&arr);
    CHECK(store_arrivals(b, 7, arrivals_collect, &arr) == 0);
    CHECK(arr.n == 3 && arr.pos[0] == 8 && arr.pos[2] == 10);
    elist_free(&arr);
    CHECK(store_arrivals(b, 10, arrivals_collect, &arr) == 0);
    CHECK(arr.n == 0);
    elist_free(&arr);

    elist_free(&log);
    store_close(a);
    store_close(b);
}

static void test_out_of_order_and_links(void)
{
    /* bob's chain 1..4, built directly. */
    uint8_t *e[5];
    size_t len[5];
    uint8_t h[5][ENTRY_HASH_BYTES];
    for (int i = 1; i <= 4; i++) {
        char body[64];
        snprintf(body, sizeof body, "{\"n\": %d}", i);
        e[i] = make_entry(&bob, (uint64_t)i, i > 1 ? h[i - 1] : NULL, 1000 + (uint64_t)i,
                          "counters", "c1", ENTRY_OP_PATCH, body, &len[i]);
        entry_hash(e[i], len[i], h[i]);
    }
    /* A forged seq 2: bob's valid signature, but a wrong prev. */
    uint8_t wrong[ENTRY_HASH_BYTES];
    memset(wrong, 0x5a, sizeof wrong);
    size_t flen;
    uint8_t *forged =
        make_entry(&bob, 2, wrong, 1002, "counters", "c1", ENTRY_OP_PATCH, "{\"n\": 2}", &flen);

    /* 3, 1, 2, 4: all added; the arrival feed keeps arrival order. */
    store *s = open_store(check_tmpdir(), 0);
    char detail[STORE_ERR_LEN];
    CHECK(apply1(s, e[3], len[3], NULL) == APPLY_ADDED);
    store_origin o;
    CHECK(store_origin_get(s, bob.pk, &o) == 0 && o.max_seq == 3 && o.count == 1);
    CHECK(apply1(s, e[1], len[1], NULL) == APPLY_ADDED);
    CHECK(store_origin_get(s, bob.pk, &o) == 0 && o.max_seq == 3 && o.count == 2);
    CHECK(apply1(s, forged, flen, detail) == APPLY_ERR_LINK); /* both neighbours held */
    CHECKF(strstr(detail, "prev") != NULL, "detail: %s", detail);
    CHECK(apply1(s, e[2], len[2], NULL) == APPLY_ADDED);
    CHECK(apply1(s, e[4], len[4], NULL) == APPLY_ADDED);
    CHECK(store_origin_get(s, bob.pk, &o) == 0 && o.max_seq == 4 && o.count == 4);
    elist arr = {0};
    CHECK(store_arrivals(s, 0, arrivals_collect, &arr) == 0);
    int order[] = {3, 1, 2, 4};
    CHECK(arr.n == 4);
    for (size_t i = 0; i < arr.n && i < 4; i++)
        CHECK(arr.pos[i] == i + 1 && arr.len[i] == len[order[i]] &&
              !memcmp(arr.b[i], e[order[i]], arr.len[i]));
    elist_free(&arr);
    expect_record(s, "counters", "c1", "{\"id\": \"c1\", \"n\": 4}", false, __LINE__);
    reports r;
    CHECK(verify(s, &r) == 0);
    store_close(s);

    /* Only the predecessor held. */
    s = open_store(check_tmpdir(), 0);
    CHECK(apply1(s, e[1], len[1], NULL) == APPLY_ADDED);
    CHECK(apply1(s, forged, flen, NULL) == APPLY_ERR_LINK);
    CHECK(store_entry_count(s) == 1 && store_arrival_last(s) == 1);
    CHECK(apply1(s, e[2], len[2], NULL) == APPLY_ADDED);
    store_close(s);

    /* Only the successor held. */
    s = open_store(check_tmpdir(), 0);
    CHECK(apply1(s, e[3], len[3], NULL) == APPLY_ADDED);
    CHECK(apply1(s, forged, flen, NULL) == APPLY_ERR_LINK);
    CHECK(apply1(s, e[2], len[2], NULL) == APPLY_ADDED);
    CHECK(apply1(s, e[4], len[4], NULL) == APPLY_ADDED);
    CHECK(store_entry_count(s) == 3);
    store_close(s);

    /* Neither neighbour held: nothing to contradict it yet. Then the real
     * neighbours are refused, since they disagree with what is held. */
    s = open_store(check_tmpdir(), 0);
    CHECK(apply1(s, forged, flen, NULL) == APPLY_ADDED);
    CHECK(apply1(s, e[3], len[3], NULL) == APPLY_ERR_LINK);
    store_close(s);

    /* Seq 1 must link to zeros. */
    size_t l1;
    uint8_t *bad1 = make_entry(&bob, 1, wrong, 999, "counters", "c2", ENTRY_OP_PUT, NULL, &l1);
    s = open_store(check_tmpdir(), 0);
    CHECK(apply1(s, bad1, l1, NULL) == APPLY_ERR_LINK);
    CHECK(store_origin_get(s, bob.pk, &o) == 1);
    store_close(s);
    free(bad1);

    free(forged);
    for (int i = 1; i <= 4; i++)
        free(e[i]);
}

static void test_bad_signature(void)
{
    size_t len;
    uint8_t *e =
        make_entry(&carol, 1, NULL, 5, "alerts", "x", ENTRY_OP_PUT, "{\"level\": 2}", &len);
    store *s = open_store(check_tmpdir(), 0);
    char detail[STORE_ERR_LEN];
    uint8_t *bad = malloc(len);
    memcpy(bad, e, len);
    bad[len - 10] ^= 0x10; /* in the signature */
    CHECK(apply1(s, bad, len, detail) == APPLY_ERR_SIG);
    CHECKF(strstr(detail, "signature") != NULL, "detail: %s", detail);
    memcpy(bad, e, len);
    bad[len / 2] ^= 0x01; /* in the signed bytes */
    apply_result r = apply1(s, bad, len, NULL);
    CHECKF(r == APPLY_ERR_SIG || r == APPLY_ERR_SHAPE, "%s", apply_result_str(r));
    /* Signed by someone else under carol's key. */
    entry_fields f = {carol.pk, 1, NULL, 5, "40", "alerts", "x", ENTRY_OP_PUT, NULL, 0, NULL, 0};
    uint8_t *other;
    size_t olen;
    REQUIRE(entry_encode(&f, bob.sk, &other, &olen, err, sizeof err) == 0);
    CHECK(apply1(s, other, olen, NULL) == APPLY_ERR_SIG);
    /* Nothing stored at all. */
    store_origin o;
    CHECK(store_entry_count(s) == 0 && store_arrival_last(s) == 0);
    CHECK(store_origin_get(s, carol.pk, &o) == 1);
    uint8_t *rec;
    size_t rlen;
    CHECK(store_record_get(s, "alerts", "x", &rec, &rlen) == 1);
    sbuf d, rr;
    snapshot(s, &d, &rr);
    CHECK(d.len == 0);
    free(d.buf);
    free(rr.buf);
    /* The genuine entry is still welcome. */
    CHECK(apply1(s, e, len, NULL) == APPLY_ADDED);
    /* Malformed bytes are a shape error with a reason. */
    CHECK(apply1(s, (const uint8_t *)"\x80", 1, detail) == APPLY_ERR_SHAPE);
    CHECK(detail[0] != '\0');
    store_close(s);
    free(bad);
    free(other);
    free(e);
}

typedef struct {
    int n;
    uint8_t *held, *other;
    size_t held_len, other_len;
} evid;

static int evidence_one(void *ctx, const uint8_t *held, size_t hl, const uint8_t *other, size_t ol)
{
    evid *v = ctx;
    if (v->n++ == 0) {
        v->held = malloc(hl);
        memcpy(v->held, held, hl);
        v->held_len = hl;
        v->other = malloc(ol);
        memcpy(v->other, other, ol);
        v->other_len = ol;
    }
    return 0;
}

static void test_equivocation(void)
{
    author mallory;
    author_init(&mallory, "666");
    uint8_t *e1, *e2, *e2b, *e3;
    size_t l1, l2, l2b, l3;
    uint8_t h1[ENTRY_HASH_BYTES], h2[ENTRY_HASH_BYTES];
    e1 = make_entry(&mallory, 1, NULL, 10, "alerts", "fire", ENTRY_OP_PUT, "{\"level\": 1}", &l1);
    entry_hash(e1, l1, h1);
    e2 = make_entry(&mallory, 2, h1, 11, "alerts", "fire", ENTRY_OP_PATCH, "{\"level\": 2}", &l2);
    e2b = make_entry(&mallory, 2, h1, 11, "alerts", "fire", ENTRY_OP_PATCH, "{\"level\": 9}", &l2b);
    entry_hash(e2, l2, h2);
    e3 = make_entry(&mallory, 3, h2, 12, "alerts", "fire", ENTRY_OP_PATCH, "{\"level\": 3}", &l3);

    store *s = open_store(check_tmpdir(), 0);
    CHECK(write1(s, &alice, "alerts", "flood", ENTRY_OP_PUT, "{\"level\": 1}") == 1);
    CHECK(apply1(s, e1, l1, NULL) == APPLY_ADDED);
    CHECK(apply1(s, e2, l2, NULL) == APPLY_ADDED);
    char detail[STORE_ERR_LEN];
    CHECK(apply1(s, e2b, l2b, detail) == APPLY_ERR_EQUIVOCATION);
    CHECK(detail[0] != '\0');
    store_origin o;
    CHECK(store_origin_get(s, mallory.pk, &o) == 0 && o.equivocated && o.max_seq == 2);
    evid v = {0};
    CHECK(store_equivocations(s, evidence_one, &v) == 0);
    CHECK(v.n == 1);
    CHECK(v.held_len == l2 && v.held && !memcmp(v.held, e2, l2));
    CHECK(v.other_len == l2b && v.other && !memcmp(v.other, e2b, l2b));
    free(v.held);
    free(v.other);
    /* The held entry stays; its duplicate is still just a duplicate. */
    CHECK(apply1(s, e2, l2, NULL) == APPLY_DUPLICATE);
    /* Later entries from mallory are refused; others are still accepted. */
    CHECK(apply1(s, e3, l3, detail) == APPLY_ERR_BANNED);
    CHECK(detail[0] != '\0');
    CHECK(write1(s, &alice, "alerts", "flood", ENTRY_OP_PATCH, "{\"level\": 2}") == 2);
    size_t lb;
    uint8_t *eb = make_entry(&bob, 1, NULL, 13, "alerts", "storm", ENTRY_OP_PUT, "{}", &lb);
    CHECK(apply1(s, eb, lb, NULL) == APPLY_ADDED);
    expect_record(s, "alerts", "fire", "{\"id\": \"fire\", \"level\": 2}", false, __LINE__);
    CHECK(store_entry_count(s) == 5);
    /* A node holding proof against its own key must not sign more. */
    store_author sm = {mallory.pk, mallory.sk, mallory.unit};
    store_write w = {"alerts", "fire", ENTRY_OP_PATCH, NULL, 0, NULL, 0};
    CHECK(store_write_local(s, &sm, &w, 1, NULL, err, sizeof err) == STORE_REFUSED);
    CHECK(store_entry_count(s) == 5);
    reports r;
    CHECK(verify(s, &r) == 0);

    /* The same pair the other way round, in one batch, on another store. */
    store *t = open_store(check_tmpdir(), 0);
    store_input in[4] = {{e1, l1}, {e2b, l2b}, {e2, l2}, {e3, l3}};
    apply_result res[4];
    CHECK(store_apply(t, in, 4, 0, res, NULL, err, sizeof err) == 0);
    CHECK(res[0] == APPLY_ADDED && res[1] == APPLY_ADDED && res[2] == APPLY_ERR_EQUIVOCATION &&
          res[3] == APPLY_ERR_BANNED);
    memset(&v, 0, sizeof v);
    CHECK(store_equivocations(t, evidence_one, &v) == 0);
    CHECK(v.n == 1 && v.held_len == l2b && v.other_len == l2);
    free(v.held);
    free(v.other);
    store_close(t);

    store_close(s);
    free(e1);
    free(e2);
    free(e2b);
    free(e3);
    free(eb);
}

static void test_local_refusals(void)
{
    const char *dir = check_tmpdir();
    store *s = open_store(dir, 0);
    store_author sa = {alice.pk, alice.sk, alice.unit};
    CHECK(write1(s, &alice, "notes", "n1", ENTRY_OP_PUT, "{\"a\": 1}") == 1);

    /* One invalid write refuses the whole batch, with the reason. */
    const char *to[] = {"412*", "5"};
    store_write w[3] = {{"notes", "n2", ENTRY_OP_PUT, NULL, 0, to, 2},
                        {"notes", "n3", ENTRY_OP_PUT, NULL, 0, NULL, 0},
                        {"Notes", "n4", ENTRY_OP_PUT, NULL, 0, NULL, 0}};
    uint64_t seqs[3];
    err[0] = '\0';
    CHECK(store_write_local(s, &sa, w, 3, seqs, err, sizeof err) == STORE_INVALID);
    CHECKF(strstr(err, "coll must be") != NULL, "message: %s", err);
    CHECK(store_entry_count(s) == 1 && store_arrival_last(s) == 1);
    uint8_t *rec;
    size_t len;
    CHECK(store_record_get(s, "notes", "n2", &rec, &len) == 1);
    w[2].id = "bad\nid";
    w[2].coll = "notes";
    CHECK(store_write_local(s, &sa, w, 3, seqs, err, sizeof err) == STORE_INVALID);
    CHECKF(strstr(err, "id must be") != NULL, "message: %s", err);
    /* The valid part alone goes through, with the next seqs and "to". */
    CHECKF(store_write_local(s, &sa, w, 2, seqs, err, sizeof err) == 0, "%s", err);
    CHECK(seqs[0] == 2 && seqs[1] == 3);
    uint8_t *e;
    REQUIRE(store_entry_get(s, alice.pk, 2, &e, &len) == 0);
    entry_view v;
    REQUIRE(entry_decode(e, len, &v, err, sizeof err) == 0);
    CHECK(v.to.size == 2 && v.to.ptr[0].via.str.size == 4 &&
          !memcmp(v.to.ptr[0].via.str.ptr, "412*", 4));
    uint64_t hlc2 = v.hlc;
    entry_view_free(&v);
    free(e);

    /* A remote clock hours ahead pulls the node clock along, across a
     * reopen: the next local write is stamped after it, so it wins. */
    uint64_t ahead = hlc_make(hlc_ms(hlc2) + 3 * 3600 * 1000ull, 9);
    size_t blen;
    uint8_t *fut = make_entry(&bob, 1, NULL, ahead, "notes", "n1", ENTRY_OP_PATCH,
                              "{\"a\": \"tương lai\"}", &blen);
    CHECK(apply1(s, fut, blen, NULL) == APPLY_ADDED);
    expect_record(s, "notes", "n1", "{\"id\": \"n1\", \"a\": \"tương lai\"}", false, __LINE__);
    store_close(s);
    s = open_store(dir, 0);
    CHECK(write1(s, &alice, "notes", "n1", ENTRY_OP_PATCH, "{\"a\": 2}") == 4);
    REQUIRE(store_entry_get(s, alice.pk, 4, &e, &len) == 0);
    REQUIRE(entry_decode(e, len, &v, err, sizeof err) == 0);
    CHECK(v.hlc > ahead);
    entry_view_free(&v);
    free(e);
    expect_record(s, "notes", "n1", "{\"id\": \"n1\", \"a\": 2}", false, __LINE__);
    free(fut);
    store_close(s);

    /* A remote entry at the very last HLC: local stamps saturate there
     * instead of wrapping round to 0 (which would lose every merge). */
    s = open_store(check_tmpdir(), 0);
    fut = make_entry(&bob, 1, NULL, UINT64_MAX, "notes", "m", ENTRY_OP_PUT, "{\"a\": 1}", &blen);
    CHECK(apply1(s, fut, blen, NULL) == APPLY_ADDED);
    CHECK(write1(s, &alice, "notes", "m2", ENTRY_OP_PUT, "{}") == 1);
    REQUIRE(store_entry_get(s, alice.pk, 1, &e, &len) == 0);
    REQUIRE(entry_decode(e, len, &v, err, sizeof err) == 0);
    CHECK(v.hlc == UINT64_MAX);
    entry_view_free(&v);
    free(e);
    free(fut);
    store_close(s);

    /* A node whose own log has a gap must not sign: it could fork its chain. */
    uint8_t *e1, *e3;
    size_t l1, l3;
    uint8_t h1[ENTRY_HASH_BYTES], h2[ENTRY_HASH_BYTES];
    author dave;
    author_init(&dave, "7");
    e1 = make_entry(&dave, 1, NULL, 1, "notes", "d", ENTRY_OP_PUT, NULL, &l1);
    entry_hash(e1, l1, h1);
    uint8_t *e2 = make_entry(&dave, 2, h1, 2, "notes", "d", ENTRY_OP_PUT, NULL, &len);
    entry_hash(e2, len, h2);
    e3 = make_entry(&dave, 3, h2, 3, "notes", "d", ENTRY_OP_PUT, NULL, &l3);
    s = open_store(check_tmpdir(), 0);
    CHECK(apply1(s, e1, l1, NULL) == APPLY_ADDED);
    CHECK(apply1(s, e3, l3, NULL) == APPLY_ADDED);
    store_author sd = {dave.pk, dave.sk, dave.unit};
    err[0] = '\0';
    CHECK(store_write_local(s, &sd, w, 1, seqs, err, sizeof err) == STORE_FAILED);
    CHECKF(strstr(err, "incomplete") != NULL, "message: %s", err);
    CHECK(apply1(s, e2, len, NULL) == APPLY_ADDED);
    CHECKF(store_write_local(s, &sd, w, 1, seqs, err, sizeof err) == 0, "%s", err);
    CHECK(seqs[0] == 4);
    store_close(s);
    free(e1);
    free(e2);
    free(e3);
}

/* store_hold_local: the held key's writes fail with STORE_HELD (503) and
 * the given reason, writing nothing; another key writes; released, the
 * key writes with the next seq. */
static void test_local_hold(void)
{
    store *s = open_store(check_tmpdir(), 0);
    store_author sa = {alice.pk, alice.sk, alice.unit};
    author erin;
    author_init(&erin, "8");
    store_author se = {erin.pk, erin.sk, erin.unit};
    store_write w = {"notes", "h1", ENTRY_OP_PUT, NULL, 0, NULL, 0};
    uint64_t seq = 0;
    CHECK(store_write_local(s, &sa, &w, 1, &seq, err, sizeof err) == 0 && seq == 1);
    store_hold_local(s, alice.pk, "held: restored, catching up");
    err[0] = '\0';
    int rc = store_write_local(s, &sa, &w, 1, &seq, err, sizeof err);
    CHECKF(rc == STORE_HELD && store_write_errkind(rc) == LT_EUNAVAILABLE, "rc %d", rc);
    CHECKF(!strcmp(err, "held: restored, catching up"), "message: %s", err);
    CHECK(store_entry_count(s) == 1);
    CHECKF(store_write_local(s, &se, &w, 1, &seq, err, sizeof err) == 0, "%s", err);
    store_hold_local(s, NULL, NULL);
    CHECKF(store_write_local(s, &sa, &w, 1, &seq, err, sizeof err) == 0, "%s", err);
    CHECK(seq == 2);
    store_close(s);
}

/* Deeply nested bodies: the deepest allowed one is stored, merged and read
 * back; a signed one nesting deeper is refused as malformed without
 * failing the rest of its batch. */
static void test_deep_body(void)
{
    store *s = open_store(check_tmpdir(), 0);
    uint8_t body[64];
    uint8_t *e[3];
    size_t len[3];
    for (int k = 0; k < 2; k++) {
        int levels = 30 + k; /* the body map counts as one */
        size_t n = 0;
        body[n++] = 0x81;
        body[n++] = 0xa1;
        body[n++] = 'k';
        for (int i = 0; i < levels - 2; i++)
            body[n++] = 0x91;
        body[n++] = 0x90;
        e[k] = raw_entry(k ? &bob : &alice, body, n, &len[k]);
    }
    e[2] = make_entry(&carol, 1, NULL, 8, "deep", "d", ENTRY_OP_PATCH, "{\"x\": 1}", &len[2]);
    store_input in[3] = {{e[0], len[0]}, {e[1], len[1]}, {e[2], len[2]}};
    apply_result res[3];
    char details[3][STORE_ERR_LEN];
    CHECKF(store_apply(s, in, 3, 0, res, details, err, sizeof err) == 0, "%s", err);
    CHECKF(res[0] == APPLY_ADDED, "%s: %s", apply_result_str(res[0]), details[0]);
    CHECKF(res[1] == APPLY_ERR_SHAPE && strstr(details[1], "levels"), "%s: %s",
           apply_result_str(res[1]), details[1]);
    CHECKF(res[2] == APPLY_ADDED, "%s: %s", apply_result_str(res[2]), details[2]);
    char *json = record_json(s, "deep", "d", NULL);
    CHECKF(strstr(json, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]") &&
               strstr(json, "\"x\":1"),
           "%s", json);
    free(json);
    reports r;
    CHECK(verify(s, &r) == 0);
    store_close(s);
    for (int i = 0; i < 3; i++)
        free(e[i]);
}

/* Entries of one origin that reuse one HLC (a faulty clock) still merge to
 * the same record in every arrival order. */
static void test_equal_stamps(void)
{
    author other_unit = alice;
    other_unit.unit = "39";
    const author *who[4] = {&alice, &other_unit, &alice, &alice};
    const char *bodies[4] = {"{\"x\": 1, \"z\": 1}", "{\"x\": 2}", "{\"y\": 1}", NULL};
    entry_op ops[4] = {ENTRY_OP_PATCH, ENTRY_OP_PATCH, ENTRY_OP_PUT, ENTRY_OP_DELETE};
    uint8_t *e[4], prev[ENTRY_HASH_BYTES];
    size_t len[4];
    for (int i = 0; i < 4; i++) {
        e[i] = make_entry(who[i], (uint64_t)i + 1, i ? prev : NULL, 77, "ties", "t", ops[i],
                          bodies[i], &len[i]);
        entry_hash(e[i], len[i], prev);
    }
    const char *base = check_tmpdir();
    store *first = NULL;
    int perm[4] = {0, 1, 2, 3}, count = 0, same = 0;
    /* All 24 orders (Heap's algorithm, iteratively). */
    int c[4] = {0};
    for (int i = 0;;) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/p%d", base, count);
        store *s = open_store(dir, 0);
        for (int k = 0; k < 4; k++)
            CHECK(apply1(s, e[perm[k]], len[perm[k]], NULL) == APPLY_ADDED);
        if (!first) {
            first = s;
        } else {
            same += same_state(first, s);
            store_close(s);
        }
        count++;
        while (i < 4 && c[i] >= i) {
            c[i] = 0;
            i++;
        }
        if (i == 4)
            break;
        int j = i % 2 ? c[i] : 0, t = perm[j];
        perm[j] = perm[i];
        perm[i] = t;
        c[i]++;
        i = 0;
    }
    CHECK(count == 24 && same == 23);
    /* The delete wins the tie with the put; both patches are as new as
     * the delete, so the record lives with the larger x; the lower unit
     * owns it. */
    expect_record(first, "ties", "t", "{\"id\": \"t\", \"x\": 2, \"z\": 1, \"y\": 1}", false,
                  __LINE__);
    uint8_t *rec;
    size_t rlen;
    char unit[64];
    REQUIRE(store_record_get(first, "ties", "t", &rec, &rlen) == 0);
    CHECK(record_owner(rec, rlen, unit, sizeof unit) == 0 && !strcmp(unit, "39"));
    free(rec);
    store_close(first);
    for (int i = 0; i < 4; i++)
        free(e[i]);
}

static void test_semantics(void)
{
    store *s = open_store(check_tmpdir(), 0);
    const char *C = "sensors";
    write1(s, &alice, C, "s1", ENTRY_OP_PUT,
           "{\"name\": \"Cảm biến Lê Lợi\", \"level\": 1, \"tags\": [\"a\", \"b\"]}");
    write1(s, &alice, C, "s2", ENTRY_OP_PUT, "{\"name\": \"two\"}");
    expect_record(s, C, "s1",
                  "{\"id\": \"s1\", \"name\": \"Cảm biến Lê Lợi\", \"level\": 1, "
                  "\"tags\": [\"a\", \"b\"]}",
                  false, __LINE__);
    CHECK(live_count(s, C) == 2);

    /* patch merges fields */
    write1(s, &alice, C, "s1", ENTRY_OP_PATCH, "{\"level\": 2, \"note\": \"ổn\"}");
    expect_record(s, C, "s1",
                  "{\"id\": \"s1\", \"name\": \"Cảm biến Lê Lợi\", \"level\": 2, "
                  "\"tags\": [\"a\", \"b\"], \"note\": \"ổn\"}",
                  false, __LINE__);
    /* a nil field means unset */
    write1(s, &alice, C, "s1", ENTRY_OP_PATCH, "{\"tags\": null}");
    expect_record(s, C, "s1",
                  "{\"id\": \"s1\", \"name\": \"Cảm biến Lê Lợi\", \"level\": 2, "
                  "\"note\": \"ổn\"}",
                  false, __LINE__);
    /* put replaces the whole record */
    write1(s, &bob, C, "s1", ENTRY_OP_PUT, "{\"name\": \"mới\"}");
    expect_record(s, C, "s1", "{\"id\": \"s1\", \"name\": \"mới\"}", false, __LINE__);
    /* a patch on a new id creates it */
    write1(s, &bob, C, "s3", ENTRY_OP_PATCH, "{\"x\": true}");
    expect_record(s, C, "s3", "{\"id\": \"s3\", \"x\": true}", false, __LINE__);
    CHECK(live_count(s, C) == 3);

    /* delete tombstones */
    write1(s, &alice, C, "s1", ENTRY_OP_DELETE, NULL);
    expect_record(s, C, "s1", "{\"id\": \"s1\"}", true, __LINE__);
    CHECK(live_count(s, C) == 2);
    /* deleting again changes nothing visible */
    write1(s, &alice, C, "s1", ENTRY_OP_DELETE, NULL);
    CHECK(live_count(s, C) == 2);
    /* an empty patch leaves it deleted; a patch with a field revives it */
    write1(s, &alice, C, "s1", ENTRY_OP_PATCH, "{}");
    expect_record(s, C, "s1", "{\"id\": \"s1\"}", true, __LINE__);
    write1(s, &alice, C, "s1", ENTRY_OP_PATCH, "{\"level\": 5}");
    expect_record(s, C, "s1", "{\"id\": \"s1\", \"level\": 5}", false, __LINE__);
    CHECK(live_count(s, C) == 3);
    /* put after delete */
    write1(s, &alice, C, "s2", ENTRY_OP_DELETE, NULL);
    CHECK(live_count(s, C) == 2);
    write1(s, &alice, C, "s2", ENTRY_OP_PUT, "{\"name\": \"again\"}");
    expect_record(s, C, "s2", "{\"id\": \"s2\", \"name\": \"again\"}", false, __LINE__);
    CHECK(live_count(s, C) == 3);
    /* other collections are separate */
    write1(s, &alice, "alerts", "s1", ENTRY_OP_PUT, "{\"a\": 1}");
    CHECK(live_count(s, "alerts") == 1 && live_count(s, C) == 3);

    /* The owner is the creator's unit, whoever writes later. */
    uint8_t *rec;
    size_t len;
    char unit[64];
    REQUIRE(store_record_get(s, C, "s3", &rec, &len) == 0);
    CHECK(record_owner(rec, len, unit, sizeof unit) == 0 && !strcmp(unit, bob.unit));
    free(rec);

    /* A replica fed the log in reverse order converges to the same bytes. */
    elist log = {0};
    CHECK(store_log_scan(s, NULL, log_collect, &log) == 0);
    store *t = open_store(check_tmpdir(), 0);
    for (size_t i = log.n; i-- > 0;) {
        apply_result r = apply1(t, log.b[i], log.len[i], NULL);
        CHECKF(r == APPLY_ADDED, "%s", apply_result_str(r));
    }
    CHECK(same_state(s, t));
    elist_free(&log);
    reports r;
    CHECK(verify(s, &r) == 0);
    CHECK(verify(t, &r) == 0);
    store_close(t);
    store_close(s);
}

typedef struct {
    int n;
    char ids[16][64];
} idlist;

static int id_collect(void *ctx, const char *id, size_t idlen)
{
    idlist *l = ctx;
    if (l->n < 16)
        snprintf(l->ids[l->n], sizeof l->ids[0], "%.*s", (int)idlen, id);
    l->n++;
    return 0;
}

static void test_by_unit(void)
{
    store *s = open_store(check_tmpdir(), 0);
    write1(s, &alice, "sensors", "b", ENTRY_OP_PUT, "{}");
    write1(s, &alice, "sensors", "a", ENTRY_OP_PUT, "{}");
    write1(s, &bob, "sensors", "c", ENTRY_OP_PUT, "{}");
    write1(s, &bob, "sensors", "a", ENTRY_OP_PATCH, "{\"by\": \"bob\"}"); /* still alice's */
    write1(s, &alice, "alerts", "d", ENTRY_OP_PUT, "{}");
    write1(s, &alice, "sensors", "b", ENTRY_OP_DELETE, NULL); /* deleted: still owned */
    idlist l = {0};
    CHECK(store_records_by_unit(s, "40", "sensors", id_collect, &l) == 0);
    CHECK(l.n == 2 && !strcmp(l.ids[0], "a") && !strcmp(l.ids[1], "b"));
    memset(&l, 0, sizeof l);
    CHECK(store_records_by_unit(s, "412", "sensors", id_collect, &l) == 0);
    CHECK(l.n == 1 && !strcmp(l.ids[0], "c"));
    memset(&l, 0, sizeof l);
    CHECK(store_records_by_unit(s, "40", "alerts", id_collect, &l) == 0);
    CHECK(l.n == 1 && !strcmp(l.ids[0], "d"));
    memset(&l, 0, sizeof l);
    CHECK(store_records_by_unit(s, "4", "sensors", id_collect, &l) == 0); /* no prefix match */
    CHECK(l.n == 0);
    CHECK(store_records_by_unit(s, "412", "alerts", id_collect, &l) == 0);
    CHECK(l.n == 0);

    /* An entry with an earlier stamp from another unit takes ownership. */
    size_t len;
    uint8_t *early =
        make_entry(&carol, 1, NULL, 1, "sensors", "c", ENTRY_OP_PATCH, "{\"early\": 1}", &len);
    CHECK(apply1(s, early, len, NULL) == APPLY_ADDED);
    memset(&l, 0, sizeof l);
    CHECK(store_records_by_unit(s, "412", "sensors", id_collect, &l) == 0);
    CHECK(l.n == 0);
    memset(&l, 0, sizeof l);
    CHECK(store_records_by_unit(s, carol.unit, "sensors", id_collect, &l) == 0);
    CHECK(l.n == 1 && !strcmp(l.ids[0], "c"));
    free(early);
    reports r;
    CHECK(verify(s, &r) == 0);
    store_close(s);
}

static void test_blobs(void)
{
    store *s = open_store(check_tmpdir(), 0);
    size_t n = 200 * 1024;
    uint8_t *data = malloc(n);
    randombytes_buf(data, n);
    uint8_t h[32], h2[32], want[32];
    crypto_generichash(want, 32, data, n, NULL, 0);
    CHECKF(store_blob_put(s, data, n, h, err, sizeof err) == 0, "%s", err);
    CHECK(!memcmp(h, want, 32));
    uint8_t *got = NULL;
    size_t glen = 0;
    CHECK(store_blob_get(s, h, &got, &glen) == 0);
    CHECK(glen == n && got && !memcmp(got, data, n));
    free(got);
    /* Same content again: a no-op with the same hash. */
    size_t before = store_map_size(s);
    CHECKF(store_blob_put(s, data, n, h2, err, sizeof err) == 0, "%s", err);
    CHECK(!memcmp(h, h2, 32) && store_map_size(s) == before);
    CHECK(store_blob_get(s, h, &got, &glen) == 0 && glen == n && !memcmp(got, data, n));
    free(got);

    /* The empty blob. */
    uint8_t he[32];
    CHECKF(store_blob_put(s, data, 0, he, err, sizeof err) == 0, "%s", err);
    crypto_generichash(want, 32, data, 0, NULL, 0);
    CHECK(!memcmp(he, want, 32));
    got = NULL;
    glen = 99;
    CHECK(store_blob_get(s, he, &got, &glen) == 0 && glen == 0);
    free(got);

    /* Exactly two chunks, and no data pointer at all for the empty blob. */
    size_t two = 128 * 1024;
    CHECKF(store_blob_put(s, data, two, h2, err, sizeof err) == 0, "%s", err);
    CHECK(store_blob_get(s, h2, &got, &glen) == 0 && glen == two && !memcmp(got, data, two));
    free(got);
    CHECKF(store_blob_put(s, NULL, 0, h2, err, sizeof err) == 0, "%s", err);
    CHECK(!memcmp(h2, he, 32));

    /* Absent. */
    uint8_t absent[32];
    memset(absent, 0xee, sizeof absent);
    CHECK(store_blob_get(s, absent, &got, &glen) == 1);

    /* Over the limit: refused, nothing read. */
    uint8_t *big = calloc(1, (size_t)STORE_BLOB_MAX + 1);
    REQUIRE(big != NULL);
    err[0] = '\0';
    CHECK(store_blob_put(s, big, (size_t)STORE_BLOB_MAX + 1, h2, err, sizeof err) == -1);
    CHECKF(strstr(err, "limit") != NULL, "message: %s", err);
    free(big);

    /* Blobs are not log entries. */
    CHECK(store_entry_count(s) == 0 && store_arrival_last(s) == 0);
    free(data);
    store_close(s);
}

static void test_map_growth(void)
{
    const char *dir = check_tmpdir();
    store *s = open_store(dir, 1 << 20);
    size_t start = store_map_size(s);
    CHECK(start >= (1 << 20) && start < (2 << 20));
    store_author sa = {alice.pk, alice.sk, alice.unit};
    enum { TOTAL = 20000, BATCH = 500 };
    store_write w[BATCH];
    char ids[BATCH][32];
    size_t blen;
    uint8_t *body = pack_json("{\"text\": \"Mực nước sông Hồng tại trạm Long Biên\","
                              " \"level\": 1234, \"unit\": \"cm\"}",
                              &blen);
    uint64_t seqs[BATCH];
    int failures = 0;
    for (int done = 0; done < TOTAL; done += BATCH) {
        for (int i = 0; i < BATCH; i++) {
            snprintf(ids[i], sizeof ids[i], "tram-%05d", (done + i) % 7000);
            w[i] = (store_write){"water", ids[i], (done + i) % 3 ? ENTRY_OP_PATCH : ENTRY_OP_PUT,
                                 body,    blen,   NULL,
                                 0};
        }
        if (store_write_local(s, &sa, w, BATCH, seqs, err, sizeof err)) {
            failures++;
            fprintf(stderr, "batch at %d: %s\n", done, err);
        } else {
            CHECK(seqs[0] == (uint64_t)done + 1 && seqs[BATCH - 1] == (uint64_t)done + BATCH);
        }
    }
    free(body);
    CHECK(failures == 0);
    size_t grown = store_map_size(s);
    CHECKF(grown >= 8 * start, "map grew from %zu to %zu only", start, grown);
    CHECK(store_entry_count(s) == TOTAL);
    CHECK(store_arrival_last(s) == TOTAL);
    CHECK(live_count(s, "water") == 7000);
    store_origin o;
    CHECK(store_origin_get(s, alice.pk, &o) == 0 && o.max_seq == TOTAL && o.count == TOTAL);
    reports r;
    CHECK(verify(s, &r) == 0);
    store_close(s);

    /* Reopened with the small size again: the data is all there and writes
     * keep growing the map. */
    s = open_store(dir, 1 << 20);
    CHECK(store_map_size(s) >= (1 << 20));
    CHECK(store_entry_count(s) == TOTAL);
    CHECK(write1(s, &alice, "water", "tram-new", ENTRY_OP_PUT, "{\"a\": 1}") == TOTAL + 1);
    store_close(s);
}

static void test_two_handles(void)
{
    const char *dir = check_tmpdir();
    store *h1 = open_store(dir, 1 << 20), *h2 = open_store(dir, 1 << 20);
    CHECK(write1(h1, &alice, "notes", "n1", ENTRY_OP_PUT, "{\"t\": \"một\"}") == 1);
    CHECK(store_arrival_last(h2) == 1);
    expect_record(h2, "notes", "n1", "{\"id\": \"n1\", \"t\": \"một\"}", false, __LINE__);
    CHECK(write1(h2, &bob, "notes", "n2", ENTRY_OP_PUT, "{\"t\": \"hai\"}") == 1);
    CHECK(store_arrival_last(h1) == 2);
    /* Alternating writers keep one chain per origin. */
    CHECK(write1(h2, &alice, "notes", "n1", ENTRY_OP_PATCH, "{\"u\": 1}") == 2);
    CHECK(write1(h1, &alice, "notes", "n1", ENTRY_OP_PATCH, "{\"u\": 2}") == 3);
    expect_record(h2, "notes", "n1", "{\"id\": \"n1\", \"t\": \"một\", \"u\": 2}", false, __LINE__);

    /* h1 grows the map well past h2's; h2 then reads and writes. */
    store_author sa = {alice.pk, alice.sk, alice.unit};
    enum { BATCH = 250 };
    store_write w[BATCH];
    char ids[BATCH][16];
    for (int i = 0; i < BATCH; i++) {
        snprintf(ids[i], sizeof ids[i], "g%d", i);
        w[i] = (store_write){"notes", ids[i], ENTRY_OP_PUT, NULL, 0, NULL, 0};
    }
    for (int round = 0; round < 20; round++)
        CHECKF(store_write_local(h1, &sa, w, BATCH, NULL, err, sizeof err) == 0, "%s", err);
    CHECKF(store_map_size(h1) > (2 << 20), "map %zu", store_map_size(h1));
    uint64_t total = 4 + 20 * BATCH;
    CHECK(store_arrival_last(h2) == total);
    CHECK(store_entry_count(h2) == total);
    CHECK(write1(h2, &bob, "notes", "n3", ENTRY_OP_PUT, "{}") == 2);
    CHECK(store_map_size(h2) >= store_map_size(h1) || store_map_size(h2) > (4 << 20));
    CHECK(store_arrival_last(h1) == total + 1);
    elist arr = {0};
    CHECK(store_arrivals(h1, total, arrivals_collect, &arr) == 0);
    CHECK(arr.n == 1 && arr.pos[0] == total + 1);
    elist_free(&arr);
    /* And h2 grows it further while h1 is open. */
    store_author sb = {bob.pk, bob.sk, bob.unit};
    for (int round = 0; round < 20; round++)
        CHECKF(store_write_local(h2, &sb, w, BATCH, NULL, err, sizeof err) == 0, "%s", err);
    CHECK(store_arrival_last(h1) == total + 1 + 20 * BATCH);
    CHECK(write1(h1, &alice, "notes", "n4", ENTRY_OP_PUT, "{}") == 4 + 20 * BATCH);
    CHECK(same_state(h1, h2));
    store_close(h2);
    reports r;
    CHECK(verify(h1, &r) == 0);
    store_close(h1);

    /* A read-only handle reads but refuses writes. */
    store_options ro = {.read_only = true};
    store *h3 = NULL;
    CHECKF(store_open(&h3, dir, &ro, err, sizeof err) == 0, "%s", err);
    if (h3) {
        CHECKF(store_arrival_last(h3) == total + 2 + 20 * BATCH, "arrival %llu",
               (unsigned long long)store_arrival_last(h3));
        store_author sa2 = {alice.pk, alice.sk, alice.unit};
        store_write w1 = {"notes", "x", ENTRY_OP_PUT, NULL, 0, NULL, 0};
        err[0] = '\0';
        CHECK(store_write_local(h3, &sa2, &w1, 1, NULL, err, sizeof err) == STORE_FAILED &&
              store_write_errkind(STORE_FAILED) == LT_ESTORAGE);
        CHECKF(strstr(err, "read-only") != NULL, "message: %s", err);
        store_close(h3);
    }
}

/* Flips one bit of the value of the nth row (0-based) of the named
 * database, in place, through LMDB directly; the row's key goes to
 * key/keylen (at most 256 bytes). */
static void corrupt_row(const char *dir, const char *db, int nth, size_t at, uint8_t *key,
                        size_t *keylen)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *c;
    REQUIRE(mdb_env_create(&env) == 0);
    REQUIRE(mdb_env_set_maxdbs(env, 16) == 0);
    REQUIRE(mdb_env_set_mapsize(env, 64u << 20) == 0);
    REQUIRE(mdb_env_open(env, dir, 0, 0600) == 0);
    REQUIRE(mdb_txn_begin(env, NULL, 0, &txn) == 0);
    REQUIRE(mdb_dbi_open(txn, db, 0, &dbi) == 0);
    REQUIRE(mdb_cursor_open(txn, dbi, &c) == 0);
    MDB_val k, v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
    for (int i = 0; i < nth && !rc; i++)
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    REQUIRE(rc == 0 && k.mv_size <= 256 && v.mv_size > at);
    memcpy(key, k.mv_data, k.mv_size);
    *keylen = k.mv_size;
    uint8_t *copy = malloc(v.mv_size);
    memcpy(copy, v.mv_data, v.mv_size);
    copy[at] ^= 0x04;
    MDB_val nv = {v.mv_size, copy};
    REQUIRE(mdb_cursor_put(c, &k, &nv, MDB_CURRENT) == 0);
    free(copy);
    mdb_cursor_close(c);
    REQUIRE(mdb_txn_commit(txn) == 0);
    mdb_env_close(env);
}

/* corrupt_row on the "log": the entry's origin and seq come back. */
static void corrupt_log_entry(const char *dir, int nth, size_t at, uint8_t origin[32],
                              uint64_t *seq)
{
    uint8_t key[256];
    size_t klen;
    corrupt_row(dir, "log", nth, at, key, &klen);
    REQUIRE(klen == 40);
    memcpy(origin, key, 32);
    *seq = 0;
    for (int i = 0; i < 8; i++)
        *seq = *seq << 8 | key[32 + i];
}

/* True when some report contains both a and b. */
static bool reported(const reports *r, const char *a, const char *b)
{
    for (int i = 0; i < r->n && i < 16; i++)
        if (strstr(r->msgs[i], a) && strstr(r->msgs[i], b))
            return true;
    return false;
}

static void test_verify_corruption(void)
{
    const char *dir = check_tmpdir();
    store *s = open_store(dir, 0);
    for (int i = 0; i < 6; i++) {
        char id[16];
        snprintf(id, sizeof id, "r%d", i % 3);
        write1(s, &alice, "roads", id, i < 3 ? ENTRY_OP_PUT : ENTRY_OP_PATCH,
               "{\"status\": \"đang sửa\"}");
        write1(s, &bob, "roads", id, ENTRY_OP_PATCH, "{\"crew\": 4}");
    }
    reports r;
    CHECK(verify(s, &r) == 0);
    store_close(s);

    /* One bit in the middle of the third stored entry (signed bytes). */
    uint8_t origin[32];
    uint64_t seq;
    corrupt_log_entry(dir, 2, 120, origin, &seq);
    s = open_store(dir, 0);
    long n = verify(s, &r);
    CHECKF(n >= 1, "%ld problems", n);
    char hex[17], want[64];
    hex_encode(origin, 8, hex);
    snprintf(want, sizeof want, "%s…:%llu", hex, (unsigned long long)seq);
    bool named = false;
    for (int i = 0; i < r.n && i < 16; i++)
        if (strstr(r.msgs[i], "bad entry") && strstr(r.msgs[i], want))
            named = true;
    CHECKF(named, "no report names entry %s", want);
    store_close(s);

    /* One bit in the signature of the last entry of another store. */
    const char *dir2 = check_tmpdir();
    s = open_store(dir2, 0);
    write1(s, &carol, "roads", "x", ENTRY_OP_PUT, "{\"a\": 1}");
    write1(s, &carol, "roads", "x", ENTRY_OP_PATCH, "{\"a\": 2}");
    store_close(s);
    uint8_t *e;
    size_t elen;
    s = open_store(dir2, 0);
    REQUIRE(store_entry_get(s, carol.pk, 2, &e, &elen) == 0);
    store_close(s);
    corrupt_log_entry(dir2, 1, elen - 3, origin, &seq);
    free(e);
    s = open_store(dir2, 0);
    n = verify(s, &r);
    CHECK(n >= 1);
    hex_encode(carol.pk, 8, hex);
    snprintf(want, sizeof want, "bad entry %s…:2: signature", hex);
    named = false;
    for (int i = 0; i < r.n && i < 16; i++)
        if (strstr(r.msgs[i], want))
            named = true;
    CHECKF(named, "no report \"%s\"", want);
    store_close(s);

    /* A materialised record and a collection digest, each off by one bit. */
    const char *dir3 = check_tmpdir();
    s = open_store(dir3, 0);
    write1(s, &alice, "roads", "p", ENTRY_OP_PUT, "{\"a\": 1}");
    write1(s, &alice, "roads", "q", ENTRY_OP_PUT, "{\"a\": 2}");
    write1(s, &alice, "parks", "z", ENTRY_OP_PUT, "{\"a\": 3}");
    store_close(s);
    uint8_t key[256];
    size_t klen;
    corrupt_row(dir3, "records", 2, 5, key, &klen); /* parks/z, roads/p, roads/q */
    CHECK(klen == 7 && !memcmp(key, "roads\0q", 7));
    s = open_store(dir3, 0);
    CHECK(verify(s, &r) >= 1);
    CHECK(reported(&r, "record roads/q", "differs"));
    store_close(s);
    corrupt_row(dir3, "records", 2, 5, key, &klen); /* put it back */
    corrupt_row(dir3, "colls", 0, 20, key, &klen);  /* parks */
    s = open_store(dir3, 0);
    CHECK(verify(s, &r) == 1);
    CHECK(reported(&r, "collection digest parks", "differs"));
    store_close(s);
}

/* store_local_incr from four threads at once: every number handed out
 * once, none lost; an existing counter goes on from its value. */
#define INCR_THREADS 4
#define INCR_EACH 25

typedef struct {
    store *s;
    uint64_t got[INCR_EACH];
    int failed;
} incr_arg;

static void *incr_thread(void *p)
{
    incr_arg *a = p;
    char e[STORE_ERR_LEN];
    for (size_t i = 0; i < INCR_EACH; i++)
        a->failed |= store_local_incr(a->s, "counters", "n", 1, &a->got[i], e, sizeof e);
    return NULL;
}

static void test_local_incr(void)
{
    store *s = open_store(check_tmpdir(), 0);
    incr_arg args[INCR_THREADS];
    pthread_t t[INCR_THREADS];
    for (size_t i = 0; i < INCR_THREADS; i++) {
        args[i] = (incr_arg){.s = s};
        REQUIRE(pthread_create(&t[i], NULL, incr_thread, &args[i]) == 0);
    }
    bool seen[INCR_THREADS * INCR_EACH + 1] = {0};
    for (size_t i = 0; i < INCR_THREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK(!args[i].failed);
        for (size_t k = 0; k < INCR_EACH; k++) {
            uint64_t v = args[i].got[k];
            CHECKF(v >= 1 && v <= INCR_THREADS * INCR_EACH && !seen[v], "value %llu",
                   (unsigned long long)v);
            if (v >= 1 && v <= INCR_THREADS * INCR_EACH)
                seen[v] = true;
        }
    }
    uint64_t v = 0;
    CHECK(store_local_put(s, "counters", "m", 1, "41", 2, err, sizeof err) == 0);
    CHECK(store_local_incr(s, "counters", "m", 1, &v, err, sizeof err) == 0 && v == 42);
    uint8_t *val;
    size_t vlen;
    REQUIRE(store_local_get(s, "counters", "m", 1, &val, &vlen) == 0);
    CHECK(vlen == 2 && !memcmp(val, "42", 2));
    free(val);
    CHECK(store_local_incr(s, "Bad", "m", 1, &v, err, sizeof err) == -1);
    /* raise: up to a number taken elsewhere, never down */
    CHECK(store_local_raise(s, "counters", "m", 1, 100, err, sizeof err) == 0);
    CHECK(store_local_incr(s, "counters", "m", 1, &v, err, sizeof err) == 0 && v == 101);
    CHECK(store_local_raise(s, "counters", "m", 1, 7, err, sizeof err) == 0);
    CHECK(store_local_incr(s, "counters", "m", 1, &v, err, sizeof err) == 0 && v == 102);
    CHECK(store_local_raise(s, "counters", "fresh", 5, 9, err, sizeof err) == 0);
    CHECK(store_local_incr(s, "counters", "fresh", 5, &v, err, sizeof err) == 0 && v == 10);
    store_close(s);
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    author_init(&alice, "40");
    author_init(&bob, "412");
    author_init(&carol, "4121");
    test_local_and_replica();
    test_out_of_order_and_links();
    test_bad_signature();
    test_equivocation();
    test_local_refusals();
    test_local_hold();
    test_local_incr();
    test_deep_body();
    test_equal_stamps();
    test_semantics();
    test_by_unit();
    test_blobs();
    test_map_growth();
    test_two_handles();
    test_verify_corruption();
    return check_done();
}
