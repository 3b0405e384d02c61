/*
 * domains.c - the node's domains, assembled (domains.h).
 */
#include "node/domains.h"
#include "node/env/config.h"
#include "reports/report_index.h"
#include "reports/reports.h"

static const store_index *const indexes[] = {&report_index};

void domains_store_options(store_options *o)
{
    o->indexes = indexes;
    o->nindexes = sizeof indexes / sizeof *indexes;
    o->top_tier_collections = reports_top_tier_collections(&o->ntop_tier_collections);
}

void domains_install(void)
{
    store_options o = {0};
    domains_store_options(&o);
    node_store_domains(&o);
}
