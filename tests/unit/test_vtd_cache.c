/* Cache behaviour (vtd-reference.md §2.10, §4.10): a stale translation is
 * served until it is invalidated at a granularity that covers it, and not
 * after; nothing not-present is cached; dirty bits force a re-walk. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hw_regs.h"
#include "paging/pt.h"
#include "vtd/tables.h"

#define SID   0x0208
#define SID2  0x020A
#define PASID 0x42

struct fx {
    struct mem_arena *mem;
    struct vtd_unit *u;
    struct vtd_tables t;
    uint64_t dir;
    struct pt mm;              /* a host process page table (first level) */
    struct gpa_map *g;         /* a guest for nested entries */
    struct pt gmm;             /* guest process page table (in GPA) */
    uint64_t nest;             /* second level GPA -> HPA */
};

static void pasid_entry(uint64_t *p, unsigned pgtt, uint16_t did, uint64_t flptr, uint64_t slptr)
{
    memset(p, 0, 64);
    HW_SET(PASID_PTE, P, p, 1);
    HW_SET(PASID_PTE, PGTT, p, pgtt);
    HW_SET(PASID_PTE, DID, p, did);
    HW_SET(PASID_PTE, AW, p, 2);
    HW_SET(PASID_PTE, PWSNP, p, 1);
    HW_SET(PASID_PTE, FLPTPTR, p, flptr >> 12);
    HW_SET(PASID_PTE, SLPTPTR, p, slptr >> 12);
}

static void sm_ctx(struct fx *f, uint16_t sid)
{
    uint64_t c[4] = { 0 };
    HW_SET(SM_CTX, P, c, 1), HW_SET(SM_CTX, PASIDE, c, 1), HW_SET(SM_CTX, DTE, c, 1);
    HW_SET(SM_CTX, PASIDDIRPTR, c, f->dir >> 12);
    assert_int_equal(vtd_tables_set_ctx(&f->t, sid, c), 0);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct vtd_config c;
    uint64_t p[8];
    vtd_config_default(&c);
    f->mem = mem_arena_create(0x100000000ULL, 128 << 20);
    f->u = vtd_unit_create(&c, f->mem);
    assert_int_equal(vtd_tables_init(&f->t, f->mem, true), 0);
    assert_int_equal(vtd_tables_pasid_dir(&f->t, 0, &f->dir), 0);
    sm_ctx(f, SID);
    sm_ctx(f, SID2);
    assert_int_equal(pt_init(&f->mm, phys_view_hpa(f->mem), 4), 0);
    pasid_entry(p, 1, 1, f->mm.root, 0);
    assert_int_equal(vtd_tables_set_pasid(&f->t, f->dir, PASID, p, false), 0);
    f->g = gpa_map_create(f->mem, 8 << 20);
    assert_int_equal(pt_init(&f->gmm, phys_view_gpa(f->g), 4), 0);
    assert_int_equal(vtd_sl_map_gpa_space(f->mem, &f->nest, 4, f->g, 3), 0);
    pasid_entry(p, 3, 9, f->gmm.root, f->nest);
    assert_int_equal(vtd_tables_set_pasid(&f->t, f->dir, PASID + 1, p, false), 0);
    assert_int_equal(vtd_program_root(f->u, f->t.root, 1, true), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    vtd_unit_destroy(f->u);
    gpa_map_destroy(f->g);
    mem_arena_destroy(f->mem);
    free(f);
    return 0;
}

static struct vtd_result xl(struct fx *f, uint16_t sid, uint32_t pasid, uint64_t va, bool write)
{
    struct vtd_req req = { .sid = sid, .pasid_present = true, .pasid = pasid, .addr = va,
                           .write = write };
    struct vtd_result r;
    vtd_translate(f->u, &req, &r);
    return r;
}

static uint64_t xa(struct fx *f, uint32_t pasid, uint64_t va)
{
    struct vtd_result r = xl(f, SID, pasid, va, false);
    return r.fault ? ~0ULL : r.addr;
}

/* With CAP.CM=0 nothing not-present is cached: a page mapped after a fault
 * translates without any invalidation. */
static void test_not_present_never_cached(void **state)
{
    struct fx *f = *state;
    uint64_t page = mem_frame_alloc(f->mem);
    assert_int_equal(xl(f, SID, PASID, 0x5000, false).fault, VTD_FR_FL_NP);
    assert_int_equal(pt_map(&f->mm, 0x5000, page, PT_4K, PTE_RW | PTE_US), 0);
    assert_int_equal(xa(f, PASID, 0x5000), page);
}

/* PASID-based IOTLB (§4.8): page-selective drops only its range; PASID-
 * selective drops all non-global entries of (DID, PASID) but keeps global
 * ones; wrong DID or PASID drops nothing. */
static void test_piotlb_granularity(void **state)
{
    struct fx *f = *state;
    uint64_t a = mem_frame_alloc(f->mem), b = mem_frame_alloc(f->mem), c = mem_frame_alloc(f->mem);
    assert_int_equal(pt_map(&f->mm, 0x10000, a, PT_4K, PTE_RW | PTE_US), 0);
    assert_int_equal(pt_map(&f->mm, 0x11000, a, PT_4K, PTE_RW | PTE_US | PTE_G), 0);
    assert_int_equal(xa(f, PASID, 0x10000), a);
    assert_int_equal(xa(f, PASID, 0x11000), a);
    assert_int_equal(pt_protect(&f->mm, 0x10000, PTE_RW | PTE_US), 0);
    assert_int_equal(pt_unmap(&f->mm, 0x10000), 0);
    assert_int_equal(pt_map(&f->mm, 0x10000, b, PT_4K, PTE_RW | PTE_US), 0);
    assert_int_equal(pt_unmap(&f->mm, 0x11000), 0);
    assert_int_equal(pt_map(&f->mm, 0x11000, c, PT_4K, PTE_RW | PTE_US | PTE_G), 0);
    assert_int_equal(xa(f, PASID, 0x10000), a);                   /* stale */
    vtd_inv_piotlb(f->u, true, 2, PASID, 0x10000, 0, false);      /* wrong DID */
    vtd_inv_piotlb(f->u, true, 1, PASID + 5, 0x10000, 0, false);  /* wrong PASID */
    vtd_inv_piotlb(f->u, true, 1, PASID, 0x12000, 0, false);      /* other page */
    vtd_inv_iotlb(f->u, VTD_IOTLB_PAGE, 1, 0x10000, 0, false);    /* SL-only scope */
    assert_int_equal(xa(f, PASID, 0x10000), a);
    vtd_inv_piotlb(f->u, false, 1, PASID, 0, 0, false);           /* PASID-selective */
    assert_int_equal(xa(f, PASID, 0x10000), b);
    assert_int_equal(xa(f, PASID, 0x11000), a);                   /* global kept */
    vtd_inv_piotlb(f->u, true, 1, PASID, 0x10000, 1, false);      /* 2 pages from 0x10000 */
    assert_int_equal(xa(f, PASID, 0x11000), c);
}

/* The PASID cache (§2.10): a changed PASID entry is not seen until a
 * PASID-cache invalidation covering (DID, PASID); the stale IOTLB entry
 * needs its own invalidation. */
static void test_pasid_cache(void **state)
{
    struct fx *f = *state;
    uint64_t a = mem_frame_alloc(f->mem), b = mem_frame_alloc(f->mem), p[8], pa;
    struct pt other;
    assert_int_equal(pt_map(&f->mm, 0x20000, a, PT_4K, PTE_RW | PTE_US), 0);
    assert_int_equal(pt_init(&other, phys_view_hpa(f->mem), 4), 0);
    assert_int_equal(pt_map(&other, 0x20000, b, PT_4K, PTE_RW | PTE_US), 0);
    assert_int_equal(pt_map(&other, 0x21000, b, PT_4K, PTE_RW | PTE_US), 0);
    assert_int_equal(xa(f, PASID, 0x20000), a);
    pasid_entry(p, 1, 1, other.root, 0);
    assert_int_equal(vtd_tables_pasid_addr(&f->t, f->dir, PASID, &pa), 0);
    assert_int_equal(mem_write(f->mem, pa, p, 64), 0);
    assert_int_equal(xa(f, PASID, 0x21000), ~0ULL);               /* old table via PASID cache */
    vtd_inv_pasid_cache(f->u, VTD_PC_PASID, 2, PASID);            /* wrong DID */
    vtd_inv_pasid_cache(f->u, VTD_PC_PASID, 1, PASID + 1);        /* wrong PASID */
    assert_int_equal(xa(f, PASID, 0x21000), ~0ULL);
    vtd_inv_pasid_cache(f->u, VTD_PC_DOMAIN, 1, 0);
    assert_int_equal(xa(f, PASID, 0x21000), b);
    assert_int_equal(xa(f, PASID, 0x20000), a);                   /* IOTLB still stale */
    vtd_inv_piotlb(f->u, false, 1, PASID, 0, 0, false);
    assert_int_equal(xa(f, PASID, 0x20000), b);
    pt_destroy(&other);
}

/* The context cache (§4.3): a context entry made not-present keeps serving
 * until a context-cache invalidation for its source id (function mask
 * applies). */
static void test_context_cache_device_and_fm(void **state)
{
    struct fx *f = *state;
    uint64_t a = mem_frame_alloc(f->mem), ca;
    assert_int_equal(pt_map(&f->mm, 0x30000, a, PT_4K, PTE_RW | PTE_US), 0);
    assert_int_equal(pt_map(&f->mm, 0x31000, a, PT_4K, PTE_RW | PTE_US), 0);
    assert_int_equal(xa(f, PASID, 0x30000), a);
    assert_int_equal(vtd_tables_ctx_addr(&f->t, SID, &ca), 0);
    assert_int_equal(mem_write64(f->mem, ca, 0), 0);
    assert_int_equal(xa(f, PASID, 0x31000), a);                   /* context cached */
    vtd_inv_context(f->u, VTD_CC_DEVICE, 0, SID ^ 0x4, 1);        /* FM=1 ignores bit 2 only */
    assert_int_equal(xl(f, SID, PASID, 0x31000, false).fault, VTD_FR_SM_CTX_NP);
    assert_int_equal(xa(f, PASID, 0x30000), ~0ULL);               /* context checked even on IOTLB hit */
}

static void test_context_cache_fm_miss(void **state)
{
    struct fx *f = *state;
    uint64_t a = mem_frame_alloc(f->mem), ca;
    assert_int_equal(pt_map(&f->mm, 0x30000, a, PT_4K, PTE_RW | PTE_US), 0);
    assert_int_equal(xa(f, PASID, 0x30000), a);
    assert_int_equal(vtd_tables_ctx_addr(&f->t, SID, &ca), 0);
    assert_int_equal(mem_write64(f->mem, ca, 0), 0);
    vtd_inv_context(f->u, VTD_CC_DEVICE, 0, SID ^ 0x2, 1);        /* bit 1 differs: FM=1 keeps it */
    assert_int_equal(xa(f, PASID, 0x30000), a);
    vtd_inv_context(f->u, VTD_CC_DEVICE, 0, SID ^ 0x2, 2);        /* FM=2 ignores bits 2:1 */
    assert_int_equal(xa(f, PASID, 0x30000), ~0ULL);
}

/* Nested entries (§3.6, §4.4): a second-level change is picked up after an
 * IOTLB invalidation of the DID, page-selective at any GPA (nested entries
 * are tagged by first-level input address), while first-level-only
 * entries of the same DID survive it. */
static void test_nested_invalidation(void **state)
{
    struct fx *f = *state;
    uint64_t gpage = gpa_page_alloc(f->g), flpage = mem_frame_alloc(f->mem);
    uint64_t newhpa = mem_frame_alloc(f->mem), slleaf;
    assert_int_equal(pt_map(&f->gmm, 0x40000, gpage, PT_4K, PTE_RW | PTE_US), 0);
    assert_int_equal(pt_map(&f->mm, 0x40000, flpage, PT_4K, PTE_RW | PTE_US), 0);
    assert_int_equal(xa(f, PASID + 1, 0x40000), gpa_to_hpa(f->g, gpage));
    assert_int_equal(xa(f, PASID, 0x40000), flpage);
    assert_int_equal(vtd_sl_entry_addr(f->mem, f->nest, 4, gpage, 1, &slleaf), 0);
    assert_int_equal(mem_write64(f->mem, slleaf, newhpa | 3), 0);
    assert_int_equal(pt_unmap(&f->mm, 0x40000), 0);
    assert_int_equal(xa(f, PASID + 1, 0x40000), gpa_to_hpa(f->g, gpage));   /* stale */
    vtd_inv_iotlb(f->u, VTD_IOTLB_PAGE, 9, 0x7000000, 0, false);
    assert_int_equal(xa(f, PASID + 1, 0x40000), newhpa);
    vtd_inv_iotlb(f->u, VTD_IOTLB_PAGE, 1, 0x40000, 0, false);             /* FL entry kept */
    assert_int_equal(xa(f, PASID, 0x40000), flpage);
    vtd_inv_iotlb(f->u, VTD_IOTLB_DOMAIN, 1, 0, 0, false);
    assert_int_equal(xa(f, PASID, 0x40000), ~0ULL);
}

/* A read fills the IOTLB without setting D; a later write must walk again
 * to set D in the process page table (§3.5), then hits. */
static void test_dirty_bit_rewalk(void **state)
{
    struct fx *f = *state;
    uint64_t a = mem_frame_alloc(f->mem), pte;
    enum pt_page_size sz;
    assert_int_equal(pt_map(&f->mm, 0x50000, a, PT_4K, PTE_RW | PTE_US), 0);
    assert_false(xl(f, SID, PASID, 0x50000, false).cached);
    assert_true(xl(f, SID, PASID, 0x50000, false).cached);
    assert_int_equal(pt_lookup(&f->mm, 0x50000, &pte, &sz), 0);
    assert_true(pte & PTE_A);
    assert_false(pte & PTE_D);
    struct vtd_result r = xl(f, SID, PASID, 0x50000, true);
    assert_int_equal(r.fault, 0);
    assert_false(r.cached);
    assert_int_equal(pt_lookup(&f->mm, 0x50000, &pte, &sz), 0);
    assert_true(pte & PTE_D);
    assert_true(xl(f, SID, PASID, 0x50000, true).cached);
}

/* Global invalidations drop everything; the IOTLB is per DID/PASID so two
 * devices sharing a PASID entry's domain share its entries. */
static void test_global_and_shared(void **state)
{
    struct fx *f = *state;
    uint64_t a = mem_frame_alloc(f->mem), b = mem_frame_alloc(f->mem);
    assert_int_equal(pt_map(&f->mm, 0x60000, a, PT_4K, PTE_RW | PTE_US), 0);
    assert_int_equal(xa(f, PASID, 0x60000), a);
    assert_true(xl(f, SID2, PASID, 0x60000, false).cached);
    assert_int_equal(pt_unmap(&f->mm, 0x60000), 0);
    assert_int_equal(pt_map(&f->mm, 0x60000, b, PT_4K, PTE_RW | PTE_US), 0);
    vtd_inv_iotlb(f->u, VTD_IOTLB_GLOBAL, 0, 0, 0, false);
    assert_int_equal(xa(f, PASID, 0x60000), b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_not_present_never_cached), T(test_piotlb_granularity), T(test_pasid_cache),
        T(test_context_cache_device_and_fm), T(test_context_cache_fm_miss),
        T(test_nested_invalidation), T(test_dirty_bit_rewalk), T(test_global_and_shared),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
