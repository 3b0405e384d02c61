/*
 * fuzz_open311.c - libFuzzer target for Open311 POST service request
 * bodies: the first input byte picks the content type (form-encoded, or
 * multipart with boundary "B"), the rest is the body. It is parsed
 * (form_parse), checked and turned into a report as the handler does
 * (open311_form_input: known fields, an active service, lat and long,
 * media files) and created (reports_create_raw, the photos checked) in the
 * store of a real commune node of the test fixture. Any crash, leak or
 * undefined behaviour is a bug.
 */
#include "reports/open311.h"
#include "tests/node_fixture.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fx_node prov, com;
static reports_env env;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[] = {"application/x-www-form-urlencoded",
                                        "multipart/form-data; boundary=B"};
    static const reports_actor citizen = {.citizen = true};
    if (!env.reports) {
        char base[] = "/tmp/lt-fuzz-open311-XXXXXX";
        if (!mkdtemp(base))
            abort();
        fx_node_make(&prov, base, "40", "province", NULL);
        fx_node_make(&com, base, "16681", "commune", &prov);
        if (!(env.reports = reports_new(com.s, &com.c)))
            abort();
    }
    if (size < 1)
        return 0;
    form f;
    char err[512];
    if (form_parse(types[data[0] & 1], data + 1, size - 1, &f, err, sizeof err))
        return 0;
    http_response res;
    memset(&res, 0, sizeof res);
    json_t *in = json_object();
    reports_photo photos[REPORT_PHOTOS_MAX];
    size_t nphotos = 0;
    if (open311_form_input(&env, &f, data[0] & 2 ? OPEN311_XML : OPEN311_JSON, in, photos, &nphotos,
                           &res)) {
        char code[REPORT_CODE_MAX], token[REPORT_TOKEN_MAX];
        lt_error e;
        if (reports_create_raw(env.reports, in, photos, nphotos, "open311", &citizen, code, token,
                               &e) &&
            (!e.message[0] || !lt_error_code(&e)[0]))
            abort(); /* a failure says what was wrong, with a machine code */
    } else if (res.status != 400 || !res.body) {
        abort(); /* a refusal is always a 400 with a body */
    }
    json_decref(in);
    free(res.body);
    for (size_t i = 0; i < res.nheaders; i++) {
        free(res.headers[i].name);
        free(res.headers[i].value);
    }
    form_free(&f);
    return 0;
}
