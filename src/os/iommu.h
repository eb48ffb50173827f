/* The kernel's VT-d driver, modelled on Linux 6.1 drivers/iommu/intel
 * (os-driver-behaviour.md §2): unit discovery from the ACPI DMAR table, the
 * boot sequence, queued invalidation with wait descriptors, scalable-mode
 * context and PASID tables, the fault and page-request handlers. */
#ifndef VSVM_OS_IOMMU_H
#define VSVM_OS_IOMMU_H

#include "acpi/dmar.h"
#include "os/os.h"

#define OS_IOMMU_MAX_DEVS  64
#define OS_FAULT_LOG       32
#define OS_QI_DONE         2      /* Linux's QI_DONE status value (dmar.c) */
#define OS_QI_IN_USE       1
#define OS_FLPT_DID        1      /* Linux FLPT_DEFAULT_DID: first-level and pass-through */
#define OS_PASID_MAX       (1u << 20)

struct os_dma;

struct os_iommu_dev {
    uint16_t bdf;
    bool ats, pasid, pri;         /* device features the driver uses */
    uint64_t pasid_dir;           /* PASID directory (scalable mode) */
    unsigned pdts;
    unsigned ats_qdep;
    struct os_dma *dma;           /* DMA domain for requests without PASID (dma.c), or NULL */
};

/* A non-recoverable fault as the handler read it (§5.2, os-driver §2.7). */
struct os_fault {
    uint16_t sid;
    uint8_t reason;
    bool pasid_present, write;
    uint32_t pasid;
    uint64_t addr;
};

/* A page request as the PRQ handler decoded it (§6.1). */
struct os_page_req {
    uint16_t sid;
    bool pasid_present, read, write, exec, priv, lpig, pdp;
    uint32_t pasid;
    uint16_t prgi;
    uint64_t addr;
    uint64_t priv_data[2];
};

struct os_iommu;
/* Resolves a page request (fault the page in); 0 success, OS_IOPF_DEFERRED
 * when the answer will come later through os_iommu_page_response (a
 * request forwarded to a guest), else it is answered Invalid Request. Runs
 * in the page-request interrupt. */
typedef int (*os_iopf_fn)(void *arg, struct os_iommu *iommu, const struct os_page_req *pr);
#define OS_IOPF_DEFERRED 1
#define OS_IOPF_NOT_MINE 2   /* a router's answer: let the next handler decide */
/* Sees every non-recoverable fault the handler reads (after logging). */
typedef void (*os_fault_fn)(void *arg, struct os_iommu *iommu, const struct os_fault *f);

struct os_iommu {
    struct os_kernel *k;
    unsigned index;
    uint64_t base;
    uint32_t ver;
    uint64_t cap, ecap;
    uint32_t gcmd;                /* shadow of the persistent GCMD bits (Linux) */
    bool sm, cm, dw;
    /* invalidation queue */
    os_lock_t qi_lock;
    uint64_t iq, status;
    unsigned iq_len, iq_tail;
    /* translation structures */
    uint64_t root;
    os_lock_t ctx_lock;
    struct os_iommu_dev dev[OS_IOMMU_MAX_DEVS];
    unsigned ndev;
    /* page requests */
    uint64_t prq;
    unsigned prq_bytes;
    os_lock_t prq_lock;           /* one handler pass at a time */
    struct os_prq_group {
        bool used, failed;
        uint16_t sid, prgi;
        uint32_t pasid;
    } prq_group[16];              /* groups whose last request has not come yet */
    os_iopf_fn iopf;
    void *iopf_arg;
    os_fault_fn fault_notify;
    void *fault_arg;
    os_lock_t did_lock;
    uint8_t did_used[8192];       /* bitmap of 65536 domain ids; 0 and 1 reserved */
    /* faults */
    struct os_fault fault[OS_FAULT_LOG];
    unsigned nfault;              /* total read; fault[] keeps the last OS_FAULT_LOG */
    /* counters, bumped atomically (read from any thread with __atomic_load_n) */
    uint64_t prq_handled, prq_invalid, qi_submits, qi_errors;
};

/* Probes every DRHD of the DMAR table: reads CAP/ECAP, runs the boot
 * sequence (fault drain, QI, root table, global invalidations, PRQ, fault
 * and page-request MSIs) short of enabling translation. `units` holds at
 * least DMAR_MAX_UNITS entries. Returns the number of units, or -1. */
int os_iommu_probe(struct os_kernel *k, const uint8_t *dmar, size_t len,
                   struct os_iommu *units, struct dmar_info *info);
/* GCMD.TE, polling GSTS.TES (after devices are attached, §2.1 step 9). */
int os_iommu_enable_translation(struct os_iommu *m);

/* Attaches a PCI device: context entry (scalable: PASID directory with a
 * pass-through RID_PASID entry, DTE/PASIDE/PRE from the features), with the
 * caching-mode flushes (§2.2). 0 or -errno. */
int os_iommu_attach(struct os_iommu *m, uint16_t bdf, bool ats, bool pasid, bool pri,
                    unsigned ats_qdep);
struct os_iommu_dev *os_iommu_dev(struct os_iommu *m, uint16_t bdf);

/* Writes a first-level PASID entry (SVA bind, §2.4) and flushes. */
int os_iommu_set_pasid_fl(struct os_iommu *m, uint16_t bdf, uint32_t pasid, uint64_t pgd,
                          unsigned levels, bool supervisor);
/* Tears a PASID entry down: P cleared, PASID cache, PASID IOTLB and the
 * PASID device TLB flushed, the page request queue drained (§2.4 unbind). */
int os_iommu_clear_pasid(struct os_iommu *m, uint16_t bdf, uint32_t pasid);
/* After the CPU's page tables of a bound PASID changed (munmap/mprotect):
 * PASID IOTLB page-selective + PASID device TLB (os-driver §2.4). */
int os_iommu_flush_pasid_range(struct os_iommu *m, uint16_t bdf, uint32_t pasid,
                               uint64_t addr, uint64_t pages);

/* Answers a deferred page request (page group response, §6.5). */
int os_iommu_page_response(struct os_iommu *m, const struct os_page_req *pr, unsigned rc);

/* Domain ids (§1.3: 0 reserved for caching mode, 1 for first-level and
 * pass-through entries): a free one >= 2, or 0 when none is left. */
uint16_t os_iommu_did_alloc(struct os_iommu *m);
void os_iommu_did_free(struct os_iommu *m, uint16_t did);
/* Writes a raw PASID-table entry for an attached device (nested and
 * second-level entries built by iommufd) and flushes as caching mode
 * requires; 0 or -errno. */
int os_iommu_set_pasid_raw(struct os_iommu *m, uint16_t bdf, uint32_t pasid, const uint64_t *pte);
/* Replaces PASID-table entry `pasid` (8 qwords) of an attached device,
 * whatever its PASID support: RID_PASID (0) carries its requests without
 * PASID (DMA domains, dma.c). A present entry is torn down first as
 * intel_pasid_tear_down_entry does (P cleared; PASID cache, the IOTLB
 * (second level / nested) or PASID IOTLB (first level / pass-through) of
 * its domain and, with ATS, the device TLB flushed), then the new entry is
 * written (present bit last) and flushed as caching mode requires. *old (8
 * qwords, may be NULL) receives the entry replaced. Scalable mode only;
 * 0 or -errno. */
int os_iommu_replace_pasid(struct os_iommu *m, uint16_t bdf, uint32_t pasid, const uint64_t *pte,
                           uint64_t *old);
/* Legacy mode: the same for the device's context entry (2 qwords): the
 * present one cleared, context cache (device-selective, its DID), IOTLB
 * (its domain) and device TLB flushed; the new one written, and with
 * caching mode the context cache (device-selective, DID 0) and the new
 * domain's IOTLB flushed (os-driver §2.2 step 3). 0 or -errno. */
int os_iommu_replace_ctx(struct os_iommu *m, uint16_t bdf, const uint64_t *ce, uint64_t *old);

/* Second-level page tables of the host kernel (§3.2): map/unmap 4 KiB
 * pages; *root allocated on first use. 0 or -errno. */
int os_sl_map(struct os_kernel *k, uint64_t *root, unsigned levels, uint64_t iova, uint64_t pa,
              bool write);
int os_sl_unmap(struct os_kernel *k, uint64_t root, unsigned levels, uint64_t iova);
void os_sl_free(struct os_kernel *k, uint64_t root, unsigned levels);

/* Queued invalidation: submits n descriptors and a wait descriptor, polls
 * its status (qi_submit_sync). 0, -EINVAL (IQE: the bad descriptor was
 * skipped), -ETIMEDOUT (ITE) or -EIO (the unit never completed). */
int os_qi_submit(struct os_iommu *m, const uint64_t (*desc)[4], unsigned n);
/* Descriptor builders (vtd-reference §4); each fills a zeroed d[4]. */
void os_qi_cc(uint64_t *d, unsigned g, uint16_t did, uint16_t sid, unsigned fm);
void os_qi_iotlb(uint64_t *d, unsigned g, uint16_t did, uint64_t addr, unsigned am, bool ih);
void os_qi_pc(uint64_t *d, unsigned g, uint16_t did, uint32_t pasid);
void os_qi_piotlb(uint64_t *d, unsigned g, uint16_t did, uint32_t pasid, uint64_t addr,
                  unsigned am, bool ih);
void os_qi_pdevtlb(uint64_t *d, uint16_t sid, uint32_t pasid, unsigned qdep, uint64_t addr,
                   uint64_t pages);
void os_qi_pgresp(uint64_t *d, const struct os_page_req *pr, unsigned rc);
/* The order k of the smallest aligned block of 2^k pages that covers
 * [addr, addr + pages): what a page-selective invalidation of an unaligned
 * range must name (Linux calculate_psi_aligned_address). */
unsigned os_qi_cover_order(uint64_t addr, uint64_t pages);
/* Device-TLB invalidation without PASID (type 3, §4.5), size encoded as
 * os_qi_pdevtlb does. */
void os_qi_devtlb(uint64_t *d, uint16_t sid, unsigned qdep, uint64_t addr, uint64_t pages);

/* Interrupt handlers (also callable by polling code). */
void os_iommu_fault_irq(void *iommu);
void os_iommu_prq_irq(void *iommu);

/* Register access helpers. */
uint64_t os_iommu_rd(struct os_iommu *m, uint32_t off, unsigned size);
void os_iommu_wr(struct os_iommu *m, uint32_t off, unsigned size, uint64_t v);

#endif
