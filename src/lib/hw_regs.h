/* VT-d register file, declared once (vtd-reference.md §1.1).
 * R(NAME, OFFSET, BYTES, STRUCT, RESET, WMASK, W1C, HOOK)
 *   OFFSET  byte offset from the unit's register base; IVA/IOTLB and FRCD
 *           are placed by ECAP.IRO / CAP.FRO (REG_OFF_DYNAMIC here).
 *   RESET   reset value (VER/CAP/ECAP come from the unit's configuration).
 *   WMASK   bits software can write; W1C bits software clears by writing 1.
 *           Capability-dependent narrowing (a register that exists only with
 *           a capability) is applied by the unit at creation (vtd/regs.c).
 *   HOOK    side effect after a write (vtd_reg_hook_<HOOK>), or none.
 * Decision [UNVERIFIED in §1.10]: FECTL/IECTL/PECTL reset with IM = 1, as
 * VirtualBox and QEMU do and as the Intel datasheets show.
 * PQT is writable by software (reference §1.14 says RO): Linux writes
 * PQT = 0 when it sets the queue up and tears it down, and VirtualBox's
 * write mask for PQT is the PQT field. */
#ifndef VSVM_LIB_HW_REGS_H
#define VSVM_LIB_HW_REGS_H

#include "lib/hw.h"

#define REG_OFF_DYNAMIC 0xFFFFu
#define RF(S, F) HW_FM(S, F)

#define HW_REGS(R) \
    R(VER,     0x000, 4, VER,    0, 0, 0, none) \
    R(CAP,     0x008, 8, CAP,    0, 0, 0, none) \
    R(ECAP,    0x010, 8, ECAP,   0, 0, 0, none) \
    R(GCMD,    0x018, 4, GCMD,   0, HW_DEFINED(GCMD, 0), 0, gcmd) \
    R(GSTS,    0x01C, 4, GSTS,   0, 0, 0, none) \
    R(RTADDR,  0x020, 8, RTADDR, 0, RF(RTADDR, TTM) | RF(RTADDR, RTA), 0, none) \
    R(CCMD,    0x028, 8, CCMD,   0, RF(CCMD, DID) | RF(CCMD, SID) | RF(CCMD, FM) | \
                                    RF(CCMD, CIRG) | RF(CCMD, ICC), 0, ccmd) \
    R(FSTS,    0x034, 4, FSTS,   0, 0, RF(FSTS, PFO) | RF(FSTS, AFO) | RF(FSTS, APF) | \
                                    RF(FSTS, IQE) | RF(FSTS, ICE) | RF(FSTS, ITE), fsts) \
    R(FECTL,   0x038, 4, ECTL,   RF(ECTL, IM), RF(ECTL, IM), 0, fectl) \
    R(FEDATA,  0x03C, 4, EDATA,  0, HW_DEFINED(EDATA, 0), 0, none) \
    R(FEADDR,  0x040, 4, EADDR,  0, RF(EADDR, MA), 0, none) \
    R(FEUADDR, 0x044, 4, EUADDR, 0, RF(EUADDR, MUA), 0, none) \
    R(AFLOG,   0x058, 8, AFLOG,  0, RF(AFLOG, FLS) | RF(AFLOG, FLA), 0, none) \
    R(PMEN,    0x064, 4, PMEN,   0, RF(PMEN, EPM), 0, pmen) \
    R(IQH,     0x080, 8, IQH,    0, 0, 0, none) \
    R(IQT,     0x088, 8, IQT,    0, RF(IQT, QT), 0, iqt) \
    R(IQA,     0x090, 8, IQA,    0, RF(IQA, QS) | RF(IQA, DW) | RF(IQA, IQA), 0, none) \
    R(ICS,     0x09C, 4, ICS,    0, 0, RF(ICS, IWC), ics) \
    R(IECTL,   0x0A0, 4, ECTL,   RF(ECTL, IM), RF(ECTL, IM), 0, iectl) \
    R(IEDATA,  0x0A4, 4, EDATA,  0, HW_DEFINED(EDATA, 0), 0, none) \
    R(IEADDR,  0x0A8, 4, EADDR,  0, RF(EADDR, MA), 0, none) \
    R(IEUADDR, 0x0AC, 4, EUADDR, 0, RF(EUADDR, MUA), 0, none) \
    R(IQERCD,  0x0B0, 8, IQERCD, 0, 0, 0, none) \
    R(IRTA,    0x0B8, 8, IRTA,   0, RF(IRTA, S) | RF(IRTA, EIME) | RF(IRTA, IRTA), 0, none) \
    R(PQH,     0x0C0, 8, PQH,    0, RF(PQH, PQH), 0, none) \
    R(PQT,     0x0C8, 8, PQT,    0, RF(PQT, PQT), 0, none) \
    R(PQA,     0x0D0, 8, PQA,    0, RF(PQA, PQS) | RF(PQA, PQA), 0, none) \
    R(PRS,     0x0DC, 4, PRS,    0, 0, RF(PRS, PPR) | RF(PRS, PRO), prs) \
    R(PECTL,   0x0E0, 4, ECTL,   RF(ECTL, IM), RF(ECTL, IM), 0, pectl) \
    R(PEDATA,  0x0E4, 4, EDATA,  0, HW_DEFINED(EDATA, 0), 0, none) \
    R(PEADDR,  0x0E8, 4, EADDR,  0, RF(EADDR, MA), 0, none) \
    R(PEUADDR, 0x0EC, 4, EUADDR, 0, RF(EUADDR, MUA), 0, none) \
    R(IVA,     REG_OFF_DYNAMIC, 8, IVA,   0, RF(IVA, AM) | RF(IVA, IH) | RF(IVA, ADDR), 0, none) \
    R(IOTLB,   REG_OFF_DYNAMIC, 8, IOTLB, 0, RF(IOTLB, DID) | RF(IOTLB, DW) | RF(IOTLB, DR) | \
                                             RF(IOTLB, IIRG) | RF(IOTLB, IVT), 0, iotlb)

enum vtd_reg_id {
#define HWR_ID(N, O, B, S, RST, WM, W1C, H) REG_##N,
    HW_REGS(HWR_ID)
#undef HWR_ID
    REG_COUNT
};

enum {
#define HWR_OFF(N, O, B, S, RST, WM, W1C, H) REG_OFF_##N = (O),
    HW_REGS(HWR_OFF)
#undef HWR_OFF
};

/* FRCD: 128-bit records at FRO*16 + 16*i (§1.15): QW0 read-only, QW1 has
 * only F (bit 63 of QW1) write-1-to-clear. */
#define FRCD_W1C_QW1 HW_FM(FRCD, F)

struct hw_reg_desc {
    const char *name;
    uint16_t off;
    uint8_t bytes;
    enum hw_struct_id layout;
    uint64_t reset, wmask, w1c;
};

extern const struct hw_reg_desc hw_regs[REG_COUNT];

#endif
