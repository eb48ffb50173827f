/* A misbehaving guest kernel, on purpose (issue 7, "Bad input"): cmdline
 * words that make this kernel fault, spin or write garbage to its devices,
 * its virtual IOMMU and its own memory, so the VMM's containment can be
 * tested with a real vCPU doing it. What the VMM must do in every case:
 * end the run with a report (outcome and registers), reset the guest's
 * devices, and leave the host and the other guests running
 * (tests/unit/test_kvm_contain.c).
 *   kfault        a NULL dereference in ring 0 (the kernel's #PF handler
 *                 finds no process: it dumps the state and panics);
 *   ktriple       an empty IDT, then ud2: #UD, #GP, #DF cannot be
 *                 delivered: a triple fault (KVM_EXIT_SHUTDOWN);
 *   kspin         interrupts off, a ring-0 loop: only the VMM's watchdog
 *                 ends it (KVM_CALL_HANG does the same inside a process's
 *                 call: guest/user/stall.c leaves its device waiting on
 *                 page requests the kernel will never serve);
 *   kgarbage:SEED pseudo-random writes (xorshift64 from SEED) to the
 *                 virtual unit's register page, the BARs and configuration
 *                 space of every function on bus 0, I/O ports, unassigned
 *                 MMIO and the kernel's own free memory (where its IOMMU
 *                 tables and invalidation queue live), then the next word. */
#include "kernel.h"

#include "acpi/dmar.h"

#define GARBAGE_OPS 4000u
#define ECAM_FN(dev) (KVM_ECAM_GPA + ((uint64_t)(dev) << 15))

static uint64_t rng;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void mmio_write(uint64_t gpa, bool wide, uint64_t v)
{
    if (wide)
        *(volatile uint64_t *)phys(gpa & ~7ULL) = v;
    else
        *(volatile uint32_t *)phys(gpa & ~3ULL) = (uint32_t)v;
}

static uint32_t cfg_read(unsigned dev, unsigned off)
{
    return *(volatile uint32_t *)phys(ECAM_FN(dev) + off);
}

/* The BAR0 base of each function 0 on bus 0 that answers (64-bit memory
 * BARs: PCI Local Bus 3.0 §6.2.5.1), read before the garbage moves them. */
static unsigned find_bars(uint64_t *bar, unsigned max)
{
    unsigned n = 0;
    for (unsigned dev = 0; dev < 32 && n < max; dev++) {
        if ((cfg_read(dev, 0) & 0xFFFF) == 0xFFFF)
            continue;
        uint32_t lo = cfg_read(dev, 0x10);
        uint64_t base = lo & ~0xFULL;
        if ((lo & 0x6) == 0x4)
            base |= (uint64_t)cfg_read(dev, 0x14) << 32;
        if (base)
            bar[n++] = base;
    }
    return n;
}

static uint64_t unit_base(void)
{
    static struct dmar_info info;
    const char *why;
    if (!boot->dmar_len || dmar_parse(phys(boot->dmar_gpa), boot->dmar_len, &info, &why) ||
        !info.nunits)
        return 0;
    return info.unit[0].base;
}

static void garbage(uint64_t seed)
{
    rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
    uint64_t bar[8], unit = unit_base();
    unsigned nbar = find_bars(bar, 8);
    uint64_t ram_lo = (boot->image_end + (64 << 10) + PAGE - 1) & ~(PAGE - 1);
    unsigned counts[6] = { 0 };
    for (unsigned i = 0; i < GARBAGE_OPS; i++) {
        uint64_t r = next(), v = next();
        bool wide = r >> 63;
        unsigned kind = (unsigned)(r % 6);
        switch (kind) {
        case 0:     /* the virtual unit's registers (VT-d §10.4), any of them */
            if (!unit)
                continue;
            mmio_write(unit + (r >> 8 & 0xFF8), wide, v);
            break;
        case 1:     /* an assigned device's BAR0: doorbells, rings, PASIDs */
            if (!nbar)
                continue;
            mmio_write(bar[(r >> 8) % nbar] + (r >> 16 & 0xFFF8), wide, v);
            break;
        case 2:     /* configuration space of any function on bus 0 */
            mmio_write(KVM_ECAM_GPA + (r >> 8 & (KVM_ECAM_SIZE - 4)), false, v);
            break;
        case 3:     /* an I/O port other than the exit port */
            if ((uint16_t)(r >> 8) == KVM_PORT_EXIT)
                continue;
            outl((uint16_t)(r >> 8), (uint32_t)v);
            break;
        case 4:     /* trapped MMIO nobody decodes: reads all-ones, writes dropped */
            (void)*(volatile uint32_t *)phys(0xF0000000ULL + (r >> 8 & 0x0FFFFFFCULL));
            mmio_write(0xD0000000ULL + (r >> 8 & 0x0FFFFFF8ULL), wide, v);
            break;
        default:    /* free memory: the kernel's own IOMMU tables and queue */
            if (ram_lo >= boot->ram_size)
                continue;
            *(volatile uint64_t *)phys(ram_lo + (r >> 8) % (boot->ram_size - ram_lo) / 8 * 8) = v;
            break;
        }
        counts[kind]++;
    }
    kprintf("kgarbage: seed %#llx: %u unit, %u BAR, %u config, %u port, %u stray MMIO, %u memory "
            "writes\n", (unsigned long long)seed, counts[0], counts[1], counts[2], counts[3],
            counts[4], counts[5]);
}

void kcall_hang(void)
{
    kprintf("kspin: interrupts off, spinning in ring 0\n");
    for (;;)
        __asm__ volatile("cli; pause" ::: "memory");
}

bool kcmd_misbehave(const char *word)
{
    if (!strcmp(word, "kfault")) {
        volatile uint64_t *null = 0;
        kprintf("kfault: reading address 0x8 in ring 0\n");
        __asm__ volatile("" : "+r"(null));      /* the compiler may not know it is NULL */
        (void)null[1];
        panic("kfault: the read returned");
    }
    if (!strcmp(word, "ktriple")) {
        static const struct __attribute__((packed)) { uint16_t limit; uint64_t base; } none;
        kprintf("ktriple: empty IDT, then ud2\n");
        __asm__ volatile("lidt %0; ud2" : : "m"(none));
        panic("ktriple: ud2 returned");
    }
    if (!strcmp(word, "kspin"))
        kcall_hang();
    const char *seed = str_after(word, "kgarbage:");
    if (seed) {
        uint64_t v = 0;
        if (!parse_hex(seed, &v))
            kprintf("kernel: bad seed '%s' (kgarbage:HEX)\n", word);
        else
            garbage(v);
        return true;
    }
    return false;
}
