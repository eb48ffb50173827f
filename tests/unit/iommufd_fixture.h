/* A guest for the iommufd tests: host, guest RAM, a guest process page
 * table in guest memory, the accelerator driven through its registers. */
#ifndef VSVM_TESTS_IOMMUFD_FIXTURE_H
#define VSVM_TESTS_IOMMUFD_FIXTURE_H

#include "iommufd/iommufd.h"
#include "paging/pt.h"
#include "vmm/host.h"

#define GX_PASID    5
#define GX_CTX      15
#define GX_BATCH_VA 0x10000000ULL
#define GX_COMPL_VA 0x10001000ULL
#define GX_DATA_VA  0x20000000ULL

struct gx {
    struct host *h;
    struct iommufd *ifd;
    struct gpa_map *ram;
    struct pt pt;
    unsigned acc;
    uint32_t dev, parent, nested;
    uint64_t seq;
};

struct host *gx_host(unsigned naccels);
/* Guest on accelerator acc: bound, parent + nested, attached at GX_PASID,
 * batch and completion pages mapped. */
void gx_init(struct gx *g, struct host *h, unsigned acc);
void gx_fini(struct gx *g);
/* A fresh guest page mapped at va (user, writable); returns its GPA. */
uint64_t gx_map(struct gx *g, uint64_t va);
/* Rings {cmd, END} (no wait); gx_wait returns ACCEL_ST_DONE or the error
 * status (state | error << 8); gx_store does both. */
uint32_t gx_submit(struct gx *g, const struct accel_cmd *cmd);
uint32_t gx_wait(struct gx *g);
uint32_t gx_store(struct gx *g, uint64_t va, uint32_t val);
/* Waits (hang guard only) until the fault queue has an entry. */
unsigned gx_fault_wait(struct gx *g, struct iommu_hwpt_pgfault *out);
unsigned gx_event_wait(struct gx *g, struct iommufd_event *out);
uint32_t gx_hpa_read32(struct gx *g, uint64_t gpa);

#endif
