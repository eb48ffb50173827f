/* Queued invalidation, the queue itself (vtd-reference.md §1.12, §4.1,
 * §4.7; os-driver-behaviour.md §2.1): 128- and 256-bit queues, IQH
 * advance, wrap-around at the queue end, the wait descriptor (status write,
 * IF -> ICS.IWC and the invalidation-completion MSI on the 0->1 transition
 * only, IM/IP masking, FN/PD), QIE enable/disable, IQA and IQT writes, and
 * a hostile queue. What each descriptor invalidates is in
 * test_vtd_qi_inv.c, the error paths in test_vtd_qi_errors.c, device-TLB
 * invalidation in test_vtd_qi_devtlb.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#define VTD_QI_FIXTURE_IMPL
#include "vtd_qi_fixture.c"

/* The three queue geometries software can pick: a legacy unit's 128-bit
 * queue, Linux's 256-bit queue on a scalable unit, and a 128-bit queue on a
 * scalable unit in scalable mode (DW=0 is allowed there). */
static const struct {
    const char *name;
    struct qx_opts o;
} geom[] = {
    { "legacy unit, 128-bit", { .legacy = true, .ttm = 0, .dw = false, .qs = 0 } },
    { "scalable unit, 256-bit", { .ttm = 1, .dw = true, .qs = 0 } },
    { "scalable unit, 128-bit", { .ttm = 1, .dw = false, .qs = 0 } },
    { "scalable unit, 256-bit, QS=1", { .ttm = 1, .dw = true, .qs = 1 } },
};
#define NGEOM (sizeof(geom) / sizeof(geom[0]))

/* N wait descriptors with distinct data to distinct status words, one IQT
 * write: every status written, IQH = IQT = N descriptors in (§4.1). */
static void test_batch_processed(void **state)
{
    (void)state;
    qx_case = "test_batch_processed";
    for (unsigned g = 0; g < NGEOM; g++) {
        qx_case = geom[g].name;
        struct qx x;
        uint64_t st[12], d[4];
        qx_init(&x, &geom[g].o);
        QX_EQ(geom[g].name, "IQA.DW", HW_FV(IQA, DW, qx_rd(&x, REG_OFF_IQA, 8)), geom[g].o.dw);
        for (unsigned i = 0; i < 12; i++) {
            st[i] = qx_status_slot(&x);
            qd_wait(d, QD_SW, 0xC0DE0000u + i, st[i]);
            qx_put(&x, d);
        }
        QX_EQ(geom[g].name, "IQH before IQT write", qx_iqh(&x), 0);
        QX_EQ(geom[g].name, "status before IQT write", qx_rd32(&x, st[0]), QX_QI_IN_USE);
        qx_ring(&x);
        for (unsigned i = 0; i < 12; i++)
            QX_EQ(geom[g].name, "status word", qx_rd32(&x, st[i]), 0xC0DE0000u + i);
        QX_EQ(geom[g].name, "IQH (32-bit)", qx_iqh(&x), 12 * x.dsz);
        QX_EQ(geom[g].name, "IQH (64-bit)", qx_rd(&x, REG_OFF_IQH, 8), 12 * x.dsz);
        QX_EQ(geom[g].name, "IQT", qx_rd(&x, REG_OFF_IQT, 8), 12 * x.dsz);
        QX_EQ(geom[g].name, "FSTS", qx_rd(&x, REG_OFF_FSTS, 4), 0);
        qx_fini(&x);
    }
}

/* One descriptor per IQT write: IQH follows IQT by one descriptor size each
 * time; an IQT write that does not move the tail processes nothing. */
static void test_iqh_advance(void **state)
{
    (void)state;
    qx_case = "test_iqh_advance";
    for (unsigned g = 0; g < NGEOM; g++) {
        qx_case = geom[g].name;
        struct qx x;
        char c[96];
        qx_init(&x, &geom[g].o);
        for (unsigned i = 1; i <= 5; i++) {
            snprintf(c, sizeof(c), "%s, descriptor %u", geom[g].name, i);
            QX_TRUE(c, "wait completes", qx_sync(&x));
            QX_EQ(c, "IQH", qx_iqh(&x), i * x.dsz);
        }
        uint64_t st = qx_status_slot(&x), d[4];
        qd_wait(d, QD_SW, 7, st);
        qx_put_at(&x, x.tail, d);           /* written but the tail not moved */
        qx_ring(&x);
        QX_EQ(geom[g].name, "status of a slot at IQT", qx_rd32(&x, st), QX_QI_IN_USE);
        QX_EQ(geom[g].name, "IQH unchanged", qx_iqh(&x), 5 * x.dsz);
        qx_fini(&x);
    }
}

/* Wrap-around (§1.12): the head wraps to 0 at the queue end; a batch that
 * crosses the end is processed in order; the largest batch (entries - 1)
 * goes in one IQT write; a batch ending exactly at the end leaves IQT = 0. */
static void test_wrap_around(void **state)
{
    (void)state;
    qx_case = "test_wrap_around";
    for (unsigned g = 0; g < NGEOM; g++) {
        qx_case = geom[g].name;
        struct qx x;
        uint64_t d[4], st[40];
        const char *c = geom[g].name;
        qx_init(&x, &geom[g].o);
        unsigned n = x.qsize / x.dsz;
        for (unsigned i = 0; i < n - 10; i++) {
            qd_wait(d, QD_FN, 0, 0);
            qx_put(&x, d);
        }
        qx_ring(&x);
        QX_EQ(c, "IQH near the end", qx_iqh(&x), (n - 10) * x.dsz);
        for (unsigned i = 0; i < 30; i++) {
            st[i] = qx_status_slot(&x);
            qd_wait(d, QD_SW, 0x100 + i, st[i]);
            qx_put(&x, d);
        }
        qx_ring(&x);
        QX_EQ(c, "IQT after the wrap", qx_rd(&x, REG_OFF_IQT, 4), 20 * x.dsz);
        QX_EQ(c, "IQH after the wrap", qx_iqh(&x), 20 * x.dsz);
        for (unsigned i = 0; i < 30; i++)
            QX_EQ(c, "status across the wrap", qx_rd32(&x, st[i]), 0x100 + i);
        /* A full queue's worth minus one, ending exactly at the end. */
        unsigned batch = n - 20;
        x.nstatus = 0;
        for (unsigned i = 0; i < batch; i++) {
            qd_wait(d, QD_SW, 0x5000 + i, x.status + 4 * (i % 1024));
            qx_put(&x, d);
        }
        qx_ring(&x);
        QX_EQ(c, "IQT at the end wraps to 0", qx_rd(&x, REG_OFF_IQT, 4), 0);
        QX_EQ(c, "IQH at the end wraps to 0", qx_iqh(&x), 0);
        QX_EQ(c, "last status", qx_rd32(&x, x.status + 4 * ((batch - 1) % 1024)),
              0x5000 + batch - 1);
        for (unsigned i = 0; i < n - 1; i++) {
            qd_wait(d, QD_SW, 0x9000 + i, x.status + 4 * (i % 1024));
            qx_put(&x, d);
        }
        qx_ring(&x);
        QX_EQ(c, "largest batch: IQH", qx_iqh(&x), (n - 1) * x.dsz);
        QX_EQ(c, "largest batch: last status", qx_rd32(&x, x.status + 4 * ((n - 2) % 1024)),
              0x9000 + n - 2);
        QX_EQ(c, "FSTS", qx_rd(&x, REG_OFF_FSTS, 4), 0);
        qx_fini(&x);
    }
}

/* The wait descriptor's status write (§4.7): exactly the 32-bit STDATA at
 * STADDR, nothing around it; no write without SW; a status address
 * outside memory is dropped (decision in qi.c) and the queue goes on. */
static void test_wait_status_write(void **state)
{
    (void)state;
    qx_case = "test_wait_status_write";
    struct qx x;
    struct qx_opts o = { .ttm = 1, .dw = true };
    uint64_t d[4], page = 0;
    qx_init(&x, &o);
    page = qx_frame(&x);
    QX_OK(mem_write64(x.mem, page, ~0ULL));
    QX_OK(mem_write64(x.mem, page + 8, ~0ULL));
    qd_wait(d, QD_SW, 0xDEADBEEF, page + 4);
    qx_submit(&x, d);
    uint64_t lo = 0, hi = 0;
    QX_OK(mem_read64(x.mem, page, &lo));
    QX_OK(mem_read64(x.mem, page + 8, &hi));
    QX_EQ("status write at +4", "qword 0", lo, 0xDEADBEEFFFFFFFFFULL);
    QX_EQ("status write at +4", "qword 1 untouched", hi, ~0ULL);

    qd_wait(d, 0, 0x1234, page + 8);
    qx_submit(&x, d);
    QX_EQ("SW=0", "no status write", qx_rd32(&x, page + 8), 0xFFFFFFFFu);

    qd_wait(d, QD_SW, 0x77, QX_END - 4);
    qx_submit(&x, d);
    QX_EQ("status at the last dword of memory", "written", qx_rd32(&x, QX_END - 4), 0x77);

    uint64_t st = qx_status_slot(&x);
    qd_wait(d, QD_SW, 0x55, QX_OUTSIDE);
    qx_put(&x, d);
    qd_wait(d, QD_SW, 0x66, QX_END);
    qx_put(&x, d);
    qd_wait(d, QD_SW, QX_QI_DONE, st);
    qx_submit(&x, d);
    QX_EQ("status outside memory", "FSTS (no error)", qx_rd(&x, REG_OFF_FSTS, 4), 0);
    QX_EQ("status outside memory", "IQH past all three", qx_iqh(&x), 6 * 32);
    QX_EQ("status outside memory", "the following wait completes", qx_rd32(&x, st), QX_QI_DONE);
    qx_fini(&x);
}

static uint32_t ics(struct qx *x) { return (uint32_t)qx_rd(x, REG_OFF_ICS, 4); }
static uint32_t iectl(struct qx *x) { return (uint32_t)qx_rd(x, REG_OFF_IECTL, 4); }

static void submit_wait(struct qx *x, unsigned flags)
{
    uint64_t d[4];
    qd_wait(d, flags, QX_QI_DONE, (flags & QD_SW) ? qx_status_slot(x) : 0);
    qx_submit(x, d);
}

/* IF (§1.10, §4.7, §5.3): ICS.IWC is set and the invalidation-completion
 * MSI (IEADDR/IEDATA) sent only when IWC goes 0 -> 1; W1C of IWC re-arms. */
static void test_if_iwc_event(void **state)
{
    (void)state;
    qx_case = "test_if_iwc_event";
    struct qx x;
    struct qx_opts o = { .ttm = 1, .dw = true };
    qx_init(&x, &o);
    submit_wait(&x, QD_SW);
    QX_EQ("SW only", "ICS", ics(&x), 0);
    QX_EQ("SW only", "invalidation MSIs", x.msi[QX_EV_INV], 0);
    submit_wait(&x, QD_IF);
    QX_EQ("first IF", "ICS.IWC", ics(&x), 1);
    QX_EQ("first IF", "invalidation MSIs", x.msi[QX_EV_INV], 1);
    QX_EQ("first IF", "MSI address", x.last_msi_addr, QX_IE_ADDR);
    QX_EQ("first IF", "MSI data", x.last_msi_data, QX_IE_DATA);
    submit_wait(&x, QD_IF | QD_SW);
    QX_EQ("second IF, IWC still 1", "invalidation MSIs", x.msi[QX_EV_INV], 1);
    qx_wr(&x, REG_OFF_ICS, 4, 1);
    QX_EQ("W1C IWC", "ICS", ics(&x), 0);
    submit_wait(&x, QD_IF | QD_SW);
    QX_EQ("IF after W1C", "ICS.IWC", ics(&x), 1);
    QX_EQ("IF after W1C", "invalidation MSIs", x.msi[QX_EV_INV], 2);
    QX_EQ("IF", "fault and page-request MSIs", x.msi[QX_EV_FAULT] + x.msi[QX_EV_PRQ] +
          x.msi[QX_EV_OTHER], 0);
    qx_wr(&x, REG_OFF_ICS, 4, 0xFFFFFFFE);
    QX_EQ("writing reserved ICS bits", "ICS", ics(&x), 1);
    qx_fini(&x);
}

/* IECTL.IM (§1.10): a completion while masked sets IP and sends nothing;
 * unmasking sends the MSI and clears IP; clearing IWC while masked clears
 * IP, so unmasking then sends nothing. */
static void test_if_masked(void **state)
{
    (void)state;
    qx_case = "test_if_masked";
    struct qx x;
    struct qx_opts o = { .ttm = 1, .dw = true };
    qx_init(&x, &o);
    qx_wr(&x, REG_OFF_IECTL, 4, 0x80000000u);
    submit_wait(&x, QD_IF);
    QX_EQ("masked IF", "IECTL (IM|IP)", iectl(&x), 0xC0000000u);
    QX_EQ("masked IF", "MSIs", x.msi[QX_EV_INV], 0);
    qx_wr(&x, REG_OFF_IECTL, 4, 0);
    QX_EQ("unmask", "IECTL", iectl(&x), 0);
    QX_EQ("unmask", "MSIs", x.msi[QX_EV_INV], 1);
    qx_wr(&x, REG_OFF_IECTL, 4, 0);
    QX_EQ("unmask again", "MSIs", x.msi[QX_EV_INV], 1);

    qx_wr(&x, REG_OFF_ICS, 4, 1);
    qx_wr(&x, REG_OFF_IECTL, 4, 0x80000000u);
    submit_wait(&x, QD_IF);
    QX_EQ("masked IF 2", "IECTL (IM|IP)", iectl(&x), 0xC0000000u);
    qx_wr(&x, REG_OFF_ICS, 4, 1);
    QX_EQ("IWC cleared while masked", "IECTL (IM only)", iectl(&x), 0x80000000u);
    qx_wr(&x, REG_OFF_IECTL, 4, 0);
    QX_EQ("unmask after IWC cleared", "MSIs", x.msi[QX_EV_INV], 1);
    qx_wr(&x, REG_OFF_IECTL, 4, 0x40000000u);
    QX_EQ("software writes IP", "IECTL (IP is read-only)", iectl(&x), 0);
    qx_fini(&x);
}

/* FN and PD (§4.7): a fence with neither IF nor SW is a pure barrier and is
 * accepted; PD is accepted with ECAP.PDS; every combination completes. */
static void test_fn_pd(void **state)
{
    (void)state;
    qx_case = "test_fn_pd";
    static const struct { const char *c; unsigned flags; } cases[] = {
        { "FN only (barrier)", QD_FN }, { "PD only", QD_PD }, { "FN|SW", QD_FN | QD_SW },
        { "PD|SW (Linux drain)", QD_PD | QD_SW }, { "FN|PD|SW|IF", QD_FN | QD_PD | QD_SW | QD_IF },
        { "no flag at all", 0 },
    };
    struct qx x;
    struct qx_opts o = { .ttm = 1, .dw = true };
    qx_init(&x, &o);
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        qx_case = cases[i].c;
        uint64_t d[4], st = qx_status_slot(&x);
        qx_wr(&x, REG_OFF_ICS, 4, 1);
        qd_wait(d, cases[i].flags, QX_QI_DONE, st);
        qx_submit(&x, d);
        QX_EQ(cases[i].c, "FSTS", qx_rd(&x, REG_OFF_FSTS, 4), 0);
        QX_EQ(cases[i].c, "IQH", qx_iqh(&x), (i + 1) * 32);
        QX_EQ(cases[i].c, "status", qx_rd32(&x, st),
              (cases[i].flags & QD_SW) ? QX_QI_DONE : QX_QI_IN_USE);
        QX_EQ(cases[i].c, "ICS", qx_rd(&x, REG_OFF_ICS, 4), !!(cases[i].flags & QD_IF));
    }
    qx_fini(&x);
}

/* IEC descriptor on a unit with ECAP.IR (custom configuration; interrupt
 * remapping itself is not modelled): global and index-selective accepted. */
static void test_iec_with_ir(void **state)
{
    (void)state;
    qx_case = "test_iec_with_ir";
    struct qx x;
    struct qx_opts o = { .legacy = true, .ecap_set = HW_FMK(ECAP, IR, 1) };
    uint64_t d[4];
    qx_init(&x, &o);
    qd_iec(d, false, 0, 0);
    qx_put(&x, d);
    qd_iec(d, true, 2, 0x40);
    qx_put(&x, d);
    QX_TRUE("IEC global + index", "wait completes", qx_sync(&x));
    QX_EQ("IEC global + index", "IQH", qx_iqh(&x), 3 * 16);
    qx_fini(&x);
}

/* QIE (§1.5, §4.1): while QI is disabled an IQT write processes nothing;
 * enabling QI processes what is queued; disabling resets IQH to 0, and
 * Linux's re-enable (IQT <- 0 first) then executes nothing twice. */
static void test_qie_enable_disable(void **state)
{
    (void)state;
    qx_case = "test_qie_enable_disable";
    struct qx x;
    struct qx_opts o = { .ttm = 1, .dw = true, .no_qi = true };
    uint64_t d[4];
    qx_init(&x, &o);
    x.iq = qx_frame(&x), x.qsize = 4096, x.dsz = 32;
    qx_wr(&x, REG_OFF_IQA, 8, x.iq | HW_FMK(IQA, DW, 1));
    uint64_t st = qx_status_slot(&x);
    qd_wait(d, QD_SW, QX_QI_DONE, st);
    qx_submit(&x, d);
    QX_EQ("QI disabled", "status", qx_rd32(&x, st), QX_QI_IN_USE);
    QX_EQ("QI disabled", "IQH", qx_iqh(&x), 0);
    uint32_t gsts = (uint32_t)qx_rd(&x, REG_OFF_GSTS, 4) & (uint32_t)HW_FM(GSTS, TES);
    qx_wr(&x, REG_OFF_GCMD, 4, gsts | (uint32_t)HW_FM(GCMD, QIE));
    QX_EQ("QIE set", "GSTS.QIES", HW_FV(GSTS, QIES, qx_rd(&x, REG_OFF_GSTS, 4)), 1);
    QX_EQ("QIE set", "queued wait processed", qx_rd32(&x, st), QX_QI_DONE);
    QX_EQ("QIE set", "IQH", qx_iqh(&x), 32);
    qx_wr(&x, REG_OFF_GCMD, 4, gsts);
    QX_EQ("QIE cleared", "GSTS.QIES", HW_FV(GSTS, QIES, qx_rd(&x, REG_OFF_GSTS, 4)), 0);
    QX_EQ("QIE cleared", "IQH reset", qx_iqh(&x), 0);
    QX_EQ("QIE cleared", "IQT kept", qx_rd(&x, REG_OFF_IQT, 4), 32);
    QX_OK(mem_write32(x.mem, st, QX_QI_IN_USE));
    qx_enable_qi(&x, 0, true);      /* IQT <- 0, IQA, QIE */
    QX_EQ("Linux re-enable", "old descriptor not re-executed", qx_rd32(&x, st), QX_QI_IN_USE);
    QX_TRUE("Linux re-enable", "new wait completes", qx_sync(&x));
    qx_fini(&x);
}

/* IQA write (decision in qi.c/gcmd.c: no side effect; §1.12 notes an old
 * datasheet resets IQH/IQT): IQH and IQT keep their values and the next
 * descriptor is fetched at that offset of the new base. IQT: 64-bit writes
 * work, bits outside 18:4 are ignored. */
static void test_iqa_iqt_writes(void **state)
{
    (void)state;
    qx_case = "test_iqa_iqt_writes";
    struct qx x;
    struct qx_opts o = { .ttm = 1, .dw = true };
    uint64_t d[4];
    qx_init(&x, &o);
    QX_TRUE("before IQA write", "wait", qx_sync(&x));
    QX_TRUE("before IQA write", "wait", qx_sync(&x));
    uint64_t nq = mem_frames_alloc_contig(x.mem, 1, 4096);
    QX_CHECK(nq != HPA_INVALID);
    qx_wr(&x, REG_OFF_IQA, 8, nq | HW_FMK(IQA, DW, 1));
    QX_EQ("IQA rewritten", "IQH", qx_iqh(&x), 64);
    QX_EQ("IQA rewritten", "IQT", qx_rd(&x, REG_OFF_IQT, 4), 64);
    x.iq = nq;
    QX_TRUE("new base, same offset", "wait", qx_sync(&x));
    QX_EQ("new base, same offset", "IQH", qx_iqh(&x), 96);

    uint64_t st = qx_status_slot(&x);
    qd_wait(d, QD_SW, QX_QI_DONE, st);
    qx_put(&x, d);
    qx_wr(&x, REG_OFF_IQT, 8, 0xFFFFFFFFFFF80000ULL | x.tail | 0xF);
    QX_EQ("64-bit IQT write", "IQT (bits 18:4 only)", qx_rd(&x, REG_OFF_IQT, 8), x.tail);
    QX_EQ("64-bit IQT write", "processed", qx_rd32(&x, st), QX_QI_DONE);
    qx_wr(&x, REG_OFF_IQH, 8, 0);
    QX_EQ("IQH is read-only", "IQH", qx_iqh(&x), x.tail);
    qx_fini(&x);

    struct qx_opts lo = { .legacy = true };
    qx_init(&x, &lo);
    qx_wr(&x, REG_OFF_IQA, 8, x.iq | HW_FMK(IQA, DW, 1));
    QX_EQ("IQA.DW on a unit without ECAP.SMTS", "DW reads", HW_FV(IQA, DW, qx_rd(&x, REG_OFF_IQA, 8)),
          0);
    QX_TRUE("IQA.DW on a unit without ECAP.SMTS", "the queue stays 128-bit", qx_sync(&x));
    QX_EQ("IQA.DW on a unit without ECAP.SMTS", "IQH", qx_iqh(&x), 16);
    qx_fini(&x);
}

/* ---- hostile queue ------------------------------------------------------------- */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

/* Random descriptor: fully random, or a type this unit knows with its
 * reserved bits (and, mostly, its capability-dependent fields) cleared so
 * that it executes, aimed at the attached endpoint. */
static void rnd_desc(uint64_t *s, uint64_t d[4], uint16_t sid, uint64_t scratch, bool sm)
{
    static const unsigned common[] = { 1, 2, 3, 5, 6, 7, 8, 9 };
    for (unsigned q = 0; q < 4; q++)
        d[q] = rnd(s);
    if (rnd(s) % 8 == 0)
        return;
    unsigned type = rnd(s) % 4 ? common[rnd(s) % (sm ? 8 : 4)] : 1 + (unsigned)(rnd(s) % 9);
    const struct hw_struct_desc *hs = &hw_structs[inv_desc_struct(type)];
    for (unsigned q = 0; q < 4; q++)
        d[q] &= ~hs->rsvd[q];
    HW_SET(INV_DESC, TYPE_LO, d, type);
    HW_SET(INV_DESC, TYPE_HI, d, 0);
    bool tidy = rnd(s) % 4;
    if (tidy) {
        d[2] = d[3] = 0;
        HW_SET(INV_DEVTLB, PFSID_LO, d, 0);     /* same bits in both device-TLB forms */
        HW_SET(INV_DEVTLB, PFSID_HI, d, 0);
        if (type == INV_TYPE_IOTLB)
            HW_SET(INV_IOTLB, DW, d, 0), HW_SET(INV_IOTLB, DR, d, 0);
        if (type == INV_TYPE_WAIT)
            HW_SET(INV_WAIT, PD, d, 0);
        if (type == INV_TYPE_PGRESP)
            HW_SET(INV_PGRESP, PDP, d, 0), HW_SET(INV_PGRESP, RC, d, rnd(s) & 1);
    }
    if (type == INV_TYPE_DEVTLB)
        HW_SET(INV_DEVTLB, SID, d, sid);
    if (type == INV_TYPE_PDEVTLB)
        HW_SET(INV_PDEVTLB, SID, d, sid);
    if (type == INV_TYPE_PGRESP)
        HW_SET(INV_PGRESP, RID, d, sid);
    if (type == INV_TYPE_WAIT && rnd(s) % 2)
        HW_SET(INV_WAIT, STADDR, d, (scratch + (rnd(s) % 4096)) >> 2);
}

struct hostile {
    struct qx x;
    struct qx_dev *dev;
    uint64_t seed;
    bool sm;
    unsigned iqe[8], ite;       /* errors seen, by IQEI: the storm reaches them */
};

static uint64_t callbacks(const struct hostile *h)
{
    return h->dev->ninv + h->dev->nresp;
}

/* After any step: the registers stay in range, and unless QI is disabled
 * or an IQE/ITE stopped it, the queue is drained (IQH = IQT). */
static void hostile_check(struct hostile *h, const char *c, uint64_t before, uint32_t head0)
{
    uint64_t iqa = qx_rd(&h->x, REG_OFF_IQA, 8), iqh = qx_rd(&h->x, REG_OFF_IQH, 8);
    uint64_t iqt = qx_rd(&h->x, REG_OFF_IQT, 8), fsts = qx_rd(&h->x, REG_OFF_FSTS, 4);
    uint64_t qsize = PAGE_SIZE << HW_FV(IQA, QS, iqa), dsz = HW_FV(IQA, DW, iqa) ? 32 : 16;
    bool qies = qx_rd(&h->x, REG_OFF_GSTS, 4) & HW_FM(GSTS, QIES);
    QX_EQ(c, "IQH outside 18:4", iqh & ~HW_FM(IQH, QH), 0);
    if (qies && !(fsts & (HW_FM(FSTS, IQE) | HW_FM(FSTS, ITE))))
        QX_EQ(c, "IQH = IQT when nothing stopped the queue", iqh, iqt);
    if (fsts & HW_FM(FSTS, IQE))
        h->iqe[HW_FV(IQERCD, IQEI, qx_rd(&h->x, REG_OFF_IQERCD, 8)) & 7]++;
    h->ite += (fsts & HW_FM(FSTS, ITE)) != 0;
    uint64_t done = callbacks(h) - before;
    uint64_t span = ((iqt & HW_FM(IQT, QT)) - head0 + qsize) % qsize / dsz;
    QX_TRUE(c, "no more device callbacks than queue entries", done < qsize / dsz);
    if (qies && (iqt & HW_FM(IQT, QT)) < qsize && head0 < qsize)
        QX_TRUE(c, "no more device callbacks than descriptors between IQH and IQT",
                done <= span);
}

static void hostile_step(struct hostile *h, uint64_t scratch, char *c)
{
    struct qx *x = &h->x;
    uint64_t r = rnd(&h->seed), d[4], before = callbacks(h);
    uint32_t head0 = qx_iqh(x);
    switch (r % 32) {
    default: {      /* 0..17: a batch of descriptors and an IQT write */
        unsigned n = 1 + (unsigned)(rnd(&h->seed) % 4);
        for (unsigned i = 0; i < n; i++) {
            rnd_desc(&h->seed, d, h->dev->sid, scratch, h->sm);
            qx_put(x, d);
        }
        qx_ring(x);
        break;
    }
    case 18: case 19: case 20: case 21: {  /* Linux: fix the slot at IQH, clear */
        uint64_t iqa = qx_rd(x, REG_OFF_IQA, 8);
        qd_wait(d, QD_FN, 0, 0);
        if ((r >> 8) % 4)
            (void)mem_write(x->mem, (iqa & HW_FM(IQA, IQA)) + qx_iqh(x), d,
                            HW_FV(IQA, DW, iqa) ? 32 : 16);
        qx_wr(x, REG_OFF_FSTS, 4, 0xFFFFFFFF);
        break;
    }
    case 22:
        qx_wr(x, REG_OFF_IQT, (r >> 8) & 1 ? 8 : 4, rnd(&h->seed));
        break;
    case 23: {      /* new queue: base inside, at the end of, or outside memory */
        uint64_t bases[4] = { x->iq, x->iq, QX_END - 4096, QX_OUTSIDE };
        unsigned qs = (unsigned)(rnd(&h->seed) % 3);
        bool dw = rnd(&h->seed) & 1;
        qx_wr(x, REG_OFF_IQA, 8, bases[rnd(&h->seed) % 4] | HW_FMK(IQA, DW, dw) |
                                 HW_FMK(IQA, QS, qs));
        break;
    }
    case 24: {
        uint32_t gsts = (uint32_t)qx_rd(x, REG_OFF_GSTS, 4);
        qx_wr(x, REG_OFF_GCMD, 4, (gsts & (uint32_t)HW_FM(GSTS, TES)) |
                                  ((gsts ^ (uint32_t)HW_FM(GSTS, QIES)) & (uint32_t)HW_FM(GSTS, QIES)));
        break;
    }
    case 25: case 26:
        h->dev->answer = rnd(&h->seed) % 4 ? VTD_ATS_INV_DONE : VTD_ATS_INV_TIMEOUT;
        break;
    case 27:
        vtd_ats_unexpected_completion(x->u, (uint16_t)rnd(&h->seed));
        break;
    case 28:
        qx_wr(x, REG_OFF_ICS, 4, rnd(&h->seed));
        qx_wr(x, REG_OFF_IECTL, 4, rnd(&h->seed));
        break;
    case 29: case 30: case 31:  /* corrupt queued descriptors in place */
        QX_OK(mem_write64(x->mem, x->iq + (rnd(&h->seed) % 4096 & ~7ULL),
                                     rnd(&h->seed)));
        break;
    }
    hostile_check(h, c, before, head0);
}

/* Thousands of random steps against each geometry: nothing crashes (ASan
 * run), every IQT write processes at most the descriptors between IQH and
 * IQT (fewer than the queue holds), and the queue never hangs silently. */
static void test_hostile_queue(void **state)
{
    (void)state;
    qx_case = "test_hostile_queue";
    for (unsigned g = 0; g < NGEOM; g++) {
        qx_case = geom[g].name;
        struct hostile h = { .seed = 0x9E3779B97F4A7C15ULL ^ (g + 1) * 0x5851F42D4C957F2DULL };
        char c[96];
        qx_init(&h.x, &geom[g].o);
        h.sm = geom[g].o.ttm == 1;
        h.dev = qx_attach(&h.x, 0x0300);
        uint64_t scratch = qx_frame(&h.x);
        for (unsigned i = 0; i < 4000; i++) {
            snprintf(c, sizeof(c), "%s, seed step %u", geom[g].name, i);
            hostile_step(&h, scratch, c);
        }
        snprintf(c, sizeof(c), "%s, coverage of the storm", geom[g].name);
        QX_TRUE(c, "device-TLB invalidations", h.dev->ninv >= 5);
        QX_TRUE(c, "page group responses", !h.sm || h.dev->nresp >= 1);
        QX_TRUE(c, "ITE", h.ite > 0);
        for (unsigned e = 1; e <= 4; e++)
            QX_TRUE(c, "IQE with IQEI 1..4", h.iqe[e] > 0);
        /* Recovery: a sane queue again, errors cleared, a wait completes. */
        qx_wr(&h.x, REG_OFF_GCMD, 4, (uint32_t)HW_FM(GCMD, TE));
        h.dev->answer = VTD_ATS_INV_DONE;
        qx_wr(&h.x, REG_OFF_FSTS, 4, 0xFFFFFFFF);
        qx_enable_qi(&h.x, geom[g].o.qs, geom[g].o.dw);
        snprintf(c, sizeof(c), "%s, after the storm", geom[g].name);
        QX_TRUE(c, "a fresh queue works", qx_sync(&h.x));
        qx_fini(&h.x);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_processed),
        cmocka_unit_test(test_iqh_advance),
        cmocka_unit_test(test_wrap_around),
        cmocka_unit_test(test_wait_status_write),
        cmocka_unit_test(test_if_iwc_event),
        cmocka_unit_test(test_if_masked),
        cmocka_unit_test(test_fn_pd),
        cmocka_unit_test(test_iec_with_ir),
        cmocka_unit_test(test_qie_enable_disable),
        cmocka_unit_test(test_iqa_iqt_writes),
        cmocka_unit_test(test_hostile_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
