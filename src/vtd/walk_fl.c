/* First-level (IA-32e) walk, alone or nested over the second level
 * (vtd-reference.md §3.4-§3.6). */
#include "lib/trace.h"
#include "vtd/walk.h"

#define FL_ADDR BITS_MASK(51, 12)

/* Reserved bits of a first-level entry (§3.4): PS in PML5E/PML4E; PS in a
 * PDPTE without CAP.FL1GP; address bits 20:13 / 29:13 of 2M / 1G leaves;
 * bits 51:HAW of the address (not nested: there the address is a GPA whose
 * width the second level checks, §3.6). Decision: XD (bit 63) is never
 * reserved. It is honoured only with NXE=1. Later spec revisions dropped
 * NXE, so Linux stopped setting it while its page tables keep XD. */
static uint64_t fl_rsvd(const struct vtd_unit *u, const struct fl_params *p, unsigned level,
                        uint64_t e)
{
    uint64_t r = p->nest ? 0 : vtd_haw_rsvd(u) & BITS_MASK(51, 0);
    bool ps = HW_FV(FL_PTE, PS, e);
    if (level >= 4)
        r |= HW_FM(FL_PTE, PS);
    else if (level == 3 && ps && !CAP(u, FL1GP))
        r |= HW_FM(FL_PTE, PS);
    else if ((level == 2 || level == 3) && ps)
        r |= BITS_MASK(12 + 9 * (level - 1) - 1, 13);
    return r;
}

uint8_t fl_check_perm(const struct fl_params *p, uint8_t attr, const struct vtd_req *req,
                      bool priv)
{
    bool rw = attr & IOTLB_A_FLRW, us = attr & IOTLB_A_FLUS, xd = attr & IOTLB_A_FLXD;
    if (!priv && !us)
        return VTD_FR_SM_US;
    if (req->write && !rw && (!priv || p->wpe))
        return VTD_FR_SM_WRITE;
    if (req->exec && ((p->nxe && xd) || (priv && p->smep && us)))
        return VTD_FR_SM_EXEC;
    return 0;
}

uint8_t fl_granted(const struct fl_params *p, uint8_t attr, bool priv)
{
    bool rw = attr & IOTLB_A_FLRW, us = attr & IOTLB_A_FLUS, xd = attr & IOTLB_A_FLXD;
    uint8_t g = 0;
    if (priv || us) {
        g |= VTD_PERM_R;
        if (rw || (priv && !p->wpe))
            g |= VTD_PERM_W;
        if (!(p->nxe && xd) && !(priv && p->smep && us))
            g |= VTD_PERM_X;
    }
    if (!(attr & IOTLB_A_R))
        g &= (uint8_t)~VTD_PERM_R;
    if (!(attr & IOTLB_A_W))
        g &= (uint8_t)~VTD_PERM_W;
    if (!(attr & IOTLB_A_X))
        g &= (uint8_t)~VTD_PERM_X;
    return g;
}

static bool fl_canonical(uint64_t va, unsigned levels)
{
    unsigned top = levels == 5 ? 56 : 47;
    uint64_t hi = va >> top;
    return hi == 0 || hi == (~0ULL >> top);
}

/* Nested: a first-level table GPA goes through the second level with read
 * access (§3.6): 0x74 beyond the width, 0x75 / 0x76 without read right. */
static uint8_t fl_table_hpa(struct vtd_unit *u, const struct fl_params *p, uint64_t gpa,
                            bool top, uint64_t *hpa, uint8_t *sl_attr)
{
    if (!p->nest) {
        *hpa = gpa;
        *sl_attr = IOTLB_A_R | IOTLB_A_W;
        return 0;
    }
    struct walk_out w;
    uint8_t f = sl_walk(u, p->nest, gpa, ACC_R, &w);
    if (f == p->nest->codes->addr)
        return VTD_FR_NEST_FL_ADDR;
    if (f == p->nest->codes->no_read || f == p->nest->codes->no_write)
        return top ? VTD_FR_NEST_FL_ROOT_READ : VTD_FR_NEST_FL_READ;
    if (f)
        return f;
    *hpa = w.out | (gpa & ((1ULL << w.shift) - 1));
    *sl_attr = w.attr;
    return 0;
}

struct fl_path {
    uint64_t ea[WALK_MAX_LEVELS], e[WALK_MAX_LEVELS];
    uint8_t sl_attr[WALK_MAX_LEVELS];
    unsigned n;
};

/* A, D (leaf, writes) and EA (with EAFE) on every entry used (§3.5);
 * nested updates need the second-level write right on the table (0x77). */
static uint8_t fl_set_ad(struct vtd_unit *u, const struct fl_params *p,
                         const struct fl_path *path, bool write)
{
    for (unsigned i = 0; i < path->n; i++) {
        uint64_t want = HW_FM(FL_PTE, A) | (p->eafe ? HW_FM(FL_PTE, EA) : 0) |
                        (write && i == path->n - 1 ? HW_FM(FL_PTE, D) : 0);
        if ((path->e[i] & want) == want)
            continue;
        if (!(path->sl_attr[i] & IOTLB_A_W))
            return VTD_FR_NEST_FL_AD_WRITE;
        if (mem_or64(u->mem, path->ea[i], want, NULL))
            return VTD_FR_FL_AD_FAILED;
    }
    return 0;
}

static uint8_t fl_walk_tables(struct vtd_unit *u, const struct fl_params *p, uint64_t va,
                              struct fl_path *path, struct walk_out *o)
{
    uint64_t table = p->root;
    uint8_t attr = IOTLB_A_FLRW | IOTLB_A_FLUS;
    for (unsigned level = p->levels; level >= 1; level--) {
        bool top = level == p->levels;
        uint64_t hpa, e;
        unsigned n = path->n;
        uint8_t f = fl_table_hpa(u, p, table, top, &hpa, &path->sl_attr[n]);
        if (f)
            return f;
        path->ea[n] = hpa + 8 * ((va >> (12 + 9 * (level - 1))) & 0x1FF);
        if (mem_read64(u->mem, path->ea[n], &e))
            return top ? VTD_FR_FL_ROOT_READ_ERR : VTD_FR_FL_READ_ERR;
        trace_struct(vtd_walk_fl, HWS_FL_PTE, &e, "L%u @%#llx", level,
                     (unsigned long long)path->ea[n]);
        path->e[n] = e;
        path->n++;
        if (!HW_FV(FL_PTE, P, e))
            return VTD_FR_FL_NP;
        if (e & fl_rsvd(u, p, level, e))
            return VTD_FR_FL_RSVD;
        attr &= (uint8_t)~((HW_FV(FL_PTE, RW, e) ? 0 : IOTLB_A_FLRW) |
                           (HW_FV(FL_PTE, US, e) ? 0 : IOTLB_A_FLUS));
        attr |= HW_FV(FL_PTE, XD, e) ? IOTLB_A_FLXD : 0;
        if (level == 1 || ((level == 2 || level == 3) && HW_FV(FL_PTE, PS, e))) {
            o->shift = 12 + 9 * (level - 1);
            o->out = e & FL_ADDR & ~((1ULL << o->shift) - 1);
            o->attr = attr | (HW_FV(FL_PTE, G, e) ? IOTLB_A_GLOBAL : 0);
            return 0;
        }
        table = e & FL_ADDR;
    }
    return VTD_FR_FL_READ_ERR;   /* not reached: level 1 is always a leaf */
}

uint8_t fl_walk(struct vtd_unit *u, const struct fl_params *p, const struct vtd_req *req,
                bool priv, struct walk_out *o)
{
    if (!fl_canonical(req->addr, p->levels))
        return VTD_FR_SM_NONCANONICAL;
    struct fl_path path = { .n = 0 };
    struct walk_out fl;
    uint8_t f = fl_walk_tables(u, p, req->addr, &path, &fl);
    if (f)
        return f;
    fl.attr |= IOTLB_A_R | IOTLB_A_W | IOTLB_A_X;
    if ((f = fl_check_perm(p, fl.attr, req, priv)))
        return f;
    *o = fl;
    if (p->nest) {
        uint64_t gpa = fl.out | (req->addr & ((1ULL << fl.shift) - 1));
        unsigned acc = (req->write ? ACC_W : ACC_R) | (req->exec ? ACC_X : 0);
        struct walk_out sl;
        if ((f = sl_walk(u, p->nest, gpa, acc, &sl)))
            return f;
        o->shift = sl.shift < fl.shift ? sl.shift : fl.shift;
        uint64_t hpa = sl.out | (gpa & ((1ULL << sl.shift) - 1));
        o->out = hpa & ~((1ULL << o->shift) - 1);
        o->attr = (uint8_t)((fl.attr & ~(IOTLB_A_R | IOTLB_A_W | IOTLB_A_X)) |
                            (sl.attr & (IOTLB_A_R | IOTLB_A_W | IOTLB_A_X | IOTLB_A_DIRTY)));
    } else {
        o->attr |= IOTLB_A_DIRTY;
    }
    if ((f = fl_set_ad(u, p, &path, req->write)))
        return f;
    if (!req->write)
        o->attr &= (uint8_t)~IOTLB_A_DIRTY;
    return 0;
}
