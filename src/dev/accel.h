/* The SVM accelerator (ARCHITECTURE.md §2 `dev`): a PCIe function with
 * PASID, ATS (a device TLB) and PRI, and a command engine that executes
 * batches in process virtual memory (register layout and command format in
 * dev/accel_regs.h).
 *
 * The model never sees a vCPU: the platform forwards BAR0 accesses to
 * accel_mmio() and mirrors the PCI configuration space (command register,
 * MSI, ATS/PASID/PRI capabilities, FLR) through the accel_set_* hooks. All
 * DMA goes through the IOMMU it is attached to (vtd_device_attach with the
 * configured requester id): ATS translation requests filling the device TLB,
 * PRI page requests for missing pages (vtd-reference.md §6, §7), then
 * translated accesses to host memory.
 *
 * Reset state (as after a conventional reset of the function): bus
 * mastering, MSI, ATS, PASID and PRI all disabled; every context IDLE and
 * disabled; INT_MASK all ones. Every function is thread-safe. */
#ifndef VSVM_DEV_ACCEL_H
#define VSVM_DEV_ACCEL_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/accel_regs.h"
#include "mem/mem.h"
#include "vtd/unit.h"

/* Device-TLB entries. The default covers 256 MiB of 4 KiB pages: a
 * GPU-class device has a large multi-level TLB (and the `bench dma` working
 * set, two 64 MiB buffers, is 32768 pages). */
#define ACCEL_ATC_DEFAULT        65536u
#define ACCEL_TIMEOUT_DEFAULT_MS 2000u   /* page-response timeout */

struct accel_config {
    struct mem_arena *mem;       /* host memory the translated requests reach */
    struct vtd_unit *iommu;      /* NULL: no IOMMU, bus addresses are host physical */
    uint16_t sid;                /* requester id: bus << 8 | devfn */
    void (*msi)(void *opaque, uint64_t addr, uint32_t data);   /* may be NULL */
    void *msi_opaque;
    unsigned atc_entries;        /* 0: ACCEL_ATC_DEFAULT; rounded down to a power of two
                                    number of 4-entry sets (1, 2 or 3: one set) */
    unsigned timeout_ms;         /* page-response timeout; 0: ACCEL_TIMEOUT_DEFAULT_MS */
};

struct accel;

/* Creates the device, attaches it to the IOMMU and starts its engine
 * thread. NULL when the configuration is unusable (no memory) or the
 * requester id is already attached. The device must be destroyed before
 * its IOMMU and its memory. */
struct accel *accel_create(const struct accel_config *cfg);
/* Detaches from the IOMMU, stops the engine (promptly, even while a context
 * waits for a page response) and frees everything. NULL is ignored. */
void accel_destroy(struct accel *d);

/* BAR0 (ACCEL_BAR0_SIZE bytes): offset from the BAR base, len 4 or 8. A read
 * stores the value in *data; accesses with other sizes, misaligned or at
 * offsets without a register are ignored and read 0. */
void accel_mmio(void *opaque, uint64_t offset, uint64_t *data, unsigned len, bool is_write);

/* ---- hooks for the PCI layer (configuration-space state) ----------------- */
/* Command register Bus Master Enable. With it clear the function issues no
 * memory request (and hence no MSI): a doorbell fails with
 * ACCEL_ERR_NOT_ENABLED and a running batch stops with that error at its
 * next access. */
void accel_set_bus_master(struct accel *d, bool enabled);
/* MSI capability, one vector: `data` is sent as-is for every context's
 * completion interrupt in this version (no per-context vectors, no
 * multiple-message data low-bit encoding). */
void accel_set_msi(struct accel *d, bool enabled, uint64_t addr, uint32_t data);
/* ATS Enable. Clearing it invalidates the whole device TLB (PCIe ATS).
 * Without ATS the engine issues untranslated requests (the IOMMU translates
 * each one; any fault is non-recoverable and ends the batch with
 * ACCEL_ERR_UNSUPPORTED) and never sends page requests. */
void accel_set_ats(struct accel *d, bool enabled);
/* PASID Enable: without it, a context with ACCEL_CTRL_PASID cannot run (its
 * doorbell fails with ACCEL_ERR_NOT_ENABLED), since the function may not
 * send PASID-prefixed requests. */
void accel_set_pasid(struct accel *d, bool enabled);
/* PRI Enable and Outstanding Page Request Allocation (how many page request
 * groups may be outstanding at once; capped at the 512 PRG indexes).
 * Disabled (or allocation 0): a missing page ends the batch with
 * ACCEL_ERR_PAGE_FAULT. Disabling does not cancel outstanding requests. */
void accel_set_pri(struct accel *d, bool enabled, uint32_t allocation);
/* Test instrumentation: fn sees the host physical range of every DMA
 * access the device is about to make, after translation (ownership checks,
 * issue 8). Runs on the engine thread; NULL removes it. */
typedef void (*accel_dma_watch_fn)(void *opaque, uint64_t hpa, uint64_t len, bool write);
void accel_set_dma_watch(struct accel *d, accel_dma_watch_fn fn, void *opaque);

/* Function-level reset: every context back to IDLE (work abandoned, page
 * waits cancelled; their late responses are dropped), BAR0 registers to
 * reset values, device TLB emptied, PRI status cleared. Configuration-space
 * enables are the PCI layer's and are left as they are (it calls the hooks
 * above with their reset values). Returns once the engine has left any
 * access of the abandoned work. */
void accel_reset(struct accel *d);

/* PCIe PRI Status register bits the PCI layer reflects. */
#define ACCEL_PRI_ST_RF      (1u << 0)   /* Response Failure received (RW1C) */
#define ACCEL_PRI_ST_UPRGI   (1u << 1)   /* Unexpected Page Request Group Index (RW1C) */
#define ACCEL_PRI_ST_STOPPED (1u << 8)   /* PRI disabled and nothing outstanding */
uint32_t accel_pri_status(struct accel *d);
void accel_pri_status_clear(struct accel *d, uint32_t w1c);

/* ---- statistics (tests, benchmarks) --------------------------------------- */
struct accel_stats {
    uint64_t atc_hits, atc_misses;       /* device-TLB lookups */
    uint64_t ats_requests;               /* translation requests sent */
    uint64_t page_requests;              /* PRI page requests sent */
    uint64_t page_responses;             /* responses matched to a waiting request */
    uint64_t responses_late;             /* for a request abandoned by a reset or time-out */
    uint64_t responses_unexpected;       /* matching no request (UPRGI) */
    uint64_t invalidations;              /* ATS invalidate requests received */
    uint64_t inv_dropped;                /* device-TLB entries they dropped */
    uint64_t cmds, batches;              /* commands executed, batches completed */
    uint64_t resets;                     /* accel_reset (FLR) calls */
};
void accel_get_stats(struct accel *d, struct accel_stats *s);
/* Page-fault round trips measured by the device: from sending a page
 * request to retrying the access after its Success response, in ns. Copies
 * up to max of the samples collected since the last call (the newest
 * ACCEL_RTT_SAMPLES at most) and forgets them; returns how many. */
#define ACCEL_RTT_SAMPLES 4096u
unsigned accel_fault_rtts(struct accel *d, uint64_t *out, unsigned max);
/* Valid device-TLB entries right now. */
unsigned accel_atc_entries(struct accel *d);

/* Test knob: the device drops the entries but never sends the Invalidate
 * Completion, so the unit reports an invalidation time-out (ITE, §4.9). */
void accel_test_inv_never_complete(struct accel *d, bool never);

#endif
