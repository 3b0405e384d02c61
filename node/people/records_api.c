/*
 * records_api.c - see records_api.h.
 *
 * A record is visible to a user of unit U when one of its owner units is
 * in U's subtree, or one of the addressees its entries had reaches U
 * (access_visible, with the record's owner set and readers from
 * store_record_scope).
 */
#include "node/people/records_api.h"
#include "node/people/access.h"
#include "node/people/auth.h"
#include "storage/record.h"

#include <stdlib.h>
#include <string.h>

#define RECORDS_DEFAULT_LIMIT 100
#define RECORDS_MAX_LIMIT 1000
#define SCOPE_MAX 64

/* Fields only staff and above see (citizens' personal data). */
static const char *const personal_fields[] = {"reporter_name", "reporter_phone", "reporter_email"};

/* Fields no one sees through this API: the hash of a citizen's token
 * (reports/citizen_token.c) is a credential check, not data. */
static const char *const secret_fields[] = {"citizen_token_hash"};

/* Collections this API does not serve: the audit log has its own, admin-only endpoint. */
static const char *const hidden_colls[] = {"audit"};

typedef struct {
    char owners[SCOPE_MAX][NODE_CODE_MAX];
    const char *to[SCOPE_MAX];
    char to_buf[SCOPE_MAX][NODE_CODE_MAX + 1];
    size_t nowners, nto;
} scope;

static int scope_one(void *ctx, bool owner, const char *unit)
{
    scope *sc = ctx;
    if (strlen(unit) >= NODE_CODE_MAX)
        return 0;
    if (owner && sc->nowners < SCOPE_MAX) {
        strcpy(sc->owners[sc->nowners++], unit);
    } else if (!owner && sc->nto < SCOPE_MAX) {
        strcpy(sc->to_buf[sc->nto], unit);
        sc->to[sc->nto] = sc->to_buf[sc->nto];
        sc->nto++;
    }
    return 0;
}

/* True when the caller may see coll/id (false when absent). */
static bool record_visible(node_env *d, const auth_caller *c, const char *coll, const char *id)
{
    scope sc = {.nowners = 0};
    if (store_record_scope(d->store, coll, id, scope_one, &sc) != 0)
        return false;
    const unit_tree *t = auth_tree(d->auth);
    for (size_t i = 0; i < sc.nowners; i++)
        if (access_visible(t, c->unit, sc.owners[i], sc.to, sc.nto))
            return true;
    return false;
}

/* The record as JSON for the caller, or NULL when deleted or unreadable. */
static json_t *record_for(const auth_caller *c, const uint8_t *rec, size_t len, const char *id,
                          size_t idlen)
{
    char err[128];
    if (record_is_deleted(rec, len))
        return NULL;
    json_t *j = record_to_json(rec, len, id, idlen, err, sizeof err);
    for (size_t i = 0; j && i < sizeof secret_fields / sizeof *secret_fields; i++)
        json_object_del(j, secret_fields[i]);
    if (j && !access_personal(c->role))
        for (size_t i = 0; i < sizeof personal_fields / sizeof *personal_fields; i++)
            json_object_del(j, personal_fields[i]);
    return j;
}

typedef struct {
    node_env *d;
    const auth_caller *c;
    const char *coll, *after;
    size_t limit;
    json_t *rows;
    char next[ENTRY_MAX_NAME + 1];
} list_walk;

static int list_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t reclen)
{
    list_walk *w = ctx;
    char key[ENTRY_MAX_NAME + 1];
    if (idlen > ENTRY_MAX_NAME)
        return 0;
    memcpy(key, id, idlen);
    key[idlen] = '\0';
    if (w->after && strcmp(key, w->after) <= 0)
        return 0;
    if (json_array_size(w->rows) == w->limit) {
        strcpy(w->next,
               json_string_value(json_object_get(json_array_get(w->rows, w->limit - 1), "id")));
        return 1; /* a further visible record may follow: the cursor says where to go on */
    }
    if (!record_visible(w->d, w->c, w->coll, key))
        return 0;
    json_t *j = record_for(w->c, rec, reclen, id, idlen);
    if (j)
        json_array_append_new(w->rows, j);
    return 0;
}

static bool coll_served(const char *coll)
{
    for (size_t i = 0; i < sizeof hidden_colls / sizeof *hidden_colls; i++)
        if (!strcmp(coll, hidden_colls[i]))
            return false;
    return entry_coll_valid(coll, strlen(coll));
}

static void records_list(node_env *d, const auth_caller *c, const char *coll,
                         const http_request *req, http_response *res)
{
    const char *ls = http_request_query_param(req, "limit");
    char *end = NULL;
    long limit = ls ? strtol(ls, &end, 10) : RECORDS_DEFAULT_LIMIT;
    if ((ls && *end) || limit < 1 || limit > RECORDS_MAX_LIMIT) {
        http_respond_error(res, 400, "limit must be a number from 1 to %d", RECORDS_MAX_LIMIT);
        return;
    }
    list_walk w = {d, c, coll, http_request_query_param(req, "after"), (size_t)limit, json_array(),
                   ""};
    if (store_records(d->store, coll, list_one, &w) < 0) {
        json_decref(w.rows);
        http_respond_error(res, 500, "the records could not be read; check the node's log");
        return;
    }
    http_respond_json(res, 200,
                      json_pack("{s:s, s:o, s:o}", "collection", coll, "records", w.rows, "next",
                                w.next[0] ? json_string(w.next) : json_null()));
}

void records_api_get(void *ctx, const http_request *req, http_response *res)
{
    node_env *d = ctx;
    auth_caller c;
    if (auth_require(d->auth, req, res, ROLE_VIEWER, &c))
        return;
    const char *rest = req->path + strlen("/api/v1/records");
    if (*rest == '/')
        rest++;
    const char *slash = strchr(rest, '/');
    char coll[ENTRY_MAX_NAME + 1];
    size_t cl = slash ? (size_t)(slash - rest) : strlen(rest);
    if (!cl || cl > ENTRY_MAX_NAME) {
        http_respond_error(res, 404, "name a collection: GET /api/v1/records/{collection}[/{id}]");
        return;
    }
    memcpy(coll, rest, cl);
    coll[cl] = '\0';
    if (!coll_served(coll)) {
        http_respond_error(res, 404, "no collection %s here%s", coll,
                           strcmp(coll, "audit") ? "" : ": the audit log is at /api/v1/audit");
        return;
    }
    if (!slash || !slash[1]) {
        records_list(d, &c, coll, req, res);
        return;
    }
    const char *id = slash + 1;
    uint8_t *rec;
    size_t len;
    json_t *j = NULL;
    if (entry_id_valid(id, strlen(id)) && record_visible(d, &c, coll, id) &&
        store_record_get(d->store, coll, id, &rec, &len) == 0) {
        j = record_for(&c, rec, len, id, strlen(id));
        free(rec);
    }
    if (!j)
        http_respond_error(res, 404,
                           "no record %s/%s that you may see: check the id, or ask "
                           "the unit that owns it",
                           coll, id);
    else
        http_respond_json(res, 200, j);
}
