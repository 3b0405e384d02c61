/*
 * fold.c - see fold.h.
 *
 * Each code point is decomposed on its own with utf8proc_decompose_char
 * (DECOMPOSE|STRIPMARK|CASEFOLD|COMPAT), which drops combining marks and
 * folds case; đ (U+0111, also the fold of Đ U+0110) becomes d. Letters
 * and digits of the result build tokens; anything else ends one.
 */
#include "lib/fold.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define FOLD_OPTIONS (UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD | UTF8PROC_COMPAT)

static bool is_word(utf8proc_int32_t cp)
{
    utf8proc_category_t c = utf8proc_category(cp);
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
           (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO);
}

typedef struct {
    char *out;
    size_t cap, n; /* bytes written of whole tokens */
    char tok[FOLD_TOKEN_MAX + 4];
    size_t toklen;
    bool full;
} folder;

static void token_end(folder *f)
{
    if (!f->toklen || f->full)
        goto done;
    size_t need = f->toklen + (f->n ? 1 : 0);
    if (f->n + need + 1 > f->cap) {
        f->full = true;
        goto done;
    }
    if (f->n)
        f->out[f->n++] = ' ';
    memcpy(f->out + f->n, f->tok, f->toklen);
    f->n += f->toklen;
done:
    f->toklen = 0;
}

static void token_add(folder *f, utf8proc_int32_t cp)
{
    if (cp == 0x111)
        cp = 'd';
    utf8proc_uint8_t b[4];
    utf8proc_ssize_t n = utf8proc_encode_char(cp, b);
    if (f->toklen + (size_t)n > FOLD_TOKEN_MAX)
        return; /* cut an overlong token, keep its start */
    memcpy(f->tok + f->toklen, b, (size_t)n);
    f->toklen += (size_t)n;
}

size_t fold_text(const char *in, size_t len, char *out, size_t cap)
{
    folder f = {.out = out, .cap = cap};
    if (!cap)
        return 0;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)in;
    size_t off = 0;
    while (off < len && !f.full) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p + off, (utf8proc_ssize_t)(len - off), &cp);
        if (n <= 0) {
            token_end(&f);
            off++;
            continue;
        }
        off += (size_t)n;
        utf8proc_int32_t dec[16];
        int boundclass = 0;
        utf8proc_ssize_t m = utf8proc_decompose_char(cp, dec, 16, FOLD_OPTIONS, &boundclass);
        if (m < 0 || m > 16) {
            token_end(&f);
            continue;
        }
        for (utf8proc_ssize_t i = 0; i < m; i++) {
            if (is_word(dec[i]))
                token_add(&f, dec[i]);
            else
                token_end(&f);
        }
    }
    token_end(&f);
    out[f.n] = '\0';
    return f.n;
}

int fold_tokens(const char *in, size_t len, int (*fn)(void *ctx, const char *tok, size_t toklen),
                void *ctx)
{
    size_t cap = len * 3 + 16; /* a code point folds to at most 3 times its bytes here */
    char *buf = malloc(cap);
    if (!buf)
        return -1;
    size_t n = fold_text(in, len, buf, cap);
    int rc = 0;
    for (size_t i = 0; i < n && !rc;) {
        char *sp = memchr(buf + i, ' ', n - i);
        size_t end = sp ? (size_t)(sp - buf) : n;
        rc = fn(ctx, buf + i, end - i);
        i = end + 1;
    }
    free(buf);
    return rc;
}
