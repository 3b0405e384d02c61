/*
 * chain.h - checking a node's certificate chain during the handshake.
 *
 * A chain is a list of raw certificate entries (collection "certs", see
 * node/membership/network.h): the node's own first, each issued (signed) by the
 * subject of the next, the last one the trust root's self-certificate.
 */
#ifndef LT_CHAIN_H
#define LT_CHAIN_H

#include "storage/store.h"

#define CHAIN_MAX 8

/* Verifies that certs[0..n) certify subject up to root_key and are valid
 * at now_ms (wall time). On success returns 0 and copies the subject's unit
 * (33 bytes) into unit; otherwise -1 with the reason in err. */
int chain_verify(const store_input *certs, size_t n, const uint8_t subject[ENTRY_KEY_BYTES],
                 const uint8_t root_key[ENTRY_KEY_BYTES], uint64_t now_ms, char *unit, char *err,
                 size_t errlen);

/* Collects the chain of node key `subject` from the store's log (its
 * certificate, its issuer's, ... up to the root's). Returns the number of
 * certs (malloc'd copies in certs[], free each .bytes), or -1 with err. */
int chain_collect(store *s, const uint8_t subject[ENTRY_KEY_BYTES], store_input *certs, char *err,
                  size_t errlen);

#endif
