/*
 * fuzz_entry.c - libFuzzer target for the entry decoder and what runs on a
 * decoded entry: signature check, record merge (twice, to exercise merging
 * into an existing record) and the JSON view; and the head reader on any
 * bytes, which must agree with the decoder on every entry it accepts. Any crash, leak or undefined
 * behaviour is a bug; run by scripts/run-fuzz inside `make test`.
 */
#include "lib/mpjson.h"
#include "storage/entry.h"
#include "storage/record.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    entry_view e;
    json_t *j = mpjson_decode(data, size, err, sizeof err);
    json_decref(j);
    entry_head h;
    bool head = entry_head_read(data, size, &h) == 0;
    if (entry_decode(data, size, &e, err, sizeof err))
        return 0;
    if (!head || h.v.seq != e.seq || h.v.hlc != e.hlc || h.v.op != e.op ||
        h.v.to.size != e.to.size || h.v.id.size != e.id.size ||
        memcmp(h.v.id.ptr, e.id.ptr, e.id.size) || h.v.coll.size != e.coll.size ||
        memcmp(h.v.coll.ptr, e.coll.ptr, e.coll.size))
        abort(); /* a valid entry whose head reads otherwise */
    (void)entry_verify(&e);
    msgpack_sbuffer first, second;
    msgpack_sbuffer_init(&first);
    msgpack_sbuffer_init(&second);
    if (!record_merge(NULL, 0, &e, &first, err, sizeof err) &&
        !record_merge((const uint8_t *)first.data, first.size, &e, &second, err, sizeof err)) {
        /* merging an entry twice is idempotent */
        if (first.size != second.size || memcmp(first.data, second.data, first.size))
            abort();
        /* the in-place summary reads the record the merge wrote: its creator
         * is the entry's unit, and only a delete leaves a tombstone */
        bool deleted;
        char owner[ENTRY_MAX_NAME + 1];
        if (record_summary((const uint8_t *)second.data, second.size, &deleted, owner,
                           sizeof owner) ||
            strlen(owner) != e.unit.size || memcmp(owner, e.unit.ptr, e.unit.size) ||
            (deleted && e.op != ENTRY_OP_DELETE))
            abort();
        json_t *view = record_to_json((const uint8_t *)second.data, second.size, e.id.ptr,
                                      e.id.size, err, sizeof err);
        json_decref(view);
    }
    msgpack_sbuffer_destroy(&first);
    msgpack_sbuffer_destroy(&second);
    entry_view_free(&e);
    return 0;
}
