/*
 * fingerprint.h - short, unambiguous texts for keys and ids that people
 * read aloud and compare by phone.
 *
 * A node key's fingerprint is BLAKE2b-80 of the 32-byte key, written in
 * Crockford's base32 alphabet (digits and capitals without I, L, O, U) as
 * four groups of four: "7K2Q-M9XD-4HCT-W0PB". The same function is used by
 * `lienthong status`, `enroll`, `approve`, `rotate` and the HTTP API.
 */
#ifndef LT_FINGERPRINT_H
#define LT_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#define FINGERPRINT_LEN 20 /* 19 characters and the terminator */

/* Writes the fingerprint of key into out and returns out. */
const char *fingerprint_key(const uint8_t key[32], char out[FINGERPRINT_LEN]);

/* Writes n bytes (n * 8 a multiple of 5) as base32 (n * 8 / 5 characters)
 * into out (room for that plus the terminator) and returns out. */
const char *fingerprint_base32(const uint8_t *in, size_t n, char *out);

#endif
