/*
 * error.c - the one table of error kinds: HTTP status, CLI exit code and
 * generic machine code of each.
 */
#include "lib/error.h"

#include <stdarg.h>
#include <stdio.h>

typedef struct {
    int status;
    int exit_code;
    const char *code;
} errkind_row;

/* Indexed by lt_errkind; error.h describes each kind. The first kind of a
 * status is that status's generic kind (lt_errkind_of_status). */
static const errkind_row ERRKINDS[LT_ERRKIND_COUNT] = {
    [LT_OK] = {200, 0, "ok"},
    [LT_EINVAL] = {400, 2, "invalid"},
    [LT_EAUTH] = {401, 1, "unauthenticated"},
    [LT_EFORBIDDEN] = {403, 1, "forbidden"},
    [LT_ENOTFOUND] = {404, 1, "not_found"},
    [LT_EMETHOD] = {405, 1, "method_not_allowed"},
    [LT_ETIMEOUT] = {408, 1, "timeout"},
    [LT_ECONFLICT] = {409, 1, "conflict"},
    [LT_ETOOLARGE] = {413, 1, "too_large"},
    [LT_ERATE] = {429, 1, "rate_limited"},
    [LT_EINTERNAL] = {500, 1, "internal"},
    [LT_EUNAVAILABLE] = {503, 1, "unavailable"},
    [LT_ESTORAGE] = {500, 1, "storage"},
    [LT_ENOSPACE] = {507, 1, "insufficient_storage"},
};

static const errkind_row *errkind_row_of(lt_errkind kind)
{
    unsigned k = (unsigned)kind;
    return k < LT_ERRKIND_COUNT ? &ERRKINDS[k] : &ERRKINDS[LT_EINTERNAL];
}

int lt_errkind_status(lt_errkind kind)
{
    return errkind_row_of(kind)->status;
}

int lt_errkind_exit(lt_errkind kind)
{
    return errkind_row_of(kind)->exit_code;
}

const char *lt_errkind_code(lt_errkind kind)
{
    return errkind_row_of(kind)->code;
}

lt_errkind lt_errkind_of_status(int status)
{
    if (status < 400)
        return LT_OK;
    for (unsigned k = LT_OK + 1; k < LT_ERRKIND_COUNT; k++)
        if (ERRKINDS[k].status == status)
            return (lt_errkind)k; /* the first of a status is its generic kind */
    return status < 500 ? LT_EINVAL : LT_EINTERNAL;
}

const char *lt_error_status_code(int status)
{
    return lt_errkind_code(lt_errkind_of_status(status));
}

int lt_error_set(lt_error *e, lt_errkind kind, const char *code, const char *fmt, ...)
{
    if (!e)
        return -1;
    e->kind = kind;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return -1;
}

int lt_error_mark(lt_error *e, lt_errkind kind, const char *code)
{
    e->kind = kind;
    e->code = code;
    return -1;
}

const char *lt_error_code(const lt_error *e)
{
    return e->code ? e->code : lt_errkind_code(e->kind);
}

void lt_error_clear(lt_error *e)
{
    e->kind = LT_OK;
    e->code = NULL;
    e->message[0] = '\0';
}
