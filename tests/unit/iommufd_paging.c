/* iommufd plain paging domains (companion of test_iommufd.c): explicit
 * IOVA -> GPA mappings in a host second level, attached at the RID_PASID;
 * checked through the host unit's own translation of requests without
 * PASID from the accelerator. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>

#include "iommufd_fixture.h"
#include "lib/hw_regs.h"

#define IOVA 0x40000000ULL

/* The host unit on a read (or write) without PASID at iova: 0 and the
 * host address, or the fault. */
static uint8_t xlate(struct gx *g, uint64_t iova, bool write, uint64_t *hpa)
{
    struct vtd_req req = { .sid = g->h->acc_bdf[g->acc], .addr = iova, .write = write };
    struct vtd_result res;
    vtd_translate_norecord(g->h->unit[0], &req, &res);
    *hpa = res.addr;
    return res.blocked ? 0xFF : res.fault;
}

/* Map, attach at PASID 0, translate (cached by the IOTLB), unmap: the
 * host invalidated, the next translation faults. Read-only mappings
 * refuse writes. -EEXIST on a mapped page, all or nothing. */
static void test_paging_map_unmap(void **state)
{
    (void)state;
    struct host *h = gx_host(1);
    struct gx g;
    gx_init(&g, h, 0);
    uint32_t pg;
    uint64_t hpa, unmapped = 1;
    assert_int_equal(iommufd_hwpt_alloc_paging(g.ifd, g.dev, g.ram, &pg), 0);
    uint64_t a = gpa_page_alloc(g.ram), b = gpa_page_alloc(g.ram), c = gpa_page_alloc(g.ram);
    assert_int_equal(iommufd_map(g.ifd, pg, IOVA, a, 4096, true), 0);
    assert_int_equal(iommufd_map(g.ifd, pg, IOVA + 0x1000, c, 4096, false), 0);
    assert_int_equal(iommufd_attach(g.ifd, g.dev, 0, pg), 0);
    assert_int_equal(xlate(&g, IOVA + 0x10, true, &hpa), 0);
    assert_int_equal(hpa, gpa_to_hpa(g.ram, a) + 0x10);
    assert_int_equal(xlate(&g, IOVA + 0x1000, false, &hpa), 0);
    assert_int_equal(hpa, gpa_to_hpa(g.ram, c));
    assert_int_not_equal(xlate(&g, IOVA + 0x1000, true, &hpa), 0);   /* read-only */
    assert_int_not_equal(xlate(&g, IOVA + 0x2000, false, &hpa), 0);  /* never mapped */
    /* the range overlaps a mapped page: nothing of it is mapped */
    assert_int_equal(iommufd_map(g.ifd, pg, IOVA + 0x2000 - 0x1000, b, 0x2000, true), -EEXIST);
    assert_int_not_equal(xlate(&g, IOVA + 0x2000, false, &hpa), 0);
    assert_int_equal(iommufd_unmap(g.ifd, pg, IOVA, 0x3000, &unmapped), 0);
    assert_int_equal(unmapped, 0x2000);
    assert_int_not_equal(xlate(&g, IOVA + 0x10, false, &hpa), 0);   /* IOTLB invalidated */
    assert_int_equal(iommufd_unmap(g.ifd, pg, IOVA, 0x3000, &unmapped), 0);
    assert_int_equal(unmapped, 0);
    assert_int_equal(iommufd_map(g.ifd, pg, IOVA, b, 4096, true), 0);   /* remapped */
    assert_int_equal(xlate(&g, IOVA, true, &hpa), 0);
    assert_int_equal(hpa, gpa_to_hpa(g.ram, b));
    assert_int_equal(iommufd_hwpt_free(g.ifd, pg), -EBUSY);
    assert_int_equal(iommufd_detach(g.ifd, g.dev, 0), 0);
    assert_int_not_equal(xlate(&g, IOVA, false, &hpa), 0);   /* blocked again */
    assert_int_equal(iommufd_hwpt_free(g.ifd, pg), 0);
    gx_fini(&g);
    host_destroy(h);
}

/* Bad requests: unaligned or wrapping ranges, IOVAs at 2^48, GPAs outside
 * guest RAM, the wrong kind of domain; the page-table budget (64 + RAM
 * pages / 32 tables) refuses IOVAs scattered one per 512 GiB with -ENOSPC,
 * and the refused map leaves nothing behind. */
static void test_paging_bad_input_and_budget(void **state)
{
    (void)state;
    struct host *h = gx_host(1);
    struct gx g;
    gx_init(&g, h, 0);
    uint32_t pg, id;
    uint64_t a = gpa_page_alloc(g.ram), ram = gpa_map_size(g.ram), hpa;
    assert_int_equal(iommufd_hwpt_alloc_paging(g.ifd, g.dev, g.ram, &pg), 0);
    assert_int_equal(iommufd_hwpt_alloc_paging(g.ifd, 999, g.ram, &id), -EINVAL);
    assert_int_equal(iommufd_map(g.ifd, pg, IOVA + 1, a, 4096, true), -EINVAL);
    assert_int_equal(iommufd_map(g.ifd, pg, IOVA, a + 1, 4096, true), -EINVAL);
    assert_int_equal(iommufd_map(g.ifd, pg, IOVA, a, 0, true), -EINVAL);
    assert_int_equal(iommufd_map(g.ifd, pg, 1ULL << 48, a, 4096, true), -EINVAL);
    assert_int_equal(iommufd_map(g.ifd, pg, (1ULL << 48) - 4096, a, 8192, true), -EINVAL);
    assert_int_equal(iommufd_map(g.ifd, pg, IOVA, ram, 4096, true), -EINVAL);
    assert_int_equal(iommufd_map(g.ifd, pg, IOVA, ram - 4096, 8192, true), -EINVAL);
    assert_int_equal(iommufd_map(g.ifd, pg, ~0xFFFULL, a, 8192, true), -EINVAL);
    assert_int_equal(iommufd_map(g.ifd, g.parent, IOVA, a, 4096, true), -EINVAL);
    assert_int_equal(iommufd_map(g.ifd, g.nested, IOVA, a, 4096, true), -EINVAL);
    assert_int_equal(iommufd_unmap(g.ifd, g.parent, IOVA, 4096, NULL), -EINVAL);
    assert_int_equal(iommufd_parent_map(g.ifd, pg, 0, 4096), -EINVAL);
    struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_gpa = g.pt.root, .addr_width = 48 };
    assert_int_equal(iommufd_hwpt_alloc_nested(g.ifd, pg, &s1, &id), -EINVAL);
    unsigned n = 0;
    int rc;
    while (!(rc = iommufd_map(g.ifd, pg, (uint64_t)n << 39, a, 4096, false)))
        n++;
    assert_int_equal(rc, -ENOSPC);
    /* each 512 GiB region costs 3 tables under the root; the budget is 64 + 4096 / 32 */
    assert_int_equal(n, (64 + 4096 / 32 - 1) / 3);
    assert_int_equal(iommufd_map(g.ifd, pg, 1ULL << 39 | 0x1000, a, 4096, false), 0);
    assert_int_equal(iommufd_attach(g.ifd, g.dev, 0, pg), 0);
    assert_int_not_equal(xlate(&g, (uint64_t)n << 39, false, &hpa), 0);
    assert_int_equal(xlate(&g, (uint64_t)(n - 1) << 39, false, &hpa), 0);
    assert_int_equal(hpa, gpa_to_hpa(g.ram, a));
    gx_fini(&g);
    host_destroy(h);
}

const struct CMUnitTest iommufd_paging_tests[2] = {
    cmocka_unit_test(test_paging_map_unmap),
    cmocka_unit_test(test_paging_bad_input_and_budget),
};
