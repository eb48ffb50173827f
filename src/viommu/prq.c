/* Page requests and faults from the host into the guest (vtd-reference
 * §6, §7): host page faults of the guest's devices become page request
 * descriptors in the guest's page request queue; the guest's page group
 * responses (§4.8 type 9, or the unit's own answer on overflow, §6.4) are
 * answered back to the host; host non-recoverable faults on first-level
 * translation become guest fault records. A viommu only ever reads its
 * own iommufd, so it never sees another guest's events. */
#include "viommu/internal.h"

static int dev_by_id(const struct viommu *v, uint32_t dev_id)
{
    for (unsigned i = 0; i < VIOMMU_MAX_DEVS; i++)
        if (v->dev[i].used && v->dev[i].dev_id == dev_id)
            return (int)i;
    return -1;
}

/* ---- outstanding requests: a hash by (vBDF, PASID, PRGI) and a free
 * list (v->lock held) ----------------------------------------------------- */
static unsigned pend_bucket(uint16_t vbdf, uint32_t pasid, uint16_t prgi)
{
    uint32_t h = (pasid * 0x9E3779B1u) ^ ((uint32_t)vbdf << 9 | prgi) * 0x85EBCA6Bu;
    return (h ^ (h >> 15)) % VIOMMU_PEND_HASH;
}

void viommu_index_init(struct viommu *v)
{
    for (unsigned i = 0; i < VIOMMU_BIND_HASH; i++)
        v->bind_hash[i] = -1;
    for (unsigned i = 0; i < VIOMMU_PEND_HASH; i++)
        v->pend_hash[i] = -1;
    for (unsigned i = 0; i < VIOMMU_MAX_PENDING; i++)
        v->pending[i].next = i + 1 < VIOMMU_MAX_PENDING ? (int16_t)(i + 1) : -1;
    v->pend_free = 0;
}

/* Remembers the cookie of a request that expects a response. */
static bool pending_add(struct viommu *v, uint16_t vbdf, const struct iommu_hwpt_pgfault *f)
{
    int16_t i = v->pend_free;
    if (i < 0)
        return false;
    struct viommu_pending *p = &v->pending[i];
    v->pend_free = p->next;
    uint16_t prgi = (uint16_t)(f->grpid & 0x1FF);
    int16_t *head = &v->pend_hash[pend_bucket(vbdf, f->pasid, prgi)];
    *p = (struct viommu_pending){
        .used = true, .last = f->flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE,
        .pdp = f->flags & IOMMU_PGFAULT_FLAGS_PRIV_DATA, .vbdf = vbdf, .pasid = f->pasid,
        .prgi = prgi, .cookie = f->cookie, .priv_data = { f->priv_data[0], f->priv_data[1] },
        .next = *head };
    *head = i;
    return true;
}

/* Takes p out of its bucket into the free list. */
static void pending_remove(struct viommu *v, struct viommu_pending *p)
{
    int16_t i = (int16_t)(p - v->pending);
    for (int16_t *q = &v->pend_hash[pend_bucket(p->vbdf, p->pasid, p->prgi)]; *q >= 0;
         q = &v->pending[*q].next)
        if (*q == i) {
            *q = p->next;
            break;
        }
    p->used = false;
    p->next = v->pend_free, v->pend_free = i;
}

/* One host page request: injected with the virtual BDF, the guest PASID
 * (guest PASIDs are the host PASIDs of the device) and its private data
 * (§6.1 PDP, QW2/QW3). A request without PASID, or of no device of ours,
 * never reaches the guest: answered Invalid when the device waits for an
 * answer (last of its group, or private data: §6.4). */
static void inject_fault(struct viommu *v, const struct iommu_hwpt_pgfault *f)
{
    bool last = f->flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE;
    bool pdp = f->flags & IOMMU_PGFAULT_FLAGS_PRIV_DATA;
    pthread_mutex_lock(&v->lock);
    int di = dev_by_id(v, f->dev_id);
    bool ok = di >= 0 && (f->flags & IOMMU_PGFAULT_FLAGS_PASID_VALID);
    uint16_t vbdf = ok ? v->dev[di].vbdf : 0;
    if (ok && (last || pdp))
        ok = pending_add(v, vbdf, f);   /* before injecting: the answer may be immediate */
    if (ok)
        v->stats.page_requests++;
    else
        v->stats.dropped_requests++;
    pthread_mutex_unlock(&v->lock);
    if (!ok) {
        if (last || pdp)
            iommufd_fault_respond(v->cfg.ifd, f->cookie, IOMMUFD_PAGE_RESP_INVALID);
        return;
    }
    struct vtd_page_req pr = {
        .sid = vbdf, .pasid_present = true, .pasid = f->pasid, .addr = f->addr & ~0xFFFULL,
        .read = f->perm & IOMMU_PGFAULT_PERM_READ, .write = f->perm & IOMMU_PGFAULT_PERM_WRITE,
        .exec = f->perm & IOMMU_PGFAULT_PERM_EXEC, .priv = f->perm & IOMMU_PGFAULT_PERM_PRIV,
        .lpig = last, .prgi = (uint16_t)(f->grpid & 0x1FF), .pdp = pdp,
        .priv_data = { pdp ? f->priv_data[0] : 0, pdp ? f->priv_data[1] : 0 } };
    vtd_page_request(v->vu, &pr);
}

/* How well an outstanding request matches a response of its (vBDF, PASID,
 * PRGI): the same LPIG, and the same private data echoed (§4.8 type 9),
 * tell apart requests of one group that each expect a response. */
static unsigned match_score(const struct viommu_pending *p, const struct vtd_page_resp *r)
{
    bool same_pd = p->pdp == r->pdp && (!p->pdp || (p->priv_data[0] == r->priv_data[0] &&
                                                     p->priv_data[1] == r->priv_data[1]));
    return (p->last == r->lpig ? 1u : 0u) + (same_pd ? 2u : 0u);
}

/* A page group response from the guest (or from the unit itself): answers
 * the host request of the same (vBDF, PASID, PRGI), the best match when
 * several of a group are outstanding. The host device gets its own
 * request's private data back (iommufd keeps it), never what the guest
 * wrote. Response Failure has no iommufd code; it is answered Invalid.
 * Unknown groups are ignored, as a device ignores a response it did not
 * ask for. Unit lock held. */
void viommu_page_response(void *opaque, const struct vtd_page_resp *r)
{
    struct viommu *v = opaque;
    uint32_t cookie = 0;
    struct viommu_pending *best = NULL;
    unsigned best_score = 0;
    pthread_mutex_lock(&v->lock);
    int first = r->pasid_present ? v->pend_hash[pend_bucket(r->sid, r->pasid, r->prgi)] : -1;
    for (int i = first; i >= 0 && best_score < 3; i = v->pending[i].next) {
        struct viommu_pending *p = &v->pending[i];
        if (p->vbdf != r->sid || p->pasid != r->pasid || p->prgi != r->prgi)
            continue;
        unsigned sc = match_score(p, r);
        if (!best || sc > best_score)
            best = p, best_score = sc;
    }
    if (best) {
        cookie = best->cookie;
        pending_remove(v, best);
        v->stats.page_responses++;
    }
    pthread_mutex_unlock(&v->lock);
    if (best)
        iommufd_fault_respond(v->cfg.ifd, cookie, r->rc == VTD_PRG_SUCCESS
                                                      ? IOMMUFD_PAGE_RESP_SUCCESS
                                                      : IOMMUFD_PAGE_RESP_INVALID);
}

/* Answers every outstanding request Invalid (v->lock held; teardown). */
void viommu_pending_flush(struct viommu *v)
{
    for (unsigned i = 0; i < VIOMMU_MAX_PENDING; i++)
        if (v->pending[i].used) {
            iommufd_fault_respond(v->cfg.ifd, v->pending[i].cookie, IOMMUFD_PAGE_RESP_INVALID);
            pending_remove(v, &v->pending[i]);
        }
}

/* A host non-recoverable fault on guest-owned translation (§7): recorded
 * in the guest's fault recording registers with the virtual BDF. */
static void inject_event(struct viommu *v, const struct iommufd_event *e)
{
    pthread_mutex_lock(&v->lock);
    int di = dev_by_id(v, e->dev_id);
    uint16_t vbdf = di >= 0 ? v->dev[di].vbdf : 0;
    pthread_mutex_unlock(&v->lock);
    if (di < 0)
        return;
    struct vtd_req req = { .sid = vbdf, .pasid_present = true, .pasid = e->pasid,
                           .addr = e->addr, .write = e->write };
    if (vtd_fault_inject(v->vu, &req, e->reason)) {
        pthread_mutex_lock(&v->lock);
        v->stats.faults_injected++;
        pthread_mutex_unlock(&v->lock);
    }
}

unsigned viommu_poll(struct viommu *v)
{
    struct iommu_hwpt_pgfault f[32];
    struct iommufd_event e[16];
    unsigned total = 0, n;
    while ((n = iommufd_fault_read(v->cfg.ifd, f, 32))) {
        for (unsigned i = 0; i < n; i++)
            inject_fault(v, &f[i]);
        total += n;
    }
    while ((n = iommufd_event_read(v->cfg.ifd, e, 16))) {
        for (unsigned i = 0; i < n; i++)
            inject_event(v, &e[i]);
        total += n;
    }
    return total;
}
