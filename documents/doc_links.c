/*
 * doc_links.c - update (edXML status 15) and replacement (16) of a sent
 * document: the new document names the old one ("updates" or "replaces"),
 * the old one is patched in the same transaction with its new status and
 * the link back, addressed to its own recipients (docs/documents.md,
 * "Update and replace").
 */
#include "documents/doc_internal.h"
#include "lib/mpjson.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *field, *status, *code, *back;
} kinds[] = {
    {"updates", "updated", "15", "updated_by"},
    {"replaces", "replaced", "16", "replaced_by"},
};

int doc_link_check(documents *d, json_t *in, doc_link *l, lt_error *e)
{
    memset(l, 0, sizeof *l);
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        const json_t *v = json_object_get(in, kinds[k].field);
        if (!v || json_is_null(v))
            continue;
        if (l->old_id || !json_is_string(v) || !json_string_length(v))
            return lt_error_set(e, LT_EINVAL, "document.field",
                                "%s must be the id of one document (a document either updates "
                                "or replaces one, not both)",
                                kinds[k].field);
        l->kind = k;
        l->old_id = json_string_value(v);
    }
    if (!l->old_id)
        return 0;
    int why;
    l->old = doc_load(d, l->old_id, &why);
    const char *unit = doc_str(l->old, "unit"), *src = doc_str(l->old, "source"),
               *st = doc_str(l->old, "status");
    int rc = 0;
    if (!l->old)
        rc = why < 0 ? lt_error_set(e, LT_ESTORAGE, NULL, "cannot read document %s", l->old_id)
                     : (doc_not_found(l->old_id, e), -1);
    else if (strcmp(unit, d->c->unit) || (src && !strcmp(src, "edxml")))
        rc = lt_error_set(e, LT_EFORBIDDEN, "document.forbidden",
                          "only unit %s, which issued %s, may update or replace it", unit,
                          l->old_id);
    else if (st && (!strcmp(st, "recalled") || !strcmp(st, "replaced")))
        rc = lt_error_set(e, LT_ECONFLICT, "document.superseded",
                          "document %s is %s already: update or replace the document in force "
                          "(%s)",
                          l->old_id, st,
                          doc_str(l->old, "replaced_by") ? doc_str(l->old, "replaced_by") : "none");
    if (!rc && !json_object_get(in, "recipients")) /* the old document's, by default */
        json_object_set_new(in, "recipients", doc_group_named(l->old));
    if (rc) {
        json_decref(l->old);
        l->old = NULL;
    }
    return rc;
}

void doc_link_record(const doc_link *l, json_t *rec)
{
    if (l->old)
        json_object_set_new(rec, kinds[l->kind].field, json_string(l->old_id));
}

int doc_link_write(documents *d, doc_link *l, const char *new_id, const doc_actor *who,
                   doc_writes *w, lt_error *e)
{
    if (!l->old)
        return 0;
    json_t *p = json_pack("{s:s, s:s, s:I, s:s}", "status", kinds[l->kind].status, "status_code",
                          kinds[l->kind].code, "superseded_at", (json_int_t)d->now_ms(d->now_ctx),
                          "superseded_by_user", who->user);
    if (l->kind == 0) { /* updates: the list of corrections grows */
        const json_t *was = json_object_get(l->old, "updated_by");
        json_t *list = json_is_array(was) ? json_deep_copy(was) : json_array();
        json_array_append_new(list, json_string(new_id));
        json_object_set_new(p, "updated_by", list);
    } else {
        json_object_set_new(p, "replaced_by", json_string(new_id));
    }
    uint8_t *body = NULL;
    size_t len = 0;
    int rc = mpjson_pack_object(p, &body, &len, e->message, sizeof e->message);
    json_decref(p);
    if (rc)
        return lt_error_mark(e, LT_EINVAL, "document.field");
    l->nto = doc_to(l->old, l->to);
    if (doc_writes_add(w, DOC_COLL, l->old_id, ENTRY_OP_PATCH, body, len, l->to, l->nto))
        return lt_error_set(e, LT_EUNAVAILABLE, NULL, "out of memory; retry later");
    return 0;
}

void doc_link_free(doc_link *l)
{
    json_decref(l->old);
    l->old = NULL;
}
