/* Queued-invalidation interception (vtd-reference §4): the virtual unit
 * has executed a guest descriptor on its own caches; here the host side
 * follows. PASID-cache and context-cache invalidations re-read and shadow
 * the guest PASID entries (§2.10, §4.3, §4.8); IOTLB, PASID-IOTLB and
 * device-TLB invalidations are forwarded to the nested domains (§4.4,
 * §4.5, §4.8). Every forward is synchronous (iommufd waits for the host
 * queue), so a later guest wait descriptor (§4.7) completes only after
 * everything before it has completed on the host: no extra work for
 * waits. All of this runs with the virtual unit's lock held. */
#include <string.h>

#include "lib/hw.h"
#include "viommu/internal.h"

/* ---- the binding index: a hash by PASID (v->lock held) ----------------- */
static unsigned bind_bucket(uint32_t pasid)
{
    uint32_t h = pasid * 0x9E3779B1u;
    return (h ^ (h >> 16)) % VIOMMU_BIND_HASH;
}

int viommu_bind_first(const struct viommu *v, uint32_t pasid)
{
    return v->bind_hash[bind_bucket(pasid)];
}

struct viommu_bind *viommu_bind_find(struct viommu *v, unsigned di, uint32_t pasid)
{
    for (int i = viommu_bind_first(v, pasid); i >= 0; i = v->bind[i].hnext)
        if (v->bind[i].dev == di && v->bind[i].pasid == pasid)
            return &v->bind[i];
    return NULL;
}

static void bind_link(struct viommu *v, struct viommu_bind *b)
{
    int16_t *head = &v->bind_hash[bind_bucket(b->pasid)];
    b->hnext = *head, *head = (int16_t)(b - v->bind);
}

static void bind_unlink(struct viommu *v, struct viommu_bind *b)
{
    int16_t i = (int16_t)(b - v->bind);
    for (int16_t *p = &v->bind_hash[bind_bucket(b->pasid)]; *p >= 0; p = &v->bind[*p].hnext)
        if (*p == i) {
            *p = b->hnext;
            return;
        }
}

static struct viommu_bind *bind_slot(struct viommu *v)
{
    for (unsigned i = 0; i < VIOMMU_MAX_BINDS; i++)
        if (!v->bind[i].used)
            return &v->bind[i];
    return NULL;
}

/* What b holds besides its attachment: its own domain (not the parent
 * a pass-through binding uses). */
static void bind_release(struct viommu *v, struct viommu_bind *b)
{
    if (b->kind != VB_PT)
        iommufd_hwpt_free(v->cfg.ifd, b->hwpt);
    if (b->kind == VB_SL)
        viommu_sl_free(b->sl);
    b->sl = NULL;
}

void viommu_unbind(struct viommu *v, struct viommu_bind *b)
{
    iommufd_detach(v->cfg.ifd, v->dev[b->dev].dev_id, b->pasid);
    bind_release(v, b);
    bind_unlink(v, b);
    b->used = false;
    v->stats.unbinds++;
}

/* The stage-1 data of a valid first-level guest PASID entry (§2.10); false
 * when it cannot become host state (table outside guest RAM). */
static bool entry_s1(struct viommu *v, const uint64_t *pte, struct iommu_hwpt_vtd_s1 *s1)
{
    uint64_t root = HW_GET(PASID_PTE, FLPTPTR, pte) << 12;
    if (root >= gpa_map_size(v->cfg.guest_ram))
        return false;
    *s1 = (struct iommu_hwpt_vtd_s1){
        .pgtbl_gpa = root,
        .addr_width = HW_GET(PASID_PTE, FLPM, pte) ? 57 : 48,
        .flags = (HW_GET(PASID_PTE, SRE, pte) ? IOMMU_VTD_S1_SRE : 0) |
                 (HW_GET(PASID_PTE, EAFE, pte) ? IOMMU_VTD_S1_EAFE : 0) |
                 (HW_GET(PASID_PTE, WPE, pte) ? IOMMU_VTD_S1_WPE : 0) };
    return true;
}

/* Faults that only say "nothing here" (not present, or no scalable-mode
 * tables yet): a detach, not a guest error. */
static bool benign(uint8_t f)
{
    return f == VTD_FR_SM_PTE_NP || f == VTD_FR_SM_PDIR_NP || f == VTD_FR_SM_CTX_NP ||
           f == VTD_FR_SM_ROOT_NP || f == VTD_FR_SM_RTADDR_INVALID || f == VTD_FR_SM_CTX_PDTS;
}

/* Attaches hw at (dev, pasid) and makes it b's (or a new binding's),
 * releasing what b held; NULL when the host refused (b untouched). */
static struct viommu_bind *bind_install(struct viommu *v, unsigned di, uint32_t pasid,
                                        uint16_t did, uint8_t kind, uint32_t hw,
                                        struct viommu_bind *b)
{
    struct viommu_bind *nb = b ? b : bind_slot(v);
    if (!nb || iommufd_attach(v->cfg.ifd, v->dev[di].dev_id, pasid, hw))
        return NULL;
    if (b)
        bind_release(v, b);   /* replaced: no longer in use */
    int16_t hnext = nb->hnext;
    *nb = (struct viommu_bind){ .used = true, .kind = kind, .dev = di, .pasid = pasid,
                                .did = did, .hwpt = hw, .hnext = hnext };
    if (!b)
        bind_link(v, nb);   /* b (same device and PASID) is linked already */
    v->stats.binds++;
    return nb;
}

/* PGTT=1: a nested domain for the guest's first-level table. */
static bool bind_nested(struct viommu *v, unsigned di, uint32_t pasid, uint16_t did,
                        const uint64_t *pte, struct viommu_bind *b)
{
    struct iommu_hwpt_vtd_s1 s1;
    uint32_t hw;
    if (!entry_s1(v, pte, &s1))
        return false;
    if (b && b->kind == VB_NESTED && !memcmp(&b->s1, &s1, sizeof(s1))) {
        b->did = did;   /* same table: the host entry stays */
        return true;
    }
    if (iommufd_hwpt_alloc_nested(v->cfg.ifd, v->parent[v->dev[di].hunit], &s1, &hw))
        return false;
    struct viommu_bind *nb = bind_install(v, di, pasid, did, VB_NESTED, hw, b);
    if (!nb) {
        iommufd_hwpt_free(v->cfg.ifd, hw);
        return false;
    }
    nb->s1 = s1;
    return true;
}

/* PGTT=4 (§2.10 pass-through: output = input, a GPA): the nest parent
 * (GPA -> HPA for all guest RAM) attached at (dev, pasid), host PGTT=2. */
static bool bind_pt(struct viommu *v, unsigned di, uint32_t pasid, uint16_t did,
                    struct viommu_bind *b)
{
    if (b && b->kind == VB_PT) {
        b->did = did;
        return true;
    }
    return bind_install(v, di, pasid, did, VB_PT, v->parent[v->dev[di].hunit], b) != NULL;
}

/* PGTT=2 (svm=off): a paging domain filled from the guest's second-level
 * table (sl.c) before it is attached, so the device never sees it empty. */
static bool bind_sl(struct viommu *v, unsigned di, uint32_t pasid, uint16_t did,
                    const uint64_t *pte, struct viommu_bind *b)
{
    uint64_t root = HW_GET(PASID_PTE, SLPTPTR, pte) << 12;
    unsigned levels = (unsigned)HW_GET(PASID_PTE, AW, pte) + 2;
    uint32_t hw;
    if (b && b->kind == VB_SL && viommu_sl_same(b->sl, root, levels)) {
        b->did = did;   /* same table: the host domain stays */
        return true;
    }
    if (iommufd_hwpt_alloc_paging(v->cfg.ifd, v->dev[di].dev_id, v->cfg.guest_ram, &hw))
        return false;
    struct viommu_sl *sl = viommu_sl_new(v, root, levels);
    struct viommu_bind *nb = NULL;
    if (sl) {
        viommu_sl_sync(v, sl, hw, 0, VIOMMU_SL_ALL);
        nb = bind_install(v, di, pasid, did, VB_SL, hw, b);
    }
    if (!nb) {
        viommu_sl_free(sl);
        iommufd_hwpt_free(v->cfg.ifd, hw);
        return false;
    }
    nb->sl = sl;
    return true;
}

/* The translation types the virtual unit shadows (viommu.h): with svm=on
 * first level (nested) and pass-through at any PASID; with svm=off second
 * level and pass-through at the RID_PASID only (no PASID support). The
 * unit has already refused the types it does not advertise (§2.10, 0x5B);
 * this is the viommu's own fence. */
static bool pgtt_shadowed(const struct viommu *v, unsigned pgtt, uint32_t pasid)
{
    if (v->cfg.svm)
        return pgtt == 1 || pgtt == 4;
    return pasid == 0 && (pgtt == 2 || pgtt == 4);
}

/* Re-reads the guest PASID entry of (device, pasid) and makes the host
 * follow it: PGTT=1 -> nested domain, PGTT=4 -> the nest parent; anything
 * else -> detached (counted as a bad entry unless simply not present). */
void viommu_shadow_one(struct viommu *v, unsigned di, uint32_t pasid)
{
    uint64_t pte[8];
    uint8_t f = vtd_lookup_pasid_entry(v->vu, v->dev[di].vbdf, pasid, pte);
    struct viommu_bind *b = viommu_bind_find(v, di, pasid);
    if (!f) {
        unsigned pgtt = (unsigned)HW_GET(PASID_PTE, PGTT, pte);
        uint16_t did = (uint16_t)HW_GET(PASID_PTE, DID, pte);
        bool ok = false;
        if (pgtt_shadowed(v, pgtt, pasid))
            ok = pgtt == 1   ? bind_nested(v, di, pasid, did, pte, b)
                 : pgtt == 2 ? bind_sl(v, di, pasid, did, pte, b)
                             : bind_pt(v, di, pasid, did, b);
        if (ok)
            return;   /* on failure the old binding goes too (below) */
    }
    if (!f || !benign(f))
        v->stats.bad_entries++;
    if (b)
        viommu_unbind(v, b);
}

/* Re-reads every known PASID of the devices selected by (sid, mask), and
 * their RID_PASID (PASID 0, the PASID of requests without PASID: the
 * virtual unit has no ECAP.RPS, §2.8), whose entry a guest typically
 * writes before the context entry that makes it reachable. */
static void resync_devices(struct viommu *v, bool all, uint16_t sid, uint16_t mask)
{
    for (unsigned i = 0; i < VIOMMU_MAX_BINDS; i++) {
        struct viommu_bind *b = &v->bind[i];
        if (b->used && b->pasid && (all || (v->dev[b->dev].vbdf & ~mask) == (sid & ~mask)))
            viommu_shadow_one(v, b->dev, b->pasid);
    }
    for (unsigned i = 0; i < VIOMMU_MAX_DEVS; i++)
        if (v->dev[i].used && (all || (v->dev[i].vbdf & ~mask) == (sid & ~mask)))
            viommu_shadow_one(v, i, 0);
}

/* PASID-cache invalidation (§4.8): PASID-selective re-reads the named
 * PASID on every assigned device (PASID tables are per device);
 * domain-selective the bindings of the DID, global all of them, and both
 * then discover the present guest entries not bound yet (discover.c). */
static void pasid_cache(struct viommu *v, const uint64_t *d)
{
    uint64_t g = HW_GET(INV_PC, G, d);
    uint16_t did = (uint16_t)HW_GET(INV_PC, DID, d);
    if (g == 1) {
        uint32_t pasid = (uint32_t)HW_GET(INV_PC, PASID, d);
        for (unsigned i = 0; i < VIOMMU_MAX_DEVS; i++)
            if (v->dev[i].used)
                viommu_shadow_one(v, i, pasid);
        return;
    }
    for (unsigned i = 0; i < VIOMMU_MAX_BINDS; i++)
        if (v->bind[i].used && (g == 3 || v->bind[i].did == did))
            viommu_shadow_one(v, v->bind[i].dev, v->bind[i].pasid);
    viommu_discover(v, g == 3, did);
}

/* Context-cache invalidation (§4.3): global and domain re-read every
 * binding (scalable-mode context entries carry no DID); device-selective
 * those of the SID with the function mask applied (FM 1: function bit 2,
 * FM 2: bits 2:1, FM 3: bits 2:0 are ignored in the comparison). */
static void context_cache(struct viommu *v, const uint64_t *d)
{
    uint64_t g = HW_GET(INV_CC, G, d), fm = HW_GET(INV_CC, FM, d);
    uint16_t mask = (uint16_t)((7u << (3 - fm)) & 7u);
    resync_devices(v, g != 3, (uint16_t)HW_GET(INV_CC, SID, d), mask);
}

static void forward_one(struct viommu *v, struct viommu_bind *b, int di, bool any_did,
                        uint16_t did, const struct iommu_hwpt_vtd_s1_invalidate *e)
{
    if (!b->used || b->kind != VB_NESTED || (di >= 0 && b->dev != (unsigned)di) ||
        (!any_did && b->did != did))
        return;
    unsigned done = 0;
    v->stats.host_invalidations++;
    if (iommufd_hwpt_invalidate(v->cfg.ifd, b->hwpt, e, 1, &done) || done != 1)
        v->stats.host_inv_errors++;
}

/* Forwards one stage-1 invalidation to every binding that matches: those
 * of one PASID through the hash (the SVM path), others by a scan. */
static void forward(struct viommu *v, int di, bool any_did, uint16_t did, bool any_pasid,
                    uint32_t pasid, const struct iommu_hwpt_vtd_s1_invalidate *e)
{
    if (!any_pasid) {
        for (int i = viommu_bind_first(v, pasid); i >= 0; i = v->bind[i].hnext)
            if (v->bind[i].pasid == pasid)
                forward_one(v, &v->bind[i], di, any_did, did, e);
        return;
    }
    for (unsigned i = 0; i < VIOMMU_MAX_BINDS; i++)
        forward_one(v, &v->bind[i], di, any_did, did, e);
}

static const struct iommu_hwpt_vtd_s1_invalidate inv_all = { 0, IOMMU_VTD_INV_ALL_PAGES, 0 };

static void page_entry(uint64_t addr, uint64_t am, bool ih, struct iommu_hwpt_vtd_s1_invalidate *e)
{
    *e = (struct iommu_hwpt_vtd_s1_invalidate){ .addr = addr << 12, .npages = 1ULL << am,
                                                .flags = ih ? IOMMU_VTD_INV_FLAGS_LEAF : 0 };
}

/* IOTLB (§4.4): global, domain (vDID) or page-selective within a domain.
 * Nested domains get the range forwarded; shadowed second levels of the
 * DID (every one for global) are re-walked over it (sl.c). */
static void iotlb(struct viommu *v, const uint64_t *d)
{
    uint64_t g = HW_GET(INV_IOTLB, G, d), am = HW_GET(INV_IOTLB, AM, d);
    uint16_t did = (uint16_t)HW_GET(INV_IOTLB, DID, d);
    struct iommu_hwpt_vtd_s1_invalidate e = inv_all;
    if (g == 3)
        page_entry(HW_GET(INV_IOTLB, ADDR, d), am, HW_GET(INV_IOTLB, IH, d), &e);
    forward(v, -1, g == 1, did, true, 0, &e);
    uint64_t first = 0, end = VIOMMU_SL_ALL;
    if (g == 3 && am < 52) {
        first = HW_GET(INV_IOTLB, ADDR, d) & ~((1ULL << am) - 1);
        end = first + (1ULL << am);
    }
    for (unsigned i = 0; i < VIOMMU_MAX_BINDS; i++) {
        struct viommu_bind *b = &v->bind[i];
        if (b->used && b->kind == VB_SL && (g == 1 || b->did == did))
            viommu_sl_sync(v, b->sl, b->hwpt, first, end);
    }
}

/* Merging (issue 5, item 2): page-selective invalidations of one (vDID,
 * PASID) whose ranges touch or overlap accumulate into one range, which
 * is forwarded before the unit executes any other descriptor (so a wait
 * completes only after it, §4.7) and after every register write. The
 * guest's PASID device-TLB invalidation of a range the accumulator holds
 * joins it: iommufd's invalidation covers the device TLB too. */
void viommu_acc_flush(struct viommu *v)
{
    if (!v->acc.valid)
        return;
    struct iommu_hwpt_vtd_s1_invalidate e = {
        .addr = v->acc.first << 12, .npages = v->acc.end - v->acc.first,
        .flags = v->acc.leaf ? IOMMU_VTD_INV_FLAGS_LEAF : 0 };
    v->acc.valid = false;
    forward(v, -1, false, v->acc.did, false, v->acc.pasid, &e);
}

static void acc_add(struct viommu *v, uint16_t did, uint32_t pasid, uint64_t first,
                    uint64_t n, bool leaf)
{
    if (v->acc.valid && v->acc.did == did && v->acc.pasid == pasid &&
        first <= v->acc.end && first + n >= v->acc.first) {
        v->acc.first = first < v->acc.first ? first : v->acc.first;
        v->acc.end = first + n > v->acc.end ? first + n : v->acc.end;
        v->acc.leaf &= leaf;
        return;
    }
    viommu_acc_flush(v);
    v->acc.valid = true, v->acc.did = did, v->acc.pasid = pasid;
    v->acc.first = first, v->acc.end = first + n, v->acc.leaf = leaf;
}

/* PASID-based IOTLB (§4.8): G=2 everything of (vDID, PASID), G=3 2^AM
 * pages at ADDR (accumulated). */
static void piotlb(struct viommu *v, const uint64_t *d)
{
    uint16_t did = (uint16_t)HW_GET(INV_PIOTLB, DID, d);
    uint32_t pasid = (uint32_t)HW_GET(INV_PIOTLB, PASID, d);
    if (HW_GET(INV_PIOTLB, G, d) == 3) {
        uint64_t am = HW_GET(INV_PIOTLB, AM, d), addr = HW_GET(INV_PIOTLB, ADDR, d);
        if (am < 52) {
            acc_add(v, did, pasid, addr & ~((1ULL << am) - 1), 1ULL << am, HW_GET(INV_PIOTLB, IH, d));
            return;
        }
    }
    forward(v, -1, false, did, false, pasid, &inv_all);
}

/* Before a descriptor runs: anything but another page-selective PASID
 * IOTLB or a PASID device-TLB invalidation ends the run. */
void viommu_desc_pre_hook(void *opaque, struct vtd_unit *u, const uint64_t *desc)
{
    struct viommu *v = opaque;
    (void)u;
    unsigned t = inv_desc_type(desc);
    if ((t == INV_TYPE_PIOTLB && HW_GET(INV_PIOTLB, G, desc) == 3) || t == INV_TYPE_PDEVTLB)
        return;
    pthread_mutex_lock(&v->lock);
    viommu_acc_flush(v);
    pthread_mutex_unlock(&v->lock);
}

void viommu_desc_hook(void *opaque, struct vtd_unit *u, const uint64_t *desc)
{
    struct viommu *v = opaque;
    (void)u;
    pthread_mutex_lock(&v->lock);
    switch (inv_desc_type(desc)) {
    case INV_TYPE_CC: context_cache(v, desc); break;
    case INV_TYPE_PC: pasid_cache(v, desc); break;
    case INV_TYPE_IOTLB: iotlb(v, desc); break;
    case INV_TYPE_PIOTLB: piotlb(v, desc); break;
    default: break;   /* device TLB: viommu_ats_invalidate; responses: prq.c */
    }
    pthread_mutex_unlock(&v->lock);
}

/* Device-TLB and PASID-based device-TLB invalidations (§4.5, §4.8) reach
 * the viommu as the "device" vbdf. iommufd_hwpt_invalidate already
 * invalidates the device TLBs of the devices attached to the domain, so
 * the range is forwarded to the nested domains of (vbdf, pasid) — of every
 * PASID of vbdf for the non-PASID form. Synchronous: always DONE. */
enum vtd_ats_inv_status viommu_ats_invalidate(void *opaque, uint16_t sid, bool pasid_valid,
                                              uint32_t pasid, bool global, uint64_t addr,
                                              uint64_t size)
{
    struct viommu *v = opaque;
    (void)global;
    struct iommu_hwpt_vtd_s1_invalidate e = inv_all;
    if (size != ~0ULL)
        e = (struct iommu_hwpt_vtd_s1_invalidate){ .addr = addr, .npages = size >> 12 };
    pthread_mutex_lock(&v->lock);
    int di = viommu_dev_find(v, sid);
    struct viommu_bind *b = di >= 0 && pasid_valid ? viommu_bind_find(v, (unsigned)di, pasid) : NULL;
    if (b && size != ~0ULL && v->acc.valid && v->acc.did == b->did && v->acc.pasid == pasid &&
        addr >> 12 >= v->acc.first && (addr + size) >> 12 <= v->acc.end)
        ;   /* inside the accumulated range: forwarded with it, device TLB included */
    else if (di >= 0)
        forward(v, di, true, 0, !pasid_valid, pasid, &e);
    pthread_mutex_unlock(&v->lock);
    return VTD_ATS_INV_DONE;
}

uint32_t viommu_shadow_hwpt(struct viommu *v, uint16_t vbdf, uint32_t pasid)
{
    pthread_mutex_lock(&v->lock);
    int di = viommu_dev_find(v, vbdf);
    struct viommu_bind *b = di >= 0 ? viommu_bind_find(v, (unsigned)di, pasid) : NULL;
    uint32_t hw = b ? b->hwpt : 0;
    pthread_mutex_unlock(&v->lock);
    return hw;
}
