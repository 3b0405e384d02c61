/*
 * report_code.c - tracking codes: "<unit>-<N>", N from the node-local
 * counter report_codes/next (never reused: the counter is raised before
 * a number is handed out, so a failed write or a restart only skips
 * numbers). The counter is raised by CODE_BLOCK at a time in one LMDB
 * write transaction (store_local_add), and the block is handed out from
 * memory under code_lock: a creation costs one durable transaction (its
 * report), not two, and two creations at once (the daemon creates reports
 * on the uv thread pool), or two processes on one store, never share a
 * number. A number whose report exists already (an import of codes
 * raised the counter past a block another process held) is skipped.
 */
#include "reports/reports_internal.h"

#include <stdio.h>
#include <stdlib.h>

#define CODE_BLOCK 64

/* The next number of r's block, reserving a new block when it is used up. */
static int code_take(reports *r, uint64_t *n, char *err, size_t errlen)
{
    uv_mutex_lock(&r->code_lock);
    if (r->code_next == r->code_end) {
        uint64_t end;
        if (store_local_add(r->s, "report_codes", "next", 4, CODE_BLOCK, &end, err, errlen)) {
            uv_mutex_unlock(&r->code_lock);
            return -1;
        }
        r->code_next = end - CODE_BLOCK + 1;
        r->code_end = end + 1;
    }
    *n = r->code_next++;
    uv_mutex_unlock(&r->code_lock);
    return 0;
}

int report_code_next(reports *r, char code[REPORT_CODE_MAX], char *err, size_t errlen)
{
    for (;;) {
        uint64_t n;
        if (code_take(r, &n, err, errlen))
            return -1;
        snprintf(code, REPORT_CODE_MAX, "%s-%llu", r->c->unit, (unsigned long long)n);
        for (char *p = code; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
        uint8_t *rec;
        size_t len;
        int got = store_record_get(r->s, REPORT_COLL, code, &rec, &len);
        if (got < 0) {
            snprintf(err, errlen, "cannot read the reports of this node's store; retry");
            return -1;
        }
        if (got == 1)
            return 0;
        free(rec);
    }
}

void report_code_forget(reports *r)
{
    uv_mutex_lock(&r->code_lock);
    r->code_next = r->code_end;
    uv_mutex_unlock(&r->code_lock);
}
