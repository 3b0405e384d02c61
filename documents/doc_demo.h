/*
 * doc_demo.h - the documents domain's part of the demo network's sample
 * data (`lienthong demo`, cli/demo_data.c through node/domains.c).
 */
#ifndef LT_DOC_DEMO_H
#define LT_DOC_DEMO_H

#include "node/env/config.h"
#include "storage/store.h"

#include <stdint.h>

/* The demo official's account on the province and the district, and its
 * password: the demo's login password (DEMO_PASSWORD of cli/cmd_demo.c),
 * which also unlocks its signing key. */
#define DOC_DEMO_OFFICIAL "chutich"
#define DOC_DEMO_PASSWORD "lienthong-demo"

/* Writes the domain's sample documents for node c into s through the
 * domain (numbered in their series, addressed, signed): at a province and
 * a district an official (account DOC_DEMO_OFFICIAL, a leader
 * with a certified signing key) and documents to the units below it
 * (a plan and a decision to the district, a letter to "40*district"; at
 * the district a letter to all its communes, "412*", and a notice to one);
 * at a commune a report to its district. The recipients' nodes write the
 * receipt "delivered" when the documents reach them. rng is the demo's
 * SplitMix64 state (unused: the documents are fixed). Slow (Argon2id for
 * each key and signature: about a second a node). Returns 0, or -1 with
 * err. */
int documents_demo_seed(store *s, const node_config *c, uint64_t *rng, char *err, size_t errlen);

#endif
