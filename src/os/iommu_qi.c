/* Queued invalidation as Linux's qi_submit_sync does it (os-driver §2.1):
 * descriptors and a wait descriptor with a status write go into the ring,
 * IQT is written once (32-bit), and the status word is polled. Submissions
 * are serialised, so the ring is empty whenever the lock is free. */
#include "lib/hw_regs.h"
#include "os/iommu.h"

#define QI_POLL_LIMIT 100000000u   /* without a clock */
#define QI_TIMEOUT_NS 1000000000ULL /* Linux: DMAR_OPERATION_TIMEOUT-like bound */

uint64_t os_iommu_rd(struct os_iommu *m, uint32_t off, unsigned size)
{
    return m->k->ops.mmio_read(m->k->ops.ctx, m->base + off, size);
}

void os_iommu_wr(struct os_iommu *m, uint32_t off, unsigned size, uint64_t v)
{
    m->k->ops.mmio_write(m->k->ops.ctx, m->base + off, size, v);
}

/* ---- descriptor builders (vtd-reference §4.3-§4.8) -------------------- */
void os_qi_cc(uint64_t *d, unsigned g, uint16_t did, uint16_t sid, unsigned fm)
{
    HW_SET(INV_CC, TYPE_LO, d, INV_TYPE_CC), HW_SET(INV_CC, G, d, g);
    HW_SET(INV_CC, DID, d, did), HW_SET(INV_CC, SID, d, sid), HW_SET(INV_CC, FM, d, fm);
}

void os_qi_iotlb(uint64_t *d, unsigned g, uint16_t did, uint64_t addr, unsigned am, bool ih)
{
    HW_SET(INV_IOTLB, TYPE_LO, d, INV_TYPE_IOTLB), HW_SET(INV_IOTLB, G, d, g);
    HW_SET(INV_IOTLB, DID, d, did), HW_SET(INV_IOTLB, AM, d, am), HW_SET(INV_IOTLB, IH, d, ih);
    HW_SET(INV_IOTLB, ADDR, d, addr >> 12);
}

void os_qi_pc(uint64_t *d, unsigned g, uint16_t did, uint32_t pasid)
{
    HW_SET(INV_PC, TYPE_LO, d, INV_TYPE_PC), HW_SET(INV_PC, G, d, g);
    HW_SET(INV_PC, DID, d, did), HW_SET(INV_PC, PASID, d, pasid);
}

void os_qi_piotlb(uint64_t *d, unsigned g, uint16_t did, uint32_t pasid, uint64_t addr,
                  unsigned am, bool ih)
{
    HW_SET(INV_PIOTLB, TYPE_LO, d, INV_TYPE_PIOTLB), HW_SET(INV_PIOTLB, G, d, g);
    HW_SET(INV_PIOTLB, DID, d, did), HW_SET(INV_PIOTLB, PASID, d, pasid);
    HW_SET(INV_PIOTLB, AM, d, am), HW_SET(INV_PIOTLB, IH, d, ih);
    HW_SET(INV_PIOTLB, ADDR, d, addr >> 12);
}

unsigned os_qi_cover_order(uint64_t addr, uint64_t pages)
{
    uint64_t pfn = addr >> 12, last = pfn + (pages ? pages - 1 : 0);
    unsigned k = 0;
    while ((pfn >> k) != (last >> k) && k < 52)
        k++;
    return k;
}

/* Size encoding of §4.5 as Linux builds it: 2^k pages (k >= 1) have
 * address bits 12 .. 12+k-2 set and S = 1, over the smallest aligned
 * block covering [addr, addr + pages) (os_qi_cover_order). */
void os_qi_pdevtlb(uint64_t *d, uint16_t sid, uint32_t pasid, unsigned qdep, uint64_t addr,
                   uint64_t pages)
{
    unsigned k = os_qi_cover_order(addr, pages);
    addr &= ~((4096ULL << k) - 1);
    HW_SET(INV_PDEVTLB, TYPE_LO, d, INV_TYPE_PDEVTLB), HW_SET(INV_PDEVTLB, SID, d, sid);
    HW_SET(INV_PDEVTLB, PASID, d, pasid), HW_SET(INV_PDEVTLB, MIP, d, qdep >= 32 ? 0 : qdep);
    if (k) {
        addr |= ((1ULL << (k - 1)) - 1) << 12;
        HW_SET(INV_PDEVTLB, S, d, 1);
    }
    HW_SET(INV_PDEVTLB, ADDR, d, addr >> 12);
}

void os_qi_pgresp(uint64_t *d, const struct os_page_req *pr, unsigned rc)
{
    HW_SET(INV_PGRESP, TYPE_LO, d, INV_TYPE_PGRESP), HW_SET(INV_PGRESP, PP, d, pr->pasid_present);
    HW_SET(INV_PGRESP, PDP, d, pr->pdp), HW_SET(INV_PGRESP, RC, d, rc);
    HW_SET(INV_PGRESP, RID, d, pr->sid), HW_SET(INV_PGRESP, PASID, d, pr->pasid);
    HW_SET(INV_PGRESP, LPIG, d, pr->lpig), HW_SET(INV_PGRESP, PRGI, d, pr->prgi);
    if (pr->pdp)
        d[2] = pr->priv_data[0], d[3] = pr->priv_data[1];
}

/* ---- submission ------------------------------------------------------- */
static void qi_put(struct os_iommu *m, const uint64_t *d)
{
    uint64_t at = m->iq + (uint64_t)m->iq_tail * (m->dw ? 32 : 16);
    m->k->ops.phys_write(m->k->ops.ctx, at, d, m->dw ? 32 : 16);
    m->iq_tail = (m->iq_tail + 1) % m->iq_len;
}

/* IQE (§4.9): the descriptor at IQH was refused. It need not be one of
 * ours: an error pending before this submission (a descriptor or a tail
 * written behind the kernel's back) left the unit stopped at the slot our
 * first descriptor has overwritten since. So the first IQE at a slot is
 * only cleared, and the unit fetches the slot again; refused again, it is
 * our own bad descriptor, which Linux replaces with a harmless one (a wait
 * without status write) so that the queue goes on to our wait. Replacing
 * it at once cost the kernel a valid descriptor after a foreign error
 * (test_fault_inject.c: test_host_qi_foreign_error). *retried holds the
 * slot already given its second chance. */
static int qi_handle_error(struct os_iommu *m, uint32_t fsts, uint64_t *retried)
{
    if (fsts & HW_FM(FSTS, IQE)) {
        uint64_t head = os_iommu_rd(m, REG_OFF_IQH, 8), rec = os_iommu_rd(m, REG_OFF_IQERCD, 8);
        if (*retried != head) {
            os_log(m->k, 0, "dmar%u: invalidation queue error IQEI=%u at %#llx", m->index,
                   (unsigned)HW_FV(IQERCD, IQEI, rec), (unsigned long long)head);
            *retried = head;
            os_iommu_wr(m, REG_OFF_FSTS, 4, HW_FM(FSTS, IQE));
            __atomic_fetch_add(&m->qi_errors, 1, __ATOMIC_RELAXED);
            return 0;
        }
        uint64_t nop[4] = { 0 };
        HW_SET(INV_WAIT, TYPE_LO, nop, INV_TYPE_WAIT);
        os_log(m->k, 0, "dmar%u: descriptor at %#llx refused again: skipped", m->index,
               (unsigned long long)head);
        m->k->ops.phys_write(m->k->ops.ctx, m->iq + head, nop, m->dw ? 32 : 16);
        os_iommu_wr(m, REG_OFF_FSTS, 4, HW_FM(FSTS, IQE));
        return -22;   /* -EINVAL */
    }
    if (fsts & HW_FM(FSTS, ITE)) {
        os_log(m->k, 0, "dmar%u: device-TLB invalidation timed out (sid %#llx)", m->index,
               (unsigned long long)HW_FV(IQERCD, ITESID, os_iommu_rd(m, REG_OFF_IQERCD, 8)));
        os_iommu_wr(m, REG_OFF_FSTS, 4, HW_FM(FSTS, ITE));
        __atomic_fetch_add(&m->qi_errors, 1, __ATOMIC_RELAXED);
        return -110;  /* -ETIMEDOUT */
    }
    if (fsts & HW_FM(FSTS, ICE)) {
        os_log(m->k, 1, "dmar%u: invalidation completion error cleared", m->index);
        os_iommu_wr(m, REG_OFF_FSTS, 4, HW_FM(FSTS, ICE));
    }
    return 0;
}

int os_qi_submit(struct os_iommu *m, const uint64_t (*desc)[4], unsigned n)
{
    if (n + 1 >= m->iq_len)
        return -22;
    os_lock(m->k, &m->qi_lock);
    uint32_t busy = OS_QI_IN_USE;
    m->k->ops.phys_write(m->k->ops.ctx, m->status, &busy, 4);
    for (unsigned i = 0; i < n; i++)
        qi_put(m, desc[i]);
    uint64_t w[4] = { 0 };
    HW_SET(INV_WAIT, TYPE_LO, w, INV_TYPE_WAIT), HW_SET(INV_WAIT, SW, w, 1);
    HW_SET(INV_WAIT, STDATA, w, OS_QI_DONE), HW_SET(INV_WAIT, STADDR, w, m->status >> 2);
    qi_put(m, w);
    os_iommu_wr(m, REG_OFF_IQT, 4, (uint64_t)m->iq_tail << (m->dw ? 5 : 4));
    __atomic_fetch_add(&m->qi_submits, 1, __ATOMIC_RELAXED);
    int rc = 0;
    uint64_t retried = ~0ULL;
    struct os_kernel *k = m->k;
    uint64_t start = k->ops.now_ns ? k->ops.now_ns(k->ops.ctx) : 0;
    for (unsigned spin = 0;; spin++) {
        if (os_rd32(m->k, m->status) == OS_QI_DONE)
            break;
        uint32_t fsts = (uint32_t)os_iommu_rd(m, REG_OFF_FSTS, 4);
        int e = qi_handle_error(m, fsts, &retried);
        rc = rc ? rc : e;
        bool late = k->ops.now_ns ? k->ops.now_ns(k->ops.ctx) - start > QI_TIMEOUT_NS
                                  : spin == QI_POLL_LIMIT;
        if (late) {
            os_log(m->k, 0, "dmar%u: invalidation never completed", m->index);
            rc = -5;  /* -EIO */
            break;
        }
        m->k->ops.relax(m->k->ops.ctx);
    }
    os_unlock(&m->qi_lock);
    return rc;
}

/* The same size encoding for the device-TLB descriptor without PASID
 * (type 3), which Linux uses for RID_PASID / legacy DMA domains (os-driver
 * §2.3: qi_flush_dev_iotlb). */
void os_qi_devtlb(uint64_t *d, uint16_t sid, unsigned qdep, uint64_t addr, uint64_t pages)
{
    unsigned k = os_qi_cover_order(addr, pages);
    addr &= ~((4096ULL << k) - 1);
    HW_SET(INV_DEVTLB, TYPE_LO, d, INV_TYPE_DEVTLB), HW_SET(INV_DEVTLB, SID, d, sid);
    HW_SET(INV_DEVTLB, MIP, d, qdep >= 32 ? 0 : qdep);
    if (k) {
        addr |= ((1ULL << (k - 1)) - 1) << 12;
        HW_SET(INV_DEVTLB, S, d, 1);
    }
    HW_SET(INV_DEVTLB, ADDR, d, addr >> 12);
}
