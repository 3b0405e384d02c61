/*
 * test_revoke.c - a revoked node is refused at the handshake, everywhere
 * the revocation has replicated to, with a reason; its earlier entries
 * stay; other nodes are unaffected.
 */
#include "lib/hex.h"
#include "node/membership/network.h"
#include "tests/check.h"
#include "tests/node_fixture.h"

#include <sodium.h>
#include <string.h>

static repl_session *sync_pair(fx_node *lower, fx_node *upper, repl_session **other)
{
    uint64_t now = hlc_wall_ms();
    repl_session *a = fx_session(lower, true, false, now),
                 *b = fx_session(upper, false, false, now);
    fx_shuttle(a, b, now);
    *other = b;
    return a;
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    const char *base = check_tmpdir();
    fx_node p, d, c1, c2;
    fx_tree4(base, &p, &d, &c1, &c2);
    fx_write(&c1, "reports", "PA-1", "trước khi bị thu hồi", NULL);

    repl_session *b, *a = sync_pair(&c1, &d, &b);
    CHECK(repl_session_state(a) == REPL_OPEN && repl_session_state(b) == REPL_OPEN);
    repl_session_free(a);
    repl_session_free(b);
    CHECK(fx_has(&d, "reports", "PA-1"));

    /* the district revokes commune 1 (as `lienthong revoke` does), addressed
     * like the certificate; the cut-off keeps PA-1 valid wherever the
     * revocation arrives first */
    char err[256], aud[NETWORK_AUDIENCE_MAX];
    uint64_t upto;
    REQUIRE(network_audience(d.s, d.c.unit, aud) == 0);
    CHECK(!strcmp(aud, "412*"));
    REQUIRE(network_end_cert(&d.c, d.s, c1.c.pk, aud, "test", &upto, err, sizeof err) == 0);
    CHECK(upto == 1);
    REQUIRE(repl_node_reload(&d.rn, err, sizeof err) == 0);
    CHECK(unit_tree_revoked(d.rn.tree, c1.c.pk));

    a = sync_pair(&c1, &d, &b);
    CHECK(repl_session_state(b) == REPL_CLOSED);
    CHECKF(strstr(repl_session_error(b), "revoked") != NULL, "%s", repl_session_error(b));
    CHECK(strstr(repl_session_error(a), "revoked") != NULL);
    repl_session_free(a);
    repl_session_free(b);

    /* the revocation replicates up; the province refuses the key too */
    a = sync_pair(&d, &p, &b);
    CHECK(repl_session_state(a) == REPL_OPEN);
    repl_session_free(a);
    repl_session_free(b);
    CHECK(unit_tree_revoked(p.rn.tree, c1.c.pk));
    a = sync_pair(&c1, &p, &b);
    CHECK(repl_session_state(b) == REPL_CLOSED);
    repl_session_free(a);
    repl_session_free(b);
    CHECK(fx_has(&p, "reports", "PA-1")); /* earlier entries stay */

    /* commune 2 is unaffected */
    a = sync_pair(&c2, &d, &b);
    CHECKF(repl_session_state(b) == REPL_OPEN, "%s", repl_session_error(b));
    repl_session_free(a);
    repl_session_free(b);

    fx_node_free(&p);
    fx_node_free(&d);
    fx_node_free(&c1);
    fx_node_free(&c2);
    return check_done();
}
