/*
 * error.h - typed errors: what kind of failure (lt_errkind), a stable
 * machine code that clients translate ("report.category_unknown") and the
 * human text (English, says what was wrong and what to do).
 *
 * One table (error.c) maps each kind to its HTTP status, its CLI exit code
 * (0 ok, 1 the command ran and failed, 2 the command line or its input was
 * wrong) and its generic code ("not_found"), the code an error gets when
 * nothing more specific is known. The stable codes clients may see are
 * listed in docs/openapi.yaml (schema Error); the web UI translates each.
 */
#ifndef LT_ERROR_H
#define LT_ERROR_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    LT_OK = 0,
    LT_EINVAL,       /* the input is wrong: 400, exit 2 */
    LT_EAUTH,        /* not authenticated: 401 */
    LT_EFORBIDDEN,   /* authenticated but not allowed, or not this node's to do: 403 */
    LT_ENOTFOUND,    /* no such thing: 404 */
    LT_EMETHOD,      /* the method is not served at that path: 405 */
    LT_ETIMEOUT,     /* the request did not arrive in time: 408 */
    LT_ECONFLICT,    /* the thing is in a state that does not allow it: 409 */
    LT_ETOOLARGE,    /* the input is larger than allowed: 413 */
    LT_ERATE,        /* too many attempts, retry later: 429 */
    LT_EINTERNAL,    /* a bug or out of memory: 500 */
    LT_EUNAVAILABLE, /* the node cannot do it now (busy, not set up): 503 */
    LT_ESTORAGE,     /* the store failed (disk full, I/O): 500 */
    LT_ENOSPACE,     /* the disk is (nearly) full: writes refused, 507 */
    LT_ERRKIND_COUNT
} lt_errkind;

#define LT_ERROR_CODE_MAX 64
#define LT_ERROR_MESSAGE_MAX 512

/* A failure: its kind, its stable code (a string constant, never freed;
 * NULL means the generic code of the kind) and its message. */
typedef struct {
    lt_errkind kind;
    const char *code;
    char message[LT_ERROR_MESSAGE_MAX];
} lt_error;

/* The HTTP status of kind (200 for LT_OK, 500 for an unknown kind). */
int lt_errkind_status(lt_errkind kind);

/* The CLI exit code of kind: 0 for LT_OK, 2 for LT_EINVAL, else 1. */
int lt_errkind_exit(lt_errkind kind);

/* The generic machine code of kind ("invalid", "not_found", ...; "ok" for
 * LT_OK, "internal" for an unknown kind). A static string. */
const char *lt_errkind_code(lt_errkind kind);

/* The kind whose status is status; for a status of no kind, LT_EINVAL for
 * other 4xx and LT_EINTERNAL for other 5xx (LT_OK below 400). */
lt_errkind lt_errkind_of_status(int status);

/* The generic code of the kind of HTTP status (lt_errkind_of_status). */
const char *lt_error_status_code(int status);

/* Sets *e to kind, code (a string constant; NULL = generic) and the
 * formatted message. Returns -1, so a failing function can end with
 * `return lt_error_set(...)`. e may be NULL (then only returns -1). */
int lt_error_set(lt_error *e, lt_errkind kind, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Sets the kind and code of e and keeps its message, which a function
 * that reports text only (char *err, size_t errlen) wrote into
 * e->message. Returns -1. */
int lt_error_mark(lt_error *e, lt_errkind kind, const char *code);

/* The code of e: its own, else the generic code of its kind. */
const char *lt_error_code(const lt_error *e);

/* Resets *e to LT_OK with no code and an empty message. */
void lt_error_clear(lt_error *e);

#endif
