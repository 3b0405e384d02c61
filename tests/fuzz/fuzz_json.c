/*
 * fuzz_json.c - libFuzzer target for JSON request bodies as the node reads
 * them: parse with jansson (duplicate keys refused), convert to msgpack
 * (depth-limited, keys sorted) and back; the round trip must be stable.
 */
#include "lib/mpjson.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return 0;
    char err[256];
    uint8_t *packed;
    size_t len;
    if (json_is_object(j) && !mpjson_pack_object(j, &packed, &len, err, sizeof err)) {
        json_t *back = mpjson_decode(packed, len, err, sizeof err);
        if (!back)
            abort(); /* what we packed must decode */
        uint8_t *again;
        size_t len2;
        if (mpjson_pack_object(back, &again, &len2, err, sizeof err) || len2 != len ||
            memcmp(again, packed, len))
            abort(); /* and pack to the same bytes */
        free(again);
        json_decref(back);
        free(packed);
    }
    json_decref(j);
    return 0;
}
