/* The guest kernel's view of its machine (os.h ops): its GPA space, the
 * trapped MMIO of the virtual IOMMU page and of the assigned devices'
 * BARs, the virtual configuration space, its log. Every access is checked
 * against the guest's own map: nothing reaches host memory that is not
 * the guest's RAM. */
#include <stdio.h>

#include "vmm/guest_internal.h"
#include "vmm/sched.h"

static bool dead(const struct guest *g)
{
    return __atomic_load_n(&g->dead, __ATOMIC_ACQUIRE);
}

static bool in_unit(uint64_t pa, unsigned size)
{
    return pa >= GUEST_UNIT_BASE && pa + size <= GUEST_UNIT_BASE + 0x1000;
}

void guest_msi(void *ctx, uint64_t addr, uint32_t data)
{
    struct guest *g = ctx;
    if (g->cfg.msi_sink)
        g->cfg.msi_sink(g->cfg.msi_opaque, addr, data);
    else
        vmm_irq_msi(&g->irq, addr, data);
}

static uint64_t g_mmio_read(void *ctx, uint64_t pa, unsigned size)
{
    struct guest *g = ctx;
    uint64_t off, v = 0;
    if (dead(g))
        return ~0ULL;
    if (in_unit(pa, size))
        return viommu_mmio_read(g->v, (uint32_t)(pa - GUEST_UNIT_BASE), size);
    struct guest_dev *d = guest_bar_find(g, pa, size, &off);
    if (!d || pci_bus_mmio(g->h->bus, pci_bar_addr(d->f, 0) + off, &v, size, false))
        return ~0ULL;   /* unclaimed: master abort reads all-ones */
    return v;
}

static void g_mmio_write(void *ctx, uint64_t pa, unsigned size, uint64_t v)
{
    struct guest *g = ctx;
    uint64_t off;
    if (dead(g))
        return;
    if (in_unit(pa, size)) {
        viommu_mmio_write(g->v, (uint32_t)(pa - GUEST_UNIT_BASE), size, v);
        return;
    }
    struct guest_dev *d = guest_bar_find(g, pa, size, &off);
    if (d)
        pci_bus_mmio(g->h->bus, pci_bar_addr(d->f, 0) + off, &v, size, true);
}

static int g_read(void *ctx, uint64_t pa, void *b, size_t n)
{
    struct guest *g = ctx;
    return dead(g) ? -1 : gpa_read(g->ram, pa, b, n);
}

static int g_write(void *ctx, uint64_t pa, const void *b, size_t n)
{
    struct guest *g = ctx;
    return dead(g) ? -1 : gpa_write(g->ram, pa, b, n);
}

static int g_cmpxchg(void *ctx, uint64_t pa, uint64_t e, uint64_t d, bool *ok)
{
    struct guest *g = ctx;
    return dead(g) ? -1 : gpa_cmpxchg64(g->ram, pa, e, d, ok);
}

static uint64_t g_page(void *ctx)
{
    struct guest *g = ctx;
    uint64_t gpa = dead(g) ? ~0ULL : gpa_page_alloc(g->ram);
    return gpa == ~0ULL ? OS_NO_PAGE : gpa;
}

static void g_free(void *ctx, uint64_t pa)
{
    gpa_page_free(((struct guest *)ctx)->ram, pa);
}

/* Contiguous pages aligned to their size, from the low region the page
 * allocator never hands out (queues live as long as the guest). */
static uint64_t g_pages(void *ctx, unsigned n)
{
    struct guest *g = ctx;
    uint64_t size = 4096, pa = OS_NO_PAGE;
    if (dead(g))
        return OS_NO_PAGE;
    while (size < 4096ULL * n)
        size <<= 1;
    pthread_mutex_lock(&g->queue_lock);
    uint64_t at = (g->queue_next + size - 1) & ~(size - 1);
    if (n && at + size <= GUEST_QUEUE_HIGH) {
        pa = at;
        g->queue_next = at + size;
    }
    pthread_mutex_unlock(&g->queue_lock);
    static const uint8_t zero[4096];
    for (uint64_t p = pa; pa != OS_NO_PAGE && p < pa + size; p += 4096)
        gpa_write(g->ram, p, zero, sizeof(zero));
    return pa;
}

static uint32_t g_cfg_read(void *ctx, uint16_t bdf, unsigned off, unsigned size)
{
    return dead(ctx) ? ~0u : guest_cfg_read(ctx, bdf, off, size);
}

static void g_cfg_write(void *ctx, uint16_t bdf, unsigned off, unsigned size, uint32_t v)
{
    if (!dead(ctx))
        guest_cfg_write(ctx, bdf, off, size, v);
}

/* A dead machine's clock runs a second per reading: every timeout its
 * kernel code is waiting out expires within a few polls. */
static uint64_t g_now(void *ctx)
{
    struct guest *g = ctx;
    if (!dead(g))
        return vmm_now_ns(ctx);
    return __atomic_add_fetch(&g->dead_clock, 1000000000ULL, __ATOMIC_RELAXED);
}

static void g_wait(void *ctx, const uint32_t *addr, uint32_t old, uint64_t timeout_ns)
{
    if (!dead(ctx))
        vmm_wait_change(ctx, addr, old, timeout_ns);
}

static void g_log(void *ctx, const char *line)
{
    struct guest *g = ctx;
    if (g->cfg.verbose)
        fprintf(stderr, "%s\n", line);
}

uint64_t guest_mmio_read(struct guest *g, uint64_t gpa, unsigned size)
{
    return g_mmio_read(g, gpa, size);
}

void guest_mmio_write(struct guest *g, uint64_t gpa, unsigned size, uint64_t val)
{
    g_mmio_write(g, gpa, size, val);
}

uint32_t guest_pci_read(struct guest *g, uint16_t bdf, unsigned off, unsigned size)
{
    return g_cfg_read(g, bdf, off, size);
}

void guest_pci_write(struct guest *g, uint16_t bdf, unsigned off, unsigned size, uint32_t val)
{
    g_cfg_write(g, bdf, off, size, val);
}

void guest_ops(struct guest *g, struct os_ops *ops)
{
    *ops = (struct os_ops){ .ctx = g, .mmio_read = g_mmio_read, .mmio_write = g_mmio_write,
                            .phys_read = g_read, .phys_write = g_write,
                            .phys_cmpxchg64 = g_cmpxchg, .page_alloc = g_page,
                            .page_free = g_free, .pages_alloc = g_pages,
                            .cfg_read = g_cfg_read, .cfg_write = g_cfg_write, .log = g_log,
                            .relax = vmm_relax, .now_ns = g_now,
                            .wait_change = g_wait, .wake_all = vmm_wake_all };
}
