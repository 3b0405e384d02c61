/*
 * recovery.c - see recovery.h.
 */
#include "node/recovery.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LMDB_MAGIC 0xBEEFC0DEu
/* Offsets in a meta page (lmdb's mdb.c, 64-bit): a 16-byte page header,
 * then MDB_meta: magic, version, address, mapsize, two 48-byte MDB_db
 * (the first one's md_pad holds the page size), last page, txn id. */
#define META_MAGIC 16
#define META_PSIZE 40
#define META_LAST_PG 136
#define META_TXNID 144
#define META_BYTES 152

static uint64_t u64_at(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static uint32_t u32_at(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

int recovery_lmdb_meta(const char *path, uint64_t *txn, uint64_t *last_page)
{
    uint8_t m0[META_BYTES], m1[META_BYTES];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    bool ok =
        pread(fd, m0, sizeof m0, 0) == (ssize_t)sizeof m0 && u32_at(m0 + META_MAGIC) == LMDB_MAGIC;
    uint32_t psize = ok ? u32_at(m0 + META_PSIZE) : 0;
    ok = ok && psize >= 512 && psize <= 65536 &&
         pread(fd, m1, sizeof m1, psize) == (ssize_t)sizeof m1 &&
         u32_at(m1 + META_MAGIC) == LMDB_MAGIC;
    close(fd);
    if (!ok)
        return -1;
    const uint8_t *m = u64_at(m1 + META_TXNID) > u64_at(m0 + META_TXNID) ? m1 : m0;
    *txn = u64_at(m + META_TXNID);
    *last_page = u64_at(m + META_LAST_PG);
    return 0;
}

static void iso_now(char *buf, size_t cap)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void marker_path(const char *dir, char *out, size_t cap)
{
    snprintf(out, cap, "%s/shutdown.json", dir);
}

void recovery_read(const char *dir, recovery_info *out)
{
    char path[4200];
    memset(out, 0, sizeof *out);
    snprintf(path, sizeof path, "%s/data/data.mdb", dir);
    recovery_lmdb_meta(path, &out->last_txn, &out->last_page);
    marker_path(dir, path, sizeof path);
    json_t *j = json_load_file(path, 0, NULL);
    const char *state = json_string_value(json_object_get(j, "state"));
    const char *at = json_string_value(json_object_get(j, "at"));
    out->first_start = !state;
    out->clean = state && !strcmp(state, "stopped");
    snprintf(out->last_at, sizeof out->last_at, "%s", at ? at : "");
    json_decref(j);
}

/* Writes j to DIR/shutdown.json atomically and durably. */
static int marker_write(const char *dir, json_t *j)
{
    char path[4200], tmp[4220];
    marker_path(dir, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int rc = j ? json_dump_file(j, tmp, JSON_COMPACT) : -1;
    json_decref(j);
    int fd = rc ? -1 : open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        rc = fsync(fd);
        close(fd);
    }
    return rc || rename(tmp, path) ? -1 : 0;
}

int recovery_mark_running(const char *dir)
{
    char at[32];
    iso_now(at, sizeof at);
    return marker_write(dir, json_pack("{s:s, s:s, s:I}", "state", "running", "at", at, "pid",
                                       (json_int_t)getpid()));
}

int recovery_mark_stopped(const char *dir)
{
    char at[32], path[4200];
    uint64_t txn = 0, page = 0;
    snprintf(path, sizeof path, "%s/data/data.mdb", dir);
    recovery_lmdb_meta(path, &txn, &page);
    iso_now(at, sizeof at);
    return marker_write(
        dir, json_pack("{s:s, s:s, s:I}", "state", "stopped", "at", at, "txn", (json_int_t)txn));
}

static void restored_path(const char *dir, char *out, size_t cap)
{
    snprintf(out, cap, "%s/restored.json", dir);
}

int recovery_mark_restored(const char *dir, const char *key_hex, const char *file)
{
    char at[32], path[4200], tmp[4220];
    iso_now(at, sizeof at);
    restored_path(dir, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    json_t *j = json_pack("{s:s, s:s, s:s}", "node", key_hex, "at", at, "from", file);
    int rc = j ? json_dump_file(j, tmp, JSON_COMPACT) : -1;
    json_decref(j);
    return rc || rename(tmp, path) ? -1 : 0;
}

bool recovery_restored_key(const char *dir, const char *key_hex)
{
    char path[4200];
    restored_path(dir, path, sizeof path);
    json_t *j = json_load_file(path, 0, NULL);
    const char *k = json_string_value(json_object_get(j, "node"));
    bool same = k && !strcmp(k, key_hex);
    json_decref(j);
    return same;
}

int recovery_clear_restored(const char *dir)
{
    char path[4200];
    restored_path(dir, path, sizeof path);
    return unlink(path) && errno != ENOENT ? -1 : 0;
}

void recovery_describe(const recovery_info *r, char *buf, size_t cap)
{
    snprintf(buf, cap, "clean_shutdown=%s last_run=%s last_txn=%llu last_page=%llu",
             r->first_start ? "first_start"
             : r->clean     ? "true"
                            : "false",
             r->last_at[0] ? r->last_at : "-", (unsigned long long)r->last_txn,
             (unsigned long long)r->last_page);
}
