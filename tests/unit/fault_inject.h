/* Shared by test_fault_inject.c and its companions fault_inject_*.c. */
#ifndef VSVM_TESTS_FAULT_INJECT_H
#define VSVM_TESTS_FAULT_INJECT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>

#include "dev/accel.h"
#include "vmm/guest.h"
#include "vmm/host.h"
#include "vmm/sched.h"
#include "support/machines.h"

/* Counters other threads update (the kernels' interrupt threads). */
#define LD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)

#define WAIT_SECONDS 20u    /* bounded waits for asynchronous work (hang guards) */

/* Waits until cond holds, at most WAIT_SECONDS, else fails the test. */
#define WAIT_UNTIL(cond)                                                          \
    do {                                                                          \
        uint64_t end_ = vmm_now_ns(NULL) + WAIT_SECONDS * 1000000000ULL;          \
        while (!(cond) && vmm_now_ns(NULL) < end_)                                \
            sched_yield();                                                        \
        if (!(cond))                                                              \
            fail_msg("%s:%d: still not true after %us: %s", __FILE__, __LINE__,   \
                     WAIT_SECONDS, #cond);                                        \
    } while (0)

/* A host with one remapping unit in front of its naccels accelerators
 * (the guests' devices and the host's share its queues and fault
 * registers). */
struct host *fi_host(unsigned naccels);
/* A guest (svm=on) with host device host_bdf as its 00:04.0. */
struct guest *fi_guest(struct host *h, uint16_t host_bdf);

uint64_t fi_unit_rd(struct host *h, uint32_t off, unsigned size);
void fi_unit_wr(struct host *h, uint32_t off, unsigned size, uint64_t v);
/* The guest's virtual unit, through its kernel's MMIO. */
uint64_t fi_guest_rd(struct guest *g, uint32_t off, unsigned size);
void fi_guest_wr(struct guest *g, uint32_t off, unsigned size, uint64_t v);
struct accel_stats fi_dev_stats(struct host *h, unsigned i);
struct viommu_stats fi_vstats(struct guest *g);

/* A process running the four workloads on (k, a) — a host process on a
 * host device, or a guest's on its device — over and over while the test
 * breaks something else. */
struct fi_bystander {
    struct os_kernel *k;
    struct os_accel *a;
    const char *who;
    volatile bool stop;
    unsigned runs, failures;
    char detail[200];
    pthread_t t;
};
void fi_bystander_start(struct fi_bystander *b, struct os_kernel *k, struct os_accel *a,
                        const char *who);
/* Waits for one more complete run, stops it; fails the test if any run
 * failed. */
void fi_bystander_stop(struct fi_bystander *b, const char *what);

/* The tests. */
void test_device_never_completes_invalidation(void **state);
void test_prq_flood_overflows_host_queue(void **state);
void test_prq_flood_overflows_guest_queue(void **state);
void test_guest_faulting_dma_flood(void **state);
void test_fault_handler_records_behind_it(void **state);
void test_fault_handler_overflow_during_pass(void **state);
void test_host_qi_bad_descriptor(void **state);
void test_host_qi_foreign_error(void **state);

#endif
