/*
 * test_mirror.c - two servers of one unit (a province with two nodes)
 * mirror each other fully, whichever of them the communes reach: a
 * second server is enrolled by the first, their link carries everything,
 * and after syncing they hold byte-identical collections.
 */
#include "tests/check.h"
#include "tests/node_fixture.h"

#include <sodium.h>
#include <string.h>

typedef struct {
    char names[16][32];
    uint8_t digests[16][32];
    size_t n;
} digests;

static int collect(void *ctx, const char *coll, uint64_t live, const uint8_t *d)
{
    digests *ds = ctx;
    (void)live;
    if (ds->n < 16) {
        snprintf(ds->names[ds->n], sizeof ds->names[0], "%s", coll);
        memcpy(ds->digests[ds->n++], d, 32);
    }
    return 0;
}

static bool same_state(fx_node *a, fx_node *b)
{
    digests da = {0}, db = {0};
    store_collections(a->s, collect, &da);
    store_collections(b->s, collect, &db);
    if (da.n != db.n)
        return false;
    for (size_t i = 0; i < da.n; i++)
        if (strcmp(da.names[i], db.names[i]) || memcmp(da.digests[i], db.digests[i], 32))
            return false;
    return store_entry_count(a->s) == store_entry_count(b->s);
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    const char *base = check_tmpdir();
    fx_node p1, p2, c1, c2;
    fx_node_make(&p1, base, "40", "province", NULL);
    fx_node_make(&p2, base, "40", "province", &p1); /* the second server */
    CHECK(p2.c.enrolled && !p2.c.root);
    fx_node_make(&c1, base, "16681", "commune", &p1);
    fx_node_make(&c2, base, "16684", "commune", &p1);
    CHECK(route_link_kind(p1.rn.tree, "40", "40") == LINK_MIRROR);

    fx_write(&p1, "documents", "129/QĐ-UBND", "Quyết định", "*");
    fx_write(&p2, "documents", "56/KH-UBND", "Kế hoạch", "16684");
    for (int i = 0; i < 30; i++) {
        char id[24];
        snprintf(id, sizeof id, "PA-16681-%02d", i);
        fx_write(&c1, "reports", id, "Đường ngập nước", NULL);
    }
    fx_write(&c2, "reports", "PA-16684-01", "Rác thải", NULL);

    uint64_t now = hlc_wall_ms();
    /* commune 1 reaches server 1, commune 2 reaches server 2 */
    repl_session *a = fx_session(&c1, true, false, now), *b = fx_session(&p1, false, false, now);
    fx_shuttle(a, b, now);
    CHECKF(repl_session_state(b) == REPL_OPEN, "%s", repl_session_error(b));
    repl_session_free(a);
    repl_session_free(b);
    a = fx_session(&c2, true, true, now);
    b = fx_session(&p2, false, true, now);
    fx_shuttle(a, b, now);
    CHECKF(repl_session_state(b) == REPL_OPEN, "%s", repl_session_error(b));
    repl_session_free(a);
    repl_session_free(b);
    CHECK(!same_state(&p1, &p2));

    /* the two servers mirror each other */
    a = fx_session(&p2, true, false, now);
    b = fx_session(&p1, false, false, now);
    fx_shuttle(a, b, now);
    CHECKF(repl_session_state(a) == REPL_OPEN, "%s", repl_session_error(a));
    CHECK(same_state(&p1, &p2));
    CHECK(fx_has(&p1, "reports", "PA-16684-01"));
    CHECK(fx_has(&p2, "reports", "PA-16681-29"));
    CHECK(fx_has(&p1, "documents", "56/KH-UBND"));
    repl_session_free(a);
    repl_session_free(b);

    /* commune 2, syncing with server 1 now, gets what server 2 wrote for it
     * and nothing twice */
    a = fx_session(&c2, true, false, now);
    b = fx_session(&p1, false, false, now);
    fx_shuttle(a, b, now);
    CHECK(fx_has(&c2, "documents", "56/KH-UBND"));
    CHECK(fx_has(&c2, "documents", "129/QĐ-UBND"));
    CHECK(!fx_has(&c2, "reports", "PA-16681-00"));
    repl_session_free(a);
    repl_session_free(b);
    uint64_t before = store_entry_count(p1.s);
    a = fx_session(&p2, true, false, now);
    b = fx_session(&p1, false, false, now);
    fx_shuttle(a, b, now);
    CHECK(store_entry_count(p1.s) == before);
    CHECK(same_state(&p1, &p2));
    repl_session_free(a);
    repl_session_free(b);

    fx_node_free(&p1);
    fx_node_free(&p2);
    fx_node_free(&c1);
    fx_node_free(&c2);
    return check_done();
}
