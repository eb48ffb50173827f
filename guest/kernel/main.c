/* The guest kernel's entry, console and the program list (cmdline). */
#include "kernel.h"

#include "acpi/dmar.h"

const struct kvm_boot_info *boot;
extern char __kernel_end[];

void *memset(void *d, int c, size_t n)
{
    void *r = d;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return r;
}

void *memcpy(void *d, const void *s, size_t n)
{
    void *r = d;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    return r;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

/* What follows prefix in word, or NULL when word does not start with it. */
const char *str_after(const char *word, const char *prefix)
{
    while (*prefix && *word == *prefix)
        word++, prefix++;
    return *prefix ? NULL : word;
}

/* Hex digits (an optional 0x) up to a ',' or the end; the position after
 * them, or NULL when there are none or too many. */
const char *parse_hex(const char *s, uint64_t *v)
{
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    unsigned n = 0;
    for (*v = 0;; s++, n++) {
        unsigned d = *s >= '0' && *s <= '9' ? (unsigned)(*s - '0')
                     : *s >= 'a' && *s <= 'f' ? (unsigned)(*s - 'a' + 10)
                     : *s >= 'A' && *s <= 'F' ? (unsigned)(*s - 'A' + 10) : 16u;
        if (d == 16)
            break;
        *v = *v << 4 | d;
    }
    return n && n <= 16 && (!*s || *s == ',') ? s : NULL;
}

/* One exit per line: the VMM reads the NUL-terminated line at its GPA.
 * The buffer lives in the kernel image, so its GPA is VA - KERNEL_BASE. */
void kputs(const char *s)
{
    uint64_t va = (uint64_t)(uintptr_t)s;
    uint64_t pa = va >= KVM_KERNEL_BASE ? va - KVM_KERNEL_BASE : va - KVM_DIRECT_MAP;
    outl(KVM_PORT_PUTS, (uint32_t)pa);
}

void kprintf(const char *fmt, ...)
{
    static char buf[512];
    va_list ap;
    va_start(ap, fmt);
    os_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    kputs(buf);
}

void vm_exit(uint32_t status)
{
    for (;;) {
        outl(KVM_PORT_EXIT, status);
        __asm__ volatile("cli; hlt");
    }
}

void panic(const char *fmt, ...)
{
    static char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = os_vsnprintf(buf, sizeof(buf) - 16, fmt, ap);
    va_end(ap);
    (void)n;
    kputs("kernel panic:");
    kputs(buf);
    kputs("\n");
    vm_exit(KVM_EXIT_PANIC);
}

/* ---- programs --------------------------------------------------------- */

/* the ring-3 programs (guest/user/), entry points at user addresses */
void prog_hello(void);
void prog_demo(void);
void prog_segv(void);
void prog_spin(void);
void prog_bench(void);
void prog_svm_sanity(void);
void prog_svm_fault(void);
void prog_svm_storedw_loop(void);
void prog_svm_pointer_chase(void);
void prog_agree(void);
void prog_svmbench(void);
void prog_stall(void);

static const struct { const char *name; void (*entry)(void); } programs[] = {
    { "hello", prog_hello }, { "demo", prog_demo }, { "segv", prog_segv },
    { "spin", prog_spin }, { "bench", prog_bench },
    { "svm_sanity", prog_svm_sanity }, { "svm_fault", prog_svm_fault },
    { "svm_storedw_loop", prog_svm_storedw_loop },
    { "svm_pointer_chase", prog_svm_pointer_chase }, { "agree", prog_agree },
    { "svmbench", prog_svmbench }, { "stall", prog_stall },
};

static struct proc the_proc;
static const char *cursor;          /* next word of the cmdline */
static int last_status;
static unsigned nrun;
static uint64_t t_start;

static bool next_word(char *w, size_t n)
{
    while (*cursor == ' ')
        cursor++;
    if (!*cursor)
        return false;
    size_t i = 0;
    while (*cursor && *cursor != ' ') {
        if (i + 1 < n)
            w[i++] = *cursor;
        cursor++;
    }
    w[i] = 0;
    return true;
}

/* ---- the kernel's own checks ------------------------------------------ */

static volatile unsigned irq_seen, irq_count;
static void on_irq(unsigned v)
{
    irq_seen = v;
    irq_count++;
}

static void check_mmio(void)
{
    volatile uint8_t *t = phys(KVM_TEST_MMIO_GPA);
    *(volatile uint32_t *)(t + 0) = 0x12345678;
    *(volatile uint64_t *)(t + 8) = 0x1122334455667788ULL;
    uint64_t a = *(volatile uint64_t *)(t + 0x20);
    uint32_t b = *(volatile uint32_t *)(t + 0x28);
    uint8_t c = t[0x31];
    kprintf("mmio: read64 %#llx read32 %#x read8 %#x\n", (unsigned long long)a, b, c);
}

static void check_irq(unsigned n)
{
    irq_set(0x41, on_irq);
    uint64_t t0 = rdtsc();
    for (unsigned i = 0; i < n; i++) {
        irq_seen = 0;
        *(volatile uint32_t *)phys(KVM_TEST_MMIO_GPA + KVM_TEST_MSI_REG) = 0x41;
        while (!irq_seen)
            __asm__ volatile("sti; hlt; cli");
    }
    kprintf("irq: %u MSIs on vector %#x delivered, %llu TSC cycles each\n", irq_count, irq_seen,
            (unsigned long long)((rdtsc() - t0) / n));
}

/* n trapped reads of the test page, back to back (the VMM times them). */
static void mmio_bench(unsigned n)
{
    volatile uint32_t *r = phys(KVM_TEST_MMIO_GPA + 0x40);
    uint64_t t0 = rdtsc(), sum = 0;
    for (unsigned i = 0; i < n; i++)
        sum += *r;
    kprintf("mmiobench: %u reads, %llu TSC cycles each (sum %#llx)\n", n,
            (unsigned long long)((rdtsc() - t0) / n), (unsigned long long)sum);
}

/* Starts the next program of the cmdline, or stops the VM with the last
 * program's status. Called on a fresh kernel stack path; never returns. */
void schedule(void)
{
    static char word[KVM_CMDLINE_MAX];     /* probe: carries its targets */
    while (next_word(word, sizeof(word))) {
        if (!strcmp(word, "mmio")) {
            check_mmio();
            continue;
        }
        if (!strcmp(word, "irq") || !strcmp(word, "irqbench")) {
            check_irq(word[3] ? 1000 : 100);
            continue;
        }
        if (!strcmp(word, "iommu")) {
            os_bringup();
            continue;
        }
        if (!strcmp(word, "qibench")) {
            os_qi_bench(200);
            continue;
        }
        if (kcmd_misbehave(word))
            continue;
        if (kcmd_workload(word))
            continue;
        if (!strcmp(word, "mmiobench")) {
            mmio_bench(2000);
            continue;
        }
        const char *name = NULL;
        void (*entry)(void) = NULL;
        for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++)
            if (!strcmp(programs[i].name, word))
                name = programs[i].name, entry = programs[i].entry;
        if (!entry) {
            kprintf("kernel: no program '%s'\n", word);
            last_status = 127;
            continue;
        }
        if (proc_create(&the_proc, name, (uint64_t)(uintptr_t)entry)) {
            kprintf("kernel: cannot create process %s\n", name);
            last_status = 126;
            continue;
        }
        nrun++;
        current = &the_proc;
        write_cr3(the_proc.pml4);
        enter_user(&the_proc.tf);
    }
    kprintf("kernel: %u programs run, status %d, %llu free pages, %llu TSC cycles\n", nrun,
            last_status, (unsigned long long)pmem_free_pages(),
            (unsigned long long)(rdtsc() - t_start));
    vm_exit((uint32_t)last_status);
}

void proc_exit(int status)
{
    struct proc *p = current;
    kprintf("kernel: %s exited with status %d (%llu demand faults, %llu device faults)\n",
            p->name, status, (unsigned long long)p->faults,
            (unsigned long long)p->mm.faults_dev);
    last_status = status;
    write_cr3(KVM_PT_GPA);
    proc_destroy(p);
    current = NULL;
    schedule();
}

/* The firmware's DMAR table: the remapping units and their devices. */
static void show_dmar(const struct kvm_boot_info *bi)
{
    static struct dmar_info info;
    const char *why = "?";
    if (dmar_parse(phys(bi->dmar_gpa), bi->dmar_len, &info, &why)) {
        kprintf("dmar: bad table: %s\n", why);
        return;
    }
    kprintf("dmar: %llu bytes, host address width %u, %u remapping unit(s)\n",
            (unsigned long long)bi->dmar_len, info.haw, info.nunits);
    for (unsigned i = 0; i < info.nunits; i++) {
        const struct dmar_unit *u = &info.unit[i];
        kprintf("dmar: unit %u at %#llx segment %u%s, %u device scope(s)\n", i,
                (unsigned long long)u->base, u->segment, u->include_all ? " include-all" : "",
                u->nscope);
        for (unsigned j = 0; j < u->nscope; j++)
            kprintf("dmar:   %s %02x:%02x.%x\n", u->scope[j].type == 1 ? "endpoint" : "bridge",
                    u->scope[j].bdf >> 8, (u->scope[j].bdf >> 3) & 31, u->scope[j].bdf & 7);
    }
}

void kmain(const struct kvm_boot_info *bi);
void kmain(const struct kvm_boot_info *bi)
{
    t_start = rdtsc();
    boot = bi;
    if (bi->magic != KVM_BOOT_MAGIC)
        panic("bad boot information");
    cpu_init();
    uint64_t kend = (uint64_t)(uintptr_t)__kernel_end - KVM_KERNEL_BASE;
    uint64_t image_end = bi->image_end > kend ? bi->image_end : kend;
    pmem_init((image_end + PAGE - 1) & ~(PAGE - 1), bi->ram_size);
    kprintf("kernel: vsvm guest, %llu MiB RAM, %llu free pages, cmdline '%s'\n",
            (unsigned long long)(bi->ram_size >> 20), (unsigned long long)pmem_free_pages(),
            bi->cmdline);
    if (bi->dmar_len)
        show_dmar(bi);
    cursor = bi->cmdline;
    schedule();
}
