/* GCMD/GSTS (§1.5), register-based invalidation (§1.7, §1.8) and the
 * status/event-control registers' side effects (§1.9, §1.10, §1.12, §1.14). */
#include "lib/trace.h"
#include "vtd/regs_hooks.h"

#define GCMD_BIT(F) HW_FM(GCMD, F)
#define GSTS_BIT(F) HW_FM(GSTS, F)

static void set_status(struct vtd_unit *u, uint64_t bit, bool on)
{
    u->reg[REG_GSTS] = on ? u->reg[REG_GSTS] | bit : u->reg[REG_GSTS] & ~bit;
}

/* SRTP latches RTADDR (address and TTM); RTPS reports completion. With
 * CAP.ESRTPS the latch also invalidates every DMA-remapping cache. */
static void gcmd_srtp(struct vtd_unit *u)
{
    uint64_t rt = u->reg[REG_RTADDR];
    u->root_table = rt & HW_FM(RTADDR, RTA);
    u->ttm = (unsigned)HW_FV(RTADDR, TTM, rt);
    if (CAP(u, ESRTPS))
        cache_init(&u->cache);
    set_status(u, GSTS_BIT(RTPS), true);
}

/* Disabling QI resets IQH to 0 (§1.5, Intel datasheets). */
static void gcmd_qie(struct vtd_unit *u, bool on)
{
    if (!ECAP(u, QI))
        return;
    set_status(u, GSTS_BIT(QIES), on);
    if (!on)
        u->reg[REG_IQH] = 0;
    else
        vtd_qi_process(u);   /* descriptors already queued before enabling */
}

/* GCMD is write-only: reads return 0 (decision; Linux never reads it and
 * keeps a shadow, os-driver-behaviour §2.1). Persistent commands (TE, QIE,
 * IRE, CFI, EAFL) act when the written bit differs from the status bit;
 * one-shot commands (SRTP, SFL, WBF, SIRTP) act when written as 1. Status
 * updates are synchronous. Software is required to change one command per
 * write; when several change at once they are applied in the order below.
 * Interrupt remapping and advanced fault logging are not modelled: without
 * ECAP.IR / CAP.AFL their commands are ignored and their status stays 0. */
void vtd_reg_hook_gcmd(struct vtd_unit *u, uint64_t old, uint64_t w)
{
    (void)old;
    u->reg[REG_GCMD] = 0;
    bool qie = w & GCMD_BIT(QIE);
    if (qie != vtd_gstatus(u, GSTS_BIT(QIES)))
        gcmd_qie(u, qie);
    if (w & GCMD_BIT(SRTP))
        gcmd_srtp(u);
    if (w & GCMD_BIT(WBF))
        set_status(u, GSTS_BIT(WBFS), false);   /* flush completes at once */
    bool te = w & GCMD_BIT(TE);
    if (te != vtd_gstatus(u, GSTS_BIT(TES)))
        set_status(u, GSTS_BIT(TES), te);
    trace_struct(vtd_gcmd, HWS_GSTS, &u->reg[REG_GSTS], "cmd=%#llx status:",
                 (unsigned long long)w);
}

/* Register-based invalidation is refused while QI is enabled (§1.1:
 * VirtualBox and QEMU ignore it) and on VER major >= 6 hardware: the
 * command completes at once with actual granularity 0 ("not performed"),
 * so polling software does not hang. */
static bool reg_inv_refused(const struct vtd_unit *u)
{
    return vtd_gstatus(u, GSTS_BIT(QIES)) || HW_FV(VER, MAX, u->cfg.ver) >= 6;
}

void vtd_reg_hook_ccmd(struct vtd_unit *u, uint64_t old, uint64_t w)
{
    (void)old;
    if (!(w & HW_FM(CCMD, ICC)))
        return;
    uint64_t v = u->reg[REG_CCMD];
    unsigned g = (unsigned)HW_FV(CCMD, CIRG, v), actual = 0;
    if (!reg_inv_refused(u) && g != 0) {
        inv_context_locked(u, (enum vtd_cc_gran)g, (uint16_t)HW_FV(CCMD, DID, v),
                        (uint16_t)HW_FV(CCMD, SID, v), (unsigned)HW_FV(CCMD, FM, v));
        actual = g;
    }
    v &= ~(HW_FM(CCMD, ICC) | HW_FM(CCMD, CAIG));
    u->reg[REG_CCMD] = v | HW_FMK(CCMD, CAIG, actual);
}

/* Page-selective requests fall back to domain-selective (reported in IAIG)
 * without CAP.PSI or when AM exceeds CAP.MAMV (decision, §1.8). */
void vtd_reg_hook_iotlb(struct vtd_unit *u, uint64_t old, uint64_t w)
{
    (void)old;
    if (!(w & HW_FM(IOTLB, IVT)))
        return;
    uint64_t v = u->reg[REG_IOTLB], iva = u->reg[REG_IVA];
    unsigned g = (unsigned)HW_FV(IOTLB, IIRG, v), am = (unsigned)HW_FV(IVA, AM, iva);
    if (g == VTD_IOTLB_PAGE && (!CAP(u, PSI) || am > CAP(u, MAMV)))
        g = VTD_IOTLB_DOMAIN;
    if (reg_inv_refused(u))
        g = 0;
    if (g)
        inv_iotlb_locked(u, (enum vtd_iotlb_gran)g, (uint16_t)HW_FV(IOTLB, DID, v),
                      iva & HW_FM(IVA, ADDR), am, HW_FV(IVA, IH, iva));
    v &= ~(HW_FM(IOTLB, IVT) | HW_FM(IOTLB, IAIG));
    u->reg[REG_IOTLB] = v | HW_FMK(IOTLB, IAIG, g);
}

void vtd_regs_fault_status_changed(struct vtd_unit *u)
{
    bool any = false;
    for (unsigned i = 0; i < u->nfr; i++)
        any |= HW_GET(FRCD, F, u->frcd[i]) != 0;
    if (!any)
        u->reg[REG_FSTS] &= ~HW_FM(FSTS, PPF);
    if (!(u->reg[REG_FSTS] & FSTS_PENDING_MASK))
        u->reg[REG_FECTL] &= ~HW_FM(ECTL, IP);
}

/* Clearing IQE or ITE lets the queue resume at IQH (§4.9). */
void vtd_reg_hook_fsts(struct vtd_unit *u, uint64_t old, uint64_t w)
{
    vtd_regs_fault_status_changed(u);
    if (w & old & (HW_FM(FSTS, IQE) | HW_FM(FSTS, ITE)))
        vtd_qi_process(u);
}

/* Software advanced the tail: process up to it (§4.1). */
void vtd_reg_hook_iqt(struct vtd_unit *u, uint64_t old, uint64_t w)
{
    (void)old, (void)w;
    vtd_qi_process(u);
}

void vtd_reg_hook_fectl(struct vtd_unit *u, uint64_t old, uint64_t w)
{
    (void)old, (void)w;
    vtd_event_unmasked(u, REG_FECTL);
}

void vtd_reg_hook_iectl(struct vtd_unit *u, uint64_t old, uint64_t w)
{
    (void)old, (void)w;
    vtd_event_unmasked(u, REG_IECTL);
}

void vtd_reg_hook_pectl(struct vtd_unit *u, uint64_t old, uint64_t w)
{
    (void)old, (void)w;
    vtd_event_unmasked(u, REG_PECTL);
}

/* Clearing IWC clears a pending invalidation event (§5.3). */
void vtd_reg_hook_ics(struct vtd_unit *u, uint64_t old, uint64_t w)
{
    (void)old, (void)w;
    if (!(u->reg[REG_ICS] & HW_FM(ICS, IWC)))
        u->reg[REG_IECTL] &= ~HW_FM(ECTL, IP);
}

/* Clearing PPR and PRO clears a pending page-request event (§5.3). */
void vtd_reg_hook_prs(struct vtd_unit *u, uint64_t old, uint64_t w)
{
    (void)old, (void)w;
    if (!(u->reg[REG_PRS] & (HW_FM(PRS, PPR) | HW_FM(PRS, PRO))))
        u->reg[REG_PECTL] &= ~HW_FM(ECTL, IP);
}

/* PMEN.PRS mirrors EPM (protected regions are not enforced: the unit only
 * has PMEN with CAP.PLMR/PHMR, which the model does not advertise). */
void vtd_reg_hook_pmen(struct vtd_unit *u, uint64_t old, uint64_t w)
{
    (void)old, (void)w;
    uint64_t v = u->reg[REG_PMEN];
    u->reg[REG_PMEN] = (v & ~HW_FM(PMEN, PRS)) | HW_FMK(PMEN, PRS, HW_FV(PMEN, EPM, v));
}

_Static_assert(GSTS_TES_LO == GCMD_TE_LO && GSTS_RTPS_LO == GCMD_SRTP_LO &&
               GSTS_QIES_LO == GCMD_QIE_LO && GSTS_WBFS_LO == GCMD_WBF_LO &&
               GSTS_IRES_LO == GCMD_IRE_LO && GSTS_CFIS_LO == GCMD_CFI_LO,
               "each GSTS status bit sits at its GCMD command bit (§1.5)");
