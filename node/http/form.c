/*
 * form.c - see form.h.
 */
#include "node/http/form.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

static bool utf8_valid(const char *s, size_t len)
{
    utf8proc_int32_t c;
    for (size_t i = 0; i < len;) {
        utf8proc_ssize_t n =
            utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &c);
        if (n <= 0)
            return false;
        i += (size_t)n;
    }
    return true;
}

static char *dup_n(const void *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = 0;
    }
    return s;
}

void form_free(form *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].name);
        free(f->v[i].value);
        free(f->v[i].filename);
        free(f->v[i].type);
    }
    free(f->v);
    f->v = NULL;
    f->n = 0;
}

const form_field *form_get(const form *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->v[i].name, name))
            return &f->v[i];
    return NULL;
}

/* Appends a field; takes ownership of the strings (freed on failure). */
static int add(form *f, char *name, char *value, size_t len, char *filename, char *type, char *err,
               size_t errlen)
{
    const char *why = NULL;
    if (!name || !value)
        why = "out of memory";
    else if (f->n >= FORM_MAX_FIELDS)
        why = "too many form fields (at most 128)";
    else if (!name[0] || strlen(name) > FORM_NAME_MAX)
        why = "a form field has an empty or overlong name (at most 128 bytes)";
    else if (!utf8_valid(name, strlen(name)) || (!filename && !utf8_valid(value, len)))
        why = "a form field is not UTF-8 text; send UTF-8";
    if (!why && !f->v && !(f->v = calloc(FORM_MAX_FIELDS, sizeof *f->v)))
        why = "out of memory";
    if (why) {
        snprintf(err, errlen, "%s", why);
        free(name);
        free(value);
        free(filename);
        free(type);
        return -1;
    }
    f->v[f->n++] = (form_field){name, value, len, filename, type};
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* %-decodes s[0..n) ('+' is a space); NULL on a bad escape. */
static char *url_decode(const char *s, size_t n, size_t *outlen)
{
    char *o = malloc(n + 1);
    size_t k = 0;
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            o[k++] = ' ';
        } else if (s[i] == '%') {
            int hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(o);
                return NULL;
            }
            o[k++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            o[k++] = s[i];
        }
    }
    o[k] = 0;
    *outlen = k;
    return o;
}

static int parse_urlencoded(const char *b, size_t len, form *f, char *err, size_t errlen)
{
    for (size_t i = 0; i < len;) {
        const char *amp = memchr(b + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - b) : len;
        const char *eq = memchr(b + i, '=', end - i);
        size_t name_end = eq ? (size_t)(eq - b) : end;
        if (end > i) {
            size_t nl, vl = 0;
            char *name = url_decode(b + i, name_end - i, &nl);
            char *value = eq ? url_decode(eq + 1, end - name_end - 1, &vl) : dup_n("", 0);
            if (!name || !value || strlen(name) != nl) {
                free(name);
                free(value);
                snprintf(err, errlen,
                         "the form body has a bad %%-escape near \"%.*s\"; "
                         "encode it as application/x-www-form-urlencoded",
                         (int)(end - i > 40 ? 40 : end - i), b + i);
                return -1;
            }
            if (add(f, name, value, vl, NULL, NULL, err, errlen))
                return -1;
        }
        i = end + 1;
    }
    return 0;
}

char *form_header_param(const char *h, size_t hlen, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i < hlen; i++) {
        if (h[i] != ';')
            continue;
        size_t j = i + 1;
        while (j < hlen && (h[j] == ' ' || h[j] == '\t'))
            j++;
        if (j + kl >= hlen || strncasecmp(h + j, key, kl) || h[j + kl] != '=')
            continue;
        j += kl + 1;
        if (h[j] == '"') {
            const char *q = memchr(h + j + 1, '"', hlen - j - 1);
            return q ? dup_n(h + j + 1, (size_t)(q - h - j - 1)) : NULL;
        }
        size_t e = j;
        while (e < hlen && h[e] != ';' && h[e] != ' ' && h[e] != '\t' && h[e] != '\r')
            e++;
        return dup_n(h + j, e - j);
    }
    return NULL;
}

const char *form_part_header(const char *h, size_t hlen, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < hlen;) {
        const char *eol = memmem(h + i, hlen - i, "\r\n", 2);
        size_t end = eol ? (size_t)(eol - h) : hlen;
        if (end - i > nl && !strncasecmp(h + i, name, nl)) {
            size_t v = i + nl;
            while (v < end && (h[v] == ' ' || h[v] == '\t'))
                v++;
            *vlen = end - v;
            return h + v;
        }
        i = end + 2;
    }
    return NULL;
}

int form_part_head(const char *h, size_t hlen, char **name, char **filename, char **type, char *err,
                   size_t errlen)
{
    size_t cdl = 0, tl = 0;
    const char *cd = form_part_header(h, hlen, "content-disposition:", &cdl);
    const char *t = form_part_header(h, hlen, "content-type:", &tl);
    *name = cd ? form_header_param(cd, cdl, "name") : NULL;
    if (!*name) {
        snprintf(err, errlen,
                 "a multipart part has no Content-Disposition name; send form-data; "
                 "name=\"FIELD\"");
        return -1;
    }
    *filename = form_header_param(cd, cdl, "filename");
    *type = t ? dup_n(t, tl) : NULL;
    return 0;
}

static int parse_multipart(const char *ct, const char *b, size_t len, form *f, char *err,
                           size_t errlen)
{
    char *boundary = form_header_param(ct, strlen(ct), "boundary");
    if (!boundary || !boundary[0] || strlen(boundary) > 70) {
        free(boundary);
        snprintf(err, errlen,
                 "multipart/form-data needs a boundary parameter of 1 to 70 "
                 "characters in its Content-Type");
        return -1;
    }
    char delim[80];
    size_t dl = (size_t)snprintf(delim, sizeof delim, "\r\n--%s", boundary);
    free(boundary);
    /* The first delimiter may open the body (no CRLF before it). */
    const char *p;
    if (len >= dl - 2 && !memcmp(b, delim + 2, dl - 2))
        p = b + dl - 2;
    else if ((p = memmem(b, len, delim, dl)))
        p += dl;
    const char *end = b + len;
    while (p) {
        if (end - p >= 2 && !memcmp(p, "--", 2))
            return 0; /* the close delimiter */
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (end - p < 2 || memcmp(p, "\r\n", 2))
            break;
        p += 2;
        const char *head_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        if (!head_end)
            break;
        size_t hl = (size_t)(head_end - p) + 2;
        const char *data = head_end + 4;
        const char *next = memmem(data, (size_t)(end - data), delim, dl);
        if (!next)
            break;
        char *name, *filename, *type;
        if (form_part_head(p, hl, &name, &filename, &type, err, errlen) ||
            add(f, name, dup_n(data, (size_t)(next - data)), (size_t)(next - data), filename, type,
                err, errlen))
            return -1;
        p = next + dl;
    }
    snprintf(err, errlen,
             "the multipart/form-data body is truncated or malformed; end every "
             "part with the boundary and the last with --boundary--");
    return -1;
}

int form_parse(const char *content_type, const uint8_t *body, size_t len, form *f, char *err,
               size_t errlen)
{
    const char *ct = content_type ? content_type : "";
    size_t base = strcspn(ct, "; \t");
    int rc;
    f->v = NULL;
    f->n = 0;
    if (base == 33 && !strncasecmp(ct, "application/x-www-form-urlencoded", base)) {
        rc = parse_urlencoded((const char *)body, len, f, err, errlen);
    } else if (base == 19 && !strncasecmp(ct, "multipart/form-data", base)) {
        rc = parse_multipart(ct, (const char *)body, len, f, err, errlen);
    } else {
        snprintf(err, errlen,
                 "the body is %s; send application/x-www-form-urlencoded or "
                 "multipart/form-data",
                 ct[0] ? ct : "of no declared type");
        return -1;
    }
    if (rc)
        form_free(f);
    return rc;
}
