/* The SVM workloads of the RFC's test plan (§4: gem_svm_sanity,
 * gem_svm_fault, gem_svm_storedw_loop) plus a pointer chase, written as
 * programs against the kernel's SVM API: a process address space, the
 * accelerator driver's contexts, batches of commands in process memory.
 * Their known flaws are fixed: every batch's completion is waited for and
 * every address bit is programmed. */
#ifndef VSVM_WORKLOADS_WORKLOADS_H
#define VSVM_WORKLOADS_WORKLOADS_H

#include "os/accel_drv.h"

struct wl_result {
    const char *name;
    bool passed;
    uint64_t operations;       /* device commands whose result was verified */
    uint64_t page_requests;    /* device page faults served for this process */
    uint64_t faults;           /* device errors the workload provoked and saw as expected */
    uint64_t errors;           /* failures seen (expected ones excluded) */
    char detail[160];          /* first failure, or a one-line summary */
};

typedef void (*wl_fn)(struct os_kernel *k, struct os_accel *a, struct wl_result *r);
void wl_svm_sanity(struct os_kernel *k, struct os_accel *a, struct wl_result *r);
void wl_svm_fault(struct os_kernel *k, struct os_accel *a, struct wl_result *r);
void wl_svm_storedw_loop(struct os_kernel *k, struct os_accel *a, struct wl_result *r);
void wl_svm_pointer_chase(struct os_kernel *k, struct os_accel *a, struct wl_result *r);

extern const struct wl_entry { const char *name; wl_fn fn; } wl_all[4];

/* The non-SVM DMA workload (wl_dma.c, for svm=off): kernel buffers of
 * scattered pages mapped with the DMA API (os/dma.h) in a DMA domain it
 * attaches to the device for the run, a device copy through a context
 * without PASID, verified; a store into a read-only mapping and, after
 * unmap, a store to and a copy from the stale IOVAs must fail with a
 * device error at that address (counted as operations and faults, not
 * errors). Not in wl_all: that is the SVM set. */
void wl_dma(struct os_kernel *k, struct os_accel *a, struct wl_result *r);
extern const struct wl_entry wl_dma_entry;

/* A hostile kernel's attempts to reach other memory through its device
 * (wl_isolation.c): n foreign addresses, each stored to with marker, and
 * 8 unbound PASIDs. Passed when every attempt ended in a device error;
 * the caller checks that no target holds the marker. */
void wl_isolation_probe(struct os_kernel *k, struct os_accel *a, const uint64_t *targets,
                        unsigned n, uint32_t marker, struct wl_result *r);

/* ---- helpers shared by the workloads ------------------------------------- */
struct wl_proc {
    struct os_kernel *k;
    struct os_accel *a;
    struct os_mm mm;
    struct os_accel_ctx ctx;
    uint64_t compl_va, batch_va;
    uint64_t seq;
    bool open;
};
#define WL_BATCH_MAX 1024   /* commands per batch area */

int wl_proc_open(struct wl_proc *p, struct os_kernel *k, struct os_accel *a);
void wl_proc_close(struct wl_proc *p);
/* Writes cmds and an END into the batch area, submits, waits. 0, or -EIO
 * with *err / *fault_va, or -ETIMEDOUT. */
int wl_run(struct wl_proc *p, const struct accel_cmd *cmds, unsigned n, unsigned *err,
           uint64_t *fault_va);
void wl_fail(struct wl_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
