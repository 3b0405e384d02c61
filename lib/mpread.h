/*
 * mpread.h - reading msgpack values in place, header by header, without
 * unpacking them into objects: for walks over bytes this node wrote or
 * checked before (stored entries and records) that need a few fields.
 * Every read is bounded by the reader's end; a read that does not find
 * what it expects returns false and leaves the reader where it was.
 */
#ifndef LT_MPREAD_H
#define LT_MPREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const uint8_t *p, *end;
} mpread;

/* A string equal to key. Every read accepts each encoding msgpack allows
 * for its type (a str8 key, an int64 holding 5, a bin16 of 32 bytes), as
 * msgpack-c's unpacker does, so that bytes a strict decoder accepted read
 * the same here. */
bool mpread_key(mpread *r, const char *key);

/* An integer >= 0 of any width, signed types included. */
bool mpread_uint(mpread *r, uint64_t *v);

/* A bin of exactly n bytes: *out points at them. */
bool mpread_bin(mpread *r, uint8_t n, const uint8_t **out);

/* A string: *s points at its bytes, *n is their count. */
bool mpread_str(mpread *r, const char **s, uint32_t *n);

/* An array or map header: *n is its item (pair) count. */
bool mpread_array(mpread *r, uint32_t *n);
bool mpread_map(mpread *r, uint32_t *n);

/* nil, or a boolean into *b. */
bool mpread_nil(mpread *r);
bool mpread_bool(mpread *r, bool *b);

/* Skips one whole value of any type (checked as mpjson_scan does). */
bool mpread_skip(mpread *r);

/* Skips one whole map; *n is its pair count. */
bool mpread_map_skip(mpread *r, uint32_t *n);

#endif
