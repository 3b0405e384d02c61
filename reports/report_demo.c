/*
 * report_demo.c - the reports domain's sample data for `lienthong demo`
 * (reports_demo_seed in report_demo.h): reports through the domain's own
 * rules, and the sample holiday calendar.
 */
#include "reports/report_demo.h"
#include "lib/mpjson.h"
#include "lib/splitmix.h"
#include "reports/reports.h"
#include "storage/hlc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
static int demo_act(reports *r, const char *code, const reports_actor *who, json_t *a, char *err,
                    size_t errlen)
{
    lt_error e;
    int rc = reports_act(r, code, a, who, &e);
    if (rc)
        snprintf(err, errlen, "%s", e.message);
    json_decref(a);
    return rc;
}

/* The owner unit of report code into out (the node's unit when unread):
 * after receipt the demo's later actions are taken by the owner, as the
 * rules of docs/reports.md require (a district-owned report is the
 * district's to start, resolve and close). */
static void demo_owner(reports *r, const char *code, const char *unit, char *out, size_t cap)
{
    int st;
    json_t *rec = reports_get_json(r, code, REPORT_VIEW_STAFF, &st);
    const char *owner = json_string_value(json_object_get(rec, "owner_unit"));
    snprintf(out, cap, "%s", owner && *owner ? owner : unit);
    json_decref(rec);
}

/* Reports through the domain rules (reports/): created at the commune by
 * phone or app and taken to states spread like Vinh's figures (mostly
 * resolved or closed and rated), or, at a district, taken by its hotline
 * for one of its communes and left new. */
static int demo_reports(const node_config *c, store *s, bool leaf, uint64_t *rng, char *err,
                        size_t errlen)
{
    static const char *const paths[] = {"close", "close",   "close",  "resolve", "resolve",
                                        "start", "receive", "reject", "new",     "close"};
    /* 19/3/3 of 25: the articles' 76% / 12% / 12% split on average */
    static const char *const ratings[] = {"acceptable",  "acceptable",  "acceptable",
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
        size_t k = splitmix_next(rng) % (sizeof samples / sizeof *samples);
        json_t *in =
            json_pack("{s:s, s:s, s:s, s:f, s:f, s:s, s:s, s:s}", "title", samples[k].title,
                      "category", samples[k].category, "description", samples[k].description, "lat",
                      18.66 + (double)(splitmix_next(rng) % 400) / 10000.0, "lon",
                      105.66 + (double)(splitmix_next(rng) % 400) / 10000.0, "address", c->name,
                      "reporter_name", "Nguyễn Văn An", "reporter_phone", "0912000000");
        if (!leaf)
            json_object_set_new(in, "unit", json_string(i % 2 ? "16684" : "16681"));
        char code[REPORT_CODE_MAX], token[REPORT_TOKEN_MAX];
        const reports_actor citizen = {NULL, NULL, ROLE_NONE, true, token}; /* who sent it */
        lt_error e;
        rc = reports_create(r, in, i % 3 ? "app" : "hotline", &staff, code, token, &e);
        if (rc)
            snprintf(err, errlen, "%s", e.message);
        json_decref(in);
        const char *path = leaf ? paths[splitmix_next(rng) % 10] : "new";
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
        char owner[NODE_CODE_MAX];
        demo_owner(r, code, c->unit, owner, sizeof owner);
        const reports_actor handler = {"demo", owner, ROLE_LEADER, false, NULL};
        if (!rc && strcmp(path, "receive")) {
            clock += 7200000;
            rc = demo_act(r, code, &handler, json_pack("{s:s}", "action", "start"), err, errlen);
        }
        if (!rc && (!strcmp(path, "resolve") || !strcmp(path, "close"))) {
            clock += 86400000;
            rc = demo_act(r, code, &handler,
                          json_pack("{s:s, s:s}", "action", "resolve", "answer",
                                    "Đã kiểm tra và xử lý tại hiện trường"),
                          err, errlen);
            if (!rc)
                rc = demo_act(r, code, &citizen,
                              json_pack("{s:s, s:s}", "action", "rate", "rating",
                                        rating_of(splitmix_next(rng) % 25, ratings)),
                              err, errlen);
        }
        if (!rc && !strcmp(path, "close"))
            rc = demo_act(r, code, &handler, json_pack("{s:s}", "action", "close"), err, errlen);
    }
    reports_free(r);
    return rc;
}

/* Vietnam's public holidays of 2026 as SAMPLE data (best knowledge; the
 * government announces the real days each year, and an admin enters them:
 * docs/operations.md). Written at the root in one transaction, addressed
 * to everyone, so every node counts with them. */
static int demo_holidays(const node_config *c, store *s, char *err, size_t errlen)
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
    enum { NDAYS = sizeof days / sizeof *days };
    store_write w[NDAYS];
    uint8_t *bodies[NDAYS] = {0};
    int rc = 0;
    for (size_t i = 0; !rc && i < NDAYS; i++) {
        json_t *h =
            json_pack("{s:s, s:s, s:b}", "name_vi", days[i].vi, "name_en", days[i].en, "off", 1);
        size_t len = 0;
        rc = mpjson_pack_object(h, &bodies[i], &len, err, errlen);
        json_decref(h);
        w[i] = (store_write){HOLIDAY_COLL, days[i].date, ENTRY_OP_PUT, bodies[i], len, everyone, 1};
    }
    store_author a = node_author(c);
    if (!rc)
        rc = store_write_local(s, &a, w, NDAYS, NULL, err, errlen);
    for (size_t i = 0; i < NDAYS; i++)
        free(bodies[i]);
    return rc;
}

int reports_demo_seed(store *s, const node_config *c, uint64_t *rng, char *err, size_t errlen)
{
    if (c->root)
        return demo_holidays(c, s, err, errlen);
    bool leaf = node_tier_index(c, c->tier) == (int)c->ntiers - 1;
    return demo_reports(c, s, leaf, rng, err, errlen);
}
