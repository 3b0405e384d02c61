/*
 * cmd_backup.c - `lienthong backup` and `lienthong restore`: a node's
 * store, key and configuration in one file, taken while the node serves.
 *
 * The store is copied with LMDB's own compacting copy (mdb_env_copyfd2,
 * MDB_CP_COMPACT) from one read transaction: a consistent snapshot of the
 * last committed state that does not stop the running node's writers.
 * Camera recordings (DIR/recordings) are not included. The file format is
 * in backup_file.h.
 */
#include "cli/backup_file.h"
#include "cli/cli.h"
#include "lib/hex.h"
#include "node/recovery.h"
#include "node/status.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The files of DIR a backup holds (data/data.mdb: the compacted copy). The
 * optional ones are taken when present. */
static const struct {
    const char *name;
    bool required;
    mode_t mode;
} MEMBERS[] = {
    {"config.json", true, 0644},   {"node.key", true, 0600},     {"node.key.new", false, 0600},
    {"tls/cert.pem", false, 0644}, {"tls/key.pem", false, 0600}, {"data/data.mdb", true, 0600},
};
#define NMEMBERS (sizeof MEMBERS / sizeof *MEMBERS)
#define PASS_MAX 1024

static const char backup_usage[] =
    "Usage: lienthong backup --dir DIR --out FILE [--passphrase-file F]\n\n"
    "Writes the node's store (a consistent, compacted copy taken from one read\n"
    "transaction: the node may keep serving), its key and its configuration\n"
    "into FILE (written as FILE.tmp, then renamed: FILE is never half\n"
    "written). With --passphrase-file the file is encrypted with a key derived\n"
    "from the passphrase on the first line of F (Argon2id); without it, the\n"
    "file holds the node's secret key in clear: keep it where only admins\n"
    "read. Camera recordings are not included. Restore with lienthong restore.\n\n"
    "  --dir DIR             the node's data directory\n"
    "  --out FILE            the backup file to write (replaced if present)\n"
    "  --passphrase-file F   encrypt with the passphrase in F\n";

static const char restore_usage[] =
    "Usage: lienthong restore --dir DIR --from FILE [--passphrase-file F] [--force]\n\n"
    "Restores a node from a file of lienthong backup into DIR, which must be\n"
    "empty or absent (--force replaces the node in DIR; it must not be\n"
    "running). The whole file is checked (checksum, or decryption) before\n"
    "anything in DIR changes. Started, the node fetches from its neighbours\n"
    "what they hold for it. The entries it signed itself after the backup do\n"
    "not come back, so serve refuses to start it until lienthong rotate has\n"
    "given it a new key (docs/operations.md, Restore).\n\n"
    "  --dir DIR             where to restore the node\n"
    "  --from FILE           the backup file\n"
    "  --passphrase-file F   the passphrase of an encrypted backup\n"
    "  --force               replace the (stopped) node in DIR\n";

/* The compacted copy of the store at DIR/data into the file fd. */
static int lmdb_copy(const char *dir, int fd, char *err, size_t errlen)
{
    char path[NODE_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/data", dir);
    MDB_env *env;
    int rc = mdb_env_create(&env);
    if (!rc) {
        mdb_env_set_maxdbs(env, 32);
        mdb_env_set_maxreaders(env, 254);
        rc = mdb_env_open(env, path, MDB_RDONLY | MDB_NOTLS, 0600);
        /* the node may grow the map meanwhile: take the new size and retry */
        for (int tries = 0; !rc && tries < 5; tries++) {
            rc = mdb_env_copyfd2(env, fd, MDB_CP_COMPACT);
            if (rc != MDB_MAP_RESIZED)
                break;
            rc = ftruncate(fd, 0) || lseek(fd, 0, SEEK_SET) < 0 ? errno
                                                                : mdb_env_set_mapsize(env, 0);
        }
        mdb_env_close(env);
    }
    if (rc)
        snprintf(err, errlen, "cannot copy the store %s: %s", path, mdb_strerror(rc));
    return rc ? -1 : 0;
}

/* Writes every member of DIR into w; the store through a temporary copy
 * at tmp. */
static int backup_members(backup_writer *w, const char *dir, const char *tmp, char *err,
                          size_t errlen)
{
    for (size_t i = 0; i < NMEMBERS; i++) {
        char path[NODE_PATH_MAX + 32];
        bool is_store = !strcmp(MEMBERS[i].name, "data/data.mdb");
        snprintf(path, sizeof path, "%s/%s", dir, MEMBERS[i].name);
        if (is_store) {
            int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
            if (fd < 0) {
                snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
                return -1;
            }
            int rc = lmdb_copy(dir, fd, err, errlen);
            close(fd);
            rc = rc ? rc : backup_add_file(w, MEMBERS[i].name, tmp, err, errlen);
            unlink(tmp);
            if (rc)
                return -1;
        } else if (access(path, F_OK) == 0 || MEMBERS[i].required) {
            if (backup_add_file(w, MEMBERS[i].name, path, err, errlen))
                return -1;
        }
    }
    return 0;
}

/* The passphrase of --passphrase-file into buf, or NULL when none given. */
static const char *passphrase_of(const char *file, char *buf, bool *bad, char *err, size_t errlen)
{
    *bad = file && backup_passphrase_read(file, buf, PASS_MAX, err, errlen);
    return file && !*bad ? buf : NULL;
}

/* The options both commands share: --dir, the file, --passphrase-file, and
 * (restore) --force. Returns -1 to go on, else the exit code. */
static int parse_opts(int argc, char **argv, const char *cmd, const char *usage, const char **dir,
                      const char **file, const char **pass, bool *force)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"out", required_argument, 0, 'o'},
                                         {"from", required_argument, 0, 'f'},
                                         {"passphrase-file", required_argument, 0, 'p'},
                                         {"force", no_argument, 0, 'F'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    bool restore = !strcmp(cmd, "restore");
    int code, ch;
    bool done = false;
    while ((ch = cli_next_opt(argc, argv, opts, cmd, usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            *dir = optarg;
        else if ((ch == 'o' && !restore) || (ch == 'f' && restore))
            *file = optarg;
        else if (ch == 'p')
            *pass = optarg;
        else if (ch == 'F' && restore)
            *force = true;
        else
            return cli_usage_error(cmd, restore ? "restore takes --from, not --out"
                                                : "backup takes --out (and no --from or --force)");
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument");
    if (!*dir)
        return cli_usage_error(cmd, "--dir DIR is required");
    if (!*file)
        return cli_usage_error(cmd, restore ? "--from FILE is required" : "--out FILE is required");
    return -1;
}

int cmd_backup(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL, *pfile = NULL;
    bool force = false, bad;
    int code = parse_opts(argc, argv, "backup", backup_usage, &dir, &out, &pfile, &force);
    if (code >= 0)
        return code;
    node_config c;
    if ((code = cli_load("backup", dir, &c)))
        return code;
    char err[1024] = "", pass[PASS_MAX], tmp[NODE_PATH_MAX + 16], mdb[NODE_PATH_MAX + 16];
    const char *p = passphrase_of(pfile, pass, &bad, err, sizeof err);
    if (bad)
        return cli_error("backup", CLI_FAIL, "%s", err);
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    snprintf(mdb, sizeof mdb, "%s.mdb.tmp", out);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return cli_error("backup", CLI_FAIL,
                         "cannot create %s: %s; check the directory exists "
                         "and is writable",
                         tmp, strerror(errno));
    fchmod(fileno(f), 0600);
    backup_writer *w = backup_writer_new(f, p, err, sizeof err);
    int rc = w ? backup_members(w, dir, mdb, err, sizeof err) : -1;
    char ferr[256];
    if (w && backup_writer_finish(w, ferr, sizeof ferr) && !rc) {
        snprintf(err, sizeof err, "%s", ferr);
        rc = -1;
    }
    rc = rc || fsync(fileno(f));
    long long size = ftello(f);
    fclose(f);
    if (rc || rename(tmp, out)) {
        unlink(tmp);
        return cli_error("backup", CLI_FAIL, "%s; no backup was written",
                         err[0] ? err : strerror(errno));
    }
    printf("backup of unit %s written to %s: %lld bytes%s\n", c.unit, out, size,
           p ? ", encrypted" : " (not encrypted: it holds the node's secret key)");
    return CLI_OK;
}

/* Whether dir is absent or an empty directory. */
static bool dir_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT;
    struct dirent *e;
    bool empty = true;
    while (empty && (e = readdir(d)))
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    return empty;
}

/* The index of member name in MEMBERS, or -1 (a name a backup never holds). */
static int member_index(const char *name)
{
    for (size_t i = 0; i < NMEMBERS; i++)
        if (!strcmp(MEMBERS[i].name, name))
            return (int)i;
    return -1;
}

/* Reads every member of r into stage/NAME. Returns 0, or -1 with err. */
static int restore_stage(backup_reader *r, const char *stage, bool got[NMEMBERS], char *err,
                         size_t errlen)
{
    char name[BACKUP_NAME_MAX + 1], path[NODE_PATH_MAX + 300];
    uint64_t size;
    for (;;) {
        snprintf(path, sizeof path, "%s/member", stage);
        FILE *out = fopen(path, "wb");
        if (!out) {
            snprintf(err, errlen, "cannot write in %s: %s", stage, strerror(errno));
            return -1;
        }
        int rc = backup_next(r, name, &size, out, err, errlen);
        rc = fclose(out) && rc == 1 ? -1 : rc;
        if (rc <= 0)
            return rc;
        int i = member_index(name);
        if (i < 0) {
            snprintf(err, errlen,
                     "the backup holds a file named \"%s\", which lienthong backup never writes: "
                     "nothing was restored",
                     name);
            return -1;
        }
        char dst[NODE_PATH_MAX + 300];
        snprintf(dst, sizeof dst, "%s/%d", stage, i);
        if (rename(path, dst)) {
            snprintf(err, errlen, "cannot write in %s: %s", stage, strerror(errno));
            return -1;
        }
        got[i] = true;
    }
}

/* Moves the staged members into dir (data/ and tls/ made as needed). */
static int restore_place(const char *stage, const char *dir, const bool got[NMEMBERS], char *err,
                         size_t errlen)
{
    char src[NODE_PATH_MAX + 300], dst[NODE_PATH_MAX + 300];
    snprintf(dst, sizeof dst, "%s/data/lock.mdb", dir);
    unlink(dst); /* --force: the old store's lock file; LMDB makes a new one */
    for (size_t i = 0; i < NMEMBERS; i++) {
        snprintf(dst, sizeof dst, "%s/%s", dir, MEMBERS[i].name);
        if (!got[i]) {
            unlink(dst); /* --force: not in the backup, so not in the restored node */
            continue;
        }
        snprintf(src, sizeof src, "%s/%zu", stage, i);
        char *slash = strrchr(dst, '/');
        *slash = '\0';
        mkdir(dst, 0700);
        *slash = '/';
        if (chmod(src, MEMBERS[i].mode) || rename(src, dst)) {
            snprintf(err, errlen, "cannot place %s: %s", dst, strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* The checks before anything is read: the target and the member list. */
static int restore_target(const char *dir, bool force)
{
    if (!dir_empty(dir) && !force)
        return cli_error("restore", CLI_FAIL,
                         "%s is not empty: restore into an empty or new directory, or give "
                         "--force to replace the node there",
                         dir);
    if (status_node_running(dir))
        return cli_error("restore", CLI_FAIL,
                         "a node is running on %s: stop it before restoring over it", dir);
    if (mkdir(dir, 0700) && errno != EEXIST)
        return cli_error("restore", CLI_FAIL, "cannot create %s: %s", dir, strerror(errno));
    return CLI_OK;
}

static int restore_run(backup_reader *r, const char *dir, char *err, size_t errlen)
{
    char stage[NODE_PATH_MAX + 16];
    bool got[NMEMBERS] = {false};
    snprintf(stage, sizeof stage, "%s/.restore", dir);
    mkdir(stage, 0700);
    int rc = restore_stage(r, stage, got, err, errlen);
    for (size_t i = 0; !rc && i < NMEMBERS; i++)
        if (MEMBERS[i].required && !got[i]) {
            snprintf(err, errlen, "the backup lacks %s: nothing was restored", MEMBERS[i].name);
            rc = -1;
        }
    if (!rc)
        rc = restore_place(stage, dir, got, err, errlen);
    char path[NODE_PATH_MAX + 300];
    for (size_t i = 0; i <= NMEMBERS; i++) {
        if (i < NMEMBERS)
            snprintf(path, sizeof path, "%s/%zu", stage, i);
        else
            snprintf(path, sizeof path, "%s/member", stage);
        unlink(path);
    }
    rmdir(stage);
    return rc;
}

int cmd_restore(int argc, char **argv)
{
    const char *dir = NULL, *from = NULL, *pfile = NULL;
    bool force = false, bad;
    int code = parse_opts(argc, argv, "restore", restore_usage, &dir, &from, &pfile, &force);
    if (code >= 0)
        return code;
    char err[1024] = "", pass[PASS_MAX];
    const char *p = passphrase_of(pfile, pass, &bad, err, sizeof err);
    if (bad)
        return cli_error("restore", CLI_FAIL, "%s", err);
    FILE *f = fopen(from, "rb");
    if (!f)
        return cli_error("restore", CLI_FAIL, "cannot read %s: %s", from, strerror(errno));
    backup_reader *r = backup_reader_new(f, p, err, sizeof err);
    bool created = access(dir, F_OK) != 0;
    if (!r || (code = restore_target(dir, force))) {
        fclose(f);
        backup_reader_free(r);
        return r ? code : cli_error("restore", CLI_FAIL, "%s", err);
    }
    int rc = restore_run(r, dir, err, sizeof err);
    backup_reader_free(r);
    fclose(f);
    if (rc) {
        if (created)
            rmdir(dir); /* only when still empty: a new directory we made */
        return cli_error("restore", CLI_FAIL, "%s", err);
    }
    node_config c;
    store *s;
    if ((code = cli_load("restore", dir, &c)) || (code = cli_open_store("restore", &c, &s, true)))
        return code;
    char key[65];
    if (recovery_mark_restored(dir, hex_encode(c.pk, 32, key), from))
        fprintf(stderr,
                "lienthong restore: warning: cannot write %s/restored.json: do not "
                "start this node before lienthong rotate (it would not wait for its own "
                "entries and could sign conflicting ones)\n",
                dir);
    printf("restored unit %s (%llu entries) into %s. Start it (lienthong serve --dir %s): it "
           "gets back from its parent the entries it signed after the backup, and what its "
           "neighbours hold for it, and signs nothing (writes answer 503 node.catching_up) until "
           "it holds its own log again. If no parent or mirror can be reached, run lienthong "
           "rotate --dir %s\n",
           c.unit, (unsigned long long)store_entry_count(s), dir, dir, dir);
    store_close(s);
    return CLI_OK;
}
