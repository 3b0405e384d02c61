/*
 * report_demo.h - the reports domain's part of the demo network's sample
 * data (`lienthong demo`, cli/demo_data.c through node/domains.c).
 */
#ifndef LT_REPORT_DEMO_H
#define LT_REPORT_DEMO_H

#include "node/env/config.h"

#include <stdint.h>

/* Writes the domain's sample data for node c into s: at a commune (a leaf)
 * 24 reports through the domain rules, taken by phone or app to states
 * spread like Vinh's figures (mostly resolved or closed and rated); at a
 * district 3 hotline reports for its communes, left new; at the root the
 * sample 2026 holiday calendar. rng is the demo's SplitMix64 state
 * (lib/splitmix.h), advanced; deterministic for a given state, but for the
 * times (the last 30 days). Returns 0, or -1 with err. */
int reports_demo_seed(store *s, const node_config *c, uint64_t *rng, char *err, size_t errlen);

#endif
