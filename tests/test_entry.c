/*
 * test_entry.c - the signed log entry (storage/entry) and the hybrid
 * logical clock (storage/hlc): encode/decode round trips, signatures and
 * hash links, single-bit corruption at every byte, size, name and nesting
 * limits, truncated and trailing input, and clock monotonicity, skew and
 * overflow.
 */
#include "lib/mpjson.h"
#include "storage/entry.h"
#include "storage/hlc.h"
#include "storage/store.h"
#include "tests/check.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
static char err[512];

/* The nested body of the round-trip entry, as JSON. */
static const char *const body_json =
    "{\"name\": \"Trạm quan trắc không khí Hồ Hoàn Kiếm, Hà Nội\","
    " \"level\": 3, \"pm25\": 41.5, \"ok\": true, \"note\": null,"
    " \"place\": {\"ward\": \"Phường Hàng Trống\", \"tags\": [\"bụi mịn\", \"giao thông\", 7],"
    "            \"deep\": {\"đường\": \"Đinh Tiên Hoàng\"}}}";

/* Packs a JSON object text into a malloc'd msgpack map. */
static uint8_t *pack_json(const char *text, size_t *len)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    REQUIRE(j != NULL);
    uint8_t *out = NULL;
    int rc = mpjson_pack_object(j, &out, len, err, sizeof err);
    json_decref(j);
    REQUIRE(rc == 0);
    return out;
}

/* Fills f with a small valid entry (no body, no addressees). */
static void small_fields(entry_fields *f)
{
    memset(f, 0, sizeof *f);
    f->origin = pk;
    f->seq = 1;
    f->hlc = hlc_make(1700000000000ull, 0);
    f->unit = "40";
    f->coll = "alerts";
    f->id = "a1";
    f->op = ENTRY_OP_DELETE;
}

/* Encodes f; returns the malloc'd bytes or NULL with err filled. */
static uint8_t *encode(const entry_fields *f, size_t *len)
{
    uint8_t *out = NULL;
    err[0] = '\0';
    if (entry_encode(f, sk, &out, len, err, sizeof err))
        return NULL;
    return out;
}

static bool str_is(msgpack_object_str s, const char *want)
{
    return s.size == strlen(want) && !memcmp(s.ptr, want, s.size);
}

static void test_round_trip(void)
{
    size_t blen;
    uint8_t *body = pack_json(body_json, &blen);
    uint8_t prev[ENTRY_HASH_BYTES];
    for (int i = 0; i < ENTRY_HASH_BYTES; i++)
        prev[i] = (uint8_t)(0xa0 + i);
    const char *to[] = {"40", "412*", "*", "a-b_C"};
    entry_fields f = {pk,
                      7,
                      prev,
                      hlc_make(1763894940123ull, 5),
                      "412",
                      "sensors.air",
                      "trạm-01/Hồ Gươm",
                      ENTRY_OP_PATCH,
                      body,
                      blen,
                      to,
                      4};
    size_t len;
    uint8_t *bytes = encode(&f, &len);
    CHECKF(bytes != NULL, "%s", err);
    if (!bytes) {
        free(body);
        return;
    }
    entry_view v;
    CHECKF(entry_decode(bytes, len, &v, err, sizeof err) == 0, "%s", err);
    CHECK(v.bytes == bytes && v.len == len);
    CHECK(!memcmp(v.origin, pk, ENTRY_KEY_BYTES));
    CHECK(v.seq == 7);
    CHECK(!memcmp(v.prev, prev, ENTRY_HASH_BYTES));
    CHECK(v.hlc == hlc_make(1763894940123ull, 5));
    CHECK(str_is(v.unit, "412"));
    CHECK(str_is(v.coll, "sensors.air"));
    CHECK(str_is(v.id, "trạm-01/Hồ Gươm"));
    CHECK(v.op == ENTRY_OP_PATCH);
    CHECK(v.to.size == 4);
    for (uint32_t i = 0; i < v.to.size && i < 4; i++)
        CHECK(v.to.ptr[i].type == MSGPACK_OBJECT_STR && str_is(v.to.ptr[i].via.str, to[i]));
    CHECK(v.sig == bytes + len - ENTRY_SIG_BYTES);
    CHECK(entry_verify(&v));
    CHECK(entry_verify_bytes(bytes, len));

    /* The body comes back as the same JSON, Vietnamese text intact. */
    msgpack_object bo = {.type = MSGPACK_OBJECT_MAP, .via.map = v.body};
    json_t *got = mpjson_to_json(&bo, err, sizeof err);
    json_error_t jerr;
    json_t *want = json_loads(body_json, 0, &jerr);
    CHECKF(got && want && json_equal(got, want), "body differs: %s", err);
    json_t *ward = json_object_get(json_object_get(got, "place"), "ward");
    CHECK(ward && !strcmp(json_string_value(ward), "Phường Hàng Trống"));
    json_decref(got);
    json_decref(want);

    /* The body's bytes are embedded verbatim, and encoding is deterministic. */
    CHECK(memmem(bytes, len, body, blen) != NULL);
    size_t len2;
    uint8_t *again = encode(&f, &len2);
    CHECK(again && len2 == len && !memcmp(again, bytes, len));
    free(again);

    /* Another key's signature does not verify under this origin. */
    uint8_t pk2[crypto_sign_PUBLICKEYBYTES], sk2[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk2, sk2);
    uint8_t *forged = NULL;
    size_t flen;
    CHECK(entry_encode(&f, sk2, &forged, &flen, err, sizeof err) == 0);
    if (forged) {
        entry_view fv;
        CHECK(entry_decode(forged, flen, &fv, err, sizeof err) == 0);
        CHECK(!entry_verify(&fv));
        CHECK(!entry_verify_bytes(forged, flen));
        entry_view_free(&fv);
        free(forged);
    }

    /* An empty body (NULL) and an empty "to" decode as empty containers. */
    entry_fields g;
    small_fields(&g);
    uint8_t *small = encode(&g, &len2);
    CHECKF(small != NULL, "%s", err);
    if (small) {
        entry_view sv;
        CHECK(entry_decode(small, len2, &sv, err, sizeof err) == 0);
        CHECK(sv.body.size == 0 && sv.to.size == 0 && sv.op == ENTRY_OP_DELETE);
        static const uint8_t zeros[ENTRY_HASH_BYTES];
        CHECK(!memcmp(sv.prev, zeros, ENTRY_HASH_BYTES));
        CHECK(entry_verify(&sv));
        entry_view_free(&sv);
        free(small);
    }

    entry_view_free(&v);
    entry_view_free(&v); /* safe on a zeroed view */
    free(bytes);
    free(body);
}

static void test_hash_link(void)
{
    entry_fields f;
    small_fields(&f);
    size_t l1, l2;
    uint8_t *e1 = encode(&f, &l1);
    REQUIRE(e1 != NULL);
    uint8_t h1[ENTRY_HASH_BYTES], direct[ENTRY_HASH_BYTES];
    entry_hash(e1, l1, h1);
    crypto_generichash(direct, sizeof direct, e1, l1, NULL, 0);
    CHECK(!memcmp(h1, direct, ENTRY_HASH_BYTES)); /* BLAKE2b-256 of every byte */

    f.seq = 2;
    f.prev = h1;
    f.hlc++;
    uint8_t *e2 = encode(&f, &l2);
    REQUIRE(e2 != NULL);
    entry_view v;
    REQUIRE(entry_decode(e2, l2, &v, err, sizeof err) == 0);
    CHECK(v.seq == 2 && !memcmp(v.prev, h1, ENTRY_HASH_BYTES));
    uint8_t h2[ENTRY_HASH_BYTES];
    entry_hash(e2, l2, h2);
    CHECK(memcmp(h1, h2, ENTRY_HASH_BYTES) != 0);
    entry_view_free(&v);

    /* The hash covers the signature too: one bit there changes it. */
    e1[l1 - 1] ^= 1;
    uint8_t h1b[ENTRY_HASH_BYTES];
    entry_hash(e1, l1, h1b);
    CHECK(memcmp(h1, h1b, ENTRY_HASH_BYTES) != 0);
    free(e1);
    free(e2);
}

/* Flips every bit of every byte of bytes: each copy must fail decoding or
 * verification, and none may be added to a store. */
static void flip_all(const uint8_t *bytes, size_t len, store *s, const char *what)
{
    uint8_t *copies = malloc(len * 8 * len);
    store_input *in = malloc(len * 8 * sizeof *in);
    apply_result *res = malloc(len * 8 * sizeof *res);
    REQUIRE(copies && in && res);
    size_t accepted = 0, verified_bytes = 0;
    for (size_t pos = 0; pos < len; pos++) {
        for (int bit = 0; bit < 8; bit++) {
            size_t i = pos * 8 + (size_t)bit;
            uint8_t *c = copies + i * len;
            memcpy(c, bytes, len);
            c[pos] ^= (uint8_t)(1u << bit);
            in[i] = (store_input){c, len};
            entry_view v;
            if (entry_decode(c, len, &v, err, sizeof err) == 0) {
                if (entry_verify(&v)) {
                    accepted++;
                    fprintf(stderr, "%s: flip of byte %zu bit %d still verifies\n", what, pos, bit);
                }
                entry_view_free(&v);
            }
            if (entry_verify_bytes(c, len))
                verified_bytes++;
        }
    }
    CHECKF(accepted == 0, "%s: %zu corrupted copies decode and verify", what, accepted);
    CHECKF(verified_bytes == 0, "%s: %zu corrupted copies pass entry_verify_bytes", what,
           verified_bytes);

    /* Through the store, in batches: nothing is ever added. */
    size_t added = 0, n = len * 8;
    for (size_t off = 0; off < n; off += 512) {
        size_t k = n - off < 512 ? n - off : 512;
        CHECKF(store_apply(s, in + off, k, 0, res + off, NULL, err, sizeof err) == 0, "%s", err);
        for (size_t i = off; i < off + k; i++)
            if (res[i] == APPLY_ADDED) {
                added++;
                fprintf(stderr, "%s: flip %zu/%zu added\n", what, i / 8, i % 8);
            }
    }
    CHECKF(added == 0, "%s: %zu corrupted copies added to the store", what, added);
    CHECK(store_entry_count(s) == 0);
    CHECK(store_arrival_last(s) == 0);
    free(copies);
    free(in);
    free(res);
}

static void test_bit_flips(void)
{
    store *s;
    REQUIRE(store_open(&s, check_tmpdir(), NULL, err, sizeof err) == 0);

    entry_fields f;
    small_fields(&f);
    size_t len;
    uint8_t *small = encode(&f, &len);
    REQUIRE(small != NULL);
    flip_all(small, len, s, "small entry");
    free(small);

    /* A larger entry with str8/str16 headers, nested maps and a "to" list:
     * flipping their header bits makes hostile length claims. */
    size_t blen;
    uint8_t *body = pack_json(body_json, &blen);
    const char *to[] = {"40", "412*"};
    entry_fields g = {pk,        3,
                      NULL,      hlc_make(1763894940123ull, 1),
                      "412",     "sensors.air",
                      "trạm-02", ENTRY_OP_PUT,
                      body,      blen,
                      to,        2};
    uint8_t prev[ENTRY_HASH_BYTES] = {1, 2, 3};
    g.prev = prev;
    uint8_t *big = encode(&g, &len);
    CHECKF(big != NULL, "%s", err);
    if (big)
        flip_all(big, len, s, "nested entry");
    free(big);
    free(body);
    store_close(s);
}

static void test_size_limit(void)
{
    entry_fields f;
    small_fields(&f);
    f.op = ENTRY_OP_PUT;
    /* Find the overhead with a 1000-byte text, then aim exactly at the limit. */
    size_t textlen = 1000;
    char *text = malloc(ENTRY_MAX_BYTES + 100);
    uint8_t *body = malloc(ENTRY_MAX_BYTES + 200);
    REQUIRE(text && body);
    memset(text, 'x', ENTRY_MAX_BYTES + 100);
    size_t len = 0;
    for (int round = 0; round < 3; round++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer p;
        msgpack_packer_init(&p, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&p, 1);
        msgpack_pack_str_with_body(&p, "text", 4);
        msgpack_pack_str_with_body(&p, text, textlen);
        memcpy(body, sb.data, sb.size);
        f.body = body;
        f.body_len = sb.size;
        msgpack_sbuffer_destroy(&sb);
        uint8_t *out = encode(&f, &len);
        if (round == 0) {
            CHECK(out != NULL);
            textlen += ENTRY_MAX_BYTES - len; /* exactly at the limit */
        } else if (round == 1) {
            CHECKF(out && len == ENTRY_MAX_BYTES, "%s (len %zu)", err, len);
            textlen++; /* one byte over */
        } else {
            CHECK(out == NULL);
            CHECKF(strstr(err, "32768") && strstr(err, "limit"), "message: %s", err);
        }
        free(out);
    }
    /* Decoding over-limit bytes is refused before anything is parsed. */
    uint8_t *huge = calloc(1, ENTRY_MAX_BYTES + 1);
    entry_view v;
    CHECK(entry_decode(huge, ENTRY_MAX_BYTES + 1, &v, err, sizeof err) == -1);
    CHECKF(strstr(err, "32768") != NULL, "message: %s", err);
    CHECK(!entry_verify_bytes(huge, ENTRY_MAX_BYTES + 1));
    free(huge);
    free(text);
    free(body);
}

/* Encodes f and expects a refusal whose message contains want. */
static void expect_refused(const entry_fields *f, const char *want, const char *label)
{
    size_t len;
    uint8_t *out = encode(f, &len);
    CHECKF(out == NULL, "%s was accepted", label);
    CHECKF(out != NULL || strstr(err, want), "%s: message \"%s\" lacks \"%s\"", label, err, want);
    free(out);
}

static void test_invalid_fields(void)
{
    entry_fields f;
    char long_name[200];

    const char *bad_units[] = {"", "4 0", "40/1", "đơn-vị", "40*", "*"};
    for (size_t i = 0; i < sizeof bad_units / sizeof *bad_units; i++) {
        small_fields(&f);
        f.unit = bad_units[i];
        expect_refused(&f, "unit must be", bad_units[i]);
    }
    memset(long_name, 'u', 33);
    long_name[33] = '\0';
    small_fields(&f);
    f.unit = long_name;
    expect_refused(&f, "unit must be", "33-byte unit");
    long_name[32] = '\0';
    f.unit = long_name;
    size_t len;
    uint8_t *ok = encode(&f, &len);
    CHECKF(ok != NULL, "32-byte unit: %s", err);
    free(ok);

    const char *bad_colls[] = {"", "Sensors", "1abc", "_x", "a-b", "a b", "trạm"};
    for (size_t i = 0; i < sizeof bad_colls / sizeof *bad_colls; i++) {
        small_fields(&f);
        f.coll = bad_colls[i];
        expect_refused(&f, "coll must be", bad_colls[i]);
    }
    memset(long_name, 'c', 65);
    long_name[65] = '\0';
    small_fields(&f);
    f.coll = long_name;
    expect_refused(&f, "coll must be", "65-byte coll");

    const char *bad_ids[] = {"",         "a\nb",     "tab\there",   "del\x7f",
                             "\xff\xfe", "\xc3\x28", "\xed\xa0\x80" /* surrogate */};
    for (size_t i = 0; i < sizeof bad_ids / sizeof *bad_ids; i++) {
        small_fields(&f);
        f.id = bad_ids[i];
        expect_refused(&f, "id must be", "bad id");
    }
    memset(long_name, 'i', 129);
    long_name[129] = '\0';
    small_fields(&f);
    f.id = long_name;
    expect_refused(&f, "id must be", "129-byte id");
    long_name[128] = '\0';
    ok = encode(&f, &len);
    CHECKF(ok != NULL, "128-byte id: %s", err);
    free(ok);

    small_fields(&f);
    f.op = (entry_op)0;
    expect_refused(&f, "op must be", "op 0");
    f.op = (entry_op)9;
    expect_refused(&f, "op must be", "op 9");

    const char *bad_to[] = {"", "4 0", "**", "4*1", "*x", "đ", "40**"};
    for (size_t i = 0; i < sizeof bad_to / sizeof *bad_to; i++) {
        const char *to[] = {"40", bad_to[i]};
        small_fields(&f);
        f.to = to;
        f.to_count = 2;
        expect_refused(&f, "to[1] must be", bad_to[i]);
    }
    const char *many[ENTRY_MAX_TO + 1];
    for (int i = 0; i <= ENTRY_MAX_TO; i++)
        many[i] = "40";
    small_fields(&f);
    f.to = many;
    f.to_count = ENTRY_MAX_TO + 1;
    expect_refused(&f, "at most 64", "65 addressees");
    f.to_count = ENTRY_MAX_TO;
    ok = encode(&f, &len);
    CHECKF(ok != NULL, "64 addressees: %s", err);
    free(ok);

    /* The record id lives in the entry, never in the body. */
    size_t blen;
    uint8_t *body = pack_json("{\"name\": \"x\", \"id\": \"other\"}", &blen);
    small_fields(&f);
    f.op = ENTRY_OP_PUT;
    f.body = body;
    f.body_len = blen;
    expect_refused(&f, "\"id\"", "body with id");
    free(body);
    /* A body that is not a map, or is followed by stray bytes. */
    uint8_t arr[] = {0x91, 0x01};
    f.body = arr;
    f.body_len = sizeof arr;
    expect_refused(&f, "body must be a map", "array body");
    uint8_t stray[] = {0x80, 0xc0};
    f.body = stray;
    f.body_len = sizeof stray;
    expect_refused(&f, "entry", "body with stray byte");
    uint8_t badutf[] = {0x81, 0xa1, 'k', 0xa2, 0xc3, 0x28};
    f.body = badutf;
    f.body_len = sizeof badutf;
    expect_refused(&f, "UTF-8", "body with invalid UTF-8");

    /* Nesting: a record keeps values three levels below its root, so a
     * body may nest 30 levels (the body map itself is one). */
    uint8_t deep[64];
    for (int levels = 29; levels <= 31; levels++) {
        size_t n = 0;
        deep[n++] = 0x81; /* body: {"k": [[...]]} */
        deep[n++] = 0xa1;
        deep[n++] = 'k';
        for (int i = 0; i < levels - 2; i++)
            deep[n++] = 0x91;
        deep[n++] = 0x90;
        small_fields(&f);
        f.op = ENTRY_OP_PUT;
        f.body = deep;
        f.body_len = n;
        uint8_t *out = encode(&f, &len);
        if (levels <= 30) {
            CHECKF(out != NULL, "body of %d levels: %s", levels, err);
        } else {
            CHECK(out == NULL);
            CHECKF(strstr(err, "31 levels") && strstr(err, "30"), "message: %s", err);
        }
        free(out);
    }

    /* The validators themselves. */
    CHECK(entry_unit_valid("412", 3) && entry_unit_valid("A-b_9", 5));
    CHECK(!entry_unit_valid("", 0) && !entry_unit_valid("4.1", 3));
    CHECK(entry_coll_valid("road.works_2", 12) && !entry_coll_valid("Road", 4));
    CHECK(entry_id_valid("Hồ Gươm", strlen("Hồ Gươm")) && !entry_id_valid("a\0b", 3));
    CHECK(entry_op_parse("put", 3) == ENTRY_OP_PUT && entry_op_parse("patch", 5) == ENTRY_OP_PATCH);
    CHECK(entry_op_parse("delete", 6) == ENTRY_OP_DELETE && entry_op_parse("puts", 4) == 0);
    CHECK(entry_op_parse("pu", 2) == 0 && entry_op_parse("", 0) == 0);
    CHECK(!strcmp(entry_op_name(ENTRY_OP_PATCH), "patch"));
}

static void test_truncated_trailing(void)
{
    size_t blen;
    uint8_t *body = pack_json(body_json, &blen);
    entry_fields f;
    small_fields(&f);
    f.op = ENTRY_OP_PUT;
    f.body = body;
    f.body_len = blen;
    size_t len;
    uint8_t *bytes = encode(&f, &len);
    REQUIRE(bytes != NULL);
    entry_view v;
    size_t refused = 0;
    for (size_t n = 0; n < len; n++) {
        err[0] = '\0';
        if (entry_decode(bytes, n, &v, err, sizeof err) == -1 && err[0])
            refused++;
        else
            entry_view_free(&v);
    }
    CHECKF(refused == len, "%zu of %zu prefixes refused with a message", refused, len);

    /* One stray byte after the entry. */
    uint8_t *longer = malloc(len + ENTRY_SIG_TAIL);
    memcpy(longer, bytes, len);
    longer[len] = 0xc0;
    CHECK(entry_decode(longer, len + 1, &v, err, sizeof err) == -1);
    CHECK(!entry_verify_bytes(longer, len + 1));
    /* A copy of the signature tail after the entry keeps the tail check
     * happy: the decoder must still see the trailing bytes. */
    memcpy(longer + len, bytes + len - ENTRY_SIG_TAIL, ENTRY_SIG_TAIL);
    CHECK(entry_decode(longer, len + ENTRY_SIG_TAIL, &v, err, sizeof err) == -1);
    CHECKF(strstr(err, "trailing") != NULL, "message: %s", err);
    CHECK(!entry_verify_bytes(longer, len + ENTRY_SIG_TAIL));
    /* The same entry cut in the middle but with the tail intact. */
    memcpy(longer, bytes, 40);
    memcpy(longer + 40, bytes + len - ENTRY_SIG_TAIL, ENTRY_SIG_TAIL);
    CHECK(entry_decode(longer, 40 + ENTRY_SIG_TAIL, &v, err, sizeof err) == -1);
    CHECK(entry_decode(NULL, 0, &v, err, sizeof err) == -1);
    free(longer);
    free(bytes);
    free(body);
}

static void test_hlc(void)
{
    /* Strictly increasing whatever the wall clock does. */
    const uint64_t walls[] = {1000, 2000, 2000, 1500, 500, 0, 2000, 2001, 2001, 1999, 5000, 4000};
    hlc_t t = 0;
    for (size_t i = 0; i < sizeof walls / sizeof *walls; i++) {
        hlc_t n = hlc_next(t, walls[i]);
        CHECKF(n > t, "step %zu: %llu <= %llu", i, (unsigned long long)n, (unsigned long long)t);
        CHECK(hlc_ms(n) >= walls[i]);
        t = n;
    }
    CHECK(hlc_ms(t) == 5000 && hlc_counter(t) == 1);
    CHECK(hlc_next(hlc_make(1000, 3), 1000) == hlc_make(1000, 4));
    CHECK(hlc_next(hlc_make(1000, 3), 1001) == hlc_make(1001, 0));
    CHECK(hlc_next(hlc_make(1000, 3), 10) == hlc_make(1000, 4)); /* wall went back */

    /* A remote clock hours ahead: we follow it, not the wall. */
    uint64_t now = 1763894940000ull, hours = 3 * 3600 * 1000ull;
    hlc_t local = hlc_make(now, 2);
    hlc_t remote = hlc_make(now + hours, 7);
    hlc_t seen = hlc_observe(local, remote, now);
    CHECK(seen >= remote && seen >= local);
    hlc_t next = hlc_next(seen, now + 10);
    CHECK(next > remote && hlc_ms(next) == now + hours && hlc_counter(next) == 8);
    CHECK(hlc_observe(remote, local, now) == remote); /* an older remote changes nothing */
    CHECK(hlc_observe(local, hlc_make(now - hours, 1), now + 5) == hlc_make(now + 5, 0));
    /* Once the wall clock passes the remote one, it leads again. */
    CHECK(hlc_next(next, now + hours + 1) == hlc_make(now + hours + 1, 0));

    /* Counter overflow moves to the next millisecond, still increasing. */
    hlc_t full = hlc_make(1000, 0xffff);
    hlc_t after = hlc_next(full, 1000);
    CHECK(after > full && after == hlc_make(1001, 0));
    CHECK(hlc_next(full, 10) == hlc_make(1001, 0));
    CHECK(hlc_next(hlc_make(1000, 0xfffe), 1000) == hlc_make(1000, 0xffff));
    hlc_t x = hlc_make(7, 0xfff0);
    for (int i = 0; i < 40; i++) {
        hlc_t y = hlc_next(x, 7);
        CHECK(y > x);
        x = y;
    }
    CHECK(x == hlc_make(8, 0x0018));
    /* The very last stamp (a hostile remote clock can push a node there)
     * saturates instead of wrapping round to 0. */
    CHECK(hlc_next(UINT64_MAX, 1763894940000ull) == UINT64_MAX);
    CHECK(hlc_next(hlc_observe(hlc_make(5, 0), UINT64_MAX, 5), 5) == UINT64_MAX);
    CHECK(hlc_next(hlc_make(0xffffffffffffull, 0xfffe), 0) == UINT64_MAX);
    hlc_t obs = hlc_observe(0, full, 0);
    CHECK(obs == full && hlc_next(obs, 0) > full);

    CHECK(hlc_make(5, 9) == ((5ull << 16) | 9) && hlc_ms(hlc_make(5, 9)) == 5 &&
          hlc_counter(hlc_make(5, 9)) == 9);
    char buf[64];
    CHECK(!strcmp(hlc_format(hlc_make(0, 5), buf, sizeof buf), "1970-01-01T00:00:00.000Z+5"));
    CHECK(!strcmp(hlc_format(hlc_make(1763894940123ull, 0), buf, sizeof buf),
                  "2025-11-23T10:49:00.123Z+0"));
    uint64_t w = hlc_wall_ms();
    CHECK(w > 1700000000000ull);
}

/* entry_head_read gives what entry_decode gives, body apart, for entries
 * of every header size (fixstr and str8 names, small and 8-byte numbers,
 * no and many addressees, empty and nested bodies), and refuses every
 * truncation and a byte appended. */
static bool head_same(const uint8_t *bytes, size_t len)
{
    entry_view v;
    entry_head h;
    if (entry_decode(bytes, len, &v, err, sizeof err) || entry_head_read(bytes, len, &h))
        return false;
    bool same = h.v.seq == v.seq && h.v.hlc == v.hlc && h.v.op == v.op &&
                !memcmp(h.v.origin, v.origin, ENTRY_KEY_BYTES) &&
                !memcmp(h.v.prev, v.prev, ENTRY_HASH_BYTES) &&
                !memcmp(h.v.sig, v.sig, ENTRY_SIG_BYTES) && h.v.unit.size == v.unit.size &&
                !memcmp(h.v.unit.ptr, v.unit.ptr, v.unit.size) && h.v.coll.size == v.coll.size &&
                !memcmp(h.v.coll.ptr, v.coll.ptr, v.coll.size) && h.v.id.size == v.id.size &&
                !memcmp(h.v.id.ptr, v.id.ptr, v.id.size) && h.v.to.size == v.to.size &&
                h.v.body.size == 0 && h.v.bytes == bytes && h.v.len == len;
    for (uint32_t i = 0; same && i < v.to.size; i++)
        same =
            h.v.to.ptr[i].type == MSGPACK_OBJECT_STR &&
            h.v.to.ptr[i].via.str.size == v.to.ptr[i].via.str.size &&
            !memcmp(h.v.to.ptr[i].via.str.ptr, v.to.ptr[i].via.str.ptr, v.to.ptr[i].via.str.size);
    entry_view_free(&v);
    entry_view_free(&h.v); /* harmless */
    return same;
}

static void test_head_read(void)
{
    static const char *const many[40] = {
        "40", "412*", "*",  "16681", "16684", "1",  "2",  "3",  "4",  "5",  "6",  "7",  "8",  "9",
        "10", "11",   "12", "13",    "14",    "15", "16", "17", "18", "19", "20", "21", "22", "23",
        "24", "25",   "26", "27",    "28",    "29", "30", "31", "32", "33", "34", "35"};
    char longid[120];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    size_t blen;
    uint8_t *body = pack_json(body_json, &blen);
    uint8_t prev[ENTRY_HASH_BYTES];
    memset(prev, 0xab, sizeof prev);
    for (int k = 0; k < 4; k++) {
        entry_fields f;
        small_fields(&f);
        if (k & 1) {
            f.seq = 5000000000ull;
            f.prev = prev;
            f.hlc = UINT64_MAX - 7;
            f.id = longid;
            f.coll = "reports";
            f.op = ENTRY_OP_PUT;
            f.to = many;
            f.to_count = 40;
        }
        if (k & 2) {
            f.body = body;
            f.body_len = blen;
            f.op = ENTRY_OP_PATCH;
            if (!(k & 1)) {
                f.to = many;
                f.to_count = 3;
            }
        }
        size_t len;
        uint8_t *e = encode(&f, &len);
        REQUIRE(e != NULL);
        CHECKF(head_same(e, len), "entry %d: the head differs from the full decode", k);
        entry_head h;
        size_t cut = 0;
        for (size_t n = 0; n < len; n++)
            cut += entry_head_read(e, n, &h) != 0;
        CHECKF(cut == len, "entry %d: %zu of %zu truncations read", k, len - cut, len);
        uint8_t *more = malloc(len + 1);
        memcpy(more, e, len);
        more[len] = 0xc0;
        CHECK(entry_head_read(more, len + 1, &h) != 0);
        free(more);
        free(e);
    }
    free(body);
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    crypto_sign_keypair(pk, sk);
    test_round_trip();
    test_hash_link();
    test_bit_flips();
    test_size_limit();
    test_invalid_fields();
    test_truncated_trailing();
    test_hlc();
    test_head_read();
    return check_done();
}
