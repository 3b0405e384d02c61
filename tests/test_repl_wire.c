/*
 * test_repl_wire.c - bad input on a node's replication port, from a small
 * WebSocket client written here on plain sockets (hand-made handshake,
 * masked frames), against a real `lienthong serve` process on 127.0.0.1:
 *
 *   - an upgrade without the replication subprotocol is refused (404 JSON);
 *   - garbage in a binary message, truncated msgpack, a text message, an
 *     oversized message (one frame, or fragments), and junk that is not
 *     WebSocket framing at all after a completed upgrade: each closes that
 *     link (with a close frame naming the reason where the WebSocket still
 *     works, and a repl.link_closed log line with the reason);
 *   - a child whose parent address is not a lienthong node (it hangs up on
 *     the upgrade) falls back to its second upstream and says why;
 *   - a peer that completes the replication handshake with a real certificate
 *     (an in-process repl_session speaking through this client, its
 *     messages sent as fragments) and then stops reading: the node keeps
 *     serving, and drops the link when it falls silent.
 *
 * After each, nothing was applied (the node's entry count is unchanged),
 * health answers, and a real child node (a second `serve`) syncs the
 * node's 1,500 documents meanwhile.
 */
#include "lib/hex.h"
#include "node/env/config.h"
#include "replication/repl_node.h"
#include "tests/check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *bin, *base;
static pid_t kids[4];
static int nkids;

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void kill_kids(void)
{
    for (int i = 0; i < nkids; i++)
        if (kids[i] > 0)
            kill(kids[i], SIGKILL);
}

/* Runs a shell command; returns its exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* The whole of a small file, NUL-terminated ("" when missing). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
    if (n > 0 && fread(s, 1, (size_t)n, f) != (size_t)n)
        s[0] = '\0';
    fclose(f);
    return s;
}

static bool file_has(const char *path, const char *needle)
{
    char *s = slurp(path);
    bool yes = strstr(s, needle) != NULL;
    free(s);
    return yes;
}

/* Waits up to ms for path to contain needle. */
static bool wait_log(const char *path, const char *needle, unsigned ms)
{
    uint64_t end = mono_ms() + ms;
    while (!file_has(path, needle)) {
        if (mono_ms() > end)
            return false;
        usleep(50 * 1000);
    }
    return true;
}

/* The served nodes by port, with an API token made on the first request
 * that needs one (status and sync need a login; making it writes audit
 * entries, which replicate up like any other). */
static struct {
    int port;
    char dir[1024];
    char token[80];
} tokens[32];

/* A viewer account on dir (made once) and a new API token for it. */
static void mint_token(const char *dir, char *token, size_t cap)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "echo wire-viewer-pw | '%s' user add --dir '%s' --user wire --role viewer "
             ">/dev/null 2>&1; '%s' token --dir '%s' --user wire",
             bin, dir, bin, dir);
    FILE *f = popen(cmd, "r");
    REQUIRE(f != NULL);
    token[0] = 0;
    if (!fgets(token, (int)cap, f))
        token[0] = 0;
    token[strcspn(token, "\n")] = 0;
    pclose(f);
    REQUIRE(token[0] != 0);
}

static const char *token_of(int port)
{
    for (size_t i = 0; i < sizeof tokens / sizeof *tokens; i++) {
        if (tokens[i].port != port)
            continue;
        if (!tokens[i].token[0])
            mint_token(tokens[i].dir, tokens[i].token, sizeof tokens[i].token);
        return tokens[i].token;
    }
    return "";
}

/* Starts `lienthong serve --dir DIR [--upstream UP1 [--upstream UP2]]`
 * with stderr to log; returns the port from its node.started line. */
static int serve2(pid_t *pid, const char *dir, const char *log, const char *up1, const char *up2)
{
    pid_t p = fork();
    REQUIRE(p >= 0);
    if (p == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 2);
        const char *argv[12] = {bin, "serve", "--dir", dir, "--listen", "127.0.0.1:0"};
        int n = 6;
        if (up1) {
            argv[n++] = "--upstream";
            argv[n++] = up1;
        }
        if (up2) {
            argv[n++] = "--upstream";
            argv[n++] = up2;
        }
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    *pid = p;
    kids[nkids++] = p;
    REQUIRE(wait_log(log, "event=node.started", 20000));
    char *s = slurp(log);
    char *u = strstr(s, "url=http://127.0.0.1:");
    int port = u ? atoi(u + strlen("url=http://127.0.0.1:")) : 0;
    free(s);
    REQUIRE(port > 0);
    size_t slot = 0;
    while (slot + 1 < sizeof tokens / sizeof *tokens && tokens[slot].port &&
           tokens[slot].port != port)
        slot++;
    tokens[slot].port = port;
    tokens[slot].token[0] = 0;
    snprintf(tokens[slot].dir, sizeof tokens[slot].dir, "%s", dir);
    return port;
}

static int serve(pid_t *pid, const char *dir, const char *log, const char *upstream)
{
    return serve2(pid, dir, log, upstream, NULL);
}

static int stop(pid_t pid)
{
    kill(pid, SIGTERM);
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    for (int i = 0; i < nkids; i++)
        if (kids[i] == pid)
            kids[i] = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- sockets and HTTP -------------------------------------------------------- */

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static bool send_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* A buffered reader with deadlines. */
typedef struct {
    int fd;
    uint8_t buf[1 << 16];
    size_t len, off;
    bool eof;
} reader;

/* Makes at least n bytes available; false at EOF or after ms. */
static bool rd_need(reader *r, size_t n, unsigned ms)
{
    uint64_t end = mono_ms() + ms;
    while (r->len - r->off < n) {
        if (r->off) {
            memmove(r->buf, r->buf + r->off, r->len - r->off);
            r->len -= r->off;
            r->off = 0;
        }
        uint64_t now = mono_ms();
        if (now >= end || r->eof)
            return false;
        struct pollfd p = {r->fd, POLLIN, 0};
        if (poll(&p, 1, (int)(end - now)) <= 0)
            return false;
        ssize_t k = recv(r->fd, r->buf + r->len, sizeof r->buf - r->len, 0);
        if (k <= 0) {
            r->eof = true;
            return false;
        }
        r->len += (size_t)k;
    }
    return true;
}

/* GET path; returns the status and the body (malloc'd) in *body. */
static int http_get(int port, const char *path, char **body)
{
    *body = NULL;
    int fd = tcp_connect(port);
    if (fd < 0)
        return -1;
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                     "Authorization: Bearer %s\r\n\r\n",
                     path, strcmp(path, "/api/v1/health") ? token_of(port) : "");
    send_all(fd, req, (size_t)n);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0)
            break;
        if (len + 4096 > cap)
            buf = realloc(buf, cap *= 2);
        ssize_t k = recv(fd, buf + len, cap - len - 1, 0);
        if (k <= 0)
            break;
        len += (size_t)k;
    }
    close(fd);
    buf[len] = '\0';
    int status = 0;
    sscanf(buf, "HTTP/1.%*d %d", &status);
    char *b = strstr(buf, "\r\n\r\n");
    *body = strdup(b ? b + 4 : "");
    free(buf);
    return status;
}

static json_t *get_json(int port, const char *path)
{
    char *body;
    int st = http_get(port, path, &body);
    json_t *j = st == 200 ? json_loads(body, 0, NULL) : NULL;
    free(body);
    return j;
}

static long long entries_of(int port)
{
    json_t *j = get_json(port, "/api/v1/status");
    long long n = j ? json_integer_value(json_object_get(j, "entries")) : -1;
    json_decref(j);
    return n;
}

static bool healthy(int port)
{
    uint64_t t0 = mono_ms();
    json_t *j = get_json(port, "/api/v1/health");
    const char *st = j ? json_string_value(json_object_get(j, "status")) : NULL;
    bool ok = st && !strcmp(st, "ok");
    json_decref(j);
    return ok && mono_ms() - t0 < 2000;
}

/* ---- WebSocket client ------------------------------------------------------------- */

/* Opens a WebSocket to / asking for subprotocol proto (NULL: none).
 * Returns the fd and fills r, or -1; *status gets the HTTP status. */
static int ws_open(int port, const char *proto, reader *r, int *status)
{
    int fd = tcp_connect(port);
    if (fd < 0)
        return -1;
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n%s%s%s\r\n",
                     port, proto ? "Sec-WebSocket-Protocol: " : "", proto ? proto : "",
                     proto ? "\r\n" : "");
    send_all(fd, req, (size_t)n);
    memset(r, 0, sizeof *r);
    r->fd = fd;
    /* headers, up to the blank line; what follows stays in the reader */
    for (;;) {
        if (!rd_need(r, r->len - r->off + 1, 5000))
            break;
        r->buf[r->len] = 0;
        uint8_t *e = (uint8_t *)strstr((char *)r->buf, "\r\n\r\n");
        if (e) {
            *status = 0;
            sscanf((char *)r->buf, "HTTP/1.%*d %d", status);
            r->off = (size_t)(e + 4 - r->buf);
            return fd;
        }
        if (r->len >= sizeof r->buf - 1)
            break;
    }
    *status = -1;
    return fd;
}

/* Sends one masked frame. */
static bool ws_frame(int fd, int opcode, bool fin, const uint8_t *p, size_t len)
{
    uint8_t h[14];
    size_t hl = 0;
    h[hl++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
    if (len < 126) {
        h[hl++] = (uint8_t)(0x80 | len);
    } else if (len < 65536) {
        h[hl++] = 0x80 | 126;
        h[hl++] = (uint8_t)(len >> 8);
        h[hl++] = (uint8_t)len;
    } else {
        h[hl++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            h[hl++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    uint8_t mask[4];
    randombytes_buf(mask, 4);
    memcpy(h + hl, mask, 4);
    hl += 4;
    uint8_t *m = malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        m[i] = p[i] ^ mask[i & 3];
    bool ok = send_all(fd, h, hl) && send_all(fd, m, len);
    free(m);
    return ok;
}

/* Sends a message as `parts` fragments. */
static bool ws_message(int fd, const uint8_t *p, size_t len, int parts)
{
    size_t step = len / (size_t)parts + 1, off = 0;
    int opcode = 2;
    do {
        size_t n = len - off < step ? len - off : step;
        if (!ws_frame(fd, opcode, off + n == len, p + off, n))
            return false;
        off += n;
        opcode = 0;
    } while (off < len);
    return true;
}

/* Reads one frame; returns its opcode (payload malloc'd in *p), or -1. */
static int ws_read(reader *r, uint8_t **p, size_t *len, bool *fin, unsigned ms)
{
    *p = NULL;
    if (!rd_need(r, 2, ms))
        return -1;
    uint8_t b0 = r->buf[r->off], b1 = r->buf[r->off + 1];
    size_t hl = 2;
    uint64_t n = b1 & 0x7f;
    if (n == 126) {
        if (!rd_need(r, 4, ms))
            return -1;
        n = (uint64_t)r->buf[r->off + 2] << 8 | r->buf[r->off + 3];
        hl = 4;
    } else if (n == 127) {
        if (!rd_need(r, 10, ms))
            return -1;
        n = 0;
        for (int i = 0; i < 8; i++)
            n = n << 8 | r->buf[r->off + 2 + i];
        hl = 10;
    }
    *p = malloc(n + 1);
    r->off += hl;
    size_t got = 0;
    while (got < n) {
        size_t want = n - got < sizeof r->buf / 2 ? n - got : sizeof r->buf / 2;
        if (!rd_need(r, want, ms)) {
            free(*p);
            *p = NULL;
            return -1;
        }
        memcpy(*p + got, r->buf + r->off, want);
        r->off += want;
        got += want;
    }
    *len = n;
    *fin = b0 & 0x80;
    return b0 & 0x0f;
}

/* Reads until the server's close frame: returns its code (reason in
 * reason), 0 when the connection ended without one, -1 on timeout. */
static int ws_wait_close(reader *r, char *reason, size_t cap, unsigned ms)
{
    reason[0] = '\0';
    uint64_t end = mono_ms() + ms;
    for (;;) {
        uint8_t *p;
        size_t len;
        bool fin;
        uint64_t now = mono_ms();
        if (now >= end)
            return -1;
        int op = ws_read(r, &p, &len, &fin, (unsigned)(end - now));
        if (op < 0)
            return r->eof ? 0 : -1;
        if (op == 8) {
            int code = len >= 2 ? p[0] << 8 | p[1] : 1005;
            size_t n = len > 2 ? len - 2 : 0;
            if (n >= cap)
                n = cap - 1;
            memcpy(reason, p + 2, n);
            reason[n] = '\0';
            uint8_t echo[2] = {p[0], p[1]};
            ws_frame(r->fd, 8, true, echo, len >= 2 ? 2 : 0); /* acknowledge */
            free(p);
            return code;
        }
        free(p);
    }
}

/* ---- the cases --------------------------------------------------------------------- */

typedef struct {
    const char *name;
    int port;
    const char *log;
    long long entries;
} target;

/* After a bad peer: nothing applied, health answers. */
static void after_bad(const target *t, const char *what)
{
    CHECKF(entries_of(t->port) == t->entries, "%s: the node's entries changed", what);
    CHECKF(healthy(t->port), "%s: health does not answer", what);
}

/* Upgrades, sends `payload` as frames built by send(), and expects a close
 * with code and a reason containing `why`, and the log line. */
static void bad_message(const target *t, const char *what, int opcode, const uint8_t *msg,
                        size_t len, int want_code, const char *why)
{
    reader *r = malloc(sizeof *r);
    int status;
    int fd = ws_open(t->port, REPL_SUBPROTOCOL, r, &status);
    CHECKF(fd >= 0 && status == 101, "%s: upgrade status %d", what, status);
    if (fd < 0) {
        free(r);
        return;
    }
    CHECKF(ws_frame(fd, opcode, true, msg, len), "%s: send failed", what);
    char reason[200];
    int code = ws_wait_close(r, reason, sizeof reason, 10000);
    CHECKF(code == want_code, "%s: close code %d, wanted %d (reason \"%s\")", what, code, want_code,
           reason);
    CHECKF(strstr(reason, why) != NULL, "%s: close reason \"%s\" lacks \"%s\"", what, reason, why);
    char line[300];
    snprintf(line, sizeof line, "reason=\"%s", why);
    CHECKF(wait_log(t->log, line, 5000) || file_has(t->log, why), "%s: no log line with %s", what,
           why);
    close(fd);
    free(r);
    after_bad(t, what);
}

static void test_no_subprotocol(const target *t)
{
    reader *r = malloc(sizeof *r);
    int status;
    int fd = ws_open(t->port, NULL, r, &status);
    CHECKF(status == 404, "an upgrade without subprotocol: status %d", status);
    while (!r->eof && r->len < sizeof r->buf - 1 && rd_need(r, r->len - r->off + 1, 3000)) {
    } /* the body, up to the server's close */
    r->buf[r->len] = 0;
    CHECK(strstr((char *)r->buf + r->off, "\"code\":\"http.not_found\",\"status\":404") != NULL);
    if (fd >= 0)
        close(fd);
    fd = ws_open(t->port, "chat, http", r, &status);
    CHECKF(status == 404, "an upgrade to other subprotocols: status %d", status);
    if (fd >= 0)
        close(fd);
    free(r);
}

static void test_oversized(const target *t, bool fragments)
{
    const char *what = fragments ? "oversized fragmented message" : "oversized frame";
    reader *r = malloc(sizeof *r);
    int status;
    int fd = ws_open(t->port, REPL_SUBPROTOCOL, r, &status);
    CHECKF(fd >= 0 && status == 101, "%s: upgrade status %d", what, status);
    size_t max = 1u << 20;
    uint8_t *junk = calloc(1, max + 1);
    if (fragments) {
        /* three fragments of 400 KB: the third crosses the limit */
        for (int i = 0; i < 3; i++)
            ws_frame(fd, i ? 0 : 2, false, junk, 400 * 1000);
    } else {
        /* a header announcing 2 MiB, then just over 1 MiB of it */
        uint8_t h[14] = {0x82, 0x80 | 127, 0, 0, 0, 0, 0, 0x20, 0, 0, 1, 2, 3, 4};
        send_all(fd, h, sizeof h);
        send_all(fd, junk, max + 1);
    }
    free(junk);
    char reason[200];
    int code = ws_wait_close(r, reason, sizeof reason, 10000);
    CHECKF(code == 1009, "%s: close code %d (reason \"%s\")", what, code, reason);
    CHECKF(strstr(reason, "larger than 1048576 bytes") != NULL, "%s: reason \"%s\"", what, reason);
    close(fd);
    free(r);
    after_bad(t, what);
}

static void test_junk_framing(const target *t)
{
    reader *r = malloc(sizeof *r);
    int status;
    int fd = ws_open(t->port, REPL_SUBPROTOCOL, r, &status);
    CHECKF(fd >= 0 && status == 101, "junk framing: upgrade status %d", status);
    /* unmasked frames with reserved bits and opcodes: not WebSocket */
    static const uint8_t junk[] = "\x73\x7f\xff\xff\xff\xff\xff\xff\xff\xffGET / HTTP/1.1\r\n\r\n";
    send_all(fd, junk, sizeof junk - 1);
    char reason[200];
    int code = ws_wait_close(r, reason, sizeof reason, 10000);
    CHECKF(code >= 0, "junk framing: the node did not close the connection (%d)", code);
    CHECK(wait_log(t->log, "(the peer hung up or broke the WebSocket protocol)", 5000));
    close(fd);
    free(r);
    after_bad(t, "junk framing");
}

/* The in-process peer of the stuck-reader case: commune 16681's identity. */
typedef struct {
    node_config c;
    store *s;
    repl_node rn;
    repl_session *sess;
    reader r;
    int fd;
    uint8_t *msg;
    size_t msg_len;
} peer;

/* Moves messages both ways for up to ms; returns when cond holds. */
static bool peer_pump(peer *p, unsigned ms, bool (*cond)(peer *))
{
    uint64_t end = mono_ms() + ms;
    while (mono_ms() < end) {
        const uint8_t *m;
        size_t n;
        while (repl_session_next_out(p->sess, &m, &n))
            if (!ws_message(p->fd, m, n, 3)) /* fragments: the node reassembles */
                return false;
        if (cond(p))
            return true;
        uint8_t *f;
        size_t len;
        bool fin;
        int op = ws_read(&p->r, &f, &len, &fin, 200);
        if (op < 0) {
            if (p->r.eof)
                return false;
            continue;
        }
        if (op == 2 || op == 0) {
            p->msg = realloc(p->msg, p->msg_len + len + 1);
            memcpy(p->msg + p->msg_len, f, len);
            p->msg_len += len;
            if (fin) {
                repl_session_recv(p->sess, p->msg, p->msg_len, hlc_wall_ms());
                p->msg_len = 0;
            }
        }
        free(f);
        if (repl_session_state(p->sess) == REPL_CLOSED)
            return false;
    }
    return cond(p);
}

static bool got_batch(peer *p)
{
    repl_stats st;
    repl_session_stats(p->sess, &st);
    return st.state == REPL_OPEN && st.entries_received > 0;
}

static long long count_records(const char *dir, const char *coll)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' export --dir '%s' --collection %s 2>/dev/null | wc -l", bin,
             dir, coll);
    FILE *f = popen(cmd, "r");
    long long n = -1;
    if (f && fscanf(f, "%lld", &n) != 1)
        n = -1;
    if (f)
        pclose(f);
    return n;
}

/* A child whose parent address answers TCP but is no lienthong node (it
 * hangs up on the upgrade request) falls back to its second upstream, and
 * its sync status says why. */
static void test_bad_upstream(target *t)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    REQUIRE(ls >= 0 && bind(ls, (struct sockaddr *)&a, sizeof a) == 0 && listen(ls, 8) == 0 &&
            getsockname(ls, (struct sockaddr *)&a, &alen) == 0);
    pid_t holder = fork();
    REQUIRE(holder >= 0);
    if (holder == 0) { /* reads the upgrade request, answers nothing, hangs up */
        for (;;) {
            int fd = accept(ls, NULL, NULL);
            if (fd < 0)
                continue;
            char b[1024];
            (void)!recv(fd, b, sizeof b, 0);
            close(fd);
        }
    }
    kids[nkids++] = holder;
    close(ls);
    REQUIRE(sh("cd '%s' && '%s' init --dir c3 --unit 16685 --name C3 --tier commune "
               "--parent-unit 40 >/dev/null && '%s' enroll --dir c3 --parent-dir p >/dev/null",
               base, bin, bin) == 0);
    t->entries = entries_of(t->port); /* enrolment wrote the unit and certificate */
    char dir[1024], log[1024], up1[64], up2[64];
    snprintf(dir, sizeof dir, "%s/c3", base);
    snprintf(log, sizeof log, "%s/c3.log", base);
    snprintf(up1, sizeof up1, "ws://127.0.0.1:%d/", ntohs(a.sin_port));
    snprintf(up2, sizeof up2, "ws://127.0.0.1:%d/", t->port);
    char hostport[32];
    snprintf(hostport, sizeof hostport, "127.0.0.1:%d (", ntohs(a.sin_port));
    pid_t c3;
    int port = serve2(&c3, dir, log, up1, up2);

    bool failed_over = false;
    json_t *j = NULL;
    for (uint64_t end = mono_ms() + 15000; !failed_over && mono_ms() < end;) {
        json_decref(j);
        j = get_json(port, "/api/v1/sync");
        json_t *l0 = json_array_get(json_object_get(j, "links"), 0);
        json_t *l1 = json_array_get(json_object_get(j, "links"), 1);
        const char *e = json_string_value(json_object_get(l0, "last_error"));
        failed_over = json_is_true(json_object_get(l1, "connected")) && e && strstr(e, hostport) &&
                      json_integer_value(json_object_get(l0, "attempts"));
        if (!failed_over)
            usleep(100 * 1000);
    }
    char *dump = j ? json_dumps(j, JSON_COMPACT) : NULL;
    CHECKF(failed_over, "a child did not fall back from a parent that is no node: %s",
           dump ? dump : "(no answer)");
    free(dump);
    json_decref(j);
    /* c3's own entries (the audit entries of its API account) go up to p */
    node_config cc;
    store *cs;
    store_origin o = {0};
    char err[256];
    REQUIRE(node_config_load(&cc, dir, err, sizeof err) == 0 &&
            node_store_open(&cc, &cs, true, err, sizeof err) == 0);
    REQUIRE(store_origin_get(cs, cc.pk, &o) == 0);
    store_close(cs);
    t->entries += (long long)o.count;
    for (uint64_t end = mono_ms() + 5000; entries_of(t->port) != t->entries && mono_ms() < end;)
        usleep(100 * 1000);
    CHECK(stop(c3) == 0);
    kill(holder, SIGKILL);
    waitpid(holder, NULL, 0);
    for (int i = 0; i < nkids; i++)
        if (kids[i] == holder)
            kids[i] = 0;
    after_bad(t, "a parent that is no node");
}

static void test_stuck_reader(const target *t, const char *child_dir)
{
    peer *p = calloc(1, sizeof *p);
    char dir[1024], err[512];
    snprintf(dir, sizeof dir, "%s/c1", base);
    REQUIRE(node_config_load(&p->c, dir, err, sizeof err) == 0);
    REQUIRE(node_store_open(&p->c, &p->s, false, err, sizeof err) == 0);
    REQUIRE(repl_node_init(&p->rn, p->s, p->c.unit, p->c.pk, err, sizeof err) == 0);
    repl_config cfg = {.pk = p->c.pk, .sk = p->c.sk, .root_key = p->c.root_key, .initiator = true};
    p->sess = repl_session_new(&cfg, &repl_node_ops, &p->rn, hlc_wall_ms());
    int status;
    p->fd = ws_open(t->port, REPL_SUBPROTOCOL, &p->r, &status);
    CHECKF(p->fd >= 0 && status == 101, "stuck reader: upgrade status %d", status);
    bool synced = peer_pump(p, 10000, got_batch);
    CHECKF(synced, "stuck reader: the session did not open and receive (%s)",
           repl_session_error(p->sess));
    REQUIRE(wait_log(t->log, "event=repl.link_open peer_unit=16681", 5000));
    /* from now on this peer reads nothing and says nothing */
    uint64_t t0 = mono_ms();
    CHECK(healthy(t->port));
    pid_t child;
    char log[1024], up[64];
    snprintf(log, sizeof log, "%s/child.log", base);
    snprintf(up, sizeof up, "ws://127.0.0.1:%d/", t->port);
    int cport = serve(&child, child_dir, log, up);
    (void)cport;
    uint64_t end = mono_ms() + 30000;
    long long docs = 0;
    while (mono_ms() < end && (docs = count_records(child_dir, "documents")) < 1500)
        usleep(100 * 1000);
    CHECKF(docs == 1500, "a real child synced %lld of 1500 documents beside the stuck peer", docs);
    printf("a real child synced 1500 documents in %.2f s while a stuck peer held a link\n",
           (double)(mono_ms() - t0) / 1000.0);
    CHECK(healthy(t->port));
    /* the node gives up on the silent peer (30 s without a message) */
    bool dropped = wait_log(t->log, "event=repl.link_closed peer_unit=16681 direction=down", 50000);
    CHECKF(dropped, "the stuck peer's link was never closed");
    if (dropped)
        CHECK(file_has(t->log, "reason=\"no message from the peer for"));
    printf("the silent peer was dropped after %.1f s\n", (double)(mono_ms() - t0) / 1000.0);
    CHECK(healthy(t->port));
    CHECK(stop(child) == 0);
    close(p->fd);
    repl_session_free(p->sess);
    repl_node_release(&p->rn);
    store_close(p->s);
    free(p->msg);
    free(p);
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    signal(SIGPIPE, SIG_IGN);
    bin = getenv("LT_BIN");
    if (!bin) {
        fprintf(stderr, "LT_BIN must point at the lienthong binary\n");
        return 2;
    }
    base = check_tmpdir();
    atexit(kill_kids); /* runs before the temp dir is removed */
    REQUIRE(sh("cd '%s' && '%s' init --dir p --unit 40 --name P --tier province --root "
               ">/dev/null && '%s' init --dir c1 --unit 16681 --name C1 --tier commune "
               "--parent-unit 40 >/dev/null && '%s' init --dir c2 --unit 16684 --name C2 "
               "--tier commune --parent-unit 40 >/dev/null &&"
               "'%s' enroll --dir c1 --parent-dir p >/dev/null &&"
               "'%s' enroll --dir c2 --parent-dir p >/dev/null",
               base, bin, bin, bin, bin, bin) == 0);
    /* 1,500 documents of 2 KB for everyone: several batches to send down */
    char path[1024];
    snprintf(path, sizeof path, "%s/docs.jsonl", base);
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    char pad[2001];
    memset(pad, 'x', 2000);
    pad[2000] = 0;
    for (int i = 0; i < 1500; i++)
        fprintf(f, "{\"id\": \"D-%d\", \"text\": \"%s\"}\n", i, pad);
    fclose(f);
    REQUIRE(sh("cd '%s' && '%s' import --dir p --collection documents --file docs.jsonl --to '*' "
               ">/dev/null",
               base, bin) == 0);

    char plog[1024], pdir[1024], cdir[1024];
    snprintf(plog, sizeof plog, "%s/p.log", base);
    snprintf(pdir, sizeof pdir, "%s/p", base);
    snprintf(cdir, sizeof cdir, "%s/c2", base);
    pid_t pp;
    target t = {"p", serve(&pp, pdir, plog, NULL), plog, 0};
    t.entries = entries_of(t.port);
    REQUIRE(t.entries > 1500);

    test_no_subprotocol(&t);
    static const uint8_t garbage[] = {0xde, 0xad, 0xbe, 0xef, 0x00, 0xff, 0x13, 0x37, 0xc1};
    bad_message(&t, "garbage message", 2, garbage, sizeof garbage, 1008, "malformed message");
    static const uint8_t truncated[] = {0x92, 0xa5, 'h', 'e', 'l'};
    bad_message(&t, "truncated msgpack", 2, truncated, sizeof truncated, 1008, "malformed message");
    static const uint8_t wrong[] = {0x92, 0xa5, 'h', 'e', 'l', 'l', 'o', 0x80};
    bad_message(&t, "a malformed hello", 2, wrong, sizeof wrong, 1008, "malformed hello");
    static const uint8_t bye[] = {0x92, 0xa3, 'e', 'r', 'r', 0xa4, 'b', 'y', 'e', 0xff};
    bad_message(&t, "a peer that says err", 2, bye, sizeof bye, 1000, "peer closed the link: bye");
    static const uint8_t text[] = "hello?";
    bad_message(&t, "text message", 1, text, sizeof text - 1, 1003, "text message refused");
    test_oversized(&t, false);
    test_oversized(&t, true);
    test_junk_framing(&t);
    test_bad_upstream(&t);
    test_stuck_reader(&t, cdir);

    size_t left = 99;
    for (uint64_t end = mono_ms() + 5000; left && mono_ms() < end; usleep(100 * 1000)) {
        json_t *sync = get_json(t.port, "/api/v1/sync");
        left = sync ? json_array_size(json_object_get(sync, "links")) : 99;
        json_decref(sync);
    }
    CHECKF(left == 0, "links left open after the bad peers: %zu", left);
    CHECK(entries_of(t.port) == t.entries);
    CHECK(stop(pp) == 0);
    return check_done();
}
