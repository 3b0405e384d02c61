/*
 * outbox.c - the per-entry step of filling a link's outbox. See outbox.h.
 */
#include "replication/outbox.h"

int outbox_scan_entry(void *fctx, uint64_t seq, const uint8_t *bytes, size_t len)
{
    outbox_scan *o = fctx;
    entry_head h; /* routing reads who wrote what to whom, never the body */
    if (entry_head_read(bytes, len, &h)) {
        o->corrupt = seq;
        return -1;
    }
    const entry_view *e = &h.v;
    bool send = o->news ? route_news(o->tree, e, o->peer)
                        : (!o->membership || entry_is_membership(e)) &&
                              route_should_send(o->tree, e, o->kind, o->self, o->peer);
    if (send) {
        int rc = o->take(o->ctx, bytes, len);
        if (rc) {
            o->full = rc > 0;
            return rc;
        }
    }
    o->considered = seq;
    return 0;
}
