/*
 * demo_data.c - the demo network's sample records. See demo_data.h.
 */
#include "cli/demo_data.h"
#include "node/domains.h"
#include "node/map_demo.h"
#include "node/streets.h"

#include <stdint.h>

int demo_data_write(const node_config *c, store *s, char *err, size_t errlen)
{
    /* the same sample data for the same unit on every run */
    uint64_t rng = 0;
    for (const char *p = c->unit; *p; p++)
        rng = rng * 131 + (uint8_t)*p;
    if (domains_demo_seed(s, c, &rng, err, errlen))
        return -1;
    if (map_demo_seed(s, err, errlen))
        return -1;
    return streets_demo_seed(s, c, err, errlen);
}
