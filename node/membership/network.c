/*
 * network.c - writing and copying network membership entries (network
 * config, units, certificates). The entry layouts are in network.h and
 * docs/protocol.md.
 */
#include "node/membership/network.h"
#include "lib/hex.h"
#include "lib/mpjson.h"
#include "replication/chain.h"
#include "replication/repl_node.h"
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
static int add_write(store_write *w, uint8_t **bodies, size_t *n, const char *coll, const char *id,
                     json_t *obj, const char *const *to, char *err, size_t errlen)
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

static json_t *unit_body(const char *code, const char *name, const char *tier, const char *parent)
{
    return json_pack("{s:s, s:s, s:s, s:o}", "code", code, "name", name, "tier", tier, "parent",
                     parent && *parent ? json_string(parent) : json_null());
}

static json_t *cert_body(const node_config *subject, const node_config *issuer, uint64_t now)
{
    char key[65], iss[65];
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:I, s:I}", "key",
                     hex_encode(subject->pk, 32, key), "unit", subject->unit, "name", subject->name,
                     "tier", subject->tier, "parent_unit",
                     subject->parent_unit[0] ? json_string(subject->parent_unit) : json_null(),
                     "issuer", hex_encode(issuer->pk, 32, iss), "not_before", (json_int_t)now,
                     "not_after", (json_int_t)(now + NETWORK_CERT_VALID_MS));
}

/* The fields a patch adds to a certificate that ends (see network_end_cert). */
static json_t *cert_end_body(const char *how, uint64_t upto, const uint8_t *by,
                             const uint8_t *successor, const char *reason, uint64_t now)
{
    char byhex[65], shex[65];
    return json_pack("{s:s, s:I, s:s, s:I, s:o, s:o}", "ended", how, "upto_seq", (json_int_t)upto,
                     "ended_by", hex_encode(by, 32, byhex), "ended_at", (json_int_t)now,
                     "successor",
                     successor ? json_string(hex_encode(successor, 32, shex)) : json_null(),
                     "reason", reason && *reason ? json_string(reason) : json_null());
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
} entry_list;

/* Appends a copy of the entry bytes to the list. */
static int collect_membership(void *ctx, const uint8_t *bytes, size_t len)
{
    entry_list *l = ctx;
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

/* The membership entries a link from the parent would send the child. */
typedef struct {
    entry_list l;
    const unit_tree *tree;
    link_kind kind;
    const char *from, *to; /* the parent's and the child's unit */
} routed_list;

static int collect_routed(void *ctx, const uint8_t *bytes, size_t len)
{
    routed_list *r = ctx;
    entry_view e;
    if (entry_decode(bytes, len, &e, NULL, 0))
        return 0;
    bool wanted =
        entry_is_membership(&e) && route_should_send(r->tree, &e, r->kind, r->from, r->to);
    entry_view_free(&e);
    return wanted ? collect_membership(&r->l, bytes, len) : 0;
}

/* Applies to the child's store the membership entries the parent holds
 * that the routing rule gives the child (node/membership/network.h). */
static int copy_membership(store *from, store *to, const node_config *parent,
                           const node_config *child, char *err, size_t errlen)
{
    routed_list r = {.from = parent->unit, .to = child->unit};
    unit_tree *t = unit_tree_new();
    int rc = !t || unit_tree_load(t, from) ? -1 : 0;
    if (rc) {
        snprintf(err, errlen, "cannot read the parent's unit tree");
    } else {
        r.tree = t;
        r.kind = route_link_kind(t, parent->unit, child->unit);
        rc = store_log_scan(from, NULL, collect_routed, &r);
        if (rc)
            snprintf(err, errlen, "cannot read the parent's membership entries");
    }
    entry_list l = r.l;
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

/* Finds a live certificate of unit other than except's (see
 * network_unit_holder). */
typedef struct {
    const char *unit;
    const uint8_t *except;
    uint8_t *holder;
    bool found;
} holder_find;

static int holder_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    holder_find *h = ctx;
    char err[64], hex[65];
    if (idlen != 64 || record_is_deleted(rec, len))
        return 0;
    json_t *j = record_to_json(rec, len, id, idlen, err, sizeof err);
    const char *u = j ? json_string_value(json_object_get(j, "unit")) : NULL;
    bool live = j && !json_object_get(j, "ended");
    memcpy(hex, id, 64);
    hex[64] = '\0';
    uint8_t key[32];
    if (u && live && !strcmp(u, h->unit) && !hex_decode(hex, key, 32) &&
        (!h->except || memcmp(key, h->except, 32))) {
        memcpy(h->holder, key, 32);
        h->found = true;
    }
    json_decref(j);
    return h->found;
}

int network_unit_holder(store *s, const char *unit, const uint8_t *except,
                        uint8_t holder[ENTRY_KEY_BYTES])
{
    holder_find h = {unit, except, holder, false};
    int rc = store_records(s, "certs", holder_one, &h);
    return rc < 0 ? -1 : h.found ? 0 : 1;
}

int network_certify(const node_config *parent, store *ps, node_config *child,
                    const network_rotation *rot, uint64_t *seqs, size_t *nseqs, char *err,
                    size_t errlen)
{
    bool mirror = is_mirror(child, parent);
    if (check_enrolment(child, parent, err, errlen))
        return -1;
    uint8_t holder[ENTRY_KEY_BYTES];
    int taken = mirror || rot ? 1 : network_unit_holder(ps, child->unit, child->pk, holder);
    char hex[65], idbuf[65], oldbuf[65];
    if (taken <= 0) {
        snprintf(err, errlen,
                 taken < 0 ? "cannot read the certificates held here"
                           : "unit %s already has a certified node (key %.16s…): a unit rotates "
                             "its key with lienthong rotate, or revoke the old key first",
                 child->unit, hex_encode(holder, 32, hex));
        return -1;
    }
    snprintf(child->parent_unit, sizeof child->parent_unit, "%s",
             mirror ? parent->parent_unit : parent->unit);
    store_write w[3];
    uint8_t *bodies[3] = {0};
    size_t n = 0;
    uint64_t now = hlc_wall_ms();
    char aud[NETWORK_AUDIENCE_MAX];
    const char *const to[] = {aud};
    if (network_audience(ps, parent->unit, aud)) {
        snprintf(err, errlen,
                 "the parent %s holds no network configuration: its store is "
                 "damaged; restore it from a backup",
                 parent->dir);
        return -1;
    }
    hex_encode(child->pk, 32, idbuf);
    json_t *cert = cert_body(child, parent, now);
    if (rot)
        json_object_set_new(cert, "predecessor", json_string(hex_encode(rot->old_key, 32, oldbuf)));
    /* a mirror serves an existing unit, a rotated key too: only the key
     * needs a certificate */
    int bad = (!mirror && !rot &&
               add_write(w, bodies, &n, "units", child->unit,
                         unit_body(child->unit, child->name, child->tier, parent->unit), to, err,
                         errlen)) ||
              (rot && add_write(w, bodies, &n, "certs", oldbuf,
                                cert_end_body("superseded", rot->upto_seq, parent->pk, child->pk,
                                              NULL, now),
                                to, err, errlen)) ||
              add_write(w, bodies, &n, "certs", idbuf, cert, to, err, errlen);
    if (rot && !bad)
        w[0].op = ENTRY_OP_PATCH;
    if (bad) {
        for (size_t i = 0; i < n; i++)
            free(bodies[i]);
        return -1;
    }
    if (nseqs)
        *nseqs = n;
    store_author a = node_author(parent);
    int rc = store_write_local(ps, &a, w, n, seqs, err, errlen);
    for (size_t i = 0; i < n; i++)
        free(bodies[i]);
    return rc;
}

/* Records in the child's config what membership means for it: the
 * network's tiers and root key (from net) and that it is enrolled. */
static void join_record(node_config *child, const node_config *net)
{
    child->ntiers = net->ntiers;
    memcpy(child->tiers, net->tiers, sizeof child->tiers);
    memcpy(child->root_key, net->root_key, 32);
    child->has_root_key = net->has_root_key;
    child->enrolled = true;
}

int network_check_enrolment(const node_config *child, const node_config *parent, char *err,
                            size_t errlen)
{
    return check_enrolment(child, parent, err, errlen);
}

int network_enroll_local(node_config *child, const node_config *parent, char *err, size_t errlen)
{
    if (check_enrolment(child, parent, err, errlen))
        return -1;
    store *ps = NULL, *cs = NULL;
    int rc = -1;
    if (node_store_open(parent, &ps, false, err, errlen) ||
        node_store_open(child, &cs, false, err, errlen))
        goto out;
    if (network_certify(parent, ps, child, NULL, NULL, NULL, err, errlen) ||
        copy_membership(ps, cs, parent, child, err, errlen))
        goto out;
    join_record(child, parent);
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

int network_end_cert(const node_config *author, store *s, const uint8_t key[ENTRY_KEY_BYTES],
                     const char *audience, const char *reason, uint64_t *upto, char *err,
                     size_t errlen)
{
    store_origin o;
    int rc = store_origin_get(s, key, &o);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read the log positions held here");
        return -1;
    }
    *upto = rc == 0 ? o.max_seq : 0;
    store_write w;
    uint8_t *body = NULL;
    size_t n = 0;
    char hex[65];
    const char *const to[] = {audience};
    hex_encode(key, 32, hex);
    if (add_write(&w, &body, &n, "certs", hex,
                  cert_end_body("revoked", *upto, author->pk, NULL, reason, hlc_wall_ms()), to, err,
                  errlen))
        return -1;
    w.op = ENTRY_OP_PATCH;
    return write_all(s, author, &w, &body, 1, err, errlen);
}

/* Collects the entries a new member needs (see network_membership_for). */
typedef struct {
    entry_list l;
    char keys[CHAIN_MAX][65]; /* certificates of the chain */
    size_t nkeys;
    char units[32][NODE_CODE_MAX]; /* the member's unit and its ancestors */
    size_t nunits;
} needed;

static bool str_in(const msgpack_object_str *v, const char *list, size_t n, size_t stride)
{
    for (size_t i = 0; i < n; i++) {
        const char *x = list + i * stride;
        if (v->size == strlen(x) && !memcmp(v->ptr, x, v->size))
            return true;
    }
    return false;
}

static int needed_one(void *ctx, const uint8_t *bytes, size_t len)
{
    needed *nd = ctx;
    entry_view e;
    if (entry_decode(bytes, len, &e, NULL, 0))
        return 0;
    bool want = (e.coll.size == 7 && !memcmp(e.coll.ptr, "network", 7)) ||
                (e.coll.size == 5 && !memcmp(e.coll.ptr, "certs", 5) &&
                 str_in(&e.id, &nd->keys[0][0], nd->nkeys, sizeof nd->keys[0])) ||
                (e.coll.size == 5 && !memcmp(e.coll.ptr, "units", 5) &&
                 str_in(&e.id, &nd->units[0][0], nd->nunits, sizeof nd->units[0]));
    entry_view_free(&e);
    return want ? collect_membership(&nd->l, bytes, len) : 0;
}

int network_membership_for(store *s, const uint8_t key[ENTRY_KEY_BYTES], store_input **out,
                           size_t *n, char *err, size_t errlen)
{
    needed *nd = calloc(1, sizeof *nd);
    store_input chain[CHAIN_MAX];
    int c = nd ? chain_collect(s, key, chain, err, errlen) : -1;
    if (c < 0) {
        free(nd);
        return -1;
    }
    char unit[NODE_CODE_MAX] = "";
    for (int i = 0; i < c; i++) {
        hex_encode(i == 0 ? key : chain[i - 1].bytes + 13, 32, nd->keys[nd->nkeys++]);
        entry_view e;
        /* every certificate of the chain names a unit on the way up */
        if (!entry_decode(chain[i].bytes, chain[i].len, &e, NULL, 0)) {
            for (uint32_t k = 0; k < e.body.size; k++) {
                const msgpack_object_kv *kv = &e.body.ptr[k];
                if (kv->key.via.str.size == 4 && !memcmp(kv->key.via.str.ptr, "unit", 4) &&
                    kv->val.type == MSGPACK_OBJECT_STR && kv->val.via.str.size < NODE_CODE_MAX &&
                    nd->nunits < 32) {
                    snprintf(unit, sizeof unit, "%.*s", (int)kv->val.via.str.size,
                             kv->val.via.str.ptr);
                    snprintf(nd->units[nd->nunits++], NODE_CODE_MAX, "%s", unit);
                }
            }
            entry_view_free(&e);
        }
    }
    for (int i = 0; i < c; i++)
        free((void *)chain[i].bytes);
    int rc = store_log_scan(s, NULL, needed_one, nd);
    if (rc) {
        snprintf(err, errlen, "cannot read the membership entries held here");
        for (size_t i = 0; i < nd->l.n; i++)
            free((void *)nd->l.in[i].bytes);
        free(nd->l.in);
    } else {
        *out = nd->l.in;
        *n = nd->l.n;
    }
    free(nd);
    return rc ? -1 : 0;
}

/* Reads the network's tiers and root key from the "network"/"config"
 * record into net. */
static int read_network(store *s, node_config *net, char *err, size_t errlen)
{
    uint8_t *rec;
    size_t len;
    char why[128];
    json_t *j = NULL;
    if (store_record_get(s, "network", "config", &rec, &len) == 0) {
        j = record_to_json(rec, len, "config", 6, why, sizeof why);
        free(rec);
    }
    json_t *tiers = json_object_get(j, "tiers"), *t;
    const char *rk = json_string_value(json_object_get(j, "root_key"));
    size_t i;
    int rc = -1;
    memset(net, 0, sizeof *net);
    if (!json_is_array(tiers) || json_array_size(tiers) < 2 ||
        json_array_size(tiers) > NODE_MAX_TIERS || !rk || hex_decode(rk, net->root_key, 32)) {
        snprintf(err, errlen,
                 "the network's configuration (tiers and root key) was not "
                 "received: enrol again");
        goto out;
    }
    json_array_foreach(tiers, i, t)
    {
        if (!json_is_string(t) || json_string_length(t) >= NODE_CODE_MAX)
            goto out;
        snprintf(net->tiers[net->ntiers++], NODE_CODE_MAX, "%s", json_string_value(t));
    }
    net->has_root_key = true;
    rc = 0;
out:
    json_decref(j);
    return rc;
}

int network_join(node_config *child, const store_input *entries, size_t n, const char *upstream,
                 char *err, size_t errlen)
{
    store *cs = NULL;
    apply_result *res = calloc(n ? n : 1, sizeof *res);
    int rc = res ? node_store_open(child, &cs, false, err, errlen) : -1;
    if (!rc)
        rc = store_apply(cs, entries, n, 0, res, NULL, err, errlen);
    for (size_t i = 0; !rc && i < n; i++)
        if (res[i] != APPLY_ADDED && res[i] != APPLY_DUPLICATE) {
            snprintf(err, errlen, "membership entry %zu from the parent was refused: %s", i,
                     apply_result_str(res[i]));
            rc = -1;
        }
    free(res);
    node_config net;
    store_input chain[CHAIN_MAX];
    char unit[NODE_CODE_MAX], why[256];
    int c = -1;
    if (!rc && !(rc = read_network(cs, &net, err, errlen)) &&
        (c = chain_collect(cs, child->pk, chain, err, errlen)) < 0)
        rc = -1;
    if (!rc && chain_verify(chain, (size_t)c, child->pk, net.root_key, hlc_wall_ms(), unit, why,
                            sizeof why)) {
        snprintf(err, errlen, "the certificate received does not verify: %s", why);
        rc = -1;
    }
    if (!rc && strcmp(unit, child->unit)) {
        snprintf(err, errlen, "the certificate received is for unit %s, not %s", unit, child->unit);
        rc = -1;
    }
    char parent_unit[NODE_CODE_MAX] = "";
    /* the parent unit is the certificate's (a mirror's is its unit's parent) */
    uint8_t *rec;
    size_t len;
    char hex[65];
    if (!rc && store_record_get(cs, "certs", hex_encode(child->pk, 32, hex), &rec, &len) == 0) {
        json_t *j = record_to_json(rec, len, hex, 64, why, sizeof why);
        free(rec);
        const char *pu = json_string_value(json_object_get(j, "parent_unit"));
        snprintf(parent_unit, sizeof parent_unit, "%s", pu ? pu : "");
        json_decref(j);
    }
    for (int i = 0; i < c; i++)
        free((void *)chain[i].bytes);
    store_close(cs);
    if (rc)
        return -1;
    join_record(child, &net);
    snprintf(child->parent_unit, sizeof child->parent_unit, "%s", parent_unit);
    bool known = false;
    for (size_t i = 0; upstream && i < child->nupstreams; i++)
        known = known || !strcmp(child->upstreams[i], upstream);
    if (upstream && !known) { /* the parent first, then what init was given */
        size_t keep =
            child->nupstreams < NODE_MAX_UPSTREAMS ? child->nupstreams : NODE_MAX_UPSTREAMS - 1;
        memmove(child->upstreams[1], child->upstreams[0], keep * sizeof child->upstreams[0]);
        snprintf(child->upstreams[0], NODE_URL_MAX, "%s", upstream);
        child->nupstreams = keep + 1;
    }
    return node_config_save(child, err, errlen);
}
