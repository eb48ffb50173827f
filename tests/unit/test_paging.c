/* Unit tests for src/paging: building, editing and destroying 4- and 5-level
 * tables, and the CPU walk (SDM vol. 3 §4.5-4.8): access-rights matrix,
 * A/D updates, reserved bits, #PF error codes, malformed tables. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "paging/pt.h"

#define BASE    0x100000000ULL
#define ARENA   (32ULL << 20)
#define SZ(s)   (1ULL << (s))
#define TBL     (PTE_P | PTE_RW | PTE_US)

struct fx {
    struct mem_arena *a;
    struct pt pt;
    uint64_t free0;         /* frames free before pt_init */
};

static int fx_setup(void **state, int levels)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->a = mem_arena_create(BASE, ARENA);
    f->free0 = mem_frames_free(f->a);
    if (pt_init(&f->pt, phys_view_hpa(f->a), levels))
        return -1;
    *state = f;
    return 0;
}

static int setup4(void **state) { return fx_setup(state, 4); }
static int setup5(void **state) { return fx_setup(state, 5); }

static int teardown(void **state)
{
    struct fx *f = *state;
    pt_destroy(&f->pt);
    mem_arena_destroy(f->a);
    free(f);
    return 0;
}

/* Address of the level-`level` entry for va, following the tables as they
 * are (independent of the code under test). */
static uint64_t entry_at(const struct pt *pt, uint64_t va, int level)
{
    uint64_t table = pt->root;
    for (int l = pt->levels; l > level; l--) {
        uint64_t e = 0;
        assert_int_equal(pt->mem.read64(pt->mem.ctx,
                         table + ((va >> (12 + 9 * (l - 1))) & 511) * 8, &e), 0);
        table = e & PTE_ADDR_MASK;
    }
    return table + ((va >> (12 + 9 * (level - 1))) & 511) * 8;
}

static uint64_t entry(const struct pt *pt, uint64_t va, int level)
{
    uint64_t e = 0;
    assert_int_equal(pt->mem.read64(pt->mem.ctx, entry_at(pt, va, level), &e), 0);
    return e;
}

static void set_entry(struct pt *pt, uint64_t va, int level, uint64_t e)
{
    assert_int_equal(pt_set_raw(pt, va, level, e), 0);
    assert_int_equal(entry(pt, va, level), e);
}

static struct pt_access rd_acc(bool user)
{
    return (struct pt_access){ .user = user, .wp = true, .nxe = true, .gbpages = true };
}

static struct pt_walk_result walk(const struct pt *pt, uint64_t va, struct pt_access acc)
{
    struct pt_walk_result r;
    pt_walk(pt, va, &acc, &r);
    return r;
}

static void assert_fault(struct pt_walk_result r, uint32_t pf)
{
    assert_false(r.ok);
    assert_false(r.mem_error);
    assert_int_equal(r.pf_error, pf);
}

static void assert_pa(struct pt_walk_result r, uint64_t pa)
{
    assert_true(r.ok);
    assert_int_equal(r.pa, pa);
}

/* ---- init / destroy --------------------------------------------------- */

static void test_init(void **state)
{
    struct fx *f = *state;
    struct pt p;
    assert_int_equal(pt_init(&p, phys_view_hpa(f->a), 3), -EINVAL);
    assert_int_equal(pt_init(&p, phys_view_hpa(f->a), 6), -EINVAL);
    assert_true(mem_valid(f->a, f->pt.root, PAGE_SIZE));
    assert_int_equal(f->pt.root & (PAGE_SIZE - 1), 0);
    assert_int_equal(mem_frames_free(f->a), f->free0 - 1);
    struct mem_arena *tiny = mem_arena_create(BASE, PAGE_SIZE);
    assert_int_equal(mem_frame_alloc(tiny), BASE);
    assert_int_equal(pt_init(&p, phys_view_hpa(tiny), 4), -ENOMEM);
    mem_arena_destroy(tiny);
}

static void test_destroy_frees_tables_not_frames(void **state)
{
    struct fx *f = *state;
    struct pt *pt = &f->pt;
    uint64_t big = mem_frames_alloc_contig(f->a, 512, SZ(21));
    uint64_t small = mem_frame_alloc(f->a);
    uint64_t after_frames = mem_frames_free(f->a);
    assert_int_equal(pt_map(pt, 0x400000, big, PT_2M, PTE_RW), 0);          /* PDPT, PD */
    assert_int_equal(pt_map(pt, 0x7f0000001000ULL, small, PT_4K, PTE_RW), 0); /* 3 more */
    assert_int_equal(pt_map(pt, 0x40000000, 0x80000000, PT_1G, 0), 0);      /* none */
    assert_int_equal(mem_frames_free(f->a), after_frames - 5);
    pt_destroy(pt);
    assert_int_equal(pt->root, ~0ULL);
    /* the root and the 5 tables are back; the mapped frames are not freed */
    assert_int_equal(mem_frames_free(f->a), after_frames + 1);
    assert_int_equal(mem_frames_free(f->a), f->free0 - 513);
    assert_int_equal(pt_init(pt, phys_view_hpa(f->a), 4), 0);
}

/* ---- map / lookup / protect / unmap ----------------------------------- */

static void map_cycle(struct pt *pt, uint64_t va)
{
    static const enum pt_page_size sizes[] = { PT_4K, PT_2M, PT_1G };
    static const uint64_t pas[] = { 0x12345000ULL, 0x7fe00000ULL, 0xfc0000000ULL };
    for (int i = 0; i < 3; i++) {
        enum pt_page_size s = sizes[i], got = 0;
        uint64_t pte = 0, ps = s == PT_4K ? 0 : PTE_PS, off = SZ(s) - 8;
        assert_int_equal(pt_map(pt, va, pas[i], s, PTE_RW | PTE_US | PTE_G), 0);
        assert_int_equal(pt_lookup(pt, va + off, &pte, &got), 0);
        assert_int_equal(pte, pas[i] | PTE_P | PTE_RW | PTE_US | PTE_G | ps);
        assert_int_equal(got, s);
        assert_int_equal(entry(pt, va, (s - 12) / 9 + 1), pte);
        assert_pa(walk(pt, va + off, rd_acc(true)), pas[i] + off);

        assert_int_equal(pt_protect(pt, va + 8, PTE_US | PTE_XD | PTE_D), 0);
        assert_int_equal(pt_lookup(pt, va, &pte, &got), 0);
        assert_int_equal(pte, pas[i] | PTE_P | PTE_US | PTE_XD | PTE_D | ps);
        struct pt_access w = rd_acc(true);
        w.write = true;
        assert_fault(walk(pt, va, w), PF_P | PF_W | PF_U);

        if (s != PT_4K)
            assert_int_equal(pt_unmap(pt, va + PAGE_SIZE), -ENOENT);   /* not its base */
        assert_int_equal(pt_unmap(pt, va), 0);
        assert_int_equal(pt_lookup(pt, va, &pte, &got), -ENOENT);
        assert_int_equal(pt_unmap(pt, va), -ENOENT);
        assert_int_equal(pt_protect(pt, va, PTE_RW), -ENOENT);
        assert_fault(walk(pt, va, rd_acc(true)), PF_U);
    }
}

static void test_map_sizes_4level(void **state)
{
    struct fx *f = *state;
    map_cycle(&f->pt, 0x00007f1240000000ULL);
    map_cycle(&f->pt, 0xffff800000000000ULL);               /* upper half */
}

static void test_map_sizes_5level(void **state)
{
    struct fx *f = *state;
    map_cycle(&f->pt, 0x0012345640000000ULL);               /* beyond 48 bits */
    map_cycle(&f->pt, 0xff00000000000000ULL);
    /* the PML5 index is bits 56:48 */
    assert_int_equal(pt_map(&f->pt, 0x00ff000000000000ULL, 0x5000, PT_4K, 0), 0);
    assert_int_equal(entry_at(&f->pt, 0x00ff000000000000ULL, 5), f->pt.root + 0xff * 8);
}

static void test_map_eexist(void **state)
{
    struct fx *f = *state;
    struct pt *pt = &f->pt;
    uint64_t pte;
    assert_int_equal(pt_map(pt, 0x200000, 0x1000, PT_4K, PTE_RW), 0);
    assert_int_equal(pt_map(pt, 0x200000, 0x2000, PT_4K, PTE_RW), -EEXIST);
    assert_int_equal(pt_map(pt, 0x200000, 0x400000, PT_2M, PTE_RW), -EEXIST);
    assert_int_equal(pt_map(pt, 0, 0x40000000, PT_1G, PTE_RW), -EEXIST);
    assert_int_equal(pt_lookup(pt, 0x200000, &pte, NULL), 0);
    assert_int_equal(pte, 0x1000 | PTE_P | PTE_RW);        /* unchanged */

    assert_int_equal(pt_map(pt, 0x40000000, 0x80000000, PT_1G, 0), 0);
    assert_int_equal(pt_map(pt, 0x40200000, 0x200000, PT_2M, 0), -EEXIST);
    assert_int_equal(pt_map(pt, 0x7ffff000, 0x1000, PT_4K, 0), -EEXIST);
    assert_int_equal(pt_map(pt, 0x600000, 0x600000, PT_2M, 0), 0);
    assert_int_equal(pt_map(pt, 0x601000, 0x1000, PT_4K, 0), -EEXIST);

    /* a table emptied by pt_unmap is replaced by a large page and freed */
    uint64_t before = mem_frames_free(f->a);
    assert_int_equal(pt_unmap(pt, 0x200000), 0);
    assert_int_equal(pt_map(pt, 0x200000, 0x400000, PT_2M, PTE_RW), 0);
    assert_int_equal(mem_frames_free(f->a), before + 1);
    assert_int_equal(pt_lookup(pt, 0x3ff000, &pte, NULL), 0);
    assert_int_equal(pte, 0x400000 | PTE_P | PTE_RW | PTE_PS);
}

static void test_map_einval(void **state)
{
    struct fx *f = *state;
    struct pt *pt = &f->pt;
    uint64_t free0 = mem_frames_free(f->a);
    assert_int_equal(pt_map(pt, 0x1800, 0x1000, PT_4K, 0), -EINVAL);        /* va */
    assert_int_equal(pt_map(pt, 0x1000, 0x1008, PT_4K, 0), -EINVAL);        /* pa */
    assert_int_equal(pt_map(pt, 0x201000, 0x200000, PT_2M, 0), -EINVAL);
    assert_int_equal(pt_map(pt, 0x200000, 0x201000, PT_2M, 0), -EINVAL);
    assert_int_equal(pt_map(pt, 0x60000000, 0x40000000, PT_1G, 0), -EINVAL);
    assert_int_equal(pt_map(pt, 0x40000000, 0x20000000, PT_1G, 0), -EINVAL);
    assert_int_equal(pt_map(pt, 0x2000, 0x2000, (enum pt_page_size)13, 0), -EINVAL);
    assert_int_equal(pt_map(pt, 0x1000, 1ULL << 52, PT_4K, 0), -EINVAL);    /* > bit 51 */
    assert_int_equal(pt_map(pt, 0x1000, 0x1000, PT_4K, PTE_PS), -EINVAL);   /* flags */
    assert_int_equal(pt_map(pt, 0x1000, 0x1000, PT_4K, 0x3000), -EINVAL);
    assert_int_equal(pt_protect(pt, 0x1000, 1ULL << 40), -EINVAL);
    assert_int_equal(mem_frames_free(f->a), free0);         /* nothing allocated */
    assert_int_equal(pt_map(pt, 0x1000, 0x1000, PT_4K, PTE_XD | (7ULL << 52) | (7ULL << 9)), 0);
}

static void test_noncanonical(void **state)
{
    struct fx *f = *state;
    assert_true(pt_canonical(0x00007fffffffffffULL, 4));
    assert_false(pt_canonical(0x0000800000000000ULL, 4));
    assert_true(pt_canonical(0xffff800000000000ULL, 4));
    assert_false(pt_canonical(0xfffe800000000000ULL, 4));
    assert_true(pt_canonical(0x00ff800000000000ULL, 5));
    assert_true(pt_canonical(0x0000800000000000ULL, 5));
    assert_false(pt_canonical(0x0100000000000000ULL, 5));
    assert_true(pt_canonical(0xff00000000000000ULL, 5));
    assert_false(pt_canonical(0xfe00000000000000ULL, 5));
    assert_false(pt_canonical(0, 3));
    struct pt *pt = &f->pt;
    assert_int_equal(pt_map(pt, 0x0000800000000000ULL, 0x1000, PT_4K, 0), -EINVAL);
    assert_int_equal(pt_lookup(pt, 0x0000800000000000ULL, NULL, NULL), -ENOENT);
    assert_int_equal(pt_unmap(pt, 0x0000800000000000ULL), -ENOENT);
    /* same PML4 slot as the non-canonical address once bits 63:48 are dropped */
    assert_int_equal(pt_map(pt, 0xffff800000000000ULL, 0x1000, PT_4K, PTE_US), 0);
    struct pt_access a = rd_acc(true);
    a.set_ad = true;
    struct pt_walk_result r = walk(pt, 0x0000800000000000ULL, a);
    assert_false(r.ok);
    assert_true(r.noncanonical);
    assert_int_equal(r.pf_error, 0);
    assert_int_equal(entry(pt, 0xffff800000000000ULL, 1) & PTE_A, 0);  /* not walked */
    assert_pa(walk(pt, 0xffff800000000abcULL, a), 0x1abc);
    assert_int_equal(entry(pt, 0xffff800000000000ULL, 1) & PTE_A, PTE_A);
}

static void test_set_raw(void **state)
{
    struct fx *f = *state;
    struct pt *pt = &f->pt;
    assert_int_equal(pt_set_raw(pt, 0, 0, 0), -EINVAL);
    assert_int_equal(pt_set_raw(pt, 0, 5, 0), -EINVAL);
    assert_int_equal(pt_map(pt, 0x200000, 0x200000, PT_2M, 0), 0);
    assert_int_equal(pt_set_raw(pt, 0x201000, 1, 0x1003), -EEXIST);
    set_entry(pt, 0x201000, 2, 0x400000 | PTE_P | PTE_PS);
    assert_pa(walk(pt, 0x201234, rd_acc(false)), 0x401234);
}

/* ---- access rights (SDM §4.6) ----------------------------------------- */

enum page { URW, URO, SRW, SRO, URWX, SRWX, PDE_S, PDPTE_RO, PML4_XD, NPAGES };

static const uint64_t page_va[NPAGES] = {
    0x1000, 0x2000, 0x3000, 0x4000, 0x5000, 0x6000,
    0x40000000, 0x8000000000ULL, 0x10000000000ULL,
};

static void map_matrix_pages(struct pt *pt)
{
    static const uint64_t flags[NPAGES] = {
        PTE_US | PTE_RW, PTE_US, PTE_RW, 0, PTE_US | PTE_RW | PTE_XD, PTE_RW | PTE_XD,
        PTE_US | PTE_RW, PTE_US | PTE_RW, PTE_US | PTE_RW,
    };
    for (int i = 0; i < NPAGES; i++)
        assert_int_equal(pt_map(pt, page_va[i], 0x100000 + (uint64_t)i * PAGE_SIZE,
                                PT_4K, flags[i]), 0);
    /* rights are combined over levels: restrict one upper entry each */
    set_entry(pt, page_va[PDE_S], 2, entry(pt, page_va[PDE_S], 2) & ~PTE_US);
    set_entry(pt, page_va[PDPTE_RO], 3, entry(pt, page_va[PDPTE_RO], 3) & ~PTE_RW);
    set_entry(pt, page_va[PML4_XD], 4, entry(pt, page_va[PML4_XD], 4) | PTE_XD);
}

struct rights_case {
    enum page page;
    bool user, write, exec, wp, nxe, smep, smap, ac;
    uint32_t pf;                /* 0: allowed */
};

#define OK 0u
#define P  PF_P
#define W  PF_W
#define U  PF_U
#define I  PF_I

static const struct rights_case rights[] = {
    /* page      user   write  exec   wp     nxe    smep   smap   ac     #PF */
    /* user-mode data */
    { URW,      1, 0, 0,  1, 0, 0, 0, 0,  OK },
    { URO,      1, 0, 0,  1, 0, 0, 0, 0,  OK },
    { SRW,      1, 0, 0,  1, 0, 0, 0, 0,  P | U },
    { URW,      1, 1, 0,  1, 0, 0, 0, 0,  OK },
    { URO,      1, 1, 0,  0, 0, 0, 0, 0,  P | W | U },      /* WP=0 does not help ring 3 */
    { URO,      1, 1, 0,  1, 0, 0, 0, 0,  P | W | U },
    { SRW,      1, 1, 0,  0, 0, 0, 0, 0,  P | W | U },
    /* user-mode fetches */
    { URW,      1, 0, 1,  1, 0, 0, 0, 0,  OK },
    { URO,      1, 0, 1,  1, 1, 0, 0, 0,  OK },             /* R/W irrelevant to fetch */
    { URWX,     1, 0, 1,  1, 1, 0, 0, 0,  P | U | I },
    { URW,      1, 0, 1,  1, 1, 0, 0, 0,  OK },
    { SRW,      1, 0, 1,  1, 0, 0, 0, 0,  P | U },          /* I=0: no NXE, no SMEP */
    { SRW,      1, 0, 1,  1, 1, 0, 0, 0,  P | U | I },
    { SRW,      1, 0, 1,  1, 0, 1, 0, 0,  P | U | I },      /* I from SMEP alone */
    { URW,      1, 1, 1,  1, 0, 0, 0, 0,  OK },             /* fetch: write ignored */
    /* supervisor-mode data, CR0.WP */
    { SRO,      0, 0, 0,  1, 0, 0, 0, 0,  OK },
    { SRO,      0, 1, 0,  0, 0, 0, 0, 0,  OK },
    { SRO,      0, 1, 0,  1, 0, 0, 0, 0,  P | W },
    { URO,      0, 1, 0,  0, 0, 0, 0, 0,  OK },
    { URO,      0, 1, 0,  1, 0, 0, 0, 0,  P | W },
    { SRW,      0, 1, 0,  1, 0, 0, 0, 0,  OK },
    /* SMAP */
    { URW,      0, 0, 0,  1, 0, 0, 0, 0,  OK },
    { URW,      0, 0, 0,  1, 0, 0, 1, 0,  P },
    { URW,      0, 0, 0,  1, 0, 0, 1, 1,  OK },
    { URW,      0, 1, 0,  1, 0, 0, 1, 0,  P | W },
    { URW,      0, 1, 0,  1, 0, 0, 1, 1,  OK },
    { URO,      0, 1, 0,  1, 0, 0, 1, 1,  P | W },          /* AC does not bypass WP */
    { URO,      0, 1, 0,  0, 0, 0, 1, 1,  OK },
    { SRW,      0, 0, 0,  1, 0, 0, 1, 0,  OK },             /* supervisor page */
    { URW,      1, 0, 0,  1, 0, 0, 1, 0,  OK },             /* ring 3 unaffected */
    /* supervisor-mode fetches, SMEP, XD */
    { URW,      0, 0, 1,  1, 0, 0, 0, 0,  OK },
    { URW,      0, 0, 1,  1, 0, 1, 0, 0,  P | I },
    { URW,      0, 0, 1,  1, 1, 1, 0, 0,  P | I },
    { URW,      0, 0, 1,  1, 0, 0, 1, 0,  OK },             /* SMAP is data only */
    { SRW,      0, 0, 1,  1, 0, 1, 0, 0,  OK },
    { SRO,      0, 0, 1,  1, 1, 1, 0, 0,  OK },
    { SRWX,     0, 0, 1,  1, 1, 0, 0, 0,  P | I },
    { URWX,     0, 0, 1,  1, 1, 0, 0, 0,  P | I },
    { SRWX,     0, 0, 0,  1, 1, 0, 0, 0,  OK },             /* XD: reads still fine */
    { URWX,     1, 1, 0,  1, 1, 0, 0, 0,  OK },
    /* effective rights combined over levels */
    { PDE_S,    1, 0, 0,  1, 0, 0, 0, 0,  P | U },
    { PDE_S,    0, 0, 0,  1, 0, 0, 1, 0,  OK },             /* supervisor: no SMAP */
    { PDE_S,    0, 0, 1,  1, 0, 1, 0, 0,  OK },             /* supervisor: no SMEP */
    { PDPTE_RO, 1, 0, 0,  1, 0, 0, 0, 0,  OK },
    { PDPTE_RO, 1, 1, 0,  0, 0, 0, 0, 0,  P | W | U },
    { PDPTE_RO, 0, 1, 0,  1, 0, 0, 0, 0,  P | W },
    { PDPTE_RO, 0, 1, 0,  0, 0, 0, 0, 0,  OK },
    { PML4_XD,  1, 0, 1,  1, 1, 0, 0, 0,  P | U | I },
    { PML4_XD,  1, 0, 0,  1, 1, 0, 0, 0,  OK },
    { PML4_XD,  1, 0, 0,  1, 0, 0, 0, 0,  P | U | PF_RSVD },/* XD reserved without NXE */
    { PML4_XD,  0, 1, 1,  1, 0, 0, 0, 0,  P | PF_RSVD },    /* fetch: no W; I=0 */
};

static void check_rights(struct pt *pt, int levels)
{
    map_matrix_pages(pt);
    for (size_t i = 0; i < sizeof(rights) / sizeof(rights[0]); i++) {
        const struct rights_case *c = &rights[i];
        struct pt_access acc = {
            .user = c->user, .write = c->write, .exec = c->exec, .wp = c->wp,
            .nxe = c->nxe, .smep = c->smep, .smap = c->smap, .ac = c->ac,
            .gbpages = true, .set_ad = true,
        };
        uint64_t va = page_va[c->page] + 0x2a8;
        struct pt_walk_result r = walk(pt, va, acc);
        if (r.ok != (c->pf == OK) || (!r.ok && r.pf_error != c->pf))
            fail_msg("%d-level case %zu: ok=%d pf=%#x, want pf=%#x", levels, i,
                     r.ok, r.pf_error, c->pf);
        if (r.ok) {
            assert_int_equal(r.pa, 0x100000 + (uint64_t)c->page * PAGE_SIZE + 0x2a8);
            assert_int_equal(r.size, PT_4K);
        }
    }
}

static void test_rights_4level(void **state) { check_rights(&((struct fx *)*state)->pt, 4); }
static void test_rights_5level(void **state) { check_rights(&((struct fx *)*state)->pt, 5); }

static void test_not_present_codes(void **state)
{
    struct fx *f = *state;
    struct pt *pt = &f->pt;
    struct pt_access a = { .user = true, .write = true };
    assert_fault(walk(pt, 0x1000, a), PF_W | PF_U);         /* empty PML4 */
    assert_int_equal(pt_map(pt, 0x1000, 0x1000, PT_4K, PTE_RW | PTE_US), 0);
    assert_fault(walk(pt, 0x2000, a), PF_W | PF_U);         /* empty PTE */
    a = (struct pt_access){ .exec = true };
    assert_fault(walk(pt, 0x2000, a), 0);
    a.nxe = true;
    assert_fault(walk(pt, 0x2000, a), PF_I);
    a = (struct pt_access){ .exec = true, .smep = true, .user = true };
    assert_fault(walk(pt, 0x200000, a), PF_I | PF_U);       /* empty PDE */
    /* reserved bits in a non-present entry are not checked */
    set_entry(pt, 0x2000, 1, (1ULL << 51) | PTE_XD | PTE_RW);
    assert_fault(walk(pt, 0x2000, rd_acc(false)), 0);
}

/* ---- accessed / dirty (SDM §4.8) -------------------------------------- */

static void test_accessed_dirty(void **state)
{
    struct fx *f = *state;
    struct pt *pt = &f->pt;
    int n = pt->levels;
    uint64_t va = 0x7f0000201000ULL;
    assert_int_equal(pt_map(pt, va, 0x9000, PT_4K, PTE_RW | PTE_US), 0);
    struct pt_access a = rd_acc(true);
    struct pt_walk_result r = walk(pt, va, a);              /* set_ad false */
    assert_pa(r, 0x9000);
    for (int l = 1; l <= n; l++)
        assert_int_equal(entry(pt, va, l) & (PTE_A | PTE_D), 0);

    a.set_ad = true;
    r = walk(pt, va, a);
    assert_pa(r, 0x9000);
    assert_int_equal(r.leaf, 0x9000 | PTE_P | PTE_RW | PTE_US | PTE_A);
    for (int l = 1; l <= n; l++)
        assert_int_equal(entry(pt, va, l) & (PTE_A | PTE_D), PTE_A);

    a.write = true;
    r = walk(pt, va, a);
    assert_int_equal(r.leaf, 0x9000 | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D);
    assert_int_equal(entry(pt, va, 1), r.leaf);
    for (int l = 2; l <= n; l++)                            /* D only in the leaf */
        assert_int_equal(entry(pt, va, l), (entry(pt, va, l) & PTE_ADDR_MASK) | TBL | PTE_A);

    /* a faulting access sets nothing */
    assert_int_equal(pt_map(pt, va + PAGE_SIZE, 0xa000, PT_4K, PTE_US), 0);
    assert_int_equal(pt_map(pt, 0x40000000, 0x40000000, PT_1G, PTE_US), 0);
    r = walk(pt, va + PAGE_SIZE, a);
    assert_fault(r, PF_P | PF_W | PF_U);
    assert_int_equal(entry(pt, va + PAGE_SIZE, 1), 0xa000 | PTE_P | PTE_US);
    r = walk(pt, 0x40000000, a);
    assert_fault(r, PF_P | PF_W | PF_U);
    for (int l = 3; l <= n; l++)       /* a PML5E shared with va keeps its A */
        assert_int_equal(entry(pt, 0x40000000, l) & PTE_A, l == 5 ? PTE_A : 0);

    /* large leaf: A and D in the PDE */
    assert_int_equal(pt_map(pt, 0x600000, 0xe00000, PT_2M, PTE_RW | PTE_US), 0);
    r = walk(pt, 0x7fffff, a);
    assert_pa(r, 0xffffff);
    assert_int_equal(r.size, PT_2M);
    assert_int_equal(entry(pt, 0x600000, 2), 0xe00000 | PTE_P | PTE_RW | PTE_US | PTE_PS | PTE_A | PTE_D);
}

struct ad_job { const struct pt *pt; uint64_t va; int fails; };

static void *ad_thread(void *p)
{
    struct ad_job *j = p;
    struct pt_access a = { .write = true, .wp = true, .set_ad = true };
    for (int i = 0; i < 2000; i++) {
        struct pt_walk_result r;
        pt_walk(j->pt, j->va + (uint64_t)i % PAGE_SIZE, &a, &r);
        j->fails += !r.ok || r.pa != 0x20000 + j->va + (uint64_t)i % PAGE_SIZE;
    }
    return NULL;
}

/* Walkers racing on shared upper entries: every walk succeeds and each
 * entry ends with A (and D in each leaf). */
static void test_accessed_dirty_threads(void **state)
{
    struct fx *f = *state;
    struct pt *pt = &f->pt;
    struct ad_job jobs[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct ad_job){ .pt = pt, .va = (uint64_t)(i + 1) * PAGE_SIZE };
        assert_int_equal(pt_map(pt, jobs[i].va, 0x20000 + jobs[i].va, PT_4K, PTE_RW), 0);
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, ad_thread, &jobs[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(jobs[i].fails, 0);
        assert_int_equal(entry(pt, jobs[i].va, 1),
                         (0x20000 + jobs[i].va) | PTE_P | PTE_RW | PTE_A | PTE_D);
    }
    for (int l = 2; l <= pt->levels; l++)
        assert_int_equal(entry(pt, PAGE_SIZE, l) & (PTE_A | PTE_D), PTE_A);
}

/* ---- reserved bits (SDM Tables 4-15 to 4-20) -------------------------- */

static void expect_rsvd(struct pt *pt, uint64_t va, struct pt_access a)
{
    uint32_t code = (a.write ? PF_W : 0) | (a.user ? PF_U : 0);
    a.set_ad = true;
    struct pt_walk_result r = walk(pt, va, a);
    assert_fault(r, code | PF_P | PF_RSVD);
}

/* Address bits 51:MAXPHYADDR, in a leaf and in a table pointer. */
static void test_rsvd_maxphyaddr(void **state)
{
    struct fx *f = *state;
    struct pt *pt = &f->pt;
    struct pt_access a = rd_acc(false);
    uint64_t va = 0x1000;
    assert_int_equal(pt_map(pt, va, 0x5000, PT_4K, PTE_RW), 0);
    uint64_t pte = entry(pt, va, 1), pde = entry(pt, va, 2);

    set_entry(pt, va, 1, pte | (1ULL << 46));
    a.maxphyaddr = 46;
    expect_rsvd(pt, va, a);
    a.maxphyaddr = 47;
    assert_pa(walk(pt, va + 8, a), (1ULL << 46) | 0x5008);
    a.maxphyaddr = 0;                                       /* 52 */
    set_entry(pt, va, 1, pte | (1ULL << 51));
    assert_pa(walk(pt, va, a), (1ULL << 51) | 0x5000);
    a.maxphyaddr = 51;
    expect_rsvd(pt, va, a);
    set_entry(pt, va, 1, pte);

    /* in a PDE; with a wider MAXPHYADDR the pointer leads outside memory */
    set_entry(pt, va, 2, pde | (1ULL << 40));
    a.maxphyaddr = 40;
    expect_rsvd(pt, va, a);
    a.maxphyaddr = 41;
    struct pt_walk_result r = walk(pt, va, a);
    assert_false(r.ok);
    assert_true(r.mem_error);

    /* the first faulting level wins: a non-present PTE below it */
    set_entry(pt, va, 2, pde);
    set_entry(pt, va, 1, 0);
    set_entry(pt, va, 2, pde | (1ULL << 51));
    a.maxphyaddr = 48;
    expect_rsvd(pt, va, a);
    for (int l = 2; l <= pt->levels; l++)                   /* no A on failure */
        assert_int_equal(entry(pt, va, l) & PTE_A, 0);
}

/* PS in a PML4E/PML5E; bits 20:13 of a 2 MiB leaf, 29:13 of a 1 GiB leaf
 * (bit 12 of both is PAT, not reserved). */
static void test_rsvd_ps_and_large(void **state)
{
    struct fx *f = *state;
    struct pt *pt = &f->pt;
    struct pt_access a = rd_acc(false);
    uint64_t va2m = 0x400000, va1g = 0x80000000;
    assert_int_equal(pt_map(pt, va2m, 0x800000, PT_2M, PTE_RW), 0);
    assert_int_equal(pt_map(pt, va1g, 0xc0000000, PT_1G, PTE_RW), 0);
    for (int l = 4; l <= pt->levels; l++) {
        uint64_t e = entry(pt, va2m, l);
        set_entry(pt, va2m, l, e | PTE_PS);
        expect_rsvd(pt, va2m, a);
        set_entry(pt, va2m, l, e);
    }
    uint64_t e2 = entry(pt, va2m, 2);
    for (int b = 13; b <= 20; b++) {
        set_entry(pt, va2m, 2, e2 | (1ULL << b));
        expect_rsvd(pt, va2m, a);
    }
    set_entry(pt, va2m, 2, e2 | (1ULL << 12));
    assert_pa(walk(pt, va2m + 0x1234, a), 0x801234);

    uint64_t e3 = entry(pt, va1g, 3);
    for (int b = 13; b <= 29; b++) {
        set_entry(pt, va1g, 3, e3 | (1ULL << b));
        expect_rsvd(pt, va1g, a);
    }
    set_entry(pt, va1g, 3, e3 | (1ULL << 12));
    assert_pa(walk(pt, va1g + 0x3456789, a), 0xc3456789);
}

/* XD (bit 63) is reserved at every level without IA32_EFER.NXE; the error
 * code still carries W and U. */
static void test_rsvd_xd(void **state)
{
    struct fx *f = *state;
    struct pt *pt = &f->pt;
    struct pt_access a = { .user = true, .write = true };
    uint64_t va = 0x1000;
    assert_int_equal(pt_map(pt, va, 0x5000, PT_4K, PTE_RW | PTE_US), 0);
    for (int l = 1; l <= pt->levels; l++) {
        uint64_t e = entry(pt, va, l);
        set_entry(pt, va, l, e | PTE_XD);
        a.nxe = false;
        expect_rsvd(pt, va, a);
        a.nxe = true;
        assert_pa(walk(pt, va, a), 0x5000);
        set_entry(pt, va, l, e);
    }
}

static void test_1g_without_gbpages(void **state)
{
    struct fx *f = *state;
    struct pt *pt = &f->pt;
    assert_int_equal(pt_map(pt, 0xc0000000, 0x140000000ULL, PT_1G, PTE_RW | PTE_US), 0);
    struct pt_access a = { .user = true, .write = true, .set_ad = true };
    expect_rsvd(pt, 0xc0000000 + 0x1234, a);
    assert_int_equal(entry(pt, 0xc0000000, 3) & PTE_A, 0);
    a.gbpages = true;
    struct pt_walk_result r = walk(pt, 0xc0000000 + 0x12345678, a);
    assert_pa(r, 0x152345678ULL);
    assert_int_equal(r.size, PT_1G);
    assert_int_equal(r.leaf, 0x140000000ULL | PTE_P | PTE_RW | PTE_US | PTE_PS | PTE_A | PTE_D);
    /* the editor still maps and looks up 1 GiB pages regardless */
    enum pt_page_size s;
    assert_int_equal(pt_lookup(pt, 0xfffff000, NULL, &s), 0);
    assert_int_equal(s, PT_1G);
}

/* ---- malformed tables ------------------------------------------------- */

static void test_table_outside_arena(void **state)
{
    struct fx *f = *state;
    struct pt *pt = &f->pt;
    uint64_t va = 0x8000000000ULL;                          /* PML4 slot 1 */
    uint64_t bogus = 0x7000000000ULL;                       /* beyond the arena */
    set_entry(pt, va, pt->levels, bogus | TBL);
    struct pt_access a = rd_acc(true);
    a.set_ad = true;
    struct pt_walk_result r = walk(pt, va + 0x10, a);
    assert_false(r.ok);
    assert_true(r.mem_error);
    assert_int_equal(entry(pt, va, pt->levels), bogus | TBL);   /* no A: not a success */
    assert_int_equal(pt_lookup(pt, va, NULL, NULL), -EFAULT);
    assert_int_equal(pt_map(pt, va, 0x1000, PT_4K, 0), -EFAULT);
    assert_int_equal(pt_unmap(pt, va), -EFAULT);
    assert_int_equal(pt_set_raw(pt, va, 1, 0), -EFAULT);
    /* just below the arena start and at its end */
    set_entry(pt, va, pt->levels, (BASE - PAGE_SIZE) | TBL);
    r = walk(pt, va, a);
    assert_true(r.mem_error);
    set_entry(pt, va, pt->levels, (BASE + ARENA) | TBL);
    r = walk(pt, va, a);
    assert_true(r.mem_error);
    /* a broken root */
    struct pt bad = *pt;
    bad.root = 0x1000;
    r = walk(&bad, 0x1000, a);
    assert_true(r.mem_error);
    assert_false(r.ok);
    pt_destroy(&bad);                                       /* nothing to free */
    uint64_t free1 = mem_frames_free(f->a);
    pt_destroy(pt);                                         /* skips the bogus pointer */
    assert_int_equal(mem_frames_free(f->a), free1 + 1);
    assert_int_equal(mem_frames_free(f->a), f->free0);
    assert_int_equal(pt_init(pt, phys_view_hpa(f->a), 4), 0);
}

static void test_self_reference(void **state)
{
    struct fx *f = *state;
    struct pt *pt = &f->pt;
    int top = pt->levels;
    uint64_t root = pt->root;
    /* root[0] -> root: every level of va 0..4095 resolves to the root itself */
    set_entry(pt, 0, top, root | TBL);
    struct pt_access a = rd_acc(false);
    a.set_ad = true;
    struct pt_walk_result r = walk(pt, 0x123, a);
    assert_pa(r, root + 0x123);
    assert_int_equal(r.size, PT_4K);
    assert_int_equal(entry(pt, 0, top), root | TBL | PTE_A);
    a.write = true;
    r = walk(pt, 0x8, a);
    assert_pa(r, root + 8);
    assert_int_equal(r.leaf, root | TBL | PTE_A | PTE_D);
    uint64_t raw = 0;
    assert_int_equal(mem_read64(f->a, root, &raw), 0);
    assert_int_equal(raw, root | TBL | PTE_A | PTE_D);
    /* slot 1 -> root: va with index 1 at every level maps the root */
    set_entry(pt, 0, top, 0);
    uint64_t va = SZ(39) | SZ(30) | SZ(21) | SZ(12) | (top == 5 ? SZ(48) : 0);
    set_entry(pt, va, top, root | TBL);
    r = walk(pt, va + 0x10, a);
    assert_pa(r, root + 0x10);
    /* a two-table cycle: root[2] -> T, T[0] -> root, then root[0] is empty */
    uint64_t va2 = 2ULL << (12 + 9 * (top - 1));
    assert_int_equal(pt_set_raw(pt, va2, top - 1, root | TBL), 0);
    uint64_t t = entry(pt, va2, top) & PTE_ADDR_MASK;
    assert_int_not_equal(t, root);
    assert_int_equal(entry_at(pt, va2, top - 1), t);
    r = walk(pt, va2, a);
    assert_fault(r, PF_W);
    /* destroy terminates and frees exactly the root and T */
    assert_int_equal(mem_frames_free(f->a), f->free0 - 2);
    pt_destroy(pt);
    assert_int_equal(mem_frames_free(f->a), f->free0);
    assert_int_equal(pt_init(pt, phys_view_hpa(f->a), top), 0);
}

/* ---- guest space ------------------------------------------------------ */

static void test_tables_in_gpa(void **state)
{
    struct fx *f = *state;
    struct gpa_map *g = gpa_map_create(f->a, 64 * PAGE_SIZE);
    gpa_set_alloc_floor(g, 16 * PAGE_SIZE);
    struct pt gpt;
    assert_int_equal(pt_init(&gpt, phys_view_gpa(g), 4), 0);
    assert_int_equal(gpt.root, 16 * PAGE_SIZE);             /* a GPA, not an HPA */
    assert_int_equal(pt_map(&gpt, 0x7fff0000, 0x3000, PT_4K, PTE_RW | PTE_US), 0);
    struct pt_access a = { .user = true, .write = true, .set_ad = true };
    struct pt_walk_result r = walk(&gpt, 0x7fff0042, a);
    assert_pa(r, 0x3042);
    /* the leaf table is a guest page; its A/D bits land in the backing frame */
    uint64_t ea = entry_at(&gpt, 0x7fff0000, 1), raw = 0;
    assert_true(ea < 64 * PAGE_SIZE && ea >= 16 * PAGE_SIZE);
    assert_int_equal(mem_read64(f->a, gpa_to_hpa(g, ea), &raw), 0);
    assert_int_equal(raw, 0x3000 | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D);
    /* a table pointer beyond the guest's RAM */
    set_entry(&gpt, 0x8000000000ULL, 4, (64 * PAGE_SIZE) | TBL);
    r = walk(&gpt, 0x8000000000ULL, a);
    assert_true(r.mem_error);
    pt_destroy(&gpt);
    assert_int_equal(gpa_page_alloc(g), 16 * PAGE_SIZE);    /* root returned */
    gpa_map_destroy(g);
}

int main(void)
{
#define T4(t) cmocka_unit_test_setup_teardown(t, setup4, teardown)
#define T5(t) cmocka_unit_test_setup_teardown(t, setup5, teardown)
    const struct CMUnitTest tests[] = {
        T4(test_init), T5(test_init),
        T4(test_destroy_frees_tables_not_frames),
        T4(test_map_sizes_4level), T5(test_map_sizes_5level),
        T4(test_map_eexist), T5(test_map_eexist),
        T4(test_map_einval),
        T4(test_noncanonical),
        T4(test_set_raw),
        T4(test_rights_4level), T5(test_rights_5level),
        T4(test_not_present_codes),
        T4(test_accessed_dirty), T5(test_accessed_dirty),
        T5(test_accessed_dirty_threads),
        T4(test_rsvd_maxphyaddr), T5(test_rsvd_maxphyaddr),
        T4(test_rsvd_ps_and_large), T5(test_rsvd_ps_and_large),
        T4(test_rsvd_xd), T5(test_rsvd_xd),
        T4(test_1g_without_gbpages),
        T4(test_table_outside_arena), T5(test_table_outside_arena),
        T4(test_self_reference), T5(test_self_reference),
        T4(test_tables_in_gpa),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
