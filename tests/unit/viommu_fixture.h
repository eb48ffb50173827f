/* A guest with a virtual IOMMU for the viommu tests: host, guest RAM, the
 * virtual unit booted the way Linux boots a scalable-mode unit, guest
 * root/context/PASID tables and a process page table in guest memory, and
 * an assigned accelerator driven through its registers. */
#ifndef VSVM_TESTS_VIOMMU_FIXTURE_H
#define VSVM_TESTS_VIOMMU_FIXTURE_H

#include "paging/pt.h"
#include "viommu/viommu.h"
#include "vmm/host.h"

#define VG_VBDF     0x0008   /* 00:01.0 in the guest */
#define VG_PASID    5
#define VG_DID      9
#define VG_CTX      15       /* accelerator context */
#define VG_BATCH_VA 0x10000000ULL
#define VG_COMPL_VA 0x10001000ULL
#define VG_DATA_VA  0x20000000ULL
/* guest physical layout below the allocator floor (1 MiB) */
#define VG_ROOT 0x10000ULL
#define VG_CTXT 0x11000ULL
#define VG_DIR  0x12000ULL
#define VG_PTBL 0x13000ULL
#define VG_IQ   0x20000ULL   /* 4 KiB, 256-bit descriptors */
#define VG_STAT 0x30000ULL
#define VG_PRQ  0x40000ULL   /* 4 KiB: 128 page requests */

struct vg {
    struct host *h;
    struct iommufd *ifd;
    struct gpa_map *ram;
    struct viommu *v;
    struct pt pt;
    unsigned acc, msis;
    uint32_t iqt, gcmd, wait_seq;
    uint64_t seq;
};

struct host *vg_host(unsigned naccels);
/* Guest on accelerator acc with the virtual unit booted; the accelerator
 * context is set to VG_PASID but nothing is bound. */
void vg_init(struct vg *g, struct host *h, unsigned acc, bool svm);
void vg_fini(struct vg *g);
uint64_t vg_rd(struct vg *g, uint32_t off, unsigned size);
void vg_wr(struct vg *g, uint32_t off, unsigned size, uint64_t val);
void vg_w64(struct vg *g, uint64_t gpa, uint64_t v);
uint64_t vg_r64(struct vg *g, uint64_t gpa);
/* Queues descriptors and rings IQT once. */
void vg_qi(struct vg *g, const uint64_t (*d)[4], unsigned n);
/* A wait descriptor with status write; true when the status landed. */
bool vg_qi_wait(struct vg *g);
/* Writes the PASID entry (q0, q1, q2) of pasid (table VG_PTBL). */
void vg_pasid_entry(struct vg *g, uint32_t pasid, uint64_t q0, uint64_t q1, uint64_t q2);
/* Linux's bind: PASID entry PGTT=1 -> pt.root, PASID-cache + PASID-IOTLB
 * PASID-selective, wait. */
void vg_bind(struct vg *g, uint32_t pasid);
uint64_t vg_map(struct vg *g, uint64_t va);
uint32_t vg_submit(struct vg *g, const struct accel_cmd *cmd);
/* The same with the batch at batch_va (mapped in g->pt). */
uint32_t vg_submit_at(struct vg *g, uint64_t batch_va, const struct accel_cmd *cmd);
/* Resets the accelerator context and sets CTRL (ACCEL_CTRL_*), PASID and
 * the completion address. */
void vg_ctx(struct vg *g, uint32_t ctrl, uint32_t pasid, uint64_t compl_va);
uint32_t vg_wait(struct vg *g);
uint32_t vg_store(struct vg *g, uint64_t va, uint32_t val);
/* Polls the viommu until it consumed a host record (hang guard only). */
unsigned vg_poll_wait(struct vg *g);
uint32_t vg_hpa_read32(struct vg *g, uint64_t gpa);

/* descriptor builders (vtd-reference §4) */
void vg_desc_pc(uint64_t *d, unsigned g, uint16_t did, uint32_t pasid);
void vg_desc_piotlb(uint64_t *d, unsigned g, uint16_t did, uint32_t pasid, uint64_t addr,
                    unsigned am, bool ih);
void vg_desc_pgresp(uint64_t *d, uint16_t rid, uint32_t pasid, uint16_t prgi, unsigned rc);

#endif
