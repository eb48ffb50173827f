/* Second-level walk (vtd-reference.md §3.2, §3.3). */
#include "lib/trace.h"
#include "vtd/walk.h"

/* Codes: legacy §5.4 (0x3 for an unreadable top-level table, LCT.4.3);
 * scalable: 0x78 read error, 0x7B unreadable top-level table (SSL.4),
 * 0x7A reserved field (Linux's description of 0x7A; the reference notes
 * VirtualBox's different reading of 0x79/0x7A: we follow Linux, whose
 * strings quote the spec), 0x86/0x85 missing read/write right (SGN.7/6),
 * 0x82 missing execute right, 0x83 input beyond the address width. */
const struct sl_codes sl_codes_legacy = {
    .read_err = VTD_FR_SL_READ_ERR, .root_err = VTD_FR_CTX_INVALID, .rsvd = VTD_FR_SL_RSVD,
    .no_read = VTD_FR_READ, .no_write = VTD_FR_WRITE, .no_exec = VTD_FR_READ,
    .addr = VTD_FR_ADDR_WIDTH,
};
const struct sl_codes sl_codes_sm = {
    .read_err = VTD_FR_SSL_READ_ERR, .root_err = VTD_FR_SSL_ROOT_INVALID,
    .rsvd = VTD_FR_SSL_RSVD, .no_read = VTD_FR_SM_READ, .no_write = VTD_FR_SM_WRITE,
    .no_exec = VTD_FR_SM_EXEC, .addr = VTD_FR_SM_ADDR_WIDTH,
};

/* Reserved bits of a second-level entry at `level` (§3.2): bits above HAW;
 * PS in level 4/5; PS at level 2/3 without the matching CAP.SLLPS bit;
 * address bits 20:12 / 29:12 of large leaves; SNP without ECAP.SC; TM
 * without ECAP.DT. Ignored bits (10, 52-61, 63) and, with SLADE=0, A/D
 * (ignored then) are never reserved. */
static uint64_t sl_rsvd(const struct vtd_unit *u, unsigned level, uint64_t e)
{
    uint64_t r = vtd_haw_rsvd(u) & BITS_MASK(51, 0);
    if (!ECAP(u, SC))
        r |= HW_FM(SL_PTE, SNP);
    if (!ECAP(u, DT))
        r |= HW_FM(SL_PTE, TM);
    bool ps = HW_FV(SL_PTE, PS, e);
    if (level >= 4)
        r |= HW_FM(SL_PTE, PS);
    else if (ps && (level == 2 || level == 3)) {
        if (!(CAP(u, SLLPS) & (1u << (level - 2))))
            r |= HW_FM(SL_PTE, PS);
        r |= BITS_MASK(12 + 9 * (level - 1) - 1, 12);
    }
    return r;
}

uint8_t sl_check_perm(const struct sl_codes *c, uint8_t attr, unsigned acc)
{
    if ((acc & ACC_W) && !(attr & IOTLB_A_W))
        return c->no_write;
    if ((acc & ACC_R) && !(attr & IOTLB_A_R))
        return c->no_read;
    if ((acc & ACC_X) && !(attr & IOTLB_A_X))
        return c->no_exec;
    return 0;
}

static void sl_set_ad(struct vtd_unit *u, const uint64_t *ea, unsigned n, bool write)
{
    for (unsigned i = 0; i < n; i++) {
        uint64_t bits = HW_FM(SL_PTE, A) | (write && i == n - 1 ? HW_FM(SL_PTE, D) : 0);
        um_or64(u, ea[i], bits);
    }
}

/* A/D bits the walk must still set (slade), for the non-snooped check. */
static bool sl_ad_needed(const uint64_t *e, unsigned n, bool write)
{
    for (unsigned i = 0; i < n; i++)
        if (!HW_FV(SL_PTE, A, e[i]) || (write && i == n - 1 && !HW_FV(SL_PTE, D, e[i])))
            return true;
    return false;
}

uint8_t sl_walk(struct vtd_unit *u, const struct sl_params *p, uint64_t in, unsigned acc,
                struct walk_out *o, bool set_ad)
{
    unsigned agaw = 30 + 9 * (p->levels - 2), mgaw = (unsigned)CAP(u, MGAW) + 1;
    unsigned width = agaw < mgaw ? agaw : mgaw;
    if (width < 64 && (in >> width))
        return p->codes->addr;
    uint64_t table = p->root, ea[WALK_MAX_LEVELS], ent[WALK_MAX_LEVELS];
    uint8_t attr = IOTLB_A_R | IOTLB_A_W | IOTLB_A_X;
    for (unsigned level = p->levels, n = 0; level >= 1; level--, n++) {
        uint64_t e;
        ea[n] = table + 8 * ((in >> (12 + 9 * (level - 1))) & 0x1FF);
        if (um_read64(u, ea[n], &e))
            return level == p->levels ? p->codes->root_err : p->codes->read_err;
        ent[n] = e;
        trace_struct(vtd_walk_sl, HWS_SL_PTE, &e, "L%u @%#llx", level, (unsigned long long)ea[n]);
        if (!(e & (HW_FM(SL_PTE, R) | HW_FM(SL_PTE, W))))
            return (acc & ACC_W) ? p->codes->no_write : p->codes->no_read;
        if (!HW_FV(SL_PTE, R, e))
            attr &= (uint8_t)~IOTLB_A_R;
        if (!HW_FV(SL_PTE, W, e))
            attr &= (uint8_t)~IOTLB_A_W;
        if (p->slee && !HW_FV(SL_PTE, X, e))
            attr &= (uint8_t)~IOTLB_A_X;
        uint8_t f = sl_check_perm(p->codes, attr, acc & (ACC_R | ACC_W));
        if (f)
            return f;
        if (e & sl_rsvd(u, level, e))
            return p->codes->rsvd;
        bool leaf = level == 1 || ((level == 2 || level == 3) && HW_FV(SL_PTE, PS, e));
        if (!leaf) {
            table = e & HW_FM(SL_PTE, ADDR);
            continue;
        }
        if ((f = sl_check_perm(p->codes, attr, acc)))
            return f;
        bool write = acc & ACC_W;
        if (p->slade && !p->pwsnp && sl_ad_needed(ent, n + 1, write))
            return VTD_FR_SSL_AD_NOSNOOP;
        o->shift = 12 + 9 * (level - 1);
        o->out = e & HW_FM(SL_PTE, ADDR) & ~((1ULL << o->shift) - 1);
        if (p->slade && set_ad)
            sl_set_ad(u, ea, n + 1, write);
        o->attr = attr | (!p->slade || write ? IOTLB_A_DIRTY : 0);
        return 0;
    }
    return p->codes->read_err;   /* not reached: level 1 is always a leaf */
}
