/*
 * workhours.h - deadlines in working time: Monday to Friday, 08:00-12:00
 * and 13:00-17:00 Asia/Ho_Chi_Minh (UTC+7, no daylight saving). Public
 * holidays are not modelled.
 */
#ifndef LT_WORKHOURS_H
#define LT_WORKHOURS_H

#include <stdint.h>

/* The instant (ms since the epoch) after `hours` hours of working time
 * counted from from_ms (time outside working hours does not count). */
uint64_t workhours_add_hours(uint64_t from_ms, unsigned hours);

/* 17:00 local of the days-th working day after the local day of from_ms. */
uint64_t workhours_add_days(uint64_t from_ms, unsigned days);

#endif
