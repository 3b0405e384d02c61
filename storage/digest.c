/*
 * digest.c - 256-bit modular sums of BLAKE2b record hashes. See digest.h.
 */
#include "storage/digest.h"

#include <sodium.h>

void digest_record_hash(const char *coll, size_t coll_len, const char *id, size_t id_len,
                        const uint8_t *rec, size_t rec_len, uint8_t out[DIGEST_BYTES])
{
    crypto_generichash_state st;
    uint8_t len[2];
    crypto_generichash_init(&st, NULL, 0, DIGEST_BYTES);
    len[0] = (uint8_t)(coll_len >> 8);
    len[1] = (uint8_t)coll_len;
    crypto_generichash_update(&st, len, 2);
    crypto_generichash_update(&st, (const uint8_t *)coll, coll_len);
    len[0] = (uint8_t)(id_len >> 8);
    len[1] = (uint8_t)id_len;
    crypto_generichash_update(&st, len, 2);
    crypto_generichash_update(&st, (const uint8_t *)id, id_len);
    crypto_generichash_update(&st, rec, rec_len);
    crypto_generichash_final(&st, out, DIGEST_BYTES);
}

void digest_add(uint8_t acc[DIGEST_BYTES], const uint8_t h[DIGEST_BYTES])
{
    unsigned carry = 0;
    for (int i = 0; i < DIGEST_BYTES; i++) {
        unsigned v = (unsigned)acc[i] + h[i] + carry;
        acc[i] = (uint8_t)v;
        carry = v >> 8;
    }
}

void digest_sub(uint8_t acc[DIGEST_BYTES], const uint8_t h[DIGEST_BYTES])
{
    int borrow = 0;
    for (int i = 0; i < DIGEST_BYTES; i++) {
        int v = (int)acc[i] - h[i] - borrow;
        borrow = v < 0;
        acc[i] = (uint8_t)(v + (borrow ? 256 : 0));
    }
}
