/*
 * streets.h - the street names the geocoder (geocode.h) finds: records of
 * the replicated collection "streets", id a slug, fields {"name", "unit",
 * "lat", "lon"} and optionally "aliases" (an array of other names). A
 * street belongs to its unit: each is addressed to its unit ("to": the
 * unit's code), so the unit's node and its ancestors hold it.
 *
 * Operators load them with `lienthong import --collection streets --file
 * F.jsonl` (docs/operations.md); the demo network seeds a few per commune.
 */
#ifndef LT_STREETS_H
#define LT_STREETS_H

#include "node/env/config.h"
#include "storage/store.h"

#include <jansson.h>

#define STREETS_COLL "streets"

/* Vietnam's bounds (the mainland and its islands), degrees. */
#define STREETS_LAT_MIN 8.0
#define STREETS_LAT_MAX 24.0
#define STREETS_LON_MIN 102.0
#define STREETS_LON_MAX 118.0

/* Every street stored in s, deleted ones left out: a JSON array of
 * {"id", "name", "unit", "lat", "lon"[, "aliases"]} (new reference). */
json_t *streets_load(store *s);

/* The importer of `lienthong import --collection streets` (node/domains.h
 * domain_importer): open over store s of node c (NULL when out of memory
 * or the unit tree cannot be read), close, check one line (the unit must
 * be known and in c's subtree, lat/lon numbers inside Vietnam; writes
 * nothing), write checked lines in one transaction, export a record. */
void *streets_import_open(store *s, const node_config *c);
void streets_import_close(void *ctx);
int streets_import_check(void *ctx, const json_t *line, json_t **fields,
                         char id[ENTRY_MAX_NAME + 1], const char **field, lt_error *e);
int streets_import_write(void *ctx, json_t *const *fields, size_t n, size_t *written,
                         size_t *unchanged, lt_error *e);
json_t *streets_export_line(const json_t *rec);

/* Writes the demo network's streets of node c's unit (a few real names
 * per demo commune, inside its demo boundary, node/map_demo.c) into s.
 * Returns 0, or -1 with err. */
int streets_demo_seed(store *s, const node_config *c, char *err, size_t errlen);

#endif
