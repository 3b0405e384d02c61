/*
 * ind_demo.h - the indicators domain's sample data for `lienthong demo`.
 */
#ifndef LT_IND_DEMO_H
#define LT_IND_DEMO_H

#include "node/env/config.h"
#include "storage/store.h"

/* Writes the sample indicator data of node c into s: the framework when c
 * is the trust root, and 24 months of the values c's tier reports for its
 * own unit (some late, some missing). rng is advanced. Returns 0, or -1
 * with err. */
int indicators_demo_seed(store *s, const node_config *c, uint64_t *rng, char *err, size_t errlen);

#endif
