/*
 * unit_advertise.c - see unit_advertise.h.
 */
#include "node/membership/unit_advertise.h"
#include "lib/mpjson.h"
#include "node/links/link_follow.h"
#include "node/membership/network.h"
#include "node/membership/unit_ops.h"
#include "storage/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* True when the unit's record already advertises exactly urls. */
static bool advertised(store *s, const char *unit, const char *const *urls, size_t n)
{
    json_t *j = link_follow_unit(s, unit);
    json_t *have = json_object_get(j, UNIT_F_ADVERTISE);
    bool same = json_is_array(have) && json_array_size(have) == n;
    for (size_t i = 0; same && i < n; i++)
        same = json_is_string(json_array_get(have, i)) &&
               !strcmp(json_string_value(json_array_get(have, i)), urls[i]);
    json_decref(j);
    return same;
}

int unit_advertise(store *s, const node_config *c, const char *const *urls, size_t n, char *err,
                   size_t errlen)
{
    if (!n || advertised(s, c->unit, urls, n))
        return 0;
    char aud[NETWORK_AUDIENCE_MAX];
    if (network_audience(s, c->unit, aud)) {
        snprintf(err, errlen, "this node holds no network configuration: enrol it first");
        return -1;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_string(urls[i]));
    json_t *body = json_pack("{s:o}", UNIT_F_ADVERTISE, list);
    uint8_t *bytes = NULL;
    size_t len;
    int rc = mpjson_pack_object(body, &bytes, &len, err, errlen);
    json_decref(body);
    if (rc)
        return -1;
    const char *const to[] = {aud};
    store_write w = {"units", c->unit, ENTRY_OP_PATCH, bytes, len, to, 1};
    store_author a = node_author(c);
    rc = store_write_local(s, &a, &w, 1, NULL, err, errlen);
    free(bytes);
    return rc ? -1 : 0;
}
