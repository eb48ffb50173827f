/* Shared Virtual Memory: binding a process address space to a device with
 * a PASID, in the spirit of Linux's iommu_sva_bind_device (os-driver
 * §2.4), and the page-fault path for device page requests. */
#ifndef VSVM_OS_SVM_H
#define VSVM_OS_SVM_H

#include "os/mm.h"

#define OS_SVM_BINDS 256

struct os_svm {
    struct os_kernel *k;
    struct os_iommu *units;
    unsigned nunits;
    const struct dmar_info *dmar;
    os_lock_t lock;
    struct { uint32_t pasid; struct os_mm *mm; unsigned users; } mm_of[OS_SVM_BINDS];
    uint32_t next_pasid;
    uint64_t faults_served, faults_refused;
    /* Consulted first for every page request (iommufd: PASIDs a guest owns
     * go to its fault queue): OS_IOPF_NOT_MINE passes it on to SVA. */
    os_iopf_fn router;
    void *router_arg;
};

/* Takes over the units' page-request callbacks. */
void os_svm_init(struct os_svm *s, struct os_kernel *k, struct os_iommu *units, unsigned n,
                 const struct dmar_info *dmar);
/* The unit in front of bdf (segment 0), or NULL. */
struct os_iommu *os_svm_iommu_for(struct os_svm *s, uint16_t bdf);
/* Binds mm to the device: the mm's PASID (allocated on its first bind) gets
 * a first-level PASID entry on the device's unit. *pasid out. -EINVAL when
 * the device was not attached with PASID support, -ENOSPC without PASIDs. */
int os_sva_bind(struct os_svm *s, uint16_t bdf, struct os_mm *mm, uint32_t *pasid);
/* Unbinds (PASID entry torn down, device TLB flushed, page requests
 * drained); the PASID is freed with the last binding of the mm. */
int os_sva_unbind(struct os_svm *s, uint16_t bdf, struct os_mm *mm);

#endif
