/*
 * doc_types.c - the document types (loại văn bản): built-in defaults and
 * the replicated list DOC_TYPE_COLL that an admin of a top-tier node
 * writes (a record adds a type or replaces a default), read by every node
 * (docs/documents.md, "Types").
 */
#include "documents/doc_internal.h"
#include "node/people/access.h"
#include "storage/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *code, *symbol, *vi, *en;
} builtin[] = {
    {"QD", "QĐ", "Quyết định", "Decision"},
    {"CT", "CT", "Chỉ thị", "Directive"},
    {"KH", "KH", "Kế hoạch", "Plan"},
    {"CV", "CV", "Công văn", "Official letter"},
    {"TB", "TB", "Thông báo", "Notice"},
    {"BC", "BC", "Báo cáo", "Report"},
    {"TTr", "TTr", "Tờ trình", "Submission"},
    {"GM", "GM", "Giấy mời", "Invitation"},
    {"NQ", "NQ", "Nghị quyết", "Resolution"},
    {"HD", "HD", "Hướng dẫn", "Guidance"},
    {"CTr", "CTr", "Chương trình", "Programme"},
    {"BB", "BB", "Biên bản", "Minutes"},
};

const char *const *documents_top_tier_collections(size_t *n)
{
    static const char *const colls[] = {DOC_TYPE_COLL};
    *n = 1;
    return colls;
}

static void type_set(doc_type *t, const char *code, const char *symbol, const char *vi,
                     const char *en, bool active)
{
    snprintf(t->code, sizeof t->code, "%s", code);
    snprintf(t->symbol, sizeof t->symbol, "%s", symbol ? symbol : code);
    snprintf(t->vi, sizeof t->vi, "%s", vi ? vi : code);
    snprintf(t->en, sizeof t->en, "%s", en ? en : "");
    t->active = active;
}

/* The replicated record of type code (new reference), or NULL. */
static json_t *type_record(documents *d, const char *code)
{
    uint8_t *rec;
    size_t len;
    if (store_record_get(d->s, DOC_TYPE_COLL, code, &rec, &len))
        return NULL;
    json_t *j =
        record_is_deleted(rec, len) ? NULL : record_to_json(rec, len, code, strlen(code), NULL, 0);
    free(rec);
    return j;
}

/* Fills t from record j of type code. */
static void type_from(doc_type *t, const char *code, const json_t *j)
{
    const json_t *a = json_object_get(j, "active");
    type_set(t, code, doc_str(j, "symbol"), doc_str(j, "name_vi"), doc_str(j, "name_en"),
             !json_is_false(a));
}

typedef struct {
    documents *d;
    const char *want; /* a code or a Vietnamese name to find, or NULL */
    doc_type *found;
    bool hit;
    json_t *list; /* or the whole list */
} types_ctx;

static void types_visit(types_ctx *c, const doc_type *t, const char *source)
{
    if (c->list)
        json_array_append_new(c->list, json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "code", t->code,
                                                 "symbol", t->symbol, "name_vi", t->vi, "name_en",
                                                 t->en, "active", t->active, "source", source));
    else if (!c->hit && t->active && (!strcmp(t->code, c->want) || !strcmp(t->vi, c->want))) {
        *c->found = *t;
        c->hit = true;
    }
}

static int types_stored(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    types_ctx *c = ctx;
    char code[DOC_TYPE_CODE_MAX + 1];
    if (record_is_deleted(rec, len) || idlen > DOC_TYPE_CODE_MAX)
        return 0;
    memcpy(code, id, idlen);
    code[idlen] = '\0';
    for (size_t i = 0; i < sizeof builtin / sizeof *builtin; i++)
        if (!strcmp(builtin[i].code, code))
            return 0; /* a default replaced: visited with the defaults */
    json_t *j = record_to_json(rec, len, id, idlen, NULL, 0);
    doc_type t;
    if (j) {
        type_from(&t, code, j);
        types_visit(c, &t, "network");
    }
    json_decref(j);
    return 0;
}

/* Visits every type: the defaults (as replaced by a record), then the
 * types the network added. */
static int types_walk(types_ctx *c)
{
    for (size_t i = 0; i < sizeof builtin / sizeof *builtin; i++) {
        doc_type t;
        json_t *j = type_record(c->d, builtin[i].code);
        if (j)
            type_from(&t, builtin[i].code, j);
        else
            type_set(&t, builtin[i].code, builtin[i].symbol, builtin[i].vi, builtin[i].en, true);
        types_visit(c, &t, j ? "network" : "builtin");
        json_decref(j);
    }
    return store_records(c->d->s, DOC_TYPE_COLL, types_stored, c) < 0 ? -1 : 0;
}

bool doc_type_find(documents *d, const char *code, doc_type *out)
{
    types_ctx c = {.d = d, .want = code, .found = out};
    return code && *code && !types_walk(&c) && c.hit;
}

json_t *documents_types(documents *d)
{
    types_ctx c = {.d = d, .list = json_array()};
    types_walk(&c);
    return c.list;
}

/* True when s is 1..max bytes with no character of bad. */
static bool text_ok(const char *s, size_t max, const char *bad)
{
    return s && *s && strlen(s) <= max && !strpbrk(s, bad);
}

static int type_check(const char *code, const json_t *in, lt_error *e)
{
    size_t n = code ? strlen(code) : 0;
    bool code_ok = n && n <= DOC_TYPE_CODE_MAX;
    for (size_t i = 0; code_ok && i < n; i++)
        code_ok = (code[i] >= 'A' && code[i] <= 'Z') || (code[i] >= 'a' && code[i] <= 'z');
    if (!code_ok)
        return lt_error_set(e, LT_EINVAL, "document.type_field",
                            "the type code must be 1 to %d Latin letters, e.g. NQ (it is part of "
                            "document ids)",
                            DOC_TYPE_CODE_MAX);
    const json_t *a = json_object_get(in, "active");
    if (!json_is_object(in) || !text_ok(doc_str(in, "symbol"), 16, "/- ") ||
        !text_ok(doc_str(in, "name_vi"), 128, "\n") ||
        (json_object_get(in, "name_en") && !text_ok(doc_str(in, "name_en"), 128, "\n")) ||
        (a && !json_is_boolean(a)))
        return lt_error_set(e, LT_EINVAL, "document.type_field",
                            "send {\"symbol\": \"NQ\", \"name_vi\": \"Nghị quyết\", \"name_en\": "
                            "\"Resolution\", \"active\": true}: symbol (in notations, at most 16 "
                            "bytes, no '/', '-' or space) and name_vi are required");
    return 0;
}

/* May who define document types on this node: an admin of its unit, on a
 * node at most tiers-3 levels below the root (the rule apply enforces). */
static int type_writer_check(documents *d, const doc_actor *who, lt_error *e)
{
    int tier = node_tier_index(d->c, d->c->tier),
        max = d->c->ntiers > 3 ? (int)d->c->ntiers - 3 : 0;
    if (!access_is_node_admin(who->unit, who->role, d->c->unit))
        return lt_error_set(e, LT_EFORBIDDEN, "auth.admin_required",
                            "only an admin of unit %s defines document types on this node; your "
                            "account is %s of unit %s",
                            d->c->unit, account_role_name(who->role), who->unit);
    if (tier > max)
        return lt_error_set(e, LT_EFORBIDDEN, "top_tier.required",
                            "document types are defined at the top tiers only; this node is "
                            "tier %s: ask an admin of the province or national node",
                            d->c->tier);
    return 0;
}

int documents_type_put(documents *d, const char *code, const json_t *in, const doc_actor *who,
                       lt_error *e)
{
    if (type_writer_check(d, who, e) || type_check(code, in, e))
        return -1;
    const json_t *a = json_object_get(in, "active");
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "code", code, "symbol",
                            doc_str(in, "symbol"), "name_vi", doc_str(in, "name_vi"), "name_en",
                            doc_str(in, "name_en") ? doc_str(in, "name_en") : "", "active",
                            !json_is_false(a), "by", who->user);
    const char *to[] = {"*"};
    int rc = doc_write(d, DOC_TYPE_COLL, code, ENTRY_OP_PUT, rec, to, 1, e);
    json_decref(rec);
    return rc;
}
