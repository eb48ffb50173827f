/* In-process guests (issue 6 items 2-3): a guest kernel boots on its
 * virtual IOMMU with an assigned accelerator and runs the SVM workloads
 * through nested translation; assignment is refused where it cannot work;
 * the device goes back to the host on teardown and serves it again. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <sched.h>

#include "lib/hw.h"
#include "lib/hw_regs.h"
#include "mem/mem.h"
#include "vmm/guest.h"
#include "vmm/host.h"
#include "workloads/workloads.h"
#include "support/machines.h"

static struct host *mk_host(unsigned nunits, unsigned naccels)
{
    return tm_host(nunits, naccels, 1ULL << 30);
}

static struct guest *mk_guest(struct host *h, bool svm, uint16_t host_bdf)
{
    return tm_guest(h, svm, host_bdf);
}

/* Test case 2 in miniature: the four workloads in a guest. */
static void test_guest_svm_workloads(void **state)
{
    (void)state;
    struct host *h = mk_host(2, 2);
    struct guest *g = mk_guest(h, true, h->acc_bdf[0]);
    assert_int_equal(guest_naccels(g), 1);
    assert_int_equal(guest_cfg(g)->dev[0].guest_bdf, 0x20);   /* 00:04.0 */
    tm_run_all(guest_kernel(g), guest_accel(g, 0), "guest");
    struct viommu_stats st;
    guest_viommu_stats(g, &st);
    assert_true(st.binds >= 4);           /* one PASID per workload process */
    assert_true(st.page_requests > 16);   /* svm_fault's pages came through the guest */
    assert_int_equal(st.page_responses, st.page_requests - st.dropped_requests);
    assert_int_equal(st.bad_entries, 0);
    guest_destroy(g);
    host_destroy(h);
}

static void expect_refused(struct host *h, const struct guest_config *c, const char *why_part)
{
    char why[160] = "";
    struct guest *g = guest_create(h, c, why, sizeof(why));
    if (g)
        fail_msg("guest_create accepted what should be refused (%s)", why_part);
    if (!strstr(why, why_part))
        fail_msg("reason '%s' does not mention '%s'", why, why_part);
}

/* Every configuration that cannot work is refused before anything runs,
 * and leaves the host as it was. */
static void test_refusals(void **state)
{
    (void)state;
    struct host *h = mk_host(2, 2);
    struct guest_config c;
    guest_config_default(&c);
    c.ndevs = 1, c.dev[0].host_bdf = 0x0700;
    expect_refused(h, &c, "no accelerator there");
    c.dev[0].host_bdf = h->acc_bdf[0], c.mem_size = 4ULL << 30;
    expect_refused(h, &c, "memory");
    c.mem_size = 64ULL << 20, c.aw_bits = 39;
    expect_refused(h, &c, "aw-bits");
    c.aw_bits = 48, c.caching_mode = false;
    expect_refused(h, &c, "caching mode");
    c.caching_mode = true, c.ndevs = 2, c.dev[1] = c.dev[0];
    expect_refused(h, &c, "collides");
    c.dev[1].host_bdf = h->acc_bdf[1], c.dev[1].guest_bdf = 0x0100;
    expect_refused(h, &c, "bus 0");
    /* The same device for two guests. */
    c.ndevs = 1, c.svm = true;
    struct guest *g = mk_guest(h, true, h->acc_bdf[0]);
    expect_refused(h, &c, "already assigned");
    guest_destroy(g);
    /* A host process holds a context on the device. */
    struct wl_proc p;
    assert_int_equal(wl_proc_open(&p, &h->k, &h->drv[0]), 0);
    expect_refused(h, &c, "in use by the host");
    wl_proc_close(&p);
    host_destroy(h);
    /* svm=on on host units that cannot nest. */
    struct host_config hc;
    char why[160];
    host_config_default(&hc);
    hc.unit_ecap_clear = 1ULL << 26;   /* ECAP.NEST */
    h = host_create(&hc, why, sizeof(why));
    assert_non_null(h);
    expect_refused(h, &c, "cannot nest");
    host_destroy(h);
}

/* The device goes back to the host kernel with the guest, and serves
 * host processes again; the guest's work never outlives it. */
static void test_device_returns_to_host(void **state)
{
    (void)state;
    struct host *h = mk_host(1, 1);
    struct guest *g = mk_guest(h, true, h->acc_bdf[0]);
    struct wl_proc p;
    assert_int_equal(wl_proc_open(&p, &h->k, &h->drv[0]), -19);   /* released */
    tm_run_all(guest_kernel(g), guest_accel(g, 0), "guest");
    guest_destroy(g);
    tm_run_all(&h->k, &h->drv[0], "host after the guest");
    /* and to a second guest after that */
    g = mk_guest(h, true, h->acc_bdf[0]);
    tm_run_all(guest_kernel(g), guest_accel(g, 0), "second guest");
    guest_destroy(g);
    host_destroy(h);
}

/* Test case 3's attack: guest A's kernel points its device at guest B's
 * frames (their host addresses, as if it had learnt them) and at PASIDs
 * it never bound, while B runs its workloads: A gets device errors only,
 * B passes, and none of B's frames holds A's marker. */
static void test_hostile_guest(void **state)
{
    (void)state;
    struct host *h = mk_host(1, 2);
    struct guest *a = mk_guest(h, true, h->acc_bdf[0]);
    struct guest *b = mk_guest(h, true, h->acc_bdf[1]);
    const uint32_t marker = 0x5EC0BAD5;
    uint64_t t[12];
    unsigned n = 0;
    for (uint64_t gpa = 0x100000; n < 10; gpa += 0x40000)
        t[n++] = guest_hpa(b, gpa) + 0x80;
    t[n++] = 256ULL << 20;            /* just past A's RAM */
    t[n++] = (256ULL << 20) + 0x1000;
    struct wl_result r;
    wl_isolation_probe(guest_kernel(a), guest_accel(a, 0), t, n, marker, &r);
    if (!r.passed)
        fail_msg("%s", r.detail);
    assert_int_equal(r.operations, n + 8);
    tm_run_all(guest_kernel(b), guest_accel(b, 0), "the other guest");
    for (unsigned i = 0; i < 10; i++) {
        uint32_t v = 0;
        assert_int_equal(mem_read(h->mem, t[i], &v, 4), 0);
        assert_int_not_equal(v, marker);
    }
    struct viommu_stats st;
    guest_viommu_stats(b, &st);
    assert_int_equal(st.faults_injected, 0);   /* nothing of A reached B */
    guest_destroy(a);
    guest_destroy(b);
    host_destroy(h);
}

/* A guest kernel that stops answering page requests (its page-request
 * interrupt masked, as a frozen kernel would leave it): its device gives
 * up on the request after its page-response timeout, the other guest on
 * the same unit works throughout, and the host serves its device again
 * once the guest is gone. */
static void test_frozen_guest(void **state)
{
    (void)state;
    struct host *h = mk_host(1, 2);
    struct guest *a = mk_guest(h, true, h->acc_bdf[0]);
    struct guest *b = mk_guest(h, true, h->acc_bdf[1]);
    struct os_kernel *k = guest_kernel(a);
    k->ops.mmio_write(k->ops.ctx, GUEST_UNIT_BASE + REG_OFF_PECTL, 4, HW_FM(ECTL, IM));
    struct wl_proc p;
    uint64_t buf, fva = 0;
    unsigned err = 0;
    assert_int_equal(wl_proc_open(&p, k, guest_accel(a, 0)), 0);
    assert_int_equal(os_mmap(&p.mm, 4096, OS_PROT_READ | OS_PROT_WRITE, &buf), 0);
    struct accel_cmd c = { .opcode = ACCEL_OP_STORE_DWORD, .arg = 7, .a = buf };
    assert_int_equal(wl_run(&p, &c, 1, &err, &fva), -5);
    assert_int_equal(err, ACCEL_ERR_TIMEOUT);
    tm_run_all(guest_kernel(b), guest_accel(b, 0), "the other guest");
    wl_proc_close(&p);
    guest_destroy(a);
    tm_run_all(&h->k, &h->drv[0], "host after the frozen guest");
    tm_run_all(guest_kernel(b), guest_accel(b, 0), "the other guest, still");
    guest_destroy(b);
    host_destroy(h);
}

struct victim {
    struct guest *g;
    int rc;
    bool waiting;
};

/* A process of the guest submits a batch whose page request the guest
 * never answers, and waits for it. */
static void *stuck_batch(void *arg)
{
    struct victim *v = arg;
    struct os_kernel *k = guest_kernel(v->g);
    struct wl_proc p;
    uint64_t buf = 0, fva;
    unsigned err;
    v->rc = wl_proc_open(&p, k, guest_accel(v->g, 0));
    v->rc = v->rc ? v->rc : os_mmap(&p.mm, 4096, OS_PROT_READ | OS_PROT_WRITE, &buf);
    __atomic_store_n(&v->waiting, true, __ATOMIC_RELEASE);
    struct accel_cmd c = { .opcode = ACCEL_OP_STORE_DWORD, .arg = 7, .a = buf };
    if (!v->rc)
        wl_run(&p, &c, 1, &err, &fva);   /* any outcome: the machine dies under it */
    wl_proc_close(&p);
    return NULL;
}

/* The guest dies in the middle of a batch with a page request outstanding:
 * its kernel's threads come back, the device is reset and goes back to
 * the host, which serves it at once; the other guest never notices. */
static void test_guest_killed_mid_batch(void **state)
{
    (void)state;
    struct host *h = mk_host(1, 2);
    struct guest *a = mk_guest(h, true, h->acc_bdf[0]);
    struct guest *b = mk_guest(h, true, h->acc_bdf[1]);
    struct os_kernel *k = guest_kernel(a);
    k->ops.mmio_write(k->ops.ctx, GUEST_UNIT_BASE + REG_OFF_PECTL, 4, HW_FM(ECTL, IM));
    struct victim v = { .g = a };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, stuck_batch, &v), 0);
    while (!__atomic_load_n(&v.waiting, __ATOMIC_ACQUIRE))
        sched_yield();
    struct accel_stats st;
    for (int i = 0; i < 200000; i++) {   /* until the device waits on its page request */
        accel_get_stats(h->acc[0].dev, &st);
        if (st.page_requests)
            break;
        sched_yield();
    }
    assert_true(st.page_requests > 0);
    guest_kill(a);
    pthread_join(t, NULL);
    assert_int_equal(v.rc, 0);
    guest_destroy(a);
    tm_run_all(&h->k, &h->drv[0], "host after the killed guest");
    tm_run_all(guest_kernel(b), guest_accel(b, 0), "the other guest");
    guest_destroy(b);
    host_destroy(h);
}

static unsigned sunk;
static void sink(void *opaque, uint64_t addr, uint32_t data)
{
    (void)opaque, (void)data;
    if (addr == 0xFEE00000ULL)
        sunk++;
}

/* The machine for an external kernel (KVM): no in-process kernel boots;
 * the register page, the virtual config space and the DMAR table are there
 * to be driven, and the guest's MSIs reach the sink. */
static void test_external_kernel_machine(void **state)
{
    (void)state;
    struct host *h = mk_host(1, 1);
    struct guest_config c;
    char why[160];
    guest_config_default(&c);
    c.svm = true, c.ndevs = 1, c.dev[0].host_bdf = h->acc_bdf[0], c.external_kernel = true;
    assert_null(guest_create(h, &c, why, sizeof(why)));
    assert_non_null(strstr(why, "MSI sink"));
    c.msi_sink = sink;
    struct guest *g = guest_create(h, &c, why, sizeof(why));
    assert_non_null(g);
    size_t len = 0;
    assert_memory_equal(guest_dmar(g, &len), "DMAR", 4);
    assert_true(len > 48);
    assert_int_equal(guest_pci_read(g, 0x20, 0, 4), 0x53561af4);   /* vendor/device */
    assert_int_equal(guest_pci_read(g, 0x28, 0, 4), 0xFFFFFFFF);   /* nothing there */
    assert_int_equal(guest_mmio_read(g, GUEST_UNIT_BASE + REG_OFF_VER, 4) & 0xFF, 0x30);
    uint64_t cap = guest_mmio_read(g, GUEST_UNIT_BASE + REG_OFF_CAP, 8);
    assert_int_equal(HW_FV(CAP, FL5LP, cap), 0);   /* aw-bits=48 */
    assert_true(HW_FV(CAP, MGAW, cap) <= 47);
    /* An invalidation wait with IF: its completion event reaches the sink. */
    uint64_t base = GUEST_UNIT_BASE, d[2] = { 0 };
    guest_mmio_write(g, base + REG_OFF_IEADDR, 4, 0xFEE00000);
    guest_mmio_write(g, base + REG_OFF_IEDATA, 4, 0x42);
    guest_mmio_write(g, base + REG_OFF_IECTL, 4, 0);
    guest_mmio_write(g, base + REG_OFF_IQA, 8, 0x100000);
    guest_mmio_write(g, base + REG_OFF_GCMD, 4, HW_FM(GCMD, QIE));
    assert_true(guest_mmio_read(g, base + REG_OFF_GSTS, 4) & HW_FM(GSTS, QIES));
    HW_SET(INV_WAIT, TYPE_LO, d, INV_TYPE_WAIT), HW_SET(INV_WAIT, IF, d, 1);
    assert_int_equal(gpa_write(guest_ram(g), 0x100000, d, sizeof(d)), 0);
    unsigned before = sunk;
    guest_mmio_write(g, base + REG_OFF_IQT, 8, 16);
    assert_int_equal(sunk, before + 1);
    assert_non_null(guest_ram(g));
    guest_destroy(g);
    if (HW_FV(CAP, FL5LP, h->iommu[0].cap)) {   /* aw-bits=57 keeps 5-level first level */
        c.aw_bits = 57;
        g = guest_create(h, &c, why, sizeof(why));
        assert_non_null(g);
        assert_int_equal(HW_FV(CAP, FL5LP, guest_mmio_read(g, GUEST_UNIT_BASE + REG_OFF_CAP, 8)), 1);
        guest_destroy(g);
    }
    host_destroy(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guest_svm_workloads),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_device_returns_to_host),
        cmocka_unit_test(test_hostile_guest),
        cmocka_unit_test(test_frozen_guest),
        cmocka_unit_test(test_guest_killed_mid_batch),
        cmocka_unit_test(test_external_kernel_machine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
