/*
 * report_create.c - a new report from JSON (the native, public and Open311
 * APIs): every field validated with a clear 400 before anything is
 * written; the report and its photo chunks are one transaction.
 *
 * Threads: the photos are decoded and checked (photos_prepare: base64,
 * image headers, BLAKE2b, about 35 ms per MiB) without the context's lock;
 * only the field checks and the building of the new record run under it
 * (create_locked). The tracking code and the write come after the lock:
 * both are transactions of their own that touch nothing another call
 * reads under the lock (a fresh code names a record no one else writes),
 * so creations running at once on the uv thread pool join one group
 * commit (storage/store.h) instead of queueing on the lock, a commit
 * each.
 */
#include "reports/reports_internal.h"

#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char *const channels[] = {"web", "app", "hotline", "open311", "camera"};

/* Characters (code points) of a UTF-8 string. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Validates optional string field key (required: must be non-empty) of at
 * most max characters into out. Returns 0 or -1 with *e; a required field
 * that is absent or empty gets missing_code. */
static int text_field(const json_t *in, const char *key, size_t max, bool required, json_t *out,
                      const char *missing_code, lt_error *e)
{
    json_t *v = json_object_get(in, key);
    if (!v || json_is_null(v)) {
        if (!required)
            return 0;
        return lt_error_set(e, LT_EINVAL, missing_code, "%s is required: give it as a string", key);
    }
    if (!json_is_string(v))
        return lt_error_set(e, LT_EINVAL, "report.field_invalid", "%s must be a string", key);
    size_t n = utf8_chars(json_string_value(v));
    if (required && !n)
        return lt_error_set(e, LT_EINVAL, missing_code, "%s must not be empty", key);
    if (n > max)
        return lt_error_set(e, LT_EINVAL, "report.field_invalid",
                            "%s is %zu characters long; at most %zu are allowed: shorten it", key,
                            n, max);
    if (n)
        json_object_set(out, key, v);
    return 0;
}

/* Validates a coordinate into out. Returns 0 or -1 with *e. */
static int coord_field(const json_t *in, const char *key, double lim, json_t *out, lt_error *e)
{
    json_t *v = json_object_get(in, key);
    if (!json_is_number(v))
        return lt_error_set(e, LT_EINVAL, "report.location_missing",
                            "%s is required: a number (WGS84 degrees, from -%g to %g)", key, lim,
                            lim);
    double d = json_number_value(v);
    if (!isfinite(d) || d < -lim || d > lim)
        return lt_error_set(e, LT_EINVAL, "report.location_invalid",
                            "%s %g is out of range: it must be from -%g to %g", key, d, lim, lim);
    json_object_set_new(out, key, json_real(d));
    return 0;
}

/* The text fields of a report: name, most characters, required. */
static const struct {
    const char *key;
    size_t max;
    bool required;
} text_fields[] = {{"title", 200, true},          {"description", 4000, false},
                   {"address", 300, false},       {"reporter_name", 200, false},
                   {"reporter_phone", 32, false}, {"reporter_email", 254, false},
                   {"category", 32, true}};

/* (reports_internal.h) */
int report_fields_check(reports *r, const json_t *in, json_t *out, const char **field, lt_error *e)
{
    const char *unused;
    field = field ? field : &unused;
    *field = "";
    if (!json_is_object(in))
        return lt_error_set(e, LT_EINVAL, "report.body_invalid",
                            "the report must be a JSON object with title, category, lat and lon");
    const char *invalid = "report.field_invalid";
    static const char *const codes[] = {"report.title_missing",   NULL, NULL, NULL, NULL, NULL,
                                        "report.category_unknown"};
    for (size_t i = 0; i < sizeof text_fields / sizeof *text_fields; i++) {
        *field = text_fields[i].key;
        if (text_field(in, *field, text_fields[i].max, text_fields[i].required, out,
                       codes[i] ? codes[i] : invalid, e))
            return -1;
    }
    if (coord_field(in, *field = "lat", 90, out, e) || coord_field(in, *field = "lon", 180, out, e))
        return -1;
    const char *email = report_str(out, *field = "reporter_email");
    if (*email && !strchr(email, '@'))
        return lt_error_set(e, LT_EINVAL, invalid, "reporter_email \"%s\" is not an e-mail address",
                            email);
    json_t *pub = json_object_get(in, *field = "public");
    if (pub && !json_is_boolean(pub))
        return lt_error_set(e, LT_EINVAL, invalid, "public must be true or false");
    json_object_set_new(out, "public", json_boolean(!pub || json_is_true(pub)));
    json_t *cat = category_get(r, report_str(out, *field = "category"));
    bool active = cat && json_is_true(json_object_get(cat, "active"));
    json_decref(cat);
    if (!active)
        return lt_error_set(e, LT_EINVAL, "report.category_unknown",
                            "unknown category \"%s\": GET /api/v1/categories lists the valid codes",
                            report_str(out, "category"));
    *field = "";
    return 0;
}

/* (reports_internal.h) */
int report_fields_validate(reports *r, const json_t *in, json_t *out, lt_error *e)
{
    return report_fields_check(r, in, out, NULL, e);
}

/* The error of a report with more than REPORT_PHOTOS_MAX photos. */
static int photos_too_many(lt_error *e)
{
    return lt_error_set(e, LT_EINVAL, "report.photos_too_many",
                        "at most %d photos per report: leave some out", REPORT_PHOTOS_MAX);
}

int photos_json(const json_t *arr, photo_info *p, uint8_t **bufs, size_t *n, lt_error *e)
{
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return lt_error_set(e, LT_EINVAL, "report.photo_invalid",
                            "photos must be an array of {\"type\", \"data\": base64}");
    size_t i;
    json_t *ph;
    json_array_foreach(arr, i, ph)
    {
        if (*n == REPORT_PHOTOS_MAX)
            return photos_too_many(e);
        const char *b64 = json_string_value(json_object_get(ph, "data"));
        if (!b64)
            return lt_error_set(e, LT_EINVAL, "report.photo_invalid",
                                "photos[%zu].data must be the image in base64", i);
        size_t blen = strlen(b64), cap = blen / 4 * 3 + 3, len;
        if (cap > REPORT_PHOTO_BYTES_MAX + 4096)
            cap = REPORT_PHOTO_BYTES_MAX + 4096; /* enough to notice "too large" */
        if (blen / 4 * 3 > REPORT_PHOTO_BYTES_MAX + 3)
            return lt_error_set(e, LT_EINVAL, "report.photo_too_large",
                                "photos[%zu] is larger than 4 MiB: send a smaller one", i);
        uint8_t *buf = malloc(cap + 1);
        if (!buf || sodium_base642bin(buf, cap, b64, blen, "\r\n ", &len, NULL,
                                      sodium_base64_VARIANT_ORIGINAL)) {
            free(buf);
            return lt_error_set(e, LT_EINVAL, "report.photo_invalid",
                                "photos[%zu].data is not valid base64", i);
        }
        bufs[*n] = buf;
        int st = photo_check(buf, len, &p[*n], e);
        (*n)++;
        if (st)
            return -1;
    }
    return 0;
}

int photos_record(const char *const *to, size_t nto, const photo_info *p, size_t np,
                  write_list *extra, json_t *list, lt_error *e)
{
    for (size_t i = 0; i < np; i++) {
        char hex[65];
        for (size_t b = 0; b < 32; b++)
            snprintf(hex + 2 * b, 3, "%02x", p[i].hash[b]);
        json_array_append_new(list,
                              json_pack("{s:s, s:s, s:I, s:I, s:I}", "hash", hex, "type", p[i].mime,
                                        "size", (json_int_t)p[i].len, "width",
                                        (json_int_t)p[i].width, "height", (json_int_t)p[i].height));
        if (photo_entries(extra, &p[i], to, nto, e->message, sizeof e->message))
            return lt_error_mark(e, LT_EINTERNAL, NULL);
    }
    return 0;
}

/* The report's fields beyond the validated ones; owner and area. */
static int place(reports *r, const json_t *in, const reports_actor *who, json_t *f, lt_error *e)
{
    const char *unit = json_string_value(json_object_get(in, "unit"));
    if (!unit || !*unit)
        unit = who && !who->citizen && who->unit ? who->unit : r->c->unit;
    if (!reports_within(r, unit, r->c->unit))
        return lt_error_set(e, LT_EINVAL, "report.unit_outside",
                            "unit %s is not inside this node's unit %s: submit the report to a "
                            "node of %s or above it",
                            unit, r->c->unit, unit);
    json_object_set_new(f, "area_unit", json_string(unit));
    json_object_set_new(f, "area_path", reports_path(r, unit));
    json_object_set_new(f, "owner_unit", json_string(r->c->unit));
    json_object_set_new(f, "owner_path", reports_path(r, r->c->unit));
    return 0;
}

/* The photos of a new report: decoded and checked (the bulk of a create's
 * work) before the context's lock is taken; uses nothing of the context.
 * st and err keep the first problem for after the field checks, so the
 * answer names the same problem as when the checks ran in field order. */
typedef struct {
    photo_info p[REPORT_PHOTOS_MAX];
    uint8_t *bufs[REPORT_PHOTOS_MAX];
    size_t n;
    int st;
    lt_error err;
} photo_set;

static void photos_prepare(const json_t *in, const reports_photo *raw, size_t nraw, photo_set *ps)
{
    ps->st = photos_json(json_object_get(in, "photos"), ps->p, ps->bufs, &ps->n, &ps->err);
    for (size_t i = 0; !ps->st && i < nraw; i++) {
        if (ps->n == REPORT_PHOTOS_MAX)
            ps->st = photos_too_many(&ps->err);
        else
            ps->st = photo_check(raw[i].data, raw[i].len, &ps->p[ps->n++], &ps->err);
    }
}

/* A new report as built under the context's lock, written after it. */
typedef struct {
    json_t *f;         /* its fields */
    json_t *hist;      /* its first history item */
    write_list extra;  /* its photo chunks */
    const char *to[2]; /* their addressees (extra's entries point here, written after the lock) */
} create_plan;

/* The part of a create that reads the context: validates in and builds the
 * new report's fields (all but its code) into plan; under the lock. */
static int create_locked(reports *r, const json_t *in, const photo_set *ps, const char *channel,
                         const reports_actor *who, char token[REPORT_TOKEN_MAX], create_plan *plan,
                         lt_error *e)
{
    json_t *f = plan->f;
    const photo_info *p = ps->p;
    size_t np = ps->n;
    int st = report_fields_validate(r, in, f, e);
    if (!st && ps->st) {
        st = ps->st;
        *e = ps->err;
    }
    if (!st)
        st = place(r, in, who, f, e);
    if (st)
        return st;
    uint64_t now = reports_now(r);
    char hash_hex[REPORT_TOKEN_HASH_HEX + 1];
    citizen_token_new(token, hash_hex);
    json_object_set_new(f, "citizen_token_hash", json_string(hash_hex));
    json_t *photos = json_array();
    size_t nto = report_addressees(f, plan->to);
    st = photos_record(plan->to, nto, p, np, &plan->extra, photos, e);
    json_object_set_new(f, "photos", photos);
    json_object_set_new(f, "channel", json_string(channel));
    json_object_set_new(f, "status", json_string("new"));
    if (who && !who->citizen && who->user && *who->user)
        json_object_set_new(f, "created_by", json_string(who->user));
    json_object_set_new(f, "created_ms", json_integer((json_int_t)now));
    json_object_set_new(f, "updated_ms", json_integer((json_int_t)now));
    json_object_set_new(f, "deadline_ms", json_integer(0));
    json_object_set_new(f, "escalation_level", json_integer(0));
    plan->hist = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "action", "create", "from", "",
                           "to", "new", "by", who->citizen || !who->user ? "" : who->user, "unit",
                           r->c->unit, "at_ms", (json_int_t)now, "note", channel);
    return st;
}

/* Takes the new report's tracking code and writes it (outside the lock). */
static int create_write(reports *r, create_plan *plan, char code[REPORT_CODE_MAX], lt_error *e)
{
    if (report_code_next(r, code, e->message, sizeof e->message))
        return lt_error_mark(e, LT_ESTORAGE, NULL);
    json_object_set_new(plan->f, "code", json_string(code));
    return report_write(r, code, NULL, plan->f, plan->hist, false, &plan->extra, e);
}

int reports_create_raw(reports *r, const json_t *in, const reports_photo *raw, size_t nraw,
                       const char *channel, const reports_actor *who, char code[REPORT_CODE_MAX],
                       char token[REPORT_TOKEN_MAX], lt_error *e)
{
    photo_set ps = {0};
    int st = 0;
    bool known_channel = false;
    for (size_t i = 0; channel && i < sizeof channels / sizeof *channels; i++)
        known_channel = known_channel || !strcmp(channel, channels[i]);
    if (!who || (!who->citizen && who->role < ROLE_STAFF)) {
        st = lt_error_set(e, LT_EFORBIDDEN, "auth.role_required",
                          "creating a report needs the staff role or above");
    } else if (!known_channel) {
        st = lt_error_set(e, LT_EINVAL, "report.channel_unknown",
                          "channel must be web, app, hotline or open311");
    } else {
        photos_prepare(in, raw, nraw, &ps);
        create_plan plan = {json_object(), NULL, {0}, {NULL, NULL}};
        reports_lock(r);
        st = create_locked(r, in, &ps, channel, who, token, &plan, e);
        reports_unlock(r);
        if (!st)
            st = create_write(r, &plan, code, e);
        json_decref(plan.hist);
        write_list_free(&plan.extra);
        json_decref(plan.f);
    }
    for (size_t i = 0; i < ps.n; i++)
        free(ps.bufs[i]);
    return st ? -1 : 0;
}

int reports_create(reports *r, const json_t *in, const char *channel, const reports_actor *who,
                   char code[REPORT_CODE_MAX], char token[REPORT_TOKEN_MAX], lt_error *e)
{
    return reports_create_raw(r, in, NULL, 0, channel, who, code, token, e);
}
