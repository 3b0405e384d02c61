/*
 * doc_files_api.c - attachments over HTTP, never whole in memory
 * (documents_env.h):
 *   - POST /api/v1/documents: the body streams through
 *     documents_create_consumer (node/http's http_body_consumer): a
 *     multipart body is parsed as it comes (form_stream), the part
 *     "document" kept (at most JSON_MAX bytes), each file part handed to
 *     doc_upload piece by piece; at the end the document is issued with
 *     them (documents_create_upload). A refusal (a file over the limit, of
 *     an unknown type) answers at once and stores nothing.
 *   - GET /api/v1/documents/{id}/files/{hash}: a streamed answer of the
 *     attachment's length, filled DL_BATCH chunks at a time by a job on
 *     the pool whenever the client has taken what was queued.
 */
#include "documents/documents_env.h"
#include "node/http/form_stream.h"
#include "node/people/auth.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define JSON_MAX (64u * 1024u) /* the document's JSON */
#define DL_BATCH 16            /* chunks read per job (384 KiB) */

/* ---- upload ---- */

typedef struct {
    documents_env *d;
    auth_caller c;
    doc_upload *up;
    form_stream *fs; /* NULL: the body is the JSON itself */
    char *json;
    size_t jlen;
    enum { PART_OTHER, PART_DOC, PART_FILE } part;
    lt_error e;
} upload;

/* Appends text to the document's JSON; -1 with u->e past JSON_MAX. */
static int json_add(upload *u, const uint8_t *data, size_t len)
{
    if (u->jlen + len > JSON_MAX)
        return lt_error_set(&u->e, LT_ETOOLARGE, "document.field",
                            "the document's JSON is longer than %u bytes", JSON_MAX);
    memcpy(u->json + u->jlen, data, len);
    u->jlen += len;
    return 0;
}

static int part_begin(void *ctx, const char *name, const char *filename, const char *type)
{
    upload *u = ctx;
    (void)type; /* the stored type comes from the file's bytes */
    u->part = filename ? PART_FILE : !strcmp(name, "document") ? PART_DOC : PART_OTHER;
    if (u->part == PART_DOC && u->jlen)
        return lt_error_set(&u->e, LT_EINVAL, "document.field",
                            "the body has two parts \"document\"; send one");
    return u->part == PART_FILE ? doc_upload_file_begin(u->up, filename, &u->e) : 0;
}

static int part_data(void *ctx, const uint8_t *data, size_t len)
{
    upload *u = ctx;
    if (u->part == PART_DOC)
        return json_add(u, data, len);
    return u->part == PART_FILE ? doc_upload_file_write(u->up, data, len, &u->e) : 0;
}

static int part_end(void *ctx)
{
    upload *u = ctx;
    int rc = u->part == PART_FILE ? doc_upload_file_end(u->up, &u->e) : 0;
    u->part = PART_OTHER;
    return rc;
}

static void *upload_open(void *ctx, const http_request *req, http_response *res)
{
    documents_env *d = ctx;
    auth_caller c;
    if (strcmp(req->method, "POST")) {
        http_respond_code(res, 405, "http.method_not_allowed",
                          "%s %s takes no body; POST issues a document", req->method, req->path);
        return NULL;
    }
    if (auth_require(d->node->auth, req, res, ROLE_STAFF, &c))
        return NULL;
    upload *u = calloc(1, sizeof *u);
    if (u) {
        *u = (upload){.d = d, .c = c, .up = doc_upload_new(d->docs), .json = malloc(JSON_MAX + 1)};
    }
    const char *ct = http_request_header(req, "content-type");
    char err[256] = "out of memory; retry later";
    static const form_stream_fns fns = {part_begin, part_data, part_end, NULL};
    form_stream_fns f = fns;
    f.ctx = u;
    bool multi = ct && !strncasecmp(ct, "multipart/", 10);
    if (u && u->up && u->json && (!multi || (u->fs = form_stream_new(ct, &f, err, sizeof err))))
        return u;
    http_respond_code(res, multi && u && u->up && u->json ? 400 : 503,
                      multi && u && u->up && u->json ? "document.field" : NULL, "%s", err);
    if (u) {
        doc_upload_free(u->up);
        free(u->json);
        free(u);
    }
    return NULL;
}

static int upload_write(void *state, const uint8_t *data, size_t len, http_response *res)
{
    upload *u = state;
    char err[256];
    int rc = u->fs ? form_stream_feed(u->fs, data, len, err, sizeof err) : json_add(u, data, len);
    if (rc == -1 && u->fs && !u->e.kind) /* the body's shape, not a part's content */
        lt_error_set(&u->e, LT_EINVAL, "document.field", "%s", err);
    if (rc)
        http_respond_lt(res, &u->e);
    return rc ? -1 : 0;
}

static void upload_finish(void *state, http_response *res)
{
    upload *u = state;
    char err[256];
    json_error_t je;
    json_t *in = NULL, *out = NULL;
    unit_tree *t = NULL;
    if (u->fs && form_stream_done(u->fs, err, sizeof err))
        lt_error_set(&u->e, LT_EINVAL, "document.field", "%s", err);
    else if (u->fs && !u->jlen)
        lt_error_set(&u->e, LT_EINVAL, "document.field",
                     "a multipart document needs a part \"document\" holding its JSON");
    else if (!(in = json_loadb(u->json, u->jlen, 0, &je)) || !json_is_object(in))
        lt_error_set(&u->e, LT_EINVAL, "document.field",
                     "the document must be a JSON object%s (%s at line %d)",
                     u->fs ? " in the part \"document\"" : "", je.text, je.line);
    else if (!(t = documents_env_tree(u->d->node->store)))
        lt_error_set(&u->e, LT_ESTORAGE, NULL, "cannot read the unit tree; check the node's disk");
    else
        out = documents_create_upload(u->d->docs, in, u->up,
                                      &(doc_actor){u->c.user, u->c.unit, u->c.role}, t, &u->e);
    if (out)
        http_respond_json(res, 201, out);
    else
        http_respond_lt(res, &u->e);
    json_decref(in);
    unit_tree_free(t);
}

static void upload_close(void *state)
{
    upload *u = state;
    form_stream_free(u->fs);
    doc_upload_free(u->up);
    free(u->json);
    free(u);
}

const http_body_consumer documents_create_consumer = {upload_open, upload_write, upload_finish,
                                                      upload_close};

/* ---- download ---- */

typedef struct {
    documents_env *d;
    char id[ENTRY_MAX_NAME + 1];
    doc_file_info fi;
    http_pending *p; /* until the stream starts */
    http_stream *st; /* then */
    size_t next;     /* the next chunk to read */
    uint8_t *buf;    /* what the job read */
    size_t len;
    bool missing; /* a chunk could not be read */
    bool busy, gone;
    uv_work_t work;
} download;

static int buf_add(void *ctx, const uint8_t *data, size_t len)
{
    download *dl = ctx;
    if (dl->len + len > DL_BATCH * DOC_CHUNK)
        return -1;
    memcpy(dl->buf + dl->len, data, len);
    dl->len += len;
    return 0;
}

/* Pool: reads the next chunks into buf. */
static void dl_read(uv_work_t *w)
{
    download *dl = w->data;
    dl->len = 0;
    for (size_t n = 0; n < DL_BATCH && dl->next < dl->fi.chunks; n++, dl->next++)
        if (documents_file_chunk(dl->d->docs, dl->id, dl->fi.hash, dl->next, buf_add, dl)) {
            dl->missing = true;
            break;
        }
}

static void dl_free(download *dl)
{
    if (dl->st)
        http_stream_end(dl->st); /* short of the length when it stopped early */
    free(dl->buf);
    free(dl);
}

static void dl_drain(void *ctx);

/* The RFC 5987 form of a file name: UTF-8, %-escaped but for letters,
 * digits and "-._". */
static void name_escape(const char *name, char *out, size_t cap)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p && n + 4 < cap; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._", *p))
            out[n++] = (char)*p;
        else
            n += (size_t)snprintf(out + n, cap - n, "%%%02X", *p);
    }
    out[n] = '\0';
}

/* Loop: turns the deferred answer into the stream of the file. */
static bool dl_start(download *dl)
{
    http_response *res = http_pending_response(dl->p);
    char name[400], disp[440];
    name_escape(dl->fi.name, name, sizeof name);
    snprintf(disp, sizeof disp, "attachment; filename*=UTF-8''%s", name);
    http_response_header(res, "Content-Disposition", disp);
    http_response_header(res, "X-Content-Type-Options", "nosniff");
    dl->st = http_pending_stream_sized(dl->p, dl->fi.type, DL_BATCH * DOC_CHUNK, dl->fi.size);
    dl->p = NULL;
    if (dl->st)
        http_stream_on_drain(dl->st, dl_drain, dl);
    return dl->st != NULL;
}

static void dl_after(uv_work_t *w, int status)
{
    download *dl = w->data;
    dl->busy = false;
    if (dl->p && (status || dl->missing)) { /* nothing sent yet: a plain error */
        lt_error e = {0};
        lt_error_set(&e, LT_EUNAVAILABLE, "document.file_incomplete",
                     "this node does not hold all of attachment %s yet: retry when replication "
                     "has caught up",
                     dl->fi.hash);
        http_respond_lt(http_pending_response(dl->p), &e);
        http_pending_finish(dl->p);
        dl->p = NULL;
        dl_free(dl);
        return;
    }
    if ((dl->p && !dl_start(dl)) || dl->gone || status || dl->missing ||
        http_stream_write(dl->st, dl->buf, dl->len) < 0) {
        dl_free(dl);
        return;
    }
    if (dl->next == dl->fi.chunks)
        dl_free(dl); /* all queued: the stream ends once it is out */
}

/* Loop: the client took what was queued (or left): the next batch. */
static void dl_drain(void *ctx)
{
    download *dl = ctx;
    if (!http_stream_alive(dl->st))
        dl->gone = true;
    if (dl->busy)
        return;
    if (dl->gone) {
        dl_free(dl);
        return;
    }
    dl->busy = true;
    if (uv_queue_work(dl->d->node->loop, &dl->work, dl_read, dl_after)) {
        dl->busy = false;
        dl_free(dl);
    }
}

void documents_file_send(documents_env *d, const http_request *req, const char *unit,
                         const char *id, const char *hash, http_response *res)
{
    lt_error e = {0};
    download *dl = calloc(1, sizeof *dl);
    if (!dl || !(dl->buf = malloc(DL_BATCH * DOC_CHUNK))) {
        free(dl);
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return;
    }
    dl->d = d;
    dl->work.data = dl;
    snprintf(dl->id, sizeof dl->id, "%s", id);
    if (documents_file_info(d->docs, id, hash, unit, auth_tree(d->node->auth), &dl->fi, &e)) {
        http_respond_lt(res, &e);
        dl_free(dl);
        return;
    }
    if (!(dl->p = http_defer(req))) {
        http_respond_error(res, 503, "the node is out of memory; retry later");
        dl_free(dl);
        return;
    }
    dl->busy = true;
    if (uv_queue_work(d->node->loop, &dl->work, dl_read, dl_after)) {
        http_respond_error(http_pending_response(dl->p), 503,
                           "the node could not start reading the file; retry");
        http_pending_finish(dl->p);
        dl->p = NULL;
        dl_free(dl);
    }
}
