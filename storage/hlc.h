/*
 * hlc.h - hybrid logical clocks.
 *
 * A timestamp is 64 bits: the high 48 bits are milliseconds since the Unix
 * epoch, the low 16 bits a counter. Timestamps order events causally even
 * when wall clocks disagree by hours: a node never issues a timestamp below
 * one it has seen. Wall time is shown to people; HLC orders writes.
 */
#ifndef LT_HLC_H
#define LT_HLC_H

#include <stdint.h>

typedef uint64_t hlc_t;

/* Builds a timestamp from milliseconds and a counter. */
static inline hlc_t hlc_make(uint64_t ms, uint16_t counter)
{
    return (ms << 16) | counter;
}
/* The wall-clock milliseconds part. */
static inline uint64_t hlc_ms(hlc_t t)
{
    return t >> 16;
}
/* The counter part. */
static inline uint16_t hlc_counter(hlc_t t)
{
    return (uint16_t)(t & 0xffff);
}

/* Returns a timestamp for a local event: strictly greater than `last`, and
 * at least `wall_ms` when the wall clock is ahead. */
hlc_t hlc_next(hlc_t last, uint64_t wall_ms);

/* Returns the local clock after seeing `remote`: at least both `last` and
 * `remote`, and at least `wall_ms`. Issuing hlc_next afterwards is strictly
 * greater than `remote`. */
hlc_t hlc_observe(hlc_t last, hlc_t remote, uint64_t wall_ms);

/* Current wall-clock time in milliseconds (CLOCK_REALTIME). */
uint64_t hlc_wall_ms(void);

/* Formats t as "2026-11-23T10:49:00.123Z+5" (counter after '+'); returns buf. */
char *hlc_format(hlc_t t, char *buf, unsigned buflen);

#endif
