/* Scalable mode, first-level translation (PGTT=1; vtd-reference.md §2.10,
 * §3.4, §3.5): 4- and 5-level tables (FLPM), 4 KiB / 2 MiB / 1 GiB pages,
 * the user/supervisor, read/write/execute rules (U/S, R/W, WPE, XD with NXE,
 * SMEP), A/D and EA updates read back from the tables, reserved bits,
 * canonical addresses and the first-level fault codes.
 *
 * Every case: a fresh vtd_config_default() unit plus ECAP.ERS (so execute
 * requests reach the walk), TTM=1, device 03:02.0 with PASIDE, PASID 0x42
 * (and RID_PASID 0) using one first-level table built with paging/pt.h in
 * host memory; PASID entries have SRE=1 and ERE=1. */
#include "vtd_fixture.c"

#define SID    0x0310
#define PASID  0x42
#define VA4    0x7F1234567000ULL
#define VA2    0x555555400000ULL
#define VA1    0x3FC000000000ULL
#define VAK    0xFFFF800012345000ULL      /* upper half, 4-level */
#define V5_4   0x00FF123456789000ULL      /* needs the fifth level */
#define V5_2   0x00FF123456800000ULL
#define V5_1   0x00FF123440000000ULL
#define V5_K   0xFF00123456789000ULL
#define PA4    0x234567000ULL
#define PA2    0x244400000ULL
#define PA1    0x3C0000000ULL
#define U      PTE_US
#define W      PTE_RW
#define R_     VTD_PERM_R
#define W_     VTD_PERM_W
#define X_     VTD_PERM_X

struct fcase;
struct fenv {
    struct fx f;
    struct pt pt;
    uint64_t dir;
    unsigned leaf;
    const struct fcase *c;
};

struct fcase {
    const char *name;
    struct fx_mod mod;          /* ECAP.ERS is always added */
    int levels;                 /* 0 -> 4 */
    bool wpe, nxe, smep, eafe, pte_fpd;
    uint64_t va, pa;
    enum pt_page_size size;
    uint64_t flags;
    void (*mut)(struct fenv *);
    bool rid;                   /* request without PASID (RID_PASID 0) */
    uint64_t addr;
    bool write, exec, priv;
    bool ad;                    /* check A (every level), D (leaf, writes), EA (EAFE) */
    struct fx_want want;
};

#define M4(f)   .va = VA4, .pa = PA4, .size = PT_4K, .flags = (f)
#define M2(f)   .va = VA2, .pa = PA2, .size = PT_2M, .flags = (f)
#define M1(f)   .va = VA1, .pa = PA1, .size = PT_1G, .flags = (f)
#define OK(o, s, p) .want = { .out = (o), .shift = (s), .perm = (p) }
#define FLT(fr) .want = { .fault = (fr) }
#define SUP(fr) .want = { .fault = (fr), .suppressed = true }

/* ---- mutations on the path of c->va ---------------------------------------------- */
static void fl_set(struct fenv *e, int level, uint64_t bits)
{
    fx_fl_put(&e->pt, e->c->va, level, fx_fl_get(&e->pt, e->c->va, level) | bits);
}
static void fl_clr(struct fenv *e, int level, uint64_t bits)
{
    fx_fl_put(&e->pt, e->c->va, level, fx_fl_get(&e->pt, e->c->va, level) & ~bits);
}
static void fl_repoint(struct fenv *e, int level, uint64_t to)
{
    uint64_t v = fx_fl_get(&e->pt, e->c->va, level);
    fx_fl_put(&e->pt, e->c->va, level, (v & ~PTE_ADDR_MASK) | to);
}
static int top(struct fenv *e) { return e->pt.levels; }

static void m_leaf_np(struct fenv *e) { fl_clr(e, (int)e->leaf, PTE_P); }
static void m_top_np(struct fenv *e) { fl_clr(e, top(e), PTE_P); }
static void m_top_ps(struct fenv *e) { fl_set(e, top(e), PTE_PS); }
static void m_pml4_ps(struct fenv *e) { fl_set(e, 4, PTE_PS); }
static void m_leaf_b13(struct fenv *e) { fl_set(e, (int)e->leaf, 1ULL << 13); }
static void m_leaf_b12(struct fenv *e) { fl_set(e, (int)e->leaf, 1ULL << 12); }
static void m_leaf_b20(struct fenv *e) { fl_set(e, (int)e->leaf, 1ULL << 20); }
static void m_leaf_b29(struct fenv *e) { fl_set(e, (int)e->leaf, 1ULL << 29); }
static void m_leaf_haw(struct fenv *e) { fl_set(e, (int)e->leaf, 1ULL << 46); }
static void m_l2_b51(struct fenv *e) { fl_set(e, 2, 1ULL << 51); }
static void m_leaf_ign(struct fenv *e)
{
    fl_set(e, (int)e->leaf, (0x7FFULL << 52) | (1ULL << 9) | (1ULL << 11) | PTE_G | PTE_PWT | PTE_PCD);
}
static void m_leaf_pat(struct fenv *e) { fl_set(e, 1, PTE_PS); }
static void m_l3_sup(struct fenv *e) { fl_clr(e, 3, U); }
static void m_l4_ro(struct fenv *e) { fl_clr(e, 4, W); }
static void m_l2_ro(struct fenv *e) { fl_clr(e, 2, W); }
static void m_l4_xd(struct fenv *e) { fl_set(e, 4, PTE_XD); }
static void m_l3_out(struct fenv *e) { fl_repoint(e, 3, FX_OUTSIDE); }
static void m_l2_end(struct fenv *e) { fl_repoint(e, 2, FX_END); }
static void m_flptr_out(struct fenv *e)
{
    uint64_t a = fx_pasid_addr(&e->f, e->dir, PASID) + 16;
    fx_wr(&e->f, a, (fx_rd(&e->f, a) & 0xFFF) | FX_OUTSIDE);
}

/* ---- the matrix ------------------------------------------------------------------------ */
static const struct fcase fcases[] = {
    /* geometry and A/D */
    { "4L 4K user read: A on every level, no D", M4(W | U), .addr = VA4 + 0x123, .ad = 1,
      OK(PA4 + 0x123, 12, R_ | W_ | X_) },
    { "4L 4K user write: D on the leaf", M4(W | U), .addr = VA4 + 0xFF8, .write = 1, .ad = 1,
      OK(PA4 + 0xFF8, 12, R_ | W_ | X_) },
    { "4L 2M user read", M2(W | U), .addr = VA2 + 0x1ABCDE, .ad = 1, OK(PA2 + 0x1ABCDE, 21, R_ | W_ | X_) },
    { "4L 2M user write", M2(W | U), .addr = VA2 + 0x10, .write = 1, .ad = 1,
      OK(PA2 + 0x10, 21, R_ | W_ | X_) },
    { "4L 1G user write", M1(W | U), .addr = VA1 + 0x3FFFFFFF, .write = 1, .ad = 1,
      OK(PA1 + 0x3FFFFFFF, 30, R_ | W_ | X_) },
    { "4L upper-half VA, supervisor read", .va = VAK, .pa = PA4, .size = PT_4K, .flags = W,
      .addr = VAK + 7, .priv = 1, .ad = 1, OK(PA4 + 7, 12, R_ | W_ | X_) },
    { "5L 4K user read", .levels = 5, .va = V5_4, .pa = PA4, .size = PT_4K, .flags = W | U,
      .addr = V5_4 + 0x55, .ad = 1, OK(PA4 + 0x55, 12, R_ | W_ | X_) },
    { "5L 2M user write", .levels = 5, .va = V5_2, .pa = PA2, .size = PT_2M, .flags = W | U,
      .addr = V5_2 + 0x12345, .write = 1, .ad = 1, OK(PA2 + 0x12345, 21, R_ | W_ | X_) },
    { "5L 1G user read", .levels = 5, .va = V5_1, .pa = PA1, .size = PT_1G, .flags = W | U,
      .addr = V5_1 + 0x2345678, .ad = 1, OK(PA1 + 0x2345678, 30, R_ | W_ | X_) },
    { "5L upper-half VA, supervisor write", .levels = 5, .va = V5_K, .pa = PA4, .size = PT_4K,
      .flags = W, .addr = V5_K, .priv = 1, .write = 1, .ad = 1, OK(PA4, 12, R_ | W_ | X_) },
    { "EAFE=1 read: A and EA on every level", .eafe = 1, M4(W | U), .addr = VA4, .ad = 1,
      OK(PA4, 12, R_ | W_ | X_) },
    { "EAFE=1 2M write: A, EA, D", .eafe = 1, M2(W | U), .addr = VA2, .write = 1, .ad = 1,
      OK(PA2, 21, R_ | W_ | X_) },
    { "RID request through RID_PASID", .rid = 1, M4(W | U), .addr = VA4 + 1, .ad = 1,
      OK(PA4 + 1, 12, R_ | W_ | X_) },
    { "RID request is a user request -> 0x81", .rid = 1, M4(W), .addr = VA4, FLT(0x81) },
    /* user / supervisor, read / write (§3.5) */
    { "user read of a read-only page", M4(U), .addr = VA4, OK(PA4, 12, R_ | X_) },
    { "user write of a read-only page -> 0x85", M4(U), .addr = VA4, .write = 1, FLT(0x85) },
    { "user write, read-only PML4E -> 0x85", M4(W | U), .mut = m_l4_ro, .addr = VA4, .write = 1, FLT(0x85) },
    { "user read of a supervisor page -> 0x81", M4(W), .addr = VA4, FLT(0x81) },
    { "user read, supervisor PDPTE -> 0x81", M4(W | U), .mut = m_l3_sup, .addr = VA4, FLT(0x81) },
    { "user write of a supervisor read-only page -> 0x81", M4(0), .addr = VA4, .write = 1, FLT(0x81) },
    { "supervisor read of a user page", M4(W | U), .addr = VA4, .priv = 1, OK(PA4, 12, R_ | W_ | X_) },
    { "supervisor write of a read-only page, WPE=0", M4(0), .addr = VA4, .priv = 1, .write = 1,
      .ad = 1, OK(PA4, 12, R_ | W_ | X_) },
    { "supervisor write of a read-only page, WPE=1 -> 0x85", .wpe = 1, M4(0), .addr = VA4, .priv = 1,
      .write = 1, FLT(0x85) },
    { "supervisor read of a read-only page, WPE=1", .wpe = 1, M4(U), .addr = VA4, .priv = 1,
      OK(PA4, 12, R_ | X_) },
    { "supervisor write, read-only PDE, WPE=1 -> 0x85", .wpe = 1, M4(W), .mut = m_l2_ro, .addr = VA4,
      .priv = 1, .write = 1, FLT(0x85) },
    { "user write, read-only PDE, WPE=0 -> 0x85", M4(W | U), .mut = m_l2_ro, .addr = VA4, .write = 1,
      FLT(0x85) },
    /* execute (XD with NXE, SMEP) */
    { "user execute, XD leaf, NXE=1 -> 0x82", .nxe = 1, M4(W | U | PTE_XD), .addr = VA4, .exec = 1,
      FLT(0x82) },
    { "user execute, XD leaf, NXE=0", M4(W | U | PTE_XD), .addr = VA4, .exec = 1,
      OK(PA4, 12, R_ | W_ | X_) },
    { "user read, XD leaf, NXE=1", .nxe = 1, M4(W | U | PTE_XD), .addr = VA4, OK(PA4, 12, R_ | W_) },
    { "user execute, XD in PML4E, NXE=1 -> 0x82", .nxe = 1, M4(W | U), .mut = m_l4_xd, .addr = VA4,
      .exec = 1, FLT(0x82) },
    { "user execute, 2M leaf, NXE=1", .nxe = 1, M2(U), .addr = VA2 + 0x40, .exec = 1,
      OK(PA2 + 0x40, 21, R_ | X_) },
    { "supervisor execute of a user page, SMEP=1 -> 0x82", .smep = 1, M4(W | U), .addr = VA4, .priv = 1,
      .exec = 1, FLT(0x82) },
    { "supervisor read of a user page, SMEP=1", .smep = 1, M4(W | U), .addr = VA4, .priv = 1,
      OK(PA4, 12, R_ | W_) },
    { "supervisor execute of a user page, SMEP=0", M4(W | U), .addr = VA4, .priv = 1, .exec = 1,
      OK(PA4, 12, R_ | W_ | X_) },
    { "supervisor execute of a supervisor page, SMEP=1", .smep = 1, M4(W), .addr = VA4, .priv = 1,
      .exec = 1, OK(PA4, 12, R_ | W_ | X_) },
    { "supervisor execute, user leaf under a supervisor PDPTE, SMEP=1", .smep = 1, M4(W | U),
      .mut = m_l3_sup, .addr = VA4, .priv = 1, .exec = 1, OK(PA4, 12, R_ | W_ | X_) },
    /* not present, reserved bits, pointers (§3.4, §3.5) */
    { "leaf not present -> 0x71", M4(W | U), .mut = m_leaf_np, .addr = VA4, FLT(0x71) },
    { "PML4E not present -> 0x71", M4(W | U), .mut = m_top_np, .addr = VA4, .write = 1, FLT(0x71) },
    { "5L PML5E not present -> 0x71", .levels = 5, .va = V5_4, .pa = PA4, .size = PT_4K, .flags = W | U,
      .mut = m_top_np, .addr = V5_4, FLT(0x71) },
    { "not present, PASID-entry FPD=1 -> suppressed", .pte_fpd = 1, M4(W | U), .mut = m_leaf_np,
      .addr = VA4, SUP(0x71) },
    { "PS in PML4E -> 0x72", M4(W | U), .mut = m_top_ps, .addr = VA4, FLT(0x72) },
    { "5L PS in PML5E -> 0x72", .levels = 5, .va = V5_4, .pa = PA4, .size = PT_4K, .flags = W | U,
      .mut = m_top_ps, .addr = V5_4, FLT(0x72) },
    { "5L PS in PML4E -> 0x72", .levels = 5, .va = V5_4, .pa = PA4, .size = PT_4K, .flags = W | U,
      .mut = m_pml4_ps, .addr = V5_4, FLT(0x72) },
    { "2M leaf bit 13 -> 0x72", M2(W | U), .mut = m_leaf_b13, .addr = VA2, FLT(0x72) },
    { "2M leaf bit 20 -> 0x72", M2(W | U), .mut = m_leaf_b20, .addr = VA2, FLT(0x72) },
    { "2M leaf PAT bit 12 is not an address bit", M2(W | U), .mut = m_leaf_b12, .addr = VA2 + 0x1000,
      OK(PA2 + 0x1000, 21, R_ | W_ | X_) },
    { "1G leaf bit 13 -> 0x72", M1(W | U), .mut = m_leaf_b13, .addr = VA1, FLT(0x72) },
    { "1G leaf bit 29 -> 0x72", M1(W | U), .mut = m_leaf_b29, .addr = VA1, FLT(0x72) },
    { "1G leaf without CAP.FL1GP -> 0x72", .mod = { .cap_clr = HW_FM(CAP, FL1GP) }, M1(W | U),
      .addr = VA1, FLT(0x72) },
    { "leaf address bit 46 (HAW) -> 0x72", M4(W | U), .mut = m_leaf_haw, .addr = VA4, FLT(0x72) },
    { "PDE address bit 51 -> 0x72", M4(W | U), .mut = m_l2_b51, .addr = VA4, FLT(0x72) },
    { "reserved, PASID-entry FPD=1 -> suppressed", .pte_fpd = 1, M4(W | U), .mut = m_top_ps,
      .addr = VA4, SUP(0x72) },
    { "ignored bits 9, 11, 52-62, G, PWT, PCD", M4(W | U), .mut = m_leaf_ign, .addr = VA4 + 9,
      OK(PA4 + 9, 12, R_ | W_ | X_) },
    { "PAT (bit 7) in a 4K PTE", M4(W | U), .mut = m_leaf_pat, .addr = VA4, OK(PA4, 12, R_ | W_ | X_) },
    { "PDPTE pointing outside -> 0x70", M4(W | U), .mut = m_l3_out, .addr = VA4, FLT(0x70) },
    { "PDE pointing at the arena end -> 0x70", M4(W | U), .mut = m_l2_end, .addr = VA4, FLT(0x70) },
    { "FLPTPTR outside -> 0x73", M4(W | U), .mut = m_flptr_out, .addr = VA4, FLT(0x73) },
    { "FLPTPTR outside, FPD=1 -> suppressed", .pte_fpd = 1, M4(W | U), .mut = m_flptr_out, .addr = VA4,
      SUP(0x73) },
    /* canonical input (§3.5 step 0), interrupt range */
    { "4L non-canonical 2^47 -> 0x80", M4(W | U), .addr = 1ULL << 47, FLT(0x80) },
    { "4L non-canonical 0xFFFF7FFFFFFFF000 -> 0x80", M4(W | U), .addr = 0xFFFF7FFFFFFFF000ULL, FLT(0x80) },
    { "4L 5-level-only address -> 0x80", M4(W | U), .addr = V5_4, FLT(0x80) },
    { "5L non-canonical 2^56 -> 0x80", .levels = 5, M4(W | U), .addr = 1ULL << 56, FLT(0x80) },
    { "5L 4-level address still canonical", .levels = 5, M4(W | U), .addr = VA4 + 3,
      OK(PA4 + 3, 12, R_ | W_ | X_) },
    { "non-canonical, FPD=1 -> suppressed", .pte_fpd = 1, M4(W | U), .addr = 1ULL << 63, SUP(0x80) },
    { "output in the interrupt range -> 0x87", .va = VA4, .pa = FX_INTR, .size = PT_4K, .flags = W | U,
      .addr = VA4 + 0x20, .write = 1, FLT(0x87) },
    { "2M output over the interrupt range, outside it", .va = VA2, .pa = 0xFEC00000ULL, .size = PT_2M,
      .flags = W | U, .addr = VA2 + 0x1FFFFF, OK(0xFEDFFFFFULL, 21, R_ | W_ | X_) },
};

static void check_ad(struct fenv *e)
{
    const struct fcase *c = e->c;
    for (int l = e->pt.levels; l >= (int)e->leaf; l--) {
        uint64_t v = fx_fl_get(&e->pt, c->va, l);
        char what[32];
        snprintf(what, sizeof(what), "level %d A", l);
        FX_EQ(c->name, what, !!(v & PTE_A), 1);
        snprintf(what, sizeof(what), "level %d EA", l);
        FX_EQ(c->name, what, !!(v & (1ULL << 10)), c->eafe);
        snprintf(what, sizeof(what), "level %d D", l);
        FX_EQ(c->name, what, !!(v & PTE_D), c->write && l == (int)e->leaf);
    }
}

static void run_fcase(const struct fcase *c)
{
    struct fenv e = { .c = c, .leaf = 1 + (c->size - 12) / 9 };
    struct fx_mod mod = c->mod;
    mod.ecap_set |= HW_FM(ECAP, ERS);
    fx_init(&e.f, FX_DEFAULT, &mod, 1);
    fx_fl_init(&e.pt, phys_view_hpa(e.f.mem), c->levels ? c->levels : 4);
    fx_fl_map(&e.pt, c->va, c->pa, c->size, c->flags);
    struct fx_smctx ctx = { .paside = 1 };
    e.dir = fx_ctx_sm(&e.f, SID, &ctx);
    struct fx_pasid p = { .pgtt = 1, .flpm = (unsigned)e.pt.levels - 4, .flptptr = e.pt.root, .did = 3,
                          .fpd = c->pte_fpd, .sre = 1, .ere = 1, .wpe = c->wpe, .nxe = c->nxe,
                          .smep = c->smep, .eafe = c->eafe };
    fx_pasid_set(&e.f, e.dir, PASID, &p, false);
    fx_pasid_set(&e.f, e.dir, 0, &p, false);
    if (c->mut)
        c->mut(&e);
    struct vtd_req r = { .sid = SID, .pasid_present = !c->rid, .pasid = c->rid ? 0 : PASID,
                         .addr = c->addr, .write = c->write, .exec = c->exec, .priv = c->priv };
    struct vtd_result res = fx_xl(&e.f, &r);
    fx_check(&e.f, c->name, &r, &res, &c->want, true);
    if (c->ad)
        check_ad(&e);
    fx_fini(&e.f);
}

static void test_fl_matrix(void **state)
{
    (void)state;
    size_t n = sizeof(fcases) / sizeof(fcases[0]);
    fx_group_begin();
    for (size_t i = 0; i < n; i++)
        run_fcase(&fcases[i]);
    fx_group_end("first level", (unsigned)n);
}

/* The IOTLB keeps raw rights and re-checks them per requester; a write is
 * served from it only once the dirty bit is set (xlate.c hit_usable). */
static void test_fl_iotlb(void **state)
{
    (void)state;
    static const struct fcase c = { .name = "iotlb", .va = VA4 };
    struct fenv e = { .c = &c, .leaf = 1 };
    struct fx_mod mod = { .ecap_set = HW_FM(ECAP, ERS) };
    fx_init(&e.f, FX_DEFAULT, &mod, 1);
    fx_fl_init(&e.pt, phys_view_hpa(e.f.mem), 4);
    fx_fl_map(&e.pt, VA4, PA4, PT_4K, U);                   /* user, read-only */
    struct fx_smctx ctx = { .paside = 1 };
    e.dir = fx_ctx_sm(&e.f, SID, &ctx);
    struct fx_pasid p = { .pgtt = 1, .flptptr = e.pt.root, .did = 3, .sre = 1, .ere = 1, .smep = 1 };
    fx_pasid_set(&e.f, e.dir, PASID, &p, false);
    struct vtd_req r = { .sid = SID, .pasid_present = 1, .pasid = PASID, .addr = VA4 };
    struct vtd_result res = fx_xl(&e.f, &r);
    assert_int_equal(res.fault, 0);
    assert_false(res.cached);
    r.priv = 1, r.exec = 1;                                  /* SMEP: cached entry, new verdict */
    res = fx_xl(&e.f, &r);
    assert_int_equal(res.fault, 0x82);
    r.exec = 0, r.write = 1;                                 /* WPE=0: supervisor may write */
    res = fx_xl(&e.f, &r);
    assert_int_equal(res.fault, 0);
    assert_false(res.cached);                                /* D not yet set: walked */
    assert_true(fx_fl_get(&e.pt, VA4, 1) & PTE_D);
    res = fx_xl(&e.f, &r);
    assert_true(res.cached);
    assert_int_equal(res.perm, R_ | W_);                     /* SMEP: no X for a user page */
    r.priv = 0;                                              /* user write: read-only page */
    res = fx_xl(&e.f, &r);
    assert_int_equal(res.fault, 0x85);
    r.write = 0;
    res = fx_xl(&e.f, &r);
    assert_true(res.cached);
    assert_int_equal(res.perm, R_ | X_);
    fx_fini(&e.f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fl_matrix),
        cmocka_unit_test(test_fl_iotlb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
