/*
 * log.c - logfmt lines on stderr. See log.h.
 */
#include "lib/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static log_level threshold = LOG_INFO;
static pthread_once_t threshold_once = PTHREAD_ONCE_INIT;

/* Reads LT_LOG once, whichever thread logs first (pool threads log too). */
static void threshold_from_env(void)
{
    const char *v = getenv("LT_LOG");
    if (!v)
        return;
    if (!strcmp(v, "debug"))
        threshold = LOG_DEBUG;
    else if (!strcmp(v, "warn"))
        threshold = LOG_WARN;
    else if (!strcmp(v, "error"))
        threshold = LOG_ERROR;
}

/* Lines with the same event and fields, per second, before the rest of
 * that second's copies are only counted. */
#define LOG_REPEAT_MAX 10
#define LOG_REPEAT_SLOTS 64

/* One kind of line seen lately: its hash, the second it was counted in. */
typedef struct {
    uint64_t hash;
    time_t sec;
    unsigned count;
    unsigned long folded;
    char event[64];
} repeat_slot;

static repeat_slot repeats[LOG_REPEAT_SLOTS];
static pthread_mutex_t repeats_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t line_hash(const char *event, const char *fields, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = event; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)fields[i]) * 1099511628211ull;
    return h;
}

static size_t line_prefix(char *line, size_t cap, log_level lvl, const char *event)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, cap, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s event=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, names[lvl], event);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* The line saying how many copies of slot's line were left out. */
static void repeat_report(const repeat_slot *r)
{
    char line[256];
    size_t n = line_prefix(line, sizeof line, LOG_WARN, "log.repeated");
    int m =
        snprintf(line + n, sizeof line - n, " of=%s folded=%lu within_s=1\n", r->event, r->folded);
    if (m > 0 && (size_t)m < sizeof line - n)
        fwrite(line, 1, n + (size_t)m, stderr);
}

/* Whether a line of event with these fields may be written now: false for
 * the copies past LOG_REPEAT_MAX in one second. Reports the copies left
 * out when that second is over and the line comes again (or another line
 * takes its slot). */
static bool repeat_allow(const char *event, const char *fields, size_t n)
{
    uint64_t h = line_hash(event, fields, n);
    time_t now = time(NULL);
    pthread_mutex_lock(&repeats_lock);
    repeat_slot *r = &repeats[h % LOG_REPEAT_SLOTS];
    if (r->hash != h || r->sec != now) {
        if (r->folded)
            repeat_report(r);
        r->hash = h;
        r->sec = now;
        r->count = 0;
        r->folded = 0;
        snprintf(r->event, sizeof r->event, "%s", event);
    }
    bool ok = ++r->count <= LOG_REPEAT_MAX;
    if (!ok)
        r->folded++;
    pthread_mutex_unlock(&repeats_lock);
    return ok;
}

void log_write(log_level lvl, const char *event, const char *fmt, ...)
{
    pthread_once(&threshold_once, threshold_from_env);
    if (lvl < threshold)
        return;
    char line[2048];
    int n = (int)line_prefix(line, sizeof line, lvl, event);
    int start = n;
    if (fmt && *fmt && n > 0 && (size_t)n < sizeof line - 2) {
        line[n++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
        va_end(ap);
        if (m > 0)
            n += m < (int)(sizeof line - (size_t)n - 1) ? m : (int)(sizeof line - (size_t)n - 2);
    }
    if (n >= (int)sizeof line - 1)
        n = (int)sizeof line - 2;
    if (!repeat_allow(event, line + start, (size_t)(n - start)))
        return;
    line[n++] = '\n';
    fwrite(line, 1, (size_t)n, stderr);
}
