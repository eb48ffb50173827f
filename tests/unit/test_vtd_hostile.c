/* Hostile input to the translation path, exact outcomes (vtd-reference.md
 * §2, §3, §5): tables that point at themselves or at each other (an SL
 * entry at its own table, a two-table cycle, a PML4E at its own table, the
 * context table = the root table, SL tables = the context table, the PASID
 * directory = the context table, the PASID table = the directory, a nested
 * FL root = the SL root), structures in the last bytes of the arena and
 * pointers beyond it, addresses and pointers of all ones, and all-ones
 * entries at every level. Each outcome is asserted exactly (output, fault,
 * record) and checked with fx_check_sane. Random tables and mutations are
 * in test_vtd_hostile_fuzz.c.
 *
 * A success is not required to land inside the arena: a leaf may map any
 * address below HAW (the hardware never reads the target), and pass-through
 * returns the input; fx_check_sane checks the output against HAW. */
#include "vtd_fixture.c"

#define SID    0x0310
#define IOVA   0x12345000ULL
#define HPA    0x234567000ULL
#define RWX    (VTD_PERM_R | VTD_PERM_W | VTD_PERM_X)
#define RW     (VTD_PERM_R | VTD_PERM_W)   /* legacy: no execute without a PASID */

/* ---- exact cases: self references, arena edges, all-ones entries --------------- */
struct hcase {
    const char *name;
    bool legacy_cfg;
    unsigned ttm;
    void (*build)(struct fx *f, struct vtd_req *r, uint64_t *out);   /* *out: expected output */
    struct fx_want want;        /* want.out unused: *out from build */
};

static uint64_t leg_dev(struct fx *f, uint16_t sid, unsigned aw)
{
    uint64_t root = 0;
    fx_sl_map(f, &root, aw + 2, IOVA, HPA, 12, SL_RW);
    fx_ctx_legacy(f, sid, 0, aw, root, 1, false);
    return root;
}

static uint64_t sm_dev(struct fx *f, uint16_t sid, unsigned pgtt, uint64_t sl, uint64_t fl)
{
    struct fx_smctx c = { .paside = 1 };
    struct fx_pasid p = { .pgtt = pgtt, .aw = 2, .slptptr = sl, .flptptr = fl, .did = 2, .sre = 1 };
    uint64_t dir = fx_ctx_sm(f, sid, &c);
    fx_pasid_set(f, dir, 0, &p, false);
    return dir;
}

static uint64_t idx_all(unsigned i, unsigned levels)   /* an address with index i at every level */
{
    uint64_t a = 0;
    for (unsigned l = 1; l <= levels; l++)
        a |= (uint64_t)i << (12 + 9 * (l - 1));
    return a;
}
static void b_sl_self(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    uint64_t t = fx_frame(f);
    fx_wr(f, t + 8 * 0x15, t | SL_RW);
    fx_ctx_legacy(f, SID, 0, 2, t, 1, false);
    *r = (struct vtd_req){ .sid = SID, .addr = idx_all(0x15, 4) + 0x88 };
    *out = t + 0x88;
}
static void b_sl_cycle(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    uint64_t t1 = fx_frame(f), t2 = fx_frame(f);
    fx_wr(f, t1 + 8 * 7, t2 | SL_RW);
    fx_wr(f, t2 + 8 * 7, t1 | SL_RW);
    fx_ctx_legacy(f, SID, 0, 2, t1, 1, false);
    *r = (struct vtd_req){ .sid = SID, .addr = idx_all(7, 4) + 1, .write = 1 };
    *out = t1 + 1;
}
static void b_ctx_is_root(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    fx_wr(f, f->t.root + 16 * 5, f->t.root | 1);     /* bus 5 -> the root table */
    *r = (struct vtd_req){ .sid = 0x0505, .addr = IOVA };   /* its entry = root entry 5 */
    *out = 0;
}
static void b_ctx_is_root_np(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    fx_wr(f, f->t.root + 16 * 5, f->t.root | 1);
    *r = (struct vtd_req){ .sid = 0x0506, .addr = IOVA };   /* root entry 6: zero */
    *out = 0;
}
static void b_slpt_is_ctx(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    leg_dev(f, SID, 2);
    uint64_t ct = fx_ctx_addr(f, SID) & PAGE_MASK;   /* SL tables = the context table */
    fx_ctx_legacy(f, SID, 0, 2, ct, 1, false);        /* QW0 = ct|P: as SL entry R, -> ct */
    *r = (struct vtd_req){ .sid = SID, .addr = idx_all(2 * (SID & 0xFF), 4) + 0x10 };
    *out = ct + 0x10;
}
static void b_slpt_is_ctx_w(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    b_slpt_is_ctx(f, r, out);
    r->write = 1;
}
static void b_fl_self(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    uint64_t p = fx_frame(f);
    fx_wr(f, p + 8 * 0x33, p | PTE_P | PTE_RW | PTE_US);
    sm_dev(f, SID, 1, 0, p);
    *r = (struct vtd_req){ .sid = SID, .addr = idx_all(0x33, 4) + 0x44, .write = 1 };
    *out = p + 0x44;
}
static void b_fl_self_np(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    b_fl_self(f, r, out);
    r->addr = idx_all(0x33, 4) & ~(0x1FFULL << 30);   /* PDPT index 0: not present */
}
static void b_pdir_is_ctx(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    struct fx_smctx c = { .paside = 0 };
    fx_ctx_sm(f, 0x0300, &c);                         /* devfn 0 */
    uint64_t ea = fx_ctx_addr(f, 0x0300);
    fx_wr(f, ea, (ea & PAGE_MASK) | 1);               /* directory = context table */
    *r = (struct vtd_req){ .sid = 0x0300, .addr = IOVA };
    *out = 0;       /* dir entry = ctx QW0 -> PASID table = ctx table -> PGTT 0 */
}
static void b_ptbl_is_dir(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    struct fx_smctx c = { .paside = 1 };
    uint64_t dir = fx_ctx_sm(f, SID, &c);
    fx_wr(f, dir, dir | 1);
    *r = (struct vtd_req){ .sid = SID, .pasid_present = 1, .pasid = 0, .addr = IOVA };
    *out = 0;
}
static void b_nest_fl_is_sl(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    struct fx_nest n;
    fx_nest_init(f, &n, 4, 4);
    fx_sl_map(f, &n.slroot, 4, 0x1F0000, n.slroot, 12, SL_RW);   /* FL root GPA -> SL root */
    struct fx_smctx c = { .paside = 1 };
    struct fx_pasid p = { .pgtt = 3, .aw = 2, .slptptr = n.slroot, .flptptr = 0x1F0000, .did = 2 };
    fx_pasid_set(f, fx_ctx_sm(f, SID, &c), 0, &p, false);
    *r = (struct vtd_req){ .sid = SID, .addr = 0x1000 };  /* PML4E 0 = SL entry 0 (RWX) */
    *out = 0;
}
static void b_root_last(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    leg_dev(f, 0xFF10, 1);
    uint64_t lp = fx_last_page(f);
    fx_wr(f, lp + 16 * 0xFF, fx_rd(f, fx_root_addr(f, 0xFF10)));
    fx_reroot(f, lp, 0);
    *r = (struct vtd_req){ .sid = 0xFF10, .addr = IOVA + 0xFFF };
    *out = HPA + 0xFFF;
}
static void b_ctx_last(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    leg_dev(f, 0x03FF, 2);
    uint64_t lp = fx_last_page(f);
    fx_wr(f, lp + 0xFF0, fx_rd(f, fx_ctx_addr(f, 0x03FF)));
    fx_wr(f, lp + 0xFF8, fx_rd(f, fx_ctx_addr(f, 0x03FF) + 8));
    fx_wr(f, fx_root_addr(f, 0x03FF), lp | 1);
    *r = (struct vtd_req){ .sid = 0x03FF, .addr = IOVA };
    *out = HPA;
}
static void b_sl_last(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    uint64_t root = leg_dev(f, SID, 1), iova = IOVA | (511ULL << 30);
    fx_sl_map(f, &root, 3, iova, HPA, 12, SL_RW);
    uint64_t lp = fx_last_page(f);
    fx_wr(f, lp + 0xFF8, fx_rd(f, root + 0xFF8));     /* entry 511 at the last qword */
    fx_ctx_legacy(f, SID, 0, 1, lp, 1, false);
    *r = (struct vtd_req){ .sid = SID, .addr = iova + 8 };
    *out = HPA + 8;
}
static void b_smctx_last(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    uint64_t sl = 0;
    fx_sl_map(f, &sl, 4, IOVA, HPA, 12, SL_RW);
    sm_dev(f, 0x03FF, 2, sl, 0);
    uint64_t lp = fx_last_page(f);
    uint64_t ea = fx_ctx_addr(f, 0x03FF);
    for (unsigned q = 0; q < 4; q++)
        fx_wr(f, lp + 0xFE0 + 8 * q, fx_rd(f, ea + 8 * q));
    fx_wr(f, fx_root_addr(f, 0x03FF), lp | 1);      /* upper half */
    *r = (struct vtd_req){ .sid = 0x03FF, .addr = IOVA };
    *out = HPA;
}
static void b_pasid_last(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    uint64_t sl = 0, dir = 0, e[8];
    fx_sl_map(f, &sl, 4, IOVA, HPA, 12, SL_RW);
    struct fx_smctx c = { .paside = 1 };
    struct fx_pasid p = { .pgtt = 2, .aw = 2, .slptptr = sl, .did = 2 };
    fx_pasid_build(&p, e);
    dir = fx_ctx_sm(f, SID, &c);
    uint64_t lp = fx_last_page(f);
    assert_int_equal(mem_write(f->mem, lp + 63 * 64, e, 64), 0);
    fx_wr(f, dir, lp | 1);
    *r = (struct vtd_req){ .sid = SID, .pasid_present = 1, .pasid = 63, .addr = IOVA };
    *out = HPA;
}
static void b_fl_last(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    uint64_t va = 0xFFFFFF8000000000ULL | (IOVA & 0x7FFFFFFFFFULL);
    struct pt pt;
    fx_fl_init(&pt, phys_view_hpa(f->mem), 4);
    fx_fl_map(&pt, va, HPA, PT_4K, PTE_RW | PTE_US);
    uint64_t lp = fx_last_page(f);
    fx_wr(f, lp + 0xFF8, fx_rd(f, pt.root + 0xFF8));
    sm_dev(f, SID, 1, 0, lp);
    *r = (struct vtd_req){ .sid = SID, .addr = va + 3 };
    *out = HPA + 3;
}
static void b_rt_ones(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    fx_reroot(f, ~0ULL & PAGE_MASK, f->t.sm ? 1 : 0);
    *r = (struct vtd_req){ .sid = 0xFF00, .addr = IOVA };
    *out = 0;
}
static void b_addr_ones_pt(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    sm_dev(f, SID, 4, 0, 0);
    *r = (struct vtd_req){ .sid = SID, .addr = ~0ULL };
    *out = 0;
}
static void b_addr_ones_leg(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    leg_dev(f, SID, 2);
    *r = (struct vtd_req){ .sid = SID, .addr = ~0ULL, .write = 1 };
    *out = 0;
}
static void b_addr_ones_fl(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    struct pt pt;
    fx_fl_init(&pt, phys_view_hpa(f->mem), 5);
    uint64_t dir = sm_dev(f, SID, 1, 0, pt.root);
    fx_set_bits(f, fx_pasid_addr(f, dir, 0) + 16, 1ULL << 2);    /* FLPM = 1 */
    *r = (struct vtd_req){ .sid = SID, .addr = ~0ULL };
    *out = 0;
}
static void b_nest_root_ones(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    uint64_t sl = 0;
    fx_sl_map(f, &sl, 4, 0, fx_frame(f), 12, SL_RW);
    struct fx_smctx c = { .paside = 1 };
    struct fx_pasid p = { .pgtt = 3, .aw = 2, .slptptr = sl, .flptptr = ~0ULL, .did = 2 };
    fx_pasid_set(f, fx_ctx_sm(f, SID, &c), 0, &p, false);
    *r = (struct vtd_req){ .sid = SID, .addr = 0 };
    *out = 0;
}
/* all-ones entries */
static void ones(struct fx *f, uint64_t a, unsigned n)
{
    for (unsigned q = 0; q < n; q++)
        fx_wr(f, a + 8 * q, ~0ULL);
}
static void b_ones_root(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    leg_dev(f, SID, 2);
    ones(f, f->t.root + 16 * (SID >> 8), 2);
    *r = (struct vtd_req){ .sid = SID, .addr = IOVA };
    *out = 0;
}
static void b_ones_ctx(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    leg_dev(f, SID, 2);
    ones(f, fx_ctx_addr(f, SID), 2);
    *r = (struct vtd_req){ .sid = SID, .addr = IOVA };
    *out = 0;
}
static void b_ones_sl_top(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    uint64_t root = leg_dev(f, SID, 2);
    ones(f, fx_sl_slot(f, root, 4, IOVA, 4), 1);
    *r = (struct vtd_req){ .sid = SID, .addr = IOVA };
    *out = 0;
}
static void b_ones_sl_leaf(struct fx *f, struct vtd_req *r, uint64_t *out)
{
    uint64_t root = leg_dev(f, SID, 2);
    ones(f, fx_sl_slot(f, root, 4, IOVA, 1), 1);
    *r = (struct vtd_req){ .sid = SID, .addr = IOVA, .write = 1 };
    *out = 0;
}
static void b_ones_sm(struct fx *f, struct vtd_req *r, uint64_t *out, int what)
{
    uint64_t sl = 0;
    struct pt pt;
    fx_sl_map(f, &sl, 4, IOVA, HPA, 12, SL_RW);
    fx_fl_init(&pt, phys_view_hpa(f->mem), 4);
    fx_fl_map(&pt, IOVA, HPA, PT_4K, PTE_RW | PTE_US);
    uint64_t dir = sm_dev(f, SID, what >= 5 ? 1 : 2, sl, pt.root);
    switch (what) {
    case 0: ones(f, fx_root_addr(f, SID), 1); break;
    case 1: ones(f, fx_ctx_addr(f, SID), 4); break;
    case 2: ones(f, dir, 1); break;
    case 3: ones(f, fx_pasid_addr(f, dir, 0), 8); break;
    case 4: ones(f, fx_sl_slot(f, sl, 4, IOVA, 2), 1); break;
    case 5: ones(f, fx_fl_slot(&pt, IOVA, 4), 1); break;
    default: ones(f, fx_fl_slot(&pt, IOVA, 1), 1); break;
    }
    *r = (struct vtd_req){ .sid = SID, .addr = IOVA };
    *out = 0;
}
static void b_ones_smroot(struct fx *f, struct vtd_req *r, uint64_t *o) { b_ones_sm(f, r, o, 0); }
static void b_ones_smctx(struct fx *f, struct vtd_req *r, uint64_t *o) { b_ones_sm(f, r, o, 1); }
static void b_ones_pdir(struct fx *f, struct vtd_req *r, uint64_t *o) { b_ones_sm(f, r, o, 2); }
static void b_ones_pte(struct fx *f, struct vtd_req *r, uint64_t *o) { b_ones_sm(f, r, o, 3); }
static void b_ones_ssl(struct fx *f, struct vtd_req *r, uint64_t *o) { b_ones_sm(f, r, o, 4); }
static void b_ones_pml4(struct fx *f, struct vtd_req *r, uint64_t *o) { b_ones_sm(f, r, o, 5); }
static void b_ones_fleaf(struct fx *f, struct vtd_req *r, uint64_t *o) { b_ones_sm(f, r, o, 6); }

#define OKX(s, p) .want = { .shift = (s), .perm = (p) }
#define FLT(fr)   .want = { .fault = (fr) }
#define SUP(fr)   .want = { .fault = (fr), .suppressed = true }
static const struct hcase hcases[] = {
    { "SL table entry pointing at its own table", 1, 0, b_sl_self, OKX(12, RW) },
    { "SL two-table cycle", 1, 0, b_sl_cycle, OKX(12, RW) },
    { "context table = root table, devfn = bus -> AW 0", 1, 0, b_ctx_is_root, FLT(0x3) },
    { "context table = root table, empty root entry -> 0x2", 1, 0, b_ctx_is_root_np, FLT(0x2) },
    { "SL tables = the context table (read)", 1, 0, b_slpt_is_ctx, OKX(12, VTD_PERM_R) },
    { "SL tables = the context table (write) -> 0x5", 1, 0, b_slpt_is_ctx_w, FLT(0x5) },
    { "PML4E pointing at its own table", 0, 1, b_fl_self, OKX(12, RWX) },
    { "PML4E pointing at its own table, PDPT index empty -> 0x71", 0, 1, b_fl_self_np, FLT(0x71) },
    { "PASID directory = context table -> PGTT 0", 0, 1, b_pdir_is_ctx, FLT(0x5B) },
    { "PASID table = PASID directory -> PGTT 0", 0, 1, b_ptbl_is_dir, FLT(0x5B) },
    { "nested FL root = SL root table -> 0x76", 0, 1, b_nest_fl_is_sl, FLT(0x76) },
    { "root table in the last arena page, bus 255", 1, 0, b_root_last, OKX(12, RW) },
    { "context table in the last page, devfn 255", 1, 0, b_ctx_last, OKX(12, RW) },
    { "SL table in the last page, entry 511", 1, 0, b_sl_last, OKX(12, RW) },
    { "SM context table in the last page, devfn 0xFF", 0, 1, b_smctx_last, OKX(12, RWX) },
    { "PASID table in the last page, PASID 63", 0, 1, b_pasid_last, OKX(12, RWX) },
    { "FL table in the last page, entry 511", 0, 1, b_fl_last, OKX(12, RWX) },
    { "legacy RTADDR all ones -> 0x8", 1, 0, b_rt_ones, FLT(0x8) },
    { "scalable RTADDR all ones -> 0x38", 0, 1, b_rt_ones, FLT(0x38) },
    { "pass-through, address all ones -> 0x83", 0, 1, b_addr_ones_pt, FLT(0x83) },
    { "legacy, address all ones -> 0x4", 1, 0, b_addr_ones_leg, FLT(0x4) },
    { "5-level FL, address all ones (canonical) -> 0x71", 0, 1, b_addr_ones_fl, FLT(0x71) },
    { "nested FLPTPTR all ones -> 0x74", 0, 1, b_nest_root_ones, FLT(0x74) },
    { "legacy root entry all ones -> 0xA", 1, 0, b_ones_root, FLT(0xA) },
    { "legacy context entry all ones (FPD=1) -> 0xB suppressed", 1, 0, b_ones_ctx, SUP(0xB) },
    { "legacy SL top entry all ones -> 0xC", 1, 0, b_ones_sl_top, FLT(0xC) },
    { "legacy SL leaf all ones -> 0xC", 1, 0, b_ones_sl_leaf, FLT(0xC) },
    { "SM root half all ones -> 0x3A", 0, 1, b_ones_smroot, FLT(0x3A) },
    { "SM context entry all ones (FPD=1) -> 0x42 suppressed", 0, 1, b_ones_smctx, SUP(0x42) },
    { "PASID directory entry all ones (FPD=1) -> 0x52 suppressed", 0, 1, b_ones_pdir, SUP(0x52) },
    { "PASID entry all ones (FPD=1) -> 0x5A suppressed", 0, 1, b_ones_pte, SUP(0x5A) },
    { "scalable SL entry all ones -> 0x7A", 0, 1, b_ones_ssl, FLT(0x7A) },
    { "PML4E all ones -> 0x72", 0, 1, b_ones_pml4, FLT(0x72) },
    { "FL leaf all ones -> 0x72", 0, 1, b_ones_fleaf, FLT(0x72) },
};

static void test_hostile_exact(void **state)
{
    (void)state;
    size_t n = sizeof(hcases) / sizeof(hcases[0]);
    fx_group_begin();
    for (size_t i = 0; i < n; i++) {
        const struct hcase *c = &hcases[i];
        struct fx f;
        struct vtd_req r;
        struct fx_want w = c->want;
        fx_init(&f, c->legacy_cfg ? FX_LEGACY : FX_DEFAULT, NULL, c->ttm);
        c->build(&f, &r, &w.out);
        fx_flush(&f);
        struct vtd_result res = fx_xl_timed(&f, &r, true);
        fx_check(&f, c->name, &r, &res, &w, true);
        fx_check_sane(&f, c->name, &r, &res);
        fx_fini(&f);
    }
    fx_group_end("hostile exact", (unsigned)n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
