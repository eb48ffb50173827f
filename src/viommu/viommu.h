/* viommu: a virtual VT-d remapping unit for one guest, backed by iommufd
 * (ARCHITECTURE.md §2, RFC §3, issue 5 item 2).
 *
 * The register page is a VT-d unit model living in the guest's physical
 * space (vtd_unit_create_guest): registers, the invalidation queue fetched
 * and validated from guest memory (IQE/IQEI exactly as hardware), fault
 * recording and the page request queue all have the model's semantics.
 * The viommu adds what a VMM adds on top:
 *   - CAP/ECAP derived from the host units (never more than every host unit
 *     can do), Caching Mode set (§1.3: software invalidates after making
 *     entries present, which is what lets us shadow);
 *   - shadowing of guest PASID entries into host domains on PASID-cache
 *     and context-cache invalidations (§4.3, §4.8, §2.10): PGTT=1 (first
 *     level) becomes a host nested domain over the nest parent, PGTT=4
 *     (pass-through: the device's addresses are GPAs) becomes the nest
 *     parent itself (the guest's GPA -> HPA second level, host PGTT=2),
 *     attached at the host device and the same PASID. PASID 0 is the
 *     RID_PASID (requests without PASID; the virtual unit has no ECAP.RPS,
 *     §2.8): a context-cache invalidation re-reads it for the devices it
 *     covers. Until the guest makes it present, the host blocks the
 *     device's requests without PASID (iommufd_bind);
 *   - forwarding of IOTLB / PASID-IOTLB / device-TLB invalidations to the
 *     nested domains (§4.4, §4.5, §4.8); with svm=off, IOTLB invalidations
 *     re-walk the shadowed guest second levels instead (below, sl.c);
 *   - host page requests injected into the guest's PRQ (§6) and the guest's
 *     page group responses answered back to the host;
 *   - host non-recoverable faults on guest-owned first-level translation
 *     recorded in the guest's fault recording registers (§7).
 *
 * Advertised with svm=true (everything ANDed with every host unit):
 *   CAP: CM, PSI, MAMV, SAGAW/MGAW, FL1GP, FL5LP, ND, DWD/DRD, ZLR.
 *   ECAP: QI, SMTS, PASID (PSS), FLTS, PRS, PDS, DT, SRS, ERS, EAFS, NWFS,
 *         C/SMPWCS; PT when every host unit has SLTS (a pass-through PASID
 *         is the nest parent, a host second-level table); never SLTS,
 *         NEST, RPS, DIT, IR, VCS, ADMS, SLADS, PMS (the guest uses first
 *         level for all its translated DMA: PGTT=2 and 3 are invalid).
 *
 * svm=false (issue 6 item 4: DMA remapping without PASID, page requests or
 * nesting). Decision: scalable mode with second-level translation only,
 * what a Linux guest uses on such a unit (Linux 6.1 picks the second level
 * when ECAP.SLTS is set and FLTS is not, and uses PGTT=2 in the RID_PASID
 * entry, §2.10; its DMA API invalidates every map with caching mode, §1.3,
 * with IOTLB descriptors carrying the domain's DID, §4.4). Legacy mode
 * would do as well for the guest but would need a second shadowing path
 * (context entries with TT, §2.3) for nothing more: the vtd model and the
 * os layer run scalable mode already, and QEMU's scalable mode does the
 * same. Advertised (ANDed with every host unit, which must all have
 * SLTS, else viommu_create fails):
 *   CAP: CM, PSI, MAMV, ND, DWD/DRD, ZLR, SAGAW limited to 3 and 4 levels
 *        and MGAW to 48 bits (the host shadow is a 4-level table); no
 *        SLLPS (the guest maps 4 KiB pages: PS in a non-leaf is reserved),
 *        no FL1GP/FL5LP.
 *   ECAP: QI, SMTS, SLTS, PT, DT, NWFS, C/SMPWCS; no FLTS, NEST, PASID (PSS
 *         0: only the RID_PASID), PRS/PDS, SRS/ERS, EAFS.
 * The guest's RID_PASID entry with PGTT=2 becomes a host paging domain
 * (iommufd_hwpt_alloc_paging) at the host device's RID_PASID, filled from
 * the guest's second-level table (IOVA -> GPA, every entry validated: a
 * GPA outside guest RAM, a reserved bit or a table outside RAM is never
 * mapped) and kept in line by each IOTLB invalidation naming its DID
 * (page-selective: the range is re-walked; domain-selective or global: the
 * whole table). PGTT=4 there is the nest parent (GPA = IOVA). Anything
 * else, and any PASID but 0, is a bad entry (never host state). An unmap
 * the guest never invalidates keeps its host mapping until an invalidation
 * covers it (hardware may keep a cached translation, §4.4): the device can
 * still reach that page, which is the guest's own RAM.
 *
 * Thread safety: every entry point may be called from any thread. Lock
 * order: virtual unit lock -> viommu lock -> iommufd locks. */
#ifndef VSVM_VIOMMU_VIOMMU_H
#define VSVM_VIOMMU_VIOMMU_H

#include <stdbool.h>
#include <stdint.h>

#include "iommufd/iommufd.h"
#include "vtd/unit.h"

struct host;
struct gpa_map;
struct viommu;

struct viommu_config {
    struct host *host;
    struct iommufd *ifd;          /* one per guest; the caller opens and closes it */
    struct gpa_map *guest_ram;    /* must outlive the viommu */
    bool svm;
    unsigned aw_bits;             /* QEMU's aw-bits: 48 (4-level, no FL5LP, MGAW <= 47) or 57;
                                     0: whatever the host units allow */
    vtd_msi_fn msi;               /* the guest's vMSIs (fault, invalidation, page request) */
    void *msi_opaque;
};

/* What the viommu did with guest input (for tests and tracing). */
struct viommu_stats {
    uint64_t binds, unbinds;      /* host domains attached / detached (any kind) */
    uint64_t bad_entries;         /* guest PASID entries refused (never host state) */
    uint64_t host_invalidations;  /* host invalidations caused: iommufd_hwpt_invalidate
                                     calls (nested), iommufd_unmap calls that removed
                                     pages (second-level shadows, svm=off) */
    uint64_t host_inv_errors;     /* host refused (or failed) one of them */
    uint64_t page_requests;       /* injected into the guest PRQ */
    uint64_t page_responses;      /* answered to the host */
    uint64_t dropped_requests;    /* faults the guest never sees (answered Invalid) */
    uint64_t faults_injected;     /* host events recorded in the guest registers */
    /* second-level shadowing (svm=off) */
    uint64_t sl_syncs;            /* re-walks of a guest second-level table */
    uint64_t sl_maps, sl_unmaps;  /* host pages mapped / unmapped for them */
    uint64_t sl_refused;          /* guest leaves or subtrees never mapped (invalid) */
    uint64_t sl_errors;           /* host refusals (budget, ...) */
};

struct viommu *viommu_create(const struct viommu_config *c);
/* Detaches and frees every host object of the viommu, answers pending page
 * requests Invalid and unbinds the devices; the iommufd stays open. */
void viommu_destroy(struct viommu *v);

uint64_t viommu_mmio_read(struct viommu *v, uint32_t off, unsigned size);
void viommu_mmio_write(struct viommu *v, uint32_t off, unsigned size, uint64_t val);

/* Assigns host device host_bdf to the guest as vbdf on the virtual unit:
 * iommufd_bind, the nest parent over guest RAM of its host unit (shared by
 * the guest's devices behind that unit). 0, -EEXIST (vbdf used), -ENOSPC,
 * -EOPNOTSUPP (host unit lacks an advertised capability) or iommufd's. */
int viommu_assign(struct viommu *v, uint16_t vbdf, uint16_t host_bdf);

/* Drains the iommufd fault and event queues into the guest (page requests
 * into its PRQ, non-recoverable faults into its fault recording registers).
 * Returns the number of host records consumed. */
unsigned viommu_poll(struct viommu *v);

/* The register model (for tests and the guest platform). */
struct vtd_unit *viommu_unit(struct viommu *v);
void viommu_stats(struct viommu *v, struct viommu_stats *s);
/* The host domain shadowing (vbdf, pasid), 0 when none: nested (PGTT=1),
 * or the nest parent (PGTT=4). */
uint32_t viommu_shadow_hwpt(struct viommu *v, uint16_t vbdf, uint32_t pasid);

#endif
