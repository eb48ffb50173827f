/* Accessed/dirty updates and the interrupt range (vtd-reference.md §3.3
 * steps 7-8, §3.5, §3.6): A/D bits change only when the whole request
 * succeeds; nested first-level A/D updates are second-level writes;
 * non-snooped walks cannot update (0x7C, 0x90); a page overlapping the
 * interrupt range is never translated. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "vtd_fixture.c"

#define SID   0x0500
#define PASID 0x21
#define VA    0x7000000ULL
#define SL_A  HW_FM(SL_PTE, A)
#define SL_D  HW_FM(SL_PTE, D)

static struct vtd_req wreq(uint64_t va, bool write)
{
    return (struct vtd_req){ .sid = SID, .pasid_present = true, .pasid = PASID, .addr = va,
                             .write = write };
}

/* A nested guest: FL (GPA space) mapping VA -> a guest page, PASID entry
 * PGTT=3 with SLADE. Returns the guest page's GPA. */
static uint64_t nested_setup(struct fx *f, struct fx_nest *n, bool slade)
{
    fx_init(f, FX_DEFAULT, NULL, 1);
    struct fx_smctx c = { .paside = true, .dte = true };
    uint64_t dir = fx_ctx_sm(f, SID, &c);
    fx_nest_init(f, n, 4, 4);
    uint64_t gpage = gpa_page_alloc(n->g);
    fx_fl_map(&n->pt, VA, gpage, PT_4K, PTE_RW | PTE_US);
    struct fx_pasid p = { .pgtt = 3, .aw = 2, .slptptr = n->slroot, .flptptr = n->pt.root,
                          .did = 2, .slade = slade };
    fx_pasid_set(f, dir, PASID, &p, false);
    return gpage;
}

/* §3.6: setting A/D in a first-level table is a write through the second
 * level, so the table page's second-level leaf gets A and D (SLADE=1). */
static void test_nested_fl_ad_dirties_table_pages(void **state)
{
    (void)state;
    struct fx f;
    struct fx_nest n;
    uint64_t gpage = nested_setup(&f, &n, true);
    struct vtd_req r = wreq(VA + 8, true);
    assert_int_equal(fx_xl(&f, &r).fault, 0);
    uint64_t pml4_sl = fx_rd(&f, fx_sl_slot(&f, n.slroot, 4, n.pt.root, 1));
    assert_int_equal(pml4_sl & (SL_A | SL_D), SL_A | SL_D);
    uint64_t data_sl = fx_rd(&f, fx_sl_slot(&f, n.slroot, 4, gpage, 1));
    assert_int_equal(data_sl & (SL_A | SL_D), SL_A | SL_D);
    assert_true(fx_fl_get(&n.pt, VA, 1) & PTE_D);
    fx_fini(&f);
}

/* A nested write whose first-level A/D update the second level forbids
 * (0x77) leaves every A/D bit as it was, in both levels (§3.6). */
static void test_failed_nested_write_changes_nothing(void **state)
{
    (void)state;
    struct fx f;
    struct fx_nest n;
    uint64_t gpage = nested_setup(&f, &n, true);
    uint64_t leaf_table = fx_fl_slot(&n.pt, VA, 1) & ~0xFFFULL;
    uint64_t slot = fx_sl_slot(&f, n.slroot, 4, leaf_table, 1);
    fx_clr_bits(&f, slot, SL_W);                       /* FL leaf table read-only in SL */
    struct vtd_req r = wreq(VA, true);
    assert_int_equal(fx_xl(&f, &r).fault, VTD_FR_NEST_FL_AD_WRITE);
    uint64_t data_sl = fx_rd(&f, fx_sl_slot(&f, n.slroot, 4, gpage, 1));
    assert_int_equal(data_sl & (SL_A | SL_D), 0);
    assert_int_equal(fx_fl_get(&n.pt, VA, 4) & PTE_A, 0);
    assert_int_equal(fx_fl_get(&n.pt, VA, 1) & (PTE_A | PTE_D), 0);
    fx_fini(&f);
}

/* A walk whose result lands in the interrupt range sets no A/D bit and
 * caches nothing (§3.3 step 7 before step 8). */
static void test_intr_range_fault_before_ad(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, FX_DEFAULT, NULL, 1);
    struct fx_smctx c = { .paside = true };
    uint64_t dir = fx_ctx_sm(&f, SID, &c);
    struct pt pt;
    fx_fl_init(&pt, phys_view_hpa(f.mem), 4);
    fx_fl_map(&pt, VA, FX_INTR + 0x3000, PT_4K, PTE_RW | PTE_US);
    struct fx_pasid p = { .pgtt = 1, .flptptr = pt.root, .did = 1 };
    fx_pasid_set(&f, dir, PASID, &p, false);
    struct vtd_req r = wreq(VA, true);
    assert_int_equal(fx_xl(&f, &r).fault, VTD_FR_SM_INTR_ADDR);
    assert_int_equal(fx_fl_get(&pt, VA, 1) & (PTE_A | PTE_D), 0);
    assert_int_equal(fx_fl_get(&pt, VA, 4) & PTE_A, 0);
    fx_fini(&f);
}

/* Large pages that contain the interrupt range are never handed out, at
 * any offset; translated requests into the range are blocked too. */
static void test_intr_range_large_pages_and_translated(void **state)
{
    (void)state;
    struct fx f;
    uint64_t sl = 0;
    fx_init(&f, FX_DEFAULT, NULL, 0);
    fx_sl_map(&f, &sl, 4, 0x40000000, FX_INTR, 21, SL_RW);        /* 2M at 0xFEE00000 */
    fx_sl_map(&f, &sl, 4, 0x80000000, 0xC0000000ULL, 30, SL_RW);  /* 1G holding it */
    fx_ctx_legacy(&f, SID, 1, 2, sl, 3, false);
    struct vtd_req r = { .sid = SID, .addr = 0x40000000 + 0x100000 };  /* -> 0xFEF00000 */
    assert_int_equal(fx_xl(&f, &r).fault, VTD_FR_INTR_ADDR);
    r.at = VTD_AT_TRANSLATION;
    assert_int_equal(fx_xl(&f, &r).fault, VTD_FR_INTR_ADDR);
    r = (struct vtd_req){ .sid = SID, .addr = 0x80000000 };
    assert_int_equal(fx_xl(&f, &r).fault, VTD_FR_INTR_ADDR);
    r = (struct vtd_req){ .sid = SID, .addr = FX_INTR + 0x40, .write = true,
                          .at = VTD_AT_TRANSLATED };
    assert_int_equal(fx_xl(&f, &r).fault, VTD_FR_INTR_ADDR);
    r.addr = 0xFEF00000;
    assert_int_equal(fx_xl(&f, &r).fault, 0);
    fx_fini(&f);
}

/* PWSNP = 0: a walk that must set A/D cannot (0x90 first level, 0x7C second
 * level); one that needs no update succeeds. */
static void test_non_snooped_ad(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, FX_DEFAULT, NULL, 1);
    struct fx_smctx c = { .paside = true };
    uint64_t dir = fx_ctx_sm(&f, SID, &c), page = fx_frame(&f), sl = 0;
    struct pt pt;
    fx_fl_init(&pt, phys_view_hpa(f.mem), 4);
    fx_fl_map(&pt, VA, page, PT_4K, PTE_RW | PTE_US);
    struct fx_pasid p = { .pgtt = 1, .flptptr = pt.root, .did = 1, .no_pwsnp = true };
    fx_pasid_set(&f, dir, PASID, &p, false);
    struct vtd_req r = wreq(VA, false);
    assert_int_equal(fx_xl(&f, &r).fault, VTD_FR_FL_AD_NOSNOOP);
    for (int level = 4; level >= 1; level--)
        fx_fl_put(&pt, VA, level, fx_fl_get(&pt, VA, level) | PTE_A);
    assert_int_equal(fx_xl(&f, &r).fault, 0);
    r.write = true;                                              /* D still missing */
    assert_int_equal(fx_xl(&f, &r).fault, VTD_FR_FL_AD_NOSNOOP);
    fx_sl_map(&f, &sl, 4, VA, page, 12, SL_RW);
    struct fx_pasid s = { .pgtt = 2, .aw = 2, .slptptr = sl, .did = 4, .slade = true,
                          .no_pwsnp = true };
    fx_pasid_set(&f, dir, PASID + 1, &s, false);
    r.pasid = PASID + 1;
    assert_int_equal(fx_xl(&f, &r).fault, VTD_FR_SSL_AD_NOSNOOP);
    fx_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_fl_ad_dirties_table_pages),
        cmocka_unit_test(test_failed_nested_write_changes_nothing),
        cmocka_unit_test(test_intr_range_fault_before_ad),
        cmocka_unit_test(test_intr_range_large_pages_and_translated),
        cmocka_unit_test(test_non_snooped_ad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
