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
static bool threshold_set; /* log_set_level() was called: LT_LOG is ignored */
static log_format format = LOG_FORMAT_LOGFMT;

static const char *level_names[] = {"debug", "info", "warn", "error"};

int log_level_parse(const char *name, log_level *lvl)
{
    for (int i = LOG_DEBUG; i <= LOG_ERROR; i++)
        if (name && !strcmp(name, level_names[i])) {
            *lvl = (log_level)i;
            return 0;
        }
    return -1;
}

/* Reads LT_LOG once, whichever thread logs first (pool threads log too). */
static void threshold_from_env(void)
{
    log_level l;
    if (!threshold_set && !log_level_parse(getenv("LT_LOG"), &l) && l != LOG_INFO)
        threshold = l;
}

void log_set_level(log_level lvl)
{
    threshold_set = true;
    threshold = lvl;
}

void log_set_format(log_format f)
{
    format = f;
}

int log_format_parse(const char *name, log_format *f)
{
    if (name && !strcmp(name, "logfmt"))
        *f = LOG_FORMAT_LOGFMT;
    else if (name && !strcmp(name, "json"))
        *f = LOG_FORMAT_JSON;
    else
        return -1;
    return 0;
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
    const char *const *names = level_names;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, cap, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s event=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, names[lvl], event);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* Appends the JSON string of s[0..n) (quotes and escapes) to out. */
static size_t json_str(char *out, size_t cap, size_t o, const char *s, size_t n)
{
    if (o < cap)
        out[o++] = '"';
    for (size_t i = 0; i < n && o + 7 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20)
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
        else
            out[o++] = (char)c;
    }
    if (o < cap)
        out[o++] = '"';
    return o;
}

/* Whether s[0..n) is a plain decimal number JSON takes as it is. */
static bool is_number(const char *s, size_t n)
{
    size_t i = s[0] == '-' ? 1 : 0, digits = 0;
    bool dot = false;
    if (n == i || n > 20 || (s[i] == '0' && n > i + 1 && s[i + 1] != '.'))
        return false;
    for (; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            digits++;
        else if (s[i] == '.' && !dot && digits)
            dot = true;
        else
            return false;
    }
    return digits && s[n - 1] != '.';
}

/* One value of a logfmt line at *p (quoted with \" escapes, or up to the
 * next space): its start and length, unquoted when it was quoted; *p moves
 * past it. Quoted values are unescaped into buf. */
static size_t logfmt_value(const char **p, const char *end, char *buf, size_t cap, const char **val)
{
    const char *q = *p;
    if (q < end && *q == '"') {
        size_t n = 0;
        for (q++; q < end && *q != '"'; q++) {
            if (*q == '\\' && q + 1 < end)
                q++;
            if (n < cap)
                buf[n++] = *q;
        }
        *p = q < end ? q + 1 : q;
        *val = buf;
        return n;
    }
    while (q < end && *q != ' ')
        q++;
    *val = *p;
    size_t n = (size_t)(q - *p);
    *p = q;
    return n;
}

/* Rewrites the logfmt line in[0..n) as one JSON object into out. */
static size_t logfmt_to_json(const char *in, size_t n, char *out, size_t cap)
{
    const char *p = in, *end = in + n;
    size_t o = 0;
    char vbuf[2048];
    out[o++] = '{';
    while (p < end && o + 16 < cap) {
        while (p < end && *p == ' ')
            p++;
        const char *k = p;
        while (p < end && *p != '=' && *p != ' ')
            p++;
        if (p == k || p >= end || *p != '=') {
            while (p < end && *p != ' ')
                p++;
            continue;
        }
        size_t klen = (size_t)(p - k);
        p++;
        const char *v;
        bool quoted = p < end && *p == '"';
        size_t vlen = logfmt_value(&p, end, vbuf, sizeof vbuf, &v);
        if (out[o - 1] != '{')
            out[o++] = ',';
        o = json_str(out, cap, o, k, klen);
        if (o < cap)
            out[o++] = ':';
        if (!quoted && is_number(v, vlen) && o + vlen < cap) {
            memcpy(out + o, v, vlen);
            o += vlen;
        } else
            o = json_str(out, cap, o, v, vlen);
    }
    if (o < cap)
        out[o++] = '}';
    return o < cap ? o : cap;
}

/* Writes one finished logfmt line (no newline) in the chosen format. */
static void line_emit(const char *line, size_t n)
{
    char out[4200];
    if (format == LOG_FORMAT_JSON)
        n = logfmt_to_json(line, n, out, sizeof out - 1);
    else {
        n = n < sizeof out - 1 ? n : sizeof out - 1;
        memcpy(out, line, n);
    }
    out[n++] = '\n';
    fwrite(out, 1, n, stderr); /* one write per line: lines of threads never mix */
}

/* The line saying how many copies of slot's line were left out. */
static void repeat_report(const repeat_slot *r)
{
    char line[256];
    size_t n = line_prefix(line, sizeof line, LOG_WARN, "log.repeated");
    int m =
        snprintf(line + n, sizeof line - n, " of=%s folded=%lu within_s=1", r->event, r->folded);
    if (m > 0 && (size_t)m < sizeof line - n)
        line_emit(line, n + (size_t)m);
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
    line_emit(line, (size_t)n);
}
