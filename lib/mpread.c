/*
 * mpread.c - in-place msgpack reading of mpread.h.
 */
#include "lib/mpread.h"
#include "lib/mpjson.h"

#include <string.h>

static size_t left(const mpread *r)
{
    return (size_t)(r->end - r->p);
}

/* A big-endian number of n bytes at p (n <= 8). */
static uint64_t be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

bool mpread_key(mpread *r, const char *key)
{
    size_t kl = strlen(key);
    if (kl < 32 && left(r) > kl && r->p[0] == (0xa0 | kl) && !memcmp(r->p + 1, key, kl)) {
        r->p += 1 + kl; /* the fixstr every encoder writes for a short key */
        return true;
    }
    mpread at = *r;
    const char *s;
    uint32_t n;
    if (!mpread_str(&at, &s, &n) || n != kl || memcmp(s, key, n))
        return false;
    *r = at;
    return true;
}

bool mpread_uint(mpread *r, uint64_t *v)
{
    if (!left(r))
        return false;
    uint8_t t = r->p[0];
    if (t <= 0x7f) {
        *v = t;
        r->p++;
        return true;
    }
    /* uint 8-64, and int 8-64 holding a value >= 0 (msgpack-c reads both
     * as a positive integer, so a checked entry may hold either) */
    bool sign = t >= 0xd0 && t <= 0xd3;
    size_t n = t >= 0xcc && t <= 0xcf ? (size_t)1 << (t - 0xcc)
               : sign                 ? (size_t)1 << (t - 0xd0)
                                      : 0;
    if (!n || left(r) < 1 + n || (sign && (r->p[1] & 0x80)))
        return false;
    *v = be(r->p + 1, n);
    r->p += 1 + n;
    return true;
}

bool mpread_bin(mpread *r, uint8_t n, const uint8_t **out)
{
    if (!left(r))
        return false;
    uint8_t t = r->p[0];
    size_t w = t >= 0xc4 && t <= 0xc6 ? (size_t)1 << (t - 0xc4) : 0;
    if (!w || left(r) < 1 + w || be(r->p + 1, w) != n || left(r) - 1 - w < n)
        return false;
    *out = r->p + 1 + w;
    r->p += 1 + w + n;
    return true;
}

bool mpread_str(mpread *r, const char **s, uint32_t *n)
{
    if (!left(r))
        return false;
    uint8_t t = r->p[0];
    size_t h = (t & 0xe0) == 0xa0 ? 1 : t >= 0xd9 && t <= 0xdb ? 1 + ((size_t)1 << (t - 0xd9)) : 0;
    if (!h || left(r) < h)
        return false;
    uint64_t len = h == 1 ? (uint64_t)(t & 0x1f) : be(r->p + 1, h - 1);
    if (left(r) - h < len)
        return false;
    *s = (const char *)r->p + h;
    *n = (uint32_t)len;
    r->p += h + len;
    return true;
}

/* A container header: fix types in [fix, fix + 15], then 16- and 32-bit. */
static bool container(mpread *r, uint8_t fix, uint8_t t16, uint32_t *n)
{
    if (!left(r))
        return false;
    uint8_t t = r->p[0];
    if ((t & 0xf0) == fix) {
        *n = t & 0x0f;
        r->p++;
        return true;
    }
    size_t w = t == t16 ? 2 : t == t16 + 1 ? 4 : 0;
    if (!w || left(r) < 1 + w)
        return false;
    *n = (uint32_t)be(r->p + 1, w);
    r->p += 1 + w;
    return true;
}

bool mpread_array(mpread *r, uint32_t *n)
{
    return container(r, 0x90, 0xdc, n);
}

bool mpread_map(mpread *r, uint32_t *n)
{
    return container(r, 0x80, 0xde, n);
}

bool mpread_nil(mpread *r)
{
    if (!left(r) || r->p[0] != 0xc0)
        return false;
    r->p++;
    return true;
}

bool mpread_bool(mpread *r, bool *b)
{
    if (!left(r) || (r->p[0] != 0xc2 && r->p[0] != 0xc3))
        return false;
    *b = r->p[0] == 0xc3;
    r->p++;
    return true;
}

bool mpread_skip(mpread *r)
{
    size_t used;
    if (!left(r) || mpjson_scan(r->p, left(r), &used, NULL, 0))
        return false;
    r->p += used;
    return true;
}

bool mpread_map_skip(mpread *r, uint32_t *n)
{
    mpread head = *r;
    return mpread_map(&head, n) && mpread_skip(r);
}
