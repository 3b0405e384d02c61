/*
 * av_log.c - FFmpeg's messages through lib/log. See av_log.h.
 */
#include "media/av_log.h"
#include "lib/log.h"

#include <libavutil/log.h>
#include <stdarg.h>
#include <stdio.h>

static const char *av_level_name(int level)
{
    if (level <= AV_LOG_FATAL)
        return "fatal";
    return level <= AV_LOG_ERROR ? "error" : "warning";
}

/* One message as msg="...": the line's newline dropped, quotes and
 * backslashes made harmless for logfmt. */
static void av_log_line(void *avcl, int level, const char *fmt, va_list vl)
{
    if (level > AV_LOG_WARNING)
        return;
    char line[512], msg[512];
    int prefix = 1;
    av_log_format_line2(avcl, level, fmt, vl, line, sizeof line, &prefix);
    size_t n = 0;
    for (const char *p = line; *p && n + 1 < sizeof msg; p++) {
        if (*p == '\n' || *p == '\r')
            continue;
        msg[n++] = *p == '"' ? '\'' : *p == '\\' ? '/' : *p;
    }
    msg[n] = '\0';
    log_write(LOG_DEBUG, "ffmpeg.log", "level_av=%s msg=\"%s\"", av_level_name(level), msg);
}

void media_av_log_route(void)
{
    av_log_set_callback(av_log_line);
}
