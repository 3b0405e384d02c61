/*
 * citizen_token.c - the citizen token of a report: the secret that lets
 * the citizen who sent a report follow, rate and reopen it (docs/security.md,
 * "Citizen tokens"). 32 random bytes in URL-safe base64, handed out once;
 * the report record (which replicates to every tier) keeps only its
 * BLAKE2b-256 in hex as "citizen_token_hash".
 */
#include "lib/hex.h"
#include "reports/reports_internal.h"

#include <sodium.h>
#include <string.h>

#define TOKEN_BYTES 32

/* The hex BLAKE2b-256 of token into hex. */
static void token_hash_hex(const char *token, char hex[REPORT_TOKEN_HASH_HEX + 1])
{
    uint8_t h[32];
    crypto_generichash(h, sizeof h, (const uint8_t *)token, strlen(token), NULL, 0);
    hex_encode(h, sizeof h, hex);
}

/* (reports_internal.h) */
void citizen_token_new(char token[REPORT_TOKEN_MAX], char hash_hex[REPORT_TOKEN_HASH_HEX + 1])
{
    uint8_t raw[TOKEN_BYTES];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(token, REPORT_TOKEN_MAX, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    token_hash_hex(token, hash_hex);
}

/* (reports_internal.h) */
bool citizen_token_matches(const json_t *rep, const char *token)
{
    const char *stored = json_string_value(json_object_get(rep, "citizen_token_hash"));
    if (!stored || strlen(stored) != REPORT_TOKEN_HASH_HEX || !token || !*token ||
        strlen(token) >= REPORT_TOKEN_MAX)
        return false;
    char hex[REPORT_TOKEN_HASH_HEX + 1];
    token_hash_hex(token, hex);
    return sodium_memcmp(hex, stored, REPORT_TOKEN_HASH_HEX) == 0;
}

bool reports_token_ok(reports *r, const char *code, const char *token)
{
    int status;
    reports_lock(r);
    json_t *rep = report_load(r, code, &status);
    bool ok = rep && citizen_token_matches(rep, token);
    reports_unlock(r);
    json_decref(rep);
    return ok;
}
