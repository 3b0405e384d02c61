/*
 * config.c - reading and writing a node's data directory. See config.h.
 */
#include "node/env/config.h"
#include "lib/hex.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const default_tiers[] = {"national", "province", "district", "commune"};

void node_config_default_tiers(node_config *c)
{
    c->ntiers = 4;
    for (size_t i = 0; i < 4; i++)
        snprintf(c->tiers[i], NODE_CODE_MAX, "%s", default_tiers[i]);
}

int node_tier_index(const node_config *c, const char *tier)
{
    for (size_t i = 0; i < c->ntiers; i++)
        if (!strcmp(c->tiers[i], tier))
            return (int)i;
    return -1;
}

int node_config_parse_tiers(node_config *c, const char *list, char *err, size_t errlen)
{
    size_t n = 0;
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (n == NODE_MAX_TIERS || !entry_unit_valid(p, len)) {
            snprintf(err, errlen,
                     "--tiers takes 2 to %d comma-separated names of letters, digits, - or _ "
                     "(e.g. national,province,district,commune)",
                     NODE_MAX_TIERS);
            return -1;
        }
        snprintf(c->tiers[n++], NODE_CODE_MAX, "%.*s", (int)len, p);
        p += len + (e ? 1 : 0);
    }
    if (n < 2) {
        snprintf(err, errlen, "--tiers needs at least two tiers");
        return -1;
    }
    c->ntiers = n;
    return 0;
}

static void path_join(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

/* Writes j as DIR/config.json atomically and durably: a temporary file,
 * fsync, rename over config.json, fsync of DIR; a crash leaves the old
 * file or the new one, never a part. */
static int config_write(const char *dir, json_t *j, char *err, size_t errlen)
{
    char path[NODE_PATH_MAX + 32], tmp[NODE_PATH_MAX + 40];
    path_join(path, sizeof path, dir, "config.json");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    bool bad = !f || json_dumpf(j, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) || fflush(f) ||
               fsync(fileno(f));
    if (f && fclose(f))
        bad = true;
    if (bad || rename(tmp, path)) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    bool synced = d >= 0 && fsync(d) == 0;
    if (d >= 0)
        close(d);
    if (!synced) {
        snprintf(err, errlen, "cannot make %s durable (fsync of %s): %s", path, dir,
                 strerror(errno));
        return -1;
    }
    return 0;
}

int node_config_save(const node_config *c, char *err, size_t errlen)
{
    char hex[2 * ENTRY_KEY_BYTES + 1];
    json_t *j = json_object();
    json_object_set_new(j, "unit", json_string(c->unit));
    json_object_set_new(j, "name", json_string(c->name));
    json_object_set_new(j, "tier", json_string(c->tier));
    json_object_set_new(j, "parent_unit",
                        c->parent_unit[0] ? json_string(c->parent_unit) : json_null());
    json_object_set_new(j, "root", json_boolean(c->root));
    json_object_set_new(j, "enrolled", json_boolean(c->enrolled));
    json_t *tiers = json_array();
    for (size_t i = 0; i < c->ntiers; i++)
        json_array_append_new(tiers, json_string(c->tiers[i]));
    json_object_set_new(j, "tiers", tiers);
    json_object_set_new(j, "listen", json_string(c->listen));
    json_t *ups = json_array();
    for (size_t i = 0; i < c->nupstreams; i++)
        json_array_append_new(ups, json_string(c->upstreams[i]));
    json_object_set_new(j, "upstreams", ups);
    if (c->tls_ca_file[0])
        json_object_set_new(j, "tls_ca_file", json_string(c->tls_ca_file));
    json_object_set_new(j, "node_key", json_string(hex_encode(c->pk, ENTRY_KEY_BYTES, hex)));
    json_object_set_new(j, "root_key",
                        c->has_root_key ? json_string(hex_encode(c->root_key, 32, hex))
                                        : json_null());
    int rc = config_write(c->dir, j, err, errlen);
    json_decref(j);
    return rc;
}

int node_config_save_place(const char *dir, const char *parent_unit,
                           const char (*upstreams)[NODE_URL_MAX], size_t n, char *err,
                           size_t errlen)
{
    char path[NODE_PATH_MAX + 32];
    path_join(path, sizeof path, dir, "config.json");
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!json_is_object(j)) {
        snprintf(err, errlen, "cannot read %s: %s", path, j ? "not a JSON object" : je.text);
        json_decref(j);
        return -1;
    }
    json_t *ups = json_array();
    for (size_t i = 0; i < n && i < NODE_MAX_UPSTREAMS; i++)
        json_array_append_new(ups, json_string(upstreams[i]));
    json_object_set_new(j, "upstreams", ups);
    json_object_set_new(j, "parent_unit", parent_unit[0] ? json_string(parent_unit) : json_null());
    int rc = config_write(dir, j, err, errlen);
    json_decref(j);
    return rc;
}

/* Writes secret key sk to DIR/name (which must not exist), mode 0600. */
static int write_key(const char *dir, const char *name, const uint8_t *sk, char *err, size_t errlen)
{
    char path[NODE_PATH_MAX + 32], hex[2 * ENTRY_SECRET_BYTES + 2];
    path_join(path, sizeof path, dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    hex_encode(sk, ENTRY_SECRET_BYTES, hex);
    strcat(hex, "\n");
    ssize_t n = write(fd, hex, strlen(hex));
    int bad = n != (ssize_t)strlen(hex) || fsync(fd);
    close(fd);
    if (bad) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int node_config_create(node_config *c, char *err, size_t errlen)
{
    char path[NODE_PATH_MAX + 32];
    if (mkdir(c->dir, 0700) && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", c->dir, strerror(errno));
        return -1;
    }
    path_join(path, sizeof path, c->dir, "config.json");
    if (access(path, F_OK) == 0) {
        snprintf(err, errlen, "%s already holds a node (config.json exists); use another --dir",
                 c->dir);
        return -1;
    }
    crypto_sign_keypair(c->pk, c->sk);
    if (write_key(c->dir, "node.key", c->sk, err, errlen))
        return -1;
    return node_config_save(c, err, errlen);
}

static int read_str(json_t *j, const char *key, char *out, size_t cap, bool required,
                    const char *path, char *err, size_t errlen)
{
    json_t *v = json_object_get(j, key);
    if (!v || json_is_null(v)) {
        out[0] = '\0';
        if (!required)
            return 0;
        snprintf(err, errlen, "%s: \"%s\" is missing", path, key);
        return -1;
    }
    if (!json_is_string(v) || json_string_length(v) >= cap) {
        snprintf(err, errlen, "%s: \"%s\" must be a string of fewer than %zu bytes", path, key,
                 cap);
        return -1;
    }
    snprintf(out, cap, "%s", json_string_value(v));
    return 0;
}

static int load_list(json_t *j, const char *key, char *base, size_t stride, size_t max, size_t *n,
                     const char *path, char *err, size_t errlen)
{
    json_t *a = json_object_get(j, key), *v;
    size_t i;
    *n = 0;
    if (!a)
        return 0;
    if (!json_is_array(a) || json_array_size(a) > max) {
        snprintf(err, errlen, "%s: \"%s\" must be a list of at most %zu strings", path, key, max);
        return -1;
    }
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v) || json_string_length(v) >= stride) {
            snprintf(err, errlen, "%s: \"%s\"[%zu] must be a string of fewer than %zu bytes", path,
                     key, i, stride);
            return -1;
        }
        snprintf(base + i * stride, stride, "%s", json_string_value(v));
    }
    *n = json_array_size(a);
    return 0;
}

/* Reads the secret key in DIR/name into sk and its public key into pk. */
static int load_key(const char *dir, const char *name, uint8_t *pk, uint8_t *sk, char *err,
                    size_t errlen)
{
    char path[NODE_PATH_MAX + 32], hex[2 * ENTRY_SECRET_BYTES + 8];
    path_join(path, sizeof path, dir, name);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read the node key %s: %s", path, strerror(errno));
        return -1;
    }
    size_t n = fread(hex, 1, sizeof hex - 1, f);
    fclose(f);
    hex[n] = '\0';
    while (n && (hex[n - 1] == '\n' || hex[n - 1] == '\r'))
        hex[--n] = '\0';
    if (hex_decode(hex, sk, ENTRY_SECRET_BYTES)) {
        snprintf(err, errlen, "%s is not a 128-digit hex Ed25519 secret key", path);
        return -1;
    }
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    return 0;
}

int node_config_load(node_config *c, const char *dir, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    snprintf(c->dir, sizeof c->dir, "%s", dir);
    char path[NODE_PATH_MAX + 32];
    path_join(path, sizeof path, dir, "config.json");
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) {
        if (access(path, F_OK))
            snprintf(err, errlen, "%s is not a lienthong node: no config.json (run lienthong init)",
                     dir);
        else
            snprintf(err, errlen, "%s line %d: %s", path, je.line, je.text);
        return -1;
    }
    int rc = -1;
    if (!json_is_object(j)) {
        snprintf(err, errlen, "%s must hold a JSON object", path);
        goto out;
    }
    if (read_str(j, "unit", c->unit, sizeof c->unit, true, path, err, errlen) ||
        read_str(j, "name", c->name, sizeof c->name, true, path, err, errlen) ||
        read_str(j, "tier", c->tier, sizeof c->tier, true, path, err, errlen) ||
        read_str(j, "parent_unit", c->parent_unit, sizeof c->parent_unit, false, path, err,
                 errlen) ||
        read_str(j, "listen", c->listen, sizeof c->listen, false, path, err, errlen) ||
        read_str(j, "tls_ca_file", c->tls_ca_file, sizeof c->tls_ca_file, false, path, err, errlen))
        goto out;
    c->root = json_is_true(json_object_get(j, "root"));
    c->enrolled = json_is_true(json_object_get(j, "enrolled"));
    if (load_list(j, "tiers", &c->tiers[0][0], NODE_CODE_MAX, NODE_MAX_TIERS, &c->ntiers, path, err,
                  errlen) ||
        load_list(j, "upstreams", &c->upstreams[0][0], NODE_URL_MAX, NODE_MAX_UPSTREAMS,
                  &c->nupstreams, path, err, errlen))
        goto out;
    if (c->ntiers == 0)
        node_config_default_tiers(c);
    char rk[2 * ENTRY_KEY_BYTES + 1];
    if (read_str(j, "root_key", rk, sizeof rk, false, path, err, errlen))
        goto out;
    if (rk[0]) {
        if (hex_decode(rk, c->root_key, ENTRY_KEY_BYTES)) {
            snprintf(err, errlen, "%s: \"root_key\" must be 64 hex digits", path);
            goto out;
        }
        c->has_root_key = true;
    }
    if (!c->listen[0])
        snprintf(c->listen, sizeof c->listen, "127.0.0.1:8080");
    rc = load_key(c->dir, "node.key", c->pk, c->sk, err, errlen);
out:
    json_decref(j);
    return rc;
}

/* The domains' part of the stores opened here (node_store_domains). */
static store_options domains;

void node_store_domains(const store_options *o)
{
    domains = *o;
}

int node_store_open(const node_config *c, store **s, bool read_only, char *err, size_t errlen)
{
    char path[NODE_PATH_MAX + 32], file[NODE_PATH_MAX + 48];
    path_join(path, sizeof path, c->dir, "data");
    snprintf(file, sizeof file, "%s/data.mdb", path);
    if (access(file, F_OK)) {
        snprintf(err, errlen,
                 "%s is missing: this node's store is gone; restore it from a backup (see "
                 "docs/operations.md) rather than starting an empty log",
                 file);
        return -1;
    }
    store_options opt = domains;
    opt.read_only = read_only;
    return store_open(s, path, &opt, err, errlen);
}

int node_store_create(const node_config *c, store **s, char *err, size_t errlen)
{
    char path[NODE_PATH_MAX + 32];
    path_join(path, sizeof path, c->dir, "data");
    return store_open(s, path, &domains, err, errlen);
}

int node_key_next(const node_config *c, uint8_t pk[ENTRY_KEY_BYTES], uint8_t sk[ENTRY_SECRET_BYTES],
                  char *err, size_t errlen)
{
    char path[NODE_PATH_MAX + 32];
    path_join(path, sizeof path, c->dir, "node.key.new");
    if (access(path, F_OK) == 0)
        return load_key(c->dir, "node.key.new", pk, sk, err, errlen);
    crypto_sign_keypair(pk, sk);
    return write_key(c->dir, "node.key.new", sk, err, errlen);
}

int node_key_swap(node_config *c, char *err, size_t errlen)
{
    char cur[NODE_PATH_MAX + 32], next[NODE_PATH_MAX + 32], old[NODE_PATH_MAX + 64], stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
    path_join(cur, sizeof cur, c->dir, "node.key");
    path_join(next, sizeof next, c->dir, "node.key.new");
    snprintf(old, sizeof old, "%s.old-%s", cur, stamp);
    if (link(cur, old) || rename(next, cur)) {
        snprintf(err, errlen, "cannot replace %s with %s: %s", cur, next, strerror(errno));
        return -1;
    }
    if (load_key(c->dir, "node.key", c->pk, c->sk, err, errlen))
        return -1;
    return node_config_save(c, err, errlen);
}

void node_tls_paths(const node_config *c, char *cert, char *key, size_t cap)
{
    snprintf(cert, cap, "%s/tls/cert.pem", c->dir);
    snprintf(key, cap, "%s/tls/key.pem", c->dir);
}

void node_tls_ca_path(const node_config *c, char *out, size_t cap)
{
    if (!c->tls_ca_file[0] || c->tls_ca_file[0] == '/')
        snprintf(out, cap, "%s", c->tls_ca_file);
    else
        snprintf(out, cap, "%s/%s", c->dir, c->tls_ca_file);
}

store_author node_author(const node_config *c)
{
    return (store_author){c->pk, c->sk, c->unit};
}
