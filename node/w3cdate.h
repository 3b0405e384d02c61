/*
 * w3cdate.h - W3C datetimes (the ISO 8601 profile of the W3C note
 * "Date and Time Formats", which Open311 GeoReport v2 requires), to and from
 * Unix milliseconds.
 *
 * Written with the zone always: "2026-11-23T16:20:00+07:00" (Vietnam is
 * UTC+7 all year). Read: a date "YYYY-MM-DD" (midnight at a zone the caller
 * names) or a date with a time "YYYY-MM-DDThh:mm[:ss[.s...]]" followed by
 * the zone, "Z" or "+hh:mm"/"-hh:mm"; a time without a zone is refused,
 * since it names no instant.
 */
#ifndef LT_W3CDATE_H
#define LT_W3CDATE_H

#include <stddef.h>
#include <stdint.h>

#define W3CDATE_MAX 32
/* Vietnam's offset from UTC in minutes (Asia/Ho_Chi_Minh, no DST). */
#define W3CDATE_VN_OFFSET_MIN 420

/* Writes ms (Unix epoch milliseconds, whole seconds shown) as a W3C
 * datetime at offset_min minutes east of UTC into out. */
void w3cdate_format(int64_t ms, int offset_min, char out[W3CDATE_MAX]);

/* Parses s into *ms. A bare date is midnight at date_offset_min minutes
 * east of UTC. Returns 0, or -1 with err saying what is wrong and showing
 * a good value. */
int w3cdate_parse(const char *s, int date_offset_min, int64_t *ms, char *err, size_t errlen);

#endif
