/* iommufd model backend: objects and helpers shared by its files. */
#ifndef VSVM_IOMMUFD_INTERNAL_H
#define VSVM_IOMMUFD_INTERNAL_H

#include <pthread.h>

#include "iommufd/iommufd.h"
#include "os/iommu.h"
#include "vmm/host.h"

#define IFD_DEVS    16
#define IFD_HWPTS   64
#define IFD_ATTACH  128
#define IFD_SL_LEVELS 4

struct ifd_dev {
    uint32_t id;                   /* 0: free slot */
    uint16_t bdf;
    struct os_iommu *m;
    uint64_t host_rid_pasid[8];    /* the host's RID_PASID entry, put back on unbind */
};

struct ifd_hwpt {
    uint32_t id;
    bool nested;
    struct os_iommu *m;
    /* parent */
    const struct gpa_map *ram;
    uint64_t sl_root;
    uint16_t did;
    /* nested */
    uint32_t parent;
    struct iommu_hwpt_vtd_s1 s1;
    unsigned users;                /* attachments, and nested children of a parent */
};

struct ifd_attach {
    bool used;
    uint32_t dev_id, pasid, hwpt_id;
    uint16_t bdf;
    struct os_iommu *m;
    bool nested;                   /* page requests and FL faults are routed here */
};

struct ifd_pending {               /* a deferred request that expects a response */
    uint32_t cookie;               /* 0: free */
    struct os_iommu *m;
    struct os_page_req pr;
};

struct iommufd {
    struct host *h;
    struct iommufd *next;          /* registry of the host's instances */
    pthread_mutex_t op;            /* VMM verbs */
    pthread_mutex_t lock;          /* attachments and queues (fault paths) */
    uint32_t next_id, next_cookie;
    struct ifd_dev dev[IFD_DEVS];
    struct ifd_hwpt hwpt[IFD_HWPTS];
    struct ifd_attach att[IFD_ATTACH];
    struct iommu_hwpt_pgfault fq[IOMMUFD_FAULT_DEPTH];
    unsigned fq_head, fq_n;
    struct ifd_pending pend[IOMMUFD_FAULT_DEPTH];
    struct iommufd_event eq[IOMMUFD_EVENT_DEPTH];
    unsigned eq_head, eq_n;
    uint64_t faults_dropped, events_dropped;
    iommufd_notify_fn notify;      /* a record was queued (ifd->lock held) */
    void *notify_arg;
};

struct ifd_dev *ifd_dev_get(struct iommufd *ifd, uint32_t id);
struct ifd_hwpt *ifd_hwpt_get(struct iommufd *ifd, uint32_t id);
/* The attachment of (bdf, pasid), under ifd->lock; NULL if none. */
struct ifd_attach *ifd_attach_find(struct iommufd *ifd, uint16_t bdf, uint32_t pasid);

/* fault.c: routing of page requests and faults (registry). */
int ifd_hook(struct iommufd *ifd);
void ifd_unhook(struct iommufd *ifd);
/* Whether any iommufd of h has bdf bound. */
bool ifd_bdf_bound(struct host *h, uint16_t bdf);
/* Removes the pending requests of (bdf, pasid) and answers them Invalid. */
void ifd_fault_cancel(struct iommufd *ifd, uint16_t bdf, uint32_t pasid);

/* attach.c */
void ifd_detach_all(struct iommufd *ifd);
/* After the PASID entry of (bdf, pasid) changed: PASID cache and PASID
 * IOTLB of both domain ids (0: none), the device TLB of the PASID. */
int ifd_flush_entry(struct os_iommu *m, uint16_t bdf, uint32_t pasid, uint16_t old_did,
                    uint16_t new_did);
/* Bind / unbind of a device: the host's RID_PASID entry is saved and
 * replaced by a not-present one (requests without PASID blocked until the
 * VMM attaches a domain at PASID 0), and put back. */
int ifd_rid_pasid_block(struct iommufd *ifd, struct ifd_dev *d);
int ifd_rid_pasid_restore(struct iommufd *ifd, struct ifd_dev *d);
/* Submits n descriptors in batches that fit the unit's queue. */
/* After an unmap of the parent: IOTLB (type 2) + device TLBs. */
int ifd_parent_flush(struct iommufd *ifd, struct ifd_hwpt *hp, uint64_t gpa, uint64_t len);
int ifd_qi_batch(struct os_iommu *m, const uint64_t (*q)[4], unsigned n);

#endif
