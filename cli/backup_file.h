/*
 * backup_file.h - the file `lienthong backup` writes and `restore` reads.
 *
 * Layout: "LTBACKUP", a version byte (1) and a flags byte (1: encrypted).
 * Then a stream of members: 'F', name length (u16 LE), name, size (u64 LE),
 * the bytes; and an end mark 'E'.
 *   - Plain: the stream as it is, then the BLAKE2b-256 of the stream, so a
 *     damaged or cut file is found before anything is restored.
 *   - Encrypted: salt (crypto_pwhash_SALTBYTES), opslimit and memlimit (u64
 *     LE) of Argon2id, the crypto_secretstream_xchacha20poly1305 header,
 *     then the stream in chunks of at most BACKUP_CHUNK bytes, each as its
 *     ciphertext length (u32 LE) and ciphertext; the last chunk carries
 *     TAG_FINAL. A wrong passphrase fails on the first chunk; a damaged,
 *     reordered or cut file fails on its chunk or at the missing end.
 */
#ifndef LT_BACKUP_FILE_H
#define LT_BACKUP_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BACKUP_CHUNK ((size_t)64 * 1024)
#define BACKUP_NAME_MAX 255

typedef struct backup_writer backup_writer;
typedef struct backup_reader backup_reader;

/* Starts a backup into f (which stays the caller's); passphrase NULL for a
 * plain file. NULL with err when out of memory or f cannot be written. */
backup_writer *backup_writer_new(FILE *f, const char *passphrase, char *err, size_t errlen);

/* Adds the member name with the whole content of the file at path.
 * Returns 0, or -1 with err. */
int backup_add_file(backup_writer *w, const char *name, const char *path, char *err, size_t errlen);

/* Writes the end (and checksum or final chunk) and frees w. Returns 0, or
 * -1 with err. w is freed either way. */
int backup_writer_finish(backup_writer *w, char *err, size_t errlen);

/* Opens the backup in f (the caller's). passphrase may be NULL; an
 * encrypted file then fails with a message saying one is needed. */
backup_reader *backup_reader_new(FILE *f, const char *passphrase, char *err, size_t errlen);

/* The next member: its name (into name, BACKUP_NAME_MAX + 1 bytes) and
 * size, its content written to out. Returns 1 for a member, 0 at the end
 * (after the checksum or the final chunk was checked), -1 with err. */
int backup_next(backup_reader *r, char *name, uint64_t *size, FILE *out, char *err, size_t errlen);

/* Frees r. NULL is ignored. */
void backup_reader_free(backup_reader *r);

/* Reads a passphrase from the first line of the file at path (its
 * newline cut) into buf of cap bytes. Returns 0, or -1 with err. */
int backup_passphrase_read(const char *path, char *buf, size_t cap, char *err, size_t errlen);

#endif
