/* Scalable mode, second-level (PGTT=2) and nested (PGTT=3) translation
 * (vtd-reference.md §2.10, §3.2, §3.3, §3.6): AW 1/2/3, 4 KiB / 2 MiB /
 * 1 GiB pages, SLEE, SLADE (A/D read back), the scalable second-level fault
 * codes; nested walks whose first-level tables live in a guest physical
 * space (scattered frames) mapped through the second level, every page-size
 * combination, combined permissions, both stages' A/D, and 0x74-0x78, 0x7A,
 * 0x7B, 0x83, 0x85, 0x86, 0x87.
 *
 * Every case: a fresh vtd_config_default() unit plus ECAP.ERS, TTM=1,
 * device 03:02.0 with PASIDE and PASID 0x42 (SRE=1, ERE=1). */
#include "vtd_fixture.c"

#define SID    0x0310
#define PASID  0x42
#define IOVA4  0x12345000ULL
#define IOVA2  0x40A00000ULL
#define IOVA1  0x80000000ULL
#define IOVA5  0x123456789A000ULL
#define HPA4   0x234567000ULL
#define HPA2   0x244400000ULL
#define HPA1   0x3C0000000ULL
#define R_     VTD_PERM_R
#define W_     VTD_PERM_W
#define X_     VTD_PERM_X
#define RWX    (R_ | W_ | X_)
#define OK(o, s, p) .want = { .out = (o), .shift = (s), .perm = (p) }
#define FLT(fr) .want = { .fault = (fr) }
#define SUP(fr) .want = { .fault = (fr), .suppressed = true }

static struct vtd_req pasid_req(uint64_t addr, bool write, bool exec, bool priv)
{
    return (struct vtd_req){ .sid = SID, .pasid_present = 1, .pasid = PASID, .addr = addr,
                             .write = write, .exec = exec, .priv = priv };
}

static uint64_t device(struct fx *f, const struct fx_pasid *p)
{
    struct fx_smctx ctx = { .paside = 1 };
    uint64_t dir = fx_ctx_sm(f, SID, &ctx);
    fx_pasid_set(f, dir, PASID, p, false);
    return dir;
}

/* ======================= second level only (PGTT=2) ============================= */
struct lcase;
struct lenv {
    struct fx f;
    uint64_t root, dir;
    unsigned levels, leaf;
    const struct lcase *c;
};

struct lcase {
    const char *name;
    struct fx_mod mod;
    unsigned aw;                /* 0 -> 2 */
    bool slee, slade, fpd;
    uint64_t iova, hpa;
    unsigned shift;
    uint64_t flags;
    void (*mut)(struct lenv *);
    uint64_t addr;
    bool write, exec;
    bool ad;                    /* check A/D on the path (SLADE rules) */
    struct fx_want want;
};

#define L4(fl) .iova = IOVA4, .hpa = HPA4, .shift = 12, .flags = (fl)
#define L2(fl) .iova = IOVA2, .hpa = HPA2, .shift = 21, .flags = (fl)
#define L1(fl) .iova = IOVA1, .hpa = HPA1, .shift = 30, .flags = (fl)

static uint64_t lslot(struct lenv *e, unsigned level)
{
    return fx_sl_slot(&e->f, e->root, e->levels, e->c->iova, level);
}
static void l_set(struct lenv *e, unsigned level, uint64_t b) { fx_set_bits(&e->f, lslot(e, level), b); }
static void l_clr(struct lenv *e, unsigned level, uint64_t b) { fx_clr_bits(&e->f, lslot(e, level), b); }
static void l_point(struct lenv *e, unsigned level, uint64_t to)
{
    uint64_t a = lslot(e, level);
    fx_wr(&e->f, a, (fx_rd(&e->f, a) & ~HW_FM(SL_PTE, ADDR)) | to);
}
static void ml_leaf_np(struct lenv *e) { fx_wr(&e->f, lslot(e, e->leaf), 0); }
static void ml_l3_ro(struct lenv *e) { l_clr(e, 3, SL_W); }
static void ml_l3_nox(struct lenv *e) { l_clr(e, 3, SL_X); }
static void ml_l2_out(struct lenv *e) { l_point(e, 2, FX_OUTSIDE); }
static void ml_l3_end(struct lenv *e) { l_point(e, 3, FX_END); }
static void ml_top_ps(struct lenv *e) { l_set(e, e->levels, HW_FM(SL_PTE, PS)); }
static void ml_leaf_b12(struct lenv *e) { l_set(e, e->leaf, 1ULL << 12); }
static void ml_leaf_b29(struct lenv *e) { l_set(e, e->leaf, 1ULL << 29); }
static void ml_leaf_haw(struct lenv *e) { l_set(e, e->leaf, 1ULL << 46); }
static void ml_leaf_snp(struct lenv *e) { l_set(e, e->leaf, HW_FM(SL_PTE, SNP)); }
static void ml_leaf_tm(struct lenv *e) { l_set(e, e->leaf, HW_FM(SL_PTE, TM)); }
static void ml_slpt_out(struct lenv *e)
{
    uint64_t a = fx_pasid_addr(&e->f, e->dir, PASID);
    fx_wr(&e->f, a, (fx_rd(&e->f, a) & 0xFFF) | FX_OUTSIDE);
}

static const struct lcase lcases[] = {
    { "aw1 4K read", .aw = 1, L4(SL_RW), .addr = IOVA4 + 0x321, OK(HPA4 + 0x321, 12, RWX) },
    { "aw2 4K write", L4(SL_RW), .addr = IOVA4 + 0x8, .write = 1, OK(HPA4 + 8, 12, RWX) },
    { "aw2 2M read", L2(SL_RW), .addr = IOVA2 + 0x1ABCDE, OK(HPA2 + 0x1ABCDE, 21, RWX) },
    { "aw2 1G write", L1(SL_RW), .addr = IOVA1 + 0x2345678, .write = 1, OK(HPA1 + 0x2345678, 30, RWX) },
    { "aw1 1G in the top-level table", .aw = 1, L1(SL_RW), .addr = IOVA1 + 1, OK(HPA1 + 1, 30, RWX) },
    { "aw3 4K read (5 levels)", .aw = 3, .iova = IOVA5, .hpa = HPA4, .shift = 12, .flags = SL_RW,
      .addr = IOVA5 + 0x10, OK(HPA4 + 0x10, 12, RWX) },
    { "aw3 2M write", .aw = 3, L2(SL_RW), .addr = IOVA2 + 0x200, .write = 1, OK(HPA2 + 0x200, 21, RWX) },
    /* SLEE: X honoured (§3.2) */
    { "SLEE=1, RW leaf: read", .slee = 1, L4(SL_RW), .addr = IOVA4, OK(HPA4, 12, R_ | W_) },
    { "SLEE=1, RW leaf: execute -> 0x82", .slee = 1, L4(SL_RW), .addr = IOVA4, .exec = 1, FLT(0x82) },
    { "SLEE=1, RWX leaf: execute", .slee = 1, L4(SL_RWX), .addr = IOVA4, .exec = 1, OK(HPA4, 12, RWX) },
    { "SLEE=1, X clear in level 3: execute -> 0x82", .slee = 1, L4(SL_RWX), .mut = ml_l3_nox,
      .addr = IOVA4, .exec = 1, FLT(0x82) },
    { "SLEE=0, RW leaf: execute", L4(SL_RW), .addr = IOVA4, .exec = 1, OK(HPA4, 12, RWX) },
    { "SLEE=1, R-only leaf: execute", .slee = 1, L2(SL_R | SL_X), .addr = IOVA2, .exec = 1,
      OK(HPA2, 21, R_ | X_) },
    /* SLADE: A on every level walked, D on the leaf for writes (§3.3 step 8) */
    { "SLADE=1 4K read: A, no D", .slade = 1, L4(SL_RW), .addr = IOVA4, .ad = 1, OK(HPA4, 12, RWX) },
    { "SLADE=1 4K write: A, D", .slade = 1, L4(SL_RW), .addr = IOVA4, .write = 1, .ad = 1,
      OK(HPA4, 12, RWX) },
    { "SLADE=1 1G write: A, D", .slade = 1, L1(SL_RW), .addr = IOVA1, .write = 1, .ad = 1,
      OK(HPA1, 30, RWX) },
    { "SLADE=0 write: no A/D", L4(SL_RW), .addr = IOVA4, .write = 1, .ad = 1, OK(HPA4, 12, RWX) },
    /* permissions */
    { "R-only leaf: write -> 0x85", L4(SL_R), .addr = IOVA4, .write = 1, FLT(0x85) },
    { "W-only leaf: read -> 0x86", L4(SL_W), .addr = IOVA4, FLT(0x86) },
    { "W-only leaf: write", L4(SL_W), .addr = IOVA4, .write = 1, OK(HPA4, 12, W_ | X_) },
    { "leaf not present: read -> 0x86", L4(SL_RW), .mut = ml_leaf_np, .addr = IOVA4, FLT(0x86) },
    { "leaf not present: write -> 0x85", L4(SL_RW), .mut = ml_leaf_np, .addr = IOVA4, .write = 1,
      FLT(0x85) },
    { "R-only level 3: write -> 0x85", L4(SL_RW), .mut = ml_l3_ro, .addr = IOVA4, .write = 1, FLT(0x85) },
    { "R-only level 3: read", L4(SL_RW), .mut = ml_l3_ro, .addr = IOVA4, OK(HPA4, 12, R_ | X_) },
    { "no permission, FPD=1 -> suppressed", .fpd = 1, L4(SL_R), .addr = IOVA4, .write = 1, SUP(0x85) },
    /* tables and reserved bits */
    { "table pointer outside -> 0x78", L4(SL_RW), .mut = ml_l2_out, .addr = IOVA4, FLT(0x78) },
    { "table pointer at the arena end -> 0x78", L4(SL_RW), .mut = ml_l3_end, .addr = IOVA4, FLT(0x78) },
    { "SLPTPTR outside -> 0x7B", L4(SL_RW), .mut = ml_slpt_out, .addr = IOVA4, FLT(0x7B) },
    { "SLPTPTR outside, FPD=1 -> suppressed", .fpd = 1, L4(SL_RW), .mut = ml_slpt_out, .addr = IOVA4,
      SUP(0x7B) },
    { "PS in level 4 -> 0x7A", L4(SL_RW), .mut = ml_top_ps, .addr = IOVA4, FLT(0x7A) },
    { "aw3 PS in level 5 -> 0x7A", .aw = 3, L4(SL_RW), .mut = ml_top_ps, .addr = IOVA4, FLT(0x7A) },
    { "2M leaf bit 12 -> 0x7A", L2(SL_RW), .mut = ml_leaf_b12, .addr = IOVA2, FLT(0x7A) },
    { "1G leaf bit 29 -> 0x7A", L1(SL_RW), .mut = ml_leaf_b29, .addr = IOVA1, FLT(0x7A) },
    { "1G leaf without CAP.SLLPS[1] -> 0x7A",
      .mod = { .cap_clr = HW_FM(CAP, SLLPS), .cap_set = HW_FMK(CAP, SLLPS, 1) }, L1(SL_RW),
      .addr = IOVA1, FLT(0x7A) },
    { "leaf address bit 46 (HAW) -> 0x7A", L4(SL_RW), .mut = ml_leaf_haw, .addr = IOVA4, FLT(0x7A) },
    { "SNP with ECAP.SC", L4(SL_RW), .mut = ml_leaf_snp, .addr = IOVA4, OK(HPA4, 12, RWX) },
    { "SNP without ECAP.SC -> 0x7A", .mod = { .ecap_clr = HW_FM(ECAP, SC) }, L4(SL_RW),
      .mut = ml_leaf_snp, .addr = IOVA4, FLT(0x7A) },
    { "TM without ECAP.DT -> 0x7A", .mod = { .ecap_clr = HW_FM(ECAP, DT) }, L4(SL_RW),
      .mut = ml_leaf_tm, .addr = IOVA4, FLT(0x7A) },
    { "reserved, FPD=1 -> suppressed", .fpd = 1, L4(SL_RW), .mut = ml_top_ps, .addr = IOVA4, SUP(0x7A) },
    /* input width, interrupt range */
    { "aw1 input 2^39 -> 0x83", .aw = 1, L4(SL_RW), .addr = 1ULL << 39, FLT(0x83) },
    { "aw2 input 2^48 -> 0x83", L4(SL_RW), .addr = 1ULL << 48, .write = 1, FLT(0x83) },
    { "aw3 input 2^57 -> 0x83", .aw = 3, L4(SL_RW), .addr = 1ULL << 57, FLT(0x83) },
    { "output in the interrupt range -> 0x87", .iova = IOVA4, .hpa = FX_INTR, .shift = 12,
      .flags = SL_RW, .addr = IOVA4 + 0xC, FLT(0x87) },
};

static void check_sl_ad(struct fx *f, const char *name, uint64_t root, unsigned levels, uint64_t iova,
                        unsigned leaf, bool a, bool d)
{
    for (unsigned l = levels; l >= leaf; l--) {
        uint64_t v = fx_rd(f, fx_sl_slot(f, root, levels, iova, l));
        char what[40];
        snprintf(what, sizeof(what), "SL level %u A", l);
        FX_EQ(name, what, !!(v & HW_FM(SL_PTE, A)), a);
        snprintf(what, sizeof(what), "SL level %u D", l);
        FX_EQ(name, what, !!(v & HW_FM(SL_PTE, D)), d && l == leaf);
    }
}

static void run_lcase(const struct lcase *c)
{
    struct lenv e = { .c = c, .leaf = 1 + (c->shift - 12) / 9 };
    struct fx_mod mod = c->mod;
    unsigned aw = c->aw ? c->aw : 2;
    mod.ecap_set |= HW_FM(ECAP, ERS);
    fx_init(&e.f, FX_DEFAULT, &mod, 1);
    e.levels = aw + 2;
    fx_sl_map(&e.f, &e.root, e.levels, c->iova, c->hpa, c->shift, c->flags);
    struct fx_pasid p = { .pgtt = 2, .aw = aw, .slptptr = e.root, .did = 9, .fpd = c->fpd,
                          .slee = c->slee, .slade = c->slade, .sre = 1, .ere = 1 };
    e.dir = device(&e.f, &p);
    if (c->mut)
        c->mut(&e);
    struct vtd_req r = pasid_req(c->addr, c->write, c->exec, false);
    struct vtd_result res = fx_xl(&e.f, &r);
    fx_check(&e.f, c->name, &r, &res, &c->want, true);
    if (c->ad)
        check_sl_ad(&e.f, c->name, e.root, e.levels, c->iova, e.leaf, c->slade, c->slade && c->write);
    fx_fini(&e.f);
}

static void test_sl_matrix(void **state)
{
    (void)state;
    size_t n = sizeof(lcases) / sizeof(lcases[0]);
    fx_group_begin();
    for (size_t i = 0; i < n; i++)
        run_lcase(&lcases[i]);
    fx_group_end("second level", (unsigned)n);
}

/* ============================== nested (PGTT=3) =================================== */
#define VA     0x7F1234400000ULL        /* 2M aligned; 1G cases use VA1 */
#define VA1    0x3FC000000000ULL
#define DG     0x40000000ULL            /* data GPAs, outside the FL-table GPA map */
#define DG1    0x80000000ULL

struct ncase;
struct nenv {
    struct fx f;
    struct fx_nest n;
    uint64_t dir, gpa;          /* gpa of the access */
    unsigned sl_leaf, fl_leaf;
    const struct ncase *c;
};

struct ncase {
    const char *name;
    unsigned aw;                /* 0 -> 2 */
    int fl_levels;              /* 0 -> 4 */
    bool slee, slade, nxe, fpd, eafe;
    uint64_t va, gpa;           /* FL mapping va -> gpa */
    enum pt_page_size fl_size;
    uint64_t fl_flags;          /* 0 -> RW|US */
    unsigned sl_shift;          /* SL mapping of the accessed GPA page */
    uint64_t hpa, sl_flags;     /* sl_flags 0 -> R|W */
    void (*mut)(struct nenv *);
    uint64_t off;               /* access at va + off */
    bool write, exec, priv;
    bool ad;                    /* check FL A/D on its path and SL A/D on the data path */
    struct fx_want want;
};

static uint64_t fl_table_gpa(struct nenv *e, int level)   /* GPA of the level-`level` FL table */
{
    return level == e->n.pt.levels ? e->n.pt.root
                                   : fx_fl_get(&e->n.pt, e->c->va, level + 1) & PTE_ADDR_MASK;
}
static uint64_t table_sl_leaf(struct nenv *e, int level)  /* SL leaf mapping that table */
{
    return fx_sl_slot(&e->f, e->n.slroot, e->n.sl_levels, fl_table_gpa(e, level), 1);
}
static void mn_root_gpa_far(struct nenv *e)
{
    uint64_t a = fx_pasid_addr(&e->f, e->dir, PASID) + 16;
    fx_wr(&e->f, a, (fx_rd(&e->f, a) & 0xFFF) | (1ULL << 48));
}
static void mn_pml4e_far(struct nenv *e)
{
    uint64_t v = fx_fl_get(&e->n.pt, e->c->va, 4);
    fx_fl_put(&e->n.pt, e->c->va, 4, (v & ~PTE_ADDR_MASK) | (1ULL << 50));
}
static void mn_root_np(struct nenv *e) { fx_wr(&e->f, table_sl_leaf(e, e->n.pt.levels), 0); }
static void mn_root_wo(struct nenv *e) { fx_clr_bits(&e->f, table_sl_leaf(e, e->n.pt.levels), SL_R); }
static void mn_root_ro(struct nenv *e) { fx_clr_bits(&e->f, table_sl_leaf(e, e->n.pt.levels), SL_W); }
static void mn_pd_np(struct nenv *e) { fx_wr(&e->f, table_sl_leaf(e, 2), 0); }
static void mn_leaf_tbl_ro(struct nenv *e) { fx_clr_bits(&e->f, table_sl_leaf(e, e->fl_leaf), SL_W); }
static void mn_leaf_tbl_ro_a(struct nenv *e)
{
    mn_leaf_tbl_ro(e);
    for (int l = e->n.pt.levels; l >= (int)e->fl_leaf; l--)
        fx_fl_put(&e->n.pt, e->c->va, l, fx_fl_get(&e->n.pt, e->c->va, l) | PTE_A);
}
static void mn_sl_l1_out(struct nenv *e)    /* the SL table mapping the FL tables */
{
    uint64_t a = fx_sl_slot(&e->f, e->n.slroot, e->n.sl_levels, e->n.pt.root, 2);
    fx_wr(&e->f, a, (fx_rd(&e->f, a) & ~HW_FM(SL_PTE, ADDR)) | FX_OUTSIDE);
}
static void mn_sl_top_ps(struct nenv *e)
{
    fx_set_bits(&e->f, fx_sl_slot(&e->f, e->n.slroot, e->n.sl_levels, e->n.pt.root, 4),
                HW_FM(SL_PTE, PS));
}
static void mn_slpt_out(struct nenv *e)
{
    uint64_t a = fx_pasid_addr(&e->f, e->dir, PASID);
    fx_wr(&e->f, a, (fx_rd(&e->f, a) & 0xFFF) | FX_OUTSIDE);
}
static void mn_data_np(struct nenv *e)
{
    fx_wr(&e->f, fx_sl_slot(&e->f, e->n.slroot, e->n.sl_levels, e->gpa, e->sl_leaf), 0);
}

#define F4   .va = VA, .gpa = DG + 0x5000, .fl_size = PT_4K
#define N44  F4, .sl_shift = 12, .hpa = HPA4
static const struct ncase ncases[] = {
    /* page-size combinations: the smaller page wins */
    { "FL 4K / SL 4K read", N44, .off = 0x123, .ad = 1, OK(HPA4 + 0x123, 12, RWX) },
    { "FL 4K / SL 4K write, SLADE", N44, .slade = 1, .off = 0x8, .write = 1, .ad = 1, OK(HPA4 + 8, 12, RWX) },
    { "FL 4K / SL 4K read, SLADE", N44, .slade = 1, .off = 0x8, .ad = 1, OK(HPA4 + 8, 12, RWX) },
    { "FL 2M / SL 4K", .va = VA, .gpa = DG + 0x200000, .fl_size = PT_2M, .sl_shift = 12, .hpa = HPA4,
      .off = 0x1234AB, .ad = 1, OK(HPA4 + 0x4AB, 12, RWX) },
    { "FL 4K / SL 2M", F4, .sl_shift = 21, .hpa = HPA2, .off = 0x77, .write = 1, .slade = 1, .ad = 1,
      OK(HPA2 + 0x5077, 12, RWX) },
    { "FL 2M / SL 2M", .va = VA, .gpa = DG + 0x200000, .fl_size = PT_2M, .sl_shift = 21, .hpa = HPA2,
      .off = 0x1FFFFF, .ad = 1, OK(HPA2 + 0x1FFFFF, 21, RWX) },
    { "FL 1G / SL 2M", .va = VA1, .gpa = DG1, .fl_size = PT_1G, .sl_shift = 21, .hpa = HPA2,
      .off = 0x2345678, .ad = 1, OK(HPA2 + 0x145678, 21, RWX) },
    { "FL 1G / SL 1G", .va = VA1, .gpa = DG1, .fl_size = PT_1G, .sl_shift = 30, .hpa = HPA1,
      .off = 0x3FFFFFF0, .write = 1, .slade = 1, .ad = 1, OK(HPA1 + 0x3FFFFFF0, 30, RWX) },
    { "FL 4K / SL 1G", F4, .sl_shift = 30, .hpa = HPA1, .off = 0xFFF, OK(HPA1 + 0x5FFF, 12, RWX) },
    { "5-level FL over a 5-level SL", .aw = 3, .fl_levels = 5, N44, .off = 0x10, .write = 1, .slade = 1,
      .ad = 1, OK(HPA4 + 0x10, 12, RWX) },
    { "4-level FL over a 3-level SL", .aw = 1, N44, .off = 0x10, .ad = 1, OK(HPA4 + 0x10, 12, RWX) },
    { "EAFE=1: EA in FL entries", .eafe = 1, N44, .off = 0, .ad = 1, OK(HPA4, 12, RWX) },
    { "FL GPA in the interrupt range, HPA outside", .va = VA, .gpa = FX_INTR, .fl_size = PT_4K,
      .sl_shift = 12, .hpa = HPA4, .off = 4, OK(HPA4 + 4, 12, RWX) },
    /* combined permissions (§3.6) */
    { "SL R-only data page: read", N44, .sl_flags = SL_R, OK(HPA4, 12, R_ | X_) },
    { "SL R-only data page: write -> 0x85", N44, .sl_flags = SL_R, .write = 1, FLT(0x85) },
    { "FL read-only, SL RW: write -> 0x85", N44, .fl_flags = PTE_US, .write = 1, FLT(0x85) },
    { "SL W-only data page: read -> 0x86", N44, .sl_flags = SL_W, FLT(0x86) },
    { "SL data page not present: read -> 0x86", N44, .mut = mn_data_np, FLT(0x86) },
    { "FL supervisor page, user read -> 0x81", N44, .fl_flags = PTE_RW, FLT(0x81) },
    { "FL supervisor page, supervisor read", N44, .fl_flags = PTE_RW, .priv = 1, OK(HPA4, 12, RWX) },
    { "FL XD, NXE=1: execute -> 0x82", .nxe = 1, N44, .fl_flags = PTE_RW | PTE_US | PTE_XD, .exec = 1,
      FLT(0x82) },
    { "SLEE=1, SL data page without X: execute -> 0x82", .slee = 1, N44, .exec = 1, FLT(0x82) },
    { "SLEE=1, SL data page with X: execute", .slee = 1, N44, .sl_flags = SL_RWX, .exec = 1,
      OK(HPA4, 12, RWX) },
    { "SLEE=1, SL data page without X: read", .slee = 1, N44, OK(HPA4, 12, R_ | W_) },
    /* first-level tables through the second level */
    { "FLPTPTR GPA beyond the SL width -> 0x74", N44, .mut = mn_root_gpa_far, FLT(0x74) },
    { "PML4E GPA beyond the SL width -> 0x74", N44, .mut = mn_pml4e_far, FLT(0x74) },
    { "FL root table not mapped by SL -> 0x75", N44, .mut = mn_root_np, FLT(0x75) },
    { "FL root table SL write-only -> 0x75", N44, .mut = mn_root_wo, .write = 1, FLT(0x75) },
    { "FL root table not mapped, FPD=1 -> suppressed", .fpd = 1, N44, .mut = mn_root_np, SUP(0x75) },
    { "FL PD table not mapped by SL -> 0x76", N44, .mut = mn_pd_np, FLT(0x76) },
    { "FL root table SL read-only, A to set -> 0x77", N44, .mut = mn_root_ro, FLT(0x77) },
    { "FL leaf table SL read-only, A to set -> 0x77", N44, .mut = mn_leaf_tbl_ro, FLT(0x77) },
    { "FL leaf table SL read-only, A preset: read", N44, .mut = mn_leaf_tbl_ro_a, OK(HPA4, 12, RWX) },
    { "FL leaf table SL read-only, A preset: write needs D -> 0x77", N44, .mut = mn_leaf_tbl_ro_a,
      .write = 1, FLT(0x77) },
    { "SL table of the FL tables outside -> 0x78", N44, .mut = mn_sl_l1_out, FLT(0x78) },
    { "SL reserved bit on the FL-table path -> 0x7A", N44, .mut = mn_sl_top_ps, FLT(0x7A) },
    { "SLPTPTR outside -> 0x7B", N44, .mut = mn_slpt_out, FLT(0x7B) },
    /* final address */
    { "final GPA beyond the SL width -> 0x83", .va = VA, .gpa = 1ULL << 48, .fl_size = PT_4K,
      .sl_shift = 0, .off = 0, FLT(0x83) },
    { "final output in the interrupt range -> 0x87", F4, .sl_shift = 12, .hpa = FX_INTR, .off = 0x30, FLT(0x87) },
    { "final output in the interrupt range, FPD=1 -> suppressed", .fpd = 1, F4, .sl_shift = 12, .hpa = FX_INTR,
      SUP(0x87) },
};

static void check_nested_ad(struct nenv *e)
{
    const struct ncase *c = e->c;
    for (int l = e->n.pt.levels; l >= (int)e->fl_leaf; l--) {
        uint64_t v = fx_fl_get(&e->n.pt, c->va, l);
        char what[32];
        snprintf(what, sizeof(what), "FL level %d A", l);
        FX_EQ(c->name, what, !!(v & PTE_A), 1);
        snprintf(what, sizeof(what), "FL level %d D", l);
        FX_EQ(c->name, what, !!(v & PTE_D), c->write && l == (int)e->fl_leaf);
        snprintf(what, sizeof(what), "FL level %d EA", l);
        FX_EQ(c->name, what, !!(v & (1ULL << 10)), c->eafe);
        /* SL leaf of the FL table page: accessed with SLADE (its D: see the report) */
        uint64_t s = fx_rd(&e->f, table_sl_leaf(e, l));
        snprintf(what, sizeof(what), "SL A of FL level-%d table", l);
        FX_EQ(c->name, what, !!(s & HW_FM(SL_PTE, A)), c->slade);
    }
    check_sl_ad(&e->f, c->name, e->n.slroot, e->n.sl_levels, e->gpa, e->sl_leaf, c->slade,
                c->slade && c->write);
}

static void run_ncase(const struct ncase *c)
{
    struct nenv e = { .c = c, .fl_leaf = 1 + (c->fl_size - 12) / 9 };
    struct fx_mod mod = { .ecap_set = HW_FM(ECAP, ERS) };
    unsigned aw = c->aw ? c->aw : 2;
    fx_init(&e.f, FX_DEFAULT, &mod, 1);
    fx_nest_init(&e.f, &e.n, aw + 2, c->fl_levels ? c->fl_levels : 4);
    fx_fl_map(&e.n.pt, c->va, c->gpa, c->fl_size, c->fl_flags ? c->fl_flags : PTE_RW | PTE_US);
    e.gpa = c->gpa + c->off;
    if (c->sl_shift) {
        e.sl_leaf = 1 + (c->sl_shift - 12) / 9;
        fx_sl_map(&e.f, &e.n.slroot, e.n.sl_levels, e.gpa & ~((1ULL << c->sl_shift) - 1), c->hpa,
                  c->sl_shift, c->sl_flags ? c->sl_flags : SL_RW);
    }
    struct fx_pasid p = { .pgtt = 3, .aw = aw, .flpm = (unsigned)e.n.pt.levels - 4,
                          .slptptr = e.n.slroot, .flptptr = e.n.pt.root, .did = 11, .fpd = c->fpd,
                          .slee = c->slee, .slade = c->slade, .sre = 1, .ere = 1, .nxe = c->nxe,
                          .eafe = c->eafe };
    e.dir = device(&e.f, &p);
    if (c->mut)
        c->mut(&e);
    struct vtd_req r = pasid_req(c->va + c->off, c->write, c->exec, c->priv);
    struct vtd_result res = fx_xl(&e.f, &r);
    fx_check(&e.f, c->name, &r, &res, &c->want, true);
    if (c->ad && !res.fault)
        check_nested_ad(&e);
    fx_fini(&e.f);
}

static void test_nested_matrix(void **state)
{
    (void)state;
    size_t n = sizeof(ncases) / sizeof(ncases[0]);
    fx_group_begin();
    for (size_t i = 0; i < n; i++)
        run_ncase(&ncases[i]);
    fx_group_end("nested", (unsigned)n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sl_matrix),
        cmocka_unit_test(test_nested_matrix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
