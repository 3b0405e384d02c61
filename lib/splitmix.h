/*
 * splitmix.h - SplitMix64, a small deterministic generator for sample
 * data (`lienthong demo`): the same state gives the same sequence on every
 * machine. Not for anything secret.
 */
#ifndef LT_SPLITMIX_H
#define LT_SPLITMIX_H

#include <stdint.h>

/* The next number of the sequence of *state (advanced). */
static inline uint64_t splitmix_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#endif
