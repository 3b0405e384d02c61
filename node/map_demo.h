/*
 * map_demo.h - the unit boundaries of `lienthong demo`'s network (rough
 * outlines of Tỉnh Nghệ An, Thành phố Vinh, Phường Bến Thủy and Xã Nghi
 * Liên drawn for the demo, not survey data), so its maps show the units by
 * name over the built-in basemap without an admin uploading any.
 */
#ifndef LT_MAP_DEMO_H
#define LT_MAP_DEMO_H

#include "storage/store.h"

#include <stddef.h>

/* Stores the demo units' boundaries in s (the node-local table map_api.h
 * serves), each a Feature with properties "name". Returns 0, or -1 with
 * err. */
int map_demo_seed(store *s, char *err, size_t errlen);

#endif
