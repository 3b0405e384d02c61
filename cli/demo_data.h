/*
 * demo_data.h - sample records for `lienthong demo`, shaped after the
 * figures in the articles (Vinh's VinhSmart reports and ratings, Nghệ An's
 * cameras and indicators, official documents with their notations).
 */
#ifndef LT_DEMO_DATA_H
#define LT_DEMO_DATA_H

#include "node/env/config.h"

/* Writes the sample records that belong to node c's tier into s: each
 * domain's own sample data (domains_demo_seed: the reports domain's reports
 * at communes and districts and its holiday calendar at the root, the
 * documents domain's signed documents, the indicators, and the cameras
 * domain's cameras of every unit, docs/media.md "Demo"), and the demo
 * units' boundaries the maps draw (map_demo.h). Deterministic for
 * a given unit, but for the times. */
int demo_data_write(const node_config *c, store *s, char *err, size_t errlen);

#endif
