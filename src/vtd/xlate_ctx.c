/* Root, context and PASID structures (vtd-reference.md §2), legacy and
 * scalable mode, with the context and PASID caches. */
#include "lib/trace.h"
#include "vtd/xlate.h"

static inline bool sagaw_has(const struct vtd_unit *u, uint64_t aw)
{
    return aw <= 4 && (CAP(u, SAGAW) & (1u << aw));
}

static uint64_t did_rsvd_bits(const struct vtd_unit *u)
{
    unsigned b = vtd_ndoms_bits(u);
    return b >= 16 ? 0 : BITS_MASK(15, b);
}

/* ---- legacy (§2.2, §2.3) ---------------------------------------------- */
static uint8_t legacy_ctx_check(const struct vtd_unit *u, const uint64_t *c)
{
    if (!HW_GET(CTX, P, c))
        return VTD_FR_CTX_NP;
    unsigned tt = (unsigned)HW_GET(CTX, TT, c);
    uint64_t r0 = HW_RSVD(CTX, 0) | (tt != 2 ? vtd_haw_rsvd(u) : 0);
    /* DID bits beyond CAP.ND are treated as reserved (decision, §1.3). */
    uint64_t r1 = HW_RSVD(CTX, 1) | (did_rsvd_bits(u) << CTX_DID_LO % 64);
    if ((c[0] & r0) || (c[1] & r1))
        return VTD_FR_CTX_RSVD;
    if (tt == 3 || (tt == 1 && !ECAP(u, DT)) || (tt == 2 && !ECAP(u, PT)) ||
        !sagaw_has(u, HW_GET(CTX, AW, c)))
        return VTD_FR_CTX_INVALID;
    return 0;
}

static uint8_t legacy_fetch(struct vtd_unit *u, uint16_t sid, uint64_t *c, bool *fpd)
{
    uint64_t r[2];
    if (um_read(u, u->root_table + 16 * (sid >> 8), r, sizeof(r)))
        return VTD_FR_ROOT_READ_ERR;
    trace_struct(vtd_walk_root, HWS_ROOT, r, "bus %u:", sid >> 8);
    if (!HW_GET(ROOT, P, r))
        return VTD_FR_ROOT_NP;
    if ((r[0] & (HW_RSVD(ROOT, 0) | vtd_haw_rsvd(u))) || (r[1] & HW_RSVD(ROOT, 1)))
        return VTD_FR_ROOT_RSVD;
    if (um_read(u, HW_RAW(ROOT, CTP, r) + 16 * (sid & 0xFF), c, 16))
        return VTD_FR_CTX_READ_ERR;
    trace_struct(vtd_walk_ctx, HWS_CTX, c, "sid %#x:", sid);
    *fpd = HW_GET(CTX, FPD, c);   /* honoured even when P=0, as QEMU does (§5.5) */
    return legacy_ctx_check(u, c);
}

static void legacy_decode(uint16_t sid, const uint64_t *c, struct ctx_cache_entry *ce)
{
    *ce = (struct ctx_cache_entry){
        .sid = sid, .fpd = HW_GET(CTX, FPD, c), .tt = (uint8_t)HW_GET(CTX, TT, c),
        .did = (uint16_t)HW_GET(CTX, DID, c),
        .sl = { .root = HW_RAW(CTX, SLPTPTR, c), .levels = (unsigned)HW_GET(CTX, AW, c) + 2,
                .codes = &sl_codes_legacy } };
    ce->dte = ce->tt == 1;
}

uint8_t xl_legacy_context(struct vtd_unit *u, const struct vtd_req *req, struct xl *x)
{
    struct ctx_cache_entry *ce = ctx_cache_lookup(&u->cache, req->sid);
    if (ce && !ce->sm) {
        u->stats.ctx_hits++;
    } else {
        uint64_t c[2];
        struct ctx_cache_entry ne;
        u->stats.ctx_misses++;
        uint8_t f = legacy_fetch(u, req->sid, c, &x->fpd);
        if (f)
            return f;
        legacy_decode(req->sid, c, &ne);
        ce = ctx_cache_fill(&u->cache, &ne);
    }
    x->fpd = ce->fpd;
    x->did = ce->did;
    x->pasid = IOTLB_NO_PASID;
    x->dte = ce->dte;
    if (req->at != VTD_AT_UNTRANSLATED && !ce->dte)
        return VTD_FR_CTX_TT_BLOCKED;
    x->mode = ce->tt == 2 ? XL_PT : XL_SL;
    x->sl = &ce->sl;
    return 0;
}

/* ---- scalable mode (§2.7, §2.8) --------------------------------------- */
/* Without ECAP.RPS (RPRIVS) the RID_PASID (RID_PRIV) field is ignored and
 * PASID 0 (user privilege) is used (§2.8): not a reserved field. */
static uint8_t sm_ctx_check(const struct vtd_unit *u, const uint64_t *c)
{
    if (!HW_GET(SM_CTX, P, c))
        return VTD_FR_SM_CTX_NP;
    uint64_t r0 = HW_RSVD(SM_CTX, 0) | vtd_haw_rsvd(u);
    uint64_t r1 = HW_RSVD(SM_CTX, 1);
    if ((c[0] & r0) || (c[1] & r1) || c[2] || c[3])
        return VTD_FR_SM_CTX_RSVD;
    if ((HW_GET(SM_CTX, DTE, c) && !ECAP(u, DT)) || (HW_GET(SM_CTX, PRE, c) && !ECAP(u, PRS)) ||
        (HW_GET(SM_CTX, PASIDE, c) && !ECAP(u, PASID)))
        return VTD_FR_SM_CTX_INVALID;
    return 0;
}

uint8_t sm_fetch_ctx_nocache(struct vtd_unit *u, uint16_t sid, uint64_t *c, bool *fpd)
{
    uint64_t r[2];
    unsigned devfn = sid & 0xFF;
    if (um_read(u, u->root_table + 16 * (sid >> 8), r, sizeof(r)))
        return VTD_FR_SM_ROOT_READ_ERR;
    trace_struct(vtd_walk_root, HWS_SM_ROOT, r, "bus %u:", sid >> 8);
    bool upper = devfn >= 128;
    uint64_t half = r[upper];
    /* Each half has the same layout: P bit 0, reserved 11:1, pointer 63:12. */
    if (!(half & 1))
        return VTD_FR_SM_ROOT_NP;
    if (half & ((upper ? HW_RSVD(SM_ROOT, 1) : HW_RSVD(SM_ROOT, 0)) | vtd_haw_rsvd(u)))
        return VTD_FR_SM_ROOT_RSVD;
    uint64_t ctp = half & BITS_MASK(63, 12);
    if (um_read(u, ctp + 32 * (devfn & 0x7F), c, 32))
        return VTD_FR_SM_CTX_READ_ERR;
    trace_struct(vtd_walk_ctx, HWS_SM_CTX, c, "sid %#x:", sid);
    *fpd = HW_GET(SM_CTX, FPD, c);
    return sm_ctx_check(u, c);
}

_Static_assert(SM_ROOT_LP_LO == 0 && SM_ROOT_UP_LO == 64 && SM_ROOT_LCTP_LO == 12 &&
               SM_ROOT_UCTP_LO == 76, "scalable root halves must share one layout");

static void sm_decode(uint16_t sid, const uint64_t *c, struct ctx_cache_entry *ce)
{
    *ce = (struct ctx_cache_entry){
        .sid = sid, .sm = true, .fpd = HW_GET(SM_CTX, FPD, c), .dte = HW_GET(SM_CTX, DTE, c),
        .paside = HW_GET(SM_CTX, PASIDE, c), .pre = HW_GET(SM_CTX, PRE, c),
        .rid_priv = HW_GET(SM_CTX, RID_PRIV, c),
        .pdts = (uint8_t)HW_GET(SM_CTX, PDTS, c),
        .rid_pasid = (uint32_t)HW_GET(SM_CTX, RID_PASID, c),
        .pasid_dir = HW_RAW(SM_CTX, PASIDDIRPTR, c) };
}

uint8_t xl_sm_ctx_entry(struct vtd_unit *u, uint16_t sid, const struct ctx_cache_entry **out,
                        bool *fpd)
{
    struct ctx_cache_entry *ce = ctx_cache_lookup(&u->cache, sid);
    if (ce && ce->sm) {
        u->stats.ctx_hits++;
    } else {
        uint64_t c[4];
        struct ctx_cache_entry ne;
        u->stats.ctx_misses++;
        uint8_t f = sm_fetch_ctx_nocache(u, sid, c, fpd);
        if (f)
            return f;
        sm_decode(sid, c, &ne);
        ce = ctx_cache_fill(&u->cache, &ne);
    }
    *fpd = ce->fpd;
    *out = ce;
    return 0;
}

uint8_t xl_sm_context(struct vtd_unit *u, const struct vtd_req *req, struct xl *x)
{
    const struct ctx_cache_entry *ce;
    x->sm = true;
    uint8_t f = xl_sm_ctx_entry(u, req->sid, &ce, &x->fpd);
    if (f)
        return f;
    x->dte = ce->dte;
    return xl_sm_pasid(u, req, ce, x);
}
