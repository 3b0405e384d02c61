/*
 * fuzz_photo.c - libFuzzer target for the photo check of uploaded reports
 * (photo_check: JPEG, PNG and WebP recognised by content, their sizes read
 * from the headers). A thin wrapper: the input is the photo. Any crash,
 * leak or undefined behaviour is a bug; a photo it accepts must have a
 * type and both dimensions.
 */
#include "reports/reports_internal.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    photo_info p;
    char err[256];
    if (photo_check(data, size, &p, err, sizeof err) == 0 && (!p.mime || !p.width || !p.height))
        abort();
    return 0;
}
