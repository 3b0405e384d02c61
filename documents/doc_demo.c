/*
 * doc_demo.c - the demo network's sample documents, issued through the
 * domain (doc_demo.h).
 */
#include "documents/doc_demo.h"
#include "documents/documents.h"
#include "replication/unit_tree.h"
#include "storage/hlc.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

typedef struct {
    const char *tier, *type, *subject, *body, *urgency, *recipients[2];
    int due_days; /* 0: none */
} demo_doc;

static const demo_doc demo_docs[] = {
    {"province",
     "KH",
     "Kế hoạch chuyển đổi số năm 2026",
     "Triển khai nền tảng điều hành thông minh đến cấp xã.",
     "thuong",
     {"412"},
     0},
    {"province",
     "QD",
     "Phê duyệt Đề án xây dựng đô thị thông minh tỉnh Nghệ An",
     "Phê duyệt Đề án kèm theo Quyết định này.",
     "thuong",
     {"412"},
     0},
    {"province",
     "CV",
     "Đôn đốc xử lý phản ánh hiện trường quá hạn",
     "Đề nghị các huyện, thành phố xử lý dứt điểm các phản ánh quá hạn.",
     "khan",
     {"40*district"},
     -3},
    {"district",
     "CV",
     "Triển khai phòng chống lụt bão",
     "Đề nghị các xã, phường chủ động ứng phó với mưa lớn.",
     "hoa_toc",
     {"412*"},
     5},
    {"district",
     "TB",
     "Thông báo lịch tiếp công dân tháng này",
     "Lịch tiếp công dân kèm theo.",
     "thuong",
     {"16681"},
     0},
    {"commune",
     "BC",
     "Báo cáo kết quả xử lý phản ánh hiện trường",
     "Phường đã xử lý 24 phản ánh, 2 phản ánh đang xử lý.",
     "thuong",
     {"412"},
     10},
};

/* The official of node c: a leader account with a certified signing key. */
static int demo_official(store *s, documents *d, const node_config *c, char *err, size_t errlen)
{
    account a = {.role = ROLE_LEADER, .created_ms = hlc_wall_ms()};
    snprintf(a.name, sizeof a.name, "%s", DOC_DEMO_OFFICIAL);
    snprintf(a.unit, sizeof a.unit, "%s", c->unit);
    if (account_hash_password(DOC_DEMO_PASSWORD, strlen(DOC_DEMO_PASSWORD), a.hash)) {
        snprintf(err, errlen, "out of memory hashing the demo official's password");
        return -1;
    }
    char cert[DOC_CERT_ID_MAX];
    lt_error e = {0};
    const char *position =
        node_tier_index(c, c->tier) == 1 ? "Chủ tịch UBND tỉnh" : "Chủ tịch UBND thành phố";
    if (account_put(s, &a, err, errlen))
        return -1;
    if (documents_signer_add(d, DOC_DEMO_OFFICIAL, position, DOC_DEMO_PASSWORD,
                             strlen(DOC_DEMO_PASSWORD), cert, &e)) {
        snprintf(err, errlen, "demo signer: %s", e.message);
        return -1;
    }
    return 0;
}

/* Issues dd as staff of c (and signs it when signer), due in due_days. */
static int demo_issue(documents *d, const node_config *c, const unit_tree *t, const demo_doc *dd,
                      bool signer, char *err, size_t errlen)
{
    json_t *rcp = json_array();
    for (size_t i = 0; i < 2 && dd->recipients[i]; i++)
        json_array_append_new(rcp, json_string(dd->recipients[i]));
    json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:o}", "type", dd->type, "subject", dd->subject,
                           "body", dd->body, "urgency", dd->urgency, "recipients", rcp);
    if (dd->due_days) {
        char due[16];
        time_t when = (time_t)(hlc_wall_ms() / 1000) + 7 * 3600 + (time_t)dd->due_days * 86400;
        struct tm tm;
        gmtime_r(&when, &tm);
        strftime(due, sizeof due, "%Y-%m-%d", &tm);
        json_object_set_new(in, "due", json_string(due));
    }
    doc_actor who = {signer ? DOC_DEMO_OFFICIAL : "admin", c->unit, ROLE_LEADER};
    lt_error e = {0};
    json_t *out = documents_create(d, in, NULL, 0, &who, t, &e);
    json_decref(in);
    int rc = out && signer ? documents_sign(d, json_string_value(json_object_get(out, "id")),
                                            DOC_DEMO_OFFICIAL, DOC_DEMO_PASSWORD,
                                            strlen(DOC_DEMO_PASSWORD), &e)
             : out         ? 0
                           : -1;
    if (rc)
        snprintf(err, errlen, "demo document \"%s\": %s", dd->subject, e.message);
    json_decref(out);
    return rc;
}

int documents_demo_seed(store *s, const node_config *c, uint64_t *rng, char *err, size_t errlen)
{
    (void)rng;
    int tier = node_tier_index(c, c->tier);
    if (tier < 1 || !c->enrolled)
        return 0; /* the national node issues none in the demo */
    documents *d = documents_new(s, c);
    unit_tree *t = unit_tree_new();
    int rc = !d || !t || unit_tree_load(t, s) ? -1 : 0;
    if (rc)
        snprintf(err, errlen, "out of memory or unreadable unit tree seeding documents");
    bool signer = tier < (int)c->ntiers - 1;
    if (!rc && signer)
        rc = demo_official(s, d, c, err, errlen);
    for (size_t i = 0; !rc && i < sizeof demo_docs / sizeof *demo_docs; i++)
        if (!strcmp(demo_docs[i].tier, c->tier))
            rc = demo_issue(d, c, t, &demo_docs[i], signer, err, errlen);
    unit_tree_free(t);
    documents_free(d);
    return rc;
}
