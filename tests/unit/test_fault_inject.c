/* Fault injection (issue 8 item 4; ARCHITECTURE.md §6: anything a guest or
 * a device can trigger ends in a spec-defined outcome, never a hang; a dead
 * or misbehaving guest or device never wedges the host). Each test breaks
 * one thing on purpose and checks the outcome the reference prescribes,
 * that nothing the spec says must be delivered is lost, and that the host
 * and the other machines keep working:
 *   - a device that never completes device-TLB invalidations (ITE, §4.9):
 *     here;
 *   - page-request floods overflowing the host's and the guest's queues
 *     (PRS.PRO, the unit's own answers, §6.3): fault_inject_prq.c;
 *   - a guest flooding its device with faulting DMA (fault recording
 *     overflow PFO, §5.2; bounded logs): fault_inject_dma.c, and the
 *     kernel's fault handler under records arriving while it reads them,
 *     made deterministic: fault_inject_handlers.c;
 *   - errors on a host invalidation queue (IQE/IQEI, §4.9):
 *     fault_inject_qi.c.
 * Killed and frozen guests are test_guest.c's. Waits are bounded (hang
 * guards, never timing assertions); a watchdog ends the binary with a
 * message if a test hangs anyway. */
#include "fault_inject.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/hw.h"
#include "lib/hw_regs.h"
#include "lib/trace.h"
#include "os/iommu.h"
#include "workloads/workloads.h"
#include "support/machines.h"

#define HANG_SECONDS 120u   /* the watchdog: a test that takes this long hangs */

/* ---- common set-up ------------------------------------------------------- */

static void watchdog(int sig)
{
    (void)sig;
    static const char msg[] = "test_fault_inject: HANG, the watchdog expired\n";
    ssize_t r = write(2, msg, sizeof(msg) - 1);
    (void)r;
    _exit(3);
}

static int setup(void **state)
{
    (void)state;
    signal(SIGALRM, watchdog);
    alarm(HANG_SECONDS);
    if (getenv("VSVM_TRACE"))
        trace_enable(getenv("VSVM_TRACE"));   /* e.g. 'vtd_qi_*,dev_atc_inv' */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    alarm(0);
    trace_disable_all();
    return 0;
}

struct host *fi_host(unsigned naccels)
{
    return tm_host(1, naccels, 1ULL << 30);
}

struct guest *fi_guest(struct host *h, uint16_t host_bdf)
{
    return tm_guest(h, true, host_bdf);
}

uint64_t fi_unit_rd(struct host *h, uint32_t off, unsigned size)
{
    return vtd_mmio_read(h->unit[0], off, size);
}

void fi_unit_wr(struct host *h, uint32_t off, unsigned size, uint64_t v)
{
    vtd_mmio_write(h->unit[0], off, size, v);
}

uint64_t fi_guest_rd(struct guest *g, uint32_t off, unsigned size)
{
    struct os_kernel *k = guest_kernel(g);
    return k->ops.mmio_read(k->ops.ctx, GUEST_UNIT_BASE + off, size);
}

void fi_guest_wr(struct guest *g, uint32_t off, unsigned size, uint64_t v)
{
    struct os_kernel *k = guest_kernel(g);
    k->ops.mmio_write(k->ops.ctx, GUEST_UNIT_BASE + off, size, v);
}

struct accel_stats fi_dev_stats(struct host *h, unsigned i)
{
    struct accel_stats s;
    accel_get_stats(h->acc[i].dev, &s);
    return s;
}

struct viommu_stats fi_vstats(struct guest *g)
{
    struct viommu_stats s;
    guest_viommu_stats(g, &s);
    return s;
}

static void *bystander_main(void *arg)
{
    struct fi_bystander *b = arg;
    while (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) {
        for (unsigned w = 0; w < 4 && !__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE); w++) {
            struct wl_result r;
            wl_all[w].fn(b->k, b->a, &r);
            if (!r.passed && !b->failures++)
                snprintf(b->detail, sizeof(b->detail), "%s: %s", r.name, r.detail);
        }
        __atomic_add_fetch(&b->runs, 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

void fi_bystander_start(struct fi_bystander *b, struct os_kernel *k, struct os_accel *a,
                        const char *who)
{
    memset(b, 0, sizeof(*b));
    b->k = k, b->a = a, b->who = who;
    assert_int_equal(pthread_create(&b->t, NULL, bystander_main, b), 0);
}

void fi_bystander_stop(struct fi_bystander *b, const char *what)
{
    unsigned runs = __atomic_load_n(&b->runs, __ATOMIC_ACQUIRE);
    WAIT_UNTIL(__atomic_load_n(&b->runs, __ATOMIC_ACQUIRE) > runs);
    __atomic_store_n(&b->stop, true, __ATOMIC_RELEASE);
    pthread_join(b->t, NULL);
    printf("  %s: %s ran the workloads %u times, %u failures\n", what, b->who, b->runs,
           b->failures);
    if (b->failures)
        fail_msg("%s during %s: %s", b->who, what, b->detail);
}

/* ---- a device that never completes device-TLB invalidations --------------- */

#define ITE_PAGES 16u

/* The guest's process has 16 pages its device cached (device TLB filled
 * by ATS, pages faulted in by PRI through the guest); then the device
 * stops completing invalidations and the guest unmaps them. The guest's
 * PASID-IOTLB + PASID device-TLB invalidation is forwarded to the host
 * unit, whose device-TLB invalidation times out: ITE with ITESID = the
 * device (§4.9). The host kernel recovers (clears ITE, its queue goes on),
 * the viommu counts the host error, the guest's wait completes (munmap
 * returns). A host process on the other device of the same unit works
 * throughout, and once the device completes again the guest's workloads
 * pass. */
void test_device_never_completes_invalidation(void **state)
{
    (void)state;
    struct host *h = fi_host(2);
    struct guest *g = fi_guest(h, h->acc_bdf[0]);
    struct os_kernel *k = guest_kernel(g);
    struct os_iommu *m = &h->iommu[0];
    struct wl_proc p;
    uint64_t buf;
    unsigned err = 0;
    uint64_t fva = 0;
    assert_int_equal(wl_proc_open(&p, k, guest_accel(g, 0)), 0);
    assert_int_equal(os_mmap(&p.mm, ITE_PAGES * 4096, OS_PROT_READ | OS_PROT_WRITE, &buf), 0);
    struct accel_cmd c[ITE_PAGES];
    for (unsigned i = 0; i < ITE_PAGES; i++)
        c[i] = (struct accel_cmd){ .opcode = ACCEL_OP_STORE_DWORD, .arg = i, .a = buf + 4096 * i };
    assert_int_equal(wl_run(&p, c, ITE_PAGES, &err, &fva), 0);
    assert_true(accel_atc_entries(h->acc[0].dev) >= ITE_PAGES);

    struct fi_bystander b;
    fi_bystander_start(&b, &h->k, &h->drv[1], "a host process on the other device");
    uint64_t errors0 = LD(m->qi_errors), submits0 = LD(m->qi_submits);
    struct viommu_stats v0 = fi_vstats(g);
    struct accel_stats d0 = fi_dev_stats(h, 0);
    accel_test_inv_never_complete(h->acc[0].dev, true);

    /* The guest unmaps what its device cached: returns (no hang). */
    assert_int_equal(os_munmap(&p.mm, buf, ITE_PAGES * 4096), 0);
    uint64_t iqercd = fi_unit_rd(h, REG_OFF_IQERCD, 8);
    struct viommu_stats v1 = fi_vstats(g);
    struct accel_stats d1 = fi_dev_stats(h, 0);
    uint64_t ites = LD(m->qi_errors) - errors0;
    printf("  munmap under a device that never completes: %llu host ITE, ITESID %#llx, "
           "%llu host invalidation errors in the viommu, device got %llu invalidations "
           "(%llu entries dropped)\n",
           (unsigned long long)ites, (unsigned long long)HW_FV(IQERCD, ITESID, iqercd),
           (unsigned long long)(v1.host_inv_errors - v0.host_inv_errors),
           (unsigned long long)(d1.invalidations - d0.invalidations),
           (unsigned long long)(d1.inv_dropped - d0.inv_dropped));
    assert_true(ites >= 1);
    assert_int_equal(HW_FV(IQERCD, ITESID, iqercd), h->acc_bdf[0]);
    assert_true(v1.host_inv_errors > v0.host_inv_errors);
    assert_true(d1.invalidations > d0.invalidations);
    assert_true(d1.inv_dropped > d0.inv_dropped);      /* the device did drop them */
    /* The host unit is not left stopped: no error pending, queue drained. */
    uint32_t fsts = (uint32_t)fi_unit_rd(h, REG_OFF_FSTS, 4);
    assert_int_equal(fsts & (HW_FM(FSTS, ITE) | HW_FM(FSTS, IQE) | HW_FM(FSTS, ICE)), 0);
    assert_int_equal(fi_unit_rd(h, REG_OFF_IQH, 8), fi_unit_rd(h, REG_OFF_IQT, 8));
    assert_true(LD(m->qi_submits) > submits0);
    /* The guest's own unit saw nothing wrong: its wait completed normally. */
    uint32_t gfsts = (uint32_t)fi_guest_rd(g, REG_OFF_FSTS, 4);
    assert_int_equal(gfsts & (HW_FM(FSTS, ITE) | HW_FM(FSTS, IQE)), 0);
    /* The host queue works for the host: an empty submission (just a wait). */
    assert_int_equal(os_qi_submit(m, NULL, 0), 0);

    /* More of the same while the device is still broken: the guest's
     * process exits (unbind: PASID device-TLB flush, ITE again) and a new
     * one binds (the host attach's device-TLB flush times out too). The
     * new binding must be in place all the same: its unmaps reach the
     * device. Regression: iommufd_attach reported the flush's ITE as a
     * failed attach after installing the host PASID entry, so the viommu
     * kept no binding and forwarded none of the PASID's invalidations; the
     * device wrote through stale translations into freed guest pages. */
    wl_proc_close(&p);
    assert_true(LD(m->qi_errors) > errors0 + ites);
    uint64_t binds = fi_vstats(g).binds;
    assert_int_equal(wl_proc_open(&p, k, guest_accel(g, 0)), 0);
    assert_int_equal(fi_vstats(g).binds, binds + 1);
    assert_int_equal(os_mmap(&p.mm, ITE_PAGES * 4096, OS_PROT_READ | OS_PROT_WRITE, &buf), 0);
    for (unsigned i = 0; i < ITE_PAGES; i++)
        c[i].a = buf + 4096 * i;
    assert_int_equal(wl_run(&p, c, ITE_PAGES, &err, &fva), 0);
    d0 = fi_dev_stats(h, 0);
    assert_int_equal(os_munmap(&p.mm, buf, ITE_PAGES * 4096), 0);
    d1 = fi_dev_stats(h, 0);
    assert_true(d1.invalidations > d0.invalidations);
    assert_true(d1.inv_dropped > d0.inv_dropped);
    wl_proc_close(&p);
    /* A workload that unmaps and remaps under the device hundreds of times:
     * every unmap is an ITE now, and the device still drops what it is
     * told to, so the workload's checks (no stale write after munmap) hold. */
    uint64_t errors_loop = LD(m->qi_errors);
    struct wl_result r;
    wl_svm_storedw_loop(k, guest_accel(g, 0), &r);
    printf("  svm_storedw_loop under the broken device: %s (%s), %llu host ITE\n",
           r.passed ? "passed" : "FAILED", r.detail,
           (unsigned long long)(LD(m->qi_errors) - errors_loop));
    if (!r.passed)
        fail_msg("svm_storedw_loop in the guest under ITE: %s", r.detail);
    assert_true(LD(m->qi_errors) > errors_loop);

    /* The device completes again: everything works. */
    accel_test_inv_never_complete(h->acc[0].dev, false);
    uint64_t errors1 = LD(m->qi_errors);
    tm_run_all(k, guest_accel(g, 0), "guest after the device recovered");
    assert_int_equal(LD(m->qi_errors), errors1);
    fi_bystander_stop(&b, "ITE");
    printf("  host queue errors in all: %llu\n", (unsigned long long)(LD(m->qi_errors) - errors0));
    guest_destroy(g);
    tm_run_all(&h->k, &h->drv[0], "host on the device afterwards");
    host_destroy(h);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_device_never_completes_invalidation),
        T(test_prq_flood_overflows_host_queue),
        T(test_prq_flood_overflows_guest_queue),
        T(test_guest_faulting_dma_flood),
        T(test_fault_handler_records_behind_it),
        T(test_fault_handler_overflow_during_pass),
        T(test_host_qi_bad_descriptor),
        T(test_host_qi_foreign_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
