/*
 * escalation.c - the overdue sweep: level k of an open report past its
 * deadline falls due at deadline + (k-1) * (deadline - received) and
 * targets the k-th ancestor of the owner. A node writes the escalation
 * only when its own unit is the target (it is an ancestor of the owner, so
 * it has write authority even while the owner's node is offline), and
 * writes the highest level due for it, so a province escalates even when
 * the district in between never did. Candidates come from the
 * open-deadline index (report_query_overdue), so a sweep costs the overdue
 * reports, not all of them.
 */
#include "lib/log.h"
#include "reports/reports_internal.h"
#include "storage/record.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    char (*codes)[REPORT_CODE_MAX];
    size_t n, cap;
} code_list;

static int collect(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    code_list *l = ctx;
    char st[32];
    uint64_t deadline;
    if (idlen >= REPORT_CODE_MAX || record_is_deleted(rec, len) ||
        record_field_str(rec, len, "status", st, sizeof st) ||
        record_field_u64(rec, len, "deadline_ms", &deadline) || !deadline ||
        !report_status_open(st))
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char(*c)[REPORT_CODE_MAX] = realloc(l->codes, cap * sizeof *c);
        if (!c)
            return -1;
        l->codes = c;
        l->cap = cap;
    }
    memcpy(l->codes[l->n], id, idlen);
    l->codes[l->n++][idlen] = '\0';
    return 0;
}

/* The level this node should write for rec at now, or 0. */
static size_t due_level(reports *r, const json_t *rec, uint64_t now)
{
    uint64_t deadline = (uint64_t)json_integer_value(json_object_get(rec, "deadline_ms"));
    uint64_t received = (uint64_t)json_integer_value(json_object_get(rec, "received_ms"));
    size_t level = (size_t)json_integer_value(json_object_get(rec, "escalation_level"));
    const json_t *path = json_object_get(rec, "owner_path");
    size_t depth = json_array_size(path), best = 0;
    uint64_t span = deadline > received ? deadline - received : 0;
    if (!deadline || now <= deadline || depth < 2)
        return 0;
    for (size_t k = level + 1; k < depth; k++) {
        if (now < deadline + (k - 1) * span)
            break;
        if (!strcmp(json_string_value(json_array_get(path, depth - 1 - k)), r->c->unit))
            best = k;
    }
    return best;
}

static uint64_t sweep_clock(void *ctx)
{
    return *(const uint64_t *)ctx;
}

/* Escalates report code when a level is due for this node at now: loads
 * it, decides and writes under the context's lock (history times are the
 * sweep's). Returns 0, or -1 with *e (the kind of the failed action). */
static int sweep_one(reports *r, const char *code, uint64_t now_ms, size_t *escalated, lt_error *e)
{
    reports_lock(r);
    uint64_t (*saved)(void *) = r->now;
    void *saved_ctx = r->now_ctx;
    reports_set_clock(r, sweep_clock, &now_ms);
    int status, rc = 0;
    json_t *rec = report_load(r, code, &status);
    size_t k = rec ? due_level(r, rec, now_ms) : 0;
    if (k) {
        json_t *act = json_pack("{s:s, s:I, s:s, s:s}", "action", "escalate", "level",
                                (json_int_t)k, "unit", r->c->unit, "note", "overdue");
        lt_error why;
        status = report_action(r, rec, code, act, NULL, true, &why);
        json_decref(act);
        if (status) {
            lt_error_set(e, why.kind, why.code, "escalating %s: %s", code, why.message);
            log_write(LOG_WARN, "report.escalate_failed", "code=%s error=\"%s\" kind=%s", code,
                      why.message, lt_error_code(&why));
            rc = -1;
        } else {
            (*escalated)++;
            log_write(LOG_INFO, "report.escalated", "code=%s level=%zu unit=%s owner=%s", code, k,
                      r->c->unit, report_str(rec, "owner_unit"));
        }
    }
    json_decref(rec);
    reports_set_clock(r, saved, saved_ctx);
    reports_unlock(r);
    return rc;
}

/* The candidates are read without the context's lock (a store read), and
 * each report takes it only for its own decision and write, so a long
 * sweep on a pool thread never holds the loop's report calls for long. */
int reports_sweep(reports *r, uint64_t now_ms, size_t *escalated, lt_error *e)
{
    code_list l = {0};
    *escalated = 0;
    if (report_query_overdue(r->s, now_ms, collect, &l) < 0) {
        free(l.codes);
        return lt_error_set(e, LT_ESTORAGE, NULL, "cannot read the reports; check the node's disk");
    }
    int rc = 0;
    for (size_t i = 0; i < l.n; i++)
        if (sweep_one(r, l.codes[i], now_ms, escalated, e))
            rc = -1;
    free(l.codes);
    return rc;
}
