/* Attaching domains to (device, PASID) as host PASID entries (vtd-reference
 * §2.10: PGTT 3 nested, 2 second-level) and the invalidations that go with
 * them (§4.8: PASID cache, PASID IOTLB, IOTLB, device TLB). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommufd/internal.h"
#include "lib/hw_regs.h"

/* ---- the attachment indexes: a hash by (bdf, pasid) for the fault paths
 * and the verbs, a list per hwpt for its invalidations ------------------- */
static unsigned att_bucket(uint16_t bdf, uint32_t pasid)
{
    uint32_t h = (pasid * 0x9E3779B1u) ^ (bdf * 0x85EBCA6Bu);
    return (h ^ (h >> 15)) % IFD_ATT_HASH;
}

void ifd_att_init(struct iommufd *ifd)
{
    for (unsigned i = 0; i < IFD_ATT_HASH; i++)
        ifd->att_hash[i] = -1;
}

struct ifd_attach *ifd_attach_find(struct iommufd *ifd, uint16_t bdf, uint32_t pasid)
{
    for (int i = ifd->att_hash[att_bucket(bdf, pasid)]; i >= 0; i = ifd->att[i].hnext)
        if (ifd->att[i].bdf == bdf && ifd->att[i].pasid == pasid)
            return &ifd->att[i];
    return NULL;
}

/* Links a (used) attachment into both indexes; ifd->lock and ifd->op held. */
static void att_link(struct iommufd *ifd, struct ifd_attach *a)
{
    int16_t i = (int16_t)(a - ifd->att);
    unsigned b = att_bucket(a->bdf, a->pasid);
    struct ifd_hwpt *hp = ifd_hwpt_get(ifd, a->hwpt_id);
    a->hnext = ifd->att_hash[b], ifd->att_hash[b] = i;
    a->wnext = hp ? hp->att_head : -1;
    if (hp)
        hp->att_head = i;
}

static void att_unlink(struct iommufd *ifd, struct ifd_attach *a)
{
    int16_t i = (int16_t)(a - ifd->att);
    struct ifd_hwpt *hp = ifd_hwpt_get(ifd, a->hwpt_id);
    for (int16_t *p = &ifd->att_hash[att_bucket(a->bdf, a->pasid)]; *p >= 0;
         p = &ifd->att[*p].hnext)
        if (*p == i) {
            *p = a->hnext;
            break;
        }
    for (int16_t *p = hp ? &hp->att_head : NULL; p && *p >= 0; p = &ifd->att[*p].wnext)
        if (*p == i) {
            *p = a->wnext;
            break;
        }
}

int ifd_submit(struct iommufd *ifd, struct os_iommu *m, const uint64_t (*q)[4], unsigned n)
{
    __atomic_fetch_add(&ifd->qi_submissions, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&ifd->qi_descriptors, n + 1, __ATOMIC_RELAXED);   /* + its wait */
    return os_qi_submit(m, q, n);
}

int ifd_qi_batch(struct iommufd *ifd, struct os_iommu *m, const uint64_t (*q)[4], unsigned n)
{
    unsigned room = m->iq_len > 2 ? m->iq_len - 2 : 1;   /* os_qi_submit adds a wait */
    int rc = 0;
    for (unsigned at = 0; at < n; at += room) {
        int r = ifd_submit(ifd, m, q + at, n - at < room ? n - at : room);
        rc = rc ? rc : r;
    }
    return rc;
}

/* Device TLB of (bdf, pasid): PASID-based (§4.8.7) for a PASID, the plain
 * one (§4.8.6) for requests without PASID (RID_PASID 0). pages = 0: all. */
static unsigned devtlb(uint64_t *d, const struct os_iommu_dev *od, uint32_t pasid,
                       uint64_t addr, uint64_t pages)
{
    if (!od || !od->ats)
        return 0;
    if (!pages)
        addr = 0, pages = 1ULL << 52;
    os_qi_pdevtlb(d, od->bdf, pasid, od->ats_qdep, addr, pages);
    if (pasid == 0) {   /* same S/ADDR encoding, type 3 (no PASID) */
        uint64_t a = HW_GET(INV_PDEVTLB, ADDR, d), s = HW_GET(INV_PDEVTLB, S, d);
        d[0] = d[1] = 0;
        HW_SET(INV_DEVTLB, TYPE_LO, d, INV_TYPE_DEVTLB), HW_SET(INV_DEVTLB, SID, d, od->bdf);
        HW_SET(INV_DEVTLB, MIP, d, od->ats_qdep >= 32 ? 0 : od->ats_qdep);
        HW_SET(INV_DEVTLB, S, d, s), HW_SET(INV_DEVTLB, ADDR, d, a);
    }
    return 1;
}

/* Smallest address mask whose aligned block covers [pfn, pfn + pages). */
static unsigned cover_am(uint64_t pfn, uint64_t pages)
{
    unsigned am = 0;
    while (am < 63 && (pfn & ~((1ULL << am) - 1)) + (1ULL << am) < pfn + pages)
        am++;
    return am;
}

static void build_pte(const struct ifd_hwpt *hp, const struct ifd_hwpt *parent, uint64_t *pte)
{
    HW_SET(PASID_PTE, P, pte, 1), HW_SET(PASID_PTE, AW, pte, 2);
    HW_SET(PASID_PTE, DID, pte, parent->did), HW_SET(PASID_PTE, PWSNP, pte, 1);
    HW_SET(PASID_PTE, SLPTPTR, pte, parent->sl_root >> 12);
    if (!hp->nested) {
        HW_SET(PASID_PTE, PGTT, pte, 2);
        return;
    }
    HW_SET(PASID_PTE, PGTT, pte, 3), HW_SET(PASID_PTE, NXE, pte, 1);
    HW_SET(PASID_PTE, FLPTPTR, pte, hp->s1.pgtbl_gpa >> 12);
    HW_SET(PASID_PTE, FLPM, pte, hp->s1.addr_width == 57);
    HW_SET(PASID_PTE, SRE, pte, !!(hp->s1.flags & IOMMU_VTD_S1_SRE));
    HW_SET(PASID_PTE, EAFE, pte, !!(hp->s1.flags & IOMMU_VTD_S1_EAFE));
    HW_SET(PASID_PTE, WPE, pte, !!(hp->s1.flags & IOMMU_VTD_S1_WPE));
}

/* After a PASID entry changed (§6.5.2.2 / §6.5.2.4): PASID cache and PASID
 * IOTLB of the old and the new domain id, the whole PASID device TLB; and,
 * since a PASID-based IOTLB invalidation leaves second-level-only
 * translations alone (§6.5.2.4: those are tagged by the DID alone), the
 * IOTLB of both DIDs domain-selectively, as Linux's teardown does for
 * second-level and nested entries. */
int ifd_flush_entry(struct iommufd *ifd, struct os_iommu *m, uint16_t bdf, uint32_t pasid,
                    uint16_t old_did, uint16_t new_did)
{
    uint64_t q[7][4] = { { 0 } };
    unsigned n = 0;
    os_qi_pc(q[n++], 1, new_did, pasid);
    os_qi_piotlb(q[n++], 2, new_did, pasid, 0, 0, false);
    os_qi_iotlb(q[n++], 2, new_did, 0, 0, false);
    if (old_did && old_did != new_did) {
        os_qi_pc(q[n++], 1, old_did, pasid);
        os_qi_piotlb(q[n++], 2, old_did, pasid, 0, 0, false);
        os_qi_iotlb(q[n++], 2, old_did, 0, 0, false);
    }
    n += devtlb(q[n], os_iommu_dev(m, bdf), pasid, 0, 0);
    return ifd_submit(ifd, m, (const uint64_t (*)[4])q, n);
}

static struct ifd_attach *attach_slot(struct iommufd *ifd, uint16_t bdf, uint32_t pasid)
{
    struct ifd_attach *a = ifd_attach_find(ifd, bdf, pasid);
    for (unsigned i = 0; !a && i < IFD_ATTACH; i++)
        if (!ifd->att[i].used)
            a = &ifd->att[i];
    return a;
}

static uint16_t did_of(struct iommufd *ifd, uint32_t hwpt_id)
{
    struct ifd_hwpt *hp = ifd_hwpt_get(ifd, hwpt_id);
    if (hp && hp->nested)
        hp = ifd_hwpt_get(ifd, hp->parent);
    return hp ? hp->did : 0;
}

int iommufd_attach(struct iommufd *ifd, uint32_t dev_id, uint32_t pasid, uint32_t hwpt_id)
{
    pthread_mutex_lock(&ifd->op);
    struct ifd_dev *d = ifd_dev_get(ifd, dev_id);
    struct ifd_hwpt *hp = ifd_hwpt_get(ifd, hwpt_id);
    struct ifd_hwpt *parent = hp && hp->nested ? ifd_hwpt_get(ifd, hp->parent) : hp;
    struct ifd_attach *a = d ? attach_slot(ifd, d->bdf, pasid) : NULL;
    int rc = !d || !parent || pasid >= OS_PASID_MAX || d->m != hp->m ? -EINVAL : !a ? -ENOSPC : 0;
    uint64_t pte[8] = { 0 };
    if (!rc) {
        build_pte(hp, parent, pte);
        rc = os_iommu_set_pasid_raw(d->m, d->bdf, pasid, pte);
    }
    if (!rc) {
        uint16_t old_did = a->used ? did_of(ifd, a->hwpt_id) : 0;
        struct ifd_hwpt *old = a->used ? ifd_hwpt_get(ifd, a->hwpt_id) : NULL;
        ifd_flush_entry(ifd, d->m, d->bdf, pasid, old_did, parent->did);   /* done even on ITE */
        if (old)
            old->users--;
        hp->users++;
        pthread_mutex_lock(&ifd->lock);
        if (a->used)
            att_unlink(ifd, a);
        *a = (struct ifd_attach){ true, dev_id, pasid, hwpt_id, d->bdf, d->m, hp->nested, -1, -1 };
        att_link(ifd, a);
        pthread_mutex_unlock(&ifd->lock);
    }
    pthread_mutex_unlock(&ifd->op);
    return rc;
}

/* Called with ifd->op held. The record goes first, so that new requests of
 * the PASID are no longer routed here; then the entry is torn down (the
 * host drains the page request queue) and what stayed pending is answered
 * Invalid. RID_PASID gets a not-present entry: never pass-through again. */
static int detach_one(struct iommufd *ifd, struct ifd_attach *a)
{
    struct ifd_attach old = *a;
    uint16_t did = did_of(ifd, a->hwpt_id);
    struct ifd_hwpt *hp = ifd_hwpt_get(ifd, a->hwpt_id);
    pthread_mutex_lock(&ifd->lock);
    att_unlink(ifd, a);
    *a = (struct ifd_attach){ 0 };
    pthread_mutex_unlock(&ifd->lock);
    if (hp)
        hp->users--;
    int rc;
    if (old.pasid) {
        rc = os_iommu_clear_pasid(old.m, old.bdf, old.pasid);
    } else {
        uint64_t zero[8] = { 0 };
        rc = os_iommu_set_pasid_raw(old.m, old.bdf, 0, zero);
    }
    int r2 = ifd_flush_entry(ifd, old.m, old.bdf, old.pasid, 0, did);
    ifd_fault_cancel(ifd, old.bdf, old.pasid);
    return rc ? rc : r2;
}

int iommufd_detach(struct iommufd *ifd, uint32_t dev_id, uint32_t pasid)
{
    pthread_mutex_lock(&ifd->op);
    struct ifd_dev *d = ifd_dev_get(ifd, dev_id);
    struct ifd_attach *a = d ? ifd_attach_find(ifd, d->bdf, pasid) : NULL;
    int rc = a ? detach_one(ifd, a) : -ENOENT;
    pthread_mutex_unlock(&ifd->op);
    return rc;
}

/* The host PASID entry 0 of d, read through its PASID directory (§2.9:
 * directory entry 0, table entry 0); zeroes when there is none. */
static void rid_pasid_read(struct iommufd *ifd, const struct ifd_dev *d, uint64_t *pte)
{
    struct os_kernel *k = &ifd->h->k;
    const struct os_iommu_dev *od = os_iommu_dev(d->m, d->bdf);
    uint64_t de = od && od->pasid_dir ? os_rd64(k, od->pasid_dir) : 0;
    for (unsigned i = 0; i < 8; i++)
        pte[i] = 0;
    if (HW_FV(PASID_DIR, P, de))
        k->ops.phys_read(k->ops.ctx, HW_FV(PASID_DIR, SMPTBLPTR, de) << 12, pte, 64);
}

int ifd_rid_pasid_block(struct iommufd *ifd, struct ifd_dev *d)
{
    uint64_t zero[8] = { 0 };
    rid_pasid_read(ifd, d, d->host_rid_pasid);
    if (!HW_GET(PASID_PTE, P, d->host_rid_pasid))
        return 0;
    int rc = os_iommu_set_pasid_raw(d->m, d->bdf, 0, zero);
    int r2 = ifd_flush_entry(ifd, d->m, d->bdf, 0, 0,
                             (uint16_t)HW_GET(PASID_PTE, DID, d->host_rid_pasid));
    return rc ? rc : r2;
}

int ifd_rid_pasid_restore(struct iommufd *ifd, struct ifd_dev *d)
{
    if (!HW_GET(PASID_PTE, P, d->host_rid_pasid))
        return 0;
    int rc = os_iommu_set_pasid_raw(d->m, d->bdf, 0, d->host_rid_pasid);
    int r2 = ifd_flush_entry(ifd, d->m, d->bdf, 0, 0,
                             (uint16_t)HW_GET(PASID_PTE, DID, d->host_rid_pasid));
    return rc ? rc : r2;
}

void ifd_detach_all(struct iommufd *ifd)
{
    for (unsigned i = 0; i < IFD_ATTACH; i++)
        if (ifd->att[i].used)
            detach_one(ifd, &ifd->att[i]);
}

int ifd_parent_flush(struct iommufd *ifd, struct ifd_hwpt *hp, uint64_t gpa, uint64_t len)
{
    uint64_t pfn = gpa >> 12, pages = len >> 12;
    unsigned am = cover_am(pfn, pages), n = 0;
    uint64_t base = (pfn & ~((1ULL << am) - 1)) << 12;
    uint64_t (*q)[4] = calloc(1 + IFD_ATTACH, sizeof(*q));
    if (!q)
        return -ENOMEM;
    if (am <= HW_FV(CAP, MAMV, hp->m->cap))   /* §6.5.2.3: PSI, else DSI */
        os_qi_iotlb(q[n++], 3, hp->did, base, am, false);
    else
        os_qi_iotlb(q[n++], 2, hp->did, 0, 0, false);
    for (unsigned i = 0; i < IFD_ATTACH; i++) {
        struct ifd_attach *a = &ifd->att[i];
        if (a->used && did_of(ifd, a->hwpt_id) == hp->did && a->m == hp->m)
            n += devtlb(q[n], os_iommu_dev(a->m, a->bdf), a->pasid, base, 1ULL << am);
    }
    int rc = ifd_qi_batch(ifd, hp->m, (const uint64_t (*)[4])q, n);
    free(q);
    return rc;
}

/* ---- IOMMU_HWPT_INVALIDATE ----------------------------------------------- */
static bool inv_valid(const struct iommu_hwpt_vtd_s1_invalidate *e)
{
    if ((e->addr & 0xFFF) || !e->npages || (e->flags & ~IOMMU_VTD_INV_FLAGS_LEAF))
        return false;
    if (e->npages == IOMMU_VTD_INV_ALL_PAGES)
        return e->addr == 0;
    return e->npages <= (~e->addr >> 12);   /* addr + npages * 4 KiB does not wrap */
}

/* One range for every attachment of the nested domain (§6.5.2.4, §4.8.5,
 * §4.8.7): PASID-IOTLB page-selective (PASID-selective beyond MAMV or for
 * everything) and the PASID device TLB. */
static unsigned inv_range(struct iommufd *ifd, const struct ifd_hwpt *hp, uint16_t did,
                          const struct iommu_hwpt_vtd_s1_invalidate *e, uint64_t (*q)[4])
{
    bool all = e->npages == IOMMU_VTD_INV_ALL_PAGES, ih = e->flags & IOMMU_VTD_INV_FLAGS_LEAF;
    unsigned am = all ? 64 : cover_am(e->addr >> 12, e->npages), n = 0;
    uint64_t base = all || am >= 52 ? 0 : ((e->addr >> 12) & ~((1ULL << am) - 1)) << 12;
    bool psi = !all && am <= HW_FV(CAP, MAMV, hp->m->cap);
    for (int i = hp->att_head; i >= 0; i = ifd->att[i].wnext) {
        const struct ifd_attach *a = &ifd->att[i];
        if (psi)
            os_qi_piotlb(q[n++], 3, did, a->pasid, base, am, ih);
        else
            os_qi_piotlb(q[n++], 2, did, a->pasid, 0, 0, false);
        n += devtlb(q[n], os_iommu_dev(a->m, a->bdf), a->pasid, base, psi ? 1ULL << am : 0);
    }
    return n;
}

int iommufd_hwpt_invalidate(struct iommufd *ifd, uint32_t hwpt_id,
                            const struct iommu_hwpt_vtd_s1_invalidate *entries, unsigned n,
                            unsigned *done)
{
    *done = 0;
    pthread_mutex_lock(&ifd->op);
    struct ifd_hwpt *hp = ifd_hwpt_get(ifd, hwpt_id);
    unsigned good = 0, users = 0;
    while (entries && good < n && inv_valid(&entries[good]))
        good++;
    int rc = !hp || !hp->nested || (n && !entries) ? -EINVAL : 0;
    for (int i = rc ? -1 : hp->att_head; i >= 0; i = ifd->att[i].wnext)
        users++;
    /* the common case (one range, one attachment) needs no allocation */
    uint64_t small[4][4];
    size_t need = (size_t)good * users * 2;
    uint64_t (*q)[4] = rc || !good || !users ? NULL : need <= 4 ? small : calloc(need, sizeof(*q));
    if (q) {
        memset(q, 0, need * sizeof(*q));
        unsigned nq = 0;
        uint16_t did = did_of(ifd, hwpt_id);
        struct iommu_hwpt_vtd_s1_invalidate cur = entries[0];
        for (unsigned i = 1; i <= good; i++) {   /* merge adjacent ranges */
            const struct iommu_hwpt_vtd_s1_invalidate *e = i < good ? &entries[i] : NULL;
            if (e && cur.npages != IOMMU_VTD_INV_ALL_PAGES && e->npages != IOMMU_VTD_INV_ALL_PAGES &&
                e->flags == cur.flags && e->addr == cur.addr + (cur.npages << 12) &&
                e->npages <= (~cur.addr >> 12) - cur.npages) {
                cur.npages += e->npages;
                continue;
            }
            nq += inv_range(ifd, hp, did, &cur, q + nq);
            if (e)
                cur = *e;
        }
        rc = ifd_qi_batch(ifd, hp->m, (const uint64_t (*)[4])q, nq);
        if (q != small)
            free(q);
    } else if (!rc && good && users) {
        rc = -ENOMEM;
    }
    if (!rc) {
        *done = good;
        rc = good < n ? -EINVAL : 0;
    }
    pthread_mutex_unlock(&ifd->op);
    return rc;
}

/* A domain id about to be freed: nothing cached under it may survive into
 * its next owner (a reused DID would hit the old domain's translations). */
void ifd_did_retire(struct iommufd *ifd, struct os_iommu *m, uint16_t did)
{
    uint64_t q[1][4] = { { 0 } };
    os_qi_iotlb(q[0], 2, did, 0, 0, false);
    ifd_submit(ifd, m, (const uint64_t (*)[4])q, 1);
}
