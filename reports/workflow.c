/*
 * workflow.c - the state machine of docs/reports.md: which action may
 * move a report from which state, who may take it, what it changes. Each
 * action is one entry (report_write.c) with the changed fields and one
 * history item.
 */
#include "reports/report_summary.h"
#include "reports/reports_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    const char *from; /* allowed states, space separated; "*" any, "open" any open */
    const char *to;   /* new status; "" = unchanged */
    account_role role;
    bool citizen; /* a citizen may take it */
} action_rule;

static const action_rule rules[] = {
    {"receive", "new", "received", ROLE_STAFF, false},
    {"assign", "received assigned transferred reopened in_progress", "assigned", ROLE_LEADER,
     false},
    {"start", "received assigned transferred reopened", "in_progress", ROLE_STAFF, false},
    {"resolve", "received assigned in_progress transferred reopened", "resolved", ROLE_STAFF,
     false},
    {"close", "resolved", "closed", ROLE_LEADER, false},
    {"reject", "new received assigned transferred reopened", "rejected", ROLE_LEADER, false},
    {"duplicate", "new received assigned transferred", "duplicate", ROLE_LEADER, false},
    {"transfer", "new received assigned in_progress reopened", "transferred", ROLE_LEADER, false},
    {"reopen", "resolved closed", "reopened", ROLE_STAFF, true},
    {"rate", "resolved closed", "", ROLE_NONE, true},
    {"comment", "*", "", ROLE_STAFF, false},
    {"escalate", "open", "", ROLE_ADMIN, false},
};
#define NRULES (sizeof rules / sizeof *rules)

static bool state_in(const char *list, const char *st)
{
    if (!strcmp(list, "*"))
        return true;
    if (!strcmp(list, "open"))
        return report_status_open(st);
    size_t n = strlen(st);
    for (const char *p = list; (p = strstr(p, st)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
            return true;
    return false;
}

/* The actions allowed from st, for a 409. */
static void allowed_list(const char *st, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < NRULES; i++)
        if (strcmp(rules[i].name, "escalate") && state_in(rules[i].from, st)) {
            if (*out)
                strncat(out, ", ", cap - strlen(out) - 1);
            strncat(out, rules[i].name, cap - strlen(out) - 1);
        }
}

/* A required string parameter of act. */
static const char *param(const json_t *act, const char *key, lt_error *e, const char *action)
{
    const char *v = json_string_value(json_object_get(act, key));
    if (!v || !*v)
        lt_error_set(e, LT_EINVAL, "report.action_param_missing",
                     "action %s needs \"%s\" (a non-empty string)", action, key);
    return v && *v ? v : NULL;
}

/* The assignee of an assign action: its optional "assignee" (a user name,
 * 1..64 printable bytes without spaces) into f and h; "" (nobody) when
 * left out or for a transfer, so a report moved to another unit has no
 * officer until one is named. Returns 0, or -1 with *e. */
static int assignee_set(const json_t *act, const char *action, json_t *f, json_t *h, lt_error *e)
{
    const json_t *j = json_object_get(act, "assignee");
    const char *v = !strcmp(action, "assign") ? json_string_value(j) : NULL;
    bool ok = !j || json_is_null(j) || (v && strlen(v) < REPORT_USER_MAX);
    for (const char *p = v; ok && p && *p; p++)
        ok = (unsigned char)*p > ' ' && *p != 0x7f;
    if (!ok || (j && !strcmp(action, "transfer") && !json_is_null(j)))
        return lt_error_set(e, LT_EINVAL, "report.assignee_invalid",
                            "\"assignee\" of %s must be the user name of the officer who handles "
                            "the report (at most %d characters, no spaces), or left out",
                            action, REPORT_USER_MAX - 1);
    json_object_set_new(f, "assignee", json_string(v ? v : ""));
    if (v && *v)
        json_object_set_new(h, "assignee", json_string(v));
    return 0;
}

/* Sets owner_unit/owner_path to unit and resets the deadline from the
 * category at the new owner. */
static void owner_set(reports *r, const json_t *cur, json_t *f, const char *unit, uint64_t now)
{
    json_object_set_new(f, "owner_unit", json_string(unit));
    json_object_set_new(f, "owner_path", reports_path(r, unit));
    json_t *cat = category_get(r, report_str(cur, "category"));
    json_object_set_new(f, "deadline_ms", json_integer((json_int_t)category_deadline(r, cat, now)));
    json_object_set_new(f, "received_ms", json_integer((json_int_t)now));
    json_object_set_new(f, "escalation_level", json_integer(0));
    json_decref(cat);
}

/* True when unit held the report already: it is an ancestor-or-self of
 * the area unit or of an owner on the record. */
static bool unit_holds(reports *r, const json_t *cur, const char *unit)
{
    return reports_within(r, report_str(cur, "area_unit"), unit) ||
           reports_within(r, report_str(cur, "owner_unit"), unit);
}

/* True when the newest "rate" of cur's history comes after its newest
 * "resolve": the citizen rated this resolution already. */
static bool rated_since_resolved(const json_t *cur)
{
    size_t n;
    const char **keys = report_history_keys((json_t *)cur, &n);
    bool rated = false;
    for (size_t i = n; keys && i-- > 0;) {
        const char *act =
            json_string_value(json_object_get(json_object_get(cur, keys[i]), "action"));
        if (act && (!strcmp(act, "rate") || !strcmp(act, "resolve"))) {
            rated = !strcmp(act, "rate");
            break;
        }
    }
    free(keys);
    return rated;
}

/* The photos an action carries (resolve: the work done) and their chunk
 * entries, written with the action's entry; bufs freed after the write. */
typedef struct {
    write_list extra;
    photo_info p[REPORT_PHOTOS_MAX];
    uint8_t *bufs[REPORT_PHOTOS_MAX];
    size_t n;
    const char *to[2]; /* the report's addressees, for the chunk entries */
} action_photos;

static void action_photos_free(action_photos *ap)
{
    write_list_free(&ap->extra);
    for (size_t i = 0; i < ap->n; i++)
        free(ap->bufs[i]);
}

/* The optional "photos" of a resolve (the same form and checks as a new
 * report's) into f "resolution_photos" and the count into h "photos". */
static int resolve_photos(const json_t *cur, const json_t *act, json_t *f, json_t *h,
                          action_photos *ap, lt_error *e)
{
    const json_t *arr = json_object_get(act, "photos");
    if (!arr || json_is_null(arr))
        return 0;
    if (photos_json(arr, ap->p, ap->bufs, &ap->n, e))
        return -1;
    json_t *list = json_array();
    size_t nto = report_addressees(cur, ap->to);
    if (photos_record(ap->to, nto, ap->p, ap->n, &ap->extra, list, e)) {
        json_decref(list);
        return -1;
    }
    json_object_set_new(f, "resolution_photos", list);
    json_object_set_new(h, "photos", json_integer((json_int_t)ap->n));
    return 0;
}

/* The fields action a changes (into f) and its history parameters (into
 * h). Returns 0, or -1 with *e. *snapshot when a unit gets the report
 * that did not hold it. */
static int action_fields(reports *r, const json_t *cur, const action_rule *a, const json_t *act,
                         json_t *f, json_t *h, bool *snapshot, action_photos *ap, lt_error *e)
{
    uint64_t now = reports_now(r);
    const char *v;
    if (!strcmp(a->name, "receive")) {
        json_t *cat = category_get(r, report_str(cur, "category"));
        char owner[NODE_CODE_MAX];
        category_owner(r, cat, json_object_get(cur, "area_path"), owner, sizeof owner);
        json_decref(cat);
        *snapshot = !unit_holds(r, cur, owner);
        owner_set(r, cur, f, owner, now);
        json_object_set_new(h, "target", json_string(owner));
    } else if (!strcmp(a->name, "assign") || !strcmp(a->name, "transfer")) {
        if (!(v = param(act, "unit", e, a->name)))
            return -1;
        if (!unit_tree_known(reports_tree(r), v, strlen(v))) {
            return lt_error_set(e, LT_EINVAL, "report.unit_unknown",
                                "unit %s is not a unit this node knows: give a unit code", v);
        }
        if (!strcmp(a->name, "assign") && !reports_within(r, v, r->c->unit)) {
            return lt_error_set(
                e, LT_EINVAL, "report.assign_outside",
                "assign gives the report to a unit inside this node's unit %s, and %s is "
                "not: use transfer",
                r->c->unit, v);
        }
        if (assignee_set(act, a->name, f, h, e))
            return -1;
        *snapshot = !unit_holds(r, cur, v);
        owner_set(r, cur, f, v, now);
        json_object_set_new(h, "target", json_string(v));
    } else if (!strcmp(a->name, "resolve")) {
        if (!(v = param(act, "answer", e, a->name)))
            return -1;
        if (resolve_photos(cur, act, f, h, ap, e))
            return -1;
        json_object_set_new(f, "answer", json_string(v));
        json_object_set_new(f, "resolved_ms", json_integer((json_int_t)now));
        json_object_set_new(h, "answer", json_string(v));
    } else if (!strcmp(a->name, "close")) {
        json_object_set_new(f, "closed_ms", json_integer((json_int_t)now));
    } else if (!strcmp(a->name, "reject")) {
        if (!(v = param(act, "reason", e, a->name)))
            return -1;
        json_object_set_new(f, "reason", json_string(v));
        json_object_set_new(h, "reason", json_string(v));
    } else if (!strcmp(a->name, "duplicate")) {
        char of[REPORT_CODE_MAX];
        int st;
        if (!(v = param(act, "of", e, a->name)))
            return -1;
        json_t *orig = reports_code_norm(v, of) ? report_load(r, of, &st) : NULL;
        if (!orig || !strcmp(of, report_str(cur, "code"))) {
            json_decref(orig);
            return lt_error_set(e, LT_EINVAL, "report.duplicate_of_unknown",
                                "\"of\": %s is not another report this node holds", v);
        }
        json_decref(orig);
        json_object_set_new(f, "duplicate_of", json_string(of));
        json_object_set_new(h, "of", json_string(of));
    } else if (!strcmp(a->name, "rate")) {
        if (rated_since_resolved(cur) && !json_is_true(json_object_get(act, "reopen"))) {
            return lt_error_set(e, LT_ECONFLICT, "report.already_rated",
                                "report %s was already rated since it was last resolved; rate it "
                                "unsatisfied with \"reopen\": true to reopen it, or wait until "
                                "it is resolved again",
                                report_str(cur, "code"));
        }
        v = json_string_value(json_object_get(act, "rating"));
        if (!v || (strcmp(v, "satisfied") && strcmp(v, "acceptable") && strcmp(v, "unsatisfied"))) {
            return lt_error_set(e, LT_EINVAL, "report.rating_invalid",
                                "rating must be satisfied, acceptable or unsatisfied");
        }
        const char *comment = json_string_value(json_object_get(act, "comment"));
        if (comment && strlen(comment) > 2000) {
            return lt_error_set(e, LT_EINVAL, "report.comment_too_long",
                                "comment is longer than 2000 bytes: shorten it");
        }
        json_object_set_new(f, "rating", json_string(v));
        json_object_set_new(h, "rating", json_string(v));
        if (comment) {
            json_object_set_new(f, "rating_comment", json_string(comment));
            json_object_set_new(h, "comment", json_string(comment));
        }
        if (json_is_true(json_object_get(act, "reopen"))) {
            if (strcmp(v, "unsatisfied")) {
                return lt_error_set(e, LT_EINVAL, "report.reopen_invalid",
                                    "reopen: true goes with the rating unsatisfied only");
            }
            json_object_set_new(f, "status", json_string("reopened"));
            json_object_set_new(h, "to", json_string("reopened"));
        }
    } else if (!strcmp(a->name, "escalate")) {
        json_object_set(f, "escalation_level", json_object_get(act, "level"));
        json_object_set(f, "escalated_to", json_object_get(act, "unit"));
        json_object_set(h, "level", json_object_get(act, "level"));
        json_object_set(h, "target", json_object_get(act, "unit"));
    }
    return 0;
}

/* True when action name moves the case itself (assign, start, resolve,
 * close, reject, duplicate, transfer): the owner unit's business. */
static bool action_owned(const char *name)
{
    static const char *const owned[] = {"assign", "start",     "resolve", "close",
                                        "reject", "duplicate", "transfer"};
    for (size_t i = 0; i < sizeof owned / sizeof *owned; i++)
        if (!strcmp(name, owned[i]))
            return true;
    return false;
}

/* Refuses (report.not_owner) an owned action by a unit that is neither the
 * report's owner unit nor one of its ancestors: the area unit of a report
 * forwarded up (a "Giao thông" report received by a commune is the
 * district's) sees it but does not handle it. Returns 0 or -1 with *e. */
static int owner_check(reports *r, const json_t *cur, const char *name, const char *unit,
                       lt_error *e)
{
    const char *owner = report_str(cur, "owner_unit");
    if (!action_owned(name) || !*owner || !unit || reports_within(r, owner, unit))
        return 0;
    return lt_error_set(e, LT_EFORBIDDEN, "report.not_owner",
                        "report %s is handled by unit %s, not by your unit %s: only the "
                        "handling unit or a unit above it can %s it; add a comment, or ask "
                        "unit %s",
                        report_str(cur, "code"), owner, unit, name, owner);
}

int report_action(reports *r, const json_t *cur, const char *code, const json_t *act,
                  const reports_actor *who, bool system, lt_error *e)
{
    const char *name = json_string_value(json_object_get(act, "action"));
    const action_rule *a = NULL;
    for (size_t i = 0; name && i < NRULES; i++)
        if (!strcmp(rules[i].name, name))
            a = &rules[i];
    if (!a) {
        return lt_error_set(
            e, LT_EINVAL, "report.action_unknown",
            "unknown action \"%s\": use receive, assign, start, resolve, close, reject, "
            "duplicate, transfer, reopen, rate or comment",
            name ? name : "");
    }
    if (!system) {
        if (!strcmp(a->name, "escalate")) {
            return lt_error_set(e, LT_EFORBIDDEN, "report.action_forbidden",
                                "escalate is taken by the node's deadline timer only");
        }
        if (who->citizen ? !a->citizen : (who->role < a->role || (!strcmp(a->name, "rate")))) {
            return lt_error_set(
                e, LT_EFORBIDDEN, "report.action_forbidden", "action %s is for %s", a->name,
                !strcmp(a->name, "rate") ? "the citizen who sent the report (public API)"
                : a->role == ROLE_LEADER ? "leaders and admins"
                                         : "staff and above");
        }
    }
    const char *st = report_str(cur, "status");
    if (!state_in(a->from, st)) {
        char allowed[256];
        allowed_list(st, allowed, sizeof allowed);
        return lt_error_set(e, LT_ECONFLICT, "report.state_conflict",
                            "report %s is %s: %s is not possible now; allowed: %s", code, st,
                            a->name, *allowed ? allowed : "none");
    }
    if (!system && !who->citizen && owner_check(r, cur, a->name, who->unit, e))
        return -1;
    const char *note = json_string_value(json_object_get(act, "note"));
    if (note && strlen(note) > 4000) {
        return lt_error_set(e, LT_EINVAL, "report.note_too_long",
                            "note is longer than 4000 bytes: shorten it");
    }
    uint64_t now = reports_now(r);
    json_t *f = json_object();
    json_t *h =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "action", a->name, "from", st, "to",
                  *a->to ? a->to : st, "by", system || who->citizen || !who->user ? "" : who->user,
                  "unit", r->c->unit, "at_ms", (json_int_t)now, "note", note ? note : "");
    bool snapshot = false;
    action_photos ap = {0};
    int rc = action_fields(r, cur, a, act, f, h, &snapshot, &ap, e);
    if (!rc) {
        if (*a->to)
            json_object_set_new(f, "status", json_string(a->to));
        json_object_set_new(f, "updated_ms", json_integer((json_int_t)now));
        rc = report_write(r, code, cur, f, h, snapshot, ap.extra.n ? &ap.extra : NULL, e);
    }
    action_photos_free(&ap);
    json_decref(f);
    json_decref(h);
    return rc;
}

/* The error of report code that report_load did not give (status st), or
 * that the caller may not see: report.not_found, or storage. */
static int report_absent(const char *code, int st, lt_error *e)
{
    if (st == 500)
        return lt_error_set(e, LT_ESTORAGE, NULL,
                            "report %s cannot be read now: check the node's disk, then retry",
                            code);
    return lt_error_set(e, LT_ENOTFOUND, "report.not_found",
                        "no report %s here: check the tracking code", code);
}

static int act_locked(reports *r, const char *code, const json_t *action, const reports_actor *who,
                      lt_error *e)
{
    int st;
    json_t *cur = report_load(r, code, &st);
    if (!cur)
        return report_absent(code, st, e);
    int rc;
    bool holder = who && who->citizen && citizen_token_matches(cur, who->token);
    if (!who || (!who->citizen && !reports_visible(r, report_str(cur, "code"), who->unit)) ||
        (who->citizen && !holder && json_is_false(json_object_get(cur, "public"))))
        rc = report_absent(code, 404, e);
    else if (who->citizen && !holder)
        rc = lt_error_set(e, LT_EFORBIDDEN, "report.token_required",
                          "report %s can be rated or reopened only with the token given when "
                          "it was submitted: open the tracking link, or pass it as ?token=",
                          code);
    else if (!json_is_object(action))
        rc = lt_error_set(e, LT_EINVAL, "report.body_invalid",
                          "the body must be a JSON object {\"action\": ..., \"note\": ...}");
    else
        rc = report_action(r, cur, report_str(cur, "code"), action, who, false, e);
    json_decref(cur);
    return rc ? -1 : 0;
}

int reports_act(reports *r, const char *code, const json_t *action, const reports_actor *who,
                lt_error *e)
{
    reports_lock(r);
    int rc = act_locked(r, code, action, who, e);
    reports_unlock(r);
    return rc;
}

/* A PATCH that changes the category of a received report (one with a
 * deadline) recomputes the deadline from the new category, counted from
 * the original receipt (received_ms): the report keeps the working time
 * it has used, and re-filing it neither buys nor loses time. The edit
 * history item h says so and carries the new "deadline_ms". */
static void deadline_recategorise(reports *r, const json_t *cur, json_t *f, json_t *h)
{
    const char *to = json_string_value(json_object_get(f, "category"));
    json_int_t received = json_integer_value(json_object_get(cur, "received_ms"));
    if (!to || !strcmp(to, report_str(cur, "category")) || received <= 0 ||
        json_integer_value(json_object_get(cur, "deadline_ms")) <= 0)
        return;
    json_t *cat = category_get(r, to);
    json_int_t at = (json_int_t)category_deadline(r, cat, (uint64_t)received);
    json_decref(cat);
    char note[512];
    snprintf(note, sizeof note, "%s; deadline recomputed for category %s from the receipt",
             report_str(h, "note"), to);
    json_object_set_new(h, "note", json_string(note));
    json_object_set_new(h, "deadline_ms", json_integer(at));
    json_object_set_new(f, "deadline_ms", json_integer(at));
}

static int patch_locked(reports *r, const char *code, const json_t *fields,
                        const reports_actor *who, lt_error *e)
{
    static const char *const editable[] = {"title", "description", "category", "address",
                                           "lat",   "lon",         "public"};
    int loaded;
    json_t *cur = report_load(r, code, &loaded);
    int rc = 0;
    if (!cur || !who || who->citizen || !reports_visible(r, report_str(cur, "code"), who->unit)) {
        json_decref(cur);
        return report_absent(code, cur ? 404 : loaded, e);
    }
    json_t *f = json_object();
    if (who->role < ROLE_STAFF) {
        rc = lt_error_set(e, LT_EFORBIDDEN, "auth.role_required",
                          "editing a report needs the staff role or above");
    } else if (!json_is_object(fields) || !json_object_size(fields)) {
        rc = lt_error_set(e, LT_EINVAL, "report.body_invalid",
                          "the body must be a JSON object of fields to change: title, "
                          "description, category, address, lat, lon, public");
    } else {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)fields, k, v)
        {
            bool ok = false;
            for (size_t i = 0; i < sizeof editable / sizeof *editable; i++)
                ok = ok || !strcmp(k, editable[i]);
            if (!ok && !rc) {
                rc = lt_error_set(e, LT_EINVAL, "report.field_not_editable",
                                  "field \"%s\" cannot be edited: change title, description, "
                                  "category, address, lat, lon or public (or use an action)",
                                  k);
            }
        }
        /* validate with the create rules on the merged record */
        json_t *merged = json_deep_copy(cur), *checked = json_object();
        json_object_update(merged, (json_t *)fields);
        if (!rc) {
            rc = report_fields_validate(r, merged, checked, e);
            json_object_foreach((json_t *)fields, k, v) json_object_set(
                f, k, json_object_get(checked, k) ? json_object_get(checked, k) : v);
        }
        json_decref(merged);
        json_decref(checked);
    }
    if (!rc) {
        uint64_t now = reports_now(r);
        char keys[256] = "";
        const char *k;
        json_t *v;
        json_object_foreach(f, k, v)
        {
            if (*keys)
                strncat(keys, ",", sizeof keys - strlen(keys) - 1);
            strncat(keys, k, sizeof keys - strlen(keys) - 1);
        }
        json_object_set_new(f, "updated_ms", json_integer((json_int_t)now));
        const char *st = report_str(cur, "status");
        json_t *h = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "action", "edit", "from", st,
                              "to", st, "by", who->user ? who->user : "", "unit", r->c->unit,
                              "at_ms", (json_int_t)now, "note", keys);
        deadline_recategorise(r, cur, f, h);
        rc = report_write(r, report_str(cur, "code"), cur, f, h, false, NULL, e);
        json_decref(h);
    }
    json_decref(f);
    json_decref(cur);
    return rc ? -1 : 0;
}

int reports_patch(reports *r, const char *code, const json_t *fields, const reports_actor *who,
                  lt_error *e)
{
    reports_lock(r);
    int rc = patch_locked(r, code, fields, who, e);
    reports_unlock(r);
    return rc;
}
