/*
 * status.c - assembling the status document. See status.h.
 */
#include "node/status.h"
#include "lib/hex.h"
#include "node/membership/fingerprint.h"
#include "node/membership/network.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    store *s;
    json_t *origins, *units, *partial;
} origins_ctx;

static int add_origin(void *ctx, const store_origin *o)
{
    origins_ctx *oc = ctx;
    char key[65], unit[NODE_CODE_MAX];
    hex_encode(o->origin, 32, key);
    json_object_set_new(oc->origins, key, json_integer((json_int_t)o->max_seq));
    if (network_unit_of_key(oc->s, o->origin, unit) == 0)
        json_object_set_new(oc->units, key, json_string(unit));
    if (o->count != o->max_seq)
        json_object_set_new(oc->partial, key, json_integer((json_int_t)o->count));
    return 0;
}

static int add_complete(void *ctx, const uint8_t *origin, uint64_t seq, const char *unit)
{
    char key[65];
    (void)unit;
    json_object_set_new(ctx, hex_encode(origin, 32, key), json_integer((json_int_t)seq));
    return 0;
}

typedef struct {
    json_t *records, *digests;
} colls_ctx;

static int add_coll(void *ctx, const char *coll, uint64_t live, const uint8_t *digest)
{
    colls_ctx *cc = ctx;
    char hex[2 * STORE_DIGEST_BYTES + 1];
    json_object_set_new(cc->records, coll, json_integer((json_int_t)live));
    json_object_set_new(cc->digests, coll, json_string(hex_encode(digest, 32, hex)));
    return 0;
}

static int add_equivocation(void *ctx, const uint8_t *held, size_t held_len, const uint8_t *other,
                            size_t other_len)
{
    json_t *list = ctx;
    entry_view e;
    (void)held;
    (void)held_len;
    if (entry_decode(other, other_len, &e, NULL, 0))
        return 0;
    char key[65];
    json_array_append_new(list, json_pack("{s:s, s:I}", "origin", hex_encode(e.origin, 32, key),
                                          "seq", (json_int_t)e.seq));
    entry_view_free(&e);
    return 0;
}

json_t *status_build(const node_config *c, store *s, char *err, size_t errlen)
{
    char key[65];
    origins_ctx oc = {s, json_object(), json_object(), json_object()};
    colls_ctx cc = {json_object(), json_object()};
    json_t *equiv = json_array(), *complete = json_object();
    if (store_origins(s, add_origin, &oc) < 0 || store_collections(s, add_coll, &cc) < 0 ||
        store_equivocations(s, add_equivocation, equiv) < 0 ||
        store_completes(s, add_complete, complete) < 0) {
        json_decref(complete);
        json_decref(oc.origins);
        json_decref(oc.units);
        json_decref(oc.partial);
        json_decref(cc.records);
        json_decref(cc.digests);
        json_decref(equiv);
        snprintf(err, errlen, "cannot read the store of %s", c->dir);
        return NULL;
    }
    json_t *tiers = json_array();
    for (size_t i = 0; i < c->ntiers; i++)
        json_array_append_new(tiers, json_string(c->tiers[i]));
    char fp[FINGERPRINT_LEN];
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:b, s:b, s:o, s:I, s:o, s:o, s:o, s:o, "
                     "s:o, s:o, s:o, s:s}",
                     "node", hex_encode(c->pk, 32, key), "fingerprint", fingerprint_key(c->pk, fp),
                     "unit", c->unit, "name", c->name, "tier", c->tier, "parent",
                     c->parent_unit[0] ? json_string(c->parent_unit) : json_null(), "root", c->root,
                     "enrolled", c->enrolled, "tiers", tiers, "entries",
                     (json_int_t)store_entry_count(s), "origins", oc.origins, "origin_units",
                     oc.units, "partial_origins", oc.partial, "complete", complete, "records",
                     cc.records, "digests", cc.digests, "equivocations", equiv, "version",
                     LT_VERSION);
}

/* The probe takes the lock shared for an instant when it is free. */
bool status_node_running(const char *dir)
{
    char path[NODE_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/serve.lock", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd); /* also releases a lock we took */
    return held;
}

static json_t *sync_message(bool running, const char *msg)
{
    return json_pack("{s:b, s:s}", "running", running, "message", msg);
}

json_t *status_sync(const char *dir)
{
    if (!status_node_running(dir))
        return sync_message(false, "the node is not running (lienthong serve): no live sync "
                                   "state");
    char path[NODE_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/sync.json", dir);
    struct stat sb;
    json_error_t jerr;
    json_t *j = stat(path, &sb) == 0 ? json_load_file(path, 0, &jerr) : NULL;
    if (!json_is_object(j)) {
        json_decref(j);
        return sync_message(true, "the node is running but has not written DIR/sync.json yet: "
                                  "try again in a second");
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long age = ((long long)now.tv_sec - (long long)sb.st_mtim.tv_sec) * 1000 +
                    (now.tv_nsec - sb.st_mtim.tv_nsec) / 1000000;
    json_object_set_new(j, "running", json_true());
    json_object_set_new(j, "age_ms", json_integer(age < 0 ? 0 : age));
    return j;
}
