/* Configuration-space registers of a function, declared once, and
 * everything derived from pci/pci_fields.h with lib/hw.h's generators.
 *
 * Register blocks: the type-0 header (absolute offsets) and one block per
 * capability (offsets relative to where the builder places it).
 *   B(NAME, SIZE, CAP_ID, EXTENDED, "description")
 * Registers:
 *   R(NAME, BLOCK, OFFSET, BYTES, LAYOUT, RESET, WMASK, W1C, WO, HOOK)
 *   RESET   reset value; fields that depend on the function (IDs, class,
 *           BAR type, capability parameters, next pointers) are filled in by
 *           the builder (pci/config_caps.c) and become part of its reset image.
 *   WMASK   RW bits; W1C RW1C bits; WO write-only bits (the write acts,
 *           reads return 0). Every other bit is read-only; bits no field
 *           covers are reserved and read 0. BAR masks are set per BAR by
 *           pci_add_bar (size-dependent), MSI mask bits and PASID control
 *           bits are narrowed by the builder to what the function supports.
 *   HOOK    side effect after a write (pci_hook_<HOOK> in config_hooks.c).
 * Compile-time checks below: every bit a register declares lies in a field
 * of its layout, the layout fits the register width, masks are disjoint,
 * registers are naturally aligned, lie inside their block and never
 * overlap another register of the block. */
#ifndef VSVM_PCI_PCI_REGS_H
#define VSVM_PCI_PCI_REGS_H

#include "lib/hw.h"
#include "pci/pci_fields.h"

/* ---- structures: ids, positions, checks (lib/hw.h generators) --------- */
enum pci_struct_id {
#define PCIS_ID(ID, NAME, NQ, DESC) PCIS_##ID,
    PCI_STRUCTS(PCIS_ID)
#undef PCIS_ID
    PCIS_COUNT
};

enum {
#define PCIS_QW(ID, NAME, NQ, DESC) ID##__QWORDS = NQ,
    PCI_STRUCTS(PCIS_QW)
#undef PCIS_QW
};

enum { PCI_STRUCTS(HWS_POS) };
PCI_STRUCTS(HWS_CHECK_FIELDS)
PCI_STRUCTS(HWS_CHECK_OVERLAP)

extern const struct hw_struct_desc pci_structs[PCIS_COUNT];
/* Looks a structure up by decode name or id (case-insensitive); NULL if none. */
const struct hw_struct_desc *pci_struct_find(const char *name);

/* ---- register blocks -------------------------------------------------- */
#define PCI_BLKS(B) \
    B(HDR,   64, 0x00, 0, "type-0 configuration header (§7.5.1)") \
    B(PCIE,  60, 0x10, 0, "PCI Express capability, version 2 (§7.5.3)") \
    B(MSI,   24, 0x05, 0, "MSI capability, 64-bit, per-vector masking (§7.7.1)") \
    B(ATS,    8, 0x0F, 1, "ATS extended capability (§10.5.1)") \
    B(PASID,  8, 0x1B, 1, "PASID extended capability (§7.8.8)") \
    B(PRI,   16, 0x13, 1, "Page Request extended capability (§10.5.2)")

enum pci_blk {
#define PCIB_ID(N, SZ, ID, EXT, D) PCI_BLK_##N,
    PCI_BLKS(PCIB_ID)
#undef PCIB_ID
    PCI_BLK_COUNT
};

enum {
#define PCIB_SZ(N, SZ, ID, EXT, D) PCI_BLK_SIZE_##N = (SZ), PCI_BLK_CAPID_##N = (ID),
    PCI_BLKS(PCIB_SZ)
#undef PCIB_SZ
};

/* ---- the register table ----------------------------------------------- */
#define PCI_M(S, F)    HW_FM(S, F)
#define PCI_V(S, F, v) HW_FMK(S, F, v)

#define PCI_CMD_WMASK \
    (PCI_M(PCI_CMD, MEM) | PCI_M(PCI_CMD, BME) | PCI_M(PCI_CMD, PERR) | PCI_M(PCI_CMD, SERR) | \
     PCI_M(PCI_CMD, INTXD))
#define PCI_STS_W1C \
    (PCI_M(PCI_STS, MDPE) | PCI_M(PCI_STS, STA) | PCI_M(PCI_STS, RTA) | PCI_M(PCI_STS, RMA) | \
     PCI_M(PCI_STS, SSE) | PCI_M(PCI_STS, DPE))
/* Decision (§7.5.3.4): Phantom Functions, Aux Power PM and Initiate FLR are
 * hardwired 0 because DEVCAP advertises none of them. Reset: relaxed
 * ordering and no snoop enabled, MRRS 512 bytes, as the spec's defaults. */
#define PCIE_DEVCTL_WMASK \
    (PCI_M(PCIE_DEVCTL, CERE) | PCI_M(PCIE_DEVCTL, NFERE) | PCI_M(PCIE_DEVCTL, FERE) | \
     PCI_M(PCIE_DEVCTL, URRE) | PCI_M(PCIE_DEVCTL, RO) | PCI_M(PCIE_DEVCTL, MPS) | \
     PCI_M(PCIE_DEVCTL, EXTTAG) | PCI_M(PCIE_DEVCTL, NOSNOOP) | PCI_M(PCIE_DEVCTL, MRRS))
#define PCIE_DEVCTL_RESET \
    (PCI_M(PCIE_DEVCTL, RO) | PCI_M(PCIE_DEVCTL, NOSNOOP) | PCI_V(PCIE_DEVCTL, MRRS, 2))
#define PCIE_DEVSTA_W1C \
    (PCI_M(PCIE_DEVSTA, CED) | PCI_M(PCIE_DEVSTA, NFED) | PCI_M(PCIE_DEVSTA, FED) | PCI_M(PCIE_DEVSTA, URD))
/* Decision (§7.5.3.3): MPSS = 256 bytes (Linux programs an RCiEP's MPS to
 * its maximum), 8-bit tags, role-based error reporting (required of every
 * PCIe 1.1+ function). No FLR, no phantom functions. */
#define PCIE_DEVCAP_RESET \
    (PCI_V(PCIE_DEVCAP, MPSS, 1) | PCI_M(PCIE_DEVCAP, EXTTAG) | PCI_M(PCIE_DEVCAP, RBER))
/* §7.5.3.15: End-End TLP Prefix Supported (bit 21, required by Linux before
 * it enables PASID) needs Extended Fmt Field Supported (bit 20). Decision:
 * Max End-End TLP Prefixes = 1 (01b): the only prefix sent is PASID. No
 * optional DEVCTL2 feature is supported, so DEVCTL2 is all read-only 0. */
#define PCIE_DEVCAP2_RESET \
    (PCI_M(PCIE_DEVCAP2, EXTFMT) | PCI_M(PCIE_DEVCAP2, EETLP) | PCI_V(PCIE_DEVCAP2, MAXEETLP, 1))
#define PCIE_CAPS_RESET (PCI_V(PCIE_CAPS, VER, 2) | PCI_V(PCIE_CAPS, TYPE, 9))
#define PCI_CAPHDR_RESET(id) PCI_V(PCI_CAPHDR, ID, id)
#define PCI_EXTHDR_RESET(id) (PCI_V(PCI_EXTHDR, ID, id) | PCI_V(PCI_EXTHDR, VER, 1))
#define PCI_PRISTS_RESET (PCI_M(PCI_PRISTS, STOPPED) | PCI_M(PCI_PRISTS, PASIDREQ))

#define PCI_REGS(R) \
    R(VENDOR,    HDR, 0x00, 2, PCI_ID,       0, 0, 0, 0, none) \
    R(DEVICE,    HDR, 0x02, 2, PCI_ID,       0, 0, 0, 0, none) \
    R(COMMAND,   HDR, 0x04, 2, PCI_CMD,      0, PCI_CMD_WMASK, 0, 0, command) \
    R(STATUS,    HDR, 0x06, 2, PCI_STS,      0, 0, PCI_STS_W1C, 0, none) \
    R(REVCLASS,  HDR, 0x08, 4, PCI_REVCLASS, 0, 0, 0, 0, none) \
    R(CLS,       HDR, 0x0C, 1, PCI_CLS,      0, PCI_M(PCI_CLS, CLS), 0, 0, none) \
    R(HDRTYPE,   HDR, 0x0E, 1, PCI_HDRTYPE,  0, 0, 0, 0, none) \
    R(BAR0,      HDR, 0x10, 4, PCI_BAR,      0, 0, 0, 0, bar) \
    R(BAR1,      HDR, 0x14, 4, PCI_BAR,      0, 0, 0, 0, bar) \
    R(BAR2,      HDR, 0x18, 4, PCI_BAR,      0, 0, 0, 0, bar) \
    R(BAR3,      HDR, 0x1C, 4, PCI_BAR,      0, 0, 0, 0, bar) \
    R(BAR4,      HDR, 0x20, 4, PCI_BAR,      0, 0, 0, 0, bar) \
    R(BAR5,      HDR, 0x24, 4, PCI_BAR,      0, 0, 0, 0, bar) \
    R(SUBVENDOR, HDR, 0x2C, 2, PCI_ID,       0, 0, 0, 0, none) \
    R(SUBSYSTEM, HDR, 0x2E, 2, PCI_ID,       0, 0, 0, 0, none) \
    R(CAPPTR,    HDR, 0x34, 1, PCI_CAPPTR,   0, 0, 0, 0, none) \
    R(INTLINE,   HDR, 0x3C, 1, PCI_INTLINE,  0, PCI_M(PCI_INTLINE, LINE), 0, 0, none) \
    R(INTPIN,    HDR, 0x3D, 1, PCI_INTPIN,   0, 0, 0, 0, none) \
    R(PCIE_HDR,  PCIE, 0x00, 2, PCI_CAPHDR,  PCI_CAPHDR_RESET(0x10), 0, 0, 0, none) \
    R(PCIE_CAPS, PCIE, 0x02, 2, PCIE_CAPS,   PCIE_CAPS_RESET, 0, 0, 0, none) \
    R(DEVCAP,    PCIE, 0x04, 4, PCIE_DEVCAP, PCIE_DEVCAP_RESET, 0, 0, 0, none) \
    R(DEVCTL,    PCIE, 0x08, 2, PCIE_DEVCTL, PCIE_DEVCTL_RESET, PCIE_DEVCTL_WMASK, 0, 0, none) \
    R(DEVSTA,    PCIE, 0x0A, 2, PCIE_DEVSTA, 0, 0, PCIE_DEVSTA_W1C, 0, none) \
    R(DEVCAP2,   PCIE, 0x24, 4, PCIE_DEVCAP2, PCIE_DEVCAP2_RESET, 0, 0, 0, none) \
    R(DEVCTL2,   PCIE, 0x28, 2, PCIE_DEVCTL2, 0, 0, 0, 0, none) \
    R(MSI_HDR,   MSI, 0x00, 2, PCI_CAPHDR,   PCI_CAPHDR_RESET(0x05), 0, 0, 0, none) \
    R(MSI_CTL,   MSI, 0x02, 2, PCI_MSICTL,   PCI_M(PCI_MSICTL, A64) | PCI_M(PCI_MSICTL, PVM), \
                                             PCI_M(PCI_MSICTL, EN) | PCI_M(PCI_MSICTL, MME), 0, 0, msi_ctl) \
    R(MSI_ADDR,  MSI, 0x04, 4, PCI_MSIADDR,  0, PCI_M(PCI_MSIADDR, ADDR), 0, 0, msi_addr) \
    R(MSI_UADDR, MSI, 0x08, 4, PCI_MSIUADDR, 0, PCI_M(PCI_MSIUADDR, ADDR), 0, 0, msi_addr) \
    R(MSI_DATA,  MSI, 0x0C, 2, PCI_MSIDATA,  0, PCI_M(PCI_MSIDATA, DATA), 0, 0, msi_data) \
    R(MSI_MASK,  MSI, 0x10, 4, PCI_MSIVEC,   0, PCI_M(PCI_MSIVEC, BITS), 0, 0, msi_mask) \
    R(MSI_PEND,  MSI, 0x14, 4, PCI_MSIVEC,   0, 0, 0, 0, none) \
    R(ATS_HDR,   ATS, 0x00, 4, PCI_EXTHDR,   PCI_EXTHDR_RESET(0x0F), 0, 0, 0, none) \
    R(ATS_CAP,   ATS, 0x04, 2, PCI_ATSCAP,   PCI_M(PCI_ATSCAP, PAR), 0, 0, 0, none) \
    R(ATS_CTL,   ATS, 0x06, 2, PCI_ATSCTL,   0, PCI_M(PCI_ATSCTL, STU) | PCI_M(PCI_ATSCTL, EN), 0, 0, ats_ctl) \
    R(PASID_HDR, PASID, 0x00, 4, PCI_EXTHDR, PCI_EXTHDR_RESET(0x1B), 0, 0, 0, none) \
    R(PASID_CAP, PASID, 0x04, 2, PCI_PASIDCAP, 0, 0, 0, 0, none) \
    R(PASID_CTL, PASID, 0x06, 2, PCI_PASIDCTL, 0, PCI_M(PCI_PASIDCTL, EN) | PCI_M(PCI_PASIDCTL, EXEC) | \
                                              PCI_M(PCI_PASIDCTL, PRIV), 0, 0, pasid_ctl) \
    R(PRI_HDR,   PRI, 0x00, 4, PCI_EXTHDR,   PCI_EXTHDR_RESET(0x13), 0, 0, 0, none) \
    R(PRI_CTL,   PRI, 0x04, 2, PCI_PRICTL,   0, PCI_M(PCI_PRICTL, EN), 0, PCI_M(PCI_PRICTL, RESET), pri_ctl) \
    R(PRI_STS,   PRI, 0x06, 2, PCI_PRISTS,   PCI_PRISTS_RESET, 0, \
                                             PCI_M(PCI_PRISTS, RF) | PCI_M(PCI_PRISTS, UPRGI), 0, none) \
    R(PRI_CAP,   PRI, 0x08, 4, PCI_PRICAP,   0, 0, 0, 0, none) \
    R(PRI_ALLOC, PRI, 0x0C, 4, PCI_PRIALLOC, 0, PCI_M(PCI_PRIALLOC, ALLOC), 0, 0, pri_alloc)

enum pci_reg_id {
#define PCIR_ID(N, B, O, W, S, RST, WM, W1C, WO, H) PCI_REG_##N,
    PCI_REGS(PCIR_ID)
#undef PCIR_ID
    PCI_REG_COUNT
};

/* PCI_OFF_<NAME>: offset inside its block (absolute for the header). */
enum {
#define PCIR_OFF(N, B, O, W, S, RST, WM, W1C, WO, H) PCI_OFF_##N = (O),
    PCI_REGS(PCIR_OFF)
#undef PCIR_OFF
};

struct pci_reg_desc {
    const char *name;
    enum pci_blk blk;
    uint8_t off, bytes;
    enum pci_struct_id layout;
    uint32_t reset, wmask, w1c, wo;
};

extern const struct pci_reg_desc pci_regs[PCI_REG_COUNT];

/* ---- compile-time checks on the register table ------------------------ */
#define PCIR_ALL(RST, WM, W1C, WO) ((uint64_t)(RST) | (WM) | (W1C) | (WO))
#define PCIR_CHECK(N, B, O, W, S, RST, WM, W1C, WO, H) \
    _Static_assert((PCIR_ALL(RST, WM, W1C, WO) & ~HW_DEFINED(S, 0)) == 0, \
                   #N ": a reset or writable bit lies in no field of " #S); \
    _Static_assert(((WM) & (W1C)) == 0 && ((WO) & ((WM) | (W1C))) == 0, \
                   #N ": a bit has two write semantics"); \
    _Static_assert(((W) == 1 || (W) == 2 || (W) == 4) && (O) % (W) == 0, \
                   #N ": register not 1/2/4 bytes naturally aligned"); \
    _Static_assert((O) + (W) <= PCI_BLK_SIZE_##B, #N ": register outside its block"); \
    _Static_assert((HW_DEFINED(S, 0) >> (8 * (W))) == 0, #N ": " #S " is wider than the register");
PCI_REGS(PCIR_CHECK)

/* No two registers of a block overlap: each register contributes one bit
 * per byte at (block % 2) * 64 + offset of sum k = block / 2; disjoint
 * byte masks sum (without carry) to their union. */
#define PCIR_BYTES(B, O, W) ((((hw_u128)1 << (W)) - 1) << ((PCI_BLK_##B % 2) * 64 + (O)))
#define PCIR_IN(k, B, O, W) (PCI_BLK_##B / 2 == (k) ? PCIR_BYTES(B, O, W) : 0)
#define PCIR_SUM0(N, B, O, W, ...) + PCIR_IN(0, B, O, W)
#define PCIR_SUM1(N, B, O, W, ...) + PCIR_IN(1, B, O, W)
#define PCIR_SUM2(N, B, O, W, ...) + PCIR_IN(2, B, O, W)
#define PCIR_OR0(N, B, O, W, ...)  | PCIR_IN(0, B, O, W)
#define PCIR_OR1(N, B, O, W, ...)  | PCIR_IN(1, B, O, W)
#define PCIR_OR2(N, B, O, W, ...)  | PCIR_IN(2, B, O, W)
_Static_assert(PCI_BLK_COUNT <= 6, "extend the overlap sums below");
#define PCIB_CHECK(N, SZ, ID, EXT, D) \
    _Static_assert((SZ) % 4 == 0 && (SZ) <= 64, #N ": block not dwords or over 64 bytes");
PCI_BLKS(PCIB_CHECK)
_Static_assert(((hw_u128)0 PCI_REGS(PCIR_SUM0)) == ((hw_u128)0 PCI_REGS(PCIR_OR0)),
               "two registers overlap in block 0 or 1");
_Static_assert(((hw_u128)0 PCI_REGS(PCIR_SUM1)) == ((hw_u128)0 PCI_REGS(PCIR_OR1)),
               "two registers overlap in block 2 or 3");
_Static_assert(((hw_u128)0 PCI_REGS(PCIR_SUM2)) == ((hw_u128)0 PCI_REGS(PCIR_OR2)),
               "two registers overlap in block 4 or 5");

#endif
