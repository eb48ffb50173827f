/* The os layer (src/os: the same VT-d driver the host and in-process
 * guests run) inside the KVM guest: its ops table over this kernel's
 * machine. MMIO is a volatile access through the direct map (a KVM exit
 * for the virtual unit's page and the BARs), physical memory is the direct
 * map, configuration space is ECAM (trapped), MSIs arrive through the IDT
 * and are handed to os_irq_deliver. Interrupts stay off in ring 0: the
 * driver polls (relax = pause) with a TSC clock for its timeouts. */
#include "kernel.h"

#include "acpi/dmar.h"
#include "os/iommu.h"

struct os_kernel gk;
static struct os_iommu units[DMAR_MAX_UNITS];
static struct dmar_info dinfo;
static struct os_svm svm;
struct os_accel accels[KVM_MAX_ACCELS];
unsigned naccels;
static uint64_t mmio_accesses;

static uint64_t g_mmio_read(void *ctx, uint64_t pa, unsigned size)
{
    (void)ctx;
    volatile void *p = phys(pa);
    mmio_accesses++;
    switch (size) {
    case 1: return *(volatile uint8_t *)p;
    case 2: return *(volatile uint16_t *)p;
    case 4: return *(volatile uint32_t *)p;
    default: return *(volatile uint64_t *)p;
    }
}

static void g_mmio_write(void *ctx, uint64_t pa, unsigned size, uint64_t v)
{
    (void)ctx;
    volatile void *p = phys(pa);
    mmio_accesses++;
    switch (size) {
    case 1: *(volatile uint8_t *)p = (uint8_t)v; break;
    case 2: *(volatile uint16_t *)p = (uint16_t)v; break;
    case 4: *(volatile uint32_t *)p = (uint32_t)v; break;
    default: *(volatile uint64_t *)p = v; break;
    }
}

static bool ram(uint64_t pa, size_t len)
{
    return pa < boot->ram_size && len <= boot->ram_size - pa;
}

static int g_read(void *ctx, uint64_t pa, void *b, size_t n)
{
    (void)ctx;
    if (!ram(pa, n))
        return -1;
    memcpy(b, phys(pa), n);
    return 0;
}

static int g_write(void *ctx, uint64_t pa, const void *b, size_t n)
{
    (void)ctx;
    if (!ram(pa, n))
        return -1;
    memcpy(phys(pa), b, n);
    return 0;
}

static int g_cmpxchg(void *ctx, uint64_t pa, uint64_t e, uint64_t d, bool *ok)
{
    (void)ctx;
    if (!ram(pa, 8) || (pa & 7))
        return -1;
    *ok = __atomic_compare_exchange_n((uint64_t *)phys(pa), &e, d, false, __ATOMIC_SEQ_CST,
                                      __ATOMIC_SEQ_CST);
    return 0;
}

static uint64_t g_page(void *ctx)
{
    (void)ctx;
    uint64_t pa = page_alloc();
    return pa ? pa : OS_NO_PAGE;
}

static void g_free(void *ctx, uint64_t pa)
{
    (void)ctx;
    page_free(pa);
}

static uint64_t g_pages(void *ctx, unsigned n)
{
    (void)ctx;
    uint64_t pa = pages_alloc_contig(n);
    return pa ? pa : OS_NO_PAGE;
}

static uint32_t g_cfg_read(void *ctx, uint16_t bdf, unsigned off, unsigned size)
{
    if (bdf >> 8 || off >= 4096)
        return ~0u;
    return (uint32_t)g_mmio_read(ctx, KVM_ECAM_GPA + ((uint64_t)bdf << 12) + off, size);
}

static void g_cfg_write(void *ctx, uint16_t bdf, unsigned off, unsigned size, uint32_t v)
{
    if (!(bdf >> 8) && off < 4096)
        g_mmio_write(ctx, KVM_ECAM_GPA + ((uint64_t)bdf << 12) + off, size, v);
}

static void g_log(void *ctx, const char *line)
{
    (void)ctx;
    kprintf("%s\n", line);
}

static void g_relax(void *ctx)
{
    (void)ctx;
    __asm__ volatile("pause");
}

static uint64_t g_now(void *ctx)
{
    (void)ctx;
    uint64_t khz = boot->tsc_khz ? boot->tsc_khz : 1000000, t = rdtsc();
    return t / khz * 1000000ULL + t % khz * 1000000ULL / khz;
}

/* Sleeps until the next interrupt (a completion or page-request MSI), at
 * most ~1 ms (the LAPIC timer): the vCPU halts instead of polling device
 * registers, each poll an MMIO exit. Interrupts are taken only here and in
 * ring 3, so no handler runs inside a driver's critical section. */
static void g_wait_change(void *ctx, const uint32_t *addr, uint32_t old, uint64_t timeout_ns)
{
    (void)ctx;
    if (__atomic_load_n(addr, __ATOMIC_ACQUIRE) != old)
        return;
    lapic_timer_oneshot(timeout_ns < 1000000 ? timeout_ns : 1000000);
    __asm__ volatile("sti; hlt; cli" ::: "memory");
}

static void g_wake_all(void *ctx, const uint32_t *addr)
{
    (void)ctx, (void)addr;      /* one vCPU: the waiter rechecks after every interrupt */
}

static void on_msi(unsigned vector)
{
    os_irq_deliver(&gk, vector);
}

static int nunits;

/* n invalidation batches of 8 global IOTLB descriptors each (os_qi_submit
 * appends its wait descriptor): the trapped accesses and TSC cycles per
 * batch, as a guest driver pays them. */
void os_qi_bench(unsigned n)
{
    if (nunits < 1) {
        kprintf("qibench: no unit brought up\n");
        return;
    }
    uint64_t d[8][4];
    memset(d, 0, sizeof(d));
    for (unsigned i = 0; i < 8; i++)
        os_qi_iotlb(d[i], 1, 0, 0, 0, false);
    uint64_t a0 = mmio_accesses, t0 = rdtsc();
    int rc = 0;
    for (unsigned i = 0; i < n && !rc; i++)
        rc = os_qi_submit(&units[0], (const uint64_t (*)[4])d, 8);
    uint64_t t1 = rdtsc(), a1 = mmio_accesses;
    kprintf("qibench: %u batches of 8 descriptors%s, %llu trapped accesses per batch, "
            "%llu TSC cycles per batch\n", n, rc ? " FAILED" : "",
            (unsigned long long)((a1 - a0) / n), (unsigned long long)((t1 - t0) / n));
}

/* Brings up the remapping units of the DMAR table with the os driver
 * (Linux's boot sequence: root table, queued invalidation, fault and page
 * request events, translation on) and reports what it did. */
void os_bringup(void)
{
    if (!boot->dmar_len) {
        kprintf("iommu: no DMAR table\n");
        return;
    }
    struct os_ops ops = { .mmio_read = g_mmio_read, .mmio_write = g_mmio_write,
                          .phys_read = g_read, .phys_write = g_write,
                          .phys_cmpxchg64 = g_cmpxchg, .page_alloc = g_page, .page_free = g_free,
                          .pages_alloc = g_pages, .cfg_read = g_cfg_read,
                          .cfg_write = g_cfg_write, .log = g_log, .relax = g_relax,
                          .now_ns = g_now, .wait_change = g_wait_change,
                          .wake_all = g_wake_all };
    os_kernel_init(&gk, &ops, "kvmguest");
    gk.log_level = 0;
    for (unsigned v = OS_FIRST_VECTOR; v < 0xFF; v++)
        irq_set(v, on_msi);
    uint64_t t0 = rdtsc(), a0 = mmio_accesses;
    int n = os_iommu_probe(&gk, phys(boot->dmar_gpa), boot->dmar_len, units, &dinfo);
    nunits = n;
    uint64_t t1 = rdtsc(), a1 = mmio_accesses;
    kprintf("iommu: %d unit(s) probed, %llu trapped accesses, %llu TSC cycles\n", n,
            (unsigned long long)(a1 - a0), (unsigned long long)(t1 - t0));
    /* the accelerators in the units' device scopes (the in-process guest
     * kernel's order: SVA, probe and attach, then translation on) */
    if (n > 0)
        os_svm_init(&svm, &gk, units, (unsigned)n, &dinfo);
    for (unsigned u = 0; n > 0 && u < dinfo.nunits; u++)
        for (unsigned j = 0; j < dinfo.unit[u].nscope && naccels < KVM_MAX_ACCELS; j++) {
            uint16_t bdf = dinfo.unit[u].scope[j].bdf;
            if (dinfo.unit[u].scope[j].type != 1)
                continue;
            uint64_t a2 = mmio_accesses, t2 = rdtsc();
            int rc = os_accel_probe(&accels[naccels], &gk, &svm, bdf);
            kprintf("accel %02x:%02x.%x: probe %s (%d): PASID %d PRI %d ATS %d, vector %#x, "
                    "%llu trapped accesses, %llu TSC cycles\n", bdf >> 8, (bdf >> 3) & 31,
                    bdf & 7, rc ? "FAILED" : "ok", rc, accels[naccels].caps.pasid,
                    accels[naccels].caps.pri, accels[naccels].caps.ats, accels[naccels].vector,
                    (unsigned long long)(mmio_accesses - a2), (unsigned long long)(rdtsc() - t2));
            if (!rc)
                naccels++;
        }
    for (int i = 0; i < n; i++) {
        int rc = os_iommu_enable_translation(&units[i]);
        uint32_t gsts = (uint32_t)os_iommu_rd(&units[i], 0x1C, 4);
        kprintf("iommu: dmar%d at %#llx: scalable %d, caching mode %d, translation %s, "
                "gsts %#x, root table at %#llx\n", i, (unsigned long long)units[i].base,
                units[i].sm, units[i].cm, rc ? "FAILED" : "enabled", gsts,
                (unsigned long long)units[i].root);
    }
    kprintf("iommu: %llu trapped accesses in all\n", (unsigned long long)mmio_accesses);
}
