/*
 * pwgate.c - see pwgate.h.
 */
#include "lib/pwgate.h"

#include <pthread.h>

static pthread_mutex_t gate_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_free = PTHREAD_COND_INITIALIZER;
static int gate_inside;

void pwgate_enter(void)
{
    pthread_mutex_lock(&gate_mutex);
    while (gate_inside >= PWGATE_MAX)
        pthread_cond_wait(&gate_free, &gate_mutex);
    gate_inside++;
    pthread_mutex_unlock(&gate_mutex);
}

void pwgate_leave(void)
{
    pthread_mutex_lock(&gate_mutex);
    gate_inside--;
    pthread_cond_signal(&gate_free);
    pthread_mutex_unlock(&gate_mutex);
}
