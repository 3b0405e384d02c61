/*
 * accounts.h - the people who use a node: accounts, login sessions and API
 * tokens, all node-local (store_local_*: never replicated, so password
 * hashes and secrets never leave the node).
 *
 * An account has a name, the unit it belongs to (the node's own or a unit
 * of its subtree that runs no node of its own), a role (viewer < staff <
 * leader < admin), an Argon2id password hash (libsodium crypto_pwhash_str,
 * OPSLIMIT/MEMLIMIT_INTERACTIVE: about 0.1 s and 64 MiB per hash), when it
 * was created and whether it is disabled.
 *
 * Sessions and tokens are random 32-byte secrets handed out once; the node
 * keeps only their BLAKE2b-256, so a copy of the data directory does not
 * yield working credentials. A session carries its CSRF token and expires
 * after ACCOUNT_SESSION_IDLE_MS without use or ACCOUNT_SESSION_MAX_MS after
 * login; sessions are in LMDB and survive a node restart. Tokens do not
 * expire; deleting or disabling the account ends both.
 */
#ifndef LT_ACCOUNTS_H
#define LT_ACCOUNTS_H

#include "node/env/config.h"

#include <sodium.h>
#include <stdbool.h>

typedef enum {
    ROLE_NONE = 0,
    ROLE_VIEWER,
    ROLE_STAFF,
    ROLE_LEADER,
    ROLE_ADMIN,
} account_role;

#define ACCOUNT_NAME_MAX 64
#define ACCOUNT_PASSWORD_MIN 8
#define ACCOUNT_PASSWORD_MAX 1024
#define ACCOUNT_HASH_MAX crypto_pwhash_STRBYTES
#define ACCOUNT_SECRET_MAX 72 /* "lt_" + 64 hex digits + NUL, with room */
#define ACCOUNT_SESSION_IDLE_MS (8ull * 3600 * 1000)
#define ACCOUNT_SESSION_MAX_MS (12ull * 3600 * 1000)

typedef struct {
    char name[ACCOUNT_NAME_MAX + 1];
    char unit[NODE_CODE_MAX];
    account_role role;
    char hash[ACCOUNT_HASH_MAX];
    uint64_t created_ms;
    bool disabled;
} account;

/* "viewer", "staff", "leader", "admin" ("" for ROLE_NONE). */
const char *account_role_name(account_role r);

/* The role called s, or ROLE_NONE. */
account_role account_role_parse(const char *s);

/* True for 1..64 characters of a-z 0-9 . _ - starting with a letter or digit. */
bool account_name_valid(const char *name);

/* Hashes a password with Argon2id into out. Slow (about 0.1 s): never on
 * the event loop. Returns 0, or -1 when out of memory. */
int account_hash_password(const char *pw, size_t len, char out[ACCOUNT_HASH_MAX]);

/* True when pw matches the Argon2id hash. Slow, like hashing. A hash
 * string that is not one (say, a dummy) never matches, at the same cost. */
bool account_password_matches(const char *hash, const char *pw, size_t len);

/* A valid Argon2id hash of no real password, to verify against when the
 * account does not exist, so that unknown names cost the same time. */
const char *account_dummy_hash(void);

/* Stores (creates or replaces) the account. Returns 0, or -1 with err. */
int account_put(store *s, const account *a, char *err, size_t errlen);

/* Reads account name. Returns 0, 1 when there is none, -1 on error. */
int account_get(store *s, const char *name, account *a);

/* Calls fn for every account in name order; stops when fn returns
 * non-zero and returns that value. */
int account_list(store *s, int (*fn)(void *ctx, const account *a), void *ctx);

/* Deletes the account with its sessions and tokens. Returns 0, 1 when
 * there is none, -1 on error. */
int account_del(store *s, const char *name);

/* ---- sessions and tokens ------------------------------------------------- */

typedef enum { CRED_SESSION, CRED_TOKEN } cred_kind;

typedef struct {
    char user[ACCOUNT_NAME_MAX + 1];
    char csrf[65];       /* sessions: the CSRF token, hex */
    uint64_t created_ms; /* login / token creation */
    uint64_t seen_ms;    /* sessions: last use (updated at most once a minute) */
} credential;

/* Makes a new session or token for user: secret receives the text to hand
 * out (hex; tokens start with "lt_"), shown once and kept only as a hash;
 * *out (may be NULL) the stored credential. Returns 0, or -1 with err. */
int cred_create(store *s, cred_kind k, const char *user, uint64_t now_ms,
                char secret[ACCOUNT_SECRET_MAX], credential *out, char *err, size_t errlen);

/* Looks secret up. Returns 0 with *out for a live credential (an expired
 * session is deleted and reported absent), 1 when unknown or expired, -1 on
 * a storage error. Cheap: one BLAKE2b and one LMDB read (plus a write at
 * most once a minute per session, for the idle clock). */
int cred_lookup(store *s, cred_kind k, const char *secret, uint64_t now_ms, credential *out);

/* Deletes the credential secret. Returns 0, 1 when unknown, -1. */
int cred_delete(store *s, cred_kind k, const char *secret);

/* Deletes the credentials of kind k that belong to user (NULL: none by
 * owner) or, for sessions, have expired by now_ms. Returns how many, or -1. */
long cred_purge(store *s, cred_kind k, const char *user, uint64_t now_ms);

/* Milliseconds of wall-clock time (for credential timestamps). */
uint64_t account_now_ms(void);

#endif
