/* Primary fault logging and event interrupts (vtd-reference.md §1.9,
 * §1.10, §1.15, §5.2, §5.3). Callers hold the unit lock. */
#include "lib/trace.h"
#include "vtd/internal.h"

/* The data/address registers follow their control register (§1.10). */
void vtd_event_raise(struct vtd_unit *u, enum vtd_reg_id ectl)
{
    if (u->reg[ectl] & HW_FM(ECTL, IM)) {
        u->reg[ectl] |= HW_FM(ECTL, IP);
        return;
    }
    u->reg[ectl] &= ~HW_FM(ECTL, IP);
    if (u->cfg.msi) {
        uint64_t addr = u->reg[ectl + 3] << 32 | (u->reg[ectl + 2] & HW_FM(EADDR, MA));
        u->cfg.msi(u->cfg.msi_opaque, addr, (uint32_t)u->reg[ectl + 1]);
    }
}

void vtd_event_unmasked(struct vtd_unit *u, enum vtd_reg_id ectl)
{
    if (!(u->reg[ectl] & HW_FM(ECTL, IM)) && (u->reg[ectl] & HW_FM(ECTL, IP)))
        vtd_event_raise(u, ectl);
}

_Static_assert(REG_FEDATA == REG_FECTL + 1 && REG_FEUADDR == REG_FECTL + 3 &&
               REG_IEDATA == REG_IECTL + 1 && REG_IEUADDR == REG_IECTL + 3 &&
               REG_PEDATA == REG_PECTL + 1 && REG_PEUADDR == REG_PECTL + 3,
               "event register quads must be consecutive in HW_REGS");

static void frcd_fill(uint64_t *rec, const struct vtd_req *req, uint8_t reason, bool page_req)
{
    rec[0] = rec[1] = 0;
    HW_SET(FRCD, FI, rec, req->addr >> 12);
    HW_SET(FRCD, SID, rec, req->sid);
    HW_SET(FRCD, FR, rec, reason);
    HW_SET(FRCD, AT, rec, req->at);
    /* (T1, T2): (0,0) write, (1,0) read, (0,1) page request (§1.15). */
    HW_SET(FRCD, T1, rec, !page_req && !req->write);
    HW_SET(FRCD, T2, rec, page_req);
    if (req->pasid_present) {
        HW_SET(FRCD, PP, rec, 1);
        HW_SET(FRCD, PV, rec, req->pasid);
        HW_SET(FRCD, PRIV, rec, req->priv);
        HW_SET(FRCD, EXE, rec, req->exec);
    }
    HW_SET(FRCD, F, rec, 1);
}

/* §5.2 steps 2-6. Faults are not collapsed by SID (a QEMU optimisation, not
 * a spec rule): every fault gets a record while one is free. */
bool vtd_fault_record(struct vtd_unit *u, const struct vtd_req *req, uint8_t reason, bool page_req)
{
    uint64_t fsts = u->reg[REG_FSTS];
    bool was_pending = (fsts & FSTS_PENDING_MASK) != 0, recorded = false;
    if (fsts & HW_FM(FSTS, PFO))
        return false;
    uint64_t *rec = u->frcd[u->frcd_next];
    if (HW_GET(FRCD, F, rec)) {
        u->reg[REG_FSTS] |= HW_FM(FSTS, PFO);
        trace(vtd_fault_record, "overflow: record %u busy, PFO set", u->frcd_next);
    } else {
        frcd_fill(rec, req, reason, page_req);
        if (!(fsts & HW_FM(FSTS, PPF)))
            u->reg[REG_FSTS] = (fsts & ~HW_FM(FSTS, FRI)) | HW_FM(FSTS, PPF) |
                               HW_FMK(FSTS, FRI, u->frcd_next);
        trace_struct(vtd_fault_record, HWS_FRCD, rec, "record %u:", u->frcd_next);
        u->frcd_next = (u->frcd_next + 1) % u->nfr;
        recorded = true;
    }
    if (!was_pending)
        vtd_event_raise(u, REG_FECTL);
    return recorded;
}
