/*
 * fuzz_session.c - libFuzzer target for the replication session's message
 * handling: the input is split into messages (2-byte big-endian lengths)
 * fed to a fresh session that has not authenticated its peer. Whatever
 * arrives, the session must close cleanly or wait, never crash, leak or
 * apply anything.
 */
#include "replication/session.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *fz_unit(void *ctx)
{
    (void)ctx;
    return "412";
}

static int fz_chain(void *ctx, const store_input **certs, size_t *n)
{
    (void)ctx;
    *certs = NULL;
    *n = 0;
    return 0;
}

static const unit_tree *fz_tree(void *ctx)
{
    return ctx;
}

static int fz_positions(void *ctx, uint64_t *since,
                        int (*fn)(void *, const uint8_t *, uint64_t, const char *), void *fctx)
{
    (void)ctx, (void)since, (void)fn, (void)fctx;
    return 0;
}

static int fz_scan(void *ctx, const uint8_t *origin, uint64_t after, uint64_t upto,
                   int (*fn)(void *, uint64_t, const uint8_t *, size_t), void *fctx)
{
    (void)ctx, (void)origin, (void)after, (void)upto, (void)fn, (void)fctx;
    return 0;
}

static int fz_apply(void *ctx, const store_input *in, size_t n, const store_mark *marks,
                    size_t nmarks, apply_result *results)
{
    (void)ctx, (void)in, (void)n, (void)marks, (void)nmarks, (void)results;
    abort(); /* nothing may be applied before authentication */
}

static const repl_store_ops fz_ops = {fz_unit, fz_chain, fz_tree, fz_positions, fz_scan,
                                      fz_apply, NULL, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t pk[32], sk[64], root[32], root_sk[64];
    static unit_tree *tree;
    if (!tree) {
        if (sodium_init() < 0)
            abort();
        crypto_sign_keypair(root, root_sk); /* a root no fuzzed chain leads to */
        crypto_sign_keypair(pk, sk);
        tree = unit_tree_new();
        unit_tree_set(tree, "40", 2, NULL, 0);
        unit_tree_set(tree, "412", 3, "40", 2);
    }
    repl_config cfg = {.pk = pk, .sk = sk, .root_key = root, .max_frame = 4096};
    repl_session *s = repl_session_new(&cfg, &fz_ops, tree, 1000);
    size_t off = 0;
    uint64_t now = 1000;
    while (off + 2 <= size && repl_session_state(s) != REPL_CLOSED) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];
        off += 2;
        if (len > size - off)
            len = size - off;
        repl_session_recv(s, data + off, len, now++);
        off += len;
        const uint8_t *m;
        size_t mlen;
        while (repl_session_next_out(s, &m, &mlen)) {
        }
    }
    repl_session_tick(s, now + 60000);
    repl_session_free(s);
    return 0;
}
