/* PASID directory and PASID-table entries (vtd-reference.md §2.9, §2.10)
 * and the scalable-mode request set-up built on them. */
#include "lib/trace.h"
#include "vtd/xlate.h"

enum { PGTT_FL = 1, PGTT_SL = 2, PGTT_NESTED = 3, PGTT_PT = 4 };

/* Reserved bits: those of no field, DID bits beyond CAP.ND, and fields
 * whose capability is absent (SRE/SRS, ERE/ERS, EAFE/EAFS, SLADE/SLADS).
 * Pointers are checked against HAW only where the PGTT uses them (the
 * others are ignored, §2.10); a nested FLPTPTR is a GPA that the second
 * level checks (§3.6). */
static bool pasid_pte_rsvd(const struct vtd_unit *u, const uint64_t *p, unsigned pgtt)
{
    uint64_t r[3] = { HW_RSVD(PASID_PTE, 0), HW_RSVD(PASID_PTE, 1), HW_RSVD(PASID_PTE, 2) };
    unsigned b = vtd_ndoms_bits(u);
    if (b < 16)
        r[1] |= BITS_MASK(15, b);
    if (pgtt == PGTT_SL || pgtt == PGTT_NESTED)
        r[0] |= (vtd_haw_rsvd(u) & HW_FM(PASID_PTE, SLPTPTR)) |
                (ECAP(u, SLADS) ? 0 : HW_FM(PASID_PTE, SLADE));
    if (pgtt == PGTT_FL)
        r[2] |= vtd_haw_rsvd(u) & HW_FM(PASID_PTE, FLPTPTR);
    if (pgtt == PGTT_FL || pgtt == PGTT_NESTED)
        r[2] |= ECAP(u, EAFS) ? 0 : HW_FM(PASID_PTE, EAFE);
    r[2] |= (ECAP(u, SRS) ? 0 : HW_FM(PASID_PTE, SRE)) | (ECAP(u, ERS) ? 0 : HW_FM(PASID_PTE, ERE));
    for (unsigned q = 0; q < 3; q++)
        if (p[q] & r[q])
            return true;
    return p[3] || p[4] || p[5] || p[6] || p[7];
}

static uint8_t pasid_pte_check(const struct vtd_unit *u, const uint64_t *p)
{
    if (!HW_GET(PASID_PTE, P, p))
        return VTD_FR_SM_PTE_NP;
    unsigned pgtt = (unsigned)HW_GET(PASID_PTE, PGTT, p);
    if (pasid_pte_rsvd(u, p, pgtt))
        return VTD_FR_SM_PTE_RSVD;
    bool ok = (pgtt == PGTT_FL && ECAP(u, FLTS)) || (pgtt == PGTT_SL && ECAP(u, SLTS)) ||
              (pgtt == PGTT_NESTED && ECAP(u, NEST)) || (pgtt == PGTT_PT && ECAP(u, PT));
    uint64_t aw = HW_GET(PASID_PTE, AW, p), flpm = HW_GET(PASID_PTE, FLPM, p);
    if ((pgtt == PGTT_SL || pgtt == PGTT_NESTED) && !(aw <= 4 && (CAP(u, SAGAW) >> aw) & 1))
        ok = false;
    if ((pgtt == PGTT_FL || pgtt == PGTT_NESTED) && (flpm > 1 || (flpm == 1 && !CAP(u, FL5LP))))
        ok = false;
    return ok ? 0 : VTD_FR_SM_PTE_INVALID;
}

static uint8_t pasid_fetch(struct vtd_unit *u, uint64_t dir, uint32_t pasid, uint64_t *p,
                           bool *dir_fpd)
{
    uint64_t d;
    if (um_read64(u, dir + 8 * (pasid >> 6), &d))
        return VTD_FR_SM_PDIR_READ_ERR;
    trace_struct(vtd_walk_pasid, HWS_PASID_DIR, &d, "dir[%u]:", pasid >> 6);
    *dir_fpd = HW_FV(PASID_DIR, FPD, d);
    if (!HW_FV(PASID_DIR, P, d))
        return VTD_FR_SM_PDIR_NP;
    if (d & (HW_RSVD(PASID_DIR, 0) | vtd_haw_rsvd(u)))
        return VTD_FR_SM_PDIR_RSVD;
    if (um_read(u, (d & HW_FM(PASID_DIR, SMPTBLPTR)) + 64 * (pasid & 0x3F), p, 64))
        return VTD_FR_SM_PTE_READ_ERR;
    trace_struct(vtd_walk_pasid, HWS_PASID_PTE, p, "pasid %#x:", pasid);
    return pasid_pte_check(u, p);
}

static void pasid_decode(uint16_t sid, uint32_t pasid, bool dir_fpd, const uint64_t *p,
                         struct pasid_cache_entry *pe)
{
    unsigned pgtt = (unsigned)HW_GET(PASID_PTE, PGTT, p);
    *pe = (struct pasid_cache_entry){
        .sid = sid, .pasid = pasid, .did = (uint16_t)HW_GET(PASID_PTE, DID, p),
        .fpd = dir_fpd || HW_GET(PASID_PTE, FPD, p), .sre = HW_GET(PASID_PTE, SRE, p),
        .ere = HW_GET(PASID_PTE, ERE, p),
        .mode = pgtt == PGTT_FL ? XL_FL : pgtt == PGTT_SL ? XL_SL
                : pgtt == PGTT_NESTED ? XL_NESTED : XL_PT,
        .sl = { .root = HW_RAW(PASID_PTE, SLPTPTR, p),
                .levels = (unsigned)HW_GET(PASID_PTE, AW, p) + 2,
                .slee = HW_GET(PASID_PTE, SLEE, p), .slade = HW_GET(PASID_PTE, SLADE, p),
                .pwsnp = HW_GET(PASID_PTE, PWSNP, p), .codes = &sl_codes_sm },
        .fl = { .root = HW_RAW(PASID_PTE, FLPTPTR, p),
                .levels = 4 + (unsigned)HW_GET(PASID_PTE, FLPM, p),
                .wpe = HW_GET(PASID_PTE, WPE, p), .smep = HW_GET(PASID_PTE, SMEP, p),
                .nxe = HW_GET(PASID_PTE, NXE, p), .eafe = HW_GET(PASID_PTE, EAFE, p),
                .pwsnp = HW_GET(PASID_PTE, PWSNP, p) } };
}

/* The PASID entry for (sid, pasid) from the PASID cache or the tables. */
static uint8_t pasid_entry(struct vtd_unit *u, uint16_t sid, uint64_t dir, uint32_t pasid,
                           struct xl *x, const struct pasid_cache_entry **out)
{
    struct pasid_cache_entry *pe = pasid_cache_lookup(&u->cache, sid, pasid);
    if (pe) {
        u->stats.pasid_hits++;
        *out = pe;
        return 0;
    }
    u->stats.pasid_misses++;
    uint64_t p[8] = { 0 };   /* stays zero where nothing could be read */
    bool dir_fpd = false;
    uint8_t f = pasid_fetch(u, dir, pasid, p, &dir_fpd);
    x->fpd |= dir_fpd || HW_GET(PASID_PTE, FPD, p);
    if (f)
        return f;
    struct pasid_cache_entry ne;
    pasid_decode(sid, pasid, dir_fpd, p, &ne);
    *out = pasid_cache_fill(&u->cache, &ne);
    return 0;
}

/* Context checks for the request (§2.8 faults 0x44-0x46), then the PASID
 * entry through the PASID cache, then the PASID-entry request checks. */
uint8_t xl_sm_pasid(struct vtd_unit *u, const struct vtd_req *req,
                    const struct ctx_cache_entry *ctx, struct xl *x)
{
    if (req->at != VTD_AT_UNTRANSLATED && !ctx->dte)
        return VTD_FR_SM_CTX_DTE;
    if (req->pasid_present && !ctx->paside)
        return VTD_FR_SM_CTX_PASIDE;
    if (req->at == VTD_AT_TRANSLATED)
        return 0;
    uint32_t pasid = req->pasid_present ? req->pasid : ECAP(u, RPS) ? ctx->rid_pasid : 0;
    /* A PASID wider than ECAP.PSS is beyond any directory (decision: 0x46). */
    if ((pasid >> 6) >> (ctx->pdts + 7) || (pasid >> (ECAP(u, PSS) + 1)))
        return VTD_FR_SM_CTX_PDTS;
    x->pasid = pasid;
    x->priv = req->pasid_present ? req->priv : ECAP(u, RPRIVS) && ctx->rid_priv;
    const struct pasid_cache_entry *pe;
    uint8_t f = pasid_entry(u, req->sid, ctx->pasid_dir, pasid, x, &pe);
    if (f)
        return f;
    x->fpd |= pe->fpd;
    if (x->priv && !pe->sre)
        return VTD_FR_SM_PTE_SRE;
    if (req->exec && !(ECAP(u, ERS) && pe->ere))
        return VTD_FR_SM_PTE_ERE;
    x->did = pe->did;
    x->mode = pe->mode;
    x->sl = &pe->sl;
    x->fl = &pe->fl;
    return 0;
}

/* Uncached read of the structures for (sid, pasid), for virtual units. */
uint8_t vtd_lookup_pasid_entry(struct vtd_unit *u, uint16_t sid, uint32_t pasid, uint64_t *pte)
{
    uint64_t c[4];
    bool fpd = false;
    if (u->ttm != 1)
        return VTD_FR_SM_RTADDR_INVALID;
    uint8_t f = sm_fetch_ctx_nocache(u, sid, c, &fpd);
    if (f)
        return f;
    if ((pasid >> 6) >> (HW_GET(SM_CTX, PDTS, c) + 7) || (pasid >> (ECAP(u, PSS) + 1)))
        return VTD_FR_SM_CTX_PDTS;
    for (unsigned q = 0; q < 8; q++)
        pte[q] = 0;
    return pasid_fetch(u, HW_RAW(SM_CTX, PASIDDIRPTR, c), pasid, pte, &fpd);
}
