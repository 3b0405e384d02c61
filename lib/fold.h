/*
 * fold.h - diacritic and case folding of free text for search.
 *
 * Vietnamese text is searched without its marks: "duong ngap nuoc" finds
 * "Đường ngập nước" and "Đ" finds "D". Folding decomposes (NFD), strips the
 * combining marks, case-folds (utf8proc) and maps đ/Đ, which do not
 * decompose, to d. Tokens are maximal runs of letters and digits of the
 * folded text; everything else separates them. Index and query fold the
 * same way, so both sides meet.
 */
#ifndef LT_FOLD_H
#define LT_FOLD_H

#include <stddef.h>

/* The longest token kept (bytes); longer runs are cut to this length. */
#define FOLD_TOKEN_MAX 64

/* Folds len bytes of UTF-8 at in into out (cap bytes, NUL-terminated):
 * the tokens separated by single spaces. Invalid UTF-8 bytes separate
 * tokens. Returns the length written (cut at whole tokens when out is too
 * small). */
size_t fold_text(const char *in, size_t len, char *out, size_t cap);

/* Calls fn for every token of the folded text, in order (duplicates
 * included); stops when fn returns non-zero and returns that value.
 * Returns -1 when out of memory. */
int fold_tokens(const char *in, size_t len, int (*fn)(void *ctx, const char *tok, size_t toklen),
                void *ctx);

#endif
