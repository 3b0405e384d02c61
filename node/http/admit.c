/*
 * admit.c - connection caps and body budgets of the HTTP server. See
 * admit.h.
 *
 * Connections are a flat array searched linearly: it holds at most
 * max_conns entries (plus those shed but not yet closed), and the searches
 * compare pointers or 16 bytes. Body shares are a small array of the
 * addresses with unvouched bytes in flight.
 */
#include "node/http/admit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

/* Connections shed but not yet closed (lws closes them on its next pass)
 * beyond max_conns before new ones are refused: each holds a descriptor. */
#define HTTP_SHED_SLACK 32u

typedef struct {
    void *conn;
    uint8_t addr[16];
    uint64_t seq; /* order of opening: the smallest is the oldest */
    bool busy;
    bool shed; /* being closed to make room: no longer counted */
} admit_conn_rec;

typedef struct {
    uint8_t addr[16];
    size_t bytes;
} admit_share;

struct http_admit {
    unsigned max_conns, max_conns_per_addr;
    size_t body_budget, body_per_addr;
    admit_conn_rec *conns;
    size_t nconns, conns_cap;
    uint64_t seq;
    size_t body_all, body_unvouched;
    admit_share *shares;
    size_t nshares, shares_cap;
};

static unsigned conns_from_rlimit(void)
{
    struct rlimit rl;
    rlim_t n = 1024;
    if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY)
        n = rl.rlim_cur;
    else if (!getrlimit(RLIMIT_NOFILE, &rl))
        n = 65536;
    if (n > 65536)
        n = 65536;
    return n > 2 * HTTP_FD_RESERVE ? (unsigned)(n - HTTP_FD_RESERVE) : (unsigned)(n / 2);
}

http_admit *admit_new(const http_limits *l)
{
    http_admit *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->max_conns = l && l->max_conns ? l->max_conns : conns_from_rlimit();
    a->max_conns_per_addr =
        l && l->max_conns_per_addr ? l->max_conns_per_addr : HTTP_DEFAULT_CONNS_PER_ADDR;
    a->body_budget = l && l->body_budget ? l->body_budget : HTTP_DEFAULT_BODY_BUDGET;
    a->body_per_addr =
        l && l->body_budget_per_addr ? l->body_budget_per_addr : HTTP_DEFAULT_BODY_PER_ADDR;
    return a;
}

void admit_free(http_admit *a)
{
    if (!a)
        return;
    free(a->conns);
    free(a->shares);
    free(a);
}

unsigned admit_max_conns(const http_admit *a)
{
    return a->max_conns;
}

unsigned admit_max_conns_per_addr(const http_admit *a)
{
    return a->max_conns_per_addr;
}

bool admit_addr(const struct sockaddr *sa, uint8_t addr[16])
{
    if (sa->sa_family == AF_INET6) {
        memcpy(addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return true;
    }
    if (sa->sa_family == AF_INET) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        memcpy(addr, mapped, 12);
        memcpy(addr + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return true;
    }
    return false;
}

void admit_addr_text(const uint8_t addr[16], char *out, size_t outlen)
{
    struct in6_addr a6;
    memcpy(&a6, addr, 16);
    if (IN6_IS_ADDR_V4MAPPED(&a6) && inet_ntop(AF_INET, addr + 12, out, (socklen_t)outlen))
        return;
    if (!inet_ntop(AF_INET6, addr, out, (socklen_t)outlen))
        snprintf(out, outlen, "?");
}

/* The oldest idle, counted connection (of addr when not NULL), or NULL. */
static admit_conn_rec *oldest_idle(http_admit *a, const uint8_t *addr)
{
    admit_conn_rec *best = NULL;
    for (size_t i = 0; i < a->nconns; i++) {
        admit_conn_rec *c = &a->conns[i];
        if (c->busy || c->shed || (addr && memcmp(c->addr, addr, 16)))
            continue;
        if (!best || c->seq < best->seq)
            best = c;
    }
    return best;
}

int admit_conn(http_admit *a, const uint8_t addr[16], void **shed, char *why, size_t whylen)
{
    size_t all = 0, same = 0;
    *shed = NULL;
    for (size_t i = 0; i < a->nconns; i++) {
        if (a->conns[i].shed)
            continue;
        all++;
        same += !memcmp(a->conns[i].addr, addr, 16);
    }
    admit_conn_rec *victim = NULL;
    if (a->nconns >= (size_t)a->max_conns + HTTP_SHED_SLACK) {
        /* the shed ones still hold their descriptors until lws closes them */
        snprintf(why, whylen,
                 "the node is closing idle connections to make room; retry in a few seconds");
        return -1;
    }
    if (same >= a->max_conns_per_addr) {
        if (!(victim = oldest_idle(a, addr))) {
            snprintf(why, whylen,
                     "this address already holds %zu connections, the most one address may "
                     "hold (%u); close some and retry",
                     same, a->max_conns_per_addr);
            return -1;
        }
    } else if (all >= a->max_conns) {
        if (!(victim = oldest_idle(a, NULL))) {
            snprintf(why, whylen,
                     "the node holds %zu connections, its most (%u), all busy; retry in a "
                     "few seconds",
                     all, a->max_conns);
            return -1;
        }
    }
    if (victim) {
        victim->shed = true;
        *shed = victim->conn;
    }
    return 0;
}

int admit_conn_open(http_admit *a, void *conn, const uint8_t addr[16])
{
    if (a->nconns == a->conns_cap) {
        size_t cap = a->conns_cap ? a->conns_cap * 2 : 64;
        admit_conn_rec *n = realloc(a->conns, cap * sizeof *n);
        if (!n)
            return -1;
        a->conns = n;
        a->conns_cap = cap;
    }
    admit_conn_rec *c = &a->conns[a->nconns++];
    memset(c, 0, sizeof *c);
    c->conn = conn;
    memcpy(c->addr, addr, 16);
    c->seq = ++a->seq;
    return 0;
}

static admit_conn_rec *conn_find(http_admit *a, const void *conn)
{
    for (size_t i = 0; i < a->nconns; i++)
        if (a->conns[i].conn == conn)
            return &a->conns[i];
    return NULL;
}

void admit_conn_busy(http_admit *a, void *conn)
{
    admit_conn_rec *c = conn_find(a, conn);
    if (c)
        c->busy = true;
}

void admit_conn_gone(http_admit *a, void *conn)
{
    admit_conn_rec *c = conn_find(a, conn);
    if (c)
        *c = a->conns[--a->nconns];
}

size_t admit_conn_count(const http_admit *a)
{
    size_t n = 0;
    for (size_t i = 0; i < a->nconns; i++)
        n += !a->conns[i].shed;
    return n;
}

static admit_share *share_find(http_admit *a, const uint8_t addr[16])
{
    for (size_t i = 0; i < a->nshares; i++)
        if (!memcmp(a->shares[i].addr, addr, 16))
            return &a->shares[i];
    return NULL;
}

static admit_share *share_add(http_admit *a, const uint8_t addr[16])
{
    if (a->nshares == a->shares_cap) {
        size_t cap = a->shares_cap ? a->shares_cap * 2 : 16;
        admit_share *n = realloc(a->shares, cap * sizeof *n);
        if (!n)
            return NULL;
        a->shares = n;
        a->shares_cap = cap;
    }
    admit_share *s = &a->shares[a->nshares++];
    memcpy(s->addr, addr, 16);
    s->bytes = 0;
    return s;
}

int admit_body(http_admit *a, const uint8_t addr[16], size_t n, bool vouched, char *why,
               size_t whylen)
{
    if (n > a->body_budget - a->body_all || a->body_all > a->body_budget) {
        snprintf(why, whylen,
                 "the node is receiving %zu bytes of request bodies, near its budget of %zu; "
                 "retry in a minute",
                 a->body_all, a->body_budget);
        return -1;
    }
    if (!vouched) {
        size_t pool = a->body_budget / 4 * 3;
        admit_share *s = share_find(a, addr);
        size_t mine = s ? s->bytes : 0;
        if (mine + n > a->body_per_addr) {
            snprintf(why, whylen,
                     "requests from this address without a login already send %zu bytes, and "
                     "this one would pass the %zu bytes one address may send at once; wait "
                     "for them to finish, or log in",
                     mine, a->body_per_addr);
            return -1;
        }
        if (a->body_unvouched + n > pool) {
            snprintf(why, whylen,
                     "the node is receiving %zu bytes from requests without a login, its most "
                     "(%zu); retry in a minute, or log in",
                     a->body_unvouched, pool);
            return -1;
        }
        if (!s && !(s = share_add(a, addr))) {
            snprintf(why, whylen, "the node is out of memory; retry later");
            return -1;
        }
        s->bytes += n;
        a->body_unvouched += n;
    }
    a->body_all += n;
    return 0;
}

void admit_body_release(http_admit *a, const uint8_t addr[16], size_t n, bool vouched)
{
    a->body_all -= n < a->body_all ? n : a->body_all;
    if (vouched)
        return;
    a->body_unvouched -= n < a->body_unvouched ? n : a->body_unvouched;
    admit_share *s = share_find(a, addr);
    if (!s)
        return;
    s->bytes -= n < s->bytes ? n : s->bytes;
    if (!s->bytes)
        *s = a->shares[--a->nshares];
}
