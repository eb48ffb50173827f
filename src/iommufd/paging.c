/* Plain paging domains (Linux IOMMU_HWPT_ALLOC over an IOAS without
 * nesting, IOMMU_IOAS_MAP / IOMMU_IOAS_UNMAP): a host second-level table
 * (vtd-reference §3.2, 4 levels) built by the host kernel (os_sl_map) with
 * explicit IOVA -> guest-physical mappings, translated to host frames
 * through the guest's memory map. Attached at a PASID it is a host PASID
 * entry with PGTT=2 (attach.c). The VMM uses it to shadow a guest's own
 * second-level tables (svm=off).
 *
 * Bounds: an IOVA below 2^48 (the domain's 4 levels), a GPA inside guest
 * RAM; the table pages of a domain are limited to 64 + (guest RAM pages /
 * 32), so however the IOVAs are scattered the host memory a guest can make
 * iommufd spend on its tables is a fraction of its own RAM (-ENOSPC). */
#include <errno.h>

#include "iommufd/internal.h"

#define IOVA_BITS (12 + 9 * IFD_SL_LEVELS)
#define SL_RW     3ULL
#define SL_ADDR   0x000FFFFFFFFFF000ULL

uint64_t ifd_sl_lookup(struct iommufd *ifd, uint64_t root, uint64_t iova, unsigned *missing)
{
    struct os_kernel *k = &ifd->h->k;
    uint64_t table = root;
    *missing = 0;
    for (unsigned level = IFD_SL_LEVELS; level >= 1; level--) {
        if (!table) {
            *missing = level;   /* this level's table and those below it */
            return 0;
        }
        uint64_t e = os_rd64(k, table + 8 * ((iova >> (12 + 9 * (level - 1))) & 0x1FF));
        if (level == 1)
            return e & SL_RW ? e : 0;
        table = e & SL_RW ? e & SL_ADDR : 0;
    }
    return 0;
}

int iommufd_hwpt_alloc_paging(struct iommufd *ifd, uint32_t dev_id,
                              const struct gpa_map *guest_ram, uint32_t *hwpt_id)
{
    pthread_mutex_lock(&ifd->op);
    struct ifd_dev *d = ifd_dev_get(ifd, dev_id);
    struct ifd_hwpt *hp = d && guest_ram ? ifd_hwpt_slot(ifd) : NULL;
    int rc = !d || !guest_ram ? -EINVAL : !hp ? -ENOSPC : 0;
    uint16_t did = rc ? 0 : os_iommu_did_alloc(d->m);
    uint64_t root = did ? ifd->h->k.ops.page_alloc(ifd->h->k.ops.ctx) : OS_NO_PAGE;
    if (!rc && root == OS_NO_PAGE) {
        if (did)
            os_iommu_did_free(d->m, did);
        rc = -ENOSPC;
    }
    if (!rc) {
        *hp = (struct ifd_hwpt){ .paging = true, .m = d->m, .ram = guest_ram, .sl_root = root,
                                 .did = did, .tables = 1, .att_head = -1,
                                 .max_tables = 64 + gpa_map_size(guest_ram) / PAGE_SIZE / 32 };
        hp->id = *hwpt_id = ifd_hwpt_new_id(ifd, hp);
    }
    pthread_mutex_unlock(&ifd->op);
    return rc;
}

static struct ifd_hwpt *paging_get(struct iommufd *ifd, uint32_t id)
{
    struct ifd_hwpt *hp = ifd_hwpt_get(ifd, id);
    return hp && hp->paging ? hp : NULL;
}

static bool iova_range_ok(uint64_t iova, uint64_t len)
{
    return !((iova | len) & 0xFFF) && len && iova + len > iova && iova + len <= 1ULL << IOVA_BITS;
}

/* Unmaps the pages of [iova, iova + len) that are mapped; how many. */
static uint64_t unmap_pages(struct iommufd *ifd, struct ifd_hwpt *hp, uint64_t iova, uint64_t len)
{
    uint64_t n = 0;
    for (uint64_t a = iova; a < iova + len; a += PAGE_SIZE) {
        unsigned missing;
        if (ifd_sl_lookup(ifd, hp->sl_root, a, &missing) &&
            !os_sl_unmap(&ifd->h->k, hp->sl_root, IFD_SL_LEVELS, a))
            n++;
    }
    return n;
}

int iommufd_map(struct iommufd *ifd, uint32_t hwpt_id, uint64_t iova, uint64_t gpa, uint64_t len,
                bool write)
{
    pthread_mutex_lock(&ifd->op);
    struct ifd_hwpt *hp = paging_get(ifd, hwpt_id);
    int rc = hp && iova_range_ok(iova, len) && !(gpa & 0xFFF) && gpa + len > gpa &&
                     gpa + len <= gpa_map_size(hp->ram) ? 0 : -EINVAL;
    for (uint64_t o = 0; !rc && o < len; o += PAGE_SIZE) {   /* nothing mapped yet */
        unsigned missing;
        if (ifd_sl_lookup(ifd, hp->sl_root, iova + o, &missing))
            rc = -EEXIST;
    }
    uint64_t o = 0;
    for (; !rc && o < len; o += PAGE_SIZE) {
        unsigned missing;
        uint64_t hpa = gpa_to_hpa(hp->ram, gpa + o);
        ifd_sl_lookup(ifd, hp->sl_root, iova + o, &missing);
        if (hpa == HPA_INVALID)
            rc = -EINVAL;
        else if (hp->tables + missing > hp->max_tables)
            rc = -ENOSPC;
        else if (!(rc = os_sl_map(&ifd->h->k, &hp->sl_root, IFD_SL_LEVELS, iova + o, hpa, write)))
            hp->tables += missing;
    }
    if (rc && o > PAGE_SIZE && unmap_pages(ifd, hp, iova, o - PAGE_SIZE))
        ifd_parent_flush(ifd, hp, iova, o - PAGE_SIZE);   /* all or nothing */
    pthread_mutex_unlock(&ifd->op);
    return rc;
}

int iommufd_unmap(struct iommufd *ifd, uint32_t hwpt_id, uint64_t iova, uint64_t len,
                  uint64_t *unmapped)
{
    pthread_mutex_lock(&ifd->op);
    struct ifd_hwpt *hp = paging_get(ifd, hwpt_id);
    int rc = hp && iova_range_ok(iova, len) ? 0 : -EINVAL;
    uint64_t n = rc ? 0 : unmap_pages(ifd, hp, iova, len);
    if (n)   /* §6.5.2.3: the domain's IOTLB over the range, the device TLBs */
        rc = ifd_parent_flush(ifd, hp, iova, len);
    if (unmapped)
        *unmapped = n * PAGE_SIZE;
    pthread_mutex_unlock(&ifd->op);
    return rc;
}
