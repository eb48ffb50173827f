/* Helpers of the ring-3 SVM programs (svm.c, agree.c): a process's
 * device context, batches, completion, the result line. */
#ifndef VSVM_GUEST_WL_H
#define VSVM_GUEST_WL_H

#include "dev/accel_regs.h"
#include "ulib.h"

#define DEV 0                   /* the process's first device: accelerator N of dev=N */
#define BATCH_MAX 1024          /* commands per batch area */
#define TIMEOUT_MS 10000
#define SPIN_CYCLES 200000ULL   /* ring-3 polling of the completion record before sleeping */

struct wl {
    const char *name;
    int passed;
    uint64_t ops, faults, errors;
    struct u_line detail;
    /* the process's device context */
    struct accel_cmd *batch;
    volatile uint64_t *compl;
    uint64_t seq;
    long pasid;
};

/* Records a failure (the first one is the detail). */
void wl_fail(struct wl *w, const char *what, uint64_t a, uint64_t b);
/* Maps the batch area and completion record, binds device DEV (SVA). */
int wl_begin(struct wl *w, const char *name);
/* Prints "wl NAME PASSED ops N prq N faults N errors N : DETAIL", exits. */
__attribute__((noreturn)) void wl_finish(struct wl *w);
/* Batch of n commands plus END: submit; complete; both. 0, -KVM_EIO with
 * *err / *fva, or -KVM_ETIMEDOUT. */
long wl_submit(struct wl *w, const struct accel_cmd *cmds, unsigned n);
long wl_complete(struct wl *w, unsigned *err, uint64_t *fva);
long wl_run(struct wl *w, const struct accel_cmd *cmds, unsigned n, unsigned *err, uint64_t *fva);

#endif
