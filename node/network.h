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
 * every key in their chains. A revocation is addressed like the
 * certificate it deletes. route.h says how entries addressed to units a
 * node cannot place travel.
 */
#ifndef LT_NETWORK_H
#define LT_NETWORK_H

#include "node/config.h"

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
int network_enroll_local(node_config *child, const node_config *parent, char *err,
                         size_t errlen);

/* Writes the revocation of node key `key` as node c: the certificate record
 * deleted, with body {"upto_seq": N} where N (also in *upto) is the highest
 * seq of the key this node holds: those entries stay valid everywhere,
 * later ones are refused (storage/authority.h). It is addressed to
 * `audience`, the certificate's (network_audience of its issuer's unit).
 * The caller checks that c may revoke it. Returns 0, or -1 with err. */
int network_revoke(const node_config *c, store *s, const uint8_t key[ENTRY_KEY_BYTES],
                   const char *audience, uint64_t *upto, char *err, size_t errlen);

/* Looks up the unit certified for a node key; unit must hold NODE_CODE_MAX.
 * Returns 0, 1 when no certificate is held, -1 on error. */
int network_unit_of_key(store *s, const uint8_t key[ENTRY_KEY_BYTES], char *unit);

#endif
