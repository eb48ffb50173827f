/* A host platform for testing the os layer's VT-d driver against the unit
 * model: host memory, remapping units at 0xFED90000 + 0x1000 * i reached by
 * MMIO through the os ops table, and MSIs queued by the units and delivered
 * to the kernel's handlers when the test calls plat_deliver() (never from
 * inside the unit, as on real hardware). */
#ifndef VSVM_TESTS_SUPPORT_OS_PLATFORM_H
#define VSVM_TESTS_SUPPORT_OS_PLATFORM_H

#include "os/iommu.h"
#include "vtd/unit.h"

#define PLAT_UNITS 2
#define PLAT_BASE  0xFED90000ULL

struct plat {
    struct mem_arena *mem;
    struct vtd_unit *unit[PLAT_UNITS];
    struct vtd_config cfg[PLAT_UNITS];
    unsigned nunits;
    struct os_kernel k;
    uint32_t pending[64];
    unsigned npending;
    char lastlog[256];
    unsigned nlogs;
};

/* legacy[i] selects the legacy configuration for unit i. */
void plat_init(struct plat *p, unsigned nunits, const bool *legacy);
void plat_fini(struct plat *p);
void plat_deliver(struct plat *p);
/* A DMAR table with unit 0 covering the listed endpoints and the last unit
 * INCLUDE_PCI_ALL (or unit 0 alone when nunits == 1). */
size_t plat_dmar(struct plat *p, uint8_t *buf, size_t cap, const uint16_t *eps, unsigned neps);

#endif
