/*
 * form_stream.c - see form_stream.h. The bytes not yet consumed wait in
 * pend: in a part's body only the last delimiter length less one (which
 * may be the start of a delimiter), in a head the head so far.
 */
#include "node/http/form_stream.h"
#include "node/http/form.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { FS_PREAMBLE, FS_DELIM, FS_HEAD, FS_BODY, FS_DONE } fs_state;

struct form_stream {
    form_stream_fns fns;
    char delim[80]; /* CRLF "--" boundary */
    size_t dl;
    fs_state state;
    uint8_t *pend;
    size_t len, cap;
};

form_stream *form_stream_new(const char *content_type, const form_stream_fns *fns, char *err,
                             size_t errlen)
{
    const char *ct = content_type ? content_type : "";
    if (strncasecmp(ct, "multipart/form-data", 19)) {
        snprintf(err, errlen, "the body is %s; send multipart/form-data",
                 ct[0] ? ct : "of no declared type");
        return NULL;
    }
    char *boundary = form_header_param(ct, strlen(ct), "boundary");
    form_stream *s =
        boundary && boundary[0] && strlen(boundary) <= 70 ? calloc(1, sizeof *s) : NULL;
    if (!s) {
        free(boundary);
        snprintf(err, errlen,
                 "multipart/form-data needs a boundary parameter of 1 to 70 characters in its "
                 "Content-Type");
        return NULL;
    }
    s->fns = *fns;
    s->dl = (size_t)snprintf(s->delim, sizeof s->delim, "\r\n--%s", boundary);
    free(boundary);
    /* the first delimiter may open the body: as if a line end came first */
    s->cap = 4096;
    if (!(s->pend = malloc(s->cap))) {
        free(s);
        snprintf(err, errlen, "out of memory; retry later");
        return NULL;
    }
    memcpy(s->pend, "\r\n", 2);
    s->len = 2;
    return s;
}

/* Reads the head at b[0..n) (through its blank line) and starts the part.
 * Returns 0, or -1 with err, or the callback's value. */
static int head_parse(form_stream *s, const char *b, size_t n, char *err, size_t errlen)
{
    char *name, *filename, *type;
    if (form_part_head(b, n, &name, &filename, &type, err, errlen))
        return -1;
    int rc = s->fns.part(s->fns.ctx, name, filename, type);
    free(name);
    free(filename);
    free(type);
    return rc;
}

/* Consumes what it can of pend from *pos in the current state; returns 1
 * when more bytes are needed, 0 to go on, -1 with err, or a callback's
 * value. */
static int step(form_stream *s, size_t *pos, char *err, size_t errlen)
{
    const uint8_t *b = s->pend + *pos;
    size_t n = s->len - *pos;
    if (s->state == FS_DONE) {
        *pos = s->len; /* the epilogue is ignored */
        return 1;
    }
    if (s->state == FS_PREAMBLE || s->state == FS_BODY) {
        const uint8_t *hit = memmem(b, n, s->delim, s->dl);
        size_t take = hit ? (size_t)(hit - b) : n >= s->dl ? n - (s->dl - 1) : 0;
        int rc = s->state == FS_BODY && take ? s->fns.data(s->fns.ctx, b, take) : 0;
        if (!rc && hit && s->state == FS_BODY)
            rc = s->fns.end(s->fns.ctx);
        if (rc)
            return rc;
        *pos += take + (hit ? s->dl : 0);
        if (hit)
            s->state = FS_DELIM;
        return hit ? 0 : 1;
    }
    if (s->state == FS_DELIM) {
        size_t i = 0;
        if (n >= 2 && !memcmp(b, "--", 2)) {
            s->state = FS_DONE;
            return 0;
        }
        while (i < n && (b[i] == ' ' || b[i] == '\t'))
            i++;
        if (n - i < 2)
            return 1;
        if (memcmp(b + i, "\r\n", 2)) {
            snprintf(err, errlen,
                     "the multipart/form-data body is malformed: a boundary is not followed by "
                     "a line end; end every part with the boundary and the last with "
                     "--boundary--");
            return -1;
        }
        *pos += i + 2;
        s->state = FS_HEAD;
        return 0;
    }
    /* FS_HEAD */
    const uint8_t *end = memmem(b, n, "\r\n\r\n", 4);
    if (!end && n > FORM_STREAM_HEAD_MAX) {
        snprintf(err, errlen, "a multipart part head is longer than %d bytes; send shorter headers",
                 FORM_STREAM_HEAD_MAX);
        return -1;
    }
    if (!end)
        return 1;
    int rc = head_parse(s, (const char *)b, (size_t)(end - b) + 2, err, errlen);
    if (rc)
        return rc;
    *pos += (size_t)(end - b) + 4;
    s->state = FS_BODY;
    return 0;
}

int form_stream_feed(form_stream *s, const uint8_t *data, size_t len, char *err, size_t errlen)
{
    if (s->len + len > s->cap) {
        size_t cap = s->len + len;
        uint8_t *p = realloc(s->pend, cap);
        if (!p) {
            snprintf(err, errlen, "out of memory; retry later");
            return -1;
        }
        s->pend = p;
        s->cap = cap;
    }
    memcpy(s->pend + s->len, data, len);
    s->len += len;
    size_t pos = 0;
    int rc;
    while (!(rc = step(s, &pos, err, errlen)))
        ;
    memmove(s->pend, s->pend + pos, s->len - pos);
    s->len -= pos;
    return rc == 1 ? 0 : rc;
}

int form_stream_done(form_stream *s, char *err, size_t errlen)
{
    if (s->state == FS_DONE)
        return 0;
    snprintf(err, errlen,
             "the multipart/form-data body is truncated or malformed; end every part with the "
             "boundary and the last with --boundary--");
    return -1;
}

void form_stream_free(form_stream *s)
{
    if (!s)
        return;
    free(s->pend);
    free(s);
}
