/* The kernel's driver for the SVM accelerator (dev/accel_regs.h): probe
 * with the PCI enable sequence, contexts bound to a process's PASID, batch
 * submission and completion. */
#ifndef VSVM_OS_ACCEL_DRV_H
#define VSVM_OS_ACCEL_DRV_H

#include "dev/accel_regs.h"
#include "os/pci.h"
#include "os/svm.h"

struct os_accel {
    struct os_kernel *k;
    struct os_svm *svm;
    uint16_t bdf;
    uint64_t bar0;
    unsigned nctx;
    struct os_pci_sva_caps caps;
    os_lock_t lock;
    uint32_t ctx_used;            /* bit per context */
    unsigned vector;
    uint64_t irqs;
    uint32_t completions;         /* bumped by every completion interrupt */
    bool released;                /* handed to a VMM (os_accel_release) */
};

struct os_accel_ctx {
    struct os_accel *a;
    unsigned idx;
    struct os_mm *mm;
    uint32_t pasid;
    uint64_t seqno;               /* last handed out by os_accel_next_seqno */
    bool nopasid;                 /* os_accel_open_dma: requests without PASID */
};

/* Probes the device at bdf: identity, BAR0, memory/bus master, MSI, the
 * SVA capabilities (PASID, PRI, ATS) and the IOMMU attach with them.
 * 0 or -errno (-ENODEV: not an accelerator). */
int os_accel_probe(struct os_accel *a, struct os_kernel *k, struct os_svm *svm, uint16_t bdf);

/* Device assignment (VFIO-like): the driver lets go of the device so a
 * VMM can hand it to a guest; -EBUSY while a context is open. Afterwards
 * os_accel_open refuses with -ENODEV until os_accel_reclaim, which the VMM
 * calls once the device is reset and its MSI points at a.vector again. */
int os_accel_release(struct os_accel *a);
void os_accel_reclaim(struct os_accel *a);

/* Binds mm (SVA) and takes a free context programmed with its PASID;
 * completions are written as u64 seqnos to compl_va (0: none). */
int os_accel_open(struct os_accel *a, struct os_mm *mm, uint64_t compl_va, struct os_accel_ctx *c);
/* A context without PASID (ACCEL_CTRL_ENABLE without ACCEL_CTRL_PASID):
 * its requests are translated by the device's DMA domain (os/dma.h), so
 * batches, buffers and compl_iova (0: none) are IOVAs the kernel mapped
 * with os_dma_map. No SVA bind; os_accel_submit / os_accel_wait /
 * os_accel_close work on it as on any context. */
int os_accel_open_dma(struct os_accel *a, uint64_t compl_iova, struct os_accel_ctx *c);
/* Resets the context and unbinds (a context with PASID). */
void os_accel_close(struct os_accel_ctx *c);
/* The sequence number the next batch's END command must carry (above
 * every number the context completed before, also for earlier owners). */
uint64_t os_accel_next_seqno(struct os_accel_ctx *c);
/* Submits the batch at batch_va (its END command must carry seqno). */
int os_accel_submit(struct os_accel_ctx *c, uint64_t batch_va);
/* Waits until the context's seqno reaches `seqno`, it stops with an error
 * (returns -EIO and *err = ACCEL_ERR_*, *fault_va), or timeout_ms passes
 * (-ETIMEDOUT; the context is reset). */
int os_accel_wait(struct os_accel_ctx *c, uint64_t seqno, unsigned timeout_ms, unsigned *err,
                  uint64_t *fault_va);

#endif
