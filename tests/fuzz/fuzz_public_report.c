/*
 * fuzz_public_report.c - libFuzzer target for the public report
 * submission (POST /api/v1/public/reports): the input is the JSON body,
 * checked as the handler checks it (public_report_fields) and, when it
 * passes, created as a citizen's report (reports_create: field checks,
 * category, area unit, base64 photos and their check) in the store of a
 * real commune node of the test fixture. Any crash, leak or undefined
 * behaviour is a bug; an answer must be a JSON error when nothing was made.
 */
#include "reports/public_api.h"
#include "reports/reports.h"
#include "tests/node_fixture.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fx_node prov, com;
static reports *r;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const reports_actor citizen = {.citizen = true};
    if (!r) {
        char base[] = "/tmp/lt-fuzz-public-XXXXXX";
        if (!mkdtemp(base))
            abort();
        fx_node_make(&prov, base, "40", "province", NULL);
        fx_node_make(&com, base, "16681", "commune", &prov);
        if (!(r = reports_new(com.s, &com.c)))
            abort();
    }
    http_response res;
    memset(&res, 0, sizeof res);
    const char *channel = NULL;
    json_t *fields = public_report_fields(data, size, &channel, &res);
    if (!fields && (res.status != 400 || !res.body))
        abort(); /* a refusal is always a 400 with a JSON error */
    if (fields) {
        char code[REPORT_CODE_MAX], token[REPORT_TOKEN_MAX];
        lt_error e;
        if (reports_create(r, fields, channel, &citizen, code, token, &e) &&
            (lt_errkind_status(e.kind) < 400 || lt_errkind_status(e.kind) > 599 || !e.message[0] ||
             !lt_error_code(&e)[0]))
            abort(); /* a failure says what was wrong, with a machine code */
        json_decref(fields);
    }
    free(res.body);
    return 0;
}
