/* Test platform for the os VT-d driver (see os_iommu_platform.h). */
#include <sched.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "support/os_platform.h"

static struct vtd_unit *unit_at(struct plat *p, uint64_t pa, uint32_t *off)
{
    for (unsigned i = 0; i < p->nunits; i++)
        if (pa >= PLAT_BASE + 0x1000ULL * i && pa < PLAT_BASE + 0x1000ULL * (i + 1)) {
            *off = (uint32_t)(pa - PLAT_BASE - 0x1000ULL * i);
            return p->unit[i];
        }
    return NULL;
}

static uint64_t p_mmio_read(void *ctx, uint64_t pa, unsigned size)
{
    uint32_t off;
    struct vtd_unit *u = unit_at(ctx, pa, &off);
    return u ? vtd_mmio_read(u, off, size) : ~0ULL;
}

static void p_mmio_write(void *ctx, uint64_t pa, unsigned size, uint64_t v)
{
    uint32_t off;
    struct vtd_unit *u = unit_at(ctx, pa, &off);
    if (u)
        vtd_mmio_write(u, off, size, v);
}

static int p_read(void *ctx, uint64_t pa, void *b, size_t n) { return mem_read(((struct plat *)ctx)->mem, pa, b, n); }
static int p_write(void *ctx, uint64_t pa, const void *b, size_t n) { return mem_write(((struct plat *)ctx)->mem, pa, b, n); }
static int p_cmpxchg(void *ctx, uint64_t pa, uint64_t e, uint64_t d, bool *ok)
{
    return mem_cmpxchg64(((struct plat *)ctx)->mem, pa, e, d, ok);
}
static uint64_t p_page(void *ctx) { return mem_frame_alloc(((struct plat *)ctx)->mem); }
static void p_free(void *ctx, uint64_t pa) { mem_frame_free(((struct plat *)ctx)->mem, pa); }
static uint64_t p_pages(void *ctx, unsigned n)
{
    uint64_t align = 4096;
    while (align < 4096ULL * n)
        align <<= 1;
    return mem_frames_alloc_contig(((struct plat *)ctx)->mem, n, align);
}
static void p_log(void *ctx, const char *line)
{
    struct plat *p = ctx;
    snprintf(p->lastlog, sizeof(p->lastlog), "%s", line);
    p->nlogs++;
    if (getenv("OS_TEST_LOG"))
        fprintf(stderr, "%s\n", line);
}
static void p_relax(void *ctx) { (void)ctx; sched_yield(); }

static void p_msi(void *opaque, uint64_t addr, uint32_t data)
{
    struct plat *p = opaque;
    if (addr == OS_MSI_ADDR && p->npending < 64)
        p->pending[p->npending++] = data;
}

void plat_init(struct plat *p, unsigned nunits, const bool *legacy)
{
    memset(p, 0, sizeof(*p));
    p->mem = mem_arena_create(0x100000000ULL, 64 << 20);
    p->nunits = nunits;
    for (unsigned i = 0; i < nunits; i++) {
        legacy && legacy[i] ? vtd_config_legacy(&p->cfg[i]) : vtd_config_default(&p->cfg[i]);
        p->cfg[i].reg_base = PLAT_BASE + 0x1000ULL * i;
        p->cfg[i].msi = p_msi, p->cfg[i].msi_opaque = p;
        p->unit[i] = vtd_unit_create(&p->cfg[i], p->mem);
    }
    struct os_ops ops = { .ctx = p, .mmio_read = p_mmio_read, .mmio_write = p_mmio_write,
                          .phys_read = p_read, .phys_write = p_write,
                          .phys_cmpxchg64 = p_cmpxchg, .page_alloc = p_page,
                          .page_free = p_free, .pages_alloc = p_pages, .log = p_log,
                          .relax = p_relax };
    os_kernel_init(&p->k, &ops, "host");
}

void plat_fini(struct plat *p)
{
    for (unsigned i = 0; i < p->nunits; i++)
        vtd_unit_destroy(p->unit[i]);
    mem_arena_destroy(p->mem);
}

void plat_deliver(struct plat *p)
{
    for (unsigned i = 0; i < p->npending; i++)
        os_irq_deliver(&p->k, p->pending[i]);
    p->npending = 0;
}

size_t plat_dmar(struct plat *p, uint8_t *buf, size_t cap, const uint16_t *eps, unsigned neps)
{
    struct dmar_info info = { .haw = 46, .nunits = p->nunits };
    for (unsigned i = 0; i < p->nunits; i++) {
        info.unit[i].base = PLAT_BASE + 0x1000ULL * i;
        info.unit[i].include_all = i == p->nunits - 1;
    }
    for (unsigned e = 0; e < neps && p->nunits > 1; e++)
        info.unit[0].scope[info.unit[0].nscope++] = (struct dmar_scope){ 1, eps[e] };
    return dmar_build(&info, buf, cap);
}
