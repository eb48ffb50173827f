/* The host machine of the RFC's test cases (ARCHITECTURE.md §1, §4): host
 * memory, remapping units (DRHDs) with an ACPI DMAR table describing them,
 * a PCI bus with SVM accelerators each behind a chosen unit, and the host
 * kernel (the os layer) booted on it: VT-d driver, SVA, accelerator
 * driver. Interrupts (the units' and the devices' MSIs) are delivered to
 * the kernel by an interrupt thread, never from inside a device. */
#ifndef VSVM_VMM_HOST_H
#define VSVM_VMM_HOST_H

#include "dev/accel_pci.h"
#include "os/accel_drv.h"
#include "pci/bus.h"
#include "vmm/irq.h"

#define HOST_MAX_UNITS  4
#define HOST_MAX_ACCELS 8
#define HOST_UNIT_BASE  0xFED90000ULL
#define HOST_BAR_BASE   0xE0000000ULL

struct host_config {
    uint64_t mem_size;                  /* host memory, default 512 MiB */
    unsigned nunits;                    /* remapping units, default 2 */
    unsigned naccels;                   /* accelerators, default 2 */
    unsigned accel_unit[HOST_MAX_ACCELS]; /* unit in front of each (default i % nunits) */
    uint64_t unit_ecap_clear;           /* ECAP bits the units lack (e.g. NEST) */
    bool verbose;                       /* kernel log to stderr */
};
void host_config_default(struct host_config *c);

/* VFIO-like MSI forwarding of an assigned accelerator (vmm/guest_pci.c):
 * the device keeps signalling a host vector, whose handler passes the
 * interrupt on to the guest device that owns it now. */
struct host_irqfd {
    unsigned vec;                       /* allocated on the first assignment */
    void *target;                       /* struct guest_dev, NULL when unassigned */
};

struct host {
    struct host_config cfg;
    struct mem_arena *mem;
    struct vtd_unit *unit[HOST_MAX_UNITS];
    struct pci_bus *bus;
    struct accel_pci acc[HOST_MAX_ACCELS];
    uint16_t acc_bdf[HOST_MAX_ACCELS];
    uint8_t dmar[1024];
    size_t dmar_len;
    /* the host kernel */
    struct os_kernel k;
    struct os_iommu iommu[DMAR_MAX_UNITS];
    struct dmar_info info;
    struct os_svm svm;
    struct os_accel drv[HOST_MAX_ACCELS];
    struct vmm_irq irq;                 /* the host's interrupt thread */
    struct host_irqfd irqfd[HOST_MAX_ACCELS];
};

/* Builds the platform and boots the host kernel on it (units probed from
 * the DMAR table, accelerators probed on the PCI bus, translation enabled).
 * NULL with a message in why on failure. */
struct host *host_create(const struct host_config *c, char *why, size_t why_len);
void host_destroy(struct host *h);

#endif
