/* Guest misprogramming and isolation for test_viommu: nothing a guest
 * writes reaches host state before validation; two guests on one host
 * unit never see each other's page requests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/hw.h"
#include "lib/hw_regs.h"
#include "viommu_fixture.h"

static void pc(struct vg *g, uint32_t pasid)
{
    uint64_t d[1][4];
    vg_desc_pc(d[0], 1, VG_DID, pasid);
    vg_qi(g, d, 1);
    assert_true(vg_qi_wait(g));
}

/* PGTT=2 (second level) is not advertised with svm=on (§2.10: invalid
 * PGTT, 0x5B): refused, counted, never host state; a bound PASID whose
 * entry turns invalid is detached. PGTT=4 (pass-through) is advertised:
 * it becomes the nest parent, and a bound first-level PASID turning
 * pass-through is re-attached. */
static void test_bad_pgtt(void **state)
{
    (void)state;
    struct host *h = vg_host(1);
    struct vg g;
    vg_init(&g, h, 0, true);
    uint64_t q0 = HW_FM(PASID_PTE, P) | HW_FMK(PASID_PTE, PGTT, 2) | (g.pt.root & ~0xFFFULL) |
                  HW_FMK(PASID_PTE, AW, 2);
    vg_pasid_entry(&g, 7, q0, VG_DID, 0);
    pc(&g, 7);
    assert_int_equal(viommu_shadow_hwpt(g.v, VG_VBDF, 7), 0);
    struct viommu_stats s;
    viommu_stats(g.v, &s);
    assert_int_equal(s.bad_entries, 1);
    assert_int_equal(s.binds, 0);
    vg_bind(&g, VG_PASID);
    uint32_t nested = viommu_shadow_hwpt(g.v, VG_VBDF, VG_PASID);
    vg_pasid_entry(&g, VG_PASID, q0, VG_DID, 0);
    pc(&g, VG_PASID);
    assert_int_equal(viommu_shadow_hwpt(g.v, VG_VBDF, VG_PASID), 0);
    viommu_stats(g.v, &s);
    assert_int_equal(s.bad_entries, 2);
    assert_int_equal(s.binds, 1);
    assert_int_equal(s.unbinds, 1);
    vg_bind(&g, VG_PASID);
    vg_pasid_entry(&g, VG_PASID, HW_FM(PASID_PTE, P) | HW_FMK(PASID_PTE, PGTT, 4) |
                   HW_FMK(PASID_PTE, AW, 2), VG_DID + 1, 0);
    pc(&g, VG_PASID);
    uint32_t pt = viommu_shadow_hwpt(g.v, VG_VBDF, VG_PASID);
    assert_int_not_equal(pt, 0);
    assert_int_not_equal(pt, nested);
    viommu_stats(g.v, &s);
    assert_int_equal(s.bad_entries, 2);
    assert_int_equal(s.binds, 3);
    assert_int_equal(s.unbinds, 1);
    assert_int_equal(vg_rd(&g, REG_OFF_FSTS, 4), 0);
    vg_fini(&g);
    host_destroy(h);
}

/* A first-level table pointer outside guest RAM never becomes a host
 * nested domain. */
static void test_bad_flptr(void **state)
{
    (void)state;
    struct host *h = vg_host(1);
    struct vg g;
    vg_init(&g, h, 0, true);
    uint64_t e[8] = { 0 };
    HW_SET(PASID_PTE, P, e, 1);
    HW_SET(PASID_PTE, PGTT, e, 1);
    HW_SET(PASID_PTE, DID, e, VG_DID);
    HW_SET(PASID_PTE, FLPTPTR, e, 0x40000000ULL >> 12);
    vg_pasid_entry(&g, VG_PASID, e[0], e[1], e[2]);
    pc(&g, VG_PASID);
    assert_int_equal(viommu_shadow_hwpt(g.v, VG_VBDF, VG_PASID), 0);
    struct viommu_stats s;
    viommu_stats(g.v, &s);
    assert_int_equal(s.bad_entries, 1);
    assert_int_equal(s.binds, 0);
    vg_fini(&g);
    host_destroy(h);
}

/* Bad descriptors (§4.9): reserved granularity -> IQE with IQEI 4 and an
 * unknown type -> IQEI 3; IQH stays at the descriptor; nothing after it
 * runs and nothing reaches the host. */
static void test_bad_descriptors(void **state)
{
    (void)state;
    struct host *h = vg_host(1);
    for (unsigned k = 0; k < 2; k++) {
        struct vg g;
        vg_init(&g, h, 0, true);
        vg_bind(&g, VG_PASID);
        struct viommu_stats s0, s1;
        viommu_stats(g.v, &s0);
        uint64_t d[2][4];
        vg_desc_piotlb(d[0], 2, VG_DID, VG_PASID, 0, 0, false);
        if (k == 0)
            HW_SET(INV_PIOTLB, G, d[0], 0);            /* reserved granularity */
        else
            HW_SET(INV_DESC, TYPE_LO, d[0], 0xA);      /* no such type */
        vg_pasid_entry(&g, VG_PASID, 0, 0, 0);
        vg_desc_pc(d[1], 1, VG_DID, VG_PASID);         /* would unbind */
        uint32_t at = g.iqt;
        vg_qi(&g, d, 2);
        assert_int_equal(vg_rd(&g, REG_OFF_FSTS, 4) & HW_FM(FSTS, IQE), HW_FM(FSTS, IQE));
        assert_int_equal(HW_FV(IQERCD, IQEI, vg_rd(&g, REG_OFF_IQERCD, 8)), k == 0 ? 4 : 3);
        assert_int_equal(vg_rd(&g, REG_OFF_IQH, 8), at);
        viommu_stats(g.v, &s1);
        assert_int_equal(s1.host_invalidations, s0.host_invalidations);
        assert_int_equal(s1.unbinds, 0);
        assert_int_not_equal(viommu_shadow_hwpt(g.v, VG_VBDF, VG_PASID), 0);
        vg_fini(&g);
    }
    host_destroy(h);
}

/* Two guests on one host unit, both using guest PASID 5: each one's page
 * request reaches only its own PRQ; their invalidations stay apart. */
static void test_two_guests(void **state)
{
    (void)state;
    struct host *h = vg_host(2);
    struct vg a, b;
    vg_init(&a, h, 0, true);
    vg_init(&b, h, 1, true);
    vg_bind(&a, VG_PASID);
    vg_bind(&b, VG_PASID);
    uint64_t gb = vg_map(&b, VG_DATA_VA);
    struct accel_cmd c = { .opcode = ACCEL_OP_STORE_DWORD, .arg = 5, .a = VG_DATA_VA };
    vg_submit(&a, &c);
    assert_int_equal(vg_poll_wait(&a), 1);
    assert_int_equal(viommu_poll(b.v), 0);
    assert_int_equal(vg_rd(&a, REG_OFF_PQT, 8), 32);
    assert_int_equal(vg_rd(&b, REG_OFF_PQT, 8), 0);
    assert_int_equal(vg_rd(&b, REG_OFF_PRS, 4), 0);
    struct viommu_stats sa0, sa1;
    viommu_stats(a.v, &sa0);
    uint64_t d[1][4];
    vg_desc_piotlb(d[0], 2, VG_DID, VG_PASID, 0, 0, false);
    vg_qi(&b, d, 1);
    viommu_stats(a.v, &sa1);
    assert_int_equal(sa1.host_invalidations, sa0.host_invalidations);
    assert_int_equal(vg_store(&b, VG_DATA_VA, 6), ACCEL_ST_DONE);
    assert_int_equal(vg_hpa_read32(&b, gb), 6);
    vg_fini(&b);
    vg_fini(&a);
    host_destroy(h);
}

const struct CMUnitTest viommu_bad_tests[4] = {
    cmocka_unit_test(test_bad_pgtt),
    cmocka_unit_test(test_bad_flptr),
    cmocka_unit_test(test_bad_descriptors),
    cmocka_unit_test(test_two_guests),
};
