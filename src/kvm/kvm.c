/* The KVM backend (kvm.h): VM, memory slots over the gpa_map's frames,
 * in-kernel irqchip, one vCPU thread, exits, vMSIs, the watchdog. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kvm/kvm.h"

#define CONSOLE_MAX (64 * 1024)
#define LINE_MAX_LEN 4096
#define KICK_SIGNAL (SIGRTMIN + 7)

struct kvm_vm {
    struct kvm_vm_config cfg;
    int kvm_fd, vm_fd, vcpu_fd;
    struct kvm_run *run;
    size_t run_size;
    unsigned nslots;
    pthread_t thread;
    bool started, joined;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool ended;                     /* under lock */
    enum kvm_end stop_req;          /* atomic: why the VMM stops it */
    struct kvm_report rep;          /* written by the vCPU thread before ended */
    uint64_t t0;
    /* console */
    char line[LINE_MAX_LEN];
    size_t line_len;
    char *console;
    size_t console_len;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

const char *kvm_end_name(enum kvm_end e)
{
    static const char *const names[] = { "none", "exit", "shutdown (triple fault)", "timeout",
                                         "stopped", "unexpected exit", "KVM_RUN error" };
    return (unsigned)e < sizeof(names) / sizeof(names[0]) ? names[e] : "?";
}

void kvm_report_format(const struct kvm_report *r, char *buf, size_t n)
{
    snprintf(buf, n,
             "%s: %s\n"
             "  rip=%016llx rsp=%016llx rflags=%08llx cs=%04x ss=%04x\n"
             "  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n"
             "  rsi=%016llx rdi=%016llx rbp=%016llx\n"
             "  cr0=%08llx cr2=%016llx cr3=%016llx cr4=%08llx efer=%llx\n"
             "  %llu MMIO exits, %llu I/O exits, %llu KVM_RUN calls, %.3f ms\n",
             kvm_end_name(r->end), r->what, (unsigned long long)r->rip,
             (unsigned long long)r->rsp, (unsigned long long)r->rflags, r->cs, r->ss,
             (unsigned long long)r->rax, (unsigned long long)r->rbx, (unsigned long long)r->rcx,
             (unsigned long long)r->rdx, (unsigned long long)r->rsi, (unsigned long long)r->rdi,
             (unsigned long long)r->rbp, (unsigned long long)r->cr0, (unsigned long long)r->cr2,
             (unsigned long long)r->cr3, (unsigned long long)r->cr4, (unsigned long long)r->efer,
             (unsigned long long)r->mmio_exits, (unsigned long long)r->io_exits,
             (unsigned long long)r->runs, (double)r->run_ns / 1e6);
}

/* ---- usability -------------------------------------------------------- */

static pthread_once_t usable_once = PTHREAD_ONCE_INIT;
static int usable_rc = -1;
static char usable_why[160];

static void probe(void)
{
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm = -1, vcpu = -1;
    if (kvm < 0) {
        snprintf(usable_why, sizeof(usable_why), "/dev/kvm: %s", strerror(errno));
        return;
    }
    int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION)
        snprintf(usable_why, sizeof(usable_why), "/dev/kvm: API version %d, need %d", api,
                 KVM_API_VERSION);
    else if (ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) <= 0 ||
             ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_SIGNAL_MSI) <= 0)
        snprintf(usable_why, sizeof(usable_why), "/dev/kvm: no in-kernel irqchip or MSI injection");
    else if ((vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0)
        snprintf(usable_why, sizeof(usable_why), "KVM_CREATE_VM: %s", strerror(errno));
    else if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
        snprintf(usable_why, sizeof(usable_why), "KVM_CREATE_IRQCHIP: %s", strerror(errno));
    else if ((vcpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0)
        snprintf(usable_why, sizeof(usable_why), "KVM_CREATE_VCPU: %s", strerror(errno));
    else
        usable_rc = 0;
    if (vcpu >= 0)
        close(vcpu);
    if (vm >= 0)
        close(vm);
    close(kvm);
}

int kvm_usable(char *why, size_t n)
{
    pthread_once(&usable_once, probe);
    if (usable_rc && why && n)
        snprintf(why, n, "%s", usable_why);
    return usable_rc;
}

/* ---- creation ---------------------------------------------------------- */

static void kick_handler(int sig)
{
    (void)sig;
}

static pthread_once_t sig_once = PTHREAD_ONCE_INIT;
static void install_kick(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = kick_handler;   /* no SA_RESTART: KVM_RUN returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(KICK_SIGNAL, &sa, NULL);
}

/* One slot per run of guest pages with consecutive frames, each pointing
 * into the arena's own mapping of those frames. */
static int add_slots(struct kvm_vm *vm, char *why, size_t n)
{
    struct gpa_map *ram = vm->cfg.ram;
    struct mem_arena *a = gpa_map_arena(ram);
    uint64_t size = gpa_map_size(ram);
    int max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
    if (max <= 0)
        max = 32;
    for (uint64_t gpa = 0; gpa < size; ) {
        uint64_t hpa = gpa_to_hpa(ram, gpa), len = PAGE_SIZE;
        while (gpa + len < size && gpa_to_hpa(ram, gpa + len) == hpa + len)
            len += PAGE_SIZE;
        void *host = mem_ptr(a, hpa, len);
        if (!host)
            return snprintf(why, n, "guest RAM at GPA %#llx is not host memory",
                            (unsigned long long)gpa), -1;
        if ((int)vm->nslots >= max)
            return snprintf(why, n, "%llu MiB of scattered guest RAM needs more than KVM's %d "
                            "memory slots", (unsigned long long)(size >> 20), max), -1;
        struct kvm_userspace_memory_region r = {
            .slot = vm->nslots, .guest_phys_addr = gpa, .memory_size = len,
            .userspace_addr = (uint64_t)(uintptr_t)host };
        if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
            return snprintf(why, n, "KVM_SET_USER_MEMORY_REGION slot %u: %s", vm->nslots,
                            strerror(errno)), -1;
        vm->nslots++;
        gpa += len;
    }
    return 0;
}

static int set_cpuid(struct kvm_vm *vm, char *why, size_t n)
{
    for (unsigned nent = 64; nent <= 1024; nent *= 2) {
        struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
        if (!c)
            return snprintf(why, n, "out of memory"), -1;
        c->nent = nent;
        if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
            int e = errno;
            free(c);
            if (e == E2BIG)
                continue;
            return snprintf(why, n, "KVM_GET_SUPPORTED_CPUID: %s", strerror(e)), -1;
        }
        int rc = ioctl(vm->vcpu_fd, KVM_SET_CPUID2, c);
        free(c);
        if (rc < 0)
            return snprintf(why, n, "KVM_SET_CPUID2: %s", strerror(errno)), -1;
        return 0;
    }
    return snprintf(why, n, "KVM_GET_SUPPORTED_CPUID: too many entries"), -1;
}

struct kvm_vm *kvm_vm_create(const struct kvm_vm_config *cfg, char *why, size_t n)
{
    if (kvm_usable(why, n))
        return NULL;
    if (!cfg->ram || gpa_map_size(cfg->ram) > 0xC0000000ULL) {
        snprintf(why, n, "KVM guest RAM must be below 3 GiB");
        return NULL;
    }
    pthread_once(&sig_once, install_kick);
    struct kvm_vm *vm = calloc(1, sizeof(*vm));
    if (!vm || !(vm->console = calloc(1, CONSOLE_MAX))) {
        free(vm);
        snprintf(why, n, "out of memory");
        return NULL;
    }
    vm->cfg = *cfg;
    vm->kvm_fd = vm->vm_fd = vm->vcpu_fd = -1;
    pthread_mutex_init(&vm->lock, NULL);
    pthread_cond_init(&vm->cond, NULL);
    if ((vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0) {
        snprintf(why, n, "/dev/kvm: %s", strerror(errno));
        goto fail;
    }
    if ((vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0)) < 0) {
        snprintf(why, n, "KVM_CREATE_VM: %s", strerror(errno));
        goto fail;
    }
    ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xFFFBD000UL);   /* VMX real mode; unused otherwise */
    if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
        snprintf(why, n, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
        goto fail;
    }
    if (add_slots(vm, why, n))
        goto fail;
    if ((vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0)) < 0) {
        snprintf(why, n, "KVM_CREATE_VCPU: %s", strerror(errno));
        goto fail;
    }
    int sz = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (sz <= 0) {
        snprintf(why, n, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
        goto fail;
    }
    vm->run_size = (size_t)sz;
    vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
    if (vm->run == MAP_FAILED) {
        vm->run = NULL;
        snprintf(why, n, "mmap kvm_run: %s", strerror(errno));
        goto fail;
    }
    if (set_cpuid(vm, why, n))
        goto fail;
    /* During KVM_RUN nothing is blocked: the kick signal, blocked on the
     * vCPU thread otherwise, interrupts the guest. */
    struct kvm_signal_mask *sm = calloc(1, sizeof(*sm) + 8);   /* len 8, an empty set */
    if (sm)
        sm->len = 8;
    int smrc = sm ? ioctl(vm->vcpu_fd, KVM_SET_SIGNAL_MASK, sm) : -1;
    free(sm);
    if (smrc < 0) {
        snprintf(why, n, "KVM_SET_SIGNAL_MASK: %s", strerror(errno));
        goto fail;
    }
    return vm;
fail:
    kvm_vm_destroy(vm);
    return NULL;
}

unsigned kvm_vm_slots(const struct kvm_vm *vm) { return vm->nslots; }
const char *kvm_vm_console(const struct kvm_vm *vm) { return vm->console; }

/* ---- boot -------------------------------------------------------------- */

#define PTE_P  0x1ULL
#define PTE_W  0x2ULL
#define PTE_PWT 0x8ULL
#define PTE_PCD 0x10ULL
#define PTE_PS 0x80ULL

static int wr64(struct kvm_vm *vm, uint64_t gpa, uint64_t v)
{
    return gpa_write64(vm->cfg.ram, gpa, v);
}

/* PML4 at KVM_PT_GPA; PDPT of the direct map next, then the kernel's PDPT,
 * then four PDs of 2 MiB pages for [0, 4 GiB) (the top GiB uncached: MMIO). */
static int build_page_tables(struct kvm_vm *vm)
{
    uint64_t pml4 = KVM_PT_GPA, pdpt_dm = pml4 + 0x1000, pdpt_k = pml4 + 0x2000,
             pd = pml4 + 0x3000;
    static const uint8_t zero[0x7000];
    int rc = gpa_write(vm->cfg.ram, pml4, zero, sizeof(zero));
    rc |= wr64(vm, pml4 + 8 * 256, pdpt_dm | PTE_P | PTE_W);
    rc |= wr64(vm, pml4 + 8 * 511, pdpt_k | PTE_P | PTE_W);
    for (uint64_t i = 0; i < 4; i++) {
        rc |= wr64(vm, pdpt_dm + 8 * i, (pd + 0x1000 * i) | PTE_P | PTE_W);
        for (uint64_t j = 0; j < 512; j++) {
            uint64_t pa = (i << 30) | (j << 21);
            uint64_t attr = i == 3 ? PTE_PCD | PTE_PWT : 0;
            rc |= wr64(vm, pd + 0x1000 * i + 8 * j, pa | PTE_P | PTE_W | PTE_PS | attr);
        }
    }
    rc |= wr64(vm, pdpt_k + 8 * 510, pd | PTE_P | PTE_W);
    return rc ? -1 : 0;
}

static void seg(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code)
{
    *s = (struct kvm_segment){ .base = 0, .limit = 0xFFFFFFFF, .selector = sel, .type = type,
                               .present = 1, .dpl = 0, .db = code ? 0 : 1, .s = 1,
                               .l = code ? 1 : 0, .g = 1 };
}

int kvm_vm_boot(struct kvm_vm *vm, const void *image, size_t len, const char *cmdline,
                const void *dmar, size_t dmar_len, char *why, size_t n)
{
    uint64_t ram = gpa_map_size(vm->cfg.ram);
    if (!len || KVM_IMAGE_GPA + len + (1 << 20) > ram || KVM_IMAGE_GPA + len > 0x40000000ULL)
        return snprintf(why, n, "guest image of %zu bytes does not fit %llu MiB of RAM", len,
                        (unsigned long long)(ram >> 20)), -1;
    if (dmar_len > KVM_FW_SIZE)
        return snprintf(why, n, "DMAR table too large"), -1;
    if (cmdline && strlen(cmdline) >= KVM_CMDLINE_MAX)   /* never cut: a word would change */
        return snprintf(why, n, "cmdline of %zu bytes, at most %d fit", strlen(cmdline),
                        KVM_CMDLINE_MAX - 1), -1;
    struct kvm_boot_info bi = { .magic = KVM_BOOT_MAGIC, .ram_size = ram,
                                .image_end = (KVM_IMAGE_GPA + len + PAGE_SIZE - 1) & PAGE_MASK };
    if (dmar && dmar_len) {
        bi.dmar_gpa = KVM_FW_GPA;
        bi.dmar_len = dmar_len;
    }
    snprintf(bi.cmdline, sizeof(bi.cmdline), "%s", cmdline ? cmdline : "");
    int khz = ioctl(vm->vcpu_fd, KVM_GET_TSC_KHZ, 0);
    bi.tsc_khz = khz > 0 ? (uint64_t)khz : 0;
    /* every boot starts from zeroed RAM (the guest takes fresh pages as
     * zero), whatever an earlier run left */
    static const uint8_t zero[1 << 16];
    for (uint64_t gpa = 0; gpa < ram; gpa += sizeof(zero))
        if (gpa_write(vm->cfg.ram, gpa, zero, ram - gpa < sizeof(zero) ? ram - gpa : sizeof(zero)))
            return snprintf(why, n, "cannot clear the guest's RAM"), -1;
    vm->console_len = 0, vm->console[0] = 0, vm->line_len = 0;
    if (gpa_write(vm->cfg.ram, KVM_IMAGE_GPA, image, len) || build_page_tables(vm) ||
        gpa_write(vm->cfg.ram, KVM_BOOT_INFO_GPA, &bi, sizeof(bi)) ||
        (dmar_len && gpa_write(vm->cfg.ram, KVM_FW_GPA, dmar, dmar_len)))
        return snprintf(why, n, "cannot write the guest's boot memory"), -1;

    struct kvm_sregs s;
    if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) < 0)
        return snprintf(why, n, "KVM_GET_SREGS: %s", strerror(errno)), -1;
    seg(&s.cs, 0x08, 0xB, true);
    seg(&s.ds, 0x10, 0x3, false);
    s.es = s.fs = s.gs = s.ss = s.ds;
    s.cr0 = 0x80050033ULL;          /* PG WP NE ET MP PE */
    s.cr3 = KVM_PT_GPA;
    s.cr4 = 0x20;                   /* PAE */
    s.efer = 0xD00;                 /* NXE LMA LME */
    if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &s) < 0)
        return snprintf(why, n, "KVM_SET_SREGS: %s", strerror(errno)), -1;
    struct kvm_regs r = { .rip = KVM_KERNEL_BASE + KVM_IMAGE_GPA,
                          .rdi = KVM_DIRECT_MAP + KVM_BOOT_INFO_GPA, .rflags = 2 };
    if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &r) < 0)
        return snprintf(why, n, "KVM_SET_REGS: %s", strerror(errno)), -1;
    return 0;
}

/* ---- console ----------------------------------------------------------- */

static void console_add(struct kvm_vm *vm, const char *s, size_t len)
{
    if (len >= CONSOLE_MAX)
        s += len - (CONSOLE_MAX - 1), len = CONSOLE_MAX - 1;
    if (vm->console_len + len >= CONSOLE_MAX) {   /* keep the tail */
        size_t drop = vm->console_len + len - (CONSOLE_MAX - 1);
        memmove(vm->console, vm->console + drop, vm->console_len - drop);
        vm->console_len -= drop;
    }
    memcpy(vm->console + vm->console_len, s, len);
    vm->console_len += len;
    vm->console[vm->console_len] = 0;
}

static void console_char(struct kvm_vm *vm, char c)
{
    if (c != '\n' && vm->line_len < LINE_MAX_LEN - 1) {
        vm->line[vm->line_len++] = c;
        return;
    }
    vm->line[vm->line_len] = 0;
    console_add(vm, vm->line, vm->line_len);
    console_add(vm, "\n", 1);
    if (vm->cfg.console)
        vm->cfg.console(vm->cfg.console_ctx, vm->line);
    vm->line_len = 0;
    if (c != '\n')
        vm->line[vm->line_len++] = c;
}

static void console_puts(struct kvm_vm *vm, uint64_t gpa)
{
    char buf[LINE_MAX_LEN];
    size_t len = 0;
    while (len < sizeof(buf) && !gpa_read(vm->cfg.ram, gpa + len, &buf[len], 1) && buf[len])
        len++;
    for (size_t i = 0; i < len; i++)
        console_char(vm, buf[i]);
}

/* ---- the vCPU ---------------------------------------------------------- */

static void end_run(struct kvm_vm *vm, enum kvm_end e, const char *what)
{
    vm->rep.end = e;
    snprintf(vm->rep.what, sizeof(vm->rep.what), "%s", what);
}

static bool handle_io(struct kvm_vm *vm)
{
    struct kvm_run *run = vm->run;
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    vm->rep.io_exits++;
    if (run->io.direction == KVM_EXIT_IO_IN) {
        memset(data, 0xFF, (size_t)run->io.size * run->io.count);
        return true;
    }
    for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
        uint32_t v = 0;
        memcpy(&v, data, run->io.size < 4 ? run->io.size : 4);
        switch (run->io.port) {
        case KVM_PORT_PUTC:
            console_char(vm, (char)v);
            break;
        case KVM_PORT_PUTS:
            console_puts(vm, v);
            break;
        case KVM_PORT_ZERO: {
            static const uint8_t zero[PAGE_SIZE];
            gpa_write(vm->cfg.ram, (uint64_t)v << PAGE_SHIFT, zero, sizeof(zero));
            break;
        }
        case KVM_PORT_EXIT: {
            char what[64];
            vm->rep.status = v;
            snprintf(what, sizeof(what), "guest exit status %u%s", v,
                     v == KVM_EXIT_PANIC ? " (kernel panic)" : "");
            end_run(vm, KVM_END_EXIT, what);
            return false;
        }
        default:
            break;      /* writes to nothing are dropped */
        }
    }
    return true;
}

static void handle_mmio(struct kvm_vm *vm)
{
    struct kvm_run *run = vm->run;
    unsigned len = run->mmio.len;
    vm->rep.mmio_exits++;
    if (len > 8)
        len = 8;
    if (run->mmio.is_write) {
        uint64_t v = 0;
        memcpy(&v, run->mmio.data, len);
        if (vm->cfg.mmio.write)
            vm->cfg.mmio.write(vm->cfg.mmio.ctx, run->mmio.phys_addr, len, v);
    } else {
        uint64_t v = vm->cfg.mmio.read ? vm->cfg.mmio.read(vm->cfg.mmio.ctx, run->mmio.phys_addr, len)
                                       : ~0ULL;
        memcpy(run->mmio.data, &v, len);
    }
}

static void capture(struct kvm_vm *vm)
{
    struct kvm_regs r;
    struct kvm_sregs s;
    struct kvm_report *p = &vm->rep;
    if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &r) == 0) {
        p->rip = r.rip, p->rsp = r.rsp, p->rflags = r.rflags, p->rax = r.rax, p->rbx = r.rbx;
        p->rcx = r.rcx, p->rdx = r.rdx, p->rsi = r.rsi, p->rdi = r.rdi, p->rbp = r.rbp;
    }
    if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) == 0) {
        p->cr0 = s.cr0, p->cr2 = s.cr2, p->cr3 = s.cr3, p->cr4 = s.cr4, p->efer = s.efer;
        p->cs = s.cs.selector, p->ss = s.ss.selector;
    }
}

static void *vcpu_main(void *arg)
{
    struct kvm_vm *vm = arg;
    struct kvm_run *run = vm->run;
    for (bool go = true; go; ) {
        enum kvm_end req = __atomic_load_n(&vm->stop_req, __ATOMIC_ACQUIRE);
        if (req != KVM_END_NONE) {
            end_run(vm, req, req == KVM_END_TIMEOUT ? "the watchdog stopped the vCPU"
                                                    : "the VMM stopped the vCPU");
            break;
        }
        vm->rep.runs++;
        int rc = ioctl(vm->vcpu_fd, KVM_RUN, 0);
        if (rc < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                __atomic_store_n(&run->immediate_exit, 0, __ATOMIC_RELAXED);
                continue;
            }
            char what[96];
            snprintf(what, sizeof(what), "KVM_RUN: %s", strerror(errno));
            end_run(vm, KVM_END_ERROR, what);
            break;
        }
        char what[160];
        switch (run->exit_reason) {
        case KVM_EXIT_IO:
            go = handle_io(vm);
            break;
        case KVM_EXIT_MMIO:
            handle_mmio(vm);
            break;
        case KVM_EXIT_INTR:
            break;
        case KVM_EXIT_SHUTDOWN:
            end_run(vm, KVM_END_SHUTDOWN, "the guest triple-faulted (KVM_EXIT_SHUTDOWN)");
            go = false;
            break;
        case KVM_EXIT_INTERNAL_ERROR:
            snprintf(what, sizeof(what), "KVM_EXIT_INTERNAL_ERROR suberror %u",
                     run->internal.suberror);
            vm->rep.exit_reason = run->exit_reason;
            end_run(vm, KVM_END_UNEXPECTED, what);
            go = false;
            break;
        case KVM_EXIT_FAIL_ENTRY:
            snprintf(what, sizeof(what), "KVM_EXIT_FAIL_ENTRY reason %#llx",
                     (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
            vm->rep.exit_reason = run->exit_reason;
            end_run(vm, KVM_END_UNEXPECTED, what);
            go = false;
            break;
        default:
            snprintf(what, sizeof(what), "unexpected KVM exit reason %u", run->exit_reason);
            vm->rep.exit_reason = run->exit_reason;
            end_run(vm, KVM_END_UNEXPECTED, what);
            go = false;
            break;
        }
    }
    if (vm->line_len)
        console_char(vm, '\n');
    capture(vm);
    vm->rep.run_ns = now_ns() - vm->t0;
    pthread_mutex_lock(&vm->lock);
    vm->ended = true;
    pthread_cond_broadcast(&vm->cond);
    pthread_mutex_unlock(&vm->lock);
    return NULL;
}

int kvm_vm_start(struct kvm_vm *vm)
{
    if (vm->started && !vm->joined)
        return -1;
    /* a VM is run again after a new kvm_vm_boot: a fresh report */
    vm->started = vm->joined = vm->ended = false;
    vm->stop_req = KVM_END_NONE;
    vm->run->immediate_exit = 0;
    memset(&vm->rep, 0, sizeof(vm->rep));
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, KICK_SIGNAL);
    /* the vCPU thread inherits the blocked kick signal (KVM_SET_SIGNAL_MASK
     * unblocks it inside KVM_RUN only) */
    pthread_sigmask(SIG_BLOCK, &block, &old);
    vm->t0 = now_ns();
    int rc = pthread_create(&vm->thread, NULL, vcpu_main, vm);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        return -1;
    vm->started = true;
    return 0;
}

static void request_stop(struct kvm_vm *vm, enum kvm_end why)
{
    enum kvm_end none = KVM_END_NONE;
    __atomic_compare_exchange_n(&vm->stop_req, &none, why, false, __ATOMIC_ACQ_REL,
                                __ATOMIC_ACQUIRE);
    __atomic_store_n(&vm->run->immediate_exit, 1, __ATOMIC_RELEASE);
    pthread_mutex_lock(&vm->lock);
    bool ended = vm->ended;
    pthread_mutex_unlock(&vm->lock);
    if (!ended && vm->started && !vm->joined)
        pthread_kill(vm->thread, KICK_SIGNAL);
}

void kvm_vm_stop(struct kvm_vm *vm)
{
    if (vm && vm->started)
        request_stop(vm, KVM_END_STOPPED);
}

void kvm_vm_wait(struct kvm_vm *vm, uint64_t timeout_ns, struct kvm_report *r)
{
    if (!vm->started) {
        memset(r, 0, sizeof(*r));
        return;
    }
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    uint64_t ns = (uint64_t)dl.tv_nsec + timeout_ns % 1000000000ULL;
    dl.tv_sec += (time_t)(timeout_ns / 1000000000ULL + ns / 1000000000ULL);
    dl.tv_nsec = (long)(ns % 1000000000ULL);
    pthread_mutex_lock(&vm->lock);
    while (!vm->ended)
        if (pthread_cond_timedwait(&vm->cond, &vm->lock, &dl) == ETIMEDOUT)
            break;
    bool ended = vm->ended;
    pthread_mutex_unlock(&vm->lock);
    /* the kick is repeated until the thread is out: a signal may land while
     * the vCPU thread is outside KVM_RUN (it stays pending there) */
    while (!ended) {
        request_stop(vm, KVM_END_TIMEOUT);
        usleep(1000);
        pthread_mutex_lock(&vm->lock);
        ended = vm->ended;
        pthread_mutex_unlock(&vm->lock);
    }
    if (!vm->joined) {
        pthread_join(vm->thread, NULL);
        vm->joined = true;
    }
    *r = vm->rep;
}

int kvm_vm_run(struct kvm_vm *vm, uint64_t timeout_ns, struct kvm_report *r)
{
    if (kvm_vm_start(vm))
        return -1;
    kvm_vm_wait(vm, timeout_ns, r);
    return 0;
}

int kvm_vm_msi(struct kvm_vm *vm, uint32_t vector)
{
    struct kvm_msi m = { .address_lo = (uint32_t)0xFEE00000u, .data = vector };
    return ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &m) < 0 ? -1 : 0;
}

void kvm_vm_destroy(struct kvm_vm *vm)
{
    if (!vm)
        return;
    if (vm->started && !vm->joined) {
        struct kvm_report r;
        request_stop(vm, KVM_END_STOPPED);
        kvm_vm_wait(vm, 0, &r);
    }
    if (vm->run)
        munmap(vm->run, vm->run_size);
    if (vm->vcpu_fd >= 0)
        close(vm->vcpu_fd);
    if (vm->vm_fd >= 0)
        close(vm->vm_fd);
    if (vm->kvm_fd >= 0)
        close(vm->kvm_fd);
    pthread_cond_destroy(&vm->cond);
    pthread_mutex_destroy(&vm->lock);
    free(vm->console);
    free(vm);
}
