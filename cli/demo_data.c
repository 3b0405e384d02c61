/*
 * demo_data.c - the demo network's sample records. See demo_data.h.
 */
#include "cli/demo_data.h"
#include "reports/reports.h"
#include "storage/hlc.h"
#include "lib/mpjson.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_MAX_ROWS 64

/* Sample reports: a title, its category and what the citizen wrote. */
static const struct {
    const char *title, *category, *description;
} samples[] = {
    {"Xây dựng lấn chiếm vỉa hè", "construction",
     "Nhà số 12 đổ vật liệu và dựng lán tạm chiếm hết vỉa hè, người đi bộ phải xuống lòng đường."},
    {"Rác thải tồn đọng ven đường", "environment",
     "Rác sinh hoạt để ven đường ba ngày chưa được thu gom, bốc mùi hôi."},
    {"Đèn tín hiệu giao thông hỏng", "traffic",
     "Đèn tín hiệu tại ngã tư không hoạt động từ sáng, xe cộ đi lại lộn xộn."},
    {"Tụ tập gây mất trật tự ban đêm", "public_order",
     "Nhóm thanh niên tụ tập, nẹt pô xe máy sau 23 giờ, ảnh hưởng giấc ngủ của người dân."},
    {"Không đăng nhập được ứng dụng dịch vụ công", "smart_services",
     "Ứng dụng báo lỗi khi đăng nhập bằng tài khoản định danh điện tử, đã thử nhiều lần."},
    {"Đường ngập nước sau mưa", "environment",
     "Mưa 30 phút là đoạn đường trước chợ ngập sâu khoảng 30 cm, cống thoát nước bị tắc."},
    {"Cây xanh đổ chắn lối đi", "construction",
     "Cây xanh bị gió quật đổ chắn ngang lối đi trong khu dân cư, chưa có đơn vị dọn."},
    {"Ổ gà trên đường", "traffic",
     "Mặt đường xuất hiện nhiều ổ gà lớn, đã có người đi xe máy bị ngã."}};

typedef struct {
    store_write w[DEMO_MAX_ROWS];
    uint8_t *bodies[DEMO_MAX_ROWS];
    char ids[DEMO_MAX_ROWS][48];
    size_t n;
} demo_batch;

static uint64_t demo_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int demo_add(demo_batch *b, const char *coll, json_t *body, const char *const *to,
                    size_t nto, char *err, size_t errlen)
{
    size_t len;
    if (b->n == DEMO_MAX_ROWS) {
        json_decref(body);
        snprintf(err, errlen, "too many demo rows");
        return -1;
    }
    int rc = mpjson_pack_object(body, &b->bodies[b->n], &len, err, errlen);
    json_decref(body);
    if (rc)
        return -1;
    b->w[b->n] = (store_write){coll, b->ids[b->n], ENTRY_OP_PUT, b->bodies[b->n], len, to, nto};
    b->n++;
    return 0;
}

/* Slot k of 25: the first 19 satisfied, then the six of ratings[]. */
static const char *rating_of(uint64_t k, const char *const ratings[6])
{
    return k < 19 ? "satisfied" : ratings[k - 19];
}

/* The demo clock: reports are spread over the last 30 days. */
static uint64_t demo_clock(void *ctx)
{
    return *(const uint64_t *)ctx;
}

/* One action as the demo's staff (or the citizen for rate). */
static int demo_act(reports *r, const char *code, const reports_actor *who, json_t *a,
                    char *err, size_t errlen)
{
    int status;
    int rc = reports_act(r, code, a, who, &status, err, errlen);
    json_decref(a);
    return rc;
}

/* Reports through the domain rules (reports/): created at the commune by
 * phone or app and taken to states spread like Vinh's figures (mostly
 * resolved or closed and rated), or, at a district, taken by its hotline
 * for one of its communes and left new. */
static int demo_reports(const node_config *c, store *s, bool leaf, uint64_t *rng, char *err,
                        size_t errlen)
{
    static const char *const paths[] = {"close", "close", "close", "resolve", "resolve",
                                        "start", "receive", "reject", "new", "close"};
    /* 19/3/3 of 25: the articles' 76% / 12% / 12% split on average */
    static const char *const ratings[] = {"acceptable", "acceptable", "acceptable",
                                          "unsatisfied", "unsatisfied", "unsatisfied"};
    uint64_t now = hlc_wall_ms(), clock = now - 30ull * 86400000;
    reports *r = reports_new(s, c);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    reports_set_clock(r, demo_clock, &clock);
    const reports_actor staff = {"demo", c->unit, ROLE_LEADER, false, NULL};
    int n = leaf ? 24 : 3, rc = 0;
    for (int i = 0; !rc && i < n; i++) {
        clock = now - 30ull * 86400000 + (uint64_t)i * 29ull * 86400000 / (uint64_t)n;
        size_t k = demo_rand(rng) % (sizeof samples / sizeof *samples);
        json_t *in = json_pack(
            "{s:s, s:s, s:s, s:f, s:f, s:s, s:s, s:s}", "title", samples[k].title, "category",
            samples[k].category, "description", samples[k].description, "lat",
            18.66 + (double)(demo_rand(rng) % 400) / 10000.0, "lon",
            105.66 + (double)(demo_rand(rng) % 400) / 10000.0, "address", c->name,
            "reporter_name", "Nguyễn Văn An", "reporter_phone", "0912000000");
        if (!leaf)
            json_object_set_new(in, "unit", json_string(i % 2 ? "16684" : "16681"));
        char code[REPORT_CODE_MAX], token[REPORT_TOKEN_MAX];
        const reports_actor citizen = {NULL, NULL, ROLE_NONE, true, token}; /* who sent it */
        int status;
        rc = reports_create(r, in, i % 3 ? "app" : "hotline", &staff, code, token, &status, err,
                            errlen);
        json_decref(in);
        const char *path = leaf ? paths[demo_rand(rng) % 10] : "new";
        if (rc || !strcmp(path, "new"))
            continue;
        if (!strcmp(path, "reject")) {
            rc = demo_act(r, code, &staff,
                          json_pack("{s:s, s:s}", "action", "reject", "reason",
                                    "Không thuộc thẩm quyền giải quyết"),
                          err, errlen);
            continue;
        }
        clock += 3600000;
        rc = demo_act(r, code, &staff, json_pack("{s:s}", "action", "receive"), err, errlen);
        if (!rc && strcmp(path, "receive")) {
            clock += 7200000;
            rc = demo_act(r, code, &staff, json_pack("{s:s}", "action", "start"), err, errlen);
        }
        if (!rc && (!strcmp(path, "resolve") || !strcmp(path, "close"))) {
            clock += 86400000;
            rc = demo_act(r, code, &staff,
                          json_pack("{s:s, s:s}", "action", "resolve", "answer",
                                    "Đã kiểm tra và xử lý tại hiện trường"),
                          err, errlen);
            if (!rc)
                rc = demo_act(r, code, &citizen,
                              json_pack("{s:s, s:s}", "action", "rate", "rating",
                                        rating_of(demo_rand(rng) % 25, ratings)),
                              err, errlen);
        }
        if (!rc && !strcmp(path, "close"))
            rc = demo_act(r, code, &staff, json_pack("{s:s}", "action", "close"), err, errlen);
    }
    reports_free(r);
    return rc;
}

static int demo_cameras(demo_batch *b, const node_config *c, uint64_t *rng, char *err,
                        size_t errlen)
{
    static const char *const fields[] = {"security", "traffic", "public_service"};
    for (int i = 0; i < 12; i++) {
        snprintf(b->ids[b->n], sizeof b->ids[0], "CAM-%s-%02d", c->unit, i + 1);
        json_t *cam = json_pack("{s:s, s:s, s:b, s:f, s:f, s:s}", "name", b->ids[b->n],
                                "field", fields[i % 3], "online", demo_rand(rng) % 6 != 0,
                                "lat", 18.67 + (double)(demo_rand(rng) % 300) / 10000.0, "lng",
                                105.67 + (double)(demo_rand(rng) % 300) / 10000.0, "unit",
                                c->unit);
        if (demo_add(b, "cameras", cam, NULL, 0, err, errlen))
            return -1;
    }
    return 0;
}

static int demo_kpis(demo_batch *b, const node_config *c, char *err, size_t errlen)
{
    static const struct {
        const char *code, *name;
        double value;
        const char *unit;
    } kpis[] = {
        {"reports_processed_pct", "Tỷ lệ phản ánh đã xử lý", 90.0, "%"},
        {"satisfaction_pct", "Tỷ lệ hài lòng", 76.0, "%"},
        {"docs_signed_pct", "Tỷ lệ văn bản ký số", 82.35, "%"},
        {"docs_electronic_pct", "Tỷ lệ văn bản điện tử", 95.32, "%"},
        {"online_services_level4", "Dịch vụ công mức độ 4", 104, "thủ tục"},
    };
    for (size_t i = 0; i < sizeof kpis / sizeof *kpis; i++) {
        snprintf(b->ids[b->n], sizeof b->ids[0], "%s:%s:2023", c->unit, kpis[i].code);
        json_t *k = json_pack("{s:s, s:s, s:s, s:s, s:f, s:s}", "indicator", kpis[i].code,
                              "name", kpis[i].name, "unit", c->unit, "period", "2023",
                              "value", kpis[i].value, "measure", kpis[i].unit);
        if (demo_add(b, "kpis", k, NULL, 0, err, errlen))
            return -1;
    }
    return 0;
}

static int demo_documents(demo_batch *b, const node_config *c, char *err, size_t errlen)
{
    static const char *const everyone[] = {"*"};
    static const struct {
        const char *number, *kind, *subject;
    } docs[] = {
        {"129/QĐ-UBND", "decision", "Phê duyệt Đề án xây dựng đô thị thông minh"},
        {"56/KH-UBND", "plan", "Kế hoạch chuyển đổi số năm 2023"},
        {"1021/UBND-KGVX", "dispatch", "Đôn đốc xử lý phản ánh hiện trường quá hạn"},
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        snprintf(b->ids[b->n], sizeof b->ids[0], "%s", docs[i].number);
        json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "number", docs[i].number,
                              "kind", docs[i].kind, "subject", docs[i].subject, "issuer",
                              c->unit, "date", "2023-03-15", "signed", 1);
        if (demo_add(b, "documents", d, everyone, 1, err, errlen))
            return -1;
    }
    return 0;
}

/* Vietnam's public holidays of 2026 as SAMPLE data (best knowledge; the
 * government announces the real days each year, and an admin enters them:
 * docs/operations.md). Written at the root, replicated to every node. */
static int demo_holidays(demo_batch *b, char *err, size_t errlen)
{
    static const char *const everyone[] = {"*"};
    static const struct {
        const char *date, *vi, *en;
    } days[] = {
        {"2026-01-01", "Tết Dương lịch", "New Year's Day"},
        {"2026-02-16", "Tết Nguyên Đán", "Lunar New Year (Tết)"},
        {"2026-02-17", "Tết Nguyên Đán", "Lunar New Year (Tết)"},
        {"2026-02-18", "Tết Nguyên Đán", "Lunar New Year (Tết)"},
        {"2026-02-19", "Tết Nguyên Đán", "Lunar New Year (Tết)"},
        {"2026-02-20", "Tết Nguyên Đán", "Lunar New Year (Tết)"},
        {"2026-04-27", "Giỗ Tổ Hùng Vương (nghỉ bù)", "Hung Kings' Commemoration (in lieu)"},
        {"2026-04-30", "Ngày Giải phóng miền Nam", "Reunification Day"},
        {"2026-05-01", "Quốc tế Lao động", "International Labour Day"},
        {"2026-09-01", "Quốc khánh (ngày liền kề)", "National Day (adjacent day)"},
        {"2026-09-02", "Quốc khánh", "National Day"},
    };
    for (size_t i = 0; i < sizeof days / sizeof *days; i++) {
        snprintf(b->ids[b->n], sizeof b->ids[0], "%s", days[i].date);
        json_t *h = json_pack("{s:s, s:s, s:b}", "name_vi", days[i].vi, "name_en", days[i].en,
                              "off", 1);
        if (demo_add(b, "holidays", h, everyone, 1, err, errlen))
            return -1;
    }
    return 0;
}

int demo_data_write(const node_config *c, store *s, char *err, size_t errlen)
{
    demo_batch *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    uint64_t rng = 0;
    for (const char *p = c->unit; *p; p++)
        rng = rng * 131 + (uint8_t)*p;
    int tier = node_tier_index(c, c->tier), rc = 0;
    bool leaf = tier == (int)c->ntiers - 1;
    if (!leaf && !c->root)
        rc = demo_cameras(b, c, &rng, err, errlen);
    else if (c->root && !(rc = demo_documents(b, c, err, errlen)))
        rc = demo_holidays(b, err, errlen);
    if (!rc && !leaf)
        rc = demo_kpis(b, c, err, errlen);
    if (!rc) {
        store_author a = node_author(c);
        rc = b->n ? store_write_local(s, &a, b->w, b->n, NULL, err, errlen) : 0;
    }
    if (!rc && !c->root)
        rc = demo_reports(c, s, leaf, &rng, err, errlen);
    for (size_t i = 0; i < b->n; i++)
        free(b->bodies[i]);
    free(b);
    return rc;
}
