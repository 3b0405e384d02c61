/*
 * test_store_threads.c - one store used by several threads at once, as the
 * daemon does (writes on pool threads, reads and writes on the loop
 * thread), while the map grows under them.
 *
 * Each round opens a fresh store with a 1 MiB map. Writer threads store
 * large blobs (photos), a local row naming each blob and a record, which
 * doubles the map again and again; reader threads meanwhile scan the local
 * rows (reading each blob from inside the scan, a nested read), the
 * records, and single records. Nothing may fail, every read must see whole
 * data, and afterwards everything written is there. Without the map lock of
 * store.c a growth unmaps the file under a reader (a crash under ASan) or
 * fails with EINVAL while another thread writes. Last, a write from inside
 * a scan callback that needs a bigger map fails cleanly instead of
 * deadlocking.
 */
#include "storage/store.h"
#include "tests/check.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WRITERS 2
#define READERS 2
#define ROUNDS 2
#define ITEMS 40
#define BLOB_BASE (256u * 1024u)
#define BIG_BLOB (4u << 20) /* more than a 1 MiB map holds */
#define TABLE "tthreads"

typedef struct {
    store *s;
    int w;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    int failures;
    char err[STORE_ERR_LEN];
} writer;

typedef struct {
    store *s;
    atomic_bool *done;
    bool full; /* check every byte of every blob */
    long scans, rows, failures;
} reader;

/* Blob it of writer w: a length and pattern unique to (w, it). */
static size_t blob_len(int it)
{
    return BLOB_BASE + (size_t)it * 1024;
}

static uint8_t blob_byte(int w, int it, size_t j)
{
    return (uint8_t)(w * 31 + it * 7 + j);
}

static uint8_t *blob_make(int w, int it, size_t *len)
{
    *len = blob_len(it);
    uint8_t *b = malloc(*len);
    if (b)
        for (size_t j = 0; j < *len; j++)
            b[j] = blob_byte(w, it, j);
    return b;
}

/* 0 when data is blob it of writer w: every byte when full, else every
 * 4093rd (readers keep their transactions short, or growth waits). */
static int blob_check(int w, int it, const uint8_t *data, size_t len, bool full)
{
    if (len != blob_len(it))
        return -1;
    for (size_t j = 0; j < len; j += full ? 1 : 4093)
        if (data[j] != blob_byte(w, it, j))
            return -1;
    return data[len - 1] == blob_byte(w, it, len - 1) ? 0 : -1;
}

static void *writer_run(void *arg)
{
    writer *wr = arg;
    store_author a = {wr->pk, wr->sk, "hn"};
    for (int it = 0; it < ITEMS; it++) {
        size_t len;
        uint8_t *data = blob_make(wr->w, it, &len), hash[32];
        char key[16];
        snprintf(key, sizeof key, "w%d-%03d", wr->w, it);
        store_write rec = {"photos", key, ENTRY_OP_PUT, NULL, 0, NULL, 0};
        if (!data || store_blob_put(wr->s, data, len, hash, wr->err, sizeof wr->err) ||
            store_local_put(wr->s, TABLE, key, strlen(key), hash, sizeof hash, wr->err,
                            sizeof wr->err) ||
            store_write_local(wr->s, &a, &rec, 1, NULL, wr->err, sizeof wr->err))
            wr->failures++;
        free(data);
    }
    return NULL;
}

/* One local row: its blob must be there and whole. */
static int row_check(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    reader *r = ctx;
    int w, it;
    char k[16];
    uint8_t *data = NULL;
    size_t len = 0;
    if (klen >= sizeof k || vlen != 32)
        return -1;
    memcpy(k, key, klen);
    k[klen] = '\0';
    if (sscanf(k, "w%d-%d", &w, &it) != 2 || store_blob_get(r->s, val, &data, &len) ||
        blob_check(w, it, data, len, r->full)) {
        free(data);
        return -1;
    }
    free(data);
    r->rows++;
    return 0;
}

static int record_count(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t reclen)
{
    (void)id, (void)rec;
    if (!idlen || !reclen)
        return -1;
    (*(long *)ctx)++;
    return 0;
}

static void *reader_run(void *arg)
{
    reader *r = arg;
    while (!atomic_load(r->done)) {
        long records = 0;
        uint8_t *rec = NULL;
        size_t len;
        if (store_local_scan(r->s, TABLE, row_check, r) ||
            store_records(r->s, "photos", record_count, &records) ||
            store_record_get(r->s, "photos", "w0-000", &rec, &len) < 0)
            r->failures++;
        free(rec);
        r->scans++;
    }
    return NULL;
}

static void test_round(void)
{
    const char *dir = check_tmpdir();
    store_options o = {.map_size = 1 << 20};
    store *s = NULL;
    char err[STORE_ERR_LEN];
    CHECKF(store_open(&s, dir, &o, err, sizeof err) == 0, "%s", err);
    REQUIRE(s != NULL);
    size_t start = store_map_size(s);

    atomic_bool done = false;
    writer wr[WRITERS];
    reader rd[READERS];
    pthread_t wt[WRITERS], rt[READERS];
    for (int i = 0; i < READERS; i++) {
        rd[i] = (reader){s, &done, false, 0, 0, 0};
        REQUIRE(pthread_create(&rt[i], NULL, reader_run, &rd[i]) == 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        wr[i] = (writer){.s = s, .w = i};
        crypto_sign_keypair(wr[i].pk, wr[i].sk);
        REQUIRE(pthread_create(&wt[i], NULL, writer_run, &wr[i]) == 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(wt[i], NULL);
        CHECKF(wr[i].failures == 0, "writer %d: %d failures, last: %s", i, wr[i].failures,
               wr[i].err);
    }
    atomic_store(&done, true);
    for (int i = 0; i < READERS; i++) {
        pthread_join(rt[i], NULL);
        CHECKF(rd[i].failures == 0 && rd[i].scans > 0, "reader %d: %ld failures in %ld scans", i,
               rd[i].failures, rd[i].scans);
        printf("reader %d: %ld scans, %ld blobs read\n", i, rd[i].scans, rd[i].rows);
    }
    size_t grown = store_map_size(s);
    printf("map grew from %zu to %zu bytes\n", start, grown);
    CHECK(grown >= 16 * start);

    /* Afterwards everything written is there. */
    reader all = {s, &done, true, 0, 0, 0};
    long records = 0;
    CHECK(store_local_scan(s, TABLE, row_check, &all) == 0 && all.rows == WRITERS * ITEMS);
    CHECK(store_records(s, "photos", record_count, &records) == 0 && records == WRITERS * ITEMS);
    CHECK(store_entry_count(s) == WRITERS * ITEMS);
    store_close(s);
}

static int write_in_scan(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val,
                         size_t vlen)
{
    store *s = ctx;
    (void)key, (void)klen, (void)val, (void)vlen;
    uint8_t *data = calloc(1, BIG_BLOB), hash[32];
    char err[STORE_ERR_LEN] = "";
    int rc = data ? store_blob_put(s, data, BIG_BLOB, hash, err, sizeof err) : 0;
    free(data);
    CHECKF(rc == -1 && strstr(err, "scan callback"), "write in a scan: %d %s", rc, err);
    return 0;
}

/* A write from inside a scan callback that needs the map to grow fails (it
 * cannot wait for its own read to end); after the scan it succeeds. */
static void test_write_in_scan(void)
{
    store_options o = {.map_size = 1 << 20};
    store *s = NULL;
    char err[STORE_ERR_LEN];
    CHECKF(store_open(&s, check_tmpdir(), &o, err, sizeof err) == 0, "%s", err);
    REQUIRE(s != NULL);
    CHECK(store_local_put(s, TABLE, "k", 1, "v", 1, err, sizeof err) == 0);
    CHECK(store_local_scan(s, TABLE, write_in_scan, s) == 0);
    uint8_t *data = calloc(1, BIG_BLOB), hash[32];
    REQUIRE(data != NULL);
    CHECKF(store_blob_put(s, data, BIG_BLOB, hash, err, sizeof err) == 0, "%s", err);
    free(data);
    store_close(s);
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    for (int r = 0; r < ROUNDS; r++)
        test_round();
    test_write_in_scan();
    return check_done();
}
