/* The single source of every PCI / PCI Express configuration-space field
 * the pci layer implements. Section numbers are PCI Express Base 5.0 ("PCIe")
 * unless noted. Each structure is one register; bit numbers are relative to
 * that register (LSB = 0), exactly as in the spec's register figures.
 *
 * Same grammar as lib/hw_fields.h: PCI_STRUCTS(S) lists S(ID, "decode-name",
 * qwords, "description"); each structure has HW_FIELDS_<ID>(F) listing
 * F(ID, NAME, HI, LO, "desc"). pci/pci_regs.h runs lib/hw.h's generators
 * over this list (positions, masks, overlap checks, name tables); bits
 * covered by no field are reserved and read as 0.
 *
 * Deliberately absent (hence reserved / hardwired 0 for this model): the
 * Command bits PCIe hardwires to 0 (3 special cycles, 4 MWI, 5 VGA snoop,
 * 7 IDSEL stepping, 9 fast back-to-back; PCIe §7.5.1.1.3), Status 66 MHz /
 * fast back-to-back / DEVSEL (§7.5.1.1.4), Latency Timer and BIST (PCIe
 * hardwires them to 0, §7.5.1.1.8, §7.5.1.1.10), the Link / Slot / Root
 * register sets (absent for a Root Complex Integrated Endpoint, §7.5.3),
 * Device Status 2 and the Link*2 / Slot*2 registers, and MSI Extended
 * Message Data (§7.7.1.6). */
#ifndef VSVM_PCI_PCI_FIELDS_H
#define VSVM_PCI_PCI_FIELDS_H

/* S(ID, "decode-name", qwords, "description") */
#define PCI_STRUCTS(S) \
    S(PCI_ID,       "pci-id",        1, "Vendor / Device / Subsystem ID (§7.5.1.1.1-2, §7.5.1.2.3)") \
    S(PCI_CMD,      "pci-command",   1, "Command register (§7.5.1.1.3)") \
    S(PCI_STS,      "pci-status",    1, "Status register (§7.5.1.1.4)") \
    S(PCI_REVCLASS, "pci-revclass",  1, "Revision ID and Class Code (§7.5.1.1.5-6)") \
    S(PCI_CLS,      "pci-cls",       1, "Cache Line Size (§7.5.1.1.7)") \
    S(PCI_HDRTYPE,  "pci-hdrtype",   1, "Header Type (§7.5.1.1.9)") \
    S(PCI_BAR,      "pci-bar",       1, "Memory Base Address Register (§7.5.1.2.1)") \
    S(PCI_CAPPTR,   "pci-capptr",    1, "Capabilities Pointer (§7.5.1.1.11)") \
    S(PCI_INTLINE,  "pci-intline",   1, "Interrupt Line (§7.5.1.1.12)") \
    S(PCI_INTPIN,   "pci-intpin",    1, "Interrupt Pin (§7.5.1.1.13)") \
    S(PCI_CAPHDR,   "pci-caphdr",    1, "PCI-compatible capability header (§7.5.1.1.11)") \
    S(PCI_EXTHDR,   "pci-exthdr",    1, "Extended capability header (§7.6.3)") \
    S(PCIE_CAPS,    "pcie-caps",     1, "PCI Express Capabilities register (§7.5.3.2)") \
    S(PCIE_DEVCAP,  "pcie-devcap",   1, "Device Capabilities (§7.5.3.3)") \
    S(PCIE_DEVCTL,  "pcie-devctl",   1, "Device Control (§7.5.3.4)") \
    S(PCIE_DEVSTA,  "pcie-devsta",   1, "Device Status (§7.5.3.5)") \
    S(PCIE_DEVCAP2, "pcie-devcap2",  1, "Device Capabilities 2 (§7.5.3.15)") \
    S(PCIE_DEVCTL2, "pcie-devctl2",  1, "Device Control 2 (§7.5.3.16)") \
    S(PCI_MSICTL,   "msi-control",   1, "MSI Message Control (§7.7.1.2)") \
    S(PCI_MSIADDR,  "msi-address",   1, "MSI Message Address (§7.7.1.3)") \
    S(PCI_MSIUADDR, "msi-uaddress",  1, "MSI Message Upper Address (§7.7.1.4)") \
    S(PCI_MSIDATA,  "msi-data",      1, "MSI Message Data (§7.7.1.5)") \
    S(PCI_MSIVEC,   "msi-vectors",   1, "MSI Mask / Pending Bits (§7.7.1.7-8)") \
    S(PCI_ATSCAP,   "ats-cap",       1, "ATS Capability register (§10.5.1.2)") \
    S(PCI_ATSCTL,   "ats-control",   1, "ATS Control register (§10.5.1.3)") \
    S(PCI_PASIDCAP, "pasid-cap",     1, "PASID Capability register (§7.8.8.2)") \
    S(PCI_PASIDCTL, "pasid-control", 1, "PASID Control register (§7.8.8.3)") \
    S(PCI_PRICTL,   "pri-control",   1, "Page Request Control (§10.5.2.2)") \
    S(PCI_PRISTS,   "pri-status",    1, "Page Request Status (§10.5.2.3)") \
    S(PCI_PRICAP,   "pri-capacity",  1, "Outstanding Page Request Capacity (§10.5.2.4)") \
    S(PCI_PRIALLOC, "pri-alloc",     1, "Outstanding Page Request Allocation (§10.5.2.5)")

/* ---- type-0 header ---------------------------------------------------- */
#define HW_FIELDS_PCI_ID(F) \
    F(PCI_ID, ID, 15, 0, "identifier")

#define HW_FIELDS_PCI_CMD(F) \
    F(PCI_CMD, IO,     0,  0, "I/O space enable (no I/O BARs: hardwired 0)") \
    F(PCI_CMD, MEM,    1,  1, "memory space enable") \
    F(PCI_CMD, BME,    2,  2, "bus master enable (also gates MSI)") \
    F(PCI_CMD, PERR,   6,  6, "parity error response") \
    F(PCI_CMD, SERR,   8,  8, "SERR# enable") \
    F(PCI_CMD, INTXD, 10, 10, "INTx emulation disable")

#define HW_FIELDS_PCI_STS(F) \
    F(PCI_STS, INTS,  3,  3, "INTx status") \
    F(PCI_STS, CAPL,  4,  4, "capabilities list present") \
    F(PCI_STS, MDPE,  8,  8, "master data parity error") \
    F(PCI_STS, STA,  11, 11, "signaled target abort") \
    F(PCI_STS, RTA,  12, 12, "received target abort") \
    F(PCI_STS, RMA,  13, 13, "received master abort") \
    F(PCI_STS, SSE,  14, 14, "signaled system error") \
    F(PCI_STS, DPE,  15, 15, "detected parity error")

#define HW_FIELDS_PCI_REVCLASS(F) \
    F(PCI_REVCLASS, REV,     7,  0, "revision ID") \
    F(PCI_REVCLASS, PROGIF, 15,  8, "programming interface") \
    F(PCI_REVCLASS, SUB,    23, 16, "sub-class code") \
    F(PCI_REVCLASS, BASE,   31, 24, "base class code")

#define HW_FIELDS_PCI_CLS(F) \
    F(PCI_CLS, CLS, 7, 0, "cache line size (no effect on PCIe)")

#define HW_FIELDS_PCI_HDRTYPE(F) \
    F(PCI_HDRTYPE, LAYOUT, 6, 0, "header layout: 0 type 0") \
    F(PCI_HDRTYPE, MF,     7, 7, "multi-function device")

#define HW_FIELDS_PCI_BAR(F) \
    F(PCI_BAR, IO,    0, 0, "space indicator: 0 memory") \
    F(PCI_BAR, TYPE,  2, 1, "memory type: 0 32-bit, 2 64-bit") \
    F(PCI_BAR, PREF,  3, 3, "prefetchable") \
    F(PCI_BAR, ADDR, 31, 4, "base address (upper half of a 64-bit BAR: bits 31:0)")

/* Bits 1:0 of a capability pointer are reserved: the builder only places
 * capabilities on dword boundaries, and Linux masks them off (0x3). */
#define HW_FIELDS_PCI_CAPPTR(F) \
    F(PCI_CAPPTR, PTR, 7, 0, "offset of the first capability")

#define HW_FIELDS_PCI_INTLINE(F) \
    F(PCI_INTLINE, LINE, 7, 0, "interrupt line (software scratch)")

#define HW_FIELDS_PCI_INTPIN(F) \
    F(PCI_INTPIN, PIN, 7, 0, "interrupt pin: 0 none, 1-4 INTA-INTD")

/* ---- capability headers ----------------------------------------------- */
#define HW_FIELDS_PCI_CAPHDR(F) \
    F(PCI_CAPHDR, ID,    7, 0, "capability ID") \
    F(PCI_CAPHDR, NEXT, 15, 8, "next capability pointer (0 = end)")

#define HW_FIELDS_PCI_EXTHDR(F) \
    F(PCI_EXTHDR, ID,   15,  0, "extended capability ID") \
    F(PCI_EXTHDR, VER,  19, 16, "capability version") \
    F(PCI_EXTHDR, NEXT, 31, 20, "next capability offset (0 = end)")

/* ---- PCI Express capability (§7.5.3) ----------------------------------- */
#define HW_FIELDS_PCIE_CAPS(F) \
    F(PCIE_CAPS, VER,   3, 0, "capability version") \
    F(PCIE_CAPS, TYPE,  7, 4, "device/port type: 9 RC integrated endpoint") \
    F(PCIE_CAPS, SLOT,  8, 8, "slot implemented") \
    F(PCIE_CAPS, IMN,  13, 9, "interrupt message number")

#define HW_FIELDS_PCIE_DEVCAP(F) \
    F(PCIE_DEVCAP, MPSS,     2,  0, "max payload size supported: 128 << MPSS") \
    F(PCIE_DEVCAP, PHANTOM,  4,  3, "phantom functions supported") \
    F(PCIE_DEVCAP, EXTTAG,   5,  5, "extended (8-bit) tag field supported") \
    F(PCIE_DEVCAP, L0S,      8,  6, "endpoint L0s acceptable latency") \
    F(PCIE_DEVCAP, L1,      11,  9, "endpoint L1 acceptable latency") \
    F(PCIE_DEVCAP, RBER,    15, 15, "role-based error reporting") \
    F(PCIE_DEVCAP, ERRCOR,  16, 16, "ERR_COR subclass capable") \
    F(PCIE_DEVCAP, SPLV,    25, 18, "captured slot power limit value") \
    F(PCIE_DEVCAP, SPLS,    27, 26, "captured slot power limit scale") \
    F(PCIE_DEVCAP, FLR,     28, 28, "function level reset capable")

#define HW_FIELDS_PCIE_DEVCTL(F) \
    F(PCIE_DEVCTL, CERE,     0,  0, "correctable error reporting enable") \
    F(PCIE_DEVCTL, NFERE,    1,  1, "non-fatal error reporting enable") \
    F(PCIE_DEVCTL, FERE,     2,  2, "fatal error reporting enable") \
    F(PCIE_DEVCTL, URRE,     3,  3, "unsupported request reporting enable") \
    F(PCIE_DEVCTL, RO,       4,  4, "enable relaxed ordering") \
    F(PCIE_DEVCTL, MPS,      7,  5, "max payload size: 128 << MPS") \
    F(PCIE_DEVCTL, EXTTAG,   8,  8, "extended tag field enable") \
    F(PCIE_DEVCTL, PHANTOM,  9,  9, "phantom functions enable") \
    F(PCIE_DEVCTL, AUXPM,   10, 10, "aux power PM enable") \
    F(PCIE_DEVCTL, NOSNOOP, 11, 11, "enable no snoop") \
    F(PCIE_DEVCTL, MRRS,    14, 12, "max read request size: 128 << MRRS") \
    F(PCIE_DEVCTL, FLR,     15, 15, "initiate function level reset")

#define HW_FIELDS_PCIE_DEVSTA(F) \
    F(PCIE_DEVSTA, CED,   0, 0, "correctable error detected") \
    F(PCIE_DEVSTA, NFED,  1, 1, "non-fatal error detected") \
    F(PCIE_DEVSTA, FED,   2, 2, "fatal error detected") \
    F(PCIE_DEVSTA, URD,   3, 3, "unsupported request detected") \
    F(PCIE_DEVSTA, AUXPD, 4, 4, "aux power detected") \
    F(PCIE_DEVSTA, TRPND, 5, 5, "transactions pending")

#define HW_FIELDS_PCIE_DEVCAP2(F) \
    F(PCIE_DEVCAP2, CTRS,       3,  0, "completion timeout ranges supported") \
    F(PCIE_DEVCAP2, CTDS,       4,  4, "completion timeout disable supported") \
    F(PCIE_DEVCAP2, ARI,        5,  5, "ARI forwarding supported (ports)") \
    F(PCIE_DEVCAP2, AOROUTE,    6,  6, "AtomicOp routing supported (ports)") \
    F(PCIE_DEVCAP2, AO32,       7,  7, "32-bit AtomicOp completer supported") \
    F(PCIE_DEVCAP2, AO64,       8,  8, "64-bit AtomicOp completer supported") \
    F(PCIE_DEVCAP2, CAS128,     9,  9, "128-bit CAS completer supported") \
    F(PCIE_DEVCAP2, NOROPRPR,  10, 10, "no RO-enabled PR-PR passing") \
    F(PCIE_DEVCAP2, LTR,       11, 11, "LTR mechanism supported") \
    F(PCIE_DEVCAP2, TPH,       13, 12, "TPH completer supported") \
    F(PCIE_DEVCAP2, LNCLS,     15, 14, "LN system CLS") \
    F(PCIE_DEVCAP2, TAG10CPL,  16, 16, "10-bit tag completer supported") \
    F(PCIE_DEVCAP2, TAG10REQ,  17, 17, "10-bit tag requester supported") \
    F(PCIE_DEVCAP2, OBFF,      19, 18, "OBFF supported") \
    F(PCIE_DEVCAP2, EXTFMT,    20, 20, "extended fmt field supported") \
    F(PCIE_DEVCAP2, EETLP,     21, 21, "end-end TLP prefix supported") \
    F(PCIE_DEVCAP2, MAXEETLP,  23, 22, "max end-end TLP prefixes: 0 = 4, else n") \
    F(PCIE_DEVCAP2, EPR,       25, 24, "emergency power reduction supported") \
    F(PCIE_DEVCAP2, EPRINIT,   26, 26, "emergency power reduction init required") \
    F(PCIE_DEVCAP2, FRS,       31, 31, "FRS supported")

#define HW_FIELDS_PCIE_DEVCTL2(F) \
    F(PCIE_DEVCTL2, CTV,        3,  0, "completion timeout value") \
    F(PCIE_DEVCTL2, CTD,        4,  4, "completion timeout disable") \
    F(PCIE_DEVCTL2, ARI,        5,  5, "ARI forwarding enable (ports)") \
    F(PCIE_DEVCTL2, AOREQ,      6,  6, "AtomicOp requester enable") \
    F(PCIE_DEVCTL2, AOBLOCK,    7,  7, "AtomicOp egress blocking (ports)") \
    F(PCIE_DEVCTL2, IDOREQ,     8,  8, "IDO request enable") \
    F(PCIE_DEVCTL2, IDOCPL,     9,  9, "IDO completion enable") \
    F(PCIE_DEVCTL2, LTR,       10, 10, "LTR mechanism enable") \
    F(PCIE_DEVCTL2, EPRREQ,    11, 11, "emergency power reduction request") \
    F(PCIE_DEVCTL2, TAG10REQ,  12, 12, "10-bit tag requester enable") \
    F(PCIE_DEVCTL2, OBFF,      14, 13, "OBFF enable") \
    F(PCIE_DEVCTL2, EETLPBLK,  15, 15, "end-end TLP prefix blocking (ports)")

/* ---- MSI capability (§7.7.1) ------------------------------------------ */
#define HW_FIELDS_PCI_MSICTL(F) \
    F(PCI_MSICTL, EN,    0,  0, "MSI enable") \
    F(PCI_MSICTL, MMC,   3,  1, "multiple message capable: 2^MMC vectors") \
    F(PCI_MSICTL, MME,   6,  4, "multiple message enable: 2^MME vectors") \
    F(PCI_MSICTL, A64,   7,  7, "64-bit address capable") \
    F(PCI_MSICTL, PVM,   8,  8, "per-vector masking capable") \
    F(PCI_MSICTL, EMD,   9,  9, "extended message data capable") \
    F(PCI_MSICTL, EMDE, 10, 10, "extended message data enable")

#define HW_FIELDS_PCI_MSIADDR(F) \
    F(PCI_MSIADDR, ADDR, 31, 2, "message address 31:2 (dword aligned)")

#define HW_FIELDS_PCI_MSIUADDR(F) \
    F(PCI_MSIUADDR, ADDR, 31, 0, "message address 63:32")

#define HW_FIELDS_PCI_MSIDATA(F) \
    F(PCI_MSIDATA, DATA, 15, 0, "message data")

#define HW_FIELDS_PCI_MSIVEC(F) \
    F(PCI_MSIVEC, BITS, 31, 0, "one bit per vector")

/* ---- ATS (§10.5.1) ---------------------------------------------------- */
#define HW_FIELDS_PCI_ATSCAP(F) \
    F(PCI_ATSCAP, INVQD, 4, 0, "invalidate queue depth (0 = 32)") \
    F(PCI_ATSCAP, PAR,   5, 5, "page aligned request") \
    F(PCI_ATSCAP, GIS,   6, 6, "global invalidate supported") \
    F(PCI_ATSCAP, RO,    7, 7, "relaxed ordering supported")

#define HW_FIELDS_PCI_ATSCTL(F) \
    F(PCI_ATSCTL, STU,  4,  0, "smallest translation unit: 4 KiB << STU") \
    F(PCI_ATSCTL, EN,  15, 15, "ATS enable")

/* ---- PASID (§7.8.8) --------------------------------------------------- */
#define HW_FIELDS_PCI_PASIDCAP(F) \
    F(PCI_PASIDCAP, EXEC,   1, 1, "execute permission supported") \
    F(PCI_PASIDCAP, PRIV,   2, 2, "privileged mode supported") \
    F(PCI_PASIDCAP, WIDTH, 12, 8, "max PASID width (0-20)")

#define HW_FIELDS_PCI_PASIDCTL(F) \
    F(PCI_PASIDCTL, EN,   0, 0, "PASID enable") \
    F(PCI_PASIDCTL, EXEC, 1, 1, "execute permission enable") \
    F(PCI_PASIDCTL, PRIV, 2, 2, "privileged mode enable")

/* ---- Page Request Interface (§10.5.2) --------------------------------- */
#define HW_FIELDS_PCI_PRICTL(F) \
    F(PCI_PRICTL, EN,    0, 0, "enable") \
    F(PCI_PRICTL, RESET, 1, 1, "reset (write-only, reads 0)")

#define HW_FIELDS_PCI_PRISTS(F) \
    F(PCI_PRISTS, RF,        0,  0, "response failure (RW1C)") \
    F(PCI_PRISTS, UPRGI,     1,  1, "unexpected page request group index (RW1C)") \
    F(PCI_PRISTS, STOPPED,   8,  8, "stopped: disabled and nothing outstanding") \
    F(PCI_PRISTS, PASIDREQ, 15, 15, "PRG response PASID required")

#define HW_FIELDS_PCI_PRICAP(F) \
    F(PCI_PRICAP, CAP, 31, 0, "outstanding page request capacity")

#define HW_FIELDS_PCI_PRIALLOC(F) \
    F(PCI_PRIALLOC, ALLOC, 31, 0, "outstanding page request allocation")

#endif
