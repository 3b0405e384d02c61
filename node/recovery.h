/*
 * recovery.h - what a start found after the last stop.
 *
 * The node writes DIR/shutdown.json: {"state": "running", "pid", "at"}
 * when it starts and {"state": "stopped", "at", "txn"} after a clean stop
 * (store closed). A start that finds "running" follows a power loss, a
 * kill or a crash: LMDB then holds exactly its last committed transaction
 * (nothing acknowledged is lost: answers go out after commit), and the
 * startup log and `lienthong doctor` say so, with that transaction's id
 * read from the LMDB file's meta pages.
 */
#ifndef LT_RECOVERY_H
#define LT_RECOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    bool first_start;   /* no shutdown.json: never started (or older node) */
    bool clean;         /* the last run ended with a clean stop */
    char last_at[32];   /* when the last run started or stopped, UTC ISO */
    uint64_t last_txn;  /* LMDB's last committed transaction id (0: unknown) */
    uint64_t last_page; /* LMDB's last used page */
} recovery_info;

/* Reads DIR/shutdown.json and the LMDB meta pages of DIR/data/data.mdb. */
void recovery_read(const char *dir, recovery_info *out);

/* Reads the last committed transaction id and last page of the LMDB file
 * at path (the newer of its two meta pages). Returns 0, or -1 when the
 * file is missing or not an LMDB file. */
int recovery_lmdb_meta(const char *path, uint64_t *txn, uint64_t *last_page);

/* Records a start (state "running", this pid). Returns 0 or -1. */
int recovery_mark_running(const char *dir);

/* Records a clean stop (state "stopped", the LMDB txn id). 0 or -1. */
int recovery_mark_stopped(const char *dir);

/* ---- restored from a backup ---------------------------------------------
 * `lienthong restore` writes DIR/restored.json {"node": KEY, "at", "from"}.
 * The entries the node signed after its backup are held by its neighbours;
 * with the same key, its next write would sign another entry for one of
 * those seqs (an equivocation, which revokes the key), and a running node
 * writes by itself (audit entries, camera states, escalations). So while
 * the file names the node's key, nothing is signed with it: `serve` starts
 * with its writes held until its parent (or a mirror) has sent back the
 * rest of its own log, then removes the file (node/restore_gate.h); the
 * command line's writes are held too. `lienthong rotate` (a new key) is
 * the way out when no neighbour can be reached. */

/* Writes DIR/restored.json for key (hex) restored from file. 0 or -1. */
int recovery_mark_restored(const char *dir, const char *key_hex, const char *file);

/* True when DIR/restored.json names key_hex: the node must not sign with
 * that key until it has caught up its own log. */
bool recovery_restored_key(const char *dir, const char *key_hex);

/* Removes DIR/restored.json (the node caught up). 0, or -1 with errno. */
int recovery_clear_restored(const char *dir);

/* One line for the log: `clean_shutdown=... last_txn=...`, into buf. */
void recovery_describe(const recovery_info *r, char *buf, size_t cap);

#endif
