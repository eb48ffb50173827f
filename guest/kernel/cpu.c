/* GDT with user segments and a TSS (RSP0, IST1 for double faults), the
 * IDT (int3 is the ring-3 call gate, DPL 3), the local APIC, and the trap
 * dispatcher: ring-3 page faults are demand paging, other ring-3
 * exceptions kill the process, ring-0 exceptions panic with the state. */
#include "kernel.h"

struct tss {
    uint32_t rsv0;
    uint64_t rsp0, rsp1, rsp2;
    uint64_t rsv1;
    uint64_t ist[7];
    uint64_t rsv2;
    uint16_t rsv3, iomap;
} __attribute__((packed));

struct gate {
    uint16_t off0, sel;
    uint8_t ist, type;
    uint16_t off1;
    uint32_t off2, rsv;
} __attribute__((packed));

static uint64_t gdt[7];
static struct tss tss;
static struct gate idt[256];
static uint8_t kstack[32768] __attribute__((aligned(16)));
static uint8_t dfstack[4096] __attribute__((aligned(16)));
static irq_fn irqs[256];
extern char isr_stubs[];

#define LAPIC_SVR 0xF0
#define LAPIC_EOI 0xB0
#define LAPIC_TPR 0x80
static volatile uint32_t *lapic(unsigned off)
{
    return (volatile uint32_t *)phys(KVM_LAPIC_GPA + off);
}

void lapic_eoi(void) { *lapic(LAPIC_EOI) = 0; }

#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_DIV 0x3E0

static void on_timer(unsigned v) { (void)v; }

/* KVM's local APIC timer counts at 1 GHz with divide-by-1. */
void lapic_timer_oneshot(uint64_t ns)
{
    *lapic(LAPIC_TIMER_INIT) = (uint32_t)(ns ? ns : 1);
}
void irq_set(unsigned vector, irq_fn fn) { irqs[vector & 255] = fn; }

static void set_gate(unsigned v, unsigned dpl, unsigned ist)
{
    uint64_t off = (uint64_t)(uintptr_t)isr_stubs + 16 * v;
    idt[v] = (struct gate){ .off0 = (uint16_t)off, .sel = KCODE_SEL, .ist = (uint8_t)ist,
                            .type = (uint8_t)(0x8E | dpl << 5), .off1 = (uint16_t)(off >> 16),
                            .off2 = (uint32_t)(off >> 32) };
}

void cpu_init(void)
{
    gdt[1] = 0x00AF9A000000FFFFULL;     /* kernel code, 64-bit */
    gdt[2] = 0x00CF92000000FFFFULL;     /* kernel data */
    gdt[3] = 0x00AFFA000000FFFFULL;     /* user code, 64-bit, DPL 3 */
    gdt[4] = 0x00CFF2000000FFFFULL;     /* user data, DPL 3 */
    uint64_t t = (uint64_t)(uintptr_t)&tss, lim = sizeof(tss) - 1;
    gdt[5] = (lim & 0xFFFF) | (t & 0xFFFFFF) << 16 | 0x89ULL << 40 | ((lim >> 16) & 0xF) << 48 |
             ((t >> 24) & 0xFF) << 56;
    gdt[6] = t >> 32;
    tss.rsp0 = (uint64_t)(uintptr_t)(kstack + sizeof(kstack));
    tss.ist[0] = (uint64_t)(uintptr_t)(dfstack + sizeof(dfstack));
    tss.iomap = sizeof(tss);
    struct { uint16_t lim; uint64_t base; } __attribute__((packed))
        gd = { sizeof(gdt) - 1, (uint64_t)(uintptr_t)gdt },
        id = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lgdt %0\n"
                     "mov %1, %%ds\n mov %1, %%es\n mov %1, %%ss\n"
                     "xor %%eax, %%eax\n mov %%ax, %%fs\n mov %%ax, %%gs\n"
                     "pushq %2\n lea 1f(%%rip), %%rax\n pushq %%rax\n lretq\n1:\n"
                     : : "m"(gd), "r"((uint64_t)KDATA_SEL), "i"(KCODE_SEL) : "rax", "memory");
    __asm__ volatile("ltr %w0" : : "r"(TSS_SEL));
    for (unsigned v = 0; v < 256; v++)
        set_gate(v, v == 3 ? 3 : 0, v == 8 ? 1 : 0);
    __asm__ volatile("lidt %0" : : "m"(id));
    *lapic(LAPIC_TPR) = 0;
    irq_set(LAPIC_TIMER_VECTOR, on_timer);
    *lapic(LAPIC_TIMER_DIV) = 0xB;                  /* divide by 1 */
    *lapic(LAPIC_LVT_TIMER) = LAPIC_TIMER_VECTOR;   /* one-shot */
    *lapic(LAPIC_SVR) = 0x100 | 0xFF;   /* enabled, spurious vector 0xFF */
}

static const char *const exc_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP", "#SS",
    "#GP", "#PF", "?", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

static void dump(const struct trapframe *tf)
{
    kprintf("  vector %llu (%s) error %#llx rip %#llx cs %#llx rflags %#llx rsp %#llx cr2 %#llx\n",
            (unsigned long long)tf->vector, tf->vector < 32 && exc_names[tf->vector]
            ? exc_names[tf->vector] : "irq", (unsigned long long)tf->error,
            (unsigned long long)tf->rip, (unsigned long long)tf->cs,
            (unsigned long long)tf->rflags, (unsigned long long)tf->rsp,
            (unsigned long long)read_cr2());
    kprintf("  rax %#llx rbx %#llx rcx %#llx rdx %#llx rsi %#llx rdi %#llx\n",
            (unsigned long long)tf->rax, (unsigned long long)tf->rbx,
            (unsigned long long)tf->rcx, (unsigned long long)tf->rdx,
            (unsigned long long)tf->rsi, (unsigned long long)tf->rdi);
}

void trap(struct trapframe *tf)
{
    bool user = (tf->cs & 3) == 3;
    uint64_t v = tf->vector;
    if (v >= 32) {                      /* MSIs and the spurious vector */
        if (irqs[v])
            irqs[v]((unsigned)v);
        if (v != 0xFF)
            lapic_eoi();
        return;
    }
    if (v == 3 && user) {               /* int3: a ring-3 call */
        do_call(tf);
        return;
    }
    if (v == 14) {
        uint64_t va = read_cr2();
        /* the same fault again right after serving it: the mapping does not
         * take; report instead of looping */
        static uint64_t last_va, last_rip, repeats;
        repeats = va == last_va && tf->rip == last_rip ? repeats + 1 : 0;
        last_va = va, last_rip = tf->rip;
        if (repeats == 4) {
            kprintf("kernel: page fault at %#llx repeats after it was served\n",
                    (unsigned long long)va);
            dump(tf);
            if (current) {
                uint64_t *t = phys(current->pml4);
                for (int sh = 39; sh >= 12; sh -= 9) {
                    uint64_t e = t[(va >> sh) & 511];
                    kprintf("  level %d entry %#llx\n", (sh - 12) / 9 + 1, (unsigned long long)e);
                    if (!(e & PTE_P))
                        break;
                    t = phys(e & PTE_ADDR);
                }
            }
            panic("repeated page fault");
        }
        int rc = current && va < USER_TOP && (user || !(tf->error & 1))
                 ? proc_fault(current, va, tf->error) : -1;
        if (rc > 0)
            current->faults++;
        if (rc >= 0)
            return;
        if (user) {
            kprintf("kernel: %s: segmentation fault at %#llx (%s%s) rip %#llx\n", current->name,
                    (unsigned long long)va, tf->error & 2 ? "write" : "read",
                    tf->error & 16 ? ", fetch" : "", (unsigned long long)tf->rip);
            proc_exit(KVM_STATUS_SEGV);
        }
    }
    if (user) {
        kprintf("kernel: %s: exception %s in ring 3, killed\n", current->name,
                exc_names[v] ? exc_names[v] : "?");
        dump(tf);
        proc_exit(KVM_STATUS_SEGV);
    }
    kprintf("kernel: exception in ring 0\n");
    dump(tf);
    panic("unexpected exception %llu", (unsigned long long)v);
}
