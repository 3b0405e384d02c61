/*
 * report_index.h - the indexes and statistics of field reports, kept inside
 * the apply transaction (docs/reports.md, key layouts in docs/storage.md).
 *
 * Every index entry is a pure function of a report record's bytes, so a
 * change is "remove what the old record contributed, add what the new one
 * contributes": equal entries give equal index bytes on every node, in any
 * order of arrival, and store_verify can rebuild and compare them.
 */
#ifndef LT_REPORT_INDEX_H
#define LT_REPORT_INDEX_H

#include "reports/report_query.h"
#include "reports/reports.h"
#include "storage/store_index.h"

/* The index as the store keeps it (storage/store_index.h), for the daemon
 * and the CLI to pass to store_open; name REPORT_COLL. */
extern const store_index report_index;

/* The index's databases (in the order of report_index.dbs) and the
 * store's records, as the index code uses them. */
typedef struct {
    MDB_dbi records, rscope, rstatus, rdue, rtext, rstats, rperson;
} report_dbs;

/* The databases of t. */
report_dbs report_dbs_of(const store_index_txn *t);

/* The named databases, key layouts in docs/storage.md:
 *   rscope  unit 0x00 pos -> status(1) deadline(8 BE) category
 *   rstatus unit 0x00 status(1) pos -> ""
 *   rdue    deadline(8 BE) id -> inv(8)        (open reports with a deadline)
 *   rtext   token 0x00 pos -> ""
 *   rstats  kind(1: 'u' unit alone, 's' subtree) unit 0x00 day(4 BE) category
 *           -> counters (pairs of index u8, value LEB128, non-zero only)
 *   rperson role(1: 'a' assignee, 'c' created_by) user 0x00 pos -> ""
 * where pos = inv(8 BE) id and inv = ~created_ms, so keys sort newest first,
 * and day = the UTC+7 day of created_ms, counted from 1970-01-01. */
#define REPORT_UNIT_MAX 64 /* unit code bytes with the NUL */
#define REPORT_POS_MAX (8 + ENTRY_MAX_NAME)

/* The statistics counters of one (kind, unit, day, category). */
enum {
    RC_TOTAL = 0,
    RC_STATUS = 1, /* REPORT_NSTATUS counters, in report_statuses order */
    RC_RESOLVED = 11,
    RC_RES_DEADLINE = 12,
    RC_ON_TIME = 13,
    RC_RES_SUM = 14,
    RC_SATISFIED = 15,
    RC_ACCEPTABLE = 16,
    RC_UNSATISFIED = 17,
    RC_HIST = 18, /* REPORT_HIST_BUCKETS counters */
    RC_COUNT = 18 + 64
};

/* The roles of rperson. */
#define REPORT_PERSON_ASSIGNEE 'a'
#define REPORT_PERSON_CREATOR 'c'

/* role user 0x00 into out (1 + REPORT_USER_MAX); returns its length. */
size_t report_person_prefix(uint8_t *out, char role, const char *user);
/* pos = inv(created) id into out (REPORT_POS_MAX); returns its length. */
size_t report_pos(uint8_t *out, uint64_t created_ms, const char *id, size_t idlen);
/* The UTC+7 day number of a wall time in ms. */
uint32_t report_day(uint64_t ms);
/* Decodes a counters value into c (zeroed first). Returns 0 or
 * MDB_CORRUPTED. */
int report_counters_decode(const MDB_val *v, uint64_t c[RC_COUNT]);

#endif
