/* Second-level page tables built by the host kernel (vtd-reference §3.2):
 * 4 KiB leaves with R (and W), intermediate entries R|W. */
#include "os/iommu.h"

#define SL_R 1ULL
#define SL_W 2ULL
#define SL_ADDR 0x000FFFFFFFFFF000ULL

static uint64_t slot(uint64_t table, uint64_t iova, unsigned level)
{
    return table + 8 * ((iova >> (12 + 9 * (level - 1))) & 0x1FF);
}

int os_sl_map(struct os_kernel *k, uint64_t *root, unsigned levels, uint64_t iova, uint64_t pa,
              bool write)
{
    if ((iova | pa) & 0xFFF || levels < 3 || levels > 5)
        return -22;
    if (!*root && (*root = k->ops.page_alloc(k->ops.ctx)) == OS_NO_PAGE)
        return -12;
    uint64_t table = *root;
    for (unsigned level = levels; level > 1; level--) {
        uint64_t ea = slot(table, iova, level), e = os_rd64(k, ea);
        if (!(e & (SL_R | SL_W))) {
            uint64_t t = k->ops.page_alloc(k->ops.ctx);
            if (t == OS_NO_PAGE)
                return -12;
            e = t | SL_R | SL_W;
            os_wr64(k, ea, e);
        }
        table = e & SL_ADDR;
    }
    os_wr64(k, slot(table, iova, 1), pa | SL_R | (write ? SL_W : 0));
    return 0;
}

int os_sl_unmap(struct os_kernel *k, uint64_t root, unsigned levels, uint64_t iova)
{
    uint64_t table = root;
    for (unsigned level = levels; level > 1 && table; level--) {
        uint64_t e = os_rd64(k, slot(table, iova, level));
        table = e & (SL_R | SL_W) ? e & SL_ADDR : 0;
    }
    if (!table)
        return -2;
    os_wr64(k, slot(table, iova, 1), 0);
    return 0;
}

static void free_level(struct os_kernel *k, uint64_t table, unsigned level)
{
    for (unsigned i = 0; level > 1 && i < 512; i++) {
        uint64_t e = os_rd64(k, table + 8 * i);
        if (e & (SL_R | SL_W))
            free_level(k, e & SL_ADDR, level - 1);
    }
    k->ops.page_free(k->ops.ctx, table);
}

void os_sl_free(struct os_kernel *k, uint64_t root, unsigned levels)
{
    if (root)
        free_level(k, root, levels);
}
