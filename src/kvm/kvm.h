/* The KVM backend (ARCHITECTURE.md §5, issue 7): a VM on /dev/kvm whose RAM
 * is a guest physical map's own host frames, one vCPU on its own thread in
 * 64-bit mode from the first instruction, KVM's in-kernel interrupt
 * controller, trapped MMIO dispatched to the VMM's devices, vMSIs through
 * KVM_SIGNAL_MSI, a console and an exit port, and a watchdog: a run always
 * ends, with an outcome and the vCPU's registers.
 *
 * Memory: KVM needs each memory slot to be one contiguous userspace range,
 * while a gpa_map backs every guest page with a scattered arena frame. The
 * backend gives KVM one slot per run of guest pages whose frames are
 * consecutive, each slot pointing straight into the arena's mapping: KVM's
 * GPA -> HPA is then the gpa_map itself, the very translation the IOMMU
 * model's second level uses, with no copy, no second mapping and no change
 * to the arena. The cost is one slot per scattered page: guest RAM is
 * limited by KVM's slot count (KVM_CAP_NR_MEMSLOTS, 32764 here: just
 * under 128 MiB when no two frames are adjacent). */
#ifndef VSVM_KVM_KVM_H
#define VSVM_KVM_KVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm/kvm_abi.h"
#include "mem/mem.h"

struct kvm_vm;

/* Trapped MMIO: every GPA that is neither RAM nor the local APIC. Reads of
 * nothing return all-ones (the callee decides). Called on the vCPU thread. */
struct kvm_mmio_ops {
    void *ctx;
    uint64_t (*read)(void *ctx, uint64_t gpa, unsigned size);
    void (*write)(void *ctx, uint64_t gpa, unsigned size, uint64_t val);
};

struct kvm_vm_config {
    struct gpa_map *ram;            /* guest RAM at GPA 0 (its frames become KVM's) */
    struct kvm_mmio_ops mmio;       /* optional */
    /* Each console line (without its newline); NULL collects only. */
    void (*console)(void *ctx, const char *line);
    void *console_ctx;
    const char *name;               /* for reports ("guest0") */
};

enum kvm_end {
    KVM_END_NONE = 0,
    KVM_END_EXIT,           /* the guest wrote KVM_PORT_EXIT */
    KVM_END_SHUTDOWN,       /* KVM_EXIT_SHUTDOWN: triple fault */
    KVM_END_TIMEOUT,        /* the watchdog stopped it */
    KVM_END_STOPPED,        /* kvm_vm_stop */
    KVM_END_UNEXPECTED,     /* an exit the VMM does not serve */
    KVM_END_ERROR,          /* KVM_RUN failed */
};
const char *kvm_end_name(enum kvm_end e);

struct kvm_report {
    enum kvm_end end;
    uint32_t status;                /* KVM_END_EXIT: the guest's exit status */
    uint32_t exit_reason;           /* KVM's, for KVM_END_UNEXPECTED */
    char what[160];                 /* one line: what ended the run */
    /* the vCPU when it stopped */
    uint64_t rip, rsp, rflags, rax, rbx, rcx, rdx, rsi, rdi, rbp;
    uint64_t cr0, cr2, cr3, cr4, efer;
    uint16_t cs, ss;
    /* counters */
    uint64_t mmio_exits, io_exits, runs, run_ns;
};
/* Writes the report as lines (outcome, registers, CR2) into buf. */
void kvm_report_format(const struct kvm_report *r, char *buf, size_t n);

/* 0 when /dev/kvm can run a guest (opens, API 12, irqchip, MSI, a VM and a
 * vCPU can be created); -1 with the reason otherwise. Cached. */
int kvm_usable(char *why, size_t n);

/* The VM with its slots over cfg->ram, the irqchip and the vCPU. NULL and
 * a reason when KVM refuses (too many slots for a scattered RAM, ...). */
struct kvm_vm *kvm_vm_create(const struct kvm_vm_config *cfg, char *why, size_t n);
void kvm_vm_destroy(struct kvm_vm *vm);     /* stops it first; NULL ignored */

/* Clears the guest's RAM and the console, loads the guest image at KVM_IMAGE_GPA, writes the boot page tables and
 * the boot information (cmdline, optional DMAR table), and sets the vCPU:
 * long mode, paging, entry at the image's first byte. 0 or -1 with why (a
 * cmdline of KVM_CMDLINE_MAX bytes or more is refused, never cut). */
int kvm_vm_boot(struct kvm_vm *vm, const void *image, size_t len, const char *cmdline,
                const void *dmar, size_t dmar_len, char *why, size_t n);

/* Starts the vCPU thread (again after a run has ended and the VM was
 * booted anew: memory slots are set up once per VM); kvm_vm_wait waits at most timeout_ns for the run
 * to end and stops it (KVM_END_TIMEOUT) when it has not. kvm_vm_run does
 * both. The report is filled when the run has ended. */
int kvm_vm_start(struct kvm_vm *vm);
void kvm_vm_wait(struct kvm_vm *vm, uint64_t timeout_ns, struct kvm_report *r);
int kvm_vm_run(struct kvm_vm *vm, uint64_t timeout_ns, struct kvm_report *r);
/* Stops a running vCPU from any thread (KVM_END_STOPPED). */
void kvm_vm_stop(struct kvm_vm *vm);

/* A vMSI (address 0xFEE00000, data = vector) from any thread. 0 when KVM
 * took it (delivered, or pending until the guest enables its LAPIC), -1
 * otherwise. */
int kvm_vm_msi(struct kvm_vm *vm, uint32_t vector);

/* Console output so far (NUL-terminated; the last 64 KiB). */
const char *kvm_vm_console(const struct kvm_vm *vm);
unsigned kvm_vm_slots(const struct kvm_vm *vm);

/* The guest image linked into the VMM (build/CFG/guest/vsvm-guest.bin). */
extern const unsigned char kvm_guest_image[];
extern const unsigned char kvm_guest_image_end[];

#endif
