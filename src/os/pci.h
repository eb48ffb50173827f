/* The kernel's PCI helpers: capability search and the enable sequences
 * Linux performs for ATS, PASID and PRI (os-driver-behaviour.md §3). */
#ifndef VSVM_OS_PCI_H
#define VSVM_OS_PCI_H

#include "os/os.h"

#define OS_PCI_CAP_EXP    0x10
#define OS_PCI_CAP_MSI    0x05
#define OS_PCI_EXT_ATS    0x0F
#define OS_PCI_EXT_PRI    0x13
#define OS_PCI_EXT_PASID  0x1B

uint32_t os_pci_read(struct os_kernel *k, uint16_t bdf, unsigned off, unsigned size);
void os_pci_write(struct os_kernel *k, uint16_t bdf, unsigned off, unsigned size, uint32_t v);
/* Standard capability (from 0x34) / extended capability (from 0x100)
 * offset, or 0 — bounded walks as pci_find_capability does. */
unsigned os_pci_find_cap(struct os_kernel *k, uint16_t bdf, uint8_t id);
unsigned os_pci_find_ext_cap(struct os_kernel *k, uint16_t bdf, uint16_t id);
/* 64-bit memory BAR idx address (as firmware assigned it). */
uint64_t os_pci_bar(struct os_kernel *k, uint16_t bdf, unsigned idx);
/* Memory space + bus master in the command register. */
void os_pci_enable(struct os_kernel *k, uint16_t bdf);
/* MSI (one vector) with the kernel's address and `vector` as data. */
int os_pci_enable_msi(struct os_kernel *k, uint16_t bdf, unsigned vector);

struct os_pci_sva_caps {
    bool pasid, pri, ats;
    unsigned ats_qdep, pasid_width;
    uint32_t pri_alloc;
};
/* Linux's iommu_enable_pci_caps order: PASID, then PRI (reset, allocation
 * = min(capacity, 2048), enable; needs Stopped and, with PASID, PRG
 * Response PASID Required), then ATS (Page Aligned Request required,
 * STU 4 KiB). What got enabled is returned in *out. */
void os_pci_enable_sva_caps(struct os_kernel *k, uint16_t bdf, struct os_pci_sva_caps *out);

#endif
