/* Page requests (vtd-reference.md §6): checks against the translation
 * structures, the page request queue (PQA/PQH/PQT, PRS.PPR/PRO, the
 * page-request event), responses the unit gives itself, and page group
 * responses routed to the device. */
#include "lib/trace.h"
#include "vtd/xlate.h"

/* A page request goes through the same root/context structures as a
 * request (§6.3 step 1): legacy TTM -> 0x32; a scalable context must be
 * present with PRE=1 (0x47), with PASIDE for a request with PASID (0x45)
 * and the PASID within PDTS (0x46). The PASID table itself is software's
 * business at page-request time and is not consulted. */
#define PRQ_BLOCKED 0xFF   /* abort-DMA mode: refused without a record */

static uint8_t prq_check(struct vtd_unit *u, const struct vtd_page_req *pr, bool *fpd)
{
    if (u->ttm == 3 && ECAP(u, ADMS))
        return PRQ_BLOCKED;   /* like DMA in that mode (§1.6): no fault record */
    if (u->ttm != 1)
        return u->ttm == 0 ? VTD_FR_SM_TTM_PRQ : VTD_FR_SM_RTADDR_INVALID;
    const struct ctx_cache_entry *ce;
    uint8_t f = xl_sm_ctx_entry(u, pr->sid, &ce, fpd);
    if (f)
        return f;
    if (!ce->pre)
        return VTD_FR_SM_CTX_PRE;
    if (pr->pasid_present && !ce->paside)
        return VTD_FR_SM_CTX_PASIDE;
    if (pr->pasid_present && ((pr->pasid >> 6) >> (ce->pdts + 7)))
        return VTD_FR_SM_CTX_PDTS;
    return 0;
}

void vtd_prq_respond(struct vtd_unit *u, const struct vtd_page_resp *r)
{
    int d = vtd_dev_find(u, r->sid);
    trace(vtd_prg_resp, "sid=%#x pasid=%s%#x prgi=%u rc=%u%s", r->sid,
          r->pasid_present ? "" : "-", r->pasid, r->prgi, r->rc, d < 0 ? " (no device)" : "");
    if (d >= 0 && u->dev[d].ops->page_response)
        u->dev[d].ops->page_response(u->dev[d].opaque, r);
}

/* The unit answers a request it does not deliver when the device is
 * waiting for a group response: the last request of a group, or one with
 * private data (§6.4). */
static void auto_respond(struct vtd_unit *u, const struct vtd_page_req *pr, enum vtd_prg_rc rc)
{
    if (!pr->lpig && !pr->pdp)
        return;
    struct vtd_page_resp r = { .sid = pr->sid, .pasid_present = pr->pasid_present,
                               .pasid = pr->pasid, .prgi = pr->prgi, .lpig = pr->lpig, .rc = rc,
                               .pdp = pr->pdp, .priv_data = { pr->priv_data[0], pr->priv_data[1] } };
    vtd_prq_respond(u, &r);
}

static void prq_record_fault(struct vtd_unit *u, const struct vtd_page_req *pr, uint8_t f, bool fpd)
{
    if (vtd_fault_qualified(f) && fpd)
        return;
    struct vtd_req req = { .sid = pr->sid, .pasid_present = pr->pasid_present,
                           .pasid = pr->pasid, .addr = pr->addr, .write = pr->write,
                           .exec = pr->exec, .priv = pr->priv };
    vtd_fault_record(u, &req, f, true);
}

static int prq_write(struct vtd_unit *u, const struct vtd_page_req *pr, uint64_t at)
{
    uint64_t d[4] = { 0 };
    HW_SET(PAGE_REQ, TYPE, d, 1);   /* page request descriptor type (QEMU's PRI series) */
    HW_SET(PAGE_REQ, PP, d, pr->pasid_present);
    HW_SET(PAGE_REQ, PDP, d, pr->pdp);
    HW_SET(PAGE_REQ, RID, d, pr->sid);
    HW_SET(PAGE_REQ, PASID, d, pr->pasid_present ? pr->pasid : 0);
    HW_SET(PAGE_REQ, EXE, d, pr->exec);
    HW_SET(PAGE_REQ, PRIV, d, pr->priv);
    HW_SET(PAGE_REQ, RDR, d, pr->read);
    HW_SET(PAGE_REQ, WRR, d, pr->write);
    HW_SET(PAGE_REQ, LPIG, d, pr->lpig);
    HW_SET(PAGE_REQ, PRGI, d, pr->prgi);
    HW_SET(PAGE_REQ, ADDR, d, pr->addr >> 12);
    if (pr->pdp)
        d[2] = pr->priv_data[0], d[3] = pr->priv_data[1];
    if (um_write(u, at, d, sizeof(d))) {
        trace(vtd_prq, "queue entry %#llx outside memory: request refused", (unsigned long long)at);
        return -1;
    }
    trace_struct(vtd_prq, HWS_PAGE_REQ, d, "queued @%#llx:", (unsigned long long)at);
    return 0;
}

/* §6.3 steps 3-5 and §5.3: a request is dropped while PRO is set or when
 * the queue is full (which sets PRO); PPR is set on delivery; the event
 * fires when neither PPR nor PRO was set before. Decision ([UNVERIFIED]
 * §6.3 step 6): a request the unit drops for lack of room is answered
 * Success, so the device retries and asks again once software has made
 * room; a request blocked by a translation fault is answered Invalid. */
static void prq_enqueue(struct vtd_unit *u, const struct vtd_page_req *pr)
{
    uint64_t prs = u->reg[REG_PRS], pqa = u->reg[REG_PQA];
    uint64_t size = PAGE_SIZE << HW_FV(PQA, PQS, pqa);
    uint64_t tail = u->reg[REG_PQT] & HW_FM(PQT, PQT), head = u->reg[REG_PQH] & HW_FM(PQH, PQH);
    bool was_pending = prs & (HW_FM(PRS, PPR) | HW_FM(PRS, PRO));
    if (prs & HW_FM(PRS, PRO)) {
        trace(vtd_prq, "sid=%#x dropped: PRO set", pr->sid);
        auto_respond(u, pr, VTD_PRG_SUCCESS);
        return;
    }
    if (tail >= size || (tail + 32) % size == head % size) {
        u->reg[REG_PRS] |= HW_FM(PRS, PRO);
        trace(vtd_prq, "sid=%#x dropped: queue full, PRO set", pr->sid);
        auto_respond(u, pr, VTD_PRG_SUCCESS);
    } else if (prq_write(u, pr, (pqa & HW_FM(PQA, PQA)) + tail)) {
        auto_respond(u, pr, VTD_PRG_INVALID);   /* a queue outside memory holds nothing */
        return;
    } else {
        u->reg[REG_PQT] = (tail + 32) % size;
        u->reg[REG_PRS] |= HW_FM(PRS, PPR);
    }
    if (!was_pending)
        vtd_event_raise(u, REG_PECTL);
}

/* A unit without page-request support, or with translation disabled, has
 * no queue to deliver to: it answers Invalid Request without a record. */
void vtd_page_request(struct vtd_unit *u, const struct vtd_page_req *pr)
{
    spin_lock(&u->lock);
    bool fpd = false;
    if (!ECAP(u, PRS) || !vtd_gstatus(u, HW_FM(GSTS, TES))) {
        trace(vtd_prq, "sid=%#x refused: page requests not enabled", pr->sid);
        auto_respond(u, pr, VTD_PRG_INVALID);
    } else {
        uint8_t f = prq_check(u, pr, &fpd);
        if (f == PRQ_BLOCKED) {
            trace(vtd_prq, "sid=%#x refused: abort-DMA mode", pr->sid);
            auto_respond(u, pr, VTD_PRG_INVALID);
        } else if (f) {
            trace(vtd_prq, "sid=%#x blocked: fault %#x (%s)", pr->sid, f, vtd_fault_name(f));
            prq_record_fault(u, pr, f, fpd);
            auto_respond(u, pr, VTD_PRG_INVALID);
        } else {
            prq_enqueue(u, pr);
        }
    }
    spin_unlock(&u->lock);
}
