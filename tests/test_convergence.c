/*
 * test_convergence.c - property test: stores converge whatever the order.
 *
 * For each seed, 3-5 authors build signed chains of random put/patch/delete
 * entries on a few shared record ids in 2-3 collections, with HLCs chosen
 * to tie across origins and to skew by hours. The entries are then applied
 * to three fresh stores as random permutations with duplicates in random
 * batch sizes, and to each author's own store after its own chain (each
 * author's keys come from the seed, so a seed replays exactly). All
 * stores must end with identical collection digests and byte-identical
 * records, and the records must match a simple model that replays each
 * record's entries in (hlc, origin) order. Some authors reuse HLC values,
 * as a faulty node might: those records must still converge.
 *
 *   test_convergence            seeds 1..300
 *   test_convergence SEED       replays one seed
 *   test_convergence SEED N     seeds SEED..SEED+N-1
 */
#include "lib/hex.h"
#include "lib/mpjson.h"
#include "storage/entry.h"
#include "storage/hlc.h"
#include "storage/record.h"
#include "storage/store.h"
#include "tests/check.h"

#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_AUTHORS 5
#define MAX_ENTRIES 128
#define FRESH_STORES 3

static char err[512];
static const char *base_dir;

/* ---- deterministic randomness: splitmix64 -------------------------------- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
    return rng_next() % n;
}

/* ---- one seed's world ------------------------------------------------------ */

typedef struct {
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    const char *unit;
} author;

typedef struct {
    uint8_t *bytes;
    size_t len;
    int author;
    uint64_t hlc;
    int coll, id;
    entry_op op;
    json_t *body; /* the body as JSON (for the model) */
} ent;

static const char *const all_colls[] = {"sensors", "alerts", "road.works"};
static const char *const all_ids[] = {"a", "trạm-b", "c", "Hồ Gươm", "e"};
static const char *const all_units[] = {"40", "41", "412", "4121", "5"};
static const char *const field_names[] = {"a", "b", "tên", "mức", "vị_trí"};
static const char *const words[] = {"mưa",         "nắng", "ngập",      "kẹt xe",
                                    "bình thường", "",     "Đường Láng"};

typedef struct {
    int nauth, ncolls, nids;
    author au[MAX_AUTHORS];
    ent e[MAX_ENTRIES * MAX_AUTHORS];
    size_t n;
} world;

static json_t *random_value(int depth)
{
    switch (below(depth ? 5 : 7)) {
    case 0: return json_null();
    case 1: return json_integer((json_int_t)below(200) - 100);
    case 2: return json_boolean(below(2));
    case 3:
    case 4: return json_string(words[below(sizeof words / sizeof *words)]);
    case 5: {
        json_t *a = json_array();
        for (uint64_t i = below(3); i > 0; i--)
            json_array_append_new(a, random_value(depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        json_object_set_new(o, "x", random_value(depth + 1));
        if (below(2))
            json_object_set_new(o, "y", random_value(depth + 1));
        return o;
    }
    }
}

static json_t *random_body(void)
{
    json_t *o = json_object();
    for (uint64_t i = below(4); i > 0; i--)
        json_object_set_new(o, field_names[below(sizeof field_names / sizeof *field_names)],
                            random_value(0));
    return o;
}

/* Builds every author's chain with entry_encode and explicit HLCs. */
static void world_build(world *w)
{
    memset(w, 0, sizeof *w);
    w->nauth = 3 + (int)below(3);
    w->ncolls = 2 + (int)below(2);
    w->nids = 2 + (int)below(4);
    uint64_t base_ms = 1763894940000ull + below(1000);
    for (int a = 0; a < w->nauth; a++) {
        uint8_t seed[crypto_sign_SEEDBYTES];
        for (size_t i = 0; i < sizeof seed; i++)
            seed[i] = (uint8_t)rng_next();
        crypto_sign_seed_keypair(w->au[a].pk, w->au[a].sk, seed);
        w->au[a].unit = all_units[below(sizeof all_units / sizeof *all_units)];
    }
    for (int a = 0; a < w->nauth; a++) {
        author *au = &w->au[a];
        /* Small steps from a shared base make cross-origin ties common; some
         * clocks run hours ahead, some start near a counter overflow, and
         * some (faulty) ones repeat a value, tying entries of one origin. */
        uint64_t hlc = hlc_make(base_ms, 0) + below(4);
        uint64_t min_step = 1;
        switch (below(8)) {
        case 0: hlc += hlc_make(3 * 3600 * 1000ull, 0); break;
        case 1: hlc = hlc_make(base_ms, 0xfffd) + below(2); break;
        case 2: min_step = 0; break;
        default: break;
        }
        uint64_t count = 1 + below(MAX_ENTRIES / 6);
        uint8_t prev[ENTRY_HASH_BYTES];
        for (uint64_t seq = 1; seq <= count; seq++) {
            ent *e = &w->e[w->n++];
            e->author = a;
            e->hlc = hlc;
            hlc += min_step + below(3);
            e->coll = (int)below((uint64_t)w->ncolls);
            e->id = (int)below((uint64_t)w->nids);
            uint64_t r = below(10);
            e->op = r < 3 ? ENTRY_OP_PUT : r < 8 ? ENTRY_OP_PATCH : ENTRY_OP_DELETE;
            e->body = e->op == ENTRY_OP_DELETE && below(2) ? json_object() : random_body();
            uint8_t *body = NULL;
            size_t blen = 0;
            REQUIRE(mpjson_pack_object(e->body, &body, &blen, err, sizeof err) == 0);
            const char *to[] = {"*"};
            entry_fields f = {au->pk,         seq,      seq > 1 ? prev : NULL,
                              e->hlc,         au->unit, all_colls[e->coll],
                              all_ids[e->id], e->op,    body,
                              blen,           to,       below(2)};
            int rc = entry_encode(&f, au->sk, &e->bytes, &e->len, err, sizeof err);
            free(body);
            REQUIRE(rc == 0);
            entry_hash(e->bytes, e->len, prev);
        }
    }
}

static void world_free(world *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->e[i].bytes);
        json_decref(w->e[i].body);
    }
}

/* ---- stores ------------------------------------------------------------------ */

static store *fresh_store(const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", base_dir, name);
    store *s = NULL;
    CHECKF(store_open(&s, path, NULL, err, sizeof err) == 0, "%s", err);
    REQUIRE(s != NULL);
    return s;
}

static void drop_store(store *s, const char *name)
{
    store_close(s);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/data.mdb", base_dir, name);
    unlink(path);
    snprintf(path, sizeof path, "%s/%s/lock.mdb", base_dir, name);
    unlink(path);
    snprintf(path, sizeof path, "%s/%s", base_dir, name);
    rmdir(path);
}

/* Applies order[0..n) in batches of random size 1..max; counts results. */
static void apply_in_batches(store *s, const world *w, const size_t *order, size_t n, size_t max,
                             size_t *added, size_t *bad)
{
    store_input *in = malloc((max + 1) * sizeof *in);
    apply_result *res = malloc((max + 1) * sizeof *res);
    char(*details)[STORE_ERR_LEN] = malloc((max + 1) * sizeof *details);
    REQUIRE(in && res && details);
    for (size_t i = 0; i < n;) {
        size_t k = 1 + below(max);
        if (k > n - i)
            k = n - i;
        for (size_t j = 0; j < k; j++)
            in[j] = (store_input){w->e[order[i + j]].bytes, w->e[order[i + j]].len};
        CHECKF(store_apply(s, in, k, 0, res, details, err, sizeof err) == 0, "%s", err);
        for (size_t j = 0; j < k; j++) {
            if (res[j] == APPLY_ADDED)
                (*added)++;
            else if (res[j] != APPLY_DUPLICATE) {
                (*bad)++;
                fprintf(stderr, "entry %zu: %s: %s\n", order[i + j], apply_result_str(res[j]),
                        details[j]);
            }
        }
        i += k;
    }
    free(in);
    free(res);
    free(details);
}

static void shuffle(size_t *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = below(i);
        size_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

/* ---- snapshots ------------------------------------------------------------- */

typedef struct {
    char *buf;
    size_t len, cap;
} sbuf;

static void sbuf_put(sbuf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->buf = realloc(b->buf, b->cap);
        REQUIRE(b->buf != NULL);
    }
    memcpy(b->buf + b->len, p, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

static int coll_line(void *ctx, const char *coll, uint64_t live,
                     const uint8_t digest[STORE_DIGEST_BYTES])
{
    char line[256], hex[2 * STORE_DIGEST_BYTES + 1];
    int n = snprintf(line, sizeof line, "%s %llu %s\n", coll, (unsigned long long)live,
                     hex_encode(digest, STORE_DIGEST_BYTES, hex));
    sbuf_put(ctx, line, (size_t)n);
    return 0;
}

static int record_bytes(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t reclen)
{
    uint32_t n[2] = {(uint32_t)idlen, (uint32_t)reclen};
    sbuf_put(ctx, n, sizeof n);
    sbuf_put(ctx, id, idlen);
    sbuf_put(ctx, rec, reclen);
    return 0;
}

/* Digest lines, then every record of every possible collection. */
static void snapshot(store *s, sbuf *d, sbuf *r)
{
    memset(d, 0, sizeof *d);
    memset(r, 0, sizeof *r);
    sbuf_put(d, "", 0);
    sbuf_put(r, "", 0);
    CHECK(store_collections(s, coll_line, d) == 0);
    for (size_t c = 0; c < sizeof all_colls / sizeof *all_colls; c++) {
        sbuf_put(r, all_colls[c], strlen(all_colls[c]) + 1);
        CHECK(store_records(s, all_colls[c], record_bytes, r) == 0);
    }
}

/* ---- the model ------------------------------------------------------------- */

static int stamp_cmp(const world *w, const ent *a, const ent *b)
{
    if (a->hlc != b->hlc)
        return a->hlc < b->hlc ? -1 : 1;
    return memcmp(w->au[a->author].pk, w->au[b->author].pk, ENTRY_KEY_BYTES);
}

static const world *sort_world;
static uint64_t cross_origin_ties, same_origin_ties; /* on one record, over the run */
static int ent_ptr_cmp(const void *x, const void *y)
{
    const ent *a = *(const ent *const *)x, *b = *(const ent *const *)y;
    return stamp_cmp(sort_world, a, b);
}

/* Checks every record of s against the model; returns live counts. */
static void check_model(store *s, const world *w, uint64_t live[3])
{
    const ent *mine[MAX_ENTRIES * MAX_AUTHORS];
    memset(live, 0, 3 * sizeof *live);
    for (int c = 0; c < w->ncolls; c++) {
        for (int id = 0; id < w->nids; id++) {
            size_t n = 0;
            for (size_t i = 0; i < w->n; i++)
                if (w->e[i].coll == c && w->e[i].id == id)
                    mine[n++] = &w->e[i];
            uint8_t *rec = NULL;
            size_t reclen;
            int got = store_record_get(s, all_colls[c], all_ids[id], &rec, &reclen);
            if (!n) {
                CHECKF(got == 1, "%s/%s should not exist", all_colls[c], all_ids[id]);
                free(got == 0 ? rec : NULL);
                continue;
            }
            CHECKF(got == 0, "%s/%s is missing", all_colls[c], all_ids[id]);
            if (got)
                continue;
            sort_world = w;
            qsort(mine, n, sizeof *mine, ent_ptr_cmp);
            /* Entries of one origin with one HLC have no order to replay in:
             * for those records only convergence is checked. */
            bool tied = false;
            for (size_t i = 1; i < n; i++) {
                tied |= stamp_cmp(w, mine[i - 1], mine[i]) == 0;
                if (mine[i - 1]->hlc == mine[i]->hlc)
                    mine[i - 1]->author == mine[i]->author ? same_origin_ties++
                                                           : cross_origin_ties++;
            }
            if (tied) {
                live[c] += !record_is_deleted(rec, reclen);
                free(rec);
                continue;
            }
            json_t *fields = json_object();
            bool deleted = false;
            for (size_t i = 0; i < n; i++) {
                const ent *e = mine[i];
                if (e->op == ENTRY_OP_PUT) {
                    json_object_clear(fields);
                    json_object_update(fields, e->body);
                    deleted = false;
                } else if (e->op == ENTRY_OP_DELETE) {
                    json_object_clear(fields);
                    deleted = true;
                } else {
                    json_object_update(fields, e->body);
                    if (json_object_size(e->body))
                        deleted = false;
                }
            }
            json_t *want = json_object();
            json_object_set_new(want, "id", json_string(all_ids[id]));
            const char *k;
            json_t *v;
            json_object_foreach(fields, k, v)
            {
                if (!json_is_null(v))
                    json_object_set(want, k, v);
            }
            json_t *have =
                record_to_json(rec, reclen, all_ids[id], strlen(all_ids[id]), err, sizeof err);
            if (!have || !json_equal(have, want)) {
                char *a = have ? json_dumps(have, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
                char *b = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT);
                CHECKF(false, "%s/%s is %s, model says %s", all_colls[c], all_ids[id], a ? a : err,
                       b);
                free(a);
                free(b);
            }
            CHECKF(record_is_deleted(rec, reclen) == deleted, "%s/%s deleted flag", all_colls[c],
                   all_ids[id]);
            char unit[64];
            CHECK(record_owner(rec, reclen, unit, sizeof unit) == 0 &&
                  !strcmp(unit, w->au[mine[0]->author].unit));
            live[c] += !deleted;
            json_decref(have);
            json_decref(want);
            json_decref(fields);
            free(rec);
        }
    }
}

typedef struct {
    uint64_t live[3];
} live_ctx;

static int live_one(void *ctx, const char *coll, uint64_t live, const uint8_t *digest)
{
    (void)digest;
    live_ctx *l = ctx;
    for (int c = 0; c < 3; c++)
        if (!strcmp(coll, all_colls[c]))
            l->live[c] = live;
    return 0;
}

/* ---- one seed ------------------------------------------------------------------ */

static void run_seed(uint64_t seed)
{
    rng_state = seed;
    static world w;
    world_build(&w);

    /* Each author's store: its own chain in order, then everything else. */
    store *stores[FRESH_STORES + MAX_AUTHORS];
    char names[FRESH_STORES + MAX_AUTHORS][16];
    int nstores = 0;
    size_t *order = malloc(4 * w.n * sizeof *order);
    REQUIRE(order != NULL);
    for (int a = 0; a < w.nauth; a++) {
        snprintf(names[nstores], sizeof names[0], "author%d", a);
        store *s = stores[nstores] = fresh_store(names[nstores]);
        nstores++;
        size_t n = 0, own = 0;
        for (size_t i = 0; i < w.n; i++)
            if (w.e[i].author == a)
                order[n++] = i;
        own = n;
        size_t added = 0, bad = 0;
        apply_in_batches(s, &w, order, own, own, &added, &bad);
        CHECKF(added == own && bad == 0, "author %d: own chain %zu of %zu added", a, added, own);
        n = 0;
        for (size_t i = 0; i < w.n; i++)
            if (w.e[i].author != a)
                order[n++] = i;
        shuffle(order, n);
        apply_in_batches(s, &w, order, n, n, &added, &bad);
        CHECKF(added == w.n && bad == 0, "author %d: %zu of %zu added", a, added, w.n);
    }

    /* Fresh stores: random permutations with duplicates. */
    for (int f = 0; f < FRESH_STORES; f++) {
        snprintf(names[nstores], sizeof names[0], "fresh%d", f);
        store *s = stores[nstores] = fresh_store(names[nstores]);
        nstores++;
        size_t n = 0;
        for (size_t i = 0; i < w.n; i++) {
            order[n++] = i;
            uint64_t r = below(8);
            if (r < 2)
                order[n++] = i;
            if (r == 0)
                order[n++] = i;
        }
        shuffle(order, n);
        /* Fine batches, coarse batches, or everything in one transaction. */
        size_t added = 0, bad = 0;
        apply_in_batches(s, &w, order, n, f == 0 ? 16 : f == 1 ? 48 : n, &added, &bad);
        CHECKF(added == w.n && bad == 0, "fresh %d: %zu of %zu added, %zu refused", f, added, w.n,
               bad);
        CHECK(store_entry_count(s) == w.n && store_arrival_last(s) == w.n);
    }
    free(order);

    /* All stores hold the same state, and it is the model's. */
    sbuf d0, r0;
    snapshot(stores[0], &d0, &r0);
    for (int i = 1; i < nstores; i++) {
        sbuf d, r;
        snapshot(stores[i], &d, &r);
        CHECKF(d.len == d0.len && !memcmp(d.buf, d0.buf, d.len), "%s digests differ:\n%s--\n%s",
               names[i], d0.buf, d.buf);
        CHECKF(r.len == r0.len && !memcmp(r.buf, r0.buf, r.len), "%s records differ from %s",
               names[i], names[0]);
        free(d.buf);
        free(r.buf);
    }
    free(d0.buf);
    free(r0.buf);
    uint64_t live[3];
    check_model(stores[nstores - 1], &w, live);
    live_ctx lc = {{0}};
    CHECK(store_collections(stores[nstores - 1], live_one, &lc) == 0);
    for (int c = 0; c < 3; c++)
        CHECKF(lc.live[c] == live[c], "%s: live %llu, model %llu", all_colls[c],
               (unsigned long long)lc.live[c], (unsigned long long)live[c]);

    for (int i = 0; i < nstores; i++)
        drop_store(stores[i], names[i]);
    world_free(&w);
}

int main(int argc, char **argv)
{
    REQUIRE(sodium_init() >= 0);
    uint64_t first = 1, count = 300;
    if (argc > 1) {
        first = strtoull(argv[1], NULL, 10);
        count = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0)
        self[n] = '\0';
    else
        snprintf(self, sizeof self, "%s", argv[0]);
    base_dir = check_tmpdir();
    int failed_seeds = 0;
    for (uint64_t seed = first; seed < first + count; seed++) {
        int before = check_failed;
        run_seed(seed);
        if (check_failed != before) {
            printf("replay: %s %llu\n", self, (unsigned long long)seed);
            fflush(stdout);
            if (++failed_seeds >= 5)
                break;
        }
    }
    printf("%llu seeds: %llu cross-origin and %llu same-origin HLC ties on one record\n",
           (unsigned long long)count, (unsigned long long)cross_origin_ties,
           (unsigned long long)same_origin_ties);
    if (count >= 100)
        CHECK(cross_origin_ties > 0 && same_origin_ties > 0);
    return check_done();
}
