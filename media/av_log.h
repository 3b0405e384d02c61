/*
 * av_log.h - FFmpeg's own messages as log lines of the node's format.
 */
#ifndef LT_MEDIA_AV_LOG_H
#define LT_MEDIA_AV_LOG_H

/* Routes every later FFmpeg message (av_log, from any thread) through
 * log_write as one line `event=ffmpeg.log level_av=<name> msg="..."` at the
 * debug level, instead of FFmpeg's raw text on stderr: the node reports a
 * camera's failures itself, with the camera named (event=camera.*), so
 * FFmpeg's warnings about a stream ("deprecated pixel format", a format
 * "detected only with low score") only matter when debugging. Messages
 * below FFmpeg's warning level are dropped. Idempotent. */
void media_av_log_route(void);

#endif
