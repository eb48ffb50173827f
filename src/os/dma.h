/* The kernel's DMA API for devices that do not use SVM, as Linux's
 * dma-iommu over intel-iommu does it (os-driver-behaviour.md §2.2-§2.3):
 * each device gets a DMA domain on its remapping unit, and a driver maps
 * kernel buffers (physical pages) to I/O virtual addresses the device uses
 * in its requests without PASID.
 *
 * The domain (decision: both translation types are implemented):
 *   - scalable mode, unit with ECAP.SLTS: a second-level table (§3.2) in
 *     the RID_PASID entry (PASID 0, PGTT=2, its own DID, SLPTPTR, AW from
 *     CAP.SAGAW). Preferred over first level even when FLTS is also set
 *     (Linux would use first level there): a second-level domain is what
 *     a VMM shadows under caching mode (svm=off), and what Linux uses for
 *     it too (UNMANAGED domains).
 *   - scalable mode with FLTS only (or OS_DMA_FIRST_LEVEL): an x86-64
 *     4-level table in RID_PASID with PGTT=1 (Linux's choice for scalable
 *     units without SLTS): leaves US, A, XD (NXE set in the entry), RW+D
 *     when the device may write; its own DID (never 1: FLPT_DEFAULT_DID is
 *     SVA's).
 *   - legacy mode: the context entry with TT=0 (TT=1 when the device uses
 *     ATS, Linux's CONTEXT_TT_DEV_IOTLB: TT=0 refuses translation requests)
 *     over the second-level root, its DID and AW.
 * The entry the domain replaces (pass-through at boot) is saved and put
 * back by os_dma_detach.
 *
 * IOVAs: page granular, from a bounded window at OS_DMA_IOVA_BASE (never
 * 0, below every address width a unit can have, clear of the interrupt
 * range 0xFEE00000-0xFEEFFFFF), each allocation aligned to its size
 * rounded up to a power of two as Linux's allocator does (so one
 * page-selective invalidation covers it), handed out next-fit so a freed
 * IOVA is not reused at once.
 *
 * Invalidation, as Linux in strict mode: unmap always flushes (IOTLB
 * page-selective with the domain's DID for second level, PASID-IOTLB
 * page-selective within PASID 0 for first level; domain / PASID-selective
 * when the range exceeds CAP.MAMV or without CAP.PSI; then the device TLB
 * without PASID when the device uses ATS; then a wait) before the IOVA is
 * freed. Map flushes only with caching mode (CM=1, §1.3), which is what
 * lets a VMM shadow the guest's mappings. Deviation: Linux 6.1 does not
 * notify first-level map operations even with CM; here first level is
 * flushed on map too (PASID-IOTLB page-selective), since a VMM cannot
 * shadow what it never hears of.
 *
 * Every entry point is thread-safe (one lock per domain; lock order:
 * domain, then the unit's queue lock). Errors are -errno: -EINVAL bad
 * arguments (length 0, unaligned, overflow), -ENOENT unmapping what is not
 * a mapping, -ENOSPC no IOVA / mapping slot / domain id left, -ENOMEM no
 * page for a table, -ENODEV device not attached to the unit, -EBUSY the
 * device has a DMA domain already, -EOPNOTSUPP no usable translation type,
 * or the queue's error (-EINVAL, -ETIMEDOUT, -EIO) when an invalidation
 * failed (the entries are then gone or never became visible). */
#ifndef VSVM_OS_DMA_H
#define VSVM_OS_DMA_H

#include "os/iommu.h"
#include "paging/pt.h"

#define OS_DMA_IOVA_BASE  0x40000000ULL   /* 1 GiB */
#define OS_DMA_IOVA_PAGES 16384u          /* the largest (and default) window: 64 MiB */
#define OS_DMA_MAPS       256u            /* live mappings per domain */

#define OS_DMA_FIRST_LEVEL 1u             /* attach flag: first level even with SLTS */

/* The domain's translation: RID_PASID with PGTT=2 / PGTT=1, or a legacy context entry. */
enum os_dma_kind { OS_DMA_KIND_SL = 1, OS_DMA_KIND_FL, OS_DMA_KIND_LEGACY };

struct os_dma_mapping {
    uint64_t iova;                /* first page; 0: slot unused */
    uint64_t pages;
};

struct os_dma {
    struct os_kernel *k;
    struct os_iommu *m;
    uint16_t bdf;
    enum os_dma_kind kind;
    uint16_t did;
    unsigned levels;              /* paging levels of the table */
    uint64_t sl_root;             /* second-level root (SL and legacy) */
    struct pt fl;                 /* first-level table */
    bool ats;                     /* the device uses ATS: device-TLB flushes */
    unsigned ats_qdep;
    uint64_t saved[8];            /* the entry the domain replaced */
    os_lock_t lock;
    uint64_t window;              /* IOVA window in pages */
    uint64_t next;                /* next-fit cursor (page index in the window) */
    uint8_t used[OS_DMA_IOVA_PAGES / 8];
    struct os_dma_mapping map[OS_DMA_MAPS];
    unsigned nmaps;
    /* statistics */
    uint64_t maps, unmaps, map_flushes, unmap_flushes, flush_errors;
};

/* Attaches a DMA domain to a device already attached to unit m
 * (os_iommu_attach). flags: OS_DMA_FIRST_LEVEL. iova_pages: the IOVA
 * window (0: OS_DMA_IOVA_PAGES, the maximum). 0 or -errno; on error
 * nothing changed. */
int os_dma_attach(struct os_dma *d, struct os_iommu *m, uint16_t bdf, unsigned flags,
                  uint64_t iova_pages);
/* Unmaps whatever is still mapped (one flush), puts the replaced entry
 * back (with the teardown flushes) and frees the tables and the DID.
 * 0 or the first invalidation error (the domain is gone regardless). */
int os_dma_detach(struct os_dma *d);

/* Maps len bytes of physically contiguous memory at pa (page aligned; len
 * rounded up to pages) for the device: read always, write when `write`
 * (the device may write: DMA_FROM_DEVICE / BIDIRECTIONAL). *iova out. */
int os_dma_map(struct os_dma *d, uint64_t pa, uint64_t len, bool write, uint64_t *iova);
/* Maps n scattered pages (page-aligned physical addresses) at contiguous
 * IOVAs, as dma_map_sg merges a scatterlist behind an IOMMU. *iova out;
 * unmap with os_dma_unmap(d, *iova, n * 4096). */
int os_dma_map_pages(struct os_dma *d, const uint64_t *pages, unsigned n, bool write,
                     uint64_t *iova);
/* Unmaps a mapping: iova as returned by a map and the length it was mapped
 * with (rounded up to pages the same way). */
int os_dma_unmap(struct os_dma *d, uint64_t iova, uint64_t len);

#endif
