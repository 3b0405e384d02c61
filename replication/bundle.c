/*
 * bundle.c - writing and applying replication bundles. The file format is
 * in bundle.h; the selection of entries is the live link's (outbox.h).
 */
#include "replication/bundle.h"
#include "lib/hex.h"
#include "lib/mpjson.h"
#include "replication/msg.h"
#include "replication/outbox.h"
#include "storage/entry_run.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUNDLE_MAGIC "lienthong-bundle"
#define BUNDLE_APPLY_BATCH 2048
#define BUNDLE_BATCH_BYTES ((size_t)32 << 20) /* entry bytes applied at once, at most */
#define BUNDLE_RECORD_MAX (64u << 20)         /* bytes of one value of the file */
#define BUNDLE_MARKS_MAX 65536u

static int bundle_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bundle_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- export ---------------------------------------------------------------- */

typedef struct {
    FILE *f;
    crypto_generichash_state hash;
    bundle_stats *st;
    bool failed;
} bundle_writer;

static void writer_put(bundle_writer *w, msgpack_sbuffer *sb)
{
    if (fwrite(sb->data, 1, sb->size, w->f) != sb->size)
        w->failed = true;
    crypto_generichash_update(&w->hash, (const uint8_t *)sb->data, sb->size);
    w->st->bytes += sb->size;
    msgpack_sbuffer_clear(sb);
}

static int writer_take(void *ctx, const uint8_t *bytes, size_t len)
{
    bundle_writer *w = ctx;
    msg_out m;
    msgpack_pack_bin_with_body(msg_begin(&m, "e", 1), bytes, len);
    writer_put(w, &m.sb);
    msg_release(&m);
    w->st->entries++;
    return w->failed ? -1 : 0;
}

typedef struct {
    uint8_t origin[ENTRY_KEY_BYTES];
    uint64_t seq;
    char unit[33];
} bundle_pos;

typedef struct {
    bundle_pos *v;
    size_t n, cap;
} pos_list;

static int collect_pos(void *ctx, const uint8_t *origin, uint64_t seq, const char *unit)
{
    pos_list *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        bundle_pos *nv = realloc(l->v, l->cap * sizeof *nv);
        if (!nv)
            return -1;
        l->v = nv;
    }
    bundle_pos *p = &l->v[l->n++];
    memcpy(p->origin, origin, ENTRY_KEY_BYTES);
    p->seq = seq;
    snprintf(p->unit, sizeof p->unit, "%s", unit);
    return 0;
}

static void write_header(bundle_writer *w, repl_node *n, const char *for_unit)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 7);
    msgpack_pack_str_with_body(&pk, "magic", 5);
    msgpack_pack_str_with_body(&pk, BUNDLE_MAGIC, strlen(BUNDLE_MAGIC));
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_uint8(&pk, 1);
    msgpack_pack_str_with_body(&pk, "from", 4);
    msgpack_pack_bin_with_body(&pk, n->pk, ENTRY_KEY_BYTES);
    msgpack_pack_str_with_body(&pk, "unit", 4);
    msgpack_pack_str_with_body(&pk, n->unit, strlen(n->unit));
    msgpack_pack_str_with_body(&pk, "for", 3);
    msgpack_pack_str_with_body(&pk, for_unit, strlen(for_unit));
    msgpack_pack_str_with_body(&pk, "created", 7);
    msgpack_pack_uint64(&pk, hlc_wall_ms());
    msgpack_pack_str_with_body(&pk, "chain", 5);
    msgpack_pack_array(&pk, n->nchain);
    for (size_t i = 0; i < n->nchain; i++)
        msgpack_pack_bin_with_body(&pk, n->chain[i].bytes, n->chain[i].len);
    writer_put(w, &sb);
    msgpack_sbuffer_destroy(&sb);
}

static void write_end(bundle_writer *w, const uint8_t *sk)
{
    uint8_t h[32], sig[crypto_sign_BYTES];
    crypto_generichash_final(&w->hash, h, sizeof h);
    crypto_sign_detached(sig, NULL, h, sizeof h, sk);
    msg_out m;
    msgpack_packer *pk = msg_begin(&m, "end", 3);
    msgpack_pack_uint64(pk, w->st->entries);
    msgpack_pack_uint64(pk, w->st->marks);
    msgpack_pack_bin_with_body(pk, sig, sizeof sig);
    /* the end record is outside the signed hash: written, not hashed */
    if (fwrite(m.sb.data, 1, m.sb.size, w->f) != m.sb.size)
        w->failed = true;
    w->st->bytes += m.sb.size;
    msg_release(&m);
}

static uint64_t since_get(const json_t *since, const uint8_t *origin)
{
    char hex[65];
    json_t *v = since ? json_object_get(since, hex_encode(origin, 32, hex)) : NULL;
    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

int bundle_export(repl_node *n, const uint8_t *sk, const char *for_unit, const json_t *since,
                  const char *path, bundle_stats *st, char *err, size_t errlen)
{
    memset(st, 0, sizeof *st);
    if (!unit_tree_known(n->tree, for_unit, strlen(for_unit)))
        return bundle_fail(err, errlen, "unit %s is not known to this node: check the code",
                           for_unit);
    link_kind kind = route_link_kind(n->tree, n->unit, for_unit);
    if (kind == LINK_NONE)
        return bundle_fail(err, errlen,
                           "unit %s is neither above nor below unit %s: carry its bundle from a "
                           "node of a common ancestor",
                           for_unit, n->unit);
    pos_list l = {0};
    if (store_completes(n->store, collect_pos, &l)) {
        free(l.v);
        return bundle_fail(err, errlen, "cannot read this node's positions");
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    bundle_writer w = {.f = fopen(tmp, "wb"), .st = st};
    if (!w.f) {
        free(l.v);
        return bundle_fail(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
    }
    crypto_generichash_init(&w.hash, NULL, 0, 32);
    write_header(&w, n, for_unit);
    outbox_scan ob = {.tree = n->tree,
                      .kind = kind,
                      .self = n->unit,
                      .peer = for_unit,
                      .take = writer_take,
                      .ctx = &w};
    for (size_t i = 0; i < l.n && !w.failed; i++) {
        bundle_pos *p = &l.v[i];
        uint64_t from = since_get(since, p->origin);
        if (p->seq <= from || !route_may_vouch(n->tree, p->unit, kind, n->unit, for_unit))
            continue;
        if (store_scan_origin(n->store, p->origin, from, p->seq, outbox_scan_entry, &ob)) {
            char hex[17];
            fclose(w.f);
            unlink(tmp);
            free(l.v);
            if (ob.corrupt)
                return bundle_fail(err, errlen,
                                   "entry %s…:%llu in this node's store is corrupt: run "
                                   "lienthong verify and restore the store",
                                   hex_encode(p->origin, 8, hex), (unsigned long long)ob.corrupt);
            return bundle_fail(err, errlen, "cannot read this node's store");
        }
        msg_out m;
        msgpack_packer *pk = msg_begin(&m, "m", 3);
        msgpack_pack_bin_with_body(pk, p->origin, ENTRY_KEY_BYTES);
        msgpack_pack_uint64(pk, p->seq);
        msgpack_pack_str_with_body(pk, p->unit, strlen(p->unit));
        writer_put(&w, &m.sb);
        msg_release(&m);
        st->marks++;
    }
    free(l.v);
    if (!w.failed)
        write_end(&w, sk);
    if (fflush(w.f) || fsync(fileno(w.f)))
        w.failed = true;
    fclose(w.f);
    if (w.failed || rename(tmp, path)) {
        unlink(tmp);
        return bundle_fail(err, errlen, "cannot write %s: %s", path, strerror(errno));
    }
    return 0;
}

/* ---- import ---------------------------------------------------------------- */

/* A bundle read from its file one value at a time: the buffer holds the
 * current value (at most BUNDLE_RECORD_MAX bytes), never the whole file,
 * and the file may be no longer than BUNDLE_IMPORT_MAX. The hash covers
 * every byte before the current value (what the "end" signature signs). */
typedef struct {
    FILE *f;
    const char *path;
    uint8_t *buf;
    size_t cap, beg, end; /* buf[beg..end) is read and not yet consumed */
    size_t cur;           /* size of the current value at buf[beg] */
    uint64_t off;         /* file offset of buf[beg] */
    bool eof;
    crypto_generichash_state hash;
    msgpack_unpacked up;
} bundle_reader;

static int reader_open(bundle_reader *r, const char *path, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    if (!(r->f = fopen(path, "rb")))
        return bundle_fail(err, errlen, "cannot open %s: %s", path, strerror(errno));
    crypto_generichash_init(&r->hash, NULL, 0, 32);
    msgpack_unpacked_init(&r->up);
    return 0;
}

static void reader_close(bundle_reader *r)
{
    if (r->f)
        fclose(r->f);
    free(r->buf);
    msgpack_unpacked_destroy(&r->up);
}

/* Reads more of the file after buf[end), making room by moving the unread
 * part to the front and growing the buffer up to BUNDLE_RECORD_MAX.
 * Returns 1 when bytes came, 0 at the end of the file, -1. */
static int reader_fill(bundle_reader *r, char *err, size_t errlen)
{
    if (r->beg) {
        memmove(r->buf, r->buf + r->beg, r->end - r->beg);
        r->end -= r->beg;
        r->beg = 0;
    }
    if (r->end == r->cap) {
        if (r->cap >= BUNDLE_RECORD_MAX)
            return bundle_fail(err, errlen,
                               "the bundle holds a value at byte %" PRIu64 " larger than %u "
                               "MiB: it is damaged, or not a bundle",
                               r->off, BUNDLE_RECORD_MAX >> 20);
        size_t cap = r->cap ? 2 * r->cap : 1u << 16;
        uint8_t *nb = realloc(r->buf, cap);
        if (!nb)
            return bundle_fail(err, errlen, "out of memory");
        r->buf = nb;
        r->cap = cap;
    }
    size_t got = fread(r->buf + r->end, 1, r->cap - r->end, r->f);
    if (ferror(r->f))
        return bundle_fail(err, errlen, "cannot read %s: %s", r->path, strerror(errno));
    r->end += got;
    if (r->off + r->end - r->beg > BUNDLE_IMPORT_MAX)
        return bundle_fail(err, errlen,
                           "%s is larger than %llu GiB, more than a bundle may be: check the "
                           "file (or split the export with --since)",
                           r->path, (unsigned long long)(BUNDLE_IMPORT_MAX >> 30));
    r->eof = got == 0;
    return got > 0;
}

/* Reads the next value; returns 1 with r->up filled, 0 at the end, -1.
 * *start receives its file offset. */
static int reader_next(bundle_reader *r, uint64_t *start, char *err, size_t errlen)
{
    crypto_generichash_update(&r->hash, r->buf + r->beg, r->cur);
    r->beg += r->cur;
    r->off += r->cur;
    r->cur = 0;
    *start = r->off;
    size_t used;
    char why[160];
    for (;;) {
        if (r->beg < r->end &&
            !mpjson_scan(r->buf + r->beg, r->end - r->beg, &used, why, sizeof why))
            break;
        int more = reader_fill(r, err, errlen);
        if (more < 0)
            return -1;
        if (!more && r->beg == r->end)
            return 0;
        if (!more)
            return bundle_fail(err, errlen, "the bundle is damaged at byte %" PRIu64 ": %s", r->off,
                               why);
    }
    size_t off = 0;
    if (msgpack_unpack_next(&r->up, (const char *)r->buf + r->beg, used, &off) !=
        MSGPACK_UNPACK_SUCCESS)
        return bundle_fail(err, errlen, "the bundle is damaged at byte %" PRIu64, r->off);
    r->cur = used;
    return 1;
}

static const msgpack_object *hdr_get(const msgpack_object *m, const char *key)
{
    for (uint32_t i = 0; m->type == MSGPACK_OBJECT_MAP && i < m->via.map.size; i++) {
        const msgpack_object *k = &m->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
            !memcmp(k->via.str.ptr, key, k->via.str.size))
            return &m->via.map.ptr[i].val;
    }
    return NULL;
}

static bool tag_is(const msgpack_object *o, const char *tag, uint32_t size)
{
    return o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == size &&
           o->via.array.ptr[0].type == MSGPACK_OBJECT_STR &&
           o->via.array.ptr[0].via.str.size == strlen(tag) &&
           !memcmp(o->via.array.ptr[0].via.str.ptr, tag, strlen(tag));
}

typedef struct {
    uint8_t from[32];
    char unit[33], for_unit[33];
    size_t n; /* entries */
    store_mark *marks;
    uint8_t (*origins)[32];
    char (*units)[33];
    size_t nm, capm;
    entry_run_stream runs; /* signatures: one per run (entry_run.h) */
} bundle_content;

static void content_free(bundle_content *c)
{
    free(c->marks);
    free(c->origins);
    free(c->units);
    entry_run_stream_free(&c->runs);
}

static int check_header(const msgpack_object *h, const uint8_t root_key[32], bundle_content *c,
                        char *err, size_t errlen)
{
    const msgpack_object *magic = hdr_get(h, "magic"), *v = hdr_get(h, "v"),
                         *from = hdr_get(h, "from"), *foru = hdr_get(h, "for"),
                         *chain = hdr_get(h, "chain");
    if (!magic || magic->type != MSGPACK_OBJECT_STR ||
        magic->via.str.size != strlen(BUNDLE_MAGIC) ||
        memcmp(magic->via.str.ptr, BUNDLE_MAGIC, magic->via.str.size))
        return bundle_fail(err, errlen, "not a lienthong bundle");
    if (!v || v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 != 1)
        return bundle_fail(err, errlen, "bundle format version not supported: upgrade");
    if (!from || from->type != MSGPACK_OBJECT_BIN || from->via.bin.size != 32 || !foru ||
        foru->type != MSGPACK_OBJECT_STR || foru->via.str.size >= sizeof c->for_unit || !chain ||
        chain->type != MSGPACK_OBJECT_ARRAY || chain->via.array.size > CHAIN_MAX)
        return bundle_fail(err, errlen, "the bundle header is incomplete");
    memcpy(c->from, from->via.bin.ptr, 32);
    memcpy(c->for_unit, foru->via.str.ptr, foru->via.str.size);
    c->for_unit[foru->via.str.size] = '\0';
    store_input certs[CHAIN_MAX];
    for (uint32_t i = 0; i < chain->via.array.size; i++) {
        if (chain->via.array.ptr[i].type != MSGPACK_OBJECT_BIN)
            return bundle_fail(err, errlen, "the bundle's certificate chain is malformed");
        certs[i] = (store_input){(const uint8_t *)chain->via.array.ptr[i].via.bin.ptr,
                                 chain->via.array.ptr[i].via.bin.size};
    }
    char why[200];
    if (chain_verify(certs, chain->via.array.size, c->from, root_key, hlc_wall_ms(), c->unit, why,
                     sizeof why))
        return bundle_fail(err, errlen, "the bundle's sender is not trusted: %s", why);
    return 0;
}

/* Reports a run whose last signature failed (rc 1), or memory (-1). */
static int content_runs_fail(int rc, size_t bad, char *err, size_t errlen)
{
    if (rc < 0)
        return bundle_fail(err, errlen, "out of memory");
    return bundle_fail(err, errlen, "bundle entry %zu has a bad signature: nothing applied", bad);
}

/* Checks one entry value (decodes it, adds it to the runs whose last
 * signatures are verified) and counts it. */
static int content_check_entry(bundle_content *c, const msgpack_object *o, char *err, size_t errlen)
{
    if (o->type != MSGPACK_OBJECT_BIN)
        return bundle_fail(err, errlen, "bundle entry %zu is not binary", c->n);
    entry_view v;
    char why[STORE_ERR_LEN];
    if (entry_decode((const uint8_t *)o->via.bin.ptr, o->via.bin.size, &v, why, sizeof why))
        return bundle_fail(err, errlen, "bundle entry %zu is malformed (%s): nothing applied", c->n,
                           why);
    size_t bad;
    int rc = entry_run_stream_add(&c->runs, &v, c->n, &bad);
    entry_view_free(&v);
    if (rc)
        return content_runs_fail(rc, bad, err, errlen);
    c->n++;
    return 0;
}

static int content_add_mark(bundle_content *c, const msgpack_object *a, char *err, size_t errlen)
{
    const msgpack_object *o = &a[1], *seq = &a[2], *u = &a[3];
    if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size != 32 ||
        seq->type != MSGPACK_OBJECT_POSITIVE_INTEGER || u->type != MSGPACK_OBJECT_STR ||
        !entry_unit_valid(u->via.str.ptr, u->via.str.size))
        return bundle_fail(err, errlen, "bundle marker %zu is malformed", c->nm);
    if (c->nm == BUNDLE_MARKS_MAX)
        return bundle_fail(err, errlen, "the bundle has more than %u markers: it is damaged",
                           BUNDLE_MARKS_MAX);
    if (c->nm == c->capm) {
        c->capm = c->capm ? 2 * c->capm : 64;
        store_mark *nm = realloc(c->marks, c->capm * sizeof *nm);
        if (nm)
            c->marks = nm;
        uint8_t(*no)[32] = realloc(c->origins, c->capm * sizeof *no);
        if (no)
            c->origins = no;
        char(*nu)[33] = realloc(c->units, c->capm * sizeof *nu);
        if (nu)
            c->units = nu;
        if (!nm || !no || !nu)
            return bundle_fail(err, errlen, "out of memory");
    }
    memcpy(c->origins[c->nm], o->via.bin.ptr, 32);
    memcpy(c->units[c->nm], u->via.str.ptr, u->via.str.size);
    c->units[c->nm][u->via.str.size] = '\0';
    c->marks[c->nm] = (store_mark){NULL, 0, seq->via.u64, NULL};
    c->nm++;
    return 0;
}

/* Checks the "end" value a against what was read: counts, and the
 * signature over the digest of every byte before it (into digest). */
static int check_end(bundle_reader *r, const msgpack_object *a, const bundle_content *c,
                     uint8_t digest[32], char *err, size_t errlen)
{
    crypto_generichash_final(&r->hash, digest, 32);
    if (a[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER || a[1].via.u64 != c->n ||
        a[2].type != MSGPACK_OBJECT_POSITIVE_INTEGER || a[2].via.u64 != c->nm)
        return bundle_fail(err, errlen, "the bundle is incomplete: its counts disagree");
    if (a[3].type != MSGPACK_OBJECT_BIN || a[3].via.bin.size != crypto_sign_BYTES ||
        crypto_sign_verify_detached((const uint8_t *)a[3].via.bin.ptr, digest, 32, c->from))
        return bundle_fail(err, errlen,
                           "the bundle's signature does not verify: it was "
                           "altered or truncated");
    return 0;
}

/* After "end": nothing more may follow. */
static int check_tail(bundle_reader *r, char *err, size_t errlen)
{
    uint64_t start;
    int rc = reader_next(r, &start, err, errlen);
    return rc == 0  ? 0
           : rc > 0 ? bundle_fail(err, errlen, "the bundle is truncated: copy it again")
                    : -1;
}

/* Pass 1: streams the whole bundle at path and verifies it (header and
 * chain, every entry's signature, counts, the end signature) into c,
 * without keeping entries; digest receives the signed digest and *bytes
 * the file's size. Returns 0 or -1. */
static int bundle_verify(const char *path, const uint8_t root_key[32], bundle_content *c,
                         uint8_t digest[32], uint64_t *bytes, char *err, size_t errlen)
{
    bundle_reader r;
    if (reader_open(&r, path, err, errlen))
        return -1;
    uint64_t start;
    int rc = reader_next(&r, &start, err, errlen);
    if (rc == 0)
        rc = bundle_fail(err, errlen, "the bundle is empty");
    if (rc > 0)
        rc = check_header(&r.up.data, root_key, c, err, errlen);
    bool ended = false;
    while (rc >= 0 && !ended && (rc = reader_next(&r, &start, err, errlen)) > 0) {
        const msgpack_object *o = &r.up.data;
        if (tag_is(o, "e", 2)) {
            rc = content_check_entry(c, &o->via.array.ptr[1], err, errlen);
        } else if (tag_is(o, "m", 4)) {
            rc = content_add_mark(c, o->via.array.ptr, err, errlen);
        } else if (tag_is(o, "end", 4)) {
            size_t bad;
            int runs = entry_run_stream_end(&c->runs, &bad);
            rc = runs ? content_runs_fail(runs, bad, err, errlen)
                      : check_end(&r, o->via.array.ptr, c, digest, err, errlen);
            ended = true;
        } else {
            rc = bundle_fail(err, errlen, "unknown record in the bundle at byte %" PRIu64, start);
        }
    }
    if (rc >= 0 && !ended)
        rc = bundle_fail(err, errlen, "the bundle is truncated: copy it again");
    if (rc >= 0)
        rc = check_tail(&r, err, errlen);
    *bytes = r.off;
    reader_close(&r);
    for (size_t i = 0; rc >= 0 && i < c->nm; i++) {
        c->marks[i].origin = c->origins[i];
        c->marks[i].unit = c->units[i];
    }
    return rc < 0 ? -1 : 0;
}

/* Entries copied out of the stream, applied together. */
typedef struct {
    store_input in[BUNDLE_APPLY_BATCH];
    size_t n, bytes;
    uint64_t first; /* index in the bundle of in[0] */
} entry_batch;

static void batch_clear(entry_batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        free((void *)b->in[i].bytes);
    b->first += b->n;
    b->n = 0;
    b->bytes = 0;
}

/* Applies the batch (the store verifies the signatures again, one per run:
 * the file may have changed since pass 1) and, with the last batch, the markers. */
static int batch_apply(repl_node *n, entry_batch *b, apply_result *res, const store_mark *marks,
                       size_t nmarks, bundle_stats *st, char *err, size_t errlen)
{
    int rc = store_apply_marked(n->store, b->in, b->n, marks, nmarks, 0, res, NULL, err, errlen);
    for (size_t i = 0; !rc && i < b->n; i++) {
        if (res[i] == APPLY_ADDED)
            st->entries++;
        else if (res[i] != APPLY_DUPLICATE)
            rc = bundle_fail(err, errlen, "entry %" PRIu64 " of the bundle was refused: %s",
                             b->first + i, apply_result_str(res[i]));
    }
    batch_clear(b);
    return rc;
}

static int batch_add(entry_batch *b, const msgpack_object *o, char *err, size_t errlen)
{
    uint8_t *copy =
        o->type == MSGPACK_OBJECT_BIN ? malloc(o->via.bin.size ? o->via.bin.size : 1) : NULL;
    if (!copy)
        return bundle_fail(err, errlen, "out of memory (or the bundle changed while read)");
    memcpy(copy, o->via.bin.ptr, o->via.bin.size);
    b->in[b->n++] = (store_input){copy, o->via.bin.size};
    b->bytes += o->via.bin.size;
    return 0;
}

/* Pass 2: streams the bundle again and applies its entries in batches, the
 * markers kept (those of marks) with the last one, once the digest is
 * still pass 1's. Returns 0 or -1. */
static int bundle_apply(repl_node *n, const char *path, const uint8_t digest[32],
                        const store_mark *marks, size_t nmarks, bundle_stats *st, char *err,
                        size_t errlen)
{
    bundle_reader r;
    entry_batch *b = calloc(1, sizeof *b);
    apply_result *res = calloc(BUNDLE_APPLY_BATCH, sizeof *res);
    if (!b || !res || reader_open(&r, path, err, errlen)) {
        free(b);
        free(res);
        return b && res ? -1 : bundle_fail(err, errlen, "out of memory");
    }
    uint64_t start;
    int rc = reader_next(&r, &start, err, errlen); /* the header, checked in pass 1 */
    bool ended = false;
    while (rc > 0 && !ended && (rc = reader_next(&r, &start, err, errlen)) > 0) {
        const msgpack_object *o = &r.up.data;
        if (tag_is(o, "e", 2)) {
            rc = batch_add(b, &o->via.array.ptr[1], err, errlen);
            if (!rc && (b->n == BUNDLE_APPLY_BATCH || b->bytes >= BUNDLE_BATCH_BYTES))
                rc = batch_apply(n, b, res, NULL, 0, st, err, errlen);
            rc = rc ? -1 : 1;
        } else if (tag_is(o, "end", 4)) {
            uint8_t again[32];
            crypto_generichash_final(&r.hash, again, 32);
            rc = memcmp(again, digest, 32)
                     ? bundle_fail(err, errlen,
                                   "the bundle changed while it was imported; "
                                   "import it again")
                     : batch_apply(n, b, res, marks, nmarks, st, err, errlen);
            ended = true;
        }
    }
    if (rc >= 0 && !ended)
        rc = bundle_fail(err, errlen, "the bundle changed while it was imported; import it again");
    batch_clear(b);
    reader_close(&r);
    free(b);
    free(res);
    return rc < 0 ? -1 : 0;
}

int bundle_import(repl_node *n, const uint8_t root_key[32], const char *path, bundle_stats *st,
                  char *err, size_t errlen)
{
    memset(st, 0, sizeof *st);
    bundle_content c = {0};
    uint8_t digest[32];
    uint64_t bytes = 0;
    int rc = bundle_verify(path, root_key, &c, digest, &bytes, err, errlen);
    if (!rc && strcmp(c.for_unit, n->unit))
        rc = bundle_fail(err, errlen, "this bundle is for unit %s; this node is unit %s",
                         c.for_unit, n->unit);
    size_t kept = 0;
    if (!rc) {
        link_kind kind = route_link_kind(n->tree, c.unit, n->unit);
        for (size_t i = 0; i < c.nm; i++)
            if (route_may_vouch(n->tree, c.marks[i].unit, kind, c.unit, n->unit))
                c.marks[kept++] = c.marks[i];
        rc = bundle_apply(n, path, digest, c.marks, kept, st, err, errlen);
    }
    if (!rc) {
        st->marks = kept;
        st->bytes = bytes;
        repl_node_reload(n, err, errlen);
    }
    content_free(&c);
    return rc ? -1 : 0;
}
