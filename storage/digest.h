/*
 * digest.h - order-independent collection digests.
 *
 * A collection's digest is the sum modulo 2^256 of record_hash() over its
 * materialised records (tombstones included: a deletion is state too). It
 * updates in O(1) per change (subtract the old record's hash, add the new
 * one), and two stores hold equal collections exactly when (with
 * overwhelming probability) their digests are equal.
 */
#ifndef LT_DIGEST_H
#define LT_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define DIGEST_BYTES 32

/* BLAKE2b-256 over (len16 coll, coll, len16 id, id, record bytes). */
void digest_record_hash(const char *coll, size_t coll_len, const char *id, size_t id_len,
                        const uint8_t *rec, size_t rec_len, uint8_t out[DIGEST_BYTES]);

/* acc += h modulo 2^256 (little-endian). */
void digest_add(uint8_t acc[DIGEST_BYTES], const uint8_t h[DIGEST_BYTES]);

/* acc -= h modulo 2^256 (little-endian). */
void digest_sub(uint8_t acc[DIGEST_BYTES], const uint8_t h[DIGEST_BYTES]);

#endif
