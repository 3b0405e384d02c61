/*
 * test_crash.c - crash safety of local writes under kill -9.
 *
 * Each round forks a real child process that opens the store (on a small
 * map, so it also grows the map while being killed) and commits batches of
 * 1..50 local writes in a loop, reporting the last acknowledged seq through
 * a pipe after every commit. The parent SIGKILLs it after a random 5..80 ms,
 * reopens the store and checks that every acknowledged seq is held, the log
 * has no gap, and store_verify finds no problem. Rounds continue on the same
 * store. At the end the parent itself must still be able to write.
 *
 *   test_crash          seed 1
 *   test_crash SEED     another seed (printed as "replay: ..." on failure)
 */
#include "storage/hlc.h"
#include "storage/store.h"
#include "tests/check.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 20
#define MAP_SIZE (1u << 20)

static char err[512];
static uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
    return rng_next() % n;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The child: writes batches until killed; never returns. */
static void child_run(const char *dir, int ack_fd, uint64_t seed)
{
    rng_state = seed;
    alarm(20); /* never outlive a lost parent */
    store_options o = {.map_size = MAP_SIZE};
    store *s;
    if (store_open(&s, dir, &o, err, sizeof err)) {
        fprintf(stderr, "child: %s\n", err);
        _exit(3);
    }
    store_author a = {pk, sk, "40"};
    store_write w[50];
    char ids[50][16];
    uint8_t bodies[50][96];
    uint64_t seqs[50];
    for (uint64_t batch = 0;; batch++) {
        size_t n = 1 + below(50);
        for (size_t i = 0; i < n; i++) {
            snprintf(ids[i], sizeof ids[i], "x%llu", (unsigned long long)below(300));
            msgpack_sbuffer sb = {0};
            msgpack_packer pk2;
            msgpack_sbuffer_init(&sb);
            msgpack_packer_init(&pk2, &sb, msgpack_sbuffer_write);
            msgpack_pack_map(&pk2, 2);
            msgpack_pack_str_with_body(&pk2, "ghi_chú", strlen("ghi_chú"));
            msgpack_pack_str_with_body(&pk2, "đèn đỏ", strlen("đèn đỏ"));
            msgpack_pack_str_with_body(&pk2, "n", 1);
            msgpack_pack_uint64(&pk2, batch * 100 + i);
            memcpy(bodies[i], sb.data, sb.size);
            uint64_t r = below(10);
            w[i] = (store_write){
                "lights",  ids[i],  r < 3 ? ENTRY_OP_PUT : r < 9 ? ENTRY_OP_PATCH : ENTRY_OP_DELETE,
                bodies[i], sb.size, NULL,
                0};
            msgpack_sbuffer_destroy(&sb);
        }
        if (store_write_local(s, &a, w, n, seqs, err, sizeof err)) {
            fprintf(stderr, "child: write failed: %s\n", err);
            _exit(4);
        }
        /* Acknowledged: the commit returned. 8 bytes, written at once. */
        uint64_t last = seqs[n - 1];
        if (write(ack_fd, &last, sizeof last) != (ssize_t)sizeof last)
            _exit(5);
    }
}

/* Reads whole 8-byte acks from fd into *last; returns false at EOF. */
static bool drain(int fd, uint8_t *partial, size_t *have, uint64_t *last, uint64_t *acks)
{
    for (;;) {
        ssize_t r = read(fd, partial + *have, 8 - *have);
        if (r == 0)
            return false;
        if (r < 0)
            return !(errno != EAGAIN && errno != EINTR);
        *have += (size_t)r;
        if (*have == 8) {
            uint64_t v;
            memcpy(&v, partial, 8);
            CHECKF(v > *last, "acks go backwards: %llu after %llu", (unsigned long long)v,
                   (unsigned long long)*last);
            *last = v;
            (*acks)++;
            *have = 0;
        }
    }
}

static void report(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "  verify: %s\n", msg);
}

int main(int argc, char **argv)
{
    REQUIRE(sodium_init() >= 0);
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
    rng_state = seed;
    crypto_sign_keypair(pk, sk); /* before fork: every child signs as one author */
    char dir[4096], self[PATH_MAX];
    const char *base = check_tmpdir();
    snprintf(dir, sizeof dir, "%s/store", base);
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl > 0)
        self[sl] = '\0';
    else
        snprintf(self, sizeof self, "%s", argv[0]);

    uint64_t acked_max = 0, held_max = 0, total_acks = 0;
    int killed_mid_run = 0;
    for (int round = 0; round < ROUNDS; round++) {
        int fds[2];
        REQUIRE(pipe(fds) == 0);
        uint64_t child_seed = rng_next();
        uint64_t delay = 5 + below(76);
        fflush(NULL);
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child_run(dir, fds[1], child_seed);
        }
        close(fds[1]);
        fcntl(fds[0], F_SETFL, O_NONBLOCK);
        uint8_t partial[8];
        size_t have = 0;
        uint64_t last = 0, acks = 0;
        uint64_t deadline = now_ms() + delay;
        bool open_pipe = true;
        for (uint64_t t = now_ms(); t < deadline && open_pipe; t = now_ms()) {
            struct pollfd p = {fds[0], POLLIN, 0};
            if (poll(&p, 1, (int)(deadline - t)) > 0)
                open_pipe = drain(fds[0], partial, &have, &last, &acks);
        }
        kill(pid, SIGKILL);
        int status;
        REQUIRE(waitpid(pid, &status, 0) == pid);
        CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
               "round %d: the child ended on its own (status %d)", round, status);
        /* Acks sent before the kill are still in the pipe. */
        fcntl(fds[0], F_SETFL, 0);
        while (drain(fds[0], partial, &have, &last, &acks))
            ;
        CHECK(have == 0);
        close(fds[0]);
        if (acks) {
            CHECK(last > acked_max);
            acked_max = last;
            killed_mid_run++;
        }
        total_acks += acks;

        /* Reopen: everything acknowledged is there, with no gap, and the
         * store checks clean. */
        store_options o = {.map_size = MAP_SIZE};
        store *s;
        REQUIRE(store_open(&s, dir, &o, err, sizeof err) == 0);
        store_origin og = {0};
        int rc = store_origin_get(s, pk, &og);
        if (acked_max) {
            CHECKF(rc == 0, "round %d: origin unknown after %llu acked", round,
                   (unsigned long long)acked_max);
        }
        if (rc == 0) {
            CHECKF(og.max_seq >= acked_max, "round %d: held %llu < acked %llu", round,
                   (unsigned long long)og.max_seq, (unsigned long long)acked_max);
            CHECKF(og.count == og.max_seq, "round %d: %llu entries for max seq %llu", round,
                   (unsigned long long)og.count, (unsigned long long)og.max_seq);
            CHECK(og.max_seq >= held_max && !og.equivocated);
            CHECK(store_entry_count(s) == og.max_seq);
            CHECK(store_arrival_last(s) == og.max_seq);
            held_max = og.max_seq;
        }
        long problems = store_verify(s, base, report, NULL, err, sizeof err);
        CHECKF(problems == 0, "round %d: store_verify: %ld (%s)", round, problems,
               problems < 0 ? err : "problems");
        store_close(s);
        fprintf(stderr, "round %2d: killed after %2llu ms, %3llu acks, acked %6llu, held %6llu\n",
                round, (unsigned long long)delay, (unsigned long long)acks,
                (unsigned long long)acked_max, (unsigned long long)held_max);
    }
    CHECKF(killed_mid_run >= ROUNDS / 2, "only %d rounds acknowledged anything", killed_mid_run);
    CHECK(total_acks > 0);

    /* The writer lock a killed child may have held is free again. */
    alarm(30);
    store_options o = {.map_size = MAP_SIZE};
    store *s;
    REQUIRE(store_open(&s, dir, &o, err, sizeof err) == 0);
    store_author a = {pk, sk, "40"};
    store_write w = {"lights", "final", ENTRY_OP_PUT, NULL, 0, NULL, 0};
    uint64_t seq = 0;
    CHECKF(store_write_local(s, &a, &w, 1, &seq, err, sizeof err) == 0, "%s", err);
    CHECK(seq == held_max + 1);
    store_close(s);
    alarm(0);

    if (check_failed)
        printf("replay: %s %llu\n", self, (unsigned long long)seed);
    return check_done();
}
