/*
 * backup_file.c - the backup file format. See backup_file.h.
 */
#include "cli/backup_file.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "LTBACKUP"
#define VERSION 1
#define FLAG_ENCRYPTED 1
#define SS_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES

struct backup_writer {
    FILE *f;
    bool enc;
    crypto_secretstream_xchacha20poly1305_state ss;
    crypto_generichash_state hash;
    uint8_t buf[BACKUP_CHUNK];
    size_t n;
    bool failed;
};

struct backup_reader {
    FILE *f;
    bool enc;
    crypto_secretstream_xchacha20poly1305_state ss;
    crypto_generichash_state hash;
    uint8_t buf[BACKUP_CHUNK];
    size_t n, off;
    uint64_t chunks;
    bool final;
};

static void le_put(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t le_get(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* The key of passphrase and salt with Argon2id. 0, or -1 (out of memory). */
static int derive_key(uint8_t key[crypto_secretstream_xchacha20poly1305_KEYBYTES],
                      const char *passphrase, const uint8_t *salt, uint64_t ops, uint64_t mem)
{
    return crypto_pwhash(key, crypto_secretstream_xchacha20poly1305_KEYBYTES, passphrase,
                         strlen(passphrase), salt, ops, (size_t)mem, crypto_pwhash_ALG_ARGON2ID13);
}

/* ---- writing ------------------------------------------------------------- */

static void flush(backup_writer *w, bool final)
{
    if (w->failed)
        return;
    if (!w->enc) {
        crypto_generichash_update(&w->hash, w->buf, w->n);
        w->failed = fwrite(w->buf, 1, w->n, w->f) != w->n;
        w->n = 0;
        return;
    }
    uint8_t *ct = malloc(w->n + SS_ABYTES), len[4];
    unsigned long long clen = 0;
    w->failed = !ct || crypto_secretstream_xchacha20poly1305_push(
                           &w->ss, ct, &clen, w->buf, w->n, NULL, 0,
                           final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
    le_put(len, clen, 4);
    w->failed = w->failed || fwrite(len, 1, 4, w->f) != 4 || fwrite(ct, 1, clen, w->f) != clen;
    free(ct);
    w->n = 0;
}

static void put(backup_writer *w, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len && !w->failed) {
        size_t k = BACKUP_CHUNK - w->n < len ? BACKUP_CHUNK - w->n : len;
        memcpy(w->buf + w->n, p, k);
        w->n += k;
        p += k;
        len -= k;
        if (w->n == BACKUP_CHUNK)
            flush(w, false);
    }
}

backup_writer *backup_writer_new(FILE *f, const char *passphrase, char *err, size_t errlen)
{
    backup_writer *w = sodium_init() < 0 ? NULL : calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->f = f;
    w->enc = passphrase != NULL;
    uint8_t head[10] = MAGIC;
    head[8] = VERSION;
    head[9] = w->enc ? FLAG_ENCRYPTED : 0;
    bool ok = fwrite(head, 1, sizeof head, f) == sizeof head;
    if (!w->enc)
        crypto_generichash_init(&w->hash, NULL, 0, 32);
    else if (ok) {
        uint8_t salt[crypto_pwhash_SALTBYTES], lim[16],
            key[crypto_secretstream_xchacha20poly1305_KEYBYTES],
            hdr[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
        uint64_t ops = crypto_pwhash_OPSLIMIT_INTERACTIVE, mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
        randombytes_buf(salt, sizeof salt);
        le_put(lim, ops, 8);
        le_put(lim + 8, mem, 8);
        ok = derive_key(key, passphrase, salt, ops, mem) == 0 &&
             crypto_secretstream_xchacha20poly1305_init_push(&w->ss, hdr, key) == 0 &&
             fwrite(salt, 1, sizeof salt, f) == sizeof salt &&
             fwrite(lim, 1, sizeof lim, f) == sizeof lim &&
             fwrite(hdr, 1, sizeof hdr, f) == sizeof hdr;
        sodium_memzero(key, sizeof key);
    }
    if (!ok) {
        snprintf(err, errlen, "cannot write the backup: %s", strerror(errno ? errno : EIO));
        free(w);
        return NULL;
    }
    return w;
}

int backup_add_file(backup_writer *w, const char *name, const char *path, char *err, size_t errlen)
{
    FILE *in = fopen(path, "rb");
    if (!in) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    fseeko(in, 0, SEEK_END);
    uint64_t size = (uint64_t)ftello(in);
    rewind(in);
    size_t nl = strlen(name);
    uint8_t head[1 + 2 + BACKUP_NAME_MAX + 8];
    head[0] = 'F';
    le_put(head + 1, nl, 2);
    memcpy(head + 3, name, nl);
    le_put(head + 3 + nl, size, 8);
    put(w, head, 3 + nl + 8);
    uint8_t buf[BACKUP_CHUNK];
    uint64_t left = size;
    while (left && !w->failed) {
        size_t k = fread(buf, 1, left < sizeof buf ? (size_t)left : sizeof buf, in);
        if (!k)
            break;
        put(w, buf, k);
        left -= k;
    }
    fclose(in);
    if (left || w->failed) {
        snprintf(err, errlen, "cannot copy %s into the backup: %s", path,
                 left ? "the file shrank while it was read" : strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}

int backup_writer_finish(backup_writer *w, char *err, size_t errlen)
{
    put(w, "E", 1);
    flush(w, true);
    if (!w->enc && !w->failed) {
        uint8_t sum[32];
        crypto_generichash_final(&w->hash, sum, sizeof sum);
        w->failed = fwrite(sum, 1, sizeof sum, w->f) != sizeof sum;
    }
    bool failed = w->failed || fflush(w->f) != 0;
    sodium_memzero(w, sizeof *w);
    free(w);
    if (failed)
        snprintf(err, errlen, "cannot write the backup: %s", strerror(errno ? errno : EIO));
    return failed ? -1 : 0;
}

/* ---- reading ------------------------------------------------------------- */

static const char DAMAGED[] = "the backup file is damaged or incomplete (%s): nothing was "
                              "restored; use another copy of the backup";

/* The next chunk of an encrypted file into r->buf. 0, or -1 with err. */
static int refill(backup_reader *r, char *err, size_t errlen)
{
    uint8_t len[4], *ct;
    unsigned long long n;
    unsigned char tag;
    if (r->final || fread(len, 1, 4, r->f) != 4) {
        snprintf(err, errlen, DAMAGED, "it ends before its end mark");
        return -1;
    }
    size_t clen = (size_t)le_get(len, 4);
    ct = clen >= SS_ABYTES && clen <= BACKUP_CHUNK + SS_ABYTES ? malloc(clen) : NULL;
    bool ok = ct && fread(ct, 1, clen, r->f) == clen &&
              crypto_secretstream_xchacha20poly1305_pull(&r->ss, r->buf, &n, &tag, ct, clen, NULL,
                                                         0) == 0;
    free(ct);
    if (!ok) {
        if (r->chunks == 0)
            snprintf(err, errlen,
                     "cannot decrypt the backup: wrong passphrase, or the file is damaged; "
                     "nothing was restored. Give the passphrase file used for the backup");
        else
            snprintf(err, errlen, DAMAGED, "a chunk does not decrypt");
        return -1;
    }
    r->chunks++;
    r->n = (size_t)n;
    r->off = 0;
    r->final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
    return 0;
}

/* Exactly len bytes of the stream into out. 0, or -1 with err. */
static int get(backup_reader *r, void *out, size_t len, char *err, size_t errlen)
{
    uint8_t *p = out;
    if (!r->enc) {
        if (fread(p, 1, len, r->f) != len) {
            snprintf(err, errlen, DAMAGED, "it ends too early");
            return -1;
        }
        crypto_generichash_update(&r->hash, p, len);
        return 0;
    }
    while (len) {
        if (r->off == r->n && refill(r, err, errlen))
            return -1;
        size_t k = r->n - r->off < len ? r->n - r->off : len;
        memcpy(p, r->buf + r->off, k);
        r->off += k;
        p += k;
        len -= k;
    }
    return 0;
}

backup_reader *backup_reader_new(FILE *f, const char *passphrase, char *err, size_t errlen)
{
    uint8_t head[10];
    backup_reader *r = sodium_init() < 0 ? NULL : calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->f = f;
    if (fread(head, 1, sizeof head, f) != sizeof head || memcmp(head, MAGIC, 8)) {
        snprintf(err, errlen, "this is not a lienthong backup file (made by lienthong backup)");
    } else if (head[8] != VERSION) {
        snprintf(err, errlen,
                 "this backup has format version %u; this lienthong reads version %u: restore "
                 "it with the lienthong version that made it",
                 head[8], VERSION);
    } else if (!(head[9] & FLAG_ENCRYPTED)) {
        crypto_generichash_init(&r->hash, NULL, 0, 32);
        return r;
    } else if (!passphrase) {
        snprintf(err, errlen,
                 "this backup is encrypted: give its passphrase with "
                 "--passphrase-file FILE");
    } else {
        uint8_t salt[crypto_pwhash_SALTBYTES], lim[16],
            key[crypto_secretstream_xchacha20poly1305_KEYBYTES],
            hdr[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
        r->enc = true;
        bool ok = fread(salt, 1, sizeof salt, f) == sizeof salt &&
                  fread(lim, 1, sizeof lim, f) == sizeof lim &&
                  fread(hdr, 1, sizeof hdr, f) == sizeof hdr;
        uint64_t ops = le_get(lim, 8), mem = le_get(lim + 8, 8);
        if (!ok || ops < 1 || ops > 32 || mem < 8192 || mem > ((uint64_t)4 << 30))
            snprintf(err, errlen, DAMAGED, "its header is cut or wrong");
        else if (derive_key(key, passphrase, salt, ops, mem) ||
                 crypto_secretstream_xchacha20poly1305_init_pull(&r->ss, hdr, key))
            snprintf(err, errlen, "cannot derive the key (out of memory?): nothing was restored");
        else {
            sodium_memzero(key, sizeof key);
            return r;
        }
    }
    free(r);
    return NULL;
}

/* Checks the end: the checksum (plain) or the final chunk (encrypted),
 * and that nothing follows. 0, or -1 with err. */
static int check_end(backup_reader *r, char *err, size_t errlen)
{
    if (!r->enc) {
        uint8_t want[32], sum[32];
        crypto_generichash_final(&r->hash, want, sizeof want);
        if (fread(sum, 1, sizeof sum, r->f) != sizeof sum || sodium_memcmp(want, sum, 32)) {
            snprintf(err, errlen, DAMAGED, "its checksum does not match");
            return -1;
        }
    } else if (!r->final || r->off != r->n) {
        snprintf(err, errlen, DAMAGED, "its last chunk is missing");
        return -1;
    }
    if (fgetc(r->f) != EOF) {
        snprintf(err, errlen, DAMAGED, "bytes follow its end");
        return -1;
    }
    return 0;
}

int backup_next(backup_reader *r, char *name, uint64_t *size, FILE *out, char *err, size_t errlen)
{
    uint8_t kind, b[8];
    if (get(r, &kind, 1, err, errlen))
        return -1;
    if (kind == 'E')
        return check_end(r, err, errlen) ? -1 : 0;
    if (kind != 'F' || get(r, b, 2, err, errlen)) {
        if (kind != 'F')
            snprintf(err, errlen, DAMAGED, "an unknown member kind");
        return -1;
    }
    size_t nl = (size_t)le_get(b, 2);
    if (!nl || nl > BACKUP_NAME_MAX || get(r, name, nl, err, errlen) || get(r, b, 8, err, errlen)) {
        if (!nl || nl > BACKUP_NAME_MAX)
            snprintf(err, errlen, DAMAGED, "a member name is empty or too long");
        return -1;
    }
    name[nl] = '\0';
    *size = le_get(b, 8);
    uint8_t buf[BACKUP_CHUNK];
    for (uint64_t left = *size; left;) {
        size_t k = left < sizeof buf ? (size_t)left : sizeof buf;
        if (get(r, buf, k, err, errlen))
            return -1;
        if (fwrite(buf, 1, k, out) != k) {
            snprintf(err, errlen, "cannot write %s: %s", name, strerror(errno));
            return -1;
        }
        left -= k;
    }
    return 1;
}

void backup_reader_free(backup_reader *r)
{
    if (r)
        sodium_memzero(r, sizeof *r);
    free(r);
}

int backup_passphrase_read(const char *path, char *buf, size_t cap, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read the passphrase file %s: %s", path, strerror(errno));
        return -1;
    }
    bool got = fgets(buf, (int)cap, f) != NULL;
    fclose(f);
    buf[got ? strcspn(buf, "\r\n") : 0] = '\0';
    if (strlen(buf) < 8) {
        snprintf(err, errlen,
                 "the passphrase in %s is shorter than 8 characters: put a long passphrase on "
                 "its first line",
                 path);
        return -1;
    }
    return 0;
}
