/*
 * fuzz_bundle.c - libFuzzer target for `lienthong bundle import`
 * (bundle_import: the file streamed twice, verified, then applied). A real
 * network fixture (tests/node_fixture.h: province 40, the trust root, with
 * three records for commune 16681; both real LMDB stores) exports one
 * valid bundle for the commune at start-up. The first input byte picks
 * what the commune imports:
 *   even: the rest of the input, as the bundle file;
 *   odd:  the valid bundle with the rest spliced in at the offset its first
 *         four bytes give (modulo the length), overwriting and extending,
 *         and cut right after the splice when bit 1 is set;
 * so that fuzzing reaches entries, markers, the end record, trailing data
 * and the apply pass rather than stopping at the header's chain. Whatever
 * the file holds, the import must succeed or fail with a message, never
 * crash, leak or apply what does not verify.
 */
#include "replication/bundle.h"
#include "tests/node_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fx_node prov, com;
static uint8_t *valid; /* the bundle the province exported for the commune */
static size_t valid_len;
static int fd = -1;
static char path[64];

static void fixture(void)
{
    char base[] = "/tmp/lt-fuzz-bundle-XXXXXX", out[4096], err[256];
    bundle_stats st;
    if (!mkdtemp(base))
        abort();
    fx_node_make(&prov, base, "40", "province", NULL);
    fx_node_make(&com, base, "16681", "commune", &prov);
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "FB-%d", i);
        fx_write(&prov, "reports", id, "Cây đổ", "16681");
    }
    snprintf(out, sizeof out, "%s/valid.bundle", base);
    if (bundle_export(&prov.rn, prov.c.sk, "16681", NULL, out, &st, err, sizeof err))
        abort();
    FILE *f = fopen(out, "rb");
    if (!f || fseek(f, 0, SEEK_END) || (valid_len = (size_t)ftell(f)) == 0 ||
        !(valid = malloc(valid_len)) || fseek(f, 0, SEEK_SET) ||
        fread(valid, 1, valid_len, f) != valid_len)
        abort();
    fclose(f);
    if ((fd = memfd_create("bundle", 0)) < 0)
        abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
}

/* Makes the file the fuzzed bundle of data (see the top). */
static void file_set(const uint8_t *data, size_t size)
{
    if (ftruncate(fd, 0))
        abort();
    if (!(data[0] & 1)) {
        if (size > 1 && pwrite(fd, data + 1, size - 1, 0) != (ssize_t)(size - 1))
            abort();
        return;
    }
    uint32_t at = 0;
    size_t head = size >= 5 ? 5 : size;
    for (size_t i = 1; i < head; i++)
        at = at << 8 | data[i];
    size_t off = at % (valid_len + 1), n = size - head;
    if (pwrite(fd, valid, valid_len, 0) != (ssize_t)valid_len ||
        (n && pwrite(fd, data + head, n, (off_t)off) != (ssize_t)n) ||
        ((data[0] & 2) && ftruncate(fd, (off_t)(off + n))))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!valid)
        fixture();
    if (size < 1)
        return 0;
    file_set(data, size);
    bundle_stats st;
    char err[512];
    bundle_import(&com.rn, com.c.root_key, path, &st, err, sizeof err);
    return 0;
}
