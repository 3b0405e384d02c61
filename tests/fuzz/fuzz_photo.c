/*
 * fuzz_photo.c - libFuzzer target for the photo check of reports
 * (reports/photo_check.c): magic bytes, then a whole decode by libavcodec
 * under its pixel cap. A thin wrapper: the input is the photo. Any crash,
 * leak or undefined behaviour, or an accepted photo without a type, or
 * over PHOTO_PIXELS_MAX or PHOTO_SIDE_MAX, is a bug; run by
 * scripts/run-fuzz inside `make test`.
 */
#include "reports/reports_internal.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    photo_info p;
    lt_error e;
    if (photo_check(data, size, &p, &e) == 0 &&
        (!p.mime || (uint64_t)p.width * p.height > PHOTO_PIXELS_MAX || p.width > PHOTO_SIDE_MAX ||
         p.height > PHOTO_SIDE_MAX || !p.width || !p.height))
        abort();
    return 0;
}
