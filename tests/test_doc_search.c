/*
 * test_doc_search.c - the search of documents on a real store (LMDB, a
 * real node of tests/node_fixture.h), against the answer computed here
 * from the documents written:
 *   - words (folded: "giao duc" finds "giáo dục"), type, urgency and a
 *     date range, alone and together, give exactly the matching documents
 *     of the box, newest first (by date, then created_at), with their
 *     exact total;
 *   - a page (limit) holds the newest matches and the total still counts
 *     them all;
 *   - past 1,000 matches the count stops: "total" 1000 and "total_exact"
 *     false (the list no longer walks every match);
 *   - changing a document's type and urgency (a patch) moves it in the
 *     index: the old filter no longer finds it, the new one does;
 *   - store_verify rebuilds the index from the records and finds it equal
 *     to the one kept (a pure function of each record).
 */
#include "documents/documents.h"
#include "lib/mpjson.h"
#include "tests/check.h"
#include "tests/node_fixture.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define NDOCS 120
#define MANY 1100

static const char *const types[] = {"CV", "QD", "KH"};
static const char *const urgencies[] = {"thuong", "khan", "hoa_toc"};
static const char *const subjects[] = {"Về giáo dục", "Về đất đai", "Về giáo dục và đất đai",
                                       "Về y tế"};

/* Document i of the test: its type, urgency, date and subject cycle with
 * different periods, so every combination occurs. */
typedef struct {
    char id[32], date[11];
    const char *type, *urgency, *subject;
    long long created_at;
} tdoc;

static tdoc doc_of(size_t i)
{
    tdoc d = {.type = types[i % 3], .urgency = urgencies[i % 5 % 3], .subject = subjects[i % 4]};
    snprintf(d.id, sizeof d.id, "40-2026-T-%zu", i + 1);
    /* dates go back and forth so created_at alone would order them wrong */
    snprintf(d.date, sizeof d.date, "2026-%02zu-%02zu", 1 + i % 6, 1 + i % 28);
    d.created_at = 1780000000000LL + (long long)i * 1000;
    return d;
}

/* Writes documents [from, to) of the province, addressed to 412, as
 * documents_create shapes them; subject overrides the cycle when set. */
static void write_docs(fx_node *n, size_t from, size_t to, const char *subject)
{
    for (size_t i = from; i < to; i++) {
        tdoc d = doc_of(i);
        char notation[32];
        snprintf(notation, sizeof notation, "%zu/%s-UBND", i + 1, d.type);
        json_t *j = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:[s]}", "type",
                              d.type, "number", (json_int_t)(i + 1), "notation", notation,
                              "subject", subject ? subject : d.subject, "unit", "40", "date",
                              d.date, "created_at", (json_int_t)d.created_at, "by", "t", "status",
                              "sent", "urgency", d.urgency, "recipients", "412");
        uint8_t *body;
        size_t len;
        char err[256];
        REQUIRE(mpjson_pack_object(j, &body, &len, err, sizeof err) == 0);
        const char *to_[] = {"40", "412"};
        store_write w = {"documents", d.id, ENTRY_OP_PUT, body, len, to_, 2};
        store_author a = node_author(&n->c);
        REQUIRE(store_write_local(n->s, &a, &w, 1, NULL, err, sizeof err) == 0);
        free(body);
        json_decref(j);
    }
}

/* The expected answer of q over documents [0, NDOCS): ids newest first. */
static size_t expected(const doc_query *q, const char *want_word, tdoc *out)
{
    size_t n = 0;
    for (size_t i = 0; i < NDOCS; i++) {
        tdoc d = doc_of(i);
        if ((q->type && strcmp(q->type, d.type)) || (q->urgency && strcmp(q->urgency, d.urgency)) ||
            (q->from && strcmp(d.date, q->from) < 0) || (q->to && strcmp(d.date, q->to) > 0) ||
            (want_word && !strstr(d.subject, want_word)))
            continue;
        size_t k = n++;
        while (k && (strcmp(out[k - 1].date, d.date) < 0 ||
                     (!strcmp(out[k - 1].date, d.date) && out[k - 1].created_at < d.created_at))) {
            out[k] = out[k - 1];
            k--;
        }
        out[k] = d;
    }
    return n;
}

/* Runs q as province 40 and compares with the expected ids. */
static void check_query(documents *docs, const unit_tree *t, const char *what, const doc_query *q,
                        const char *want_word)
{
    static tdoc want[NDOCS];
    size_t n = expected(q, want_word, want);
    lt_error e = {0};
    json_t *r = documents_list(docs, "40", q, t, &e);
    CHECKF(r != NULL, "%s: %s", what, e.message);
    if (!r)
        return;
    json_t *list = json_object_get(r, "documents");
    size_t page = q->limit && q->limit < n ? q->limit : n;
    CHECKF((size_t)json_integer_value(json_object_get(r, "total")) == n &&
               json_is_true(json_object_get(r, "total_exact")),
           "%s: total %lld (exact %d), want %zu", what,
           (long long)json_integer_value(json_object_get(r, "total")),
           json_is_true(json_object_get(r, "total_exact")), n);
    CHECKF(json_array_size(list) == page, "%s: %zu rows, want %zu", what, json_array_size(list),
           page);
    for (size_t i = 0; i < page && i < json_array_size(list); i++) {
        const char *id = json_string_value(json_object_get(json_array_get(list, i), "id"));
        CHECKF(id && !strcmp(id, want[i].id), "%s: row %zu is %s, want %s", what, i, id ? id : "?",
               want[i].id);
    }
    json_decref(r);
}

/* Patches document id of n with fields. */
static void patch(fx_node *n, const char *id, json_t *fields)
{
    uint8_t *body;
    size_t len;
    char err[256];
    REQUIRE(mpjson_pack_object(fields, &body, &len, err, sizeof err) == 0);
    const char *to_[] = {"40", "412"};
    store_write w = {"documents", id, ENTRY_OP_PATCH, body, len, to_, 2};
    store_author a = node_author(&n->c);
    REQUIRE(store_write_local(n->s, &a, &w, 1, NULL, err, sizeof err) == 0);
    free(body);
    json_decref(fields);
}

static void problem(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "verify: %s\n", msg);
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    const char *base = check_tmpdir();
    fx_node p, d;
    fx_node_make(&p, base, "40", "province", NULL);
    fx_node_make(&d, base, "412", "district", &p);
    unit_tree *t = unit_tree_new();
    REQUIRE(t && unit_tree_load(t, p.s) == 0);
    documents *docs = documents_new(p.s, &p.c);
    REQUIRE(docs);
    write_docs(&p, 0, NDOCS, NULL);

    check_query(docs, t, "the out-box", &(doc_query){.box = "out", .limit = 500}, NULL);
    check_query(docs, t, "folded words", &(doc_query){.box = "out", .q = "giao duc", .limit = 500},
                "giáo dục");
    check_query(docs, t, "a type", &(doc_query){.box = "out", .type = "QD", .limit = 500}, NULL);
    check_query(docs, t, "an urgency",
                &(doc_query){.box = "out", .urgency = "hoa_toc", .limit = 500}, NULL);
    check_query(docs, t, "a date range",
                &(doc_query){.box = "out", .from = "2026-02-10", .to = "2026-04-05", .limit = 500},
                NULL);
    check_query(docs, t, "words, type, urgency and dates",
                &(doc_query){.box = "out",
                             .q = "ĐẤT ĐAI",
                             .type = "KH",
                             .urgency = "thuong",
                             .from = "2026-02-01",
                             .to = "2026-05-31",
                             .limit = 500},
                "đất đai");
    check_query(docs, t, "a page of 7", &(doc_query){.box = "out", .type = "CV", .limit = 7}, NULL);

    /* a patch moves the document in the index */
    tdoc d0 = doc_of(0); /* CV, thuong */
    patch(&p, d0.id, json_pack("{s:s, s:s}", "type", "KH", "urgency", "hoa_toc"));
    lt_error e = {0};
    json_t *r = documents_list(
        docs, "40", &(doc_query){.box = "out", .type = "CV", .q = "1/CV", .limit = 500}, t, &e);
    CHECKF(r && json_integer_value(json_object_get(r, "total")) == 0,
           "after the patch type=CV no longer finds %s", d0.id);
    json_decref(r);
    r = documents_list(docs, "40",
                       &(doc_query){.box = "out", .type = "KH", .urgency = "hoa_toc", .q = "1/CV"},
                       t, &e);
    CHECKF(r && json_integer_value(json_object_get(r, "total")) == 1,
           "after the patch type=KH&urgency=hoa_toc finds %s", d0.id);
    json_decref(r);

    /* the count stops at 1,000 */
    write_docs(&p, NDOCS, NDOCS + MANY, "Thông báo chung");
    r = documents_list(docs, "40", &(doc_query){.box = "out", .q = "thong bao", .limit = 10}, t,
                       &e);
    CHECKF(r && json_array_size(json_object_get(r, "documents")) == 10 &&
               json_integer_value(json_object_get(r, "total")) == 1000 &&
               json_is_false(json_object_get(r, "total_exact")),
           "1,100 matches: a page of 10, total 1000, not exact (%s)",
           r ? json_dumps(json_object_get(r, "total"), JSON_ENCODE_ANY) : e.message);
    json_decref(r);

    char err[256];
    long problems = store_verify(p.s, check_tmpdir(), problem, NULL, err, sizeof err);
    CHECKF(problems == 0, "store_verify rebuilds the same index (%ld problems, %s)", problems, err);

    documents_free(docs);
    unit_tree_free(t);
    fx_node_free(&d);
    fx_node_free(&p);
    return check_done();
}
