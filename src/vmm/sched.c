/* Host-thread scheduling services for the kernels (sched.h). */
#include <linux/futex.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vmm/sched.h"

void vmm_relax(void *ctx)
{
    (void)ctx;
    sched_yield();
}

uint64_t vmm_now_ns(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Futexes: the kernels' sleeping waits. */
void vmm_wait_change(void *ctx, const uint32_t *addr, uint32_t old, uint64_t timeout_ns)
{
    (void)ctx;
    struct timespec ts = { .tv_sec = (time_t)(timeout_ns / 1000000000ULL),
                           .tv_nsec = (long)(timeout_ns % 1000000000ULL) };
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, old, &ts, NULL, 0);
}

void vmm_wake_all(void *ctx, const uint32_t *addr)
{
    (void)ctx;
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}
