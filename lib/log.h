/*
 * log.h - structured logging, one line per event (logfmt).
 *
 * Every line is `ts=<ISO-8601 UTC> level=<level> event=<dotted.name> k=v ...`
 * on stderr, so operators can grep and scripts can parse. Callers format the
 * key=value part; values containing spaces must be quoted by the caller.
 */
#ifndef LT_LOG_H
#define LT_LOG_H

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

/* How lines are written: logfmt (the default, above) or one JSON object
 * per line with the same keys ({"ts":..,"level":..,"event":..,"k":"v"}):
 * values that are plain numbers become JSON numbers, others strings. */
typedef enum { LOG_FORMAT_LOGFMT, LOG_FORMAT_JSON } log_format;

/* Sets the line format for every later line. */
void log_set_format(log_format f);

/* Parses "logfmt" or "json" into *f. Returns 0, or -1 for anything else. */
int log_format_parse(const char *name, log_format *f);

/* Sets the lowest level written (overrides LT_LOG). */
void log_set_level(log_level lvl);

/* Parses "debug", "info", "warn" or "error" into *lvl. 0, or -1. */
int log_level_parse(const char *name, log_level *lvl);

/* Writes one log line if lvl >= the current threshold. The same line (event
 * and fields) more than 10 times in one second is written 10 times; the
 * copies left out are counted in a later line
 * `event=log.repeated of=EVENT folded=N within_s=1`. Thread-safe. */
void log_write(log_level lvl, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
