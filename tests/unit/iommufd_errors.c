/* iommufd: validation, bad ids, non-recoverable faults, detach, and two
 * guests on one host unit (companion of test_iommufd.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <unistd.h>

#include "iommufd_fixture.h"
#include "lib/hw_regs.h"

extern const struct CMUnitTest iommufd_error_tests[5];

static void test_bad_nested_and_ids(void **state)
{
    (void)state;
    struct host *h = gx_host(1);
    struct gx g;
    gx_init(&g, h, 0);
    uint32_t id, dev2;
    struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_gpa = g.pt.root + 8, .addr_width = 48 };
    assert_int_equal(iommufd_hwpt_alloc_nested(g.ifd, g.parent, &s1, &id), -EINVAL);
    s1.pgtbl_gpa = 16ULL << 20;                               /* outside the guest map */
    assert_int_equal(iommufd_hwpt_alloc_nested(g.ifd, g.parent, &s1, &id), -EINVAL);
    s1 = (struct iommu_hwpt_vtd_s1){ .pgtbl_gpa = g.pt.root, .addr_width = 39 };
    assert_int_equal(iommufd_hwpt_alloc_nested(g.ifd, g.parent, &s1, &id), -EINVAL);
    s1.addr_width = 57;
    assert_int_equal(iommufd_hwpt_alloc_nested(g.ifd, g.parent, &s1, &id),
                     HW_FV(CAP, FL5LP, h->iommu[0].cap) ? 0 : -EINVAL);
    s1 = (struct iommu_hwpt_vtd_s1){ .pgtbl_gpa = g.pt.root, .addr_width = 48, .flags = 1u << 7 };
    assert_int_equal(iommufd_hwpt_alloc_nested(g.ifd, g.parent, &s1, &id), -EINVAL);
    s1.flags = IOMMU_VTD_S1_SRE;
    int want = HW_FV(ECAP, SRS, h->iommu[0].ecap) ? 0 : -EINVAL;
    assert_int_equal(iommufd_hwpt_alloc_nested(g.ifd, g.parent, &s1, &id), want);
    s1.flags = 0;
    assert_int_equal(iommufd_hwpt_alloc_nested(g.ifd, g.nested, &s1, &id), -EINVAL);
    assert_int_equal(iommufd_hwpt_alloc_nested(g.ifd, 999, &s1, &id), -EINVAL);
    assert_int_equal(iommufd_bind(g.ifd, 0x0042, &dev2), -ENODEV);
    assert_int_equal(iommufd_bind(g.ifd, h->acc_bdf[0], &dev2), -EBUSY);
    assert_int_equal(iommufd_attach(g.ifd, 999, GX_PASID, g.nested), -EINVAL);
    assert_int_equal(iommufd_attach(g.ifd, g.dev, GX_PASID, 999), -EINVAL);
    assert_int_equal(iommufd_detach(g.ifd, g.dev, 77), -ENOENT);
    assert_int_equal(iommufd_unbind(g.ifd, g.dev), -EBUSY);
    assert_int_equal(iommufd_hwpt_free(g.ifd, g.parent), -EBUSY);
    assert_int_equal(iommufd_hwpt_free(g.ifd, g.nested), -EBUSY);
    struct iommu_hw_info_vtd info;
    assert_int_equal(iommufd_get_hw_info(g.ifd, 999, &info), -ENOENT);
    assert_int_equal(iommufd_parent_map(g.ifd, g.parent, 0x1001, 4096), -EINVAL);
    assert_int_equal(iommufd_parent_map(g.ifd, g.parent, 16ULL << 20, 4096), -EINVAL);
    assert_int_equal(iommufd_parent_unmap(g.ifd, g.nested, 0, 4096), -EINVAL);
    gx_fini(&g);
    host_destroy(h);
}

/* Each bad entry stops the array at its index; earlier ones are done. */
static void test_invalidate_validation(void **state)
{
    (void)state;
    struct host *h = gx_host(1);
    struct gx g;
    gx_init(&g, h, 0);
    const struct iommu_hwpt_vtd_s1_invalidate ok = { GX_DATA_VA, 1, 0 };
    const struct iommu_hwpt_vtd_s1_invalidate bad[] = {
        { GX_DATA_VA + 8, 1, 0 },                   /* not page aligned */
        { GX_DATA_VA, 0, 0 },                       /* no pages */
        { GX_DATA_VA, 1, 1u << 5 },                 /* unknown flag */
        { 0xFFFFFFFFFFFFF000ULL, 2, 0 },            /* wraps */
        { 0x1000, IOMMU_VTD_INV_ALL_PAGES, 0 },     /* everything, but not from 0 */
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct iommu_hwpt_vtd_s1_invalidate e[3] = { ok, ok, ok };
        e[1 + i % 2] = bad[i];
        unsigned done = 99;
        assert_int_equal(iommufd_hwpt_invalidate(g.ifd, g.nested, e, 3, &done), -EINVAL);
        assert_int_equal(done, 1 + i % 2);
    }
    unsigned done = 99;
    assert_int_equal(iommufd_hwpt_invalidate(g.ifd, g.parent, &ok, 1, &done), -EINVAL);
    assert_int_equal(done, 0);
    assert_int_equal(iommufd_hwpt_invalidate(g.ifd, 999, &ok, 1, &done), -EINVAL);
    assert_int_equal(iommufd_hwpt_invalidate(g.ifd, g.nested, NULL, 0, &done), 0);
    assert_int_equal(done, 0);
    gx_fini(&g);
    host_destroy(h);
}

/* A guest table pointing outside guest RAM: a non-recoverable fault of the
 * nested first-level walk, reported on the event queue. */
static void test_event_queue(void **state)
{
    (void)state;
    struct host *h = gx_host(1);
    struct gx g;
    gx_init(&g, h, 0);
    uint64_t va = GX_DATA_VA + (4ULL << 21);
    assert_int_equal(pt_set_raw(&g.pt, va, 2, (1ULL << 30) | PTE_P | PTE_RW | PTE_US), 0);
    uint32_t st = gx_store(&g, va, 1);
    assert_int_equal(st & 0xFF, ACCEL_ST_ERROR);
    struct iommufd_event ev;
    gx_event_wait(&g, &ev);
    assert_int_equal(ev.dev_id, g.dev);
    assert_int_equal(ev.pasid, GX_PASID);
    assert_int_equal(ev.addr, va);
    assert_true(ev.reason >= 0x70 && ev.reason <= 0x77);
    struct iommu_hwpt_pgfault f;
    assert_int_equal(iommufd_fault_read(g.ifd, &f, 1), 0);
    gx_fini(&g);
    host_destroy(h);
}

/* Decision: after detach the PASID entry is not present (0x59), a fault in
 * a host-owned structure: the host records it, the event queue does not. */
static void test_detach_then_access(void **state)
{
    (void)state;
    struct host *h = gx_host(1);
    struct gx g;
    gx_init(&g, h, 0);
    gx_map(&g, GX_DATA_VA);
    assert_int_equal(gx_store(&g, GX_DATA_VA, 1), ACCEL_ST_DONE);
    unsigned before = __atomic_load_n(&h->iommu[0].nfault, __ATOMIC_ACQUIRE);
    assert_int_equal(iommufd_detach(g.ifd, g.dev, GX_PASID), 0);
    uint32_t st = gx_store(&g, GX_DATA_VA, 2);
    assert_int_equal(st & 0xFF, ACCEL_ST_ERROR);
    unsigned ms = 0;
    while (__atomic_load_n(&h->iommu[0].nfault, __ATOMIC_ACQUIRE) == before && ms++ < 30000)
        usleep(1000);
    unsigned last = (__atomic_load_n(&h->iommu[0].nfault, __ATOMIC_ACQUIRE) - 1) % OS_FAULT_LOG;
    assert_int_equal(h->iommu[0].fault[last].reason, 0x59);
    struct iommufd_event ev;
    assert_int_equal(iommufd_event_read(g.ifd, &ev, 1), 0);
    assert_int_equal(iommufd_unbind(g.ifd, g.dev), 0);        /* nothing attached now */
    gx_fini(&g);
    host_destroy(h);
}

/* Two guests (two iommufds) on one unit: each sees only its own faults. */
static void test_two_guests(void **state)
{
    (void)state;
    struct host *h = gx_host(2);
    struct gx a, b;
    gx_init(&a, h, 0);
    gx_init(&b, h, 1);
    struct accel_cmd c = { .opcode = ACCEL_OP_STORE_DWORD, .arg = 1, .a = GX_DATA_VA };
    gx_submit(&a, &c);
    struct iommu_hwpt_pgfault f;
    gx_fault_wait(&a, &f);
    assert_int_equal(f.dev_id, a.dev);
    assert_int_equal(iommufd_fault_read(b.ifd, &f, 1), 0);
    assert_int_equal(iommufd_fault_respond(b.ifd, f.cookie, 0), -EINVAL);  /* not b's */
    gx_map(&a, GX_DATA_VA);
    assert_int_equal(iommufd_fault_respond(a.ifd, f.cookie, 0), 0);
    assert_int_equal(gx_wait(&a), ACCEL_ST_DONE);
    gx_submit(&b, &c);
    gx_fault_wait(&b, &f);
    assert_int_equal(f.dev_id, b.dev);
    assert_int_equal(iommufd_fault_read(a.ifd, &f, 1), 0);
    gx_fini(&a);                         /* b keeps working after a closes */
    uint64_t gpa = gx_map(&b, GX_DATA_VA);
    assert_int_equal(iommufd_fault_respond(b.ifd, f.cookie, 0), 0);
    assert_int_equal(gx_wait(&b), ACCEL_ST_DONE);
    assert_int_equal(gx_hpa_read32(&b, gpa), 1);
    gx_fini(&b);
    host_destroy(h);
}

const struct CMUnitTest iommufd_error_tests[5] = {
    cmocka_unit_test(test_bad_nested_and_ids),
    cmocka_unit_test(test_invalidate_validation),
    cmocka_unit_test(test_event_queue),
    cmocka_unit_test(test_detach_then_access),
    cmocka_unit_test(test_two_guests),
};
