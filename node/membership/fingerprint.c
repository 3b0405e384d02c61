/*
 * fingerprint.c - Crockford base32 fingerprints of keys. See fingerprint.h.
 */
#include "node/membership/fingerprint.h"

#include <sodium.h>
#include <string.h>

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

const char *fingerprint_base32(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0;
    unsigned acc = 0, bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[o++] = alphabet[(acc >> bits) & 31];
        }
    }
    out[o] = '\0';
    return out;
}

const char *fingerprint_key(const uint8_t key[32], char out[FINGERPRINT_LEN])
{
    uint8_t h[10];
    char b32[17];
    crypto_generichash(h, sizeof h, key, 32, NULL, 0);
    fingerprint_base32(h, sizeof h, b32);
    for (int g = 0, o = 0; g < 4; g++) {
        memcpy(out + o, b32 + 4 * g, 4);
        o += 4;
        out[o++] = g < 3 ? '-' : '\0';
    }
    return out;
}
