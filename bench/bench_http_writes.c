/*
 * bench_http_writes.c - writes through the HTTP API of one running node:
 * N clients POST field reports to /api/v1/reports back to back for a
 * number of seconds (a connection per request: the node closes each after
 * its answer); prints the
 * acknowledged reports per second and the p50/p99 latency of an answer.
 * Every 201 is a durable write (the node answers after its commit).
 *
 *   bench_http_writes --port P --token TOKEN [--clients N] [--seconds S]
 *
 * bench/bench_http_writes.sh starts a node and runs it for several N.
 * Exit status 0 when every answer was 201, 1 otherwise.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LAT_MAX 1000000

static int port;
static const char *token;
static double seconds = 5;
static atomic_bool stop;
static atomic_long failures;
static double *lat; /* seconds per answer */
static atomic_long nlat;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_node(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads one answer; returns its status, or -1 when the connection broke. */
static int read_answer(int fd, char *buf, size_t cap)
{
    size_t have = 0;
    char *end = NULL;
    while (!end) {
        ssize_t r = read(fd, buf + have, cap - 1 - have);
        if (r <= 0)
            return -1;
        have += (size_t)r;
        buf[have] = 0;
        end = strstr(buf, "\r\n\r\n");
        if (!end && have == cap - 1)
            return -1;
    }
    int status = atoi(buf + 9);
    const char *cl = strcasestr(buf, "content-length:");
    size_t body = cl ? strtoul(cl + 15, NULL, 10) : 0;
    size_t got = have - (size_t)(end + 4 - buf);
    while (got < body) {
        ssize_t r = read(fd, buf, got + cap - 1 < body ? cap - 1 : body - got);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return status;
}

static void *client_run(void *arg)
{
    long c = (long)(intptr_t)arg;
    char req[2048], body[512], buf[16384];
    int fd = 0;
    for (long i = 0; fd >= 0 && !atomic_load(&stop); i++) {
        int blen = snprintf(body, sizeof body,
                            "{\"title\": \"Ổ gà trên đường %ld-%ld\", \"category\": \"traffic\", "
                            "\"lat\": 18.67, \"lon\": 105.69, \"description\": \"Đo tải ghi\"}",
                            c, i);
        int rlen = snprintf(
            req, sizeof req,
            "POST /api/v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Connection: close\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\n\r\n%s",
            token, blen, body);
        double t0 = now_s();
        if ((fd = connect_node()) < 0)
            break;
        int status = write(fd, req, (size_t)rlen) == rlen ? read_answer(fd, buf, sizeof buf) : -1;
        close(fd);
        if (status < 0)
            break;
        long k = atomic_fetch_add(&nlat, 1);
        if (k < LAT_MAX)
            lat[k] = now_s() - t0;
        if (status != 201)
            atomic_fetch_add(&failures, 1);
    }
    if (!atomic_load(&stop)) {
        fprintf(stderr, "client %ld: the connection broke\n", c);
        atomic_fetch_add(&failures, 1);
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    long clients = 8;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port"))
            port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--token"))
            token = argv[i + 1];
        else if (!strcmp(argv[i], "--clients"))
            clients = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds"))
            seconds = atof(argv[i + 1]);
    }
    if (!port || !token || clients < 1 || clients > 1024) {
        fprintf(stderr, "usage: bench_http_writes --port P --token TOKEN [--clients N (1..1024)] "
                        "[--seconds S]\n");
        return 2;
    }
    lat = malloc(LAT_MAX * sizeof *lat);
    pthread_t *t = calloc((size_t)clients, sizeof *t);
    if (!lat || !t)
        return 1;
    double t0 = now_s();
    for (long c = 0; c < clients; c++)
        pthread_create(&t[c], NULL, client_run, (void *)(intptr_t)c);
    struct timespec d = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&d, NULL);
    atomic_store(&stop, true);
    for (long c = 0; c < clients; c++)
        pthread_join(t[c], NULL);
    double el = now_s() - t0;
    long n = atomic_load(&nlat) < LAT_MAX ? atomic_load(&nlat) : LAT_MAX;
    qsort(lat, (size_t)n, sizeof *lat, cmp_double);
    long ok = atomic_load(&nlat) - atomic_load(&failures);
    printf("clients %ld: %ld reports in %.1f s = %.0f reports/s, p50 %.1f ms, p99 %.1f ms, "
           "%ld failed\n",
           clients, ok, el, (double)ok / el, n ? lat[n / 2] * 1e3 : 0,
           n ? lat[n * 99 / 100] * 1e3 : 0, atomic_load(&failures));
    free(lat);
    free(t);
    return atomic_load(&failures) ? 1 : 0;
}
