/* Legacy-mode DMA remapping (vtd-reference.md §2.2, §2.3, §3.1-§3.3, §5):
 * root -> context (TT 0/1/2) -> second level with AW 1/2/3, 4 KiB / 2 MiB /
 * 1 GiB pages, permissions, every legacy fault code with its fault record,
 * FPD and the qualified/non-qualified rule, and the fault recording
 * registers over several faults. Each case runs in a fresh unit.
 *
 * Configurations: "LEG" = vtd_config_legacy() (SAGAW 39/48-bit, SLLPS 2M
 * only, HAW 39, no SC, 256 domains, 4 fault records); "DEF" =
 * vtd_config_default() programmed with TTM=0 (SAGAW 39/48/57, SLLPS 2M+1G,
 * HAW 46, SC, 64K domains). */
#include "vtd_fixture.c"

#define SID     0x0310
#define IOVA4   0x12345000ULL
#define HPA4    0x234567000ULL
#define IOVA2   0x40A00000ULL
#define HPA2    0x244400000ULL
#define IOVA1   0x80000000ULL
#define HPA1    0x3C0000000ULL
#define IOVA5   0x123456789A000ULL      /* needs the fifth level */
#define IOVA5M  0x1234567A00000ULL
#define IOVA5G  0x1234540000000ULL
#define RW      (VTD_PERM_R | VTD_PERM_W)   /* legacy translations grant no execute */

struct lcase;
struct lenv {
    struct fx f;
    uint64_t slroot;
    unsigned levels, leaf;
    const struct lcase *c;
};

struct lcase {
    const char *name;
    bool dc;                    /* default configuration (else legacy) */
    struct fx_mod mod;
    unsigned ttm, tt, aw;
    bool fpd;
    uint16_t did;               /* 0 -> 1 */
    uint64_t slpt;              /* 0 -> the tables built */
    uint64_t iova, hpa;         /* mapping, when map_shift */
    unsigned map_shift;
    uint64_t map_flags;
    void (*mut)(struct lenv *);
    uint64_t addr;
    bool write, pasid;
    enum vtd_at at;
    struct fx_want want;
};

#define MAP4(fl)  .iova = IOVA4, .hpa = HPA4, .map_shift = 12, .map_flags = (fl)
#define MAP2(fl)  .iova = IOVA2, .hpa = HPA2, .map_shift = 21, .map_flags = (fl)
#define MAP1(fl)  .iova = IOVA1, .hpa = HPA1, .map_shift = 30, .map_flags = (fl)
#define OK(o, s, p) .want = { .out = (o), .shift = (s), .perm = (p) }
#define FLT(fr)   .want = { .fault = (fr) }
#define SUP(fr)   .want = { .fault = (fr), .suppressed = true }
#define CAPM(F, v) .mod = { .cap_clr = HW_FM(CAP, F), .cap_set = HW_FMK(CAP, F, v) }
#define ECAPCLR(F) .mod = { .ecap_clr = HW_FM(ECAP, F) }

/* ---- mutations (applied after the tables are built) -------------------- */
static uint64_t haw_bit(struct lenv *e) { return 1ULL << e->f.cfg.haw; }
static uint64_t root_ea(struct lenv *e) { return fx_root_addr(&e->f, SID); }
static uint64_t ctx_ea(struct lenv *e) { return fx_ctx_addr(&e->f, SID); }
static uint64_t sl_ea(struct lenv *e, unsigned level)
{
    return fx_sl_slot(&e->f, e->slroot, e->levels, e->c->iova, level);
}
static void sl_set(struct lenv *e, unsigned level, uint64_t bits) { fx_set_bits(&e->f, sl_ea(e, level), bits); }
static void sl_clr(struct lenv *e, unsigned level, uint64_t bits) { fx_clr_bits(&e->f, sl_ea(e, level), bits); }
static void sl_repoint(struct lenv *e, unsigned level, uint64_t to)
{
    uint64_t a = sl_ea(e, level);
    fx_wr(&e->f, a, (fx_rd(&e->f, a) & ~HW_FM(SL_PTE, ADDR)) | to);
}

static void m_root_np(struct lenv *e) { fx_clr_bits(&e->f, root_ea(e), 1); }
static void m_root_b1(struct lenv *e) { fx_set_bits(&e->f, root_ea(e), 2); }
static void m_root_hi(struct lenv *e) { fx_set_bits(&e->f, root_ea(e) + 8, 1); }
static void m_root_haw(struct lenv *e) { fx_set_bits(&e->f, root_ea(e), haw_bit(e)); }
static void m_rt_out(struct lenv *e) { fx_reroot(&e->f, FX_OUTSIDE, 0); }
static void m_rt_end(struct lenv *e) { fx_reroot(&e->f, FX_END, 0); }
static void m_ctp_out(struct lenv *e) { fx_wr(&e->f, root_ea(e), FX_OUTSIDE | 1); }
static void m_ctp_end(struct lenv *e) { fx_wr(&e->f, root_ea(e), FX_END | 1); }
static void m_ctx_np(struct lenv *e) { fx_clr_bits(&e->f, ctx_ea(e), 1); }
static void m_ctx_b4(struct lenv *e) { fx_set_bits(&e->f, ctx_ea(e), 1ULL << 4); }
static void m_ctx_b11(struct lenv *e) { fx_set_bits(&e->f, ctx_ea(e), 1ULL << 11); }
static void m_ctx_b71(struct lenv *e) { fx_set_bits(&e->f, ctx_ea(e) + 8, 1ULL << 7); }
static void m_ctx_b88(struct lenv *e) { fx_set_bits(&e->f, ctx_ea(e) + 8, 1ULL << 24); }
static void m_ctx_b127(struct lenv *e) { fx_set_bits(&e->f, ctx_ea(e) + 8, 1ULL << 63); }
static void m_ctx_haw(struct lenv *e) { fx_set_bits(&e->f, ctx_ea(e), haw_bit(e)); }
static void m_ctx_avail(struct lenv *e) { fx_set_bits(&e->f, ctx_ea(e) + 8, 0xFULL << 3); }
static void m_leaf_np(struct lenv *e) { fx_wr(&e->f, sl_ea(e, e->leaf), 0); }
static void m_top_np(struct lenv *e) { fx_wr(&e->f, sl_ea(e, e->levels), 0); }
static void m_l2_ro(struct lenv *e) { sl_clr(e, 2, SL_W); }
static void m_l3_wo(struct lenv *e) { sl_clr(e, 3, SL_R); }
static void m_l2_out(struct lenv *e) { sl_repoint(e, 2, FX_OUTSIDE); }
static void m_l2_end(struct lenv *e) { sl_repoint(e, 2, FX_END); }
static void m_leaf_snp(struct lenv *e) { sl_set(e, e->leaf, HW_FM(SL_PTE, SNP)); }
static void m_l3_snp(struct lenv *e) { sl_set(e, 3, HW_FM(SL_PTE, SNP)); }
static void m_top_ps(struct lenv *e) { sl_set(e, e->levels, HW_FM(SL_PTE, PS)); }
static void m_leaf_b12(struct lenv *e) { sl_set(e, e->leaf, 1ULL << 12); }
static void m_leaf_b20(struct lenv *e) { sl_set(e, e->leaf, 1ULL << 20); }
static void m_leaf_b29(struct lenv *e) { sl_set(e, e->leaf, 1ULL << 29); }
static void m_leaf_haw(struct lenv *e) { sl_set(e, e->leaf, haw_bit(e)); }
static void m_leaf_b51(struct lenv *e) { sl_set(e, e->leaf, 1ULL << 51); }
static void m_l2_haw(struct lenv *e) { sl_set(e, 2, haw_bit(e)); }
static void m_leaf_tm(struct lenv *e) { sl_set(e, e->leaf, HW_FM(SL_PTE, TM)); }
static void m_leaf_ps(struct lenv *e) { sl_set(e, 1, HW_FM(SL_PTE, PS)); }
static void m_leaf_ign(struct lenv *e)
{
    sl_set(e, e->leaf, HW_FM(SL_PTE, IGN10) | HW_FM(SL_PTE, IGN) | HW_FM(SL_PTE, IGN63) |
                       HW_FM(SL_PTE, A) | HW_FM(SL_PTE, D) | HW_FM(SL_PTE, EMT) |
                       HW_FM(SL_PTE, IPAT));
}

/* ---- the matrix ----------------------------------------------------------------- */
static const struct lcase lcases[] = {
    /* geometry: levels, page sizes, output with the in-page offset */
    { "LEG aw1 4K read", .aw = 1, MAP4(SL_RW), .addr = IOVA4 + 0xABC, OK(HPA4 + 0xABC, 12, RW) },
    { "LEG aw2 4K write", .aw = 2, MAP4(SL_RW), .addr = IOVA4 + 8, .write = 1, OK(HPA4 + 8, 12, RW) },
    { "LEG aw2 2M read", .aw = 2, MAP2(SL_RW), .addr = IOVA2 + 0x12345, OK(HPA2 + 0x12345, 21, RW) },
    { "LEG aw1 2M write", .aw = 1, MAP2(SL_RW), .addr = IOVA2 + 0x1FFFFF, .write = 1,
      OK(HPA2 + 0x1FFFFF, 21, RW) },
    { "LEG aw2 1G leaf without SLLPS[1] -> 0xC", .aw = 2, MAP1(SL_RW), .addr = IOVA1 + 16, FLT(0xC) },
    { "LEG aw3 not in SAGAW -> 0x3", .aw = 3, MAP4(SL_RW), .addr = IOVA4, FLT(0x3) },
    { "DEF aw3 4K read (5 levels)", .dc = 1, .aw = 3, .iova = IOVA5, .hpa = HPA4, .map_shift = 12,
      .map_flags = SL_RW, .addr = IOVA5 + 0x123, OK(HPA4 + 0x123, 12, RW) },
    { "DEF aw3 2M write", .dc = 1, .aw = 3, .iova = IOVA5M, .hpa = HPA2, .map_shift = 21,
      .map_flags = SL_RW, .addr = IOVA5M + 0x54321, .write = 1, OK(HPA2 + 0x54321, 21, RW) },
    { "DEF aw3 1G read", .dc = 1, .aw = 3, .iova = IOVA5G, .hpa = HPA1, .map_shift = 30,
      .map_flags = SL_RW, .addr = IOVA5G + 0x3ABCDEF1, OK(HPA1 + 0x3ABCDEF1, 30, RW) },
    { "DEF aw2 1G read", .dc = 1, .aw = 2, MAP1(SL_RW), .addr = IOVA1 + 0x1234567,
      OK(HPA1 + 0x1234567, 30, RW) },
    { "DEF aw1 1G leaf in the top-level table", .dc = 1, .aw = 1, MAP1(SL_RW), .addr = IOVA1 + 5,
      .write = 1, OK(HPA1 + 5, 30, RW) },
    { "DEF aw1 4K read", .dc = 1, .aw = 1, MAP4(SL_RW), .addr = IOVA4 + 0xFFF, OK(HPA4 + 0xFFF, 12, RW) },
    { "DEF aw2 2M leaf with SLLPS=0 -> 0xC", .dc = 1, CAPM(SLLPS, 0), .aw = 2, MAP2(SL_RW),
      .addr = IOVA2, FLT(0xC) },
    /* permissions: AND over the levels; not present = R=W=0 */
    { "R-only leaf, read", .aw = 2, MAP4(SL_R), .addr = IOVA4, OK(HPA4, 12, VTD_PERM_R) },
    { "R-only leaf, write -> 0x5", .aw = 2, MAP4(SL_R), .addr = IOVA4, .write = 1, FLT(0x5) },
    { "W-only leaf, write", .aw = 2, MAP4(SL_W), .addr = IOVA4, .write = 1,
      OK(HPA4, 12, VTD_PERM_W) },
    { "W-only leaf, read -> 0x6", .aw = 2, MAP4(SL_W), .addr = IOVA4, FLT(0x6) },
    { "R-only level-2 entry, write -> 0x5", .aw = 2, MAP4(SL_RW), .mut = m_l2_ro, .addr = IOVA4,
      .write = 1, FLT(0x5) },
    { "R-only level-2 entry, read", .aw = 2, MAP4(SL_RW), .mut = m_l2_ro, .addr = IOVA4,
      OK(HPA4, 12, VTD_PERM_R) },
    { "W-only level-3 entry, read -> 0x6", .aw = 2, MAP4(SL_RW), .mut = m_l3_wo, .addr = IOVA4, FLT(0x6) },
    { "leaf not present, read -> 0x6", .aw = 2, MAP4(SL_RW), .mut = m_leaf_np, .addr = IOVA4, FLT(0x6) },
    { "leaf not present, write -> 0x5", .aw = 2, MAP4(SL_RW), .mut = m_leaf_np, .addr = IOVA4,
      .write = 1, FLT(0x5) },
    { "top-level entry not present -> 0x6", .aw = 1, MAP4(SL_RW), .mut = m_top_np, .addr = IOVA4, FLT(0x6) },
    /* translation types and address types (§2.3) */
    { "TT1 untranslated", .tt = 1, .aw = 2, MAP4(SL_RW), .addr = IOVA4 + 4, OK(HPA4 + 4, 12, RW) },
    { "TT1 translation request", .tt = 1, .aw = 2, MAP4(SL_RW), .addr = IOVA4 + 4,
      .at = VTD_AT_TRANSLATION, OK(HPA4 + 4, 12, RW) },
    { "TT1 translated request passes untouched", .tt = 1, .aw = 2, MAP4(SL_RW), .addr = 0x555555010ULL,
      .write = 1, .at = VTD_AT_TRANSLATED, OK(0x555555010ULL, 12, RW) },
    { "TT0 translation request -> 0xD", .aw = 2, MAP4(SL_RW), .addr = IOVA4, .at = VTD_AT_TRANSLATION,
      FLT(0xD) },
    { "TT0 translated request -> 0xD", .aw = 2, MAP4(SL_RW), .addr = IOVA4, .write = 1,
      .at = VTD_AT_TRANSLATED, FLT(0xD) },
    { "TT2 translation request -> 0xD", .tt = 2, .aw = 2, .addr = IOVA4, .at = VTD_AT_TRANSLATION,
      FLT(0xD) },
    { "TT2 pass-through", .tt = 2, .aw = 2, .addr = 0x712345678ULL, .write = 1,
      OK(0x712345678ULL, 12, RW) },
    { "TT2 ignores SLPTPTR above HAW", .tt = 2, .aw = 1, .slpt = 0x7FFFFFFFF000ULL, .addr = 0x1000,
      OK(0x1000, 12, RW) },
    { "TT2 input above HAW -> 0x4", .tt = 2, .aw = 2, .addr = 1ULL << 39, FLT(0x4) },
    { "TT2 interrupt range -> 0xE", .tt = 2, .aw = 2, .addr = 0xFEE00ABCULL, FLT(0xE) },
    { "TT1 without ECAP.DT -> 0x3", ECAPCLR(DT), .tt = 1, .aw = 2, MAP4(SL_RW), .addr = IOVA4, FLT(0x3) },
    { "TT2 without ECAP.PT -> 0x3", ECAPCLR(PT), .tt = 2, .aw = 2, .addr = IOVA4, FLT(0x3) },
    { "TT3 -> 0x3", .tt = 3, .aw = 2, MAP4(SL_RW), .addr = IOVA4, FLT(0x3) },
    { "AW0 -> 0x3", .aw = 0, .addr = IOVA4, FLT(0x3) },
    { "DEF AW4 -> 0x3", .dc = 1, .aw = 4, .addr = IOVA4, FLT(0x3) },
    { "AW7 -> 0x3", .aw = 7, .addr = IOVA4, FLT(0x3) },
    /* root entry (§2.2) and root table */
    { "root not present -> 0x1 (recorded despite FPD)", .aw = 2, .fpd = 1, MAP4(SL_RW), .mut = m_root_np,
      .addr = IOVA4, FLT(0x1) },
    { "root reserved bit 1 -> 0xA (recorded despite FPD)", .aw = 2, .fpd = 1, MAP4(SL_RW),
      .mut = m_root_b1, .addr = IOVA4, FLT(0xA) },
    { "root reserved bit 64 -> 0xA", .aw = 2, MAP4(SL_RW), .mut = m_root_hi, .addr = IOVA4, FLT(0xA) },
    { "root CTP above HAW -> 0xA", .aw = 2, MAP4(SL_RW), .mut = m_root_haw, .addr = IOVA4, FLT(0xA) },
    { "root table below the arena -> 0x8", .aw = 2, MAP4(SL_RW), .mut = m_rt_out, .addr = IOVA4, FLT(0x8) },
    { "root table at the arena end -> 0x8", .aw = 2, MAP4(SL_RW), .mut = m_rt_end, .addr = IOVA4, FLT(0x8) },
    /* context entry (§2.3) */
    { "context not present -> 0x2", .aw = 2, MAP4(SL_RW), .mut = m_ctx_np, .addr = IOVA4, FLT(0x2) },
    { "context not present, FPD=1 -> 0x2 suppressed", .aw = 2, .fpd = 1, MAP4(SL_RW), .mut = m_ctx_np,
      .addr = IOVA4, SUP(0x2) },
    { "context reserved bit 4 -> 0xB", .aw = 2, MAP4(SL_RW), .mut = m_ctx_b4, .addr = IOVA4, FLT(0xB) },
    { "context reserved bit 11 -> 0xB", .aw = 2, MAP4(SL_RW), .mut = m_ctx_b11, .addr = IOVA4, FLT(0xB) },
    { "context reserved bit 71 -> 0xB", .aw = 2, MAP4(SL_RW), .mut = m_ctx_b71, .addr = IOVA4, FLT(0xB) },
    { "context reserved bit 88 -> 0xB", .aw = 2, MAP4(SL_RW), .mut = m_ctx_b88, .addr = IOVA4, FLT(0xB) },
    { "context reserved bit 127 -> 0xB", .aw = 2, MAP4(SL_RW), .mut = m_ctx_b127, .addr = IOVA4, FLT(0xB) },
    { "context SLPTPTR above HAW -> 0xB", .aw = 2, MAP4(SL_RW), .mut = m_ctx_haw, .addr = IOVA4, FLT(0xB) },
    { "context DID beyond CAP.ND -> 0xB", .aw = 2, .did = 0x100, MAP4(SL_RW), .addr = IOVA4, FLT(0xB) },
    { "DEF context DID 0xFFFF", .dc = 1, .aw = 2, .did = 0xFFFF, MAP4(SL_RW), .addr = IOVA4,
      OK(HPA4, 12, RW) },
    { "context AVAIL bits ignored", .aw = 2, MAP4(SL_RW), .mut = m_ctx_avail, .addr = IOVA4,
      OK(HPA4, 12, RW) },
    { "context reserved, FPD=1 -> 0xB suppressed", .aw = 2, .fpd = 1, MAP4(SL_RW), .mut = m_ctx_b4,
      .addr = IOVA4, SUP(0xB) },
    { "context table below the arena -> 0x9", .aw = 2, MAP4(SL_RW), .mut = m_ctp_out, .addr = IOVA4,
      FLT(0x9) },
    { "context table at the arena end -> 0x9", .aw = 2, MAP4(SL_RW), .mut = m_ctp_end, .addr = IOVA4,
      FLT(0x9) },
    /* second-level tables (§3.2, §3.3) */
    { "top-level SL table outside -> 0x3", .aw = 2, .slpt = FX_OUTSIDE, .addr = IOVA4, FLT(0x3) },
    { "top-level SL table outside, FPD=1 -> suppressed", .aw = 2, .fpd = 1, .slpt = FX_OUTSIDE,
      .addr = IOVA4, SUP(0x3) },
    { "SL entry pointing outside -> 0x7", .aw = 2, MAP4(SL_RW), .mut = m_l2_out, .addr = IOVA4, FLT(0x7) },
    { "SL entry pointing at the arena end -> 0x7", .aw = 1, MAP4(SL_RW), .mut = m_l2_end, .addr = IOVA4,
      FLT(0x7) },
    { "SL entry outside, FPD=1 -> suppressed", .aw = 2, .fpd = 1, MAP4(SL_RW), .mut = m_l2_out,
      .addr = IOVA4, SUP(0x7) },
    { "SNP in leaf without ECAP.SC -> 0xC", .aw = 2, MAP4(SL_RW), .mut = m_leaf_snp, .addr = IOVA4, FLT(0xC) },
    { "SNP in non-leaf without ECAP.SC -> 0xC", .aw = 2, MAP4(SL_RW), .mut = m_l3_snp, .addr = IOVA4,
      FLT(0xC) },
    { "DEF SNP in leaf with ECAP.SC", .dc = 1, .aw = 2, MAP4(SL_RW), .mut = m_leaf_snp, .addr = IOVA4,
      OK(HPA4, 12, RW) },
    { "PS in level-4 entry -> 0xC", .aw = 2, MAP4(SL_RW), .mut = m_top_ps, .addr = IOVA4, FLT(0xC) },
    { "DEF PS in level-5 entry -> 0xC", .dc = 1, .aw = 3, MAP4(SL_RW), .mut = m_top_ps, .addr = IOVA4,
      FLT(0xC) },
    { "2M leaf address bit 12 -> 0xC", .aw = 2, MAP2(SL_RW), .mut = m_leaf_b12, .addr = IOVA2, FLT(0xC) },
    { "2M leaf address bit 20 -> 0xC", .aw = 2, MAP2(SL_RW), .mut = m_leaf_b20, .addr = IOVA2, FLT(0xC) },
    { "DEF 1G leaf address bit 12 -> 0xC", .dc = 1, .aw = 2, MAP1(SL_RW), .mut = m_leaf_b12,
      .addr = IOVA1, FLT(0xC) },
    { "DEF 1G leaf address bit 29 -> 0xC", .dc = 1, .aw = 2, MAP1(SL_RW), .mut = m_leaf_b29,
      .addr = IOVA1, FLT(0xC) },
    { "leaf address above HAW -> 0xC", .aw = 2, MAP4(SL_RW), .mut = m_leaf_haw, .addr = IOVA4, FLT(0xC) },
    { "DEF leaf address bit 51 -> 0xC", .dc = 1, .aw = 2, MAP4(SL_RW), .mut = m_leaf_b51, .addr = IOVA4,
      FLT(0xC) },
    { "non-leaf address above HAW -> 0xC", .aw = 2, MAP4(SL_RW), .mut = m_l2_haw, .addr = IOVA4, FLT(0xC) },
    { "TM without ECAP.DT -> 0xC", ECAPCLR(DT), .aw = 2, MAP4(SL_RW), .mut = m_leaf_tm, .addr = IOVA4,
      FLT(0xC) },
    { "TM with ECAP.DT", .aw = 2, MAP4(SL_RW), .mut = m_leaf_tm, .addr = IOVA4, OK(HPA4, 12, RW) },
    { "ignored bits, EMT/IPAT and A/D in leaf", .aw = 2, MAP4(SL_RW), .mut = m_leaf_ign,
      .addr = IOVA4 + 0x77, OK(HPA4 + 0x77, 12, RW) },
    { "PS in a 4K leaf is ignored", .aw = 2, MAP4(SL_RW), .mut = m_leaf_ps, .addr = IOVA4, OK(HPA4, 12, RW) },
    { "permission checked before reserved bits", .aw = 2, MAP4(SL_R), .mut = m_leaf_snp, .addr = IOVA4,
      .write = 1, FLT(0x5) },
    { "reserved leaf, FPD=1 -> 0xC suppressed", .aw = 2, .fpd = 1, MAP4(SL_RW), .mut = m_leaf_snp,
      .addr = IOVA4, SUP(0xC) },
    /* input address width (§3.3 step 1) */
    { "aw1 input at 2^39 -> 0x4", .aw = 1, MAP4(SL_RW), .addr = 1ULL << 39, FLT(0x4) },
    { "aw2 input at 2^48 -> 0x4", .aw = 2, MAP4(SL_RW), .addr = 1ULL << 48, FLT(0x4) },
    { "DEF aw3 input at 2^57 -> 0x4", .dc = 1, .aw = 3, MAP4(SL_RW), .addr = 1ULL << 57, FLT(0x4) },
    { "MGAW 39 < AGAW 48: input at 2^40 -> 0x4", CAPM(MGAW, 38), .aw = 2, MAP4(SL_RW), .addr = 1ULL << 40,
      FLT(0x4) },
    { "MGAW 39 < AGAW 48: last page below 2^39", CAPM(MGAW, 38), .aw = 2, .iova = 0x7FFFFFF000ULL,
      .hpa = HPA4, .map_shift = 12, .map_flags = SL_RW, .addr = 0x7FFFFFFFFFULL, OK(HPA4 + 0xFFF, 12, RW) },
    { "address width fault, FPD=1 -> suppressed", .aw = 1, .fpd = 1, MAP4(SL_RW), .addr = 1ULL << 40,
      SUP(0x4) },
    /* interrupt address range (§3.3 step 7) */
    { "output 0xFEE00000 -> 0xE", .aw = 2, .iova = IOVA4, .hpa = FX_INTR, .map_shift = 12,
      .map_flags = SL_RW, .addr = IOVA4 + 0x40, FLT(0xE) },
    { "output 0xFEEFF000 -> 0xE", .aw = 2, .iova = IOVA4, .hpa = 0xFEEFF000ULL, .map_shift = 12,
      .map_flags = SL_RW, .addr = IOVA4 + 0xFFF, .write = 1, FLT(0xE) },
    { "output 0xFEF00000", .aw = 2, .iova = IOVA4, .hpa = 0xFEF00000ULL, .map_shift = 12,
      .map_flags = SL_RW, .addr = IOVA4, OK(0xFEF00000ULL, 12, RW) },
    { "output 0xFEDFFFFF", .aw = 2, .iova = IOVA4, .hpa = 0xFEDFF000ULL, .map_shift = 12,
      .map_flags = SL_RW, .addr = IOVA4 + 0xFFF, OK(0xFEDFFFFFULL, 12, RW) },
    /* A page overlapping the range is never handed out (decision, xlate.c). */
    { "DEF 1G page over the interrupt range, outside it -> 0xE", .dc = 1, .aw = 2, .iova = IOVA1,
      .hpa = 0xC0000000ULL, .map_shift = 30, .map_flags = SL_RW, .addr = IOVA1, FLT(0xE) },
    { "DEF 1G page over the interrupt range, inside it -> 0xE", .dc = 1, .aw = 2, .iova = IOVA1,
      .hpa = 0xC0000000ULL, .map_shift = 30, .map_flags = SL_RW, .addr = IOVA1 + 0x3EE00000ULL, FLT(0xE) },
    { "interrupt range, FPD=1 -> suppressed", .aw = 2, .fpd = 1, .iova = IOVA4, .hpa = FX_INTR,
      .map_shift = 12, .map_flags = SL_RW, .addr = IOVA4, SUP(0xE) },
    /* request type, FPD on other qualified faults, root-table mode */
    { "SL permission fault, FPD=1 -> 0x6 suppressed", .aw = 2, .fpd = 1, MAP4(SL_W), .addr = IOVA4,
      SUP(0x6) },
    { "TT3, FPD=1 -> 0x3 suppressed", .tt = 3, .aw = 2, .fpd = 1, .addr = IOVA4, SUP(0x3) },
    { "TT0 translation request, FPD=1 -> 0xD suppressed", .aw = 2, .fpd = 1, MAP4(SL_RW), .addr = IOVA4,
      .at = VTD_AT_TRANSLATION, SUP(0xD) },
    { "request with PASID -> 0x31 (recorded despite FPD)", .aw = 2, .fpd = 1, MAP4(SL_RW), .addr = IOVA4,
      .pasid = 1, FLT(0x31) },
    { "TTM=1 without ECAP.SMTS -> 0x30", .ttm = 1, .aw = 2, MAP4(SL_RW), .addr = IOVA4, FLT(0x30) },
    { "TTM=2 -> 0x30", .ttm = 2, .aw = 2, MAP4(SL_RW), .addr = IOVA4, .write = 1, FLT(0x30) },
    { "TTM=3 without ECAP.ADMS -> 0x30", .ttm = 3, .aw = 2, MAP4(SL_RW), .addr = IOVA4, FLT(0x30) },
};

static void run_lcase(const struct lcase *c)
{
    struct lenv e = { .c = c };
    fx_init(&e.f, c->dc ? FX_DEFAULT : FX_LEGACY, &c->mod, 0);
    e.levels = c->aw >= 1 && c->aw <= 3 ? c->aw + 2 : 4;
    e.leaf = c->map_shift ? 1 + (c->map_shift - 12) / 9 : 1;
    if (c->map_shift)
        fx_sl_map(&e.f, &e.slroot, e.levels, c->iova, c->hpa, c->map_shift, c->map_flags);
    else
        e.slroot = fx_frame(&e.f);
    fx_ctx_legacy(&e.f, SID, c->tt, c->aw, c->slpt ? c->slpt : e.slroot, c->did ? c->did : 1, c->fpd);
    if (c->mut)
        c->mut(&e);
    if (c->ttm)
        fx_reroot(&e.f, e.f.t.root, c->ttm);
    struct vtd_req r = { .sid = SID, .addr = c->addr, .write = c->write, .at = c->at,
                         .pasid_present = c->pasid, .pasid = c->pasid ? 0x55 : 0 };
    struct vtd_result res = fx_xl(&e.f, &r);
    fx_check(&e.f, c->name, &r, &res, &c->want, c->tt != 2 && c->at != VTD_AT_TRANSLATED);
    if (!res.fault)
        FX_EQ(c->name, "did", res.did, c->did ? c->did : 1);
    fx_fini(&e.f);
}

static void test_legacy_matrix(void **state)
{
    (void)state;
    fx_group_begin();
    for (size_t i = 0; i < sizeof(lcases) / sizeof(lcases[0]); i++)
        run_lcase(&lcases[i]);
    fx_group_end("legacy matrix", (unsigned)(sizeof(lcases) / sizeof(lcases[0])));
}

/* ---- fault recording over several faults (§1.9, §1.15, §5.2) ----------------------- */
static void fault_at(struct fx *f, uint64_t addr, bool write, bool want_rec)
{
    struct vtd_req r = { .sid = SID, .addr = addr, .write = write };
    struct vtd_result res = fx_xl(f, &r);
    assert_int_equal(res.fault, 0x2);
    assert_int_equal(res.recorded, want_rec);
}

static void test_legacy_fault_records(void **state)
{
    (void)state;
    struct fx f;
    uint64_t rec[2], want[2];
    fx_init(&f, FX_LEGACY, NULL, 0);      /* NFR = 3: four records */
    uint32_t frcd = (uint32_t)HW_FV(CAP, FRO, f.cfg.cap) * 16;
    fx_ctx_legacy(&f, SID, 0, 2, fx_frame(&f), 1, false);
    fx_clr_bits(&f, fx_ctx_addr(&f, SID), 1);                  /* every request: 0x2 */
    assert_int_equal(vtd_mmio_read(f.u, 0x38, 4), 0x80000000u); /* FECTL: IM */
    for (unsigned i = 0; i < 4; i++) {
        fault_at(&f, 0x1000 * (i + 1) + i, i & 1, true);
        fx_frcd(&f, i, rec);
        struct vtd_req r = { .sid = SID, .addr = 0x1000 * (i + 1) + i, .write = i & 1 };
        fx_frcd_expect(&r, 0x2, want);
        assert_int_equal(rec[0], want[0]);
        assert_int_equal(rec[1], want[1]);
        assert_int_equal(fx_fsts(&f), 0x2);                     /* PPF, FRI = 0 */
    }
    assert_int_equal(vtd_mmio_read(f.u, 0x38, 4), 0xC0000000u); /* IM | IP */
    fault_at(&f, 0x9000, false, false);                         /* all busy: PFO */
    assert_int_equal(fx_fsts(&f), 0x3);
    fault_at(&f, 0xA000, false, false);                         /* PFO set: dropped */
    fx_frcd(&f, 0, rec);
    assert_int_equal(rec[0], 0x1000);                           /* record 0 untouched */
    vtd_mmio_write(f.u, frcd + 16 + 12, 4, 0x80000000u);        /* clear record 1 (dword) */
    fx_frcd(&f, 1, rec);
    assert_int_equal(rec[1] >> 63, 0);
    assert_int_equal(fx_fsts(&f), 0x3);
    vtd_mmio_write(f.u, 0x34, 4, 0x1);                          /* clear PFO */
    assert_int_equal(fx_fsts(&f), 0x2);
    fault_at(&f, 0xB000, false, false);                         /* next slot is 0, still busy */
    assert_int_equal(fx_fsts(&f), 0x3);
    for (unsigned i = 0; i < 4; i++)
        vtd_mmio_write(f.u, frcd + 16 * i + 8, 8, 1ULL << 63);
    assert_int_equal(fx_fsts(&f), 0x1);                         /* PPF follows the F bits */
    vtd_mmio_write(f.u, 0x34, 4, 0x1);
    assert_int_equal(fx_fsts(&f), 0x0);
    assert_int_equal(vtd_mmio_read(f.u, 0x38, 4), 0x80000000u); /* IP cleared */
    fault_at(&f, 0xC000, true, true);                           /* slot 0 again */
    fault_at(&f, 0xD000, true, true);                           /* slot 1 */
    assert_int_equal(fx_fsts(&f), 0x2);                         /* FRI = 0: first of the run */
    fx_frcd(&f, 1, rec);
    assert_int_equal(rec[0], 0xD000);
    fx_fini(&f);
}

/* ---- classification (fault.h decisions, §5.5) -------------------------------------- */
static void test_fault_classification(void **state)
{
    (void)state;
    static const uint8_t nonq[] = { 0x00, 0x01, 0x08, 0x09, 0x0A, 0x30, 0x31, 0x32, 0x38, 0x39,
                                    0x3A, 0x40, 0x50, 0x58 };
    static const uint8_t known[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A,
                                     0x0B, 0x0C, 0x0D, 0x0E, 0x30, 0x31, 0x32, 0x38, 0x39, 0x3A,
                                     0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x50,
                                     0x51, 0x52, 0x58, 0x59, 0x5A, 0x5B, 0x5C, 0x5D, 0x70, 0x71,
                                     0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x7A, 0x7B, 0x7C,
                                     0x80, 0x81, 0x82, 0x83, 0x85, 0x86, 0x87, 0x90, 0x91 };
    char name[32];
    fx_group_begin();
    for (unsigned r = 0; r < 256; r++) {
        bool q = true;
        for (size_t i = 0; i < sizeof(nonq); i++)
            q &= nonq[i] != r;
        snprintf(name, sizeof(name), "reason %#x", r);
        FX_EQ(name, "qualified", vtd_fault_qualified((uint8_t)r), q);
    }
    for (size_t i = 0; i < sizeof(known); i++) {
        snprintf(name, sizeof(name), "reason %#x", known[i]);
        if (!strcmp(vtd_fault_name(known[i]), vtd_fault_name(0xFF)))
            fx_fail(name, "has no name");
    }
    fx_group_end("classification", 256);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_legacy_matrix),
        cmocka_unit_test(test_legacy_fault_records),
        cmocka_unit_test(test_fault_classification),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
