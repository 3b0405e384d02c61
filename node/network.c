/*
 * network.c - writing and copying network membership entries (network
 * config, units, certificates). The entry layouts are in network.h and
 * docs/protocol.md.
 */
#include "node/network.h"
#include "replication/repl_node.h"
#include "storage/hex.h"
#include "storage/mpjson.h"
#include "storage/record.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int network_audience(store *s, const char *issuer_unit, char *to)
{
    strcpy(to, "*");
    uint8_t *rec;
    size_t len;
    char err[128];
    int rc = store_record_get(s, "network", "config", &rec, &len);
    if (rc)
        return -1;
    json_t *j = record_to_json(rec, len, "config", 6, err, sizeof err);
    free(rec);
    const char *root = j ? json_string_value(json_object_get(j, "root_unit")) : NULL;
    if (!root)
        rc = -1;
    else if (strcmp(root, issuer_unit))
        snprintf(to, NETWORK_AUDIENCE_MAX, "%s*", issuer_unit);
    json_decref(j);
    return rc;
}

/* Packs obj (stolen) as a body and appends it to the write list, addressed
 * to the single addressee *to (kept alive by the caller). */
static int add_write(store_write *w, uint8_t **bodies, size_t *n, const char *coll,
                     const char *id, json_t *obj, const char *const *to, char *err,
                     size_t errlen)
{
    size_t len;
    int rc = mpjson_pack_object(obj, &bodies[*n], &len, err, errlen);
    json_decref(obj);
    if (rc)
        return -1;
    w[*n] = (store_write){coll, id, ENTRY_OP_PUT, bodies[*n], len, to, 1};
    (*n)++;
    return 0;
}

static json_t *unit_body(const char *code, const char *name, const char *tier,
                         const char *parent)
{
    return json_pack("{s:s, s:s, s:s, s:o}", "code", code, "name", name, "tier", tier, "parent",
                     parent && *parent ? json_string(parent) : json_null());
}

static json_t *cert_body(const node_config *subject, const node_config *issuer, uint64_t now)
{
    char key[65], iss[65];
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:I, s:I}", "key",
                     hex_encode(subject->pk, 32, key), "unit", subject->unit, "name",
                     subject->name, "tier", subject->tier, "parent_unit",
                     subject->parent_unit[0] ? json_string(subject->parent_unit) : json_null(),
                     "issuer", hex_encode(issuer->pk, 32, iss), "not_before", (json_int_t)now,
                     "not_after", (json_int_t)(now + NETWORK_CERT_VALID_MS));
}

static int write_all(store *s, const node_config *author, store_write *w, uint8_t **bodies,
                     size_t n, char *err, size_t errlen)
{
    store_author a = node_author(author);
    int rc = store_write_local(s, &a, w, n, NULL, err, errlen);
    for (size_t i = 0; i < n; i++)
        free(bodies[i]);
    return rc;
}

int network_init_root(node_config *c, store *s, char *err, size_t errlen)
{
    store_write w[3];
    uint8_t *bodies[3] = {0};
    size_t n = 0;
    char key[65], idbuf[65];
    json_t *tiers = json_array();
    for (size_t i = 0; i < c->ntiers; i++)
        json_array_append_new(tiers, json_string(c->tiers[i]));
    c->parent_unit[0] = '\0';
    json_t *cfg = json_pack("{s:o, s:s, s:s}", "tiers", tiers, "root_key",
                            hex_encode(c->pk, 32, key), "root_unit", c->unit);
    hex_encode(c->pk, 32, idbuf);
    static const char *const everyone[] = {"*"};
    if (add_write(w, bodies, &n, "network", "config", cfg, everyone, err, errlen) ||
        add_write(w, bodies, &n, "units", c->unit, unit_body(c->unit, c->name, c->tier, NULL),
                  everyone, err, errlen) ||
        add_write(w, bodies, &n, "certs", idbuf, cert_body(c, c, hlc_wall_ms()), everyone, err,
                  errlen)) {
        for (size_t i = 0; i < n; i++)
            free(bodies[i]);
        return -1;
    }
    if (write_all(s, c, w, bodies, n, err, errlen))
        return -1;
    c->root = true;
    c->enrolled = true;
    memcpy(c->root_key, c->pk, 32);
    c->has_root_key = true;
    return 0;
}

typedef struct {
    store_input *in;
    size_t n, cap;
    const unit_tree *tree;
    link_kind kind;
    const char *from, *to; /* the parent's and the child's unit */
} entry_list;

/* Keeps a copy of each membership entry a link from the parent would send
 * the child. */
static int collect_membership(void *ctx, const uint8_t *bytes, size_t len)
{
    entry_list *l = ctx;
    entry_view e;
    if (entry_decode(bytes, len, &e, NULL, 0))
        return 0;
    bool wanted = route_is_membership(&e) && route_should_send(l->tree, &e, l->kind, l->from, l->to);
    entry_view_free(&e);
    if (!wanted)
        return 0;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        store_input *bigger = realloc(l->in, l->cap * sizeof *bigger);
        if (!bigger)
            return -1;
        l->in = bigger;
    }
    uint8_t *copy = malloc(len);
    if (!copy)
        return -1;
    memcpy(copy, bytes, len);
    l->in[l->n++] = (store_input){copy, len};
    return 0;
}

/* Applies to the child's store the membership entries the parent holds
 * that the routing rule gives the child (node/network.h). */
static int copy_membership(store *from, store *to, const node_config *parent,
                           const node_config *child, char *err, size_t errlen)
{
    entry_list l = {.from = parent->unit, .to = child->unit};
    unit_tree *t = unit_tree_new();
    int rc = !t || unit_tree_load(t, from) ? -1 : 0;
    if (rc) {
        snprintf(err, errlen, "cannot read the parent's unit tree");
    } else {
        l.tree = t;
        l.kind = route_link_kind(t, parent->unit, child->unit);
        rc = store_log_scan(from, NULL, collect_membership, &l);
        if (rc)
            snprintf(err, errlen, "cannot read the parent's membership entries");
    }
    if (!rc && l.n) {
        apply_result *res = calloc(l.n, sizeof *res);
        rc = res ? store_apply(to, l.in, l.n, 0, res, NULL, err, errlen) : -1;
        for (size_t i = 0; !rc && i < l.n; i++)
            if (res[i] != APPLY_ADDED && res[i] != APPLY_DUPLICATE) {
                snprintf(err, errlen, "the child refused a membership entry: %s",
                         apply_result_str(res[i]));
                rc = -1;
            }
        free(res);
    }
    for (size_t i = 0; i < l.n; i++)
        free((void *)l.in[i].bytes);
    free(l.in);
    unit_tree_free(t);
    return rc;
}

/* True when child is a second server of parent's own unit (a mirror). */
static bool is_mirror(const node_config *child, const node_config *parent)
{
    return !strcmp(child->unit, parent->unit) && !strcmp(child->tier, parent->tier);
}

static int check_enrolment(const node_config *child, const node_config *parent, char *err,
                           size_t errlen)
{
    if (!parent->enrolled) {
        snprintf(err, errlen,
                 "the parent %s (unit %s) is not enrolled itself: enrol it with its own parent "
                 "first, or make it the root with init --root",
                 parent->dir, parent->unit);
        return -1;
    }
    if (child->enrolled || child->root) {
        snprintf(err, errlen, "%s (unit %s) is already a member of a network", child->dir,
                 child->unit);
        return -1;
    }
    if (is_mirror(child, parent)) {
        if (child->parent_unit[0] && strcmp(child->parent_unit, parent->parent_unit)) {
            snprintf(err, errlen,
                     "%s is a second server of unit %s, whose parent unit is %s, but it was set "
                     "up with --parent-unit %s",
                     child->dir, child->unit, parent->parent_unit[0] ? parent->parent_unit : "none",
                     child->parent_unit);
            return -1;
        }
        return 0;
    }
    if (child->parent_unit[0] && strcmp(child->parent_unit, parent->unit)) {
        snprintf(err, errlen,
                 "%s was set up with --parent-unit %s, but %s serves unit %s: enrol it with "
                 "the node of unit %s",
                 child->dir, child->parent_unit, parent->dir, parent->unit, child->parent_unit);
        return -1;
    }
    int ci = node_tier_index(parent, child->tier), pi = node_tier_index(parent, parent->tier);
    if (ci < 0) {
        char list[NODE_MAX_TIERS * NODE_CODE_MAX] = "";
        for (size_t i = 0; i < parent->ntiers; i++) {
            strcat(list, i ? "," : "");
            strcat(list, parent->tiers[i]);
        }
        snprintf(err, errlen, "tier \"%s\" of %s is not one of this network's tiers (%s)",
                 child->tier, child->dir, list);
        return -1;
    }
    if (ci <= pi) {
        snprintf(err, errlen,
                 "a %s unit cannot be the child of a %s unit: a child's tier must be below its "
                 "parent's",
                 child->tier, parent->tier);
        return -1;
    }
    if (!strcmp(child->unit, parent->unit)) {
        snprintf(err, errlen,
                 "the child and the parent have the same unit code %s but different tiers: a "
                 "second server of a unit must have the unit's tier",
                 child->unit);
        return -1;
    }
    return 0;
}

int network_enroll_local(node_config *child, const node_config *parent, char *err,
                         size_t errlen)
{
    if (check_enrolment(child, parent, err, errlen))
        return -1;
    store *ps = NULL, *cs = NULL;
    int rc = -1;
    if (node_store_open(parent, &ps, false, err, errlen) ||
        node_store_open(child, &cs, false, err, errlen))
        goto out;
    bool mirror = is_mirror(child, parent);
    snprintf(child->parent_unit, sizeof child->parent_unit, "%s",
             mirror ? parent->parent_unit : parent->unit);
    store_write w[2];
    uint8_t *bodies[2] = {0};
    size_t n = 0;
    char idbuf[65], aud[NETWORK_AUDIENCE_MAX];
    const char *const to[] = {aud};
    hex_encode(child->pk, 32, idbuf);
    if (network_audience(ps, parent->unit, aud)) {
        snprintf(err, errlen, "the parent %s holds no network configuration: its store is "
                              "damaged; restore it from a backup",
                 parent->dir);
        goto out;
    }
    /* a mirror serves an existing unit: only its key needs a certificate */
    if ((!mirror && add_write(w, bodies, &n, "units", child->unit,
                              unit_body(child->unit, child->name, child->tier, parent->unit), to,
                              err, errlen)) ||
        add_write(w, bodies, &n, "certs", idbuf, cert_body(child, parent, hlc_wall_ms()), to, err,
                  errlen)) {
        for (size_t i = 0; i < n; i++)
            free(bodies[i]);
        goto out;
    }
    if (write_all(ps, parent, w, bodies, n, err, errlen) ||
        copy_membership(ps, cs, parent, child, err, errlen))
        goto out;
    child->ntiers = parent->ntiers;
    memcpy(child->tiers, parent->tiers, sizeof child->tiers);
    memcpy(child->root_key, parent->root_key, 32);
    child->has_root_key = parent->has_root_key;
    child->enrolled = true;
    rc = node_config_save(child, err, errlen);
out:
    store_close(ps);
    store_close(cs);
    return rc;
}

int network_unit_of_key(store *s, const uint8_t key[ENTRY_KEY_BYTES], char *unit)
{
    char id[65], err[128];
    uint8_t *rec;
    size_t len;
    int rc = store_record_get(s, "certs", hex_encode(key, 32, id), &rec, &len);
    if (rc)
        return rc;
    json_t *j = record_to_json(rec, len, id, 64, err, sizeof err);
    free(rec);
    const char *u = j ? json_string_value(json_object_get(j, "unit")) : NULL;
    rc = u && strlen(u) < NODE_CODE_MAX ? 0 : 1;
    if (!rc)
        snprintf(unit, NODE_CODE_MAX, "%s", u);
    json_decref(j);
    return rc;
}

int network_revoke(const node_config *c, store *s, const uint8_t key[ENTRY_KEY_BYTES],
                   const char *audience, uint64_t *upto, char *err, size_t errlen)
{
    store_origin o = {0};
    *upto = store_origin_get(s, key, &o) == 0 ? o.max_seq : 0;
    char hex[2 * ENTRY_KEY_BYTES + 1];
    json_t *body = json_pack("{s:I}", "upto_seq", (json_int_t)*upto);
    uint8_t *packed;
    size_t len;
    int rc = mpjson_pack_object(body, &packed, &len, err, errlen);
    json_decref(body);
    if (rc)
        return -1;
    const char *const to[] = {audience};
    store_write w = {"certs", hex_encode(key, ENTRY_KEY_BYTES, hex), ENTRY_OP_DELETE, packed, len,
                     to, 1};
    store_author a = node_author(c);
    rc = store_write_local(s, &a, &w, 1, NULL, err, errlen);
    free(packed);
    return rc;
}
