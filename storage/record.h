/*
 * record.h - materialised records: the deterministic merge of entries.
 *
 * A record is the state of one (collection, id) after every entry for it
 * that the node holds. Its canonical msgpack encoding is a map of three
 * pairs in this order:
 *
 *   "c": [hlc, origin, unit]      the creator: the entry with the lowest
 *                                 (hlc, origin) stamp; its unit owns the record
 *   "f": {field: [hlc, origin, value], ...}   keys sorted bytewise
 *   "r": nil | [hlc, origin, deleted]          the newest put or delete
 *
 * Merge rules (each a join, so any order and any duplication of the same
 * entries yields the same bytes):
 *   - every field keeps the value of the highest (hlc, origin) that wrote it;
 *   - "r" keeps the highest put/delete stamp; fields older than "r" are
 *     dropped (a put replaces the whole record, a delete empties it);
 *   - a record is deleted when "r" is a delete and no field is newer.
 * A nil field value means "unset" and is not shown.
 */
#ifndef LT_RECORD_H
#define LT_RECORD_H

#include "storage/entry.h"

#include <jansson.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Merges entry e into the record old (NULL/0 when none) and writes the new
 * canonical record into out (an initialised, empty sbuffer). Returns 0, or
 * -1 when old is not a valid record (err says why). */
int record_merge(const uint8_t *old, size_t oldlen, const entry_view *e, msgpack_sbuffer *out,
                 char *err, size_t errlen);

/* Whether the record is a tombstone and who owns it, from one decode:
 * record_is_deleted and record_owner together. Returns 0, or -1 when rec
 * is not a valid record. */
int record_summary(const uint8_t *rec, size_t len, bool *deleted, char *owner, size_t cap);

/* True when the record is a tombstone (deleted, nothing written since). */
bool record_is_deleted(const uint8_t *rec, size_t len);

/* Copies the owner unit (the creator's unit) into unit (NUL-terminated).
 * Returns 0, or -1 when rec is not a valid record. */
int record_owner(const uint8_t *rec, size_t len, char *unit, size_t cap);

/* The creator stamp of the record (its lowest (hlc, origin)) and whether
 * it holds a put or delete ("r" set). Returns 0, or -1 for an invalid
 * record. */
int record_creation(const uint8_t *rec, size_t len, bool *has_put, uint64_t *hlc,
                    uint8_t origin[ENTRY_KEY_BYTES]);

/* Copies the origin of the newest put or delete of the record (or of its
 * creator when there was none) into origin. Returns 0, or -1 when rec is
 * not a valid record. */
int record_last_putter(const uint8_t *rec, size_t len, uint8_t origin[ENTRY_KEY_BYTES]);

/* Copies the current value of string field `name` into out (NUL-terminated).
 * Returns 0, 1 when the field is unset, not a string or longer than cap-1,
 * -1 when rec is not a valid record. */
int record_field_str(const uint8_t *rec, size_t len, const char *name, char *out, size_t cap);

/* Copies the current value of unsigned integer field `name` into *out.
 * Returns 0, 1 when unset or not an unsigned integer, -1 for an invalid
 * record. */
int record_field_u64(const uint8_t *rec, size_t len, const char *name, uint64_t *out);

/* True when an entry stamped (hlc, origin) would win field `name` of the
 * record: the field is unset or its current stamp is lower. False for an
 * invalid record. */
bool record_field_newer(const uint8_t *rec, size_t len, const char *name, uint64_t hlc,
                        const uint8_t origin[ENTRY_KEY_BYTES]);

/* The record as a JSON object {"id": id, field: value, ...}, nil fields
 * left out. Returns a new reference, or NULL with err filled. */
json_t *record_to_json(const uint8_t *rec, size_t len, const char *id, size_t idlen, char *err,
                       size_t errlen);

#endif
