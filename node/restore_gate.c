/*
 * restore_gate.c - see restore_gate.h.
 */
#include "node/restore_gate.h"
#include "lib/hex.h"
#include "lib/log.h"
#include "node/disk_guard.h"
#include "node/recovery.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void restore_gate_describe(const restore_gate *g, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "this node was restored from a backup and is getting back from its parent the "
             "entries it signed after that backup (it holds its own log up to %llu; %s): it "
             "signs nothing until then, or it would sign conflicting entries. Reading works; "
             "send the request again once it caught up (lienthong doctor --dir %s). If no "
             "parent or mirror can be reached, run lienthong rotate --dir %s (a new key) and "
             "restart the node",
             (unsigned long long)g->held,
             g->upstream ? "its neighbours hold more" : "no parent or mirror reached yet",
             g->c->dir, g->c->dir);
}

void restore_gate_init(restore_gate *g, const node_config *c, store *s)
{
    char key[65], why[512];
    memset(g, 0, sizeof *g);
    g->c = c;
    g->s = s;
    g->holding = recovery_restored_key(c->dir, hex_encode(c->pk, 32, key));
    if (!g->holding)
        return;
    store_origin o;
    g->held = !store_origin_get(s, c->pk, &o) && o.count == o.max_seq ? o.max_seq : 0;
    restore_gate_describe(g, why, sizeof why);
    store_hold_local(s, c->pk, why);
    log_write(LOG_WARN, "node.catching_up", "own_seq=%llu advice=\"%s\"",
              (unsigned long long)g->held, why);
}

bool restore_gate_check(restore_gate *g, const repl_links *L)
{
    if (!g->holding || !L)
        return false;
    store_origin o;
    int rc = store_origin_get(g->s, g->c->pk, &o);
    g->held = rc == 1 ? 0 : !rc && o.count == o.max_seq ? o.max_seq : g->held;
    bool told;
    g->target = repl_links_own_held(L, &g->upstream, &told);
    /* the root (no upstream) has no parent to wait for: its children and
     * mirrors tell what they hold */
    bool enough = g->upstream || (told && !g->c->nupstreams);
    if (rc < 0 || !enough || g->held < g->target || (!rc && o.count != o.max_seq))
        return false;
    g->holding = false;
    store_hold_local(g->s, NULL, NULL);
    if (recovery_clear_restored(g->c->dir))
        log_write(LOG_WARN, "node.marker",
                  "path=%s/restored.json error=\"cannot remove it (%s): remove it by hand, or "
                  "the next start holds writes again until the node caught up\"",
                  g->c->dir, strerror(errno));
    log_write(LOG_INFO, "node.caught_up", "own_seq=%llu neighbours_hold=%llu",
              (unsigned long long)g->held, (unsigned long long)g->target);
    return true;
}

bool restore_gate_http(void *ctx, const http_request *req, http_response *res)
{
    restore_gate *g = ctx;
    if (!g->holding || !disk_guard_writes(req))
        return false;
    char why[512];
    restore_gate_describe(g, why, sizeof why);
    http_respond_code(res, 503, RESTORE_GATE_CODE, "%s", why);
    return true;
}
