/* Fixture of the queued-invalidation, page-request and boot tests: see
 * vtd_qi_fixture.h. Every test binary that uses it #includes this file
 * once, after defining VTD_QI_FIXTURE_IMPL; compiled on its own (as the
 * Makefile's companion of test_vtd_qi) it is empty. */
#ifdef VTD_QI_FIXTURE_IMPL
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/trace.h"
#include "vtd_qi_fixture.h"

const char *qx_case = "set-up";

/* ---- events and endpoints -------------------------------------------------- */
static void qx_msi(void *opaque, uint64_t addr, uint32_t data)
{
    struct qx *x = opaque;
    enum qx_ev ev = QX_EV_OTHER;
    if (addr == QX_FE_ADDR && data == QX_FE_DATA)
        ev = QX_EV_FAULT;
    else if (addr == QX_IE_ADDR && data == QX_IE_DATA)
        ev = QX_EV_INV;
    else if (addr == QX_PE_ADDR && data == QX_PE_DATA)
        ev = QX_EV_PRQ;
    x->msi[ev]++;
    x->last_msi_addr = addr;
    x->last_msi_data = data;
}

static enum vtd_ats_inv_status qx_ats_inv(void *opaque, uint16_t sid, bool pv, uint32_t pasid,
                                          bool global, uint64_t addr, uint64_t size)
{
    struct qx_dev *d = opaque;
    if (d->ninv < QX_LOG)
        d->inv[d->ninv] = (struct qx_inv){ .sid = sid, .pv = pv, .pasid = pasid,
                                           .global = global, .addr = addr, .size = size };
    d->ninv++;
    return d->answer;
}

static void qx_page_resp(void *opaque, const struct vtd_page_resp *r)
{
    struct qx_dev *d = opaque;
    if (d->nresp < QX_LOG)
        d->resp[d->nresp] = *r;
    d->nresp++;
}

const struct vtd_dev_ops qx_dev_ops = { qx_ats_inv, qx_page_resp };

struct qx_dev *qx_attach(struct qx *x, uint16_t sid)
{
    QX_CHECK(x->ndev < QX_MAXDEV);
    struct qx_dev *d = &x->dev[x->ndev++];
    memset(d, 0, sizeof(*d));
    d->sid = sid;
    d->answer = VTD_ATS_INV_DONE;
    QX_OK(vtd_device_attach(x->u, sid, &qx_dev_ops, d));
    return d;
}

/* ---- unit and queue ------------------------------------------------------------ */
uint64_t qx_rd(struct qx *x, uint32_t off, unsigned size)
{
    return vtd_mmio_read(x->u, off, size);
}

void qx_wr(struct qx *x, uint32_t off, unsigned size, uint64_t v)
{
    vtd_mmio_write(x->u, off, size, v);
}

uint64_t qx_frame(struct qx *x)
{
    uint64_t a = mem_frame_alloc(x->mem);
    QX_CHECK(a != HPA_INVALID);
    return a;
}

static void qx_program_events(struct qx *x, bool unmask)
{
    static const struct { uint32_t ctl, addr, data; } q[] = {
        { REG_OFF_FECTL, QX_FE_ADDR, QX_FE_DATA },
        { REG_OFF_IECTL, QX_IE_ADDR, QX_IE_DATA },
        { REG_OFF_PECTL, QX_PE_ADDR, QX_PE_DATA },
    };
    for (unsigned i = 0; i < 3; i++) {
        qx_wr(x, q[i].ctl + 4, 4, q[i].data);
        qx_wr(x, q[i].ctl + 8, 4, q[i].addr);
        qx_wr(x, q[i].ctl + 12, 4, QX_EUADDR);
        if (unmask)
            qx_wr(x, q[i].ctl, 4, 0);
    }
}

void qx_enable_qi(struct qx *x, unsigned qs, bool dw)
{
    x->qsize = (uint32_t)(PAGE_SIZE << qs);
    x->dsz = dw ? 32 : 16;
    x->dw = dw;
    x->tail = 0;
    x->iq = mem_frames_alloc_contig(x->mem, 1ULL << qs, x->qsize);
    QX_CHECK(x->iq != HPA_INVALID);
    uint32_t gsts = (uint32_t)qx_rd(x, REG_OFF_GSTS, 4) &
                    (uint32_t)(HW_FM(GSTS, TES) | HW_FM(GSTS, QIES) | HW_FM(GSTS, IRES));
    qx_wr(x, REG_OFF_IQT, 4, 0);
    qx_wr(x, REG_OFF_IQA, 8, x->iq | HW_FMK(IQA, DW, dw) | HW_FMK(IQA, QS, qs));
    qx_wr(x, REG_OFF_GCMD, 4, gsts | (uint32_t)HW_FM(GCMD, QIE));
    QX_CHECK(qx_rd(x, REG_OFF_GSTS, 4) & HW_FM(GSTS, QIES));
}

void qx_init(struct qx *x, const struct qx_opts *o)
{
    static bool traced;
    if (!traced) {
        traced = true;
        const char *g = getenv("FX_TRACE");
        if (g && *g)
            trace_enable(g);
    }
    memset(x, 0, sizeof(*x));
    if (o->legacy)
        vtd_config_legacy(&x->cfg);
    else
        vtd_config_default(&x->cfg);
    x->cfg.cap = (x->cfg.cap & ~o->cap_clr) | o->cap_set;
    x->cfg.ecap = (x->cfg.ecap & ~o->ecap_clr) | o->ecap_set;
    x->cfg.msi = qx_msi;
    x->cfg.msi_opaque = x;
    x->mem = mem_arena_create(QX_BASE, QX_SIZE);
    QX_CHECK((x->mem) != NULL);
    x->u = vtd_unit_create(&x->cfg, x->mem);
    QX_CHECK((x->u) != NULL);
    qx_program_events(x, !o->masked);
    QX_OK(vtd_tables_init(&x->t, x->mem, o->ttm == 1));
    QX_OK(vtd_program_root(x->u, x->t.root, o->ttm, true));
    x->status = qx_frame(x);
    if (!o->no_qi)
        qx_enable_qi(x, o->qs, o->dw);
    else
        x->qsize = (uint32_t)PAGE_SIZE << o->qs, x->dsz = o->dw ? 32 : 16, x->dw = o->dw;
}

void qx_fini(struct qx *x)
{
    vtd_unit_destroy(x->u);
    mem_arena_destroy(x->mem);
    memset(x, 0, sizeof(*x));
}

void qx_put_at(struct qx *x, uint32_t off, const uint64_t d[4])
{
    QX_OK(mem_write(x->mem, x->iq + off, d, x->dsz));
}

void qx_put(struct qx *x, const uint64_t d[4])
{
    qx_put_at(x, x->tail, d);
    x->tail = (x->tail + x->dsz) % x->qsize;
}

void qx_ring(struct qx *x)
{
    qx_wr(x, REG_OFF_IQT, 4, x->tail);
}

void qx_submit(struct qx *x, const uint64_t d[4])
{
    qx_put(x, d);
    qx_ring(x);
}

uint32_t qx_iqh(struct qx *x)
{
    return (uint32_t)qx_rd(x, REG_OFF_IQH, 4);
}

uint32_t qx_rd32(struct qx *x, uint64_t hpa)
{
    uint32_t v = 0;
    QX_OK(mem_read32(x->mem, hpa, &v));
    return v;
}

uint64_t qx_status_slot(struct qx *x)
{
    QX_CHECK(x->nstatus < PAGE_SIZE / 4);
    uint64_t a = x->status + 4 * x->nstatus++;
    QX_OK(mem_write32(x->mem, a, QX_QI_IN_USE));
    return a;
}

bool qx_sync(struct qx *x)
{
    uint64_t d[4], st = qx_status_slot(x);
    qd_wait(d, QD_SW, QX_QI_DONE, st);
    qx_submit(x, d);
    return qx_rd32(x, st) == QX_QI_DONE;
}

uint32_t qx_clear_fsts(struct qx *x, uint32_t bits)
{
    uint32_t before = (uint32_t)qx_rd(x, REG_OFF_FSTS, 4);
    qx_wr(x, REG_OFF_FSTS, 4, bits);
    return before;
}

void qx_expect_iqe(struct qx *x, const char *c, unsigned iqei, uint32_t iqh)
{
    uint32_t fsts = (uint32_t)qx_rd(x, REG_OFF_FSTS, 4);
    uint64_t iqercd = qx_rd(x, REG_OFF_IQERCD, 8);
    QX_EQ(c, "FSTS (IQE only)", fsts, HW_FM(FSTS, IQE));
    QX_EQ(c, "IQERCD.IQEI", HW_FV(IQERCD, IQEI, iqercd), iqei);
    QX_EQ(c, "IQH (at the offending descriptor)", qx_iqh(x), iqh);
}

/* ---- descriptors ------------------------------------------------------------------ */
void qd_cc(uint64_t d[4], unsigned g, uint16_t did, uint16_t sid, unsigned fm)
{
    memset(d, 0, 32);
    HW_SET(INV_CC, TYPE_LO, d, INV_TYPE_CC);
    HW_SET(INV_CC, G, d, g);
    HW_SET(INV_CC, DID, d, did);
    HW_SET(INV_CC, SID, d, sid);
    HW_SET(INV_CC, FM, d, fm);
}

void qd_iotlb(uint64_t d[4], unsigned g, uint16_t did, uint64_t addr, unsigned am, bool ih)
{
    memset(d, 0, 32);
    HW_SET(INV_IOTLB, TYPE_LO, d, INV_TYPE_IOTLB);
    HW_SET(INV_IOTLB, G, d, g);
    HW_SET(INV_IOTLB, DID, d, did);
    HW_SET(INV_IOTLB, AM, d, am);
    HW_SET(INV_IOTLB, IH, d, ih);
    HW_SET(INV_IOTLB, ADDR, d, addr >> 12);
}

void qd_devtlb(uint64_t d[4], uint16_t sid, uint64_t addr, bool s)
{
    memset(d, 0, 32);
    HW_SET(INV_DEVTLB, TYPE_LO, d, INV_TYPE_DEVTLB);
    HW_SET(INV_DEVTLB, SID, d, sid);
    HW_SET(INV_DEVTLB, S, d, s);
    HW_SET(INV_DEVTLB, ADDR, d, addr >> 12);
}

void qd_iec(uint64_t d[4], bool index, unsigned im, uint16_t iidx)
{
    memset(d, 0, 32);
    HW_SET(INV_IEC, TYPE_LO, d, INV_TYPE_IEC);
    HW_SET(INV_IEC, G, d, index);
    HW_SET(INV_IEC, IM, d, im);
    HW_SET(INV_IEC, IIDX, d, iidx);
}

void qd_wait(uint64_t d[4], unsigned flags, uint32_t data, uint64_t addr)
{
    memset(d, 0, 32);
    HW_SET(INV_WAIT, TYPE_LO, d, INV_TYPE_WAIT);
    HW_SET(INV_WAIT, IF, d, !!(flags & QD_IF));
    HW_SET(INV_WAIT, SW, d, !!(flags & QD_SW));
    HW_SET(INV_WAIT, FN, d, !!(flags & QD_FN));
    HW_SET(INV_WAIT, PD, d, !!(flags & QD_PD));
    HW_SET(INV_WAIT, STDATA, d, data);
    HW_SET(INV_WAIT, STADDR, d, addr >> 2);
}

void qd_piotlb(uint64_t d[4], unsigned g, uint16_t did, uint32_t pasid, uint64_t addr,
               unsigned am, bool ih)
{
    memset(d, 0, 32);
    HW_SET(INV_PIOTLB, TYPE_LO, d, INV_TYPE_PIOTLB);
    HW_SET(INV_PIOTLB, G, d, g);
    HW_SET(INV_PIOTLB, DID, d, did);
    HW_SET(INV_PIOTLB, PASID, d, pasid);
    HW_SET(INV_PIOTLB, AM, d, am);
    HW_SET(INV_PIOTLB, IH, d, ih);
    HW_SET(INV_PIOTLB, ADDR, d, addr >> 12);
}

void qd_pc(uint64_t d[4], unsigned g, uint16_t did, uint32_t pasid)
{
    memset(d, 0, 32);
    HW_SET(INV_PC, TYPE_LO, d, INV_TYPE_PC);
    HW_SET(INV_PC, G, d, g);
    HW_SET(INV_PC, DID, d, did);
    HW_SET(INV_PC, PASID, d, pasid);
}

void qd_pdevtlb(uint64_t d[4], uint16_t sid, uint32_t pasid, bool global, uint64_t addr, bool s)
{
    memset(d, 0, 32);
    HW_SET(INV_PDEVTLB, TYPE_LO, d, INV_TYPE_PDEVTLB);
    HW_SET(INV_PDEVTLB, SID, d, sid);
    HW_SET(INV_PDEVTLB, PASID, d, pasid);
    HW_SET(INV_PDEVTLB, G, d, global);
    HW_SET(INV_PDEVTLB, S, d, s);
    HW_SET(INV_PDEVTLB, ADDR, d, addr >> 12);
}

void qd_pgresp(uint64_t d[4], const struct vtd_page_resp *r)
{
    memset(d, 0, 32);
    HW_SET(INV_PGRESP, TYPE_LO, d, INV_TYPE_PGRESP);
    HW_SET(INV_PGRESP, PP, d, r->pasid_present);
    HW_SET(INV_PGRESP, PDP, d, r->pdp);
    HW_SET(INV_PGRESP, RC, d, r->rc);
    HW_SET(INV_PGRESP, RID, d, r->sid);
    HW_SET(INV_PGRESP, PASID, d, r->pasid);
    HW_SET(INV_PGRESP, LPIG, d, r->lpig);
    HW_SET(INV_PGRESP, PRGI, d, r->prgi);
    if (r->pdp) {
        HW_SET(INV_PGRESP, PRIV_DATA0, d, r->priv_data[0]);
        HW_SET(INV_PGRESP, PRIV_DATA1, d, r->priv_data[1]);
    }
}

/* ---- translation structures ------------------------------------------------------- */
void qx_ctx_legacy(struct qx *x, uint16_t sid, unsigned tt, uint16_t did, uint64_t slroot)
{
    uint64_t c[2] = { 0, 0 };
    HW_SET(CTX, P, c, 1);
    HW_SET(CTX, TT, c, tt);
    HW_SET(CTX, SLPTPTR, c, slroot >> 12);
    HW_SET(CTX, AW, c, 2);
    HW_SET(CTX, DID, c, did);
    QX_OK(vtd_tables_set_ctx(&x->t, sid, c));
}

uint64_t qx_ctx_sm(struct qx *x, uint16_t sid, unsigned flags, unsigned pdts)
{
    uint64_t dir = 0, c[4] = { 0, 0, 0, 0 };
    QX_OK(vtd_tables_pasid_dir(&x->t, pdts, &dir));
    HW_SET(SM_CTX, P, c, 1);
    HW_SET(SM_CTX, FPD, c, !!(flags & QX_FPD));
    HW_SET(SM_CTX, DTE, c, !!(flags & QX_DTE));
    HW_SET(SM_CTX, PASIDE, c, !!(flags & QX_PASIDE));
    HW_SET(SM_CTX, PRE, c, !!(flags & QX_PRE));
    HW_SET(SM_CTX, PDTS, c, pdts);
    HW_SET(SM_CTX, PASIDDIRPTR, c, dir >> 12);
    QX_OK(vtd_tables_set_ctx(&x->t, sid, c));
    return dir;
}

void qx_pasid(struct qx *x, uint64_t dir, uint32_t pasid, unsigned pgtt, uint16_t did,
              uint64_t flroot, uint64_t slroot)
{
    uint64_t p[8] = { 0 };
    HW_SET(PASID_PTE, P, p, 1);
    HW_SET(PASID_PTE, PGTT, p, pgtt);
    HW_SET(PASID_PTE, DID, p, did);
    HW_SET(PASID_PTE, PWSNP, p, 1);     /* snooped walks (Linux with ECAP.SMPWC): A/D updates */
    HW_SET(PASID_PTE, AW, p, 2);
    HW_SET(PASID_PTE, FLPM, p, 0);
    HW_SET(PASID_PTE, FLPTPTR, p, flroot >> 12);
    HW_SET(PASID_PTE, SLPTPTR, p, slroot >> 12);
    QX_OK(vtd_tables_set_pasid(&x->t, dir, pasid, p, false));
}

void qx_sl_map(struct qx *x, uint64_t *root, uint64_t iova, uint64_t hpa, unsigned shift)
{
    QX_OK(vtd_sl_map(x->mem, root, 4, iova, hpa, shift,
                                HW_FM(SL_PTE, R) | HW_FM(SL_PTE, W)));
}

void qx_sl_remap(struct qx *x, uint64_t root, uint64_t iova, uint64_t hpa)
{
    uint64_t ea = 0;
    QX_OK(vtd_sl_entry_addr(x->mem, root, 4, iova, 1, &ea));
    QX_OK(mem_write64(x->mem, ea, hpa | HW_FM(SL_PTE, R) | HW_FM(SL_PTE, W)));
}

uint64_t qx_xl(struct qx *x, uint16_t sid, bool pv, uint32_t pasid, uint64_t addr)
{
    struct vtd_req r = { .sid = sid, .pasid_present = pv, .pasid = pasid, .addr = addr };
    struct vtd_result res;
    vtd_translate_norecord(x->u, &r, &res);
    return res.fault ? QX_FAULT(res.fault) : res.addr;
}

#endif /* VTD_QI_FIXTURE_IMPL */

/* Keeps the translation unit non-empty when compiled on its own. */
typedef int vtd_qi_fixture_empty_on_its_own;
