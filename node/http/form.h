/*
 * form.h - HTML form bodies: application/x-www-form-urlencoded and
 * multipart/form-data (RFC 7578), as Open311 clients POST them.
 *
 * Both parse into one list of fields in body order. A plain field's value
 * must be UTF-8; a file part (one with a filename) keeps its bytes as they
 * came, with its filename and content type. Bounded: at most FORM_MAX_FIELDS
 * fields; a field name longer than FORM_NAME_MAX is refused.
 */
#ifndef LT_FORM_H
#define LT_FORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FORM_MAX_FIELDS 128
#define FORM_NAME_MAX 128

typedef struct {
    char *name;
    char *value; /* NUL-terminated copy (a file may hold NULs: use len) */
    size_t len;
    char *filename; /* NULL for a plain field */
    char *type;     /* a part's Content-Type, NULL when it gave none */
} form_field;

typedef struct {
    form_field *v;
    size_t n;
} form;

/* Parses body by content_type (the request's Content-Type header, with its
 * parameters) into *f. Returns 0, or -1 with err saying what is wrong (an
 * unknown content type, a bad %-escape, no boundary, a truncated part,
 * text that is not UTF-8, too many fields) and *f empty. */
int form_parse(const char *content_type, const uint8_t *body, size_t len, form *f, char *err,
               size_t errlen);

/* The first field called name, or NULL. */
const form_field *form_get(const form *f, const char *name);

/* Frees the fields of f (f itself is the caller's). */
void form_free(form *f);

/* The value of parameter key (e.g. "boundary", "name") in a header value
 * like `form-data; name="a"; filename="b"`, quoted or not (malloc'd), or
 * NULL when absent. Matches whole parameter names only. */
char *form_header_param(const char *h, size_t hlen, const char *key);

/* Finds header name (with its colon, e.g. "content-type:") in the part
 * head [h, h+hlen); sets *vlen to its value's length and returns the
 * value, or NULL. */
const char *form_part_header(const char *h, size_t hlen, const char *name, size_t *vlen);

/* The name, filename (NULL for a plain field) and Content-Type (NULL when
 * none) of the part whose head is [h, h+hlen) (its lines, through the last
 * CRLF), malloc'd. Returns 0, or -1 with err when it has no
 * Content-Disposition name. */
int form_part_head(const char *h, size_t hlen, char **name, char **filename, char **type, char *err,
                   size_t errlen);

#endif
