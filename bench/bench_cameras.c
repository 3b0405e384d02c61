/*
 * bench_cameras.c - the cameras domain at a province's scale
 * (docs/performance.md): 20,000 camera records of 3,321 communes under 30
 * districts as the province holds them (written and indexed in batches of
 * 1,000), status changes of 1,000 cameras in one transaction, then on the
 * warm store the figures of the province by child unit and by field
 * (target under 5 ms each), the list of one district's cameras, and the
 * CSV import of 1,298 cameras (Quảng Ninh's count) through
 * cameras_csv_import, as `lienthong cameras import` does.
 */
#include "lib/mpjson.h"
#include "media/media.h"
#include "node/domains.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DISTRICTS 30
#define COMMUNES 3321
#define CAMERAS 20000
#define BATCH 1000

static const char *const fields[] = {"security", "traffic", "public_service", "environment"};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_cameras: %s: %s\n", what, msg);
    exit(1);
}

/* BATCH camera records from k0, status online for 3 in 5 (patch: status only). */
static void write_batch(store *s, const node_config *c, int k0, bool patch)
{
    store_write w[BATCH];
    uint8_t *bodies[BATCH];
    char ids[BATCH][16], err[256];
    for (int i = 0; i < BATCH; i++) {
        int k = k0 + i, commune = k % COMMUNES;
        char cu[16], du[16];
        snprintf(cu, sizeof cu, "C%04d", commune);
        snprintf(du, sizeof du, "D%02d", commune % DISTRICTS);
        snprintf(ids[i], sizeof ids[i], "CAM%05d", k);
        json_t *j = patch ? json_pack("{s:s}", "status", k % 5 < 3 ? "offline" : "online")
                          : json_pack("{s:s, s:s, s:s, s:[s,s,s,s], s:s, s:b, s:s}", "name", ids[i],
                                      "field", fields[k % 4], "unit", cu, "path", "VN", "P", du, cu,
                                      "url", "rtsp://10.0.0.1/s", "enabled", 1, "status",
                                      k % 5 < 3 ? "online" : "offline");
        size_t len;
        if (mpjson_pack_object(j, &bodies[i], &len, err, sizeof err))
            die("pack", err);
        json_decref(j);
        w[i] = (store_write){
            CAMERA_COLL, ids[i], patch ? ENTRY_OP_PATCH : ENTRY_OP_PUT, bodies[i], len, NULL, 0};
    }
    store_author a = node_author(c);
    if (store_write_local(s, &a, w, BATCH, NULL, err, sizeof err))
        die("write", err);
    for (int i = 0; i < BATCH; i++)
        free(bodies[i]);
}

static double best_of(int runs, store *s, const char *unit, bool by_child, json_t **last)
{
    double best = 1e9;
    for (int r = 0; r < runs; r++) {
        lt_error e = {0};
        double t0 = now_s();
        json_t *j = cameras_stats(s, unit, by_child, &e);
        double t = now_s() - t0;
        if (!j)
            die("stats", e.message);
        best = t < best ? t : best;
        json_decref(*last);
        *last = j;
    }
    return best;
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    domains_install();
    node_config c;
    memset(&c, 0, sizeof c);
    node_config_default_tiers(&c);
    snprintf(c.unit, sizeof c.unit, "VN");
    snprintf(c.tier, sizeof c.tier, "national");
    crypto_sign_keypair(c.pk, c.sk);
    char dir[] = "/tmp/bench-cam-XXXXXX", err[256];
    if (!mkdtemp(dir))
        die("mkdtemp", "failed");
    store *s;
    store_options o = {0};
    domains_store_options(&o);
    if (store_open(&s, dir, &o, err, sizeof err))
        die("open", err);
    double t0 = now_s();
    for (int k = 0; k < CAMERAS; k += BATCH)
        write_batch(s, &c, k, false);
    double tw = now_s() - t0;
    printf("cameras: %d camera records written and indexed in %.2f s (%.0f/s, batches of %d)\n",
           CAMERAS, tw, CAMERAS / tw, BATCH);
    t0 = now_s();
    write_batch(s, &c, 0, true);
    printf("cameras: %d status changes in one transaction: %.1f ms\n", BATCH, (now_s() - t0) * 1e3);
    json_t *last = NULL;
    double tc = best_of(20, s, "P", true, &last);
    printf(
        "cameras: figures of the province by child unit (%zu districts): %.3f ms (target < 5 ms), "
        "%lld/%lld online\n",
        json_array_size(json_object_get(last, "rows")), tc * 1e3,
        (long long)json_integer_value(json_object_get(last, "online")),
        (long long)json_integer_value(json_object_get(last, "total")));
    double tf = best_of(20, s, "P", false, &last);
    printf("cameras: figures of the province by field (%zu fields): %.3f ms (target < 5 ms)\n",
           json_array_size(json_object_get(last, "rows")), tf * 1e3);
    json_decref(last);
    lt_error e = {0};
    t0 = now_s();
    json_t *list = cameras_list(s, &(cam_list_query){"D07", NULL, "online", NULL, 0}, &e);
    if (!list)
        die("list", e.message);
    printf("cameras: list of one district's online cameras (%zu of %d, from the index): %.1f ms\n",
           json_array_size(json_object_get(list, "cameras")), CAMERAS, (now_s() - t0) * 1e3);
    json_decref(list);
    t0 = now_s();
    list = cameras_list(s, &(cam_list_query){"P", "traffic", "online", NULL, 50}, &e);
    if (!list)
        die("list", e.message);
    printf("cameras: a page of 50 of the province's online traffic cameras (of %d): %.2f ms\n",
           CAMERAS, (now_s() - t0) * 1e3);
    json_decref(list);
    size_t cap = 1298 * 96 + 64, len = 0;
    char *csv = malloc(cap);
    len += (size_t)snprintf(csv + len, cap - len, "id,name,field,lat,lon,url\n");
    for (int k = 0; k < 1298; k++)
        len += (size_t)snprintf(csv + len, cap - len,
                                "QN%04d,Camera %d,%s,21.%04d,107.%04d,rtsp://u:p@10.1.%d.%d/s\n", k,
                                k, fields[k % 4], k, k, k / 250, k % 250);
    size_t written, unchanged;
    t0 = now_s();
    if (cameras_csv_import(s, &c, NULL, csv, len, &written, &unchanged, &e))
        die("import", e.message);
    printf("cameras: CSV import of %zu cameras with credentials: %.2f s\n", written, now_s() - t0);
    t0 = now_s();
    if (cameras_csv_import(s, &c, NULL, csv, len, &written, &unchanged, &e))
        die("import", e.message);
    printf("cameras: the same import again (%zu unchanged, nothing written): %.2f s\n", unchanged,
           now_s() - t0);
    free(csv);
    store_close(s);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
