/*
 * entry.h - the signed change-log entry: encoding, decoding, verification.
 *
 * An entry is a msgpack map of exactly twelve pairs, in this order:
 *
 *   "v" uint (format version, 1)      "origin" bin 32 (author's Ed25519 key)
 *   "seq" uint >= 1                   "prev" bin 32 (BLAKE2b-256 of the
 *   "hlc" uint (hybrid logical clock)          origin's entry seq-1; zeros at 1)
 *   "unit" str (author's unit code)   "coll" str (collection)
 *   "id" str (record id)              "op" str ("put" | "patch" | "delete")
 *   "body" map (fields)               "to" array of str (addressees)
 *   "sig" bin 64
 *
 * The signature is Ed25519 over every byte before the "sig" key, which is
 * therefore the fixed 70-byte tail a3 's' 'i' 'g' c4 40 <64 bytes>. Entries
 * are stored and forwarded exactly as received; the entry's hash is
 * BLAKE2b-256 over all of its bytes, signature included.
 *
 * An addressee in "to" is a unit code ("40") for that unit only, or a code
 * followed by '*' ("412*") for the unit and its whole subtree; "*" alone
 * addresses every node. Entries always travel up to the author's ancestors.
 */
#ifndef LT_ENTRY_H
#define LT_ENTRY_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ENTRY_VERSION 1
#define ENTRY_MAX_BYTES 32768 /* larger content goes to blobs */
#define ENTRY_KEY_BYTES 32
#define ENTRY_HASH_BYTES 32
#define ENTRY_SIG_BYTES 64
#define ENTRY_SECRET_BYTES 64
#define ENTRY_SIG_TAIL 70 /* "sig" key + bin8 header + signature */
#define ENTRY_MAX_TO 64
#define ENTRY_MAX_NAME 128 /* unit, collection, to-item and id length cap */

typedef enum { ENTRY_OP_PUT = 1, ENTRY_OP_PATCH = 2, ENTRY_OP_DELETE = 3 } entry_op;

/* A decoded entry. Pointers refer into the bytes given to entry_decode and
 * into the view's own msgpack zone; both must outlive the view. */
typedef struct {
    const uint8_t *bytes; /* the whole entry, as received */
    size_t len;
    const uint8_t *origin; /* ENTRY_KEY_BYTES */
    uint64_t seq;
    const uint8_t *prev; /* ENTRY_HASH_BYTES */
    uint64_t hlc;
    msgpack_object_str unit, coll, id;
    entry_op op;
    msgpack_object_map body;
    msgpack_object_array to;
    const uint8_t *sig;        /* ENTRY_SIG_BYTES */
    msgpack_unpacked unpacked; /* owns the zone */
} entry_view;

/* The fields of a new local entry, before signing. */
typedef struct {
    const uint8_t *origin; /* public key */
    uint64_t seq;
    const uint8_t *prev; /* hash of entry seq-1, or NULL at seq 1 */
    uint64_t hlc;
    const char *unit;
    const char *coll;
    const char *id;
    entry_op op;
    const uint8_t *body; /* one packed msgpack map; NULL means {} */
    size_t body_len;
    const char *const *to; /* addressees */
    size_t to_count;
} entry_fields;

/* Parses and shape-checks bytes (size, exact key order and types, name
 * syntax, valid UTF-8, nesting depth). Does not check the signature.
 * Returns 0 and fills *v (release with entry_view_free), or -1 with a
 * message in err saying what is wrong. */
int entry_decode(const uint8_t *bytes, size_t len, entry_view *v, char *err, size_t errlen);

/* entry_decode for bytes that passed entry_decode before: entries read
 * back from a store (every entry was checked when it was applied), or
 * checked by the verification of the batch being applied. Skips the walks
 * that check msgpack validity, UTF-8, names and depth (most of the cost),
 * so it must never see bytes from outside. Returns 0 and fills *v, or -1. */
int entry_decode_held(const uint8_t *bytes, size_t len, entry_view *v);

/* An entry's fields without its body: v as entry_decode_held fills it,
 * except that v.body is empty and v.to points into to. */
typedef struct {
    entry_view v;
    msgpack_object to[ENTRY_MAX_TO];
} entry_head;

/* Reads the fields of bytes that passed entry_decode before (as
 * entry_decode_held) except the body, which is skipped: no allocation, a
 * fraction of a full decode's cost, for walks that look only at who wrote
 * what to whom (routing, feeds). The view needs no entry_view_free (it is
 * harmless). Returns 0, or -1 when the bytes are not an entry. */
int entry_head_read(const uint8_t *bytes, size_t len, entry_head *h);

/* Releases the view's zone. Safe on a zeroed view. */
void entry_view_free(entry_view *v);

/* True when the signature covers the signed prefix under v->origin. */
bool entry_verify(const entry_view *v);

/* Where the 32 origin bytes start in every valid entry (after the fixed
 * head: map of 12, "v": 1, "origin": bin8 of 32). */
#define ENTRY_ORIGIN_OFFSET 13

/* Checks size and signature without a full decode: the cheap check used
 * on the thread pool. The origin is read from its fixed offset. */
bool entry_verify_bytes(const uint8_t *bytes, size_t len);

/* Encodes and signs f with secret key sk into a malloc'd buffer. Returns 0
 * with *out and *outlen set, or -1 with a message in err (e.g. too large). */
int entry_encode(const entry_fields *f, const uint8_t sk[ENTRY_SECRET_BYTES], uint8_t **out,
                 size_t *outlen, char *err, size_t errlen);

/* BLAKE2b-256 of the entry's bytes. */
void entry_hash(const uint8_t *bytes, size_t len, uint8_t out[ENTRY_HASH_BYTES]);

/* "put", "patch", "delete". */
const char *entry_op_name(entry_op op);

/* Parses an op name; returns 0 when unknown. */
entry_op entry_op_parse(const char *s, size_t len);

/* True when e belongs to a membership collection ("units", "certs",
 * "network"): the entries the unit tree, certificate chains and write
 * authority come from. */
bool entry_is_membership(const entry_view *e);

/* True when s is a valid unit code / collection name / record id. */
bool entry_unit_valid(const char *s, size_t len);
bool entry_coll_valid(const char *s, size_t len);
bool entry_id_valid(const char *s, size_t len);

#endif
