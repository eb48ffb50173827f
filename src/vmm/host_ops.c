/* The host kernel's view of the machine: the os_ops table (MMIO to the
 * remapping units and PCI BARs, configuration space, host memory, pages,
 * log). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vmm/host.h"
#include "vmm/host_internal.h"
#include "vmm/sched.h"

static struct vtd_unit *unit_at(struct host *h, uint64_t pa, uint32_t *off)
{
    if (pa < HOST_UNIT_BASE || pa >= HOST_UNIT_BASE + 0x1000ULL * h->cfg.nunits)
        return NULL;
    *off = (uint32_t)(pa - HOST_UNIT_BASE) & 0xFFF;
    return h->unit[(pa - HOST_UNIT_BASE) >> 12];
}

static uint64_t h_mmio_read(void *ctx, uint64_t pa, unsigned size)
{
    struct host *h = ctx;
    uint32_t off;
    struct vtd_unit *u = unit_at(h, pa, &off);
    if (u)
        return vtd_mmio_read(u, off, size);
    uint64_t v = 0;
    if (pci_bus_mmio(h->bus, pa, &v, size, false))
        return ~0ULL;   /* unclaimed: master abort reads all-ones */
    return v;
}

static void h_mmio_write(void *ctx, uint64_t pa, unsigned size, uint64_t v)
{
    struct host *h = ctx;
    uint32_t off;
    struct vtd_unit *u = unit_at(h, pa, &off);
    if (u)
        vtd_mmio_write(u, off, size, v);
    else
        pci_bus_mmio(h->bus, pa, &v, size, true);
}

static uint32_t h_cfg_read(void *ctx, uint16_t bdf, unsigned off, unsigned size)
{
    uint32_t v = ~0u;
    pci_bus_cfg_read(((struct host *)ctx)->bus, bdf, off, size, &v);
    return v;
}

static void h_cfg_write(void *ctx, uint16_t bdf, unsigned off, unsigned size, uint32_t v)
{
    pci_bus_cfg_write(((struct host *)ctx)->bus, bdf, off, size, v);
}

static int h_read(void *ctx, uint64_t pa, void *b, size_t n) { return mem_read(((struct host *)ctx)->mem, pa, b, n); }
static int h_write(void *ctx, uint64_t pa, const void *b, size_t n) { return mem_write(((struct host *)ctx)->mem, pa, b, n); }
static int h_cmpxchg(void *ctx, uint64_t pa, uint64_t e, uint64_t d, bool *ok)
{
    return mem_cmpxchg64(((struct host *)ctx)->mem, pa, e, d, ok);
}
static uint64_t h_page(void *ctx) { return mem_frame_alloc(((struct host *)ctx)->mem); }
static void h_free(void *ctx, uint64_t pa) { mem_frame_free(((struct host *)ctx)->mem, pa); }
static uint64_t h_pages(void *ctx, unsigned n)
{
    uint64_t align = 4096;
    while (align < 4096ULL * n)
        align <<= 1;
    return mem_frames_alloc_contig(((struct host *)ctx)->mem, n, align);
}
static void h_log(void *ctx, const char *line)
{
    if (((struct host *)ctx)->cfg.verbose)
        fprintf(stderr, "%s\n", line);
}
void host_ops(struct host *h, struct os_ops *ops)
{
    *ops = (struct os_ops){ .ctx = h, .mmio_read = h_mmio_read, .mmio_write = h_mmio_write,
                            .phys_read = h_read, .phys_write = h_write,
                            .phys_cmpxchg64 = h_cmpxchg, .page_alloc = h_page,
                            .page_free = h_free, .pages_alloc = h_pages,
                            .cfg_read = h_cfg_read, .cfg_write = h_cfg_write, .log = h_log,
                            .relax = vmm_relax, .now_ns = vmm_now_ns,
                            .wait_change = vmm_wait_change, .wake_all = vmm_wake_all };
}
