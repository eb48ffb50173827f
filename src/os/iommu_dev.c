/* Context and PASID structures of attached devices (os-driver §2.2, §2.4):
 * scalable-mode context entries over per-device PASID directories, PASID
 * entries for SVA binds, and the flushes caching mode requires. */
#include "lib/hw_regs.h"
#include "os/iommu.h"

#define PDTS 2   /* one page: 512 directory entries, PASIDs below 32768 (Linux) */

struct os_iommu_dev *os_iommu_dev(struct os_iommu *m, uint16_t bdf)
{
    for (unsigned i = 0; i < m->ndev; i++)
        if (m->dev[i].bdf == bdf)
            return &m->dev[i];
    return NULL;
}

/* The context table for bdf's bus (and half, scalable), allocated on use. */
static uint64_t ctx_entry_addr(struct os_iommu *m, uint16_t bdf)
{
    uint64_t ra = m->root + 16 * (bdf >> 8) + (m->sm && (bdf & 0x80) ? 8 : 0);
    uint64_t e = os_rd64(m->k, ra);
    if (!(e & 1)) {
        uint64_t t = m->k->ops.page_alloc(m->k->ops.ctx);
        if (t == OS_NO_PAGE)
            return OS_NO_PAGE;
        e = t | 1;
        os_wr64(m->k, ra, e);
    }
    uint64_t ct = e & ~0xFFFULL;
    return m->sm ? ct + 32 * (bdf & 0x7F) : ct + 16 * (bdf & 0xFF);
}

/* The PASID-table entry for pasid (table allocated on use). */
static uint64_t pasid_entry_addr(struct os_iommu *m, struct os_iommu_dev *d, uint32_t pasid)
{
    if ((pasid >> 6) >= (1u << (d->pdts + 7)))
        return OS_NO_PAGE;
    uint64_t da = d->pasid_dir + 8 * (pasid >> 6), e = os_rd64(m->k, da);
    if (!HW_FV(PASID_DIR, P, e)) {
        uint64_t t = m->k->ops.page_alloc(m->k->ops.ctx);
        if (t == OS_NO_PAGE)
            return OS_NO_PAGE;
        e = t | HW_FMK(PASID_DIR, P, 1);
        os_wr64(m->k, da, e);
    }
    return (e & HW_FM(PASID_DIR, SMPTBLPTR)) + 64 * (pasid & 0x3F);
}

/* With caching mode every change must be invalidated, including making an
 * entry present (§2.2 step 2: PASID cache + PASID IOTLB, PASID-selective). */
static int flush_pasid(struct os_iommu *m, uint16_t did, uint32_t pasid, bool always)
{
    if (!m->cm && !always)
        return 0;
    uint64_t d[2][4] = { { 0 } };
    os_qi_pc(d[0], 1, did, pasid);
    os_qi_piotlb(d[1], 2, did, pasid, 0, 0, false);
    return os_qi_submit(m, d, 2);
}

static int write_pasid(struct os_iommu *m, struct os_iommu_dev *d, uint32_t pasid,
                       const uint64_t *pte, bool always_flush)
{
    uint64_t pa = pasid_entry_addr(m, d, pasid);
    if (pa == OS_NO_PAGE)
        return -12;
    /* Qwords 1.. first, present bit last, as a live entry must be written. */
    m->k->ops.phys_write(m->k->ops.ctx, pa + 8, pte + 1, 56);
    os_wr64(m->k, pa, pte[0]);
    return flush_pasid(m, (uint16_t)HW_GET(PASID_PTE, DID, pte), pasid, always_flush);
}

static int attach_sm(struct os_iommu *m, struct os_iommu_dev *d, uint64_t ce)
{
    d->pdts = PDTS;
    d->pasid_dir = m->k->ops.page_alloc(m->k->ops.ctx);
    if (d->pasid_dir == OS_NO_PAGE)
        return -12;
    uint64_t pte[8] = { 0 };   /* RID_PASID: pass-through (identity, like iommu=pt) */
    HW_SET(PASID_PTE, P, pte, 1), HW_SET(PASID_PTE, PGTT, pte, 4);
    HW_SET(PASID_PTE, DID, pte, OS_FLPT_DID), HW_SET(PASID_PTE, AW, pte, 2);
    int rc = write_pasid(m, d, 0, pte, false);
    if (rc)
        return rc;
    uint64_t c[4] = { 0 };
    HW_SET(SM_CTX, PASIDDIRPTR, c, d->pasid_dir >> 12), HW_SET(SM_CTX, PDTS, c, d->pdts);
    HW_SET(SM_CTX, PRE, c, d->pri), HW_SET(SM_CTX, PASIDE, c, d->pasid);
    HW_SET(SM_CTX, DTE, c, d->ats), HW_SET(SM_CTX, P, c, 1);
    m->k->ops.phys_write(m->k->ops.ctx, ce + 8, c + 1, 24);
    os_wr64(m->k, ce, c[0]);
    return 0;
}

static int attach_legacy(struct os_iommu *m, struct os_iommu_dev *d, uint64_t ce)
{
    if (!HW_FV(ECAP, PT, m->ecap))
        return -95;   /* identity second-level domains are not built yet */
    uint64_t c[2] = { 0 };
    unsigned aw = HW_FV(CAP, SAGAW, m->cap) & 8 ? 3 : HW_FV(CAP, SAGAW, m->cap) & 4 ? 2 : 1;
    HW_SET(CTX, TT, c, 2), HW_SET(CTX, AW, c, aw), HW_SET(CTX, DID, c, OS_FLPT_DID);
    HW_SET(CTX, P, c, 1);
    (void)d;
    os_wr64(m->k, ce + 8, c[1]);
    os_wr64(m->k, ce, c[0]);
    return 0;
}

int os_iommu_attach(struct os_iommu *m, uint16_t bdf, bool ats, bool pasid, bool pri,
                    unsigned ats_qdep)
{
    os_lock(m->k, &m->ctx_lock);
    int rc = 0;
    uint64_t ce;
    if (os_iommu_dev(m, bdf) || m->ndev == OS_IOMMU_MAX_DEVS)
        rc = -16;
    else if ((ce = ctx_entry_addr(m, bdf)) == OS_NO_PAGE)
        rc = -12;
    if (!rc) {
        struct os_iommu_dev *d = &m->dev[m->ndev];
        *d = (struct os_iommu_dev){ .bdf = bdf, .ats = ats && HW_FV(ECAP, DT, m->ecap),
                                    .pasid = pasid && m->sm && HW_FV(ECAP, PASID, m->ecap),
                                    .pri = pri && m->sm && HW_FV(ECAP, PRS, m->ecap),
                                    .ats_qdep = ats_qdep };
        rc = m->sm ? attach_sm(m, d, ce) : attach_legacy(m, d, ce);
        if (!rc)
            m->ndev++;
    }
    os_unlock(&m->ctx_lock);
    if (rc || !m->cm)
        return rc;
    uint64_t d[2][4] = { { 0 } };   /* CM: context-cache device-selective DID 0, IOTLB DSI */
    os_qi_cc(d[0], 3, 0, bdf, 0);
    os_qi_iotlb(d[1], 2, OS_FLPT_DID, 0, 0, false);
    return os_qi_submit(m, d, 2);
}

int os_iommu_set_pasid_fl(struct os_iommu *m, uint16_t bdf, uint32_t pasid, uint64_t pgd,
                          unsigned levels, bool supervisor)
{
    struct os_iommu_dev *d = os_iommu_dev(m, bdf);
    if (!d || !d->pasid || !pasid || pasid >= OS_PASID_MAX || (levels != 4 && levels != 5) ||
        (levels == 5 && !HW_FV(CAP, FL5LP, m->cap)) || (supervisor && !HW_FV(ECAP, SRS, m->ecap)))
        return -22;
    uint64_t pte[8] = { 0 };   /* os-driver §2.4 step 3 */
    HW_SET(PASID_PTE, P, pte, 1), HW_SET(PASID_PTE, PGTT, pte, 1);
    HW_SET(PASID_PTE, DID, pte, OS_FLPT_DID), HW_SET(PASID_PTE, FLPTPTR, pte, pgd >> 12);
    HW_SET(PASID_PTE, FLPM, pte, levels == 5), HW_SET(PASID_PTE, SRE, pte, supervisor);
    HW_SET(PASID_PTE, NXE, pte, 1), HW_SET(PASID_PTE, AW, pte, 2);
    HW_SET(PASID_PTE, PWSNP, pte, HW_FV(ECAP, SMPWCS, m->ecap));
    os_lock(m->k, &m->ctx_lock);
    int rc = write_pasid(m, d, pasid, pte, false);
    os_unlock(&m->ctx_lock);
    return rc;
}

int os_iommu_flush_pasid_range(struct os_iommu *m, uint16_t bdf, uint32_t pasid,
                               uint64_t addr, uint64_t pages)
{
    struct os_iommu_dev *d = os_iommu_dev(m, bdf);
    if (!d)
        return -22;
    unsigned am = os_qi_cover_order(addr, pages);   /* the whole range, aligned or not */
    uint64_t q[2][4] = { { 0 } };
    if (am <= HW_FV(CAP, MAMV, m->cap))
        os_qi_piotlb(q[0], 3, OS_FLPT_DID, pasid, addr & ~((4096ULL << am) - 1), am, false);
    else
        os_qi_piotlb(q[0], 2, OS_FLPT_DID, pasid, 0, 0, false);
    if (d->ats)
        os_qi_pdevtlb(q[1], bdf, pasid, d->ats_qdep, addr, pages);
    return os_qi_submit(m, q, d->ats ? 2 : 1);
}

/* Unbind (os-driver §2.4): clear P, flush the PASID cache, the PASID IOTLB
 * and (always, deviating from Linux under caching mode: the device's TLB
 * must not outlive the binding) the PASID device TLB, then drain page
 * requests: pending ones are answered before and after a wait with PD. */
int os_iommu_clear_pasid(struct os_iommu *m, uint16_t bdf, uint32_t pasid)
{
    struct os_iommu_dev *d = os_iommu_dev(m, bdf);
    if (!d || !pasid || pasid >= OS_PASID_MAX)
        return -22;
    os_lock(m->k, &m->ctx_lock);
    uint64_t pa = pasid_entry_addr(m, d, pasid), pte0 = 0, pte1 = 0;
    if (pa != OS_NO_PAGE) {
        pte0 = os_rd64(m->k, pa), pte1 = os_rd64(m->k, pa + 8);
        os_wr64(m->k, pa, pte0 & ~HW_FM(PASID_PTE, P));
    }
    os_unlock(&m->ctx_lock);
    /* Flush with the domain the entry carried: first-level SVA entries use
     * DID 1, nested and second-level entries their own domain's. */
    uint16_t did = (uint16_t)HW_FV(PASID_PTE, DID, pte1);
    if (!(pte0 & HW_FM(PASID_PTE, P)) || !did)
        did = OS_FLPT_DID;
    uint64_t q[4][4] = { { 0 } };
    os_qi_pc(q[0], 1, did, pasid);
    os_qi_piotlb(q[1], 2, did, pasid, 0, 0, false);
    unsigned n = 2;
    if (d->ats)
        os_qi_pdevtlb(q[n++], bdf, pasid, d->ats_qdep, 0, 1ULL << 52);
    int rc = os_qi_submit(m, q, n);
    if (m->prq) {
        os_iommu_prq_irq(m);
        uint64_t w[1][4] = { { 0 } };
        HW_SET(INV_WAIT, TYPE_LO, w[0], INV_TYPE_WAIT), HW_SET(INV_WAIT, FN, w[0], 1);
        HW_SET(INV_WAIT, PD, w[0], HW_FV(ECAP, PDS, m->ecap));
        int r2 = os_qi_submit(m, w, 1);
        rc = rc ? rc : r2;
        os_iommu_prq_irq(m);
    }
    if (pa != OS_NO_PAGE) {
        uint64_t zero[8] = { 0 };
        m->k->ops.phys_write(m->k->ops.ctx, pa, zero, 64);
    }
    return rc;
}

uint16_t os_iommu_did_alloc(struct os_iommu *m)
{
    unsigned n = 1u << (4 + 2 * (unsigned)HW_FV(CAP, ND, m->cap));
    uint16_t did = 0;
    os_lock(m->k, &m->did_lock);
    for (unsigned i = 2; i < n && i < 65536 && !did; i++)
        if (!(m->did_used[i / 8] & (1u << (i % 8)))) {
            m->did_used[i / 8] |= (uint8_t)(1u << (i % 8));
            did = (uint16_t)i;
        }
    os_unlock(&m->did_lock);
    return did;
}

void os_iommu_did_free(struct os_iommu *m, uint16_t did)
{
    os_lock(m->k, &m->did_lock);
    m->did_used[did / 8] &= (uint8_t)~(1u << (did % 8));
    os_unlock(&m->did_lock);
}

int os_iommu_set_pasid_raw(struct os_iommu *m, uint16_t bdf, uint32_t pasid, const uint64_t *pte)
{
    struct os_iommu_dev *d = os_iommu_dev(m, bdf);
    if (!d || !d->pasid || pasid >= OS_PASID_MAX)
        return -22;
    os_lock(m->k, &m->ctx_lock);
    int rc = write_pasid(m, d, pasid, pte, true);   /* may replace a present entry */
    os_unlock(&m->ctx_lock);
    return rc;
}

/* ---- replacing the entry behind requests without PASID (dma.c) -------- */

/* Teardown flush of a PASID entry that was present (Linux
 * intel_pasid_tear_down_entry): PASID cache; the IOTLB of a second-level or
 * nested domain, the PASID IOTLB of a first-level or pass-through one; the
 * device TLB with ATS (always, as os_iommu_clear_pasid: its cached
 * translations must not outlive the entry). */
static int flush_torn_pasid(struct os_iommu *m, struct os_iommu_dev *d, uint32_t pasid,
                            const uint64_t *pte)
{
    uint16_t did = (uint16_t)HW_GET(PASID_PTE, DID, pte);
    unsigned pgtt = (unsigned)HW_GET(PASID_PTE, PGTT, pte);
    uint64_t q[3][4] = { { 0 } };
    unsigned n = 0;
    os_qi_pc(q[n++], 1, did, pasid);
    if (pgtt == 2 || pgtt == 3)
        os_qi_iotlb(q[n++], 2, did, 0, 0, false);
    else
        os_qi_piotlb(q[n++], 2, did, pasid, 0, 0, false);
    if (d->ats && pasid == 0)
        os_qi_devtlb(q[n++], d->bdf, d->ats_qdep, 0, 1ULL << 52);
    else if (d->ats)
        os_qi_pdevtlb(q[n++], d->bdf, pasid, d->ats_qdep, 0, 1ULL << 52);
    return os_qi_submit(m, q, n);
}

int os_iommu_replace_pasid(struct os_iommu *m, uint16_t bdf, uint32_t pasid, const uint64_t *pte,
                           uint64_t *old)
{
    struct os_iommu_dev *d = os_iommu_dev(m, bdf);
    if (!m->sm || !d || !pte || pasid >= OS_PASID_MAX)
        return -22;
    os_lock(m->k, &m->ctx_lock);
    uint64_t pa = pasid_entry_addr(m, d, pasid), cur[8] = { 0 };
    int rc = pa == OS_NO_PAGE ? -12 : 0;
    if (!rc) {
        m->k->ops.phys_read(m->k->ops.ctx, pa, cur, sizeof(cur));
        if (HW_GET(PASID_PTE, P, cur)) {
            os_wr64(m->k, pa, cur[0] & ~HW_FM(PASID_PTE, P));
            rc = flush_torn_pasid(m, d, pasid, cur);
        }
        /* Written even when the flush failed: the old entry is not present
         * any more either way, and the caller learns of the failure. */
        int r2 = write_pasid(m, d, pasid, pte, false);
        rc = rc ? rc : r2;
    }
    os_unlock(&m->ctx_lock);
    if (old)
        __builtin_memcpy(old, cur, sizeof(cur));
    return rc;
}

int os_iommu_replace_ctx(struct os_iommu *m, uint16_t bdf, const uint64_t *ce, uint64_t *old)
{
    struct os_iommu_dev *d = os_iommu_dev(m, bdf);
    if (m->sm || !d || !ce)
        return -22;
    os_lock(m->k, &m->ctx_lock);
    uint64_t ea = ctx_entry_addr(m, bdf), cur[2] = { 0, 0 };
    int rc = ea == OS_NO_PAGE ? -12 : 0;
    if (!rc) {
        cur[0] = os_rd64(m->k, ea), cur[1] = os_rd64(m->k, ea + 8);
        if (HW_GET(CTX, P, cur)) {   /* Linux domain_context_clear_one */
            uint16_t did = (uint16_t)HW_GET(CTX, DID, cur);
            uint64_t q[3][4] = { { 0 } };
            unsigned n = 0;
            os_wr64(m->k, ea, cur[0] & ~HW_FM(CTX, P));
            os_qi_cc(q[n++], 3, did, bdf, 0);
            os_qi_iotlb(q[n++], 2, did, 0, 0, false);
            if (d->ats)
                os_qi_devtlb(q[n++], bdf, d->ats_qdep, 0, 1ULL << 52);
            rc = os_qi_submit(m, q, n);
        }
        os_wr64(m->k, ea + 8, ce[1]);
        os_wr64(m->k, ea, ce[0]);
    }
    os_unlock(&m->ctx_lock);
    if (old)
        old[0] = cur[0], old[1] = cur[1];
    if (rc || !m->cm || !HW_GET(CTX, P, ce))
        return rc;
    uint64_t q[2][4] = { { 0 } };   /* CM: context-cache device-selective DID 0, IOTLB DSI */
    os_qi_cc(q[0], 3, 0, bdf, 0);
    os_qi_iotlb(q[1], 2, (uint16_t)HW_GET(CTX, DID, ce), 0, 0, false);
    return os_qi_submit(m, q, 2);
}
