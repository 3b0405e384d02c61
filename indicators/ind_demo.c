/*
 * ind_demo.c - the indicators domain's sample data for `lienthong demo`:
 * the framework (the DTI's 3 pillars x 7 indicators, documents signed and
 * exchanged electronically, a few socio-economic indicators), issued by
 * the trust root, and 24 months of values that every node enters for its
 * own unit through the domain's rules, some late and some missing. The
 * last month's documents give the articles' figures: 95.32% exchanged
 * electronically, 82.35% signed (at the demo's two communes).
 */
#include "indicators/ind_demo.h"
#include "indicators/ind_internal.h"
#include "lib/mpjson.h"
#include "lib/splitmix.h"
#include "storage/hlc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS (24ull * 3600 * 1000)
#define DEMO_MONTHS 24

typedef struct {
    const char *code, *vi, *en, *measure, *period, *agg, *tier, *group;
    bool pinned;
    const char *num, *den; /* computed: factor 100 */
} demo_def;

static const demo_def framework[] = {
    {"DTI.GOV.1", "Dịch vụ công trực tuyến toàn trình", "Full online public services", "điểm",
     "year", "average", "province", "dti.gov", 0, 0, 0},
    {"DTI.GOV.2", "Hồ sơ xử lý trực tuyến", "Dossiers processed online", "điểm", "year", "average",
     "province", "dti.gov", 0, 0, 0},
    {"DTI.GOV.3", "Số hoá hồ sơ, kết quả thủ tục", "Digitised dossiers and results", "điểm", "year",
     "average", "province", "dti.gov", 0, 0, 0},
    {"DTI.GOV.4", "Văn bản điện tử có ký số", "Signed electronic documents", "điểm", "year",
     "average", "province", "dti.gov", 0, 0, 0},
    {"DTI.GOV.5", "Kết nối, chia sẻ dữ liệu", "Data connection and sharing", "điểm", "year",
     "average", "province", "dti.gov", 0, 0, 0},
    {"DTI.GOV.6", "Dữ liệu mở", "Open data", "điểm", "year", "average", "province", "dti.gov", 0, 0,
     0},
    {"DTI.GOV.7", "An toàn thông tin", "Information security", "điểm", "year", "average",
     "province", "dti.gov", 0, 0, 0},
    {"DTI.ECO.1", "Tỉ trọng kinh tế số trong GRDP", "Digital economy share of GRDP", "điểm", "year",
     "average", "province", "dti.eco", 0, 0, 0},
    {"DTI.ECO.2", "Doanh nghiệp công nghệ số", "Digital technology firms", "điểm", "year",
     "average", "province", "dti.eco", 0, 0, 0},
    {"DTI.ECO.3", "Thanh toán không dùng tiền mặt", "Cashless payments", "điểm", "year", "average",
     "province", "dti.eco", 0, 0, 0},
    {"DTI.ECO.4", "Thương mại điện tử", "E-commerce", "điểm", "year", "average", "province",
     "dti.eco", 0, 0, 0},
    {"DTI.ECO.5", "Doanh nghiệp dùng hoá đơn điện tử", "Firms using e-invoices", "điểm", "year",
     "average", "province", "dti.eco", 0, 0, 0},
    {"DTI.ECO.6", "Doanh nghiệp dùng nền tảng số", "Firms using digital platforms", "điểm", "year",
     "average", "province", "dti.eco", 0, 0, 0},
    {"DTI.ECO.7", "Nhân lực công nghệ số", "Digital workforce", "điểm", "year", "average",
     "province", "dti.eco", 0, 0, 0},
    {"DTI.SOC.1", "Hộ gia đình có cáp quang", "Households with fibre", "điểm", "year", "average",
     "province", "dti.soc", 0, 0, 0},
    {"DTI.SOC.2", "Người dân dùng điện thoại thông minh", "Smartphone users", "điểm", "year",
     "average", "province", "dti.soc", 0, 0, 0},
    {"DTI.SOC.3", "Tài khoản thanh toán", "Payment accounts", "điểm", "year", "average", "province",
     "dti.soc", 0, 0, 0},
    {"DTI.SOC.4", "Định danh điện tử", "Electronic identity", "điểm", "year", "average", "province",
     "dti.soc", 0, 0, 0},
    {"DTI.SOC.5", "Kỹ năng số", "Digital skills", "điểm", "year", "average", "province", "dti.soc",
     0, 0, 0},
    {"DTI.SOC.6", "Hồ sơ sức khoẻ điện tử", "Electronic health records", "điểm", "year", "average",
     "province", "dti.soc", 0, 0, 0},
    {"DTI.SOC.7", "Học trực tuyến", "Online learning", "điểm", "year", "average", "province",
     "dti.soc", 0, 0, 0},
    {"DOC.SENT", "Văn bản đi", "Documents sent", "văn bản", "month", "sum", "commune", "documents",
     0, 0, 0},
    {"DOC.ELEC", "Văn bản gửi nhận điện tử", "Documents exchanged electronically", "văn bản",
     "month", "sum", "commune", "documents", 0, 0, 0},
    {"DOC.SIGNED", "Văn bản ký số", "Documents signed digitally", "văn bản", "month", "sum",
     "commune", "documents", 0, 0, 0},
    {"DOC.ELEC_PCT", "Tỉ lệ văn bản gửi nhận điện tử", "Documents exchanged electronically", "%",
     "month", NULL, NULL, "documents", 1, "DOC.ELEC", "DOC.SENT"},
    {"DOC.SIGNED_PCT", "Tỉ lệ văn bản ký số", "Documents signed digitally", "%", "month", NULL,
     NULL, "documents", 1, "DOC.SIGNED", "DOC.SENT"},
    {"POOR_HH", "Số hộ nghèo", "Poor households", "hộ", "month", "sum", "commune", "socio", 1, 0,
     0},
    {"BUDGET", "Thu ngân sách", "Budget revenue", "triệu đồng", "month", "sum", "commune", "socio",
     1, 0, 0},
    {"ONLINE_DOSSIERS", "Hồ sơ dịch vụ công trực tuyến", "Online public service dossiers", "hồ sơ",
     "month", "sum", "commune", "socio", 0, 0, 0},
    {"NEW_BUSINESS", "Doanh nghiệp thành lập mới", "New businesses", "doanh nghiệp", "month", "sum",
     "district", "socio", 0, 0, 0},
};
#define NDEFS (sizeof framework / sizeof *framework)

static json_t *def_json(const demo_def *f)
{
    json_t *j =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "name_vi", f->vi, "name_en", f->en, "measure",
                  f->measure, "period", f->period, "group", f->group, "pinned", f->pinned);
    if (f->num) {
        json_object_set_new(j, "numerator", json_string(f->num));
        json_object_set_new(j, "denominator", json_string(f->den));
        json_object_set_new(j, "factor", json_integer(100));
    } else {
        json_object_set_new(j, "aggregation", json_string(f->agg));
        json_object_set_new(j, "tiers", json_pack("[s]", f->tier));
        json_object_set_new(j, "due_days", json_integer(10));
        json_object_set_new(j, "lock_days", json_integer(f->period[0] == 'y' ? 120 : 30));
    }
    return j;
}

/* The root issues the framework, addressed to every node. */
static int demo_definitions(store *s, const node_config *c, json_t *defs, char *err, size_t errlen)
{
    store_write w[NDEFS];
    uint8_t *bodies[NDEFS] = {0};
    const char *to[] = {"*"};
    int rc = 0;
    for (size_t i = 0; i < NDEFS && !rc; i++) {
        size_t len;
        rc = mpjson_pack_object(json_object_get(defs, framework[i].code), &bodies[i], &len, err,
                                errlen);
        w[i] =
            (store_write){INDICATOR_COLL, framework[i].code, ENTRY_OP_PUT, bodies[i], len, to, 1};
    }
    store_author a = node_author(c);
    if (!rc)
        rc = store_write_local(s, &a, w, NDEFS, NULL, err, errlen);
    for (size_t i = 0; i < NDEFS; i++)
        free(bodies[i]);
    return rc;
}

/* The clock of the value being entered. */
static uint64_t demo_clock(void *ctx)
{
    return *(const uint64_t *)ctx;
}

/* A month's figure of monthly indicator f at unit (k months before now). */
static double demo_month_value(const demo_def *f, const char *unit, int k, uint64_t *rng,
                               double docs[3])
{
    double noise = (double)(splitmix_next(rng) % 1000) / 1000.0 - 0.5; /* -0.5 .. 0.5 */
    bool first = !strcmp(unit, "16681");
    if (!strcmp(f->code, "POOR_HH"))
        return (double)(long)((first ? 320 : 410) * (1 + 0.01 * k) + 6 * noise);
    if (!strcmp(f->code, "BUDGET"))
        return (double)(long)((first ? 1850 : 1320) * (1 + 0.15 * noise) * 100) / 100;
    if (!strcmp(f->code, "ONLINE_DOSSIERS"))
        return (double)(long)((first ? 260 : 180) * (1 - 0.015 * k) + 20 * noise);
    if (!strcmp(f->code, "NEW_BUSINESS"))
        return (double)(long)(42 + 12 * noise - 0.5 * k);
    if (k == 1) { /* last month: the articles' figures, 95.32% and 82.35% */
        docs[0] = first ? 5200 : 4800;
        docs[1] = first ? 4957 : 4575;
        docs[2] = first ? 4282 : 3953;
    } else { /* the same month's three figures agree whichever is asked */
        uint64_t seed = (uint64_t)k * 7919 + first;
        noise = (double)(splitmix_next(&seed) % 1000) / 1000.0 - 0.5;
        docs[0] = (double)(long)((first ? 520 : 480) * (1 + 0.2 * noise));
        docs[1] = (double)(long)(docs[0] * (0.80 + 0.006 * (DEMO_MONTHS - k)));
        docs[2] = (double)(long)(docs[1] * (0.70 + 0.005 * (DEMO_MONTHS - k)));
    }
    return docs[!strcmp(f->code, "DOC.ELEC") ? 1 : !strcmp(f->code, "DOC.SIGNED") ? 2 : 0];
}

/* Appends the value of f for c's unit in period ord (entered at a
 * random time after its end: some late) to the batch. */
static int demo_value(indicators *d, const node_config *c, const demo_def *f, int ord, double v,
                      uint64_t *clock, uint64_t now, uint64_t *rng, ind_write *w, size_t *n,
                      char *err, size_t errlen)
{
    ind_ptype t = f->period[0] == 'y' ? PER_YEAR : PER_MONTH;
    char period[IND_PERIOD_MAX];
    ind_period_name(t, ord, period);
    *clock = ind_period_end_ms(t, ord) + splitmix_next(rng) % (16 * DAY_MS);
    if (*clock > now)
        *clock = now - splitmix_next(rng) % DAY_MS;
    if (*clock < ind_period_start_ms(t, ord))
        *clock = ind_period_start_ms(t, ord);
    ind_actor who = {"demo", c->unit, ROLE_STAFF};
    lt_error e;
    ind_batch b; /* one per value: each is entered at its own time */
    ind_batch_start(d, &b);
    if (ind_value_check(d, &b, f->code, c->unit, period, v, NULL, &who, &w[*n], NULL, &e)) {
        snprintf(err, errlen, "demo value %s/%s/%s: %s", f->code, c->unit, period, e.message);
        return -1;
    }
    (*n)++;
    return 0;
}

/* The values of c's unit: every indicator its tier reports. */
static int demo_values(indicators *d, const node_config *c, uint64_t *rng, char *err, size_t errlen)
{
    uint64_t now = hlc_wall_ms(), clock = now;
    indicators_set_clock(d, demo_clock, &clock);
    ind_write *w = calloc(NDEFS * DEMO_MONTHS, sizeof *w);
    size_t n = 0;
    int rc = w ? 0 : -1, cur_month = 0, cur_year = 0;
    for (int m = 2000 * 12; ind_period_start_ms(PER_MONTH, m + 1) <= now; m++)
        cur_month = m + 1;
    cur_year = cur_month / 12;
    for (size_t i = 0; i < NDEFS && !rc; i++) {
        const demo_def *f = &framework[i];
        if (f->num || strcmp(f->tier, c->tier))
            continue;
        double docs[3] = {0};
        for (int k = DEMO_MONTHS; k >= 1 && !rc && f->period[0] == 'm'; k--) {
            bool missing = splitmix_next(rng) % 25 == 0 ||
                           (k == 1 && c->unit[strlen(c->unit) - 1] == '4' && f->group[0] == 's');
            double v = demo_month_value(f, c->unit, k, rng, docs);
            if (!missing)
                rc = demo_value(d, c, f, cur_month - k, v, &clock, now, rng, w, &n, err, errlen);
        }
        for (int y = cur_year - 1; y <= cur_year && !rc && f->period[0] == 'y'; y++) {
            double v = (double)(55 + splitmix_next(rng) % 35 + (y - cur_year + 1) * 5) / 100.0;
            rc = demo_value(d, c, f, y, v, &clock, now, rng, w, &n, err, errlen);
        }
    }
    lt_error e;
    if (!rc && ind_value_commit(d, w, n, &e)) {
        snprintf(err, errlen, "%s", e.message);
        rc = -1;
    }
    for (size_t i = 0; i < n; i++)
        ind_write_release(&w[i]);
    free(w);
    if (!w)
        snprintf(err, errlen, "out of memory");
    return rc;
}

int indicators_demo_seed(store *s, const node_config *c, uint64_t *rng, char *err, size_t errlen)
{
    indicators *d = indicators_new(s, c);
    json_t *defs = json_object();
    if (!d || !defs) {
        indicators_free(d);
        json_decref(defs);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < NDEFS; i++)
        json_object_set_new(defs, framework[i].code, def_json(&framework[i]));
    int rc = c->root ? demo_definitions(s, c, defs, err, errlen) : 0;
    d->known_defs = defs;
    if (!rc)
        rc = demo_values(d, c, rng, err, errlen);
    indicators_free(d);
    return rc;
}
