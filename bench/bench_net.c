/*
 * bench_net.c - the measuring client of bench/bench_net.sh, the benchmark of
 * real `lienthong serve` processes on 127.0.0.1. It talks plain HTTP/1.1 to
 * the nodes (one connection per request: the nodes answer "connection:
 * close") and learns how far a node holds an origin's log from
 * GET /api/v1/status (`origins[KEY]`, the highest sequence number held of
 * that origin, and `partial_origins`), a cheap read of the store's origin
 * table. Every figure it prints is a line "name value ...", read by the
 * script.
 *
 *   bench_net rates DIR
 *       the limits of this machine in this run: Ed25519 verifications of
 *       one 400-byte message on one core per second (verify_per_s), and
 *       sequential 4 KiB appends each followed by fdatasync in DIR per
 *       second (fsync_per_s).
 *   bench_net catchup PORT TOKEN KEY SEQ TIMEOUT_S POLL_MS CMD...
 *       starts CMD (a `lienthong serve`, left running; its pid is printed),
 *       then polls the node at PORT every POLL_MS until it holds KEY's
 *       log up to SEQ with no gap; prints the milliseconds from starting
 *       CMD (catchup_ms). Exit status 1 on timeout.
 *   bench_net load PORT TOKEN NAT_PORT NAT_TOKEN KEY RATE SECONDS CONNS
 *       POSTs reports to /api/v1/reports at PORT for SECONDS, RATE a second
 *       offered over CONNS connections (each sends when its next slot is
 *       due, or at once when it is late; a slot late past the end is not
 *       sent, so a node slower than RATE shows a lower rate), while polling NAT_PORT every
 *       LOAD_POLL_MS for KEY's highest sequence. A write's latency runs from
 *       sending its POST to the first poll that shows the national node
 *       holding it: a report is E entries of KEY (E is counted: KEY's
 *       sequence at PORT before and after, over the reports written), and
 *       the k-th write answered is taken to be entries (k-1)E+1..kE of KEY
 *       after the start (the poll adds up to LOAD_POLL_MS). Prints the achieved
 *       rate, p50 and p99 latency, p50 and p99 of the POST's own answer at
 *       PORT, and the writes that failed. Each connection sends one request
 *       at a time, so CONNS must exceed RATE times the answer's latency or
 *       the client, not the node, caps the rate.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RESP_MAX (1 << 20)
#define LOAD_POLL_MS                                                                               \
    5 /* often enough for a p99 target of 100 ms, rare enough to cost the                          \
         national node little */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&t, NULL);
}

/* One request to 127.0.0.1:port; the body of the answer into buf (NUL
 * ended). Returns the HTTP status, or -1 when no answer came. */
static int http_do(int port, const char *method, const char *path, const char *token,
                   const char *body, char *buf, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        return -1;
    }
    char req[2048];
    size_t blen = body ? strlen(body) : 0;
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, token, blen, body ? body : "");
    if (n < 0 || (size_t)n >= sizeof req || write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    ssize_t r;
    while (got + 1 < cap && (r = read(fd, buf + got, cap - 1 - got)) > 0)
        got += (size_t)r;
    close(fd);
    buf[got] = 0;
    int status;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    char *b = strstr(buf, "\r\n\r\n");
    if (b)
        memmove(buf, b + 4, strlen(b + 4) + 1);
    return status;
}

/* The highest sequence of origin key held at port with no gap before it
 * (0 while a gap remains), or -1 when the node does not answer. */
static int64_t held_seq(int port, const char *token, const char *key, char *buf)
{
    if (http_do(port, "GET", "/api/v1/status", token, NULL, buf, RESP_MAX) != 200)
        return -1;
    json_t *j = json_loads(buf, 0, NULL);
    if (!j)
        return -1;
    json_t *v = json_object_get(json_object_get(j, "origins"), key);
    int64_t seq = json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
    if (json_object_get(json_object_get(j, "partial_origins"), key))
        seq = 0;
    json_decref(j);
    return seq;
}

static int cmd_rates(const char *dir)
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], sig[64], msg[400];
    randombytes_buf(msg, sizeof msg);
    crypto_sign_keypair(pk, sk);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
    double t0 = now_s();
    long k = 0;
    while (now_s() - t0 < 1.0)
        for (int i = 0; i < 100; i++, k++)
            if (crypto_sign_verify_detached(sig, msg, sizeof msg, pk))
                return 1;
    printf("verify_per_s %.0f\n", (double)k / (now_s() - t0));
    char path[4096];
    snprintf(path, sizeof path, "%s/fsync.bench", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        fprintf(stderr, "bench_net: cannot create %s\n", path);
        return 1;
    }
    char page[4096];
    memset(page, 'x', sizeof page);
    t0 = now_s();
    k = 0;
    while (now_s() - t0 < 1.0) {
        if (write(fd, page, sizeof page) != (ssize_t)sizeof page || fdatasync(fd))
            return 1;
        k++;
    }
    printf("fsync_per_s %.0f\n", (double)k / (now_s() - t0));
    close(fd);
    unlink(path);
    return 0;
}

static int cmd_catchup(int port, const char *token, const char *key, int64_t want, double limit,
                       double poll_ms, char **cmd)
{
    char *buf = malloc(RESP_MAX);
    double t0 = now_s();
    pid_t pid = fork();
    if (pid == 0) { /* the node's stdout must not hold the caller's pipe open */
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDOUT_FILENO);
        execv(cmd[0], cmd);
        _exit(127);
    }
    printf("pid %d\n", (int)pid);
    fflush(stdout);
    int64_t seq = 0;
    while ((seq = held_seq(port, token, key, buf)) < want && now_s() - t0 < limit)
        sleep_s(poll_ms / 1e3);
    double ms = (now_s() - t0) * 1e3;
    free(buf);
    if (seq < want) {
        printf("catchup_ms timeout %.0f held %lld of %lld\n", ms, (long long)seq, (long long)want);
        return 1;
    }
    printf("catchup_ms %.1f\n", ms);
    return 0;
}

typedef struct {
    int port, nat_port;
    const char *token, *nat_token, *key;
    double rate, seconds, t0;
    unsigned conns;
    pthread_mutex_t mu;
    double *sent_at; /* by answer order */
    double *answer;  /* by answer order: seconds from sending to the answer */
    size_t answered, failed, cap;
    volatile bool done;
    double *seen_at; /* seen_at[i]: when the national node held base + i + 1 */
    size_t seen, seen_cap;
    int64_t base, want; /* want: KEY's last sequence written, once done */
} load;

static void *load_sender(void *arg)
{
    load *L = arg;
    static unsigned next_id;
    char *buf = malloc(64 * 1024);
    unsigned me = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
    double gap = L->conns / L->rate;
    double end = L->t0 + L->seconds;
    for (double due = L->t0 + gap * me / L->conns; due < end && now_s() < end; due += gap) {
        sleep_s(due - now_s());
        char body[256];
        snprintf(body, sizeof body,
                 "{\"title\": \"Phản ánh tải %u\", \"category\": \"traffic\", \"lat\": 18.67, "
                 "\"lon\": 105.68}",
                 me);
        double s0 = now_s();
        int st = http_do(L->port, "POST", "/api/v1/reports", L->token, body, buf, 64 * 1024);
        pthread_mutex_lock(&L->mu);
        if (st == 200 || st == 201) {
            if (L->answered < L->cap) {
                L->answer[L->answered] = now_s() - s0;
                L->sent_at[L->answered++] = s0;
            }
        } else if (L->failed++ < 3) {
            fprintf(stderr, "bench_net: POST /api/v1/reports answered %d: %.200s\n", st, buf);
        }
        pthread_mutex_unlock(&L->mu);
    }
    free(buf);
    return NULL;
}

static void *load_poller(void *arg)
{
    load *L = arg;
    char *buf = malloc(RESP_MAX);
    double quiet_since = 0;
    for (;;) {
        int64_t seq = held_seq(L->nat_port, L->nat_token, L->key, buf);
        double t = now_s();
        while (seq > 0 && L->base + (int64_t)L->seen < seq && L->seen < L->seen_cap)
            L->seen_at[L->seen++] = t;
        pthread_mutex_lock(&L->mu);
        bool caught_up = L->done && L->base + (int64_t)L->seen >= L->want;
        pthread_mutex_unlock(&L->mu);
        if (caught_up)
            break;
        if (L->done && !quiet_since)
            quiet_since = t;
        if (L->done && t - quiet_since > 30)
            break; /* the rest never arrived: counted as lost */
        sleep_s(LOAD_POLL_MS / 1e3);
    }
    free(buf);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmd_load(load *L)
{
    char *buf = malloc(RESP_MAX);
    L->base = held_seq(L->nat_port, L->nat_token, L->key, buf);
    int64_t first = held_seq(L->port, L->token, L->key, buf);
    if (L->base < 0 || first < 0 || first != L->base) {
        fprintf(stderr,
                "bench_net: GET /api/v1/status: the national node (%lld) and the writer "
                "(%lld) must answer and hold the same part of the writer's log before "
                "the load starts\n",
                (long long)L->base, (long long)first);
        free(buf);
        return 1;
    }
    L->cap = (size_t)(L->rate * L->seconds) + L->conns + 16;
    L->seen_cap = 8 * L->cap;
    L->sent_at = calloc(L->cap, sizeof *L->sent_at);
    L->answer = calloc(L->cap, sizeof *L->answer);
    L->seen_at = calloc(L->seen_cap, sizeof *L->seen_at);
    pthread_mutex_init(&L->mu, NULL);
    pthread_t poller, *senders = calloc(L->conns, sizeof *senders);
    L->t0 = now_s() + 0.05;
    pthread_create(&poller, NULL, load_poller, L);
    for (unsigned i = 0; i < L->conns; i++)
        pthread_create(&senders[i], NULL, load_sender, L);
    for (unsigned i = 0; i < L->conns; i++)
        pthread_join(senders[i], NULL);
    double t_end = now_s();
    int64_t last = held_seq(L->port, L->token, L->key, buf);
    free(buf);
    size_t per = L->answered && last > L->base ? (size_t)(last - L->base) / L->answered : 1;
    pthread_mutex_lock(&L->mu);
    L->want = last;
    L->done = true;
    pthread_mutex_unlock(&L->mu);
    pthread_join(poller, NULL);
    size_t arrived = L->seen / (per ? per : 1), n = L->answered < arrived ? L->answered : arrived;
    double *lat = calloc(n + 1, sizeof *lat);
    for (size_t i = 0; i < n; i++)
        lat[i] = L->seen_at[(i + 1) * per - 1] - L->sent_at[i];
    qsort(lat, n, sizeof *lat, cmp_double);
    double span = t_end - L->t0;
    printf("load_offered_per_s %.0f\n", L->rate);
    printf("load_written_per_s %.0f\n", (double)L->answered / span);
    printf("load_written %zu\n", L->answered);
    printf("load_failed %zu\n", L->failed);
    printf("load_entries_per_write %zu%s\n", per,
           (int64_t)(per * L->answered) == last - L->base ? "" : " (not a whole number)");
    printf("load_at_national %zu\n", n);
    printf("load_p50_ms %.1f\n", n ? lat[n / 2] * 1e3 : -1.0);
    printf("load_p99_ms %.1f\n", n ? lat[(size_t)((double)n * 0.99)] * 1e3 : -1.0);
    qsort(L->answer, L->answered, sizeof *L->answer, cmp_double);
    size_t a = L->answered;
    printf("load_answer_p50_ms %.1f\n", a ? L->answer[a / 2] * 1e3 : -1.0);
    printf("load_answer_p99_ms %.1f\n", a ? L->answer[(size_t)((double)a * 0.99)] * 1e3 : -1.0);
    free(lat);
    free(L->answer);
    free(senders);
    free(L->sent_at);
    free(L->seen_at);
    return n < L->answered || L->failed;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (sodium_init() < 0)
        return 1;
    if (argc == 3 && !strcmp(argv[1], "rates"))
        return cmd_rates(argv[2]);
    if (argc >= 9 && !strcmp(argv[1], "catchup"))
        return cmd_catchup(atoi(argv[2]), argv[3], argv[4], atoll(argv[5]), atof(argv[6]),
                           atof(argv[7]), argv + 8);
    if (argc == 10 && !strcmp(argv[1], "load")) {
        load L = {.port = atoi(argv[2]),
                  .token = argv[3],
                  .nat_port = atoi(argv[4]),
                  .nat_token = argv[5],
                  .key = argv[6],
                  .rate = atof(argv[7]),
                  .seconds = atof(argv[8]),
                  .conns = (unsigned)atoi(argv[9])};
        if (L.rate <= 0 || L.seconds <= 0 || !L.conns) {
            fprintf(stderr, "bench_net load: RATE, SECONDS and CONNS must be positive\n");
            return 2;
        }
        return cmd_load(&L);
    }
    fprintf(stderr,
            "usage: bench_net rates DIR | catchup PORT TOKEN KEY SEQ TIMEOUT_S POLL_MS CMD... | "
            "load PORT TOKEN NAT_PORT NAT_TOKEN KEY RATE SECONDS CONNS\n"
            "(see the comment at the top of bench/bench_net.c)\n");
    return 2;
}
