/* The virtual IOMMU (issue 5 item 2) driven as a Linux guest drives it:
 * registers and guest memory only; an assigned accelerator behind it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <errno.h>

#include "lib/hw.h"
#include "lib/hw_regs.h"
#include "viommu_fixture.h"

#define ERR(st) (((st) >> 8) & 0xFF)

/* CAP/ECAP (§1.3, §1.4): CM, first level, PASID, PRS/PDS, DT, pass-
 * through over a host second level; never SL, nested or RPS; nothing the
 * host unit lacks (PT: the host's SLTS). Booted: QIES, RTPS, TES. (svm=off:
 * viommu_sl.c.) */
static void test_caps_and_boot(void **state)
{
    (void)state;
    struct host *h = vg_host(1);
    struct vg g;
    vg_init(&g, h, 0, true);
    uint64_t cap = vg_rd(&g, REG_OFF_CAP, 8), ecap = vg_rd(&g, REG_OFF_ECAP, 8);
    assert_int_equal(HW_FV(CAP, CM, cap), 1);
    assert_int_equal(HW_FV(ECAP, SMTS, ecap), 1);
    assert_int_equal(HW_FV(ECAP, FLTS, ecap), 1);
    assert_int_equal(HW_FV(ECAP, PASID, ecap), 1);
    assert_int_equal(HW_FV(ECAP, PRS, ecap), 1);
    assert_int_equal(HW_FV(ECAP, PDS, ecap), 1);
    assert_int_equal(HW_FV(ECAP, DT, ecap), 1);
    assert_int_equal(HW_FV(ECAP, QI, ecap), 1);
    assert_int_equal(ecap & (HW_FM(ECAP, SLTS) | HW_FM(ECAP, NEST) | HW_FM(ECAP, RPS)), 0);
    assert_int_equal(HW_FV(ECAP, PT, ecap), HW_FV(ECAP, SLTS, h->iommu[0].ecap));
    assert_int_equal(ecap & ~h->iommu[0].ecap & ~HW_FM(ECAP, IRO), 0);
    assert_int_equal(cap & ~h->iommu[0].cap & ~(HW_FM(CAP, CM) | HW_FM(CAP, FRO) |
                                                 HW_FM(CAP, NFR)), 0);
    assert_int_equal(HW_FV(ECAP, PSS, ecap), HW_FV(ECAP, PSS, h->iommu[0].ecap));
    uint32_t gsts = (uint32_t)vg_rd(&g, REG_OFF_GSTS, 4);
    assert_int_equal(gsts & (HW_FM(GSTS, TES) | HW_FM(GSTS, QIES) | HW_FM(GSTS, RTPS)),
                     HW_FM(GSTS, TES) | HW_FM(GSTS, QIES) | HW_FM(GSTS, RTPS));
    assert_int_equal(vg_rd(&g, REG_OFF_FSTS, 4), 0);
    assert_int_equal(viommu_assign(g.v, VG_VBDF, h->acc_bdf[0]), -EEXIST);
    vg_fini(&g);
    host_destroy(h);
}

/* Bind (os-driver §2): PASID entry PGTT=1 + PASID-cache PASID-selective ->
 * a nested domain; the device's store lands in the guest page. */
static void test_bind_store(void **state)
{
    (void)state;
    struct host *h = vg_host(1);
    struct vg g;
    vg_init(&g, h, 0, true);
    assert_int_equal(viommu_shadow_hwpt(g.v, VG_VBDF, VG_PASID), 0);
    vg_bind(&g, VG_PASID);
    assert_int_not_equal(viommu_shadow_hwpt(g.v, VG_VBDF, VG_PASID), 0);
    uint64_t gpa = vg_map(&g, VG_DATA_VA);
    assert_int_equal(vg_store(&g, VG_DATA_VA + 8, 0xC0FFEE), ACCEL_ST_DONE);
    assert_int_equal(vg_hpa_read32(&g, gpa + 8), 0xC0FFEE);
    struct viommu_stats s;
    viommu_stats(g.v, &s);
    assert_int_equal(s.binds, 1);
    assert_int_equal(s.bad_entries, 0);
    assert_int_equal(s.host_invalidations, 1);   /* the PASID-IOTLB of the bind */
    assert_int_equal(s.host_inv_errors, 0);
    /* the same entry again: kept, not re-bound */
    uint32_t hw = viommu_shadow_hwpt(g.v, VG_VBDF, VG_PASID);
    vg_bind(&g, VG_PASID);
    assert_int_equal(viommu_shadow_hwpt(g.v, VG_VBDF, VG_PASID), hw);
    viommu_stats(g.v, &s);
    assert_int_equal(s.binds, 1);
    vg_fini(&g);
    host_destroy(h);
}

/* A store to a not-present page: a page request in the guest PRQ; the
 * guest maps the page and answers with a page group response; the device
 * completes. */
static void test_page_request_round_trip(void **state)
{
    (void)state;
    struct host *h = vg_host(1);
    struct vg g;
    vg_init(&g, h, 0, true);
    vg_bind(&g, VG_PASID);
    unsigned msis = g.msis;
    struct accel_cmd c = { .opcode = ACCEL_OP_STORE_DWORD, .arg = 77, .a = VG_DATA_VA + 4 };
    vg_submit(&g, &c);
    assert_int_equal(vg_poll_wait(&g), 1);
    assert_int_equal(vg_rd(&g, REG_OFF_PQT, 8), 32);
    assert_int_equal(vg_rd(&g, REG_OFF_PRS, 4), HW_FM(PRS, PPR));
    assert_int_equal(g.msis, msis + 1);
    uint64_t d[4];
    for (unsigned i = 0; i < 4; i++)
        d[i] = vg_r64(&g, VG_PRQ + 8 * i);
    assert_int_equal(HW_GET(PAGE_REQ, RID, d), VG_VBDF);
    assert_int_equal(HW_GET(PAGE_REQ, PP, d), 1);
    assert_int_equal(HW_GET(PAGE_REQ, PASID, d), VG_PASID);
    assert_int_equal(HW_GET(PAGE_REQ, ADDR, d), VG_DATA_VA >> 12);
    assert_int_equal(HW_GET(PAGE_REQ, LPIG, d), 1);
    assert_int_equal(HW_GET(PAGE_REQ, WRR, d), 1);
    assert_int_equal(HW_GET(PAGE_REQ, PRIV, d), 0);
    uint16_t prgi = (uint16_t)HW_GET(PAGE_REQ, PRGI, d);
    uint64_t gpa = vg_map(&g, VG_DATA_VA);
    vg_wr(&g, REG_OFF_PQH, 8, 32);
    uint64_t r[1][4];
    vg_desc_pgresp(r[0], VG_VBDF, VG_PASID, prgi, VTD_PRG_SUCCESS);
    vg_qi(&g, r, 1);
    assert_int_equal(vg_wait(&g), ACCEL_ST_DONE);
    assert_int_equal(vg_hpa_read32(&g, gpa + 4), 77);
    struct viommu_stats s;
    viommu_stats(g.v, &s);
    assert_int_equal(s.page_requests, 1);
    assert_int_equal(s.page_responses, 1);
    /* An Invalid answer ends the batch with a page fault. */
    c.a = VG_DATA_VA + 0x5000;
    vg_submit(&g, &c);
    assert_int_equal(vg_poll_wait(&g), 1);
    for (unsigned i = 0; i < 4; i++)
        d[i] = vg_r64(&g, VG_PRQ + 32 + 8 * i);
    assert_int_equal(HW_GET(PAGE_REQ, ADDR, d), (VG_DATA_VA + 0x5000) >> 12);
    vg_desc_pgresp(r[0], VG_VBDF, VG_PASID, (uint16_t)HW_GET(PAGE_REQ, PRGI, d), VTD_PRG_INVALID);
    vg_qi(&g, r, 1);
    uint32_t st = vg_wait(&g);
    assert_int_equal(st & 0xFF, ACCEL_ST_ERROR);
    assert_int_equal(ERR(st), ACCEL_ERR_PAGE_FAULT);
    vg_fini(&g);
    host_destroy(h);
}

/* Unmap (os-driver §2): the guest PTE changes, PASID-IOTLB page-selective
 * + PASID device-TLB: the device no longer reaches the old page. */
static void test_unmap_invalidate(void **state)
{
    (void)state;
    struct host *h = vg_host(1);
    struct vg g;
    vg_init(&g, h, 0, true);
    vg_bind(&g, VG_PASID);
    uint64_t a = vg_map(&g, VG_DATA_VA);
    assert_int_equal(vg_store(&g, VG_DATA_VA, 1), ACCEL_ST_DONE);
    uint64_t b = gpa_page_alloc(g.ram);
    assert_int_equal(pt_unmap(&g.pt, VG_DATA_VA), 0);
    assert_int_equal(pt_map(&g.pt, VG_DATA_VA, b, PT_4K, PTE_RW | PTE_US), 0);
    assert_int_equal(vg_store(&g, VG_DATA_VA, 2), ACCEL_ST_DONE);
    assert_int_equal(vg_hpa_read32(&g, a), 2);   /* not yet invalidated: cached */
    struct viommu_stats s0, s1;
    viommu_stats(g.v, &s0);
    uint64_t d[2][4] = { { 0 } };
    vg_desc_piotlb(d[0], 3, VG_DID, VG_PASID, VG_DATA_VA, 0, true);
    HW_SET(INV_PDEVTLB, TYPE_LO, d[1], INV_TYPE_PDEVTLB);
    HW_SET(INV_PDEVTLB, SID, d[1], VG_VBDF);
    HW_SET(INV_PDEVTLB, PASID, d[1], VG_PASID);
    HW_SET(INV_PDEVTLB, ADDR, d[1], VG_DATA_VA >> 12);
    vg_qi(&g, d, 2);
    assert_true(vg_qi_wait(&g));
    viommu_stats(g.v, &s1);
    /* The device-TLB descriptor covers the range the PASID-IOTLB one
     * queued: merged into one host invalidation (device TLB included). */
    assert_int_equal(s1.host_invalidations - s0.host_invalidations, 1);
    assert_int_equal(s1.host_inv_errors, 0);
    assert_int_equal(vg_store(&g, VG_DATA_VA, 3), ACCEL_ST_DONE);
    assert_int_equal(vg_hpa_read32(&g, b), 3);
    assert_int_equal(vg_hpa_read32(&g, a), 2);
    vg_fini(&g);
    host_destroy(h);
}

/* An unmap storm (issue 5, item 4): 48 contiguous pages, each a PASID
 * IOTLB page-selective and a PASID device-TLB descriptor, then a wait, in
 * one queue write: one host invalidation, and the wait's status is written
 * only after it; the device reaches none of the old pages. */
static void test_unmap_storm_merged(void **state)
{
    (void)state;
    enum { N = 48 };
    struct host *h = vg_host(1);
    struct vg g;
    vg_init(&g, h, 0, true);
    vg_bind(&g, VG_PASID);
    uint64_t old[N];
    for (unsigned i = 0; i < N; i++) {
        old[i] = vg_map(&g, VG_DATA_VA + i * 4096ULL);
        assert_int_equal(vg_store(&g, VG_DATA_VA + i * 4096ULL, 1), ACCEL_ST_DONE);
    }
    for (unsigned i = 0; i < N; i++) {
        uint64_t va = VG_DATA_VA + i * 4096ULL;
        assert_int_equal(pt_unmap(&g.pt, va), 0);
        assert_int_equal(pt_map(&g.pt, va, gpa_page_alloc(g.ram), PT_4K, PTE_RW | PTE_US), 0);
    }
    struct viommu_stats s0, s1;
    viommu_stats(g.v, &s0);
    uint64_t d[2 * N + 1][4];
    memset(d, 0, sizeof(d));
    for (unsigned i = 0; i < N; i++) {
        uint64_t va = VG_DATA_VA + i * 4096ULL;
        vg_desc_piotlb(d[2 * i], 3, VG_DID, VG_PASID, va, 0, true);
        HW_SET(INV_PDEVTLB, TYPE_LO, d[2 * i + 1], INV_TYPE_PDEVTLB);
        HW_SET(INV_PDEVTLB, SID, d[2 * i + 1], VG_VBDF);
        HW_SET(INV_PDEVTLB, PASID, d[2 * i + 1], VG_PASID);
        HW_SET(INV_PDEVTLB, ADDR, d[2 * i + 1], va >> 12);
    }
    HW_SET(INV_WAIT, TYPE_LO, d[2 * N], INV_TYPE_WAIT), HW_SET(INV_WAIT, SW, d[2 * N], 1);
    HW_SET(INV_WAIT, STDATA, d[2 * N], 0x600D), HW_SET(INV_WAIT, STADDR, d[2 * N], VG_STAT >> 2);
    vg_qi(&g, (const uint64_t (*)[4])d, 2 * N + 1);
    uint32_t st = 0;
    assert_int_equal(gpa_read(g.ram, VG_STAT, &st, 4), 0);
    assert_int_equal(st, 0x600D);
    viommu_stats(g.v, &s1);
    assert_int_equal(s1.host_invalidations - s0.host_invalidations, 1);
    assert_int_equal(s1.host_inv_errors, 0);
    for (unsigned i = 0; i < N; i++) {
        assert_int_equal(vg_store(&g, VG_DATA_VA + i * 4096ULL, 2), ACCEL_ST_DONE);
        assert_int_equal(vg_hpa_read32(&g, old[i]), 1);
    }
    vg_fini(&g);
    host_destroy(h);
}

/* Unbind: P cleared + PASID-cache: detached, the device faults. */
static void test_unbind(void **state)
{
    (void)state;
    struct host *h = vg_host(1);
    struct vg g;
    vg_init(&g, h, 0, true);
    vg_bind(&g, VG_PASID);
    vg_map(&g, VG_DATA_VA);
    assert_int_equal(vg_store(&g, VG_DATA_VA, 1), ACCEL_ST_DONE);
    vg_pasid_entry(&g, VG_PASID, 0, 0, 0);
    uint64_t d[2][4];
    vg_desc_pc(d[0], 1, VG_DID, VG_PASID);
    vg_desc_piotlb(d[1], 2, VG_DID, VG_PASID, 0, 0, false);
    vg_qi(&g, d, 2);
    assert_true(vg_qi_wait(&g));
    assert_int_equal(viommu_shadow_hwpt(g.v, VG_VBDF, VG_PASID), 0);
    struct viommu_stats s;
    viommu_stats(g.v, &s);
    assert_int_equal(s.unbinds, 1);
    assert_int_equal(s.bad_entries, 0);
    uint32_t st = vg_store(&g, VG_DATA_VA, 2);
    assert_int_equal(st & 0xFF, ACCEL_ST_ERROR);
    vg_fini(&g);
    host_destroy(h);
}

extern const struct CMUnitTest viommu_bad_tests[4];      /* viommu_bad.c */
extern const struct CMUnitTest viommu_events_tests[4];   /* viommu_events.c */
extern const struct CMUnitTest viommu_inv_tests[3];      /* viommu_inv.c */
extern const struct CMUnitTest viommu_bind_tests[3];     /* viommu_bind.c */
extern const struct CMUnitTest viommu_sl_tests[5];       /* viommu_sl.c */

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define APPEND(t, n, a) (memcpy(&(t)[n], (a), sizeof(a)), (n) += COUNT(a))

int main(void)
{
    static const struct CMUnitTest own[] = {
        cmocka_unit_test(test_caps_and_boot),
        cmocka_unit_test(test_bind_store),
        cmocka_unit_test(test_page_request_round_trip),
        cmocka_unit_test(test_unmap_invalidate),
        cmocka_unit_test(test_unbind),
        cmocka_unit_test(test_unmap_storm_merged),
    };
    struct CMUnitTest tests[COUNT(own) + COUNT(viommu_bad_tests) + COUNT(viommu_events_tests) +
                            COUNT(viommu_inv_tests) + COUNT(viommu_bind_tests) +
                            COUNT(viommu_sl_tests)];
    size_t n = 0;
    APPEND(tests, n, own);
    APPEND(tests, n, viommu_bad_tests);
    APPEND(tests, n, viommu_events_tests);
    APPEND(tests, n, viommu_inv_tests);
    APPEND(tests, n, viommu_bind_tests);
    APPEND(tests, n, viommu_sl_tests);
    return _cmocka_run_group_tests("test_viommu", tests, n, NULL, NULL);
}
