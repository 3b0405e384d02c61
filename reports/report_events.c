/*
 * report_events.c - the live event of a report entry (reports_env.h).
 */
#include "reports/reports_env.h"
#include "storage/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The action of the newest history item of report r ("h/<hlc>/<origin>"
 * fields sort by HLC), or "". */
static const char *last_action(json_t *r)
{
    const char *key, *newest = NULL;
    json_t *v;
    json_object_foreach(r, key, v) if (!strncmp(key, "h/", 2) &&
                                       (!newest || strcmp(key, newest) > 0)) newest = key;
    const char *a =
        newest ? json_string_value(json_object_get(json_object_get(r, newest), "action")) : NULL;
    return a ? a : "";
}

json_t *reports_env_event(void *ctx, const entry_view *e, json_t **scope)
{
    reports_env *env = ctx;
    char id[256], unit[NODE_CODE_MAX], err[128];
    uint8_t *rec = NULL;
    size_t len = 0;
    snprintf(id, sizeof id, "%.*s", (int)e->id.size, e->id.ptr);
    snprintf(unit, sizeof unit, "%.*s", (int)e->unit.size, e->unit.ptr);
    json_t *r = store_record_get(env->node->store, REPORT_COLL, id, &rec, &len) == 0
                    ? record_to_json(rec, len, id, strlen(id), err, sizeof err)
                    : NULL;
    free(rec);
    const char *status = json_string_value(json_object_get(r, "status"));
    json_t *msg = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "report", "id", id, "status",
                            status ? status : "", "unit", unit, "action", last_action(r));
    json_t *sc = json_array();
    json_array_extend(sc, json_object_get(r, "area_path"));
    json_array_extend(sc, json_object_get(r, "owner_path"));
    *scope = sc;
    json_decref(r);
    return msg;
}
