/*
 * demo_data.c - the demo network's sample records. See demo_data.h.
 */
#include "cli/demo_data.h"
#include "lib/mpjson.h"
#include "lib/splitmix.h"
#include "node/domains.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_MAX_ROWS 64

typedef struct {
    store_write w[DEMO_MAX_ROWS];
    uint8_t *bodies[DEMO_MAX_ROWS];
    char ids[DEMO_MAX_ROWS][48];
    size_t n;
} demo_batch;

static int demo_add(demo_batch *b, const char *coll, json_t *body, const char *const *to,
                    size_t nto, char *err, size_t errlen)
{
    size_t len;
    if (b->n == DEMO_MAX_ROWS) {
        json_decref(body);
        snprintf(err, errlen, "too many demo rows");
        return -1;
    }
    int rc = mpjson_pack_object(body, &b->bodies[b->n], &len, err, errlen);
    json_decref(body);
    if (rc)
        return -1;
    b->w[b->n] = (store_write){coll, b->ids[b->n], ENTRY_OP_PUT, b->bodies[b->n], len, to, nto};
    b->n++;
    return 0;
}

static int demo_documents(demo_batch *b, const node_config *c, char *err, size_t errlen)
{
    static const char *const everyone[] = {"*"};
    static const struct {
        const char *number, *kind, *subject;
    } docs[] = {
        {"129/QĐ-UBND", "decision", "Phê duyệt Đề án xây dựng đô thị thông minh"},
        {"56/KH-UBND", "plan", "Kế hoạch chuyển đổi số năm 2023"},
        {"1021/UBND-KGVX", "dispatch", "Đôn đốc xử lý phản ánh hiện trường quá hạn"},
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        snprintf(b->ids[b->n], sizeof b->ids[0], "%s", docs[i].number);
        json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "number", docs[i].number, "kind",
                              docs[i].kind, "subject", docs[i].subject, "issuer", c->unit, "date",
                              "2023-03-15", "signed", 1);
        if (demo_add(b, "documents", d, everyone, 1, err, errlen))
            return -1;
    }
    return 0;
}

int demo_data_write(const node_config *c, store *s, char *err, size_t errlen)
{
    demo_batch *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    uint64_t rng = 0;
    for (const char *p = c->unit; *p; p++)
        rng = rng * 131 + (uint8_t)*p;
    int rc = 0;
    if (c->root)
        rc = demo_documents(b, c, err, errlen);
    if (!rc) {
        store_author a = node_author(c);
        rc = b->n ? store_write_local(s, &a, b->w, b->n, NULL, err, errlen) : 0;
    }
    if (!rc)
        rc = domains_demo_seed(s, c, &rng, err, errlen);
    for (size_t i = 0; i < b->n; i++)
        free(b->bodies[i]);
    free(b);
    return rc;
}
