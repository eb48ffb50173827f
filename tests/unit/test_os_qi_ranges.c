/* Page-selective invalidations of unaligned ranges (regression: the host
 * kernel rounded the page count up to a power of two but aligned the
 * start down to it, so the end of an unaligned range was never
 * invalidated and a device could use a stale translation into a freed
 * frame — found by the KVM CPU/IOMMU agreement test). Every descriptor
 * the kernel builds must name a block covering the whole range: for the
 * PASID-IOTLB, 2^AM pages at ADDR (§4.8); for the device TLB, the size
 * encoding of §4.5 (S=1: the lowest clear address bit above bit 12 gives
 * the size). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>

#include "lib/hw.h"
#include "os/iommu.h"

/* [first, end) pages of a device-TLB range (§4.5) from its ADDR and S. */
static void size_range(uint64_t a, bool s, uint64_t *first, uint64_t *end)
{
    unsigned k = 0;   /* S=0: one page; S=1: t trailing ones give 2^(t+1) pages */
    if (s) {
        while (a >> k & 1)
            k++;
        k++;
    }
    *first = a & ~((1ULL << k) - 1);
    *end = *first + (1ULL << k);
}

static void test_cover_order(void **state)
{
    (void)state;
    assert_int_equal(os_qi_cover_order(0x3000, 1), 0);
    assert_int_equal(os_qi_cover_order(0x2000, 2), 1);
    assert_int_equal(os_qi_cover_order(0x3000, 2), 3);   /* pages 3 and 4: block 0..7 */
    assert_int_equal(os_qi_cover_order(0x7000, 2), 4);   /* 7 and 8: block 0..15 */
    assert_int_equal(os_qi_cover_order(0x10000, 16), 4);
    assert_int_equal(os_qi_cover_order(0x11000, 16), 6);   /* 17..32 crosses 32 */
    assert_int_equal(os_qi_cover_order(0x11000, 15), 4);   /* 17..31 */
}

/* Every start and length up to 64 pages: the device-TLB descriptors cover
 * the range, and only as much more as the alignment forces. */
static void test_devtlb_covers_every_range(void **state)
{
    (void)state;
    for (uint64_t pfn = 0; pfn < 70; pfn++)
        for (uint64_t n = 1; n <= 64; n++) {
            uint64_t d[4] = { 0 }, e[4] = { 0 }, first, end;
            os_qi_pdevtlb(d, 8, 5, 0, pfn << 12, n);
            size_range(HW_GET(INV_PDEVTLB, ADDR, d), HW_GET(INV_PDEVTLB, S, d), &first, &end);
            if (first > pfn || end < pfn + n)
                fail_msg("PASID device TLB: [%llu, +%llu) named [%llu, %llu)",
                         (unsigned long long)pfn, (unsigned long long)n,
                         (unsigned long long)first, (unsigned long long)end);
            assert_true(end - first <= 1ULL << os_qi_cover_order(pfn << 12, n));
            uint64_t f2, e2;   /* the descriptor without PASID: the same range */
            os_qi_devtlb(e, 8, 0, pfn << 12, n);
            size_range(HW_GET(INV_DEVTLB, ADDR, e), HW_GET(INV_DEVTLB, S, e), &f2, &e2);
            assert_int_equal(f2, first);
            assert_int_equal(e2, end);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cover_order),
        cmocka_unit_test(test_devtlb_covers_every_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
