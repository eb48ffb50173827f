/* ACPI DMAR table (vtd-reference.md §8): the firmware's description of the
 * remapping units and the devices behind each. The platform builds it; the
 * OS parses it to discover its units. Freestanding (no libc). */
#ifndef VSVM_ACPI_DMAR_H
#define VSVM_ACPI_DMAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DMAR_MAX_UNITS  16
#define DMAR_MAX_SCOPES 32

struct dmar_scope {
    uint8_t type;          /* 1 PCI endpoint, 2 PCI sub-hierarchy (§8.3) */
    uint16_t bdf;          /* start bus and the path's last (device, function) */
};

struct dmar_unit {
    uint64_t base;         /* register base */
    uint8_t size;          /* register set is 2^size 4-KiB pages */
    uint16_t segment;
    bool include_all;      /* INCLUDE_PCI_ALL */
    struct dmar_scope scope[DMAR_MAX_SCOPES];
    unsigned nscope;
};

struct dmar_info {
    uint8_t haw;           /* host address width (the table stores haw - 1) */
    uint8_t flags;
    struct dmar_unit unit[DMAR_MAX_UNITS];
    unsigned nunits;
};

/* Writes a DMAR table for `info` into buf (standard ACPI header with
 * checksum, DRHDs with device scopes; include-all units last as the spec
 * requires). Returns the length, or 0 if buf is too small. */
size_t dmar_build(const struct dmar_info *info, uint8_t *buf, size_t cap);
/* Parses and validates a DMAR table (signature, length, checksum, HAW >= 12,
 * structure lengths, scope lengths, at most one include-all unit per
 * segment). Unknown structure types are skipped. 0 or -1 with `why`. */
int dmar_parse(const uint8_t *buf, size_t len, struct dmar_info *info, const char **why);
/* The unit a device belongs to: an explicit endpoint scope, else the
 * include-all unit of its segment; -1 if none. */
int dmar_unit_for(const struct dmar_info *info, uint16_t segment, uint16_t bdf);

#endif
