/* Unit discovery and the boot sequence of Linux 6.1 (os-driver §2.1):
 * fault drain, QI enable, root table with SRTP, the global invalidations,
 * the page request queue, the fault and page-request MSIs. Translation is
 * enabled separately, after devices are attached (step 9). */
#include "lib/hw_regs.h"
#include "os/iommu.h"

#define WAIT_LIMIT 10000000u
#define QI_PAGES   2          /* QS = 1: 8 KiB (256 x 256-bit or 512 x 128-bit) */
#define PRQ_PAGES  16         /* PQS = 4: 64 KiB, 2048 requests (Linux PRQ_ORDER 4) */

static int gsts_wait(struct os_iommu *m, uint32_t bit, bool set)
{
    for (unsigned i = 0; i < WAIT_LIMIT; i++) {
        if (((os_iommu_rd(m, REG_OFF_GSTS, 4) & bit) != 0) == set)
            return 0;
        m->k->ops.relax(m->k->ops.ctx);
    }
    os_log(m->k, 0, "dmar%u: hardware is malfunctioning (GSTS %#x never %s)", m->index, bit,
           set ? "set" : "cleared");
    return -5;
}

/* One command at a time, with the shadow of the persistent bits (§1.5). */
static int gcmd(struct os_iommu *m, uint32_t bit, bool persistent, bool on)
{
    if (persistent)
        m->gcmd = on ? m->gcmd | bit : m->gcmd & ~bit;
    os_iommu_wr(m, REG_OFF_GCMD, 4, m->gcmd | (persistent ? 0 : bit));
    return gsts_wait(m, bit, on);   /* status bits sit at the command positions */
}

static int enable_qi(struct os_iommu *m)
{
    if (!HW_FV(ECAP, QI, m->ecap)) {
        os_log(m->k, 0, "dmar%u: no queued invalidation: unit not usable", m->index);
        return -95;
    }
    if (os_iommu_rd(m, REG_OFF_GSTS, 4) & HW_FM(GSTS, QIES))
        gcmd(m, (uint32_t)HW_FM(GCMD, QIE), true, false);
    m->dw = HW_FV(ECAP, SMTS, m->ecap);   /* Linux: 256-bit descriptors whenever SMTS */
    m->iq_len = QI_PAGES * 4096 / (m->dw ? 32 : 16);
    m->iq_tail = 0;
    m->iq = m->k->ops.pages_alloc(m->k->ops.ctx, QI_PAGES);
    m->status = m->k->ops.page_alloc(m->k->ops.ctx);
    if (m->iq == OS_NO_PAGE || m->status == OS_NO_PAGE)
        return -12;
    os_iommu_wr(m, REG_OFF_IQT, 4, 0);
    os_iommu_wr(m, REG_OFF_IQA, 8, m->iq | HW_FMK(IQA, DW, m->dw) | HW_FMK(IQA, QS, 1));
    return gcmd(m, (uint32_t)HW_FM(GCMD, QIE), true, true);
}

/* Root table, SRTP, and unless ESRTPS the global context-cache, PASID-cache
 * (scalable) and IOTLB invalidations, each with its own wait (§2.1 step 5). */
static int set_root(struct os_iommu *m)
{
    m->root = m->k->ops.page_alloc(m->k->ops.ctx);
    if (m->root == OS_NO_PAGE)
        return -12;
    os_iommu_wr(m, REG_OFF_RTADDR, 8, m->root | HW_FMK(RTADDR, TTM, m->sm ? 1 : 0));
    int rc = gcmd(m, (uint32_t)HW_FM(GCMD, SRTP), false, true);
    if (rc || HW_FV(CAP, ESRTPS, m->cap))
        return rc;
    uint64_t d[1][4] = { { 0 } };
    os_qi_cc(d[0], 1, 0, 0, 0);
    rc = os_qi_submit(m, d, 1);
    if (m->sm && !rc) {
        uint64_t p[1][4] = { { 0 } };
        os_qi_pc(p[0], 3, 0, 0);
        rc = os_qi_submit(m, p, 1);
    }
    uint64_t t[1][4] = { { 0 } };
    os_qi_iotlb(t[0], 1, 0, 0, 0, false);
    return rc ? rc : os_qi_submit(m, t, 1);
}

/* MSI for one event quad: data at ctl+4, address at +8, upper at +12, then
 * unmask (os-driver §2.1 steps 6-7). */
static int setup_msi(struct os_iommu *m, uint32_t ctl, os_irq_fn fn)
{
    unsigned vec = os_irq_alloc(m->k, fn, m);
    if (!vec)
        return -28;
    os_iommu_wr(m, ctl + 4, 4, vec);
    os_iommu_wr(m, ctl + 8, 4, OS_MSI_ADDR);
    os_iommu_wr(m, ctl + 12, 4, 0);
    os_iommu_wr(m, ctl, 4, 0);
    return 0;
}

static int enable_prq(struct os_iommu *m)
{
    m->prq = m->k->ops.pages_alloc(m->k->ops.ctx, PRQ_PAGES);
    if (m->prq == OS_NO_PAGE)
        return -12;
    m->prq_bytes = PRQ_PAGES * 4096;
    int rc = setup_msi(m, REG_OFF_PECTL, os_iommu_prq_irq);
    os_iommu_wr(m, REG_OFF_PQH, 8, 0);
    os_iommu_wr(m, REG_OFF_PQT, 8, 0);
    os_iommu_wr(m, REG_OFF_PQA, 8, m->prq | 4);
    return rc;
}

static int unit_init(struct os_kernel *k, struct os_iommu *m, unsigned index, uint64_t base)
{
    *m = (struct os_iommu){ .k = k, .index = index, .base = base };
    m->ver = (uint32_t)os_iommu_rd(m, REG_OFF_VER, 4);
    m->cap = os_iommu_rd(m, REG_OFF_CAP, 8);
    m->ecap = os_iommu_rd(m, REG_OFF_ECAP, 8);
    if (m->cap == ~0ULL && m->ecap == ~0ULL)
        return -19;   /* Linux: both all-ones means no unit there */
    m->sm = HW_FV(ECAP, SMTS, m->ecap) && (HW_FV(ECAP, FLTS, m->ecap) || HW_FV(ECAP, SLTS, m->ecap));
    m->cm = HW_FV(CAP, CM, m->cap);
    uint32_t gsts = (uint32_t)os_iommu_rd(m, REG_OFF_GSTS, 4);
    if (gsts & HW_FM(GSTS, TES)) {
        os_log(k, 1, "dmar%u: translation was enabled, disabling it", index);
        gcmd(m, (uint32_t)HW_FM(GCMD, TE), true, false);
    }
    os_iommu_fault_irq(m);                           /* drain stale records */
    int rc = enable_qi(m);
    rc = rc ? rc : set_root(m);
    if (!rc && m->sm && HW_FV(ECAP, PASID, m->ecap) && HW_FV(ECAP, PRS, m->ecap))
        rc = enable_prq(m);
    rc = rc ? rc : setup_msi(m, REG_OFF_FECTL, os_iommu_fault_irq);
    os_log(k, 1, "dmar%u: %#llx ver %u.%u cap %#llx ecap %#llx %s%s%s", index,
           (unsigned long long)base, m->ver >> 4 & 0xF, m->ver & 0xF, (unsigned long long)m->cap,
           (unsigned long long)m->ecap, m->sm ? "scalable" : "legacy", m->cm ? " caching-mode" : "",
           rc ? " (failed)" : "");
    return rc;
}

int os_iommu_probe(struct os_kernel *k, const uint8_t *dmar, size_t len,
                   struct os_iommu *units, struct dmar_info *info)
{
    const char *why = "";
    if (dmar_parse(dmar, len, info, &why)) {
        os_log(k, 0, "DMAR: %s", why);
        return -1;
    }
    for (unsigned i = 0; i < info->nunits; i++)
        if (unit_init(k, &units[i], i, info->unit[i].base))
            return -1;
    return (int)info->nunits;
}

int os_iommu_enable_translation(struct os_iommu *m)
{
    return gcmd(m, (uint32_t)HW_FM(GCMD, TE), true, true);
}
