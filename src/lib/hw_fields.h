/* The single source of every VT-d hardware field (registers, translation
 * structures, descriptors, records). Bit numbers are absolute over the
 * structure (QW1 bit 0 = bit 64), LSB = 0, exactly as in
 * ../shared/spec/vtd-reference.md (section in each header comment).
 *
 * Each structure S has a list HW_FIELDS_S(F) of F(S, NAME, HI, LO, "desc").
 * Bits covered by no field are reserved: lib/hw.h derives accessors,
 * reserved masks, name tables and compile-time overlap checks from this
 * file, and nothing else defines a bit position.
 *
 * Deliberately absent (hence reserved): fields that current revisions made
 * reserved (CAP.ISOCH 23, ECAP.CH 5, ECAP.ECS 24, ECAP.DIS 27, the rev-2.x
 * PASID bit 28, ECAP.POT 32, ECAP.TDXIO 50 (only in one source), FSTS.PRO 7). */
#ifndef VSVM_LIB_HW_FIELDS_H
#define VSVM_LIB_HW_FIELDS_H

/* S(ID, "decode-name", qwords, "description") */
#define HW_STRUCTS(S) \
    S(VER,        "ver",             1, "Version register (§1.2)") \
    S(CAP,        "cap",             1, "Capability register (§1.3)") \
    S(ECAP,       "ecap",            1, "Extended capability register (§1.4)") \
    S(GCMD,       "gcmd",            1, "Global command register (§1.5)") \
    S(GSTS,       "gsts",            1, "Global status register (§1.5)") \
    S(RTADDR,     "rtaddr",          1, "Root table address register (§1.6)") \
    S(CCMD,       "ccmd",            1, "Context command register (§1.7)") \
    S(IVA,        "iva",             1, "Invalidate address register (§1.8)") \
    S(IOTLB,      "iotlb",           1, "IOTLB invalidate register (§1.8)") \
    S(FSTS,       "fsts",            1, "Fault status register (§1.9)") \
    S(ECTL,       "ectl",            1, "Fault/invalidation/page-request event control (§1.10)") \
    S(EDATA,      "edata",           1, "Event interrupt data (§1.10)") \
    S(EADDR,      "eaddr",           1, "Event interrupt address (§1.10)") \
    S(EUADDR,     "euaddr",          1, "Event interrupt upper address (§1.10)") \
    S(AFLOG,      "aflog",           1, "Advanced fault log register (§1.11)") \
    S(PMEN,       "pmen",            1, "Protected memory enable register (§1.11)") \
    S(IQH,        "iqh",             1, "Invalidation queue head (§1.12)") \
    S(IQT,        "iqt",             1, "Invalidation queue tail (§1.12)") \
    S(IQA,        "iqa",             1, "Invalidation queue address (§1.12)") \
    S(ICS,        "ics",             1, "Invalidation completion status (§1.12)") \
    S(IQERCD,     "iqercd",          1, "Invalidation queue error record (§1.12)") \
    S(IRTA,       "irta",            1, "Interrupt remapping table address (§1.13)") \
    S(PQH,        "pqh",             1, "Page request queue head (§1.14)") \
    S(PQT,        "pqt",             1, "Page request queue tail (§1.14)") \
    S(PQA,        "pqa",             1, "Page request queue address (§1.14)") \
    S(PRS,        "prs",             1, "Page request status (§1.14)") \
    S(FRCD,       "fault-record",    2, "Fault recording register (§1.15)") \
    S(ROOT,       "root-entry",      2, "Legacy root entry (§2.2)") \
    S(CTX,        "context-entry",   2, "Legacy context entry (§2.3)") \
    S(SM_ROOT,    "sm-root-entry",   2, "Scalable-mode root entry (§2.7)") \
    S(SM_CTX,     "sm-context-entry",4, "Scalable-mode context entry (§2.8)") \
    S(PASID_DIR,  "pasid-dir-entry", 1, "PASID directory entry (§2.9)") \
    S(PASID_PTE,  "pasid-entry",     8, "Scalable-mode PASID-table entry (§2.10)") \
    S(FL_PTE,     "fl-pte",          1, "First-level paging entry, IA-32e format (§3.4)") \
    S(SL_PTE,     "sl-pte",          1, "Second-level paging entry (§3.2)") \
    S(INV_DESC,   "inv-desc",        4, "Invalidation descriptor type (§4.1)") \
    S(INV_CC,     "inv-cc",          4, "Context-cache invalidate descriptor (§4.3)") \
    S(INV_IOTLB,  "inv-iotlb",       4, "IOTLB invalidate descriptor (§4.4)") \
    S(INV_DEVTLB, "inv-devtlb",      4, "Device-TLB invalidate descriptor (§4.5)") \
    S(INV_IEC,    "inv-iec",         4, "Interrupt-entry-cache invalidate descriptor (§4.6)") \
    S(INV_WAIT,   "inv-wait",        4, "Invalidation wait descriptor (§4.7)") \
    S(INV_PIOTLB, "inv-piotlb",      4, "PASID-based IOTLB invalidate descriptor (§4.8)") \
    S(INV_PC,     "inv-pc",          4, "PASID-cache invalidate descriptor (§4.8)") \
    S(INV_PDEVTLB,"inv-pdevtlb",     4, "PASID-based device-TLB invalidate descriptor (§4.8)") \
    S(INV_PGRESP, "inv-pgresp",      4, "Page group response descriptor (§4.8)") \
    S(PAGE_REQ,   "page-request",    4, "Page request descriptor (§6.1)") \
    S(IRTE,       "irte",            2, "Interrupt remapping table entry, remapped format (§9.2)")

/* ---- registers ------------------------------------------------------ */
#define HW_FIELDS_VER(F) \
    F(VER, MIN, 3, 0, "minor version") \
    F(VER, MAX, 7, 4, "major version")

#define HW_FIELDS_CAP(F) \
    F(CAP, ND,      2,  0, "number of domains: 2^(4+2*ND)") \
    F(CAP, AFL,     3,  3, "advanced fault logging") \
    F(CAP, RWBF,    4,  4, "required write-buffer flushing") \
    F(CAP, PLMR,    5,  5, "protected low-memory region") \
    F(CAP, PHMR,    6,  6, "protected high-memory region") \
    F(CAP, CM,      7,  7, "caching mode") \
    F(CAP, SAGAW,  12,  8, "supported adjusted guest address widths") \
    F(CAP, MGAW,   21, 16, "maximum guest address width - 1") \
    F(CAP, ZLR,    22, 22, "zero-length read") \
    F(CAP, FRO,    33, 24, "fault-recording register offset / 16") \
    F(CAP, SLLPS,  37, 34, "second-level large pages (bit0 2M, bit1 1G)") \
    F(CAP, PSI,    39, 39, "page-selective invalidation") \
    F(CAP, NFR,    47, 40, "number of fault-recording registers - 1") \
    F(CAP, MAMV,   53, 48, "maximum address mask value") \
    F(CAP, DWD,    54, 54, "write draining") \
    F(CAP, DRD,    55, 55, "read draining") \
    F(CAP, FL1GP,  56, 56, "first-level 1-GiB pages") \
    F(CAP, PI,     59, 59, "posted interrupts") \
    F(CAP, FL5LP,  60, 60, "first-level 5-level paging") \
    F(CAP, ECMDS,  61, 61, "enhanced command support") \
    F(CAP, ESIRTPS,62, 62, "enhanced SIRTP (invalidates IEC)") \
    F(CAP, ESRTPS, 63, 63, "enhanced SRTP (invalidates all caches)")

#define HW_FIELDS_ECAP(F) \
    F(ECAP, C,      0,  0, "page-walk coherency (legacy)") \
    F(ECAP, QI,     1,  1, "queued invalidation") \
    F(ECAP, DT,     2,  2, "device-TLB") \
    F(ECAP, IR,     3,  3, "interrupt remapping") \
    F(ECAP, EIM,    4,  4, "extended interrupt mode") \
    F(ECAP, PT,     6,  6, "pass-through") \
    F(ECAP, SC,     7,  7, "snoop control") \
    F(ECAP, IRO,   17,  8, "IOTLB register offset / 16") \
    F(ECAP, MHMV,  23, 20, "maximum handle mask value") \
    F(ECAP, MTS,   25, 25, "memory type support") \
    F(ECAP, NEST,  26, 26, "nested translation") \
    F(ECAP, PRS,   29, 29, "page requests") \
    F(ECAP, ERS,   30, 30, "execute requests") \
    F(ECAP, SRS,   31, 31, "supervisor requests") \
    F(ECAP, NWFS,  33, 33, "no-write flag") \
    F(ECAP, EAFS,  34, 34, "extended accessed flag") \
    F(ECAP, PSS,   39, 35, "PASID size - 1") \
    F(ECAP, PASID, 40, 40, "PASID support") \
    F(ECAP, DIT,   41, 41, "device-TLB invalidation throttling") \
    F(ECAP, PDS,   42, 42, "page-request drain") \
    F(ECAP, SMTS,  43, 43, "scalable-mode translation") \
    F(ECAP, VCS,   44, 44, "virtual command") \
    F(ECAP, SLADS, 45, 45, "second-level accessed/dirty") \
    F(ECAP, SLTS,  46, 46, "second-level translation") \
    F(ECAP, FLTS,  47, 47, "first-level translation") \
    F(ECAP, SMPWCS,48, 48, "scalable-mode page-walk coherency") \
    F(ECAP, RPS,   49, 49, "RID_PASID support") \
    F(ECAP, PMS,   51, 51, "performance monitoring") \
    F(ECAP, ADMS,  52, 52, "abort-DMA mode") \
    F(ECAP, RPRIVS,53, 53, "RID_PRIV support")

#define HW_FIELDS_GCMD(F) \
    F(GCMD, CFI,   23, 23, "compatibility format interrupts") \
    F(GCMD, SIRTP, 24, 24, "set interrupt remap table pointer") \
    F(GCMD, IRE,   25, 25, "interrupt remapping enable") \
    F(GCMD, QIE,   26, 26, "queued invalidation enable") \
    F(GCMD, WBF,   27, 27, "write buffer flush") \
    F(GCMD, EAFL,  28, 28, "enable advanced fault logging") \
    F(GCMD, SFL,   29, 29, "set fault log") \
    F(GCMD, SRTP,  30, 30, "set root table pointer") \
    F(GCMD, TE,    31, 31, "translation enable")

#define HW_FIELDS_GSTS(F) \
    F(GSTS, CFIS,  23, 23, "compatibility format interrupt status") \
    F(GSTS, IRTPS, 24, 24, "interrupt remap table pointer status") \
    F(GSTS, IRES,  25, 25, "interrupt remapping enable status") \
    F(GSTS, QIES,  26, 26, "queued invalidation enable status") \
    F(GSTS, WBFS,  27, 27, "write buffer flush status") \
    F(GSTS, AFLS,  28, 28, "advanced fault logging status") \
    F(GSTS, FLS,   29, 29, "fault log status") \
    F(GSTS, RTPS,  30, 30, "root table pointer status") \
    F(GSTS, TES,   31, 31, "translation enable status")

#define HW_FIELDS_RTADDR(F) \
    F(RTADDR, TTM, 11, 10, "translation table mode: 0 legacy, 1 scalable, 3 abort-DMA") \
    F(RTADDR, RTA, 63, 12, "root table address (4 KiB aligned)")

#define HW_FIELDS_CCMD(F) \
    F(CCMD, DID,  15,  0, "domain id") \
    F(CCMD, SID,  31, 16, "source id") \
    F(CCMD, FM,   33, 32, "function mask") \
    F(CCMD, CAIG, 60, 59, "actual granularity") \
    F(CCMD, CIRG, 62, 61, "requested granularity: 1 global, 2 domain, 3 device") \
    F(CCMD, ICC,  63, 63, "invalidate context cache")

#define HW_FIELDS_IVA(F) \
    F(IVA, AM,    5,  0, "address mask") \
    F(IVA, IH,    6,  6, "invalidation hint") \
    F(IVA, ADDR, 63, 12, "page address")

#define HW_FIELDS_IOTLB(F) \
    F(IOTLB, DID,  47, 32, "domain id") \
    F(IOTLB, DW,   48, 48, "drain writes") \
    F(IOTLB, DR,   49, 49, "drain reads") \
    F(IOTLB, IAIG, 58, 57, "actual granularity") \
    F(IOTLB, IIRG, 61, 60, "requested granularity: 1 global, 2 domain, 3 page") \
    F(IOTLB, IVT,  63, 63, "invalidate IOTLB")

#define HW_FIELDS_FSTS(F) \
    F(FSTS, PFO,  0,  0, "primary fault overflow") \
    F(FSTS, PPF,  1,  1, "primary pending fault") \
    F(FSTS, AFO,  2,  2, "advanced fault overflow") \
    F(FSTS, APF,  3,  3, "advanced pending fault") \
    F(FSTS, IQE,  4,  4, "invalidation queue error") \
    F(FSTS, ICE,  5,  5, "invalidation completion error") \
    F(FSTS, ITE,  6,  6, "invalidation time-out error") \
    F(FSTS, FRI, 15,  8, "fault record index")

#define HW_FIELDS_ECTL(F) \
    F(ECTL, IP, 30, 30, "interrupt pending") \
    F(ECTL, IM, 31, 31, "interrupt mask")

#define HW_FIELDS_EDATA(F) \
    F(EDATA, IMD,  15,  0, "interrupt message data") \
    F(EDATA, EIMD, 31, 16, "extended interrupt message data")

#define HW_FIELDS_EADDR(F) \
    F(EADDR, MA, 31, 2, "message address")

#define HW_FIELDS_EUADDR(F) \
    F(EUADDR, MUA, 31, 0, "message upper address")

#define HW_FIELDS_AFLOG(F) \
    F(AFLOG, FLS, 11,  9, "fault log size") \
    F(AFLOG, FLA, 63, 12, "fault log address")

#define HW_FIELDS_PMEN(F) \
    F(PMEN, PRS,  0,  0, "protected region status") \
    F(PMEN, EPM, 31, 31, "enable protected memory")

#define HW_FIELDS_IQH(F) \
    F(IQH, QH, 18, 4, "queue head (byte offset / 16)")

#define HW_FIELDS_IQT(F) \
    F(IQT, QT, 18, 4, "queue tail (byte offset / 16)")

#define HW_FIELDS_IQA(F) \
    F(IQA, QS,   2,  0, "queue size: 2^QS pages") \
    F(IQA, DW,  11, 11, "descriptor width: 0 128-bit, 1 256-bit") \
    F(IQA, IQA, 63, 12, "queue base address")

#define HW_FIELDS_ICS(F) \
    F(ICS, IWC, 0, 0, "invalidation wait completion")

#define HW_FIELDS_IQERCD(F) \
    F(IQERCD, IQEI,    3,  0, "queue error info") \
    F(IQERCD, ITESID, 47, 32, "time-out source id") \
    F(IQERCD, ICESID, 63, 48, "completion error source id")

#define HW_FIELDS_IRTA(F) \
    F(IRTA, S,     3,  0, "table size: 2^(S+1) entries") \
    F(IRTA, EIME, 11, 11, "extended interrupt mode enable") \
    F(IRTA, IRTA, 63, 12, "table address")

#define HW_FIELDS_PQH(F) \
    F(PQH, PQH, 18, 5, "queue head (byte offset / 32)")

#define HW_FIELDS_PQT(F) \
    F(PQT, PQT, 18, 5, "queue tail (byte offset / 32)")

#define HW_FIELDS_PQA(F) \
    F(PQA, PQS,  2,  0, "queue size: 2^PQS pages") \
    F(PQA, PQA, 63, 12, "queue base address")

#define HW_FIELDS_PRS(F) \
    F(PRS, PPR, 0, 0, "pending page request") \
    F(PRS, PRO, 1, 1, "page request overflow")

/* The list parameter is X here, not F: a parameter named F would also
 * replace the field name F (bit 127) and the field would become
 * FRCD_<list macro>, breaking HW_GET(FRCD, F, ...). */
#define HW_FIELDS_FRCD(X) \
    X(FRCD, FI,    63,  12, "fault info (page address)") \
    X(FRCD, SID,   79,  64, "source id") \
    X(FRCD, T2,    92,  92, "type bit 2 (page request / atomic)") \
    X(FRCD, PRIV,  93,  93, "privileged request") \
    X(FRCD, EXE,   94,  94, "execute request") \
    X(FRCD, PP,    95,  95, "PASID present") \
    X(FRCD, FR,   103,  96, "fault reason") \
    X(FRCD, PV,   123, 104, "PASID value") \
    X(FRCD, AT,   125, 124, "address type") \
    X(FRCD, T1,   126, 126, "type bit 1: 0 write, 1 read") \
    X(FRCD, F,    127, 127, "fault")

/* ---- translation structures ---------------------------------------- */
#define HW_FIELDS_ROOT(F) \
    F(ROOT, P,    0,  0, "present") \
    F(ROOT, CTP, 63, 12, "context table pointer")

#define HW_FIELDS_CTX(F) \
    F(CTX, P,        0,  0, "present") \
    F(CTX, FPD,      1,  1, "fault processing disable") \
    F(CTX, TT,       3,  2, "translation type: 0 SL, 1 SL+device-TLB, 2 pass-through") \
    F(CTX, SLPTPTR, 63, 12, "second-level page table pointer") \
    F(CTX, AW,      66, 64, "address width: levels = AW+2") \
    F(CTX, AVAIL,   70, 67, "available to software") \
    F(CTX, DID,     87, 72, "domain id")

#define HW_FIELDS_SM_ROOT(F) \
    F(SM_ROOT, LP,     0,   0, "lower context table present") \
    F(SM_ROOT, LCTP,  63,  12, "lower context table pointer (devfn 0-127)") \
    F(SM_ROOT, UP,    64,  64, "upper context table present") \
    F(SM_ROOT, UCTP, 127,  76, "upper context table pointer (devfn 128-255)")

#define HW_FIELDS_SM_CTX(F) \
    F(SM_CTX, P,            0,  0, "present") \
    F(SM_CTX, FPD,          1,  1, "fault processing disable") \
    F(SM_CTX, DTE,          2,  2, "device-TLB enable") \
    F(SM_CTX, PASIDE,       3,  3, "PASID enable") \
    F(SM_CTX, PRE,          4,  4, "page request enable") \
    F(SM_CTX, PDTS,        11,  9, "PASID directory size: 2^(PDTS+7) entries") \
    F(SM_CTX, PASIDDIRPTR, 63, 12, "PASID directory pointer") \
    F(SM_CTX, RID_PASID,   83, 64, "PASID for requests without PASID") \
    F(SM_CTX, RID_PRIV,    84, 84, "privilege for requests without PASID")

#define HW_FIELDS_PASID_DIR(F) \
    F(PASID_DIR, P,          0,  0, "present") \
    F(PASID_DIR, FPD,        1,  1, "fault processing disable") \
    F(PASID_DIR, SMPTBLPTR, 63, 12, "PASID table pointer")

#define HW_FIELDS_PASID_PTE(F) \
    F(PASID_PTE, P,         0,   0, "present") \
    F(PASID_PTE, FPD,       1,   1, "fault processing disable") \
    F(PASID_PTE, AW,        4,   2, "second-level address width") \
    F(PASID_PTE, SLEE,      5,   5, "second-level execute enable") \
    F(PASID_PTE, PGTT,      8,   6, "translation type: 1 FL, 2 SL, 3 nested, 4 PT") \
    F(PASID_PTE, SLADE,     9,   9, "second-level A/D enable") \
    F(PASID_PTE, SLPTPTR,  63,  12, "second-level page table pointer") \
    F(PASID_PTE, DID,      79,  64, "domain id") \
    F(PASID_PTE, PWSNP,    87,  87, "page-walk snoop") \
    F(PASID_PTE, PGSNP,    88,  88, "page snoop") \
    F(PASID_PTE, CD,       89,  89, "cache disable") \
    F(PASID_PTE, EMTE,     90,  90, "extended memory type enable") \
    F(PASID_PTE, EMT,      93,  91, "extended memory type") \
    F(PASID_PTE, PWT,      94,  94, "page-level write-through") \
    F(PASID_PTE, PCD,      95,  95, "page-level cache disable") \
    F(PASID_PTE, PAT,     127,  96, "page attribute table") \
    F(PASID_PTE, SRE,     128, 128, "supervisor requests enable") \
    F(PASID_PTE, ERE,     129, 129, "execute requests enable") \
    F(PASID_PTE, FLPM,    131, 130, "first-level paging mode: 0 4-level, 1 5-level") \
    F(PASID_PTE, WPE,     132, 132, "write protect enable") \
    F(PASID_PTE, NXE,     133, 133, "no-execute enable") \
    F(PASID_PTE, SMEP,    134, 134, "supervisor-mode execute protection") \
    F(PASID_PTE, EAFE,    135, 135, "extended accessed flag enable") \
    F(PASID_PTE, FLPTPTR, 191, 140, "first-level page table pointer")

#define HW_FIELDS_FL_PTE(F) \
    F(FL_PTE, P,      0,  0, "present") \
    F(FL_PTE, RW,     1,  1, "read/write") \
    F(FL_PTE, US,     2,  2, "user/supervisor") \
    F(FL_PTE, PWT,    3,  3, "page-level write-through") \
    F(FL_PTE, PCD,    4,  4, "page-level cache disable") \
    F(FL_PTE, A,      5,  5, "accessed") \
    F(FL_PTE, D,      6,  6, "dirty") \
    F(FL_PTE, PS,     7,  7, "page size (PAT in a 4 KiB PTE)") \
    F(FL_PTE, G,      8,  8, "global") \
    F(FL_PTE, IGN9,   9,  9, "ignored") \
    F(FL_PTE, EA,    10, 10, "extended accessed") \
    F(FL_PTE, IGN11, 11, 11, "ignored") \
    F(FL_PTE, ADDR,  51, 12, "address (PAT at bit 12 of large leaves)") \
    F(FL_PTE, IGN,   62, 52, "ignored") \
    F(FL_PTE, XD,    63, 63, "execute disable")

#define HW_FIELDS_SL_PTE(F) \
    F(SL_PTE, R,      0,  0, "read") \
    F(SL_PTE, W,      1,  1, "write") \
    F(SL_PTE, X,      2,  2, "execute") \
    F(SL_PTE, EMT,    5,  3, "extended memory type") \
    F(SL_PTE, IPAT,   6,  6, "ignore PAT") \
    F(SL_PTE, PS,     7,  7, "page size") \
    F(SL_PTE, A,      8,  8, "accessed") \
    F(SL_PTE, D,      9,  9, "dirty") \
    F(SL_PTE, IGN10, 10, 10, "ignored") \
    F(SL_PTE, SNP,   11, 11, "snoop") \
    F(SL_PTE, ADDR,  51, 12, "address") \
    F(SL_PTE, IGN,   61, 52, "ignored") \
    F(SL_PTE, TM,    62, 62, "transient mapping") \
    F(SL_PTE, IGN63, 63, 63, "ignored")

#define HW_FIELDS_IRTE(F) \
    F(IRTE, P,     0,  0, "present") \
    F(IRTE, FPD,   1,  1, "fault processing disable") \
    F(IRTE, DM,    2,  2, "destination mode") \
    F(IRTE, RH,    3,  3, "redirection hint") \
    F(IRTE, TM,    4,  4, "trigger mode") \
    F(IRTE, DLM,   7,  5, "delivery mode") \
    F(IRTE, AVAIL,11,  8, "available") \
    F(IRTE, IM,   15, 15, "IRTE mode: 0 remapped, 1 posted") \
    F(IRTE, V,    23, 16, "vector") \
    F(IRTE, DST,  63, 32, "destination id") \
    F(IRTE, SID,  79, 64, "source id") \
    F(IRTE, SQ,   81, 80, "source-id qualifier") \
    F(IRTE, SVT,  83, 82, "source validation type")

/* ---- invalidation descriptors (§4); 256-bit form, QW2/QW3 reserved
 * unless a field says otherwise. TYPE = TYPE_HI:TYPE_LO (§4.1). ---- */
#define HW_FIELDS_INV_DESC(F) \
    F(INV_DESC, TYPE_LO,  3, 0, "descriptor type bits 3:0") \
    F(INV_DESC, TYPE_HI, 11, 9, "descriptor type bits 6:4")

#define HW_FIELDS_INV_CC(F) \
    F(INV_CC, TYPE_LO,  3,  0, "type (1)") \
    F(INV_CC, G,        5,  4, "granularity: 1 global, 2 domain, 3 device") \
    F(INV_CC, TYPE_HI, 11,  9, "type high") \
    F(INV_CC, DID,     31, 16, "domain id") \
    F(INV_CC, SID,     47, 32, "source id") \
    F(INV_CC, FM,      49, 48, "function mask")

#define HW_FIELDS_INV_IOTLB(F) \
    F(INV_IOTLB, TYPE_LO,   3,  0, "type (2)") \
    F(INV_IOTLB, G,         5,  4, "granularity: 1 global, 2 domain, 3 page") \
    F(INV_IOTLB, DW,        6,  6, "drain writes") \
    F(INV_IOTLB, DR,        7,  7, "drain reads") \
    F(INV_IOTLB, TYPE_HI,  11,  9, "type high") \
    F(INV_IOTLB, DID,      31, 16, "domain id") \
    F(INV_IOTLB, AM,       69, 64, "address mask") \
    F(INV_IOTLB, IH,       70, 70, "invalidation hint") \
    F(INV_IOTLB, ADDR,    127, 76, "page address")

#define HW_FIELDS_INV_DEVTLB(F) \
    F(INV_DEVTLB, TYPE_LO,   3,  0, "type (3)") \
    F(INV_DEVTLB, TYPE_HI,  11,  9, "type high") \
    F(INV_DEVTLB, PFSID_LO, 15, 12, "physical function source id 3:0") \
    F(INV_DEVTLB, MIP,      20, 16, "max invalidations pending") \
    F(INV_DEVTLB, SID,      47, 32, "source id") \
    F(INV_DEVTLB, PFSID_HI, 63, 52, "physical function source id 15:4") \
    F(INV_DEVTLB, S,        64, 64, "size: range encoded in ADDR") \
    F(INV_DEVTLB, ADDR,    127, 76, "address")

#define HW_FIELDS_INV_IEC(F) \
    F(INV_IEC, TYPE_LO,  3,  0, "type (4)") \
    F(INV_IEC, G,        4,  4, "granularity: 0 global, 1 index") \
    F(INV_IEC, TYPE_HI, 11,  9, "type high") \
    F(INV_IEC, IM,      31, 27, "index mask") \
    F(INV_IEC, IIDX,    47, 32, "interrupt index")

#define HW_FIELDS_INV_WAIT(F) \
    F(INV_WAIT, TYPE_LO,   3,  0, "type (5)") \
    F(INV_WAIT, IF,        4,  4, "interrupt flag") \
    F(INV_WAIT, SW,        5,  5, "status write") \
    F(INV_WAIT, FN,        6,  6, "fence") \
    F(INV_WAIT, PD,        7,  7, "page request drain") \
    F(INV_WAIT, TYPE_HI,  11,  9, "type high") \
    F(INV_WAIT, STDATA,   63, 32, "status data") \
    F(INV_WAIT, STADDR,  127, 66, "status address (dword aligned)")

#define HW_FIELDS_INV_PIOTLB(F) \
    F(INV_PIOTLB, TYPE_LO,   3,  0, "type (6)") \
    F(INV_PIOTLB, G,         5,  4, "granularity: 2 PASID, 3 page in PASID") \
    F(INV_PIOTLB, TYPE_HI,  11,  9, "type high") \
    F(INV_PIOTLB, DID,      31, 16, "domain id") \
    F(INV_PIOTLB, PASID,    51, 32, "PASID") \
    F(INV_PIOTLB, AM,       69, 64, "address mask") \
    F(INV_PIOTLB, IH,       70, 70, "invalidation hint") \
    F(INV_PIOTLB, ADDR,    127, 76, "page address")

#define HW_FIELDS_INV_PC(F) \
    F(INV_PC, TYPE_LO,  3,  0, "type (7)") \
    F(INV_PC, G,        5,  4, "granularity: 0 domain, 1 PASID, 3 global") \
    F(INV_PC, TYPE_HI, 11,  9, "type high") \
    F(INV_PC, DID,     31, 16, "domain id") \
    F(INV_PC, PASID,   51, 32, "PASID")

#define HW_FIELDS_INV_PDEVTLB(F) \
    F(INV_PDEVTLB, TYPE_LO,   3,  0, "type (8)") \
    F(INV_PDEVTLB, MIP,       8,  4, "max invalidations pending") \
    F(INV_PDEVTLB, TYPE_HI,  11,  9, "type high") \
    F(INV_PDEVTLB, PFSID_LO, 15, 12, "physical function source id 3:0") \
    F(INV_PDEVTLB, SID,      31, 16, "source id") \
    F(INV_PDEVTLB, PASID,    51, 32, "PASID") \
    F(INV_PDEVTLB, PFSID_HI, 63, 52, "physical function source id 15:4") \
    F(INV_PDEVTLB, G,        64, 64, "global") \
    F(INV_PDEVTLB, S,        75, 75, "size: range encoded in ADDR") \
    F(INV_PDEVTLB, ADDR,    127, 76, "address")

#define HW_FIELDS_INV_PGRESP(F) \
    F(INV_PGRESP, TYPE_LO,     3,   0, "type (9)") \
    F(INV_PGRESP, PP,          4,   4, "PASID present") \
    F(INV_PGRESP, PDP,         5,   5, "private data present") \
    F(INV_PGRESP, TYPE_HI,    11,   9, "type high") \
    F(INV_PGRESP, RC,         15,  12, "response code: 0 success, 1 invalid, 15 failure") \
    F(INV_PGRESP, RID,        31,  16, "requester id") \
    F(INV_PGRESP, PASID,      51,  32, "PASID") \
    F(INV_PGRESP, LPIG,       66,  66, "last page in group") \
    F(INV_PGRESP, PRGI,       75,  67, "page request group index") \
    F(INV_PGRESP, PRIV_DATA0,191, 128, "private data 63:0") \
    F(INV_PGRESP, PRIV_DATA1,255, 192, "private data 127:64")

/* ---- page request descriptor (§6.1, 256-bit) ----------------------- */
#define HW_FIELDS_PAGE_REQ(F) \
    F(PAGE_REQ, TYPE,         7,   0, "descriptor type") \
    F(PAGE_REQ, PP,           8,   8, "PASID present") \
    F(PAGE_REQ, PDP,          9,   9, "private data present") \
    F(PAGE_REQ, RID,         31,  16, "requester id") \
    F(PAGE_REQ, PASID,       51,  32, "PASID") \
    F(PAGE_REQ, EXE,         52,  52, "execute requested") \
    F(PAGE_REQ, PRIV,        53,  53, "privileged mode requested") \
    F(PAGE_REQ, RDR,         64,  64, "read requested") \
    F(PAGE_REQ, WRR,         65,  65, "write requested") \
    F(PAGE_REQ, LPIG,        66,  66, "last page in group") \
    F(PAGE_REQ, PRGI,        75,  67, "page request group index") \
    F(PAGE_REQ, ADDR,       127,  76, "page address") \
    F(PAGE_REQ, PRIV_DATA0, 191, 128, "private data 63:0") \
    F(PAGE_REQ, PRIV_DATA1, 255, 192, "private data 127:64")

#endif
