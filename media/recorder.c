/*
 * recorder.c - continuous recording, its index, retention and clips
 * (recorder.h).
 */
#include "media/recorder.h"
#include "lib/log.h"
#include "media/media.h"
#include "media/probe.h"
#include "storage/record.h"
#include "storage/store_index.h"

#include <errno.h>
#include <libavformat/avformat.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct rec_cam {
    struct media_recorder *r;
    char id[CAMERA_ID_MAX];
    char url[CAMERA_URL_MAX + 256];
    uv_thread_t thread;
    atomic_bool stop;
    bool seen; /* still asked for in the last scan */
    /* the thread's: the segment being written */
    AVFormatContext *oc;
    int map[64];
    char file[NODE_PATH_MAX + 128];
    uint64_t seg_start, seg_end, base_wall;
    int64_t base_pts_ms;
    bool based;
    struct rec_cam *next;
} rec_cam;

struct media_recorder {
    store *s;
    const node_config *c;
    uv_timer_t timer;
    rec_cam *cams;
    uint64_t segment_ms, max_age_ms, max_bytes;
};

size_t media_recorder_count(const media_recorder *r)
{
    size_t n = 0;
    for (const rec_cam *c = r ? r->cams : NULL; c; c = c->next)
        n++;
    return n;
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the index ---------------------------------------------------------- */

typedef struct {
    uint64_t start, end, bytes;
    char id[CAMERA_ID_MAX];
    char file[NODE_PATH_MAX + 128];
} seg_row;

static size_t seg_key(uint8_t *key, const char *id, uint64_t start)
{
    size_t n = strlen(id);
    memcpy(key, id, n);
    key[n] = 0;
    store_be64(key + n + 1, start);
    return n + 9;
}

static int seg_decode(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                      seg_row *row)
{
    const uint8_t *z = memchr(key, 0, klen);
    if (!z || klen - (size_t)(z - key) != 9 || (size_t)(z - key) >= CAMERA_ID_MAX || vlen < 16 ||
        vlen - 16 >= sizeof row->file)
        return -1;
    memcpy(row->id, key, (size_t)(z - key));
    row->id[z - key] = '\0';
    row->start = store_get_be64(z + 1);
    row->end = store_get_be64(val);
    row->bytes = store_get_be64(val + 8);
    memcpy(row->file, val + 16, vlen - 16);
    row->file[vlen - 16] = '\0';
    return 0;
}

typedef struct {
    const char *id; /* NULL: every camera */
    uint64_t from, to;
    seg_row *rows;
    size_t n, cap;
} seg_scan;

static int seg_collect(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    seg_scan *sc = ctx;
    seg_row row;
    if (seg_decode(key, klen, val, vlen, &row) || (sc->id && strcmp(row.id, sc->id)) ||
        row.end < sc->from || row.start > sc->to)
        return 0;
    if (sc->n == sc->cap) {
        size_t cap = sc->cap ? sc->cap * 2 : 64;
        seg_row *r = realloc(sc->rows, cap * sizeof *r);
        if (!r)
            return -1;
        sc->rows = r;
        sc->cap = cap;
    }
    sc->rows[sc->n++] = row;
    return 0;
}

static int seg_cmp(const void *a, const void *b)
{
    const seg_row *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* The segments of id (NULL: all) overlapping [from, to], by start. */
static int segs_find(store *s, const char *id, uint64_t from, uint64_t to, seg_scan *sc)
{
    *sc = (seg_scan){id, from, to, NULL, 0, 0};
    if (store_local_scan(s, REC_TABLE, seg_collect, sc)) {
        free(sc->rows);
        return -1;
    }
    if (sc->n)
        qsort(sc->rows, sc->n, sizeof *sc->rows, seg_cmp);
    return 0;
}

static void seg_remove(store *s, const seg_row *row)
{
    uint8_t key[CAMERA_ID_MAX + 9];
    unlink(row->file);
    store_local_del(s, REC_TABLE, key, seg_key(key, row->id, row->start));
}

/* Age first, then the disk budget, over every camera's segments. */
static void retention_apply(media_recorder *r)
{
    seg_scan sc;
    if (segs_find(r->s, NULL, 0, UINT64_MAX, &sc))
        return;
    uint64_t now = wall_ms(), total = 0;
    for (size_t i = 0; i < sc.n; i++)
        total += sc.rows[i].bytes;
    for (size_t i = 0; i < sc.n; i++) {
        bool old = sc.rows[i].end + r->max_age_ms < now;
        if (!old && total <= r->max_bytes)
            break;
        seg_remove(r->s, &sc.rows[i]);
        total -= sc.rows[i].bytes;
        log_write(LOG_INFO, "camera.retention", "id=%s start=%llu reason=%s", sc.rows[i].id,
                  (unsigned long long)sc.rows[i].start, old ? "age" : "disk_budget");
    }
    free(sc.rows);
}

/* ---- recording (the camera's thread) ------------------------------------- */

static void segment_close(rec_cam *c)
{
    if (!c->oc)
        return;
    av_write_trailer(c->oc);
    avio_closep(&c->oc->pb);
    avformat_free_context(c->oc);
    c->oc = NULL;
    struct stat st;
    uint8_t key[CAMERA_ID_MAX + 9], val[16 + sizeof c->file];
    size_t flen = strlen(c->file);
    if (stat(c->file, &st))
        return;
    store_be64(val, c->seg_end > c->seg_start ? c->seg_end : c->seg_start);
    store_be64(val + 8, (uint64_t)st.st_size);
    memcpy(val + 16, c->file, flen);
    char err[STORE_ERR_LEN];
    if (store_local_put(c->r->s, REC_TABLE, key, seg_key(key, c->id, c->seg_start), val, 16 + flen,
                        err, sizeof err))
        log_write(LOG_WARN, "camera.record", "id=%s error=\"cannot index %s: %s\"", c->id, c->file,
                  err);
    retention_apply(c->r);
}

static int segment_open(rec_cam *c, AVFormatContext *fc, uint64_t start)
{
    char dir[NODE_PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s/recordings", c->r->c->dir);
    mkdir(dir, 0700);
    snprintf(dir, sizeof dir, "%s/recordings/%s", c->r->c->dir, c->id);
    mkdir(dir, 0700);
    snprintf(c->file, sizeof c->file, "%s/%llu.ts", dir, (unsigned long long)start);
    if (avformat_alloc_output_context2(&c->oc, NULL, "mpegts", c->file) < 0)
        return -1;
    int out = 0;
    for (unsigned i = 0; i < fc->nb_streams && i < 64; i++) {
        enum AVMediaType t = fc->streams[i]->codecpar->codec_type;
        c->map[i] = -1;
        if (t != AVMEDIA_TYPE_VIDEO && t != AVMEDIA_TYPE_AUDIO)
            continue;
        AVStream *os = avformat_new_stream(c->oc, NULL);
        if (!os || avcodec_parameters_copy(os->codecpar, fc->streams[i]->codecpar) < 0)
            return -1;
        os->codecpar->codec_tag = 0;
        os->time_base = fc->streams[i]->time_base;
        c->map[i] = out++;
    }
    if (avio_open(&c->oc->pb, c->file, AVIO_FLAG_WRITE) < 0 ||
        avformat_write_header(c->oc, NULL) < 0) {
        if (c->oc->pb)
            avio_closep(&c->oc->pb);
        avformat_free_context(c->oc);
        c->oc = NULL;
        return -1;
    }
    c->seg_start = c->seg_end = start;
    return 0;
}

/* The wall time of pkt: the connection's start plus the stream time since. */
static uint64_t packet_time(rec_cam *c, AVFormatContext *fc, const AVPacket *pkt)
{
    int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    int64_t ms = ts == AV_NOPTS_VALUE ? c->base_pts_ms
                                      : av_rescale_q(ts, fc->streams[pkt->stream_index]->time_base,
                                                     (AVRational){1, 1000});
    if (!c->based) {
        c->based = true;
        c->base_wall = wall_ms();
        c->base_pts_ms = ms;
    }
    return ms >= c->base_pts_ms ? c->base_wall + (uint64_t)(ms - c->base_pts_ms) : c->base_wall;
}

static int rec_packet(void *ctx, AVFormatContext *fc, AVPacket *pkt)
{
    rec_cam *c = ctx;
    if (atomic_load(&c->stop))
        return 1;
    if (pkt->stream_index < 0 || pkt->stream_index >= 64 ||
        (unsigned)pkt->stream_index >= fc->nb_streams)
        return 0;
    bool key = fc->streams[pkt->stream_index]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
               (pkt->flags & AV_PKT_FLAG_KEY);
    uint64_t t = packet_time(c, fc, pkt);
    if (key && c->oc && t >= c->seg_start + c->r->segment_ms)
        segment_close(c);
    if (!c->oc) {
        if (!key)
            return 0; /* a segment starts on a keyframe */
        if (segment_open(c, fc, t)) {
            log_write(LOG_WARN, "camera.record", "id=%s error=\"cannot write %s\"", c->id, c->file);
            return 1;
        }
    }
    int o = c->map[pkt->stream_index];
    if (o < 0)
        return 0;
    av_packet_rescale_ts(pkt, fc->streams[pkt->stream_index]->time_base,
                         c->oc->streams[o]->time_base);
    pkt->stream_index = o;
    pkt->pos = -1;
    if (t > c->seg_end)
        c->seg_end = t;
    if (av_interleaved_write_frame(c->oc, pkt) < 0)
        log_write(LOG_DEBUG, "camera.record", "id=%s msg=\"a packet was not written\"", c->id);
    return 0;
}

static void rec_thread(void *arg)
{
    rec_cam *c = arg;
    probe_opts o = {PROBE_TIMEOUT_MS, PROBE_TIMEOUT_MS, !strncmp(c->url, "file:", 5), -1, 0,
                    &c->stop};
    while (!atomic_load(&c->stop)) {
        char reason[200];
        c->based = false;
        if (probe_packets(c->url, &o, rec_packet, c, reason, sizeof reason))
            log_write(LOG_INFO, "camera.record", "id=%s msg=\"%s; retrying in %d s\"", c->id,
                      reason, REC_RETRY_MS / 1000);
        segment_close(c);
        for (int i = 0; i < REC_RETRY_MS / 100 && !atomic_load(&c->stop); i++)
            usleep(100000);
    }
}

/* ---- which cameras record (the loop) ------------------------------------- */

static void cam_stop(rec_cam *c)
{
    atomic_store(&c->stop, true);
    uv_thread_join(&c->thread); /* the stop flag interrupts its I/O at once */
    free(c);
}

typedef struct {
    media_recorder *r;
} scan_ctx;

static int scan_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    media_recorder *r = ((scan_ctx *)ctx)->r;
    char unit[NODE_CODE_MAX], cid[CAMERA_ID_MAX];
    json_t *j;
    if (idlen >= CAMERA_ID_MAX || record_is_deleted(rec, len) ||
        record_field_str(rec, len, "unit", unit, sizeof unit) || strcmp(unit, r->c->unit) ||
        !(j = record_to_json(rec, len, id, idlen, unit, sizeof unit)))
        return 0;
    bool want =
        json_is_true(json_object_get(j, "record")) && !json_is_false(json_object_get(j, "enabled"));
    json_decref(j);
    memcpy(cid, id, idlen);
    cid[idlen] = '\0';
    for (rec_cam *c = r->cams; c; c = c->next)
        if (!strcmp(c->id, cid)) {
            c->seen = want;
            return 0;
        }
    if (!want)
        return 0;
    rec_cam *c = calloc(1, sizeof *c);
    bool enabled;
    if (!c)
        return 0;
    c->r = r;
    memcpy(c->id, cid, idlen + 1);
    atomic_init(&c->stop, false);
    c->seen = true;
    if (camera_stream_url(r->s, r->c, cid, c->url, sizeof c->url, &enabled) ||
        uv_thread_create(&c->thread, rec_thread, c)) {
        free(c);
        return 0;
    }
    log_write(LOG_INFO, "camera.record", "id=%s msg=\"recording\"", cid);
    c->next = r->cams;
    r->cams = c;
    return 0;
}

static void recorder_scan(uv_timer_t *t)
{
    media_recorder *r = t->data;
    for (rec_cam *c = r->cams; c; c = c->next)
        c->seen = false;
    scan_ctx sc = {r};
    if (store_records(r->s, CAMERA_COLL, scan_one, &sc))
        return;
    for (rec_cam **pp = &r->cams; *pp;) {
        rec_cam *c = *pp;
        if (c->seen) {
            pp = &c->next;
            continue;
        }
        *pp = c->next;
        log_write(LOG_INFO, "camera.record", "id=%s msg=\"recording stopped\"", c->id);
        cam_stop(c);
    }
}

/* A positive number from the environment into *out (kept when unset). */
static int env_u64(const char *name, uint64_t scale, uint64_t *out, char *err, size_t errlen)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || *end || !n || v[0] == '-') {
        snprintf(err, errlen, "%s=\"%s\" is not a positive whole number; set it to one or unset it",
                 name, v);
        return -1;
    }
    *out = (uint64_t)n * scale;
    return 0;
}

media_recorder *media_recorder_start(uv_loop_t *loop, store *s, const node_config *c, char *err,
                                     size_t errlen)
{
    media_recorder *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *r = (media_recorder){.s = s,
                          .c = c,
                          .segment_ms = REC_SEGMENT_S * 1000ull,
                          .max_age_ms = REC_MAX_DAYS * 86400000ull,
                          .max_bytes = REC_MAX_BYTES};
    if (env_u64("LT_RECORDING_SEGMENT_S", 1000, &r->segment_ms, err, errlen) ||
        env_u64("LT_RECORDING_MAX_DAYS", 86400000ull, &r->max_age_ms, err, errlen) ||
        env_u64("LT_RECORDING_MAX_BYTES", 1, &r->max_bytes, err, errlen)) {
        free(r);
        return NULL;
    }
    uv_timer_init(loop, &r->timer);
    r->timer.data = r;
    uv_timer_start(&r->timer, recorder_scan, 0, REC_SCAN_MS);
    return r;
}

static void recorder_closed(uv_handle_t *h)
{
    free(h->data);
}

void media_recorder_stop(media_recorder *r)
{
    if (!r)
        return;
    while (r->cams) {
        rec_cam *c = r->cams;
        r->cams = c->next;
        cam_stop(c);
    }
    uv_close((uv_handle_t *)&r->timer, recorder_closed);
}

/* ---- reading ------------------------------------------------------------- */

json_t *recordings_list(store *s, const char *id, uint64_t from_ms, uint64_t to_ms, lt_error *e)
{
    seg_scan sc;
    if (segs_find(s, id, from_ms, to_ms, &sc)) {
        lt_error_set(e, LT_ESTORAGE, NULL,
                     "cannot read the recordings index; check the node's log");
        return NULL;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < sc.n; i++)
        json_array_append_new(a, json_pack("{s:I, s:I, s:I}", "start", (json_int_t)sc.rows[i].start,
                                           "end", (json_int_t)sc.rows[i].end, "bytes",
                                           (json_int_t)sc.rows[i].bytes));
    free(sc.rows);
    return json_pack("{s:s, s:o}", "id", id, "recordings", a);
}

/* Appends the packets of segment file to oc (streams made from the first
 * file), shifting each stream's timestamps to follow the previous file's. */
static int clip_append(AVFormatContext *oc, const char *file, int64_t *next_dts, bool first)
{
    AVFormatContext *in = NULL;
    AVDictionary *d = NULL;
    av_dict_set(&d, "protocol_whitelist", "file", 0);
    int rc = avformat_open_input(&in, file, NULL, &d);
    av_dict_free(&d);
    if (rc < 0 || avformat_find_stream_info(in, NULL) < 0) {
        avformat_close_input(&in);
        return -1;
    }
    unsigned n = in->nb_streams < 16 ? in->nb_streams : 16;
    for (unsigned i = 0; first && i < n; i++) {
        AVStream *os = avformat_new_stream(oc, NULL);
        if (!os || avcodec_parameters_copy(os->codecpar, in->streams[i]->codecpar) < 0)
            return avformat_close_input(&in), -1;
        os->codecpar->codec_tag = 0;
        os->time_base = in->streams[i]->time_base;
    }
    if (first) {
        AVDictionary *mo = NULL;
        av_dict_set(&mo, "movflags", "frag_keyframe+empty_moov+default_base_moof", 0);
        rc = avformat_write_header(oc, &mo);
        av_dict_free(&mo);
        if (rc < 0)
            return avformat_close_input(&in), -1;
    }
    int64_t shift[16], last[16];
    bool have[16] = {0};
    AVPacket *pkt = av_packet_alloc();
    while (pkt && av_read_frame(in, pkt) >= 0) {
        int i = pkt->stream_index;
        if (i < 0 || (unsigned)i >= n || (unsigned)i >= oc->nb_streams ||
            pkt->dts == AV_NOPTS_VALUE) {
            av_packet_unref(pkt);
            continue;
        }
        av_packet_rescale_ts(pkt, in->streams[i]->time_base, oc->streams[i]->time_base);
        if (!have[i]) {
            have[i] = true;
            shift[i] = next_dts[i] - pkt->dts;
        }
        pkt->dts += shift[i];
        if (pkt->pts != AV_NOPTS_VALUE)
            pkt->pts += shift[i];
        last[i] = pkt->dts + (pkt->duration > 0 ? pkt->duration : 1);
        pkt->pos = -1;
        av_interleaved_write_frame(oc, pkt);
    }
    for (unsigned i = 0; i < n; i++)
        if (have[i])
            next_dts[i] = last[i];
    av_packet_free(&pkt);
    avformat_close_input(&in);
    return 0;
}

/* The AVIO write callback: hands the muxer's bytes to the clip's writer. */
static int clip_avio_write(void *opaque, uint8_t *buf, int len)
{
    clip_writer *w = opaque;
    return w->fn(w->ctx, buf, (size_t)len) < 0 ? AVERROR_EXIT : len;
}

int recordings_clip(store *s, const char *id, uint64_t from_ms, uint64_t to_ms,
                    const clip_writer *w, lt_error *e)
{
    seg_scan sc;
    if (segs_find(s, id, from_ms, to_ms, &sc))
        return lt_error_set(e, LT_ESTORAGE, NULL, "cannot read the recordings index");
    int rc = 0;
    if (!sc.n)
        rc = lt_error_set(e, LT_ENOTFOUND, "camera.no_recording",
                          "camera %s has no recording between %llu and %llu (ms); list them with "
                          "/recordings",
                          id, (unsigned long long)from_ms, (unsigned long long)to_ms);
    else if (sc.rows[sc.n - 1].end - sc.rows[0].start > CLIP_MAX_SPAN_MS)
        rc = lt_error_set(e, LT_ETOOLARGE, "camera.clip_too_long",
                          "the clip would span %llu minutes of recordings; ask for at most %llu "
                          "(from, to)",
                          (unsigned long long)((sc.rows[sc.n - 1].end - sc.rows[0].start) / 60000),
                          (unsigned long long)(CLIP_MAX_SPAN_MS / 60000));
    AVFormatContext *oc = NULL;
    uint8_t *iobuf = rc ? NULL : av_malloc(CLIP_IO_BUFFER);
    if (!rc && (!iobuf || avformat_alloc_output_context2(&oc, NULL, "mp4", NULL) < 0 ||
                !(oc->pb = avio_alloc_context(iobuf, CLIP_IO_BUFFER, 1, (void *)w, NULL,
                                              clip_avio_write, NULL))))
        rc = lt_error_set(e, LT_EINTERNAL, NULL, "out of memory making the clip");
    if (oc && oc->pb)
        iobuf = NULL; /* the AVIO context owns it now */
    int64_t next_dts[16] = {0};
    size_t used = 0;
    for (size_t i = 0; !rc && i < sc.n && !(oc->pb && oc->pb->error); i++)
        used += !clip_append(oc, sc.rows[i].file, next_dts, used == 0);
    if (!rc && !used)
        rc =
            lt_error_set(e, LT_EINTERNAL, "camera.no_recording",
                         "the recordings of camera %s could not be read; check the node's log", id);
    if (!rc)
        av_write_trailer(oc);
    if (!rc && oc->pb->error)
        rc = lt_error_set(e, LT_EINTERNAL, NULL, "the clip was not sent whole (the client left)");
    if (oc && oc->pb) {
        av_freep(&oc->pb->buffer);
        avio_context_free(&oc->pb);
    }
    av_free(iobuf);
    avformat_free_context(oc);
    free(sc.rows);
    return rc;
}
