/* An in-process guest (ARCHITECTURE.md §4, issue 6): guest RAM (a GPA map
 * over host frames), one virtual VT-d unit (viommu) backed by its own
 * iommufd, assigned accelerators (VFIO-like: released and reset by the
 * host kernel, guest BDF <-> host BDF registered with the viommu, BAR0
 * mapped into the guest's MMIO space, MSIs delivered as vMSIs), a DMAR
 * table describing the virtual unit, and the guest kernel (the os layer)
 * booted on all of it. The guest kernel sees only its ops table: its GPA
 * space, its trapped MMIO and its virtual configuration space; it holds
 * no pointer into host state. */
#ifndef VSVM_VMM_GUEST_H
#define VSVM_VMM_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "os/accel_drv.h"
#include "viommu/viommu.h"

struct host;
struct guest;

#define GUEST_MAX_DEVS 4
#define GUEST_UNIT_BASE 0xFED90000ULL   /* the virtual unit's register page (GPA) */
#define GUEST_BAR_BASE  0xC0000000ULL   /* assigned BAR0s, ACCEL_BAR0_SIZE apart */

struct guest_dev_config {
    uint16_t host_bdf;          /* an accelerator of the host */
    uint16_t guest_bdf;         /* bus 0; 0 = next free slot from 00:04.0 */
};

struct guest_config {
    char name[16];              /* log prefix and report name ("guest0") */
    uint64_t mem_size;          /* guest RAM, default 256 MiB */
    bool svm;                   /* -device intel-iommu,svm=on (default off) */
    bool caching_mode;          /* must stay on: shadowing needs it (default on) */
    unsigned aw_bits;           /* 48 (4-level) or 57 (5-level), default 48 */
    unsigned ndevs;
    struct guest_dev_config dev[GUEST_MAX_DEVS];
    bool verbose;               /* guest kernel log to stderr */
    /* An external guest kernel (KVM, issue 7): the machine is built (RAM,
     * virtual IOMMU, assigned devices, DMAR table) but no in-process kernel
     * boots; the guest's MSIs (virtual IOMMU events, device interrupts) go
     * to msi_sink instead of the in-process interrupt thread. */
    bool external_kernel;
    void (*msi_sink)(void *opaque, uint64_t addr, uint32_t data);
    void *msi_opaque;
};
void guest_config_default(struct guest_config *c);

/* Builds and boots the guest: NULL with a one-line reason in why when the
 * configuration is refused (host BDF absent or assigned, svm=on on host
 * units that cannot nest, duplicate guest BDFs, ...) or boot fails. */
struct guest *guest_create(struct host *h, const struct guest_config *c, char *why, size_t n);
/* Kills the guest's machine at once, whatever its kernel is doing (a VMM
 * stopping the vCPUs): its devices are reset, so they wait for nothing of
 * it any more; from then on its MMIO reads all-ones, writes are dropped,
 * memory accesses fail and waits return, so every thread still running
 * its kernel code comes back. The caller joins those threads, then calls
 * guest_destroy. */
void guest_kill(struct guest *g);
/* Stops the guest (guest_kill if not done): outstanding page requests
 * answered, devices detached, reset and given back to the host kernel.
 * No thread may be running the guest's kernel code. NULL is ignored. */
void guest_destroy(struct guest *g);

/* The guest kernel and its accelerator drivers (for running workloads in
 * the guest; index i is the i-th assigned device). */
struct os_kernel *guest_kernel(struct guest *g);
unsigned guest_naccels(const struct guest *g);
struct os_accel *guest_accel(struct guest *g, unsigned i);
const struct guest_config *guest_cfg(const struct guest *g);
/* The machine as an external kernel reaches it (guest.h external_kernel):
 * its RAM, its trapped MMIO (virtual IOMMU page and assigned BARs; reads of
 * nothing are all-ones), its PCI configuration space and its DMAR table. */
struct gpa_map *guest_ram(struct guest *g);
uint64_t guest_mmio_read(struct guest *g, uint64_t gpa, unsigned size);
void guest_mmio_write(struct guest *g, uint64_t gpa, unsigned size, uint64_t val);
uint32_t guest_pci_read(struct guest *g, uint16_t bdf, unsigned off, unsigned size);
void guest_pci_write(struct guest *g, uint16_t bdf, unsigned off, unsigned size, uint32_t val);
const uint8_t *guest_dmar(const struct guest *g, size_t *len);

/* The host frame behind a guest physical address (HPA_INVALID outside its
 * RAM): VMM knowledge, for isolation checks. */
uint64_t guest_hpa(const struct guest *g, uint64_t gpa);
/* What the viommu did for this guest (page requests injected, faults...). */
void guest_viommu_stats(struct guest *g, struct viommu_stats *s);

#endif
