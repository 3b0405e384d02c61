/*
 * open311_format.h - Open311 GeoReport v2 responses in JSON and XML from
 * one description.
 *
 * A handler describes each response once, as the JSON the spec shows (an
 * array of objects, or one object for a service definition); the XML form
 * is derived from it by naming rules: the list becomes the root element
 * (e.g. <services>), each object an item element (<service>), each member
 * an element of the member's name, a nested array <K> with items named by
 * open311_item_name(K) (<attributes><attribute>, <values><value>), null an
 * empty element, booleans true/false. Text is escaped for XML 1.0, and the
 * characters XML 1.0 cannot carry at all (C0 controls but tab, CR, LF) are
 * dropped. Numbers are written the same way in both forms.
 */
#ifndef LT_OPEN311_FORMAT_H
#define LT_OPEN311_FORMAT_H

#include "node/http/http.h"

#include <jansson.h>
#include <stdarg.h>

typedef enum { OPEN311_JSON, OPEN311_XML } open311_format;

/* The element name of the items of a nested array called key. */
const char *open311_item_name(const char *key);

/* The text of doc in fmt (malloc'd; *len its length), or NULL when out of
 * memory. root and item name the XML elements of a list (doc an array);
 * for an object doc, root wraps its members and item is unused. */
char *open311_render(const json_t *doc, open311_format fmt, const char *root, const char *item,
                     size_t *len);

/* Sets res to status and doc rendered in fmt with its content type
 * (application/json; charset=utf-8 or text/xml; charset=utf-8). Steals doc;
 * NULL doc becomes a 500 error. */
void open311_respond(http_response *res, int status, json_t *doc, open311_format fmt,
                     const char *root, const char *item);

/* Sets res to an error in the spec's form: [{"code": status, "description"}]
 * or <errors><error><code/><description/></error></errors>. */
void open311_error(http_response *res, int status, open311_format fmt, const char *msgfmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
