/* Page requests (vtd-reference §6) and non-recoverable faults (§7) of the
 * PASIDs attached to nested domains, routed from the host kernel's handlers
 * to the owning iommufd. A registry per host holds its instances; the host
 * hooks (os_svm.router, os_iommu.fault_notify) point at the registry and
 * must be free when the first instance opens.
 *
 * Decisions:
 * - A full fault queue (or no slot left for a response) answers the
 *   request Success at once (the host's PRQ handler sends it): the device
 *   retries and asks again later (§6.4, as the unit does on PRQ overflow).
 *   An LPIG request is thus never lost silently: it is queued, or answered.
 * - Faults reported as events: first-level and nested first-level reasons
 *   0x70-0x77, 0x80-0x82, 0x85, 0x86 (§7.1; the parent second level maps
 *   all guest RAM writable, so permission faults are the guest's). Faults
 *   in host-owned structures (0x59 PASID entry not present, 0x5x, 0x7A-0x7C,
 *   ...) stay with the host, and so does anything for a PASID no longer
 *   attached. A full event queue drops the event (counted). */
#include <errno.h>

#include "iommufd/internal.h"

#define IFD_HOSTS 8

static struct ifd_host {
    struct host *h;
    struct iommufd *list;
} hosts[IFD_HOSTS];
static pthread_mutex_t reg = PTHREAD_MUTEX_INITIALIZER;

static uint32_t perm_of(const struct os_page_req *pr)
{
    return (pr->read ? IOMMU_PGFAULT_PERM_READ : 0) | (pr->write ? IOMMU_PGFAULT_PERM_WRITE : 0) |
           (pr->exec ? IOMMU_PGFAULT_PERM_EXEC : 0) | (pr->priv ? IOMMU_PGFAULT_PERM_PRIV : 0);
}

static struct ifd_pending *pend_slot(struct iommufd *ifd)
{
    for (unsigned i = 0; i < IOMMUFD_FAULT_DEPTH; i++)
        if (!ifd->pend[i].cookie)
            return &ifd->pend[i];
    return NULL;
}

/* With ifd->lock held. */
static int fault_queue(struct iommufd *ifd, struct os_iommu *m, const struct os_page_req *pr)
{
    struct ifd_attach *a = ifd_attach_find(ifd, pr->sid, pr->pasid);
    if (!a || a->m != m || !a->nested)
        return OS_IOPF_NOT_MINE;
    bool need_resp = pr->lpig || pr->pdp;
    struct ifd_pending *p = need_resp ? pend_slot(ifd) : NULL;
    if (ifd->fq_n == IOMMUFD_FAULT_DEPTH || (need_resp && !p)) {
        ifd->faults_dropped++;
        return 0;   /* answered Success now: the device retries */
    }
    uint32_t cookie = ifd->next_cookie++;
    if (!ifd->next_cookie)
        ifd->next_cookie = 1;
    ifd->fq[(ifd->fq_head + ifd->fq_n++) % IOMMUFD_FAULT_DEPTH] = (struct iommu_hwpt_pgfault){
        .flags = IOMMU_PGFAULT_FLAGS_PASID_VALID | (pr->lpig ? IOMMU_PGFAULT_FLAGS_LAST_PAGE : 0) |
                 (pr->pdp ? IOMMU_PGFAULT_FLAGS_PRIV_DATA : 0),
        .dev_id = a->dev_id, .pasid = pr->pasid, .grpid = pr->prgi, .perm = perm_of(pr),
        .addr = pr->addr, .cookie = cookie,
        .priv_data = { pr->pdp ? pr->priv_data[0] : 0, pr->pdp ? pr->priv_data[1] : 0 } };
    if (p)
        *p = (struct ifd_pending){ cookie, m, *pr };
    if (ifd->notify)
        ifd->notify(ifd->notify_arg);
    return OS_IOPF_DEFERRED;
}

/* The router (runs in the PRQ handler, prq_lock held). */
static int route_pr(void *arg, struct os_iommu *m, const struct os_page_req *pr)
{
    struct ifd_host *hs = arg;
    int r = OS_IOPF_NOT_MINE;
    if (!pr->pasid_present)
        return r;   /* requests without PASID are the host's */
    pthread_mutex_lock(&reg);
    for (struct iommufd *ifd = hs->list; ifd && r == OS_IOPF_NOT_MINE; ifd = ifd->next) {
        pthread_mutex_lock(&ifd->lock);
        r = fault_queue(ifd, m, pr);
        pthread_mutex_unlock(&ifd->lock);
    }
    pthread_mutex_unlock(&reg);
    return r;
}

static bool guest_reason(uint8_t r)
{
    return (r >= 0x70 && r <= 0x77) || (r >= 0x80 && r <= 0x82) || r == 0x85 || r == 0x86;
}

static void event_queue(struct iommufd *ifd, struct os_iommu *m, const struct os_fault *f)
{
    struct ifd_attach *a = ifd_attach_find(ifd, f->sid, f->pasid);
    if (!a || a->m != m || !a->nested)
        return;
    if (ifd->eq_n == IOMMUFD_EVENT_DEPTH) {
        ifd->events_dropped++;
        return;
    }
    ifd->eq[(ifd->eq_head + ifd->eq_n++) % IOMMUFD_EVENT_DEPTH] = (struct iommufd_event){
        .dev_id = a->dev_id, .pasid = f->pasid, .reason = f->reason, .write = f->write,
        .addr = f->addr };
    if (ifd->notify)
        ifd->notify(ifd->notify_arg);
}

/* The fault hook (runs in the fault interrupt, no os lock held). */
static void route_fault(void *arg, struct os_iommu *m, const struct os_fault *f)
{
    struct ifd_host *hs = arg;
    if (!f->pasid_present || !guest_reason(f->reason))
        return;
    pthread_mutex_lock(&reg);
    for (struct iommufd *ifd = hs->list; ifd; ifd = ifd->next) {
        pthread_mutex_lock(&ifd->lock);
        event_queue(ifd, m, f);
        pthread_mutex_unlock(&ifd->lock);
    }
    pthread_mutex_unlock(&reg);
}

static struct ifd_host *host_slot(struct host *h)
{
    struct ifd_host *free_slot = NULL;
    for (unsigned i = 0; i < IFD_HOSTS; i++) {
        if (hosts[i].h == h)
            return &hosts[i];
        if (!hosts[i].list && !free_slot)
            free_slot = &hosts[i];
    }
    return free_slot;
}

int ifd_hook(struct iommufd *ifd)
{
    struct host *h = ifd->h;
    int rc = 0;
    pthread_mutex_lock(&reg);
    struct ifd_host *hs = host_slot(h);
    if (!hs) {
        rc = -ENOSPC;
    } else if (!hs->list || hs->h != h) {
        bool busy = h->svm.router != NULL;
        for (unsigned i = 0; i < h->svm.nunits; i++)
            busy |= h->iommu[i].fault_notify != NULL;
        if (busy) {
            rc = -EBUSY;
        } else {
            hs->h = h;
            h->svm.router_arg = hs;
            __atomic_store_n(&h->svm.router, route_pr, __ATOMIC_RELEASE);
            for (unsigned i = 0; i < h->svm.nunits; i++) {
                h->iommu[i].fault_arg = hs;
                __atomic_store_n(&h->iommu[i].fault_notify, route_fault, __ATOMIC_RELEASE);
            }
        }
    }
    if (!rc)
        ifd->next = hs->list, hs->list = ifd;
    pthread_mutex_unlock(&reg);
    return rc;
}

/* The hooks are cleared with the last instance; their arguments keep
 * pointing at the (static) registry slot, so a handler that loaded the
 * hook just before finds an empty list. */
void ifd_unhook(struct iommufd *ifd)
{
    struct host *h = ifd->h;
    pthread_mutex_lock(&reg);
    struct ifd_host *hs = host_slot(h);
    for (struct iommufd **pp = hs && hs->h == h ? &hs->list : NULL; pp && *pp; pp = &(*pp)->next)
        if (*pp == ifd) {
            *pp = ifd->next;
            break;
        }
    if (hs && hs->h == h && !hs->list) {
        __atomic_store_n(&h->svm.router, NULL, __ATOMIC_RELEASE);
        for (unsigned i = 0; i < h->svm.nunits; i++)
            __atomic_store_n(&h->iommu[i].fault_notify, NULL, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&reg);
}

bool ifd_bdf_bound(struct host *h, uint16_t bdf)
{
    bool bound = false;
    pthread_mutex_lock(&reg);
    struct ifd_host *hs = host_slot(h);
    for (struct iommufd *ifd = hs && hs->h == h ? hs->list : NULL; ifd; ifd = ifd->next) {
        pthread_mutex_lock(&ifd->lock);
        for (unsigned i = 0; i < IFD_DEVS; i++)
            bound |= ifd->dev[i].id && ifd->dev[i].bdf == bdf;
        pthread_mutex_unlock(&ifd->lock);
    }
    pthread_mutex_unlock(&reg);
    return bound;
}

unsigned iommufd_fault_read(struct iommufd *ifd, struct iommu_hwpt_pgfault *out, unsigned max)
{
    unsigned n = 0;
    pthread_mutex_lock(&ifd->lock);
    for (; n < max && ifd->fq_n; n++, ifd->fq_n--) {
        out[n] = ifd->fq[ifd->fq_head];
        ifd->fq_head = (ifd->fq_head + 1) % IOMMUFD_FAULT_DEPTH;
    }
    pthread_mutex_unlock(&ifd->lock);
    return n;
}

unsigned iommufd_event_read(struct iommufd *ifd, struct iommufd_event *out, unsigned max)
{
    unsigned n = 0;
    pthread_mutex_lock(&ifd->lock);
    for (; n < max && ifd->eq_n; n++, ifd->eq_n--) {
        out[n] = ifd->eq[ifd->eq_head];
        ifd->eq_head = (ifd->eq_head + 1) % IOMMUFD_EVENT_DEPTH;
    }
    pthread_mutex_unlock(&ifd->lock);
    return n;
}

/* Takes the pending request with this cookie (or of bdf/pasid when
 * cookie is 0) out of the table. */
static bool pend_take(struct iommufd *ifd, uint32_t cookie, uint16_t bdf, uint32_t pasid,
                      struct ifd_pending *out)
{
    bool found = false;
    pthread_mutex_lock(&ifd->lock);
    for (unsigned i = 0; i < IOMMUFD_FAULT_DEPTH && !found; i++) {
        struct ifd_pending *p = &ifd->pend[i];
        if (p->cookie && (cookie ? p->cookie == cookie
                                 : p->pr.sid == bdf && p->pr.pasid == pasid)) {
            *out = *p, found = true;
            *p = (struct ifd_pending){ 0 };
        }
    }
    pthread_mutex_unlock(&ifd->lock);
    return found;
}

/* One page group response on the host queue: the descriptor and the wait
 * os_qi_submit adds (os_iommu_page_response), counted. */
static int ifd_page_response(struct iommufd *ifd, const struct ifd_pending *p, unsigned code)
{
    __atomic_fetch_add(&ifd->qi_submissions, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&ifd->qi_descriptors, 2, __ATOMIC_RELAXED);
    return os_iommu_page_response(p->m, &p->pr, code);
}

/* §6.5 page group response with the request's RID, PASID, PRGI, LPIG and
 * private data; code 0 Success, 1 Invalid Request (QI_RESP_*). */
int iommufd_fault_respond(struct iommufd *ifd, uint32_t cookie, unsigned code)
{
    struct ifd_pending p;
    if (!cookie || code > IOMMUFD_PAGE_RESP_INVALID || !pend_take(ifd, cookie, 0, 0, &p))
        return -EINVAL;
    return ifd_page_response(ifd, &p, code);
}

void ifd_fault_cancel(struct iommufd *ifd, uint16_t bdf, uint32_t pasid)
{
    struct ifd_pending p;
    while (pend_take(ifd, 0, bdf, pasid, &p))
        ifd_page_response(ifd, &p, IOMMUFD_PAGE_RESP_INVALID);
}

void iommufd_set_notify(struct iommufd *ifd, iommufd_notify_fn fn, void *arg)
{
    pthread_mutex_lock(&ifd->lock);
    ifd->notify = fn, ifd->notify_arg = arg;
    pthread_mutex_unlock(&ifd->lock);
}
