/*
 * outbox.h - choosing what one link carries from one origin's log: scan
 * the log from a position, keep the entries the routing rule sends over
 * the link, skip the rest, and remember how far the scan got. Shared by
 * the live session and by bundles, so both apply exactly the same rule.
 */
#ifndef LT_OUTBOX_H
#define LT_OUTBOX_H

#include "replication/route.h"

typedef struct {
    const unit_tree *tree;
    link_kind kind;
    const char *self, *peer;
    /* Called for each entry to send; returns 0 to take it, 1 when there is
     * no room (the entry is then not considered), -1 on error. */
    int (*take)(void *ctx, const uint8_t *bytes, size_t len);
    void *ctx;
    uint64_t considered; /* out: last seq fully considered */
    bool full;           /* out: take() said no room */
    uint64_t corrupt;    /* out: seq of an undecodable stored entry (scan stopped) */
    bool news;           /* carry only membership news (route_news), whatever the kind */
    bool membership;     /* carry only membership entries the kind's rule sends */
} outbox_scan;

/* A scan callback (for store_scan_origin or repl_store_ops.scan) with an
 * outbox_scan * as its context. An entry of this node's own store that does
 * not decode stops the scan (returns -1, sets corrupt) rather than being
 * skipped: skipping it would vouch for an entry the peer never got. */
int outbox_scan_entry(void *fctx, uint64_t seq, const uint8_t *bytes, size_t len);

#endif
