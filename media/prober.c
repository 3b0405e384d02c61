/*
 * prober.c - periodic health probes and thumbnails (prober.h).
 */
#include "media/prober.h"
#include "lib/log.h"
#include "lib/mpjson.h"
#include "media/media.h"
#include "media/probe.h"
#include "storage/record.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct media_prober {
    uv_loop_t *loop;
    store *s;
    const node_config *c;
    uv_timer_t timer;
    atomic_bool stop;
    char (*ids)[CAMERA_ID_MAX]; /* the round's cameras */
    size_t nids, next, running;
    atomic_size_t changed; /* status changes of the round */
    bool closed;
};

typedef struct {
    uv_work_t w;
    media_prober *p;
    char id[CAMERA_ID_MAX];
} probe_job;

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int media_record_bin(store *s, const char *coll, const char *id, const char *field, uint8_t **data,
                     size_t *len)
{
    uint8_t *rec;
    size_t rlen, flen = strlen(field);
    int rc = store_record_get(s, coll, id, &rec, &rlen);
    if (rc)
        return rc;
    rc = 1;
    msgpack_unpacked u; /* the record: {"f": {field: [hlc, origin, value]}, ...} */
    msgpack_unpacked_init(&u);
    if (!record_is_deleted(rec, rlen) &&
        msgpack_unpack_next(&u, (const char *)rec, rlen, NULL) == MSGPACK_UNPACK_SUCCESS &&
        u.data.type == MSGPACK_OBJECT_MAP)
        for (uint32_t i = 0; i < u.data.via.map.size; i++) {
            const msgpack_object_kv *kv = &u.data.via.map.ptr[i];
            if (kv->key.type != MSGPACK_OBJECT_STR || kv->key.via.str.size != 1 ||
                kv->key.via.str.ptr[0] != 'f' || kv->val.type != MSGPACK_OBJECT_MAP)
                continue;
            for (uint32_t j = 0; j < kv->val.via.map.size; j++) {
                const msgpack_object_kv *f = &kv->val.via.map.ptr[j];
                const msgpack_object *v =
                    f->val.type == MSGPACK_OBJECT_ARRAY && f->val.via.array.size == 3
                        ? &f->val.via.array.ptr[2]
                        : NULL;
                if (v && v->type == MSGPACK_OBJECT_BIN && f->key.type == MSGPACK_OBJECT_STR &&
                    f->key.via.str.size == flen && !memcmp(f->key.via.str.ptr, field, flen) &&
                    (*data = malloc(v->via.bin.size ? v->via.bin.size : 1))) {
                    memcpy(*data, v->via.bin.ptr, v->via.bin.size);
                    *len = v->via.bin.size;
                    rc = 0;
                }
            }
        }
    msgpack_unpacked_destroy(&u);
    free(rec);
    return rc;
}

int media_thumb_get(store *s, const char *id, uint8_t **jpeg, size_t *len, uint64_t *at_ms)
{
    uint8_t *rec;
    size_t rlen;
    int rc = store_record_get(s, CAMERA_THUMB_COLL, id, &rec, &rlen);
    if (rc)
        return rc;
    rc = record_is_deleted(rec, rlen) || record_field_u64(rec, rlen, "at", at_ms);
    free(rec);
    return rc ? 1 : media_record_bin(s, CAMERA_THUMB_COLL, id, "data", jpeg, len);
}

/* The status patch of camera id after probe r, when its status changed;
 * NULL when it did not (a steady state writes nothing). */
static json_t *status_patch(store *s, const char *id, const probe_result *r)
{
    uint8_t *rec;
    size_t len;
    char err[64];
    json_t *cur = NULL;
    if (!store_record_get(s, CAMERA_COLL, id, &rec, &len)) {
        cur = record_to_json(rec, len, id, strlen(id), err, sizeof err);
        free(rec);
    }
    const char *was = json_string_value(json_object_get(cur, "status"));
    if (was && !strcmp(was, r->status)) {
        json_decref(cur);
        return NULL;
    }
    uint64_t now = wall_ms();
    /* the recent changes, newest first, at most CAMERA_HISTORY_MAX */
    json_t *hist = json_array(), *old = json_object_get(cur, "history"), *h;
    json_array_append_new(hist, json_pack("{s:s, s:I, s:s}", "status", r->status, "at",
                                          (json_int_t)now, "reason", r->reason));
    size_t i;
    json_array_foreach(old, i,
                       h) if (json_is_object(h) && json_array_size(hist) < CAMERA_HISTORY_MAX)
        json_array_append(hist, h);
    json_decref(cur);
    return json_pack("{s:s, s:I, s:s, s:s, s:i, s:i, s:f, s:I, s:o}", "status", r->status,
                     "status_since", (json_int_t)now, "reason", r->reason, "codec", r->codec,
                     "width", r->width, "height", r->height, "fps", r->fps, "bitrate",
                     (json_int_t)r->bitrate, "history", hist);
}

/* The thumbnail entry body {"data", "at", "type"} of jpeg. */
static int thumb_body(const probe_result *r, msgpack_sbuffer *sb)
{
    msgpack_sbuffer_init(sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str_with_body(&pk, "at", 2);
    msgpack_pack_uint64(&pk, wall_ms());
    msgpack_pack_str_with_body(&pk, "data", 4);
    msgpack_pack_bin_with_body(&pk, r->jpeg, r->jpeg_len);
    msgpack_pack_str_with_body(&pk, "type", 4);
    msgpack_pack_str_with_body(&pk, "image/jpeg", 10);
    return 0;
}

/* Whether camera id is due a thumbnail. */
static bool thumb_due(store *s, const char *id)
{
    uint8_t *rec;
    size_t len;
    uint64_t at = 0;
    if (store_record_get(s, CAMERA_THUMB_COLL, id, &rec, &len))
        return true;
    bool due = record_field_u64(rec, len, "at", &at) ||
               wall_ms() >= at + (uint64_t)THUMB_INTERVAL_S * 1000u;
    free(rec);
    return due;
}

/* Writes what probe r of camera id changed: the status patch, the thumbnail. */
static void probe_record(media_prober *p, const char *id, const probe_result *r)
{
    store_write w[2];
    size_t n = 0;
    uint8_t *patch = NULL;
    size_t plen;
    char err[STORE_ERR_LEN];
    json_t *j = status_patch(p->s, id, r);
    if (j && !mpjson_pack_object(j, &patch, &plen, err, sizeof err))
        w[n++] = (store_write){CAMERA_COLL, id, ENTRY_OP_PATCH, patch, plen, NULL, 0};
    json_decref(j);
    msgpack_sbuffer sb = {0};
    if (r->jpeg && !thumb_body(r, &sb))
        w[n++] = (store_write){
            CAMERA_THUMB_COLL, id, ENTRY_OP_PUT, (uint8_t *)sb.data, sb.size, NULL, 0};
    store_author a = node_author(p->c);
    if (n && store_write_local(p->s, &a, w, n, NULL, err, sizeof err))
        log_write(LOG_WARN, "camera.probe", "id=%s error=\"cannot record the probe: %s\"", id, err);
    else if (patch) {
        atomic_fetch_add(&p->changed, 1);
        log_write(LOG_INFO, "camera.status", "id=%s status=%s reason=\"%s\"", id, r->status,
                  r->reason);
    }
    free(patch);
    msgpack_sbuffer_destroy(&sb);
}

static void probe_work(uv_work_t *w)
{
    probe_job *j = w->data;
    media_prober *p = j->p;
    char url[CAMERA_URL_MAX + 256];
    bool enabled;
    if (camera_stream_url(p->s, p->c, j->id, url, sizeof url, &enabled) || !enabled)
        return; /* deleted, moved or disabled since the round began */
    bool file = !strncmp(url, "file:", 5);
    probe_opts o = {PROBE_TIMEOUT_MS, PROBE_SLOW_MS, file, -1, THUMB_MAX, &p->stop};
    if (thumb_due(p->s, j->id))
        o.image_width = THUMB_WIDTH;
    probe_result r;
    probe_run(url, &o, &r);
    if (!atomic_load(&p->stop))
        probe_record(p, j->id, &r);
    free(r.jpeg);
}

static void prober_free_if_done(media_prober *p)
{
    if (p->closed && !p->running) {
        free(p->ids);
        free(p);
    }
}

static void prober_next(media_prober *p);

static void probe_after(uv_work_t *w, int status)
{
    probe_job *j = w->data;
    media_prober *p = j->p;
    free(j);
    p->running--;
    if (atomic_load(&p->stop)) {
        prober_free_if_done(p);
        return;
    }
    prober_next(p);
    if (!p->running && p->next == p->nids)
        log_write(LOG_INFO, "camera.round", "probed=%zu changed=%zu", p->nids,
                  atomic_load(&p->changed));
}

/* Queues the round's next cameras, up to PROBER_CONCURRENCY at once. */
static void prober_next(media_prober *p)
{
    while (p->running < PROBER_CONCURRENCY && p->next < p->nids) {
        probe_job *j = malloc(sizeof *j);
        if (!j)
            return;
        j->p = p;
        j->w.data = j;
        memcpy(j->id, p->ids[p->next++], CAMERA_ID_MAX);
        if (uv_queue_work(p->loop, &j->w, probe_work, probe_after)) {
            free(j);
            return;
        }
        p->running++;
    }
}

typedef struct {
    media_prober *p;
    size_t cap;
} round_ctx;

static int round_collect(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    round_ctx *rc = ctx;
    media_prober *p = rc->p;
    char unit[NODE_CODE_MAX];
    if (idlen >= CAMERA_ID_MAX || record_is_deleted(rec, len) ||
        record_field_str(rec, len, "unit", unit, sizeof unit) || strcmp(unit, p->c->unit))
        return 0;
    if (p->nids == rc->cap) {
        size_t cap = rc->cap ? rc->cap * 2 : 64;
        char(*ids)[CAMERA_ID_MAX] = realloc(p->ids, cap * sizeof *ids);
        if (!ids)
            return -1;
        p->ids = ids;
        rc->cap = cap;
    }
    memcpy(p->ids[p->nids], id, idlen);
    p->ids[p->nids++][idlen] = '\0';
    return 0;
}

/* A new round, unless the last one is still under way. */
static void prober_tick(uv_timer_t *t)
{
    media_prober *p = t->data;
    if (p->running || p->next < p->nids)
        return;
    round_ctx rc = {p, 0};
    free(p->ids);
    p->ids = NULL;
    p->nids = p->next = 0;
    atomic_store(&p->changed, 0);
    if (store_records(p->s, CAMERA_COLL, round_collect, &rc))
        log_write(LOG_WARN, "camera.probe", "error=\"cannot list the cameras to probe\"");
    prober_next(p);
}

media_prober *media_prober_start(uv_loop_t *loop, store *s, const node_config *c,
                                 unsigned interval_s)
{
    media_prober *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    *p = (media_prober){.loop = loop, .s = s, .c = c};
    atomic_init(&p->stop, false);
    atomic_init(&p->changed, 0);
    uv_timer_init(loop, &p->timer);
    p->timer.data = p;
    uint64_t ms = (uint64_t)(interval_s ? interval_s : PROBER_DEFAULT_INTERVAL_S) * 1000u;
    uv_timer_start(&p->timer, prober_tick, 0, ms);
    return p;
}

static void prober_closed(uv_handle_t *h)
{
    media_prober *p = h->data;
    p->closed = true;
    prober_free_if_done(p);
}

void media_prober_stop(media_prober *p)
{
    if (!p)
        return;
    atomic_store(&p->stop, true);
    p->next = p->nids;
    uv_close((uv_handle_t *)&p->timer, prober_closed);
}

size_t media_prober_running(const media_prober *p)
{
    return p ? p->running : 0;
}
