/*
 * fuzz_form.c - libFuzzer target for the Open311 request bodies
 * (node/http/form.c, form-encoded and multipart with boundary "B" picked by the
 * first byte) and for the XML and JSON rendering of what they hold
 * (reports/open311_format.c). Any crash, leak or undefined behaviour is a
 * bug; run by scripts/run-fuzz inside `make test`.
 */
#include "node/http/form.h"
#include "reports/open311_format.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[] = {
        "application/x-www-form-urlencoded", "multipart/form-data; boundary=B",
        "multipart/form-data; boundary=\"B\"; charset=utf-8", "text/plain"};
    char err[256];
    form f;
    if (size < 1)
        return 0;
    if (form_parse(types[data[0] % 4], data + 1, size - 1, &f, err, sizeof err))
        return 0;
    json_t *doc = json_array();
    for (size_t i = 0; i < f.n; i++) {
        const form_field *x = &f.v[i];
        json_t *item = json_object();
        json_t *v = x->filename ? json_integer((json_int_t)x->len) : json_stringn(x->value, x->len);
        if (!v) /* plain values are UTF-8 by form_parse's promise */
            abort();
        json_object_set_new(item, "name", json_string(x->name));
        json_object_set_new(item, "value", v);
        json_array_append_new(doc, item);
    }
    size_t len;
    free(open311_render(doc, OPEN311_XML, "fields", "field", &len));
    free(open311_render(doc, OPEN311_JSON, "fields", "field", &len));
    json_decref(doc);
    form_free(&f);
    return 0;
}
