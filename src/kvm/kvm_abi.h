/* The contract between the VMM's KVM backend (src/kvm) and the freestanding
 * guest kernel (guest/): guest physical layout, the boot page tables the VMM
 * builds, the boot information block, the VMM's I/O ports and the ring-3
 * call numbers. Freestanding: included by both sides. */
#ifndef VSVM_KVM_KVM_ABI_H
#define VSVM_KVM_KVM_ABI_H

#include <stdint.h>

/* ---- guest physical layout (GPA) ------------------------------------
 * [0x1000, 0x8000)   boot page tables (PML4, two PDPTs, four PDs)
 * [0x8000, 0x9000)   boot information (struct kvm_boot_info)
 * [0x9000, 0xA000)   firmware tables (the DMAR table)
 * [0x200000, ...)    the kernel image, loaded flat, entry at its first byte
 * 0xC0000000 ...     assigned device BAR0s (guest.h), trapped
 * 0xE0000000         PCI configuration space, ECAM (bus 0), trapped
 * 0xFEB00000         a scratch MMIO page for tests (KVM_TEST_MMIO_GPA), trapped
 * 0xFED90000         the virtual VT-d unit, trapped
 * 0xFEE00000         the local APIC (KVM's in-kernel irqchip) */
#define KVM_PT_GPA        0x1000ULL
#define KVM_BOOT_INFO_GPA 0x8000ULL
#define KVM_FW_GPA        0x9000ULL
#define KVM_FW_SIZE       0x1000ULL
#define KVM_IMAGE_GPA     0x200000ULL
#define KVM_ECAM_GPA      0xE0000000ULL
#define KVM_ECAM_SIZE     0x100000ULL     /* bus 0: 32 devices x 8 functions x 4 KiB */
#define KVM_LAPIC_GPA     0xFEE00000ULL
#define KVM_TEST_MMIO_GPA 0xFEB00000ULL
#define KVM_TEST_MSI_REG  0x10      /* in the test page: a write asks for an MSI, data = vector */

/* ---- virtual layout set up by the VMM --------------------------------
 * Physical [0, 4 GiB) is mapped twice with 2 MiB supervisor pages:
 * at KVM_DIRECT_MAP (PML4[256], the kernel's direct map, MMIO included) and
 * at KVM_KERNEL_BASE (PML4[511] PDPT[510], the first GiB: the kernel image,
 * linked for -mcmodel=kernel). The lower half (PML4[0..255]) is empty: it
 * belongs to ring-3 processes. */
#define KVM_DIRECT_MAP    0xFFFF800000000000ULL
#define KVM_KERNEL_BASE   0xFFFFFFFF80000000ULL
#define KVM_PHYS_MAPPED   0x100000000ULL

/* ---- boot information (at KVM_BOOT_INFO_GPA; RDI holds its direct-map
 * address at entry) ---------------------------------------------------- */
#define KVM_BOOT_MAGIC 0x7673766d626f6f74ULL   /* "vsvmboot" */
#define KVM_CMDLINE_MAX 1024    /* with the NUL; room for probe: with 16 targets and more */
struct kvm_boot_info {
    uint64_t magic;
    uint64_t ram_size;          /* RAM is [0, ram_size) */
    uint64_t image_end;         /* first GPA after the loaded image */
    uint64_t dmar_gpa, dmar_len;   /* ACPI DMAR table (0 when none) */
    uint64_t tsc_khz;           /* for timeouts; 0 when unknown */
    /* what to run, in order: ring-3 programs by name ("hello demo"), or the
     * kernel's own checks "mmio" (accesses to the test page) and "irq" (asks
     * the test page for an MSI and waits for it, 100 times), "irqbench"
     * (the same 1000 times), "mmiobench" (2000 reads of the test page),
     * "iommu" (the os layer's VT-d driver brings up the DMAR table's units),
     * "qibench" (after "iommu": 200 invalidation batches through its queue),
     * the kernel's own workloads after "iommu" (guest/kernel/kwl.c): "dma"
     * (the DMA API workload, for a unit with svm=off) and "probe:HEX,..."
     * (the isolation probe against those host physical addresses, with
     * KVM_PROBE_MARKER), and "dev=N" (the accelerator, in probe order,
     * that the workloads and programs after it use; 0 at boot) */
    char cmdline[KVM_CMDLINE_MAX];
};
_Static_assert(sizeof(struct kvm_boot_info) <= KVM_FW_GPA - KVM_BOOT_INFO_GPA,
               "the boot information fits its page");
#define KVM_PROBE_MARKER 0x5EC0BAD5u  /* what probe: stores (the in-process scenario's) */
#define KVM_PROBE_MAX    32           /* addresses one probe: word may name */

/* ---- VMM I/O ports (ring 0 only: port I/O from ring 3 #GPs here) ------ */
#define KVM_PORT_PUTS   0x0500  /* 32-bit write: GPA of a NUL-terminated line (< 4 KiB) */
#define KVM_PORT_EXIT   0x0504  /* 32-bit write: the guest stops, value = exit status */
#define KVM_PORT_ZERO   0x0508  /* 32-bit write: GPA >> 12 of a page the VMM zeroes */
#define KVM_PORT_PUTC   0x00E9  /* 8-bit write: one console character (debug) */
#define KVM_EXIT_PANIC  0xDEAD  /* exit status of a kernel panic */

/* ---- ring-3 calls: int3 through a DPL-3 gate; rax = number, arguments in
 * rdi, rsi, rdx, r10; result in rax (negative errno on failure), a second
 * and third result in rdx and rsi where said ------------------------------ */
enum kvm_call {
    KVM_CALL_EXIT = 0,          /* (status) */
    KVM_CALL_WRITE = 1,         /* (buf, len) -> len: console */
    KVM_CALL_MMAP = 2,          /* (hint, len, prot [| KVM_MAP_FIXED]) -> address */
    KVM_CALL_MUNMAP = 3,        /* (addr, len) */
    KVM_CALL_MPROTECT = 4,      /* (addr, len, prot) */
    /* device: the process's device index; its device i is the kernel's
     * accelerator N + i (probe order), N the dev=N in force at its creation */
    KVM_CALL_BIND = 5,          /* (device, compl_va) -> PASID; rdx = the context's last
                                   completed seqno (the next batch's END carries a higher one) */
    KVM_CALL_SUBMIT = 6,        /* (device, batch_va, seqno): the batch's END carries seqno */
    KVM_CALL_WAIT = 7,          /* (device, seqno, timeout_ms) -> 0, -KVM_EIO (rdx = ACCEL_ERR_*,
                                   rsi = faulting address) or -KVM_ETIMEDOUT */
    KVM_CALL_GETTIME = 8,       /* () -> TSC */
    KVM_CALL_STAT = 9,          /* (what) -> KVM_STAT_* of the calling process */
    KVM_CALL_HANG = 10,         /* (): never returns: the kernel spins with interrupts off
                                   (a kernel bug on purpose, guest/kernel/misbehave.c) */
    KVM_NR_CALLS
};
#define KVM_PROT_READ  1
#define KVM_PROT_WRITE 2
#define KVM_PROT_EXEC  4
#define KVM_MAP_FIXED  0x100    /* mmap: replace [hint, hint + len) (MAP_FIXED) */
#define KVM_STAT_DEV_FAULTS 0   /* device page faults served for the process */
#define KVM_STAT_CPU_FAULTS 1   /* CPU demand faults served */
#define KVM_MAX_ACCELS 4        /* accelerators the guest kernel drives */

#define KVM_ENOSYS 38
#define KVM_EINVAL 22
#define KVM_ENOMEM 12
#define KVM_EFAULT 14
#define KVM_ENODEV 19
#define KVM_EBUSY  16
#define KVM_EIO    5
#define KVM_ETIMEDOUT 110

/* Exit status of a process killed by the kernel (fault it cannot serve). */
#define KVM_STATUS_SEGV 139

#endif
