/*
 * domains.h - the one place that names the node's domains (field reports
 * today; documents, indicators and cameras as their folders arrive). The
 * daemon, the CLI and the tests call domains_install() once at start, so
 * every store the process opens keeps every domain's indexes and knows
 * which collections only the top tiers write. docs/architecture.md says
 * how to add a domain.
 */
#ifndef LT_DOMAINS_H
#define LT_DOMAINS_H

#include "storage/store.h"

/* Fills the domain fields of o (indexes, top-tier collections); the
 * other fields are left as they are. */
void domains_store_options(store_options *o);

/* Registers domains_store_options with node_store_open (node/env). Call
 * once before opening any store. */
void domains_install(void);

#endif
