/*
 * msg.h - building the msgpack messages of replication, [type, ...]: the
 * session's protocol messages and the records of bundle files.
 */
#ifndef LT_MSG_H
#define LT_MSG_H

#include <msgpack.h>

typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} msg_out;

/* Starts message [type, then n more elements]; returns the packer for
 * them. The bytes are in m->sb; release them with msg_release. */
msgpack_packer *msg_begin(msg_out *m, const char *type, size_t n);

/* Releases the message's buffer. */
void msg_release(msg_out *m);

#endif
