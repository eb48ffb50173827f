/* Bus/device/function numbers and a PCI segment holding functions by BDF:
 * configuration routing (by BDF or ECAM offset, PCIe 5.0 §7.2.2) and
 * memory routing to the BAR that decodes an address.
 *
 * The bus references functions; it does not own them. Add and remove
 * functions while no access is in flight (topology is set up before the
 * machine runs); accesses may come from several threads. */
#ifndef VSVM_PCI_BUS_H
#define VSVM_PCI_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pci/config.h"

/* ---- BDF: bus[15:8] device[7:3] function[2:0] --------------------------- */
static inline uint16_t pci_bdf(unsigned bus, unsigned dev, unsigned fn)
{
    return (uint16_t)((bus & 0xFFu) << 8 | (dev & 0x1Fu) << 3 | (fn & 0x7u));
}
static inline unsigned pci_bdf_bus(uint16_t bdf) { return bdf >> 8; }
static inline unsigned pci_bdf_dev(uint16_t bdf) { return (bdf >> 3) & 0x1F; }
static inline unsigned pci_bdf_fn(uint16_t bdf) { return bdf & 0x7; }
static inline unsigned pci_bdf_devfn(uint16_t bdf) { return bdf & 0xFF; }

/* Strict parse of "SSSS:BB:DD.F" (segment: exactly 4 hex digits) or
 * "BB:DD.F" (segment 0): bus and device exactly 2 hex digits, device <=
 * 0x1f, function one digit 0-7, nothing else (no spaces, signs, 0x).
 * Returns 0, or -EINVAL leaving the outputs untouched. seg may be NULL. */
int pci_bdf_parse(const char *s, uint16_t *seg, uint16_t *bdf);
/* "BB:DD.F" / "SSSS:BB:DD.F", lower-case hex as Linux prints them; return
 * the length as snprintf does. */
#define PCI_BDF_STRLEN 13   /* "ssss:bb:dd.f" + NUL */
int pci_bdf_format(char *buf, size_t n, uint16_t bdf);
int pci_bdf_format_full(char *buf, size_t n, uint16_t seg, uint16_t bdf);

/* ---- ECAM: offset = bus << 20 | dev << 15 | fn << 12 | reg -------------- */
#define PCI_ECAM_SIZE (256ULL << 20)
static inline uint64_t pci_ecam_offset(uint16_t bdf, unsigned reg)
{
    return (uint64_t)bdf << 12 | (reg & 0xFFFu);
}

/* ---- the bus ------------------------------------------------------------ */
struct pci_bus;

struct pci_bus *pci_bus_create(void);
void pci_bus_destroy(struct pci_bus *b);
/* 0, -EEXIST (BDF taken or function already on the bus), -ENOMEM, -EINVAL. */
int pci_bus_add(struct pci_bus *b, uint16_t bdf, struct pci_func *f);
struct pci_func *pci_bus_remove(struct pci_bus *b, uint16_t bdf);
struct pci_func *pci_bus_find(struct pci_bus *b, uint16_t bdf);
unsigned pci_bus_count(struct pci_bus *b);

/* A function that does not exist reads all-ones and ignores writes
 * (-ENODEV), like a Root Complex completing an Unsupported Request to a
 * configuration read (§2.3.2); a refused access (config.h) gives -EINVAL
 * and all-ones. */
int pci_bus_cfg_read(struct pci_bus *b, uint16_t bdf, unsigned off, unsigned len, uint32_t *val);
int pci_bus_cfg_write(struct pci_bus *b, uint16_t bdf, unsigned off, unsigned len, uint32_t val);
/* Same through an ECAM window offset (< PCI_ECAM_SIZE, else -EINVAL). */
int pci_bus_ecam_read(struct pci_bus *b, uint64_t off, unsigned len, uint32_t *val);
int pci_bus_ecam_write(struct pci_bus *b, uint64_t off, unsigned len, uint32_t val);

/* Memory access: routed to the function whose implemented BAR decodes all
 * of [addr, addr + len) while its Memory Space Enable is set; the device
 * model's mmio handler gets (bar, offset within the BAR). Returns the
 * handler's result, or PCI_MMIO_UNCLAIMED when no BAR claims the access
 * (a read then returns all-ones). A claiming function without a handler
 * reads all-ones and drops writes. len must be 1..8. */
#define PCI_MMIO_UNCLAIMED 1
int pci_bus_mmio(struct pci_bus *b, uint64_t addr, void *data, unsigned len, bool is_write);

#endif
