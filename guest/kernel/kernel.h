/* The vsvm guest kernel (issue 7): what its files share. Runs on a KVM
 * vCPU in long mode set up by the VMM (src/kvm/kvm_abi.h). Interrupts are
 * off in ring 0 (interrupt gates) and on in ring 3. */
#ifndef VSVM_GUEST_KERNEL_H
#define VSVM_GUEST_KERNEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm/kvm_abi.h"
#include "os/accel_drv.h"

struct trapframe {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

#define KCODE_SEL 0x08
#define KDATA_SEL 0x10
#define UCODE_SEL 0x1B
#define UDATA_SEL 0x23
#define TSS_SEL   0x28

#define PAGE 4096ULL
/* PTE_P and PTE_PS come from paging/pt.h (through os/mm.h) */
#define PTE_W   0x2ULL
#define PTE_U   0x4ULL
#define PTE_NX  (1ULL << 63)
#define PTE_ADDR 0x000FFFFFFFFFF000ULL

#define USER_TOP   0x0000800000000000ULL
#define USTACK_TOP 0x00007FFFFFFFF000ULL
#define USTACK_SIZE (1ULL << 20)
#define MMAP_BASE  0x0000100000000000ULL

/* physical <-> direct map */
static inline void *phys(uint64_t pa) { return (void *)(uintptr_t)(KVM_DIRECT_MAP + pa); }

/* ports (ring 0 only) */
static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}
static inline uint64_t read_cr2(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}
static inline void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* main.c */
extern const struct kvm_boot_info *boot;
void kputs(const char *s);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void vm_exit(uint32_t status);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int strcmp(const char *a, const char *b);
/* What follows prefix in word, or NULL when word does not start with it. */
const char *str_after(const char *word, const char *prefix);
/* Hex digits (an optional 0x, at most 16) up to a ',' or the end of s into
 * *v; the position after them, or NULL. */
const char *parse_hex(const char *s, uint64_t *v);
int os_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);   /* src/os/klog.c */

/* cpu.c */
void cpu_init(void);
void lapic_eoi(void);
void lapic_timer_oneshot(uint64_t ns);     /* an interrupt on LAPIC_TIMER_VECTOR */
#define LAPIC_TIMER_VECTOR 0x30
typedef void (*irq_fn)(unsigned vector);
void irq_set(unsigned vector, irq_fn fn);
void trap(struct trapframe *tf);
__attribute__((noreturn)) void enter_user(struct trapframe *tf);

/* mm.c: physical pages, process address spaces, demand paging */
void pmem_init(uint64_t start, uint64_t end);
uint64_t page_alloc(void);           /* zeroed; 0 when exhausted */
void page_free(uint64_t pa);
uint64_t pages_alloc_contig(unsigned n);    /* aligned to their size; 0 when exhausted */
uint64_t pmem_free_pages(void);

#define MAX_REGIONS 32
enum region_kind { R_ANON, R_IMAGE };
struct region {
    uint64_t start, end;            /* [start, end), page aligned; end 0 = unused */
    unsigned prot;                  /* KVM_PROT_* */
    enum region_kind kind;
    uint64_t image_pa;              /* R_IMAGE: physical of start (initial content) */
    uint64_t image_len;             /* bytes of initial content from start */
    bool shared;                    /* R_IMAGE mapped in place (read-only text) */
};
struct proc {
    const char *name;
    uint64_t pml4;                  /* physical */
    struct region reg[MAX_REGIONS];
    uint64_t mmap_next;
    uint64_t faults;                /* demand faults served */
    struct trapframe tf;            /* saved user state */
    int status;
    bool running;
    /* SVM (svm.c): the os layer's view of this address space for SVA binds
     * (its PASID, the devices bound to it, device faults served; mm.pt.root
     * is pml4: the device walks these very tables) and a context per
     * accelerator the process bound */
    struct os_mm mm;
    struct os_accel_ctx ctx[KVM_MAX_ACCELS];
    bool open[KVM_MAX_ACCELS];
    unsigned dev;                   /* its device 0 is accelerator dev (svm_dev at creation) */
};
extern struct proc *current;
int proc_create(struct proc *p, const char *name, uint64_t entry);
void proc_destroy(struct proc *p);
/* Serves a page fault at va (write/exec from the error code); 0 when the
 * page is now mapped, -1 when the access is not allowed. */
int proc_fault(struct proc *p, uint64_t va, uint64_t err);   /* 1 mapped now, 0 present, -1 */
/* Makes [va, va + len) present for a kernel access on the process's
 * behalf; -1 when some page is not accessible. */
int user_prepare(struct proc *p, uint64_t va, uint64_t len, bool write);
long proc_mmap(struct proc *p, uint64_t hint, uint64_t len, unsigned prot);
long proc_munmap(struct proc *p, uint64_t va, uint64_t len);
long proc_mprotect(struct proc *p, uint64_t va, uint64_t len, unsigned prot);
/* mmap(MAP_FIXED) over [va, va + len): the old pages are unmapped (and the
 * devices' translations flushed) and a fresh demand-zero area appears in
 * the same call. */
long proc_mmap_fixed(struct proc *p, uint64_t va, uint64_t len, unsigned prot);

/* svm.c: the ring-3 SVM calls and the os layer's mm hooks */
extern struct os_kernel gk;
extern struct os_accel accels[KVM_MAX_ACCELS];
extern unsigned naccels;
extern unsigned svm_dev;                /* dev=N: the accelerator used from now on */
void svm_proc_init(struct proc *p);
void svm_proc_exit(struct proc *p);     /* contexts closed, PASID unbound */
/* After PTEs of [va, va + pages) were cleared or downgraded: the bound
 * devices' IOTLB and device-TLB entries flushed (before the frames go). */
void svm_flush(struct proc *p, uint64_t va, uint64_t pages);
long svm_call(struct proc *p, struct trapframe *tf);

/* osglue.c: the os layer's VT-d driver on this machine */
void os_bringup(void);
/* misbehave.c: kfault, ktriple, kspin, kgarbage:SEED; true when word was one */
bool kcmd_misbehave(const char *word);
__attribute__((noreturn)) void kcall_hang(void);    /* KVM_CALL_HANG */
void os_qi_bench(unsigned n);

/* kwl.c: the kernel's own workloads, dma and probe:HEX,..., and dev=N;
 * true when word was one */
bool kcmd_workload(const char *word);

/* calls.c */
void do_call(struct trapframe *tf);
__attribute__((noreturn)) void schedule(void);
__attribute__((noreturn)) void proc_exit(int status);

#endif
