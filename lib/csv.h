/*
 * csv.h - writing CSV exports of the lists (reports, documents, cameras,
 * users): UTF-8 with a byte order mark, RFC 4180 quoting, and a guard
 * against spreadsheet formulas. Contract: docs/web.md "CSV exports".
 */
#ifndef LT_CSV_H
#define LT_CSV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* True when a request asks a list as CSV: format is "csv" (?format=csv)
 * or accept (the Accept header) names text/csv. Either may be NULL. */
bool csv_wanted(const char *format, const char *accept);

/* Writes s as one CSV field: quoted when it holds a comma, quote or line
 * break, with "" for a quote. A text (not a number) starting with = + - @
 * gets a leading ' so a spreadsheet does not run it as a formula. */
void csv_field(FILE *out, const char *s, bool text);

/* Writes the byte order mark (Excel reads the Vietnamese right) and the
 * header row naming cols[0..n), ending with CRLF. */
void csv_header(FILE *out, const char *const *cols, size_t n);

/* Writes one row of n text fields v[0..n) (NULL is empty), ending with
 * CRLF. */
void csv_record(FILE *out, const char *const *v, size_t n);

/* The cell text of a JSON scalar: a string as is, true/false as 1/0, a
 * number in full (into buf), anything else "". */
const char *csv_json_text(const json_t *v, char *buf, size_t cap);

#endif
