/*
 * test_doc_groups.c - "all communes of a province" on a real store
 * (LMDB, real membership of tests/node_fixture.h): province 40 with 250
 * communes, more than the addressees one entry may name:
 *   - a document to "40*" is issued: its record lists the 250 communes, its
 *     entries (record and recall) are addressed to "40*" only, a commune
 *     of the group sees it in its in-box; the time the store takes to
 *     write it with its index (256 distinct words: the most indexed, each
 *     under 251 boxes) and to rewrite it on its recall is printed;
 *   - the same with a subject and a body of the most bytes each allows is
 *     too large for an entry:
 *     document.too_large, nothing stored, no number taken (the next
 *     document gets the next number).
 */
#include "documents/doc_index.h"
#include "documents/documents.h"
#include "storage/entry.h"
#include "tests/check.h"
#include "tests/node_fixture.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define COMMUNES 250

static const doc_actor staff = {"van", "40", ROLE_STAFF};

static double ms_since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

static int count_one(void *ctx, const char *id, size_t idlen)
{
    (void)id, (void)idlen;
    (*(size_t *)ctx)++;
    return 0;
}

/* How many entries of p's log name exactly the addressee "40*" after the
 * province. */
typedef struct {
    size_t grouped, other;
} to_count;

static int to_one(void *ctx, uint64_t pos, const uint8_t *bytes, size_t len)
{
    (void)pos;
    to_count *c = ctx;
    entry_view v;
    char err[64];
    if (entry_decode(bytes, len, &v, err, sizeof err))
        return 0;
    if (v.coll.size == strlen(DOC_COLL) && !memcmp(v.coll.ptr, DOC_COLL, v.coll.size)) {
        bool grouped = v.to.size == 2 && v.to.ptr[1].via.str.size == 3 &&
                       !memcmp(v.to.ptr[1].via.str.ptr, "40*", 3);
        c->grouped += grouped;
        c->other += !grouped;
    }
    entry_view_free(&v);
    return 0;
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    const char *base = check_tmpdir();
    fx_node p;
    fx_node_make(&p, base, "40", "province", NULL);
    for (int i = 0; i < COMMUNES; i++) {
        fx_node c;
        char code[16];
        snprintf(code, sizeof code, "%d", 20001 + i);
        fx_node_make(&c, base, code, "commune", &p);
        fx_node_free(&c);
    }
    unit_tree *t = unit_tree_new();
    REQUIRE(t && unit_tree_load(t, p.s) == 0);
    documents *d = documents_new(p.s, &p.c);
    REQUIRE(d);

    lt_error e = {0};
    /* 256 distinct words: the most a document's text adds to the index */
    static char words[DOC_BODY_MAX];
    for (int i = 0, n = 0; i < 256; i++)
        n += snprintf(words + n, sizeof words - (size_t)n, "tu%03d ", i);
    json_t *in = json_pack("{s:s, s:s, s:s, s:[s]}", "type", "CV", "subject",
                           "Về việc ứng phó bão số 5", "body", words, "recipients", "40*");
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    json_t *out = documents_create(d, in, NULL, 0, &staff, t, &e);
    double ms = ms_since(&t0);
    CHECKF(out != NULL, "a document to the %d communes of 40 is issued: %s", COMMUNES, e.message);
    printf("a document of 256 words to %d recipients written with its index in %.1f ms\n", COMMUNES,
           ms);
    const char *id = out ? json_string_value(json_object_get(out, "id")) : "none";
    json_t *doc = documents_get(d, id, "20123", t, &e);
    CHECKF(doc && json_array_size(json_object_get(doc, "recipients")) == COMMUNES,
           "commune 20123 sees it, listing the %d communes", COMMUNES);
    json_decref(doc);
    doc_query q = {.box = "in"};
    json_t *l = documents_list(d, "20250", &q, t, &e);
    CHECKF(l && json_integer_value(json_object_get(l, "total")) == 1,
           "it is in commune 20250's in-box");
    json_decref(l);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECKF(documents_recall(d, id, "Nhầm nội dung", &staff, &e) == 0, "recall: %s", e.message);
    printf("its recall (the index rewritten) in %.1f ms\n", ms_since(&t0));
    to_count tc = {0};
    REQUIRE(store_arrivals(p.s, 0, to_one, &tc) >= 0);
    CHECKF(tc.grouped == 2 && tc.other == 0,
           "the record and its recall are addressed to 40 and 40* only (%zu, %zu others)",
           tc.grouped, tc.other);

    /* too large for an entry: refused before a number is taken */
    static char body[DOC_BODY_MAX + 1], subject[DOC_SUBJECT_MAX + 1];
    memset(body, 'a', DOC_BODY_MAX);
    memset(subject, 'b', DOC_SUBJECT_MAX);
    json_object_set_new(in, "body", json_string(body));
    json_object_set_new(in, "subject", json_string(subject));
    json_t *big = documents_create(d, in, NULL, 0, &staff, t, &e);
    CHECKF(!big && !strcmp(e.code, "document.too_large") && strstr(e.message, "250 recipients"),
           "a full body with %d recipients is document.too_large (%s: %s)", COMMUNES, e.code,
           e.message);
    json_decref(big);
    size_t held = 0;
    CHECK(doc_index_walk(p.s, "o", "40", count_one, &held) == 0 && held == 1);
    json_object_set_new(in, "body", json_string("Ngắn"));
    json_t *next = documents_create(d, in, NULL, 0, &staff, t, &e);
    CHECKF(next && json_integer_value(json_object_get(next, "number")) == 2,
           "the next document gets number 2: no number was taken (%s)", e.message);
    json_decref(next);
    json_decref(in);
    json_decref(out);
    documents_free(d);
    unit_tree_free(t);
    fx_node_free(&p);
    return check_done();
}
