/*
 * domains.c - the node's domains, assembled (domains.h).
 */
#include "node/domains.h"
#include "indicators/ind_demo.h"
#include "indicators/ind_index.h"
#include "indicators/indicators.h"
#include "node/env/config.h"
#include "reports/report_demo.h"
#include "reports/report_import.h"
#include "reports/report_index.h"
#include "reports/report_query.h"
#include "reports/reports.h"

#include <string.h>

static const store_index *const indexes[] = {&report_index, &ind_value_index};

/* The top-tier collections of every domain, gathered once. */
static const char *top_tier[16];
static size_t ntop_tier;

void domains_store_options(store_options *o)
{
    if (!ntop_tier) {
        size_t nr, ni;
        const char *const *r = reports_top_tier_collections(&nr);
        const char *const *ind = indicators_top_tier_collections(&ni);
        for (size_t i = 0; i < nr && ntop_tier < 16; i++)
            top_tier[ntop_tier++] = r[i];
        for (size_t i = 0; i < ni && ntop_tier < 16; i++)
            top_tier[ntop_tier++] = ind[i];
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

static const domain_importer importers[] = {
    {REPORT_COLL, reports_import_open, reports_import_close, reports_import_line,
     reports_import_batch, reports_export_line},
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
    if (reports_demo_seed(s, c, rng, err, errlen))
        return -1;
    return indicators_demo_seed(s, c, rng, err, errlen);
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

int domains_live_indicators(indicators *ind, store *s)
{
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
    return 0;
}
