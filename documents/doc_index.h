/*
 * doc_index.h - the index of documents, kept inside the store's
 * transactions (storage/store_index.h) as a pure function of each record
 * of "documents":
 *   docbox  kind 0x00 unit 0x00 be64(created_at) id: kind "o" under the
 *           issuing unit (not for imported ones), "i" under each recipient
 *           and the unit that imported it, so a box is one range, newest
 *           last;
 *   docnum  unit 0x00 type 0x00 year 0x00 be64(number) id, so the highest
 *           number of a series is one seek;
 *   doctok  word 0x00 kind 0x00 unit 0x00 be64(created_at) id for every
 *           distinct folded word (lib/fold.h) of notation, subject and body
 *           (the first 256) and every box key, so a search of a box walks
 *           the words' postings together, newest first.
 * A record that is not a document contributes nothing (never an error).
 */
#ifndef LT_DOC_INDEX_H
#define LT_DOC_INDEX_H

#include "storage/store_index.h"

/* The index as the store keeps it; name "documents". */
extern const store_index doc_index;

/* Calls fn with the id of every document of box kind ("o" out, "i" in) of
 * unit, newest first; stops when fn returns non-zero and returns that
 * value; -1 on a storage error. fn must not write to the store. */
int doc_index_walk(store *s, const char *kind, const char *unit,
                   int (*fn)(void *ctx, const char *id, size_t idlen), void *ctx);

/* Calls fn with the id of every document of box kind of unit holding all
 * of words[0..nwords) (folded tokens; 1 to 8), newest first (a leapfrog
 * join of the words' postings); stops when fn returns non-zero and
 * returns that value; -1 on a storage error or a bad word count. */
int doc_index_search(store *s, const char *kind, const char *unit, const char *const *words,
                     size_t nwords, int (*fn)(void *ctx, const char *id, size_t idlen), void *ctx);

/* The highest number held of the series (unit, type, year) into *max (0
 * when none). Returns 0 or -1. */
int doc_index_max_number(store *s, const char *unit, const char *type, const char *year,
                         uint64_t *max);

#endif
