/* Scalable-mode structures (vtd-reference.md §1.6, §2.7-§2.10, §5): root
 * entry halves, context entry, requests with and without PASID (RID_PASID),
 * PASID directory and table, PASID-entry validity, request checks (DTE,
 * PASIDE, PDTS, ERE, SRE), pass-through, TTM, FPD at every level, and the
 * fault records of requests with PASID. Page-table walks are in
 * test_vtd_xlate_sm_fl.c (first level) and test_vtd_xlate_sm_sl.c (second
 * level, nested).
 *
 * Every case: a fresh vtd_config_default() unit (with optional capability
 * edits) in TTM=1; bus 3 devices 03:02.0 (devfn 0x10, lower root half) and
 * 03:12.0 (devfn 0x90, upper half), each with its own context entry and
 * PASID directory holding PASIDs 0, 0x55, 0x123 and 0x1FFF. PASIDs 0, 0x55
 * and 0x123 map IOVA through their own second-level tables to HPA0, HPA_R
 * and HPA_A (0x1FFF shares 0x123's); with PGTT=1 every PASID uses one
 * first-level table mapping IOVA -> HPA0 (user, writable). */
#include "vtd_fixture.c"

#define SID_LO  0x0310
#define SID_HI  0x0390
#define PASID_A 0x123
#define PASID_R 0x55
#define IOVA    0x12345000ULL
#define ADDR    (IOVA + 0x10)
#define HPA0    0x234567000ULL
#define HPA_A   0x2AAAAA000ULL
#define HPA_R   0x2BBBBB000ULL
#define RWX     (VTD_PERM_R | VTD_PERM_W | VTD_PERM_X)
#define ZERO    8u          /* a 3-bit field value 0 in a case table (0 = default) */

enum where { W_NONE, W_ROOT, W_CTX, W_DIR, W_PTE };

struct scase;
struct senv {
    struct fx f;
    uint64_t sl[3], dir;
    struct pt pt;
    uint16_t sid;
    uint32_t pasid;             /* PASID the request resolves to */
    const struct scase *c;
};

struct scase {
    const char *name;
    struct fx_mod mod;
    unsigned ttm;               /* 0 -> 1 */
    /* context entries */
    bool ctx_fpd, dte, no_paside, pre, rid_priv;
    unsigned pdts;
    uint32_t rid_pasid;
    /* PASID entries (ZERO for a literal 0) */
    unsigned pgtt, aw, flpm;
    bool pte_fpd, dir_fpd, sre, ere, eafe, slade;
    /* one bit to set, absolute within the structure */
    enum where where;
    unsigned bit;
    void (*mut)(struct senv *);
    /* request */
    uint16_t sid;               /* 0 -> SID_LO */
    bool pp, write, exec, priv;
    uint32_t pasid;
    uint64_t addr;              /* 0 -> ADDR */
    enum vtd_at at;
    bool blocked;
    struct fx_want want;
};

#define OK(o, s, p) .want = { .out = (o), .shift = (s), .perm = (p) }
#define FLT(fr)     .want = { .fault = (fr) }
#define SUP(fr)     .want = { .fault = (fr), .suppressed = true }
#define ECAPCLR(F)  .mod = { .ecap_clr = HW_FM(ECAP, F) }
#define ECAPSET(F)  .mod = { .ecap_set = HW_FM(ECAP, F) }
#define CAPCLR(F)   .mod = { .cap_clr = HW_FM(CAP, F) }
#define BIT(w, b)   .where = (w), .bit = (b)
#define PASID(p)    .pp = 1, .pasid = (p)

static unsigned fld(unsigned v, unsigned dflt) { return v == ZERO ? 0 : v ? v : dflt; }

/* ---- mutations ------------------------------------------------------------------ */
static uint64_t root_of(struct senv *e, uint16_t sid) { return fx_root_addr(&e->f, sid); }
static uint64_t ctx_of(struct senv *e) { return fx_ctx_addr(&e->f, e->sid); }
static uint64_t dirent(struct senv *e) { return e->dir + 8 * (e->pasid >> 6); }
static uint64_t pte_of(struct senv *e) { return fx_pasid_addr(&e->f, e->dir, e->pasid); }

static void m_lo_np(struct senv *e) { fx_clr_bits(&e->f, root_of(e, SID_LO), 1); }
static void m_hi_np(struct senv *e) { fx_clr_bits(&e->f, root_of(e, SID_HI), 1); }
static void m_rt_out(struct senv *e) { fx_reroot(&e->f, FX_OUTSIDE, 1); }
static void m_rt_end(struct senv *e) { fx_reroot(&e->f, FX_END, 1); }
static void m_ctp_out(struct senv *e) { fx_wr(&e->f, root_of(e, e->sid), FX_OUTSIDE | 1); }
static void m_ctp_end(struct senv *e) { fx_wr(&e->f, root_of(e, e->sid), FX_END | 1); }
static void m_ctx_np(struct senv *e) { fx_clr_bits(&e->f, ctx_of(e), 1); }
static void m_dir_out(struct senv *e)
{
    uint64_t a = ctx_of(e);
    fx_wr(&e->f, a, (fx_rd(&e->f, a) & 0xFFF) | FX_OUTSIDE);
}
static void m_dir_np(struct senv *e) { fx_clr_bits(&e->f, dirent(e), 1); }
static void m_dir_np_fpd(struct senv *e) { fx_wr(&e->f, dirent(e), 2); }
static void m_ptbl_out(struct senv *e) { fx_wr(&e->f, dirent(e), FX_OUTSIDE | 1); }
static void m_ptbl_out_fpd(struct senv *e) { fx_wr(&e->f, dirent(e), FX_OUTSIDE | 3); }
static void m_ptbl_end(struct senv *e) { fx_wr(&e->f, dirent(e), FX_END | 1); }
static void m_pte_np(struct senv *e) { fx_clr_bits(&e->f, pte_of(e), 1); }
static void m_pte_np_fpd(struct senv *e) { fx_wr(&e->f, pte_of(e), 2); }
static void m_pte_did(struct senv *e) { fx_wr(&e->f, pte_of(e) + 8, 0x100); }
static void m_sl_np(struct senv *e)
{
    unsigned i = e->pasid == 0 ? 0 : e->pasid == PASID_R ? 2 : 1;
    fx_wr(&e->f, fx_sl_slot(&e->f, e->sl[i], 4, IOVA, 1), 0);
}

#define ECAP_RPRIVS_PRIV .mod = { .ecap_set = HW_FM(ECAP, RPRIVS) }

/* ---- the matrix -------------------------------------------------------------------- */
static const struct scase scases[] = {
    /* root halves, RID_PASID, PASID requests (§2.7, §2.8) */
    { "RID, lower half -> PASID 0", OK(HPA0 + 0x10, 12, RWX) },
    { "RID, upper half -> PASID 0", .sid = SID_HI, .write = 1, OK(HPA0 + 0x10, 12, RWX) },
    { "PASID 0x123", PASID(PASID_A), OK(HPA_A + 0x10, 12, RWX) },
    { "PASID 0x123, upper half", .sid = SID_HI, PASID(PASID_A), .write = 1, OK(HPA_A + 0x10, 12, RWX) },
    { "RID with RID_PASID 0x55", .rid_pasid = PASID_R, OK(HPA_R + 0x10, 12, RWX) },
    { "RID_PASID ignored without ECAP.RPS: PASID 0", ECAPCLR(RPS), .rid_pasid = PASID_R,
      OK(HPA0 + 0x10, 12, RWX) },
    { "RID without ECAP.RPS uses PASID 0", ECAPCLR(RPS), OK(HPA0 + 0x10, 12, RWX) },
    { "lower half not present -> 0x39", .mut = m_lo_np, FLT(0x39) },
    { "upper half not present -> 0x39", .mut = m_hi_np, .sid = SID_HI, FLT(0x39) },
    { "upper half not present, lower served", .mut = m_hi_np, OK(HPA0 + 0x10, 12, RWX) },
    { "lower half not present, upper served", .mut = m_lo_np, .sid = SID_HI, OK(HPA0 + 0x10, 12, RWX) },
    { "root reserved bit 1 -> 0x3A", BIT(W_ROOT, 1), FLT(0x3A) },
    { "root reserved bit 75 -> 0x3A (upper)", BIT(W_ROOT, 75), .sid = SID_HI, FLT(0x3A) },
    { "LCTP above HAW -> 0x3A", BIT(W_ROOT, 46), FLT(0x3A) },
    { "UCTP above HAW -> 0x3A", BIT(W_ROOT, 64 + 46), .sid = SID_HI, FLT(0x3A) },
    { "root reserved, ctx FPD=1 -> 0x3A recorded", .ctx_fpd = 1, BIT(W_ROOT, 5), FLT(0x3A) },
    { "root table below the arena -> 0x38", .mut = m_rt_out, FLT(0x38) },
    { "root table at the arena end -> 0x38", .mut = m_rt_end, FLT(0x38) },
    { "context table outside -> 0x40", .mut = m_ctp_out, FLT(0x40) },
    { "upper context table at the arena end -> 0x40", .mut = m_ctp_end, .sid = SID_HI, FLT(0x40) },
    /* context entry (§2.8) */
    { "context not present -> 0x41", .mut = m_ctx_np, FLT(0x41) },
    { "context not present, FPD=1 -> suppressed", .ctx_fpd = 1, .mut = m_ctx_np, SUP(0x41) },
    { "context reserved bit 5 -> 0x42", BIT(W_CTX, 5), FLT(0x42) },
    { "context reserved bit 8 -> 0x42", BIT(W_CTX, 8), FLT(0x42) },
    { "context reserved bit 85 -> 0x42", BIT(W_CTX, 85), FLT(0x42) },
    { "context reserved bit 127 -> 0x42", BIT(W_CTX, 127), FLT(0x42) },
    { "context reserved bit 128 (QW2) -> 0x42", BIT(W_CTX, 128), FLT(0x42) },
    { "context reserved bit 255 (QW3) -> 0x42", BIT(W_CTX, 255), FLT(0x42) },
    { "PASIDDIRPTR above HAW -> 0x42", BIT(W_CTX, 46), FLT(0x42) },
    { "RID_PRIV ignored without ECAP.RPRIVS", .rid_priv = 1, OK(HPA0 + 0x10, 12, RWX) },
    { "context reserved, FPD=1 -> suppressed", .ctx_fpd = 1, BIT(W_CTX, 6), SUP(0x42) },
    { "DTE without ECAP.DT -> 0x43", ECAPCLR(DT), .dte = 1, FLT(0x43) },
    { "PRE without ECAP.PRS -> 0x43", ECAPCLR(PRS), .pre = 1, FLT(0x43) },
    { "PASIDE without ECAP.PASID -> 0x43", ECAPCLR(PASID), FLT(0x43) },
    { "translation request, DTE=0 -> 0x44", .at = VTD_AT_TRANSLATION, FLT(0x44) },
    { "translated request, DTE=0 -> 0x44", PASID(PASID_A), .at = VTD_AT_TRANSLATED, FLT(0x44) },
    { "translation request, DTE=1", .dte = 1, .at = VTD_AT_TRANSLATION, PASID(PASID_A),
      OK(HPA_A + 0x10, 12, RWX) },
    { "translated request, DTE=1 passes", .dte = 1, .at = VTD_AT_TRANSLATED, .addr = 0x777777008ULL,
      .write = 1, OK(0x777777008ULL, 12, RWX) },
    { "DTE=0, FPD=1 -> 0x44 suppressed", .ctx_fpd = 1, .at = VTD_AT_TRANSLATION, SUP(0x44) },
    { "PASID request, PASIDE=0 -> 0x45", .no_paside = 1, PASID(PASID_A), FLT(0x45) },
    { "PASID request, PASIDE=0, FPD=1 -> suppressed", .no_paside = 1, .ctx_fpd = 1, PASID(PASID_A),
      SUP(0x45) },
    { "RID request, PASIDE=0", .no_paside = 1, OK(HPA0 + 0x10, 12, RWX) },
    { "PASID 0x2000 beyond PDTS=0 -> 0x46", PASID(0x2000), FLT(0x46) },
    { "PASID 0x1FFF, last of PDTS=0", PASID(0x1FFF), OK(HPA_A + 0x10, 12, RWX) },
    { "PASID 2^20 with PDTS=7 -> 0x46", .pdts = 7, PASID(0x100000), FLT(0x46) },
    { "PASID beyond ECAP.PSS (10 bits) -> 0x46",
      .mod = { .ecap_clr = HW_FM(ECAP, PSS), .ecap_set = HW_FMK(ECAP, PSS, 9) }, .pdts = 7,
      PASID(0x400), FLT(0x46) },
    { "PDTS fault, FPD=1 -> suppressed", .ctx_fpd = 1, PASID(0x2000), SUP(0x46) },
    /* PASID directory (§2.9) */
    { "directory outside -> 0x50 (recorded despite FPD)", .ctx_fpd = 1, .mut = m_dir_out, FLT(0x50) },
    { "directory entry not present -> 0x51", PASID(PASID_A), .mut = m_dir_np, FLT(0x51) },
    { "directory entry not present, its FPD=1 -> suppressed", PASID(PASID_A), .mut = m_dir_np_fpd,
      SUP(0x51) },
    { "directory entry not present, ctx FPD=1 -> suppressed", .ctx_fpd = 1, .mut = m_dir_np, SUP(0x51) },
    { "directory reserved bit 2 -> 0x52", BIT(W_DIR, 2), FLT(0x52) },
    { "directory reserved bit 11 -> 0x52", PASID(PASID_A), BIT(W_DIR, 11), FLT(0x52) },
    { "directory pointer above HAW -> 0x52", BIT(W_DIR, 46), FLT(0x52) },
    { "directory reserved, its FPD=1 -> suppressed", .dir_fpd = 1, BIT(W_DIR, 3), SUP(0x52) },
    { "PASID table outside -> 0x58", .mut = m_ptbl_out, FLT(0x58) },
    { "PASID table outside, dir FPD=1 -> 0x58 recorded", .mut = m_ptbl_out_fpd, FLT(0x58) },
    { "PASID table at the arena end -> 0x58", PASID(PASID_A), .mut = m_ptbl_end, FLT(0x58) },
    /* PASID-table entry (§2.10) */
    { "PASID entry not present -> 0x59", PASID(PASID_A), .mut = m_pte_np, FLT(0x59) },
    { "PASID entry not present, its FPD=1 -> suppressed", PASID(PASID_A), .mut = m_pte_np_fpd, SUP(0x59) },
    { "PASID entry not present, dir FPD=1 -> suppressed", .dir_fpd = 1, .mut = m_pte_np, SUP(0x59) },
    { "PASID entry reserved bit 10 -> 0x5A", BIT(W_PTE, 10), FLT(0x5A) },
    { "PASID entry reserved bit 11 -> 0x5A", BIT(W_PTE, 11), FLT(0x5A) },
    { "PASID entry reserved bit 80 -> 0x5A", BIT(W_PTE, 80), FLT(0x5A) },
    { "PASID entry reserved bit 86 -> 0x5A", BIT(W_PTE, 86), FLT(0x5A) },
    { "PASID entry reserved bit 136 -> 0x5A", BIT(W_PTE, 136), FLT(0x5A) },
    { "PASID entry reserved bit 139 -> 0x5A", BIT(W_PTE, 139), FLT(0x5A) },
    { "PASID entry QW3 -> 0x5A", BIT(W_PTE, 192), FLT(0x5A) },
    { "PASID entry QW7 -> 0x5A", PASID(PASID_A), BIT(W_PTE, 511), FLT(0x5A) },
    { "PGTT=2 SLPTPTR above HAW -> 0x5A", BIT(W_PTE, 46), FLT(0x5A) },
    { "PGTT=1 ignores SLPTPTR above HAW", .pgtt = 1, BIT(W_PTE, 46), OK(HPA0 + 0x10, 12, RWX) },
    { "PGTT=1 FLPTPTR above HAW -> 0x5A", .pgtt = 1, BIT(W_PTE, 128 + 46), FLT(0x5A) },
    { "PGTT=2 ignores FLPTPTR above HAW", BIT(W_PTE, 128 + 46), OK(HPA0 + 0x10, 12, RWX) },
    { "PGTT=4 ignores both pointers above HAW", .pgtt = 4, BIT(W_PTE, 50), .addr = 0x4000,
      OK(0x4000, 12, RWX) },
    { "ERE without ECAP.ERS -> 0x5A", .ere = 1, FLT(0x5A) },
    { "SRE without ECAP.SRS -> 0x5A", ECAPCLR(SRS), .sre = 1, FLT(0x5A) },
    { "PGTT=1 EAFE without ECAP.EAFS -> 0x5A", ECAPCLR(EAFS), .pgtt = 1, .eafe = 1, FLT(0x5A) },
    { "PGTT=2 ignores EAFE without ECAP.EAFS", ECAPCLR(EAFS), .eafe = 1, OK(HPA0 + 0x10, 12, RWX) },
    { "PGTT=2 SLADE without ECAP.SLADS -> 0x5A", ECAPCLR(SLADS), .slade = 1, FLT(0x5A) },
    { "DID beyond CAP.ND -> 0x5A", .mod = { .cap_clr = HW_FM(CAP, ND), .cap_set = HW_FMK(CAP, ND, 2) },
      .mut = m_pte_did, FLT(0x5A) },
    { "PASID entry reserved, its FPD=1 -> suppressed", .pte_fpd = 1, BIT(W_PTE, 10), SUP(0x5A) },
    { "PGTT=0 -> 0x5B", .pgtt = ZERO, FLT(0x5B) },
    { "PGTT=5 -> 0x5B", .pgtt = 5, FLT(0x5B) },
    { "PGTT=6 -> 0x5B", .pgtt = 6, FLT(0x5B) },
    { "PGTT=7 -> 0x5B", .pgtt = 7, PASID(PASID_A), FLT(0x5B) },
    { "PGTT=1 FLPM=2 -> 0x5B", .pgtt = 1, .flpm = 2, FLT(0x5B) },
    { "PGTT=1 FLPM=3 -> 0x5B", .pgtt = 1, .flpm = 3, FLT(0x5B) },
    { "PGTT=1 FLPM=1 without CAP.FL5LP -> 0x5B", CAPCLR(FL5LP), .pgtt = 1, .flpm = 1, FLT(0x5B) },
    { "PGTT=2 ignores FLPM=3", .flpm = 3, OK(HPA0 + 0x10, 12, RWX) },
    { "PGTT=1 ignores AW=0", .pgtt = 1, .aw = ZERO, OK(HPA0 + 0x10, 12, RWX) },
    { "PGTT=2 AW=0 -> 0x5B", .aw = ZERO, FLT(0x5B) },
    { "PGTT=2 AW=4 -> 0x5B", .aw = 4, FLT(0x5B) },
    { "PGTT=2 AW=7 -> 0x5B", .aw = 7, FLT(0x5B) },
    { "PGTT=2 AW=1 not in SAGAW -> 0x5B",
      .mod = { .cap_clr = HW_FM(CAP, SAGAW), .cap_set = HW_FMK(CAP, SAGAW, 4) }, .aw = 1, FLT(0x5B) },
    { "PGTT=3 AW=4 -> 0x5B", .pgtt = 3, .aw = 4, FLT(0x5B) },
    { "PGTT=1 without ECAP.FLTS -> 0x5B", ECAPCLR(FLTS), .pgtt = 1, FLT(0x5B) },
    { "PGTT=2 without ECAP.SLTS -> 0x5B", ECAPCLR(SLTS), FLT(0x5B) },
    { "PGTT=3 without ECAP.NEST -> 0x5B", ECAPCLR(NEST), .pgtt = 3, FLT(0x5B) },
    { "PGTT=4 without ECAP.PT -> 0x5B", ECAPCLR(PT), .pgtt = 4, FLT(0x5B) },
    { "invalid PASID entry, its FPD=1 -> suppressed", .pte_fpd = 1, .pgtt = 6, SUP(0x5B) },
    { "invalid PASID entry, dir FPD=1 -> suppressed", .dir_fpd = 1, .pgtt = ZERO, PASID(PASID_A),
      SUP(0x5B) },
    /* request checks against the PASID entry (§2.10) */
    { "execute, ECAP.ERS, ERE=0 -> 0x5C", ECAPSET(ERS), PASID(PASID_A), .exec = 1, FLT(0x5C) },
    { "execute without ECAP.ERS -> 0x5C", PASID(PASID_A), .exec = 1, FLT(0x5C) },
    { "execute, ERE=1", ECAPSET(ERS), .ere = 1, PASID(PASID_A), .exec = 1, OK(HPA_A + 0x10, 12, RWX) },
    { "execute + supervisor, ERE=0 (record PRIV, EXE)", ECAPSET(ERS), .sre = 1, PASID(PASID_A),
      .exec = 1, .priv = 1, FLT(0x5C) },
    { "supervisor, SRE=0 -> 0x5D", PASID(PASID_A), .priv = 1, .write = 1, FLT(0x5D) },
    { "supervisor, SRE=1", .sre = 1, PASID(PASID_A), .priv = 1, OK(HPA_A + 0x10, 12, RWX) },
    { "supervisor bit ignored without PASID", .priv = 1, OK(HPA0 + 0x10, 12, RWX) },
    { "RID_PRIV=1 with ECAP.RPRIVS, SRE=0 -> 0x5D", ECAP_RPRIVS_PRIV, .rid_priv = 1, FLT(0x5D) },
    { "RID_PRIV=1 with ECAP.RPRIVS, SRE=1", ECAP_RPRIVS_PRIV, .rid_priv = 1, .sre = 1,
      OK(HPA0 + 0x10, 12, RWX) },
    { "SRE fault, PASID-entry FPD=1 -> suppressed", .pte_fpd = 1, PASID(PASID_A), .priv = 1, SUP(0x5D) },
    /* pass-through and first level through RID_PASID */
    { "PGTT=4 with PASID: output = input", .pgtt = 4, PASID(PASID_A), .addr = 0x321000123ULL, .write = 1,
      OK(0x321000123ULL, 12, RWX) },
    { "PGTT=4 RID request", .pgtt = 4, .addr = 0x3FFFFFFFFFFFULL, OK(0x3FFFFFFFFFFFULL, 12, RWX) },
    { "PGTT=4 input above HAW -> 0x83", .pgtt = 4, .addr = 1ULL << 46, FLT(0x83) },
    { "PGTT=4 interrupt range -> 0x87", .pgtt = 4, PASID(PASID_A), .addr = 0xFEE00004ULL, .write = 1,
      FLT(0x87) },
    { "PGTT=4 interrupt range, FPD=1 -> suppressed", .pgtt = 4, .pte_fpd = 1, .addr = 0xFEE00004ULL,
      SUP(0x87) },
    { "PGTT=1 RID request via RID_PASID", .pgtt = 1, OK(HPA0 + 0x10, 12, RWX) },
    /* FPD on walk faults at each level (§5.5) */
    { "SL not present -> 0x86 recorded", PASID(PASID_A), .mut = m_sl_np, FLT(0x86) },
    { "SL not present, PASID-entry FPD=1 -> suppressed", .pte_fpd = 1, PASID(PASID_A), .mut = m_sl_np,
      SUP(0x86) },
    { "SL not present, dir FPD=1 -> suppressed", .dir_fpd = 1, .mut = m_sl_np, .write = 1, SUP(0x85) },
    { "SL not present, ctx FPD=1 -> suppressed", .ctx_fpd = 1, .mut = m_sl_np, SUP(0x86) },
    /* root-table mode (§1.6) */
    { "TTM=2 -> 0x30", .ttm = 2, FLT(0x30) },
    { "TTM=3 with ECAP.ADMS: blocked, no record", .ttm = 3, PASID(PASID_A), .blocked = 1 },
    { "TTM=3 without ECAP.ADMS -> 0x30", ECAPCLR(ADMS), .ttm = 3, FLT(0x30) },
    { "TTM=1 without ECAP.SMTS -> 0x30", ECAPCLR(SMTS), PASID(PASID_A), FLT(0x30) },
};

static void build_device(struct senv *e, uint16_t sid)
{
    const struct scase *c = e->c;
    struct fx_smctx ctx = { .fpd = c->ctx_fpd, .dte = c->dte, .paside = !c->no_paside, .pre = c->pre,
                            .rid_priv = c->rid_priv, .pdts = c->pdts, .rid_pasid = c->rid_pasid };
    static const uint32_t pasids[] = { 0, PASID_A, PASID_R, 0x1FFF };
    static const unsigned table[] = { 0, 1, 2, 1 };
    uint64_t dir = fx_ctx_sm(&e->f, sid, &ctx);
    for (unsigned i = 0; i < 4; i++) {
        struct fx_pasid p = {
            .pgtt = fld(c->pgtt, 2), .aw = fld(c->aw, 2), .flpm = c->flpm,
            .slptptr = e->sl[table[i]], .flptptr = e->pt.root, .did = 7, .fpd = c->pte_fpd,
            .slade = c->slade, .sre = c->sre, .ere = c->ere, .eafe = c->eafe,
        };
        fx_pasid_set(&e->f, dir, pasids[i], &p, c->dir_fpd);
    }
    if (sid == e->sid)
        e->dir = dir;
}

static void set_bit(struct senv *e)
{
    const struct scase *c = e->c;
    uint64_t base = 0;
    switch (c->where) {
    case W_NONE: return;
    case W_ROOT: base = e->f.t.root + 16 * (e->sid >> 8); break;
    case W_CTX:  base = ctx_of(e); break;
    case W_DIR:  base = dirent(e); break;
    case W_PTE:  base = pte_of(e); break;
    }
    fx_set_bits(&e->f, base + 8 * (c->bit / 64), 1ULL << (c->bit % 64));
}

static void run_scase(const struct scase *c)
{
    static const uint64_t hpa[3] = { HPA0, HPA_A, HPA_R };
    struct senv e = { .c = c, .sid = c->sid ? c->sid : SID_LO };
    e.pasid = c->pp ? c->pasid : c->rid_pasid;
    fx_init(&e.f, FX_DEFAULT, &c->mod, 1);
    for (unsigned i = 0; i < 3; i++)
        fx_sl_map(&e.f, &e.sl[i], 4, IOVA, hpa[i], 12, SL_RW);
    fx_fl_init(&e.pt, phys_view_hpa(e.f.mem), 4);
    fx_fl_map(&e.pt, IOVA, HPA0, PT_4K, PTE_RW | PTE_US);
    build_device(&e, SID_LO);
    build_device(&e, SID_HI);
    set_bit(&e);
    if (c->mut)
        c->mut(&e);
    if (c->ttm)
        fx_reroot(&e.f, e.f.t.root, c->ttm);
    struct vtd_req r = { .sid = e.sid, .pasid_present = c->pp, .pasid = c->pasid,
                         .addr = c->addr ? c->addr : ADDR, .write = c->write, .exec = c->exec,
                         .priv = c->priv, .at = c->at };
    struct vtd_result res = fx_xl(&e.f, &r);
    if (c->blocked) {
        uint64_t rec[2];
        fx_frcd(&e.f, 0, rec);
        FX_EQ(c->name, "blocked", res.blocked, 1);
        FX_EQ(c->name, "fault", res.fault, 0);
        FX_EQ(c->name, "recorded", res.recorded, 0);
        FX_EQ(c->name, "FRCD[0].F", rec[1] >> 63, 0);
        FX_EQ(c->name, "FSTS", fx_fsts(&e.f), 0);
    } else {
        bool remapped = fld(c->pgtt, 2) != 4 && c->at != VTD_AT_TRANSLATED;
        fx_check(&e.f, c->name, &r, &res, &c->want, remapped);
        if (!res.fault && c->at != VTD_AT_TRANSLATED)
            FX_EQ(c->name, "did", res.did, 7);
    }
    fx_fini(&e.f);
}

static void test_sm_structures(void **state)
{
    (void)state;
    size_t n = sizeof(scases) / sizeof(scases[0]);
    fx_group_begin();
    for (size_t i = 0; i < n; i++)
        run_scase(&scases[i]);
    fx_group_end("scalable-mode structures", (unsigned)n);
}

/* The PASID cache keeps answering the same after the structures that fed it
 * are gone, until invalidated (§2.10 caching): a context and PASID entry
 * cached by one request serve a second one. */
static void test_sm_caches(void **state)
{
    (void)state;
    static const struct scase c = { .name = "caches" };
    struct senv e = { .c = &c, .sid = SID_LO, .pasid = PASID_A };
    fx_init(&e.f, FX_DEFAULT, NULL, 1);
    fx_sl_map(&e.f, &e.sl[1], 4, IOVA, HPA_A, 12, SL_RW);
    e.sl[0] = e.sl[2] = e.sl[1];
    fx_fl_init(&e.pt, phys_view_hpa(e.f.mem), 4);
    build_device(&e, SID_LO);
    struct vtd_req r = { .sid = SID_LO, .pasid_present = 1, .pasid = PASID_A, .addr = ADDR };
    struct vtd_result res = fx_xl(&e.f, &r);
    assert_int_equal(res.fault, 0);
    assert_false(res.cached);
    m_pte_np(&e);                       /* no invalidation: still cached */
    r.addr = ADDR + 4;
    res = fx_xl(&e.f, &r);
    assert_int_equal(res.fault, 0);
    assert_true(res.cached);
    r.addr = IOVA + 0x1000;             /* other page: walk, PASID entry cached */
    res = fx_xl(&e.f, &r);
    assert_int_equal(res.fault, 0x86);
    vtd_inv_pasid_cache(e.f.u, VTD_PC_PASID, 7, PASID_A);
    vtd_inv_iotlb(e.f.u, VTD_IOTLB_DOMAIN, 7, 0, 0, false);
    r.addr = ADDR;
    res = fx_xl(&e.f, &r);
    assert_int_equal(res.fault, 0x59);
    fx_fini(&e.f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sm_structures),
        cmocka_unit_test(test_sm_caches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
