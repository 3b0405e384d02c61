/*
 * documents.c - the document record: issue (numbering, checks, addressing),
 * read with the recipients' states, list and search, receipts, recall
 * (documents.h).
 */
#include "documents/doc_index.h"
#include "documents/doc_internal.h"
#include "lib/fold.h"
#include "lib/mpjson.h"
#include "node/people/access.h"
#include "storage/record.h"

#include <libxml/parser.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define NUMBERS_TABLE "doc_numbers"
#define VN_OFFSET_MS (7ull * 3600 * 1000) /* dates are Vietnam's (UTC+7) */
#define LIST_DEFAULT 50
#define LIST_MAX 500
#define LIST_TOTAL_MAX 1000 /* matches of a box counted at most */
#define FOLD_CAP (4 * DOC_BODY_MAX)

static uint64_t wall_ms(void *ctx)
{
    (void)ctx;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

documents *documents_new(store *s, const node_config *c)
{
    xmlInitParser(); /* once, before threads parse edXML */
    documents *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    *d = (documents){.s = s, .c = c, .now_ms = wall_ms};
    if (uv_mutex_init(&d->numbering)) {
        free(d);
        return NULL;
    }
    return d;
}

void documents_free(documents *d)
{
    if (d)
        uv_mutex_destroy(&d->numbering);
    free(d);
}

/* ---- tables ---- */

const char *const doc_urgencies[4] = {"thuong", "khan", "thuong_khan", "hoa_toc"};
const char *const doc_securities[4] = {"thuong", "mat", "toi_mat", "tuyet_mat"};

/* A recipient's states and their edXML status codes (QCVN 102:2016). */
static const struct {
    const char *status, *code;
} receipt_states[] = {
    {"delivered", "01"}, {"returned", "02"},   {"received", "03"},
    {"assigned", "04"},  {"in_process", "05"}, {"done", "06"},
};

static const char *receipt_code(const char *status)
{
    for (size_t i = 0; status && i < sizeof receipt_states / sizeof *receipt_states; i++)
        if (!strcmp(receipt_states[i].status, status))
            return receipt_states[i].code;
    return NULL;
}

static bool in_list(const char *v, const char *const *list, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        if (!strcmp(v, list[i]))
            return true;
    return false;
}

/* ---- dates ---- */

/* Today in Vietnam as YYYY-MM-DD. */
void doc_today(documents *d, char out[11])
{
    time_t t = (time_t)((d->now_ms(d->now_ctx) + VN_OFFSET_MS) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* True when s is a real calendar date YYYY-MM-DD. */
bool doc_date_valid(const char *s)
{
    struct tm tm = {0};
    if (!s || strlen(s) != 10)
        return false;
    const char *end = strptime(s, "%Y-%m-%d", &tm);
    if (!end || *end)
        return false;
    int mday = tm.tm_mday, mon = tm.tm_mon;
    time_t t = timegm(&tm);
    gmtime_r(&t, &tm);
    return tm.tm_mday == mday && tm.tm_mon == mon;
}

/* ---- checks of a new document ---- */

const char *doc_str(const json_t *in, const char *key)
{
    return json_string_value(json_object_get(in, key));
}

/* Fails with document.field when key is present but not a string. */
static int str_field(const json_t *in, const char *key, size_t max, lt_error *e)
{
    const json_t *v = json_object_get(in, key);
    if (v && !json_is_null(v) && !json_is_string(v))
        return lt_error_set(e, LT_EINVAL, "document.field", "%s must be text", key);
    if (v && json_is_string(v) && json_string_length(v) > max)
        return lt_error_set(e, LT_EINVAL, "document.field",
                            "%s is %zu bytes long; at most %zu are allowed: shorten it", key,
                            json_string_length(v), max);
    return 0;
}

static int check_enum(const json_t *in, const char *key, const char *const *list, size_t n,
                      lt_error *e)
{
    const char *v = doc_str(in, key);
    if ((json_object_get(in, key) && !v) || (v && !in_list(v, list, n))) {
        char all[128] = "";
        for (size_t i = 0; i < n; i++)
            snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", i ? ", " : "", list[i]);
        return lt_error_set(e, LT_EINVAL, "document.field", "%s must be one of %s", key, all);
    }
    return 0;
}

/* True when list (an array of strings) holds u. */
static bool list_has(const json_t *list, const char *u)
{
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v)
    {
        if (!strcmp(json_string_value(v), u))
            return true;
    }
    return false;
}

/* The recipients of in, checked against tree, into list (unit codes, a
 * group "X*" or "X*tier" expanded, recorded in groups), and the addressees
 * of its entries into address when the list is too long for them. */
static int check_recipients(documents *d, const json_t *in, const unit_tree *tree, json_t *list,
                            json_t *groups, json_t *address, lt_error *e)
{
    const json_t *r = json_object_get(in, "recipients");
    if (!json_is_array(r) || !json_array_size(r))
        return lt_error_set(e, LT_EINVAL, "document.recipients",
                            "recipients must be a non-empty list of unit codes, e.g. "
                            "[\"16681\"], or \"412*\" for all communes of 412");
    size_t i;
    const json_t *v;
    json_array_foreach(r, i, v)
    {
        const char *u = json_string_value(v);
        if (!u || !*u || strlen(u) >= 2 * NODE_CODE_MAX)
            return lt_error_set(e, LT_EINVAL, "document.recipients",
                                "recipient %zu is not a unit code", i + 1);
        if (strchr(u, '*')) {
            if (doc_group_expand(d, u, tree, list, groups, e))
                return -1;
            continue;
        }
        if (strlen(u) >= NODE_CODE_MAX || !unit_tree_known(tree, u, strlen(u)))
            return lt_error_set(e, LT_EINVAL, "document.recipient_unknown",
                                "recipient %s is not a unit of this network: check the code "
                                "(GET /api/v1/network lists the units)",
                                u);
        if (!strcmp(u, d->c->unit))
            return lt_error_set(e, LT_EINVAL, "document.recipients",
                                "recipient %s is the issuing unit itself", u);
        if (list_has(list, u))
            return lt_error_set(e, LT_EINVAL, "document.recipients", "recipient %s is named twice",
                                u);
        json_array_append_new(list, json_string(u));
    }
    if (json_array_size(list) > DOC_RECIPIENTS_MAX)
        return lt_error_set(e, LT_EINVAL, "document.recipients",
                            "a document has at most %d recipients (these are %zu): address "
                            "the units of a tier above (e.g. 40*district rather than 40*), or "
                            "send two documents",
                            DOC_RECIPIENTS_MAX, json_array_size(list));
    return doc_group_address(d, list, groups, address, e);
}

/* The signer {name, position} of in, when given, is two short texts. */
static int check_signer(const json_t *in, lt_error *e)
{
    const json_t *s = json_object_get(in, "signer");
    if (!s || json_is_null(s))
        return 0;
    const char *name = doc_str(s, "name"), *pos = doc_str(s, "position");
    if (!json_is_object(s) || !name || !*name || !pos || strlen(name) > 200 || strlen(pos) > 200)
        return lt_error_set(e, LT_EINVAL, "document.field",
                            "signer must be {\"name\": ..., \"position\": ...}, each at most 200 "
                            "bytes");
    return 0;
}

/* Every check of a new document; the type into *t, its recipients,
 * groups and address as check_recipients. */
static int check_new(documents *d, const json_t *in, const unit_tree *tree, doc_type *t,
                     json_t *list, json_t *groups, json_t *address, lt_error *e)
{
    const char *subject = doc_str(in, "subject");
    if (!doc_type_find(d, doc_str(in, "type"), t))
        return lt_error_set(e, LT_EINVAL, "document.type_unknown",
                            "type \"%s\" is not a document type of this network: use a code of "
                            "GET /api/v1/document-types (QD, KH, CV, TB, BC, TTr, ...), or ask an "
                            "admin of the province to add it",
                            doc_str(in, "type") ? doc_str(in, "type") : "");
    if (!subject || !*subject)
        return lt_error_set(e, LT_EINVAL, "document.subject_missing",
                            "subject (trích yếu) is missing: say in one line what the document "
                            "is about");
    if (str_field(in, "subject", DOC_SUBJECT_MAX, e) || str_field(in, "body", DOC_BODY_MAX, e) ||
        str_field(in, "place", 200, e) || str_field(in, "answers", ENTRY_MAX_NAME, e) ||
        check_enum(in, "urgency", doc_urgencies, 4, e) ||
        check_enum(in, "security", doc_securities, 4, e) || check_signer(in, e))
        return -1;
    const char *due = doc_str(in, "due");
    if ((json_object_get(in, "due") && !json_is_null(json_object_get(in, "due")) && !due) ||
        (due && !doc_date_valid(due)))
        return lt_error_set(e, LT_EINVAL, "document.field",
                            "due must be a date YYYY-MM-DD, e.g. 2026-12-20");
    const char *answers = doc_str(in, "answers");
    if (answers && *answers) {
        uint8_t *rec;
        size_t len;
        int rc = store_record_get(d->s, DOC_COLL, answers, &rec, &len);
        if (!rc)
            free(rec);
        if (rc)
            return lt_error_set(e, LT_EINVAL, "document.field",
                                "answers names document %s, which this node does not hold",
                                answers);
    }
    return check_recipients(d, in, tree, list, groups, address, e);
}

/* ---- writing ---- */

int doc_write(documents *d, const char *coll, const char *id, entry_op op, const json_t *fields,
              const char *const *to, size_t nto, lt_error *e)
{
    uint8_t *body = NULL;
    size_t len = 0;
    if (mpjson_pack_object(fields, &body, &len, e->message, sizeof e->message))
        return lt_error_mark(e, LT_EINVAL, "document.field");
    store_write w = {coll, id, op, body, len, to, nto};
    store_author a = node_author(d->c);
    int rc = store_write_local(d->s, &a, &w, 1, NULL, e->message, sizeof e->message);
    free(body);
    if (rc == STORE_REFUSED)
        return lt_error_mark(e, LT_EFORBIDDEN, "document.authority");
    return rc ? lt_error_mark(e, store_write_errkind(rc), NULL) : 0;
}

int doc_writes_add(doc_writes *w, const char *coll, const char *id, entry_op op, uint8_t *body,
                   size_t len, const char *const *to, size_t nto)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        store_write *nw = realloc(w->w, cap * sizeof *nw);
        if (nw)
            w->w = nw;
        uint8_t **nb = realloc(w->bodies, cap * sizeof *nb);
        if (nb)
            w->bodies = nb;
        char(*ids)[ENTRY_MAX_NAME + 1] = realloc(w->ids, cap * sizeof *ids);
        if (ids)
            w->ids = ids;
        if (!nw || !nb || !ids) {
            free(body);
            return -1;
        }
        for (size_t i = 0; i < w->n; i++) /* ids moved: point the writes at them again */
            w->w[i].id = w->ids[i];
        w->cap = cap;
    }
    snprintf(w->ids[w->n], ENTRY_MAX_NAME + 1, "%s", id);
    w->bodies[w->n] = body;
    w->w[w->n] = (store_write){coll, w->ids[w->n], op, body, len, to, nto};
    w->n++;
    return 0;
}

void doc_writes_free(doc_writes *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->bodies[i]);
    free(w->w);
    free(w->bodies);
    free(w->ids);
    memset(w, 0, sizeof *w);
}

/* The next number of (unit, type, year), on the holder of the unit's
 * numbering register only: the node's counter, first raised to the
 * highest number of the series the store holds (issued by an earlier
 * holder, or before a restore) and to the last one handed over with the
 * register, then one durable increment. */
static int number_next(documents *d, const char *type, const char *year, uint64_t *n, lt_error *e)
{
    char key[96];
    uint64_t held, floor;
    int klen = snprintf(key, sizeof key, "%s/%s/%s", d->c->unit, type, year);
    if (doc_register_claim(d, type, year, &floor, e))
        return -1;
    if (doc_index_max_number(d->s, d->c->unit, type, year, &held))
        return lt_error_set(e, LT_ESTORAGE, NULL,
                            "cannot read the numbers of %s/%s/%s; check the node's disk",
                            d->c->unit, type, year);
    if (floor > held)
        held = floor;
    if ((held && store_local_raise(d->s, NUMBERS_TABLE, key, (size_t)klen, held, e->message,
                                   sizeof e->message)) ||
        store_local_incr(d->s, NUMBERS_TABLE, key, (size_t)klen, n, e->message, sizeof e->message))
        return lt_error_mark(e, LT_ESTORAGE, NULL);
    return 0;
}

static void copy_opt(json_t *rec, const json_t *in, const char *key, const char *dflt)
{
    const char *v = doc_str(in, key);
    if (v && *v)
        json_object_set_new(rec, key, json_string(v));
    else if (dflt)
        json_object_set_new(rec, key, json_string(dflt));
}

/* The document record of a new document (in checked), numbered n. */
static json_t *doc_record(documents *d, const json_t *in, const doc_type *t, uint64_t n,
                          const char *date, const char *notation, const doc_actor *who,
                          json_t *list, json_t *groups, json_t *address)
{
    json_t *rec =
        json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "type", t->code, "number",
                  (json_int_t)n, "notation", notation, "subject", doc_str(in, "subject"), "unit",
                  d->c->unit, "unit_name", d->c->name, "date", date, "created_at",
                  (json_int_t)d->now_ms(d->now_ctx), "by", who->user, "status", "sent");
    copy_opt(rec, in, "body", "");
    copy_opt(rec, in, "place", NULL);
    copy_opt(rec, in, "due", NULL);
    copy_opt(rec, in, "answers", NULL);
    copy_opt(rec, in, "urgency", "thuong");
    copy_opt(rec, in, "security", "thuong");
    const json_t *signer = json_object_get(in, "signer");
    if (json_is_object(signer))
        json_object_set_new(rec, "signer",
                            json_pack("{s:s, s:s}", "name", doc_str(signer, "name"), "position",
                                      doc_str(signer, "position")));
    json_object_set(rec, "recipients", list);
    if (json_array_size(groups))
        json_object_set(rec, "recipient_groups", groups);
    if (json_array_size(address))
        json_object_set(rec, "address", address);
    return rec;
}

/* Writes the record and its attachments' chunks in one transaction. */
int doc_store(documents *d, const char *id, json_t *rec, const doc_file *files, size_t nfiles,
              const char *const *to, size_t nto, doc_writes *more, lt_error *e)
{
    doc_writes w = {0};
    if (more) {
        w = *more;
        memset(more, 0, sizeof *more);
    }
    json_t *list = json_array();
    int rc = doc_files_entries(&w, id, files, nfiles, list, to, nto, e);
    if (nfiles)
        json_object_set(rec, "files", list);
    json_decref(list);
    uint8_t *body = NULL;
    size_t len = 0;
    if (!rc && mpjson_pack_object(rec, &body, &len, e->message, sizeof e->message))
        rc = lt_error_mark(e, LT_EINVAL, "document.field");
    if (!rc && doc_writes_add(&w, DOC_COLL, id, ENTRY_OP_PUT, body, len, to, nto))
        rc = lt_error_set(e, LT_EUNAVAILABLE, NULL, "out of memory; retry later");
    if (!rc) {
        store_author a = node_author(d->c);
        int src = store_write_local(d->s, &a, w.w, w.n, NULL, e->message, sizeof e->message);
        if (src)
            rc = lt_error_mark(e, store_write_errkind(src),
                               src == STORE_REFUSED ? "document.authority" : NULL);
    }
    doc_writes_free(&w);
    return rc;
}

/* Fails with document.too_large when record rec, before its attachments
 * are listed, is more than DOC_RECORD_MAX bytes: the record entry would
 * not fit in ENTRY_MAX_BYTES. */
static int check_size(const json_t *rec, lt_error *e)
{
    uint8_t *body = NULL;
    size_t len = 0;
    if (mpjson_pack_object(rec, &body, &len, e->message, sizeof e->message))
        return lt_error_mark(e, LT_EINVAL, "document.field");
    free(body);
    if (len > DOC_RECORD_MAX)
        return lt_error_set(e, LT_EINVAL, "document.too_large",
                            "this document is %zu bytes (body, subject and %zu recipients) and a "
                            "document holds at most %u: shorten the body (put the text in an "
                            "attachment), or send it to fewer recipients",
                            len, json_array_size(json_object_get(rec, "recipients")),
                            DOC_RECORD_MAX);
    return 0;
}

/* Numbers and writes document in (checked, recipients list, groups and
 * address), with the patch of the document it updates or replaces; its
 * attachments are files[0..nfiles), or the staged upload up when set. */
static json_t *doc_issue(documents *d, const json_t *in, const doc_type *t, json_t *list,
                         json_t *groups, json_t *address, doc_link *link, const doc_file *files,
                         size_t nfiles, const doc_upload *up, const doc_actor *who, lt_error *e)
{
    char date[11], id[ENTRY_MAX_NAME + 1], notation[64];
    doc_today(d, date);
    char year[5] = {date[0], date[1], date[2], date[3], 0};
    uint64_t n = UINT32_MAX; /* a draft, its size checked before a number is taken */
    snprintf(notation, sizeof notation, "%" PRIu64 "/%s-UBND", n, t->symbol);
    json_t *draft = doc_record(d, in, t, n, date, notation, who, list, groups, address);
    doc_link_record(link, draft);
    int rc = check_size(draft, e);
    json_decref(draft);
    if (rc)
        return NULL;
    uv_mutex_lock(&d->numbering);
    rc = number_next(d, t->code, year, &n, e);
    uv_mutex_unlock(&d->numbering);
    if (rc)
        return NULL;
    snprintf(id, sizeof id, "%s-%s-%s-%" PRIu64, d->c->unit, year, t->code, n);
    snprintf(notation, sizeof notation, "%" PRIu64 "/%s-UBND", n, t->symbol);
    json_t *rec = doc_record(d, in, t, n, date, notation, who, list, groups, address);
    doc_link_record(link, rec);
    const char *to[DOC_ADDRESS_MAX + 1];
    size_t nto = doc_to(rec, to);
    doc_writes w = {0};
    rc = doc_link_write(d, link, id, who, &w, e);
    if (!rc)
        rc = up ? doc_upload_store(d, id, rec, up, to, nto, &w, e)
                : doc_store(d, id, rec, files, nfiles, to, nto, &w, e);
    doc_writes_free(&w);
    json_t *out =
        rc ? NULL
           : json_pack("{s:s, s:s, s:I, s:o}", "id", id, "notation", notation, "number",
                       (json_int_t)n, "files",
                       json_object_get(rec, "files") ? json_incref(json_object_get(rec, "files"))
                                                     : json_array());
    json_decref(rec);
    return out;
}

json_t *documents_create(documents *d, const json_t *in, const doc_file *files, size_t nfiles,
                         const doc_actor *who, const unit_tree *tree, lt_error *e)
{
    return doc_create(d, in, files, nfiles, NULL, who, tree, e);
}

json_t *doc_create(documents *d, const json_t *in, const doc_file *files, size_t nfiles,
                   const doc_upload *up, const doc_actor *who, const unit_tree *tree, lt_error *e)
{
    if (!json_is_object(in)) {
        lt_error_set(e, LT_EINVAL, "document.field", "the body must be a JSON object");
        return NULL;
    }
    if (strcmp(who->unit, d->c->unit)) {
        lt_error_set(e, LT_EFORBIDDEN, "document.forbidden",
                     "a document of unit %s is issued on its own node, not on the node of %s",
                     who->unit, d->c->unit);
        return NULL;
    }
    doc_type t;
    doc_link link;
    json_t *inx = json_deep_copy(in), *list = json_array(), *groups = json_array(),
           *address = json_array(), *out = NULL;
    if (!doc_link_check(d, inx, &link, e) &&
        !check_new(d, inx, tree, &t, list, groups, address, e) &&
        (up || !doc_files_check(files, nfiles, e)))
        out = doc_issue(d, inx, &t, list, groups, address, &link, files, nfiles, up, who, e);
    doc_link_free(&link);
    json_decref(inx);
    json_decref(list);
    json_decref(groups);
    json_decref(address);
    return out;
}

/* ---- reading ---- */

/* The record of document id as JSON, or NULL: absent (1), not a document
 * (1: a generic record of the collection), or a storage error (-1). */
json_t *doc_load(documents *d, const char *id, int *why)
{
    uint8_t *rec;
    size_t len;
    int rc = store_record_get(d->s, DOC_COLL, id, &rec, &len);
    *why = rc ? rc : 1;
    if (rc)
        return NULL;
    json_t *j =
        record_is_deleted(rec, len) ? NULL : record_to_json(rec, len, id, strlen(id), NULL, 0);
    free(rec);
    if (j && (!json_is_string(json_object_get(j, "notation")) || !doc_str(j, "unit") ||
              !json_is_array(json_object_get(j, "recipients")))) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* The addressees of a document record: its unit, then its address or
 * its recipients. */
size_t doc_to(const json_t *doc, const char **to)
{
    size_t n = 0, i;
    const json_t *v, *address = json_object_get(doc, "address");
    to[n++] = doc_str(doc, "unit");
    json_array_foreach(json_is_array(address) ? address : json_object_get(doc, "recipients"), i, v)
    {
        if (json_is_string(v) && n <= DOC_ADDRESS_MAX)
            to[n++] = json_string_value(v);
    }
    return n;
}

bool doc_visible(const json_t *doc, const char *unit, const unit_tree *tree)
{
    const char *to[DOC_ADDRESS_MAX + 1];
    size_t n = doc_to(doc, to);
    return access_visible(tree, unit, to[0], to, n);
}

json_t *doc_receipt_load(documents *d, const char *id, const char *unit)
{
    char rid[2 * ENTRY_MAX_NAME + 2];
    snprintf(rid, sizeof rid, "%s/%s", id, unit);
    uint8_t *rec;
    size_t len;
    if (store_record_get(d->s, DOC_RECEIPT_COLL, rid, &rec, &len))
        return NULL;
    json_t *j =
        record_is_deleted(rec, len) ? NULL : record_to_json(rec, len, rid, strlen(rid), NULL, 0);
    free(rec);
    return j;
}

/* Adds "recipients": [{unit, status, code, note, at, by}] and "overdue". */
static void doc_recipients(documents *d, json_t *doc)
{
    json_t *lines = json_array();
    const char *id = doc_str(doc, "id"), *due = doc_str(doc, "due");
    char now[11];
    doc_today(d, now);
    bool pending = false;
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(doc, "recipients"), i, v)
    {
        const char *unit = json_string_value(v);
        json_t *r = unit ? doc_receipt_load(d, id, unit) : NULL;
        const char *st = r && doc_str(r, "status") ? doc_str(r, "status") : "sent";
        json_t *line = json_pack("{s:s, s:s}", "unit", unit ? unit : "", "status", st);
        static const char *const keep[] = {"code", "note", "at", "by", "by_unit"};
        for (size_t k = 0; r && k < 5; k++)
            if (json_object_get(r, keep[k]))
                json_object_set(line, keep[k], json_object_get(r, keep[k]));
        pending = pending || strcmp(st, "done");
        json_decref(r);
        json_array_append_new(lines, line);
    }
    json_object_set_new(doc, "recipients", lines);
    bool overdue = due && strcmp(due, now) < 0 && pending &&
                   strcmp(doc_str(doc, "status") ? doc_str(doc, "status") : "", "recalled");
    json_object_set_new(doc, "overdue", json_boolean(overdue));
}

json_t *doc_not_found(const char *id, lt_error *e)
{
    lt_error_set(e, LT_ENOTFOUND, "document.not_found",
                 "no document %s on this node for you: check the id (GET /api/v1/documents "
                 "lists yours)",
                 id);
    return NULL;
}

json_t *documents_get(documents *d, const char *id, const char *unit, const unit_tree *tree,
                      lt_error *e)
{
    int why;
    json_t *doc = doc_load(d, id, &why);
    if (!doc && why < 0) {
        lt_error_set(e, LT_ESTORAGE, NULL, "cannot read document %s; check the node's disk", id);
        return NULL;
    }
    if (!doc || !doc_visible(doc, unit, tree)) {
        json_decref(doc);
        return doc_not_found(id, e);
    }
    doc_recipients(d, doc);
    return doc;
}

/* ---- listing ---- */

typedef struct {
    documents *d;
    const char *unit;
    const doc_query *q;
    const unit_tree *tree;
    char qfold[512];
    char *fold;
    json_t *hits;
    bool failed;
} list_ctx;

/* True when every folded word of the query is inside the folded text of
 * the document's notation, subject and body. */
static bool doc_matches_text(list_ctx *l, const json_t *doc)
{
    if (!l->qfold[0])
        return true;
    static const char *const fields[] = {"notation", "subject", "body"};
    size_t len = 0;
    for (size_t i = 0; i < 3 && len + 2 < FOLD_CAP; i++) {
        const char *s = doc_str(doc, fields[i]);
        if (s)
            len += fold_text(s, strlen(s), l->fold + len, FOLD_CAP - len - 1);
        l->fold[len++] = ' ';
        l->fold[len] = '\0';
    }
    char words[sizeof l->qfold];
    memcpy(words, l->qfold, sizeof words);
    for (char *save, *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save))
        if (!strstr(l->fold, w))
            return false;
    return true;
}

static bool eq_opt(const char *want, const char *have)
{
    return !want || !*want || (have && !strcmp(want, have));
}

/* The summary of a document for a list; NULL when the filters reject it. */
static json_t *doc_filter(list_ctx *l, json_t *doc)
{
    const doc_query *q = l->q;
    const char *unit = doc_str(doc, "unit"), *date = doc_str(doc, "date");
    const char *source = doc_str(doc, "source"), *rby = doc_str(doc, "received_by");
    bool imported = source && !strcmp(source, "edxml");
    bool out = unit && access_became(l->tree, unit, l->unit) && !imported;
    const char *as[1];
    bool in = doc_acting_for(doc, "recipients", l->unit, l->tree, as, 1) ||
              (rby && !strcmp(rby, l->unit));
    if ((q->box && !strcmp(q->box, "in") && !in) || (q->box && !strcmp(q->box, "out") && !out))
        return NULL;
    if (!eq_opt(q->type, doc_str(doc, "type")) || !eq_opt(q->urgency, doc_str(doc, "urgency")) ||
        (q->from && *q->from && (!date || strcmp(date, q->from) < 0)) ||
        (q->to && *q->to && (!date || strcmp(date, q->to) > 0)) || !doc_matches_text(l, doc))
        return NULL;
    doc_recipients(l->d, doc);
    if (q->overdue && !json_is_true(json_object_get(doc, "overdue")))
        return NULL;
    const char *mine = NULL, *st = doc_str(doc, "status");
    bool acting = doc_acting_for(doc, "recipients", l->unit, l->tree, as, 1) == 1;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(doc, "recipients"), i, v)
    {
        if (acting && !strcmp(doc_str(v, "unit"), as[0]))
            mine = doc_str(v, "status");
    }
    const char *shown = st && !strcmp(st, "recalled") ? st : mine ? mine : st;
    if (q->status && *q->status && (!shown || strcmp(q->status, shown)))
        return NULL;
    json_t *sum = json_object();
    static const char *const keep[] = {"id",   "notation",   "type",    "subject",
                                       "unit", "unit_name",  "date",    "urgency",
                                       "due",  "created_at", "overdue", "signer"};
    for (size_t k = 0; k < sizeof keep / sizeof *keep; k++)
        if (json_object_get(doc, keep[k]))
            json_object_set(sum, keep[k], json_object_get(doc, keep[k]));
    json_object_set_new(sum, "status", json_string(shown ? shown : "sent"));
    json_object_set_new(sum, "box", json_string(out ? "out" : in ? "in" : "seen"));
    json_object_set(sum, "recipients", json_object_get(doc, "recipients"));
    if (acting) { /* the recipient this unit answers for: itself, or one merged into it */
        json_object_set_new(sum, "recipient_unit", json_string(as[0]));
        json_object_set_new(sum, "via_merge", json_boolean(strcmp(as[0], l->unit) != 0));
    }
    return sum;
}

static int list_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    list_ctx *l = ctx;
    if (record_is_deleted(rec, len))
        return 0;
    json_t *doc = record_to_json(rec, len, id, idlen, NULL, 0);
    if (!doc) /* a record this domain cannot read: skipped */
        return 0;
    json_t *sum = NULL;
    if (json_is_string(json_object_get(doc, "notation")) && doc_str(doc, "unit") &&
        json_is_array(json_object_get(doc, "recipients")) && doc_visible(doc, l->unit, l->tree))
        sum = doc_filter(l, doc);
    json_decref(doc);
    if (sum)
        json_array_append_new(l->hits, sum);
    return 0;
}

/* By date, then created_at, newest first: the order of the index. */
static int newest_first(const void *a, const void *b)
{
    const char *da = doc_str(*(json_t *const *)a, "date"),
               *db = doc_str(*(json_t *const *)b, "date");
    int c = strcmp(db ? db : "", da ? da : "");
    if (c)
        return c;
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "created_at"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "created_at"));
    return x < y ? 1 : x > y ? -1 : 0;
}

/* A page of a box as the index hands it over, newest first: the matches
 * of the page (records read and filtered), then only counted. */
typedef struct {
    list_ctx *l;
    size_t limit;
    size_t total; /* matches seen */
    bool post;    /* filters the index cannot answer (status, overdue) */
    bool stopped; /* counting stopped before the box's end */
    int failed;
} page_ctx;

/* True when q filters by something the index does not hold (a receipt's
 * state, the clock): each candidate's record must be read. */
static bool query_post(const doc_query *q)
{
    return (q->status && *q->status) || q->overdue;
}

static int page_one(void *ctx, const char *id, size_t idlen)
{
    page_ctx *p = ctx;
    size_t held = json_array_size(p->l->hits);
    if (held >= p->limit && (p->post || p->total >= LIST_TOTAL_MAX)) {
        p->stopped = true; /* a full page; counting on would read every record */
        return 1;
    }
    if (held >= p->limit) {
        p->total++; /* every filter is in the index: a match without a read */
        return 0;
    }
    char key[ENTRY_MAX_NAME + 1];
    if (idlen > ENTRY_MAX_NAME)
        return 0;
    memcpy(key, id, idlen);
    key[idlen] = '\0';
    uint8_t *rec;
    size_t len;
    int g = store_record_get(p->l->d->s, DOC_COLL, key, &rec, &len);
    if (g < 0)
        return p->failed = -1;
    if (!g) {
        list_one(p->l, key, idlen, rec, len);
        free(rec);
    }
    p->total += json_array_size(p->l->hits) > held;
    return 0;
}

/* The folded words of q and its filter words (type, urgency) into w (room
 * for DOC_SEARCH_TOKENS), their text in buf; how many. */
static size_t query_tokens(list_ctx *l, char *buf, size_t cap, const char **w)
{
    size_t n = 0, used = 0;
    const doc_query *q = l->q;
    const char *tag[] = {DOC_TOKEN_TYPE, DOC_TOKEN_URGENCY}, *val[] = {q->type, q->urgency};
    for (size_t i = 0; i < 2; i++) {
        int m = val[i] && *val[i] ? snprintf(buf + used, cap - used, "%s%s", tag[i], val[i]) : -1;
        if (m > 0 && used + (size_t)m < cap) {
            w[n++] = buf + used;
            used += (size_t)m + 1;
        }
    }
    snprintf(buf + used, cap - used, "%s", l->qfold);
    for (char *save, *x = strtok_r(buf + used, " ", &save); x; x = strtok_r(NULL, " ", &save))
        if (n < DOC_SEARCH_TOKENS)
            w[n++] = x;
    return n;
}

/* Runs the list over one box: the index joins the postings of the words
 * and filters (type, urgency, dates) and the walk stops once the page is
 * full and counted (up to LIST_TOTAL_MAX matches). *exact is false when
 * the count stopped early. */
static int list_box(list_ctx *l, const char *kind, size_t limit, size_t *total, bool *exact)
{
    char buf[sizeof l->qfold + 2 * 80];
    const char *w[DOC_SEARCH_TOKENS];
    const doc_query *q = l->q;
    doc_search ds = {.kind = kind,
                     .unit = l->unit,
                     .tokens = w,
                     .ntokens = query_tokens(l, buf, sizeof buf, w),
                     .from = q->from && *q->from ? q->from : NULL,
                     .to = q->to && *q->to ? q->to : NULL};
    page_ctx p = {.l = l, .limit = limit, .post = query_post(q)};
    int rc = doc_index_search(l->d->s, &ds, page_one, &p);
    *total = p.total;
    *exact = !p.stopped;
    return rc < 0 || p.failed ? -1 : 0;
}

json_t *documents_list(documents *d, const char *unit, const doc_query *q, const unit_tree *tree,
                       lt_error *e)
{
    if (q->box && *q->box && strcmp(q->box, "in") && strcmp(q->box, "out")) {
        lt_error_set(e, LT_EINVAL, "document.query", "box must be in or out");
        return NULL;
    }
    if ((q->from && *q->from && !doc_date_valid(q->from)) ||
        (q->to && *q->to && !doc_date_valid(q->to))) {
        lt_error_set(e, LT_EINVAL, "document.query", "from and to must be dates YYYY-MM-DD");
        return NULL;
    }
    list_ctx l = {.d = d, .unit = unit, .q = q, .tree = tree, .hits = json_array()};
    if (q->q)
        fold_text(q->q, strlen(q->q), l.qfold, sizeof l.qfold);
    l.fold = malloc(FOLD_CAP);
    size_t limit = q->limit ? q->limit : LIST_DEFAULT, total = 0;
    bool exact = true;
    if (limit > LIST_MAX)
        limit = LIST_MAX;
    if (q->all)
        limit = SIZE_MAX;
    bool boxed = q->box && *q->box;
    if (!l.fold || (boxed ? list_box(&l, strcmp(q->box, "in") ? "o" : "i", limit, &total, &exact)
                          : store_records(d->s, DOC_COLL, list_one, &l)) < 0) {
        free(l.fold);
        json_decref(l.hits);
        lt_error_set(e, LT_ESTORAGE, NULL, "cannot read the documents; check the node's disk");
        return NULL;
    }
    free(l.fold);
    if (!boxed) { /* a scan in id order: sorted here, newest first */
        size_t n = total = json_array_size(l.hits);
        json_t **v = malloc((n ? n : 1) * sizeof *v);
        for (size_t i = 0; v && i < n; i++)
            v[i] = json_incref(json_array_get(l.hits, i));
        if (v)
            qsort(v, n, sizeof *v, newest_first);
        json_array_clear(l.hits);
        for (size_t i = 0; v && i < n; i++) {
            if (i < limit)
                json_array_append(l.hits, v[i]);
            json_decref(v[i]);
        }
        free(v);
    }
    return json_pack("{s:o, s:I, s:b}", "documents", l.hits, "total", (json_int_t)total,
                     "total_exact", exact);
}

/* ---- receipts and recall ---- */

int documents_receipt(documents *d, const char *id, const char *status, const char *note,
                      const doc_actor *who, const unit_tree *tree, lt_error *e)
{
    const char *code = receipt_code(status);
    if (!code)
        return lt_error_set(e, LT_EINVAL, "document.receipt_status",
                            "status must be delivered, received, assigned, in_process, done or "
                            "returned");
    if (note && strlen(note) > DOC_NOTE_MAX)
        return lt_error_set(e, LT_EINVAL, "document.field", "note is longer than %d bytes",
                            DOC_NOTE_MAX);
    if (!strcmp(status, "returned") && (!note || !*note))
        return lt_error_set(e, LT_EINVAL, "document.reason_missing",
                            "a returned document needs the reason in note");
    json_t *doc = documents_get(d, id, who->unit, tree, e);
    if (!doc)
        return -1;
    int rc = 0;
    const char *as[DOC_RECIPIENTS_MAX];
    size_t nas = doc_acting_for(doc, "recipients", who->unit, tree, as, DOC_RECIPIENTS_MAX);
    if (!nas)
        rc = lt_error_set(e, LT_EFORBIDDEN, "document.not_recipient",
                          "unit %s is not a recipient of %s (nor the successor of one merged "
                          "into it): only its recipients record its state",
                          who->unit, id);
    else if (!strcmp(doc_str(doc, "status"), "recalled"))
        rc = lt_error_set(e, LT_ECONFLICT, "document.recalled",
                          "document %s was recalled by its sender; nothing more is recorded", id);
    for (size_t i = 0; i < nas && !rc; i++) /* its own, and its predecessors' */
        rc = doc_receipt_put(d, doc, id, as[i], status, note, who, e);
    json_decref(doc);
    return rc;
}

int doc_receipt_put(documents *d, const json_t *doc, const char *id, const char *recipient,
                    const char *status, const char *note, const doc_actor *who, lt_error *e)
{
    const char *code = receipt_code(status);
    if (!code)
        return lt_error_set(e, LT_EINVAL, "document.receipt_status", "unknown status %s", status);
    char rid[2 * ENTRY_MAX_NAME + 2];
    snprintf(rid, sizeof rid, "%s/%s", id, recipient);
    json_t *r = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "doc", id, "unit", recipient,
                          "status", status, "code", code, "at", (json_int_t)d->now_ms(d->now_ctx),
                          "by", who->user, "note", note ? note : "");
    bool merged = strcmp(recipient, who->unit) != 0;
    if (merged)
        json_object_set_new(r, "by_unit", json_string(who->unit));
    const char *to[3] = {recipient, doc_str(doc, "unit"), who->unit};
    int rc = doc_write(d, DOC_RECEIPT_COLL, rid, doc_merged_op(d, DOC_RECEIPT_COLL, rid, merged), r,
                       to, merged ? 3 : 2, e);
    json_decref(r);
    return rc;
}

int documents_recall(documents *d, const char *id, const char *reason, const doc_actor *who,
                     lt_error *e)
{
    int why;
    json_t *doc = doc_load(d, id, &why);
    if (!doc)
        return why < 0 ? lt_error_set(e, LT_ESTORAGE, NULL, "cannot read document %s", id)
                       : (doc_not_found(id, e), -1);
    int rc = 0;
    if (strcmp(doc_str(doc, "unit"), who->unit))
        rc = lt_error_set(e, LT_EFORBIDDEN, "document.forbidden",
                          "only unit %s, which issued %s, may recall it", doc_str(doc, "unit"), id);
    else if (!strcmp(doc_str(doc, "status"), "recalled"))
        rc = lt_error_set(e, LT_ECONFLICT, "document.recalled", "document %s is already recalled",
                          id);
    else if (!reason || !*reason || strlen(reason) > DOC_NOTE_MAX)
        rc = lt_error_set(e, LT_EINVAL, "document.reason_missing",
                          "say why the document is recalled in reason (at most %d bytes)",
                          DOC_NOTE_MAX);
    if (!rc) {
        const char *to[DOC_ADDRESS_MAX + 1];
        size_t n = doc_to(doc, to);
        json_t *p = json_pack("{s:s, s:s, s:s, s:I, s:s}", "status", "recalled", "status_code",
                              "13", "recall_reason", reason, "recalled_at",
                              (json_int_t)d->now_ms(d->now_ctx), "recalled_by", who->user);
        rc = doc_write(d, DOC_COLL, id, ENTRY_OP_PATCH, p, to, n, e);
        json_decref(p);
    }
    json_decref(doc);
    return rc;
}

/* ---- shares for the indicators ---- */

typedef struct {
    documents *d;
    const char *unit;
    const unit_tree *tree;
    uint64_t from_ms, to_ms;
    doc_shares *out;
} share_ctx;

static int share_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    share_ctx *s = ctx;
    if (record_is_deleted(rec, len))
        return 0;
    json_t *doc = record_to_json(rec, len, id, idlen, NULL, 0);
    const char *unit = doc ? doc_str(doc, "unit") : NULL;
    json_int_t at = doc ? json_integer_value(json_object_get(doc, "created_at")) : 0;
    if (unit && doc_str(doc, "notation") && json_is_array(json_object_get(doc, "recipients")) &&
        (uint64_t)at >= s->from_ms && (uint64_t)at < s->to_ms &&
        unit_tree_within(s->tree, unit, strlen(unit), s->unit, strlen(s->unit))) {
        s->out->issued++;
        s->out->signed_ += json_is_object(json_object_get(doc, "signature"));
        doc_recipients(s->d, doc);
        bool all = true;
        size_t i;
        const json_t *v;
        json_array_foreach(json_object_get(doc, "recipients"), i, v) all =
            all && strcmp(doc_str(v, "status"), "sent");
        s->out->acknowledged += all;
    }
    json_decref(doc);
    return 0;
}

int documents_shares(documents *d, const char *unit, const unit_tree *tree, uint64_t from_ms,
                     uint64_t to_ms, doc_shares *out)
{
    memset(out, 0, sizeof *out);
    share_ctx s = {d, unit, tree, from_ms, to_ms, out};
    return store_records(d->s, DOC_COLL, share_one, &s) < 0 ? -1 : 0;
}
