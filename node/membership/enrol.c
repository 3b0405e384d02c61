/*
 * enrol.c - enrolment and rotation requests: signing and checking the wire
 * format, and the parent's table of requests. See enrol.h.
 */
#include "node/membership/enrol.h"
#include "lib/hex.h"
#include "node/membership/fingerprint.h"
#include "node/membership/network.h"
#include "storage/record.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENROL_KEEP_MAX 1024 /* request records kept; refused ones beyond go first */

uint64_t enrol_pending_ttl_ms(void)
{
    const char *v = getenv("LT_ENROL_PENDING_TTL_S");
    char *end;
    unsigned long long secs = v && *v ? strtoull(v, &end, 10) : 0;
    if (!secs || *end || secs > UINT64_MAX / 1000)
        return ENROL_PENDING_TTL_MS;
    return secs * 1000;
}

/* rec as read now: a pending request older than the TTL shows "expired"
 * with the reason (the stored record stays as it was; expiry is a matter
 * of the clock). Returns rec. */
static json_t *record_aged(json_t *rec)
{
    const char *state = json_string_value(json_object_get(rec, "state"));
    json_int_t at = json_integer_value(json_object_get(rec, "received_at"));
    if (rec && state && !strcmp(state, "pending") && at >= 0 &&
        (uint64_t)at + enrol_pending_ttl_ms() < hlc_wall_ms()) {
        json_object_set_new(rec, "state", json_string("expired"));
        json_object_set_new(rec, "reason",
                            json_string("no admin decided it in time; the node may ask again"));
    }
    return rec;
}

static const char *kind_name(enrol_kind k)
{
    return k == ENROL_ROTATE ? "rotate" : "enrol";
}

json_t *enrol_request_sign(const enrol_request *r, const uint8_t sk[ENTRY_SECRET_BYTES],
                           const uint8_t *new_sk)
{
    char key[65], nk[65], sig[2 * crypto_sign_BYTES + 1];
    json_t *p =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:I}", "kind", kind_name(r->kind), "key",
                  hex_encode(r->key, 32, key), "unit", r->unit, "name", r->name, "tier", r->tier,
                  "parent_unit", r->parent_unit[0] ? json_string(r->parent_unit) : json_null(),
                  "at", (json_int_t)r->at_ms);
    if (p && r->again)
        json_object_set_new(p, "again", json_true());
    if (p && r->kind == ENROL_ROTATE) {
        json_object_set_new(p, "new_key", json_string(hex_encode(r->new_key, 32, nk)));
        json_object_set_new(p, "upto_seq", json_integer((json_int_t)r->upto_seq));
    }
    char *text = p ? json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(p);
    if (!text)
        return NULL;
    uint8_t s[crypto_sign_BYTES];
    crypto_sign_detached(s, NULL, (const uint8_t *)text, strlen(text), sk);
    json_t *body = json_pack("{s:s, s:s}", "payload", text, "sig", hex_encode(s, sizeof s, sig));
    if (body && new_sk) {
        crypto_sign_detached(s, NULL, (const uint8_t *)text, strlen(text), new_sk);
        json_object_set_new(body, "new_sig", json_string(hex_encode(s, sizeof s, sig)));
    }
    free(text);
    return body;
}

/* Copies string field name of j into out; false when absent, not a string
 * or too long (required) or not valid per ok(). */
static bool get_str(json_t *j, const char *name, char *out, size_t cap, bool required,
                    bool (*ok)(const char *s, size_t len))
{
    json_t *v = json_object_get(j, name);
    if (!v || json_is_null(v)) {
        out[0] = '\0';
        return !required;
    }
    if (!json_is_string(v) || json_string_length(v) >= cap || !json_string_length(v) ||
        (ok && !ok(json_string_value(v), json_string_length(v))))
        return false;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return true;
}

static bool get_hex(json_t *j, const char *name, uint8_t *out, size_t n)
{
    const char *v = json_string_value(json_object_get(j, name));
    return v && strlen(v) == 2 * n && hex_decode(v, out, n) == 0;
}

static bool verify(const char *payload, const uint8_t sig[crypto_sign_BYTES], const uint8_t key[32])
{
    return crypto_sign_verify_detached(sig, (const uint8_t *)payload, strlen(payload), key) == 0;
}

int enrol_request_open(const uint8_t *body, size_t len, enrol_request *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    json_error_t je;
    json_t *outer = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je), *p = NULL;
    const char *payload = json_string_value(json_object_get(outer, "payload"));
    uint8_t sig[crypto_sign_BYTES], nsig[crypto_sign_BYTES];
    int rc = -1;
    if (!outer) {
        snprintf(err, errlen,
                 "the request is not JSON (%s at character %d): send "
                 "{\"payload\": ..., \"sig\": ...} as lienthong enroll does",
                 je.text, je.position);
        goto out;
    }
    if (!payload || !get_hex(outer, "sig", sig, sizeof sig)) {
        snprintf(err, errlen,
                 "the request needs \"payload\" (the signed JSON text) and "
                 "\"sig\" (128 hex digits)");
        goto out;
    }
    p = json_loads(payload, JSON_REJECT_DUPLICATES, &je);
    const char *kind = json_string_value(json_object_get(p, "kind"));
    json_t *at = json_object_get(p, "at"), *upto = json_object_get(p, "upto_seq");
    r->kind = kind && !strcmp(kind, "enrol")    ? ENROL_ENROL
              : kind && !strcmp(kind, "rotate") ? ENROL_ROTATE
                                                : 0;
    if (!json_is_object(p) || !r->kind || !get_hex(p, "key", r->key, 32) ||
        !get_str(p, "unit", r->unit, sizeof r->unit, true, entry_unit_valid) ||
        !get_str(p, "name", r->name, sizeof r->name, true, NULL) ||
        !get_str(p, "tier", r->tier, sizeof r->tier, true, entry_unit_valid) ||
        !get_str(p, "parent_unit", r->parent_unit, sizeof r->parent_unit, false,
                 entry_unit_valid) ||
        !json_is_integer(at) || json_integer_value(at) < 0) {
        snprintf(err, errlen,
                 "the payload needs kind (enrol or rotate), key (64 hex digits), "
                 "unit, name, tier, parent_unit (code or null) and at (ms)");
        goto out;
    }
    r->at_ms = (uint64_t)json_integer_value(at);
    r->again = json_is_true(json_object_get(p, "again"));
    if (r->kind == ENROL_ROTATE &&
        (!get_hex(p, "new_key", r->new_key, 32) || !json_is_integer(upto) ||
         json_integer_value(upto) < 0 || !get_hex(outer, "new_sig", nsig, sizeof nsig))) {
        snprintf(err, errlen, "a rotation needs new_key, upto_seq and new_sig (by the new key)");
        goto out;
    }
    r->upto_seq = r->kind == ENROL_ROTATE ? (uint64_t)json_integer_value(upto) : 0;
    if (!verify(payload, sig, r->key))
        snprintf(err, errlen,
                 "the signature does not match the key: the request was not made "
                 "by the holder of key %.16s…",
                 json_string_value(json_object_get(p, "key")));
    else if (r->kind == ENROL_ROTATE && !verify(payload, nsig, r->new_key))
        snprintf(err, errlen, "new_sig does not match new_key");
    else if (r->kind == ENROL_ROTATE && !memcmp(r->key, r->new_key, 32))
        snprintf(err, errlen, "a rotation needs a new key different from the current one");
    else
        rc = 0;
out:
    json_decref(p);
    json_decref(outer);
    return rc;
}

/* ---- the parent's table ------------------------------------------------------ */

static int save(store *s, json_t *rec, char *err, size_t errlen)
{
    const char *id = json_string_value(json_object_get(rec, "id"));
    char *text = json_dumps(rec, JSON_COMPACT);
    int rc = text && id
                 ? store_local_put(s, "enrol", id, strlen(id), text, strlen(text), err, errlen)
                 : -1;
    free(text);
    return rc;
}

int enrol_find(store *s, const char *id, json_t **rec)
{
    uint8_t *v;
    size_t len;
    if (strlen(id) != ENROL_ID_LEN - 1)
        return 1;
    int rc = store_local_get(s, "enrol", id, strlen(id), &v, &len);
    if (rc)
        return rc;
    *rec = record_aged(json_loadb((const char *)v, len, 0, NULL));
    free(v);
    return *rec ? 0 : -1;
}

typedef struct {
    void (*fn)(void *ctx, json_t *rec);
    void *ctx;
} list_ctx;

static int list_one(void *ctx, const uint8_t *key, size_t keylen, const uint8_t *v, size_t len)
{
    list_ctx *l = ctx;
    json_t *rec = record_aged(json_loadb((const char *)v, len, 0, NULL));
    if (rec)
        l->fn(l->ctx, rec);
    json_decref(rec);
    return 0;
}

int enrol_list(store *s, void (*fn)(void *ctx, json_t *rec), void *ctx)
{
    list_ctx l = {fn, ctx};
    return store_local_scan(s, "enrol", list_one, &l) < 0 ? -1 : 0;
}

/* What submit learns from the table: the node's latest request, how many
 * wait, how many are kept. */
typedef struct {
    const enrol_request *r;
    const char *remote;
    json_t *earlier;
    size_t pending, pending_here, kept;
} scan_state;

static void scan_one(void *ctx, json_t *rec)
{
    scan_state *st = ctx;
    char key[65], nk[65];
    const char *state = json_string_value(json_object_get(rec, "state"));
    st->kept++;
    if (state && !strcmp(state, "expired"))
        return; /* no longer waits, and is no answer to a new ask */
    bool refused = state && !strcmp(state, "refused");
    bool pending = state && !strcmp(state, "pending");
    const char *from = json_string_value(json_object_get(rec, "remote"));
    st->pending += pending;
    st->pending_here += pending && from && st->remote && !strcmp(from, st->remote);
    const char *k = json_string_value(json_object_get(rec, "key"));
    const char *n = json_string_value(json_object_get(rec, "new_key"));
    const char *kind = json_string_value(json_object_get(rec, "kind"));
    if (!(refused && st->r->again) && k && kind && !strcmp(kind, kind_name(st->r->kind)) &&
        !strcmp(k, hex_encode(st->r->key, 32, key)) &&
        (st->r->kind != ENROL_ROTATE || (n && !strcmp(n, hex_encode(st->r->new_key, 32, nk)))) &&
        (!st->earlier || json_integer_value(json_object_get(rec, "received_at")) >=
                             json_integer_value(json_object_get(st->earlier, "received_at")))) {
        json_decref(st->earlier);
        st->earlier = json_incref(rec);
    }
}

/* The node a request describes, as enrolment checks see it. */
static void request_node(const enrol_request *r, const uint8_t *key, node_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->dir, sizeof c->dir, "the requesting node");
    snprintf(c->unit, sizeof c->unit, "%s", r->unit);
    snprintf(c->name, sizeof c->name, "%s", r->name);
    snprintf(c->tier, sizeof c->tier, "%s", r->tier);
    snprintf(c->parent_unit, sizeof c->parent_unit, "%s", r->parent_unit);
    memcpy(c->pk, key, 32);
}

static json_t *new_record(const enrol_request *r, const char *remote)
{
    uint8_t rnd[5];
    char id[ENROL_ID_LEN], key[65], nk[65], fp[FINGERPRINT_LEN];
    randombytes_buf(rnd, sizeof rnd);
    fingerprint_base32(rnd, sizeof rnd, id);
    const uint8_t *subject = r->kind == ENROL_ROTATE ? r->new_key : r->key;
    json_t *rec = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:s}", "id", id, "kind",
        kind_name(r->kind), "state", "pending", "key", hex_encode(r->key, 32, key), "fingerprint",
        fingerprint_key(subject, fp), "unit", r->unit, "name", r->name, "tier", r->tier,
        "parent_unit", r->parent_unit[0] ? json_string(r->parent_unit) : json_null(), "received_at",
        (json_int_t)hlc_wall_ms(), "remote", remote ? remote : "local");
    if (rec && r->kind == ENROL_ROTATE) {
        json_object_set_new(rec, "new_key", json_string(hex_encode(r->new_key, 32, nk)));
        json_object_set_new(rec, "upto_seq", json_integer((json_int_t)r->upto_seq));
    }
    return rec;
}

int enrol_submit(const node_config *parent, store *s, const enrol_request *r, const char *remote,
                 json_t **rec, char *err, size_t errlen)
{
    *rec = NULL;
    if (!parent->enrolled) {
        snprintf(err, errlen,
                 "this node (unit %s) is not a member of a network yet: it cannot "
                 "enrol others",
                 parent->unit);
        return 422;
    }
    scan_state st = {r, remote, NULL, 0, 0, 0};
    if (enrol_list(s, scan_one, &st)) {
        json_decref(st.earlier);
        snprintf(err, errlen, "cannot read the enrolment requests kept here");
        return 500;
    }
    if (st.earlier) {
        *rec = st.earlier;
        return 200;
    }
    if (remote && st.pending_here >= ENROL_PENDING_PER_ADDR) {
        snprintf(err, errlen,
                 "%zu enrolment requests from %s already wait for an admin, the most one address "
                 "may have; ask the admin to decide them (lienthong approve --list), or wait "
                 "for them to expire",
                 st.pending_here, remote);
        return 503;
    }
    if (st.pending >= ENROL_PENDING_MAX || st.kept >= ENROL_KEEP_MAX) {
        snprintf(err, errlen,
                 "%zu enrolment requests are kept here already: an admin must "
                 "approve or refuse them first (lienthong approve --list)",
                 st.kept);
        return 503;
    }
    /* what can never be approved is refused now, with the reason */
    node_config child;
    request_node(r, r->kind == ENROL_ROTATE ? r->new_key : r->key, &child);
    if (r->kind == ENROL_ENROL && network_check_enrolment(&child, parent, err, errlen))
        return 422;
    json_t *n = new_record(r, remote);
    if (!n || save(s, n, err, errlen)) {
        json_decref(n);
        return 500;
    }
    if (r->kind == ENROL_ROTATE) { /* approved at once when the checks pass */
        json_t *done = NULL;
        const char *id = json_string_value(json_object_get(n, "id"));
        if (enrol_approve(parent, s, id, &done, err, errlen)) {
            enrol_refuse(s, id, err, &done, NULL, 0);
            json_decref(n);
            json_decref(done);
            return 422;
        }
        json_decref(n);
        n = done;
    }
    *rec = n;
    return 201;
}

/* Loads pending request id into *rec. 0, 1 unknown, -1 (err). */
static int load_pending(store *s, const char *id, json_t **rec, char *err, size_t errlen)
{
    int rc = enrol_find(s, id, rec);
    if (rc == 1)
        snprintf(err, errlen, "no enrolment request %s here: lienthong approve --list shows them",
                 id);
    if (rc)
        return rc;
    const char *state = json_string_value(json_object_get(*rec, "state"));
    if (state && !strcmp(state, "pending"))
        return 0;
    snprintf(err, errlen, "request %s is already %s", id, state ? state : "decided");
    json_decref(*rec);
    *rec = NULL;
    return -1;
}

/* Rebuilds the request a record holds. */
static int record_request(json_t *rec, enrol_request *r)
{
    memset(r, 0, sizeof *r);
    const char *kind = json_string_value(json_object_get(rec, "kind"));
    r->kind = kind && !strcmp(kind, "rotate") ? ENROL_ROTATE : ENROL_ENROL;
    json_t *u = json_object_get(rec, "upto_seq");
    r->upto_seq = json_is_integer(u) ? (uint64_t)json_integer_value(u) : 0;
    bool ok = get_hex(rec, "key", r->key, 32) &&
              (r->kind == ENROL_ENROL || get_hex(rec, "new_key", r->new_key, 32)) &&
              get_str(rec, "unit", r->unit, sizeof r->unit, true, NULL) &&
              get_str(rec, "name", r->name, sizeof r->name, true, NULL) &&
              get_str(rec, "tier", r->tier, sizeof r->tier, true, NULL) &&
              get_str(rec, "parent_unit", r->parent_unit, sizeof r->parent_unit, false, NULL);
    return ok ? 0 : -1;
}

/* A rotation: the current key's certificate must be held here, live, and
 * for the unit the request names; the new certificate keeps its tier and
 * parent unit. Fills rot's cut-off. */
static int rotation_check(store *s, const enrol_request *r, node_config *child,
                          network_rotation *rot, char *err, size_t errlen)
{
    char hex[65], why[128];
    uint8_t *rec;
    size_t len;
    json_t *j = NULL;
    if (store_record_get(s, "certs", hex_encode(r->key, 32, hex), &rec, &len) == 0) {
        j = record_is_deleted(rec, len) ? NULL : record_to_json(rec, len, hex, 64, why, sizeof why);
        free(rec);
    }
    const char *unit = json_string_value(json_object_get(j, "unit"));
    const char *tier = json_string_value(json_object_get(j, "tier"));
    const char *pu = json_string_value(json_object_get(j, "parent_unit"));
    int rc = -1;
    if (!unit || !tier)
        snprintf(err, errlen,
                 "no live certificate of key %.16s… is held here: rotate with the "
                 "node that certified it",
                 hex);
    else if (json_object_get(j, "ended"))
        snprintf(err, errlen,
                 "the certificate of key %.16s… has ended (%s): a revoked or "
                 "replaced key cannot rotate",
                 hex, json_string_value(json_object_get(j, "ended")));
    else if (strcmp(unit, r->unit))
        snprintf(err, errlen, "key %.16s… is certified for unit %s, not %s", hex, unit, r->unit);
    else {
        snprintf(child->tier, sizeof child->tier, "%s", tier);
        snprintf(child->parent_unit, sizeof child->parent_unit, "%s", pu ? pu : "");
        store_origin o;
        rot->old_key = r->key;
        rot->upto_seq = r->upto_seq;
        /* entries of the old key this node already holds stay valid too */
        if (store_origin_get(s, r->key, &o) == 0 && o.max_seq > rot->upto_seq)
            rot->upto_seq = o.max_seq;
        rc = 0;
    }
    json_decref(j);
    return rc;
}

static json_t *entries_json(const store_input *in, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        size_t cap = sodium_base64_ENCODED_LEN(in[i].len, sodium_base64_VARIANT_ORIGINAL);
        char *b = malloc(cap);
        if (!b) {
            json_decref(a);
            return NULL;
        }
        sodium_bin2base64(b, cap, in[i].bytes, in[i].len, sodium_base64_VARIANT_ORIGINAL);
        json_array_append_new(a, json_string(b));
        free(b);
    }
    return a;
}

/* The entries a rotated node needs: the ones just written (they are its
 * unit's; it holds the rest of the chain already). */
static int written_entries(store *s, const node_config *parent, const uint64_t *seqs, size_t n,
                           store_input *out)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t *b;
        size_t len;
        if (store_entry_get(s, parent->pk, seqs[i], &b, &len)) {
            for (size_t k = 0; k < i; k++)
                free((void *)out[k].bytes);
            return -1;
        }
        out[i] = (store_input){b, len};
    }
    return 0;
}

static int decide(store *s, json_t *rec, const char *state, const char *reason, json_t *entries,
                  char *err, size_t errlen)
{
    json_object_set_new(rec, "state", json_string(state));
    json_object_set_new(rec, "decided_at", json_integer((json_int_t)hlc_wall_ms()));
    if (reason)
        json_object_set_new(rec, "reason", json_string(reason));
    if (entries)
        json_object_set_new(rec, "entries", entries);
    return save(s, rec, err, errlen);
}

int enrol_approve(const node_config *parent, store *s, const char *id, json_t **out, char *err,
                  size_t errlen)
{
    json_t *rec;
    int rc = load_pending(s, id, &rec, err, errlen);
    if (rc)
        return rc;
    enrol_request r;
    node_config child;
    network_rotation rot;
    uint64_t seqs[3];
    size_t nseqs = 0, n = 0;
    store_input *in = NULL, written[3];
    rc = -1;
    if (record_request(rec, &r)) {
        snprintf(err, errlen, "request %s is damaged: refuse it", id);
        goto out;
    }
    request_node(&r, r.kind == ENROL_ROTATE ? r.new_key : r.key, &child);
    if (r.kind == ENROL_ROTATE) {
        if (rotation_check(s, &r, &child, &rot, err, errlen) ||
            network_certify(parent, s, &child, &rot, seqs, &nseqs, err, errlen) ||
            written_entries(s, parent, seqs, nseqs, written))
            goto out;
        in = written;
        n = nseqs;
    } else if (network_certify(parent, s, &child, NULL, NULL, NULL, err, errlen) ||
               network_membership_for(s, child.pk, &in, &n, err, errlen)) {
        goto out;
    }
    json_t *entries = entries_json(in, n);
    rc = entries ? decide(s, rec, "approved", NULL, entries, err, errlen) : -1;
    for (size_t i = 0; i < n; i++)
        free((void *)in[i].bytes);
    if (in != written)
        free(in);
out:
    if (!rc && out)
        *out = json_incref(rec);
    json_decref(rec);
    return rc;
}

int enrol_refuse(store *s, const char *id, const char *reason, json_t **out, char *err,
                 size_t errlen)
{
    json_t *rec;
    char scratch[256];
    if (!err) {
        err = scratch;
        errlen = sizeof scratch;
    }
    int rc = load_pending(s, id, &rec, err, errlen);
    if (rc)
        return rc;
    rc = decide(s, rec, "refused", reason && *reason ? reason : "refused by an admin", NULL, err,
                errlen);
    if (!rc && out)
        *out = json_incref(rec);
    json_decref(rec);
    return rc;
}

json_t *enrol_public(json_t *rec)
{
    json_t *p = json_deep_copy(rec);
    json_object_del(p, "remote");
    return p;
}
