/* x86-64 page tables (Intel SDM vol. 3 §4.5): build and edit 4- and 5-level
 * tables with 4 KiB, 2 MiB and 1 GiB pages, and walk them with the CPU's
 * semantics. The tables live in a phys_view (HPA for host processes, GPA for
 * guest processes); the IOMMU's first-level walker reads the same tables. */
#ifndef VSVM_PAGING_PT_H
#define VSVM_PAGING_PT_H

#include <stdbool.h>
#include <stdint.h>
#include "mem/mem.h"

/* PTE bits (SDM Table 4-19 and neighbours). */
#define PTE_P    (1ULL << 0)
#define PTE_RW   (1ULL << 1)
#define PTE_US   (1ULL << 2)
#define PTE_PWT  (1ULL << 3)
#define PTE_PCD  (1ULL << 4)
#define PTE_A    (1ULL << 5)
#define PTE_D    (1ULL << 6)
#define PTE_PS   (1ULL << 7)
#define PTE_G    (1ULL << 8)
#define PTE_XD   (1ULL << 63)
#define PTE_ADDR_MASK 0x000FFFFFFFFFF000ULL   /* bits 51:12 */

enum pt_page_size { PT_4K = 12, PT_2M = 21, PT_1G = 30 };

struct pt {
    struct phys_view mem;
    uint64_t root;      /* physical address of PML4 or PML5 */
    int levels;         /* 4 or 5 */
};

/* Allocates an empty root table. Returns 0, -EINVAL (levels not 4 or 5) or
 * -ENOMEM.
 *
 * Edits (map/unmap/protect/set_raw/destroy) of one hierarchy are not atomic
 * with respect to each other: callers serialise them, as a kernel holds its
 * mm lock. Walks may run concurrently with edits and with each other. */
int pt_init(struct pt *pt, struct phys_view mem, int levels);
/* Frees every table page (not the mapped frames), never following a large-
 * page leaf; bounded on malformed (cyclic) tables. */
void pt_destroy(struct pt *pt);

/* Maps [va, va + 2^size) -> pa with `flags` (P is implied; RW, US, XD, PWT,
 * PCD, G, A, D taken as given). va and pa must be aligned to the page size;
 * non-leaf entries are created with P|RW|US (permissions are restricted at
 * the leaf). Returns 0, -EINVAL (misaligned, non-canonical, size not
 * supported, pa above bit 51, or flags outside P RW US PWT PCD A D G XD and
 * the software-available bits 11:9 and 62:52), -EEXIST (something already
 * mapped there, including a larger page covering it; tables that map nothing,
 * as pt_unmap leaves them, are replaced by a large page), -ENOMEM, or -EFAULT
 * (a table lies outside memory). */
int pt_map(struct pt *pt, uint64_t va, uint64_t pa, enum pt_page_size size, uint64_t flags);
/* Removes the leaf mapping covering va exactly (a 2 MiB page must be
 * unmapped with its own base). Returns 0 or -ENOENT. Empty tables are kept.
 * (Here and below, -EFAULT when a table lies outside memory.) */
int pt_unmap(struct pt *pt, uint64_t va);
/* Replaces the permission/attribute flags of the leaf covering va (any
 * address inside the page); the frame address and PS are kept. Flags as
 * for pt_map. Returns 0, -EINVAL or -ENOENT. */
int pt_protect(struct pt *pt, uint64_t va, uint64_t flags);
/* Reads the leaf entry covering va: *pte and *size; -ENOENT if not mapped. */
int pt_lookup(const struct pt *pt, uint64_t va, uint64_t *pte, enum pt_page_size *size);
/* Writes a raw entry at the given level (1 = PTE .. 5 = PML5E) for va,
 * creating intermediate tables as needed; for tests that need malformed
 * tables (reserved bits, self-references). Returns 0, -EINVAL (level not in
 * 1..levels), -EEXIST (a leaf above `level` covers va), -ENOMEM, -EFAULT. */
int pt_set_raw(struct pt *pt, uint64_t va, int level, uint64_t entry);

/* CPU walk (SDM §4.5, §4.6): access rights, A/D updates (atomic cmpxchg on
 * the entry, as the CPU does), reserved-bit checks with MAXPHYADDR 52 (or
 * the given value). */
struct pt_access {
    bool write, user, exec;     /* exec: instruction fetch (write ignored) */
    bool wp;        /* CR0.WP */
    bool nxe;       /* EFER.NXE */
    bool smep, smap;/* CR4.SMEP / SMAP (SMAP: supervisor data access to user page faults unless ac) */
    bool ac;        /* EFLAGS.AC for SMAP */
    bool gbpages;   /* 1 GiB pages allowed (CPUID pdpe1gb) */
    int maxphyaddr; /* 0 -> 52 */
    bool set_ad;    /* update A/D bits (true for a real CPU) */
};

/* #PF error code bits (SDM §4.7). */
#define PF_P    (1u << 0)
#define PF_W    (1u << 1)
#define PF_U    (1u << 2)
#define PF_RSVD (1u << 3)
#define PF_I    (1u << 4)

struct pt_walk_result {
    uint64_t pa;                 /* translated address (valid when ok) */
    enum pt_page_size size;
    uint64_t leaf;               /* leaf entry as read (after A/D update) */
    bool ok;
    uint32_t pf_error;           /* #PF error code when !ok */
    bool mem_error;              /* a table read fell outside memory */
    bool noncanonical;           /* va not canonical: #GP, not #PF; no walk */
};

/* A walk reads at most `levels` entries; A/D bits are set only when the
 * access succeeds. An entry changed under the A/D update restarts the walk
 * (a bounded number of times); if the entries keep changing, the walk
 * reports a spurious not-present fault. */
void pt_walk(const struct pt *pt, uint64_t va, const struct pt_access *acc,
             struct pt_walk_result *res);

/* Canonical-address check for 4- or 5-level paging. */
bool pt_canonical(uint64_t va, int levels);

#endif
