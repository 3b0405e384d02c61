/*
 * fuzz_session.c - libFuzzer target for the replication session past the
 * handshake. A real network fixture (tests/node_fixture.h: province 40,
 * the trust root, and commune 16681 with three reports, each a real LMDB
 * store) gives both sides valid chains, so the two sessions authenticate
 * and open; the input, split into messages (2-byte big-endian lengths), is
 * then sent by the commune's session as its own plaintext (encrypted like
 * every message, repl_session_fuzz_send) together with what the commune
 * really sends, and the province's session handles it: positions,
 * batches, markers, acks, pings. Whatever arrives, the province must close
 * cleanly or go on, never crash, leak or apply an entry that does not
 * verify (the store checks every one).
 *
 * With LT_FUZZ_WRITE_SEEDS=DIR set, the first run writes the plaintext
 * messages of a real sync into DIR as seeds (how tests/fuzz/corpus/session
 * was made).
 */
#include "replication/session.h"
#include "tests/node_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fx_node prov, com;
static FILE *seeds; /* LT_FUZZ_WRITE_SEEDS: every message of the first sync */
static unsigned nseeds;

static void seed_tap(const uint8_t *msg, size_t len)
{
    char path[4096];
    const char *dir = getenv("LT_FUZZ_WRITE_SEEDS");
    uint8_t hdr[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    if (len > 0xffff)
        return;
    snprintf(path, sizeof path, "%s/msg-%03u", dir, nseeds++);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(hdr, 1, 2, f);
        fwrite(msg, 1, len, f);
        fclose(f);
    }
    fwrite(hdr, 1, 2, seeds);
    fwrite(msg, 1, len, seeds);
}

static void fixture(void)
{
    char base[] = "/tmp/lt-fuzz-session-XXXXXX";
    if (!mkdtemp(base))
        abort();
    fx_node_make(&prov, base, "40", "province", NULL);
    fx_node_make(&com, base, "16681", "commune", &prov);
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "FZ-%d", i);
        fx_write(&com, "reports", id, "Ổ gà", NULL);
    }
    const char *dir = getenv("LT_FUZZ_WRITE_SEEDS");
    if (dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/sync-all", dir);
        seeds = fopen(path, "wb");
        repl_session_fuzz_tap = seeds ? seed_tap : NULL;
    }
}

/* Moves every queued message of from to to (to NULL: drops them). */
static int pass(repl_session *from, repl_session *to, uint64_t now)
{
    const uint8_t *m;
    size_t len;
    int moved = 0;
    while (repl_session_next_out(from, &m, &len)) {
        if (to && repl_session_state(to) != REPL_CLOSED)
            repl_session_recv(to, m, len, now);
        moved++;
    }
    return moved;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        fixture();
        ready = true;
    }
    uint64_t now = hlc_wall_ms();
    repl_session *a = fx_session(&prov, false, false, now); /* under test */
    repl_session *b = fx_session(&com, true, false, now);   /* the honest peer */
    for (int i = 0; i < 16 && (repl_session_state(a) == REPL_HANDSHAKE ||
                               repl_session_state(b) == REPL_HANDSHAKE);
         i++)
        if (!pass(b, a, now) && !pass(a, b, now))
            break;
    if (repl_session_state(a) != REPL_OPEN || repl_session_state(b) != REPL_OPEN)
        abort(); /* the fixture must open: else nothing below is fuzzed */
    if (seeds) { /* record one real sync, then stop recording */
        while (pass(b, a, now) + pass(a, b, now)) {
        }
        fclose(seeds);
        seeds = NULL;
        repl_session_fuzz_tap = NULL;
    }
    size_t off = 0;
    while (off + 2 <= size && repl_session_state(a) != REPL_CLOSED) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];
        off += 2;
        if (len > size - off)
            len = size - off;
        repl_session_fuzz_send(b, data + off, len);
        off += len;
        pass(b, a, now++);
        pass(a, NULL, now);
    }
    repl_session_tick(a, now + 60000);
    repl_session_free(a);
    repl_session_free(b);
    return 0;
}
