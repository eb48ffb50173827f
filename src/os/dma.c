/* DMA domains, IOVA allocation and map/unmap with Linux's invalidations
 * (see dma.h). */
#include "lib/hw_regs.h"
#include "os/dma.h"
#include "os/mm.h"

#define EINVAL_     22
#define ENOENT_     2
#define ENOSPC_     28
#define ENOMEM_     12
#define ENODEV_     19
#define EBUSY_      16
#define EOPNOTSUPP_ 95

#define PAGE        4096ULL
#define PA_LIMIT    (1ULL << 52)   /* paging entries hold address bits 51:12 */
#define IRQ_LO      0xFEE00000ULL

_Static_assert(OS_DMA_IOVA_BASE + OS_DMA_IOVA_PAGES * PAGE <= IRQ_LO,
               "the IOVA window stays below the interrupt range");
_Static_assert(OS_DMA_IOVA_BASE % (OS_DMA_IOVA_PAGES * PAGE) == 0,
               "size-aligned allocations in the window are size-aligned IOVAs");

/* ---- IOVA allocator ------------------------------------------------------ */
static bool used(const struct os_dma *d, uint64_t i)
{
    return d->used[i / 8] & (1u << (i % 8));
}

static void mark(struct os_dma *d, uint64_t first, uint64_t n, bool on)
{
    for (uint64_t i = first; i < first + n; i++)
        d->used[i / 8] = on ? (uint8_t)(d->used[i / 8] | 1u << (i % 8))
                            : (uint8_t)(d->used[i / 8] & ~(1u << (i % 8)));
}

/* Next-fit over size-aligned candidates: first those at or after the
 * cursor, then those before it. Bounded by the window. */
static int iova_alloc(struct os_dma *d, uint64_t pages, uint64_t *iova)
{
    uint64_t align = 1;
    while (align < pages)
        align <<= 1;
    if (!pages || align > d->window)
        return -ENOSPC_;
    uint64_t c = (d->next + align - 1) & ~(align - 1);
    bool wrapped = false;
    for (;;) {
        if (c + pages > d->window || (wrapped && c >= d->next)) {
            if (wrapped)
                return -ENOSPC_;
            wrapped = true, c = 0;
            continue;
        }
        uint64_t j = 0;
        while (j < pages && !used(d, c + j))
            j++;
        if (j == pages)
            break;
        c = (c + j + align) & ~(align - 1);   /* the next candidate past the used page */
    }
    mark(d, c, pages, true);
    d->next = c + pages < d->window ? c + pages : 0;
    *iova = OS_DMA_IOVA_BASE + c * PAGE;
    return 0;
}

static void iova_free(struct os_dma *d, uint64_t iova, uint64_t pages)
{
    mark(d, (iova - OS_DMA_IOVA_BASE) / PAGE, pages, false);
}

/* ---- paging entries and invalidation --------------------------------------- */
static int set_pte(struct os_dma *d, uint64_t iova, uint64_t pa, bool write)
{
    if (d->kind == OS_DMA_KIND_FL)   /* Linux's first-level DMA PTEs (os-driver §2.2) */
        return pt_map(&d->fl, iova, pa, PT_4K,
                      PTE_US | PTE_A | PTE_XD | (write ? PTE_RW | PTE_D : 0));
    return os_sl_map(d->k, &d->sl_root, d->levels, iova, pa, write);
}

static void clear_pte(struct os_dma *d, uint64_t iova)
{
    if (d->kind == OS_DMA_KIND_FL)
        pt_unmap(&d->fl, iova);
    else
        os_sl_unmap(d->k, d->sl_root, d->levels, iova);
}

/* Linux iommu_flush_iotlb_psi: page-selective over the smallest aligned
 * power-of-two block covering the range when it fits MAMV (and, for the
 * IOTLB descriptor, with CAP.PSI), else the whole domain / PASID; the
 * device TLB only on unmap (never on map, §2.3). */
static int flush(struct os_dma *d, uint64_t iova, uint64_t pages, bool unmap)
{
    struct os_iommu *m = d->m;
    uint64_t pfn = iova / PAGE;
    unsigned am = os_qi_cover_order(iova, pages);
    uint64_t base = (pfn >> am << am) * PAGE;
    bool psi = am <= HW_FV(CAP, MAMV, m->cap) &&
               (d->kind == OS_DMA_KIND_FL || HW_FV(CAP, PSI, m->cap));
    uint64_t q[2][4] = { { 0 } };
    unsigned n = 0;
    if (d->kind == OS_DMA_KIND_FL)
        os_qi_piotlb(q[n++], psi ? 3 : 2, d->did, 0, psi ? base : 0, psi ? am : 0, false);
    else
        os_qi_iotlb(q[n++], psi ? 3 : 2, d->did, psi ? base : 0, psi ? am : 0, false);
    if (unmap && d->ats)
        os_qi_devtlb(q[n++], d->bdf, d->ats_qdep, base, 1ULL << am);
    int rc = os_qi_submit(m, q, n);
    if (unmap)
        d->unmap_flushes++;
    else
        d->map_flushes++;
    if (rc)
        d->flush_errors++;
    return rc;
}

/* ---- attach / detach --------------------------------------------------------- */
/* Second-level paging levels from CAP.SAGAW: 4-level (48-bit) when
 * supported, then 5-level, then 3-level; 0 when none. */
static unsigned sl_levels(const struct os_iommu *m)
{
    unsigned sagaw = (unsigned)HW_FV(CAP, SAGAW, m->cap);
    return sagaw & 4 ? 4 : sagaw & 8 ? 5 : sagaw & 2 ? 3 : 0;
}

static uint64_t input_limit(const struct os_dma *d)
{
    unsigned width = d->kind == OS_DMA_KIND_FL ? 48 : 12 + 9 * d->levels;
    unsigned mgaw = (unsigned)HW_FV(CAP, MGAW, d->m->cap) + 1;
    if (d->kind != OS_DMA_KIND_FL && mgaw < width)
        width = mgaw;
    return 1ULL << width;
}

static void build_entry(const struct os_dma *d, uint64_t *e)
{
    struct os_iommu *m = d->m;
    unsigned aw = (d->kind == OS_DMA_KIND_FL ? 4 : d->levels) - 2;
    if (d->kind == OS_DMA_KIND_LEGACY) {
        HW_SET(CTX, TT, e, d->ats ? 1 : 0), HW_SET(CTX, AW, e, aw);
        HW_SET(CTX, SLPTPTR, e, d->sl_root >> 12), HW_SET(CTX, DID, e, d->did);
        HW_SET(CTX, P, e, 1);
        return;
    }
    HW_SET(PASID_PTE, DID, e, d->did), HW_SET(PASID_PTE, AW, e, aw);
    HW_SET(PASID_PTE, PWSNP, e, HW_FV(ECAP, SMPWCS, m->ecap));
    if (d->kind == OS_DMA_KIND_SL) {
        HW_SET(PASID_PTE, PGTT, e, 2), HW_SET(PASID_PTE, SLPTPTR, e, d->sl_root >> 12);
    } else {
        HW_SET(PASID_PTE, PGTT, e, 1), HW_SET(PASID_PTE, FLPTPTR, e, d->fl.root >> 12);
        HW_SET(PASID_PTE, NXE, e, 1);
    }
    HW_SET(PASID_PTE, P, e, 1);
}

static int install(struct os_dma *d, const uint64_t *e, uint64_t *old)
{
    return d->kind == OS_DMA_KIND_LEGACY ? os_iommu_replace_ctx(d->m, d->bdf, e, old)
                                         : os_iommu_replace_pasid(d->m, d->bdf, 0, e, old);
}

static void free_tables(struct os_dma *d)
{
    if (d->kind == OS_DMA_KIND_FL)
        pt_destroy(&d->fl);
    else
        os_sl_free(d->k, d->sl_root, d->levels);
    d->sl_root = 0;
}

int os_dma_attach(struct os_dma *d, struct os_iommu *m, uint16_t bdf, unsigned flags,
                  uint64_t iova_pages)
{
    if (!d || !m || (flags & ~OS_DMA_FIRST_LEVEL) || iova_pages > OS_DMA_IOVA_PAGES)
        return -EINVAL_;
    struct os_iommu_dev *dev = os_iommu_dev(m, bdf);
    if (!dev)
        return -ENODEV_;
    __builtin_memset(d, 0, sizeof(*d));
    d->k = m->k, d->m = m, d->bdf = bdf, d->ats = dev->ats, d->ats_qdep = dev->ats_qdep;
    d->window = iova_pages ? iova_pages : OS_DMA_IOVA_PAGES;
    bool slts = HW_FV(ECAP, SLTS, m->ecap), flts = HW_FV(ECAP, FLTS, m->ecap);
    if (!m->sm)
        d->kind = OS_DMA_KIND_LEGACY;
    else if (slts && !(flags & OS_DMA_FIRST_LEVEL))
        d->kind = OS_DMA_KIND_SL;
    else if (flts)
        d->kind = OS_DMA_KIND_FL;
    else
        return -EOPNOTSUPP_;
    d->levels = d->kind == OS_DMA_KIND_FL ? 4 : sl_levels(m);
    if (!d->levels || OS_DMA_IOVA_BASE + d->window * PAGE > input_limit(d))
        return -EOPNOTSUPP_;
    struct os_dma *none = NULL;
    if (!__atomic_compare_exchange_n(&dev->dma, &none, d, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return -EBUSY_;
    int rc = 0;
    if (!(d->did = os_iommu_did_alloc(m)))
        rc = -ENOSPC_;
    else if (d->kind == OS_DMA_KIND_FL)
        rc = pt_init(&d->fl, os_phys_view(d->k), 4);
    else if ((d->sl_root = d->k->ops.page_alloc(d->k->ops.ctx)) == OS_NO_PAGE)
        d->sl_root = 0, rc = -ENOMEM_;
    if (!rc) {
        uint64_t e[8] = { 0 };
        build_entry(d, e);
        rc = install(d, e, d->saved);
        if (rc)   /* a flush failed: put the old entry back before giving up */
            install(d, d->saved, NULL);
        if (rc)
            free_tables(d);
    }
    if (rc) {
        if (d->did)
            os_iommu_did_free(m, d->did);
        __atomic_store_n(&dev->dma, NULL, __ATOMIC_RELEASE);
        return rc;
    }
    os_log(d->k, 2, "dmar%u: %02x:%02x.%u DMA domain did %u, %s, %u levels, IOVA %#llx+%#llx",
           m->index, bdf >> 8, (bdf >> 3) & 0x1F, bdf & 7, d->did,
           d->kind == OS_DMA_KIND_SL ? "second level" : d->kind == OS_DMA_KIND_FL ? "first level"
                                                                                  : "legacy",
           d->levels, (unsigned long long)OS_DMA_IOVA_BASE, (unsigned long long)(d->window * PAGE));
    return 0;
}

/* The entry goes back first: its teardown flushes the domain whole (IOTLB
 * DSI or PASID-selective, device TLB), after which nothing can reach the
 * tables, so they are freed without clearing each leaf. */
int os_dma_detach(struct os_dma *d)
{
    if (!d || !d->m)
        return -EINVAL_;
    os_lock(d->k, &d->lock);
    int rc = install(d, d->saved, NULL);
    if (rc)
        d->flush_errors++;
    free_tables(d);
    os_iommu_did_free(d->m, d->did);
    struct os_iommu_dev *dev = os_iommu_dev(d->m, d->bdf);
    if (dev)
        __atomic_store_n(&dev->dma, NULL, __ATOMIC_RELEASE);
    d->m = NULL, d->nmaps = 0;
    os_unlock(&d->lock);
    return rc;
}

/* ---- map / unmap -------------------------------------------------------------- */
static struct os_dma_mapping *free_slot(struct os_dma *d)
{
    for (unsigned i = 0; i < OS_DMA_MAPS; i++)
        if (!d->map[i].iova)
            return &d->map[i];
    return NULL;
}

/* Maps n pages: page i at pa_of(i); under the lock. */
static int map_locked(struct os_dma *d, const uint64_t *pages, uint64_t pa, uint64_t n, bool write,
                      uint64_t *iova)
{
    struct os_dma_mapping *slot = free_slot(d);
    if (!slot)
        return -ENOSPC_;
    uint64_t va;
    int rc = iova_alloc(d, n, &va);
    if (rc)
        return rc;
    uint64_t i = 0;
    for (; i < n && !rc; i++)
        rc = set_pte(d, va + i * PAGE, pages ? pages[i] : pa + i * PAGE, write);
    /* Never made visible (no invalidation has named them), so a rollback
     * needs no flush. With caching mode the new entries are announced. */
    if (!rc && d->m->cm)
        rc = flush(d, va, n, false);
    if (rc) {
        for (uint64_t j = 0; j < i; j++)
            clear_pte(d, va + j * PAGE);
        iova_free(d, va, n);
        return rc;
    }
    slot->iova = va, slot->pages = n;
    d->nmaps++, d->maps++;
    *iova = va;
    return 0;
}

int os_dma_map(struct os_dma *d, uint64_t pa, uint64_t len, bool write, uint64_t *iova)
{
    if (!d || !d->m || !iova || !len || (pa & (PAGE - 1)) || pa >= PA_LIMIT ||
        len > PA_LIMIT - pa)
        return -EINVAL_;
    uint64_t n = (len + PAGE - 1) / PAGE;
    if (n > d->window)
        return -ENOSPC_;
    os_lock(d->k, &d->lock);
    int rc = map_locked(d, NULL, pa, n, write, iova);
    os_unlock(&d->lock);
    return rc;
}

int os_dma_map_pages(struct os_dma *d, const uint64_t *pages, unsigned n, bool write,
                     uint64_t *iova)
{
    if (!d || !d->m || !iova || !pages || !n)
        return -EINVAL_;
    for (unsigned i = 0; i < n; i++)
        if ((pages[i] & (PAGE - 1)) || pages[i] >= PA_LIMIT)
            return -EINVAL_;
    if (n > d->window)
        return -ENOSPC_;
    os_lock(d->k, &d->lock);
    int rc = map_locked(d, pages, 0, n, write, iova);
    os_unlock(&d->lock);
    return rc;
}

int os_dma_unmap(struct os_dma *d, uint64_t iova, uint64_t len)
{
    if (!d || !d->m || !len || (iova & (PAGE - 1)) || len > OS_DMA_IOVA_PAGES * PAGE)
        return -EINVAL_;
    uint64_t n = (len + PAGE - 1) / PAGE;
    os_lock(d->k, &d->lock);
    struct os_dma_mapping *mp = NULL;
    for (unsigned i = 0; i < OS_DMA_MAPS && !mp; i++)
        if (d->map[i].iova == iova && iova)
            mp = &d->map[i];
    if (!mp || mp->pages != n) {
        os_unlock(&d->lock);
        return -ENOENT_;
    }
    for (uint64_t i = 0; i < n; i++)
        clear_pte(d, iova + i * PAGE);
    /* Strict mode: the IOVA is reused only after the flush completed. */
    int rc = flush(d, iova, n, true);
    iova_free(d, iova, n);
    mp->iova = 0, mp->pages = 0;
    d->nmaps--, d->unmaps++;
    os_unlock(&d->lock);
    return rc;
}
