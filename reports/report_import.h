/*
 * report_import.h - field reports brought from another system (`lienthong
 * import --collection reports`, docs/reports.md "Import") and taken out
 * again (`lienthong export --collection reports`).
 *
 * A line is a JSON object with the API's field names or Open311's
 * (service_request_id, service_code, description, lat, long, address,
 * requested_datetime, status open/closed, status_notes). It goes through
 * the create rules of reports_create (report_fields_check) and becomes a
 * report with the defaults of a new one (area and owner, deadline from its
 * category, tracking code), keeping the history it brings: its receipt
 * time, status and answer. Writing is idempotent: a line whose report is
 * stored with the same content writes nothing.
 */
#ifndef LT_REPORT_IMPORT_H
#define LT_REPORT_IMPORT_H

#include "reports/reports.h"

/* Checks one line and normalises it into *fields (a new reference: the
 * line's fields under the API's names, times in ms, "code" its tracking
 * code, derived as "<UNIT>-I<16 hex>" from the content when the line has
 * no id) and code. Returns 0, or -1 with *field (the line's name of the
 * field at fault, "" for the line as a whole) and *e (LT_EINVAL for a bad
 * line; the kind of reports_create's rules, or of report_authority for a
 * report this node may not write). Reads the store (categories, units,
 * the report's owners); writes nothing. */
int reports_import_check(reports *r, const json_t *line, json_t **fields,
                         char code[REPORT_CODE_MAX], const char **field, lt_error *e);

/* Writes the reports of n checked lines (reports_import_check) in one
 * transaction: a new report as one put, a stored one whose fields differ
 * as one patch with an "import" history item, one with the same fields
 * not at all (counted in *unchanged; the others in *written). Raises the
 * node's tracking-code counter past every imported code of the node's own
 * "<UNIT>-<N>" form first, so later reports never take one of them.
 * Returns 0, or -1 with *e (LT_ESTORAGE when the store failed, the kind of
 * store_write_errkind when it refused the batch, LT_ETOOLARGE for a report
 * over the entry limit; nothing of the batch written). */
int reports_import_write(reports *r, json_t *const *fields, size_t n, size_t *written,
                         size_t *unchanged, lt_error *e);

/* The import line of report record rec (as record_to_json gives it): the
 * fields a line may carry, under the API's names ("id" the code, "unit"
 * the area unit), so importing it gives the same report. New reference. */
json_t *reports_export_line(const json_t *rec);

#endif
