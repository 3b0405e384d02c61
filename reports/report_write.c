/*
 * report_write.c - the one writer of report entries: write authority
 * checked first, the changed fields plus a uniquely named history item,
 * addressing [area_unit, owner_unit], a snapshot of the whole record when
 * the report reaches a unit that did not hold it, photo chunks in the same
 * transaction.
 */
#include "lib/hex.h"
#include "lib/mpjson.h"
#include "reports/reports_internal.h"
#include "storage/hlc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define OWNERS_MAX 16

typedef struct {
    char units[OWNERS_MAX][NODE_CODE_MAX];
    size_t n;
} owner_set;

static int owner_one(void *ctx, bool owner, const char *unit)
{
    owner_set *o = ctx;
    if (owner && o->n < OWNERS_MAX && strlen(unit) < NODE_CODE_MAX)
        strcpy(o->units[o->n++], unit);
    return 0;
}

int report_authority(reports *r, const char *code, lt_error *e)
{
    owner_set o = {.n = 0};
    int rc = store_record_scope(r->s, REPORT_COLL, code, owner_one, &o);
    if (rc == 1)
        return 0; /* a new report: the node's own */
    if (rc < 0)
        return lt_error_set(e, LT_ESTORAGE, NULL,
                            "cannot read the owners of report %s; check the node's disk", code);
    char list[OWNERS_MAX * (NODE_CODE_MAX + 2)] = "";
    for (size_t i = 0; i < o.n; i++) {
        if (reports_within(r, o.units[i], r->c->unit))
            return 0;
        if (i)
            strcat(list, ", ");
        strcat(list, o.units[i]);
    }
    return lt_error_set(e, LT_EFORBIDDEN, "report.authority",
                        "this node (unit %s) may not change report %s: only units %s and the units "
                        "above them may; act on one of their nodes",
                        r->c->unit, code, list);
}

/* Puts the record's owner set into body["owners"]: the new unit's node
 * never holds the first put, and without the owners it would refuse the
 * entries of the units that own the report (storage/authority.h). */
static int owners_json(reports *r, const char *code, json_t *body, lt_error *e)
{
    owner_set o = {.n = 0};
    if (store_record_scope(r->s, REPORT_COLL, code, owner_one, &o) < 0)
        return lt_error_set(e, LT_ESTORAGE, NULL,
                            "cannot read the owners of report %s; check the node's disk", code);
    json_t *arr = json_array();
    for (size_t i = 0; i < o.n; i++)
        json_array_append_new(arr, json_string(o.units[i]));
    json_object_set_new(body, "owners", arr);
    return 0;
}

size_t report_addressees(const json_t *rec, const char *to[2])
{
    size_t n = 0;
    const char *area = report_str(rec, "area_unit"), *owner = report_str(rec, "owner_unit");
    if (*area)
        to[n++] = area;
    if (*owner && strcmp(owner, area))
        to[n++] = owner;
    return n;
}

/* (reports_internal.h) */
void report_history_name(reports *r, const json_t *cur, char *out, size_t cap)
{
    hlc_t max = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)cur, k, v)
    {
        if (strncmp(k, "h/", 2))
            continue;
        hlc_t t = strtoull(k + 2, NULL, 16);
        if (t > max)
            max = t;
    }
    char origin[17];
    hex_encode(r->c->pk, 4, origin);
    snprintf(out, cap, "h/%016" PRIx64 "/%s", hlc_next(max, reports_now(r)), origin);
}

/* Drops the oldest history item of body that is not keep; false when none. */
static bool history_drop_oldest(json_t *body, const char *keep)
{
    const char *oldest = NULL, *k;
    json_t *v;
    json_object_foreach(body, k, v) if (!strncmp(k, "h/", 2) && strcmp(k, keep) &&
                                        (!oldest || strcmp(k, oldest) < 0)) oldest = k;
    if (!oldest)
        return false;
    json_object_del(body, oldest);
    return true;
}

int report_write(reports *r, const char *code, const json_t *cur, json_t *fields, json_t *hist,
                 bool snapshot, write_list *extra, lt_error *e)
{
    if (report_authority(r, code, e))
        return -1;
    json_t *body = snapshot && cur ? json_deep_copy(cur) : json_object();
    json_object_del(body, "id");
    if (snapshot && cur && owners_json(r, code, body, e)) {
        json_decref(body);
        return -1;
    }
    json_object_update(body, fields);
    char hname[64] = "";
    if (hist) {
        report_history_name(r, cur ? cur : body, hname, sizeof hname);
        json_object_set(body, hname, hist);
    }
    json_t *after = cur ? json_deep_copy(cur) : json_object();
    json_object_update(after, fields);
    const char *to[2];
    size_t nto = report_addressees(after, to);
    uint8_t *bytes = NULL;
    size_t len = 0;
    for (;;) {
        free(bytes);
        if (mpjson_pack_object(body, &bytes, &len, e->message, sizeof e->message)) {
            json_decref(body);
            json_decref(after);
            return lt_error_mark(e, LT_EINVAL, "report.field_invalid");
        }
        if (len + 1024 <= ENTRY_MAX_BYTES || !history_drop_oldest(body, hname))
            break;
    }
    size_t n = 1 + (extra ? extra->n : 0);
    store_write *w = calloc(n, sizeof *w);
    int rc = -1;
    if (w) {
        w[0] = (store_write){REPORT_COLL, code, cur ? ENTRY_OP_PATCH : ENTRY_OP_PUT, bytes, len,
                             to,          nto};
        for (size_t i = 1; i < n; i++)
            w[i] = extra->w[i - 1];
        store_author a = node_author(r->c);
        rc = store_write_local(r->s, &a, w, n, NULL, e->message, sizeof e->message);
        if (rc)
            lt_error_mark(e, store_write_errkind(rc),
                          rc == STORE_REFUSED ? "report.authority" : NULL);
    } else {
        lt_error_set(e, LT_EINTERNAL, NULL, "out of memory writing report %s", code);
    }
    free(w);
    free(bytes);
    json_decref(body);
    json_decref(after);
    return rc ? -1 : 0;
}
