/*
 * doc_index.h - the index of documents, kept inside the store's
 * transactions (storage/store_index.h) as a pure function of each record
 * of "documents":
 *   docbox  kind 0x00 unit 0x00 sort id: kind "o" under the issuing unit
 *           (not for imported ones), "i" under each recipient and the unit
 *           that imported it, so a box is one range, newest last; sort is
 *           the date (YYYY-MM-DD, 10 bytes) then be64(created_at), so a
 *           date range is a key range;
 *   docnum  unit 0x00 type 0x00 year 0x00 be64(number) id, so the highest
 *           number of a series is one seek;
 *   doctok  word 0x00 kind 0x00 unit 0x00 sort id for every distinct
 *           folded word (lib/fold.h) of notation, subject and body (the
 *           first 256), and the filter words DOC_TOKEN_TYPE "CV" and
 *           DOC_TOKEN_URGENCY "khan", for every box key, so a search of a
 *           box with filters walks the words' postings together, newest
 *           first, and stops when its caller has enough.
 * A record that is not a document contributes nothing (never an error).
 */
#ifndef LT_DOC_INDEX_H
#define LT_DOC_INDEX_H

#include "storage/store_index.h"

/* The index as the store keeps it; name "documents". */
extern const store_index doc_index;

/* The filter words: a tag byte no folded word holds, then the value. */
#define DOC_TOKEN_TYPE "\x01t"
#define DOC_TOKEN_URGENCY "\x01u"
#define DOC_SEARCH_TOKENS 10

/* A search of one box. */
typedef struct {
    const char *kind, *unit;   /* the box: "o" (out) or "i" (in) of unit */
    const char *const *tokens; /* folded words and filter words, all held */
    size_t ntokens;            /* 0..DOC_SEARCH_TOKENS; 0: the whole box */
    const char *from, *to;     /* dates YYYY-MM-DD, inclusive; NULL: open */
} doc_search;

/* Calls fn with the id of every document of the box of q that holds every
 * token of q and is dated within [from, to], newest first (by date, then
 * created_at; a leapfrog join of the postings, each step a seek); stops
 * when fn returns non-zero and returns that value; -1 on a storage error
 * or too many tokens. fn must not write to the store. */
int doc_index_search(store *s, const doc_search *q,
                     int (*fn)(void *ctx, const char *id, size_t idlen), void *ctx);

/* doc_index_search of the whole box kind of unit. */
int doc_index_walk(store *s, const char *kind, const char *unit,
                   int (*fn)(void *ctx, const char *id, size_t idlen), void *ctx);

/* The highest number held of the series (unit, type, year) into *max (0
 * when none). Returns 0 or -1. */
int doc_index_max_number(store *s, const char *unit, const char *type, const char *year,
                         uint64_t *max);

#endif
