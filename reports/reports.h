/*
 * reports.h - field reports (phản ánh hiện trường): the domain rules of
 * docs/reports.md in one context that the HTTP handlers (native API,
 * public API, Open311), the daemon's escalation timer and the CLI share.
 *
 * A report is a record of collection "reports" whose id is its tracking
 * code. Every change is ONE signed local entry (store_write_local): a
 * patch of the changed fields plus a unique history field
 * "h/<hlc 16 hex>/<origin 8 hex>", addressed to [area_unit, owner_unit].
 * Before writing, the context checks the caller's role and this node's
 * write authority, so a refused request changes nothing and never yields
 * an entry that other nodes would quarantine.
 *
 * Every function that can fail fills an lt_error (lib/error.h): its kind
 * (LT_EINVAL bad input, an oversized or non-image photo included;
 * LT_EFORBIDDEN role or authority; LT_ENOTFOUND unknown report;
 * LT_ECONFLICT wrong state; LT_ESTORAGE storage), a stable code
 * ("report.category_unknown"; docs/openapi.yaml lists them) and a message
 * that says what was wrong and what to do. Nothing is stored on error.
 *
 * Threads: one context may be used from several threads at once (the
 * daemon's loop and its uv thread pool, which creates reports with photos).
 * Each call below holds the context's lock (a recursive mutex) while it
 * reads the unit tree cache and the store and writes, so calls never
 * interleave; reports_create and reports_create_raw decode and check
 * their photos (base64, image headers, BLAKE2b: the bulk of the work)
 * BEFORE taking the lock, so a thread that calls in meanwhile waits only
 * for the short validation and the write transaction. Never call them
 * from inside a store scan callback: a write here that grows the map waits
 * for that scan's transaction to end (storage/store.h). reports_set_clock
 * must be called before the context is shared. Tracking codes come from a
 * counter raised in one LMDB transaction (store_local_incr), so even two
 * processes never hand out the same code.
 */
#ifndef LT_REPORTS_H
#define LT_REPORTS_H

#include "lib/error.h"
#include "node/env/config.h"
#include "node/people/accounts.h"
#include "storage/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct reports reports;

/* The collections of the domain: one place for their names. */
#define REPORT_COLL "reports"      /* id: tracking code */
#define CATEGORY_COLL "categories" /* id: service code; top tiers only */
#define HOLIDAY_COLL "holidays"    /* id: YYYY-MM-DD; top tiers only */
#define PHOTO_COLL "photos"        /* chunk entries of report photos */

/* The domain's collections that only the top tiers may write (for
 * store_options.top_tier_collections); their count goes to *n. */
const char *const *reports_top_tier_collections(size_t *n);

#define REPORT_CODE_MAX 48
/* A citizen token: 32 random bytes in URL-safe base64 without padding (43
 * characters) and its NUL. */
#define REPORT_TOKEN_MAX 44
#define REPORT_PHOTOS_MAX 5
#define REPORT_PHOTO_BYTES_MAX (4u * 1024u * 1024u)

/* A domain context over store s for the node of config c (its key and
 * unit; both must outlive the context). Clock: wall time until
 * reports_set_clock. NULL when out of memory. */
reports *reports_new(store *s, const node_config *c);

/* Frees the context. NULL is ignored. */
void reports_free(reports *r);

/* Replaces the clock (milliseconds since the epoch) used for created_ms,
 * deadlines and history times; for tests and `reports sweep --now`. */
void reports_set_clock(reports *r, uint64_t (*now_ms)(void *ctx), void *ctx);

/* The current time of the context's clock. */
uint64_t reports_now(const reports *r);

/* Who acts. citizen: an unauthenticated member of the public (user and
 * unit NULL, role ROLE_NONE); may only create, rate and reopen, and acts
 * on an existing report only with its citizen token (token, the one
 * reports_create handed out; NULL when none was given). */
typedef struct {
    const char *user;
    const char *unit;
    account_role role;
    bool citizen;
    const char *token;
} reports_actor;

/* A photo given as raw bytes (e.g. an Open311 multipart upload). type is
 * the declared MIME type or NULL; the content decides in any case. */
typedef struct {
    const uint8_t *data;
    size_t len;
    const char *type;
} reports_photo;

/* Creates a report from JSON {title, description, category, lat, lon,
 * address, unit, reporter_name, reporter_phone, reporter_email, public,
 * photos: [{type, data: base64}]} received through channel ("web", "app",
 * "hotline", "open311"). unit (optional) is the area unit; default the
 * actor's unit, else this node's unit; it must be this node's unit or
 * inside its subtree. The report starts "new". Returns 0 with the
 * tracking code in code and a new citizen token in token (the only time it
 * exists in clear: the report keeps its BLAKE2b-256 as
 * "citizen_token_hash", which no answer shows), or -1 with *e; nothing
 * stored on error. */
int reports_create(reports *r, const json_t *in, const char *channel, const reports_actor *who,
                   char code[REPORT_CODE_MAX], char token[REPORT_TOKEN_MAX], lt_error *e);

/* reports_create with photos given as raw buffers (added to any in
 * in's "photos"); at most REPORT_PHOTOS_MAX in all. */
int reports_create_raw(reports *r, const json_t *in, const reports_photo *photos, size_t nphotos,
                       const char *channel, const reports_actor *who, char code[REPORT_CODE_MAX],
                       char token[REPORT_TOKEN_MAX], lt_error *e);

/* True when token is the citizen token of report code (compared by hash,
 * in constant time). False when either is absent, or the report predates
 * citizen tokens (it has no "citizen_token_hash"). */
bool reports_token_ok(reports *r, const char *code, const char *token);

/* Applies one action {"action": A, "note", ...parameters} of the state
 * machine of docs/reports.md to report code (case-insensitive). A citizen
 * must give the report's token (who->token): without it a report marked
 * not public answers 404 like an absent one, a public one 403. Returns 0
 * when written, or -1 with *e (report.not_found, report.state_conflict,
 * report.action_forbidden, report.token_required, report.authority, ...). */
int reports_act(reports *r, const char *code, const json_t *action, const reports_actor *who,
                lt_error *e);

/* Edits title, description, category, address, lat, lon, public (staff
 * and above, report open or not). Returns 0, or -1 with *e. */
int reports_patch(reports *r, const char *code, const json_t *fields, const reports_actor *who,
                  lt_error *e);

typedef enum { REPORT_VIEW_PUBLIC, REPORT_VIEW_VIEWER, REPORT_VIEW_STAFF } report_view;

/* The report as JSON with "history" (array, HLC order) and "overdue"
 * (bool). PUBLIC: no reporter fields, no user names or units in the
 * history, no coordinates hidden (they are the public location); VIEWER:
 * no reporter fields; STAFF: everything. No view shows "citizen_token_hash"
 * or "owners". NULL and *status 404 when absent
 * (500 on a storage error). Does not check who may see it: see
 * reports_visible. */
json_t *reports_get_json(reports *r, const char *code, report_view view, int *status);

/* True when a user of unit may see report code: unit is an ancestor-or-self
 * of the report's area unit or of its owner. */
bool reports_visible(reports *r, const char *code, const char *unit);

/* True when a user of unit may handle the report j (a reports_get_json
 * answer): it has no owner yet, or unit is its owner unit or an ancestor.
 * The area unit of a report forwarded up sees it but does not handle it
 * (the actions answer report.not_owner). */
bool reports_handles(reports *r, const json_t *j, const char *unit);

/* True when unit is this node's unit or a unit below it (by the unit tree
 * of the store): a unit this node may take reports for. */
bool reports_serves(reports *r, const char *unit);

/* Normalises a tracking code (upper-case, trimmed) into out. False when it
 * cannot be one. */
bool reports_code_norm(const char *in, char out[REPORT_CODE_MAX]);

/* True when who may define categories and holidays on this node (an admin
 * of its unit at a top tier): what the UI offers to edit. */
bool reports_may_define(reports *r, const reports_actor *who);

/* The categories: the built-in defaults merged with the "categories"
 * records (a record overrides the default of its code). all = false leaves
 * out inactive ones. An array of {code, name_vi, name_en, description_vi,
 * description_en, owner_tier, deadline_hours | deadline_days, active,
 * group}, sorted by code. */
json_t *reports_categories_json(reports *r, bool all);

/* Writes (creates or overrides) category code from JSON fields (admin on a
 * node of a top tier). Returns 0, or -1 with *e. */
int reports_category_put(reports *r, const char *code, const json_t *fields,
                         const reports_actor *who, lt_error *e);

/* The holidays of year (0 = every year), sorted by date: an array of
 * {date "YYYY-MM-DD", name_vi, name_en, off}. */
json_t *reports_holidays_json(reports *r, int year);

/* Writes holiday date ("YYYY-MM-DD", a Vietnam date) from JSON {name_vi
 * (required), name_en, off (default true; false = a compensating working
 * day)}, replacing what the date had (admin on a node of a top tier).
 * Returns 0, or -1 with *e. */
int reports_holiday_put(reports *r, const char *date, const json_t *fields,
                        const reports_actor *who, lt_error *e);

/* Deletes holiday date (admin on a node of a top tier; holiday.not_found
 * when the date is not listed). Returns 0, or -1 with *e. */
int reports_holiday_delete(reports *r, const char *date, const reports_actor *who, lt_error *e);

/* One escalation sweep at now_ms: every open report past its deadline whose
 * next escalation level has fallen due and targets this node's unit gets an
 * "escalate" action. *escalated receives how many. Logs one line per
 * escalation. Safe on a pool thread: each report holds the context's lock
 * only for its own decision and write. Returns 0, or -1 with *e (the last
 * failure; those written stay written). */
int reports_sweep(reports *r, uint64_t now_ms, size_t *escalated, lt_error *e);

/* Streams support: the bytes of photo hash (64 hex) of report code, joined
 * from its chunks (malloc'd into *data) and its MIME type (static string).
 * Returns 0, 1 when absent, -1 on error. */
int reports_photo_get(reports *r, const char *code, const char *hash, uint8_t **data, size_t *len,
                      const char **type);

#endif
