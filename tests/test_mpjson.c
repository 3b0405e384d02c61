/*
 * test_mpjson.c - JSON <-> msgpack conversion (lib/mpjson): round
 * trips, canonical key order, integer encodings, depth and UTF-8 limits,
 * malformed and hostile msgpack, bin as base64.
 */
#include "lib/mpjson.h"
#include "tests/check.h"

#include <stdint.h>
#include <string.h>

static char err[256];

/* Packs any JSON value into a fresh sbuffer; returns mpjson_pack's result. */
static int pack_any(const json_t *v, msgpack_sbuffer *sb)
{
    msgpack_sbuffer_init(sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    err[0] = 0;
    return mpjson_pack(&pk, v, err, sizeof err);
}

/* mpjson_decode into the shared err buffer. */
static json_t *decode(const void *b, size_t n)
{
    err[0] = 0;
    return mpjson_decode(b, n, err, sizeof err);
}

/* Unpacks bytes with msgpack itself and runs mpjson_check on the result. */
static int check_bytes(const void *b, size_t n)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int rc = -2;
    if (msgpack_unpack_next(&u, b, n, &off) == MSGPACK_UNPACK_SUCCESS) {
        err[0] = 0;
        rc = mpjson_check(&u.data, err, sizeof err);
    }
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* Unpacks bytes and runs mpjson_to_json directly. */
static json_t *to_json_bytes(const void *b, size_t n)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    json_t *j = NULL;
    if (msgpack_unpack_next(&u, b, n, &off) == MSGPACK_UNPACK_SUCCESS) {
        err[0] = 0;
        j = mpjson_to_json(&u.data, err, sizeof err);
    }
    msgpack_unpacked_destroy(&u);
    return j;
}

static void test_round_trip(void)
{
    const char *doc =
        "{\"title\": \"Đường ngập nước\","
        " \"place\": {\"ward\": \"Phường Bến Nghé\", \"geo\": [10.7769, 106.7009]},"
        " \"level\": 3, \"depth_cm\": 42.5, \"open\": true, \"closed\": false,"
        " \"note\": null, \"tags\": [\"ngập\", \"giao thông\", [], {}, [1, [2, [3]]]],"
        " \"empty\": \"\", \"nul\": \"a\\u0000b\", \"emoji\": \"\\ud83c\\udf0a\","
        " \"neg\": -123456789012, \"one\": 1.0}";
    json_error_t je;
    json_t *in = json_loads(doc, JSON_ALLOW_NUL, &je);
    if (!in)
        fprintf(stderr, "json: %s\n", je.text);
    REQUIRE(in);

    uint8_t *buf = NULL;
    size_t len = 0;
    CHECKF(mpjson_pack_object(in, &buf, &len, err, sizeof err) == 0, "%s", err);
    REQUIRE(buf && len > 0);
    CHECK((buf[0] & 0xf0) == 0x80); /* fixmap */

    json_t *out = decode(buf, len);
    CHECKF(out != NULL, "%s", err);
    CHECK(json_equal(in, out));
    /* 1.0 stays a real, and the NUL inside a string survives. */
    CHECK(json_is_real(json_object_get(out, "one")));
    CHECK(json_string_length(json_object_get(out, "nul")) == 3);
    CHECK(strcmp(json_string_value(json_object_get(out, "title")), "Đường ngập nước") == 0);

    /* Packing the decoded value again gives the same bytes. */
    uint8_t *buf2 = NULL;
    size_t len2 = 0;
    CHECK(mpjson_pack_object(out, &buf2, &len2, err, sizeof err) == 0);
    CHECK(len2 == len && memcmp(buf, buf2, len) == 0);

    /* mpjson_check agrees. */
    CHECKF(check_bytes(buf, len) == 0, "%s", err);

    free(buf);
    free(buf2);
    json_decref(in);
    json_decref(out);

    /* Scalars at the top level round-trip through mpjson_pack/mpjson_decode. */
    json_t *scalars[] = {json_null(),           json_true(),     json_false(),
                         json_string("Hà Nội"), json_real(-0.5), json_array()};
    for (size_t i = 0; i < sizeof scalars / sizeof *scalars; i++) {
        msgpack_sbuffer sb;
        CHECK(pack_any(scalars[i], &sb) == 0);
        json_t *back = decode(sb.data, sb.size);
        CHECKF(back && json_equal(back, scalars[i]), "scalar %zu: %s", i, err);
        json_decref(back);
        json_decref(scalars[i]);
        msgpack_sbuffer_destroy(&sb);
    }
}

static void test_integers(void)
{
    static const struct {
        json_int_t v;
        size_t n;
        uint8_t bytes[9];
    } cases[] = {
        {0, 1, {0x00}},
        {-1, 1, {0xff}},
        {127, 1, {0x7f}},
        {128, 2, {0xcc, 0x80}},
        {255, 2, {0xcc, 0xff}},
        {256, 3, {0xcd, 0x01, 0x00}},
        {65535, 3, {0xcd, 0xff, 0xff}},
        {65536, 5, {0xce, 0x00, 0x01, 0x00, 0x00}},
        {-32, 1, {0xe0}},
        {-33, 2, {0xd0, 0xdf}},
        {-129, 3, {0xd1, 0xff, 0x7f}},
        {4294967296LL, 9, {0xcf, 0, 0, 0, 1, 0, 0, 0, 0}},
        {INT64_MAX, 9, {0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
        {INT64_MIN, 9, {0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *v = json_integer(cases[i].v);
        msgpack_sbuffer sb;
        CHECK(pack_any(v, &sb) == 0);
        CHECKF(sb.size == cases[i].n && memcmp(sb.data, cases[i].bytes, sb.size) == 0,
               "integer %lld packed to %zu bytes", (long long)cases[i].v, sb.size);
        json_t *back = decode(sb.data, sb.size);
        CHECKF(back && json_is_integer(back) && json_integer_value(back) == cases[i].v,
               "integer %lld: %s", (long long)cases[i].v, err);
        json_decref(back);
        json_decref(v);
        msgpack_sbuffer_destroy(&sb);
    }

    /* uint64 above INT64_MAX has no JSON form. */
    const uint8_t big[] = {0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0};
    CHECK(decode(big, sizeof big) == NULL);
    CHECKF(strstr(err, "int64") != NULL, "%s", err);
    CHECK(check_bytes(big, sizeof big) == -1);
    const uint8_t max[] = {0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    CHECK(decode(max, sizeof max) == NULL);
    /* Inside a map the error says where. */
    const uint8_t inmap[] = {0x81, 0xa1, 'n', 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 1};
    CHECK(to_json_bytes(inmap, sizeof inmap) == NULL);
    CHECKF(strncmp(err, "field \"n\": ", 11) == 0, "%s", err);
    /* A non-minimal encoding of a small value is still accepted on read. */
    const uint8_t wide[] = {0xcf, 0, 0, 0, 0, 0, 0, 0, 5};
    json_t *w = decode(wide, sizeof wide);
    CHECK(w && json_integer_value(w) == 5);
    json_decref(w);
}

static void test_reals(void)
{
    const double vals[] = {0.0, -0.25, 3.5, 1e300, -2.2250738585072014e-308, 0.1};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        json_t *v = json_real(vals[i]);
        msgpack_sbuffer sb;
        CHECK(pack_any(v, &sb) == 0);
        CHECK(sb.size == 9 && (uint8_t)sb.data[0] == 0xcb);
        json_t *back = decode(sb.data, sb.size);
        CHECK(back && json_is_real(back) && json_real_value(back) == vals[i]);
        json_decref(back);
        json_decref(v);
        msgpack_sbuffer_destroy(&sb);
    }
    /* float32 is read as a real. */
    const uint8_t f32[] = {0xca, 0x3f, 0xc0, 0x00, 0x00}; /* 1.5f */
    json_t *f = decode(f32, sizeof f32);
    CHECK(f && json_is_real(f) && json_real_value(f) == 1.5);
    json_decref(f);
    /* NaN and infinity are refused. */
    const uint8_t nan[] = {0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0};
    const uint8_t inf[] = {0xca, 0x7f, 0x80, 0x00, 0x00};
    CHECK(decode(nan, sizeof nan) == NULL);
    CHECK(decode(inf, sizeof inf) == NULL);
    CHECK(check_bytes(nan, sizeof nan) == -1);
}

static void test_key_order(void)
{
    json_t *a = json_loads("{\"b\":1,\"a\":2}", 0, NULL);
    json_t *b = json_loads("{\"a\":2,\"b\":1}", 0, NULL);
    REQUIRE(a && b);
    uint8_t *pa, *pb;
    size_t la, lb;
    CHECK(mpjson_pack_object(a, &pa, &la, err, sizeof err) == 0);
    CHECK(mpjson_pack_object(b, &pb, &lb, err, sizeof err) == 0);
    CHECK(la == lb && memcmp(pa, pb, la) == 0);
    const uint8_t want[] = {0x82, 0xa1, 'a', 0x02, 0xa1, 'b', 0x01};
    CHECK(la == sizeof want && memcmp(pa, want, la) == 0);
    free(pa);
    free(pb);
    json_decref(a);
    json_decref(b);

    /* Bytewise: a prefix first, upper case before lower, UTF-8 after ASCII;
     * nested objects are sorted too. */
    json_t *c =
        json_loads("{\"ab\":1,\"đ\":2,\"b\":3,\"a\":4,\"B\":5,\"x\":{\"z\":0,\"y\":0}}", 0, NULL);
    REQUIRE(c);
    uint8_t *pc;
    size_t lc;
    CHECK(mpjson_pack_object(c, &pc, &lc, err, sizeof err) == 0);
    const uint8_t want2[] = {0x86, 0xa1, 'B',  0x05, 0xa1, 'a',  0x04, 0xa2, 'a',
                             'b',  0x01, 0xa1, 'b',  0x03, 0xa1, 'x',  0x82, 0xa1,
                             'y',  0x00, 0xa1, 'z',  0x00, 0xa2, 0xc4, 0x91, 0x02};
    CHECK(lc == sizeof want2 && memcmp(pc, want2, lc) == 0);
    free(pc);
    json_decref(c);

    /* Keys with NUL bytes sort by their full length. */
    json_t *d = json_object();
    json_object_setn_new(d, "k\0b", 3, json_integer(1));
    json_object_setn_new(d, "k", 1, json_integer(2));
    json_object_setn_new(d, "k\0a", 3, json_integer(3));
    uint8_t *pd;
    size_t ld;
    CHECK(mpjson_pack_object(d, &pd, &ld, err, sizeof err) == 0);
    const uint8_t want3[] = {0x83, 0xa1, 'k',  0x02, 0xa3, 'k', 0,
                             'a',  0x03, 0xa3, 'k',  0,    'b', 0x01};
    CHECK(ld == sizeof want3 && memcmp(pd, want3, ld) == 0);
    /* (json_equal looks keys up NUL-terminated, so compare by hand.) */
    json_t *back = decode(pd, ld);
    CHECK(back && json_object_size(back) == 3);
    CHECK(json_integer_value(json_object_getn(back, "k", 1)) == 2);
    CHECK(json_integer_value(json_object_getn(back, "k\0a", 3)) == 3);
    CHECK(json_integer_value(json_object_getn(back, "k\0b", 3)) == 1);
    json_decref(back);
    free(pd);
    json_decref(d);

    /* Not an object. */
    json_t *arr = json_array();
    uint8_t *px = (uint8_t *)"x";
    size_t lx = 7;
    CHECK(mpjson_pack_object(arr, &px, &lx, err, sizeof err) == -1);
    CHECK(px == NULL && lx == 0);
    CHECKF(strstr(err, "object") != NULL, "%s", err);
    json_decref(arr);
}

/* n nested arrays around 1. */
static json_t *nested_json(int n)
{
    json_t *v = json_integer(1);
    for (int i = 0; i < n; i++) {
        json_t *a = json_array();
        json_array_append_new(a, v);
        v = a;
    }
    return v;
}

static void test_depth(void)
{
    json_t *ok = nested_json(MPJSON_MAX_DEPTH);
    json_t *deep = nested_json(MPJSON_MAX_DEPTH + 1);
    msgpack_sbuffer sb;
    CHECKF(pack_any(ok, &sb) == 0, "%s", err);
    json_t *back = decode(sb.data, sb.size);
    CHECKF(back && json_equal(back, ok), "%s", err);
    CHECK(check_bytes(sb.data, sb.size) == 0);
    json_decref(back);
    msgpack_sbuffer_destroy(&sb);

    CHECK(pack_any(deep, &sb) == -1);
    CHECKF(strstr(err, "JSON nested deeper than 32 levels") != NULL, "%s", err);
    msgpack_sbuffer_destroy(&sb);
    json_decref(ok);
    json_decref(deep);

    /* The same limit inside an object, with the path in the message. */
    json_t *obj = json_object();
    json_object_set_new(obj, "a", nested_json(MPJSON_MAX_DEPTH));
    CHECK(pack_any(obj, &sb) == -1);
    CHECKF(strncmp(err, "field \"a[0][0]", 14) == 0, "%s", err);
    msgpack_sbuffer_destroy(&sb);
    json_decref(obj);

    /* Raw msgpack: 32 nested arrays (innermost empty) decode; 33 do not. */
    uint8_t raw[40];
    memset(raw, 0x91, sizeof raw);
    raw[MPJSON_MAX_DEPTH - 1] = 0x90;
    back = decode(raw, MPJSON_MAX_DEPTH);
    CHECKF(back != NULL, "%s", err);
    json_decref(back);
    raw[MPJSON_MAX_DEPTH - 1] = 0x91;
    raw[MPJSON_MAX_DEPTH] = 0x90;
    CHECK(decode(raw, MPJSON_MAX_DEPTH + 1) == NULL);
    CHECKF(strstr(err, "deeper than 32 levels") != NULL, "%s", err);

    /* A hand-built object tree of depth 33 (not from the unpacker). */
    msgpack_object objs[MPJSON_MAX_DEPTH + 2];
    for (int i = 0; i <= MPJSON_MAX_DEPTH; i++) {
        objs[i].type = MSGPACK_OBJECT_ARRAY;
        objs[i].via.array.size = 1;
        objs[i].via.array.ptr = &objs[i + 1];
    }
    objs[MPJSON_MAX_DEPTH + 1].type = MSGPACK_OBJECT_NIL;
    CHECK(mpjson_to_json(&objs[0], err, sizeof err) == NULL);
    CHECKF(strstr(err, "deeper than 32 levels") != NULL, "%s", err);
    err[0] = 0;
    CHECK(mpjson_check(&objs[0], err, sizeof err) == -1);
    CHECKF(strstr(err, "deeper than 32 levels") != NULL, "%s", err);
    /* ...and 32 levels of it pass. */
    CHECK(mpjson_check(&objs[1], err, sizeof err) == 0);
    json_t *j32 = mpjson_to_json(&objs[1], err, sizeof err);
    CHECK(j32 != NULL);
    json_decref(j32);
}

static void test_utf8(void)
{
    const char viet[] = "Đường ngập nước ở Quận 7, cấp độ ③ 🌊";
    CHECK(mpjson_utf8_valid(viet, strlen(viet)));
    CHECK(mpjson_utf8_valid("", 0));
    CHECK(mpjson_utf8_valid("a\0b", 3));
    CHECK(mpjson_utf8_valid("\xf4\x8f\xbf\xbf", 4));  /* U+10FFFF */
    CHECK(!mpjson_utf8_valid("\xc3\x28", 2));         /* bad continuation */
    CHECK(!mpjson_utf8_valid("\xc0\x80", 2));         /* overlong NUL */
    CHECK(!mpjson_utf8_valid("\xe0\x80\xaf", 3));     /* overlong '/' */
    CHECK(!mpjson_utf8_valid("\xed\xa0\x80", 3));     /* surrogate D800 */
    CHECK(!mpjson_utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
    CHECK(!mpjson_utf8_valid("\xff", 1));
    CHECK(!mpjson_utf8_valid("\x80", 1));
    CHECK(!mpjson_utf8_valid(viet, 1)); /* "Đ" cut in half */
    CHECK(!mpjson_utf8_valid(viet, 3)); /* "ư" cut in half */
    CHECK(!mpjson_utf8_valid(viet, 6)); /* "ờ" cut after two of three bytes */

    /* {"title": "\xc3\x28"} */
    const uint8_t bad[] = {0x81, 0xa5, 't', 'i', 't', 'l', 'e', 0xa2, 0xc3, 0x28};
    CHECK(decode(bad, sizeof bad) == NULL);
    CHECKF(strcmp(err, "field \"title\": invalid UTF-8") == 0, "%s", err);
    CHECK(to_json_bytes(bad, sizeof bad) == NULL);
    CHECKF(strcmp(err, "field \"title\": invalid UTF-8") == 0, "%s", err);
    CHECK(check_bytes(bad, sizeof bad) == -1);
    CHECKF(strcmp(err, "field \"title\": invalid UTF-8") == 0, "%s", err);

    /* Deeper: {"a": {"b": [1, "\xff"]}} */
    const uint8_t bad2[] = {0x81, 0xa1, 'a', 0x81, 0xa1, 'b', 0x92, 0x01, 0xa1, 0xff};
    CHECK(check_bytes(bad2, sizeof bad2) == -1);
    CHECKF(strcmp(err, "field \"a.b[1]\": invalid UTF-8") == 0, "%s", err);
    /* A top-level string has no field name. */
    const uint8_t bad3[] = {0xa3, 0xed, 0xa0, 0x80};
    CHECK(check_bytes(bad3, sizeof bad3) == -1);
    CHECKF(strcmp(err, "invalid UTF-8") == 0, "%s", err);
    /* Invalid key. */
    const uint8_t badkey[] = {0x81, 0xa1, 0xfe, 0x01};
    CHECK(decode(badkey, sizeof badkey) == NULL);
    CHECKF(strstr(err, "map key") != NULL, "%s", err);

    /* A long Vietnamese key path is cut at a character boundary. */
    char key[400];
    size_t kl = 0;
    while (kl + 8 < sizeof key) {
        memcpy(key + kl, "Đường", 8);
        kl += 8;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, key, kl);
    msgpack_pack_str_with_body(&pk, "\xff", 1);
    CHECK(check_bytes(sb.data, sb.size) == -1);
    CHECKF(strstr(err, "...\": invalid UTF-8") != NULL, "%s", err);
    CHECK(mpjson_utf8_valid(err, strlen(err)));
    /* A short error buffer never ends inside a character. */
    for (size_t cap = 8; cap < 40; cap++) {
        char small[40];
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        size_t off = 0;
        REQUIRE(msgpack_unpack_next(&u, sb.data, sb.size, &off) == MSGPACK_UNPACK_SUCCESS);
        CHECK(mpjson_check(&u.data, small, cap) == -1);
        CHECKF(strlen(small) < cap && mpjson_utf8_valid(small, strlen(small)), "cap %zu", cap);
        msgpack_unpacked_destroy(&u);
    }
    msgpack_sbuffer_destroy(&sb);

    /* A nocheck JSON string with bad bytes is refused when packing. */
    json_t *s = json_stringn_nocheck("\xc0\x80", 2);
    CHECK(pack_any(s, &sb) == -1);
    CHECKF(strstr(err, "UTF-8") != NULL, "%s", err);
    msgpack_sbuffer_destroy(&sb);
    json_decref(s);
}

static void test_bad_shapes(void)
{
    /* {1: 2} */
    const uint8_t intkey[] = {0x81, 0x01, 0x02};
    CHECK(decode(intkey, sizeof intkey) == NULL);
    CHECKF(strstr(err, "map key is not a string") != NULL, "%s", err);
    CHECK(check_bytes(intkey, sizeof intkey) == -1);
    /* {"m": {nil: 1}} names the map */
    const uint8_t nilkey[] = {0x81, 0xa1, 'm', 0x81, 0xc0, 0x01};
    CHECK(check_bytes(nilkey, sizeof nilkey) == -1);
    CHECKF(strcmp(err, "field \"m\": map key is not a string (nil)") == 0, "%s", err);
    /* bin keys are not strings either */
    const uint8_t binkey[] = {0x81, 0xc4, 0x01, 'k', 0x01};
    CHECK(decode(binkey, sizeof binkey) == NULL);

    /* Duplicate keys, small map and a large (sorted) one. */
    const uint8_t dup[] = {0x82, 0xa1, 'a', 0x01, 0xa1, 'a', 0x02};
    CHECK(decode(dup, sizeof dup) == NULL);
    CHECKF(strcmp(err, "field \"a\": duplicate map key") == 0, "%s", err);
    CHECK(check_bytes(dup, sizeof dup) == -1);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 40);
    for (int i = 0; i < 40; i++) {
        char k[16];
        int n = snprintf(k, sizeof k, "k%d", i == 39 ? 7 : i);
        msgpack_pack_str_with_body(&pk, k, (size_t)n);
        msgpack_pack_int(&pk, i);
    }
    CHECK(check_bytes(sb.data, sb.size) == -1);
    CHECKF(strcmp(err, "field \"k7\": duplicate map key") == 0, "%s", err);
    CHECK(decode(sb.data, sb.size) == NULL);
    msgpack_sbuffer_destroy(&sb);

    /* ext is refused, also in fixext form. */
    const uint8_t ext[] = {0x81, 0xa1, 'e', 0xd4, 0x05, 0x00};
    CHECK(decode(ext, sizeof ext) == NULL);
    CHECKF(strstr(err, "ext") != NULL, "%s", err);
    CHECK(check_bytes(ext, sizeof ext) == -1);
    const uint8_t ext8[] = {0xc7, 0x02, 0x01, 0xaa, 0xbb};
    CHECK(decode(ext8, sizeof ext8) == NULL);

    /* Trailing bytes. */
    const uint8_t trail[] = {0x81, 0xa1, 'a', 0x01, 0x00};
    CHECK(decode(trail, sizeof trail) == NULL);
    CHECKF(strstr(err, "trailing") != NULL, "%s", err);
    json_t *ok = decode(trail, sizeof trail - 1);
    CHECK(ok != NULL);
    json_decref(ok);

    /* Reserved byte, empty input. */
    const uint8_t c1[] = {0x91, 0xc1};
    CHECK(decode(c1, sizeof c1) == NULL);
    CHECKF(strstr(err, "malformed") != NULL, "%s", err);
    CHECK(decode(NULL, 0) == NULL);
    CHECKF(strstr(err, "truncated") != NULL, "%s", err);

    /* Containers claiming far more items than there are bytes fail fast
     * instead of making the unpacker allocate gigabytes. */
    const uint8_t huge_arr[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01};
    const uint8_t huge_map[] = {0xdf, 0x10, 0x00, 0x00, 0x00, 0xa1, 'a', 0x01};
    const uint8_t huge_str[] = {0xdb, 0xff, 0xff, 0xff, 0xff, 'a'};
    CHECK(decode(huge_arr, sizeof huge_arr) == NULL);
    CHECKF(strstr(err, "truncated") != NULL, "%s", err);
    CHECK(decode(huge_map, sizeof huge_map) == NULL);
    CHECK(decode(huge_str, sizeof huge_str) == NULL);
    size_t used = 99;
    CHECK(mpjson_scan(huge_arr, sizeof huge_arr, &used, err, sizeof err) == -1);

    /* mpjson_scan reports the size of the first value. */
    const uint8_t two[] = {0x92, 0xcd, 0x01, 0x00, 0xa2, 'h', 'i', 0xc0, 0xc3};
    CHECK(mpjson_scan(two, sizeof two, &used, err, sizeof err) == 0 && used == 7);
    CHECK(mpjson_scan(two + 7, 2, &used, err, sizeof err) == 0 && used == 1);
}

static void test_truncated(void)
{
    json_t *in = json_loads("{\"s\":\"Đường ngập nước\",\"n\":[1,300,70000,5000000000,-1,-200,"
                            "-40000,-3000000000],\"r\":2.5,\"b\":true,\"z\":null,"
                            "\"o\":{\"k\":[{}]}}",
                            0, NULL);
    REQUIRE(in);
    uint8_t *buf;
    size_t len;
    REQUIRE(mpjson_pack_object(in, &buf, &len, err, sizeof err) == 0);
    json_t *whole = decode(buf, len);
    CHECK(whole && json_equal(whole, in));
    json_decref(whole);
    int bad = 0;
    for (size_t n = 0; n < len; n++) {
        json_t *j = decode(buf, n);
        if (j || !strstr(err, "truncated")) {
            bad++;
            fprintf(stderr, "prefix %zu of %zu: %s\n", n, len, j ? "accepted" : err);
        }
        json_decref(j);
    }
    CHECK(bad == 0);
    free(buf);
    json_decref(in);
}

static void test_bin_base64(void)
{
    /* RFC 4648 section 10 vectors. */
    static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *b64[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_bin_with_body(&pk, plain[i], strlen(plain[i]));
        json_t *j = decode(sb.data, sb.size);
        CHECKF(j && json_is_string(j) && strcmp(json_string_value(j), b64[i]) == 0, "bin %d -> %s",
               i, j ? json_string_value(j) : err);
        CHECK(check_bytes(sb.data, sb.size) == 0);
        json_decref(j);
        msgpack_sbuffer_destroy(&sb);
    }
    /* {"x": bin fb ff bf 00 10 83}, to exercise '+' and '/'. */
    const uint8_t packed[] = {0x81, 0xa1, 'x', 0xc4, 0x06, 0xfb, 0xff, 0xbf, 0x00, 0x10, 0x83};
    json_t *j = decode(packed, sizeof packed);
    CHECK(j && strcmp(json_string_value(json_object_get(j, "x")), "+/+/ABCD") == 0);
    json_decref(j);
}

/* Random mutations of a valid encoding: decoding never crashes, and
 * mpjson_check accepts exactly what mpjson_to_json converts. */
static void test_mutations(void)
{
    json_t *in = json_loads("{\"a\":[1,-2,3.5,\"xé\",{\"b\":null,\"c\":[true,false]}],"
                            "\"d\":\"Đường\",\"e\":{\"f\":{\"g\":[[[]]]}},\"h\":65536}",
                            0, NULL);
    REQUIRE(in);
    uint8_t *buf;
    size_t len;
    REQUIRE(mpjson_pack_object(in, &buf, &len, err, sizeof err) == 0);
    uint8_t *m = malloc(len);
    REQUIRE(m);
    uint64_t state = 0x9e3779b97f4a7c15ull;
    int mismatches = 0, decoded = 0;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(m, buf, len);
        int flips = 1 + iter % 3;
        for (int f = 0; f < flips; f++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            m[(state >> 33) % len] = (uint8_t)(state >> 17);
        }
        json_t *j = decode(m, len);
        if (j)
            decoded++;
        json_decref(j);

        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        size_t off = 0;
        size_t used;
        char e2[256];
        if (mpjson_scan(m, len, &used, e2, sizeof e2) == 0 &&
            msgpack_unpack_next(&u, (const char *)m, used, &off) == MSGPACK_UNPACK_SUCCESS) {
            json_t *t = mpjson_to_json(&u.data, err, sizeof err);
            int c = mpjson_check(&u.data, e2, sizeof e2);
            if ((t != NULL) != (c == 0) || (!t && strcmp(err, e2) != 0))
                mismatches++;
            json_decref(t);
        }
        msgpack_unpacked_destroy(&u);
    }
    CHECK(mismatches == 0);
    CHECK(decoded > 0);
    free(m);
    free(buf);
    json_decref(in);
}

int main(void)
{
    test_round_trip();
    test_integers();
    test_reals();
    test_key_order();
    test_depth();
    test_utf8();
    test_bad_shapes();
    test_truncated();
    test_bin_base64();
    test_mutations();
    return check_done();
}
