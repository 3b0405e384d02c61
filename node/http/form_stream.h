/*
 * form_stream.h - a multipart/form-data body (RFC 7578) parsed as it
 * arrives, piece by piece: each part's head is read (at most
 * FORM_STREAM_HEAD_MAX bytes), then its bytes are handed on as they come,
 * so a part of any size never sits in memory whole. The parser holds at
 * most one piece plus a part head.
 */
#ifndef LT_FORM_STREAM_H
#define LT_FORM_STREAM_H

#include <stddef.h>
#include <stdint.h>

#define FORM_STREAM_HEAD_MAX 8192

/* What a caller does with the parts; each returns 0, or non-zero to stop
 * the parse (form_stream_feed then returns that value). */
typedef struct {
    /* A part begins: its name, filename (NULL for a plain field) and
     * Content-Type (NULL when it gave none). */
    int (*part)(void *ctx, const char *name, const char *filename, const char *type);
    /* The next bytes of the current part. */
    int (*data)(void *ctx, const uint8_t *data, size_t len);
    /* The current part is complete. */
    int (*end)(void *ctx);
    void *ctx;
} form_stream_fns;

typedef struct form_stream form_stream;

/* A parser for a body of content_type (the request's Content-Type header
 * with its boundary). NULL with err when it is not multipart/form-data
 * with a boundary of 1 to 70 characters, or when out of memory. */
form_stream *form_stream_new(const char *content_type, const form_stream_fns *fns, char *err,
                             size_t errlen);

/* Parses the next len bytes of the body. Returns 0; -1 with err when the
 * body is malformed (a part without a name, a head too long, bytes after a
 * delimiter that are not a line end); or a callback's non-zero value. */
int form_stream_feed(form_stream *s, const uint8_t *data, size_t len, char *err, size_t errlen);

/* The body has ended: returns 0 when the close delimiter came, else -1
 * with err (truncated). */
int form_stream_done(form_stream *s, char *err, size_t errlen);

/* Frees s (NULL ignored). */
void form_stream_free(form_stream *s);

#endif
