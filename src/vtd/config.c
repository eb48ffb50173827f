/* Unit configurations. Every default below is documented in README.md
 * ("Remapping-unit defaults"). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/hw.h"
#include "vtd/internal.h"

#define CAPF(F, v)  HW_FMK(CAP, F, v)
#define ECAPF(F, v) HW_FMK(ECAP, F, v)

/* A current server-class scalable-mode unit: 64K domains, 39/48/57-bit
 * second level, 2M/1G second-level pages, 5-level and 1G first level,
 * nested and pass-through translation, 20-bit PASIDs, page requests with
 * drain, device TLB, SL A/D, RID_PASID and abort-DMA mode; caching mode
 * off; no interrupt remapping (not modelled, so not advertised); no
 * virtual command interface (Linux must not use it, os-driver §1). */
void vtd_config_default(struct vtd_config *c)
{
    memset(c, 0, sizeof(*c));
    c->ver = 0x30;  /* 3.0: scalable mode; register invalidation still allowed (§1.1) */
    c->cap = CAPF(ND, 6) | CAPF(SAGAW, 0xE) | CAPF(MGAW, 56) | CAPF(ZLR, 1) |
             CAPF(FRO, 0x60) | CAPF(SLLPS, 3) | CAPF(PSI, 1) | CAPF(NFR, 7) |
             CAPF(MAMV, 18) | CAPF(DWD, 1) | CAPF(DRD, 1) | CAPF(FL1GP, 1) | CAPF(FL5LP, 1);
    c->ecap = ECAPF(C, 1) | ECAPF(QI, 1) | ECAPF(DT, 1) | ECAPF(PT, 1) | ECAPF(SC, 1) |
              ECAPF(IRO, 0x50) | ECAPF(NEST, 1) | ECAPF(PRS, 1) | ECAPF(SRS, 1) |
              ECAPF(EAFS, 1) | ECAPF(PSS, 19) | ECAPF(PASID, 1) | ECAPF(PDS, 1) |
              ECAPF(SMTS, 1) | ECAPF(SLADS, 1) | ECAPF(SLTS, 1) | ECAPF(FLTS, 1) |
              ECAPF(SMPWCS, 1) | ECAPF(RPS, 1) | ECAPF(ADMS, 1);
    c->haw = 46;
    c->reg_base = 0xfed90000;
}

/* A legacy-only (VT-d 1.x style) unit: 256 domains, 39/48-bit second level
 * with 2M pages, QI, device TLB, pass-through. */
void vtd_config_legacy(struct vtd_config *c)
{
    memset(c, 0, sizeof(*c));
    c->ver = 0x10;
    c->cap = CAPF(ND, 2) | CAPF(SAGAW, 0x6) | CAPF(MGAW, 47) | CAPF(FRO, 0x60) |
             CAPF(SLLPS, 1) | CAPF(PSI, 1) | CAPF(NFR, 3) | CAPF(MAMV, 9);
    c->ecap = ECAPF(C, 1) | ECAPF(QI, 1) | ECAPF(DT, 1) | ECAPF(PT, 1) | ECAPF(IRO, 0x50);
    c->haw = 39;
    c->reg_base = 0xfed90000;
}

static bool ranges_overlap(uint32_t a, uint32_t alen, uint32_t b, uint32_t blen)
{
    return a < b + blen && b < a + alen;
}

int vtd_config_check(const struct vtd_config *c, char *why, unsigned why_len)
{
    uint32_t iro = (uint32_t)HW_FV(ECAP, IRO, c->ecap) * 16;
    uint32_t fro = (uint32_t)HW_FV(CAP, FRO, c->cap) * 16;
    uint32_t nfr = (uint32_t)HW_FV(CAP, NFR, c->cap) + 1;
    const char *err = NULL;
    if (c->haw < 32 || c->haw > 52)
        err = "host address width must be 32..52";
    else if (iro < 0x100 || iro + 16 > VTD_REG_PAGE)
        err = "ECAP.IRO places IVA/IOTLB outside 0x100..0xFF0";
    else if (fro < 0x100 || fro + 16 * nfr > VTD_REG_PAGE)
        err = "CAP.FRO/NFR place fault records outside 0x100..0xFFF";
    else if (ranges_overlap(iro, 16, fro, 16 * nfr))
        err = "IVA/IOTLB overlap the fault recording registers";
    else if (HW_FV(CAP, ND, c->cap) == 7)
        err = "CAP.ND=7 is reserved";
    else if (!HW_FV(CAP, SAGAW, c->cap) && !HW_FV(ECAP, SMTS, c->ecap))
        err = "CAP.SAGAW is empty";
    if (!err)
        return 0;
    if (why && why_len)
        snprintf(why, why_len, "%s", err);
    return -EINVAL;
}
