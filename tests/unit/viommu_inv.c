/* Invalidation granularities for test_viommu: context-cache (§4.3) at
 * global/domain/device (+function mask), IOTLB (§4.4) and PASID-IOTLB
 * (§4.8) at global/domain/PASID/page granularity, each reaching exactly
 * the host domains it covers. A second device (00:01.1, vBDF 9) has its
 * own PASID directory and table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "lib/hw.h"
#include "lib/hw_regs.h"
#include "viommu_fixture.h"

#define VB2    0x0009
#define DIR2   0x14000ULL
#define PTBL2  0x15000ULL

/* Assigns accelerator 1 as 00:01.1: context entry -> DIR2 -> PTBL2. */
static void second_dev(struct vg *g)
{
    assert_int_equal(viommu_assign(g->v, VB2, g->h->acc_bdf[1]), 0);
    vg_w64(g, VG_CTXT + 32 * VB2, DIR2 | HW_FM(SM_CTX, DTE) | HW_FM(SM_CTX, PASIDE) |
           HW_FM(SM_CTX, PRE) | 1);
    vg_w64(g, DIR2, PTBL2 | 1);
}

/* A first-level PASID entry (§2.10 PGTT=1) in the table at tbl. */
static void fl_entry(struct vg *g, uint64_t tbl, uint32_t pasid, uint16_t did, uint64_t root)
{
    uint64_t e[8] = { 0 };
    HW_SET(PASID_PTE, P, e, 1);
    HW_SET(PASID_PTE, PGTT, e, 1);
    HW_SET(PASID_PTE, DID, e, did);
    HW_SET(PASID_PTE, FLPTPTR, e, root >> 12);
    assert_int_equal(gpa_write(g->ram, tbl + 64 * pasid, e, sizeof(e)), 0);
}

static void qi1(struct vg *g, const uint64_t *d)
{
    uint64_t q[1][4];
    memcpy(q[0], d, 32);
    vg_qi(g, q, 1);
    assert_true(vg_qi_wait(g));
}

static void cc(struct vg *g, unsigned gran, uint16_t sid, unsigned fm)
{
    uint64_t d[4] = { 0 };
    HW_SET(INV_CC, TYPE_LO, d, INV_TYPE_CC);
    HW_SET(INV_CC, G, d, gran);
    HW_SET(INV_CC, DID, d, VG_DID);
    HW_SET(INV_CC, SID, d, sid);
    HW_SET(INV_CC, FM, d, fm);
    qi1(g, d);
}

/* Moves both devices' PASID 5 to root, runs one context-cache
 * invalidation and reports which devices were re-shadowed. */
static unsigned cc_step(struct vg *g, uint64_t root, unsigned gran, uint16_t sid, unsigned fm)
{
    uint32_t h1 = viommu_shadow_hwpt(g->v, VG_VBDF, VG_PASID);
    uint32_t h2 = viommu_shadow_hwpt(g->v, VB2, VG_PASID);
    fl_entry(g, VG_PTBL, VG_PASID, VG_DID, root);
    fl_entry(g, PTBL2, VG_PASID, VG_DID, root);
    cc(g, gran, sid, fm);
    return (viommu_shadow_hwpt(g->v, VG_VBDF, VG_PASID) != h1 ? 1u : 0u) |
           (viommu_shadow_hwpt(g->v, VB2, VG_PASID) != h2 ? 2u : 0u);
}

static void test_context_cache_granularity(void **state)
{
    (void)state;
    struct host *h = vg_host(2);
    struct vg g;
    vg_init(&g, h, 0, true);
    second_dev(&g);
    uint64_t r0 = g.pt.root, r1 = gpa_page_alloc(g.ram);
    assert_int_equal(cc_step(&g, r0, 1, 0, 0), 0);   /* nothing bound yet: nothing known */
    uint64_t d[4];
    vg_desc_pc(d, 1, VG_DID, VG_PASID);
    qi1(&g, d);
    assert_int_not_equal(viommu_shadow_hwpt(g.v, VB2, VG_PASID), 0);
    assert_int_equal(cc_step(&g, r1, 3, VB2, 0), 2);        /* device 9 only */
    assert_int_equal(cc_step(&g, r1, 3, 0x000C, 1), 1);     /* 12 & ~4 == 8 */
    assert_int_equal(cc_step(&g, r0, 3, 0x000F, 3), 3);     /* function mask 2:0 */
    assert_int_equal(cc_step(&g, r1, 3, 0x0010, 3), 0);     /* device 2: none of ours */
    assert_int_equal(cc_step(&g, r1, 2, 0, 0), 3);          /* domain */
    assert_int_equal(cc_step(&g, r0, 1, 0, 0), 3);          /* global */
    struct viommu_stats s;
    viommu_stats(g.v, &s);
    assert_int_equal(s.binds, 2 + 8);
    assert_int_equal(s.bad_entries, 0);
    vg_fini(&g);
    host_destroy(h);
}

static uint64_t host_invs(struct vg *g)
{
    struct viommu_stats s;
    viommu_stats(g->v, &s);
    assert_int_equal(s.host_inv_errors, 0);
    return s.host_invalidations;
}

static uint64_t inv_count(struct vg *g, const uint64_t *d)
{
    uint64_t n0 = host_invs(g);
    qi1(g, d);
    return host_invs(g) - n0;
}

static void iotlb_desc(uint64_t *d, unsigned gran, uint16_t did, uint64_t addr)
{
    memset(d, 0, 32);
    HW_SET(INV_IOTLB, TYPE_LO, d, INV_TYPE_IOTLB);
    HW_SET(INV_IOTLB, G, d, gran);
    HW_SET(INV_IOTLB, DID, d, did);
    HW_SET(INV_IOTLB, ADDR, d, addr >> 12);
}

/* Bindings (8, 5, DID 9), (8, 6, DID 9), (9, 5, DID 10): every
 * granularity reaches the bindings it names and no other; a domain
 * invalidation of another DID leaves the device's cached translation. */
static void test_iotlb_granularity(void **state)
{
    (void)state;
    struct host *h = vg_host(2);
    struct vg g;
    vg_init(&g, h, 0, true);
    second_dev(&g);
    vg_bind(&g, VG_PASID);                    /* (8, 5, DID 9) */
    vg_bind(&g, 6);                           /* (8, 6, DID 9) */
    fl_entry(&g, PTBL2, VG_PASID, 10, g.pt.root);
    uint64_t d[4];
    vg_desc_pc(d, 1, 10, VG_PASID);
    qi1(&g, d);                               /* (9, 5, DID 10) */
    iotlb_desc(d, 1, 0, 0);
    assert_int_equal(inv_count(&g, d), 3);
    iotlb_desc(d, 2, VG_DID, 0);
    assert_int_equal(inv_count(&g, d), 2);
    iotlb_desc(d, 3, 10, VG_DATA_VA);
    assert_int_equal(inv_count(&g, d), 1);
    vg_desc_piotlb(d, 2, VG_DID, VG_PASID, 0, 0, false);
    assert_int_equal(inv_count(&g, d), 1);
    vg_desc_piotlb(d, 2, 10, 6, 0, 0, false);
    assert_int_equal(inv_count(&g, d), 0);
    vg_desc_piotlb(d, 3, 10, VG_PASID, VG_DATA_VA, 0, false);
    assert_int_equal(inv_count(&g, d), 1);
    /* The effect: a cached translation of (8, 5) survives DID 10 and is
     * refreshed by DID 9. */
    uint64_t a = vg_map(&g, VG_DATA_VA), b = gpa_page_alloc(g.ram);
    assert_int_equal(vg_store(&g, VG_DATA_VA, 1), ACCEL_ST_DONE);
    assert_int_equal(pt_unmap(&g.pt, VG_DATA_VA), 0);
    assert_int_equal(pt_map(&g.pt, VG_DATA_VA, b, PT_4K, PTE_RW | PTE_US), 0);
    iotlb_desc(d, 2, 10, 0);
    qi1(&g, d);
    assert_int_equal(vg_store(&g, VG_DATA_VA, 2), ACCEL_ST_DONE);
    assert_int_equal(vg_hpa_read32(&g, a), 2);
    iotlb_desc(d, 2, VG_DID, 0);
    qi1(&g, d);
    assert_int_equal(vg_store(&g, VG_DATA_VA, 3), ACCEL_ST_DONE);
    assert_int_equal(vg_hpa_read32(&g, b), 3);
    assert_int_equal(vg_hpa_read32(&g, a), 2);
    vg_fini(&g);
    host_destroy(h);
}

/* Entries made present without a PASID-selective invalidation (§4.8):
 * a global PASID-cache invalidation discovers and binds all of them (on
 * both devices, PASIDs in two directory entries), a domain-selective one
 * those of its DID only. */
static void test_pasid_cache_discovery(void **state)
{
    (void)state;
    struct host *h = vg_host(2);
    struct vg g;
    vg_init(&g, h, 0, true);
    second_dev(&g);
    uint64_t tbl2 = gpa_page_alloc(g.ram);   /* directory entry 1: PASIDs 64..127 */
    vg_w64(&g, VG_DIR + 8, tbl2 | 1);
    fl_entry(&g, VG_PTBL, VG_PASID, VG_DID, g.pt.root);
    fl_entry(&g, tbl2, 70 - 64, VG_DID, g.pt.root);
    fl_entry(&g, PTBL2, 3, 10, g.pt.root);
    uint64_t d[4];
    vg_desc_pc(d, 0, VG_DID, 0);   /* G=0: domain-selective */
    qi1(&g, d);
    assert_int_not_equal(viommu_shadow_hwpt(g.v, VG_VBDF, VG_PASID), 0);
    assert_int_not_equal(viommu_shadow_hwpt(g.v, VG_VBDF, 70), 0);
    assert_int_equal(viommu_shadow_hwpt(g.v, VB2, 3), 0);   /* DID 10 */
    vg_desc_pc(d, 3, 0, 0);
    qi1(&g, d);
    assert_int_not_equal(viommu_shadow_hwpt(g.v, VB2, 3), 0);
    struct viommu_stats s;
    viommu_stats(g.v, &s);
    assert_int_equal(s.binds, 3);
    assert_int_equal(s.bad_entries, 0);
    vg_map(&g, VG_DATA_VA);
    assert_int_equal(vg_store(&g, VG_DATA_VA, 1), ACCEL_ST_DONE);
    vg_fini(&g);
    host_destroy(h);
}

const struct CMUnitTest viommu_inv_tests[3] = {
    cmocka_unit_test(test_pasid_cache_discovery),
    cmocka_unit_test(test_context_cache_granularity),
    cmocka_unit_test(test_iotlb_granularity),
};
