/*
 * test_form_stream.c - the multipart/form-data parser fed piece by piece
 * (node/http/form_stream.h):
 *   - a body of three parts (a JSON field, a binary file holding CR LF,
 *     "--" and a prefix of the boundary, an empty file) comes out the same
 *     whatever the pieces: every size from 1 byte to the whole body, and
 *     a cut at every position in two;
 *   - the first delimiter may open the body; a preamble and an epilogue are
 *     ignored;
 *   - a part without a name, a head longer than FORM_STREAM_HEAD_MAX and a
 *     body cut before its close delimiter are refused saying so; a missing
 *     boundary is refused when the parser is made;
 *   - a callback's refusal stops the parse with its value.
 */
#include "node/http/form_stream.h"
#include "tests/check.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CT "multipart/form-data; boundary=XyZ-42"

typedef struct {
    char log[8192]; /* "[name|filename|type]" per part, then its bytes, then "|" */
    size_t len;
    int refuse_at; /* refuse the part of this number (1-based) with 7 */
    int parts;
} sink;

static void put(sink *s, const void *p, size_t n)
{
    if (s->len + n < sizeof s->log) {
        memcpy(s->log + s->len, p, n);
        s->len += n;
    }
}

static int on_part(void *ctx, const char *name, const char *filename, const char *type)
{
    sink *s = ctx;
    char h[256];
    int n = snprintf(h, sizeof h, "[%s|%s|%s]", name, filename ? filename : "-", type ? type : "-");
    put(s, h, (size_t)n);
    return ++s->parts == s->refuse_at ? 7 : 0;
}

static int on_data(void *ctx, const uint8_t *d, size_t n)
{
    put(ctx, d, n);
    return 0;
}

static int on_end(void *ctx)
{
    put(ctx, "|", 1);
    return 0;
}

/* Parses body[0..len) fed in pieces of size step (cut at cut first when
 * non-zero) into s; returns the feed's or done's result, err filled. */
static int parse(const char *body, size_t len, size_t step, size_t cut, sink *s, char *err,
                 size_t errlen)
{
    form_stream_fns fns = {on_part, on_data, on_end, s};
    form_stream *fs = form_stream_new(CT, &fns, err, errlen);
    if (!fs)
        return -2;
    int rc = 0;
    if (cut) {
        rc = form_stream_feed(fs, (const uint8_t *)body, cut, err, errlen);
        if (!rc)
            rc = form_stream_feed(fs, (const uint8_t *)body + cut, len - cut, err, errlen);
    } else {
        for (size_t off = 0; !rc && off < len; off += step)
            rc = form_stream_feed(fs, (const uint8_t *)body + off,
                                  len - off < step ? len - off : step, err, errlen);
    }
    if (!rc)
        rc = form_stream_done(fs, err, errlen);
    form_stream_free(fs);
    return rc;
}

static const char file_bytes[] = "\x89PNG\r\n--XyZ-4\r\n--\r\n\r\n\x00\x01--XyZ-42x";

/* The body and what the sink should hold. */
static size_t body_of(char *body, size_t cap, char *want, size_t wcap, size_t *wlen)
{
    size_t n = (size_t)snprintf(body, cap,
                                "a preamble\r\n--XyZ-42\r\n"
                                "Content-Disposition: form-data; name=\"document\"\r\n\r\n"
                                "{\"subject\":\"Về việc\"}\r\n--XyZ-42\r\n"
                                "Content-Disposition: form-data; name=\"file\"; "
                                "filename=\"bản đồ.png\"\r\nContent-Type: image/png\r\n\r\n");
    memcpy(body + n, file_bytes, sizeof file_bytes - 1);
    n += sizeof file_bytes - 1;
    n += (size_t)snprintf(body + n, cap - n,
                          "\r\n--XyZ-42\r\nContent-Disposition: form-data; name=\"file\"; "
                          "filename=\"empty.pdf\"\r\n\r\n\r\n--XyZ-42--\r\nepilogue");
    size_t w = (size_t)snprintf(
        want, wcap, "[document|-|-]{\"subject\":\"Về việc\"}|[file|bản đồ.png|image/png]");
    memcpy(want + w, file_bytes, sizeof file_bytes - 1);
    w += sizeof file_bytes - 1;
    w += (size_t)snprintf(want + w, wcap - w, "|[file|empty.pdf|-]|");
    *wlen = w;
    return n;
}

int main(void)
{
    char body[2048], want[1024], err[256];
    size_t wlen, len = body_of(body, sizeof body, want, sizeof want, &wlen);
    bool all = true;
    for (size_t step = 1; step <= len; step++) {
        sink s = {0};
        int rc = parse(body, len, step, 0, &s, err, sizeof err);
        if (rc || s.len != wlen || memcmp(s.log, want, wlen)) {
            CHECKF(false, "pieces of %zu bytes: rc %d, %zu bytes out (%s)", step, rc, s.len, err);
            all = false;
            break;
        }
    }
    CHECKF(all, "every piece size from 1 to %zu gives the same parts", len);
    all = true;
    for (size_t cut = 1; cut < len; cut++) {
        sink s = {0};
        int rc = parse(body, len, 0, cut, &s, err, sizeof err);
        if (rc || s.len != wlen || memcmp(s.log, want, wlen)) {
            CHECKF(false, "cut at %zu: rc %d (%s)", cut, rc, err);
            all = false;
            break;
        }
    }
    CHECKF(all, "a cut at every position gives the same parts");

    const char opened[] = "--XyZ-42\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n"
                          "--XyZ-42--";
    sink s = {0};
    CHECK(parse(opened, sizeof opened - 1, 4, 0, &s, err, sizeof err) == 0 &&
          s.len == strlen("[a|-|-]x|") && !memcmp(s.log, "[a|-|-]x|", s.len));

    const char noname[] = "--XyZ-42\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ-42--";
    s = (sink){0};
    CHECK(parse(noname, sizeof noname - 1, 5, 0, &s, err, sizeof err) == -1 &&
          strstr(err, "no Content-Disposition name"));

    char longhead[FORM_STREAM_HEAD_MAX + 200];
    int n = snprintf(longhead, sizeof longhead, "--XyZ-42\r\nX-Long: ");
    memset(longhead + n, 'a', sizeof longhead - (size_t)n - 1);
    longhead[sizeof longhead - 1] = '\0';
    s = (sink){0};
    CHECK(parse(longhead, strlen(longhead), 1000, 0, &s, err, sizeof err) == -1 &&
          strstr(err, "head is longer"));

    s = (sink){0};
    CHECK(parse(body, len / 2, 100, 0, &s, err, sizeof err) == -1 && strstr(err, "truncated"));

    s = (sink){.refuse_at = 2};
    CHECK(parse(body, len, 16, 0, &s, err, sizeof err) == 7);

    form_stream_fns fns = {on_part, on_data, on_end, &s};
    CHECK(form_stream_new("multipart/form-data", &fns, err, sizeof err) == NULL &&
          strstr(err, "boundary"));
    CHECK(form_stream_new("application/json", &fns, err, sizeof err) == NULL &&
          strstr(err, "multipart/form-data"));
    return check_done();
}
