/* Shared fixture of the VT-d translation tests: see vtd_fixture.h. This file
 * is #included by each test file (one translation unit per test binary);
 * it is never compiled on its own. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/trace.h"
#include "vtd_fixture.h"

unsigned fx_failures;

void fx_fail(const char *name, const char *fmt, ...)
{
    va_list ap;
    char msg[512];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    print_error("case %s: %s\n", name, msg);
    fx_failures++;
}

void fx_group_begin(void)
{
    fx_failures = 0;
}

void fx_group_end(const char *group, unsigned ncases)
{
    if (fx_failures)
        print_error("%s: %u mismatch(es) over %u case(s)\n", group, fx_failures, ncases);
    assert_int_equal(fx_failures, 0);
}

/* ---- unit ------------------------------------------------------------------ */
static void fx_apply_mod(struct vtd_config *c, const struct fx_mod *m)
{
    if (!m)
        return;
    c->cap = (c->cap & ~m->cap_clr) | m->cap_set;
    c->ecap = (c->ecap & ~m->ecap_clr) | m->ecap_set;
    if (m->haw)
        c->haw = m->haw;
}

void fx_init(struct fx *f, enum fx_cfg cfg, const struct fx_mod *mod, unsigned ttm)
{
    static bool traced;
    if (!traced) {
        traced = true;
        const char *g = getenv("FX_TRACE");
        if (g && *g)
            trace_enable(g);
    }
    memset(f, 0, sizeof(*f));
    if (cfg == FX_LEGACY)
        vtd_config_legacy(&f->cfg);
    else
        vtd_config_default(&f->cfg);
    fx_apply_mod(&f->cfg, mod);
    f->mem = mem_arena_create(FX_BASE, FX_SIZE);
    assert_non_null(f->mem);
    f->u = vtd_unit_create(&f->cfg, f->mem);
    assert_non_null(f->u);
    assert_int_equal(vtd_tables_init(&f->t, f->mem, ttm != 0), 0);
    assert_int_equal(vtd_program_root(f->u, f->t.root, ttm, true), 0);
}

void fx_fini(struct fx *f)
{
    vtd_unit_destroy(f->u);
    if (f->gpa)
        gpa_map_destroy(f->gpa);
    mem_arena_destroy(f->mem);
    memset(f, 0, sizeof(*f));
}

void fx_flush(struct fx *f)
{
    vtd_inv_context(f->u, VTD_CC_GLOBAL, 0, 0, 0);
    vtd_inv_pasid_cache(f->u, VTD_PC_GLOBAL, 0, 0);
    vtd_inv_iotlb(f->u, VTD_IOTLB_GLOBAL, 0, 0, 0, false);
}

void fx_reroot(struct fx *f, uint64_t root, unsigned ttm)
{
    assert_int_equal(vtd_program_root(f->u, root, ttm, true), 0);
    fx_flush(f);
}

/* ---- memory ------------------------------------------------------------------ */
uint64_t fx_rd(struct fx *f, uint64_t hpa)
{
    uint64_t v = 0;
    assert_int_equal(mem_read64(f->mem, hpa, &v), 0);
    return v;
}

void fx_wr(struct fx *f, uint64_t hpa, uint64_t v)
{
    assert_int_equal(mem_write64(f->mem, hpa, v), 0);
}

void fx_set_bits(struct fx *f, uint64_t hpa, uint64_t bits)
{
    fx_wr(f, hpa, fx_rd(f, hpa) | bits);
}

void fx_clr_bits(struct fx *f, uint64_t hpa, uint64_t bits)
{
    fx_wr(f, hpa, fx_rd(f, hpa) & ~bits);
}

uint64_t fx_frame(struct fx *f)
{
    uint64_t a = mem_frame_alloc(f->mem);
    assert_true(a != HPA_INVALID);
    return a;
}

/* ---- legacy structures ------------------------------------------------------------ */
void fx_ctx_legacy(struct fx *f, uint16_t sid, unsigned tt, unsigned aw, uint64_t slptptr,
                   uint16_t did, bool fpd)
{
    uint64_t c[2] = { 0, 0 };
    HW_SET(CTX, P, c, 1);
    HW_SET(CTX, FPD, c, fpd);
    HW_SET(CTX, TT, c, tt);
    HW_SET(CTX, SLPTPTR, c, slptptr >> 12);
    HW_SET(CTX, AW, c, aw);
    HW_SET(CTX, DID, c, did);
    assert_int_equal(vtd_tables_set_ctx(&f->t, sid, c), 0);
}

uint64_t fx_root_addr(struct fx *f, uint16_t sid)
{
    return f->t.root + 16 * (sid >> 8) + (f->t.sm && (sid & 0x80) ? 8 : 0);
}

uint64_t fx_ctx_addr(struct fx *f, uint16_t sid)
{
    uint64_t a = 0;
    assert_int_equal(vtd_tables_ctx_addr(&f->t, sid, &a), 0);
    return a;
}

/* ---- scalable-mode structures -------------------------------------------------------- */
uint64_t fx_ctx_sm(struct fx *f, uint16_t sid, const struct fx_smctx *c)
{
    uint64_t dir = 0, e[4] = { 0, 0, 0, 0 };
    assert_int_equal(vtd_tables_pasid_dir(&f->t, c->pdts, &dir), 0);
    HW_SET(SM_CTX, P, e, 1);
    HW_SET(SM_CTX, FPD, e, c->fpd);
    HW_SET(SM_CTX, DTE, e, c->dte);
    HW_SET(SM_CTX, PASIDE, e, c->paside);
    HW_SET(SM_CTX, PRE, e, c->pre);
    HW_SET(SM_CTX, PDTS, e, c->pdts);
    HW_SET(SM_CTX, PASIDDIRPTR, e, dir >> 12);
    HW_SET(SM_CTX, RID_PASID, e, c->rid_pasid);
    HW_SET(SM_CTX, RID_PRIV, e, c->rid_priv);
    assert_int_equal(vtd_tables_set_ctx(&f->t, sid, e), 0);
    return dir;
}

void fx_pasid_build(const struct fx_pasid *p, uint64_t e[8])
{
    memset(e, 0, 8 * sizeof(uint64_t));
    HW_SET(PASID_PTE, P, e, 1);
    HW_SET(PASID_PTE, FPD, e, p->fpd);
    HW_SET(PASID_PTE, AW, e, p->aw);
    HW_SET(PASID_PTE, SLEE, e, p->slee);
    HW_SET(PASID_PTE, PGTT, e, p->pgtt);
    HW_SET(PASID_PTE, SLADE, e, p->slade);
    HW_SET(PASID_PTE, SLPTPTR, e, p->slptptr >> 12);
    HW_SET(PASID_PTE, DID, e, p->did);
    HW_SET(PASID_PTE, PWSNP, e, !p->no_pwsnp);
    HW_SET(PASID_PTE, SRE, e, p->sre);
    HW_SET(PASID_PTE, ERE, e, p->ere);
    HW_SET(PASID_PTE, FLPM, e, p->flpm);
    HW_SET(PASID_PTE, WPE, e, p->wpe);
    HW_SET(PASID_PTE, NXE, e, p->nxe);
    HW_SET(PASID_PTE, SMEP, e, p->smep);
    HW_SET(PASID_PTE, EAFE, e, p->eafe);
    HW_SET(PASID_PTE, FLPTPTR, e, p->flptptr >> 12);
}

void fx_pasid_set(struct fx *f, uint64_t dir, uint32_t pasid, const struct fx_pasid *p,
                  bool dir_fpd)
{
    uint64_t e[8];
    fx_pasid_build(p, e);
    assert_int_equal(vtd_tables_set_pasid(&f->t, dir, pasid, e, dir_fpd), 0);
}

uint64_t fx_pasid_addr(struct fx *f, uint64_t dir, uint32_t pasid)
{
    uint64_t a = 0;
    assert_int_equal(vtd_tables_pasid_addr(&f->t, dir, pasid, &a), 0);
    return a;
}

/* ---- second level ----------------------------------------------------------------- */
void fx_sl_map(struct fx *f, uint64_t *root, unsigned levels, uint64_t iova, uint64_t hpa,
               unsigned shift, uint64_t flags)
{
    assert_int_equal(vtd_sl_map(f->mem, root, levels, iova, hpa, shift, flags), 0);
}

uint64_t fx_sl_slot(struct fx *f, uint64_t root, unsigned levels, uint64_t iova, unsigned level)
{
    uint64_t a = 0;
    assert_int_equal(vtd_sl_entry_addr(f->mem, root, levels, iova, level, &a), 0);
    return a;
}

/* ---- first level ------------------------------------------------------------------ */
void fx_fl_init(struct pt *pt, struct phys_view v, int levels)
{
    assert_int_equal(pt_init(pt, v, levels), 0);
}

void fx_fl_map(struct pt *pt, uint64_t va, uint64_t pa, enum pt_page_size size, uint64_t flags)
{
    assert_int_equal(pt_map(pt, va, pa, size, flags), 0);
}

/* Follows the tables as they are (independently of the model's walker). */
uint64_t fx_fl_slot(const struct pt *pt, uint64_t va, int level)
{
    uint64_t table = pt->root;
    for (int l = pt->levels; l > level; l--) {
        uint64_t e = 0;
        assert_int_equal(pt->mem.read64(pt->mem.ctx, table + 8 * ((va >> (12 + 9 * (l - 1))) & 511),
                                        &e), 0);
        table = e & PTE_ADDR_MASK;
    }
    return table + 8 * ((va >> (12 + 9 * (level - 1))) & 511);
}

uint64_t fx_fl_get(const struct pt *pt, uint64_t va, int level)
{
    uint64_t e = 0;
    assert_int_equal(pt->mem.read64(pt->mem.ctx, fx_fl_slot(pt, va, level), &e), 0);
    return e;
}

void fx_fl_put(const struct pt *pt, uint64_t va, int level, uint64_t v)
{
    assert_int_equal(pt->mem.write64(pt->mem.ctx, fx_fl_slot(pt, va, level), v), 0);
}

/* ---- nested ----------------------------------------------------------------------- */
void fx_nest_init(struct fx *f, struct fx_nest *n, unsigned sl_levels, int fl_levels)
{
    memset(n, 0, sizeof(*n));
    n->g = gpa_map_create(f->mem, FX_GPA_SIZE);
    assert_non_null(n->g);
    f->gpa = n->g;
    gpa_set_alloc_floor(n->g, FX_GPA_FLOOR);
    n->sl_levels = sl_levels;
    for (uint64_t gpa = 0; gpa < FX_GPA_SIZE; gpa += PAGE_SIZE)
        fx_sl_map(f, &n->slroot, sl_levels, gpa, gpa_to_hpa(n->g, gpa), 12, SL_RW);
    fx_fl_init(&n->pt, phys_view_gpa(n->g), fl_levels);
}

uint64_t fx_gpa_hpa(const struct fx_nest *n, uint64_t gpa)
{
    uint64_t h = gpa_to_hpa(n->g, gpa);
    assert_true(h != HPA_INVALID);
    return h;
}

/* ---- requests and checks --------------------------------------------------------- */
struct vtd_result fx_xl(struct fx *f, const struct vtd_req *r)
{
    struct vtd_result res;
    vtd_translate(f->u, r, &res);
    return res;
}

struct vtd_result fx_xl_norec(struct fx *f, const struct vtd_req *r)
{
    struct vtd_result res;
    vtd_translate_norecord(f->u, r, &res);
    return res;
}

static uint32_t fx_frcd_off(const struct fx *f)
{
    return (uint32_t)HW_FV(CAP, FRO, f->cfg.cap) * 16;
}

void fx_frcd(struct fx *f, unsigned i, uint64_t rec[2])
{
    uint32_t off = fx_frcd_off(f) + 16 * i;
    rec[0] = vtd_mmio_read(f->u, off, 8);
    rec[1] = vtd_mmio_read(f->u, off + 8, 8);
}

uint32_t fx_fsts(struct fx *f)
{
    return (uint32_t)vtd_mmio_read(f->u, 0x34, 4);
}

/* §1.15: FI 63:12 | SID 79:64, PRIV 93, EXE 94, PP 95, FR 103:96,
 * PV 123:104, AT 125:124, T1 126 (1 = read), F 127. */
void fx_frcd_expect(const struct vtd_req *r, uint8_t reason, uint64_t rec[2])
{
    rec[0] = r->addr & ~0xFFFULL;
    rec[1] = (uint64_t)r->sid | (uint64_t)reason << 32 | (uint64_t)(r->at & 3) << 60 |
             (uint64_t)!r->write << 62 | 1ULL << 63;
    if (r->pasid_present)
        rec[1] |= (uint64_t)r->priv << 29 | (uint64_t)r->exec << 30 | 1ULL << 31 |
                  (uint64_t)(r->pasid & 0xFFFFF) << 40;
}

static void fx_check_record(struct fx *f, const char *name, const struct vtd_req *r,
                            const struct vtd_result *got, const struct fx_want *w)
{
    uint64_t rec[2], want[2];
    fx_frcd(f, 0, rec);
    uint32_t fsts = fx_fsts(f);
    if (w->fault && !w->suppressed) {
        FX_EQ(name, "recorded", got->recorded, 1);
        fx_frcd_expect(r, w->fault, want);
        FX_EQ(name, "FRCD[0].lo", rec[0], want[0]);
        FX_EQ(name, "FRCD[0].hi", rec[1], want[1]);
        /* Linux reads the top dword on its own (§5.2). */
        FX_EQ(name, "FRCD[0] dword 3", vtd_mmio_read(f->u, fx_frcd_off(f) + 12, 4), want[1] >> 32);
        FX_EQ(name, "FSTS (PPF, FRI=0)", fsts, 0x2);
    } else {
        FX_EQ(name, "recorded", got->recorded, 0);
        FX_EQ(name, "FRCD[0].F", rec[1] >> 63, 0);
        FX_EQ(name, "FSTS", fsts, 0);
    }
    if (w->suppressed) {
        FX_EQ(name, "qualified", got->qualified, 1);
        FX_EQ(name, "fpd", got->fpd, 1);
    }
}

static void fx_check_outcome(const char *name, const struct vtd_result *got,
                             const struct fx_want *w)
{
    FX_EQ(name, "fault", got->fault, w->fault);
    if (w->fault || got->fault)
        return;
    FX_EQ(name, "addr", got->addr, w->out);
    FX_EQ(name, "page_shift", got->page_shift, w->shift);
    FX_EQ(name, "perm", got->perm, w->perm);
}

void fx_check(struct fx *f, const char *name, const struct vtd_req *r,
              const struct vtd_result *got, const struct fx_want *w, bool cached)
{
    fx_check_outcome(name, got, w);
    FX_EQ(name, "blocked", got->blocked, 0);
    if (got->fault)
        FX_EQ(name, "qualified", got->qualified, vtd_fault_qualified(got->fault));
    fx_check_record(f, name, r, got, w);
    struct vtd_result again = fx_xl_norec(f, r);
    char nm[160];
    snprintf(nm, sizeof(nm), "%s (repeated)", name);
    fx_check_outcome(nm, &again, w);
    if (!w->fault && cached)
        FX_EQ(nm, "cached", again.cached, 1);
}

/* ---- robustness helpers ---------------------------------------------------------- */
uint64_t fx_rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double fx_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

double fx_max_xl_s;
unsigned fx_seen[256];

void fx_print_seen(const char *what)
{
    char buf[1024];
    size_t n = 0;
    for (unsigned i = 1; i < 256 && n < sizeof(buf) - 16; i++)
        if (fx_seen[i])
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %#x:%u", i, fx_seen[i]);
    print_message("%s: %u successes; faults%s\n", what, fx_seen[0], n ? buf : " none");
    memset(fx_seen, 0, sizeof(fx_seen));
}

struct vtd_result fx_xl_timed(struct fx *f, const struct vtd_req *r, bool record)
{
    double t0 = fx_now();
    struct vtd_result res = record ? fx_xl(f, r) : fx_xl_norec(f, r);
    double dt = fx_now() - t0;
    if (dt > fx_max_xl_s)
        fx_max_xl_s = dt;
    return res;
}

void fx_check_sane(struct fx *f, const char *name, const struct vtd_req *r,
                   const struct vtd_result *res)
{
    fx_seen[res->fault]++;
    if (res->blocked) {
        FX_EQ(name, "fault of a blocked request", res->fault, 0);
        return;
    }
    if (res->fault) {
        if (!strcmp(vtd_fault_name(res->fault), vtd_fault_name(0xFF)))
            fx_fail(name, "unknown fault reason %#x", res->fault);
        FX_EQ(name, "qualified", res->qualified, vtd_fault_qualified(res->fault));
        return;
    }
    uint64_t mask = (1ULL << (res->page_shift & 63)) - 1;
    if (res->page_shift != 12 && res->page_shift != 21 && res->page_shift != 30)
        fx_fail(name, "page_shift %u", res->page_shift);
    if (res->addr >> f->cfg.haw)
        fx_fail(name, "output %#llx above HAW", (unsigned long long)res->addr);
    if (res->addr >= FX_INTR && res->addr <= 0xFEEFFFFFULL)
        fx_fail(name, "output %#llx in the interrupt range", (unsigned long long)res->addr);
    FX_EQ(name, "in-page offset", res->addr & mask, r->addr & mask);
    uint8_t need = r->write ? VTD_PERM_W : VTD_PERM_R;
    need |= r->exec && r->pasid_present ? VTD_PERM_X : 0;   /* execute needs a PASID */
    if ((res->perm & need) != need)
        fx_fail(name, "granted %#x lacks the requested %#x", res->perm, need);
    if (r->at == VTD_AT_TRANSLATED)
        FX_EQ(name, "translated request output", res->addr, r->addr);
}

bool fx_same_outcome(const struct vtd_result *a, const struct vtd_result *b)
{
    if (a->fault != b->fault || a->blocked != b->blocked || a->qualified != b->qualified ||
        a->fpd != b->fpd)
        return false;
    return a->fault || (a->addr == b->addr && a->page_shift == b->page_shift && a->perm == b->perm);
}

struct vtd_result fx_xl_twice(struct fx *f, const char *name, const struct vtd_req *r)
{
    struct vtd_result a = fx_xl_timed(f, r, true), b = fx_xl_timed(f, r, false);
    fx_check_sane(f, name, r, &a);
    if (!fx_same_outcome(&a, &b))
        fx_fail(name, "repeated request: fault %#x/%#x addr %#llx/%#llx", a.fault, b.fault,
                (unsigned long long)a.addr, (unsigned long long)b.addr);
    return a;
}

uint64_t fx_last_page(struct fx *f)
{
    uint64_t p = FX_END - PAGE_SIZE;
    for (uint64_t o = 0; o < PAGE_SIZE; o += 8)
        assert_int_equal(fx_rd(f, p + o), 0);
    return p;
}
