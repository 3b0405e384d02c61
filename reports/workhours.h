/*
 * workhours.h - deadlines in working time: Monday to Friday, 08:00-12:00
 * and 13:00-17:00 Asia/Ho_Chi_Minh (UTC+7, no daylight saving), changed by
 * a holiday calendar: a listed day with off = true is not worked (a public
 * holiday, ngày nghỉ lễ), a listed day with off = false is (a compensating
 * working Saturday, ngày làm bù). The calendar is data (collection
 * "holidays", reports/holidays.c); this file only counts.
 */
#ifndef LT_WORKHOURS_H
#define LT_WORKHOURS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One listed day: its local day number (days since 1970-01-01 in UTC+7)
 * and whether it is off. */
typedef struct {
    int64_t day;
    bool off;
} workhours_day;

/* The listed days, sorted by day, without repeats; NULL days or n = 0 is
 * plain Monday to Friday. */
typedef struct {
    const workhours_day *days;
    size_t n;
} workhours_calendar;

/* The instant (ms since the epoch) after `hours` hours of working time
 * counted from from_ms (time outside working hours does not count). */
uint64_t workhours_add_hours(const workhours_calendar *cal, uint64_t from_ms, unsigned hours);

/* 17:00 local of the days-th working day after the local day of from_ms. */
uint64_t workhours_add_days(const workhours_calendar *cal, uint64_t from_ms, unsigned days);

/* The local day number of a date "YYYY-MM-DD" (a real calendar date,
 * years 1970-9999) into *day. False when s is not one. */
bool workhours_date_parse(const char *s, int64_t *day);

/* The local day number of the instant ms. */
int64_t workhours_day_of(uint64_t ms);

#endif
