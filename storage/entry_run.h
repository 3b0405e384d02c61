/*
 * entry_run.h - verifying received entries with one signature per run.
 *
 * A run is a stretch of entries, consecutive in the input, of one origin
 * with consecutive seqs, each entry's prev being the BLAKE2b hash of the
 * one before it. The hash covers every byte of an entry, signature
 * included, so a valid signature on a run's last entry vouches for every
 * byte of the run: a relay cannot change, drop, reorder or substitute an
 * inner entry without breaking a link or that signature. Only the author
 * can produce an inner entry whose own signature is bad (it signs a later
 * entry over it); `lienthong verify` still checks every signature and
 * reports such an entry (docs/protocol.md, "One signature per run").
 */
#ifndef LT_ENTRY_RUN_H
#define LT_ENTRY_RUN_H

#include "storage/store.h"

#include <stdbool.h>
#include <stddef.h>

/* Sets ok[i] for each of the n entries: true when entry i is well formed
 * (entry_decode) and authentic. Each run is judged by the Ed25519
 * signature of its last entry plus its links; a run whose last signature
 * fails is checked entry by entry, so ok[] is false for exactly the
 * entries whose own signature or shape is bad. Returns the number of
 * signatures verified. Safe on any thread (reads only in[]). */
size_t entry_run_verify(const store_input *in, size_t n, bool *ok);

/* The streaming form, for entries too many to hold at once (a bundle
 * file): entries are added one at a time and only the open run's last
 * entry is kept. It cannot fall back entry by entry, so a failing run is
 * named by its last entry, which is itself badly signed. Zero-initialise;
 * release with entry_run_stream_free. */
typedef struct {
    uint8_t origin[ENTRY_KEY_BYTES], hash[ENTRY_HASH_BYTES];
    uint64_t seq;
    uint8_t *last; /* the open run's last entry (ENTRY_MAX_BYTES); */
    size_t last_len, last_index;
    bool open;
    size_t sigs; /* signatures verified so far */
} entry_run_stream;

/* Adds well-formed entry v, number index of the input. Returns 0; 1 when
 * the run v ends has a bad last signature, *bad then being that entry's
 * index; -1 when out of memory. */
int entry_run_stream_add(entry_run_stream *st, const entry_view *v, size_t index, size_t *bad);

/* Ends the input: checks the open run as entry_run_stream_add does. */
int entry_run_stream_end(entry_run_stream *st, size_t *bad);

/* Releases st's buffer. */
void entry_run_stream_free(entry_run_stream *st);

#endif
