/*
 * enrol.h - enrolment and key rotation over the network: the signed
 * request a node sends to its parent, and the parent's side (requests kept
 * in the node-local table of its store, approved or refused by an admin).
 *
 * Wire format (POST /api/v1/enrol/requests, docs/protocol.md "Enrolment"):
 *
 *   {"payload": "<JSON text>", "sig": "<hex>", "new_sig": "<hex>"}
 *
 * payload is the exact signed text: {"kind": "enrol"|"rotate", "key",
 * "unit", "name", "tier", "parent_unit", "at", "again"} and, for a rotation,
 * "new_key" and "upto_seq". sig is Ed25519 by "key" over the payload's
 * bytes (proof that the sender holds the key); a rotation also carries
 * new_sig, by "new_key" over the same bytes.
 *
 * At the parent a request is a JSON record under "enrol/<id>" (id: eight
 * characters of node/membership/fingerprint.h's alphabet) with state "pending",
 * "approved" (then "entries": the base64 of the signed membership entries
 * the node needs) or "refused" (then "reason"). A node asking again with
 * the same key gets its latest request back, a refused one too, unless it
 * says "again": true (lienthong enroll --again). A request still pending
 * after enrol_pending_ttl_ms() reads as "expired" (with "reason"), no
 * longer counts as waiting and can no longer be approved; the node asks
 * again. At most ENROL_PENDING_PER_ADDR requests from one address wait at
 * once, and ENROL_PENDING_MAX in all.
 */
#ifndef LT_ENROL_H
#define LT_ENROL_H

#include "node/env/config.h"

#include <jansson.h>

#define ENROL_BODY_MAX 8192      /* bytes of a request body */
#define ENROL_PENDING_MAX 64     /* requests waiting for an admin at once */
#define ENROL_PENDING_PER_ADDR 8 /* of them from one remote address */
/* A pending request no admin decided within this becomes "expired". */
#define ENROL_PENDING_TTL_MS ((uint64_t)24 * 3600 * 1000)
#define ENROL_ID_LEN 9 /* eight characters and the terminator */

typedef enum { ENROL_ENROL = 1, ENROL_ROTATE } enrol_kind;

typedef struct {
    enrol_kind kind;
    uint8_t key[ENTRY_KEY_BYTES];     /* the signer: the new node, or the unit's current key */
    uint8_t new_key[ENTRY_KEY_BYTES]; /* rotate: the key that replaces it */
    char unit[NODE_CODE_MAX];
    char name[NODE_NAME_MAX];
    char tier[NODE_CODE_MAX];
    char parent_unit[NODE_CODE_MAX]; /* "" when the node did not say */
    uint64_t upto_seq;               /* rotate: the last seq written with key */
    uint64_t at_ms;                  /* when it was made (informative) */
    bool again;                      /* ask again after a refusal */
} enrol_request;

/* Signs r with sk (the secret of r->key) and, for a rotation, new_sk: the
 * request body. NULL when out of memory. */
json_t *enrol_request_sign(const enrol_request *r, const uint8_t sk[ENTRY_SECRET_BYTES],
                           const uint8_t *new_sk);

/* Parses and checks a request body: shape, field syntax, signatures.
 * Returns 0, or -1 with err saying what is wrong. */
int enrol_request_open(const uint8_t *body, size_t len, enrol_request *r, char *err, size_t errlen);

/* The parent receives r (from address remote): refuses at once what it
 * could never approve (wrong parent unit, unknown tier, ...), returns the
 * node's earlier request when there is one, else keeps a new pending one;
 * a rotation whose current key is certified here and live is approved at
 * once. *rec receives the request record. Returns an HTTP status: 200 (an
 * earlier request), 201 (new), 422 (refused: err says why), 503 (too many
 * pending, from remote or in all), 500 (storage; err). */
int enrol_submit(const node_config *parent, store *s, const enrol_request *r, const char *remote,
                 json_t **rec, char *err, size_t errlen);

/* How long a request may wait for an admin: LT_ENROL_PENDING_TTL_S
 * seconds when that is set to a positive number, else
 * ENROL_PENDING_TTL_MS. */
uint64_t enrol_pending_ttl_ms(void);

/* Looks up request id. Returns 0 with *rec, 1 when unknown, -1 on error. */
int enrol_find(store *s, const char *id, json_t **rec);

/* Calls fn for every request record kept, oldest id order aside: in id
 * order. Returns 0 or -1. */
int enrol_list(store *s, void (*fn)(void *ctx, json_t *rec), void *ctx);

/* An admin approves pending request id: the parent certifies the node
 * (network_certify) and the request keeps the entries it needs. *rec
 * (may be NULL) receives the updated record. Returns 0, 1 when unknown, or
 * -1 with err (not pending, the checks failed, storage). */
int enrol_approve(const node_config *parent, store *s, const char *id, json_t **rec, char *err,
                  size_t errlen);

/* An admin refuses pending request id with reason. Same returns. */
int enrol_refuse(store *s, const char *id, const char *reason, json_t **rec, char *err,
                 size_t errlen);

/* The record as shown to the requesting node (without its address). */
json_t *enrol_public(json_t *rec);

#endif
