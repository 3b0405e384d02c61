/*
 * test_entry_run.c - one signature per run (storage/entry_run): a run of
 * eight real signed entries of one origin, applied to real LMDB stores,
 * damaged at every position: a forged signature, changed bytes, two
 * entries swapped, an entry truncated, the run cut short, an entry
 * substituted by another validly signed one of the same origin and seq
 * (equivocation), both to a fresh store and to one that holds the run.
 * Each case is applied as one batch (runs verified by their last
 * signature) and, as the oracle, entry by entry (a batch of one is
 * verified alone, which is how every entry was verified before runs): the
 * results and what the store holds must be the same, the bad entry
 * refused with the same result and detail, every good entry kept. Also:
 * an intact run costs one signature; an inner entry whose own signature
 * is bad but which its author signed over is accepted in a run and
 * reported by store_verify (`lienthong verify`). The streaming form
 * (bundles) names a damaged entry at every position exactly.
 */
#include "storage/entry.h"
#include "storage/entry_run.h"
#include "storage/hlc.h"
#include "storage/store.h"
#include "tests/check.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RUN 8

static uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
static char err[512];
static const char *base;
static int nstores;

typedef struct {
    uint8_t *b[RUN + 1];
    size_t len[RUN + 1];
} run;

/* Signs entry seq after prev (NULL at seq 1) with a body naming variant. */
static uint8_t *sign_entry(uint64_t seq, const uint8_t *prev, const char *variant, size_t *len)
{
    /* {"note": "<variant> xxxxxxxx"} packed by hand: fixstr key and value */
    char note[64];
    snprintf(note, sizeof note, "%s xxxxxxxx", variant);
    uint8_t body[80];
    size_t nl = strlen(note), bl = 0;
    body[bl++] = 0x81;
    body[bl++] = 0xa4;
    memcpy(body + bl, "note", 4);
    bl += 4;
    body[bl++] = (uint8_t)(0xa0 | nl);
    memcpy(body + bl, note, nl);
    bl += nl;
    char id[16];
    snprintf(id, sizeof id, "a%llu", (unsigned long long)seq);
    entry_fields f = {pk,   seq,      prev, hlc_make(1700000000000ull + seq, 0),
                      "40", "alerts", id,   ENTRY_OP_PUT,
                      body, bl,       NULL, 0};
    uint8_t *out = NULL;
    CHECKF(entry_encode(&f, sk, &out, len, err, sizeof err) == 0, "%s", err);
    REQUIRE(out != NULL);
    return out;
}

/* Entries 1..RUN of the origin, hash-linked. */
static void run_make(run *r, const char *variant)
{
    uint8_t prev[ENTRY_HASH_BYTES];
    for (int i = 0; i < RUN; i++) {
        r->b[i] = sign_entry((uint64_t)i + 1, i ? prev : NULL, variant, &r->len[i]);
        entry_hash(r->b[i], r->len[i], prev);
    }
}

static void run_free(run *r)
{
    for (int i = 0; i < RUN; i++)
        free(r->b[i]);
}

static store *store_fresh(void)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/s%d", base, nstores++);
    store_options o = {.map_size = 8u << 20};
    store *s = NULL;
    CHECKF(store_open(&s, dir, &o, err, sizeof err) == 0, "%s", err);
    REQUIRE(s != NULL);
    return s;
}

/* What one way of applying did: per-entry results and details, and the
 * hash of what the store holds at each seq (present[q] false: nothing). */
typedef struct {
    apply_result res[RUN + 1];
    char details[RUN + 1][STORE_ERR_LEN];
    uint8_t held[RUN + 1][ENTRY_HASH_BYTES];
    bool present[RUN + 1];
    uint64_t count;
} outcome;

static void outcome_read(store *s, outcome *o)
{
    for (int q = 1; q <= RUN; q++) {
        uint8_t *b;
        size_t len;
        memset(o->held[q], 0, ENTRY_HASH_BYTES);
        o->present[q] = store_entry_get(s, pk, (uint64_t)q, &b, &len) == 0;
        if (o->present[q]) {
            entry_hash(b, len, o->held[q]);
            free(b);
        }
    }
    o->count = store_entry_count(s);
}

/* Applies in[0..n) to s: as one batch, or entry by entry (the oracle). */
static void apply_to(store *s, const store_input *in, size_t n, bool one_by_one, outcome *o)
{
    if (!one_by_one) {
        CHECKF(store_apply(s, in, n, 0, o->res, o->details, err, sizeof err) == 0, "%s", err);
    } else {
        for (size_t i = 0; i < n; i++)
            CHECKF(store_apply(s, &in[i], 1, 0, &o->res[i], &o->details[i], err, sizeof err) == 0,
                   "%s", err);
    }
    outcome_read(s, o);
}

/* Applies the case both ways (to a fresh store, or to one holding held
 * first) and checks that they agree; *out receives the batch's outcome. */
static void case_check(const char *what, int at, const store_input *in, size_t n, const run *held,
                       outcome *out)
{
    outcome o[2];
    memset(o, 0, sizeof o);
    for (int way = 0; way < 2; way++) {
        store *s = store_fresh();
        if (held) {
            outcome pre;
            store_input hin[RUN];
            for (int i = 0; i < RUN; i++)
                hin[i] = (store_input){held->b[i], held->len[i]};
            apply_to(s, hin, RUN, false, &pre);
        }
        apply_to(s, in, n, way == 1, &o[way]);
        store_close(s);
    }
    for (size_t i = 0; i < n; i++) {
        CHECKF(o[0].res[i] == o[1].res[i], "%s at %d: entry %zu: %s as a batch, %s alone", what, at,
               i, apply_result_str(o[0].res[i]), apply_result_str(o[1].res[i]));
        CHECKF(!strcmp(o[0].details[i], o[1].details[i]), "%s at %d: entry %zu: '%s' vs '%s'", what,
               at, i, o[0].details[i], o[1].details[i]);
    }
    CHECKF(!memcmp(o[0].held, o[1].held, sizeof o[0].held) && o[0].count == o[1].count,
           "%s at %d: the store holds different entries as a batch and one by one", what, at);
    *out = o[0];
}

static void inputs_of(const run *r, store_input *in)
{
    for (int i = 0; i < RUN; i++)
        in[i] = (store_input){r->b[i], r->len[i]};
}

/* True when the store holds exactly entry i of r at its seq. */
static bool holds(const outcome *o, const run *r, int i)
{
    uint8_t h[ENTRY_HASH_BYTES];
    entry_hash(r->b[i], r->len[i], h);
    return !memcmp(o->held[i + 1], h, ENTRY_HASH_BYTES);
}

/* A malloc'd copy of entry at of r with a forged signature (kind 0) or a
 * changed byte of its signed body (kind 1), still well formed. */
static uint8_t *damaged_copy(const run *r, int at, int kind)
{
    uint8_t *bad = malloc(r->len[at]);
    REQUIRE(bad != NULL);
    memcpy(bad, r->b[at], r->len[at]);
    if (kind)
        ((uint8_t *)memmem(bad, r->len[at], "xxxxxxxx", 8))[3] = 'y';
    else
        bad[r->len[at] - 10] ^= 0x10;
    return bad;
}

/* A forged signature and changed signed bytes at every position: exactly
 * that entry is refused as a bad signature, every other one is added. */
static void test_damaged(const run *r)
{
    for (int kind = 0; kind < 2; kind++) {
        const char *what = kind ? "changed bytes" : "forged signature";
        for (int at = 0; at < RUN; at++) {
            store_input in[RUN];
            inputs_of(r, in);
            uint8_t *bad = damaged_copy(r, at, kind);
            in[at].bytes = bad;
            bool ok[RUN];
            entry_run_verify(in, RUN, ok);
            for (int i = 0; i < RUN; i++)
                CHECKF(ok[i] == (i != at), "%s at %d: entry %d judged %d", what, at, i, ok[i]);
            outcome o;
            case_check(what, at, in, RUN, NULL, &o);
            for (int i = 0; i < RUN; i++) {
                if (i == at) {
                    CHECKF(o.res[i] == APPLY_ERR_SIG && strstr(o.details[i], "signature"),
                           "%s at %d: %s (%s)", what, at, apply_result_str(o.res[i]), o.details[i]);
                    CHECKF(!o.present[i + 1] && !holds(&o, r, i), "%s at %d: held", what, at);
                } else {
                    CHECKF(o.res[i] == APPLY_ADDED && holds(&o, r, i), "%s at %d: entry %d %s",
                           what, at, i, apply_result_str(o.res[i]));
                }
            }
            CHECK(o.count == RUN - 1);
            free(bad);
        }
    }
}

/* An entry cut short at every position is a shape error; the rest stays. */
static void test_truncated_entry(const run *r)
{
    for (int at = 0; at < RUN; at++) {
        store_input in[RUN];
        inputs_of(r, in);
        in[at].len -= 1;
        outcome o;
        case_check("truncated entry", at, in, RUN, NULL, &o);
        for (int i = 0; i < RUN; i++)
            CHECKF(i == at ? o.res[i] == APPLY_ERR_SHAPE && o.details[i][0]
                           : o.res[i] == APPLY_ADDED && holds(&o, r, i),
                   "truncated entry at %d: entry %d %s", at, i, apply_result_str(o.res[i]));
    }
}

/* Entries at and after every position swapped: all authentic, all kept,
 * the links still checked against the neighbours held. */
static void test_swapped(const run *r)
{
    for (int at = 0; at + 1 < RUN; at++) {
        store_input in[RUN];
        inputs_of(r, in);
        store_input t = in[at];
        in[at] = in[at + 1];
        in[at + 1] = t;
        bool ok[RUN];
        size_t sigs = entry_run_verify(in, RUN, ok);
        for (int i = 0; i < RUN; i++)
            CHECKF(ok[i], "swapped at %d: entry %d refused", at, i);
        CHECKF(sigs > 1, "swapped at %d: %zu signature(s) for a broken run", at, sigs);
        outcome o;
        case_check("swapped", at, in, RUN, NULL, &o);
        for (int i = 0; i < RUN; i++)
            CHECKF(o.res[i] == APPLY_ADDED && holds(&o, r, i), "swapped at %d: entry %d %s", at, i,
                   apply_result_str(o.res[i]));
    }
}

/* The run cut after every position: the prefix is added, and the rest,
 * sent later, links onto it. */
static void test_cut(const run *r)
{
    for (int at = 1; at < RUN; at++) {
        store_input in[RUN];
        inputs_of(r, in);
        store *s = store_fresh();
        outcome a, b;
        apply_to(s, in, (size_t)at, false, &a);
        apply_to(s, in + at, (size_t)(RUN - at), false, &b);
        store_close(s);
        for (int i = 0; i < at; i++)
            CHECKF(a.res[i] == APPLY_ADDED, "cut at %d: entry %d %s", at, i,
                   apply_result_str(a.res[i]));
        for (int i = at; i < RUN; i++)
            CHECKF(b.res[i - at] == APPLY_ADDED && holds(&b, r, i), "cut at %d: entry %d %s", at, i,
                   apply_result_str(b.res[i - at]));
        CHECK(a.count == (uint64_t)at && b.count == RUN);
    }
}

/* Entry at replaced by alt's (same origin and seq, validly signed, same
 * prev: the author forked there). To a fresh store it is taken (nothing
 * tells it apart) and its successor refused by the link; to a store that
 * holds the run it is equivocation, kept as evidence. */
static void test_substituted(const run *r)
{
    uint8_t prev[ENTRY_HASH_BYTES];
    for (int at = 0; at < RUN; at++) {
        size_t alen;
        if (at)
            entry_hash(r->b[at - 1], r->len[at - 1], prev);
        uint8_t *alt = sign_entry((uint64_t)at + 1, at ? prev : NULL, "fork", &alen);
        store_input in[RUN];
        inputs_of(r, in);
        in[at] = (store_input){alt, alen};
        outcome o;
        case_check("substituted", at, in, RUN, NULL, &o);
        for (int i = 0; i < RUN; i++) {
            apply_result want = i == at + 1 ? APPLY_ERR_LINK : APPLY_ADDED;
            CHECKF(o.res[i] == want, "substituted at %d: entry %d %s", at, i,
                   apply_result_str(o.res[i]));
        }
        CHECKF(!holds(&o, r, at) && o.present[at + 1], "substituted at %d: the fork is held", at);
        case_check("substituted, run held", at, in, RUN, r, &o);
        for (int i = 0; i < RUN; i++) {
            apply_result want = i == at ? APPLY_ERR_EQUIVOCATION : APPLY_DUPLICATE;
            CHECKF(o.res[i] == want, "substituted, run held, at %d: entry %d %s", at, i,
                   apply_result_str(o.res[i]));
            CHECKF(holds(&o, r, i), "substituted, run held, at %d: entry %d lost", at, i);
        }
        free(alt);
    }
}

/* An intact run costs one signature; separate runs one each; a run from
 * seq 5 (the receiver holding 1..4 or not) too. */
static void test_cost(const run *r, const run *other)
{
    store_input in[2 * RUN];
    inputs_of(r, in);
    bool ok[2 * RUN];
    CHECK(entry_run_verify(in, RUN, ok) == 1);
    for (int i = 0; i < RUN; i++)
        CHECK(ok[i]);
    CHECK(entry_run_verify(in + 4, RUN - 4, ok) == 1);
    inputs_of(other, in + RUN); /* another origin's run follows */
    CHECK(entry_run_verify(in, 2 * RUN, ok) == 2);
    for (int i = 0; i < 2 * RUN; i++)
        CHECK(ok[i]);
    CHECK(entry_run_verify(in, 0, ok) == 0);
}

/* Feeds in[0..n) to a stream: -1 when all is well, else the bad index. */
static long stream_run(const store_input *in, size_t n, size_t *sigs)
{
    entry_run_stream st = {0};
    size_t bad = 0;
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        entry_view v;
        REQUIRE(entry_decode(in[i].bytes, in[i].len, &v, NULL, 0) == 0);
        rc = entry_run_stream_add(&st, &v, i, &bad);
        entry_view_free(&v);
    }
    if (!rc)
        rc = entry_run_stream_end(&st, &bad);
    *sigs = st.sigs;
    entry_run_stream_free(&st);
    REQUIRE(rc >= 0);
    return rc ? (long)bad : -1;
}

/* The streaming form (bundles): an intact run costs one signature; a
 * forged signature or changed bytes at every position is named exactly. */
static void test_stream(const run *r)
{
    store_input in[RUN];
    inputs_of(r, in);
    size_t sigs;
    CHECK(stream_run(in, RUN, &sigs) == -1 && sigs == 1);
    for (int kind = 0; kind < 2; kind++)
        for (int at = 0; at < RUN; at++) {
            uint8_t *bad = damaged_copy(r, at, kind);
            inputs_of(r, in);
            in[at].bytes = bad;
            long got = stream_run(in, RUN, &sigs);
            CHECKF(got == at, "stream, %s at %d: %ld named", kind ? "changed" : "forged", at, got);
            free(bad);
        }
}

static void on_problem(void *ctx, const char *msg)
{
    char *first = ctx;
    if (!first[0])
        snprintf(first, 512, "%s", msg);
}

/* The author's residue: entry 4 carries a bad signature of its own, but
 * the author signed entry 5 over its hash. A run accepts it (its bytes are
 * the author's); alone it is refused; `lienthong verify` reports it. */
static void test_inner_bad_signature(void)
{
    run r;
    uint8_t prev[ENTRY_HASH_BYTES];
    for (int i = 0; i < RUN; i++) {
        r.b[i] = sign_entry((uint64_t)i + 1, i ? prev : NULL, "self", &r.len[i]);
        if (i == 3)
            r.b[i][r.len[i] - 10] ^= 0x10;
        entry_hash(r.b[i], r.len[i], prev);
    }
    store_input in[RUN];
    inputs_of(&r, in);
    bool ok[RUN];
    CHECK(entry_run_verify(in, RUN, ok) == 1);
    CHECK(ok[3]);
    CHECK(!entry_verify_bytes(in[3].bytes, in[3].len));
    store *s = store_fresh();
    outcome o;
    apply_to(s, in, RUN, false, &o);
    CHECK(o.count == RUN);
    char first[512] = "";
    long problems = store_verify(s, base, on_problem, first, err, sizeof err);
    CHECKF(problems == 1 && strstr(first, ":4: its own signature does not verify") &&
               strstr(first, "signed entry 5 over it") && strstr(first, "lienthong revoke --node"),
           "verify: %ld problems, first: %s (%s)", problems, first, err);
    store_close(s);
    s = store_fresh();
    apply_to(s, &in[3], 1, false, &o);
    CHECK(o.res[0] == APPLY_ERR_SIG);
    store_close(s);
    run_free(&r);
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    crypto_sign_keypair(pk, sk);
    base = check_tmpdir();
    run r, other;
    run_make(&r, "main");
    test_damaged(&r);
    test_truncated_entry(&r);
    test_swapped(&r);
    test_cut(&r);
    test_substituted(&r);
    test_inner_bad_signature();
    test_stream(&r);
    /* another origin for test_cost */
    uint8_t keep_pk[sizeof pk], keep_sk[sizeof sk];
    memcpy(keep_pk, pk, sizeof pk);
    memcpy(keep_sk, sk, sizeof sk);
    crypto_sign_keypair(pk, sk);
    run_make(&other, "other");
    memcpy(pk, keep_pk, sizeof pk);
    memcpy(sk, keep_sk, sizeof sk);
    test_cost(&r, &other);
    run_free(&r);
    run_free(&other);
    return check_done();
}
