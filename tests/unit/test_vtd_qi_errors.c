/* Invalidation queue errors (vtd-reference.md §1.9, §1.12 IQERCD, §4.9,
 * §5.3): every IQEI code. A bad descriptor leaves IQH AT it, sets FSTS.IQE
 * and IQERCD.IQEI and raises the fault event; nothing after it is processed
 * (not even after more IQT writes) until software clears IQE, which it does
 * the way Linux 6.1 qi_check_fault() does: it reads IQH, copies its wait
 * descriptor over the bad slot and writes FSTS.IQE; processing then resumes
 * at IQH. Device-TLB time-outs (ITE) and ICE are in test_vtd_qi_devtlb.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#define VTD_QI_FIXTURE_IMPL
#include "vtd_qi_fixture.c"

enum geo { LEG128, SM256, SM128, LEGTTM256 };
static const struct qx_opts geo_opts[] = {
    [LEG128] = { .legacy = true },
    [SM256] = { .ttm = 1, .dw = true },
    [SM128] = { .ttm = 1, .dw = false },
    [LEGTTM256] = { .ttm = 0, .dw = true },   /* scalable-capable unit in legacy mode */
};

/* A descriptor of `type` with every field zero except a sane granularity. */
static void base_desc(uint64_t d[4], unsigned type)
{
    struct vtd_page_resp r = { .sid = 0x0100, .rc = VTD_PRG_SUCCESS };
    switch (type) {
    case 1: qd_cc(d, 1, 0, 0, 0); break;
    case 2: qd_iotlb(d, 1, 0, 0, 0, false); break;
    case 3: qd_devtlb(d, 0x0100, 0, false); break;
    case 4: qd_iec(d, false, 0, 0); break;
    case 5: qd_wait(d, QD_FN, 0, 0); break;
    case 6: qd_piotlb(d, 2, 1, 1, 0, 0, false); break;
    case 7: qd_pc(d, 3, 0, 0); break;
    case 8: qd_pdevtlb(d, 0x0100, 1, false, 0, false); break;
    case 9: qd_pgresp(d, &r); break;
    default:
        memset(d, 0, 32);
        HW_SET(INV_DESC, TYPE_LO, d, type & 0xF);
        HW_SET(INV_DESC, TYPE_HI, d, type >> 4);
        break;
    }
}

enum edit { NONE, BIT, FIELD };
struct ecase {
    const char *c;
    enum geo geo;
    uint64_t ecap_clr, ecap_set, cap_clr;
    unsigned type;
    enum edit edit;
    unsigned bit;          /* BIT: absolute bit set; FIELD: which field (below) */
    uint64_t val;
    unsigned iqei;         /* 0: accepted */
};

/* FIELD edits */
enum { F_CC_G, F_IOTLB_G, F_IOTLB_DW, F_IOTLB_DR, F_DT_PFSID_LO, F_DT_PFSID_HI, F_PDT_PFSID,
       F_PI_G, F_PC_G, F_WAIT_PD, F_PR_RC, F_PR_PDP, F_PR_PDP_DATA, F_DT_MIP };

static void apply_field(uint64_t d[4], unsigned f, uint64_t v)
{
    switch (f) {
    case F_CC_G: HW_SET(INV_CC, G, d, v); break;
    case F_IOTLB_G: HW_SET(INV_IOTLB, G, d, v); break;
    case F_IOTLB_DW: HW_SET(INV_IOTLB, DW, d, v); break;
    case F_IOTLB_DR: HW_SET(INV_IOTLB, DR, d, v); break;
    case F_DT_PFSID_LO: HW_SET(INV_DEVTLB, PFSID_LO, d, v); break;
    case F_DT_PFSID_HI: HW_SET(INV_DEVTLB, PFSID_HI, d, v); break;
    case F_PDT_PFSID: HW_SET(INV_PDEVTLB, PFSID_LO, d, v); HW_SET(INV_PDEVTLB, PFSID_HI, d, v); break;
    case F_PI_G: HW_SET(INV_PIOTLB, G, d, v); break;
    case F_PC_G: HW_SET(INV_PC, G, d, v); break;
    case F_WAIT_PD: HW_SET(INV_WAIT, PD, d, v); break;
    case F_PR_RC: HW_SET(INV_PGRESP, RC, d, v); break;
    case F_PR_PDP: HW_SET(INV_PGRESP, PDP, d, v); break;
    case F_PR_PDP_DATA: HW_SET(INV_PGRESP, PDP, d, 1); d[2] = v, d[3] = ~v; break;
    case F_DT_MIP: HW_SET(INV_DEVTLB, MIP, d, v); break;
    default: fail_msg("unknown field edit %u", f);
    }
}

#define IR   HW_FM(ECAP, IR)
#define DT   HW_FM(ECAP, DT)
#define PRS  HW_FM(ECAP, PRS)
#define PDS  HW_FM(ECAP, PDS)
#define DIT  HW_FM(ECAP, DIT)

static const struct ecase ecases[] = {
    /* IQEI 3: invalid type */
    { "type 0", SM256, 0, 0, 0, 0x0, NONE, 0, 0, 3 },
    { "type 0xA (rev-2 page stream response)", SM256, 0, 0, 0, 0xA, NONE, 0, 0, 3 },
    { "type 0xF", LEG128, 0, 0, 0, 0xF, NONE, 0, 0, 3 },
    { "type 0x11 (TYPE_HI = 1)", SM256, 0, 0, 0, 0x11, NONE, 0, 0, 3 },
    { "type 0x71 (TYPE_HI = 7)", LEG128, 0, 0, 0, 0x71, NONE, 0, 0, 3 },
    { "IEC without ECAP.IR", SM256, 0, 0, 0, 4, NONE, 0, 0, 3 },
    { "IEC without ECAP.IR, legacy unit", LEG128, 0, 0, 0, 4, NONE, 0, 0, 3 },
    { "device-TLB without ECAP.DT", LEG128, DT, 0, 0, 3, NONE, 0, 0, 3 },
    { "PASID device-TLB without ECAP.DT", SM256, DT, 0, 0, 8, NONE, 0, 0, 3 },
    { "page response without ECAP.PRS", SM256, PRS, 0, 0, 9, NONE, 0, 0, 3 },
    { "PASID-IOTLB on a legacy-only unit", LEG128, 0, 0, 0, 6, NONE, 0, 0, 3 },
    { "PASID-cache on a legacy-only unit", LEG128, 0, 0, 0, 7, NONE, 0, 0, 3 },
    /* IQEI 4: reserved bits */
    { "CC QW0 bit 6", LEG128, 0, 0, 0, 1, BIT, 6, 0, 4 },
    { "CC QW0 bit 12", SM256, 0, 0, 0, 1, BIT, 12, 0, 4 },
    { "CC QW0 bit 50", SM256, 0, 0, 0, 1, BIT, 50, 0, 4 },
    { "CC QW1 bit 0", LEG128, 0, 0, 0, 1, BIT, 64, 0, 4 },
    { "IOTLB QW0 bit 8", LEG128, 0, 0, 0, 2, BIT, 8, 0, 4 },
    { "IOTLB QW0 bit 32", SM256, 0, 0, 0, 2, BIT, 32, 0, 4 },
    { "IOTLB QW1 bit 7", SM256, 0, 0, 0, 2, BIT, 71, 0, 4 },
    { "device-TLB QW0 bit 4", SM256, 0, 0, 0, 3, BIT, 4, 0, 4 },
    { "device-TLB QW0 bit 21", LEG128, 0, 0, 0, 3, BIT, 21, 0, 4 },
    { "device-TLB QW0 bit 48", SM256, 0, 0, 0, 3, BIT, 48, 0, 4 },
    { "device-TLB QW1 bit 1", SM256, 0, 0, 0, 3, BIT, 65, 0, 4 },
    { "IEC QW0 bit 5 (with IR)", LEG128, 0, IR, 0, 4, BIT, 5, 0, 4 },
    { "IEC QW1 bit 0 (with IR)", LEG128, 0, IR, 0, 4, BIT, 64, 0, 4 },
    { "wait QW0 bit 8", LEG128, 0, 0, 0, 5, BIT, 8, 0, 4 },
    { "wait QW0 bit 12", SM256, 0, 0, 0, 5, BIT, 12, 0, 4 },
    { "wait QW1 bit 0 (status address not dword aligned)", SM256, 0, 0, 0, 5, BIT, 64, 0, 4 },
    { "PASID-IOTLB QW0 bit 52", SM256, 0, 0, 0, 6, BIT, 52, 0, 4 },
    { "PASID-IOTLB QW1 bit 7", SM128, 0, 0, 0, 6, BIT, 71, 0, 4 },
    { "PASID-cache QW0 bit 6", SM256, 0, 0, 0, 7, BIT, 6, 0, 4 },
    { "PASID-cache QW1 bit 0", SM256, 0, 0, 0, 7, BIT, 64, 0, 4 },
    { "PASID device-TLB QW1 bit 1", SM256, 0, 0, 0, 8, BIT, 65, 0, 4 },
    { "page response QW0 bit 6", SM256, 0, 0, 0, 9, BIT, 6, 0, 4 },
    { "page response QW0 bit 52", SM256, 0, 0, 0, 9, BIT, 52, 0, 4 },
    { "page response QW1 bit 0", SM256, 0, 0, 0, 9, BIT, 64, 0, 4 },
    { "page response QW1 bit 12", SM256, 0, 0, 0, 9, BIT, 76, 0, 4 },
    { "CC QW2 bit 0 (256-bit)", SM256, 0, 0, 0, 1, BIT, 128, 0, 4 },
    { "CC QW3 bit 63 (256-bit)", SM256, 0, 0, 0, 1, BIT, 255, 0, 4 },
    { "IOTLB QW2 bit 5 (256-bit)", LEGTTM256, 0, 0, 0, 2, BIT, 133, 0, 4 },
    { "device-TLB QW3 bit 0 (256-bit)", SM256, 0, 0, 0, 3, BIT, 192, 0, 4 },
    { "wait QW2 bit 63 (256-bit)", SM256, 0, 0, 0, 5, BIT, 191, 0, 4 },
    { "PASID-IOTLB QW3 bit 9 (256-bit)", SM256, 0, 0, 0, 6, BIT, 201, 0, 4 },
    { "PASID-cache QW2 bit 0 (256-bit)", SM256, 0, 0, 0, 7, BIT, 128, 0, 4 },
    { "PASID device-TLB QW3 bit 63 (256-bit)", SM256, 0, 0, 0, 8, BIT, 255, 0, 4 },
    { "page response without PDP, QW2 set (256-bit)", SM256, 0, 0, 0, 9, BIT, 130, 0, 4 },
    { "CC granularity 0", LEG128, 0, 0, 0, 1, FIELD, F_CC_G, 0, 4 },
    { "IOTLB granularity 0", SM256, 0, 0, 0, 2, FIELD, F_IOTLB_G, 0, 4 },
    { "PASID-IOTLB granularity 0", SM256, 0, 0, 0, 6, FIELD, F_PI_G, 0, 4 },
    { "PASID-IOTLB granularity 1", SM256, 0, 0, 0, 6, FIELD, F_PI_G, 1, 4 },
    { "PASID-cache granularity 2", SM256, 0, 0, 0, 7, FIELD, F_PC_G, 2, 4 },
    { "IOTLB DW without CAP.DWD", LEG128, 0, 0, 0, 2, FIELD, F_IOTLB_DW, 1, 4 },
    { "IOTLB DR without CAP.DRD", LEG128, 0, 0, 0, 2, FIELD, F_IOTLB_DR, 1, 4 },
    { "IOTLB DW without CAP.DWD (custom)", SM256, 0, 0, HW_FM(CAP, DWD), 2, FIELD, F_IOTLB_DW, 1, 4 },
    { "device-TLB PFSID[3:0] without ECAP.DIT", SM256, 0, 0, 0, 3, FIELD, F_DT_PFSID_LO, 1, 4 },
    { "device-TLB PFSID[15:4] without ECAP.DIT", LEG128, 0, 0, 0, 3, FIELD, F_DT_PFSID_HI, 1, 4 },
    { "PASID device-TLB PFSID without ECAP.DIT", SM256, 0, 0, 0, 8, FIELD, F_PDT_PFSID, 1, 4 },
    { "wait PD without ECAP.PDS", SM256, PDS, 0, 0, 5, FIELD, F_WAIT_PD, 1, 4 },
    { "page response RC 2", SM256, 0, 0, 0, 9, FIELD, F_PR_RC, 2, 4 },
    { "page response RC 0xE", SM256, 0, 0, 0, 9, FIELD, F_PR_RC, 0xE, 4 },
    /* IQEI 5: private data in a 128-bit queue */
    { "page response PDP=1 in a 128-bit queue", SM128, 0, 0, 0, 9, FIELD, F_PR_PDP, 1, 5 },
    /* IQEI 7: scalable-mode descriptor while TTM is legacy */
    { "PASID-IOTLB with TTM=00", LEGTTM256, 0, 0, 0, 6, NONE, 0, 0, 7 },
    { "PASID-cache with TTM=00", LEGTTM256, 0, 0, 0, 7, NONE, 0, 0, 7 },
    { "PASID device-TLB with TTM=00", LEGTTM256, 0, 0, 0, 8, NONE, 0, 0, 7 },
    { "page response with TTM=00", LEGTTM256, 0, 0, 0, 9, NONE, 0, 0, 7 },
    /* Accepted: the same fields where the capability or mode allows them */
    { "device-TLB PFSID with ECAP.DIT", SM256, 0, DIT, 0, 3, FIELD, F_DT_PFSID_HI, 0xABC, 0 },
    { "PASID device-TLB PFSID with ECAP.DIT", SM256, 0, DIT, 0, 8, FIELD, F_PDT_PFSID, 5, 0 },
    { "device-TLB MIP 31", LEG128, 0, 0, 0, 3, FIELD, F_DT_MIP, 31, 0 },
    { "IOTLB DW|DR with CAP.DWD|DRD", SM256, 0, 0, 0, 2, FIELD, F_IOTLB_DW, 1, 0 },
    { "page response PDP=1 with data (256-bit)", SM256, 0, 0, 0, 9, FIELD, F_PR_PDP_DATA,
      0x1122334455667788ULL, 0 },
    { "page response RC 0xF", SM256, 0, 0, 0, 9, FIELD, F_PR_RC, 0xF, 0 },
    { "page response in a 128-bit queue, no PDP", SM128, 0, 0, 0, 9, NONE, 0, 0, 0 },
    { "PASID-cache granularity 3", SM128, 0, 0, 0, 7, FIELD, F_PC_G, 3, 0 },
    { "CC and IOTLB with TTM=00 on a scalable unit", LEGTTM256, 0, 0, 0, 2, NONE, 0, 0, 0 },
    { "device-TLB with TTM=01", SM256, 0, 0, 0, 3, NONE, 0, 0, 0 },
};

/* [wait A][bad][wait B] in one IQT write: A done, IQH at the bad one, B
 * not; another IQT write changes nothing; Linux copies its wait over the
 * bad slot and clears IQE: B, the copy and what came later complete. */
static void run_ecase(const struct ecase *e)
{
    qx_case = e->c;
    struct qx x;
    struct qx_opts o = geo_opts[e->geo];
    o.ecap_clr = e->ecap_clr, o.ecap_set = e->ecap_set, o.cap_clr = e->cap_clr;
    qx_init(&x, &o);
    uint64_t a = qx_status_slot(&x), b = qx_status_slot(&x), c2 = qx_status_slot(&x);
    uint64_t wa[4], wb[4], wc[4], bad[4];
    qd_wait(wa, QD_SW, QX_QI_DONE, a);
    qd_wait(wb, QD_SW, QX_QI_DONE, b);
    qd_wait(wc, QD_SW, QX_QI_DONE, c2);
    base_desc(bad, e->type);
    if (e->edit == BIT)
        bad[e->bit / 64] |= 1ULL << (e->bit % 64);
    else if (e->edit == FIELD)
        apply_field(bad, e->bit, e->val);
    qx_put(&x, wa);
    uint32_t bad_at = x.tail;
    qx_put(&x, bad);
    qx_put(&x, wb);
    qx_ring(&x);
    QX_EQ(e->c, "wait before the descriptor", qx_rd32(&x, a), QX_QI_DONE);
    if (!e->iqei) {
        QX_EQ(e->c, "accepted: FSTS", qx_rd(&x, REG_OFF_FSTS, 4), 0);
        QX_EQ(e->c, "accepted: wait after it", qx_rd32(&x, b), QX_QI_DONE);
        QX_EQ(e->c, "accepted: IQH", qx_iqh(&x), 3 * x.dsz);
        QX_EQ(e->c, "accepted: fault MSIs", x.msi[QX_EV_FAULT], 0);
        qx_fini(&x);
        return;
    }
    qx_expect_iqe(&x, e->c, e->iqei, bad_at);
    QX_EQ(e->c, "wait after the bad descriptor", qx_rd32(&x, b), QX_QI_IN_USE);
    QX_EQ(e->c, "fault MSIs", x.msi[QX_EV_FAULT], 1);
    QX_EQ(e->c, "fault MSI address", x.last_msi_addr, QX_FE_ADDR);
    qx_put(&x, wc);
    qx_ring(&x);
    qx_expect_iqe(&x, e->c, e->iqei, bad_at);
    QX_EQ(e->c, "wait queued while IQE is set", qx_rd32(&x, c2), QX_QI_IN_USE);
    /* Linux qi_check_fault: IQH (32-bit) names the bad index; the wait
     * descriptor is copied over it; FSTS.IQE is written. */
    QX_EQ(e->c, "IQH >> shift is the bad index", qx_iqh(&x) >> (x.dw ? 5 : 4), bad_at / x.dsz);
    qx_put_at(&x, qx_iqh(&x), wb);
    QX_OK(mem_write32(x.mem, b, QX_QI_IN_USE));
    qx_wr(&x, REG_OFF_FSTS, 4, HW_FM(FSTS, IQE));
    QX_EQ(e->c, "after IQE cleared: FSTS", qx_rd(&x, REG_OFF_FSTS, 4), 0);
    QX_EQ(e->c, "after IQE cleared: the copied wait", qx_rd32(&x, b), QX_QI_DONE);
    QX_EQ(e->c, "after IQE cleared: the later wait", qx_rd32(&x, c2), QX_QI_DONE);
    QX_EQ(e->c, "after IQE cleared: IQH = IQT", qx_iqh(&x), x.tail);
    QX_EQ(e->c, "fault MSIs in all", x.msi[QX_EV_FAULT], 1);
    qx_fini(&x);
}

static void test_iqei_descriptors(void **state)
{
    (void)state;
    qx_case = "test_iqei_descriptors";
    for (unsigned i = 0; i < sizeof(ecases) / sizeof(ecases[0]); i++)
        run_ecase(&ecases[i]);
}

/* IQEI 1 (§1.12): IQT beyond the queue. IQH stays; nothing is fetched; a
 * valid IQT written while IQE is set is acted on only when IQE is cleared. */
static void test_iqei_tail(void **state)
{
    (void)state;
    qx_case = "test_iqei_tail";
    for (unsigned g = 0; g < 2; g++) {
        const char *c = g ? "IQT beyond a 256-bit queue" : "IQT beyond a 128-bit queue";
        struct qx x;
        qx_init(&x, &geo_opts[g ? SM256 : LEG128]);
        QX_TRUE(c, "first wait", qx_sync(&x));
        uint64_t st = qx_status_slot(&x), d[4];
        qd_wait(d, QD_SW, QX_QI_DONE, st);
        qx_put(&x, d);
        qx_wr(&x, REG_OFF_IQT, 4, x.qsize);          /* 0x1000: one past the end */
        qx_expect_iqe(&x, c, 1, x.dsz);
        QX_EQ(c, "queued wait", qx_rd32(&x, st), QX_QI_IN_USE);
        QX_EQ(c, "fault MSIs", x.msi[QX_EV_FAULT], 1);
        qx_ring(&x);                                 /* the right tail */
        QX_EQ(c, "IQT rewritten under IQE: nothing processed", qx_rd32(&x, st), QX_QI_IN_USE);
        qx_clear_fsts(&x, HW_FM(FSTS, IQE));
        QX_EQ(c, "after IQE cleared", qx_rd32(&x, st), QX_QI_DONE);
        QX_EQ(c, "IQH", qx_iqh(&x), 2 * x.dsz);
        /* A queue shrunk under a tail: QS=1 -> 0 with IQT in the second page. */
        qx_fini(&x);
    }
    struct qx x;
    struct qx_opts o = { .ttm = 1, .dw = true, .qs = 1 };
    const char *c = "queue shrunk (QS 1 -> 0) below IQT";
    qx_init(&x, &o);
    for (unsigned i = 0; i < 130; i++)
        QX_TRUE(c, "waits into the second page", qx_sync(&x));
    qx_wr(&x, REG_OFF_IQA, 8, x.iq | HW_FMK(IQA, DW, 1));
    uint64_t d[4];
    qd_wait(d, QD_FN, 0, 0);
    qx_submit(&x, d);
    qx_expect_iqe(&x, c, 1, 130 * 32);
    qx_fini(&x);
}

/* IQEI 2: the descriptor cannot be fetched. A queue of two pages whose
 * second page lies beyond the end of memory: the first page is processed,
 * the head stops at the page boundary. A queue wholly outside memory stops
 * at its first descriptor. Disabling QI (IQH <- 0) and Linux's re-enable
 * recover. */
static void test_iqei_fetch(void **state)
{
    (void)state;
    qx_case = "test_iqei_fetch";
    struct qx x;
    struct qx_opts o = { .ttm = 1, .dw = true };
    const char *c = "queue crossing the end of memory";
    qx_init(&x, &o);
    uint64_t last = HPA_INVALID;
    while ((last = mem_frame_alloc(x.mem)) != QX_END - PAGE_SIZE)
        QX_CHECK(last != HPA_INVALID);
    x.iq = last, x.qsize = 8192, x.tail = 0;
    qx_wr(&x, REG_OFF_IQA, 8, last | HW_FMK(IQA, DW, 1) | HW_FMK(IQA, QS, 1));
    qx_wr(&x, REG_OFF_IQT, 4, 0);
    qx_wr(&x, REG_OFF_GCMD, 4, (uint32_t)HW_FM(GCMD, TE));
    qx_wr(&x, REG_OFF_GCMD, 4, (uint32_t)(HW_FM(GCMD, TE) | HW_FM(GCMD, QIE)));
    uint64_t d[4], st = qx_status_slot(&x);
    for (unsigned i = 0; i < 128; i++) {
        qd_wait(d, i == 127 ? QD_SW : QD_FN, QX_QI_DONE, st);
        qx_put(&x, d);
    }
    qx_wr(&x, REG_OFF_IQT, 4, 4096 + 64);            /* two more, beyond memory */
    QX_EQ(c, "last wait of the first page", qx_rd32(&x, st), QX_QI_DONE);
    qx_expect_iqe(&x, c, 2, 4096);
    QX_EQ(c, "fault MSIs", x.msi[QX_EV_FAULT], 1);
    qx_wr(&x, REG_OFF_GCMD, 4, (uint32_t)HW_FM(GCMD, TE));       /* QIE off: IQH <- 0 */
    QX_EQ(c, "IQH after QIE cleared", qx_iqh(&x), 0);
    qx_clear_fsts(&x, HW_FM(FSTS, IQE));
    qx_enable_qi(&x, 0, true);
    QX_TRUE(c, "a fresh queue works", qx_sync(&x));

    c = "queue wholly outside memory";
    qx_wr(&x, REG_OFF_IQA, 8, QX_OUTSIDE | HW_FMK(IQA, DW, 1));
    qx_wr(&x, REG_OFF_IQT, 4, qx_iqh(&x) + 32);
    qx_expect_iqe(&x, c, 2, 32);
    qx_fini(&x);
}

/* IQEI 6: with DW=1 IQT bit 4 must be 0. Also a head left at a 16-byte
 * boundary by a 128-bit queue when software switches IQA to DW=1. */
static void test_iqei_misaligned_tail(void **state)
{
    (void)state;
    qx_case = "test_iqei_misaligned_tail";
    struct qx x;
    const char *c = "IQT bit 4 set with DW=1";
    qx_init(&x, &geo_opts[SM256]);
    uint64_t d[4], st = qx_status_slot(&x);
    qd_wait(d, QD_SW, QX_QI_DONE, st);
    qx_put(&x, d);
    qx_wr(&x, REG_OFF_IQT, 4, 0x10);
    qx_expect_iqe(&x, c, 6, 0);
    QX_EQ(c, "nothing processed", qx_rd32(&x, st), QX_QI_IN_USE);
    QX_EQ(c, "fault MSIs", x.msi[QX_EV_FAULT], 1);
    qx_ring(&x);                                     /* 0x20 */
    qx_clear_fsts(&x, HW_FM(FSTS, IQE));
    QX_EQ(c, "after IQE cleared with a good tail", qx_rd32(&x, st), QX_QI_DONE);
    QX_EQ(c, "FSTS", qx_rd(&x, REG_OFF_FSTS, 4), 0);
    qx_wr(&x, REG_OFF_IQT, 4, 0x30);
    qx_expect_iqe(&x, "IQT 0x30 with DW=1", 6, 0x20);
    QX_EQ(c, "second IQE: second fault MSI", x.msi[QX_EV_FAULT], 2);
    qx_fini(&x);

    c = "IQH at 0x10 when IQA switches to DW=1";
    qx_init(&x, &geo_opts[SM128]);
    QX_TRUE(c, "one 128-bit wait", qx_sync(&x));
    qx_wr(&x, REG_OFF_IQA, 8, x.iq | HW_FMK(IQA, DW, 1));
    qx_wr(&x, REG_OFF_IQT, 4, 0x40);
    qx_expect_iqe(&x, c, 6, 0x10);
    qx_fini(&x);
}

/* The fault event for queue errors (§4.9, §5.3): masked -> FECTL.IP, MSI
 * on unmask; no new event while another fault condition (PPF, ICE) is
 * pending; a new one once everything was cleared. */
static void test_iqe_fault_event(void **state)
{
    (void)state;
    qx_case = "test_iqe_fault_event";
    struct qx x;
    uint64_t d[4];
    const char *c = "IQE with FECTL masked";
    qx_init(&x, &geo_opts[SM256]);
    qx_wr(&x, REG_OFF_FECTL, 4, 0x80000000u);
    base_desc(d, 0);
    qx_submit(&x, d);
    QX_EQ(c, "FECTL (IM|IP)", qx_rd(&x, REG_OFF_FECTL, 4), 0xC0000000u);
    QX_EQ(c, "fault MSIs", x.msi[QX_EV_FAULT], 0);
    qx_wr(&x, REG_OFF_FECTL, 4, 0);
    QX_EQ(c, "unmasked: fault MSIs", x.msi[QX_EV_FAULT], 1);
    QX_EQ(c, "unmasked: FECTL", qx_rd(&x, REG_OFF_FECTL, 4), 0);

    c = "IQE masked, cleared before unmasking";
    base_desc(d, 5);
    qx_put_at(&x, qx_iqh(&x), d);
    qx_clear_fsts(&x, HW_FM(FSTS, IQE));
    qx_wr(&x, REG_OFF_FECTL, 4, 0x80000000u);
    base_desc(d, 0);
    qx_submit(&x, d);
    QX_EQ(c, "FECTL (IM|IP)", qx_rd(&x, REG_OFF_FECTL, 4), 0xC0000000u);
    base_desc(d, 5);
    qx_put_at(&x, qx_iqh(&x), d);
    qx_clear_fsts(&x, HW_FM(FSTS, IQE));
    QX_EQ(c, "IP cleared with the last pending condition", qx_rd(&x, REG_OFF_FECTL, 4),
          0x80000000u);
    qx_wr(&x, REG_OFF_FECTL, 4, 0);
    QX_EQ(c, "no MSI on unmask", x.msi[QX_EV_FAULT], 1);

    c = "IQE while a primary fault is pending";
    base_desc(d, 5);
    qx_put_at(&x, qx_iqh(&x), d);
    qx_clear_fsts(&x, HW_FM(FSTS, IQE));
    struct vtd_req r = { .sid = 0x0900, .addr = 0x1000 };
    struct vtd_result res;
    vtd_translate(x.u, &r, &res);
    QX_TRUE(c, "DMA fault recorded", res.recorded);
    QX_EQ(c, "fault MSIs after the DMA fault", x.msi[QX_EV_FAULT], 2);
    base_desc(d, 0);
    qx_submit(&x, d);
    QX_EQ(c, "FSTS (PPF|IQE)", qx_rd(&x, REG_OFF_FSTS, 4) & 0x72, 0x12);
    QX_EQ(c, "no second event", x.msi[QX_EV_FAULT], 2);

    c = "IQE while ICE is pending";
    base_desc(d, 5);
    qx_put_at(&x, qx_iqh(&x), d);
    qx_clear_fsts(&x, HW_FM(FSTS, IQE));
    uint32_t frcd = (uint32_t)HW_FV(CAP, FRO, x.cfg.cap) * 16;
    qx_wr(&x, frcd + 12, 4, 0x80000000u);           /* W1C F, as Linux dmar_fault() */
    QX_EQ(c, "FSTS clear", qx_rd(&x, REG_OFF_FSTS, 4), 0);
    vtd_ats_unexpected_completion(x.u, 0x0123);
    QX_EQ(c, "ICE event", x.msi[QX_EV_FAULT], 3);
    base_desc(d, 0);
    qx_submit(&x, d);
    QX_EQ(c, "FSTS (ICE|IQE)", qx_rd(&x, REG_OFF_FSTS, 4), 0x30);
    QX_EQ(c, "no event for IQE", x.msi[QX_EV_FAULT], 3);

    c = "IQE after every condition was cleared";
    base_desc(d, 5);
    qx_put_at(&x, qx_iqh(&x), d);
    qx_clear_fsts(&x, HW_FM(FSTS, IQE) | HW_FM(FSTS, ICE));
    QX_EQ(c, "FSTS clear", qx_rd(&x, REG_OFF_FSTS, 4), 0);
    base_desc(d, 0);
    qx_submit(&x, d);
    QX_EQ(c, "event again", x.msi[QX_EV_FAULT], 4);
    qx_fini(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iqei_descriptors),
        cmocka_unit_test(test_iqei_tail),
        cmocka_unit_test(test_iqei_fetch),
        cmocka_unit_test(test_iqei_misaligned_tail),
        cmocka_unit_test(test_iqe_fault_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
