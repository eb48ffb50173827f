/* svm=off for test_viommu (issue 6 item 4): the virtual unit offers DMA
 * remapping through second-level tables only, the guest maps its DMA
 * buffers there (IOVA -> GPA) and invalidates every map and unmap (caching
 * mode); the viommu shadows its table into a host paging domain at the
 * device's RID_PASID. The accelerator runs without PASID; its batch,
 * completion and data live at IOVAs (mapped in the process table too, only
 * so the test can write the batch). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/hw.h"
#include "lib/hw_regs.h"
#include "viommu_fixture.h"

#define ERR(st) (((st) >> 8) & 0xFF)
#define IOVA    0x40000000ULL   /* the guest's DMA window */
#define B_IOVA  IOVA
#define C_IOVA  (IOVA + 0x1000)
#define D_IOVA  (IOVA + 0x10000)
#define SL_R    1ULL
#define SL_W    2ULL
#define ADDR    0x000FFFFFFFFFF000ULL

struct sg {
    struct host *h;
    struct vg g;
    uint64_t root;              /* guest second-level root (4 levels) */
};

/* The leaf slot of iova in the guest's table, tables made on the way. */
static uint64_t leaf_slot(struct sg *s, uint64_t iova)
{
    uint64_t t = s->root;
    for (unsigned level = 4; level > 1; level--) {
        uint64_t ea = t + 8 * ((iova >> (12 + 9 * (level - 1))) & 0x1FF), e = vg_r64(&s->g, ea);
        if (!(e & (SL_R | SL_W))) {
            e = gpa_page_alloc(s->g.ram) | SL_R | SL_W;
            vg_w64(&s->g, ea, e);
        }
        t = e & ADDR;
    }
    return t + 8 * ((iova >> 12) & 0x1FF);
}

static void sl_set(struct sg *s, uint64_t iova, uint64_t leaf)
{
    vg_w64(&s->g, leaf_slot(s, iova), leaf);
}

static void iotlb(struct sg *s, unsigned gran, uint64_t iova, unsigned am)
{
    uint64_t d[1][4] = { { 0 } };
    HW_SET(INV_IOTLB, TYPE_LO, d[0], INV_TYPE_IOTLB), HW_SET(INV_IOTLB, G, d[0], gran);
    HW_SET(INV_IOTLB, DID, d[0], VG_DID), HW_SET(INV_IOTLB, AM, d[0], am);
    HW_SET(INV_IOTLB, ADDR, d[0], iova >> 12);
    vg_qi(&s->g, d, 1);
    assert_true(vg_qi_wait(&s->g));
}

/* Linux's unmap under strict mode: IOTLB page-selective, device TLB
 * without PASID (§4.5), wait. */
static void unmap_flush(struct sg *s, uint64_t iova)
{
    uint64_t d[2][4] = { { 0 } };
    HW_SET(INV_IOTLB, TYPE_LO, d[0], INV_TYPE_IOTLB), HW_SET(INV_IOTLB, G, d[0], 3);
    HW_SET(INV_IOTLB, DID, d[0], VG_DID), HW_SET(INV_IOTLB, ADDR, d[0], iova >> 12);
    HW_SET(INV_DEVTLB, TYPE_LO, d[1], INV_TYPE_DEVTLB), HW_SET(INV_DEVTLB, SID, d[1], VG_VBDF);
    HW_SET(INV_DEVTLB, ADDR, d[1], iova >> 12);
    vg_qi(&s->g, d, 2);
    assert_true(vg_qi_wait(&s->g));
}

/* A DMA mapping as the guest's DMA API makes it with caching mode: the
 * leaf, then the page-selective invalidation. */
static uint64_t map(struct sg *s, uint64_t iova, bool write)
{
    uint64_t gpa = gpa_page_alloc(s->g.ram);
    sl_set(s, iova, gpa | SL_R | (write ? SL_W : 0));
    assert_int_equal(pt_map(&s->g.pt, iova, gpa, PT_4K, PTE_RW | PTE_US), 0);
    iotlb(s, 3, iova, 0);
    return gpa;
}

/* The host unit on a request without PASID from the accelerator. */
static uint8_t host_xlate(struct sg *s, uint64_t iova, uint64_t *hpa)
{
    struct vtd_req req = { .sid = s->h->acc_bdf[0], .addr = iova };
    struct vtd_result res;
    vtd_translate_norecord(s->h->unit[0], &req, &res);
    *hpa = res.addr;
    return res.blocked ? 0xFF : res.fault;
}

static uint32_t store(struct sg *s, uint64_t iova, uint32_t val)
{
    struct accel_cmd c = { .opcode = ACCEL_OP_STORE_DWORD, .arg = val, .a = iova };
    vg_submit_at(&s->g, B_IOVA, &c);
    uint32_t st = vg_wait(&s->g);
    if (st != ACCEL_ST_DONE)   /* gdev_wait's reset turned PASID on: off again */
        vg_ctx(&s->g, ACCEL_CTRL_ENABLE, 0, C_IOVA);
    return st;
}

static struct viommu_stats stats(struct sg *s)
{
    struct viommu_stats st;
    viommu_stats(s->g.v, &st);
    return st;
}

/* A guest with svm=off: RID_PASID entry PGTT=2 (4 levels, AW=2) over an
 * empty table, PASID-cache invalidation: a host paging domain; batch and
 * completion pages mapped. */
static void sg_init(struct sg *s)
{
    s->h = vg_host(1);
    vg_init(&s->g, s->h, 0, false);
    s->root = gpa_page_alloc(s->g.ram);
    vg_pasid_entry(&s->g, 0, HW_FM(PASID_PTE, P) | HW_FMK(PASID_PTE, PGTT, 2) |
                   HW_FMK(PASID_PTE, AW, 2) | s->root, VG_DID, 0);
    uint64_t d[1][4];
    vg_desc_pc(d[0], 1, VG_DID, 0);
    vg_qi(&s->g, d, 1);
    assert_true(vg_qi_wait(&s->g));
    assert_int_not_equal(viommu_shadow_hwpt(s->g.v, VG_VBDF, 0), 0);
    map(s, B_IOVA, false);
    map(s, C_IOVA, true);
    vg_ctx(&s->g, ACCEL_CTRL_ENABLE, 0, C_IOVA);
}

static void sg_fini(struct sg *s)
{
    vg_fini(&s->g);
    host_destroy(s->h);
}

/* svm=off (viommu.h): scalable mode with second level only: SLTS, PT as
 * the host allows, CM; no FLTS, NEST, PASID, PRS, no large pages; 3- and
 * 4-level tables. A first-level PASID entry is refused, and so is a
 * second-level one at a PASID other than 0 (the RID_PASID). */
static void test_svm_off_caps_and_refusals(void **state)
{
    (void)state;
    struct host *h = vg_host(1);
    struct vg g;
    vg_init(&g, h, 0, false);
    uint64_t cap = vg_rd(&g, REG_OFF_CAP, 8), ecap = vg_rd(&g, REG_OFF_ECAP, 8);
    assert_int_equal(HW_FV(CAP, CM, cap), 1);
    assert_int_equal(HW_FV(ECAP, SMTS, ecap), 1);
    assert_int_equal(HW_FV(ECAP, SLTS, ecap), 1);
    assert_int_equal(HW_FV(ECAP, PT, ecap), 1);
    assert_int_equal(ecap & (HW_FM(ECAP, FLTS) | HW_FM(ECAP, NEST) | HW_FM(ECAP, PASID) |
                             HW_FM(ECAP, PSS) | HW_FM(ECAP, PRS) | HW_FM(ECAP, PDS) |
                             HW_FM(ECAP, SRS) | HW_FM(ECAP, ERS) | HW_FM(ECAP, EAFS)), 0);
    assert_int_equal(cap & (HW_FM(CAP, SLLPS) | HW_FM(CAP, FL1GP) | HW_FM(CAP, FL5LP)), 0);
    assert_int_equal(HW_FV(CAP, SAGAW, cap) & ~0x6ULL, 0);
    assert_true(HW_FV(CAP, SAGAW, cap) & 0x4);
    assert_true(HW_FV(CAP, MGAW, cap) <= 47);
    uint64_t e[8] = { 0 };
    HW_SET(PASID_PTE, P, e, 1), HW_SET(PASID_PTE, PGTT, e, 1), HW_SET(PASID_PTE, DID, e, VG_DID);
    HW_SET(PASID_PTE, FLPTPTR, e, g.pt.root >> 12);
    vg_pasid_entry(&g, 0, e[0], e[1], e[2]);
    /* PASID 1: the only other one the unit's PSS (0: one PASID bit) lets it read */
    vg_pasid_entry(&g, 1, HW_FM(PASID_PTE, P) | HW_FMK(PASID_PTE, PGTT, 2) |
                   HW_FMK(PASID_PTE, AW, 2) | gpa_page_alloc(g.ram), VG_DID, 0);
    uint64_t d[2][4];
    vg_desc_pc(d[0], 1, VG_DID, 0);
    vg_desc_pc(d[1], 1, VG_DID, 1);
    vg_qi(&g, d, 2);
    assert_true(vg_qi_wait(&g));
    assert_int_equal(viommu_shadow_hwpt(g.v, VG_VBDF, 0), 0);
    assert_int_equal(viommu_shadow_hwpt(g.v, VG_VBDF, 1), 0);
    struct viommu_stats st;
    viommu_stats(g.v, &st);
    assert_int_equal(st.bad_entries, 2);
    assert_int_equal(st.binds, 0);
    vg_fini(&g);
    host_destroy(h);
}

/* Map, DMA, unmap, DMA faults: the store lands at the GPA of the guest's
 * leaf; after the unmap and its invalidation the device's store fails
 * (the host invalidated its IOTLB and the device TLB); mapped again to
 * another page, the store lands there. */
static void test_sl_map_dma_unmap(void **state)
{
    (void)state;
    struct sg s;
    sg_init(&s);
    uint64_t d = map(&s, D_IOVA, true);
    assert_int_equal(store(&s, D_IOVA + 8, 0xD00D), ACCEL_ST_DONE);
    assert_int_equal(vg_hpa_read32(&s.g, d + 8), 0xD00D);
    struct viommu_stats st = stats(&s);
    assert_int_equal(st.sl_maps, 3);
    assert_int_equal(st.sl_refused, 0);
    sl_set(&s, D_IOVA, 0);
    unmap_flush(&s, D_IOVA);
    st = stats(&s);
    assert_int_equal(st.sl_unmaps, 1);
    uint32_t rc = store(&s, D_IOVA + 8, 0xBAD);
    assert_int_equal(rc & 0xFF, ACCEL_ST_ERROR);
    assert_int_equal(vg_hpa_read32(&s.g, d + 8), 0xD00D);
    uint64_t e = gpa_page_alloc(s.g.ram);
    sl_set(&s, D_IOVA, e | SL_R | SL_W);
    iotlb(&s, 3, D_IOVA, 0);
    assert_int_equal(store(&s, D_IOVA + 8, 0xE), ACCEL_ST_DONE);
    assert_int_equal(vg_hpa_read32(&s.g, e + 8), 0xE);
    assert_int_equal(vg_hpa_read32(&s.g, d + 8), 0xD00D);
    /* read-only: a write is refused */
    uint64_t ro = map(&s, D_IOVA + 0x1000, false);
    rc = store(&s, D_IOVA + 0x1000, 1);
    assert_int_equal(rc & 0xFF, ACCEL_ST_ERROR);
    assert_int_equal(vg_hpa_read32(&s.g, ro), 0);
    st = stats(&s);
    assert_int_equal(st.sl_errors, 0);
    assert_int_equal(st.bad_entries, 0);
    sg_fini(&s);
}

/* Nothing outside guest RAM, nothing malformed: a leaf at a GPA beyond
 * RAM, a leaf with a reserved bit (SNP without ECAP.SC), a table pointer
 * beyond RAM, a large page (CAP.SLLPS is 0: PS is reserved), a write-only
 * leaf, an address bit above the unit's HAW: none becomes a host mapping,
 * whatever the invalidation (page-selective, then domain-selective). The
 * valid leaf next to them is mapped. */
static void test_sl_invalid_entries_never_mapped(void **state)
{
    (void)state;
    struct sg s;
    sg_init(&s);
    uint64_t ram = gpa_map_size(s.g.ram), good = gpa_page_alloc(s.g.ram), hpa;
    const struct vtd_config *vc = vtd_unit_config(viommu_unit(s.g.v));
    assert_true(vc->haw < 52);
    uint64_t x[6] = { IOVA + 0x20000, IOVA + 0x21000, IOVA + 0x400000, IOVA + 0x600000,
                      IOVA + 0x22000, IOVA + 0x23000 };
    sl_set(&s, x[0], (ram + 0x2000) | SL_R | SL_W);
    sl_set(&s, x[1], good | SL_R | SL_W | HW_FM(SL_PTE, SNP));
    leaf_slot(&s, x[2]);   /* make the level-2 entry, then point it outside RAM */
    uint64_t pd = vg_r64(&s.g, s.root) & ADDR;
    pd = vg_r64(&s.g, pd + 8 * ((x[2] >> 30) & 0x1FF)) & ADDR;
    vg_w64(&s.g, pd + 8 * ((x[2] >> 21) & 0x1FF), (ram + 0x200000) | SL_R | SL_W);
    vg_w64(&s.g, pd + 8 * ((x[3] >> 21) & 0x1FF), good | SL_R | SL_W | HW_FM(SL_PTE, PS));
    sl_set(&s, x[4], good | SL_W);
    sl_set(&s, x[5], good | SL_R | SL_W | 1ULL << vc->haw);
    uint64_t ok = IOVA + 0x24000;
    sl_set(&s, ok, good | SL_R | SL_W);
    for (unsigned i = 0; i < 6; i++)
        iotlb(&s, 3, x[i], 0);
    iotlb(&s, 3, ok, 0);
    for (unsigned i = 0; i < 6; i++)
        assert_int_not_equal(host_xlate(&s, x[i], &hpa), 0);
    assert_int_equal(host_xlate(&s, ok, &hpa), 0);
    assert_int_equal(hpa, gpa_to_hpa(s.g.ram, good));
    struct viommu_stats st = stats(&s);
    assert_true(st.sl_refused >= 6);
    iotlb(&s, 2, 0, 0);   /* the whole table again */
    for (unsigned i = 0; i < 6; i++)
        assert_int_not_equal(host_xlate(&s, x[i], &hpa), 0);
    assert_int_equal(host_xlate(&s, ok, &hpa), 0);
    uint32_t rc = store(&s, x[0], 1);   /* and the device gets an error */
    assert_int_equal(rc & 0xFF, ACCEL_ST_ERROR);
    st = stats(&s);
    assert_int_equal(st.sl_errors, 0);
    sg_fini(&s);
}

/* A guest that unmaps without invalidating (a bug): decision (sl.c) the
 * host mapping stays until an invalidation covers it, as a cached
 * translation may on hardware; the device still reaches the old page (the
 * guest's own RAM). The domain-selective invalidation that follows removes
 * it. Pages mapped without a page-selective invalidation appear with a
 * domain-selective or global one; a changed leaf moves the mapping. */
static void test_sl_stale_until_invalidated(void **state)
{
    (void)state;
    struct sg s;
    sg_init(&s);
    uint64_t d = map(&s, D_IOVA, true);
    sl_set(&s, D_IOVA, 0);   /* no invalidation */
    assert_int_equal(store(&s, D_IOVA, 7), ACCEL_ST_DONE);
    assert_int_equal(vg_hpa_read32(&s.g, d), 7);
    uint64_t p[4], hpa;
    for (unsigned i = 0; i < 4; i++) {
        p[i] = gpa_page_alloc(s.g.ram);
        sl_set(&s, IOVA + 0x30000 + i * 0x1000ULL, p[i] | SL_R | SL_W);
    }
    assert_int_not_equal(host_xlate(&s, IOVA + 0x30000, &hpa), 0);
    iotlb(&s, 2, 0, 0);
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(host_xlate(&s, IOVA + 0x30000 + i * 0x1000ULL, &hpa), 0);
        assert_int_equal(hpa, gpa_to_hpa(s.g.ram, p[i]));
    }
    assert_int_not_equal(host_xlate(&s, D_IOVA, &hpa), 0);
    uint32_t rc = store(&s, D_IOVA, 8);
    assert_int_equal(rc & 0xFF, ACCEL_ST_ERROR);
    assert_int_equal(vg_hpa_read32(&s.g, d), 7);
    sl_set(&s, IOVA + 0x31000, p[3] | SL_R | SL_W);   /* moved: global invalidation */
    iotlb(&s, 1, 0, 0);
    assert_int_equal(host_xlate(&s, IOVA + 0x31000, &hpa), 0);
    assert_int_equal(hpa, gpa_to_hpa(s.g.ram, p[3]));
    struct viommu_stats st = stats(&s);
    assert_int_equal(st.sl_errors, 0);
    assert_int_equal(st.sl_refused, 0);
    sg_fini(&s);
}

/* The guest switches its RID_PASID entry: to pass-through (the nest
 * parent: GPAs), back to a new second-level table (a new paging domain,
 * filled from the table before it is attached), then not present. */
static void test_sl_entry_changes(void **state)
{
    (void)state;
    struct sg s;
    sg_init(&s);
    uint64_t hpa, gpa = gpa_page_alloc(s.g.ram);
    uint32_t sl = viommu_shadow_hwpt(s.g.v, VG_VBDF, 0);
    uint64_t d[1][4];
    vg_pasid_entry(&s.g, 0, HW_FM(PASID_PTE, P) | HW_FMK(PASID_PTE, PGTT, 4) |
                   HW_FMK(PASID_PTE, AW, 2), VG_DID + 1, 0);
    vg_desc_pc(d[0], 1, VG_DID + 1, 0);
    vg_qi(&s.g, d, 1);
    assert_true(vg_qi_wait(&s.g));
    uint32_t pt = viommu_shadow_hwpt(s.g.v, VG_VBDF, 0);
    assert_true(pt && pt != sl);
    assert_int_equal(host_xlate(&s, gpa, &hpa), 0);
    assert_int_equal(hpa, gpa_to_hpa(s.g.ram, gpa));
    uint64_t root2 = gpa_page_alloc(s.g.ram), keep = s.root;
    s.root = root2;
    sl_set(&s, D_IOVA, gpa | SL_R);
    vg_pasid_entry(&s.g, 0, HW_FM(PASID_PTE, P) | HW_FMK(PASID_PTE, PGTT, 2) |
                   HW_FMK(PASID_PTE, AW, 2) | root2, VG_DID, 0);
    vg_desc_pc(d[0], 1, VG_DID, 0);
    vg_qi(&s.g, d, 1);
    assert_true(vg_qi_wait(&s.g));
    assert_int_equal(host_xlate(&s, D_IOVA, &hpa), 0);
    assert_int_equal(hpa, gpa_to_hpa(s.g.ram, gpa));
    assert_int_not_equal(host_xlate(&s, B_IOVA, &hpa), 0);   /* only in the first table */
    (void)keep;
    vg_pasid_entry(&s.g, 0, 0, 0, 0);
    vg_qi(&s.g, d, 1);
    assert_true(vg_qi_wait(&s.g));
    assert_int_equal(viommu_shadow_hwpt(s.g.v, VG_VBDF, 0), 0);
    assert_int_not_equal(host_xlate(&s, D_IOVA, &hpa), 0);
    struct viommu_stats st = stats(&s);
    assert_int_equal(st.bad_entries, 0);
    assert_int_equal(st.binds, 3);
    assert_int_equal(st.unbinds, 1);
    sg_fini(&s);
}

const struct CMUnitTest viommu_sl_tests[5] = {
    cmocka_unit_test(test_svm_off_caps_and_refusals),
    cmocka_unit_test(test_sl_map_dma_unmap),
    cmocka_unit_test(test_sl_invalid_entries_never_mapped),
    cmocka_unit_test(test_sl_stale_until_invalidated),
    cmocka_unit_test(test_sl_entry_changes),
};
