/*
 * report_code.c - tracking codes: "<unit>-<N>", N from the node-local
 * counter report_codes/next (never reused: the counter is raised before
 * the code is handed out, so a failed write only skips a number).
 */
#include "reports/reports_internal.h"

#include <stdio.h>
#include <stdlib.h>

int report_code_next(reports *r, char code[REPORT_CODE_MAX], char *err, size_t errlen)
{
    uint8_t *val;
    size_t vlen;
    unsigned long long n = 0;
    int rc = store_local_get(r->s, "report_codes", "next", 4, &val, &vlen);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read the report counter; check the node's disk");
        return -1;
    }
    if (rc == 0) {
        n = strtoull((const char *)val, NULL, 10);
        free(val);
    }
    char next[24];
    int len = snprintf(next, sizeof next, "%llu", n + 1);
    if (store_local_put(r->s, "report_codes", "next", 4, next, (size_t)len, err, errlen))
        return -1;
    snprintf(code, REPORT_CODE_MAX, "%s-%llu", r->c->unit, n + 1);
    for (char *p = code; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    return 0;
}
