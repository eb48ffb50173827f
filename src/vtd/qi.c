/* Queued invalidation (vtd-reference.md §4): the queue engine, descriptor
 * validation with the spec's IQE/IQEI outcomes, and each descriptor's
 * effect. Runs synchronously on the IQT write (and when software clears
 * IQE/ITE), with the unit lock held; bounded by the queue size. */
#include "lib/trace.h"
#include "vtd/internal.h"

enum iqei {
    IQEI_TAIL = 1, IQEI_FETCH = 2, IQEI_TYPE = 3, IQEI_RSVD = 4, IQEI_WIDTH = 5,
    IQEI_ALIGN = 6, IQEI_TTM = 7,
};
#define QI_STOP 0x100   /* descriptor done, queue stops (ITE) */

void vtd_inv_error(struct vtd_unit *u, uint64_t bit)
{
    bool was_pending = (u->reg[REG_FSTS] & FSTS_PENDING_MASK) != 0;
    u->reg[REG_FSTS] |= bit;
    if (!was_pending)
        vtd_event_raise(u, REG_FECTL);
}

static void qi_error(struct vtd_unit *u, unsigned iqei)
{
    u->reg[REG_IQERCD] = (u->reg[REG_IQERCD] & ~HW_FM(IQERCD, IQEI)) | HW_FMK(IQERCD, IQEI, iqei);
    trace(vtd_qi_error, "IQE: IQEI=%u at IQH=%#llx", iqei, (unsigned long long)u->reg[REG_IQH]);
    vtd_inv_error(u, HW_FM(FSTS, IQE));
}

/* ---- device-TLB invalidations (§4.5, §4.8) ------------------------------ */

/* Size encoding (§4.5): S=0 one 4 KiB page; S=1 the lowest clear address
 * bit at 12+j gives 2^(j+1) pages, aligned; all ones = everything. */
static void devtlb_range(uint64_t addr, bool s, uint64_t *base, uint64_t *size)
{
    addr &= ~0xFFFULL;
    if (!s) {
        *base = addr, *size = PAGE_SIZE;
        return;
    }
    uint64_t ones = ~addr >> 12;
    if (!ones) {
        *base = 0, *size = ~0ULL;
        return;
    }
    unsigned j = (unsigned)__builtin_ctzll(ones);
    if (j + 1 >= 52) {
        *base = 0, *size = ~0ULL;
        return;
    }
    *size = PAGE_SIZE << (j + 1);
    *base = addr & ~(*size - 1);
}

static int devtlb_send(struct vtd_unit *u, uint16_t sid, bool pv, uint32_t pasid, bool global,
                       uint64_t addr, bool s)
{
    uint64_t base, size;
    devtlb_range(addr, s, &base, &size);
    int d = vtd_dev_find(u, sid);
    trace(vtd_qi_devtlb, "sid=%#x pasid=%s%#x base=%#llx size=%#llx%s", sid, pv ? "" : "-",
          pasid, (unsigned long long)base, (unsigned long long)size, d < 0 ? " (no device)" : "");
    if (d < 0 || !u->dev[d].ops->ats_invalidate)
        return 0;   /* no endpoint with this id: nothing cached anywhere to wait for */
    if (u->dev[d].ops->ats_invalidate(u->dev[d].opaque, sid, pv, pasid, global, base, size) ==
        VTD_ATS_INV_DONE)
        return 0;
    u->reg[REG_IQERCD] = (u->reg[REG_IQERCD] & ~HW_FM(IQERCD, ITESID)) | HW_FMK(IQERCD, ITESID, sid);
    trace(vtd_qi_error, "ITE: device %#x did not complete its device-TLB invalidation", sid);
    vtd_inv_error(u, HW_FM(FSTS, ITE));
    return QI_STOP;
}

void vtd_ats_unexpected_completion(struct vtd_unit *u, uint16_t sid)
{
    spin_lock(&u->lock);
    u->reg[REG_IQERCD] = (u->reg[REG_IQERCD] & ~HW_FM(IQERCD, ICESID)) | HW_FMK(IQERCD, ICESID, sid);
    vtd_inv_error(u, HW_FM(FSTS, ICE));
    spin_unlock(&u->lock);
}

/* ---- per-type checks (beyond the reserved bits of the field table) ------ */
static bool pfsid_set(const uint64_t *q, bool pasid_form)
{
    return pasid_form ? HW_GET(INV_PDEVTLB, PFSID_LO, q) || HW_GET(INV_PDEVTLB, PFSID_HI, q)
                      : HW_GET(INV_DEVTLB, PFSID_LO, q) || HW_GET(INV_DEVTLB, PFSID_HI, q);
}

/* Returns 0 or an IQEI code. Granularity encodings the reference marks
 * reserved, and bits whose capability is absent, are reserved fields. */
static unsigned check_fields(const struct vtd_unit *u, unsigned type, const uint64_t *q, bool dw)
{
    switch (type) {
    case INV_TYPE_CC:
        return HW_GET(INV_CC, G, q) == 0 ? IQEI_RSVD : 0;
    case INV_TYPE_IOTLB:
        return HW_GET(INV_IOTLB, G, q) == 0 || (HW_GET(INV_IOTLB, DW, q) && !CAP(u, DWD)) ||
               (HW_GET(INV_IOTLB, DR, q) && !CAP(u, DRD)) ? IQEI_RSVD : 0;
    case INV_TYPE_DEVTLB:
        return pfsid_set(q, false) && !ECAP(u, DIT) ? IQEI_RSVD : 0;
    case INV_TYPE_WAIT:
        return HW_GET(INV_WAIT, PD, q) && !ECAP(u, PDS) ? IQEI_RSVD : 0;
    case INV_TYPE_PIOTLB:
        return HW_GET(INV_PIOTLB, G, q) < 2 ? IQEI_RSVD : 0;
    case INV_TYPE_PC:
        return HW_GET(INV_PC, G, q) == 2 ? IQEI_RSVD : 0;
    case INV_TYPE_PDEVTLB:
        return pfsid_set(q, true) && !ECAP(u, DIT) ? IQEI_RSVD : 0;
    case INV_TYPE_PGRESP: {
        uint64_t rc = HW_GET(INV_PGRESP, RC, q);
        if (HW_GET(INV_PGRESP, PDP, q) && !dw)
            return IQEI_WIDTH;   /* private data needs the 256-bit form */
        if (!HW_GET(INV_PGRESP, PDP, q) && (q[2] || q[3]))
            return IQEI_RSVD;
        return rc != VTD_PRG_SUCCESS && rc != VTD_PRG_INVALID && rc != VTD_PRG_FAILURE ? IQEI_RSVD : 0;
    }
    default:
        return 0;
    }
}

/* Type known and supported by this unit (§4.2): device-TLB types need
 * ECAP.DT, the interrupt-entry cache needs ECAP.IR, scalable-mode types need
 * ECAP.SMTS (and page responses ECAP.PRS). */
static bool type_supported(const struct vtd_unit *u, unsigned type)
{
    switch (type) {
    case INV_TYPE_CC: case INV_TYPE_IOTLB: case INV_TYPE_WAIT: return true;
    case INV_TYPE_DEVTLB:  return ECAP(u, DT);
    case INV_TYPE_IEC:     return ECAP(u, IR);
    case INV_TYPE_PIOTLB: case INV_TYPE_PC: return ECAP(u, SMTS);
    case INV_TYPE_PDEVTLB: return ECAP(u, SMTS) && ECAP(u, DT);
    case INV_TYPE_PGRESP:  return ECAP(u, SMTS) && ECAP(u, PRS);
    default:               return false;
    }
}

static unsigned validate(const struct vtd_unit *u, const uint64_t *q, bool dw)
{
    unsigned type = inv_desc_type(q);
    if (!type_supported(u, type))
        return IQEI_TYPE;
    if (type >= INV_TYPE_PIOTLB && u->ttm != 1)
        return IQEI_TTM;   /* scalable-mode descriptor while not in scalable mode (§4.9) */
    const struct hw_struct_desc *s = &hw_structs[inv_desc_struct(type)];
    for (unsigned i = 0; i < (dw ? 4u : 2u); i++)
        if (q[i] & s->rsvd[i])
            return IQEI_RSVD;
    return check_fields(u, type, q, dw);
}

/* ---- execution ------------------------------------------------------------ */

/* Invalidation wait (§4.7): the model completes every earlier descriptor
 * before fetching the next, so FN (fence) and PD (page-request drain: page
 * requests are written to the queue when received) hold by construction. */
static void exec_wait(struct vtd_unit *u, const uint64_t *q)
{
    if (HW_GET(INV_WAIT, SW, q)) {
        uint64_t addr = HW_RAW(INV_WAIT, STADDR, q);
        uint32_t data = (uint32_t)HW_GET(INV_WAIT, STDATA, q);
        if (um_write(u, addr, &data, 4))   /* a write to nowhere is dropped */
            trace(vtd_qi_error, "wait status write to %#llx outside memory",
                  (unsigned long long)addr);
    }
    if (HW_GET(INV_WAIT, IF, q) && !(u->reg[REG_ICS] & HW_FM(ICS, IWC))) {
        u->reg[REG_ICS] |= HW_FM(ICS, IWC);
        vtd_event_raise(u, REG_IECTL);
    }
}

static void exec_pgresp(struct vtd_unit *u, const uint64_t *q)
{
    struct vtd_page_resp r = {
        .sid = (uint16_t)HW_GET(INV_PGRESP, RID, q), .pasid_present = HW_GET(INV_PGRESP, PP, q),
        .pasid = (uint32_t)HW_GET(INV_PGRESP, PASID, q), .prgi = (uint16_t)HW_GET(INV_PGRESP, PRGI, q),
        .lpig = HW_GET(INV_PGRESP, LPIG, q), .rc = (enum vtd_prg_rc)HW_GET(INV_PGRESP, RC, q),
        .pdp = HW_GET(INV_PGRESP, PDP, q), .priv_data = { q[2], q[3] } };
    vtd_prq_respond(u, &r);
}

/* Page-selective requests beyond CAP.MAMV or without CAP.PSI are performed
 * at the next coarser granularity (as for the IOTLB register, gcmd.c). */
static bool psi_ok(const struct vtd_unit *u, uint64_t am)
{
    return CAP(u, PSI) && am <= CAP(u, MAMV);
}

static int execute(struct vtd_unit *u, const uint64_t *q)
{
    switch (inv_desc_type(q)) {
    case INV_TYPE_CC:
        inv_context_locked(u, (enum vtd_cc_gran)HW_GET(INV_CC, G, q), (uint16_t)HW_GET(INV_CC, DID, q),
                           (uint16_t)HW_GET(INV_CC, SID, q), (unsigned)HW_GET(INV_CC, FM, q));
        return 0;
    case INV_TYPE_IOTLB: {
        unsigned g = (unsigned)HW_GET(INV_IOTLB, G, q);
        uint64_t am = HW_GET(INV_IOTLB, AM, q);
        if (g == VTD_IOTLB_PAGE && !psi_ok(u, am))
            g = VTD_IOTLB_DOMAIN;
        inv_iotlb_locked(u, (enum vtd_iotlb_gran)g, (uint16_t)HW_GET(INV_IOTLB, DID, q),
                         HW_RAW(INV_IOTLB, ADDR, q), (unsigned)am, HW_GET(INV_IOTLB, IH, q));
        return 0;
    }
    case INV_TYPE_DEVTLB:
        return devtlb_send(u, (uint16_t)HW_GET(INV_DEVTLB, SID, q), false, 0, true,
                           HW_RAW(INV_DEVTLB, ADDR, q), HW_GET(INV_DEVTLB, S, q));
    case INV_TYPE_WAIT:
        exec_wait(u, q);
        return 0;
    case INV_TYPE_PIOTLB: {
        /* CAP.PSI governs the IOTLB register and type 2 only (§1.3); a
         * type-6 range beyond MAMV is performed PASID-wide, globals too. */
        uint64_t am = HW_GET(INV_PIOTLB, AM, q);
        bool psi = HW_GET(INV_PIOTLB, G, q) == 3, page = psi && am <= CAP(u, MAMV);
        inv_piotlb_locked(u, page, (uint16_t)HW_GET(INV_PIOTLB, DID, q),
                          (uint32_t)HW_GET(INV_PIOTLB, PASID, q), HW_RAW(INV_PIOTLB, ADDR, q),
                          (unsigned)am, HW_GET(INV_PIOTLB, IH, q), !psi);
        return 0;
    }
    case INV_TYPE_PC:
        inv_pasid_cache_locked(u, (enum vtd_pc_gran)HW_GET(INV_PC, G, q),
                               (uint16_t)HW_GET(INV_PC, DID, q), (uint32_t)HW_GET(INV_PC, PASID, q));
        return 0;
    case INV_TYPE_PDEVTLB:
        return devtlb_send(u, (uint16_t)HW_GET(INV_PDEVTLB, SID, q), true,
                           (uint32_t)HW_GET(INV_PDEVTLB, PASID, q), HW_GET(INV_PDEVTLB, G, q),
                           HW_RAW(INV_PDEVTLB, ADDR, q), HW_GET(INV_PDEVTLB, S, q));
    case INV_TYPE_PGRESP:
        exec_pgresp(u, q);
        return 0;
    default:
        return 0;   /* not reached: validate() accepted the type */
    }
}

/* ---- the queue (§4.1, §4.9) ---------------------------------------------- */
void vtd_qi_process(struct vtd_unit *u)
{
    if (!vtd_gstatus(u, HW_FM(GSTS, QIES)) ||
        (u->reg[REG_FSTS] & (HW_FM(FSTS, IQE) | HW_FM(FSTS, ITE))))
        return;
    uint64_t iqa = u->reg[REG_IQA];
    bool dw = HW_FV(IQA, DW, iqa);
    uint64_t base = iqa & HW_FM(IQA, IQA), qsize = PAGE_SIZE << HW_FV(IQA, QS, iqa);
    uint64_t dsz = dw ? 32 : 16;
    uint64_t tail = u->reg[REG_IQT] & HW_FM(IQT, QT), head = u->reg[REG_IQH] & HW_FM(IQH, QH);
    unsigned err = 0;
    if (tail >= qsize || head >= qsize)
        err = IQEI_TAIL;
    else if (dw && ((tail | head) & 0x10))
        err = IQEI_ALIGN;
    for (uint64_t n = 0; !err && head != tail && n < qsize / dsz; n++) {
        uint64_t q[4] = { 0 };
        if (um_read(u, base + head, q, dsz)) {
            err = IQEI_FETCH;
            break;
        }
        trace_struct(vtd_qi_desc, inv_desc_struct(inv_desc_type(q)), q, "@%#llx",
                     (unsigned long long)head);
        if ((err = validate(u, q, dw)))
            break;
        if (u->cfg.desc_pre_hook)
            u->cfg.desc_pre_hook(u->cfg.desc_opaque, u, q);
        int rc = execute(u, q);
        if (u->cfg.desc_hook)
            u->cfg.desc_hook(u->cfg.desc_opaque, u, q);
        head = (head + dsz) % qsize;
        u->reg[REG_IQH] = head;
        if (rc == QI_STOP)
            break;
    }
    if (err)
        qi_error(u, err);   /* IQH stays at the offending descriptor */
}
