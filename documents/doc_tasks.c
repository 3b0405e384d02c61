/*
 * doc_tasks.c - directives and tasks (chỉ đạo điều hành): a leader assigns
 * a task, from a document or on its own, to units with a deadline; each
 * unit posts progress and completion; overdue tasks show at the assigner
 * and every unit above it (documents.h).
 */
#include "documents/doc_internal.h"
#include "node/people/access.h"
#include "storage/record.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define TASK_NUMBERS "doc_task_numbers"
#define TITLE_MAX 500
#define DETAIL_MAX 8000

/* The assignees of in, each a known unit other than the node's own. */
static int task_assignees(documents *d, const json_t *in, const unit_tree *tree, json_t **out,
                          lt_error *e)
{
    const json_t *a = json_object_get(in, "assignees");
    if (!json_is_array(a) || !json_array_size(a) || json_array_size(a) > DOC_ADDRESS_MAX)
        return lt_error_set(e, LT_EINVAL, "task.assignees",
                            "assignees must be a list of 1 to %d unit codes, e.g. [\"16681\"]",
                            DOC_ADDRESS_MAX);
    *out = json_array();
    size_t i;
    const json_t *v;
    json_array_foreach(a, i, v)
    {
        const char *u = json_string_value(v);
        if (!u || strlen(u) >= NODE_CODE_MAX || !unit_tree_known(tree, u, strlen(u))) {
            json_decref(*out);
            return lt_error_set(e, LT_EINVAL, "task.assignees",
                                "assignee %zu (%s) is not a unit of this network", i + 1,
                                u ? u : "not text");
        }
        json_array_append_new(*out, json_string(u));
    }
    (void)d;
    return 0;
}

/* Every check of a new task; the assignees into *assignees. */
static int task_check(documents *d, const json_t *in, const unit_tree *tree, json_t **assignees,
                      lt_error *e)
{
    const char *title = doc_str(in, "title"), *due = doc_str(in, "due");
    const char *detail = doc_str(in, "detail"), *doc = doc_str(in, "doc");
    if (!title || !*title || strlen(title) > TITLE_MAX)
        return lt_error_set(e, LT_EINVAL, "task.title",
                            "title is missing or longer than %d bytes: say what is to be done",
                            TITLE_MAX);
    if (!due || !doc_date_valid(due))
        return lt_error_set(e, LT_EINVAL, "task.due",
                            "due must be the deadline as a date YYYY-MM-DD, e.g. 2026-12-20");
    if (detail && strlen(detail) > DETAIL_MAX)
        return lt_error_set(e, LT_EINVAL, "task.field", "detail is longer than %d bytes",
                            DETAIL_MAX);
    if (doc && *doc) {
        int why;
        json_t *j = doc_load(d, doc, &why);
        json_decref(j);
        if (!j)
            return lt_error_set(e, LT_EINVAL, "task.field",
                                "doc names document %s, which this node does not hold", doc);
    }
    return task_assignees(d, in, tree, assignees, e);
}

json_t *documents_task_create(documents *d, const json_t *in, const doc_actor *who,
                              const unit_tree *tree, lt_error *e)
{
    json_t *assignees = NULL;
    if (!json_is_object(in)) {
        lt_error_set(e, LT_EINVAL, "task.field", "the body must be a JSON object");
        return NULL;
    }
    if (strcmp(who->unit, d->c->unit) || who->role < ROLE_LEADER) {
        lt_error_set(e, LT_EFORBIDDEN, "task.forbidden",
                     "a leader of unit %s assigns its tasks on its node", d->c->unit);
        return NULL;
    }
    if (task_check(d, in, tree, &assignees, e))
        return NULL;
    uint64_t n;
    if (store_local_incr(d->s, TASK_NUMBERS, d->c->unit, strlen(d->c->unit), &n, e->message,
                         sizeof e->message)) {
        json_decref(assignees);
        lt_error_mark(e, LT_ESTORAGE, NULL);
        return NULL;
    }
    char id[ENTRY_MAX_NAME + 1];
    snprintf(id, sizeof id, "%s-T-%" PRIu64, d->c->unit, n);
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:o, s:I, s:s}", "title", doc_str(in, "title"),
                            "due", doc_str(in, "due"), "unit", d->c->unit, "by", who->user,
                            "assignees", assignees, "created_at", (json_int_t)d->now_ms(d->now_ctx),
                            "detail", doc_str(in, "detail") ? doc_str(in, "detail") : "");
    if (doc_str(in, "doc") && *doc_str(in, "doc"))
        json_object_set_new(rec, "doc", json_string(doc_str(in, "doc")));
    const char *to[DOC_ADDRESS_MAX + 1] = {d->c->unit};
    size_t nto = 1, i;
    const json_t *v;
    json_array_foreach(assignees, i, v) to[nto++] = json_string_value(v);
    int rc = doc_write(d, DOC_TASK_COLL, id, ENTRY_OP_PUT, rec, to, nto, e);
    json_decref(rec);
    return rc ? NULL : json_pack("{s:s}", "id", id);
}

/* ---- reading ---- */

static json_t *task_load(documents *d, const char *id)
{
    uint8_t *rec;
    size_t len;
    if (store_record_get(d->s, DOC_TASK_COLL, id, &rec, &len))
        return NULL;
    json_t *j =
        record_is_deleted(rec, len) ? NULL : record_to_json(rec, len, id, strlen(id), NULL, 0);
    free(rec);
    if (j && (!doc_str(j, "unit") || !json_is_array(json_object_get(j, "assignees")))) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

static bool task_visible(const json_t *t, const char *unit, const unit_tree *tree)
{
    const char *to[DOC_ADDRESS_MAX + 1] = {doc_str(t, "unit")};
    size_t n = 1, i;
    const json_t *v;
    json_array_foreach(json_object_get(t, "assignees"), i, v)
    {
        if (json_is_string(v) && n <= DOC_ADDRESS_MAX)
            to[n++] = json_string_value(v);
    }
    return access_visible(tree, unit, to[0], to, n);
}

/* Adds "progress": [{unit, percent, note, done, done_at, at, by}] (one per
 * assignee), "done" (all done), "overdue", "on_time" (done by the due
 * date, when done). */
static void task_progress(documents *d, json_t *t, const char *today)
{
    json_t *lines = json_array();
    const char *id = doc_str(t, "id"), *due = doc_str(t, "due");
    bool all = true, late = false;
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(t, "assignees"), i, v)
    {
        char pid[2 * ENTRY_MAX_NAME + 2];
        snprintf(pid, sizeof pid, "%s/%s", id, json_string_value(v));
        uint8_t *rec;
        size_t len;
        json_t *p = NULL;
        if (!store_record_get(d->s, DOC_TASKPROG_COLL, pid, &rec, &len)) {
            p = record_to_json(rec, len, pid, strlen(pid), NULL, 0);
            free(rec);
        }
        if (!p)
            p = json_pack("{s:i, s:b}", "percent", 0, "done", 0);
        json_object_del(p, "id");
        json_object_del(p, "task");
        json_object_set_new(p, "unit", json_string(json_string_value(v)));
        bool done = json_is_true(json_object_get(p, "done"));
        const char *done_on = doc_str(p, "done_on");
        all = all && done;
        late = late || (done ? done_on && strcmp(done_on, due) > 0 : strcmp(today, due) > 0);
        json_array_append_new(lines, p);
    }
    json_object_set_new(t, "progress", lines);
    json_object_set_new(t, "done", json_boolean(all));
    json_object_set_new(t, "overdue", json_boolean(!all && strcmp(today, due) > 0));
    json_object_set_new(t, "on_time", all ? json_boolean(!late) : json_null());
}

json_t *documents_task_get(documents *d, const char *id, const char *unit, const unit_tree *tree,
                           lt_error *e)
{
    json_t *t = task_load(d, id);
    if (!t || !task_visible(t, unit, tree)) {
        json_decref(t);
        lt_error_set(e, LT_ENOTFOUND, "task.not_found",
                     "no task %s on this node for you: GET /api/v1/tasks lists yours", id);
        return NULL;
    }
    char today[11];
    doc_today(d, today);
    task_progress(d, t, today);
    return t;
}

/* True when unit is an assignee of t, or the successor of one merged
 * into it. */
static bool has_assignee(const json_t *t, const char *unit, const unit_tree *tree)
{
    const char *as[1];
    return doc_acting_for(t, "assignees", unit, tree, as, 1) == 1;
}

typedef struct {
    documents *d;
    const char *unit, *assignee;
    bool overdue;
    const unit_tree *tree;
    char today[11];
    json_t *hits;
} task_list;

static int task_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    task_list *l = ctx;
    if (record_is_deleted(rec, len))
        return 0;
    json_t *t = record_to_json(rec, len, id, idlen, NULL, 0);
    bool keep = t && doc_str(t, "unit") && doc_str(t, "due") &&
                json_is_array(json_object_get(t, "assignees")) &&
                task_visible(t, l->unit, l->tree) &&
                (!l->assignee || !*l->assignee || has_assignee(t, l->assignee, l->tree));
    if (keep) {
        task_progress(l->d, t, l->today);
        keep = !l->overdue || json_is_true(json_object_get(t, "overdue"));
    }
    if (keep)
        json_array_append(l->hits, t);
    json_decref(t);
    return 0;
}

json_t *documents_task_list(documents *d, const char *unit, const char *assignee, bool overdue,
                            const unit_tree *tree, lt_error *e)
{
    task_list l = {d, unit, assignee, overdue, tree, "", json_array()};
    doc_today(d, l.today);
    if (store_records(d->s, DOC_TASK_COLL, task_one, &l) < 0) {
        json_decref(l.hits);
        lt_error_set(e, LT_ESTORAGE, NULL, "cannot read the tasks; check the node's disk");
        return NULL;
    }
    return json_pack("{s:o, s:I}", "tasks", l.hits, "total", (json_int_t)json_array_size(l.hits));
}

/* Writes the progress line of assignee on task t of id from in (checked)
 * on behalf of who: "unit" is assignee, "by_unit" who's unit when that
 * differs (the successor of an assignee merged away). */
static int task_progress_put(documents *d, const json_t *t, const char *id, const char *assignee,
                             const json_t *in, const doc_actor *who, lt_error *e)
{
    const json_t *pct = json_object_get(in, "percent"), *done = json_object_get(in, "done");
    const char *note = doc_str(in, "note");
    char pid[2 * ENTRY_MAX_NAME + 2], today[11];
    snprintf(pid, sizeof pid, "%s/%s", id, assignee);
    doc_today(d, today);
    bool fin = json_is_true(done), merged = strcmp(assignee, who->unit) != 0;
    json_t *p =
        json_pack("{s:s, s:s, s:I, s:b, s:s, s:I, s:s}", "task", id, "unit", assignee, "percent",
                  fin   ? (json_int_t)100
                  : pct ? json_integer_value(pct)
                        : 0,
                  "done", fin, "note", note ? note : "", "at", (json_int_t)d->now_ms(d->now_ctx),
                  "by", who->user);
    if (fin)
        json_object_set_new(p, "done_on", json_string(today));
    if (merged)
        json_object_set_new(p, "by_unit", json_string(who->unit));
    const char *to[3] = {assignee, doc_str(t, "unit"), who->unit};
    int rc = doc_write(d, DOC_TASKPROG_COLL, pid, doc_merged_op(d, DOC_TASKPROG_COLL, pid, merged),
                       p, to, merged ? 3 : 2, e);
    json_decref(p);
    return rc;
}

int documents_task_progress(documents *d, const char *id, const json_t *in, const doc_actor *who,
                            const unit_tree *tree, lt_error *e)
{
    json_t *t = documents_task_get(d, id, who->unit, tree, e);
    if (!t)
        return -1;
    const json_t *pct = json_object_get(in, "percent"), *done = json_object_get(in, "done");
    const char *note = doc_str(in, "note");
    int rc = 0;
    const char *as[DOC_ADDRESS_MAX];
    size_t nas = doc_acting_for(t, "assignees", who->unit, tree, as, DOC_ADDRESS_MAX);
    if (!nas)
        rc = lt_error_set(e, LT_EFORBIDDEN, "task.not_assignee",
                          "unit %s is not an assignee of task %s (nor the successor of one merged "
                          "into it)",
                          who->unit, id);
    else if ((pct && (!json_is_integer(pct) || json_integer_value(pct) < 0 ||
                      json_integer_value(pct) > 100)) ||
             (done && !json_is_boolean(done)) || (note && strlen(note) > DETAIL_MAX))
        rc = lt_error_set(e, LT_EINVAL, "task.field",
                          "send {\"percent\": 0..100, \"note\": text, \"done\": true|false}");
    for (size_t i = 0; i < nas && !rc; i++) /* its own, and its predecessors' */
        rc = task_progress_put(d, t, id, as[i], in, who, e);
    json_decref(t);
    return rc;
}

typedef struct {
    documents *d;
    const char *unit;
    const unit_tree *tree;
    const char *from, *to; /* due dates in [from, to] */
    uint64_t done, on_time;
} task_share;

static int share_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    task_share *s = ctx;
    if (record_is_deleted(rec, len))
        return 0;
    json_t *t = record_to_json(rec, len, id, idlen, NULL, 0);
    const char *due = t ? doc_str(t, "due") : NULL, *unit = t ? doc_str(t, "unit") : NULL;
    if (due && unit && json_is_array(json_object_get(t, "assignees")) &&
        strcmp(due, s->from) >= 0 && strcmp(due, s->to) <= 0 &&
        unit_tree_within(s->tree, unit, strlen(unit), s->unit, strlen(s->unit))) {
        task_progress(s->d, t, "9999-12-31");
        if (json_is_true(json_object_get(t, "done"))) {
            s->done++;
            s->on_time += json_is_true(json_object_get(t, "on_time"));
        }
    }
    json_decref(t);
    return 0;
}

int documents_tasks_on_time(documents *d, const char *unit, const unit_tree *tree, const char *from,
                            const char *to, uint64_t *done, uint64_t *on_time)
{
    task_share s = {d, unit, tree, from, to, 0, 0};
    int rc = store_records(d->s, DOC_TASK_COLL, share_one, &s) < 0 ? -1 : 0;
    *done = s.done;
    *on_time = s.on_time;
    return rc;
}
