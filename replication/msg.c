/*
 * msg.c - replication message builder. See msg.h.
 */
#include "replication/msg.h"

#include <string.h>

msgpack_packer *msg_begin(msg_out *m, const char *type, size_t n)
{
    msgpack_sbuffer_init(&m->sb);
    msgpack_packer_init(&m->pk, &m->sb, msgpack_sbuffer_write);
    msgpack_pack_array(&m->pk, n + 1);
    msgpack_pack_str_with_body(&m->pk, type, strlen(type));
    return &m->pk;
}

void msg_release(msg_out *m)
{
    msgpack_sbuffer_destroy(&m->sb);
}
