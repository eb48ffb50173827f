/* iommufd on the model host (issue 5 item 1): a guest process page table
 * in guest memory bound to an accelerator PASID through a nested domain;
 * the device driven through its registers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "iommufd_fixture.h"

#define ERR(st) (((st) >> 8) & 0xFF)

/* A store to a present guest page lands at gpa_to_hpa of that page. */
static void test_nested_store(void **state)
{
    (void)state;
    struct host *h = gx_host(1);
    struct gx g;
    gx_init(&g, h, 0);
    uint64_t gpa = gx_map(&g, GX_DATA_VA);
    assert_int_equal(gx_store(&g, GX_DATA_VA + 8, 0xC0FFEE), ACCEL_ST_DONE);
    assert_int_equal(gx_hpa_read32(&g, gpa + 8), 0xC0FFEE);
    struct iommu_hw_info_vtd info;
    assert_int_equal(iommufd_get_hw_info(g.ifd, g.dev, &info), 0);
    assert_int_equal(info.unit, 0);
    assert_true(info.cap == h->iommu[0].cap && info.ecap == h->iommu[0].ecap);
    gx_fini(&g);
    host_destroy(h);
}

/* Not-present guest page: a fault-queue entry; the guest maps the page and
 * answers Success; the device completes. Invalid ends the batch. */
static void test_page_request_round_trip(void **state)
{
    (void)state;
    struct host *h = gx_host(1);
    struct gx g;
    gx_init(&g, h, 0);
    struct accel_cmd c = { .opcode = ACCEL_OP_STORE_DWORD, .arg = 77, .a = GX_DATA_VA + 4 };
    gx_submit(&g, &c);
    struct iommu_hwpt_pgfault f;
    gx_fault_wait(&g, &f);
    assert_int_equal(f.dev_id, g.dev);
    assert_int_equal(f.pasid, GX_PASID);
    assert_int_equal(f.addr, GX_DATA_VA);
    assert_true(f.perm & IOMMU_PGFAULT_PERM_WRITE);
    assert_false(f.perm & IOMMU_PGFAULT_PERM_PRIV);
    assert_int_equal(f.flags, IOMMU_PGFAULT_FLAGS_PASID_VALID | IOMMU_PGFAULT_FLAGS_LAST_PAGE);
    uint64_t gpa = gx_map(&g, GX_DATA_VA);
    assert_int_equal(iommufd_fault_respond(g.ifd, f.cookie, IOMMUFD_PAGE_RESP_SUCCESS), 0);
    assert_int_equal(gx_wait(&g), ACCEL_ST_DONE);
    assert_int_equal(gx_hpa_read32(&g, gpa + 4), 77);
    assert_int_equal(iommufd_fault_respond(g.ifd, f.cookie, 0), -EINVAL);   /* repeated */
    assert_int_equal(iommufd_fault_respond(g.ifd, 0xBAD, 0), -EINVAL);      /* unknown */

    c.a = GX_DATA_VA + 0x5000;
    gx_submit(&g, &c);
    gx_fault_wait(&g, &f);
    assert_int_equal(f.addr, GX_DATA_VA + 0x5000);
    assert_int_equal(iommufd_fault_respond(g.ifd, f.cookie, 7), -EINVAL);  /* bad code */
    assert_int_equal(iommufd_fault_respond(g.ifd, f.cookie, IOMMUFD_PAGE_RESP_INVALID), 0);
    uint32_t st = gx_wait(&g);
    assert_int_equal(st & 0xFF, ACCEL_ST_ERROR);
    assert_int_equal(ERR(st), ACCEL_ERR_PAGE_FAULT);
    gx_fini(&g);
    host_destroy(h);
}

/* A changed guest PTE is seen only after hwpt_invalidate. */
static void test_invalidate_makes_new_mapping_visible(void **state)
{
    (void)state;
    struct host *h = gx_host(1);
    struct gx g;
    gx_init(&g, h, 0);
    uint64_t a = gx_map(&g, GX_DATA_VA);
    assert_int_equal(gx_store(&g, GX_DATA_VA, 1), ACCEL_ST_DONE);
    uint64_t b = gpa_page_alloc(g.ram);
    assert_int_equal(pt_unmap(&g.pt, GX_DATA_VA), 0);
    assert_int_equal(pt_map(&g.pt, GX_DATA_VA, b, PT_4K, PTE_RW | PTE_US), 0);
    assert_int_equal(gx_store(&g, GX_DATA_VA, 2), ACCEL_ST_DONE);
    assert_int_equal(gx_hpa_read32(&g, a), 2);           /* cached: the old page */
    assert_int_equal(gx_hpa_read32(&g, b), 0);
    struct iommu_hwpt_vtd_s1_invalidate e = { .addr = GX_DATA_VA, .npages = 1,
                                              .flags = IOMMU_VTD_INV_FLAGS_LEAF };
    unsigned done = 99;
    assert_int_equal(iommufd_hwpt_invalidate(g.ifd, g.nested, &e, 1, &done), 0);
    assert_int_equal(done, 1);
    assert_int_equal(gx_store(&g, GX_DATA_VA, 3), ACCEL_ST_DONE);
    assert_int_equal(gx_hpa_read32(&g, b), 3);
    assert_int_equal(gx_hpa_read32(&g, a), 2);
    gx_fini(&g);
    host_destroy(h);
}

/* Everything (addr 0, ~0 pages) and merged adjacent ranges also work. */
static void test_invalidate_all_and_merged(void **state)
{
    (void)state;
    struct host *h = gx_host(1);
    struct gx g;
    gx_init(&g, h, 0);
    uint64_t a[3], b[3];
    for (unsigned i = 0; i < 3; i++) {
        a[i] = gx_map(&g, GX_DATA_VA + i * 4096);
        assert_int_equal(gx_store(&g, GX_DATA_VA + i * 4096, 1), ACCEL_ST_DONE);
        b[i] = gpa_page_alloc(g.ram);
        assert_int_equal(pt_unmap(&g.pt, GX_DATA_VA + i * 4096), 0);
        assert_int_equal(pt_map(&g.pt, GX_DATA_VA + i * 4096, b[i], PT_4K, PTE_RW | PTE_US), 0);
    }
    struct iommu_hwpt_vtd_s1_invalidate e[2] = { { GX_DATA_VA, 1, 0 }, { GX_DATA_VA + 4096, 1, 0 } };
    unsigned done;
    assert_int_equal(iommufd_hwpt_invalidate(g.ifd, g.nested, e, 2, &done), 0);
    assert_int_equal(done, 2);
    for (unsigned i = 0; i < 2; i++) {
        assert_int_equal(gx_store(&g, GX_DATA_VA + i * 4096, 5), ACCEL_ST_DONE);
        assert_int_equal(gx_hpa_read32(&g, b[i]), 5);
    }
    assert_int_equal(gx_store(&g, GX_DATA_VA + 2 * 4096, 6), ACCEL_ST_DONE);
    assert_int_equal(gx_hpa_read32(&g, a[2]), 6);          /* not invalidated yet */
    struct iommu_hwpt_vtd_s1_invalidate all = { 0, IOMMU_VTD_INV_ALL_PAGES, 0 };
    assert_int_equal(iommufd_hwpt_invalidate(g.ifd, g.nested, &all, 1, &done), 0);
    assert_int_equal(gx_store(&g, GX_DATA_VA + 2 * 4096, 7), ACCEL_ST_DONE);
    assert_int_equal(gx_hpa_read32(&g, b[2]), 7);
    gx_fini(&g);
    host_destroy(h);
}

extern const struct CMUnitTest iommufd_error_tests[5];    /* iommufd_errors.c */
extern const struct CMUnitTest iommufd_paging_tests[2];   /* iommufd_paging.c */

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define APPEND(t, n, a) (memcpy(&(t)[n], (a), sizeof(a)), (n) += COUNT(a))

int main(void)
{
    static const struct CMUnitTest own[] = {
        cmocka_unit_test(test_nested_store),
        cmocka_unit_test(test_page_request_round_trip),
        cmocka_unit_test(test_invalidate_makes_new_mapping_visible),
        cmocka_unit_test(test_invalidate_all_and_merged),
    };
    struct CMUnitTest tests[COUNT(own) + COUNT(iommufd_error_tests) + COUNT(iommufd_paging_tests)];
    size_t n = 0;
    APPEND(tests, n, own);
    APPEND(tests, n, iommufd_error_tests);
    APPEND(tests, n, iommufd_paging_tests);
    return _cmocka_run_group_tests("test_iommufd", tests, n, NULL, NULL);
}
