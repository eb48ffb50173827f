/* PASID discovery for domain-selective and global PASID-cache
 * invalidations (vtd-reference §4.8, §2.8, §2.9): a guest may make PASID
 * entries present and only invalidate the PASID cache globally or per
 * domain, naming no PASID. The viommu then walks the guest's tables of
 * every assigned device — root table (latched at SRTP, §1.9), the
 * device's scalable-mode context entry, its PASID directory of
 * 2^(PDTS+7) entries (§2.8), the present directory entries' PASID tables
 * (§2.9) — and shadows each present PASID entry. The walk only finds
 * candidates: every entry is then read and validated by the unit itself
 * (vtd_lookup_pasid_entry, in viommu_shadow_one), so nothing of the walk
 * reaches host state unvalidated. Bounded: one root entry, one context
 * entry, at most 2^14 directory entries and 64 entries per present table,
 * PASIDs below 2^(PSS+1). */
#include "lib/hw.h"
#include "lib/hw_regs.h"
#include "viommu/internal.h"

#define TBL_ENTRIES 64   /* §2.9: a PASID table holds 64 entries of 64 bytes */

/* The PASID directory of vbdf and its entry count; false when the guest
 * has none (not scalable mode, not present, outside guest RAM). */
static bool pasid_dir(struct viommu *v, uint16_t vbdf, uint64_t *dir, uint64_t *n)
{
    uint64_t rta = v->rtaddr, root[2], ctx[4];
    if (HW_FV(RTADDR, TTM, rta) != 1)
        return false;
    uint64_t rte = (rta & HW_FM(RTADDR, RTA)) + 16 * (vbdf >> 8);
    if (gpa_read(v->cfg.guest_ram, rte, root, sizeof(root)))
        return false;
    unsigned devfn = vbdf & 0xFF;
    bool up = devfn >= 128;
    if (!(up ? HW_GET(SM_ROOT, UP, root) : HW_GET(SM_ROOT, LP, root)))
        return false;
    uint64_t ctp = (up ? HW_GET(SM_ROOT, UCTP, root) : HW_GET(SM_ROOT, LCTP, root)) << 12;
    if (gpa_read(v->cfg.guest_ram, ctp + 32 * (devfn & 127), ctx, sizeof(ctx)) ||
        !HW_GET(SM_CTX, P, ctx))
        return false;
    *dir = HW_GET(SM_CTX, PASIDDIRPTR, ctx) << 12;
    *n = 1ULL << (HW_GET(SM_CTX, PDTS, ctx) + 7);
    return true;
}

/* Shadows the present entries of one PASID table not bound yet whose DID
 * matches (any_did: all of them). */
static void scan_table(struct viommu *v, unsigned di, uint64_t tbl, uint32_t base,
                       bool any_did, uint16_t did)
{
    uint64_t e[TBL_ENTRIES][8];
    if (gpa_read(v->cfg.guest_ram, tbl, e, sizeof(e)))
        return;
    for (uint32_t i = 0; i < TBL_ENTRIES; i++) {
        uint64_t pte[8];
        uint32_t pasid = base + i;
        if (!HW_GET(PASID_PTE, P, e[i]) || viommu_bind_find(v, di, pasid))
            continue;
        if (!any_did && (vtd_lookup_pasid_entry(v->vu, v->dev[di].vbdf, pasid, pte) ||
                         HW_GET(PASID_PTE, DID, pte) != did))
            continue;
        viommu_shadow_one(v, di, pasid);
    }
}

void viommu_discover(struct viommu *v, bool any_did, uint16_t did)
{
    if (!v->cfg.svm) {   /* no PASID support: only the RID_PASID can be there */
        for (unsigned di = 0; di < VIOMMU_MAX_DEVS; di++) {
            uint64_t pte[8];
            if (v->dev[di].used && !viommu_bind_find(v, di, 0) &&
                (any_did || (!vtd_lookup_pasid_entry(v->vu, v->dev[di].vbdf, 0, pte) &&
                             HW_GET(PASID_PTE, DID, pte) == did)))
                viommu_shadow_one(v, di, 0);
        }
        return;
    }
    uint64_t pss = HW_FV(ECAP, PSS, vtd_unit_config(v->vu)->ecap);
    uint64_t max_dir = (1ULL << (pss + 1)) / TBL_ENTRIES;
    for (unsigned di = 0; di < VIOMMU_MAX_DEVS; di++) {
        uint64_t dir, n;
        if (!v->dev[di].used || !pasid_dir(v, v->dev[di].vbdf, &dir, &n))
            continue;
        for (uint64_t i = 0; i < n && i < max_dir; i++) {
            uint64_t de;
            if (gpa_read64(v->cfg.guest_ram, dir + 8 * i, &de) || !HW_FV(PASID_DIR, P, de))
                continue;
            scan_table(v, di, HW_FV(PASID_DIR, SMPTBLPTR, de) << 12, (uint32_t)(i * TBL_ENTRIES),
                       any_did, did);
        }
    }
}
