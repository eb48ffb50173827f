/* Host events into the guest for test_viommu: non-recoverable faults on
 * guest first-level translation recorded in the guest's fault recording
 * registers (vtd-reference §7), the guest PRQ overflow (§6.4) and the
 * refusals of viommu_assign. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>

#include "lib/hw.h"
#include "lib/hw_regs.h"
#include "viommu_fixture.h"
#include "os/iommu.h"

#define ERR(st) (((st) >> 8) & 0xFF)
#define FAULT_VA (1ULL << 39)   /* PML4 index 1 */

/* A reserved bit (PS, bit 7) in a guest PML4 entry (§3.6 first-level
 * reserved fields): iommufd reports a first-level fault (0x72) as an event;
 * after viommu_poll the guest's FRCD holds vBDF, PASID, reason and address,
 * FSTS.PPF is set and the fault event vMSI fires (FECTL unmasked). */
static void test_fault_event(void **state)
{
    (void)state;
    struct host *h = vg_host(1);
    struct vg g;
    vg_init(&g, h, 0, true);
    vg_bind(&g, VG_PASID);
    vg_wr(&g, REG_OFF_FECTL, 4, 0);   /* Linux unmasks the fault event */
    uint64_t tbl = gpa_page_alloc(g.ram);
    vg_w64(&g, g.pt.root + 8, tbl | PTE_P | PTE_RW | PTE_US | PTE_PS);
    unsigned msis = g.msis;
    uint32_t st = vg_store(&g, FAULT_VA + 0x40, 1);
    assert_int_equal(st & 0xFF, ACCEL_ST_ERROR);
    assert_true(vg_poll_wait(&g) >= 1);
    assert_int_equal(vg_rd(&g, REG_OFF_FSTS, 4) & HW_FM(FSTS, PPF), HW_FM(FSTS, PPF));
    uint32_t fro = (uint32_t)HW_FV(CAP, FRO, vg_rd(&g, REG_OFF_CAP, 8)) * 16;
    uint64_t r[2] = { vg_rd(&g, fro, 8), vg_rd(&g, fro + 8, 8) };
    assert_int_equal(HW_GET(FRCD, F, r), 1);
    assert_int_equal(HW_GET(FRCD, SID, r), VG_VBDF);
    assert_int_equal(HW_GET(FRCD, PP, r), 1);
    assert_int_equal(HW_GET(FRCD, PV, r), VG_PASID);
    assert_int_equal(HW_GET(FRCD, FR, r), VTD_FR_FL_RSVD);
    assert_int_equal(HW_GET(FRCD, FI, r), FAULT_VA >> 12);
    assert_int_equal(HW_GET(FRCD, T1, r), 0);   /* a write */
    assert_int_equal(g.msis, msis + 1);
    struct viommu_stats s;
    viommu_stats(g.v, &s);
    assert_int_equal(s.faults_injected, 1);
    vg_fini(&g);
    host_destroy(h);
}

/* The guest PRQ full (§6.4): the virtual unit sets PRS.PRO and answers the
 * request Success itself; the device retries; once the guest drains (PRO
 * cleared, PQH caught up) the retry is delivered, answered and the device
 * completes. PQS 0 is the smallest queue (128 entries); head one slot
 * after the tail is a full queue of 127 requests the guest has not read. */
static void test_prq_overflow(void **state)
{
    (void)state;
    struct host *h = vg_host(1);
    struct vg g;
    vg_init(&g, h, 0, true);
    vg_bind(&g, VG_PASID);
    vg_wr(&g, REG_OFF_PQH, 8, 32);
    struct accel_cmd c = { .opcode = ACCEL_OP_STORE_DWORD, .arg = 9, .a = VG_DATA_VA };
    vg_submit(&g, &c);
    assert_int_equal(vg_poll_wait(&g), 1);
    assert_int_equal(vg_rd(&g, REG_OFF_PRS, 4) & HW_FM(PRS, PRO), HW_FM(PRS, PRO));
    assert_int_equal(vg_rd(&g, REG_OFF_PQT, 8), 0);
    struct viommu_stats s;
    viommu_stats(g.v, &s);
    assert_int_equal(s.page_responses, 1);   /* the unit's own Success */
    assert_int_equal(vg_poll_wait(&g), 1);   /* the device asked again: still PRO */
    vg_wr(&g, REG_OFF_PQH, 8, 0);            /* the guest drained */
    vg_wr(&g, REG_OFF_PRS, 4, HW_FM(PRS, PRO));
    assert_int_equal(vg_poll_wait(&g), 1);
    assert_int_equal(vg_rd(&g, REG_OFF_PQT, 8), 32);
    uint64_t d[4];
    for (unsigned i = 0; i < 4; i++)
        d[i] = vg_r64(&g, VG_PRQ + 8 * i);
    assert_int_equal(HW_GET(PAGE_REQ, ADDR, d), VG_DATA_VA >> 12);
    uint64_t gpa = vg_map(&g, VG_DATA_VA);
    vg_wr(&g, REG_OFF_PQH, 8, 32);
    uint64_t r[1][4];
    vg_desc_pgresp(r[0], VG_VBDF, VG_PASID, (uint16_t)HW_GET(PAGE_REQ, PRGI, d), VTD_PRG_SUCCESS);
    vg_qi(&g, r, 1);
    assert_int_equal(vg_wait(&g), ACCEL_ST_DONE);
    assert_int_equal(vg_hpa_read32(&g, gpa), 9);
    viommu_stats(g.v, &s);
    assert_int_equal(s.page_responses, 3);
    assert_int_equal(s.dropped_requests, 0);
    vg_fini(&g);
    host_destroy(h);
}

/* viommu_assign refusals: a used vBDF (-EEXIST), a host unit lacking an
 * advertised capability (-EOPNOTSUPP, e.g. a unit whose ECAP lost PRS
 * after the virtual unit was derived), no slot left (-ENOSPC). A refused
 * assignment leaves nothing bound. */
static void test_assign_refusals(void **state)
{
    (void)state;
    struct host *h = vg_host(HOST_MAX_ACCELS);
    struct vg g;
    vg_init(&g, h, 0, true);
    assert_int_equal(viommu_assign(g.v, VG_VBDF, h->acc_bdf[1]), -EEXIST);
    uint64_t ecap = h->iommu[0].ecap;
    h->iommu[0].ecap &= ~HW_FM(ECAP, PRS);
    assert_int_equal(viommu_assign(g.v, 0x10, h->acc_bdf[1]), -EOPNOTSUPP);
    h->iommu[0].ecap = ecap;
    for (unsigned i = 1; i < HOST_MAX_ACCELS; i++)
        assert_int_equal(viommu_assign(g.v, (uint16_t)(0x10 + i), h->acc_bdf[i]), 0);
    assert_int_equal(viommu_assign(g.v, 0x40, h->acc_bdf[1]), -ENOSPC);
    vg_fini(&g);
    host_destroy(h);
}

/* The host queue slot n descriptors before the tail (256-bit queue). */
static void host_iq_back(struct host *h, unsigned unit, unsigned n, uint64_t *d)
{
    struct os_iommu *m = &h->iommu[unit];
    unsigned slot = (m->iq_tail + m->iq_len - n) % m->iq_len;
    assert_true(m->dw);
    assert_int_equal(mem_read(h->mem, m->iq + 32ULL * slot, d, 32), 0);
}

/* Private data (§6.1 PDP, §6.4, rev 3.x): a host page request carrying
 * private data and no LPIG still expects a response. It reaches the guest
 * PRQ with PDP and its QW2/QW3; the guest's page group response (PDP, the
 * data echoed) answers the host: a page group response with the request's
 * RID (the host BDF), PASID, PRGI and private data goes out on the host
 * unit's queue. */
static void test_private_data(void **state)
{
    (void)state;
    const uint64_t pd0 = 0x1122334455667788ULL, pd1 = 0x99AABBCCDDEEFF00ULL;
    struct host *h = vg_host(1);
    struct vg g;
    vg_init(&g, h, 0, true);
    vg_bind(&g, VG_PASID);
    struct vtd_page_req pr = { .sid = h->acc_bdf[0], .pasid_present = true, .pasid = VG_PASID,
                               .addr = VG_DATA_VA, .read = true, .prgi = 0x155, .pdp = true,
                               .priv_data = { pd0, pd1 } };
    vtd_page_request(h->unit[0], &pr);   /* as the device would send it */
    assert_int_equal(vg_poll_wait(&g), 1);
    assert_int_equal(vg_rd(&g, REG_OFF_PQT, 8), 32);
    uint64_t d[4];
    for (unsigned i = 0; i < 4; i++)
        d[i] = vg_r64(&g, VG_PRQ + 8 * i);
    assert_int_equal(HW_GET(PAGE_REQ, RID, d), VG_VBDF);
    assert_int_equal(HW_GET(PAGE_REQ, PASID, d), VG_PASID);
    assert_int_equal(HW_GET(PAGE_REQ, PDP, d), 1);
    assert_int_equal(HW_GET(PAGE_REQ, LPIG, d), 0);
    assert_int_equal(HW_GET(PAGE_REQ, PRGI, d), 0x155);
    assert_true(d[2] == pd0 && d[3] == pd1);
    vg_wr(&g, REG_OFF_PQH, 8, 32);
    struct os_page_req resp = { .sid = VG_VBDF, .pasid_present = true, .pasid = VG_PASID,
                                .prgi = 0x155, .pdp = true, .priv_data = { pd0, pd1 } };
    uint64_t r[1][4] = { { 0 } };
    os_qi_pgresp(r[0], &resp, VTD_PRG_SUCCESS);
    vg_qi(&g, r, 1);
    struct viommu_stats s;
    viommu_stats(g.v, &s);
    assert_int_equal(s.page_requests, 1);
    assert_int_equal(s.page_responses, 1);
    assert_int_equal(s.dropped_requests, 0);
    uint64_t q[4];
    host_iq_back(h, 0, 2, q);   /* the response, then os_qi_submit's wait */
    assert_int_equal(inv_desc_type(q), INV_TYPE_PGRESP);
    assert_int_equal(HW_GET(INV_PGRESP, RID, q), h->acc_bdf[0]);
    assert_int_equal(HW_GET(INV_PGRESP, PASID, q), VG_PASID);
    assert_int_equal(HW_GET(INV_PGRESP, PRGI, q), 0x155);
    assert_int_equal(HW_GET(INV_PGRESP, LPIG, q), 0);
    assert_int_equal(HW_GET(INV_PGRESP, PDP, q), 1);
    assert_int_equal(HW_GET(INV_PGRESP, RC, q), VTD_PRG_SUCCESS);
    assert_true(q[2] == pd0 && q[3] == pd1);
    /* answered once: the same response again reaches nothing */
    vg_qi(&g, r, 1);
    viommu_stats(g.v, &s);
    assert_int_equal(s.page_responses, 1);
    vg_fini(&g);
    host_destroy(h);
}

const struct CMUnitTest viommu_events_tests[4] = {
    cmocka_unit_test(test_private_data),
    cmocka_unit_test(test_fault_event),
    cmocka_unit_test(test_prq_overflow),
    cmocka_unit_test(test_assign_refusals),
};
