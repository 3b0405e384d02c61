/*
 * hex.h - lower-case hexadecimal for keys, hashes and digests.
 */
#ifndef LT_HEX_H
#define LT_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2n lower-case hex digits of in[0..n) and a NUL to out; returns out. */
char *hex_encode(const uint8_t *in, size_t n, char *out);

/* Parses exactly 2n hex digits (any case) followed by NUL into out[0..n).
 * Returns 0, or -1 when the text is not that. */
int hex_decode(const char *in, uint8_t *out, size_t n);

#endif
