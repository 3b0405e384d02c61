/*
 * entry_run.c - one Ed25519 verification per run of hash-linked entries
 * (entry_run.h), falling back to one per entry when a run fails.
 */
#include "storage/entry_run.h"

#include <stdlib.h>
#include <string.h>

/* Judges the run in[start..end): by its last signature, or entry by entry
 * when that fails. Returns the number of signatures verified. */
static size_t run_close(const store_input *in, size_t start, size_t end, bool *ok)
{
    bool last = entry_verify_bytes(in[end - 1].bytes, in[end - 1].len);
    ok[end - 1] = last;
    for (size_t i = start; i + 1 < end; i++)
        ok[i] = last || entry_verify_bytes(in[i].bytes, in[i].len);
    return last ? 1 : end - start;
}

size_t entry_run_verify(const store_input *in, size_t n, bool *ok)
{
    size_t sigs = 0, start = 0;
    bool open = false; /* a run in[start..i) is being read */
    const uint8_t *origin = NULL;
    uint64_t seq = 0;
    uint8_t hash[ENTRY_HASH_BYTES];
    for (size_t i = 0; i < n; i++) {
        entry_view v;
        if (entry_decode(in[i].bytes, in[i].len, &v, NULL, 0)) {
            if (open)
                sigs += run_close(in, start, i, ok);
            open = false;
            ok[i] = false;
            continue;
        }
        bool linked = open && v.seq == seq + 1 && !memcmp(v.origin, origin, ENTRY_KEY_BYTES) &&
                      !memcmp(v.prev, hash, ENTRY_HASH_BYTES);
        if (open && !linked)
            sigs += run_close(in, start, i, ok);
        if (!linked)
            start = i;
        open = true;
        origin = v.origin; /* points into in[i].bytes, which outlive v */
        seq = v.seq;
        entry_view_free(&v);
        entry_hash(in[i].bytes, in[i].len, hash);
    }
    if (open)
        sigs += run_close(in, start, n, ok);
    return sigs;
}

int entry_run_stream_end(entry_run_stream *st, size_t *bad)
{
    if (!st->open)
        return 0;
    st->open = false;
    st->sigs++;
    if (entry_verify_bytes(st->last, st->last_len))
        return 0;
    *bad = st->last_index;
    return 1;
}

int entry_run_stream_add(entry_run_stream *st, const entry_view *v, size_t index, size_t *bad)
{
    bool linked = st->open && v->seq == st->seq + 1 &&
                  !memcmp(v->origin, st->origin, ENTRY_KEY_BYTES) &&
                  !memcmp(v->prev, st->hash, ENTRY_HASH_BYTES);
    int rc = linked ? 0 : entry_run_stream_end(st, bad);
    if (rc)
        return rc;
    if (!st->last && !(st->last = malloc(ENTRY_MAX_BYTES)))
        return -1;
    memcpy(st->last, v->bytes, v->len);
    memcpy(st->origin, v->origin, ENTRY_KEY_BYTES);
    entry_hash(v->bytes, v->len, st->hash);
    st->last_len = v->len;
    st->last_index = index;
    st->seq = v->seq;
    st->open = true;
    return 0;
}

void entry_run_stream_free(entry_run_stream *st)
{
    free(st->last);
    st->last = NULL;
}
