/*
 * demo_data.h - sample records for `lienthong demo`, shaped after the
 * figures in the articles (Vinh's VinhSmart reports and ratings, Nghệ An's
 * cameras and indicators, official documents with their notations).
 */
#ifndef LT_DEMO_DATA_H
#define LT_DEMO_DATA_H

#include "node/env/config.h"

/* Writes the sample records that belong to node c's tier into s: reports
 * at communes (through reports/, in states from new to closed and rated)
 * and a few hotline reports at districts, cameras and indicators at
 * districts, documents, indicators and the sample 2026 holiday calendar at
 * the province (the root). Deterministic for a given unit, but for the
 * times. */
int demo_data_write(const node_config *c, store *s, char *err, size_t errlen);

#endif
