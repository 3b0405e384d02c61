/*
 * mpjson.h - conversion between JSON (jansson json_t) and msgpack.
 *
 * Record bodies travel as msgpack maps inside entries and are shown to
 * clients as JSON. The mapping is:
 *
 *   JSON                  msgpack
 *   null, true, false     nil, true, false
 *   integer (int64)       int, smallest encoding (as msgpack_pack_int64)
 *   real                  float64 (float32 is also read, as a real)
 *   string (UTF-8)        str; bin is read as a string in standard base64
 *                         (RFC 4648 alphabet A-Z a-z 0-9 + /, '=' padded)
 *   array                 array
 *   object                map with str keys, packed sorted bytewise
 *
 * Packing is canonical: object keys are written in memcmp order (the
 * shorter key first when one is a prefix of the other), so equal JSON
 * always gives equal bytes. Containers nest at most MPJSON_MAX_DEPTH
 * levels (the outermost array or map is level 1). On the msgpack side,
 * strings and map keys must be valid UTF-8, map keys must be strings and
 * unique, unsigned integers must fit in int64, floats must be finite and
 * ext values are refused: anything else has no faithful JSON form.
 *
 * Errors are written into a caller's buffer (err, errlen; err may be NULL)
 * and name the place where possible, e.g. 'field "place.name": invalid
 * UTF-8' or 'field "tags[2]": ...'.
 */
#ifndef LT_MPJSON_H
#define LT_MPJSON_H

#include <jansson.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MPJSON_MAX_DEPTH 32

/* Packs a JSON value as msgpack into pk (canonical, see above). Returns 0,
 * or -1 with err filled ("JSON nested deeper than 32 levels", invalid
 * UTF-8 from a nocheck string, a packer write failure). On error pk may
 * hold a partial value. */
int mpjson_pack(msgpack_packer *pk, const json_t *v, char *err, size_t errlen);

/* Converts a msgpack object tree to a new JSON value. Returns a new
 * reference, or NULL with err filled when the tree has no JSON form
 * (see mpjson_check) or memory runs out. bin becomes a base64 string. */
json_t *mpjson_to_json(const msgpack_object *o, char *err, size_t errlen);

/* Packs the JSON object v as one msgpack map into a malloc'd buffer: on 0,
 * *out (free with free()) and *len are set; on -1 (v not an object, or
 * mpjson_pack failed) err is filled and *out is NULL. */
int mpjson_pack_object(const json_t *v, uint8_t **out, size_t *len, char *err, size_t errlen);

/* Decodes bytes holding exactly one msgpack value (no trailing bytes) to
 * JSON. Checks the structure with mpjson_scan first, so hostile headers
 * cannot make the unpacker allocate far beyond len. Returns a new
 * reference or NULL with err filled. */
json_t *mpjson_decode(const uint8_t *bytes, size_t len, char *err, size_t errlen);

/* True when s[0..len) is valid UTF-8 by utf8proc_iterate: no overlong
 * forms, no surrogates, nothing above U+10FFFF. NUL bytes are allowed. */
bool mpjson_utf8_valid(const char *s, size_t len);

/* Checks that the tree has a JSON form, without building it: strings and
 * keys valid UTF-8, map keys strings and unique, depth <= MPJSON_MAX_DEPTH,
 * no ext, no uint64 above INT64_MAX, no NaN or infinity. Succeeds exactly
 * when mpjson_to_json would (memory aside). Returns 0, or -1 with err
 * saying where, e.g. 'field "title": invalid UTF-8'. */
int mpjson_check(const msgpack_object *o, char *err, size_t errlen);

/* Walks the raw msgpack value at the start of bytes without unpacking it:
 * every header and payload must fit in len, no container may claim more
 * items than bytes remain, nesting is at most MPJSON_MAX_DEPTH, and the
 * reserved byte 0xc1 is refused. Returns 0 with the value's size in *used
 * (may be less than len), or -1 with err ("truncated msgpack", ...). */
int mpjson_scan(const uint8_t *bytes, size_t len, size_t *used, char *err, size_t errlen);

#endif
