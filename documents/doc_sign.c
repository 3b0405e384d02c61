/*
 * doc_sign.c - official signatures: signer keys (Argon2id + secretbox,
 * node-local), the node's certificate of a signer (a replicated record),
 * signing a document and verifying it anywhere (documents.h).
 */
#include "documents/doc_internal.h"
#include "lib/hex.h"
#include "lib/pwgate.h"
#include "node/people/accounts.h"
#include "storage/record.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define KEYS_TABLE "doc_signer_keys"
#define SIG_CONTEXT "lienthong-document-signature-v1"
#define HASH_BYTES 32

/* ---- the content hash ---- */

/* The fields a signature covers: everything an official signs for. */
static const char *const signed_fields[] = {
    "id",     "type",  "number",  "notation", "subject",         "body",       "unit",
    "date",   "place", "due",     "urgency",  "security",        "recipients", "answers",
    "signer", "files", "updates", "replaces", "recipient_groups"};

int doc_content_hash(documents *d, const json_t *doc, uint8_t out[32], lt_error *e)
{
    json_t *c = json_object();
    for (size_t i = 0; i < sizeof signed_fields / sizeof *signed_fields; i++) {
        json_t *v = json_object_get(doc, signed_fields[i]);
        if (v)
            json_object_set(c, signed_fields[i], v);
    }
    char *text = json_dumps(c, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(c);
    if (!text)
        return lt_error_set(e, LT_EINTERNAL, NULL, "out of memory hashing a document");
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, HASH_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)text, strlen(text));
    free(text);
    doc_files_hash(d, doc, &st);
    crypto_generichash_final(&st, out, HASH_BYTES);
    return 0;
}

/* The message an official's key signs: context, content hash, certificate
 * and time, so none of them can be swapped. */
static size_t sig_message(char *out, size_t cap, const char *hash_hex, const char *cert,
                          uint64_t at)
{
    int n = snprintf(out, cap, SIG_CONTEXT "\n%s\n%s\n%" PRIu64, hash_hex, cert, at);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/* ---- signer keys ---- */

/* The key derived from pw and salt (Argon2id, interactive limits). */
static int key_derive(uint8_t key[crypto_secretbox_KEYBYTES], const char *pw, size_t pwlen,
                      const uint8_t salt[crypto_pwhash_SALTBYTES], lt_error *e)
{
    pwgate_enter();
    int rc = crypto_pwhash(key, crypto_secretbox_KEYBYTES, pw, pwlen, salt,
                           crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                           crypto_pwhash_ALG_ARGON2ID13);
    pwgate_leave();
    if (rc)
        return lt_error_set(e, LT_EUNAVAILABLE, NULL,
                            "out of memory deriving the signer's key (Argon2id needs 64 MiB); "
                            "retry later");
    return 0;
}

int documents_signer_add(documents *d, const char *user, const char *position, const char *pw,
                         size_t pwlen, char cert_id[DOC_CERT_ID_MAX], lt_error *e)
{
    account a;
    if (account_get(d->s, user, &a))
        return lt_error_set(e, LT_ENOTFOUND, "document.signer_unknown",
                            "no account %s on this node: add it first (lienthong user add)", user);
    if (!position || !*position || strlen(position) > 200)
        return lt_error_set(e, LT_EINVAL, "document.field",
                            "give the signer's position (--position \"Chủ tịch UBND xã\"), at "
                            "most 200 bytes");
    if (pwlen < ACCOUNT_PASSWORD_MIN)
        return lt_error_set(e, LT_EINVAL, "document.field",
                            "the signer's password needs at least %d characters",
                            ACCOUNT_PASSWORD_MIN);
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    uint8_t salt[crypto_pwhash_SALTBYTES], nonce[crypto_secretbox_NONCEBYTES];
    uint8_t key[crypto_secretbox_KEYBYTES], box[crypto_secretbox_MACBYTES + sizeof sk];
    crypto_sign_keypair(pk, sk);
    randombytes_buf(salt, sizeof salt);
    randombytes_buf(nonce, sizeof nonce);
    if (key_derive(key, pw, pwlen, salt, e)) {
        sodium_memzero(sk, sizeof sk);
        return -1;
    }
    crypto_secretbox_easy(box, sk, sizeof sk, nonce, key);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(key, sizeof key);
    char pkh[2 * sizeof pk + 1], salth[2 * sizeof salt + 1], nonceh[2 * sizeof nonce + 1];
    char boxh[2 * sizeof box + 1];
    hex_encode(pk, sizeof pk, pkh);
    hex_encode(salt, sizeof salt, salth);
    hex_encode(nonce, sizeof nonce, nonceh);
    hex_encode(box, sizeof box, boxh);
    snprintf(cert_id, DOC_CERT_ID_MAX, "%s/%s/%.16s", a.unit, user, pkh);
    json_t *local = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "cert", cert_id, "pk", pkh, "salt",
                              salth, "nonce", nonceh, "box", boxh, "position", position);
    char *text = json_dumps(local, JSON_COMPACT);
    json_decref(local);
    json_t *cert =
        json_pack("{s:s, s:s, s:s, s:s, s:I}", "user", user, "unit", a.unit, "position", position,
                  "pk", pkh, "certified_at", (json_int_t)d->now_ms(d->now_ctx));
    const char *to[] = {"*"};
    int rc = doc_write(d, DOC_SIGNER_COLL, cert_id, ENTRY_OP_PUT, cert, to, 1, e);
    json_decref(cert);
    if (!rc && store_local_put(d->s, KEYS_TABLE, user, strlen(user), text, strlen(text), e->message,
                               sizeof e->message))
        rc = lt_error_mark(e, LT_ESTORAGE, NULL);
    free(text);
    return rc;
}

/* The node-local key record of user (new reference), or NULL. */
static json_t *key_local(documents *d, const char *user)
{
    uint8_t *v;
    size_t len;
    if (store_local_get(d->s, KEYS_TABLE, user, strlen(user), &v, &len))
        return NULL;
    json_t *j = json_loadb((const char *)v, len, 0, NULL);
    free(v);
    return j;
}

static bool hex_field(const json_t *j, const char *key, uint8_t *out, size_t n)
{
    const char *h = doc_str(j, key);
    return h && strlen(h) == 2 * n && !hex_decode(h, out, n);
}

/* Opens the secret key of the key record k with pw. */
static int key_unlock(const json_t *k, const char *pw, size_t pwlen,
                      uint8_t sk[crypto_sign_SECRETKEYBYTES], lt_error *e)
{
    uint8_t salt[crypto_pwhash_SALTBYTES], nonce[crypto_secretbox_NONCEBYTES];
    uint8_t box[crypto_secretbox_MACBYTES + crypto_sign_SECRETKEYBYTES];
    uint8_t key[crypto_secretbox_KEYBYTES];
    if (!hex_field(k, "salt", salt, sizeof salt) || !hex_field(k, "nonce", nonce, sizeof nonce) ||
        !hex_field(k, "box", box, sizeof box))
        return lt_error_set(e, LT_EINTERNAL, NULL,
                            "the stored signing key is damaged: make a new one with lienthong "
                            "signer add");
    if (key_derive(key, pw, pwlen, salt, e))
        return -1;
    int bad = crypto_secretbox_open_easy(sk, box, sizeof box, nonce, key);
    sodium_memzero(key, sizeof key);
    if (bad)
        return lt_error_set(e, LT_EFORBIDDEN, "document.signer_password",
                            "the signing password is wrong: nothing was signed");
    return 0;
}

int documents_sign(documents *d, const char *id, const char *user, const char *pw, size_t pwlen,
                   lt_error *e)
{
    json_t *k = key_local(d, user);
    if (!k)
        return lt_error_set(e, LT_EFORBIDDEN, "document.signer_unknown",
                            "%s has no signing key on this node: an admin creates one with "
                            "lienthong signer add --user %s --position ...",
                            user, user);
    int why, rc = 0;
    json_t *doc = doc_load(d, id, &why);
    const char *cert = doc_str(k, "cert"), *position = doc_str(k, "position");
    char unit[NODE_CODE_MAX] = "";
    if (cert)
        snprintf(unit, sizeof unit, "%.*s", (int)strcspn(cert, "/"), cert);
    if (!doc)
        rc = why < 0 ? lt_error_set(e, LT_ESTORAGE, NULL, "cannot read document %s", id)
                     : (doc_not_found(id, e), -1);
    else if (strcmp(doc_str(doc, "unit"), unit))
        rc = lt_error_set(e, LT_EFORBIDDEN, "document.forbidden",
                          "%s signs for unit %s; document %s is of unit %s", user, unit, id,
                          doc_str(doc, "unit"));
    else if (json_object_get(doc, "signature"))
        rc = lt_error_set(e, LT_ECONFLICT, "document.signed", "document %s is already signed", id);
    else if (!strcmp(doc_str(doc, "status"), "recalled"))
        rc = lt_error_set(e, LT_ECONFLICT, "document.recalled", "document %s was recalled", id);
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    if (!rc)
        rc = key_unlock(k, pw, pwlen, sk, e);
    if (!rc) {
        json_object_set_new(doc, "signer",
                            json_pack("{s:s, s:s}", "name", user, "position", position));
        uint8_t hash[HASH_BYTES], sig[crypto_sign_BYTES];
        char hh[2 * HASH_BYTES + 1], sh[2 * crypto_sign_BYTES + 1], msg[512];
        uint64_t at = d->now_ms(d->now_ctx);
        rc = doc_content_hash(d, doc, hash, e);
        hex_encode(hash, sizeof hash, hh);
        size_t mlen = sig_message(msg, sizeof msg, hh, cert, at);
        crypto_sign_detached(sig, NULL, (const uint8_t *)msg, mlen, sk);
        hex_encode(sig, sizeof sig, sh);
        json_t *p = json_pack("{s:O, s:{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s}}", "signer",
                              json_object_get(doc, "signer"), "signature", "cert", cert, "user",
                              user, "position", position, "unit", unit, "pk", doc_str(k, "pk"),
                              "at", (json_int_t)at, "hash", hh, "sig", sh);
        const char *to[DOC_ADDRESS_MAX + 1];
        size_t n = doc_to(doc, to);
        if (!rc)
            rc = doc_write(d, DOC_COLL, id, ENTRY_OP_PATCH, p, to, n, e);
        json_decref(p);
    }
    sodium_memzero(sk, sizeof sk);
    json_decref(doc);
    json_decref(k);
    return rc;
}

/* ---- verification ---- */

static void problem(json_t *out, const char *text)
{
    json_array_append_new(json_object_get(out, "problems"), json_string(text));
}

/* Checks the certificate record named by the signature: it exists, names
 * the signature's key and the document's unit, and was written by a node
 * of that unit or above it. */
static bool cert_check(documents *d, const json_t *sig, const char *doc_unit, const unit_tree *tree,
                       json_t *out)
{
    const char *cert = doc_str(sig, "cert");
    uint8_t *rec;
    size_t len;
    if (!cert || store_record_get(d->s, DOC_SIGNER_COLL, cert, &rec, &len)) {
        problem(out, "the signer's certificate is not held by this node");
        return false;
    }
    json_object_set_new(out, "certificate", json_string(cert));
    char owner[NODE_CODE_MAX] = "";
    uint8_t origin[ENTRY_KEY_BYTES];
    char oh[2 * ENTRY_KEY_BYTES + 1] = "";
    json_t *c =
        record_is_deleted(rec, len) ? NULL : record_to_json(rec, len, cert, strlen(cert), NULL, 0);
    if (!record_owner(rec, len, owner, sizeof owner) && !record_last_putter(rec, len, origin))
        hex_encode(origin, sizeof origin, oh);
    free(rec);
    bool ok = c != NULL;
    if (!ok)
        problem(out, "the signer's certificate was withdrawn");
    else if (!doc_str(c, "pk") || !doc_str(sig, "pk") ||
             strcmp(doc_str(c, "pk"), doc_str(sig, "pk")))
        ok = false, problem(out, "the signature's key is not the certified key");
    else if (!doc_str(c, "unit") || strcmp(doc_str(c, "unit"), doc_unit))
        ok = false, problem(out, "the signer is certified for another unit than the document's");
    else if (!unit_tree_within(tree, doc_unit, strlen(doc_unit), owner, strlen(owner)))
        ok = false, problem(out, "the certificate was written by a node outside the signer's unit "
                                 "and the units above it");
    else if (oh[0] && unit_tree_revoked(tree, origin))
        ok = false, problem(out, "the node that certified the signer was revoked");
    json_object_set_new(out, "certified_by", json_string(oh));
    json_decref(c);
    return ok;
}

/* True when the Ed25519 signature of sig matches its key over hash_hex. */
static bool sig_check(const json_t *sig, json_t *out)
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], s[crypto_sign_BYTES];
    char msg[512];
    const char *hash = doc_str(sig, "hash"), *cert = doc_str(sig, "cert");
    json_int_t at = json_integer_value(json_object_get(sig, "at"));
    size_t mlen = hash && cert ? sig_message(msg, sizeof msg, hash, cert, (uint64_t)at) : 0;
    if (!mlen || !hex_field(sig, "pk", pk, sizeof pk) || !hex_field(sig, "sig", s, sizeof s) ||
        crypto_sign_verify_detached(s, (const uint8_t *)msg, mlen, pk)) {
        problem(out, "the signature does not match the signer's key");
        return false;
    }
    return true;
}

json_t *documents_verify(documents *d, const char *id, const char *unit, const unit_tree *tree,
                         lt_error *e)
{
    int why;
    json_t *doc = doc_load(d, id, &why);
    if (!doc || !doc_visible(doc, unit, tree)) {
        json_decref(doc);
        if (why < 0)
            lt_error_set(e, LT_ESTORAGE, NULL, "cannot read document %s", id);
        return why < 0 ? NULL : doc_not_found(id, e);
    }
    const json_t *sig = json_object_get(doc, "signature");
    json_t *out = json_pack("{s:s, s:b, s:b, s:b, s:[]}", "id", id, "signed", sig != NULL, "valid",
                            false, "changed", false, "problems");
    if (!json_is_object(sig)) {
        problem(out, "the document is not signed");
        json_decref(doc);
        return out;
    }
    json_object_set_new(out, "signer",
                        json_pack("{s:s?, s:s?, s:s?}", "user", doc_str(sig, "user"), "position",
                                  doc_str(sig, "position"), "unit", doc_str(sig, "unit")));
    json_object_set(out, "at", json_object_get(sig, "at"));
    bool ok = cert_check(d, sig, doc_str(doc, "unit"), tree, out);
    ok = sig_check(sig, out) && ok;
    uint8_t hash[HASH_BYTES];
    char hh[2 * HASH_BYTES + 1];
    if (doc_content_hash(d, doc, hash, e)) {
        json_decref(doc);
        json_decref(out);
        return NULL;
    }
    hex_encode(hash, sizeof hash, hh);
    bool changed = !doc_str(sig, "hash") || strcmp(hh, doc_str(sig, "hash"));
    if (changed)
        problem(out, "the content or an attachment changed since it was signed");
    json_object_set_new(out, "changed", json_boolean(changed));
    json_object_set_new(out, "valid", json_boolean(ok && !changed));
    json_decref(doc);
    return out;
}
