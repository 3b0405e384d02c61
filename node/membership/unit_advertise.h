/*
 * unit_advertise.h - a node tells the network where it can be reached:
 * `serve --advertise URL` keeps the URLs in its unit's "units" record
 * ("advertise"), so a child that moves under this unit dials them by
 * itself (node/links/link_follow.h).
 */
#ifndef LT_UNIT_ADVERTISE_H
#define LT_UNIT_ADVERTISE_H

#include "node/env/config.h"

/* Patches the "units" record of c's unit with "advertise": urls (its own
 * unit may edit its record), addressed like the unit's children's records
 * (network_audience of its unit: its subtree). Nothing is written when the
 * record already says so or n is 0. Returns 0, or -1 with err. */
int unit_advertise(store *s, const node_config *c, const char *const *urls, size_t n, char *err,
                   size_t errlen);

#endif
