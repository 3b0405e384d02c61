/*
 * fuzz_probe.c - libFuzzer target for the snapshot path: the input is
 * written to a file that probe_run (media/probe.c) opens as a file://
 * camera with a 2 s bound, reading to a keyframe, decoding and encoding a
 * 160 px JPEG. It must never crash, hang or leak whatever the bytes.
 */
#include "media/probe.h"

#include <libavutil/log.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0]) {
        av_log_set_level(AV_LOG_QUIET);
        snprintf(path, sizeof path, "/tmp/fuzz-probe-%d.bin", (int)getpid());
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    char url[96];
    snprintf(url, sizeof url, "file://%s", path);
    probe_opts o = {2000, 2000, true, 160, 0, NULL};
    probe_result r;
    probe_run(url, &o, &r);
    free(r.jpeg);
    return 0;
}
