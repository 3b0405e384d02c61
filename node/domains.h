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

#include "documents/documents.h"
#include "indicators/indicators.h"
#include "lib/error.h"
#include "node/env/config.h"
#include "node/people/auth.h"
#include "storage/store.h"

#include <jansson.h>

/* Fills the domain fields of o (indexes, top-tier collections); the
 * other fields are left as they are. */
void domains_store_options(store_options *o);

/* Registers domains_store_options with node_store_open (node/env). Call
 * once before opening any store. */
void domains_install(void);

/* Writes every domain's sample data for node c of the demo network
 * (`lienthong demo`) into s; rng is the demo's SplitMix64 state
 * (lib/splitmix.h), advanced. Returns 0, or -1 with err. */
int domains_demo_seed(store *s, const node_config *c, uint64_t *rng, char *err, size_t errlen);

/* How a domain takes in lines of `lienthong import --collection C` and
 * gives them out in `lienthong export`: the same rules as its API, so an
 * imported record is one the domain's views show. ctx is the domain's
 * context over one store (open .. close). */
typedef struct {
    const char *collection;
    /* A context over store s of node c; NULL when out of memory. */
    void *(*open)(store *s, const node_config *c);
    void (*close)(void *ctx);
    /* Checks one line (a parsed JSON object) into *fields (new reference)
     * and its record id. Returns 0, or -1 with *field (the field at
     * fault, "" for the whole line) and *e (LT_EINVAL for a bad line).
     * Writes nothing. */
    int (*check)(void *ctx, const json_t *line, json_t **fields, char id[ENTRY_MAX_NAME + 1],
                 const char **field, lt_error *e);
    /* Writes n checked lines in one transaction; a line whose record is
     * stored with the same content counts in *unchanged and writes
     * nothing, the others count in *written. Returns 0, or -1 with *e. */
    int (*write)(void *ctx, json_t *const *fields, size_t n, size_t *written, size_t *unchanged,
                 lt_error *e);
    /* The export line of stored record rec (record_to_json): what check
     * reads back into the same record. New reference. */
    json_t *(*export_line)(const json_t *rec);
} domain_importer;

/* The importer of collection coll, or NULL: a generic collection, whose
 * lines are written as they are. */
const domain_importer *domains_importer(const char *coll);

/* Registers every domain's operational indicators (figures the node
 * computes from its own data over store s: reports received, processed,
 * resolved on time, satisfied; cameras online, and online per field
 * (CAM.ONLINE.<FIELD>: the usual fields and those of unit's subtree now);
 * with docs, documents signed and exchanged electronically, tasks done on
 * time) with ind. Returns 0 or -1. */
int domains_live_indicators(indicators *ind, store *s, documents *docs, const char *unit);

/* Opens a field report (channel "camera") for a camera event: the
 * media_report_fn of the cameras domain, ctx being the reports context. */
int domains_event_report(void *ctx, const json_t *in, const auth_caller *who, char *code,
                         size_t cap, lt_error *e);

#endif
