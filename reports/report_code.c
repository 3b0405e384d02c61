/*
 * report_code.c - tracking codes: "<unit>-<N>", N from the node-local
 * counter report_codes/next (never reused: the counter is raised before
 * the code is handed out, so a failed write only skips a number), raised
 * in one LMDB write transaction (store_local_incr), so two creations at
 * once (the daemon creates reports on the uv thread pool) never share a
 * number.
 */
#include "reports/reports_internal.h"

#include <stdio.h>

int report_code_next(reports *r, char code[REPORT_CODE_MAX], char *err, size_t errlen)
{
    uint64_t n;
    if (store_local_incr(r->s, "report_codes", "next", 4, &n, err, errlen))
        return -1;
    snprintf(code, REPORT_CODE_MAX, "%s-%llu", r->c->unit, (unsigned long long)n);
    for (char *p = code; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    return 0;
}
