/*
 * pwgate.h - at most PWGATE_MAX Argon2id computations at once in the
 * process. Each takes 64 MiB (libsodium's interactive limits); the
 * daemon's thread pool is larger than that (group commit keeps a thread
 * per write waiting for its fsync), so logins, password changes and
 * signer keys pass this gate, and the rest wait for a slot instead of
 * holding 64 MiB each.
 */
#ifndef LT_PWGATE_H
#define LT_PWGATE_H

#define PWGATE_MAX 4

/* Waits until fewer than PWGATE_MAX callers are between pwgate_enter and
 * pwgate_leave, then enters. Thread-safe. */
void pwgate_enter(void);

/* Leaves the gate entered by pwgate_enter and lets one waiter in. */
void pwgate_leave(void);

#endif
