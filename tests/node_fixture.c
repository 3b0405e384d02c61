/*
 * node_fixture.c - real in-process nodes for tests. See node_fixture.h.
 */
#include "tests/node_fixture.h"
#include "lib/mpjson.h"
#include "tests/check.h"

#include <stdlib.h>
#include <string.h>

void fx_node_make(fx_node *n, const char *base, const char *unit, const char *tier, fx_node *parent)
{
    char err[512];
    memset(n, 0, sizeof *n);
    node_config_default_tiers(&n->c);
    snprintf(n->c.dir, sizeof n->c.dir, "%s/%s-%s", base, unit, parent ? "child" : "root");
    if (parent && !strcmp(parent->c.unit, unit))
        snprintf(n->c.dir, sizeof n->c.dir, "%s/%s-mirror", base, unit);
    snprintf(n->c.unit, sizeof n->c.unit, "%s", unit);
    snprintf(n->c.name, sizeof n->c.name, "Unit %s", unit);
    snprintf(n->c.tier, sizeof n->c.tier, "%s", tier);
    snprintf(n->c.listen, sizeof n->c.listen, "127.0.0.1:0");
    REQUIRE(node_config_create(&n->c, err, sizeof err) == 0);
    REQUIRE(node_store_create(&n->c, &n->s, err, sizeof err) == 0);
    if (!parent) {
        REQUIRE(network_init_root(&n->c, n->s, err, sizeof err) == 0);
    } else {
        store_close(n->s);
        store_close(parent->s);
        int rc = network_enroll_local(&n->c, &parent->c, err, sizeof err);
        CHECKF(rc == 0, "%s", err);
        REQUIRE(node_store_open(&parent->c, &parent->s, false, err, sizeof err) == 0);
        REQUIRE(node_store_open(&n->c, &n->s, false, err, sizeof err) == 0);
        parent->rn.store = parent->s;
        REQUIRE(repl_node_reload(&parent->rn, err, sizeof err) == 0);
    }
    int rc = repl_node_init(&n->rn, n->s, n->c.unit, n->c.pk, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
}

void fx_node_free(fx_node *n)
{
    repl_node_release(&n->rn);
    store_close(n->s);
    n->s = NULL;
}

void fx_write(fx_node *n, const char *coll, const char *id, const char *title, const char *to)
{
    char err[256];
    uint8_t *body;
    size_t len;
    json_t *j = json_pack("{s:s}", "title", title);
    REQUIRE(mpjson_pack_object(j, &body, &len, err, sizeof err) == 0);
    json_decref(j);
    const char *tos[1] = {to};
    store_write w = {coll, id, ENTRY_OP_PUT, body, len, tos, to ? 1 : 0};
    store_author a = node_author(&n->c);
    int rc = store_write_local(n->s, &a, &w, 1, NULL, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    free(body);
}

repl_session *fx_session_ops(fx_node *n, const repl_store_ops *ops, bool initiator,
                             bool defer_verify, uint64_t now)
{
    repl_config cfg = {.pk = n->c.pk,
                       .sk = n->c.sk,
                       .root_key = n->c.root_key,
                       .initiator = initiator,
                       .batch_bytes = 2048,
                       .defer_verify = defer_verify};
    return repl_session_new(&cfg, ops, &n->rn, now);
}

repl_session *fx_session(fx_node *n, bool initiator, bool defer_verify, uint64_t now)
{
    return fx_session_ops(n, &repl_node_ops, initiator, defer_verify, now);
}

static int fx_run_jobs(repl_session *s, uint64_t now)
{
    repl_verify_job job;
    int n = 0;
    while (repl_session_next_job(s, &job)) {
        repl_verify_job_run(&job);
        repl_session_job_done(s, job.id, now);
        n++;
    }
    return n;
}

int fx_shuttle(repl_session *a, repl_session *b, uint64_t now)
{
    int moved = 0, progress = 1;
    while (progress && moved < 100000) {
        progress = 0;
        const uint8_t *m;
        size_t len;
        while (repl_session_next_out(a, &m, &len)) {
            repl_session_recv(b, m, len, now);
            moved++, progress = 1;
        }
        while (repl_session_next_out(b, &m, &len)) {
            repl_session_recv(a, m, len, now);
            moved++, progress = 1;
        }
        if (fx_run_jobs(a, now) + fx_run_jobs(b, now))
            progress = 1;
    }
    return moved;
}

bool fx_has(fx_node *n, const char *coll, const char *id)
{
    uint8_t *rec;
    size_t len;
    int rc = store_record_get(n->s, coll, id, &rec, &len);
    if (rc == 0)
        free(rec);
    return rc == 0;
}

void fx_tree4(const char *base, fx_node *p, fx_node *d, fx_node *c1, fx_node *c2)
{
    fx_node_make(p, base, "40", "province", NULL);
    fx_node_make(d, base, "412", "district", p);
    fx_node_make(c1, base, "16681", "commune", d);
    fx_node_make(c2, base, "16684", "commune", d);
}
