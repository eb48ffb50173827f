/* Translation-structure builders (see tables.h). */
#include <errno.h>

#include "lib/hw_regs.h"
#include "vtd/tables.h"

int vtd_tables_init(struct vtd_tables *t, struct mem_arena *mem, bool sm)
{
    t->mem = mem;
    t->sm = sm;
    t->root = mem_frame_alloc(mem);
    return t->root == HPA_INVALID ? -ENOMEM : 0;
}

/* Root entry half for sid: legacy entries have one pointer (QW0); scalable
 * entries a lower (devfn < 128) and an upper pointer, same layout (§2.7). */
static int ctx_table(struct vtd_tables *t, uint16_t sid, bool create, uint64_t *ct)
{
    uint64_t ra = t->root + 16 * (sid >> 8) + (t->sm && (sid & 0x80) ? 8 : 0), half;
    if (mem_read64(t->mem, ra, &half))
        return -EFAULT;
    if (!(half & 1)) {
        if (!create)
            return -ENOENT;
        uint64_t f = mem_frame_alloc(t->mem);
        if (f == HPA_INVALID)
            return -ENOMEM;
        half = f | 1;
        if (mem_write64(t->mem, ra, half))
            return -EFAULT;
    }
    *ct = half & BITS_MASK(63, 12);
    return 0;
}

int vtd_tables_ctx_addr(const struct vtd_tables *t, uint16_t sid, uint64_t *hpa)
{
    uint64_t ct;
    int rc = ctx_table((struct vtd_tables *)t, sid, false, &ct);
    if (rc)
        return rc;
    *hpa = t->sm ? ct + 32 * (sid & 0x7F) : ct + 16 * (sid & 0xFF);
    return 0;
}

int vtd_tables_set_ctx(struct vtd_tables *t, uint16_t sid, const uint64_t *ctx)
{
    uint64_t ct;
    int rc = ctx_table(t, sid, true, &ct);
    if (rc)
        return rc;
    uint64_t ea = t->sm ? ct + 32 * (sid & 0x7F) : ct + 16 * (sid & 0xFF);
    return mem_write(t->mem, ea, ctx, t->sm ? 32 : 16);
}

int vtd_tables_pasid_dir(struct vtd_tables *t, unsigned pdts, uint64_t *dir)
{
    uint64_t bytes = 8ULL << (pdts + 7), n = (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
    *dir = mem_frames_alloc_contig(t->mem, n, PAGE_SIZE);
    return *dir == HPA_INVALID ? -ENOMEM : 0;
}

static int pasid_table(struct vtd_tables *t, uint64_t dir, uint32_t pasid, bool create,
                       bool fpd, uint64_t *tbl)
{
    uint64_t da = dir + 8 * (pasid >> 6), d;
    if (mem_read64(t->mem, da, &d))
        return -EFAULT;
    if (!(d & 1)) {
        if (!create)
            return -ENOENT;
        uint64_t f = mem_frame_alloc(t->mem);
        if (f == HPA_INVALID)
            return -ENOMEM;
        d = f | HW_FMK(PASID_DIR, P, 1) | HW_FMK(PASID_DIR, FPD, fpd);
        if (mem_write64(t->mem, da, d))
            return -EFAULT;
    }
    *tbl = d & HW_FM(PASID_DIR, SMPTBLPTR);
    return 0;
}

int vtd_tables_pasid_addr(const struct vtd_tables *t, uint64_t dir, uint32_t pasid, uint64_t *hpa)
{
    uint64_t tbl;
    int rc = pasid_table((struct vtd_tables *)t, dir, pasid, false, false, &tbl);
    if (!rc)
        *hpa = tbl + 64 * (pasid & 0x3F);
    return rc;
}

int vtd_tables_set_pasid(struct vtd_tables *t, uint64_t dir, uint32_t pasid,
                         const uint64_t *pte, bool dir_fpd)
{
    uint64_t tbl;
    int rc = pasid_table(t, dir, pasid, true, dir_fpd, &tbl);
    return rc ? rc : mem_write(t->mem, tbl + 64 * (pasid & 0x3F), pte, 64);
}

/* ---- second-level tables ---------------------------------------------- */
static uint64_t sl_index(uint64_t iova, unsigned level)
{
    return (iova >> (12 + 9 * (level - 1))) & 0x1FF;
}

/* Walks to the table holding the entry of `target` level, creating
 * intermediate tables when `create`. */
static int sl_descend(struct mem_arena *mem, uint64_t root, unsigned levels, uint64_t iova,
                      unsigned target, bool create, uint64_t *table)
{
    uint64_t tb = root;
    for (unsigned level = levels; level > target; level--) {
        uint64_t ea = tb + 8 * sl_index(iova, level), e;
        if (mem_read64(mem, ea, &e))
            return -EFAULT;
        if (!(e & (HW_FM(SL_PTE, R) | HW_FM(SL_PTE, W)))) {
            if (!create)
                return -ENOENT;
            uint64_t f = mem_frame_alloc(mem);
            if (f == HPA_INVALID)
                return -ENOMEM;
            e = f | HW_FM(SL_PTE, R) | HW_FM(SL_PTE, W) | HW_FM(SL_PTE, X);
            if (mem_write64(mem, ea, e))
                return -EFAULT;
        } else if (HW_FV(SL_PTE, PS, e)) {
            return -EEXIST;
        }
        tb = e & HW_FM(SL_PTE, ADDR);
    }
    *table = tb;
    return 0;
}

int vtd_sl_map(struct mem_arena *mem, uint64_t *root, unsigned levels, uint64_t iova,
               uint64_t hpa, unsigned shift, uint64_t flags)
{
    if ((shift != 12 && shift != 21 && shift != 30) || ((iova | hpa) & ((1ULL << shift) - 1)))
        return -EINVAL;
    if (!*root && (*root = mem_frame_alloc(mem)) == HPA_INVALID)
        return -ENOMEM;
    unsigned level = 1 + (shift - 12) / 9;
    uint64_t tb;
    int rc = sl_descend(mem, *root, levels, iova, level, true, &tb);
    if (rc)
        return rc;
    uint64_t e = hpa | flags | (level > 1 ? HW_FM(SL_PTE, PS) : 0);
    return mem_write64(mem, tb + 8 * sl_index(iova, level), e);
}

int vtd_sl_entry_addr(struct mem_arena *mem, uint64_t root, unsigned levels, uint64_t iova,
                      unsigned level, uint64_t *hpa)
{
    uint64_t tb;
    int rc = sl_descend(mem, root, levels, iova, level, false, &tb);
    if (!rc)
        *hpa = tb + 8 * sl_index(iova, level);
    return rc;
}

int vtd_sl_unmap(struct mem_arena *mem, uint64_t root, unsigned levels, uint64_t iova)
{
    for (unsigned level = 1; level <= 3; level++) {
        uint64_t ea, e;
        if (vtd_sl_entry_addr(mem, root, levels, iova, level, &ea))
            continue;
        if (mem_read64(mem, ea, &e) || !(e & (HW_FM(SL_PTE, R) | HW_FM(SL_PTE, W))))
            continue;
        if (level == 1 || HW_FV(SL_PTE, PS, e))
            return mem_write64(mem, ea, 0);
    }
    return -ENOENT;
}

static int poll_gsts(struct vtd_unit *u, uint32_t bit, bool want)
{
    for (int i = 0; i < 1000; i++)
        if (((vtd_mmio_read(u, REG_OFF_GSTS, 4) & bit) != 0) == want)
            return 0;
    return -ETIMEDOUT;
}

int vtd_program_root(struct vtd_unit *u, uint64_t root, unsigned ttm, bool enable)
{
    uint32_t keep = (uint32_t)vtd_mmio_read(u, REG_OFF_GSTS, 4) &
                    (uint32_t)(HW_FM(GSTS, TES) | HW_FM(GSTS, QIES));
    /* GSTS status bits sit at the GCMD command positions (§1.5). */
    vtd_mmio_write(u, REG_OFF_RTADDR, 8, root | HW_FMK(RTADDR, TTM, ttm));
    vtd_mmio_write(u, REG_OFF_GCMD, 4, keep | (uint32_t)HW_FM(GCMD, SRTP));
    int rc = poll_gsts(u, (uint32_t)HW_FM(GSTS, RTPS), true);
    if (rc || !enable)
        return rc;
    vtd_mmio_write(u, REG_OFF_GCMD, 4, keep | (uint32_t)HW_FM(GCMD, TE));
    return poll_gsts(u, (uint32_t)HW_FM(GSTS, TES), true);
}

int vtd_sl_map_gpa_space(struct mem_arena *mem, uint64_t *root, unsigned levels,
                         const struct gpa_map *g, uint64_t flags)
{
    for (uint64_t gpa = 0; gpa < gpa_map_size(g); gpa += PAGE_SIZE) {
        int rc = vtd_sl_map(mem, root, levels, gpa, gpa_to_hpa(g, gpa), 12, flags);
        if (rc)
            return rc;
    }
    return 0;
}
