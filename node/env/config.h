/*
 * config.h - a node's data directory: its configuration, its Ed25519
 * identity and the path of its store.
 *
 * Layout of DIR:
 *   config.json   unit, name, tier, parent unit, tier list, listen address,
 *                 upstream URLs, trust-root key (see docs/operations.md)
 *   node.key      the Ed25519 secret key, hex, file mode 0600
 *   node.key.new  during a key rotation: the key being certified
 *   node.key.old-<time>  keys replaced by rotations (lienthong rotate)
 *   data/         the LMDB store (data.mdb, lock.mdb)
 *   serve.lock    held (flock) by the running `serve` (node/daemon.c)
 *   sync.json     the running node's replication links (node/links/repl_link.c)
 *   tls/cert.pem, tls/key.pem  the HTTPS certificate and key `serve` uses
 *                 when present (`lienthong tls selfsign`)
 */
#ifndef LT_CONFIG_H
#define LT_CONFIG_H

#include "node/http/url.h"
#include "storage/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NODE_MAX_TIERS 8
#define NODE_MAX_UPSTREAMS 8
#define NODE_CODE_MAX 33
#define NODE_NAME_MAX 256
#define NODE_PATH_MAX 4096

typedef struct {
    char dir[NODE_PATH_MAX];
    char unit[NODE_CODE_MAX];
    char name[NODE_NAME_MAX];
    char tier[NODE_CODE_MAX];
    char parent_unit[NODE_CODE_MAX]; /* "" when none */
    bool root;                       /* trust root of its network */
    bool enrolled;                   /* holds a certificate (root: always) */
    char tiers[NODE_MAX_TIERS][NODE_CODE_MAX];
    size_t ntiers;
    char listen[NODE_URL_MAX]; /* HOST:PORT of the HTTP/WebSocket server */
    char upstreams[NODE_MAX_UPSTREAMS][NODE_URL_MAX];
    size_t nupstreams;
    char tls_ca_file[NODE_PATH_MAX]; /* CAs for wss:// upstreams; "": the system store */
    uint8_t root_key[ENTRY_KEY_BYTES];
    bool has_root_key;
    uint8_t pk[ENTRY_KEY_BYTES];
    uint8_t sk[ENTRY_SECRET_BYTES];
} node_config;

/* The tier list used when none is given: national, province, district,
 * commune. Networks may configure any list of 2..8 tiers. */
void node_config_default_tiers(node_config *c);

/* Creates DIR (must not hold a node yet), a fresh key pair (node.key, 0600)
 * and config.json from c (c->dir set by the caller). Fills c->pk/c->sk. */
int node_config_create(node_config *c, char *err, size_t errlen);

/* Loads DIR's config.json and key. Errors name the file and the problem. */
int node_config_load(node_config *c, const char *dir, char *err, size_t errlen);

/* Rewrites config.json atomically and durably (temp file, fsync, rename,
 * fsync of DIR). */
int node_config_save(const node_config *c, char *err, size_t errlen);

/* Records in DIR/config.json where the node's unit stands now, after the
 * unit tree moved it: "parent_unit" and the upstream list upstreams[0..n)
 * (the new parent's URLs first), the other fields as the file holds them;
 * atomically and durably, as node_config_save. Returns 0, or -1 with err. */
int node_config_save_place(const char *dir, const char *parent_unit,
                           const char (*upstreams)[NODE_URL_MAX], size_t n, char *err,
                           size_t errlen);

/* Position of tier in the tier list (0 = top), or -1 when unknown. */
int node_tier_index(const node_config *c, const char *tier);

/* Parses "a,b,c" into c->tiers. Returns 0, or -1 with err. */
int node_config_parse_tiers(node_config *c, const char *list, char *err, size_t errlen);

/* Sets the domains' indexes and top-tier collections (the indexes and
 * top_tier_collections fields of o; the arrays must live as long as the
 * process) that node_store_open and node_store_create pass to every store
 * they open. The assembly (node/domains.h) calls it once, before any store
 * opens; a store that holds an index refuses a read-write open without it. */
void node_store_domains(const store_options *o);

/* Opens the existing store DIR/data; a missing store is an error (a node
 * whose log vanished must be restored, not restarted from seq 1). */
int node_store_open(const node_config *c, store **s, bool read_only, char *err, size_t errlen);

/* Creates and opens DIR/data for a new node (init, demo). */
int node_store_create(const node_config *c, store **s, char *err, size_t errlen);

/* The key a rotation moves to: DIR/node.key.new (0600), created on the
 * first call and read back on later ones, so an interrupted rotation
 * resumes with the same key. Returns 0, or -1 with err. */
int node_key_next(const node_config *c, uint8_t pk[ENTRY_KEY_BYTES], uint8_t sk[ENTRY_SECRET_BYTES],
                  char *err, size_t errlen);

/* Ends a rotation: keeps node.key as node.key.old-<UTC time>, makes
 * node.key.new the node key, loads it into c and saves config.json. */
int node_key_swap(node_config *c, char *err, size_t errlen);

/* The certificate and key `serve` uses by default: DIR/tls/cert.pem and
 * DIR/tls/key.pem into cert and key (cap bytes each). */
void node_tls_paths(const node_config *c, char *cert, char *key, size_t cap);

/* The CA file of wss:// upstreams ("tls_ca_file" in config.json, relative
 * to DIR unless absolute) into out, or "" for the system store. */
void node_tls_ca_path(const node_config *c, char *out, size_t cap);

/* The author identity of this node for local writes. */
store_author node_author(const node_config *c);

#endif
