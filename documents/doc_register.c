/*
 * doc_register.c - the numbering register of a unit (sổ đăng ký văn bản
 * đi): held by exactly one node of the unit at a time, the only one that
 * allocates numbers; a signed record of DOC_REGISTER_COLL names the holder
 * and moves by a hand-over or a forced take-over (docs/documents.md,
 * "Numbering").
 */
#include "documents/doc_internal.h"
#include "lib/hex.h"
#include "node/people/access.h"
#include "storage/record.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUMBERS_TABLE "doc_numbers"
#define SERVERS_MAX 16

/* A certificate of a server of the node's unit. */
typedef struct {
    char key[65], successor[65], name[NODE_NAME_MAX];
    json_int_t not_before;
    bool ended;
} server;

typedef struct {
    const char *unit;
    server v[SERVERS_MAX];
    size_t n;
} server_list;

static int server_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    server_list *l = ctx;
    if (record_is_deleted(rec, len) || l->n == SERVERS_MAX)
        return 0;
    json_t *c = record_to_json(rec, len, id, idlen, NULL, 0);
    const char *unit = c ? doc_str(c, "unit") : NULL, *key = c ? doc_str(c, "key") : NULL;
    if (unit && key && !strcmp(unit, l->unit) && strlen(key) == 64) {
        server *s = &l->v[l->n++];
        memset(s, 0, sizeof *s);
        snprintf(s->key, sizeof s->key, "%s", key);
        snprintf(s->name, sizeof s->name, "%s", doc_str(c, "name") ? doc_str(c, "name") : "");
        const char *succ = doc_str(c, "successor");
        snprintf(s->successor, sizeof s->successor, "%s", succ ? succ : "");
        s->not_before = json_integer_value(json_object_get(c, "not_before"));
        s->ended = doc_str(c, "ended") != NULL;
    }
    json_decref(c);
    return 0;
}

static const server *server_find(const server_list *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].key, key))
            return &l->v[i];
    return NULL;
}

/* The server that key became: its certificate's successors followed (a
 * key rotation keeps the register with the server). */
static const server *server_current(const server_list *l, const char *key)
{
    const server *s = server_find(l, key);
    for (size_t hops = 0; s && s->ended && s->successor[0] && hops < SERVERS_MAX; hops++) {
        const server *next = server_find(l, s->successor);
        if (!next)
            break;
        s = next;
    }
    return s;
}

/* The first server of the unit: the earliest certificate (the server
 * enrolled by the parent; a mirror is certified later). */
static const server *server_first(const server_list *l)
{
    const server *f = NULL;
    for (size_t i = 0; i < l->n; i++)
        if (!f || l->v[i].not_before < f->not_before ||
            (l->v[i].not_before == f->not_before && strcmp(l->v[i].key, f->key) < 0))
            f = &l->v[i];
    return f;
}

/* The register record of the node's unit (new reference), or NULL. */
static json_t *register_load(documents *d)
{
    uint8_t *rec;
    size_t len;
    if (store_record_get(d->s, DOC_REGISTER_COLL, d->c->unit, &rec, &len))
        return NULL;
    json_t *j = record_is_deleted(rec, len)
                    ? NULL
                    : record_to_json(rec, len, d->c->unit, strlen(d->c->unit), NULL, 0);
    free(rec);
    return j;
}

/* Fills *h: who holds the register of the node's unit now. */
static int register_state(documents *d, server_list *l, doc_holder *h, json_t **reg, lt_error *e)
{
    memset(h, 0, sizeof *h);
    *l = (server_list){.unit = d->c->unit};
    if (store_records(d->s, "certs", server_one, l) < 0)
        return lt_error_set(e, LT_ESTORAGE, NULL,
                            "cannot read the certificates of unit %s; check the node's disk",
                            d->c->unit);
    *reg = register_load(d);
    const char *named = doc_str(*reg, "holder");
    const server *s = named ? server_current(l, named) : server_first(l);
    h->recorded = named != NULL;
    snprintf(h->holder, sizeof h->holder, "%s", s ? s->key : named ? named : "");
    h->lost = !s || s->ended;
    char me[65];
    hex_encode(d->c->pk, ENTRY_KEY_BYTES, me);
    /* a node alone (no certificate held yet: a store without a network) holds it */
    h->here = !strcmp(h->holder, me) || (!l->n && !named);
    return 0;
}

int doc_register_claim(documents *d, const char *type, const char *year, uint64_t *floor,
                       lt_error *e)
{
    server_list l;
    doc_holder h;
    json_t *reg;
    *floor = 0;
    if (register_state(d, &l, &h, &reg, e))
        return -1;
    if (!h.here) {
        char me[65];
        lt_error_set(e, LT_ECONFLICT, "document.register_elsewhere",
                     "the numbering register of unit %s is held by node %.16s%s, not by this "
                     "node (%.16s): issue the document on that server, or ask an admin there to "
                     "hand it over (POST /api/v1/documents/register/handover); if that server is "
                     "lost, an admin of unit %s takes it over here (POST "
                     "/api/v1/documents/register/takeover, see docs/documents.md)",
                     d->c->unit, h.holder, h.lost ? " (its certificate has ended)" : "",
                     hex_encode(d->c->pk, ENTRY_KEY_BYTES, me), d->c->unit);
        json_decref(reg);
        return -1;
    }
    char series[64];
    snprintf(series, sizeof series, "%s/%s", type, year);
    *floor = (uint64_t)json_integer_value(json_object_get(json_object_get(reg, "last"), series));
    json_decref(reg);
    return 0;
}

json_t *documents_register_get(documents *d, lt_error *e)
{
    server_list l;
    doc_holder h;
    json_t *reg;
    if (register_state(d, &l, &h, &reg, e))
        return NULL;
    char me[65];
    json_t *servers = json_array();
    for (size_t i = 0; i < l.n; i++)
        json_array_append_new(servers, json_pack("{s:s, s:s, s:I, s:b}", "node", l.v[i].key, "name",
                                                 l.v[i].name, "certified_at", l.v[i].not_before,
                                                 "live", !l.v[i].ended));
    json_t *out = json_pack("{s:s, s:s, s:s, s:b, s:b, s:s?, s:o}", "unit", d->c->unit, "holder",
                            h.holder, "this_node", hex_encode(d->c->pk, ENTRY_KEY_BYTES, me),
                            "held_here", h.here, "holder_lost", h.lost, "how",
                            h.recorded ? doc_str(reg, "how") : "first_server", "servers", servers);
    static const char *const keep[] = {"from", "reason", "by", "at", "last"};
    for (size_t k = 0; reg && k < sizeof keep / sizeof *keep; k++)
        if (json_object_get(reg, keep[k]))
            json_object_set(out, keep[k], json_object_get(reg, keep[k]));
    json_decref(reg);
    return out;
}

/* Adds the node's counters of the unit's series to last (the higher of
 * the two where both name a series). */
static int counters_one(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    json_t *last = json_object_get(ctx, "last");
    const char *unit = doc_str(ctx, "unit");
    size_t ulen = strlen(unit);
    char series[64], num[24];
    if (klen <= ulen + 1 || memcmp(key, unit, ulen) || key[ulen] != '/' ||
        klen - ulen - 1 >= sizeof series || vlen >= sizeof num)
        return 0;
    memcpy(series, key + ulen + 1, klen - ulen - 1);
    series[klen - ulen - 1] = '\0';
    memcpy(num, val, vlen);
    num[vlen] = '\0';
    json_int_t n = (json_int_t)strtoull(num, NULL, 10);
    if (n > json_integer_value(json_object_get(last, series)))
        json_object_set_new(last, series, json_integer(n));
    return 0;
}

/* Writes the register naming holder; its "last" carries the numbers this
 * node allocated and those the previous register carried. */
static int register_write(documents *d, const char *holder, const char *from, const char *how,
                          const char *reason, const doc_actor *who, json_t *prev, lt_error *e)
{
    json_t *last = json_object_get(prev, "last");
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:o}", "unit", d->c->unit,
                            "holder", holder, "from", from, "how", how, "reason", reason, "by",
                            who->user, "at", (json_int_t)d->now_ms(d->now_ctx), "last",
                            json_is_object(last) ? json_deep_copy(last) : json_object());
    int rc = store_local_scan(d->s, NUMBERS_TABLE, counters_one, rec) < 0
                 ? lt_error_set(e, LT_ESTORAGE, NULL, "cannot read the node's numbers")
                 : 0;
    const char *to[] = {d->c->unit};
    if (!rc)
        rc = doc_write(d, DOC_REGISTER_COLL, d->c->unit, ENTRY_OP_PUT, rec, to, 1, e);
    json_decref(rec);
    return rc;
}

static int admin_check(documents *d, const doc_actor *who, const char *what, lt_error *e)
{
    if (access_is_node_admin(who->unit, who->role, d->c->unit))
        return 0;
    return lt_error_set(e, LT_EFORBIDDEN, "auth.admin_required",
                        "only an admin of unit %s may %s the numbering register; your account is "
                        "%s of unit %s",
                        d->c->unit, what, account_role_name(who->role), who->unit);
}

static int reason_check(const char *reason, const char *what, lt_error *e)
{
    if (reason && *reason && strlen(reason) <= DOC_NOTE_MAX)
        return 0;
    return lt_error_set(e, LT_EINVAL, "document.reason_missing",
                        "say why the numbering register is %s in reason (at most %d bytes): it "
                        "is kept in the register's record",
                        what, DOC_NOTE_MAX);
}

int documents_register_handover(documents *d, const char *to, const char *reason,
                                const doc_actor *who, lt_error *e)
{
    if (admin_check(d, who, "hand over", e) || reason_check(reason, "handed over", e))
        return -1;
    server_list l;
    doc_holder h;
    json_t *reg;
    uv_mutex_lock(&d->numbering);
    int rc = register_state(d, &l, &h, &reg, e);
    const server *target = !rc && to ? server_find(&l, to) : NULL;
    if (!rc && !h.here)
        rc = lt_error_set(e, LT_ECONFLICT, "document.register_elsewhere",
                          "this node does not hold the numbering register of unit %s (node "
                          "%.16s does): hand it over from there",
                          d->c->unit, h.holder);
    else if (!rc && (!target || target->ended || !strcmp(target->key, h.holder)))
        rc = lt_error_set(e, LT_EINVAL, "document.register_target",
                          "to must be the node key (64 hex) of another live server of unit %s; "
                          "GET /api/v1/documents/register lists them",
                          d->c->unit);
    if (!rc)
        rc = register_write(d, target->key, h.holder, "handover", reason, who, reg, e);
    uv_mutex_unlock(&d->numbering);
    json_decref(reg);
    return rc;
}

int documents_register_takeover(documents *d, const char *reason, const doc_actor *who, lt_error *e)
{
    if (admin_check(d, who, "take over", e) || reason_check(reason, "taken over", e))
        return -1;
    server_list l;
    doc_holder h;
    json_t *reg;
    char me[65];
    hex_encode(d->c->pk, ENTRY_KEY_BYTES, me);
    uv_mutex_lock(&d->numbering);
    int rc = register_state(d, &l, &h, &reg, e);
    if (!rc && h.here)
        rc = lt_error_set(e, LT_ECONFLICT, "document.register_held",
                          "this node already holds the numbering register of unit %s", d->c->unit);
    if (!rc)
        rc = register_write(d, me, h.holder, "takeover", reason, who, reg, e);
    uv_mutex_unlock(&d->numbering);
    json_decref(reg);
    return rc;
}
