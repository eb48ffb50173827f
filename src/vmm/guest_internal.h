/* Shared by the files of the in-process guest (guest.h). */
#ifndef VSVM_VMM_GUEST_INTERNAL_H
#define VSVM_VMM_GUEST_INTERNAL_H

#include "acpi/dmar.h"
#include "iommufd/iommufd.h"
#include "mem/mem.h"
#include "os/iommu.h"
#include "viommu/viommu.h"
#include "vmm/guest.h"
#include "vmm/host.h"
#include "vmm/irq.h"

#define GUEST_MSI_SIZE 24       /* pci_regs.h: 64-bit MSI with per-vector masking */
#define GUEST_QUEUE_LOW  0x100000ULL   /* [1 MiB, 8 MiB): contiguous pages (queues) */
#define GUEST_QUEUE_HIGH 0x800000ULL

/* An assigned device: the host function and the guest's virtual view of
 * its configuration space (BAR0 and the MSI capability are the VMM's;
 * everything else reaches the device). */
struct guest_dev {
    struct guest *g;
    unsigned hidx;              /* host accelerator index */
    uint16_t host_bdf, bdf;
    struct pci_func *f;
    uint64_t bar;               /* guest BAR0 register (GPA when programmed) */
    unsigned msi_off;
    uint8_t msi[GUEST_MSI_SIZE];   /* the guest's MSI capability */
    uint32_t host_msi_data;     /* the host driver's MSI data, restored on release */
    bool assigned;
};

struct guest {
    struct guest_config cfg;
    struct host *h;
    struct gpa_map *ram;
    struct iommufd *ifd;
    struct viommu *v;
    struct guest_dev dev[GUEST_MAX_DEVS];
    unsigned ndev;
    uint8_t dmar[256];
    size_t dmar_len;
    uint64_t queue_next;        /* bump allocator in [GUEST_QUEUE_LOW, GUEST_QUEUE_HIGH) */
    pthread_mutex_t queue_lock;
    struct vmm_irq irq;         /* the guest's interrupt thread (vCPU interrupts) */
    bool dead;                  /* guest_kill: its machine answers nothing any more */
    uint64_t dead_clock;        /* its clock after death (guest_ops.c) */
    /* the guest kernel */
    struct os_kernel k;
    struct os_iommu iommu[1];
    struct dmar_info info;
    struct os_svm svm;
    struct os_accel drv[GUEST_MAX_DEVS];
};

/* guest_ops.c: the guest kernel's view of its machine. */
void guest_ops(struct guest *g, struct os_ops *ops);
/* Where the guest's MSIs go: its interrupt thread, or the external sink. */
void guest_msi(void *g, uint64_t addr, uint32_t data);

/* guest_pci.c: device assignment and the virtual configuration space. */
int guest_dev_assign(struct guest *g, struct guest_dev *d, char *why, size_t n);
void guest_dev_release(struct guest_dev *d);
/* Stops forwarding the device's MSIs to the guest (before the guest's
 * interrupt thread stops). */
void guest_dev_irq_off(struct guest_dev *d);
uint32_t guest_cfg_read(struct guest *g, uint16_t bdf, unsigned off, unsigned size);
void guest_cfg_write(struct guest *g, uint16_t bdf, unsigned off, unsigned size, uint32_t val);
/* The device whose BAR0 decodes [gpa, gpa + len), with the offset. */
struct guest_dev *guest_bar_find(struct guest *g, uint64_t gpa, unsigned len, uint64_t *off);

#endif
