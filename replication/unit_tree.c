/*
 * unit_tree.c - open-addressing hash table of unit code -> parent code.
 * See unit_tree.h.
 */
#include "replication/unit_tree.h"
#include "lib/hex.h"
#include "storage/record.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define UNIT_MAX_DEPTH 32

typedef struct {
    char code[UNIT_CODE_CAP];
    char parent[UNIT_CODE_CAP];
    char successor[UNIT_CODE_CAP]; /* "merged_into": "" unless merged away */
    bool used;
} unit_slot;

/* A certificate that ended: revoked or superseded, with its cut-off. */
typedef struct {
    uint8_t key[ENTRY_KEY_BYTES];
    key_state state;
    uint64_t upto_seq;
} ended_key;

struct unit_tree {
    unit_slot *slots;
    size_t cap, n;
    ended_key *ended; /* sorted by key */
    size_t nended, capended;
};

static uint64_t unit_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

unit_tree *unit_tree_new(void)
{
    unit_tree *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cap = 64;
    t->slots = calloc(t->cap, sizeof *t->slots);
    if (!t->slots) {
        free(t);
        return NULL;
    }
    return t;
}

void unit_tree_free(unit_tree *t)
{
    if (!t)
        return;
    free(t->slots);
    free(t->ended);
    free(t);
}

static unit_slot *unit_find(const unit_tree *t, const char *code, size_t len)
{
    if (len >= UNIT_CODE_CAP)
        return NULL;
    size_t i = unit_hash(code, len) & (t->cap - 1);
    while (t->slots[i].used) {
        if (strlen(t->slots[i].code) == len && !memcmp(t->slots[i].code, code, len))
            return &t->slots[i];
        i = (i + 1) & (t->cap - 1);
    }
    return NULL;
}

static int unit_grow(unit_tree *t)
{
    unit_slot *old = t->slots;
    size_t oldcap = t->cap;
    t->slots = calloc(oldcap * 2, sizeof *t->slots);
    if (!t->slots) {
        t->slots = old;
        return -1;
    }
    t->cap = oldcap * 2;
    for (size_t i = 0; i < oldcap; i++) {
        if (!old[i].used)
            continue;
        size_t j = unit_hash(old[i].code, strlen(old[i].code)) & (t->cap - 1);
        while (t->slots[j].used)
            j = (j + 1) & (t->cap - 1);
        t->slots[j] = old[i];
    }
    free(old);
    return 0;
}

int unit_tree_set(unit_tree *t, const char *code, size_t code_len, const char *parent,
                  size_t parent_len)
{
    if (code_len == 0 || code_len >= UNIT_CODE_CAP || parent_len >= UNIT_CODE_CAP)
        return -1;
    unit_slot *s = unit_find(t, code, code_len);
    if (!s) {
        if (2 * (t->n + 1) > t->cap && unit_grow(t))
            return -1;
        size_t i = unit_hash(code, code_len) & (t->cap - 1);
        while (t->slots[i].used)
            i = (i + 1) & (t->cap - 1);
        s = &t->slots[i];
        s->used = true;
        memcpy(s->code, code, code_len);
        s->code[code_len] = '\0';
        t->n++;
    }
    memcpy(s->parent, parent ? parent : "", parent ? parent_len : 0);
    s->parent[parent ? parent_len : 0] = '\0';
    return 0;
}

static int unit_load_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    unit_tree *t = ctx;
    char err[64];
    if (record_is_deleted(rec, len))
        return 0;
    json_t *j = record_to_json(rec, len, id, idlen, err, sizeof err);
    if (!j)
        return 0;
    json_t *p = json_object_get(j, "parent");
    const char *parent = json_is_string(p) ? json_string_value(p) : "";
    int rc = unit_tree_set(t, id, idlen, parent, strlen(parent));
    json_t *m = json_object_get(j, "merged_into");
    unit_slot *slot = rc ? NULL : unit_find(t, id, idlen);
    if (slot && json_is_string(m) && json_string_length(m) < UNIT_CODE_CAP)
        unit_tree_set_successor(t, id, idlen, json_string_value(m));
    json_decref(j);
    return rc == 0 ? 0 : -1;
}

/* A certificate places its unit under its parent unit; a "units" record,
 * when there is one, has the last word (it is loaded after). */
static int key_cmp(const void *a, const void *b)
{
    return memcmp(a, b, ENTRY_KEY_BYTES);
}

/* Remembers an ended certificate (kept sorted once loading ends). */
static int unit_add_ended(unit_tree *t, const char *hexid, size_t idlen, key_state state,
                          uint64_t upto)
{
    char hex[2 * ENTRY_KEY_BYTES + 1];
    if (idlen != 2 * ENTRY_KEY_BYTES)
        return 0;
    memcpy(hex, hexid, idlen);
    hex[idlen] = '\0';
    if (t->nended == t->capended) {
        size_t ncap = t->capended ? 2 * t->capended : 16;
        ended_key *n = realloc(t->ended, ncap * sizeof *n);
        if (!n)
            return -1;
        t->ended = n;
        t->capended = ncap;
    }
    ended_key *k = &t->ended[t->nended];
    if (hex_decode(hex, k->key, ENTRY_KEY_BYTES) == 0) {
        k->state = state;
        k->upto_seq = upto;
        t->nended++;
    }
    return 0;
}

key_state unit_tree_key_state(const unit_tree *t, const uint8_t key[ENTRY_KEY_BYTES],
                              uint64_t *upto_seq)
{
    const ended_key *k =
        t->nended ? bsearch(key, t->ended, t->nended, sizeof *t->ended, key_cmp) : NULL;
    if (k && upto_seq)
        *upto_seq = k->upto_seq;
    return k ? k->state : KEY_LIVE;
}

bool unit_tree_key_valid_at(const unit_tree *t, const uint8_t key[ENTRY_KEY_BYTES], uint64_t seq)
{
    uint64_t upto = 0;
    return unit_tree_key_state(t, key, &upto) == KEY_LIVE || seq <= upto;
}

bool unit_tree_revoked(const unit_tree *t, const uint8_t key[ENTRY_KEY_BYTES])
{
    return unit_tree_key_state(t, key, NULL) == KEY_REVOKED;
}

/* The end of a live certificate record: {"ended": "revoked"|"superseded",
 * "upto_seq": N} (see network_end_cert); KEY_LIVE when it has not ended. */
static key_state cert_end(json_t *cert, uint64_t *upto)
{
    const char *ended = json_string_value(json_object_get(cert, "ended"));
    json_t *u = json_object_get(cert, "upto_seq");
    *upto = json_is_integer(u) && json_integer_value(u) > 0 ? (uint64_t)json_integer_value(u) : 0;
    if (!ended)
        return KEY_LIVE;
    return strcmp(ended, "superseded") ? KEY_REVOKED : KEY_SUPERSEDED;
}

static int unit_load_cert(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    unit_tree *t = ctx;
    char err[64];
    if (record_is_deleted(rec, len)) /* the older form of revocation: no cut-off */
        return unit_add_ended(t, id, idlen, KEY_REVOKED, UINT64_MAX);
    json_t *j = record_to_json(rec, len, id, idlen, err, sizeof err);
    if (!j)
        return 0;
    json_t *u = json_object_get(j, "unit"), *p = json_object_get(j, "parent_unit");
    uint64_t upto;
    key_state st = cert_end(j, &upto);
    int rc = st == KEY_LIVE ? 0 : unit_add_ended(t, id, idlen, st, upto);
    if (!rc && json_is_string(u) &&
        !unit_tree_known(t, json_string_value(u), json_string_length(u))) {
        const char *parent = json_is_string(p) ? json_string_value(p) : "";
        rc = unit_tree_set(t, json_string_value(u), json_string_length(u), parent, strlen(parent));
    }
    json_decref(j);
    return rc == 0 ? 0 : -1;
}

int unit_tree_load(unit_tree *t, store *s)
{
    memset(t->slots, 0, t->cap * sizeof *t->slots);
    t->n = 0;
    t->nended = 0;
    if (store_records(s, "certs", unit_load_cert, t))
        return -1;
    if (t->nended) /* ended is NULL until the first: qsort(NULL, 0) is undefined */
        qsort(t->ended, t->nended, sizeof *t->ended, key_cmp);
    return store_records(s, "units", unit_load_one, t) ? -1 : 0;
}

bool unit_tree_within(const unit_tree *t, const char *unit, size_t unit_len, const char *anc,
                      size_t anc_len)
{
    const char *cur = unit;
    size_t len = unit_len;
    for (int depth = 0; depth < UNIT_MAX_DEPTH; depth++) {
        if (len == anc_len && !memcmp(cur, anc, len))
            return true;
        const unit_slot *s = unit_find(t, cur, len);
        if (!s || !s->parent[0])
            return false;
        cur = s->parent;
        len = strlen(cur);
    }
    return false;
}

bool unit_tree_known(const unit_tree *t, const char *code, size_t len)
{
    return unit_find(t, code, len) != NULL;
}

bool unit_tree_parent(const unit_tree *t, const char *code, char *out, size_t cap)
{
    const unit_slot *s = unit_find(t, code, strlen(code));
    if (!s || !s->parent[0] || strlen(s->parent) >= cap)
        return false;
    memcpy(out, s->parent, strlen(s->parent) + 1);
    return true;
}

/* unit_tree_reach from x (xl bytes), x itself counted only when self. */
static unsigned reach_walk(const unit_tree *t, const char *x, size_t xl, bool self,
                           const char *unit, size_t ul, unsigned want)
{
    unsigned how = 0;
    for (int hop = 0; hop < UNIT_MAX_DEPTH && (how & want) != want; hop++) {
        if (hop || self) {
            if ((want & UNIT_BELOW) && unit_tree_within(t, x, xl, unit, ul))
                how |= UNIT_BELOW;
            if ((want & UNIT_ABOVE) && unit_tree_within(t, unit, ul, x, xl))
                how |= UNIT_ABOVE;
        }
        const unit_slot *s = unit_find(t, x, xl);
        if (!s || !s->successor[0])
            break;
        x = s->successor;
        xl = strlen(x);
    }
    return how;
}

unsigned unit_tree_reach(const unit_tree *t, const char *code, size_t len, const char *unit,
                         unsigned want)
{
    return reach_walk(t, code, len, true, unit, strlen(unit), want);
}

/* How the successors of the unit in slot s (and the unit itself when
 * self) stand to unit: 0 for a unit not merged away. */
static unsigned merged_reach(const unit_tree *t, const unit_slot *s, bool self, const char *unit,
                             size_t ul)
{
    if (!s->successor[0])
        return 0;
    return reach_walk(t, s->code, strlen(s->code), self, unit, ul, UNIT_BELOW | UNIT_ABOVE);
}

static int code_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The merges section of unit's view: after an empty code (no subtree code
 * is empty), every unit merged away whose successors stand toward unit, in
 * code order, each with how (merged_reach); nothing at all when there is
 * none, so a tree without such merges keeps its view. in has room for
 * every code of t. */
static void view_merges(crypto_generichash_state *h, const unit_tree *t, const char *unit,
                        const char **in)
{
    size_t n = 0, ul = strlen(unit);
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].used && merged_reach(t, &t->slots[i], false, unit, ul))
            in[n++] = t->slots[i].code;
    if (!n)
        return;
    qsort(in, n, sizeof *in, code_cmp);
    crypto_generichash_update(h, (const uint8_t *)"", 1);
    for (size_t i = 0; i < n; i++) {
        uint8_t how = (uint8_t)merged_reach(t, unit_find(t, in[i], strlen(in[i])), false, unit, ul);
        crypto_generichash_update(h, (const uint8_t *)in[i], strlen(in[i]) + 1);
        crypto_generichash_update(h, &how, 1);
    }
}

void unit_tree_view(const unit_tree *t, const char *unit, uint8_t out[UNIT_VIEW_BYTES])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, UNIT_VIEW_BYTES);
    /* the path, unit first, each code with its terminator */
    const char *cur = unit;
    for (int depth = 0; depth < UNIT_MAX_DEPTH && cur[0]; depth++) {
        crypto_generichash_update(&h, (const uint8_t *)cur, strlen(cur) + 1);
        const unit_slot *s = unit_find(t, cur, strlen(cur));
        cur = s ? s->parent : "";
    }
    crypto_generichash_update(&h, (const uint8_t *)"", 1);
    /* the subtree, in code order (a slot order would depend on history) */
    const char **in = malloc((t->n + 1) * sizeof *in);
    size_t n = 0, ul = strlen(unit);
    for (size_t i = 0; in && i < t->cap; i++)
        if (t->slots[i].used &&
            unit_tree_within(t, t->slots[i].code, strlen(t->slots[i].code), unit, ul))
            in[n++] = t->slots[i].code;
    if (in) {
        qsort(in, n, sizeof *in, code_cmp);
        for (size_t i = 0; i < n; i++)
            crypto_generichash_update(&h, (const uint8_t *)in[i], strlen(in[i]) + 1);
        view_merges(&h, t, unit, in);
    } else {
        /* out of memory: a view nobody else computes, so nothing matches it */
        crypto_generichash_update(&h, (const uint8_t *)&t, sizeof t);
    }
    free(in);
    crypto_generichash_final(&h, out, UNIT_VIEW_BYTES);
}

/* True when a unit merged away in cur, with its successors, stands toward
 * unit in a way it did not in old (a merge: what is addressed to the merged
 * unit is now for unit too; an ancestor of both places held it already). */
static bool merges_grow(const unit_tree *old, const unit_tree *cur, const char *unit, size_t ul)
{
    for (size_t i = 0; i < cur->cap; i++) {
        const unit_slot *s = &cur->slots[i];
        unsigned now = s->used ? merged_reach(cur, s, true, unit, ul) : 0;
        if (!now)
            continue;
        const unit_slot *o = unit_find(old, s->code, strlen(s->code));
        unsigned was =
            o ? reach_walk(old, o->code, strlen(o->code), true, unit, ul, UNIT_BELOW | UNIT_ABOVE)
              : 0;
        if (now & ~was)
            return true;
    }
    return false;
}

bool unit_tree_grows(const unit_tree *old, const unit_tree *cur, const char *unit)
{
    const char *a = unit, *b = unit;
    for (int depth = 0; depth < UNIT_MAX_DEPTH; depth++) {
        if (strcmp(a, b))
            return true;
        if (!a[0])
            break;
        const unit_slot *sa = unit_find(old, a, strlen(a)), *sb = unit_find(cur, b, strlen(b));
        a = sa ? sa->parent : "";
        b = sb ? sb->parent : "";
    }
    size_t ul = strlen(unit);
    for (size_t i = 0; i < old->cap; i++) {
        const unit_slot *s = &old->slots[i];
        if (!s->used)
            continue;
        size_t cl = strlen(s->code);
        if (!unit_find(cur, s->code, cl))
            return true;
        if (unit_tree_within(cur, s->code, cl, unit, ul) &&
            !unit_tree_within(old, s->code, cl, unit, ul))
            return true;
    }
    /* membership is scoped (node/membership/network.h): a unit that moved in from
     * another branch was not known here before */
    for (size_t i = 0; i < cur->cap; i++) {
        const unit_slot *s = &cur->slots[i];
        size_t cl = s->used ? strlen(s->code) : 0;
        if (s->used && !unit_find(old, s->code, cl) && unit_tree_within(cur, s->code, cl, unit, ul))
            return true;
    }
    return merges_grow(old, cur, unit, ul);
}

bool unit_tree_placed_within(const unit_tree *t, const char *unit, size_t unit_len, const char *anc,
                             size_t anc_len)
{
    if (unit_tree_within(t, unit, unit_len, anc, anc_len))
        return true;
    const unit_slot *s = unit_find(t, unit, unit_len);
    for (int hop = 0; s && s->successor[0] && hop < UNIT_MAX_DEPTH; hop++) {
        const char *next = s->successor;
        if (unit_tree_within(t, next, strlen(next), anc, anc_len))
            return true;
        s = unit_find(t, next, strlen(next));
    }
    return false;
}

bool unit_tree_successor(const unit_tree *t, const char *code, size_t len, char *out, size_t cap)
{
    const unit_slot *s = unit_find(t, code, len);
    if (!s || !s->successor[0] || strlen(s->successor) >= cap)
        return false;
    strcpy(out, s->successor);
    return true;
}

const char *unit_tree_merged_into(const unit_tree *t, const char *code, size_t len)
{
    const unit_slot *s = unit_find(t, code, len);
    return s && s->successor[0] ? s->successor : NULL;
}

int unit_tree_set_successor(unit_tree *t, const char *code, size_t len, const char *successor)
{
    unit_slot *s = unit_find(t, code, len);
    size_t sl = successor ? strlen(successor) : 0;
    if (!s || sl >= UNIT_CODE_CAP)
        return -1;
    memcpy(s->successor, successor ? successor : "", sl);
    s->successor[sl] = '\0';
    return 0;
}
