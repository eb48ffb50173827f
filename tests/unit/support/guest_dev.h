/* A guest process driving an accelerator context directly, as the iommufd
 * and viommu tests do: one-command batches written at a guest virtual
 * address through the guest's own page table, the doorbell, and a wait
 * for completion or error (with a hang guard, never a timing check). */
#ifndef VSVM_TESTS_SUPPORT_GUEST_DEV_H
#define VSVM_TESTS_SUPPORT_GUEST_DEV_H

#include "dev/accel.h"
#include "paging/pt.h"

/* Writes {cmd, END(seq)} at batch_va and rings context ctx; returns the
 * context status right after the doorbell. */
uint32_t gdev_submit(struct accel *dev, unsigned ctx, struct gpa_map *ram, const struct pt *pt,
                     uint64_t batch_va, uint64_t seq, const struct accel_cmd *cmd);
/* ACCEL_ST_DONE once the context's seqno reaches seq; on an error the
 * status (and the context is reset for the next batch). */
uint32_t gdev_wait(struct accel *dev, unsigned ctx, uint64_t seq);

#endif
