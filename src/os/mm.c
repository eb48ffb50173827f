/* Process address spaces (see mm.h). Lock order: mm->lock, then the
 * IOMMU's queue lock (flushes); the page-request handler takes mm->lock
 * from inside its own lock, so nothing here drains page requests while
 * holding mm->lock. */
#include "os/mm.h"

#define EFAULT_ 14
#define ENOMEM_ 12
#define EINVAL_ 22
#define EEXIST_ 17
#define CHUNK   512u   /* pages unmapped, flushed and freed at a time */

static int v_rd(void *c, uint64_t pa, uint64_t *v)
{
    struct os_kernel *k = c;
    return k->ops.phys_read(k->ops.ctx, pa, v, 8);
}
static int v_wr(void *c, uint64_t pa, uint64_t v)
{
    struct os_kernel *k = c;
    return k->ops.phys_write(k->ops.ctx, pa, &v, 8);
}
static int v_cx(void *c, uint64_t pa, uint64_t e, uint64_t d, bool *ok)
{
    struct os_kernel *k = c;
    return k->ops.phys_cmpxchg64(k->ops.ctx, pa, e, d, ok);
}
static uint64_t v_alloc(void *c) { struct os_kernel *k = c; return k->ops.page_alloc(k->ops.ctx); }
static void v_free(void *c, uint64_t pa) { struct os_kernel *k = c; k->ops.page_free(k->ops.ctx, pa); }

struct phys_view os_phys_view(struct os_kernel *k)
{
    return (struct phys_view){ k, v_rd, v_wr, v_cx, v_alloc, v_free };
}

int os_mm_init(struct os_mm *mm, struct os_kernel *k, int levels)
{
    __builtin_memset(mm, 0, sizeof(*mm));
    mm->k = k;
    mm->mmap_next = OS_MMAP_BASE;
    return pt_init(&mm->pt, os_phys_view(k), levels);
}

static struct os_vma *vma_find(struct os_mm *mm, uint64_t va)
{
    for (unsigned i = 0; i < OS_MM_VMAS; i++)
        if (mm->vma[i].end && va >= mm->vma[i].start && va < mm->vma[i].end)
            return &mm->vma[i];
    return NULL;
}

static bool range_free(struct os_mm *mm, uint64_t start, uint64_t end)
{
    for (unsigned i = 0; i < OS_MM_VMAS; i++)
        if (mm->vma[i].end && start < mm->vma[i].end && mm->vma[i].start < end)
            return false;
    return true;
}

/* Adjacent areas with the same protection are one area (as Linux merges
 * VMAs), so munmap/mmap churn does not exhaust the table. */
static void vma_merge(struct os_mm *mm)
{
    for (bool again = true; again;) {
        again = false;
        for (unsigned i = 0; i < OS_MM_VMAS; i++)
            for (unsigned j = 0; mm->vma[i].end && j < OS_MM_VMAS; j++)
                if (j != i && mm->vma[j].end && mm->vma[j].start == mm->vma[i].end &&
                    mm->vma[j].prot == mm->vma[i].prot) {
                    mm->vma[i].end = mm->vma[j].end;
                    mm->vma[j].end = 0;
                    again = true;
                }
    }
}

static int vma_add(struct os_mm *mm, uint64_t start, uint64_t end, unsigned prot)
{
    for (unsigned i = 0; i < OS_MM_VMAS; i++)
        if (!mm->vma[i].end) {
            mm->vma[i] = (struct os_vma){ start, end, prot };
            return 0;
        }
    return -ENOMEM_;
}

/* Splits areas so that none straddles `at`. */
static int vma_split(struct os_mm *mm, uint64_t at)
{
    struct os_vma *v = vma_find(mm, at);
    if (!v || v->start == at)
        return 0;
    uint64_t end = v->end;
    v->end = at;
    int rc = vma_add(mm, at, end, v->prot);
    if (rc)
        v->end = end;
    return rc;
}

static bool range_ok(uint64_t va, uint64_t len)
{
    return len && !(va & 0xFFF) && va < OS_MMAP_TOP && len <= OS_MMAP_TOP - va;
}

int os_mmap_fixed(struct os_mm *mm, uint64_t va, uint64_t len, unsigned prot)
{
    len = (len + 0xFFF) & ~0xFFFULL;
    if (!range_ok(va, len) || prot > 7)
        return -EINVAL_;
    os_lock(mm->k, &mm->lock);
    int rc = range_free(mm, va, va + len) ? vma_add(mm, va, va + len, prot) : -EEXIST_;
    if (!rc)
        vma_merge(mm);
    os_unlock(&mm->lock);
    return rc;
}

int os_mmap(struct os_mm *mm, uint64_t len, unsigned prot, uint64_t *va)
{
    len = (len + 0xFFF) & ~0xFFFULL;
    if (!len || len > OS_MMAP_TOP - OS_MMAP_BASE || prot > 7)
        return -EINVAL_;
    os_lock(mm->k, &mm->lock);
    uint64_t at = mm->mmap_next;
    /* A guard page between areas: an overrun faults instead of corrupting. */
    while (at + len < OS_MMAP_TOP && !range_free(mm, at, at + len + 0x1000))
        at += 0x100000;
    int rc = at + len < OS_MMAP_TOP ? vma_add(mm, at, at + len, prot) : -ENOMEM_;
    if (!rc) {
        *va = at;
        mm->mmap_next = at + len + 0x1000;
    }
    os_unlock(&mm->lock);
    return rc;
}

/* Every device bound to the address space forgets [va, va + n pages). */
static void flush_devices(struct os_mm *mm, uint64_t va, uint64_t n)
{
    for (unsigned i = 0; i < OS_MM_BINDS; i++)
        if (mm->bind[i].iommu)
            os_iommu_flush_pasid_range(mm->bind[i].iommu, mm->bind[i].bdf, mm->pasid, va, n);
}

/* Unmaps pages of [va, end), CHUNK at a time: clear the PTEs, invalidate
 * the devices, only then free the frames (no device write can land in a
 * freed page: the device TLB invalidation waits for in-flight accesses). */
static void unmap_pages(struct os_mm *mm, uint64_t va, uint64_t end)
{
    uint64_t frames[CHUNK];
    while (va < end) {
        uint64_t start = va;
        unsigned n = 0;
        for (; va < end && n < CHUNK; va += 0x1000) {
            uint64_t pte;
            enum pt_page_size sz;
            if (pt_lookup(&mm->pt, va, &pte, &sz) || sz != PT_4K)
                continue;
            pt_unmap(&mm->pt, va);
            frames[n++] = pte & PTE_ADDR_MASK;
        }
        if (!n)
            continue;
        flush_devices(mm, start, (va - start) >> 12);
        for (unsigned i = 0; i < n; i++)
            mm->k->ops.page_free(mm->k->ops.ctx, frames[i]);
        mm->pages -= n;
    }
}

/* munmap, then with prot <= 7 a new area in its place, under one hold of
 * the mm lock (prot > 7: nothing new). */
static int unmap_and_map(struct os_mm *mm, uint64_t va, uint64_t len, unsigned prot)
{
    len = (len + 0xFFF) & ~0xFFFULL;
    if (!range_ok(va, len))
        return -EINVAL_;
    os_lock(mm->k, &mm->lock);
    int rc = vma_split(mm, va);
    rc = rc ? rc : vma_split(mm, va + len);
    if (!rc) {
        for (unsigned i = 0; i < OS_MM_VMAS; i++)
            if (mm->vma[i].end && mm->vma[i].start >= va && mm->vma[i].end <= va + len)
                mm->vma[i].end = 0;
        unmap_pages(mm, va, va + len);
        if (prot <= 7)
            rc = vma_add(mm, va, va + len, prot);
        vma_merge(mm);
    }
    os_unlock(&mm->lock);
    return rc;
}

int os_munmap(struct os_mm *mm, uint64_t va, uint64_t len)
{
    return unmap_and_map(mm, va, len, ~0u);
}

int os_mmap_replace(struct os_mm *mm, uint64_t va, uint64_t len, unsigned prot)
{
    return prot > 7 ? -EINVAL_ : unmap_and_map(mm, va, len, prot);
}

static uint64_t pte_flags(unsigned prot)
{
    return PTE_US | (prot & OS_PROT_WRITE ? PTE_RW : 0) | (prot & OS_PROT_EXEC ? 0 : PTE_XD);
}

int os_mprotect(struct os_mm *mm, uint64_t va, uint64_t len, unsigned prot)
{
    len = (len + 0xFFF) & ~0xFFFULL;
    if (!range_ok(va, len) || prot > 7)
        return -EINVAL_;
    os_lock(mm->k, &mm->lock);
    int rc = vma_split(mm, va);
    rc = rc ? rc : vma_split(mm, va + len);
    for (uint64_t a = va; !rc && a < va + len; a += 0x1000)
        if (!vma_find(mm, a))
            rc = -ENOMEM_;   /* Linux: a hole in the range */
    for (unsigned i = 0; !rc && i < OS_MM_VMAS; i++)
        if (mm->vma[i].end && mm->vma[i].start >= va && mm->vma[i].end <= va + len)
            mm->vma[i].prot = prot;
    if (!rc)
        vma_merge(mm);
    if (!rc && !prot) {
        unmap_pages(mm, va, va + len);   /* PROT_NONE: no page stays reachable */
    } else if (!rc) {
        for (uint64_t a = va; a < va + len; a += 0x1000) {
            uint64_t pte;
            enum pt_page_size sz;
            if (!pt_lookup(&mm->pt, a, &pte, &sz) && sz == PT_4K)
                pt_protect(&mm->pt, a, (pte & (PTE_A | PTE_D)) | pte_flags(prot));
        }
        flush_devices(mm, va, len >> 12);
    }
    os_unlock(&mm->lock);
    return rc;
}

int os_mm_fault(struct os_mm *mm, uint64_t va, unsigned access, bool device)
{
    if (mm->fault)
        return mm->fault(mm, va, access, device);
    os_lock(mm->k, &mm->lock);
    struct os_vma *v = mm->dead ? NULL : vma_find(mm, va);
    int rc = 0;
    if (!v || (access & ~v->prot) || !v->prot) {
        rc = -EFAULT_;
    } else {
        uint64_t pte, page = va & ~0xFFFULL;
        enum pt_page_size sz;
        if (pt_lookup(&mm->pt, page, &pte, &sz)) {
            uint64_t pa = mm->k->ops.page_alloc(mm->k->ops.ctx);
            rc = pa == OS_NO_PAGE ? -ENOMEM_ : pt_map(&mm->pt, page, pa, PT_4K, pte_flags(v->prot));
            if (!rc)
                mm->pages++;
        } else if ((access & OS_PROT_WRITE) && !(pte & PTE_RW)) {
            rc = -EFAULT_;
        }
        if (!rc)
            device ? mm->faults_dev++ : mm->faults_cpu++;
    }
    os_unlock(&mm->lock);
    return rc;
}

static int cpu_access(struct os_mm *mm, uint64_t va, void *buf, uint64_t len, bool write)
{
    struct pt_access acc = { .write = write, .user = true, .wp = true, .nxe = true,
                             .gbpages = true, .set_ad = true };
    for (uint64_t done = 0; done < len;) {
        struct pt_walk_result r;
        uint64_t a = va + done, chunk = 0x1000 - (a & 0xFFF);
        chunk = chunk < len - done ? chunk : len - done;
        pt_walk(&mm->pt, a, &acc, &r);
        if (!r.ok && (os_mm_fault(mm, a, write ? OS_PROT_WRITE : OS_PROT_READ, false) ||
                      (pt_walk(&mm->pt, a, &acc, &r), !r.ok)))
            return -EFAULT_;
        int rc = write ? mm->k->ops.phys_write(mm->k->ops.ctx, r.pa, (const uint8_t *)buf + done, chunk)
                       : mm->k->ops.phys_read(mm->k->ops.ctx, r.pa, (uint8_t *)buf + done, chunk);
        if (rc)
            return -EFAULT_;
        done += chunk;
    }
    return 0;
}

int os_mm_read(struct os_mm *mm, uint64_t va, void *buf, uint64_t len)
{
    return cpu_access(mm, va, buf, len, false);
}

int os_mm_write(struct os_mm *mm, uint64_t va, const void *buf, uint64_t len)
{
    return cpu_access(mm, va, (void *)(uintptr_t)buf, len, true);
}

int os_mm_add_bind(struct os_mm *mm, struct os_iommu *iommu, uint16_t bdf)
{
    int rc = -ENOMEM_;
    os_lock(mm->k, &mm->lock);
    for (unsigned i = 0; i < OS_MM_BINDS; i++)
        if (!mm->bind[i].iommu) {
            mm->bind[i] = (struct os_mm_bind){ iommu, bdf };
            rc = 0;
            break;
        }
    os_unlock(&mm->lock);
    return rc;
}

void os_mm_del_bind(struct os_mm *mm, struct os_iommu *iommu, uint16_t bdf)
{
    os_lock(mm->k, &mm->lock);
    for (unsigned i = 0; i < OS_MM_BINDS; i++)
        if (mm->bind[i].iommu == iommu && mm->bind[i].bdf == bdf)
            mm->bind[i].iommu = NULL;
    os_unlock(&mm->lock);
}

bool os_mm_is_bound(struct os_mm *mm, struct os_iommu *iommu, uint16_t bdf)
{
    bool bound = false;
    os_lock(mm->k, &mm->lock);
    for (unsigned i = 0; i < OS_MM_BINDS; i++)
        bound |= mm->bind[i].iommu == iommu && mm->bind[i].bdf == bdf;
    os_unlock(&mm->lock);
    return bound;
}

void os_mm_destroy(struct os_mm *mm)
{
    os_lock(mm->k, &mm->lock);
    mm->dead = true;
    for (unsigned i = 0; i < OS_MM_VMAS; i++)
        if (mm->vma[i].end) {
            unmap_pages(mm, mm->vma[i].start, mm->vma[i].end);
            mm->vma[i].end = 0;
        }
    os_unlock(&mm->lock);
    pt_destroy(&mm->pt);
}
