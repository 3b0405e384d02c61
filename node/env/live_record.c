/*
 * live_record.c - see live_record.h.
 */
#include "node/env/live_record.h"
#include "storage/record.h"

#include <stdlib.h>
#include <string.h>

json_t *live_record_read(store *s, const char *coll, const char *id, bool *failed)
{
    uint8_t *rec;
    size_t len;
    char err[64];
    int rc = store_record_get(s, coll, id, &rec, &len);
    if (failed)
        *failed = rc < 0;
    if (rc)
        return NULL;
    json_t *j = record_is_deleted(rec, len)
                    ? NULL
                    : record_to_json(rec, len, id, strlen(id), err, sizeof err);
    free(rec);
    return j;
}
