/*
 * log.c - logfmt lines on stderr. See log.h.
 */
#include "lib/log.h"

#include <pthread.h>
#include <stdarg.h>
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

void log_write(log_level lvl, const char *event, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    pthread_once(&threshold_once, threshold_from_env);
    if (lvl < threshold)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char line[2048];
    int n = snprintf(line, sizeof line, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s event=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, names[lvl], event);
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
    line[n++] = '\n';
    fwrite(line, 1, (size_t)n, stderr);
}
