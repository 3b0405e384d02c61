/*
 * doc_merged.c - who acts for a unit merged away: its live successor's
 * staff receive, answer and work on what was addressed or assigned to it
 * (docs/documents.md, "Boxes of a merged unit").
 */
#include "documents/doc_internal.h"
#include "node/people/access.h"
#include "storage/record.h"

#include <stdlib.h>
#include <string.h>

size_t doc_acting_for(const json_t *j, const char *field, const char *unit, const unit_tree *tree,
                      const char **out, size_t max)
{
    size_t n = 0, i;
    const json_t *v;
    json_array_foreach(json_object_get(j, field), i, v)
    {
        const char *u = json_is_object(v) ? doc_str(v, "unit") : json_string_value(v);
        if (!u || n == max || !access_became(tree, u, unit))
            continue;
        out[n++] = u;
        if (n > 1 && !strcmp(u, unit)) { /* the unit itself first */
            out[n - 1] = out[0];
            out[0] = u;
        }
    }
    return n;
}

entry_op doc_merged_op(documents *d, const char *coll, const char *id, bool merged)
{
    uint8_t *rec;
    size_t len;
    if (!merged || store_record_get(d->s, coll, id, &rec, &len))
        return ENTRY_OP_PUT;
    bool live = !record_is_deleted(rec, len);
    free(rec);
    return live ? ENTRY_OP_PATCH : ENTRY_OP_PUT;
}
