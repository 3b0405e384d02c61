/*
 * quarantine_view.c - see quarantine_view.h.
 */
#include "node/membership/quarantine_view.h"
#include "lib/hex.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
    json_t *entries;
    size_t count, waiting;
} view;

static json_t *strn(msgpack_object_str s)
{
    return json_stringn(s.ptr, s.size);
}

static int view_one(void *ctx, const store_quarantined *q)
{
    view *v = ctx;
    entry_view e;
    char hash[65], origin[65];
    v->count++;
    v->waiting += q->waiting;
    if (entry_decode(q->bytes, q->len, &e, NULL, 0))
        return 0; /* only well-formed entries reach the quarantine */
    json_t *to = json_array();
    for (uint32_t i = 0; i < e.to.size; i++)
        json_array_append_new(to, strn(e.to.ptr[i].via.str));
    json_array_append_new(
        v->entries,
        json_pack("{s:s, s:s, s:I, s:s, s:I, s:o, s:o, s:o, s:s, s:o, s:s%}", "hash",
                  hex_encode(q->hash, 32, hash), "state", q->waiting ? "waiting" : "refused",
                  "at_ms", (json_int_t)q->at_ms, "origin", hex_encode(e.origin, 32, origin), "seq",
                  (json_int_t)e.seq, "unit", strn(e.unit), "coll", strn(e.coll), "id", strn(e.id),
                  "op", entry_op_name(e.op), "to", to, "reason", q->reason, q->reason_len));
    entry_view_free(&e);
    return 0;
}

static int newest_first(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "at_ms"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "at_ms"));
    return (y > x) - (y < x);
}

json_t *quarantine_view(store *s, size_t limit, char *err, size_t errlen)
{
    view v = {json_array(), 0, 0};
    if (store_quarantine_scan(s, view_one, &v)) {
        json_decref(v.entries);
        snprintf(err, errlen, "cannot read the quarantine: run lienthong verify");
        return NULL;
    }
    size_t n = json_array_size(v.entries);
    json_t **items = malloc((n ? n : 1) * sizeof *items);
    json_t *out = json_array();
    if (items) {
        for (size_t i = 0; i < n; i++)
            items[i] = json_array_get(v.entries, i);
        qsort(items, n, sizeof *items, newest_first);
        for (size_t i = 0; i < n && i < limit; i++)
            json_array_append(out, items[i]);
        free(items);
    }
    json_decref(v.entries);
    return json_pack("{s:I, s:I, s:o}", "count", (json_int_t)v.count, "waiting",
                     (json_int_t)v.waiting, "entries", out);
}
