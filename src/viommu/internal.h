/* viommu internals: the assigned devices, the shadow bindings and the
 * outstanding page-request cookies. */
#ifndef VSVM_VIOMMU_INTERNAL_H
#define VSVM_VIOMMU_INTERNAL_H

#include <pthread.h>

#include "viommu/viommu.h"
#include "vmm/host.h"

#define VIOMMU_MAX_DEVS     HOST_MAX_ACCELS   /* a host device binds to one iommufd only */
#define VIOMMU_MAX_BINDS    256
#define VIOMMU_MAX_PENDING  IOMMUFD_FAULT_DEPTH   /* iommufd bounds the unanswered ones */
#define VIOMMU_BIND_HASH    512    /* bindings by PASID (the key of PASID-based invalidations) */
#define VIOMMU_PEND_HASH    1024   /* outstanding requests by (vBDF, PASID, PRGI) */
#define VIOMMU_SL_WALK_TABLES 4096 /* guest second-level tables read per re-walk */
#define VIOMMU_SL_ALL       (~0ULL)   /* every IOVA page */

struct viommu_dev {
    bool used;
    uint16_t vbdf, host_bdf;
    uint32_t dev_id;
    unsigned hunit;            /* host unit behind the device */
};

/* What a shadowed guest PASID entry became on the host (§2.10 PGTT). */
enum viommu_bind_kind {
    VB_NESTED = 1,             /* PGTT=1: a nested domain over the unit's nest parent */
    VB_PT,                     /* PGTT=4: the nest parent itself (GPA -> HPA, host PGTT=2) */
    VB_SL,                     /* PGTT=2 (svm=off): a paging domain shadowing the guest's
                                  second level (sl.c) */
};
struct viommu_sl;

/* One guest PASID entry shadowed into a host domain attached at the host
 * device and the same PASID. */
struct viommu_bind {
    bool used;
    uint8_t kind;              /* enum viommu_bind_kind */
    unsigned dev;              /* index in v->dev */
    uint32_t pasid;
    uint16_t did;              /* the guest's DID: the key of its invalidations */
    uint32_t hwpt;             /* the domain attached at (dev, pasid); VB_PT: the
                                  parent, owned by the viommu, never freed here */
    struct iommu_hwpt_vtd_s1 s1;   /* VB_NESTED */
    struct viommu_sl *sl;          /* VB_SL: what is mapped */
    int16_t hnext;             /* next binding of its PASID's bucket, -1: end */
};

/* A host page request the guest has to answer: the last of its group, or
 * one carrying private data (§6.4: rev 3.x requires a response for both). */
struct viommu_pending {
    bool used, last, pdp;
    uint16_t vbdf;
    uint32_t pasid;
    uint16_t prgi;
    uint32_t cookie;
    uint64_t priv_data[2];
    int16_t next;              /* next in its hash bucket, or in the free list; -1: end */
};

struct viommu {
    struct viommu_config cfg;
    struct vtd_unit *vu;
    pthread_mutex_t lock;      /* everything below */
    uint64_t rtaddr;           /* RTADDR latched by the guest's last SRTP (§1.9) */
    uint32_t parent[HOST_MAX_UNITS];   /* nest parent per host unit, 0 = none */
    struct viommu_dev dev[VIOMMU_MAX_DEVS];
    struct viommu_bind bind[VIOMMU_MAX_BINDS];
    int16_t bind_hash[VIOMMU_BIND_HASH];   /* first binding of each bucket, -1: none */
    struct viommu_pending pending[VIOMMU_MAX_PENDING];
    int16_t pend_hash[VIOMMU_PEND_HASH], pend_free;
    struct viommu_stats stats;
    /* Page-selective invalidations of one (vDID, PASID) waiting to be
     * forwarded as one range (merging, flushed before any other
     * descriptor and after every register write). */
    struct { bool valid, leaf; uint16_t did; uint32_t pasid; uint64_t first, end; } acc;
};

/* shadow.c: the descriptor hook and the device-TLB path (unit lock held). */
void viommu_desc_hook(void *opaque, struct vtd_unit *u, const uint64_t *desc);
void viommu_desc_pre_hook(void *opaque, struct vtd_unit *u, const uint64_t *desc);
/* Forwards the buffered range, if any (v->lock held). */
void viommu_acc_flush(struct viommu *v);
enum vtd_ats_inv_status viommu_ats_invalidate(void *opaque, uint16_t sid, bool pasid_valid,
                                              uint32_t pasid, bool global, uint64_t addr,
                                              uint64_t size);
/* Detaches and frees one binding (v->lock held). */
void viommu_unbind(struct viommu *v, struct viommu_bind *b);
int viommu_dev_find(const struct viommu *v, uint16_t vbdf);
struct viommu_bind *viommu_bind_find(struct viommu *v, unsigned di, uint32_t pasid);
/* The first binding of pasid's hash bucket (follow hnext; compare pasid). */
int viommu_bind_first(const struct viommu *v, uint32_t pasid);
void viommu_index_init(struct viommu *v);
/* Re-reads (validated by the unit) and shadows the guest PASID entry. */
void viommu_shadow_one(struct viommu *v, unsigned di, uint32_t pasid);

/* discover.c: shadows the present guest PASID entries not bound yet, of
 * every DID or of did (v->lock held, from the descriptor hook). */
void viommu_discover(struct viommu *v, bool any_did, uint16_t did);

/* sl.c: second-level shadowing (v->lock held). */
struct viommu_sl *viommu_sl_new(struct viommu *v, uint64_t root, unsigned levels);
void viommu_sl_free(struct viommu_sl *s);
bool viommu_sl_same(const struct viommu_sl *s, uint64_t root, unsigned levels);
/* Brings the paging domain hw in line with the guest table over the IOVA
 * pages [first, end) (VIOMMU_SL_ALL: everything). */
void viommu_sl_sync(struct viommu *v, struct viommu_sl *s, uint32_t hw, uint64_t first,
                    uint64_t end);

/* prq.c */
void viommu_page_response(void *opaque, const struct vtd_page_resp *r);
void viommu_pending_flush(struct viommu *v);

#endif
