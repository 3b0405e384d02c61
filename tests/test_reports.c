/*
 * test_reports.c - the field reports domain (reports/) on real stores of a
 * real enrolled tree (province 40, district 412, communes 16681, 16684):
 * tracking codes, categories, working-hours deadlines, photo checks,
 * every transition allowed and refused, write authority, concurrent
 * actions at two tiers, escalation through two levels on an injected
 * clock, and nothing stored on bad input.
 */
#include "replication/repl_node.h"
#include "reports/reports.h"
#include "reports/workhours.h"
#include "storage/record.h"
#include "tests/check.h"
#include "tests/node_fixture.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define H 3600000ull
/* Monday 2026-11-23 00:00 Asia/Ho_Chi_Minh, in UTC ms. */
#define MON 1795366800000ull

static uint64_t fake_now;
static uint64_t clock_fake(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static void workhours(void)
{
    /* 2026-11-23 is a Monday */
    CHECK(workhours_add_hours(NULL, MON + 10 * H, 8) == MON + 24 * H + 10 * H);
    CHECK(workhours_add_hours(NULL, MON + 10 * H, 2) == MON + 12 * H);
    CHECK(workhours_add_hours(NULL, MON + 10 * H, 3) == MON + 14 * H);         /* lunch skipped */
    CHECK(workhours_add_hours(NULL, MON + 12 * H + H / 2, 1) == MON + 14 * H); /* from lunch */
    CHECK(workhours_add_hours(NULL, MON + 4 * 24 * H + 16 * H, 2) == MON + 7 * 24 * H + 9 * H);
    CHECK(workhours_add_hours(NULL, MON + 5 * 24 * H + 11 * H, 1) == MON + 7 * 24 * H + 9 * H);
    CHECK(workhours_add_hours(NULL, MON + 20 * H, 1) == MON + 24 * H + 9 * H); /* evening */
    CHECK(workhours_add_days(NULL, MON + 4 * 24 * H + 10 * H, 1) == MON + 7 * 24 * H + 17 * H);
    CHECK(workhours_add_days(NULL, MON + 10 * H, 5) == MON + 7 * 24 * H + 17 * H);

    /* Tuesday 24 off (ngày nghỉ lễ), Saturday 28 worked (ngày làm bù) */
    int64_t mon, tue, sat, day;
    REQUIRE(workhours_date_parse("2026-11-23", &mon) && workhours_date_parse("2026-11-24", &tue) &&
            workhours_date_parse("2026-11-28", &sat));
    CHECK(mon == workhours_day_of(MON) && mon == workhours_day_of(MON + 23 * H + H / 2));
    CHECK(tue == mon + 1 && sat == mon + 5);
    const workhours_day days[] = {{tue, true}, {sat, false}};
    const workhours_calendar cal = {days, 2};
    CHECK(workhours_add_hours(&cal, MON + 10 * H, 8) == MON + 2 * 24 * H + 10 * H);
    CHECK(workhours_add_hours(&cal, MON + 24 * H + 10 * H, 1) == MON + 2 * 24 * H + 9 * H);
    CHECK(workhours_add_hours(&cal, MON + 4 * 24 * H + 16 * H, 2) == MON + 5 * 24 * H + 9 * H);
    CHECK(workhours_add_hours(&cal, MON + 5 * 24 * H + 17 * H, 1) == MON + 7 * 24 * H + 9 * H);
    CHECK(workhours_add_days(&cal, MON + 10 * H, 4) == MON + 5 * 24 * H + 17 * H);
    CHECK(workhours_add_days(NULL, MON + 10 * H, 4) == MON + 4 * 24 * H + 17 * H);
    CHECK(workhours_add_days(&cal, MON + 10 * H, 1) == MON + 2 * 24 * H + 17 * H);
    const workhours_day weekday_on[] = {{mon + 2, false}}; /* a listed working weekday */
    const workhours_calendar on = {weekday_on, 1};
    CHECK(workhours_add_days(&on, MON + 10 * H, 5) == MON + 7 * 24 * H + 17 * H);
    CHECK(workhours_date_parse("2024-02-29", &day) && !workhours_date_parse("2026-02-29", &day));
    CHECK(workhours_date_parse("1970-01-01", &day) && day == 0);
    CHECK(!workhours_date_parse("2026-1-01", &day) && !workhours_date_parse("2026-13-01", &day));
    CHECK(!workhours_date_parse("2026-01-32", &day) && !workhours_date_parse("2026-01-0x", &day));
    CHECK(!workhours_date_parse("2026-01-011", &day) && !workhours_date_parse("", &day));
}

static void sync_pair(fx_node *lower, fx_node *upper)
{
    uint64_t now = hlc_wall_ms();
    repl_session *a = fx_session(lower, true, false, now),
                 *b = fx_session(upper, false, false, now);
    fx_shuttle(a, b, now);
    repl_session_free(a);
    repl_session_free(b);
}

static const reports_actor staff_c1 = {"lan", "16681", ROLE_STAFF, false, NULL};
static const reports_actor leader_c1 = {"hung", "16681", ROLE_LEADER, false, NULL};
static const reports_actor viewer_c1 = {"xem", "16681", ROLE_VIEWER, false, NULL};
static const reports_actor leader_d = {"minh", "412", ROLE_LEADER, false, NULL};
static const reports_actor citizen = {NULL, NULL, ROLE_NONE, true, NULL};

/* The citizen token of the report create() made last. */
static char last_token[REPORT_TOKEN_MAX];

/* The HTTP status of a domain call's result: ok on success, else the
 * status of the error's kind. */
static int status_of(int rc, const lt_error *e, int ok)
{
    return rc ? lt_errkind_status(e->kind) : ok;
}

/* The last error of create() and act(), for checks of its code. */
static lt_error last;

static char *create(reports *r, const reports_actor *who, const char *json, int want)
{
    static char code[REPORT_CODE_MAX];
    json_t *in = json_loads(json, 0, NULL);
    REQUIRE(in);
    int rc = reports_create(r, in, "hotline", who, code, last_token, &last);
    json_decref(in);
    int status = status_of(rc, &last, 201);
    CHECKF(status == want, "create: %d, wanted %d (%s)", status, want, rc ? last.message : code);
    return rc ? NULL : code;
}

static int act(reports *r, const char *code, const reports_actor *who, const char *json)
{
    json_t *a = json_loads(json, 0, NULL);
    REQUIRE(a);
    int rc = reports_act(r, code, a, who, &last);
    json_decref(a);
    return status_of(rc, &last, 200);
}

/* True when the last error has code. */
static bool last_is(const char *code)
{
    return !strcmp(lt_error_code(&last), code);
}

static json_t *get(reports *r, const char *code)
{
    int status;
    json_t *j = reports_get_json(r, code, REPORT_VIEW_STAFF, &status);
    REQUIRE(j);
    return j;
}

static const char *field(json_t *j, const char *k)
{
    const char *s = json_string_value(json_object_get(j, k));
    return s ? s : "";
}

/* A PNG of w x h with len bytes (header then padding). */
static uint8_t *be32put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
    p[3] = (uint8_t)v;
    return p + 4;
}

/* Appends PNG chunk type with n bytes of data (NULL: a byte pattern). */
static uint8_t *png_chunk(uint8_t *p, const char *type, const uint8_t *data, size_t n)
{
    uint8_t *start = be32put(p, (uint32_t)n);
    memcpy(start, type, 4);
    for (size_t i = 0; i < n; i++)
        start[4 + i] = data ? data[i] : (uint8_t)(i * 7);
    uLong crc = crc32(0, start, (uInt)(4 + n));
    return be32put(start + 4 + n, (uint32_t)crc);
}

/* A real w x h greyscale PNG of exactly len bytes (padded with a private
 * ancillary chunk that decoders skip), or of its natural size when len is
 * too small for that. malloc'd; its size in *out_len. */
static uint8_t *png(size_t len, unsigned w, unsigned h, size_t *out_len)
{
    size_t raw_len = (size_t)h * (w + 1);
    uint8_t *raw = calloc(1, raw_len);
    for (size_t i = 0; i < raw_len; i++)
        raw[i] = i % (w + 1) ? (uint8_t)(i * 13) : 0; /* filter 0, then pixels */
    uLongf zlen = compressBound((uLong)raw_len);
    uint8_t *z = malloc(zlen);
    REQUIRE(compress2(z, &zlen, raw, (uLong)raw_len, 9) == Z_OK);
    size_t natural = 8 + 25 + 12 + zlen + 12;
    size_t cap = len > natural + 12 ? len : natural;
    uint8_t *out = calloc(1, cap), *p = out, ihdr[13] = {0};
    memcpy(p, "\x89PNG\r\n\x1a\n", 8);
    be32put(be32put(ihdr, w), h);
    ihdr[8] = 8; /* 8-bit greyscale */
    p = png_chunk(p + 8, "IHDR", ihdr, 13);
    p = png_chunk(p, "IDAT", z, zlen);
    if (cap > natural)
        p = png_chunk(p, "paDd", NULL, cap - natural - 12);
    p = png_chunk(p, "IEND", NULL, 0);
    *out_len = (size_t)(p - out);
    free(raw);
    free(z);
    return out;
}

/* A real 1 x 1 PNG whose header claims w x h (its CRC fixed to match). */
static uint8_t *png_claiming(unsigned w, unsigned h, size_t *out_len)
{
    uint8_t *p = png(0, 1, 1, out_len);
    be32put(be32put(p + 16, w), h);
    be32put(p + 29, (uint32_t)crc32(0, p + 12, 17));
    return p;
}

/* Photos that pass the old header check but are refused by decoding
 * (issue 12, finding 6): a header claiming 30000 x 30000 or 0xFFFFFFFF
 * pixels, a real image with one side over 16384, and an image cut short.
 * Nothing stored; then a whole one is, with its decoded size. */
static void photos_decoded(fx_node *c1, reports *r)
{
    json_t *in =
        json_pack("{s:s, s:s, s:i, s:i}", "title", "x", "category", "traffic", "lat", 1, "lon", 1);
    char code[REPORT_CODE_MAX], token[REPORT_TOKEN_MAX];
    lt_error e;
    uint64_t before = store_entry_count(c1->s);
    const unsigned claims[][2] = {{30000, 30000}, {0xFFFFu, 0x10001u}, {16385, 2}};
    for (size_t i = 0; i < 3; i++) {
        size_t n; /* the last a real image: one side too long, few pixels */
        uint8_t *d = i < 2 ? png_claiming(claims[i][0], claims[i][1], &n)
                           : png(0, claims[i][0], claims[i][1], &n);
        reports_photo ph = {d, n, "image/png"};
        CHECKF(reports_create_raw(r, in, &ph, 1, "web", &citizen, code, token, &e) == -1 &&
                   lt_errkind_status(e.kind) == 400 && strstr(e.message, "megapixels") &&
                   !strcmp(lt_error_code(&e), "report.photo_too_big"),
               "%ux%u: %s %s", claims[i][0], claims[i][1], lt_error_code(&e), e.message);
        free(d);
    }
    size_t n;
    uint8_t *d = png(5000, 64, 64, &n);
    reports_photo cut = {d, n / 2, "image/png"};
    CHECKF(reports_create_raw(r, in, &cut, 1, "web", &citizen, code, token, &e) == -1 &&
               lt_errkind_status(e.kind) == 400 && strstr(e.message, "does not decode"),
           "cut short: %s %s", lt_error_code(&e), e.message);
    reports_photo whole = {d, n, "image/png"};
    CHECKF(reports_create_raw(r, in, &whole, 1, "web", &citizen, code, token, &e) == 0,
           "a whole 64 x 64 PNG: %s", e.message);
    CHECK(store_entry_count(c1->s) == before + 2); /* that one: the report and its chunk */
    json_t *j = get(r, code);
    json_t *p0 = json_array_get(json_object_get(j, "photos"), 0);
    CHECK(json_integer_value(json_object_get(p0, "width")) == 64 &&
          json_integer_value(json_object_get(p0, "height")) == 64);
    json_decref(j);
    free(d);
    json_decref(in);
}

static void codes_categories(reports *rc1, reports *rp, reports *rd)
{
    char *code = create(rc1, &staff_c1,
                        "{\"title\":\"Đường ngập nước\",\"category\":\"environment\","
                        "\"lat\":21.0,\"lon\":105.8}",
                        201);
    CHECKF(code && !strcmp(code, "16681-1"), "code %s", code ? code : "");
    code =
        create(rc1, &staff_c1,
               "{\"title\":\"Rác\",\"category\":\"environment\",\"lat\":21.0,\"lon\":105.8}", 201);
    CHECKF(code && !strcmp(code, "16681-2"), "code %s", code ? code : "");
    char norm[REPORT_CODE_MAX];
    CHECK(reports_code_norm(" 16681-2 ", norm) && !strcmp(norm, "16681-2"));
    CHECK(reports_code_norm("ab-3", norm) && !strcmp(norm, "AB-3"));
    CHECK(!reports_code_norm("a/b", norm));

    json_t *cats = reports_categories_json(rc1, false);
    CHECK(json_array_size(cats) == 5);
    CHECK(!strcmp(field(json_array_get(cats, 0), "code"), "construction"));
    CHECK(!strcmp(field(json_array_get(cats, 0), "name_vi"), "Xây dựng"));
    json_decref(cats);

    const reports_actor admin_p = {"root", "40", ROLE_ADMIN, false, NULL};
    const reports_actor admin_d = {"dadmin", "412", ROLE_ADMIN, false, NULL};
    lt_error e;

    json_t *f = json_pack("{s:i, s:s}", "deadline_hours", 4, "name_en", "Traffic and roads");
    CHECK(reports_category_put(rd, "traffic", f, &admin_d, &e) == -1 &&
          lt_errkind_status(e.kind) == 403);
    CHECK(reports_category_put(rp, "traffic", f, &staff_c1, &e) == -1 &&
          lt_errkind_status(e.kind) == 403);
    /* an admin of a unit below, hosted on the province's node, is not its admin */
    const reports_actor admin_c2 = {"cadmin", "16684", ROLE_ADMIN, false, NULL};
    CHECK(reports_category_put(rp, "traffic", f, &admin_c2, &e) == -1 &&
          lt_errkind_status(e.kind) == 403 && strstr(e.message, "unit 40"));
    CHECKF(reports_category_put(rp, "traffic", f, &admin_p, &e) == 0, "%s", e.message);
    json_decref(f);
    f = json_pack("{s:s, s:s, s:s, s:i}", "name_vi", "Cây xanh", "name_en", "Trees", "owner_tier",
                  "commune", "deadline_days", 2);
    CHECK(reports_category_put(rp, "trees", f, &admin_p, &e) == 0);
    json_decref(f);
    f = json_pack("{s:s}", "owner_tier", "planet");
    CHECK(reports_category_put(rp, "trees", f, &admin_p, &e) == -1 &&
          lt_errkind_status(e.kind) == 400 && strstr(e.message, "planet"));
    json_decref(f);
    f = json_pack("{s:b}", "active", 0);
    CHECK(reports_category_put(rp, "smart_services", f, &admin_p, &e) == 0);
    json_decref(f);
    cats = reports_categories_json(rp, false);
    CHECK(json_array_size(cats) == 5); /* trees added, smart_services inactive */
    json_t *traffic = json_array_get(cats, 3);
    CHECK(!strcmp(field(traffic, "code"), "traffic"));
    CHECK(json_integer_value(json_object_get(traffic, "deadline_hours")) == 4);
    CHECK(!json_object_get(traffic, "deadline_days"));
    CHECK(!strcmp(field(traffic, "name_vi"), "Giao thông"));
    json_decref(cats);
    cats = reports_categories_json(rp, true);
    CHECK(json_array_size(cats) == 6);
    json_decref(cats);
}

static void bad_input(fx_node *c1, reports *r)
{
    uint64_t before = store_entry_count(c1->s);
    create(r, &staff_c1, "{\"title\":\"x\",\"category\":\"weather\",\"lat\":1,\"lon\":1}", 400);
    CHECKF(last_is("report.category_unknown") && last.kind == LT_EINVAL, "%s",
           lt_error_code(&last));
    create(r, &staff_c1, "{\"title\":\"x\",\"category\":\"traffic\",\"lon\":1}", 400);
    CHECK(last_is("report.location_missing"));
    create(r, &staff_c1, "{\"title\":\"x\",\"category\":\"traffic\",\"lat\":91,\"lon\":1}", 400);
    create(r, &staff_c1, "{\"title\":\"x\",\"category\":\"traffic\",\"lat\":1,\"lon\":\"1\"}", 400);
    create(r, &staff_c1, "{\"title\":\"\",\"category\":\"traffic\",\"lat\":1,\"lon\":1}", 400);
    CHECK(last_is("report.title_missing"));
    create(r, &viewer_c1, "{\"title\":\"x\",\"category\":\"traffic\",\"lat\":1,\"lon\":1}", 403);
    create(r, &staff_c1,
           "{\"title\":\"x\",\"category\":\"traffic\",\"lat\":1,\"lon\":1,\"unit\":\"16684\"}",
           400);
    char *long_title = malloc(4000);
    memset(long_title, 'a', 3999);
    long_title[3999] = '\0';
    char *json = malloc(5000);
    snprintf(json, 5000, "{\"title\":\"%.201s\",\"category\":\"traffic\",\"lat\":1,\"lon\":1}",
             long_title);
    create(r, &staff_c1, json, 400);
    /* photos: not an image, a damaged header, too large, too many */
    snprintf(json, 5000,
             "{\"title\":\"x\",\"category\":\"traffic\",\"lat\":1,\"lon\":1,\"photos\":[{\"type\":"
             "\"image/jpeg\",\"data\":\"aGVsbG8gd29ybGQ=\"}]}");
    create(r, &staff_c1, json, 400);
    snprintf(json, 5000,
             "{\"title\":\"x\",\"category\":\"traffic\",\"lat\":1,\"lon\":1,\"photos\":[{\"data\":"
             "\"iVBORw0KGgoAAAANSUhEUgAA\"}]}");
    create(r, &staff_c1, json, 400);
    free(json);
    free(long_title);
    json_t *in =
        json_pack("{s:s, s:s, s:i, s:i}", "title", "x", "category", "traffic", "lat", 1, "lon", 1);
    size_t big_len, small_len;
    uint8_t *big = png(REPORT_PHOTO_BYTES_MAX + 1, 10, 10, &big_len);
    CHECK(big_len == REPORT_PHOTO_BYTES_MAX + 1);
    uint8_t *small = png(1000, 10, 10, &small_len);
    reports_photo ph = {big, big_len, "image/png"};
    char code[REPORT_CODE_MAX];
    lt_error e;
    CHECK(reports_create_raw(r, in, &ph, 1, "open311", &citizen, code, last_token, &e) == -1 &&
          lt_errkind_status(e.kind) == 400);
    reports_photo six[6];
    for (int i = 0; i < 6; i++)
        six[i] = (reports_photo){small, small_len, NULL};
    CHECK(reports_create_raw(r, in, six, 6, "web", &citizen, code, last_token, &e) == -1 &&
          lt_errkind_status(e.kind) == 400 && strstr(e.message, "at most 5") &&
          !strcmp(lt_error_code(&e), "report.photos_too_many"));
    CHECK(reports_create_raw(r, in, six, 1, "fax", &citizen, code, last_token, &e) == -1 &&
          lt_errkind_status(e.kind) == 400);
    CHECK(store_entry_count(c1->s) == before);
    /* a good photo of 70,000 bytes: three chunks, read back whole */
    CHECKF(reports_create_raw(r, in, six, 1, "web", &citizen, code, last_token, &e) == 0, "%s",
           e.message);
    CHECK(store_entry_count(c1->s) == before + 2);
    free(big);
    free(small);
    big = png(70000, 640, 480, &big_len);
    CHECK(big_len == 70000);
    ph = (reports_photo){big, 70000, NULL};
    CHECKF(reports_create_raw(r, in, &ph, 1, "web", &citizen, code, last_token, &e) == 0, "%s",
           e.message);
    CHECK(store_entry_count(c1->s) == before + 2 + 4);
    json_t *j = get(r, code);
    json_t *p0 = json_array_get(json_object_get(j, "photos"), 0);
    CHECK(json_integer_value(json_object_get(p0, "width")) == 640);
    CHECK(json_integer_value(json_object_get(p0, "height")) == 480);
    CHECK(!strcmp(field(p0, "type"), "image/png"));
    uint8_t *data;
    size_t len;
    const char *type;
    CHECK(reports_photo_get(r, code, field(p0, "hash"), &data, &len, &type) == 0);
    CHECK(len == 70000 && !memcmp(data, big, len) && !strcmp(type, "image/png"));
    free(data);
    CHECK(reports_photo_get(r, code, "00", &data, &len, &type) == 1);
    json_decref(j);
    json_decref(in);
    free(big);
}

static void transitions(fx_node *c1, fx_node *d, reports *rc1, reports *rd)
{
    char code[REPORT_CODE_MAX];
    snprintf(code, sizeof code, "%s",
             create(rc1, &staff_c1,
                    "{\"title\":\"Xây dựng lấn chiếm\",\"category\":\"construction\",\"lat\":21,"
                    "\"lon\":105,\"reporter_name\":\"Nguyễn Văn A\",\"reporter_phone\":\"0901\"}",
                    201));
    char token[REPORT_TOKEN_MAX];
    snprintf(token, sizeof token, "%s", last_token);
    CHECK(strlen(token) == REPORT_TOKEN_MAX - 1 && reports_token_ok(rc1, code, token));
    CHECK(!reports_token_ok(rc1, code, "") && !reports_token_ok(rc1, code, NULL));
    CHECK(act(rc1, code, &staff_c1, "{\"action\":\"start\"}") == 409);
    CHECKF(last_is("report.state_conflict") && strstr(last.message, "allowed: receive"), "%s",
           last.message);
    CHECK(act(rc1, code, &viewer_c1, "{\"action\":\"receive\"}") == 403);
    CHECK(act(rc1, code, &citizen, "{\"action\":\"receive\"}") == 403);
    CHECK(act(rc1, code, &staff_c1, "{\"action\":\"fly\"}") == 400);
    CHECK(act(rc1, code, &staff_c1, "{\"action\":\"escalate\",\"level\":1}") == 403);
    CHECK(act(rc1, "16681-999", &staff_c1, "{\"action\":\"receive\"}") == 404);
    CHECK(last_is("report.not_found") && last.kind == LT_ENOTFOUND);
    const reports_actor other = {"x", "16684", ROLE_ADMIN, false, NULL};
    CHECK(act(rc1, code, &other, "{\"action\":\"receive\"}") == 404);
    fake_now = MON + 10 * H;
    CHECK(act(rc1, code, &staff_c1, "{\"action\":\"receive\"}") == 200);
    json_t *j = get(rc1, code);
    CHECK(!strcmp(field(j, "status"), "received"));
    CHECK(!strcmp(field(j, "owner_unit"), "412")); /* construction: the district */
    CHECK(json_integer_value(json_object_get(j, "deadline_ms")) ==
          (json_int_t)(MON + 14 * 24 * H + 17 * H)); /* 10 working days */
    json_decref(j);
    CHECK(act(rc1, code, &staff_c1, "{\"action\":\"assign\",\"unit\":\"16681\"}") == 403);
    /* defect 11: the district owns it now; the commune (its area unit) sees
     * it, may comment, but neither assigns, resolves nor closes it */
    CHECK(act(rc1, code, &leader_c1, "{\"action\":\"assign\",\"unit\":\"16681\"}") == 403);
    CHECKF(last_is("report.not_owner") && strstr(last.message, "412"), "%s", last.message);
    CHECK(act(rc1, code, &staff_c1, "{\"action\":\"resolve\",\"answer\":\"x\"}") == 403);
    CHECK(last_is("report.not_owner"));
    CHECK(act(rc1, code, &leader_c1, "{\"action\":\"reject\",\"reason\":\"x\"}") == 403);
    CHECK(act(rc1, code, &staff_c1, "{\"action\":\"start\"}") == 403);
    CHECK(act(rc1, code, &staff_c1, "{\"action\":\"comment\",\"note\":\"đã chuyển\"}") == 200);
    j = get(rc1, code);
    CHECK(!strcmp(field(j, "status"), "received") && !strcmp(field(j, "owner_unit"), "412"));
    CHECK(!reports_handles(rc1, j, "16681") && reports_handles(rc1, j, "412"));
    json_decref(j);
    sync_pair(c1, d);
    CHECK(act(rd, code, &leader_d, "{\"action\":\"assign\"}") == 400);
    CHECK(act(rd, code, &leader_d, "{\"action\":\"assign\",\"unit\":\"99999\"}") == 400);
    CHECK(act(rd, code, &leader_d, "{\"action\":\"resolve\"}") == 400);
    /* the district reassigns to the other commune: a unit that did not hold it */
    CHECK(act(rd, code, &leader_d, "{\"action\":\"transfer\",\"unit\":\"16684\"}") == 200);
    j = get(rd, code);
    CHECK(!strcmp(field(j, "status"), "transferred"));
    CHECK(json_array_size(json_object_get(j, "history")) == 4);
    json_decref(j);
    sync_pair(c1, d);
    CHECK(act(rc1, code, &staff_c1, "{\"action\":\"resolve\",\"answer\":\"Đã xử lý\"}") == 403);
    CHECK(last_is("report.not_owner"));
    CHECK(act(rd, code, &leader_d, "{\"action\":\"resolve\",\"answer\":\"Đã xử lý\"}") == 200);
    CHECK(act(rd, code, &leader_d, "{\"action\":\"resolve\",\"answer\":\"again\"}") == 409);
    sync_pair(c1, d);
    CHECK(act(rc1, code, &staff_c1, "{\"action\":\"rate\",\"rating\":\"satisfied\"}") == 403);
    /* a citizen without the report's token: 403 (it is public), wrong token too */
    CHECK(act(rc1, code, &citizen, "{\"action\":\"rate\",\"rating\":\"satisfied\"}") == 403);
    const reports_actor guesser = {NULL, NULL, ROLE_NONE, true,
                                   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
    CHECK(act(rc1, code, &guesser, "{\"action\":\"rate\",\"rating\":\"satisfied\"}") == 403);
    const reports_actor holder = {NULL, NULL, ROLE_NONE, true, token};
    CHECK(act(rc1, code, &holder, "{\"action\":\"rate\",\"rating\":\"great\"}") == 400);
    CHECK(act(rc1, code, &holder, "{\"action\":\"comment\",\"note\":\"hi\"}") == 403);
    CHECK(act(rc1, code, &holder,
              "{\"action\":\"rate\",\"rating\":\"satisfied\",\"reopen\":true}") == 400);
    CHECK(act(rc1, code, &holder,
              "{\"action\":\"rate\",\"rating\":\"unsatisfied\",\"comment\":\"vẫn còn\","
              "\"reopen\":true}") == 200);
    j = get(rc1, code);
    CHECK(!strcmp(field(j, "status"), "reopened"));
    CHECK(!strcmp(field(j, "rating"), "unsatisfied"));
    CHECK(!strcmp(field(j, "reporter_name"), "Nguyễn Văn A"));
    CHECK(!json_object_get(j, "citizen_token_hash")); /* not even staff see it */
    json_decref(j);
    int status;
    j = reports_get_json(rc1, code, REPORT_VIEW_VIEWER, &status);
    CHECK(j && !json_object_get(j, "reporter_name") && !json_object_get(j, "reporter_phone"));
    json_decref(j);
    j = reports_get_json(rc1, code, REPORT_VIEW_PUBLIC, &status);
    json_t *h0 = json_array_get(json_object_get(j, "history"), 0);
    CHECK(h0 && !json_object_get(h0, "by") && !json_object_get(h0, "unit"));
    json_decref(j);
    CHECK(act(rc1, code, &leader_c1, "{\"action\":\"reject\",\"reason\":\"ngoài phạm vi\"}") ==
          403);
    sync_pair(c1, d);
    CHECK(act(rd, code, &leader_d, "{\"action\":\"reject\",\"reason\":\"ngoài phạm vi\"}") == 200);
    CHECK(act(rd, code, &leader_d, "{\"action\":\"close\"}") == 409);
    sync_pair(c1, d);
    CHECK(act(rc1, code, &staff_c1, "{\"action\":\"comment\",\"note\":\"ghi chú\"}") == 200);

    /* a second report: duplicate of the first; then its patch */
    char code2[REPORT_CODE_MAX];
    snprintf(
        code2, sizeof code2, "%s",
        create(rc1, &staff_c1,
               "{\"title\":\"Lấn chiếm\",\"category\":\"construction\",\"lat\":21,\"lon\":105}",
               201));
    CHECK(act(rc1, code2, &leader_c1, "{\"action\":\"duplicate\",\"of\":\"nope-1\"}") == 400);
    char body[128];
    snprintf(body, sizeof body, "{\"action\":\"duplicate\",\"of\":\"%s\"}", code);
    CHECK(act(rc1, code2, &leader_c1, body) == 200);
    lt_error e;
    json_t *f = json_pack("{s:s}", "title", "Lấn chiếm vỉa hè");
    CHECK(reports_patch(rc1, code2, f, &staff_c1, &e) == 0);
    CHECK(reports_patch(rc1, code2, f, &viewer_c1, &e) == -1 && lt_errkind_status(e.kind) == 403);
    json_decref(f);
    f = json_pack("{s:s}", "status", "closed");
    CHECK(reports_patch(rc1, code2, f, &staff_c1, &e) == -1 && lt_errkind_status(e.kind) == 400);
    json_decref(f);
    f = json_pack("{s:s}", "category", "weather");
    CHECK(reports_patch(rc1, code2, f, &staff_c1, &e) == -1 && lt_errkind_status(e.kind) == 400);
    json_decref(f);
    j = get(rc1, code2);
    CHECK(!strcmp(field(j, "title"), "Lấn chiếm vỉa hè") &&
          !strcmp(field(j, "status"), "duplicate"));
    json_decref(j);
}

/* A report the district created for a commune's area: the commune holds
 * it but may not change it (403 naming the district). */
static void authority(fx_node *c1, fx_node *d, reports *rc1, reports *rd)
{
    char code[REPORT_CODE_MAX];
    snprintf(code, sizeof code, "%s",
             create(rd, &leader_d,
                    "{\"title\":\"Cây đổ\",\"category\":\"environment\",\"lat\":21,\"lon\":105,"
                    "\"unit\":\"16681\"}",
                    201));
    sync_pair(c1, d);
    CHECK(reports_visible(rc1, code, "16681"));
    lt_error e;

    json_t *a = json_pack("{s:s}", "action", "receive");
    uint64_t before = store_entry_count(c1->s);
    CHECK(reports_act(rc1, code, a, &staff_c1, &e) == -1 && lt_errkind_status(e.kind) == 403);
    CHECKF(strstr(e.message, "412") != NULL && !strcmp(lt_error_code(&e), "report.authority"), "%s",
           e.message);
    CHECK(store_entry_count(c1->s) == before);
    json_decref(a);
}

/* The commune and the district act at once; after syncing both ways both
 * hold the same record with both history items. */
static void concurrent(fx_node *c1, fx_node *d, reports *rc1, reports *rd)
{
    char code[REPORT_CODE_MAX];
    snprintf(code, sizeof code, "%s",
             create(rc1, &staff_c1,
                    "{\"title\":\"Ổ gà\",\"category\":\"traffic\",\"lat\":21,\"lon\":105}", 201));
    CHECK(act(rc1, code, &staff_c1, "{\"action\":\"receive\"}") == 200);
    sync_pair(c1, d);
    /* the district owns a traffic report: it starts it, the commune comments */
    CHECK(act(rd, code, &leader_d, "{\"action\":\"start\",\"note\":\"huyện\"}") == 200);
    CHECK(act(rc1, code, &staff_c1, "{\"action\":\"comment\",\"note\":\"xã\"}") == 200);
    sync_pair(c1, d);
    uint8_t *a, *b;
    size_t alen, blen;
    REQUIRE(store_record_get(c1->s, "reports", code, &a, &alen) == 0);
    REQUIRE(store_record_get(d->s, "reports", code, &b, &blen) == 0);
    CHECK(alen == blen && !memcmp(a, b, alen));
    free(a);
    free(b);
    json_t *j = get(rd, code);
    json_t *hist = json_object_get(j, "history");
    CHECK(json_array_size(hist) == 4);
    bool start = false, comment = false;
    size_t i;
    json_t *h;
    json_array_foreach(hist, i, h)
    {
        start = start || !strcmp(field(h, "action"), "start");
        comment =
            comment || (!strcmp(field(h, "action"), "comment") && !strcmp(field(h, "note"), "xã"));
    }
    CHECK(start && comment);
    CHECK(!strcmp(field(j, "status"), "in_progress"));
    json_decref(j);
}

static json_int_t level_of(reports *r, const char *code)
{
    json_t *j = get(r, code);
    json_int_t k = json_integer_value(json_object_get(j, "escalation_level"));
    json_decref(j);
    return k;
}

/* public_order is owned by the commune: level 1 goes to the district,
 * level 2 to the province, each written by the target's own node. */
static void escalation(fx_node *p, fx_node *d, fx_node *c1, reports *rp, reports *rd, reports *rc1)
{
    fake_now = MON + 9 * H;
    char code[REPORT_CODE_MAX];
    snprintf(code, sizeof code, "%s",
             create(rc1, &staff_c1,
                    "{\"title\":\"Tụ tập\",\"category\":\"public_order\",\"lat\":21,\"lon\":105}",
                    201));
    CHECK(act(rc1, code, &staff_c1, "{\"action\":\"receive\"}") == 200);
    json_t *j = get(rc1, code);
    uint64_t deadline = (uint64_t)json_integer_value(json_object_get(j, "deadline_ms"));
    CHECK(deadline == MON + 3 * 24 * H + 9 * H); /* 24 working hours: Thursday 09:00 */
    CHECK(!strcmp(field(j, "owner_unit"), "16681"));
    json_decref(j);
    sync_pair(c1, d);
    sync_pair(d, p);
    size_t n;
    lt_error e;
    CHECK(reports_sweep(rd, deadline, &n, &e) == 0 && level_of(rd, code) == 0);
    CHECK(reports_sweep(rc1, deadline + 1, &n, &e) == 0 && level_of(rc1, code) == 0);
    CHECK(reports_sweep(rp, deadline + 1, &n, &e) == 0 && level_of(rp, code) == 0);
    CHECK(reports_sweep(rd, deadline + 1, &n, &e) == 0 && n == 1);
    CHECK(reports_sweep(rd, deadline + 2, &n, &e) == 0 && n == 0);
    fake_now = deadline + 1;
    j = get(rd, code);
    CHECK(json_integer_value(json_object_get(j, "escalation_level")) == 1);
    CHECK(!strcmp(field(j, "escalated_to"), "412"));
    CHECK(json_is_true(json_object_get(j, "overdue")));
    json_decref(j);
    uint64_t span = deadline - (MON + 9 * H);
    /* the province, without the district's entry: level 2 when it falls due */
    CHECK(reports_sweep(rp, deadline + span - 1, &n, &e) == 0 && level_of(rp, code) == 0);
    CHECK(reports_sweep(rp, deadline + span, &n, &e) == 0 && level_of(rp, code) == 2);
    j = get(rp, code);
    CHECK(json_integer_value(json_object_get(j, "escalation_level")) == 2);
    CHECK(!strcmp(field(j, "escalated_to"), "40"));
    json_decref(j);
    sync_pair(d, p);
    sync_pair(c1, d);
    j = get(rc1, code);
    CHECK(json_integer_value(json_object_get(j, "escalation_level")) == 2);
    json_t *hist = json_object_get(j, "history");
    CHECK(json_array_size(hist) == 4);
    CHECK(json_integer_value(json_object_get(json_array_get(hist, 2), "at_ms")) ==
          (json_int_t)deadline + 1);
    json_decref(j);
    CHECK(reports_sweep(rp, deadline + 10 * span, &n, &e) == 0 && level_of(rp, code) == 2);
}

static int patch(reports *r, const char *code, const char *json)
{
    json_t *f = json_loads(json, 0, NULL);
    REQUIRE(f);
    int rc = reports_patch(r, code, f, &staff_c1, &last);
    json_decref(f);
    return status_of(rc, &last, 200);
}

static json_int_t deadline_of(reports *r, const char *code)
{
    json_t *j = get(r, code);
    json_int_t at = json_integer_value(json_object_get(j, "deadline_ms"));
    json_decref(j);
    return at;
}

/* The holiday calendar: written at the province only, replicated down,
 * counted in the deadlines of the commune; a category change recomputes a
 * received report's deadline from its receipt. */
static void holidays(fx_node *p, fx_node *d, fx_node *c1, reports *rp, reports *rd, reports *rc1)
{
    const reports_actor admin_p = {"root", "40", ROLE_ADMIN, false, NULL};
    const reports_actor admin_d = {"dadmin", "412", ROLE_ADMIN, false, NULL};
    lt_error e;

    json_t *off = json_pack("{s:s, s:s}", "name_vi", "Nghỉ thử", "name_en", "Test day off");
    json_t *work = json_pack("{s:s, s:b}", "name_vi", "Làm bù", "off", 0);
    uint64_t before = store_entry_count(p->s);
    CHECK(reports_holiday_put(rd, "2026-11-24", off, &admin_d, &e) == -1 &&
          lt_errkind_status(e.kind) == 403 && strstr(e.message, "top tiers"));
    CHECK(reports_holiday_put(rp, "2026-11-24", off, &staff_c1, &e) == -1 &&
          lt_errkind_status(e.kind) == 403);
    CHECK(reports_holiday_put(rp, "2026-11-31", off, &admin_p, &e) == -1 &&
          lt_errkind_status(e.kind) == 400 && strstr(e.message, "YYYY-MM-DD"));
    json_t *bad = json_pack("{s:s, s:s}", "name_vi", "x", "off", "yes");
    CHECK(reports_holiday_put(rp, "2026-11-24", bad, &admin_p, &e) == -1 &&
          lt_errkind_status(e.kind) == 400 && strstr(e.message, "off must be"));
    json_decref(bad);
    bad = json_pack("{s:s}", "name_en", "no Vietnamese name");
    CHECK(reports_holiday_put(rp, "2026-11-24", bad, &admin_p, &e) == -1 &&
          lt_errkind_status(e.kind) == 400 && strstr(e.message, "name_vi"));
    json_decref(bad);
    CHECK(reports_holiday_delete(rp, "2026-11-25", &admin_p, &e) == -1 &&
          lt_errkind_status(e.kind) == 404);
    CHECK(store_entry_count(p->s) == before);
    CHECKF(reports_holiday_put(rp, "2026-11-24", off, &admin_p, &e) == 0, "%s", e.message);
    CHECK(reports_holiday_put(rp, "2026-11-28", work, &admin_p, &e) == 0);
    CHECK(reports_holiday_put(rp, "2027-01-01", off, &admin_p, &e) == 0);
    json_decref(off);
    json_decref(work);
    json_t *list = reports_holidays_json(rp, 2026);
    CHECK(json_array_size(list) == 2);
    CHECK(!strcmp(field(json_array_get(list, 0), "date"), "2026-11-24"));
    CHECK(json_is_true(json_object_get(json_array_get(list, 0), "off")));
    CHECK(!strcmp(field(json_array_get(list, 1), "name_vi"), "Làm bù"));
    CHECK(json_is_false(json_object_get(json_array_get(list, 1), "off")));
    json_decref(list);
    list = reports_holidays_json(rp, 0);
    CHECK(json_array_size(list) == 3);
    json_decref(list);
    CHECK(reports_holiday_delete(rp, "2027-01-01", &admin_p, &e) == 0);
    sync_pair(d, p);
    sync_pair(c1, d);
    list = reports_holidays_json(rc1, 0);
    CHECK(json_array_size(list) == 2);
    json_decref(list);

    /* 24 working hours from Monday 09:00 skip Tuesday: Friday 09:00 */
    fake_now = MON + 9 * H;
    char code[REPORT_CODE_MAX], fresh[REPORT_CODE_MAX];
    snprintf(code, sizeof code, "%s",
             create(rc1, &staff_c1,
                    "{\"title\":\"Karaoke\",\"category\":\"public_order\",\"lat\":21,\"lon\":105}",
                    201));
    snprintf(fresh, sizeof fresh, "%s",
             create(rc1, &staff_c1,
                    "{\"title\":\"Ồn\",\"category\":\"public_order\",\"lat\":21,\"lon\":105}",
                    201));
    CHECK(act(rc1, code, &staff_c1, "{\"action\":\"receive\"}") == 200);
    CHECK(deadline_of(rc1, code) == (json_int_t)(MON + 4 * 24 * H + 9 * H));
    /* re-filed on Wednesday as environment (5 working days), counted from
     * Monday's receipt: Wed, Thu, Fri, Saturday's làm bù, Monday 17:00 */
    fake_now = MON + 2 * 24 * H + 10 * H;
    CHECK(patch(rc1, code, "{\"category\":\"environment\"}") == 200);
    json_t *j = get(rc1, code);
    CHECK(json_integer_value(json_object_get(j, "deadline_ms")) ==
          (json_int_t)(MON + 7 * 24 * H + 17 * H));
    CHECK(json_integer_value(json_object_get(j, "received_ms")) == (json_int_t)(MON + 9 * H));
    json_t *hist = json_object_get(j, "history");
    json_t *newest = json_array_get(hist, json_array_size(hist) - 1);
    CHECK(!strcmp(field(newest, "action"), "edit"));
    CHECKF(strstr(field(newest, "note"), "deadline recomputed for category environment"), "%s",
           field(newest, "note"));
    CHECK(json_integer_value(json_object_get(newest, "deadline_ms")) ==
          (json_int_t)(MON + 7 * 24 * H + 17 * H));
    json_decref(j);
    /* the same category or another field: the deadline stays */
    CHECK(patch(rc1, code, "{\"category\":\"environment\",\"title\":\"Karaoke đêm\"}") == 200);
    CHECK(deadline_of(rc1, code) == (json_int_t)(MON + 7 * 24 * H + 17 * H));
    /* a report not received yet has no deadline to recompute */
    CHECK(patch(rc1, fresh, "{\"category\":\"traffic\"}") == 200);
    CHECK(deadline_of(rc1, fresh) == 0);
}

static int count_quarantined(void *ctx, const store_quarantined *q)
{
    (void)q;
    ++*(size_t *)ctx;
    return 0;
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    const char *base = check_tmpdir();
    fx_node p, d, c1, c2;
    fx_tree4(base, &p, &d, &c1, &c2);
    sync_pair(&c1, &d);
    sync_pair(&c2, &d);
    sync_pair(&d, &p);
    reports *rp = reports_new(p.s, &p.c), *rd = reports_new(d.s, &d.c),
            *rc1 = reports_new(c1.s, &c1.c);
    REQUIRE(rp && rd && rc1);
    reports_set_clock(rp, clock_fake, NULL);
    reports_set_clock(rd, clock_fake, NULL);
    reports_set_clock(rc1, clock_fake, NULL);
    fake_now = MON + 10 * H;
    workhours();
    codes_categories(rc1, rp, rd);
    sync_pair(&d, &p);
    sync_pair(&c1, &d);
    bad_input(&c1, rc1);
    transitions(&c1, &d, rc1, rd);
    /* the transfer to commune 16684 carried a snapshot with the owner set:
     * its node holds the whole report although the create entry (addressed
     * to 16681 alone) never reaches it, and applies the commune 16681's
     * later actions (16681 is an owner there too) */
    sync_pair(&c1, &d);
    sync_pair(&c2, &d);
    uint8_t *rec;
    size_t len;
    char title[64];
    REQUIRE(store_record_get(c2.s, "reports", "16681-5", &rec, &len) == 0);
    CHECK(record_field_str(rec, len, "title", title, sizeof title) == 0 &&
          !strcmp(title, "Xây dựng lấn chiếm"));
    CHECK(record_field_str(rec, len, "status", title, sizeof title) == 0 &&
          !strcmp(title, "rejected"));
    free(rec);
    size_t held = 0; /* the commune's later entries were not refused there */
    store_quarantine_scan(c2.s, count_quarantined, &held);
    CHECK(held == 0);
    authority(&c1, &d, rc1, rd);
    concurrent(&c1, &d, rc1, rd);
    escalation(&p, &d, &c1, rp, rd, rc1);
    holidays(&p, &d, &c1, rp, rd, rc1);
    photos_decoded(&c1, rc1);
    reports_free(rc1);
    reports_free(rd);
    reports_free(rp);
    fx_node_free(&c2);
    fx_node_free(&c1);
    fx_node_free(&d);
    fx_node_free(&p);
    return check_done();
}
