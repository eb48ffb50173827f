/* Containment of a misbehaving KVM guest kernel (issue 7, "Bad input"):
 * a guest kernel with an assigned accelerator faults in ring 0, triple
 * faults, spins with interrupts off (also with its device waiting on page
 * requests), or writes garbage to its virtual
 * IOMMU, its devices' BARs and configuration space, I/O ports and its own
 * IOMMU tables (guest/kernel/misbehave.c), while a second KVM guest behind
 * the same host remapping unit and a host process on another unit run SVM
 * workloads. Each time:
 *   - the bad guest's run ends with a report (outcome, registers), never a
 *     hang, and the VMM resets its device at that moment, not at teardown;
 *   - the other guest and the host process pass (the bad guest's device
 *     may be left waiting on page requests its kernel never answers);
 *   - after teardown the device serves host processes again;
 *   - every fault the host units recorded came from the bad guest's
 *     device (nothing of its garbage was blamed on anyone else).
 * Skips with the reason when /dev/kvm is absent or unusable. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev/accel.h"
#include "kvm/kvm_machine.h"
#include "support/machines.h"
#include "vmm/host.h"
#include "workloads/workloads.h"

#define MiB (1ULL << 20)
#define SEC 1000000000ULL
#define GOOD_PROGRAMS "iommu svm_sanity svm_fault"

/* Host: unit 0 has accelerators 0 (the bad guest's) and 2 (the good
 * guest's); unit 1 has accelerator 1 (a host process's). */
enum { BAD_ACC = 0, HOST_ACC = 1, GOOD_ACC = 2 };

static void show(struct kvm_machine *m, const struct kvm_report *r)
{
    char buf[1024];
    kvm_report_format(r, buf, sizeof(buf));
    print_message("%s--- console ---\n", buf);
    fputs(kvm_machine_console(m), stdout);      /* longer than print_message's buffer */
    print_message("---\n");
}

/* Host processes run two SVM workloads on HOST_ACC meanwhile (a thread:
 * the verdict is its return value, h when both passed). */
static void *host_lane(void *arg)
{
    struct host *h = arg;
    bool ok = true;
    for (unsigned i = 0; i < 2; i++) {
        struct wl_result r;
        wl_all[i].fn(&h->k, &h->drv[HOST_ACC], &r);
        ok &= r.passed;
    }
    return ok ? h : NULL;
}

/* Every fault the host units' handlers read (the last OS_FAULT_LOG of
 * each) names the device sid; their number. */
static unsigned faults_only_from(struct host *h, uint16_t sid)
{
    unsigned n = 0;
    for (unsigned u = 0; u < h->cfg.nunits; u++) {
        const struct os_iommu *m = &h->iommu[u];
        unsigned total = __atomic_load_n(&m->nfault, __ATOMIC_ACQUIRE);
        for (unsigned i = total > OS_FAULT_LOG ? total - OS_FAULT_LOG : 0; i < total; i++, n++)
            if (m->fault[i % OS_FAULT_LOG].sid != sid)
                fail_msg("unit %u read fault %#x for %04x, not the bad guest's %04x", u,
                         m->fault[i % OS_FAULT_LOG].reason, m->fault[i % OS_FAULT_LOG].sid, sid);
    }
    return n;
}

/* Runs bad_cmdline on the bad guest while the good guest and the host
 * lane work; checks what every test checks (the bad console shows expect). */
/* What became of the bad guest: its report, exit counts and its device's
 * statistics read right after its run ended. */
struct outcome {
    struct kvm_report r;
    struct kvm_machine_stats st;
    struct accel_stats dev;
};

static void contain(const char *bad_cmdline, const char *expect, uint64_t bad_timeout,
                    struct outcome *o)
{
    struct kvm_report *r = &o->r;
    struct kvm_machine_stats *st = &o->st;
    struct accel_stats *dev = &o->dev;
    struct host *h = tm_host(2, 3, 512 * MiB);
    struct kvm_machine *bad = tm_kvm_machine(h, "bad", true, BAD_ACC, 1, 16 * MiB);
    struct kvm_machine *good = tm_kvm_machine(h, "good", true, GOOD_ACC, 1, 16 * MiB);
    char why[200] = "";
    assert_int_equal(kvm_machine_start(good, GOOD_PROGRAMS, why, sizeof(why)), 0);
    assert_int_equal(kvm_machine_start(bad, bad_cmdline, why, sizeof(why)), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, host_lane, h), 0);

    struct accel_stats before;
    accel_get_stats(h->acc[BAD_ACC].dev, &before);
    memset(r, 0, sizeof(*r));
    int rc = kvm_machine_wait(bad, bad_timeout, r, why, sizeof(why));
    accel_get_stats(h->acc[BAD_ACC].dev, dev);
    if (getenv("VSVM_VERBOSE"))
        show(bad, r);
    /* reported with its registers; contained at once */
    char buf[1024];
    kvm_report_format(r, buf, sizeof(buf));
    assert_non_null(strstr(buf, "rip="));
    if (r->end != KVM_END_EXIT || r->status == KVM_EXIT_PANIC) {
        assert_true(kvm_machine_killed(bad));
        assert_non_null(strstr(r->what, "devices were reset"));
        assert_true(dev->resets > before.resets);
        assert_int_not_equal(kvm_machine_start(bad, "hello", why, sizeof(why)), 0);
    } else {
        assert_int_equal(rc, 0);
    }
    kvm_machine_stats(bad, st);
    if (!strstr(kvm_machine_console(bad), expect))
        show(bad, r);
    assert_non_null(strstr(kvm_machine_console(bad), expect));     /* it did misbehave */

    /* the others never noticed */
    struct kvm_report gr;
    memset(&gr, 0, sizeof(gr));
    rc = kvm_machine_wait(good, 300 * SEC, &gr, why, sizeof(why));
    struct kvm_wl_result res[4];
    unsigned n = kvm_machine_results(good, res, 4);
    if (rc || gr.status || n != 2 || !res[0].passed || !res[1].passed)
        show(good, &gr);
    assert_int_equal(rc, 0);
    assert_int_equal(gr.status, 0);
    assert_int_equal(n, 2);
    assert_true(res[0].passed && res[1].passed);
    void *host_ok = NULL;
    pthread_join(t, &host_ok);
    assert_non_null(host_ok);

    /* only the bad guest's device has faults on the host units' records */
    unsigned nfaults = faults_only_from(h, h->acc_bdf[BAD_ACC]);
    print_message("%s: %s; %llu unit / %llu BAR / %llu config / %llu other exits; "
                  "%u host fault records, all its own\n", bad_cmdline, r->what,
                  (unsigned long long)st->unit_accesses, (unsigned long long)st->bar_accesses,
                  (unsigned long long)st->cfg_accesses, (unsigned long long)st->other_accesses,
                  nfaults);
    kvm_machine_destroy(good);
    kvm_machine_destroy(bad);
    tm_run_all(&h->k, &h->drv[BAD_ACC], "the host after the bad guest");
    host_destroy(h);
}

/* A NULL dereference in ring 0 after the device was brought up and used:
 * the guest's #PF handler dumps the state and panics. */
static void test_kernel_fault(void **state)
{
    (void)state;
    if (tm_kvm_skip())
        skip();
    struct outcome o;
    contain("iommu svm_sanity kfault", "kfault: reading", 120 * SEC, &o);
    assert_int_equal(o.r.end, KVM_END_EXIT);
    assert_int_equal(o.r.status, KVM_EXIT_PANIC);
}

/* A triple fault with the device in use: KVM's shutdown exit. */
static void test_kernel_triple_fault(void **state)
{
    (void)state;
    if (tm_kvm_skip())
        skip();
    struct outcome o;
    contain("iommu svm_sanity ktriple", "ktriple: empty IDT", 120 * SEC, &o);
    assert_int_equal(o.r.end, KVM_END_SHUTDOWN);
    assert_true(o.r.rip >= KVM_KERNEL_BASE);          /* in the kernel's text */
}

/* A ring-0 spin with interrupts off: the watchdog stops the vCPU. */
static void test_kernel_spin(void **state)
{
    (void)state;
    if (tm_kvm_skip())
        skip();
    struct outcome o;
    contain("iommu svm_sanity kspin", "kspin: interrupts off", 8 * SEC, &o);
    assert_int_equal(o.r.end, KVM_END_TIMEOUT);
    assert_int_equal(o.r.cs & 3, 0);                  /* stopped in ring 0 */
    assert_true(o.r.rip >= KVM_KERNEL_BASE);
}

/* A process's call hangs the kernel with interrupts off right after it
 * submitted stores to 64 untouched pages: the device waits on page
 * requests the guest will never answer. The watchdog ends the run, the
 * reset abandons the requests, and the other guest's page requests on the
 * same host unit are served all along. */
static void test_kernel_stall_with_page_requests(void **state)
{
    (void)state;
    if (tm_kvm_skip())
        skip();
    struct outcome o;
    contain("iommu stall", "stall: 64 stores to untouched pages submitted", 8 * SEC, &o);
    assert_int_equal(o.r.end, KVM_END_TIMEOUT);
    assert_int_equal(o.r.cs & 3, 0);
    assert_true(o.dev.page_requests > o.dev.page_responses);    /* unanswered when it was stopped */
}

/* Garbage to every register the guest can reach and to its own IOMMU
 * tables, three seeds; whatever the kernel does after it (carry on, panic,
 * triple fault), the run ends with a report within the watchdog. */
static void test_kernel_garbage(void **state)
{
    (void)state;
    if (tm_kvm_skip())
        skip();
    static const char *const runs[] = {
        "iommu svm_sanity kgarbage:1 svm_sanity",
        "iommu svm_fault kgarbage:5eed svm_sanity",
        "iommu kgarbage:c0ffee svm_storedw_loop",
    };
    for (unsigned i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
        struct outcome o;
        contain(runs[i], "kgarbage: seed", 30 * SEC, &o);
        /* it got its garbage out: each kind of target was hit */
        assert_true(o.st.unit_accesses > 500);
        assert_true(o.st.bar_accesses > 500);
        assert_true(o.st.cfg_accesses > 500);
        assert_true(o.st.other_accesses > 500);
        assert_true(o.r.end != KVM_END_NONE && o.r.end != KVM_END_ERROR);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_fault),
        cmocka_unit_test(test_kernel_triple_fault),
        cmocka_unit_test(test_kernel_spin),
        cmocka_unit_test(test_kernel_stall_with_page_requests),
        cmocka_unit_test(test_kernel_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
