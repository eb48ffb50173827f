/* Physical pages, per-process page tables and regions, demand paging,
 * mmap / munmap / mprotect. The kernel half (PML4[256..511]) of every
 * process is the VMM's boot mapping; the lower half is the process's. */
#include "kernel.h"

struct proc *current;

/* ---- physical pages ---------------------------------------------------- */

static uint64_t bump, bump_end, free_list, nfree;

void pmem_init(uint64_t start, uint64_t end)
{
    bump = start, bump_end = end;
}

uint64_t pmem_free_pages(void) { return nfree + (bump_end - bump) / PAGE; }

/* Fresh RAM is zero (the VMM's frames); freed pages were zeroed by the VMM
 * (one exit instead of thousands of slow ring-0 stores). */
uint64_t page_alloc(void)
{
    if (free_list) {
        uint64_t pa = free_list;
        free_list = *(uint64_t *)phys(pa);
        *(uint64_t *)phys(pa) = 0;
        nfree--;
        return pa;
    }
    if (bump >= bump_end)
        return 0;
    uint64_t pa = bump;
    bump += PAGE;
    return pa;
}

/* n contiguous zeroed pages aligned to their size rounded up to a power of
 * two (queues); the pages skipped for alignment go to the free list. */
uint64_t pages_alloc_contig(unsigned n)
{
    uint64_t size = PAGE;
    while (size < PAGE * n)
        size <<= 1;
    uint64_t at = (bump + size - 1) & ~(size - 1);
    if (!n || at + size > bump_end)
        return 0;
    for (; bump < at; bump += PAGE) {       /* fresh pages: already zero */
        *(uint64_t *)phys(bump) = free_list;
        free_list = bump;
        nfree++;
    }
    bump = at + size;
    return at;
}

void page_free(uint64_t pa)
{
    outl(KVM_PORT_ZERO, (uint32_t)(pa >> 12));
    *(uint64_t *)phys(pa) = free_list;
    free_list = pa;
    nfree++;
}

/* ---- page tables ------------------------------------------------------- */

/* The PTE of va (4 KiB), creating tables when create; NULL otherwise. */
static uint64_t *pte_of(uint64_t pml4, uint64_t va, bool create)
{
    uint64_t table = pml4;
    for (int shift = 39; shift > 12; shift -= 9) {
        uint64_t *e = (uint64_t *)phys(table) + ((va >> shift) & 511);
        if (!(*e & PTE_P)) {
            if (!create)
                return NULL;
            uint64_t pa = page_alloc();
            if (!pa)
                return NULL;
            *e = pa | PTE_P | PTE_W | PTE_U;
        }
        table = *e & PTE_ADDR;
    }
    return (uint64_t *)phys(table) + ((va >> 12) & 511);
}

static uint64_t pte_flags(unsigned prot)
{
    return PTE_P | PTE_U | (prot & KVM_PROT_WRITE ? PTE_W : 0) |
           (prot & KVM_PROT_EXEC ? 0 : PTE_NX);
}

static void free_tables(uint64_t table, int level)
{
    uint64_t *e = phys(table);
    for (unsigned i = 0; i < (level == 4 ? 256u : 512u); i++)
        if (level > 1 && (e[i] & PTE_P))
            free_tables(e[i] & PTE_ADDR, level - 1);
    page_free(table);
}

/* ---- regions ----------------------------------------------------------- */

static struct region *region_of(struct proc *p, uint64_t va)
{
    for (unsigned i = 0; i < MAX_REGIONS; i++)
        if (p->reg[i].end && va >= p->reg[i].start && va < p->reg[i].end)
            return &p->reg[i];
    return NULL;
}

static struct region *region_new(struct proc *p)
{
    for (unsigned i = 0; i < MAX_REGIONS; i++)
        if (!p->reg[i].end)
            return &p->reg[i];
    return NULL;
}

/* Splits the region holding va so that one starts at va. */
static int split_at(struct proc *p, uint64_t va)
{
    struct region *r = region_of(p, va);
    if (!r || r->start == va)
        return 0;
    struct region *n = region_new(p);
    if (!n)
        return -1;
    *n = *r;
    n->start = va;
    if (r->kind == R_IMAGE) {
        uint64_t d = va - r->start;
        n->image_pa += d;
        n->image_len = r->image_len > d ? r->image_len - d : 0;
    }
    r->end = va;
    return 0;
}

static int add_region(struct proc *p, uint64_t start, uint64_t end, unsigned prot,
                      enum region_kind kind, uint64_t image_pa, uint64_t image_len, bool shared)
{
    struct region *r = region_new(p);
    if (!r)
        return -1;
    *r = (struct region){ start, end, prot, kind, image_pa, image_len, shared };
    return 0;
}

/* ---- processes --------------------------------------------------------- */

extern char __utext_start[], __utext_end[], __udata_start[], __udata_end[], __ubss_end[];
extern char __user_lma[];

int proc_create(struct proc *p, const char *name, uint64_t entry)
{
    memset(p, 0, sizeof(*p));
    p->name = name;
    if (!(p->pml4 = page_alloc()))
        return -1;
    uint64_t *k = phys(KVM_PT_GPA), *u = phys(p->pml4);
    for (unsigned i = 256; i < 512; i++)
        u[i] = k[i];
    uint64_t lma = (uint64_t)(uintptr_t)__user_lma;
    uint64_t ts = (uint64_t)(uintptr_t)__utext_start, te = (uint64_t)(uintptr_t)__utext_end;
    uint64_t ds = (uint64_t)(uintptr_t)__udata_start, de = (uint64_t)(uintptr_t)__udata_end;
    uint64_t be = (uint64_t)(uintptr_t)__ubss_end;
    if (add_region(p, ts, te, KVM_PROT_READ | KVM_PROT_EXEC, R_IMAGE, lma, te - ts, true) ||
        add_region(p, ds, be, KVM_PROT_READ | KVM_PROT_WRITE, R_IMAGE, lma + (ds - ts),
                   de - ds, false) ||
        add_region(p, USTACK_TOP - USTACK_SIZE, USTACK_TOP, KVM_PROT_READ | KVM_PROT_WRITE,
                   R_ANON, 0, 0, false))
        return -1;
    p->mmap_next = MMAP_BASE;
    p->tf = (struct trapframe){ .rip = entry, .cs = UCODE_SEL, .rflags = 0x202,
                                .rsp = USTACK_TOP - 8, .ss = UDATA_SEL };
    svm_proc_init(p);
    return 0;
}

/* Clears the PTEs of [start, end), then flushes the bound devices'
 * translations of the pages that were present, and only then frees their
 * frames: a device must not write a frame that is back in the free list
 * (the device-TLB invalidation waits for its accesses in flight). */
static void unmap_range(struct proc *p, uint64_t start, uint64_t end, bool shared)
{
    enum { BATCH = 64 };
    uint64_t frames[BATCH], lo = 0, hi = 0;
    unsigned n = 0;
    for (uint64_t va = start; va < end; va += PAGE) {
        uint64_t *pte = pte_of(p->pml4, va, false);
        if (!pte || !(*pte & PTE_P))
            continue;
        uint64_t pa = *pte & PTE_ADDR;
        *pte = 0;
        invlpg(va);
        if (!hi)
            lo = va;
        hi = va + PAGE;
        if (!shared)
            frames[n++] = pa;
        if (n == BATCH || va + PAGE >= end) {
            svm_flush(p, lo, (hi - lo) / PAGE);
            while (n)
                page_free(frames[--n]);
            hi = 0;
        }
    }
    if (hi)
        svm_flush(p, lo, (hi - lo) / PAGE);
    while (n)
        page_free(frames[--n]);
}

void proc_destroy(struct proc *p)
{
    svm_proc_exit(p);
    for (unsigned i = 0; i < MAX_REGIONS; i++)
        if (p->reg[i].end)
            unmap_range(p, p->reg[i].start, p->reg[i].end, p->reg[i].shared);
    free_tables(p->pml4, 4);
    p->pml4 = 0;
}

int proc_fault(struct proc *p, uint64_t va, uint64_t err)
{
    struct region *r = region_of(p, va);
    bool write = err & 2, fetch = err & 16;
    if (!r || (write && !(r->prot & KVM_PROT_WRITE)) || (fetch && !(r->prot & KVM_PROT_EXEC)) ||
        !(r->prot & KVM_PROT_READ))
        return -1;
    uint64_t page = va & ~(PAGE - 1);
    uint64_t *pte = pte_of(p->pml4, page, true);
    if (!pte)
        return -1;
    if (*pte & PTE_P) {         /* another path mapped it (or a stale TLB entry) */
        if (write && !(*pte & PTE_W))
            return -1;
        return invlpg(page), 0;
    }
    uint64_t pa;
    if (r->kind == R_IMAGE && r->shared) {
        pa = r->image_pa + (page - r->start);
    } else {
        if (!(pa = page_alloc()))
            return -1;
        uint64_t off = page - r->start;
        if (r->kind == R_IMAGE && off < r->image_len) {
            uint64_t n = r->image_len - off < PAGE ? r->image_len - off : PAGE;
            memcpy(phys(pa), phys(r->image_pa + off), n);
        }
    }
    *pte = pa | pte_flags(r->prot);
    /* needed here although x86 does not cache not-present entries: KVM's
     * shadow MMU (kvm-notes.md) syncs the new entry on invlpg */
    invlpg(page);
    return 1;
}

int user_prepare(struct proc *p, uint64_t va, uint64_t len, bool write)
{
    if (va >= USER_TOP || len > USER_TOP - va)
        return -1;
    for (uint64_t pg = va & ~(PAGE - 1); pg < va + len; pg += PAGE) {
        uint64_t *pte = pte_of(p->pml4, pg, false);
        if (pte && (*pte & PTE_P) && (*pte & PTE_U) && (!write || (*pte & PTE_W)))
            continue;
        if (pte && (*pte & PTE_P))
            return -1;          /* present but read-only */
        if (proc_fault(p, pg, (write ? 2 : 0) | 4) < 0)
            return -1;
    }
    return 0;
}

static bool range_ok(uint64_t va, uint64_t len)
{
    return !(va & (PAGE - 1)) && len && va < USER_TOP && len <= USER_TOP - va;
}

long proc_mmap(struct proc *p, uint64_t hint, uint64_t len, unsigned prot)
{
    (void)hint;
    len = (len + PAGE - 1) & ~(PAGE - 1);
    if (!len || len > (1ULL << 40) || prot & ~7u)
        return -KVM_EINVAL;
    uint64_t va = p->mmap_next;
    if (add_region(p, va, va + len, prot, R_ANON, 0, 0, false))
        return -KVM_ENOMEM;
    p->mmap_next = va + len + PAGE;     /* a guard page between mappings */
    return (long)va;
}

long proc_munmap(struct proc *p, uint64_t va, uint64_t len)
{
    len = (len + PAGE - 1) & ~(PAGE - 1);
    if (!range_ok(va, len))
        return -KVM_EINVAL;
    if (split_at(p, va) || split_at(p, va + len))
        return -KVM_ENOMEM;
    for (unsigned i = 0; i < MAX_REGIONS; i++) {
        struct region *r = &p->reg[i];
        if (r->end && r->start >= va && r->end <= va + len) {
            unmap_range(p, r->start, r->end, r->shared);
            r->end = 0;
        }
    }
    return 0;
}

long proc_mprotect(struct proc *p, uint64_t va, uint64_t len, unsigned prot)
{
    len = (len + PAGE - 1) & ~(PAGE - 1);
    if (!range_ok(va, len) || prot & ~7u)
        return -KVM_EINVAL;
    for (uint64_t a = va; a < va + len; a += PAGE)
        if (!region_of(p, a))
            return -KVM_ENOMEM;
    if (split_at(p, va) || split_at(p, va + len))
        return -KVM_ENOMEM;
    for (unsigned i = 0; i < MAX_REGIONS; i++) {
        struct region *r = &p->reg[i];
        if (!r->end || r->start < va || r->end > va + len)
            continue;
        if (r->shared && (prot & KVM_PROT_WRITE))
            return -KVM_EINVAL;     /* the program's text stays read-only */
        r->prot = prot;
        for (uint64_t a = r->start; a < r->end; a += PAGE) {
            uint64_t *pte = pte_of(p->pml4, a, false);
            if (!pte || !(*pte & PTE_P))
                continue;
            if (!(prot & KVM_PROT_READ)) {      /* PROT_NONE: drop the mapping */
                uint64_t pa = *pte & PTE_ADDR;
                *pte = 0;
                invlpg(a);
                if (!r->shared) {
                    /* keep the content: PROT_NONE pages are rare; simplest is to keep the
                     * page mapped supervisor-only */
                    *pte = pa | PTE_P | PTE_NX;
                }
                continue;
            }
            *pte = (*pte & PTE_ADDR) | pte_flags(prot);
            invlpg(a);
        }
        svm_flush(p, r->start, (r->end - r->start) / PAGE);
    }
    return 0;
}

/* Merges r with the anonymous regions right before and after it of the
 * same protection, so that remapping pages one by one does not use up the
 * region table. */
static void merge_around(struct proc *p, struct region *r)
{
    for (unsigned i = 0; i < MAX_REGIONS; i++) {
        struct region *o = &p->reg[i];
        if (o == r || !o->end || o->kind != R_ANON || o->prot != r->prot || o->shared)
            continue;
        if (o->end == r->start)
            r->start = o->start, o->end = 0;
        else if (o->start == r->end)
            r->end = o->end, o->end = 0;
    }
}

long proc_mmap_fixed(struct proc *p, uint64_t va, uint64_t len, unsigned prot)
{
    len = (len + PAGE - 1) & ~(PAGE - 1);
    if (!range_ok(va, len) || prot & ~7u)
        return -KVM_EINVAL;
    long rc = proc_munmap(p, va, len);
    if (rc)
        return rc;
    struct region *r = region_new(p);
    if (!r)
        return -KVM_ENOMEM;
    *r = (struct region){ va, va + len, prot, R_ANON, 0, 0, false };
    merge_around(p, r);
    return (long)va;
}
