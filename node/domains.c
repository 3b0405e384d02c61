/*
 * domains.c - the node's domains, assembled (domains.h).
 */
#include "node/domains.h"
#include "documents/doc_demo.h"
#include "documents/doc_index.h"
#include "indicators/ind_demo.h"
#include "indicators/ind_index.h"
#include "indicators/indicators.h"
#include "media/cam_index.h"
#include "media/events.h"
#include "media/evt_index.h"
#include "media/media.h"
#include "node/env/config.h"
#include "node/membership/unit_ops.h"
#include "node/streets.h"
#include "reports/report_demo.h"
#include "reports/report_import.h"
#include "reports/report_index.h"
#include "reports/report_query.h"
#include "reports/reports.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const store_index *const indexes[] = {&report_index, &ind_value_index, &camera_index,
                                             &doc_index, &camera_event_index};

/* The top-tier collections of every domain, gathered once. */
static const char *top_tier[16];
static size_t ntop_tier;

void domains_store_options(store_options *o)
{
    if (!ntop_tier) {
        size_t nr, ni, nd;
        const char *const *r = reports_top_tier_collections(&nr);
        const char *const *ind = indicators_top_tier_collections(&ni);
        const char *const *doc = documents_top_tier_collections(&nd);
        for (size_t i = 0; i < nr && ntop_tier < 16; i++)
            top_tier[ntop_tier++] = r[i];
        for (size_t i = 0; i < ni && ntop_tier < 16; i++)
            top_tier[ntop_tier++] = ind[i];
        for (size_t i = 0; i < nd && ntop_tier < 16; i++)
            top_tier[ntop_tier++] = doc[i];
        top_tier[ntop_tier++] = UNIT_OPS_COLLECTION; /* tree changes: the root's */
    }
    o->indexes = indexes;
    o->nindexes = sizeof indexes / sizeof *indexes;
    o->top_tier_collections = top_tier;
    o->ntop_tier_collections = ntop_tier;
}

void domains_install(void)
{
    store_options o = {0};
    domains_store_options(&o);
    node_store_domains(&o);
}

static void *reports_import_open(store *s, const node_config *c)
{
    return reports_new(s, c);
}

static void reports_import_close(void *ctx)
{
    reports_free(ctx);
}

static int reports_import_line(void *ctx, const json_t *line, json_t **fields,
                               char id[ENTRY_MAX_NAME + 1], const char **field, lt_error *e)
{
    char code[REPORT_CODE_MAX];
    int rc = reports_import_check(ctx, line, fields, code, field, e);
    if (!rc)
        snprintf(id, ENTRY_MAX_NAME + 1, "%s", code);
    return rc;
}

static int reports_import_batch(void *ctx, json_t *const *fields, size_t n, size_t *written,
                                size_t *unchanged, lt_error *e)
{
    return reports_import_write(ctx, fields, n, written, unchanged, e);
}

/* Values of indicators, entered as an operator of the node's unit (an
 * admin: a correction after the lock day is recorded as approved by
 * "import"), as `lienthong indicators import` does for a CSV. */
typedef struct {
    indicators *d;
    ind_actor who;
} values_import;

static void *values_import_open(store *s, const node_config *c)
{
    values_import *v = calloc(1, sizeof *v);
    if (v && !(v->d = indicators_new(s, c))) {
        free(v);
        return NULL;
    }
    if (v)
        v->who = (ind_actor){"import", c->unit, ROLE_ADMIN};
    return v;
}

static void values_import_close(void *ctx)
{
    values_import *v = ctx;
    indicators_free(v->d);
    free(v);
}

static int values_import_line(void *ctx, const json_t *line, json_t **fields,
                              char id[ENTRY_MAX_NAME + 1], const char **field, lt_error *e)
{
    values_import *v = ctx;
    return indicators_import_check(v->d, &v->who, line, fields, id, ENTRY_MAX_NAME + 1, field, e);
}

static int values_import_batch(void *ctx, json_t *const *fields, size_t n, size_t *written,
                               size_t *unchanged, lt_error *e)
{
    values_import *v = ctx;
    return indicators_import_write(v->d, &v->who, fields, n, written, unchanged, e);
}

static const domain_importer importers[] = {
    {REPORT_COLL, reports_import_open, reports_import_close, reports_import_line,
     reports_import_batch, reports_export_line},
    {INDVALUE_COLL, values_import_open, values_import_close, values_import_line,
     values_import_batch, indicators_export_line},
    {STREETS_COLL, streets_import_open, streets_import_close, streets_import_check,
     streets_import_write, streets_export_line},
};

const domain_importer *domains_importer(const char *coll)
{
    for (size_t i = 0; i < sizeof importers / sizeof *importers; i++)
        if (!strcmp(importers[i].collection, coll))
            return &importers[i];
    return NULL;
}

int domains_demo_seed(store *s, const node_config *c, uint64_t *rng, char *err, size_t errlen)
{
    if (reports_demo_seed(s, c, rng, err, errlen) || documents_demo_seed(s, c, rng, err, errlen) ||
        indicators_demo_seed(s, c, rng, err, errlen))
        return -1;
    unit_tree *t = unit_tree_new();
    if (!t || unit_tree_load(t, s)) {
        unit_tree_free(t);
        snprintf(err, errlen, "cannot read the unit tree for the demo cameras");
        return -1;
    }
    int rc = media_demo_seed(s, c, t, err, errlen);
    unit_tree_free(t);
    return rc;
}

/* The operational indicators of field reports: figures of the report
 * statistics (reports/report_query.h) of a unit's subtree for a month. */
typedef enum { LIVE_RECEIVED, LIVE_PROCESSED, LIVE_ON_TIME, LIVE_SATISFIED, LIVE_N } live_kind;

typedef struct {
    store *s;
    live_kind kind;
} live_ctx;

static int reports_live(void *ctx, const char *unit, uint64_t from_ms, uint64_t to_ms,
                        double *value)
{
    const live_ctx *l = ctx;
    report_stats st;
    char err[128];
    if (report_stats_get(l->s, unit, true, from_ms, to_ms, &st, err, sizeof err))
        return -1;
    uint64_t rated = st.rated_satisfied + st.rated_acceptable + st.rated_unsatisfied;
    switch (l->kind) {
    case LIVE_RECEIVED: *value = (double)st.total; return 0;
    case LIVE_PROCESSED: *value = (double)st.processed; return 0;
    case LIVE_ON_TIME:
        *value = st.resolved_deadline ? 100.0 * st.resolved_on_time / st.resolved_deadline : 0;
        return st.resolved_deadline ? 0 : 1;
    default: *value = rated ? 100.0 * st.rated_satisfied / rated : 0; return rated ? 0 : 1;
    }
}

int domains_event_report(void *ctx, const json_t *in, const auth_caller *who, char *code,
                         size_t cap, lt_error *e)
{
    reports_actor actor = {who->user, who->unit, who->role, false, NULL};
    char c[REPORT_CODE_MAX], token[REPORT_TOKEN_MAX];
    if (reports_create(ctx, in, "camera", &actor, c, token, e))
        return -1;
    snprintf(code, cap, "%s", c);
    return 0;
}

/* The operational indicator of AI cameras: the events (violations and
 * other detections) of a unit's subtree per day over the period, from the
 * event index's daily counts (the articles' ~300 violations a day). */
static int camera_events_live(void *ctx, const char *unit, uint64_t from_ms, uint64_t to_ms,
                              double *value)
{
    uint64_t n;
    if (camera_events_count(ctx, unit, from_ms, to_ms, &n))
        return -1;
    uint64_t days = to_ms > from_ms ? (to_ms - from_ms + 86399999u) / 86400000u : 1;
    *value = (double)n / (double)(days ? days : 1);
    return 0;
}

/* The operational indicator of cameras: the share of a unit's enabled
 * cameras online now (the camera index; the period is not used: a
 * camera's status is a present state). */
static int cameras_live(void *ctx, const char *unit, uint64_t from_ms, uint64_t to_ms,
                        double *value)
{
    lt_error e = {0};
    json_t *j = cameras_stats(ctx, unit, false, &e);
    if (!j)
        return -1;
    json_int_t total = json_integer_value(json_object_get(j, "total"));
    *value = total
                 ? 100.0 * (double)json_integer_value(json_object_get(j, "online")) / (double)total
                 : 0;
    json_decref(j);
    return total ? 0 : 1;
}

/* The operational indicators of cameras per field: CAM.ONLINE.<FIELD>,
 * the number of a unit's enabled cameras of that field online now (the
 * camera index, at every tier; no figure where the unit has none of the
 * field). Registered for the fields every network has and for those the
 * node's subtree holds when it starts. */
#define CAM_FIELDS_MAX 12
#define CAM_FIELD_CODE "CAM.ONLINE."

typedef struct {
    store *s;
    char field[32];
    char code[IND_CODE_MAX], vi[96], en[96];
} cam_field_ctx;

static int cam_field_live(void *ctx, const char *unit, uint64_t from_ms, uint64_t to_ms,
                          double *value)
{
    const cam_field_ctx *f = ctx;
    lt_error e = {0};
    json_t *j = cameras_stats(f->s, unit, false, &e);
    if (!j)
        return -1;
    int rc = 1;
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(j, "rows"), i, row)
    {
        const char *key = json_string_value(json_object_get(row, "key"));
        if (key && !strcmp(key, f->field) && json_integer_value(json_object_get(row, "total"))) {
            *value = (double)json_integer_value(json_object_get(row, "online"));
            rc = 0;
        }
    }
    json_decref(j);
    (void)from_ms, (void)to_ms;
    return rc;
}

/* The fields every network has, with their names. */
static const struct {
    const char *field, *vi, *en;
} cam_fields_usual[] = {{"security", "an ninh", "security"},
                        {"traffic", "giao thông", "traffic"},
                        {"public_service", "dịch vụ công", "public service"},
                        {"environment", "môi trường", "environment"}};
#define CAM_FIELDS_USUAL (sizeof cam_fields_usual / sizeof *cam_fields_usual)

/* Fills slot f for field (named in both languages when usual) and
 * registers it; a field whose code would be too long is left out. */
static int cam_field_add(indicators *ind, store *s, cam_field_ctx *f, const char *field)
{
    const char *vi = field, *en = field;
    for (size_t i = 0; i < CAM_FIELDS_USUAL; i++)
        if (!strcmp(cam_fields_usual[i].field, field))
            vi = cam_fields_usual[i].vi, en = cam_fields_usual[i].en;
    if (strlen(CAM_FIELD_CODE) + strlen(field) >= sizeof f->code)
        return 0;
    f->s = s;
    snprintf(f->field, sizeof f->field, "%s", field);
    size_t n = (size_t)snprintf(f->code, sizeof f->code, "%s", CAM_FIELD_CODE);
    for (const char *p = field; *p; p++)
        f->code[n++] = (char)toupper((unsigned char)*p);
    f->code[n] = '\0';
    snprintf(f->vi, sizeof f->vi, "Camera hoạt động: %s", vi);
    snprintf(f->en, sizeof f->en, "Cameras online: %s", en);
    ind_live_source src = {f->code, f->vi, f->en, "camera", cam_field_live, f};
    return indicators_live_register(ind, &src);
}

/* Registers CAM.ONLINE.<FIELD> for the usual fields and for every other
 * field the cameras of unit's subtree have now (up to CAM_FIELDS_MAX in
 * all; a field arriving later gets its indicator when the node restarts). */
static int cam_fields_register(indicators *ind, store *s, const char *unit)
{
    static cam_field_ctx ctxs[CAM_FIELDS_MAX];
    size_t n = 0;
    for (size_t i = 0; i < CAM_FIELDS_USUAL; i++)
        if (cam_field_add(ind, s, &ctxs[n++], cam_fields_usual[i].field))
            return -1;
    lt_error e = {0};
    json_t *j = unit ? cameras_stats(s, unit, false, &e) : NULL;
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(j, "rows"), i, row)
    {
        const char *field = json_string_value(json_object_get(row, "key"));
        bool seen = false;
        for (size_t k = 0; k < n && field; k++)
            seen |= !strcmp(ctxs[k].field, field);
        if (field && !seen && n < CAM_FIELDS_MAX && cam_field_add(ind, s, &ctxs[n++], field))
            n--; /* the indicators' table is full: the rest is left out */
    }
    json_decref(j);
    return 0;
}

/* The operational indicators of documents and tasks: shares (%) of the
 * documents issued in a unit's subtree in the month, and of the tasks due
 * in the month done on time. */
typedef enum { DOCS_SIGNED, DOCS_EXCHANGED, TASKS_ON_TIME, DOCS_LIVE_N } docs_live_kind;

typedef struct {
    documents *docs;
    store *s;
    docs_live_kind kind;
} docs_live_ctx;

/* The month [from_ms, to_ms) as dates "YYYY-MM-DD" (Vietnam), to inclusive. */
static void month_dates(uint64_t from_ms, uint64_t to_ms, char from[11], char to[11])
{
    const uint64_t vn = 7ull * 3600 * 1000;
    time_t a = (time_t)((from_ms + vn) / 1000), b = (time_t)((to_ms + vn) / 1000 - 1);
    struct tm tm;
    strftime(from, 11, "%Y-%m-%d", gmtime_r(&a, &tm));
    strftime(to, 11, "%Y-%m-%d", gmtime_r(&b, &tm));
}

static int docs_live(void *ctx, const char *unit, uint64_t from_ms, uint64_t to_ms, double *value)
{
    const docs_live_ctx *l = ctx;
    unit_tree *t = unit_tree_new();
    int rc = !t || unit_tree_load(t, l->s) ? -1 : 0;
    uint64_t num = 0, den = 0;
    if (!rc && l->kind == TASKS_ON_TIME) {
        char from[11], to[11];
        month_dates(from_ms, to_ms, from, to);
        rc = documents_tasks_on_time(l->docs, unit, t, from, to, &den, &num);
    } else if (!rc) {
        doc_shares sh;
        rc = documents_shares(l->docs, unit, t, from_ms, to_ms, &sh);
        den = sh.issued;
        num = l->kind == DOCS_SIGNED ? sh.signed_ : sh.acknowledged;
    }
    unit_tree_free(t);
    *value = den ? 100.0 * (double)num / (double)den : 0;
    return rc ? -1 : den ? 0 : 1;
}

static int docs_live_register(indicators *ind, store *s, documents *docs)
{
    static docs_live_ctx ctxs[DOCS_LIVE_N];
    static const struct {
        const char *code, *vi, *en;
    } defs[DOCS_LIVE_N] = {
        {"VB.SIGNED", "Tỉ lệ văn bản ký số", "Documents digitally signed"},
        {"VB.EXCHANGED", "Tỉ lệ văn bản trao đổi điện tử", "Documents exchanged electronically"},
        {"VB.TASKS_ON_TIME", "Tỉ lệ nhiệm vụ hoàn thành đúng hạn", "Tasks done on time"},
    };
    for (int i = 0; i < DOCS_LIVE_N; i++) {
        ctxs[i] = (docs_live_ctx){docs, s, (docs_live_kind)i};
        ind_live_source src = {defs[i].code, defs[i].vi, defs[i].en, "%", docs_live, &ctxs[i]};
        if (indicators_live_register(ind, &src))
            return -1;
    }
    return 0;
}

int domains_live_indicators(indicators *ind, store *s, documents *docs, const char *unit)
{
    if (docs && docs_live_register(ind, s, docs))
        return -1;
    static live_ctx ctxs[LIVE_N];
    static const struct {
        const char *code, *vi, *en, *measure;
    } defs[LIVE_N] = {
        {"RPT.RECEIVED", "Phản ánh tiếp nhận", "Reports received", "phản ánh"},
        {"RPT.PROCESSED", "Phản ánh đã xử lý", "Reports processed", "phản ánh"},
        {"RPT.ON_TIME", "Tỉ lệ xử lý đúng hạn", "Resolved on time", "%"},
        {"RPT.SATISFIED", "Tỉ lệ hài lòng", "Satisfied citizens", "%"},
    };
    for (int i = 0; i < LIVE_N; i++) {
        ctxs[i] = (live_ctx){s, (live_kind)i};
        ind_live_source src = {defs[i].code,    defs[i].vi,   defs[i].en,
                               defs[i].measure, reports_live, &ctxs[i]};
        if (indicators_live_register(ind, &src))
            return -1;
    }
    ind_live_source cams = {
        "CAM.ONLINE", "Tỉ lệ camera hoạt động", "Cameras online", "%", cameras_live, s};
    ind_live_source events = {
        "CAM.EVENTS", "Sự kiện camera AI mỗi ngày", "AI camera events per day",
        "events/day", camera_events_live,           s};
    if (indicators_live_register(ind, &cams) || indicators_live_register(ind, &events))
        return -1;
    return cam_fields_register(ind, s, unit);
}
