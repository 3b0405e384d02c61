/*
 * network.h - network membership held as replicated entries.
 *
 * The trust root writes the network's configuration (collection "network",
 * id "config": tier list, root key and unit) and certifies itself. Each
 * parent certifies its children: a certificate is an entry in collection
 * "certs" with id = the node key in hex, binding that key to a unit code,
 * tier and parent unit for a validity period, signed by the parent node
 * (the entry's origin is the issuer). Units are entries in collection
 * "units" (id = unit code: code, name, tier, parent).
 *
 * Addressing keeps each node's share small (at the 2025 shape a commune
 * holds its province's part, not 3,356 units and certificates): the
 * network config and what the root issues (its own and its children's
 * units and certificates) are addressed to "*"; what any other node of
 * unit I issues (its children's units and certificates, the certificate
 * of a second server of I) is addressed to "I*": I's subtree, so the new
 * unit's siblings, the unit and its future subtree receive them, and I's
 * ancestors hold them anyway since entries always travel up. A node thus
 * knows its ancestors, their children and its own subtree: everyone it
 * may link to (parent, grandparent on failover, children, mirrors) and
 * every key in their chains. The end of a certificate (revocation,
 * rotation) is addressed like the certificate. route.h says how entries
 * addressed to units a node cannot place travel.
 */
#ifndef LT_NETWORK_H
#define LT_NETWORK_H

#include "node/env/config.h"

#define NETWORK_CERT_VALID_MS (2ull * 366 * 24 * 3600 * 1000) /* two years */
#define NETWORK_AUDIENCE_MAX (NODE_CODE_MAX + 1)

/* The addressee of membership entries (unit record, certificate,
 * revocation) issued by a node of unit issuer_unit, into to
 * (NETWORK_AUDIENCE_MAX bytes): "*" when that is the root's unit, else
 * "<issuer_unit>*". Returns 0, or -1 when s holds no network config. */
int network_audience(store *s, const char *issuer_unit, char *to);

/* Makes a fresh node the trust root: writes the network config, its own
 * unit and its self-signed certificate into s, and marks c enrolled. */
int network_init_root(node_config *c, store *s, char *err, size_t errlen);

/* The parent (both data dirs on this machine) certifies the child: checks
 * tiers and parent unit, writes the child's unit and certificate into the
 * parent's store, copies the membership entries the routing rule gives the
 * child into the child's store, and records parent, tiers and root key in the child's config.
 * A child with the parent's own unit and tier is a second server of that
 * unit (a mirror): it gets a certificate and replicates everything with
 * the first. */
int network_enroll_local(node_config *child, const node_config *parent, char *err, size_t errlen);

/* The checks of enrolment that need only the two configs: the parent is a
 * member, the child is not yet, tiers and parent unit fit (or the child is
 * a mirror). Returns 0, or -1 with err saying what is wrong and what to do. */
int network_check_enrolment(const node_config *child, const node_config *parent, char *err,
                            size_t errlen);

/* A rotation: the unit's current key old_key is superseded by the key
 * being certified; the old key's entries up to upto_seq stay valid. */
typedef struct {
    const uint8_t *old_key;
    uint64_t upto_seq;
} network_rotation;

/* The parent certifies child (key, unit, name, tier; child->parent_unit as
 * requested, "" for any) in its store ps, as enrolment does: checks tiers
 * and parent unit, refuses a unit that already has another live key
 * (except a mirror), writes the child's unit (not for a mirror) and its
 * certificate. With rot, the unit's old key is marked superseded in the
 * same transaction and no unit is written. seqs (room for 3, may be NULL)
 * receive the seqs of the entries written, *nseqs their number. Sets
 * child->parent_unit. Returns 0, or -1 with err saying why. */
int network_certify(const node_config *parent, store *ps, node_config *child,
                    const network_rotation *rot, uint64_t *seqs, size_t *nseqs, char *err,
                    size_t errlen);

/* Finds a live (not ended) certificate of unit whose key is not except
 * (may be NULL) and copies its key to holder. Returns 0 when found, 1 when
 * none, -1 on error. */
int network_unit_holder(store *s, const char *unit, const uint8_t *except,
                        uint8_t holder[ENTRY_KEY_BYTES]);

/* Revokes key: author (its issuer or a node of an ancestor unit, checked
 * by the caller) patches the key's certificate with {"ended": "revoked",
 * "upto_seq": the highest seq of key that s holds, "ended_by", "ended_at",
 * "reason"}, addressed to `audience`, the certificate's (network_audience
 * of its issuer's unit). *upto receives the cut-off. Returns 0, or -1 with
 * err. */
int network_end_cert(const node_config *author, store *s, const uint8_t key[ENTRY_KEY_BYTES],
                     const char *audience, const char *reason, uint64_t *upto, char *err,
                     size_t errlen);

/* The membership entries a newly certified node needs, from s (its
 * parent's store): every entry of the network config, of the certificates
 * of its chain up to the root and of the units on that chain. *out is a
 * malloc'd array of malloc'd copies (free each .bytes and the array).
 * Returns 0, or -1 with err. */
int network_membership_for(store *s, const uint8_t key[ENTRY_KEY_BYTES], store_input **out,
                           size_t *n, char *err, size_t errlen);

/* The child's side of enrolment over the network: applies the membership
 * entries received (signed bytes, verified), checks that they certify its
 * key and unit up to the network's root, and records parent unit, tiers,
 * root key and (when not already there) upstream as its first upstream in
 * its config, as network_enroll_local does. Returns 0, or -1 with err. */
int network_join(node_config *child, const store_input *entries, size_t n, const char *upstream,
                 char *err, size_t errlen);

/* Looks up the unit certified for a node key; unit must hold NODE_CODE_MAX.
 * Returns 0, 1 when no certificate is held, -1 on error. */
int network_unit_of_key(store *s, const uint8_t key[ENTRY_KEY_BYTES], char *unit);

#endif
