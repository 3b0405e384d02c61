/*
 * basemap.c - see basemap.h.
 */
#include "node/basemap.h"
#include "node/env/env.h"
#include "node/http/offload.h"
#include "node/http/static_web.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUILTIN_URL "basemap/vietnam.pmtiles"
#define HEADER_LEN 127

static char basemap_file[PATH_MAX]; /* serve --basemap; "" = none */

typedef struct {
    char path[PATH_MAX]; /* the file to read; "" = the built-in archive */
    bool optional;       /* DIR/basemap.pmtiles: fall back when absent */
    char range[128];     /* the Range header; "" = none */
} basemap_job;

int basemap_set_file(const char *path, char *err, size_t errlen)
{
    unsigned char h[HEADER_LEN];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(h, 1, sizeof h, f) : 0;
    int e = errno;
    if (f)
        fclose(f);
    if (!f) {
        snprintf(err, errlen, "--basemap %s cannot be read: %s", path, strerror(e));
        return -1;
    }
    if (n < sizeof h || memcmp(h, "PMTiles", 7) || h[7] != 3) {
        snprintf(err, errlen,
                 "--basemap %s is not a PMTiles version 3 archive; make one with "
                 "`pmtiles extract` (docs/operations.md, \"Maps offline\")",
                 path);
        return -1;
    }
    if (strlen(path) >= sizeof basemap_file) {
        snprintf(err, errlen, "--basemap path is longer than %d bytes", PATH_MAX - 1);
        return -1;
    }
    snprintf(basemap_file, sizeof basemap_file, "%s", path);
    return 0;
}

int basemap_range_parse(const char *value, uint64_t size, uint64_t *off, uint64_t *len)
{
    const char *p = value;
    char *end;
    if (strncmp(p, "bytes=", 6) || size == 0)
        return -1;
    p += 6;
    if (*p == '-') { /* the last N bytes */
        if (p[1] < '0' || p[1] > '9')
            return -1;
        errno = 0;
        uint64_t n = strtoull(p + 1, &end, 10);
        if (end == p + 1 || *end || errno || n == 0)
            return -1;
        *len = n < size ? n : size;
        *off = size - *len;
        return 0;
    }
    if (*p < '0' || *p > '9')
        return -1;
    errno = 0;
    uint64_t a = strtoull(p, &end, 10);
    if (errno || *end != '-' || a >= size)
        return -1;
    p = end + 1;
    uint64_t b = size - 1;
    if (*p) {
        if (*p < '0' || *p > '9')
            return -1;
        b = strtoull(p, &end, 10);
        if (errno || *end || b < a)
            return -1;
        if (b >= size)
            b = size - 1;
    }
    *off = a;
    *len = b - a + 1;
    return 0;
}

/* Answers job's range of data (size bytes, or read from fd when data is
 * NULL) into res. */
static void answer_range(const basemap_job *j, int fd, const unsigned char *data, uint64_t size,
                         http_response *res)
{
    uint64_t off = 0, len = size;
    if (*j->range && basemap_range_parse(j->range, size, &off, &len)) {
        char cr[64];
        snprintf(cr, sizeof cr, "bytes */%" PRIu64, size);
        http_response_header(res, "Content-Range", cr);
        http_respond_error(res, 416,
                           "Range \"%s\" is not one byte range inside the basemap's %" PRIu64
                           " bytes: ask for bytes=START-END",
                           j->range, size);
        return;
    }
    if (len > BASEMAP_RANGE_MAX) {
        http_respond_error(res, 416,
                           "the basemap answers at most %u bytes at once: ask for a byte "
                           "range (Range: bytes=START-END)",
                           BASEMAP_RANGE_MAX);
        return;
    }
    char *body = malloc(len ? len : 1);
    ssize_t got = 0;
    if (body && data)
        memcpy(body, data + off, len), got = (ssize_t)len;
    else if (body)
        got = pread(fd, body, len, (off_t)off);
    if (!body || got != (ssize_t)len) {
        free(body);
        http_respond_error(res, 500, "the basemap could not be read; check the node's log");
        return;
    }
    res->status = *j->range ? 206 : 200;
    res->content_type = "application/vnd.pmtiles";
    res->body = body;
    res->body_len = len;
    http_response_header(res, "Accept-Ranges", "bytes");
    http_response_header(res, "Cache-Control", "no-cache");
    if (*j->range) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, off, off + len - 1, size);
        http_response_header(res, "Content-Range", cr);
    }
}

/* On a pool thread: the file's range, or the built-in archive's when the
 * optional file is absent. */
static void basemap_work(void *job, const uint8_t *body, size_t body_len, http_response *res)
{
    basemap_job *j = job;
    (void)body;
    (void)body_len;
    int fd = *j->path ? open(j->path, O_RDONLY | O_CLOEXEC) : -1;
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0) {
        answer_range(j, fd, NULL, (uint64_t)st.st_size, res);
        close(fd);
        return;
    }
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (*j->path && !(j->optional && e == ENOENT)) {
        http_respond_error(res, 500,
                           "the basemap %s cannot be read (%s); fix the file or restart "
                           "the node without it",
                           j->path, strerror(e));
        return;
    }
    const web_asset *a = static_web_find(BUILTIN_URL);
    if (!a) {
        http_respond_error(res, 404, "this node has no basemap: place one at DIR/%s",
                           BASEMAP_FILE_NAME);
        return;
    }
    answer_range(j, -1, a->data, a->len, res);
}

static void basemap_done(void *job, http_response *res, http_pending *p, bool ran)
{
    (void)res;
    (void)p;
    (void)ran;
    free(job);
}

void basemap_serve(void *ctx, const http_request *req, http_response *res)
{
    node_env *d = ctx;
    if (!http_path_exact(req, res, "/basemap.pmtiles", NULL))
        return;
    basemap_job *j = calloc(1, sizeof *j);
    if (!j) {
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return;
    }
    const char *range = http_request_header(req, "range");
    snprintf(j->range, sizeof j->range, "%s", range ? range : "");
    if (*basemap_file)
        snprintf(j->path, sizeof j->path, "%s", basemap_file);
    else {
        j->optional = true;
        snprintf(j->path, sizeof j->path, "%s/%s", d->config->dir, BASEMAP_FILE_NAME);
    }
    offload_request(req, res, &(offload_task){d->loop, j, basemap_work, basemap_done});
}
