/*
 * test_unit_place.c - where a unit stands now (replication/unit_place.c) on
 * a real LMDB store: current paths after a move, merge chains to the live
 * successor, cycles, unknown units, the record of one unit taken as it
 * was before a change; and the report index following a move and a merge
 * of the "units" records it watches (store_index.watch), equal to a
 * rebuild (store_verify finds no problem); a unit merged away placed
 * inside its live successor for visibility (unit_tree_placed_within),
 * though its "parent" stays where it was; and routed there: an entry
 * addressed to a unit merged away goes to its successors' nodes too
 * (route.c over unit_tree_reach), the successor's view changes and its
 * positions must go down (unit_tree_grows), an ancestor of both places
 * keeps them; a written path rewritten into an index's fixed rows
 * (unit_place_rewrite) and the ids an index counts under a unit
 * (unit_place_ids_scan).
 */
#include "lib/mpjson.h"
#include "node/domains.h"
#include "node/people/access.h"
#include "replication/route.h"
#include "replication/unit_place.h"
#include "reports/report_query.h"
#include "storage/record.h"
#include "storage/store.h"
#include "storage/store_index.h"
#include "tests/check.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char err[512];
static uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];

static void put(store *s, const char *coll, const char *id, json_t *j)
{
    uint8_t *body = NULL;
    size_t len = 0;
    REQUIRE(mpjson_pack_object(j, &body, &len, err, sizeof err) == 0);
    json_decref(j);
    store_author a = {pk, sk, "P"};
    store_write w = {coll, id, ENTRY_OP_PUT, body, len, NULL, 0};
    CHECKF(store_write_local(s, &a, &w, 1, NULL, err, sizeof err) == 0, "%s: %s", id, err);
    free(body);
}

/* units/code {parent} (none when NULL), merged into `into` when set. */
static void unit(store *s, const char *code, const char *parent, const char *into)
{
    json_t *j = json_pack("{s:s, s:s}", "code", code, "name", code);
    if (parent)
        json_object_set_new(j, "parent", json_string(parent));
    if (into) {
        json_object_set_new(j, "merged_into", json_string(into));
        json_object_set_new(j, "retired", json_true());
    }
    put(s, "units", code, j);
}

/* The path of code joined by '/' ("" when unknown), with "?" appended when
 * incomplete. */
static const char *path_of(store *s, const char *code, bool record_path)
{
    static char out[512];
    store_index_txn t;
    REQUIRE(store_index_read(s, "reports", &t) == 0);
    unit_place_src src = {t.txn, t.records, NULL, NULL, 0};
    char path[UNIT_PLACE_DEPTH][UNIT_CODE_CAP];
    bool complete = true;
    int n = record_path ? unit_place_record_path(&src, code, path)
                        : unit_place_path(&src, code, path, &complete);
    store_index_end(s, &t);
    out[0] = '\0';
    for (int i = 0; i < n; i++)
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? "/" : "", path[i]);
    if (n > 0 && !complete)
        strcat(out, "?");
    return out;
}

#define PATH_IS(s, code, want)                                                                     \
    CHECKF(!strcmp(path_of(s, code, false), want), "%s: %s, not %s", code,                         \
           path_of(s, code, false), want)

static void test_resolver(store *s)
{
    unit(s, "P", NULL, NULL);
    unit(s, "D", "P", NULL);
    unit(s, "C1", "D", NULL);
    unit(s, "C2", "D", NULL);
    PATH_IS(s, "C1", "P/D/C1");
    PATH_IS(s, "P", "P");
    PATH_IS(s, "Z", "");      /* unknown */
    unit(s, "C1", "P", NULL); /* a move */
    PATH_IS(s, "C1", "P/C1");
    PATH_IS(s, "C2", "P/D/C2");
    /* a chain of merges ends at the live successor */
    unit(s, "N2", "P", NULL);
    unit(s, "N1", "D", "N2");
    unit(s, "C2", "D", "N1");
    PATH_IS(s, "C2", "P/N2");
    CHECK(!strcmp(path_of(s, "C2", true), "P/N2/C2"));
    CHECK(!strcmp(path_of(s, "C1", true), "P/C1"));
    /* a cycle of merges ends, a missing parent leaves the path incomplete */
    unit(s, "X", "P", "Y");
    unit(s, "Y", "P", "X");
    CHECK(path_of(s, "X", false)[0] != '\0');
    unit(s, "O", "GONE", NULL);
    PATH_IS(s, "O", "GONE/O?");

    store_index_txn t;
    REQUIRE(store_index_read(s, "reports", &t) == 0);
    unit_place_src src = {t.txn, t.records, NULL, NULL, 0};
    char succ[UNIT_CODE_CAP];
    CHECK(unit_place_successor(&src, "C2", succ) == 1 && !strcmp(succ, "N2"));
    CHECK(unit_place_successor(&src, "C1", succ) == 0);
    CHECK(unit_place_successor(&src, "Z", succ) == 0);
    uint8_t *rec;
    size_t reclen;
    REQUIRE(store_record_get(s, "units", "C1", &rec, &reclen) == 0);
    CHECK(!unit_place_retired(rec, reclen));
    /* C1's record taken as absent (as before it was written): unknown */
    char path[UNIT_PLACE_DEPTH][UNIT_CODE_CAP];
    bool complete;
    unit_place_src before = {t.txn, t.records, "C1", NULL, 0};
    CHECK(unit_place_path(&before, "C1", path, &complete) == 0);
    /* ... and as C2's record (merged into N1): C1 stands at N2 */
    uint8_t *crec;
    size_t clen;
    REQUIRE(store_record_get(s, "units", "C2", &crec, &clen) == 0);
    unit_place_src as_c2 = {t.txn, t.records, "C1", crec, clen};
    CHECK(unit_place_path(&as_c2, "C1", path, &complete) == 2 && !strcmp(path[1], "N2"));
    CHECK(unit_place_retired(crec, clen));
    CHECK(unit_place_changed(rec, reclen, crec, clen));
    CHECK(!unit_place_changed(rec, reclen, rec, reclen));
    CHECK(unit_place_changed(NULL, 0, rec, reclen));
    free(crec);
    free(rec);
    store_index_end(s, &t);
}

static uint64_t total(store *s, const char *u)
{
    report_stats st;
    CHECKF(report_stats_get(s, u, true, 0, 0, &st, err, sizeof err) == 0, "%s", err);
    return st.total;
}

static void report(store *s, const char *id, const char *commune)
{
    put(s, "reports", id,
        json_pack("{s:s, s:s, s:s, s:s, s:[s,s,s], s:s, s:[s,s,s], s:I, s:s}", "code", id, "title",
                  "Ngập nước", "category", "traffic", "area_unit", commune, "area_path", "Q", "E",
                  commune, "owner_unit", commune, "owner_path", "Q", "E", commune, "created_ms",
                  (json_int_t)1767200400000, "status", "new"));
}

static void problem(void *ctx, const char *msg)
{
    (void)ctx;
    CHECKF(0, "verify: %s", msg);
}

/* Reports of communes K1, K2 of district E of province Q: K1 moves to Q,
 * then K1 and K2 merge into K9 under Q. */
static void test_report_index(store *s)
{
    unit(s, "Q", NULL, NULL);
    unit(s, "E", "Q", NULL);
    unit(s, "K1", "E", NULL);
    unit(s, "K2", "E", NULL);
    report(s, "K1-1", "K1");
    report(s, "K1-2", "K1");
    report(s, "K2-1", "K2");
    CHECK(total(s, "Q") == 3 && total(s, "E") == 3 && total(s, "K1") == 2);
    unit(s, "K1", "Q", NULL);
    CHECKF(total(s, "E") == 1, "E counts %llu after K1 left", (unsigned long long)total(s, "E"));
    CHECK(total(s, "Q") == 3 && total(s, "K1") == 2);
    report(s, "K1-3", "K1"); /* written with the old path, counted where K1 is now */
    CHECK(total(s, "E") == 1 && total(s, "K1") == 3 && total(s, "Q") == 4);
    unit(s, "K9", "Q", NULL);
    unit(s, "K1", "Q", "K9");
    unit(s, "K2", "E", "K9");
    CHECK(total(s, "K9") == 4 && total(s, "Q") == 4 && total(s, "E") == 0);
    CHECK(total(s, "K1") == 3 && total(s, "K2") == 1); /* old codes still find them */
    char scratch[4200];
    snprintf(scratch, sizeof scratch, "%s", check_tmpdir());
    CHECK(store_verify(s, scratch, problem, NULL, err, sizeof err) == 0);
}

/* After test_resolver: C2 (parent D) merged into N1 (parent D), merged
 * into N2 (parent P); C1 under P. */
static void test_merged_place(store *s)
{
    unit_tree *t = unit_tree_new();
    REQUIRE(t && unit_tree_load(t, s) == 0);
    CHECK(!unit_tree_within(t, "C2", 2, "N2", 2)); /* the merge keeps C2's parent */
    CHECK(unit_tree_placed_within(t, "C2", 2, "N2", 2));
    CHECK(unit_tree_placed_within(t, "C2", 2, "N1", 2));
    CHECK(unit_tree_placed_within(t, "C2", 2, "D", 1)); /* where it was, too */
    CHECK(unit_tree_placed_within(t, "C2", 2, "P", 1));
    CHECK(!unit_tree_placed_within(t, "C2", 2, "C1", 2));
    CHECK(!unit_tree_placed_within(t, "C1", 2, "N2", 2));
    /* what is addressed to C2 is N2's to see */
    CHECK(access_addressed(t, "N2", "C2", 2));
    CHECK(!access_addressed(t, "C1", "C2", 2));
    unit_tree_free(t);
}

/* After test_resolver: a path a record wrote down is rewritten as the
 * record's path now into an index's fixed rows; one that would not fit,
 * or whose unit is unknown here, stays as written. */
static void test_rewrite(store *s)
{
    store_index_txn t;
    REQUIRE(store_index_read(s, "reports", &t) == 0);
    unit_place_src src = {t.txn, t.records, NULL, NULL, 0};
    char rows[4][8] = {"P", "D", "C2"}, two[2][8] = {"D", "C2"}, unknown[2][8] = {"Q", "Z"};
    size_t n = 3;
    CHECK(unit_place_rewrite(&src, rows[0], 4, 8, &n) == 0);
    CHECKF(n == 3 && !strcmp(rows[0], "P") && !strcmp(rows[1], "N2") && !strcmp(rows[2], "C2") &&
               !rows[3][0],
           "%zu: %s/%s/%s", n, rows[0], rows[1], rows[2]);
    n = 2; /* P/N2/C2 does not fit two rows */
    CHECK(unit_place_rewrite(&src, two[0], 2, 8, &n) == 0);
    CHECK(n == 2 && !strcmp(two[0], "D") && !strcmp(two[1], "C2"));
    CHECK(unit_place_rewrite(&src, unknown[0], 2, 8, &n) == 0);
    CHECK(n == 2 && !strcmp(unknown[0], "Q") && !strcmp(unknown[1], "Z"));
    n = 0;
    CHECK(unit_place_rewrite(&src, rows[0], 4, 8, &n) == 0 && n == 0);
    store_index_end(s, &t);
}

/* The ids of l joined by ' '. */
static const char *ids_joined(const unit_place_ids *l)
{
    static char out[512];
    out[0] = '\0';
    for (size_t at = 0; at + 2 <= l->len;) {
        size_t n = (size_t)l->buf[at] << 8 | l->buf[at + 1];
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%.*s", out[0] ? " " : "", (int)n,
                 (const char *)l->buf + at + 2);
        at += 2 + n;
    }
    return out;
}

static size_t no_id(void *ctx, const uint8_t *key, size_t klen, size_t plen, char *id, size_t cap)
{
    (void)key, (void)klen, (void)plen, (void)id, (void)cap;
    ++*(size_t *)ctx;
    return 0;
}

/* After test_report_index: the ids the report index counts under a unit
 * (rscope: unit 0x00 inv(8) id), read by unit_place_ids_scan. */
static void test_ids_scan(store *s)
{
    store_index_txn t;
    REQUIRE(store_index_read(s, "reports", &t) == 0);
    unit_place_ids ids = {0};
    size_t inv = 8, seen = 0;
    CHECK(unit_place_ids_scan(&t, t.dbs[0], (const uint8_t *)"K9", 3, unit_place_key_tail, &inv,
                              &ids) == 0);
    CHECKF(!strcmp(ids_joined(&ids), "K1-1 K1-2 K1-3 K2-1"), "under K9: %s", ids_joined(&ids));
    unit_place_ids_free(&ids);
    CHECK(unit_place_ids_scan(&t, t.dbs[0], (const uint8_t *)"E", 2, unit_place_key_tail, &inv,
                              &ids) == 0);
    CHECKF(!ids.len, "under E: %s", ids_joined(&ids));
    /* every key (no prefix), none taken */
    CHECK(unit_place_ids_scan(&t, t.dbs[0], NULL, 0, no_id, &seen, &ids) == 0);
    CHECKF(seen >= 4 && !ids.len, "%zu keys", seen);
    unit_place_ids_free(&ids);
    store_index_end(s, &t);
}

typedef struct {
    uint8_t *bytes;
    size_t len;
} last_entry;

static int keep_last(void *ctx, const uint8_t *bytes, size_t len)
{
    last_entry *l = ctx;
    free(l->bytes);
    l->bytes = malloc(len);
    REQUIRE(l->bytes);
    memcpy(l->bytes, bytes, len);
    l->len = len;
    return 0;
}

/* Writes documents/id addressed to `to` (author unit P) and decodes the
 * entry written into *v; returns its bytes, to free after v. */
static uint8_t *doc_to(store *s, const char *id, const char *to, entry_view *v)
{
    const char *const addr[] = {to};
    store_author a = {pk, sk, "P"};
    store_write w = {"documents", id, ENTRY_OP_PUT, NULL, 0, addr, 1};
    CHECKF(store_write_local(s, &a, &w, 1, NULL, err, sizeof err) == 0, "%s: %s", id, err);
    last_entry l = {0};
    REQUIRE(store_log_scan(s, pk, keep_last, &l) == 0 && l.bytes);
    REQUIRE(entry_decode(l.bytes, l.len, v, err, sizeof err) == 0);
    return l.bytes;
}

static unit_tree *tree_of(store *s)
{
    unit_tree *t = unit_tree_new();
    REQUIRE(t && unit_tree_load(t, s) == 0);
    return t;
}

static bool same_view(const unit_tree *a, const unit_tree *b, const char *unit)
{
    uint8_t va[UNIT_VIEW_BYTES], vb[UNIT_VIEW_BYTES];
    unit_tree_view(a, unit, va);
    unit_tree_view(b, unit, vb);
    return !memcmp(va, vb, sizeof va);
}

/* Province RP, districts RD1 (commune RA) and RD2 (communes RC, RE); RA is
 * merged into RC, later RC into RE: what is addressed to RA ("RA" or
 * "RA*") is for RC's and then RE's nodes too, down the tree from RP. */
static void test_merged_route(store *s)
{
    unit(s, "RP", NULL, NULL);
    unit(s, "RD1", "RP", NULL);
    unit(s, "RD2", "RP", NULL);
    unit(s, "RA", "RD1", NULL);
    unit(s, "RC", "RD2", NULL);
    unit(s, "RE", "RD2", NULL);
    entry_view to_a, sub_a, sub_d1;
    uint8_t *b1 = doc_to(s, "RDOC-1", "RA", &to_a), *b2 = doc_to(s, "RDOC-2", "RA*", &sub_a),
            *b3 = doc_to(s, "RDOC-3", "RD1*", &sub_d1);
    unit_tree *t0 = tree_of(s);
    CHECK(!route_addressed_to(t0, &to_a, "RC", false)); /* before the merge */
    CHECK(!route_should_send(t0, &to_a, LINK_DOWN, "RP", "RD2"));
    unit(s, "RA", "RD1", "RC");
    unit_tree *t1 = tree_of(s);
    CHECK(unit_tree_reach(t1, "RA", 2, "RC", UNIT_BELOW) == UNIT_BELOW);
    CHECK(unit_tree_reach(t1, "RA", 2, "RD1", UNIT_BELOW | UNIT_ABOVE) == UNIT_BELOW);
    CHECK(unit_tree_reach(t1, "RA", 2, "RE", UNIT_BELOW | UNIT_ABOVE) == 0);
    CHECK(route_addressed_to(t1, &to_a, "RC", false));
    CHECK(route_addressed_to(t1, &to_a, "RA", false)); /* its own node still */
    CHECK(route_should_send(t1, &to_a, LINK_DOWN, "RP", "RD2"));
    CHECK(route_should_send(t1, &to_a, LINK_DOWN, "RD2", "RC"));
    CHECK(!route_should_send(t1, &to_a, LINK_DOWN, "RD2", "RE"));
    CHECK(route_should_send(t1, &sub_a, LINK_DOWN, "RD2", "RC"));
    CHECK(!route_should_send(t1, &sub_a, LINK_DOWN, "RD2", "RE"));
    CHECK(!route_should_send(t1, &sub_d1, LINK_DOWN, "RD2", "RC")); /* RD1 was not merged */
    /* RC's and RD2's nodes must fetch what passed them before; RP held it */
    CHECK(unit_tree_grows(t0, t1, "RC") && unit_tree_grows(t0, t1, "RD2"));
    CHECK(!unit_tree_grows(t0, t1, "RP") && !unit_tree_grows(t0, t1, "RE"));
    CHECK(!same_view(t0, t1, "RC") && !same_view(t0, t1, "RD2"));
    CHECK(same_view(t0, t1, "RE") && same_view(t0, t1, "RD1"));
    /* a second merge: RC into RE; RA's documents follow to RE */
    unit(s, "RC", "RD2", "RE");
    unit_tree *t2 = tree_of(s);
    CHECK(route_should_send(t2, &to_a, LINK_DOWN, "RD2", "RE"));
    CHECK(route_should_send(t2, &sub_a, LINK_DOWN, "RD2", "RE"));
    CHECK(unit_tree_grows(t1, t2, "RE") && !same_view(t1, t2, "RE"));
    /* the same tree built by hand (the simulator's checker does so) routes alike */
    unit_tree *h = unit_tree_new();
    REQUIRE(h);
    const char *const place[][2] = {{"RP", ""},    {"RD1", "RP"}, {"RD2", "RP"},
                                    {"RA", "RD1"}, {"RC", "RD2"}, {"RE", "RD2"}};
    for (size_t i = 0; i < 6; i++)
        REQUIRE(unit_tree_set(h, place[i][0], strlen(place[i][0]), place[i][1],
                              strlen(place[i][1])) == 0);
    CHECK(unit_tree_set_successor(h, "RA", 2, "RC") == 0);
    CHECK(unit_tree_set_successor(h, "RZ", 2, "RC") == -1); /* unknown */
    CHECK(!strcmp(unit_tree_merged_into(h, "RA", 2), "RC") && !unit_tree_merged_into(h, "RC", 2));
    CHECK(route_should_send(h, &to_a, LINK_DOWN, "RD2", "RC"));
    entry_view_free(&to_a);
    entry_view_free(&sub_a);
    entry_view_free(&sub_d1);
    free(b1);
    free(b2);
    free(b3);
    unit_tree_free(t0);
    unit_tree_free(t1);
    unit_tree_free(t2);
    unit_tree_free(h);
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    crypto_sign_keypair(pk, sk);
    store *s = NULL;
    store_options o = {0};
    domains_store_options(&o);
    CHECKF(store_open(&s, check_tmpdir(), &o, err, sizeof err) == 0, "%s", err);
    REQUIRE(s);
    test_resolver(s);
    test_merged_place(s);
    test_rewrite(s);
    test_merged_route(s);
    test_report_index(s);
    test_ids_scan(s);
    store_close(s);
    return check_done();
}
