/* Process address spaces of the kernel (os-driver §2.4): x86-64 page tables
 * shared with devices through SVA, virtual memory areas, demand paging
 * (pages appear on first touch by the CPU or by a device's page request),
 * and munmap / mprotect followed by the IOMMU invalidations every device
 * bound to the address space needs. */
#ifndef VSVM_OS_MM_H
#define VSVM_OS_MM_H

#include "os/iommu.h"
#include "paging/pt.h"

#define OS_PROT_READ  1u
#define OS_PROT_WRITE 2u
#define OS_PROT_EXEC  4u
#define OS_MM_VMAS    64
#define OS_MM_BINDS   8
#define OS_MMAP_BASE  0x10000000ULL
#define OS_MMAP_TOP   0x7FF000000000ULL

struct os_vma {
    uint64_t start, end;      /* [start, end), page aligned; end == 0: unused */
    unsigned prot;
};

struct os_mm_bind {
    struct os_iommu *iommu;   /* NULL: unused */
    uint16_t bdf;
};

struct os_mm {
    struct os_kernel *k;
    struct pt pt;
    os_lock_t lock;           /* VMAs, page tables, bindings */
    struct os_vma vma[OS_MM_VMAS];
    uint64_t mmap_next;
    uint32_t pasid;           /* 0 until the first bind (Linux mm->pasid) */
    struct os_mm_bind bind[OS_MM_BINDS];
    uint64_t faults_cpu, faults_dev, pages;
    bool dead;                /* exiting: device faults are refused */
    /* Demand faults of an address space whose owner keeps its own memory
     * map instead of the VMAs here (the KVM guest kernel's ring-3
     * processes, guest/kernel/svm.c, sharing SVA binds with this code's
     * own address spaces): os_mm_fault hands every fault to it. NULL: the
     * VMAs. */
    int (*fault)(struct os_mm *mm, uint64_t va, unsigned access, bool device);
};

int os_mm_init(struct os_mm *mm, struct os_kernel *k, int levels);
/* Unmaps everything (with invalidations) and frees pages and tables.
 * Bindings must have been removed (os_sva_unbind) first. */
void os_mm_destroy(struct os_mm *mm);

/* Reserves len bytes of address space with prot (no pages yet); *va out. */
int os_mmap(struct os_mm *mm, uint64_t len, unsigned prot, uint64_t *va);
/* Maps a fixed range (MAP_FIXED without replacing: -EEXIST on overlap). */
int os_mmap_fixed(struct os_mm *mm, uint64_t va, uint64_t len, unsigned prot);
int os_munmap(struct os_mm *mm, uint64_t va, uint64_t len);
/* mmap(MAP_FIXED) over an existing mapping: the old pages are unmapped
 * (with invalidations) and the new area appears under one hold of the mm
 * lock, so a fault in between sees one or the other, never a hole. */
int os_mmap_replace(struct os_mm *mm, uint64_t va, uint64_t len, unsigned prot);
int os_mprotect(struct os_mm *mm, uint64_t va, uint64_t len, unsigned prot);

/* Demand paging: resolves a fault at va for the given access (from the
 * CPU or a device). 0, or -EFAULT when no area allows the access. */
int os_mm_fault(struct os_mm *mm, uint64_t va, unsigned access, bool device);

/* The CPU's view of process memory for in-process programs: copies through
 * the page tables with the CPU's walk (A/D, user mode), taking demand
 * faults. 0 or -EFAULT (a segmentation fault). */
int os_mm_read(struct os_mm *mm, uint64_t va, void *buf, uint64_t len);
int os_mm_write(struct os_mm *mm, uint64_t va, const void *buf, uint64_t len);

/* Records / forgets a device bound to this address space (for flushes). */
int os_mm_add_bind(struct os_mm *mm, struct os_iommu *iommu, uint16_t bdf);
void os_mm_del_bind(struct os_mm *mm, struct os_iommu *iommu, uint16_t bdf);
bool os_mm_is_bound(struct os_mm *mm, struct os_iommu *iommu, uint16_t bdf);

/* A phys_view over the kernel's physical memory (for the page tables). */
struct phys_view os_phys_view(struct os_kernel *k);

#endif
