/* iommufd model backend: objects and helpers shared by its files. */
#ifndef VSVM_IOMMUFD_INTERNAL_H
#define VSVM_IOMMUFD_INTERNAL_H

#include <pthread.h>

#include "iommufd/iommufd.h"
#include "os/iommu.h"
#include "vmm/host.h"

#define IFD_DEVS    16
#define IFD_ATT_HASH 512          /* buckets of attachments by (bdf, pasid) */
#define IFD_SLOT_BITS 10          /* hwpt ids: serial << 10 | (slot + 1) */
#define IFD_HWPTS   320   /* a viommu binds up to 256 PASIDs, each its own domain */
#define IFD_ATTACH  320
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
    bool paging;                   /* a plain paging domain (explicit mappings), not a parent */
    struct os_iommu *m;
    /* parent and paging: a host second level (IFD_SL_LEVELS) and its DID */
    const struct gpa_map *ram;
    uint64_t sl_root;
    uint16_t did;
    uint64_t tables, max_tables;   /* paging: page-table pages in use / allowed */
    /* nested */
    uint32_t parent;
    struct iommu_hwpt_vtd_s1 s1;
    unsigned users;                /* attachments, and nested children of a parent */
    int16_t att_head;              /* its attachments (ifd_attach.wnext), -1: none */
};

struct ifd_attach {
    bool used;
    uint32_t dev_id, pasid, hwpt_id;
    uint16_t bdf;
    struct os_iommu *m;
    bool nested;                   /* page requests and FL faults are routed here */
    int16_t hnext;                 /* next in its (bdf, pasid) hash bucket, -1: end */
    int16_t wnext;                 /* next attachment of the same hwpt, -1: end */
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
    int16_t att_hash[IFD_ATT_HASH];   /* first attachment of each bucket, -1: none */
    struct iommu_hwpt_pgfault fq[IOMMUFD_FAULT_DEPTH];
    unsigned fq_head, fq_n;
    struct ifd_pending pend[IOMMUFD_FAULT_DEPTH];
    struct iommufd_event eq[IOMMUFD_EVENT_DEPTH];
    unsigned eq_head, eq_n;
    uint64_t faults_dropped, events_dropped;
    uint64_t qi_submissions, qi_descriptors;   /* iommufd_stats (atomic) */
    iommufd_notify_fn notify;      /* a record was queued (ifd->lock held) */
    void *notify_arg;
};

struct ifd_dev *ifd_dev_get(struct iommufd *ifd, uint32_t id);
/* O(1): the id names its slot. */
struct ifd_hwpt *ifd_hwpt_get(struct iommufd *ifd, uint32_t id);
struct ifd_hwpt *ifd_hwpt_slot(struct iommufd *ifd);                    /* a free one */
uint32_t ifd_hwpt_new_id(struct iommufd *ifd, const struct ifd_hwpt *hp);
/* The attachment of (bdf, pasid), under ifd->lock; NULL if none. */
struct ifd_attach *ifd_attach_find(struct iommufd *ifd, uint16_t bdf, uint32_t pasid);

/* paging.c: the host second-level leaf of iova (0: none), and how many
 * table pages os_sl_map would allocate to reach it. */
uint64_t ifd_sl_lookup(struct iommufd *ifd, uint64_t root, uint64_t iova, unsigned *missing);

/* fault.c: routing of page requests and faults (registry). */
int ifd_hook(struct iommufd *ifd);
void ifd_unhook(struct iommufd *ifd);
/* Whether any iommufd of h has bdf bound. */
bool ifd_bdf_bound(struct host *h, uint16_t bdf);
/* Removes the pending requests of (bdf, pasid) and answers them Invalid. */
void ifd_fault_cancel(struct iommufd *ifd, uint16_t bdf, uint32_t pasid);

/* attach.c */
void ifd_did_retire(struct iommufd *ifd, struct os_iommu *m, uint16_t did);
void ifd_detach_all(struct iommufd *ifd);
/* The attachment index lists (under ifd->lock). */
void ifd_att_init(struct iommufd *ifd);
/* After the PASID entry of (bdf, pasid) changed: PASID cache and PASID
 * IOTLB of both domain ids (0: none), the device TLB of the PASID. */
int ifd_flush_entry(struct iommufd *ifd, struct os_iommu *m, uint16_t bdf, uint32_t pasid,
                    uint16_t old_did, uint16_t new_did);
/* Bind / unbind of a device: the host's RID_PASID entry is saved and
 * replaced by a not-present one (requests without PASID blocked until the
 * VMM attaches a domain at PASID 0), and put back. */
int ifd_rid_pasid_block(struct iommufd *ifd, struct ifd_dev *d);
int ifd_rid_pasid_restore(struct iommufd *ifd, struct ifd_dev *d);
/* Submits n descriptors in batches that fit the unit's queue. */
/* After an unmap of the parent: IOTLB (type 2) + device TLBs. */
int ifd_parent_flush(struct iommufd *ifd, struct ifd_hwpt *hp, uint64_t gpa, uint64_t len);
int ifd_qi_batch(struct iommufd *ifd, struct os_iommu *m, const uint64_t (*q)[4], unsigned n);
/* One os_qi_submit, counted in the iommufd's statistics. */
int ifd_submit(struct iommufd *ifd, struct os_iommu *m, const uint64_t (*q)[4], unsigned n);

#endif
