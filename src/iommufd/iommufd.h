/* iommufd: the host-backend interface of the virtual IOMMU (ARCHITECTURE.md
 * §2), its verbs shaped after Linux iommufd (IOMMU_GET_HW_INFO,
 * IOMMU_HWPT_ALLOC nest-parent / nested IOMMU_HWPT_DATA_VTD_S1, attach with
 * PASID, IOMMU_HWPT_INVALIDATE, fault queue read / page response) plus a
 * non-recoverable-fault event queue, which Linux lacks for VT-d. Objects
 * are named by ids (never 0); verbs return 0 or -errno.
 *
 * The model backend runs the host kernel's VT-d driver (os/iommu.h) on the
 * host's units: a nest-parent domain is a host second-level table GPA ->
 * HPA with a host DID; a nested domain becomes host PASID entries with
 * PGTT=nested (vtd-reference §2.10, §3.6); invalidations go through the
 * host invalidation queue (§4.8); page requests of attached PASIDs are
 * routed here (§6) and answered with page group responses.
 *
 * Page request groups (§6.1, §6.5): every request is queued with its own
 * cookie, but only a group's last request (LAST_PAGE; or one carrying
 * private data) expects a response: iommufd_fault_respond on it answers the
 * whole group, as a PCIe page group response does. Cookies of other
 * requests are informational (responding to them is -EINVAL).
 *
 * Lock order (outermost first): ifd->op (VMM verbs, never taken by the
 * fault paths) -> unit prq_lock (held by the PRQ handler around the
 * router) -> the registry lock -> ifd->lock (attachments and queues) ->
 * unit qi_lock / ctx_lock / did_lock (inside os_* calls). No os_* call is
 * made while holding the registry lock or ifd->lock. */
#ifndef VSVM_IOMMUFD_IOMMUFD_H
#define VSVM_IOMMUFD_IOMMUFD_H

#include <stdbool.h>
#include <stdint.h>

#include "mem/mem.h"

struct host;
struct iommufd;

#define IOMMUFD_FAULT_DEPTH 1024   /* unread + unanswered page requests */
#define IOMMUFD_EVENT_DEPTH 256    /* unread non-recoverable faults */

struct iommu_hw_info_vtd {
    uint64_t cap, ecap;
    unsigned unit;                 /* index of the host unit behind the device */
};

/* IOMMU_HWPT_DATA_VTD_S1 */
#define IOMMU_VTD_S1_SRE  (1u << 0)   /* supervisor requests */
#define IOMMU_VTD_S1_EAFE (1u << 1)   /* extended accessed flag */
#define IOMMU_VTD_S1_WPE  (1u << 2)   /* write protect */
struct iommu_hwpt_vtd_s1 {
    uint64_t pgtbl_gpa;            /* guest first-level root (GPA, 4 KiB aligned) */
    unsigned addr_width;           /* 48 (4-level) or 57 (5-level) */
    uint32_t flags;
};

/* IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 */
#define IOMMU_VTD_INV_FLAGS_LEAF (1u << 0)   /* only leaf entries changed (IH) */
#define IOMMU_VTD_INV_ALL_PAGES  (~0ULL)     /* npages with addr 0: everything */
struct iommu_hwpt_vtd_s1_invalidate {
    uint64_t addr;
    uint64_t npages;
    uint32_t flags;
};

/* Fault queue (struct iommu_hwpt_pgfault) */
#define IOMMU_PGFAULT_FLAGS_PASID_VALID (1u << 0)
#define IOMMU_PGFAULT_FLAGS_LAST_PAGE   (1u << 1)
#define IOMMU_PGFAULT_FLAGS_PRIV_DATA   (1u << 2)   /* priv_data valid (§6.1 PDP, rev 3.x) */
#define IOMMU_PGFAULT_PERM_READ  (1u << 0)
#define IOMMU_PGFAULT_PERM_WRITE (1u << 1)
#define IOMMU_PGFAULT_PERM_EXEC  (1u << 2)
#define IOMMU_PGFAULT_PERM_PRIV  (1u << 3)
struct iommu_hwpt_pgfault {
    uint32_t flags, dev_id, pasid, grpid, perm;
    uint64_t addr;
    uint32_t cookie;
    uint64_t priv_data[2];         /* the request's QW2/QW3 with FLAGS_PRIV_DATA, else 0 */
};
enum iommufd_page_response_code { IOMMUFD_PAGE_RESP_SUCCESS = 0, IOMMUFD_PAGE_RESP_INVALID = 1 };

/* Event queue: a non-recoverable fault on guest-owned (first-level)
 * translation of an attached (device, PASID). */
struct iommufd_event {
    uint32_t dev_id, pasid;
    uint8_t reason;                /* the unit's fault reason (§7.1 table) */
    bool write;
    uint64_t addr;
};

struct iommufd *iommufd_open(struct host *h);
/* Detaches everything (pending page requests answered Invalid), frees the
 * domains, unbinds the devices, unhooks from the host. NULL is ignored. */
void iommufd_close(struct iommufd *ifd);

/* An accelerator the host kernel attached with PASID support; -ENODEV
 * otherwise, -EBUSY when bound already (by any iommufd). Binding blocks
 * the device's requests without PASID: its host RID_PASID entry (pass-
 * through for a host device) is saved and made not present until a domain
 * is attached at PASID 0; unbind (and close) put the saved entry back. */
int iommufd_bind(struct iommufd *ifd, uint16_t bdf, uint32_t *dev_id);
int iommufd_unbind(struct iommufd *ifd, uint32_t dev_id);   /* -EBUSY while attached */
int iommufd_get_hw_info(struct iommufd *ifd, uint32_t dev_id, struct iommu_hw_info_vtd *out);

/* Nest parent on the unit of dev_id: second level (4-level) for every page
 * of guest_ram, which must outlive the domain. */
int iommufd_hwpt_alloc_parent(struct iommufd *ifd, uint32_t dev_id,
                              const struct gpa_map *guest_ram, uint32_t *hwpt_id);
/* Maps / unmaps [gpa, gpa + len) of the guest map in the parent (page
 * granular); unmap invalidates the host IOTLB for the domain and the device
 * TLBs of the attached devices. */
int iommufd_parent_map(struct iommufd *ifd, uint32_t hwpt_id, uint64_t gpa, uint64_t len);
int iommufd_parent_unmap(struct iommufd *ifd, uint32_t hwpt_id, uint64_t gpa, uint64_t len);
int iommufd_hwpt_alloc_nested(struct iommufd *ifd, uint32_t parent_id,
                              const struct iommu_hwpt_vtd_s1 *s1, uint32_t *hwpt_id);
int iommufd_hwpt_free(struct iommufd *ifd, uint32_t hwpt_id);  /* -EBUSY while in use */

/* A plain paging domain on the unit of dev_id (IOMMU_HWPT_ALLOC over an
 * IOAS, no nesting): a host second level (4 levels) with no mapping;
 * attached at a PASID it is a host PASID entry with PGTT=2. Its mappings
 * are IOVA -> GPA ranges of guest_ram (which must outlive it), made by the
 * host kernel over the guest's memory map. Its page-table pages are
 * bounded by 64 + guest RAM pages / 32. */
int iommufd_hwpt_alloc_paging(struct iommufd *ifd, uint32_t dev_id,
                              const struct gpa_map *guest_ram, uint32_t *hwpt_id);
/* IOMMU_IOAS_MAP-shaped: maps [iova, iova + len) to [gpa, gpa + len),
 * page granular, read always, write when `write`. All or nothing: -EEXIST
 * when a page of the range is mapped already (unmap first), -EINVAL for an
 * unaligned or wrapping range, an IOVA at or above 2^48 or a GPA outside
 * guest RAM, -ENOSPC when the domain's page-table budget is spent. */
int iommufd_map(struct iommufd *ifd, uint32_t hwpt_id, uint64_t iova, uint64_t gpa, uint64_t len,
                bool write);
/* IOMMU_IOAS_UNMAP-shaped: unmaps whatever is mapped in [iova, iova + len)
 * (*unmapped: the bytes, may be NULL); when anything was, the host IOTLB of
 * the domain (page-selective over the range, domain-selective beyond
 * CAP.MAMV) and the device TLBs of its attachments are invalidated before
 * it returns. */
int iommufd_unmap(struct iommufd *ifd, uint32_t hwpt_id, uint64_t iova, uint64_t len,
                  uint64_t *unmapped);

/* Attach (or replace) the domain for (dev, pasid): nested -> PGTT=nested,
 * parent or paging -> PGTT=second-level. PASID 0 is the RID_PASID. */
int iommufd_attach(struct iommufd *ifd, uint32_t dev_id, uint32_t pasid, uint32_t hwpt_id);
int iommufd_detach(struct iommufd *ifd, uint32_t dev_id, uint32_t pasid);

/* Stage-1 cache invalidation of a nested domain; *done = entries handled. */
int iommufd_hwpt_invalidate(struct iommufd *ifd, uint32_t hwpt_id,
                            const struct iommu_hwpt_vtd_s1_invalidate *entries, unsigned n,
                            unsigned *done);

unsigned iommufd_fault_read(struct iommufd *ifd, struct iommu_hwpt_pgfault *out, unsigned max);
int iommufd_fault_respond(struct iommufd *ifd, uint32_t cookie, unsigned code);
unsigned iommufd_event_read(struct iommufd *ifd, struct iommufd_event *out, unsigned max);
/* Called whenever a page fault or an event is queued (the readiness of
 * Linux's fault fd): from the host's interrupt handlers with the iommufd's
 * locks held, so fn may only wake a reader, never call back into
 * iommufd. NULL disables. */
typedef void (*iommufd_notify_fn)(void *arg);
void iommufd_set_notify(struct iommufd *ifd, iommufd_notify_fn fn, void *arg);

/* Host queue work done for this iommufd (benchmarks, tests): os_qi_submit
 * calls it made and the descriptors they put on host invalidation queues,
 * counting the wait descriptor each submission ends with. Covers the
 * invalidations iommufd builds (forwarded ranges, flushes after attach,
 * detach and unmap) and page group responses; not the flushes the host
 * kernel makes inside os_iommu_clear_pasid / os_iommu_set_pasid_raw. */
struct iommufd_stats {
    uint64_t qi_submissions, qi_descriptors;
};
void iommufd_get_stats(struct iommufd *ifd, struct iommufd_stats *s);

#endif
