/*
 * link_follow.c - see link_follow.h.
 */
#include "node/links/link_follow.h"
#include "storage/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *link_follow_unit(store *s, const char *unit)
{
    uint8_t *rec;
    size_t len;
    char err[128];
    if (!unit[0] || store_record_get(s, "units", unit, &rec, &len))
        return NULL;
    json_t *j = record_is_deleted(rec, len)
                    ? NULL
                    : record_to_json(rec, len, unit, strlen(unit), err, sizeof err);
    free(rec);
    return j;
}

size_t link_follow_advertised(store *s, const char *unit, char (*urls)[NODE_URL_MAX], size_t max)
{
    json_t *j = link_follow_unit(s, unit), *v;
    size_t i, n = 0;
    json_array_foreach(json_object_get(j, "advertise"), i, v)
    {
        const char *u = json_string_value(v);
        if (u && *u && strlen(u) < NODE_URL_MAX && n < max)
            strcpy(urls[n++], u);
    }
    json_decref(j);
    return n;
}

bool link_follow_retired(store *s, const char *unit, char *into)
{
    json_t *j = link_follow_unit(s, unit);
    bool retired = json_is_true(json_object_get(j, "retired"));
    const char *m = json_string_value(json_object_get(j, "merged_into"));
    snprintf(into, NODE_CODE_MAX, "%s", m && strlen(m) < NODE_CODE_MAX ? m : "");
    json_decref(j);
    return retired;
}
