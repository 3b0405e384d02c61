/*
 * disk_guard.c - see disk_guard.h.
 */
#include "node/disk_guard.h"
#include "lib/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

int disk_guard_init(disk_guard *g, const char *dir, char *err, size_t errlen)
{
    memset(g, 0, sizeof *g);
    snprintf(g->path, sizeof g->path, "%s/data", dir);
    g->reserve = DISK_GUARD_RESERVE;
    const char *v = getenv("LT_DISK_RESERVE");
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || *end || v[0] == '-') {
        snprintf(err, errlen,
                 "LT_DISK_RESERVE=\"%s\" is not a number of bytes; set it to one (0 turns the "
                 "guard off) or unset it",
                 v);
        return -1;
    }
    g->reserve = n;
    return 0;
}

int64_t disk_free_bytes(const char *path)
{
    struct statvfs vs;
    if (statvfs(path, &vs))
        return -1;
    return (int64_t)vs.f_bavail * (int64_t)vs.f_frsize;
}

bool disk_guard_writes(const http_request *req)
{
    if (!strcmp(req->method, "GET") || !strcmp(req->method, "HEAD") ||
        !strcmp(req->method, "OPTIONS"))
        return false;
    return strcmp(req->path, "/api/v1/login") && strcmp(req->path, "/api/v1/logout");
}

/* Logs a change between full and not, and answers 507 when full. */
static bool guard_judge(disk_guard *g, uint64_t limit, http_response *res)
{
    int64_t free_b = disk_free_bytes(g->path);
    bool full = free_b >= 0 && (uint64_t)free_b < limit;
    if (full != g->full)
        log_write(full ? LOG_ERROR : LOG_INFO, full ? "disk.full" : "disk.recovered",
                  "path=%s free_bytes=%lld reserve_bytes=%llu", g->path, (long long)free_b,
                  (unsigned long long)g->reserve);
    g->full = full;
    if (!full)
        return false;
    http_respond_code(res, 507, "storage.disk_full",
                      "the disk holding %s has %lld MiB free, less than the %llu MiB this node "
                      "keeps in reserve: nothing was written. Reading and replication go on. "
                      "Free space on that disk (old backups, logs) and send the request again",
                      g->path, (long long)(free_b >> 20), (unsigned long long)(g->reserve >> 20));
    return true;
}

bool disk_guard_gate(void *ctx, const http_request *req, http_response *res)
{
    disk_guard *g = ctx;
    return g->reserve && disk_guard_writes(req) && guard_judge(g, g->reserve, res);
}

void disk_guard_amend(void *ctx, const http_request *req, http_response *res)
{
    disk_guard *g = ctx;
    if (res->status == 500 && disk_guard_writes(req))
        guard_judge(g, g->reserve > DISK_GUARD_FULL_SLACK ? g->reserve : DISK_GUARD_FULL_SLACK,
                    res);
}
