/* Translation types for test_viommu: a pass-through PASID (§2.10 PGTT=4)
 * reaching guest physical addresses, and the RID_PASID (PASID 0, the
 * PASID of requests without PASID: the virtual unit has no ECAP.RPS,
 * §2.8) carrying a guest process's first-level table; requests without
 * PASID and their page requests stay the host's. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/hw.h"
#include "lib/hw_regs.h"
#include "viommu_fixture.h"

#define ERR(st) (((st) >> 8) & 0xFF)
#define PT_PASID 6

static void pc(struct vg *g, uint16_t did, uint32_t pasid)
{
    uint64_t d[1][4];
    vg_desc_pc(d[0], 1, did, pasid);
    vg_qi(g, d, 1);
    assert_true(vg_qi_wait(g));
}

/* The host unit's answer to a read without PASID from the accelerator at
 * addr: 0 when it translates (out: the address), else the fault. */
static uint8_t host_no_pasid(struct host *h, uint64_t addr, uint64_t *out)
{
    struct vtd_req req = { .sid = h->acc_bdf[0], .addr = addr };
    struct vtd_result res;
    vtd_translate_norecord(h->unit[0], &req, &res);
    *out = res.addr;
    return res.blocked ? 0xFF : res.fault;
}

/* PGTT=4: the device's addresses are guest physical. Its batch and
 * completion pages are GPAs (identity-mapped in the process table only so
 * the test can write the batch); a store lands at gpa_to_hpa of its GPA;
 * a GPA outside guest RAM faults. */
static void test_pass_through_dma(void **state)
{
    (void)state;
    struct host *h = vg_host(1);
    if (!HW_FV(ECAP, SLTS, h->iommu[0].ecap)) {
        host_destroy(h);
        skip();
    }
    struct vg g;
    vg_init(&g, h, 0, true);
    vg_pasid_entry(&g, PT_PASID, HW_FM(PASID_PTE, P) | HW_FMK(PASID_PTE, PGTT, 4) |
                   HW_FMK(PASID_PTE, AW, 2), VG_DID + 1, 0);
    pc(&g, VG_DID + 1, PT_PASID);
    assert_int_not_equal(viommu_shadow_hwpt(g.v, VG_VBDF, PT_PASID), 0);
    uint64_t batch = gpa_page_alloc(g.ram), compl = gpa_page_alloc(g.ram);
    uint64_t data = gpa_page_alloc(g.ram);
    assert_int_equal(pt_map(&g.pt, batch, batch, PT_4K, PTE_RW | PTE_US), 0);
    vg_ctx(&g, ACCEL_CTRL_ENABLE | ACCEL_CTRL_PASID, PT_PASID, compl);
    struct accel_cmd c = { .opcode = ACCEL_OP_STORE_DWORD, .arg = 0xFEED, .a = data + 0x10 };
    vg_submit_at(&g, batch, &c);
    assert_int_equal(vg_wait(&g), ACCEL_ST_DONE);
    assert_int_equal(vg_hpa_read32(&g, data + 0x10), 0xFEED);
    uint64_t seq = 0;
    assert_int_equal(gpa_read64(g.ram, compl, &seq), 0);
    assert_int_equal(seq, g.seq);   /* the completion went to the GPA too */
    c.a = gpa_map_size(g.ram) + 0x40;
    vg_submit_at(&g, batch, &c);
    uint32_t st = vg_wait(&g);
    assert_int_equal(st & 0xFF, ACCEL_ST_ERROR);
    struct viommu_stats s;
    viommu_stats(g.v, &s);
    assert_int_equal(s.binds, 1);
    assert_int_equal(s.bad_entries, 0);
    assert_int_equal(s.page_requests, 0);   /* pass-through faults are the host's */
    vg_fini(&g);
    host_destroy(h);
}

/* The RID_PASID: from the assignment on, the host blocks the device's
 * requests without PASID (its pass-through entry saved); a guest PASID 0
 * entry with PGTT=1 becomes a host nested domain at the host RID_PASID,
 * and the accelerator with ACCEL_CTRL_PASID clear reaches the guest
 * process's memory. Found through a context-cache invalidation too (the
 * order a guest kernel uses: PASID entry, then the context entry). After
 * the guest is gone the host's pass-through is back. */
static void test_rid_pasid(void **state)
{
    (void)state;
    struct host *h = vg_host(1);
    uint64_t out;
    assert_int_equal(host_no_pasid(h, 0x5000, &out), 0);   /* the host's pass-through */
    assert_int_equal(out, 0x5000);
    struct vg g;
    vg_init(&g, h, 0, true);
    assert_int_not_equal(host_no_pasid(h, 0x5000, &out), 0);
    uint64_t e[8] = { 0 };
    HW_SET(PASID_PTE, P, e, 1), HW_SET(PASID_PTE, PGTT, e, 1), HW_SET(PASID_PTE, DID, e, VG_DID);
    HW_SET(PASID_PTE, FLPTPTR, e, g.pt.root >> 12);
    vg_pasid_entry(&g, 0, e[0], e[1], e[2]);
    uint64_t d[1][4] = { { 0 } };
    HW_SET(INV_CC, TYPE_LO, d[0], INV_TYPE_CC), HW_SET(INV_CC, G, d[0], 3);
    HW_SET(INV_CC, SID, d[0], VG_VBDF);
    vg_qi(&g, d, 1);
    assert_true(vg_qi_wait(&g));
    assert_int_not_equal(viommu_shadow_hwpt(g.v, VG_VBDF, 0), 0);
    vg_ctx(&g, ACCEL_CTRL_ENABLE, 0, VG_COMPL_VA);
    uint64_t gpa = vg_map(&g, VG_DATA_VA);
    assert_int_equal(vg_store(&g, VG_DATA_VA + 0x20, 0xABCD), ACCEL_ST_DONE);
    assert_int_equal(vg_hpa_read32(&g, gpa + 0x20), 0xABCD);
    struct viommu_stats s;
    viommu_stats(g.v, &s);
    assert_int_equal(s.binds, 1);
    assert_int_equal(s.bad_entries, 0);
    /* the same through a PASID-selective PASID-cache invalidation: kept */
    uint32_t hw = viommu_shadow_hwpt(g.v, VG_VBDF, 0);
    pc(&g, VG_DID, 0);
    assert_int_equal(viommu_shadow_hwpt(g.v, VG_VBDF, 0), hw);
    vg_fini(&g);
    assert_int_equal(host_no_pasid(h, 0x5000, &out), 0);
    assert_int_equal(out, 0x5000);
    host_destroy(h);
}

/* A page request without PASID (a store to a page the guest process never
 * mapped, ACCEL_CTRL_PASID clear) never reaches the guest: the host
 * answers it Invalid Request and the batch ends with a page fault; the
 * guest PRQ stays empty. A store with PASID afterwards still faults into
 * the guest as usual. */
static void test_rid_pasid_page_request_stays_host(void **state)
{
    (void)state;
    struct host *h = vg_host(1);
    struct vg g;
    vg_init(&g, h, 0, true);
    vg_bind(&g, 0);
    vg_bind(&g, VG_PASID);
    vg_ctx(&g, ACCEL_CTRL_ENABLE, 0, VG_COMPL_VA);
    uint32_t st = vg_store(&g, VG_DATA_VA + 0x3000, 1);
    assert_int_equal(st & 0xFF, ACCEL_ST_ERROR);
    assert_int_equal(ERR(st), ACCEL_ERR_PAGE_FAULT);
    assert_int_equal(viommu_poll(g.v), 0);
    assert_int_equal(vg_rd(&g, REG_OFF_PQT, 8), 0);
    assert_int_equal(vg_rd(&g, REG_OFF_PRS, 4), 0);
    struct viommu_stats s;
    viommu_stats(g.v, &s);
    assert_int_equal(s.page_requests, 0);
    vg_ctx(&g, ACCEL_CTRL_ENABLE | ACCEL_CTRL_PASID, VG_PASID, VG_COMPL_VA);
    struct accel_cmd c = { .opcode = ACCEL_OP_STORE_DWORD, .arg = 2, .a = VG_DATA_VA + 0x3000 };
    vg_submit(&g, &c);
    assert_int_equal(vg_poll_wait(&g), 1);
    assert_int_equal(vg_rd(&g, REG_OFF_PQT, 8), 32);
    uint64_t r[1][4];
    uint64_t q[4];
    for (unsigned i = 0; i < 4; i++)
        q[i] = vg_r64(&g, VG_PRQ + 8 * i);
    assert_int_equal(HW_GET(PAGE_REQ, PP, q), 1);
    assert_int_equal(HW_GET(PAGE_REQ, PASID, q), VG_PASID);
    uint64_t gpa = vg_map(&g, VG_DATA_VA + 0x3000);
    vg_wr(&g, REG_OFF_PQH, 8, 32);
    vg_desc_pgresp(r[0], VG_VBDF, VG_PASID, (uint16_t)HW_GET(PAGE_REQ, PRGI, q), VTD_PRG_SUCCESS);
    vg_qi(&g, r, 1);
    assert_int_equal(vg_wait(&g), ACCEL_ST_DONE);
    assert_int_equal(vg_hpa_read32(&g, gpa), 2);
    vg_fini(&g);
    host_destroy(h);
}

const struct CMUnitTest viommu_bind_tests[3] = {
    cmocka_unit_test(test_pass_through_dma),
    cmocka_unit_test(test_rid_pasid),
    cmocka_unit_test(test_rid_pasid_page_request_stays_host),
};
