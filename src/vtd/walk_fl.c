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

static bool fl_canonical(uint64_t va, unsigned levels)
{
    unsigned top = levels == 5 ? 56 : 47;
    uint64_t hi = va >> top;
    return hi == 0 || hi == (~0ULL >> top);
}

/* Nested: a first-level table GPA goes through the second level with read
 * access (§3.6): 0x74 beyond the width, 0x75 / 0x76 without read right. */
static uint8_t fl_table_hpa(struct vtd_unit *u, const struct fl_params *p, uint64_t gpa,
                            bool top, uint64_t *hpa)
{
    if (!p->nest) {
        *hpa = gpa;
        return 0;
    }
    struct walk_out w;
    uint8_t f = sl_walk(u, p->nest, gpa, ACC_R, &w, false);
    if (f == p->nest->codes->addr)
        return VTD_FR_NEST_FL_ADDR;
    if (f == p->nest->codes->no_read || f == p->nest->codes->no_write)
        return top ? VTD_FR_NEST_FL_ROOT_READ : VTD_FR_NEST_FL_READ;
    if (f)
        return f;
    *hpa = w.out | (gpa & ((1ULL << w.shift) - 1));
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
        uint8_t f = fl_table_hpa(u, p, table, top, &hpa);
        if (f)
            return f;
        path->table[n] = table;
        path->ea[n] = hpa + 8 * ((va >> (12 + 9 * (level - 1))) & 0x1FF);
        if (um_read64(u, path->ea[n], &e))
            return top ? VTD_FR_FL_ROOT_READ_ERR : VTD_FR_FL_READ_ERR;
        trace_struct(vtd_walk_fl, HWS_FL_PTE, &e, "L%u @%#llx", level,
                     (unsigned long long)path->ea[n]);
        path->want[n] = e;       /* the entry as read; turned into missing bits below */
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

/* A, D (leaf, writes) and EA (with EAFE) on every entry used (§3.5): which
 * are missing, and whether they can be set: a non-snooped walk cannot
 * (0x90), and nested updates need the second-level write right on the
 * table (0x77) and its A/D updates (0x7C). */
static uint8_t fl_plan_ad(struct vtd_unit *u, const struct fl_params *p, struct fl_path *path,
                          bool write)
{
    for (unsigned i = 0; i < path->n; i++) {
        uint64_t want = HW_FM(FL_PTE, A) | (p->eafe ? HW_FM(FL_PTE, EA) : 0) |
                        (write && i == path->n - 1 ? HW_FM(FL_PTE, D) : 0);
        path->want[i] = want & ~path->want[i];
        if (!path->want[i])
            continue;
        if (!p->pwsnp)
            return VTD_FR_FL_AD_NOSNOOP;
        struct walk_out w;
        uint8_t f = p->nest ? sl_walk(u, p->nest, path->table[i], ACC_W, &w, false) : 0;
        if (f == VTD_FR_SSL_AD_NOSNOOP)
            return f;
        if (f)
            return VTD_FR_NEST_FL_AD_WRITE;
    }
    return 0;
}

void fl_commit(struct vtd_unit *u, const struct fl_params *p, const struct fl_path *path)
{
    struct walk_out w;
    if (p->nest && p->nest->slade)
        sl_walk(u, p->nest, path->final_in, path->final_acc, &w, true);
    for (unsigned i = 0; i < path->n; i++) {
        if (!path->want[i])
            continue;
        if (p->nest && p->nest->slade)
            sl_walk(u, p->nest, path->table[i], ACC_W, &w, true);
        um_or64(u, path->ea[i], path->want[i]);
    }
}

static uint8_t fl_nest_final(struct vtd_unit *u, const struct fl_params *p,
                             const struct vtd_req *req, struct walk_out *o, struct fl_path *path)
{
    struct walk_out fl = *o, sl;
    uint64_t gpa = fl.out | (req->addr & ((1ULL << fl.shift) - 1));
    unsigned acc = (req->write ? ACC_W : ACC_R) | (req->exec ? ACC_X : 0);
    uint8_t f = sl_walk(u, p->nest, gpa, acc, &sl, false);
    if (f)
        return f;
    path->final_in = gpa, path->final_acc = acc;
    o->shift = sl.shift < fl.shift ? sl.shift : fl.shift;
    uint64_t hpa = sl.out | (gpa & ((1ULL << sl.shift) - 1));
    o->out = hpa & ~((1ULL << o->shift) - 1);
    o->attr = (uint8_t)((fl.attr & ~(IOTLB_A_R | IOTLB_A_W | IOTLB_A_X)) |
                        (sl.attr & (IOTLB_A_R | IOTLB_A_W | IOTLB_A_X | IOTLB_A_DIRTY)));
    return 0;
}

uint8_t fl_walk(struct vtd_unit *u, const struct fl_params *p, const struct vtd_req *req,
                bool priv, struct walk_out *o, struct fl_path *path)
{
    if (!fl_canonical(req->addr, p->levels))
        return VTD_FR_SM_NONCANONICAL;
    path->n = 0;
    uint8_t f = fl_walk_tables(u, p, req->addr, path, o);
    if (f)
        return f;
    o->attr |= IOTLB_A_R | IOTLB_A_W | IOTLB_A_X | IOTLB_A_DIRTY;
    if ((f = fl_check_perm(p, o->attr, req, priv)))
        return f;
    if (p->nest && (f = fl_nest_final(u, p, req, o, path)))
        return f;
    if ((f = fl_plan_ad(u, p, path, req->write)))
        return f;
    if (!req->write)
        o->attr &= (uint8_t)~IOTLB_A_DIRTY;
    return 0;
}
