/* The page request handler (Linux prq_event_thread, os-driver §2.5):
 * PPR is cleared first, the requests between PQH and PQT are decoded and
 * resolved, the responses of the pass go out in one queued-invalidation
 * submission, then PQH = PQT and an overflow is cleared once the queue is
 * empty. Page request groups: a group's requests are resolved as they come
 * (LPIG = 0 ones are remembered), and the group is answered once, at its
 * last request, with the first error of the group (sticky, as io-pgfault). */
#include "lib/hw_regs.h"
#include "os/iommu.h"

#define PRQ_BATCH  32
#define PRQ_GROUPS (sizeof(((struct os_iommu *)0)->prq_group) / sizeof(struct os_prq_group))

static bool canonical(uint64_t va)
{
    uint64_t hi = va >> 47;   /* 4-level; a 5-level process gets its own check in iopf */
    return hi == 0 || hi == 0x1FFFF;
}

static void decode(const uint64_t *d, struct os_page_req *pr)
{
    *pr = (struct os_page_req){
        .sid = (uint16_t)HW_GET(PAGE_REQ, RID, d), .pasid_present = HW_GET(PAGE_REQ, PP, d),
        .pasid = (uint32_t)HW_GET(PAGE_REQ, PASID, d), .exec = HW_GET(PAGE_REQ, EXE, d),
        .priv = HW_GET(PAGE_REQ, PRIV, d), .read = HW_GET(PAGE_REQ, RDR, d),
        .write = HW_GET(PAGE_REQ, WRR, d), .lpig = HW_GET(PAGE_REQ, LPIG, d),
        .prgi = (uint16_t)HW_GET(PAGE_REQ, PRGI, d), .pdp = HW_GET(PAGE_REQ, PDP, d),
        .addr = HW_RAW(PAGE_REQ, ADDR, d), .priv_data = { d[2], d[3] } };
}

/* Linux's refusals (os-driver §2.5 step 2): no PASID, non-canonical,
 * privileged with read/write, execute with read. */
static int resolve(struct os_iommu *m, const struct os_page_req *pr)
{
    if (!pr->pasid_present || !canonical(pr->addr) || (pr->priv && (pr->read || pr->write)) ||
        (pr->exec && pr->read) || !m->iopf)
        return -1;
    return m->iopf(m->iopf_arg, m, pr);
}

static struct os_prq_group *group(struct os_iommu *m, const struct os_page_req *pr, bool create)
{
    struct os_prq_group *groups = m->prq_group;
    for (unsigned i = 0; i < PRQ_GROUPS; i++)
        if (groups[i].used && groups[i].sid == pr->sid && groups[i].prgi == pr->prgi &&
            groups[i].pasid == pr->pasid)
            return &groups[i];
    for (unsigned i = 0; create && i < PRQ_GROUPS; i++)
        if (!groups[i].used) {
            groups[i] = (struct os_prq_group){ true, false, pr->sid, pr->prgi, pr->pasid };
            return &groups[i];
        }
    return NULL;
}

/* Returns whether a response is due (and its code in *rc). */
static bool handle_one(struct os_iommu *m, const struct os_page_req *pr, unsigned *rc)
{
    __atomic_fetch_add(&m->prq_handled, 1, __ATOMIC_RELAXED);
    if (pr->lpig && !pr->read && !pr->write && !pr->exec)
        return false;                          /* stop marker: no response */
    int r = resolve(m, pr);
    if (r == OS_IOPF_DEFERRED)
        return false;                          /* whoever took it answers */
    bool failed = r != 0;
    struct os_prq_group *g = group(m, pr, !pr->lpig);
    if (g)
        failed |= g->failed, g->failed = failed;
    if (!pr->lpig && !pr->pdp)
        return false;
    if (g && pr->lpig)
        g->used = false;
    if (failed)
        __atomic_fetch_add(&m->prq_invalid, 1, __ATOMIC_RELAXED);
    *rc = failed ? 1 : 0;                      /* QI_RESP_INVALID / QI_RESP_SUCCESS */
    return true;
}

int os_iommu_page_response(struct os_iommu *m, const struct os_page_req *pr, unsigned rc)
{
    uint64_t d[1][4] = { { 0 } };
    os_qi_pgresp(d[0], pr, rc);
    return os_qi_submit(m, d, 1);
}

void os_iommu_prq_irq(void *arg)
{
    struct os_iommu *m = arg;
    if (!m->prq)
        return;
    os_lock(m->k, &m->prq_lock);
    os_iommu_wr(m, REG_OFF_PRS, 4, HW_FM(PRS, PPR));
    uint64_t tail = os_iommu_rd(m, REG_OFF_PQT, 8) & HW_FM(PQT, PQT);
    uint64_t head = os_iommu_rd(m, REG_OFF_PQH, 8) & HW_FM(PQH, PQH);
    uint64_t resp[PRQ_BATCH][4];
    unsigned n = 0;
    for (unsigned guard = 0; head != tail && guard < m->prq_bytes / 32; guard++) {
        uint64_t d[4];
        struct os_page_req pr;
        unsigned rc;
        m->k->ops.phys_read(m->k->ops.ctx, m->prq + head, d, 32);
        decode(d, &pr);
        if (handle_one(m, &pr, &rc)) {
            for (unsigned q = 0; q < 4; q++)
                resp[n][q] = 0;
            os_qi_pgresp(resp[n++], &pr, rc);
        }
        if (n == PRQ_BATCH) {
            os_qi_submit(m, (const uint64_t (*)[4])resp, n);
            n = 0;
        }
        head = (head + 32) % m->prq_bytes;
    }
    if (n)
        os_qi_submit(m, (const uint64_t (*)[4])resp, n);
    os_iommu_wr(m, REG_OFF_PQH, 8, tail);
    uint32_t prs = (uint32_t)os_iommu_rd(m, REG_OFF_PRS, 4);
    if ((prs & HW_FM(PRS, PRO)) &&
        (os_iommu_rd(m, REG_OFF_PQT, 8) & HW_FM(PQT, PQT)) == tail) {
        os_log(m->k, 1, "dmar%u: page request overflow cleared", m->index);
        os_iommu_wr(m, REG_OFF_PRS, 4, HW_FM(PRS, PRO));
    }
    os_unlock(&m->prq_lock);
}
