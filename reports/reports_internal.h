/*
 * reports_internal.h - what the files of reports/ share and nothing else
 * uses: the context, the unit tree and paths, the record loader and the
 * one writer of report entries (report_write.c).
 */
#ifndef LT_REPORTS_INTERNAL_H
#define LT_REPORTS_INTERNAL_H

#include "replication/unit_tree.h"
#include "reports/report_query.h" /* report_status_open */
#include "reports/reports.h"
#include "reports/workhours.h"

#include <uv.h>

#define REPORT_PATH_MAX 16

struct reports {
    store *s;
    const node_config *c;
    uint64_t (*now)(void *ctx);
    void *now_ctx;
    unit_tree *tree;
    uint64_t tree_arrival; /* store_arrival_last when the tree was loaded */
    bool tree_loaded;
    uv_mutex_t lock; /* recursive; held by every public reports_* call */
    /* tracking numbers reserved and not handed out yet: code_next up to
     * code_end (exclusive), under code_lock (report_code.c) */
    uv_mutex_t code_lock;
    uint64_t code_next, code_end;
};

/* Takes and releases r's lock. Every public function of reports.h (but
 * reports_new, reports_free, reports_set_clock, reports_now and
 * reports_code_norm) holds it for its whole run, so the unit tree cache,
 * the reads and the writes of one call are never interleaved with
 * another's. Recursive: a public function may call another. */
void reports_lock(reports *r);
void reports_unlock(reports *r);

/* The unit tree of the store, reloaded when entries arrived since. */
const unit_tree *reports_tree(reports *r);

/* The path root..unit as a JSON array of codes (new reference). */
json_t *reports_path(reports *r, const char *unit);

/* True when anc is unit or one of its ancestors. */
bool reports_within(reports *r, const char *unit, const char *anc);

/* The tier of unit from its "units" record into out; false when unknown. */
bool reports_unit_tier(reports *r, const char *unit, char *out, size_t cap);

/* The report record code as JSON (record_to_json), or NULL: *status 404
 * when absent or deleted, 500 on a storage error. */
json_t *report_load(reports *r, const char *code, int *status);

/* The string value of field key of o, or "" (never NULL). */
const char *report_str(const json_t *o, const char *key);

/* ---- report_code.c ---- */

/* Mints the next tracking code of this node. Returns 0, or -1 with err. */
int report_code_next(reports *r, char code[REPORT_CODE_MAX], char *err, size_t errlen);

/* Forgets the numbers reserved and not handed out (after the counter was
 * raised past them: an import of codes). */
void report_code_forget(reports *r);

/* ---- categories.c ---- */

/* The merged category code (default overridden by its record), or NULL
 * when unknown. New reference. */
json_t *category_get(reports *r, const char *code);

/* The owner on receipt of a report in category cat with area path
 * area_path: the unit of the category's owner tier on the path, else the
 * last unit of the path. */
void category_owner(reports *r, const json_t *cat, const json_t *area_path, char *out, size_t cap);

/* The deadline of cat counted from from_ms in working time, with the
 * holiday calendar of the store (0 = none). */
uint64_t category_deadline(reports *r, const json_t *cat, uint64_t from_ms);

/* ---- holidays.c ---- */

/* The holiday calendar of the store (every "holidays" record) into *cal;
 * free cal->days (may be NULL when there are none). Unreadable records
 * are left out. */
void holiday_calendar_load(reports *r, workhours_calendar *cal);

/* ---- top_tier.c ---- */

/* May who define `what` (e.g. "categories") on this node: an admin on a
 * node at most tiers-3 levels below the root? Returns 0, or -1 with *e
 * (LT_EFORBIDDEN: auth.admin_required, top_tier.required). */
int top_tier_check(reports *r, const reports_actor *who, const char *what, lt_error *e);

/* Writes one record of coll (fields packed as the body; NULL for a
 * delete) with op, addressed to "*". Returns 0, or -1 with *e (the kind
 * of the store's answer, store_write_errkind). */
int top_tier_write(reports *r, const char *coll, const char *id, entry_op op, const json_t *fields,
                   lt_error *e);

/* ---- citizen_token.c ---- */

/* Hex characters of a stored citizen token hash (BLAKE2b-256). */
#define REPORT_TOKEN_HASH_HEX 64

/* A new random citizen token into token and its hex hash into hash_hex. */
void citizen_token_new(char token[REPORT_TOKEN_MAX], char hash_hex[REPORT_TOKEN_HASH_HEX + 1]);

/* True when token hashes to the "citizen_token_hash" of report rep
 * (constant-time compare); false when rep has none or token is empty. */
bool citizen_token_matches(const json_t *rep, const char *token);

/* ---- photos.c ---- */

typedef struct {
    uint8_t hash[32];
    const char *mime;
    unsigned width, height;
    const uint8_t *data;
    size_t len;
} photo_info;

/* ---- photo_check.c ---- */

/* The largest photo in pixels, and on either side. */
#define PHOTO_PIXELS_MAX (40u * 1000u * 1000u)
#define PHOTO_SIDE_MAX 16384u

/* Checks a photo by content: a JPEG, PNG or WebP (by its magic bytes) of
 * 1..REPORT_PHOTO_BYTES_MAX bytes that libavcodec decodes whole, of at
 * most PHOTO_PIXELS_MAX pixels and PHOTO_SIDE_MAX on a side (the decoder
 * refuses a larger one before it allocates). Fills *p (hash, type, size,
 * width, height; data points at data). Returns 0, or -1 with *e
 * (LT_EINVAL: report.photo_too_large, report.photo_too_big, report.photo_invalid;
 * LT_EUNAVAILABLE: out of memory). Thread-safe; meant for the thread pool
 * (decoding takes up to a second for the largest). */
int photo_check(const uint8_t *data, size_t len, photo_info *p, lt_error *e);

/* The photo entries of a report: chunks of at most PHOTO_CHUNK bytes. */
#define PHOTO_CHUNK 30000

typedef struct {
    store_write *w;
    uint8_t **bodies;
    char (*ids)[ENTRY_MAX_NAME + 1];
    size_t n, cap;
} write_list;

/* Appends the chunk entries of p, addressed to to[0..nto), to l.
 * Returns 0, or -1 with err (out of memory). */
int photo_entries(write_list *l, const photo_info *p, const char *const *to, size_t nto, char *err,
                  size_t errlen);

/* Frees what l holds. */
void write_list_free(write_list *l);

/* ---- report_create.c (photos) ---- */

/* Decodes and checks the JSON photos arr ([{"type", "data": base64}], NULL
 * or null: none) into p[*n..] (data malloc'd in bufs[]; free them), at most
 * REPORT_PHOTOS_MAX in all. Returns 0, or -1 with *e (report.photo_invalid,
 * report.photo_too_large, report.photos_too_many, ...). */
int photos_json(const json_t *arr, photo_info *p, uint8_t **bufs, size_t *n, lt_error *e);

/* Appends the description of photos p[0..np) ({hash, type, size, width,
 * height}) to list and their chunk entries, addressed to to[0..nto) (see
 * report_addressees; extra keeps the pointer: to must outlive the write),
 * to extra. Returns 0, or -1 with *e. */
int photos_record(const char *const *to, size_t nto, const photo_info *p, size_t np,
                  write_list *extra, json_t *list, lt_error *e);

/* ---- report_write.c ---- */

/* Checks that this node may write report code (an owner or an ancestor of
 * one). Returns 0, or -1 with *e: LT_EFORBIDDEN report.authority naming
 * the units that can act, LT_ESTORAGE when the owners cannot be read. */
int report_authority(reports *r, const char *code, lt_error *e);

/* Writes one entry of report code: op PUT with body fields (create) or
 * PATCH with the changed fields plus history item hist (may be NULL) under
 * a fresh unique "h/<stamp>/<origin8>" name. cur is the record before
 * (NULL on create). With snapshot, the entry also carries every current
 * field of cur (newest history first while the entry fits). extra entries
 * (photos) follow in the same transaction. Addressed to [area_unit,
 * owner_unit] of the result. Returns 0, or -1 with *e (report.authority when
 * refused, storage when the store failed). */
int report_write(reports *r, const char *code, const json_t *cur, json_t *fields, json_t *hist,
                 bool snapshot, write_list *extra, lt_error *e);

/* A history field name "h/<hlc>/<origin8>" newer than any the record cur
 * holds, with the context's clock, into out. */
void report_history_name(reports *r, const json_t *cur, char *out, size_t cap);

/* The addressees [area_unit, owner_unit] of a report (deduplicated) into
 * to (2 slots). Returns their number. */
size_t report_addressees(const json_t *rec, const char *to[2]);

/* ---- report_create.c ---- */

/* Validates the editable fields of a report (title, description, address,
 * reporter_*, category, lat, lon, public) from in into out. Returns 0 or
 * -1 with *e (LT_EINVAL: report.body_invalid, report.title_missing,
 * report.field_invalid, report.location_missing, report.location_invalid,
 * report.category_unknown). */
int report_fields_validate(reports *r, const json_t *in, json_t *out, lt_error *e);

/* report_fields_validate that also names, in *field (when not NULL), the
 * field an error is about (a static string; "" on success). */
int report_fields_check(reports *r, const json_t *in, json_t *out, const char **field, lt_error *e);

/* ---- workflow.c ---- */

/* Applies action act (validated JSON) as the system (escalation) or an
 * actor. Returns 0, or -1 with *e. */
int report_action(reports *r, const json_t *cur, const char *code, const json_t *act,
                  const reports_actor *who, bool system, lt_error *e);

#endif
