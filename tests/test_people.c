/*
 * test_people.c - the pieces of node/ under the HTTP API of people: the
 * visibility rule (access.h) on a real unit tree, session timeouts and
 * token lookups (accounts.h) on a real LMDB store, and the lockout
 * arithmetic of ratelimit.h.
 */
#include "node/http/ratelimit.h"
#include "node/people/access.h"
#include "node/people/accounts.h"
#include "tests/check.h"

#include <sodium.h>
#include <string.h>
#include <time.h>

static unit_tree *tree(void)
{
    /* VN -> 40 -> 412 -> 16681, 16684; 40 -> 413 -> 16700; VN -> 41 */
    static const char *const rows[][2] = {{"VN", ""},       {"40", "VN"},    {"41", "VN"},
                                          {"412", "40"},    {"413", "40"},   {"16681", "412"},
                                          {"16684", "412"}, {"16700", "413"}};
    unit_tree *t = unit_tree_new();
    REQUIRE(t != NULL);
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        REQUIRE(unit_tree_set(t, rows[i][0], strlen(rows[i][0]), rows[i][1], strlen(rows[i][1])) ==
                0);
    return t;
}

static bool sees(const unit_tree *t, const char *unit, const char *author, const char *to)
{
    const char *list[1] = {to};
    return access_visible(t, unit, author, list, to ? 1 : 0);
}

static void visibility_checks(void)
{
    unit_tree *t = tree();
    /* the subtree */
    CHECK(sees(t, "412", "16681", NULL));
    CHECK(sees(t, "40", "16681", NULL));
    CHECK(sees(t, "16681", "16681", NULL));
    CHECK(!sees(t, "16681", "412", NULL));   /* not upward */
    CHECK(!sees(t, "16684", "16681", NULL)); /* not sideways */
    CHECK(!sees(t, "40", "41", NULL));       /* another province, even on the national node */
    /* what is addressed to the unit */
    CHECK(sees(t, "16681", "VN", "16681"));
    CHECK(sees(t, "412", "VN", "16681")); /* into its subtree */
    CHECK(!sees(t, "16684", "VN", "16681"));
    CHECK(!sees(t, "413", "VN", "16681"));
    CHECK(sees(t, "16684", "40", "412*"));
    CHECK(sees(t, "40", "41", "412*"));
    CHECK(!sees(t, "16700", "40", "412*"));
    CHECK(sees(t, "16700", "VN", "*"));
    CHECK(!sees(t, "16681", "VN", "99999")); /* unknown: grants nothing */
    CHECK(!sees(t, "16681", "VN", "99999*"));

    /* the same rule on a decoded entry */
    uint8_t pk[32], sk[64], *bytes;
    size_t len;
    char err[256];
    crypto_sign_keypair(pk, sk);
    const char *to[] = {"412*"};
    entry_fields f = {pk, 1, NULL, 1, "VN", "reports", "r1", ENTRY_OP_PUT, NULL, 0, to, 1};
    REQUIRE(entry_encode(&f, sk, &bytes, &len, err, sizeof err) == 0);
    entry_view v;
    REQUIRE(entry_decode(bytes, len, &v, err, sizeof err) == 0);
    CHECK(access_entry_visible(t, "16684", &v));
    CHECK(access_entry_visible(t, "VN", &v));
    CHECK(!access_entry_visible(t, "413", &v));
    entry_view_free(&v);
    free(bytes);

    CHECK(!access_personal(ROLE_VIEWER));
    CHECK(access_personal(ROLE_STAFF) && access_personal(ROLE_LEADER) &&
          access_personal(ROLE_ADMIN));
    unit_tree_free(t);
}

static void credential_checks(void)
{
    store *s;
    char err[256], secret[ACCOUNT_SECRET_MAX], token[ACCOUNT_SECRET_MAX];
    REQUIRE(store_open(&s, check_tmpdir(), NULL, err, sizeof err) == 0);
    account a = {.name = "lan", .unit = "412", .role = ROLE_STAFF, .created_ms = 1};
    REQUIRE(account_hash_password("mật khẩu dài", strlen("mật khẩu dài"), a.hash) == 0);
    REQUIRE(account_put(s, &a, err, sizeof err) == 0);
    account b;
    REQUIRE(account_get(s, "lan", &b) == 0);
    CHECK(b.role == ROLE_STAFF && !strcmp(b.unit, "412"));
    CHECK(account_password_matches(b.hash, "mật khẩu dài", strlen("mật khẩu dài")));
    CHECK(!account_password_matches(b.hash, "mat khau dai", 12));
    CHECK(!account_password_matches(account_dummy_hash(), "", 0));
    CHECK(!account_name_valid("Lan") && !account_name_valid("-x") && !account_name_valid("a:b"));

    /* sessions: idle and absolute timeouts */
    const uint64_t h = 3600 * 1000, t0 = 1000 * h;
    credential c;
    REQUIRE(cred_create(s, CRED_SESSION, "lan", t0, secret, &c, err, sizeof err) == 0);
    CHECK(strlen(secret) == 64 && strlen(c.csrf) == 64);
    CHECK(cred_lookup(s, CRED_SESSION, secret, t0 + 7 * h, &c) == 0);      /* touches it */
    CHECK(cred_lookup(s, CRED_SESSION, secret, t0 + 11 * h, &c) == 0);     /* idle 4 h */
    CHECK(cred_lookup(s, CRED_SESSION, secret, t0 + 12 * h + 1, &c) == 1); /* 12 h after login */
    CHECK(cred_lookup(s, CRED_SESSION, secret, t0 + 1, &c) == 1);          /* and it is gone */
    REQUIRE(cred_create(s, CRED_SESSION, "lan", t0, secret, &c, err, sizeof err) == 0);
    CHECK(cred_lookup(s, CRED_SESSION, secret, t0 + 8 * h + 1, &c) == 1); /* idle 8 h */
    /* the node keeps only a hash of the secret */
    uint8_t *v;
    size_t vlen;
    CHECK(store_local_get(s, "sessions", secret, strlen(secret), &v, &vlen) == 1);

    /* tokens: cheap to check */
    REQUIRE(cred_create(s, CRED_TOKEN, "lan", t0, token, NULL, err, sizeof err) == 0);
    CHECK(!strncmp(token, "lt_", 3) && strlen(token) == 67);
    struct timespec a0, a1;
    clock_gettime(CLOCK_MONOTONIC, &a0);
    int found = 0;
    for (int i = 0; i < 10000; i++)
        found += cred_lookup(s, CRED_TOKEN, token, t0, &c) == 0;
    clock_gettime(CLOCK_MONOTONIC, &a1);
    double us =
        ((double)(a1.tv_sec - a0.tv_sec) * 1e9 + (double)(a1.tv_nsec - a0.tv_nsec)) / 1e4 / 1e3;
    CHECKF(found == 10000 && us < 200, "%d found, %.1f us per token check", found, us);
    fprintf(stderr, "token check: %.2f us\n", us);
    token[10] ^= 1;
    CHECK(cred_lookup(s, CRED_TOKEN, token, t0, &c) == 1);
    token[10] ^= 1;
    CHECK(account_del(s, "lan") == 0);
    CHECK(cred_lookup(s, CRED_TOKEN, token, t0, &c) == 1);
    store_close(s);
}

static void ratelimit_checks(void)
{
    const uint64_t m = 60 * 1000;
    ratelimit *r = ratelimit_new(5, 15 * m, m, 60 * m);
    REQUIRE(r != NULL);
    uint64_t t = 1000 * m;
    for (int i = 0; i < 4; i++)
        ratelimit_fail(r, "u:lan", t);
    CHECK(ratelimit_wait(r, "u:lan", t) == 0);
    ratelimit_fail(r, "u:lan", t);
    CHECK(ratelimit_wait(r, "u:lan", t) == m); /* 5th failure: 1 min */
    ratelimit_fail(r, "u:lan", t + m);
    CHECK(ratelimit_wait(r, "u:lan", t + m) == 2 * m); /* then 2, 4, ... */
    for (int i = 0; i < 10; i++)
        ratelimit_fail(r, "u:lan", t + m);
    CHECK(ratelimit_wait(r, "u:lan", t + m) == 60 * m); /* capped */
    CHECK(ratelimit_wait(r, "u:other", t) == 0);
    ratelimit_clear(r, "u:lan");
    CHECK(ratelimit_wait(r, "u:lan", t + m) == 0);
    /* an attempt counted in advance and taken back leaves no lock */
    for (int i = 0; i < 5; i++)
        ratelimit_fail(r, "a:1.2.3.4", t);
    ratelimit_undo(r, "a:1.2.3.4");
    CHECK(ratelimit_wait(r, "a:1.2.3.4", t) == 0);
    /* the window passes: counting starts over */
    for (int i = 0; i < 4; i++)
        ratelimit_fail(r, "a:5.6.7.8", t);
    ratelimit_fail(r, "a:5.6.7.8", t + 16 * m);
    CHECK(ratelimit_wait(r, "a:5.6.7.8", t + 16 * m) == 0);
    ratelimit_free(r);
}

static void count_lock(void *ctx, const char *key, unsigned failures, uint64_t wait_ms)
{
    (void)key;
    (void)failures;
    (void)wait_ms;
    ++*(size_t *)ctx;
}

/* A full table never gives up a locked key: a flood of new names does not
 * reset a target's count (issue 12, finding 9). */
static void ratelimit_full_checks(void)
{
    const uint64_t m = 60 * 1000, t = 1000 * m;
    char key[RATELIMIT_KEY_MAX];
    ratelimit *r = ratelimit_new(5, 15 * m, m, 60 * m);
    REQUIRE(r != NULL);
    for (int i = 0; i < 5; i++)
        ratelimit_fail(r, "u:target", t);
    REQUIRE(ratelimit_wait(r, "u:target", t) == m);
    for (int i = 0; i < 2 * RATELIMIT_KEYS; i++) {
        snprintf(key, sizeof key, "u:flood-%d", i);
        ratelimit_fail(r, key, t + 1);
    }
    CHECK(ratelimit_wait(r, "u:target", t + 1) == m - 1);
    ratelimit_fail(r, "u:target", t + 2);
    CHECK(ratelimit_wait(r, "u:target", t + 2) == 2 * m); /* still counting: 6 failures */
    ratelimit_free(r);

    /* every row locked: a new key is not counted, the locked ones stay */
    r = ratelimit_new(1, 15 * m, m, 60 * m);
    REQUIRE(r != NULL);
    for (int i = 0; i < RATELIMIT_KEYS; i++) {
        snprintf(key, sizeof key, "p:user-%d|10.0.0.1", i);
        ratelimit_fail(r, key, t);
    }
    ratelimit_fail(r, "u:new", t);
    CHECK(ratelimit_wait(r, "u:new", t) == 0);
    CHECK(ratelimit_wait(r, "p:user-0|10.0.0.1", t) == m);
    size_t locked = 0;
    ratelimit_locks(r, t, count_lock, &locked);
    CHECK(locked == RATELIMIT_KEYS);
    ratelimit_clear_prefix(r, "p:user-1");
    locked = 0;
    ratelimit_locks(r, t, count_lock, &locked);
    CHECK(locked == RATELIMIT_KEYS - 1 - 10 - 100 - 1000); /* user-1, 1x, 1xx, 1xxx */
    CHECK(ratelimit_wait(r, "p:user-0|10.0.0.1", t) == m);
    ratelimit_free(r);
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    visibility_checks();
    credential_checks();
    ratelimit_checks();
    ratelimit_full_checks();
    return check_done();
}
