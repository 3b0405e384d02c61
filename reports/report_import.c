/*
 * report_import.c - reports from import lines and back (report_import.h).
 *
 * Open311's "open" becomes "received": the other system had taken the
 * report in, so it gets an owner and a deadline from its category counted
 * from its receipt (an old open report is overdue at once, as it is). A
 * line without a status starts "new", as POST /api/v1/reports does.
 */
#include "reports/report_import.h"
#include "lib/hex.h"
#include "lib/mpjson.h"
#include "reports/reports_internal.h"

#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What a line's field is: its API name, the other names it is known by,
 * and how it is checked. */
typedef enum {
    F_ID,
    F_REPORT,
    F_UNIT,
    F_CHANNEL,
    F_STATUS,
    F_TIME,
    F_TEXT,
    F_RATING,
    F_IGNORED
} field_kind;

static const struct {
    const char *name;
    const char *aliases[3];
    field_kind kind;
} line_fields[] = {
    {"id", {"code", "service_request_id"}, F_ID},
    {"title", {0}, F_REPORT},
    {"description", {0}, F_REPORT},
    {"category", {"service_code"}, F_REPORT},
    {"lat", {0}, F_REPORT},
    {"lon", {"long"}, F_REPORT},
    {"address", {0}, F_REPORT},
    {"reporter_name", {0}, F_REPORT},
    {"reporter_phone", {"phone"}, F_REPORT},
    {"reporter_email", {"email"}, F_REPORT},
    {"public", {0}, F_REPORT},
    {"unit", {"area_unit"}, F_UNIT},
    {"channel", {0}, F_CHANNEL},
    {"status", {0}, F_STATUS},
    {"created_ms", {"created_at", "requested_datetime"}, F_TIME},
    {"updated_ms", {"updated_at", "updated_datetime"}, F_TIME},
    {"received_ms", {"received_at"}, F_TIME},
    {"resolved_ms", {"resolved_at"}, F_TIME},
    {"closed_ms", {"closed_at"}, F_TIME},
    {"answer", {"status_notes"}, F_TEXT},
    {"reason", {0}, F_TEXT},
    {"duplicate_of", {0}, F_TEXT},
    {"rating", {0}, F_RATING},
    {"rating_comment", {0}, F_TEXT},
    /* Open311 output that describes rather than states: left out */
    {"service_name", {"agency_responsible", "service_notice"}, F_IGNORED},
    {"expected_datetime", {"address_id", "zipcode"}, F_IGNORED},
    {"media_url", {0}, F_IGNORED},
};
#define NFIELDS (sizeof line_fields / sizeof *line_fields)
#define TEXT_MAX 4000
#define TITLE_FROM_DESCRIPTION 80

static const char *const import_channels[] = {"web", "app", "hotline", "open311", "import"};

/* The line_fields index of a line's key, or -1. */
static int field_of(const char *key)
{
    for (size_t i = 0; i < NFIELDS; i++) {
        if (!strcmp(line_fields[i].name, key))
            return (int)i;
        for (size_t a = 0; a < 3 && line_fields[i].aliases[a]; a++)
            if (!strcmp(line_fields[i].aliases[a], key))
                return (int)i;
    }
    return -1;
}

/* The line under API names into canon; names[i] the line's name of field
 * i. Returns 0, or -1 with *field and err. */
static int line_canon(const json_t *line, json_t *canon, const char **names, const char **field,
                      char *err, size_t errlen)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)line, k, v)
    {
        int i = field_of(k);
        *field = k;
        if (i < 0) {
            snprintf(err, errlen,
                     "not a report field: use the API's names (title, description, category, "
                     "lat, lon, address, unit, status, created_ms, answer, ...) or Open311's "
                     "(docs/reports.md, Import)");
            return -1;
        }
        if (line_fields[i].kind == F_IGNORED || json_is_null(v))
            continue;
        if (names[i]) {
            snprintf(err, errlen, "\"%s\" is given too, and both name one field: keep one",
                     names[i]);
            return -1;
        }
        names[i] = k;
        json_object_set(canon, line_fields[i].name, v);
    }
    return 0;
}

/* Characters (code points) of a UTF-8 string. */
static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A title from the start of description: its first line, cut at a word
 * after TITLE_FROM_DESCRIPTION characters with "…". */
static json_t *title_from(const char *d)
{
    while (isspace((unsigned char)*d))
        d++;
    size_t end = strcspn(d, "\r\n"), chars = 0, cut = 0, i = 0;
    for (; i < end && chars <= TITLE_FROM_DESCRIPTION; i++) {
        if (((unsigned char)d[i] & 0xC0) != 0x80)
            chars++;
        if (d[i] == ' ' && chars <= TITLE_FROM_DESCRIPTION)
            cut = i;
    }
    if (i >= end && chars <= TITLE_FROM_DESCRIPTION)
        return json_stringn(d, end);
    if (!cut) /* one long word: cut at the character */
        for (cut = i - 1; cut && ((unsigned char)d[cut] & 0xC0) == 0x80; cut--)
            ;
    return json_sprintf("%.*s…", (int)cut, d);
}

/* A time field: ms since the epoch, or an ISO datetime. */
static int time_value(const json_t *v, json_t *out, const char *key, char *err, size_t errlen)
{
    uint64_t ms;
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        ms = (uint64_t)json_integer_value(v);
    } else if (!json_is_string(v) || report_time_parse(json_string_value(v), false, &ms)) {
        snprintf(err, errlen,
                 "must be a datetime like 2026-01-05T08:30:00+07:00 (or a date, or ms since "
                 "1970)");
        return -1;
    }
    json_object_set_new(out, key, json_integer((json_int_t)ms));
    return 0;
}

/* Maps a status (Open311's open/closed or one of the states). */
static int status_value(const json_t *v, json_t *out, char *err, size_t errlen)
{
    const char *s = json_string_value(v);
    if (s && !strcmp(s, "open"))
        s = "received";
    if (s && report_status_index(s) >= 0) {
        json_object_set_new(out, "status", json_string(s));
        return 0;
    }
    char known[256] = "open, closed";
    for (size_t i = 0; i < REPORT_NSTATUS; i++)
        if (strcmp(report_statuses[i], "closed"))
            snprintf(known + strlen(known), sizeof known - strlen(known), ", %s",
                     report_statuses[i]);
    snprintf(err, errlen, "unknown status \"%s\" (known: %s)", s ? s : "", known);
    return -1;
}

/* Checks field i (value v, not a create field) into out. */
static int extra_value(reports *r, size_t i, json_t *v, json_t *out, char *err, size_t errlen)
{
    const char *name = line_fields[i].name, *s = json_string_value(v);
    switch (line_fields[i].kind) {
    case F_UNIT:
        if (!s || !*s || !reports_within(r, s, r->c->unit)) {
            snprintf(err, errlen,
                     "unit \"%s\" is not inside this node's unit %s: import it on a node of that "
                     "unit or above it",
                     s ? s : "", r->c->unit);
            return -1;
        }
        break;
    case F_CHANNEL:
        for (size_t c = 0; s && c < sizeof import_channels / sizeof *import_channels; c++)
            if (!strcmp(s, import_channels[c])) {
                json_object_set(out, name, v);
                return 0;
            }
        snprintf(err, errlen, "channel must be web, app, hotline, open311 or import");
        return -1;
    case F_STATUS: return status_value(v, out, err, errlen);
    case F_TIME: return time_value(v, out, name, err, errlen);
    case F_RATING:
        if (!s || (strcmp(s, "satisfied") && strcmp(s, "acceptable") && strcmp(s, "unsatisfied"))) {
            snprintf(err, errlen, "rating must be satisfied, acceptable or unsatisfied");
            return -1;
        }
        break;
    default:
        if (!s || utf8_len(s) > TEXT_MAX) {
            snprintf(err, errlen, "must be a string of at most %d characters", TEXT_MAX);
            return -1;
        }
    }
    json_object_set(out, name, v);
    return 0;
}

/* The tracking code of a line: its id, else one derived from fields. */
static int line_code(reports *r, const json_t *id, const json_t *fields, char code[REPORT_CODE_MAX],
                     char *err, size_t errlen)
{
    char raw[64];
    if (json_is_integer(id)) {
        snprintf(raw, sizeof raw, "%lld", (long long)json_integer_value(id));
    } else if (json_is_string(id)) {
        snprintf(raw, sizeof raw, "%s", json_string_value(id));
    } else if (id) {
        snprintf(err, errlen, "must be a string or an integer");
        return -1;
    } else {
        char *text = json_dumps(fields, JSON_COMPACT | JSON_SORT_KEYS);
        uint8_t h[8];
        char hexs[17];
        crypto_generichash(h, sizeof h, (const uint8_t *)text, text ? strlen(text) : 0, NULL, 0);
        free(text);
        hex_encode(h, sizeof h, hexs);
        snprintf(raw, sizeof raw, "%s-I%s", r->c->unit, hexs);
    }
    if (!reports_code_norm(raw, code)) {
        snprintf(err, errlen, "\"%s\" cannot be a tracking code: 1-%d letters, digits, - and _",
                 raw, REPORT_CODE_MAX - 1);
        return -1;
    }
    return 0;
}

/* "unknown category" with the codes that are known. */
static void category_error(reports *r, const json_t *canon, char *err, size_t errlen)
{
    json_t *cats = reports_categories_json(r, false), *c;
    char known[512] = "";
    size_t i;
    json_array_foreach(cats, i, c) snprintf(known + strlen(known), sizeof known - strlen(known),
                                            "%s%s", i ? ", " : "", report_str(c, "code"));
    json_decref(cats);
    snprintf(err, errlen, "unknown category \"%s\" (known: %s)", report_str(canon, "category"),
             known);
}

/* The checks of the line's own rules (not the create rules): their text
 * in e->message, an input error (LT_EINVAL) when one fails. */
static int check_locked(reports *r, const json_t *line, json_t *out, char code[REPORT_CODE_MAX],
                        const char **field, lt_error *e)
{
    const char *names[NFIELDS] = {0};
    json_t *canon = json_object();
    int rc = line_canon(line, canon, names, field, e->message, sizeof e->message);
    const char *d = report_str(canon, "description");
    if (!rc && !json_object_get(canon, "title") && *d)
        json_object_set_new(canon, "title", title_from(d));
    const char *bad = "";
    if (!rc && report_fields_check(r, canon, out, &bad, e)) {
        int i = field_of(bad);
        *field = i >= 0 && names[i] ? names[i] : bad;
        if (!strcmp(lt_error_code(e), "report.category_unknown"))
            category_error(r, canon, e->message, sizeof e->message);
        json_decref(canon);
        return -1;
    }
    for (size_t i = 0; !rc && i < NFIELDS; i++) {
        json_t *v = json_object_get(canon, line_fields[i].name);
        *field = names[i];
        if (v && line_fields[i].kind != F_ID && line_fields[i].kind != F_REPORT &&
            line_fields[i].kind != F_IGNORED)
            rc = extra_value(r, i, v, out, e->message, sizeof e->message);
    }
    if (!rc) {
        *field = names[0] ? names[0] : "id";
        rc = line_code(r, json_object_get(canon, "id"), out, code, e->message, sizeof e->message);
    }
    if (rc) {
        json_decref(canon);
        return lt_error_mark(e, LT_EINVAL, NULL);
    }
    *field = "id";
    rc = report_authority(r, code, e) ? -1 : 0;
    if (!rc) {
        json_object_set_new(out, "code", json_string(code));
        *field = "";
    }
    json_decref(canon);
    return rc;
}

int reports_import_check(reports *r, const json_t *line, json_t **fields,
                         char code[REPORT_CODE_MAX], const char **field, lt_error *e)
{
    *fields = NULL;
    *field = "";
    if (!json_is_object(line))
        return lt_error_set(e, LT_EINVAL, NULL, "must be a JSON object with the report's fields");
    json_t *out = json_object();
    reports_lock(r);
    int rc = check_locked(r, line, out, code, field, e);
    reports_unlock(r);
    if (rc)
        json_decref(out);
    else
        *fields = out;
    return rc;
}

/* ---- writing ------------------------------------------------------------------ */

/* The integer field key of o, else of dflt, else fallback. */
static json_int_t time_or(const json_t *o, const json_t *dflt, const char *key, json_int_t fallback)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        v = json_object_get(dflt, key);
    return json_is_integer(v) ? json_integer_value(v) : fallback;
}

/* True when the stored report cur already says everything line f says. */
static bool import_same(const json_t *f, const json_t *cur)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)f, k, v)
    {
        const char *key = strcmp(k, "unit") ? k : "area_unit";
        if (!json_equal(v, json_object_get(cur, key)))
            return false;
    }
    return true;
}

/* The report of line f (cur: the stored one or NULL) with the defaults of
 * a new report: area, owner, deadline, times. */
static json_t *import_record(reports *r, const json_t *f, const json_t *cur)
{
    json_t *rec = json_deep_copy(f);
    json_object_del(rec, "unit");
    uint64_t now = reports_now(r);
    const char *area = report_str(f, "unit");
    area = *area ? area : *report_str(cur, "area_unit") ? report_str(cur, "area_unit") : r->c->unit;
    json_t *area_path = reports_path(r, area);
    json_object_set_new(rec, "area_unit", json_string(area));
    json_object_set(rec, "area_path", area_path);
    const char *status = report_str(f, "status");
    status = *status ? status : *report_str(cur, "status") ? report_str(cur, "status") : "new";
    json_object_set_new(rec, "status", json_string(status));
    const char *channel = report_str(f, "channel");
    if (!*channel)
        json_object_set_new(rec, "channel",
                            json_string(cur ? report_str(cur, "channel") : "import"));
    json_int_t created = time_or(f, cur, "created_ms", (json_int_t)now);
    json_object_set_new(rec, "created_ms", json_integer(created));
    json_int_t latest = created;
    static const char *const later[] = {"received_ms", "resolved_ms", "closed_ms"};
    for (size_t i = 0; i < 3; i++)
        if (time_or(f, NULL, later[i], 0) > latest)
            latest = time_or(f, NULL, later[i], 0);
    json_int_t updated = time_or(f, NULL, "updated_ms", cur ? (json_int_t)now : latest);
    json_object_set_new(rec, "updated_ms", json_integer(updated));
    if (!strcmp(status, "new")) {
        json_object_set_new(rec, "owner_unit", json_string(r->c->unit));
        json_object_set_new(rec, "owner_path", reports_path(r, r->c->unit));
        json_object_set_new(rec, "deadline_ms", json_integer(0));
    } else {
        json_t *cat = category_get(r, report_str(f, "category"));
        json_int_t received = time_or(f, cur, "received_ms", created);
        char owner[NODE_CODE_MAX];
        if (cur && *report_str(cur, "owner_unit") && strcmp(report_str(cur, "status"), "new"))
            snprintf(owner, sizeof owner, "%s", report_str(cur, "owner_unit"));
        else
            category_owner(r, cat, area_path, owner, sizeof owner);
        json_object_set_new(rec, "owner_unit", json_string(owner));
        json_object_set_new(rec, "owner_path", reports_path(r, owner));
        json_object_set_new(rec, "received_ms", json_integer(received));
        json_object_set_new(
            rec, "deadline_ms",
            json_integer((json_int_t)category_deadline(r, cat, (uint64_t)received)));
        json_decref(cat);
    }
    bool resolved = !strcmp(status, "resolved") || !strcmp(status, "closed");
    if (resolved && !json_object_get(rec, "resolved_ms") && json_object_get(f, "updated_ms"))
        json_object_set_new(rec, "resolved_ms", json_integer(updated));
    if (!strcmp(status, "closed") && !json_object_get(rec, "closed_ms") &&
        json_object_get(f, "updated_ms"))
        json_object_set_new(rec, "closed_ms", json_integer(updated));
    if (!cur) {
        json_object_set_new(rec, "escalation_level", json_integer(0));
        json_object_set_new(rec, "photos", json_array());
    }
    json_decref(area_path);
    return rec;
}

/* Adds history item h (stolen) to body under a name newer than any of
 * cur and body. */
static void history_add(reports *r, const json_t *cur, json_t *body, json_t *h)
{
    json_t *all = cur ? json_deep_copy(cur) : json_object();
    json_object_update(all, body);
    char name[64];
    report_history_name(r, all, name, sizeof name);
    json_decref(all);
    json_object_set_new(body, name, h);
}

/* The body of the entry for line f: a whole new report, or the fields of
 * cur that change. */
static json_t *import_body(reports *r, const json_t *f, const json_t *cur)
{
    json_t *rec = import_record(r, f, cur);
    const char *status = report_str(rec, "status");
    json_t *answer = json_object_get(rec, "answer"), *reason = json_object_get(rec, "reason");
    if (!cur) {
        history_add(r, NULL, rec,
                    json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:s}", "action", "create", "from", "",
                              "to", "new", "by", "", "unit", r->c->unit, "at_ms",
                              json_object_get(rec, "created_ms"), "note",
                              report_str(rec, "channel")));
        if (strcmp(status, "new")) {
            json_t *h =
                json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:s}", "action", "import", "from", "new",
                          "to", status, "by", "", "unit", r->c->unit, "at_ms",
                          json_object_get(rec, "updated_ms"), "note", "history brought by import");
            if (answer)
                json_object_set(h, "answer", answer);
            if (reason)
                json_object_set(h, "reason", reason);
            history_add(r, NULL, rec, h);
        }
        return rec;
    }
    json_t *patch = json_object();
    const char *k;
    json_t *v;
    char changed[256] = "";
    json_object_foreach(rec, k, v)
    {
        if (json_equal(v, json_object_get(cur, k)) || !strcmp(k, "updated_ms"))
            continue;
        json_object_set(patch, k, v);
        if (!json_object_get((json_t *)f, k) && strcmp(k, "area_unit"))
            continue; /* derived */
        snprintf(changed + strlen(changed), sizeof changed - strlen(changed), "%s%s",
                 *changed ? ", " : "", k);
    }
    json_object_set(patch, "updated_ms", json_object_get(rec, "updated_ms"));
    json_t *h = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "action", "import", "from",
                          report_str(cur, "status"), "to", status, "by", "", "unit", r->c->unit,
                          "at_ms", (json_int_t)reports_now(r), "note", changed);
    history_add(r, cur, patch, h);
    json_decref(rec);
    return patch;
}

/* The N of a code of this node's "<UNIT>-<N>" form, else 0. */
static uint64_t own_number(reports *r, const char *code)
{
    size_t n = strlen(r->c->unit);
    if (strncasecmp(code, r->c->unit, n) || code[n] != '-' || !isdigit((unsigned char)code[n + 1]))
        return 0;
    char *end;
    uint64_t v = strtoull(code + n + 1, &end, 10);
    return *end ? 0 : v;
}

typedef struct {
    store_write *w;
    uint8_t **bodies;
    json_t **recs; /* what the addressees point into */
    size_t n;
} import_batch;

static void batch_free(import_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->bodies[i]);
        json_decref(b->recs[i]);
    }
    free(b->w);
    free(b->bodies);
    free(b->recs);
}

/* Adds the entry of line f to b unless its report is stored the same. */
static int batch_add(reports *r, import_batch *b, const json_t *f, bool *same, lt_error *e)
{
    const char *code = report_str(f, "code");
    int st;
    json_t *cur = report_load(r, code, &st);
    if (!cur && st != 404)
        return lt_error_set(e, LT_ESTORAGE, NULL, "cannot read report %s; check the node's disk",
                            code);
    *same = cur && import_same(f, cur);
    if (*same) {
        json_decref(cur);
        return 0;
    }
    json_t *body = import_body(r, f, cur);
    json_t *after = cur ? json_deep_copy(cur) : json_object();
    json_object_update(after, body);
    json_decref(cur);
    size_t len;
    uint8_t *bytes;
    int rc = mpjson_pack_object(body, &bytes, &len, e->message, sizeof e->message);
    json_decref(body);
    if (rc || len + 1024 > ENTRY_MAX_BYTES) {
        if (!rc)
            free(bytes);
        json_decref(after);
        return rc ? lt_error_mark(e, LT_EINTERNAL, NULL)
                  : lt_error_set(e, LT_ETOOLARGE, NULL,
                                 "report %s takes %zu bytes, over the entry limit: shorten it",
                                 code, len);
    }
    const char **to = malloc(2 * sizeof *to);
    size_t i = b->n++;
    b->bodies[i] = bytes;
    b->recs[i] = after;
    size_t nto = to ? report_addressees(after, to) : 0;
    b->w[i] = (store_write){
        REPORT_COLL, report_str(after, "code"), cur ? ENTRY_OP_PATCH : ENTRY_OP_PUT, bytes, len, to,
        nto};
    return to ? 0 : lt_error_set(e, LT_EINTERNAL, NULL, "out of memory");
}

static int write_locked(reports *r, json_t *const *fields, size_t n, size_t *written,
                        size_t *unchanged, lt_error *e)
{
    import_batch b = {calloc(n ? n : 1, sizeof *b.w), calloc(n ? n : 1, sizeof *b.bodies),
                      calloc(n ? n : 1, sizeof *b.recs), 0};
    int rc = b.w && b.bodies && b.recs ? 0 : lt_error_set(e, LT_EINTERNAL, NULL, "out of memory");
    uint64_t top = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        bool same = false;
        rc = batch_add(r, &b, fields[i], &same, e);
        *unchanged += same;
        uint64_t num = own_number(r, report_str(fields[i], "code"));
        top = num > top ? num : top;
    }
    if (!rc && top &&
        store_local_raise(r->s, "report_codes", "next", 4, top, e->message, sizeof e->message))
        rc = lt_error_mark(e, LT_ESTORAGE, NULL);
    if (!rc && top)
        report_code_forget(r);
    store_author a = node_author(r->c);
    int wrc =
        !rc && b.n ? store_write_local(r->s, &a, b.w, b.n, NULL, e->message, sizeof e->message) : 0;
    if (wrc)
        rc = lt_error_mark(e, store_write_errkind(wrc), NULL);
    if (!rc)
        *written += b.n;
    for (size_t i = 0; b.w && i < b.n; i++)
        free((void *)b.w[i].to);
    batch_free(&b);
    return rc;
}

int reports_import_write(reports *r, json_t *const *fields, size_t n, size_t *written,
                         size_t *unchanged, lt_error *e)
{
    size_t w = 0, u = 0;
    reports_lock(r);
    int rc = write_locked(r, fields, n, &w, &u, e);
    reports_unlock(r);
    if (!rc) {
        *written += w;
        *unchanged += u;
    }
    return rc;
}

/* ---- export -------------------------------------------------------------------- */

json_t *reports_export_line(const json_t *rec)
{
    json_t *line = json_object();
    json_object_set(line, "id",
                    json_object_get(rec, "code") ? json_object_get(rec, "code")
                                                 : json_object_get(rec, "id"));
    for (size_t i = 1; i < NFIELDS && line_fields[i].kind != F_IGNORED; i++) {
        const char *name = line_fields[i].name;
        json_t *v = json_object_get(rec, line_fields[i].kind == F_UNIT ? "area_unit" : name);
        if (v && !json_is_null(v))
            json_object_set(line, name, v);
    }
    return line;
}
