/* The fault handler, as Linux's dmar_fault reads the records (os-driver
 * §2.7, vtd-reference §5.2): from FSTS.FRI while F is set, dword 3 first,
 * clearing each record by writing F back; then PFO/PPF in FSTS. */
#include "lib/hw_regs.h"
#include "os/iommu.h"

static const char *reason_text(uint8_t r)
{
    switch (r) {
    case 0x01: return "root entry not present";
    case 0x02: return "context entry not present";
    case 0x05: return "no write permission";
    case 0x06: return "no read permission";
    case 0x39: return "scalable root entry not present";
    case 0x41: return "scalable context entry not present";
    case 0x59: return "PASID entry not present";
    case 0x71: return "first-level entry not present";
    case 0x81: return "user request to supervisor page";
    case 0x85: return "no write permission";
    case 0x86: return "no read permission";
    case 0x87: return "address in interrupt range";
    default:   return "see the fault reason table";
    }
}

/* The handler is the only writer; other threads read nfault with acquire
 * and then the records it covers, so the count is published after them. */
static void record(struct os_iommu *m, const struct os_fault *f)
{
    unsigned n = m->nfault;
    m->fault[n % OS_FAULT_LOG] = *f;
    __atomic_store_n(&m->nfault, n + 1, __ATOMIC_RELEASE);
    if (f->pasid_present)
        os_log(m->k, 1, "dmar%u: DMA %s fault [%02x:%02x.%u] PASID %#x addr %#llx: reason %#x (%s)",
               m->index, f->write ? "write" : "read", f->sid >> 8, (f->sid >> 3) & 0x1F,
               f->sid & 7, f->pasid, (unsigned long long)f->addr, f->reason, reason_text(f->reason));
    else
        os_log(m->k, 1, "dmar%u: DMA %s fault [%02x:%02x.%u] addr %#llx: reason %#x (%s)",
               m->index, f->write ? "write" : "read", f->sid >> 8, (f->sid >> 3) & 0x1F,
               f->sid & 7, (unsigned long long)f->addr, f->reason, reason_text(f->reason));
}

/* Records are read until one with F clear, however many laps of the ring
 * that takes (Linux dmar_fault): under a fault flood, records land behind
 * the handler while it works, and one lap would leave them pending. A unit
 * raises no fault event while PPF or PFO is set (§5.3), so anything left
 * set when the handler returns stops fault reporting for good; for the
 * same reason PFO is cleared from FSTS as it is at the end, not as it was
 * on entry. The budget only bounds one call against a device faulting
 * faster than the handler reads, forever. */
#define FAULT_BUDGET 65536u

void os_iommu_fault_irq(void *arg)
{
    struct os_iommu *m = arg;
    uint32_t fsts = (uint32_t)os_iommu_rd(m, REG_OFF_FSTS, 4);
    if (fsts & HW_FM(FSTS, PPF)) {
        unsigned nfr = (unsigned)HW_FV(CAP, NFR, m->cap) + 1;
        uint32_t fro = (uint32_t)HW_FV(CAP, FRO, m->cap) * 16;
        unsigned i = (unsigned)HW_FV(FSTS, FRI, fsts) % nfr, seen = 0;
        for (; seen < FAULT_BUDGET; seen++, i = (i + 1) % nfr) {
            uint32_t off = fro + 16 * i;
            uint32_t d3 = (uint32_t)os_iommu_rd(m, off + 12, 4);
            uint64_t hi = (uint64_t)d3 << 32 | (uint32_t)os_iommu_rd(m, off + 8, 4);
            if (!HW_FV(FRCD, F, hi))
                break;
            struct os_fault f = {
                .sid = (uint16_t)HW_FV(FRCD, SID, hi), .reason = (uint8_t)HW_FV(FRCD, FR, hi),
                .pasid_present = HW_FV(FRCD, PP, hi), .pasid = (uint32_t)HW_FV(FRCD, PV, hi),
                .write = !HW_FV(FRCD, T1, hi) && !HW_FV(FRCD, T2, hi),
                .addr = os_iommu_rd(m, off, 8) & ~0xFFFULL };
            os_iommu_wr(m, off + 12, 4, (uint32_t)(HW_FM(FRCD, F) >> 32));
            record(m, &f);
            if (m->fault_notify)
                m->fault_notify(m->fault_arg, m, &f);
        }
        if (seen == FAULT_BUDGET)
            os_log(m->k, 0, "dmar%u: fault storm: %u records in one pass", m->index, seen);
        fsts = (uint32_t)os_iommu_rd(m, REG_OFF_FSTS, 4);
    }
    uint32_t clear = (uint32_t)(fsts & (HW_FM(FSTS, PFO) | HW_FM(FSTS, ICE)));
    if (fsts & HW_FM(FSTS, PFO))
        os_log(m->k, 0, "dmar%u: fault overflow: faults were lost", m->index);
    if (clear)
        os_iommu_wr(m, REG_OFF_FSTS, 4, clear);
}
