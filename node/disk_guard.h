/*
 * disk_guard.h - writes stop before the disk is full.
 *
 * Before any request that may write (a method other than GET, HEAD or
 * OPTIONS; logging in and out excepted, which keep a session), the guard
 * looks at the free space of the disk holding DIR/data. Below the reserve
 * (LT_DISK_RESERVE bytes, default DISK_GUARD_RESERVE) it answers 507 with
 * the code storage.disk_full and writes nothing; reads and replication go
 * on (replication may still use the reserve, so that nothing acknowledged
 * elsewhere waits). The first request after space returns is served again:
 * there is nothing to reset. Each change of state is logged once
 * (disk.full, disk.recovered).
 */
#ifndef LT_DISK_GUARD_H
#define LT_DISK_GUARD_H

#include "node/http/http.h"

#include <stdbool.h>
#include <stdint.h>

#define DISK_GUARD_RESERVE ((uint64_t)64 << 20)

typedef struct {
    char path[4200];  /* DIR/data */
    uint64_t reserve; /* bytes to keep free */
    bool full;        /* the last look found less than reserve */
} disk_guard;

/* Sets g up for the data directory dir, with the reserve from
 * LT_DISK_RESERVE when set. Returns 0, or -1 with err (a bad value). */
int disk_guard_init(disk_guard *g, const char *dir, char *err, size_t errlen);

/* Free bytes on the disk of path for an unprivileged writer, or -1. */
int64_t disk_free_bytes(const char *path);

/* Whether req may write: any method but GET, HEAD and OPTIONS, except
 * logging in and out. */
bool disk_guard_writes(const http_request *req);

/* An http_gate_fn (ctx: a disk_guard): true, with a 507 in res, when req
 * may write and the disk holds less than the reserve. */
bool disk_guard_gate(void *ctx, const http_request *req, http_response *res);

/* An http_amend_fn (ctx: a disk_guard): a 500 answer to a write while the
 * disk has less than DISK_GUARD_FULL_SLACK bytes free (or less than the
 * reserve) becomes the guard's 507: the write failed for want of space
 * (LMDB then reports ENOSPC or EIO), and nothing was written. */
void disk_guard_amend(void *ctx, const http_request *req, http_response *res);

#define DISK_GUARD_FULL_SLACK ((uint64_t)1 << 20)

#endif
