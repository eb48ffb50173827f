/* Register file: the generic write semantics of the declarative table in
 * lib/hw_regs.h (RO / RW / RW1C, reserved bits, 32- and 64-bit access),
 * capability narrowing, FRCD records, and the per-register side effects. */
#include <stdlib.h>
#include <string.h>

#include "lib/trace.h"
#include "vtd/internal.h"
#include "vtd/regs_hooks.h"

typedef void (*reg_hook_fn)(struct vtd_unit *u, uint64_t old, uint64_t written);
#define vtd_reg_hook_none NULL
static const reg_hook_fn reg_hooks[REG_COUNT] = {
#define HWR_HOOK(N, O, B, S, RST, WM, W1C, H) [REG_##N] = vtd_reg_hook_##H,
    HW_REGS(HWR_HOOK)
#undef HWR_HOOK
};

/* Registers that exist only with a capability read as 0 and ignore writes
 * without it (§1.1, §1.11-1.14). */
static void narrow_masks(struct vtd_unit *u)
{
    static const struct { enum vtd_reg_id first, last; } qi = { REG_IQH, REG_IQERCD },
                                                        prq = { REG_PQH, REG_PEUADDR };
    for (int r = 0; r < REG_COUNT; r++) {
        bool absent = (!ECAP(u, QI) && r >= (int)qi.first && r <= (int)qi.last) ||
                      (!ECAP(u, PRS) && r >= (int)prq.first && r <= (int)prq.last) ||
                      (!ECAP(u, IR) && r == REG_IRTA) ||
                      (!CAP(u, AFL) && r == REG_AFLOG) ||
                      (!CAP(u, PLMR) && !CAP(u, PHMR) && r == REG_PMEN);
        if (absent)
            u->wmask[r] = u->w1c[r] = 0;
    }
    /* IQA.DW: 256-bit descriptors only with scalable mode (§1.12). */
    if (!ECAP(u, SMTS))
        u->wmask[REG_IQA] &= ~HW_FM(IQA, DW);
    /* Draining bits exist only with CAP.DWD / CAP.DRD (§1.8). */
    if (!CAP(u, DWD))
        u->wmask[REG_IOTLB] &= ~HW_FM(IOTLB, DW);
    if (!CAP(u, DRD))
        u->wmask[REG_IOTLB] &= ~HW_FM(IOTLB, DR);
    if (!CAP(u, AFL))
        u->w1c[REG_FSTS] &= ~(HW_FM(FSTS, AFO) | HW_FM(FSTS, APF));
}

static void build_offset_map(struct vtd_unit *u)
{
    memset(u->reg_at, 0, sizeof(u->reg_at));
    for (int r = 0; r < REG_COUNT; r++) {
        u->off[r] = hw_regs[r].off;
        if (r == REG_IVA)
            u->off[r] = (uint16_t)(ECAP(u, IRO) * 16);
        else if (r == REG_IOTLB)
            u->off[r] = (uint16_t)(ECAP(u, IRO) * 16 + 8);
        for (unsigned d = 0; d < hw_regs[r].bytes / 4u; d++)
            u->reg_at[u->off[r] / 4 + d] = (uint8_t)(r + 1);
    }
}

void vtd_regs_reset(struct vtd_unit *u)
{
    for (int r = 0; r < REG_COUNT; r++) {
        u->reg[r] = hw_regs[r].reset;
        u->wmask[r] = hw_regs[r].wmask;
        u->w1c[r] = hw_regs[r].w1c;
    }
    u->reg[REG_VER] = u->cfg.ver;
    u->reg[REG_CAP] = u->cfg.cap;
    u->reg[REG_ECAP] = u->cfg.ecap;
    narrow_masks(u);
    build_offset_map(u);
    u->frcd_off = (uint32_t)CAP(u, FRO) * 16;
    u->nfr = (unsigned)CAP(u, NFR) + 1;
    memset(u->frcd, 0, sizeof(u->frcd));
    u->frcd_next = 0;
    u->root_table = 0;
    u->ttm = 0;
    cache_init(&u->cache);
}

struct vtd_unit *vtd_unit_create(const struct vtd_config *c, struct mem_arena *mem)
{
    if (vtd_config_check(c, NULL, 0))
        return NULL;
    struct vtd_unit *u = calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    u->cfg = *c;
    u->mem = mem;
    vtd_regs_reset(u);
    return u;
}

struct vtd_unit *vtd_unit_create_guest(const struct vtd_config *c, struct gpa_map *g)
{
    struct vtd_unit *u = vtd_unit_create(c, gpa_map_arena(g));
    if (u)
        u->gpa = g;
    return u;
}

bool vtd_fault_inject(struct vtd_unit *u, const struct vtd_req *req, uint8_t reason)
{
    spin_lock(&u->lock);
    bool rec = vtd_fault_record(u, req, reason, false);
    spin_unlock(&u->lock);
    return rec;
}

void vtd_unit_destroy(struct vtd_unit *u)
{
    if (!u)
        return;
    free(u);
}

const struct vtd_config *vtd_unit_config(const struct vtd_unit *u) { return &u->cfg; }

void vtd_unit_stats(struct vtd_unit *u, struct vtd_stats *s)
{
    spin_lock(&u->lock);
    *s = u->stats;
    spin_unlock(&u->lock);
}

/* ---- fault recording registers (§1.15) -------------------------------- */
static bool in_frcd(const struct vtd_unit *u, uint32_t off)
{
    return off >= u->frcd_off && off < u->frcd_off + 16 * u->nfr;
}

static uint64_t frcd_read(struct vtd_unit *u, uint32_t off, unsigned size)
{
    uint32_t rel = off - u->frcd_off;
    uint64_t qw = u->frcd[rel / 16][(rel / 8) & 1];
    return size == 8 ? qw : (uint32_t)(qw >> (8 * (rel & 4)));
}

static void frcd_write(struct vtd_unit *u, uint32_t off, unsigned size, uint64_t val)
{
    uint32_t rel = off - u->frcd_off;
    if (((rel / 8) & 1) == 0)
        return;   /* QW0 is read-only */
    uint64_t written = size == 8 ? val : val << (8 * (rel & 4));
    uint64_t *rec = u->frcd[rel / 16];
    rec[1] &= ~(written & FRCD_W1C_QW1);
    vtd_regs_fault_status_changed(u);
}

/* ---- generic access ----------------------------------------------------- */
static int reg_lookup(const struct vtd_unit *u, uint32_t off, unsigned size)
{
    if ((size != 4 && size != 8) || (off & (size - 1)) || off >= VTD_REG_PAGE)
        return -1;
    int r = u->reg_at[off / 4] - 1;
    if (r < 0 || (size == 8 && (hw_regs[r].bytes != 8 || off != u->off[r])))
        return -1;
    return r;
}

uint64_t vtd_mmio_read(struct vtd_unit *u, uint32_t off, unsigned size)
{
    uint64_t v = 0;
    spin_lock(&u->lock);
    if (off < VTD_REG_PAGE && !(off & (size - 1)) && (size == 4 || size == 8) && in_frcd(u, off)) {
        v = frcd_read(u, off, size);
    } else {
        int r = reg_lookup(u, off, size);
        if (r < 0)
            trace(vtd_reg_unknown, "read off=%#x size=%u", off, size);
        else
            v = size == 8 ? u->reg[r] : (uint32_t)(u->reg[r] >> (8 * (off - u->off[r])));
        if (r >= 0)
            trace(vtd_reg_read, "%s off=%#x size=%u val=%#llx", hw_regs[r].name, off, size,
                  (unsigned long long)v);
    }
    spin_unlock(&u->lock);
    return v;
}

void vtd_mmio_write(struct vtd_unit *u, uint32_t off, unsigned size, uint64_t val)
{
    spin_lock(&u->lock);
    if (off < VTD_REG_PAGE && !(off & (size - 1)) && (size == 4 || size == 8) && in_frcd(u, off)) {
        frcd_write(u, off, size, val);
        spin_unlock(&u->lock);
        return;
    }
    int r = reg_lookup(u, off, size);
    if (r < 0) {
        trace(vtd_reg_unknown, "write off=%#x size=%u val=%#llx", off, size,
              (unsigned long long)val);
        spin_unlock(&u->lock);
        return;
    }
    unsigned shift = 8 * (off - u->off[r]);
    uint64_t bm = size == 8 ? ~0ULL : 0xFFFFFFFFULL << shift;
    uint64_t v = size == 8 ? val : (val & 0xFFFFFFFFULL) << shift;
    uint64_t old = u->reg[r];
    uint64_t nv = (old & ~(u->wmask[r] & bm)) | (v & u->wmask[r] & bm);
    nv &= ~(v & u->w1c[r] & bm);
    u->reg[r] = nv;
    trace_struct(vtd_reg_write, hw_regs[r].layout, &nv, "%s off=%#x size=%u val=%#llx ->",
                 hw_regs[r].name, off, size, (unsigned long long)val);
    if (reg_hooks[r])
        reg_hooks[r](u, old, v & bm);
    spin_unlock(&u->lock);
}
