/*
 * test_open311_format.c - the pure parts of the Open311 endpoints: form
 * bodies urlencoded and multipart (node/http/form), and the one-description
 * JSON/XML renderer with the spec's error form (reports/open311_format).
 */
#include "node/http/form.h"
#include "reports/open311_format.h"
#include "tests/check.h"

#include <string.h>

static char err[512];

static int parse_form(const char *ct, const char *body, size_t len, form *f)
{
    err[0] = 0;
    return form_parse(ct, (const uint8_t *)body, len ? len : strlen(body), f, err, sizeof err);
}

static void test_urlencoded(void)
{
    form f;
    const char *ct = "application/x-www-form-urlencoded; charset=utf-8";
    REQUIRE(parse_form(ct,
                       "api_key=lt_x&service_code=traffic&lat=18.67&long=105.69&"
                       "description=%C4%90%C6%B0%E1%BB%9Dng+ng%E1%BA%ADp&"
                       "attribute%5Bdepth%5D=30&empty=&bare&&x=1%3D2",
                       0, &f) == 0);
    CHECK(f.n == 9);
    CHECK(!strcmp(form_get(&f, "api_key")->value, "lt_x"));
    CHECK(!strcmp(form_get(&f, "description")->value, "Đường ngập"));
    CHECK(!strcmp(form_get(&f, "attribute[depth]")->value, "30"));
    CHECK(form_get(&f, "empty")->len == 0);
    CHECK(form_get(&f, "bare") && form_get(&f, "bare")->len == 0);
    CHECK(!strcmp(form_get(&f, "x")->value, "1=2"));
    CHECK(form_get(&f, "description")->filename == NULL);
    CHECK(form_get(&f, "nope") == NULL);
    form_free(&f);

    CHECK(parse_form(ct, "a=%zz", 0, &f) == -1 && strstr(err, "%-escape"));
    CHECK(f.n == 0 && f.v == NULL);
    CHECK(parse_form(ct, "a=%4", 0, &f) == -1);
    CHECK(parse_form(ct, "a=%ff%fe", 0, &f) == -1 && strstr(err, "UTF-8"));
    CHECK(parse_form(ct, "%00=1", 0, &f) == -1);
    CHECK(parse_form("application/json", "{}", 0, &f) == -1 && strstr(err, "multipart"));
    CHECK(parse_form(NULL, "a=1", 0, &f) == -1);
    char many[FORM_MAX_FIELDS * 4 + 16] = "";
    for (int i = 0; i <= FORM_MAX_FIELDS; i++)
        strcat(many, "a=1&");
    CHECK(parse_form(ct, many, 0, &f) == -1 && strstr(err, "too many"));
}

static void test_multipart(void)
{
    form f;
    static const char body[] =
        "preamble\r\n--XyZ\r\n"
        "Content-Disposition: form-data; name=\"service_code\"\r\n\r\n"
        "traffic\r\n--XyZ\r\n"
        "content-disposition: form-data; name=\"description\"\r\n\r\n"
        "line 1\r\nline 2\r\n--XyZ\r\n"
        "Content-Disposition: form-data; name=\"media\"; filename=\"a b.jpg\"\r\n"
        "Content-Type: image/jpeg\r\n\r\n"
        "\xff\xd8\x00\x01--XyZ-not\r\n--XyZ--\r\n";
    REQUIRE(parse_form("multipart/form-data; boundary=XyZ", body, sizeof body - 1, &f) == 0);
    CHECK(f.n == 3);
    CHECK(!strcmp(form_get(&f, "service_code")->value, "traffic"));
    CHECK(!strcmp(form_get(&f, "description")->value, "line 1\r\nline 2"));
    const form_field *m = form_get(&f, "media");
    REQUIRE(m != NULL);
    CHECK(m->len == 13 && !memcmp(m->value, "\xff\xd8\x00\x01--XyZ-not", 13));
    CHECK(m->filename && !strcmp(m->filename, "a b.jpg"));
    CHECK(m->type && !strcmp(m->type, "image/jpeg"));
    CHECK(form_get(&f, "service_code")->type == NULL);
    form_free(&f);

    /* quoted boundary, body opening with the delimiter */
    static const char b2[] = "--a'b\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--a'b--";
    REQUIRE(parse_form("multipart/form-data; charset=utf-8; boundary=\"a'b\"", b2, 0, &f) == 0);
    CHECK(f.n == 1 && !strcmp(form_get(&f, "x")->value, "1"));
    form_free(&f);

    CHECK(parse_form("multipart/form-data", b2, 0, &f) == -1 && strstr(err, "boundary"));
    static const char trunc[] = "--B\r\nContent-Disposition: form-data; name=x\r\n\r\n1";
    CHECK(parse_form("multipart/form-data; boundary=B", trunc, 0, &f) == -1 &&
          strstr(err, "truncated"));
    CHECK(f.n == 0);
    static const char noname[] = "--B\r\nContent-Type: text/plain\r\n\r\n1\r\n--B--";
    CHECK(parse_form("multipart/form-data; boundary=B", noname, 0, &f) == -1 &&
          strstr(err, "name"));
    static const char badtext[] =
        "--B\r\nContent-Disposition: form-data; name=x\r\n\r\n\xff\r\n--B--";
    CHECK(parse_form("multipart/form-data; boundary=B", badtext, 0, &f) == -1 &&
          strstr(err, "UTF-8"));
}

static char *render(const char *json, open311_format fmt, const char *root, const char *item)
{
    json_t *doc = json_loads(json, 0, NULL);
    size_t len = 0;
    char *s = open311_render(doc, fmt, root, item, &len);
    json_decref(doc);
    CHECK(s && strlen(s) == len);
    return s;
}

static void test_render(void)
{
    const char *services = "[{\"service_code\": \"traffic\", \"service_name\": \"Giao thông <&>\","
                           " \"metadata\": false, \"lat\": 18.6734, \"n\": 3, \"x\": null,"
                           " \"q\": \"a\\\"b'c\\u0001d\\ne\"}]";
    char *x = render(services, OPEN311_XML, "services", "service");
    const char *want = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<services><service>"
                       "<service_code>traffic</service_code>"
                       "<service_name>Giao thông &lt;&amp;&gt;</service_name>"
                       "<metadata>false</metadata><lat>18.6734</lat><n>3</n><x></x>"
                       "<q>a&quot;b&apos;cd\ne</q></service></services>\n";
    CHECKF(!strcmp(x, want), "%s", x);
    free(x);
    x = render(services, OPEN311_JSON, "services", "service");
    CHECKF(strstr(x, "\"lat\":18.6734,") != NULL, "%s", x);
    CHECKF(strstr(x, "\"metadata\":false") != NULL, "%s", x);
    free(x);

    x = render("{\"service_code\": \"a\", \"attributes\": [{\"code\": \"d\", \"values\": "
               "[{\"key\": 1, \"name\": \"one\"}]}]}",
               OPEN311_XML, "service_definition", NULL);
    CHECKF(strstr(x, "<service_definition><service_code>a</service_code><attributes><attribute>"
                     "<code>d</code><values><value><key>1</key><name>one</name></value></values>"
                     "</attribute></attributes></service_definition>") != NULL,
           "%s", x);
    free(x);
    x = render("[]", OPEN311_XML, "service_requests", "request");
    CHECKF(strstr(x, "<service_requests></service_requests>") != NULL, "%s", x);
    free(x);

    http_response res = {.status = 200};
    open311_error(&res, 400, OPEN311_XML, "service_code \"%s\" is unknown", "x<y");
    CHECK(res.status == 400);
    CHECK(!strcmp(res.content_type, "text/xml; charset=utf-8"));
    CHECKF(strstr(res.body, "<errors><error><code>400</code><description>service_code "
                            "&quot;x&lt;y&quot; is unknown</description></error></errors>"),
           "%s", res.body);
    free(res.body);
    res.body = NULL;
    open311_error(&res, 403, OPEN311_JSON, "api_key is invalid");
    CHECK(res.status == 403 && !strcmp(res.content_type, "application/json; charset=utf-8"));
    CHECKF(!strcmp(res.body, "[{\"code\":403,\"description\":\"api_key is invalid\"}]"), "%s",
           res.body);
    free(res.body);
    res.body = NULL;
    open311_error(&res, 400, OPEN311_JSON, "bad: %s!", "\xff");
    CHECKF(strstr(res.body, "not UTF-8") != NULL, "%s", res.body);
    free(res.body);
}

int main(void)
{
    test_urlencoded();
    test_multipart();
    test_render();
    return check_done();
}
