/* Hostile input, fuzzed (vtd-reference.md §2, §3, §5): seeded random
 * tables (structure-shaped noise in a pool of frames, random requests and
 * modes) and random mutations of valid legacy and scalable structures
 * (random qwords, bit flips, all ones, zero, pointers to other tables, to
 * their own table, to the arena end): thousands of requests, each ending in
 * bounded time with a sane outcome (fx_check_sane) and the same outcome when
 * repeated at once; with random tables, once the hardware's A/D writes have
 * settled, a replay from warm caches answers as the previous replay did.
 * Exact hostile cases are in test_vtd_hostile.c. */
#include "vtd_fixture.c"

#define IOVA   0x12345000ULL
#define HPA    0x234567000ULL

/* ---- random tables --------------------------------------------------------------- */
#define NPOOL  24
#define NREQ   48
#define NSEEDS 400

struct pool {
    uint64_t frame[NPOOL + 1];      /* [0] root table, [NPOOL] the last arena page */
    uint8_t *snap;
};

static uint64_t rnd_ptr(const struct pool *p, uint64_t *s)
{
    uint64_t r = fx_rng(s);
    switch (r % 16) {
    case 0: return FX_OUTSIDE;
    case 1: return FX_END;
    case 2: return PAGE_MASK;                        /* above every HAW */
    default: return p->frame[(r >> 8) % (NPOOL + 1)];
    }
}

/* Structure-shaped noise: zero, pointers into the pool with plausible low
 * bits, small values (DID/AW/RID_PASID), random and all-ones qwords. */
static uint64_t rnd_qword(const struct pool *p, uint64_t *s)
{
    static const uint64_t low[] = { 0x1, 0x3, 0x7, 0x9, 0x27, 0x67, 0x87, 0x1C7, 0x1DF, 0x47,
                                    0x87, 0x107, 0x3FF, 0xFFF, 0x2 };
    uint64_t r = fx_rng(s), v = fx_rng(s);
    switch (r % 20) {
    case 0: case 1: case 2: case 3: case 4: case 5: return 0;
    case 13: return v & 0xFFFFF;
    case 14: return (v & 0xFF00) | (v & 3);         /* legacy context QW1: DID, AW */
    case 15: return v & 0x7;
    case 16: return v;
    case 17: return ~0ULL;
    case 18: return rnd_ptr(p, s) | (v & 0xFFF) | (v & (1ULL << 63));
    default: return rnd_ptr(p, s) | (v & low[(r >> 8) % (sizeof(low) / sizeof(low[0]))]);
    }
}

static void rnd_req(struct vtd_req *r, uint64_t *s, const struct pool *p)
{
    uint64_t a = fx_rng(s), b = fx_rng(s);
    *r = (struct vtd_req){ 0 };
    r->sid = (uint16_t)((a & 1) ? ((a >> 2) & 3) << 8 | ((a >> 8) & 0xFF) : (a >> 16) & 0xFFFF);
    r->pasid_present = (a >> 32) & 1;
    r->pasid = (uint32_t)((b & 3) ? (b >> 8) & 0x3F : (b >> 8) & 0x1FFFFF);
    switch ((a >> 40) % 6) {
    case 0: r->addr = b; break;
    case 1: r->addr = b & ((1ULL << 48) - 1); break;
    case 2: r->addr = b & 0xFFFFFFFFULL; break;
    case 3: r->addr = p->frame[(b >> 3) % NPOOL] + (b & 0xFFF); break;
    case 4: r->addr = ~0ULL - (b & 0xFFF); break;
    default: r->addr = (b & 0x1FF) << 12 | (b & 0x1FF) << 21 | (b & 0x1FF) << 30 | (b & 0x1F) << 39; break;
    }
    r->write = (a >> 48) & 1;
    r->exec = ((a >> 49) & 7) == 0;
    r->priv = (a >> 52) & 1;
    r->at = ((a >> 53) & 7) == 0 ? VTD_AT_TRANSLATION : ((a >> 53) & 7) == 1 ? VTD_AT_TRANSLATED
                                                                             : VTD_AT_UNTRANSLATED;
}

static void pool_snap(struct fx *f, struct pool *p, bool restore)
{
    for (unsigned i = 0; i <= NPOOL; i++) {
        uint8_t *buf = p->snap + i * PAGE_SIZE;
        if (restore)
            assert_int_equal(mem_write(f->mem, p->frame[i], buf, PAGE_SIZE), 0);
        else
            assert_int_equal(mem_read(f->mem, p->frame[i], buf, PAGE_SIZE), 0);
    }
}

static bool pool_changed(struct fx *f, const struct pool *p)
{
    uint8_t page[PAGE_SIZE];
    for (unsigned i = 0; i <= NPOOL; i++) {
        assert_int_equal(mem_read(f->mem, p->frame[i], page, PAGE_SIZE), 0);
        if (memcmp(page, p->snap + i * PAGE_SIZE, PAGE_SIZE))
            return true;
    }
    return false;
}

static unsigned random_pool(uint64_t seed, unsigned *converged)
{
    uint64_t s = seed * 0x5851F42D4C957F2DULL + 1;
    struct fx f;
    struct pool p;
    struct vtd_req req[NREQ];
    struct vtd_result res[NREQ];
    char name[64];
    uint64_t k = fx_rng(&s);
    struct fx_mod mod = { .ecap_set = (k & 1) ? HW_FM(ECAP, ERS) : 0 };
    bool legacy = (k >> 1) % 4 == 0;
    unsigned ttm = (k >> 4) % 8 == 0 ? (unsigned)(k >> 8) % 4 : legacy ? 0 : (unsigned)(k >> 8) & 1;
    fx_init(&f, legacy ? FX_LEGACY : FX_DEFAULT, &mod, ttm);
    p.frame[0] = f.t.root;
    for (unsigned i = 1; i < NPOOL; i++)
        p.frame[i] = fx_frame(&f);
    p.frame[NPOOL] = fx_last_page(&f);
    for (unsigned i = 0; i <= NPOOL; i++)
        for (unsigned q = 0; q < 512; q++) {
            uint64_t v = rnd_qword(&p, &s);
            if (i == 0 && (fx_rng(&s) % 5))         /* root entries: mostly present */
                v = (q & 1) && ttm != 1 ? 0 : rnd_ptr(&p, &s) | 1;
            fx_wr(&f, p.frame[i] + 8 * q, v);
        }
    p.snap = malloc((NPOOL + 1) * PAGE_SIZE);
    assert_non_null(p.snap);
    unsigned ok = 0;
    for (unsigned i = 0; i < NREQ; i++) {
        rnd_req(&req[i], &s, &p);
        snprintf(name, sizeof(name), "seed %llu request %u", (unsigned long long)seed, i);
        ok += !fx_xl_twice(&f, name, &req[i]).fault;
    }
    /* Hardware only sets bits (A/D/EA): replay until the tables stop
     * changing, then the warm caches must answer a second replay exactly
     * as they answered the first. */
    bool stable = false;
    for (unsigned pass = 0; pass < 16 && !stable; pass++) {
        pool_snap(&f, &p, false);
        for (unsigned i = 0; i < NREQ; i++)
            res[i] = fx_xl_timed(&f, &req[i], false);
        stable = !pool_changed(&f, &p);
    }
    if (stable) {
        ++*converged;
        for (unsigned i = 0; i < NREQ; i++) {
            struct vtd_result again = fx_xl_timed(&f, &req[i], false);
            snprintf(name, sizeof(name), "seed %llu request %u (warm replay)", (unsigned long long)seed, i);
            fx_check_sane(&f, name, &req[i], &again);
            if (!fx_same_outcome(&res[i], &again))
                fx_fail(name, "fault %#x -> %#x, addr %#llx -> %#llx", res[i].fault, again.fault,
                        (unsigned long long)res[i].addr, (unsigned long long)again.addr);
        }
        if (pool_changed(&f, &p))
            fx_fail("random tables", "seed %llu: tables changed by a replay", (unsigned long long)seed);
    }
    free(p.snap);
    fx_fini(&f);
    return ok;
}

static void test_hostile_random_tables(void **state)
{
    (void)state;
    unsigned ok = 0, converged = 0;
    double t0 = fx_now();
    fx_group_begin();
    fx_max_xl_s = 0;
    for (uint64_t seed = 1; seed <= NSEEDS; seed++)
        ok += random_pool(seed, &converged);
    print_message("random tables: %u seeds x %u requests, %u successes, %u converged, "
                  "slowest translation %.1f us, %.2f s\n", NSEEDS, NREQ, ok, converged,
                  fx_max_xl_s * 1e6, fx_now() - t0);
    fx_print_seen("random tables");
    assert_true(fx_max_xl_s < 0.5);
    fx_group_end("random tables", NSEEDS * NREQ);
}

/* ---- mutations of valid tables ------------------------------------------------------ */
#define NHOT   320
#define NITER  5000
#define VA_A   0x7F1234567000ULL
#define VA_A2  0x555555400000ULL
#define VA_K   0xFFFF800012345000ULL
#define IOVA2  0x40A00000ULL
#define IOVA1  0x80000000ULL
#define DG     0x40005000ULL

struct menv {
    struct fx f;
    uint64_t hot[NHOT], frames[NHOT];
    unsigned nhot, nframes, nreq;
    struct vtd_req req[32];
    uint8_t *snap;
};

static void add_frame(struct menv *m, uint64_t fr)
{
    for (unsigned i = 0; i < m->nframes; i++)
        if (m->frames[i] == fr)
            return;
    assert_true(m->nframes < NHOT);
    m->frames[m->nframes++] = fr;
}

static void add_hot(struct menv *m, uint64_t a, unsigned n)
{
    for (unsigned q = 0; q < n; q++) {
        assert_true(m->nhot < NHOT);
        m->hot[m->nhot++] = a + 8 * q;
        add_frame(m, (a + 8 * q) & PAGE_MASK);
    }
}

static void add_sl_path(struct menv *m, uint64_t root, unsigned levels, uint64_t iova, unsigned leaf)
{
    for (unsigned l = levels; l >= leaf; l--)
        add_hot(m, fx_sl_slot(&m->f, root, levels, iova, l), 1);
}

static void add_fl_path(struct menv *m, const struct pt *pt, uint64_t va, int leaf, struct gpa_map *g)
{
    for (int l = pt->levels; l >= leaf; l--) {
        uint64_t a = fx_fl_slot(pt, va, l);
        add_hot(m, g ? gpa_to_hpa(g, a & PAGE_MASK) + (a & 0xFFF) : a, 1);
    }
}

static void add_req(struct menv *m, uint16_t sid, int pasid, uint64_t addr, bool write, bool priv,
                    bool exec, enum vtd_at at)
{
    assert_true(m->nreq < 32);
    m->req[m->nreq++] = (struct vtd_req){ .sid = sid, .pasid_present = pasid >= 0,
                                          .pasid = pasid >= 0 ? (uint32_t)pasid : 0, .addr = addr,
                                          .write = write, .priv = priv, .exec = exec, .at = at };
}

static void add_pasid_hot(struct menv *m, uint64_t dir, uint16_t sid)
{
    add_hot(m, fx_ctx_addr(&m->f, sid), 4);
    add_hot(m, dir, 1);
    add_hot(m, fx_pasid_addr(&m->f, dir, 0), 8);
    add_hot(m, fx_pasid_addr(&m->f, dir, 5), 8);
}

static void build_scalable(struct menv *m)
{
    struct fx *f = &m->f;
    struct fx_mod mod = { .ecap_set = HW_FM(ECAP, ERS) };
    struct fx_smctx ctx = { .paside = 1, .dte = 1 };
    struct pt pt;
    struct fx_nest n;
    uint64_t sl = 0, dir;
    fx_init(f, FX_DEFAULT, &mod, 1);
    /* A 03:01.0: first level */
    fx_fl_init(&pt, phys_view_hpa(f->mem), 4);
    fx_fl_map(&pt, VA_A, HPA, PT_4K, PTE_RW | PTE_US);
    fx_fl_map(&pt, VA_A2, 0x244400000ULL, PT_2M, PTE_US);
    fx_fl_map(&pt, VA_K, HPA, PT_4K, PTE_RW);
    struct fx_pasid a0 = { .pgtt = 1, .flptptr = pt.root, .did = 1, .sre = 1, .ere = 1 };
    struct fx_pasid a5 = { .pgtt = 1, .flptptr = pt.root, .did = 1, .sre = 1, .ere = 1, .wpe = 1,
                           .nxe = 1, .smep = 1, .eafe = 1 };
    dir = fx_ctx_sm(f, 0x0308, &ctx);
    fx_pasid_set(f, dir, 0, &a0, false);
    fx_pasid_set(f, dir, 5, &a5, false);
    add_pasid_hot(m, dir, 0x0308);
    add_fl_path(m, &pt, VA_A, 1, NULL);
    add_fl_path(m, &pt, VA_A2, 2, NULL);
    add_fl_path(m, &pt, VA_K, 1, NULL);
    /* B 03:12.0 (upper half): second level */
    fx_sl_map(f, &sl, 4, IOVA, HPA, 12, SL_RW);
    fx_sl_map(f, &sl, 4, IOVA2, 0x244400000ULL, 21, SL_R);
    fx_sl_map(f, &sl, 4, IOVA1, 0x3C0000000ULL, 30, SL_RWX);
    struct fx_pasid b0 = { .pgtt = 2, .aw = 2, .slptptr = sl, .did = 2, .slade = 1, .sre = 1, .ere = 1 };
    struct fx_pasid b5 = { .pgtt = 2, .aw = 2, .slptptr = sl, .did = 2, .slee = 1, .sre = 1, .ere = 1 };
    dir = fx_ctx_sm(f, 0x0390, &ctx);
    fx_pasid_set(f, dir, 0, &b0, false);
    fx_pasid_set(f, dir, 5, &b5, false);
    add_pasid_hot(m, dir, 0x0390);
    add_sl_path(m, sl, 4, IOVA, 1);
    add_sl_path(m, sl, 4, IOVA2, 2);
    add_sl_path(m, sl, 4, IOVA1, 3);
    /* C 04:02.0: nested; D 04:03.0: pass-through (PASID 5: A's first level) */
    fx_nest_init(f, &n, 4, 4);
    fx_fl_map(&n.pt, VA_A, DG, PT_4K, PTE_RW | PTE_US);
    fx_sl_map(f, &n.slroot, 4, DG, HPA, 12, SL_RW);
    struct fx_pasid c0 = { .pgtt = 3, .aw = 2, .slptptr = n.slroot, .flptptr = n.pt.root, .did = 3,
                           .slade = 1, .sre = 1, .ere = 1 };
    dir = fx_ctx_sm(f, 0x0410, &ctx);
    fx_pasid_set(f, dir, 0, &c0, false);
    fx_pasid_set(f, dir, 5, &c0, false);
    add_pasid_hot(m, dir, 0x0410);
    add_fl_path(m, &n.pt, VA_A, 1, n.g);
    add_sl_path(m, n.slroot, 4, DG, 1);
    add_sl_path(m, n.slroot, 4, n.pt.root, 1);
    struct fx_pasid d0 = { .pgtt = 4, .did = 4, .sre = 1, .ere = 1 };
    dir = fx_ctx_sm(f, 0x0418, &ctx);
    fx_pasid_set(f, dir, 0, &d0, false);
    fx_pasid_set(f, dir, 5, &a0, false);
    add_pasid_hot(m, dir, 0x0418);
    add_hot(m, fx_root_addr(f, 0x0308), 1);
    add_hot(m, fx_root_addr(f, 0x0390), 1);
    add_hot(m, fx_root_addr(f, 0x0410), 1);
    add_req(m, 0x0308, -1, VA_A + 8, false, false, false, VTD_AT_UNTRANSLATED);
    add_req(m, 0x0308, 5, VA_A2 + 0x1234, false, false, true, VTD_AT_UNTRANSLATED);
    add_req(m, 0x0308, 5, VA_K, true, true, false, VTD_AT_TRANSLATION);
    add_req(m, 0x0308, 0, VA_A, true, false, false, VTD_AT_UNTRANSLATED);
    add_req(m, 0x0390, -1, IOVA + 0x10, true, false, false, VTD_AT_UNTRANSLATED);
    add_req(m, 0x0390, 5, IOVA2 + 0x10, false, false, true, VTD_AT_UNTRANSLATED);
    add_req(m, 0x0390, -1, IOVA1 + 0x123456, true, false, false, VTD_AT_TRANSLATION);
    add_req(m, 0x0390, 5, IOVA1, false, true, true, VTD_AT_TRANSLATED);
    add_req(m, 0x0410, -1, VA_A + 0x20, true, false, false, VTD_AT_UNTRANSLATED);
    add_req(m, 0x0410, 5, VA_A, false, false, false, VTD_AT_UNTRANSLATED);
    add_req(m, 0x0418, -1, 0x123456789ULL, true, false, false, VTD_AT_UNTRANSLATED);
    add_req(m, 0x0418, 5, VA_A, false, false, false, VTD_AT_UNTRANSLATED);
}

static void build_legacy(struct menv *m)
{
    struct fx *f = &m->f;
    uint64_t sl = 0, sl1 = 0;
    fx_init(f, FX_LEGACY, NULL, 0);
    fx_sl_map(f, &sl, 4, IOVA, HPA, 12, SL_RW);
    fx_sl_map(f, &sl, 4, IOVA2, 0x244400000ULL, 21, SL_R);
    fx_ctx_legacy(f, 0x0010, 0, 2, sl, 1, false);
    fx_ctx_legacy(f, 0x0018, 2, 2, 0, 2, true);
    fx_sl_map(f, &sl1, 3, IOVA, HPA, 12, SL_W);
    fx_ctx_legacy(f, 0x0110, 1, 1, sl1, 3, false);
    add_hot(m, fx_root_addr(f, 0x0010), 2);
    add_hot(m, fx_root_addr(f, 0x0110), 2);
    add_hot(m, fx_ctx_addr(f, 0x0010), 2);
    add_hot(m, fx_ctx_addr(f, 0x0018), 2);
    add_hot(m, fx_ctx_addr(f, 0x0110), 2);
    add_sl_path(m, sl, 4, IOVA, 1);
    add_sl_path(m, sl, 4, IOVA2, 2);
    add_sl_path(m, sl1, 3, IOVA, 1);
    add_req(m, 0x0010, -1, IOVA + 0x44, false, false, false, VTD_AT_UNTRANSLATED);
    add_req(m, 0x0010, -1, IOVA2 + 0x1FF000, true, false, false, VTD_AT_UNTRANSLATED);
    add_req(m, 0x0018, -1, 0x7654321ULL, true, false, false, VTD_AT_UNTRANSLATED);
    add_req(m, 0x0110, -1, IOVA, true, false, false, VTD_AT_TRANSLATION);
    add_req(m, 0x0110, -1, IOVA + 0x80, false, false, false, VTD_AT_TRANSLATED);
}

static void menv_snap(struct menv *m, bool restore)
{
    for (unsigned i = 0; i < m->nframes; i++) {
        uint8_t *buf = m->snap + i * PAGE_SIZE;
        if (restore)
            assert_int_equal(mem_write(m->f.mem, m->frames[i], buf, PAGE_SIZE), 0);
        else
            assert_int_equal(mem_read(m->f.mem, m->frames[i], buf, PAGE_SIZE), 0);
    }
}

static uint64_t mutate(struct menv *m, uint64_t v, uint64_t a, uint64_t *s)
{
    uint64_t r = fx_rng(s);
    switch (r % 9) {
    case 0: return fx_rng(s);
    case 1: return v ^ (1ULL << ((r >> 8) % 64));
    case 2: return ~0ULL;
    case 3: return 0;
    case 4: return (v & 0xFFF) | m->frames[(r >> 8) % m->nframes];
    case 5: return (v & 0xFFF) | (a & PAGE_MASK);                 /* points at its own table */
    case 6: return (v & 0xFFF) | ((r >> 8) & 1 ? FX_END : FX_END - PAGE_SIZE);
    case 7: return v ^ (1ULL << ((r >> 8) % 12));
    default: return v | (0x7FFULL << 52);
    }
}

static void mutation_run(bool legacy, uint64_t seed, unsigned *ok)
{
    struct menv m = { .nhot = 0 };
    uint64_t s = seed;
    char name[80];
    if (legacy)
        build_legacy(&m);
    else
        build_scalable(&m);
    add_frame(&m, fx_last_page(&m.f));
    m.snap = malloc((size_t)m.nframes * PAGE_SIZE);
    assert_non_null(m.snap);
    menv_snap(&m, false);
    for (unsigned it = 0; it < NITER; it++) {
        if (it % 8 == 0)
            menv_snap(&m, true);
        for (unsigned k = 1 + (unsigned)(fx_rng(&s) % 3); k; k--) {
            uint64_t a = m.hot[fx_rng(&s) % m.nhot];
            fx_wr(&m.f, a, mutate(&m, fx_rd(&m.f, a), a, &s));
        }
        fx_flush(&m.f);
        for (unsigned j = 0; j < 3; j++) {
            uint64_t r = fx_rng(&s);
            struct vtd_req q = m.req[r % m.nreq];
            if (((r >> 8) & 3) == 0) {
                q.write ^= (r >> 10) & 1, q.exec ^= (r >> 11) & 1, q.priv ^= (r >> 12) & 1;
                q.addr += ((r >> 13) & 1) ? 0x1000 : 0;
                q.pasid_present ^= ((r >> 14) & 3) == 0;
                q.at = (enum vtd_at)((r >> 16) % 3);
            }
            snprintf(name, sizeof(name), "%s mutation %u request %u", legacy ? "legacy" : "scalable",
                     it, j);
            *ok += !fx_xl_twice(&m.f, name, &q).fault;
        }
    }
    free(m.snap);
    fx_fini(&m.f);
}

static void test_hostile_mutations(void **state)
{
    (void)state;
    unsigned ok = 0;
    double t0 = fx_now();
    fx_group_begin();
    fx_max_xl_s = 0;
    mutation_run(false, 0x1234, &ok);
    mutation_run(true, 0x5678, &ok);
    print_message("mutations: %u iterations x 3 requests x 2 units, %u successes, slowest "
                  "translation %.1f us, %.2f s\n", NITER, ok, fx_max_xl_s * 1e6, fx_now() - t0);
    fx_print_seen("mutations");
    assert_true(fx_max_xl_s < 0.5);
    assert_true(ok > NITER / 4);       /* the fuzz still reaches the leaves */
    fx_group_end("mutations", 2 * NITER * 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_random_tables),
        cmocka_unit_test(test_hostile_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
