/* SVA bind/unbind and device page faults (see svm.h). */
#include "os/svm.h"

static int svm_iopf(void *arg, struct os_iommu *m, const struct os_page_req *pr);

void os_svm_init(struct os_svm *s, struct os_kernel *k, struct os_iommu *units, unsigned n,
                 const struct dmar_info *dmar)
{
    __builtin_memset(s, 0, sizeof(*s));
    s->k = k, s->units = units, s->nunits = n, s->dmar = dmar;
    s->next_pasid = 1;   /* PASID 0 is RID_PASID */
    for (unsigned i = 0; i < n; i++)
        units[i].iopf = svm_iopf, units[i].iopf_arg = s;
}

struct os_iommu *os_svm_iommu_for(struct os_svm *s, uint16_t bdf)
{
    int i = dmar_unit_for(s->dmar, 0, bdf);
    return i < 0 || (unsigned)i >= s->nunits ? NULL : &s->units[i];
}

static struct os_mm *mm_for_pasid(struct os_svm *s, uint32_t pasid)
{
    struct os_mm *mm = NULL;
    os_lock(s->k, &s->lock);
    for (unsigned i = 0; i < OS_SVM_BINDS; i++)
        if (s->mm_of[i].users && s->mm_of[i].pasid == pasid)
            mm = s->mm_of[i].mm;
    os_unlock(&s->lock);
    return mm;
}

/* A slot for mm (existing or new), with its PASID; -ENOSPC when full. */
static int mm_slot(struct os_svm *s, struct os_mm *mm)
{
    int free_slot = -1;
    for (unsigned i = 0; i < OS_SVM_BINDS; i++) {
        if (s->mm_of[i].users && s->mm_of[i].mm == mm)
            return (int)i;
        if (!s->mm_of[i].users && free_slot < 0)
            free_slot = (int)i;
    }
    if (free_slot < 0 || s->next_pasid >= OS_PASID_MAX)
        return -28;
    s->mm_of[free_slot].mm = mm;
    s->mm_of[free_slot].pasid = mm->pasid ? mm->pasid : s->next_pasid++;
    mm->pasid = s->mm_of[free_slot].pasid;
    return free_slot;
}

int os_sva_bind(struct os_svm *s, uint16_t bdf, struct os_mm *mm, uint32_t *pasid)
{
    struct os_iommu *m = os_svm_iommu_for(s, bdf);
    struct os_iommu_dev *d = m ? os_iommu_dev(m, bdf) : NULL;
    if (!d || !d->pasid || !d->pri || !d->ats)
        return -22;   /* Linux: SVA needs PASID, PRI and ATS enabled (§2.4) */
    os_lock(s->k, &s->lock);
    int slot = mm_slot(s, mm);
    if (slot >= 0)
        s->mm_of[slot].users++;
    os_unlock(&s->lock);
    if (slot < 0)
        return slot;
    int rc = os_iommu_set_pasid_fl(m, bdf, mm->pasid, mm->pt.root, (unsigned)mm->pt.levels, false);
    rc = rc ? rc : os_mm_add_bind(mm, m, bdf);
    if (rc) {
        os_lock(s->k, &s->lock);
        s->mm_of[slot].users--;
        os_unlock(&s->lock);
        return rc;
    }
    *pasid = mm->pasid;
    return 0;
}

int os_sva_unbind(struct os_svm *s, uint16_t bdf, struct os_mm *mm)
{
    struct os_iommu *m = os_svm_iommu_for(s, bdf);
    if (!m || !mm->pasid)
        return -22;
    os_mm_del_bind(mm, m, bdf);
    int rc = os_iommu_clear_pasid(m, bdf, mm->pasid);
    os_lock(s->k, &s->lock);
    for (unsigned i = 0; i < OS_SVM_BINDS; i++)
        if (s->mm_of[i].users && s->mm_of[i].mm == mm && !--s->mm_of[i].users)
            mm->pasid = 0;   /* the last binding: the PASID goes */
    os_unlock(&s->lock);
    return rc;
}

/* A page request for a bound PASID from a device bound to it: fault the
 * page in with the access requested (io-pgfault / handle_mm_fault). */
static int svm_iopf(void *arg, struct os_iommu *m, const struct os_page_req *pr)
{
    struct os_svm *s = arg;
    os_iopf_fn router = __atomic_load_n(&s->router, __ATOMIC_ACQUIRE);
    if (router) {
        int r = router(s->router_arg, m, pr);
        if (r != OS_IOPF_NOT_MINE)
            return r;
    }
    struct os_mm *mm = mm_for_pasid(s, pr->pasid);
    bool bound = mm && os_mm_is_bound(mm, m, pr->sid);
    unsigned access = (pr->write ? OS_PROT_WRITE : 0) | (pr->read ? OS_PROT_READ : 0) |
                      (pr->exec ? OS_PROT_EXEC : 0);
    int rc = bound ? os_mm_fault(mm, pr->addr, access, true) : -14;
    if (rc)
        s->faults_refused++;
    else
        s->faults_served++;
    return rc;
}
