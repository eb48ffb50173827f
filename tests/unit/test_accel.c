/* The SVM accelerator (dev/accel.h, dev/accel_regs.h): BAR0 registers and
 * every command with exact memory results, batches fetched from process
 * virtual memory, completion (seqno, INT_STATUS, MSI) and the device TLB.
 * Page requests and invalidation are in accel_faults.c, resets and hostile
 * input in accel_robust.c (companions linked into this binary). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accel_fixture.h"

#define WIN_VA    0x40000000ULL   /* a window of scattered pages */
#define WIN_PAGES 6
#define WIN_SIZE  (WIN_PAGES * PAGE_SIZE)

static uint8_t win_ref[WIN_SIZE], win_got[WIN_SIZE];

static void win_init(struct afx *f, uint8_t seed)
{
    afx_ensure(f, WIN_VA, WIN_SIZE);
    for (unsigned i = 0; i < WIN_SIZE; i++)
        win_ref[i] = (uint8_t)(i * 7 + seed + (i >> 9));
    afx_write(f, WIN_VA, win_ref, WIN_SIZE);
}

static void win_check(struct afx *f, const char *what)
{
    afx_read(f, WIN_VA, win_got, WIN_SIZE);
    for (unsigned i = 0; i < WIN_SIZE; i++)
        if (win_got[i] != win_ref[i])
            fail_msg("%s: byte %#x is %#x, expected %#x", what, i, win_got[i], win_ref[i]);
}

static uint32_t run1(struct afx *f, struct accel_cmd c)
{
    struct accel_cmd b[2] = { c, afx_cmd(ACCEL_OP_END, 0, 1, 0, 0) };
    return afx_run(f, 0, b, 2);
}

/* Waits until the device has sent n MSIs (they follow the status update). */
static void wait_msis(struct afx *f, unsigned n)
{
    struct timespec ts = { 0, 200000 };
    for (unsigned i = 0; afx_nmsi(f) < n; i++) {
        if (i > AFX_HANG_S * 5000u)
            fail_msg("only %u MSIs, expected %u", afx_nmsi(f), n);
        nanosleep(&ts, NULL);
    }
    assert_int_equal(afx_nmsi(f), n);
}

/* ---- registers --------------------------------------------------------------------- */
static void test_mmio_identity_and_junk(void **state)
{
    struct afx *f = *state;
    assert_int_equal(afx_rd(f, ACCEL_REG_MAGIC, 4), ACCEL_MAGIC);
    assert_int_equal(afx_rd(f, ACCEL_REG_VERSION, 4), 1);
    assert_int_equal(afx_rd(f, ACCEL_REG_NCTX, 4), ACCEL_NCTX);
    assert_int_equal(afx_rd(f, ACCEL_REG_CAPS, 4), ACCEL_CAP_ATS | ACCEL_CAP_PRI | ACCEL_CAP_PASID);
    static const struct { uint64_t off; unsigned len; } junk[] = {
        { ACCEL_REG_MAGIC, 1 }, { ACCEL_REG_MAGIC, 2 }, { ACCEL_REG_MAGIC, 3 },
        { ACCEL_REG_MAGIC, 16 }, { ACCEL_REG_MAGIC, 8 }, { 0x002, 4 }, { 0x004, 8 },
        { 0x100, 4 }, { 0xFFC, 4 }, { 0x10FC, 4 }, { 0x2000, 4 }, { 0xFFF8, 8 },
        { ACCEL_BAR0_SIZE, 4 }, { 1ULL << 40, 8 }, { ~0ULL - 3, 4 },
    };
    for (unsigned i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        afx_wr(f, junk[i].off, junk[i].len, ~0ULL);
        assert_int_equal(afx_rd(f, junk[i].off, junk[i].len), 0);
    }
    assert_int_equal(afx_rd(f, ACCEL_REG_MAGIC, 4), ACCEL_MAGIC);
    /* 64-bit registers: 8-byte and 4-byte halves. */
    uint64_t b = afx_creg(3, ACCEL_CTX_BATCH);
    afx_wr(f, b, 4, 0x89ABCDEF);
    afx_wr(f, b + 4, 4, 0x01234567);
    assert_int_equal(afx_rd(f, b, 8), 0x0123456789ABCDEFULL);
    assert_int_equal(afx_rd(f, b + 4, 4), 0x01234567);
    afx_wr(f, b, 8, 0xFEDCBA9876543210ULL);
    assert_int_equal(afx_rd(f, b, 4), 0x76543210);
    /* Masks, RO and WO registers. */
    afx_wr(f, afx_creg(3, ACCEL_CTX_PASID), 4, 0xFFFFFFFF);
    assert_int_equal(afx_rd(f, afx_creg(3, ACCEL_CTX_PASID), 4), 0xFFFFF);
    afx_wr(f, afx_creg(3, ACCEL_CTX_CTRL), 4, 0x7FFFFFF8);
    assert_int_equal(afx_rd(f, afx_creg(3, ACCEL_CTX_CTRL), 4), 0);
    afx_wr(f, afx_creg(3, ACCEL_CTX_STATUS), 4, 0x404);
    assert_int_equal(afx_rd(f, afx_creg(3, ACCEL_CTX_STATUS), 4), AFX_ST(ACCEL_ST_IDLE, 0));
    afx_wr(f, afx_creg(3, ACCEL_CTX_SEQNO), 8, 55);
    assert_int_equal(afx_rd(f, afx_creg(3, ACCEL_CTX_SEQNO), 8), 0);
    assert_int_equal(afx_rd(f, afx_creg(3, ACCEL_CTX_DOORBELL), 4), 0);
    assert_int_equal(afx_rd(f, ACCEL_REG_ATC_FLUSH, 4), 0);
    afx_wr(f, ACCEL_REG_INT_MASK, 4, 0xFFFFFFFF);
    assert_int_equal(afx_rd(f, ACCEL_REG_INT_MASK, 4), (1u << ACCEL_NCTX) - 1);
    assert_int_equal(afx_rd(f, ACCEL_REG_ATC_STATS, 8), 0);
    assert_int_equal(afx_nmsi(f), 0);
}

/* ---- commands -------------------------------------------------------------------------- */
static void test_store_dword(void **state)
{
    struct afx *f = *state;
    win_init(f, 1);
    struct accel_cmd b[] = {
        afx_cmd(ACCEL_OP_STORE_DWORD, 0xA5A5F00D, WIN_VA + 0x10, 0, 0),
        afx_cmd(ACCEL_OP_NOP, 0, 0, 0, 0),
        afx_cmd(ACCEL_OP_STORE_DWORD, 0x11223344, WIN_VA + 2 * PAGE_SIZE - 2, 0, 0),  /* crosses */
        afx_cmd(ACCEL_OP_STORE_DWORD, 0xCAFEBABE, WIN_VA + 3 * PAGE_SIZE + 1, 0, 0), /* odd */
        afx_cmd(ACCEL_OP_END, 0, 9, 0, 0),
    };
    assert_int_equal(afx_run(f, 0, b, 5), AFX_ST(ACCEL_ST_DONE, 0));
    memcpy(win_ref + 0x10, "\x0D\xF0\xA5\xA5", 4);
    memcpy(win_ref + 2 * PAGE_SIZE - 2, "\x44\x33\x22\x11", 4);
    memcpy(win_ref + 3 * PAGE_SIZE + 1, "\xBE\xBA\xFE\xCA", 4);
    win_check(f, "STORE_DWORD");
    assert_int_equal(afx_rd(f, afx_creg(0, ACCEL_CTX_CMDS), 8), 5);
}

/* COPY is memmove (b <- a, c bytes), whatever the overlap and alignment. */
static void test_copy(void **state)
{
    struct afx *f = *state;
    static const struct { uint64_t src, dst, len; } cs[] = {
        { 0, 0x3000, 64 }, { 0x10, 0x2FF8, 0x20 }, { 0x0FF0, 0x5000 - 0x800, 0x800 },
        { 0x123, 0x2468, 3 * PAGE_SIZE - 0x501 },
        { 0x1000, 0x1100, 0x2000 },   /* overlap, destination above */
        { 0x1100, 0x1000, 0x2000 }, { 0x2001, 0x2001, 0x1800 }, { 0x0, 0x7, 0x5000 },
        { 0x7, 0x0, 0x5000 }, { 0x4000, 0x0, 0 },
    };
    for (unsigned i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
        win_init(f, (uint8_t)(i * 31));
        assert_int_equal(run1(f, afx_cmd(ACCEL_OP_COPY, 0, WIN_VA + cs[i].src, WIN_VA + cs[i].dst,
                                         cs[i].len)),
                         AFX_ST(ACCEL_ST_DONE, 0));
        memmove(win_ref + cs[i].dst, win_ref + cs[i].src, cs[i].len);
        win_check(f, "COPY");
    }
}

/* FILL: byte k from a is byte (k mod 8) of the little-endian pattern. */
static void test_fill(void **state)
{
    struct afx *f = *state;
    static const struct { uint64_t off, len, pat; } cs[] = {
        { 0, 8, 0x0807060504030201ULL }, { 3, 13, 0x1122334455667788ULL },
        { 0xFFD, 0x1006, 0xA0B0C0D0E0F00102ULL }, { 0x800, 4 * PAGE_SIZE, 0x5A5A5A5AA5A5A5A5ULL },
        { 0x1234, 1, 0xEE }, { 0x2000, 0, 0x77 },
    };
    for (unsigned i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
        win_init(f, (uint8_t)(i * 17));
        assert_int_equal(run1(f, afx_cmd(ACCEL_OP_FILL, 0, WIN_VA + cs[i].off, cs[i].pat,
                                         cs[i].len)),
                         AFX_ST(ACCEL_ST_DONE, 0));
        for (uint64_t k = 0; k < cs[i].len; k++)
            win_ref[cs[i].off + k] = (uint8_t)(cs[i].pat >> (8 * (k % 8)));
        win_check(f, "FILL");
    }
}

/* CHASE with next at +8 and value at +24 (arg = 8 | 24 << 16), nodes in
 * different pages; the result {sum, count} at b. */
static void test_chase(void **state)
{
    struct afx *f = *state;
    const uint32_t arg = 8 | 24 << 16;
    uint64_t node[5], sum = 0;
    win_init(f, 3);
    for (unsigned i = 0; i < 5; i++)
        node[i] = WIN_VA + ((i * 3) % WIN_PAGES) * PAGE_SIZE + 0x100 + 0x40 * i;
    for (unsigned i = 0; i < 5; i++) {
        uint64_t next = i < 4 ? node[i + 1] : 0, val = 1000ULL * (i + 1) + i;
        afx_write(f, node[i] + 8, &next, 8);
        afx_write(f, node[i] + 24, &val, 8);
        sum += val;
    }
    uint64_t out = WIN_VA + 5 * PAGE_SIZE + 0xF00, res[2];
    assert_int_equal(run1(f, afx_cmd(ACCEL_OP_CHASE, arg, node[0], out, 5)),
                     AFX_ST(ACCEL_ST_DONE, 0));
    afx_read(f, out, res, 16);
    assert_int_equal(res[0], sum);
    assert_int_equal(res[1], 5);
    assert_int_equal(run1(f, afx_cmd(ACCEL_OP_CHASE, arg, 0, out, 0)), AFX_ST(ACCEL_ST_DONE, 0));
    afx_read(f, out, res, 16);
    assert_int_equal(res[0], 0);
    assert_int_equal(res[1], 0);
    /* One node more than c: an error at the command. */
    assert_int_equal(run1(f, afx_cmd(ACCEL_OP_CHASE, arg, node[0], out, 4)),
                     AFX_ST(ACCEL_ST_ERROR, ACCEL_ERR_BAD_COMMAND));
    assert_int_equal(afx_rd(f, afx_creg(0, ACCEL_CTX_ERROR_VA), 8), AFX_BATCH_VA);
    /* A cycle, however large c (the device finds it, it does not walk 2^64
     * nodes); a self-loop too. */
    afx_write(f, node[4] + 8, &node[1], 8);
    assert_int_equal(run1(f, afx_cmd(ACCEL_OP_CHASE, arg, node[0], out, ~0ULL)),
                     AFX_ST(ACCEL_ST_ERROR, ACCEL_ERR_BAD_COMMAND));
    afx_write(f, node[0] + 8, &node[0], 8);
    assert_int_equal(run1(f, afx_cmd(ACCEL_OP_CHASE, arg, node[0], out, ~0ULL)),
                     AFX_ST(ACCEL_ST_ERROR, ACCEL_ERR_BAD_COMMAND));
    assert_int_equal(afx_rd(f, afx_creg(0, ACCEL_CTX_ERROR_VA), 8), AFX_BATCH_VA);
}

/* END: seqno to COMPL_VA, SEQNO, INT_STATUS, one MSI unless masked or MSI
 * disabled (MSIs are ordered, so a later unmasked batch proves that no MSI
 * came for the masked one). */
static void test_end_completion_and_msi(void **state)
{
    struct afx *f = *state;
    uint64_t cv = 0x30000000ULL;
    afx_ensure(f, cv, 8);
    afx_ctx(f, 2, AFX_PASID, cv);
    struct accel_cmd b[] = { afx_cmd(ACCEL_OP_NOP, 0, 0, 0, 0), afx_cmd(ACCEL_OP_NOP, 0, 0, 0, 0),
                             afx_cmd(ACCEL_OP_END, 0, 0x1234, 0, 0) };
    assert_int_equal(afx_run(f, 2, b, 3), AFX_ST(ACCEL_ST_DONE, 0));
    assert_int_equal(afx_rd64(f, cv), 0x1234);
    assert_int_equal(afx_rd(f, afx_creg(2, ACCEL_CTX_SEQNO), 8), 0x1234);
    assert_int_equal(afx_rd(f, afx_creg(2, ACCEL_CTX_CMDS), 8), 3);
    assert_int_equal(afx_rd(f, ACCEL_REG_INT_STATUS, 4), 1u << 2);
    wait_msis(f, 1);
    afx_wr(f, ACCEL_REG_INT_STATUS, 4, 1u << 2);
    assert_int_equal(afx_rd(f, ACCEL_REG_INT_STATUS, 4), 0);
    afx_wr(f, ACCEL_REG_INT_MASK, 4, 1u << 2);
    b[2].a = 0x1235;
    assert_int_equal(afx_run(f, 2, b, 3), AFX_ST(ACCEL_ST_DONE, 0));
    assert_int_equal(afx_rd(f, ACCEL_REG_INT_STATUS, 4), 1u << 2);
    accel_set_msi(f->dev, false, AFX_MSI_ADDR, AFX_MSI_DATA);
    afx_wr(f, ACCEL_REG_INT_MASK, 4, 0);
    b[2].a = 0x1236;
    assert_int_equal(afx_run(f, 2, b, 3), AFX_ST(ACCEL_ST_DONE, 0));
    accel_set_msi(f->dev, true, AFX_MSI_ADDR, AFX_MSI_DATA);
    afx_wr(f, afx_creg(2, ACCEL_CTX_COMPL_VA), 8, 0);
    b[2].a = 0x1237;
    assert_int_equal(afx_run(f, 2, b, 3), AFX_ST(ACCEL_ST_DONE, 0));
    wait_msis(f, 2);
    assert_int_equal(afx_rd64(f, cv), 0x1236);      /* COMPL_VA 0: nothing written */
    assert_int_equal(afx_rd(f, afx_creg(2, ACCEL_CTX_SEQNO), 8), 0x1237);
    assert_int_equal(afx_stats(f).batches, 4);
}

/* The batch is read through the IOMMU like data: a command straddling two
 * pages backed by unrelated frames. */
static void test_batch_from_va(void **state)
{
    struct afx *f = *state;
    uint64_t va = 0x20000000ULL + PAGE_SIZE - 80;
    win_init(f, 5);
    struct accel_cmd b[5];
    for (unsigned i = 0; i < 4; i++)
        b[i] = afx_cmd(ACCEL_OP_STORE_DWORD, 0x100 + i, WIN_VA + 4 * i, 0, 0);
    b[4] = afx_cmd(ACCEL_OP_END, 0, 7, 0, 0);
    afx_submit(f, 1, va, b, 5);
    assert_true(afx_hpa(f, va + 80) != afx_hpa(f, va) + 80);
    assert_int_equal(afx_wait(f, 1), AFX_ST(ACCEL_ST_DONE, 0));
    for (unsigned i = 0; i < 4; i++)
        memcpy(win_ref + 4 * i, &(uint32_t){ 0x100 + i }, 4);
    win_check(f, "batch across pages");
}

/* First touch misses (ATS request), the next batch hits; ATC_FLUSH empties
 * the device TLB. */
static void test_atc_hits(void **state)
{
    struct afx *f = *state;
    win_init(f, 0);
    struct accel_stats s0 = afx_stats(f);
    assert_int_equal(run1(f, afx_cmd(ACCEL_OP_STORE_DWORD, 1, WIN_VA, 0, 0)),
                     AFX_ST(ACCEL_ST_DONE, 0));
    struct accel_stats s1 = afx_stats(f);
    assert_int_equal(s1.atc_misses - s0.atc_misses, 2);        /* batch page, data page */
    assert_int_equal(s1.ats_requests - s0.ats_requests, 2);
    assert_int_equal(run1(f, afx_cmd(ACCEL_OP_STORE_DWORD, 2, WIN_VA + 8, 0, 0)),
                     AFX_ST(ACCEL_ST_DONE, 0));
    struct accel_stats s2 = afx_stats(f);
    assert_int_equal(s2.atc_misses, s1.atc_misses);
    assert_int_equal(s2.atc_hits - s1.atc_hits, 3);            /* 2 fetches + 1 store */
    uint64_t reg = afx_rd(f, ACCEL_REG_ATC_STATS, 8);
    assert_int_equal(reg & 0xFFFFFFFF, s2.atc_hits);
    assert_int_equal(reg >> 32, s2.atc_misses);
    assert_int_equal(accel_atc_entries(f->dev), 2);
    afx_wr(f, ACCEL_REG_ATC_FLUSH, 4, 1);
    assert_int_equal(accel_atc_entries(f->dev), 0);
    assert_int_equal(run1(f, afx_cmd(ACCEL_OP_STORE_DWORD, 3, WIN_VA, 0, 0)),
                     AFX_ST(ACCEL_ST_DONE, 0));
    assert_int_equal(afx_stats(f).atc_misses - s2.atc_misses, 2);
}

/* A device TLB smaller than the working set (6 entries: one set of 4 ways)
 * keeps at most its size, evicts, and the results stay exact. */
#define SET_VA    0x50000000ULL
#define SET_PAGES 16u
static void test_atc_small_table(void **state)
{
    (void)state;
    struct afx f;
    struct afx_opts o = { .atc_entries = 6 };
    afx_init(&f, &o);
    afx_ensure(&f, SET_VA, SET_PAGES * PAGE_SIZE);
    for (unsigned rep = 0; rep < 2; rep++) {
        uint64_t pat = 0x0102030405060708ULL + rep;
        struct accel_stats s0 = afx_stats(&f);
        assert_int_equal(run1(&f, afx_cmd(ACCEL_OP_FILL, 0, SET_VA, pat, SET_PAGES * PAGE_SIZE)),
                         AFX_ST(ACCEL_ST_DONE, 0));
        assert_true(afx_stats(&f).atc_misses - s0.atc_misses >= SET_PAGES);
        assert_true(accel_atc_entries(f.dev) <= 4);
        for (unsigned i = 0; i < SET_PAGES * PAGE_SIZE / 8; i += 61)
            assert_int_equal(afx_rd64(&f, SET_VA + 8ULL * i), pat);
    }
    /* Two pages (batch, data) fit: the second store hits on both. */
    assert_int_equal(run1(&f, afx_cmd(ACCEL_OP_STORE_DWORD, 1, SET_VA, 0, 0)),
                     AFX_ST(ACCEL_ST_DONE, 0));
    struct accel_stats s1 = afx_stats(&f);
    assert_int_equal(run1(&f, afx_cmd(ACCEL_OP_STORE_DWORD, 2, SET_VA + 4, 0, 0)),
                     AFX_ST(ACCEL_ST_DONE, 0));
    assert_int_equal(afx_stats(&f).atc_misses, s1.atc_misses);
    assert_int_equal(afx_rd64(&f, SET_VA), 0x0000000200000001ULL);
    afx_fini(&f);
}

/* Range invalidation in the default (large, hashed) device TLB: a small
 * range drops exactly its pages, another PASID's range nothing, a global
 * request every PASID's entries of the range, the whole space the rest. */
#define INV_VA    0x60000000ULL
#define INV_PAGES 64u
static void test_atc_range_invalidation(void **state)
{
    struct afx *f = *state;
    uint64_t d[1][4];
    afx_ensure(f, INV_VA, INV_PAGES * PAGE_SIZE);
    assert_int_equal(run1(f, afx_cmd(ACCEL_OP_FILL, 0, INV_VA, 0x1111, INV_PAGES * PAGE_SIZE)),
                     AFX_ST(ACCEL_ST_DONE, 0));
    assert_int_equal(accel_atc_entries(f->dev), INV_PAGES + 1);   /* + the batch page */
    struct accel_stats s0 = afx_stats(f);
    /* Four pages at INV_VA + 16 KiB: S=1, ADDR bit 12 set, bit 13 clear. */
    afx_d_pdevtlb(d[0], AFX_PASID, INV_VA + 0x4000 + 0x1000, true, false);
    assert_true(afx_qi(f, d, 1));
    assert_int_equal(afx_stats(f).inv_dropped - s0.inv_dropped, 4);
    assert_int_equal(accel_atc_entries(f->dev), INV_PAGES + 1 - 4);
    afx_d_pdevtlb(d[0], AFX_PASID + 1, INV_VA + 0x10000, false, false);
    assert_true(afx_qi(f, d, 1));
    assert_int_equal(afx_stats(f).inv_dropped - s0.inv_dropped, 4);
    afx_d_pdevtlb(d[0], AFX_PASID + 1, INV_VA + 0x10000, false, true);
    assert_true(afx_qi(f, d, 1));
    assert_int_equal(afx_stats(f).inv_dropped - s0.inv_dropped, 5);
    assert_int_equal(accel_atc_entries(f->dev), INV_PAGES + 1 - 5);
    /* Only the dropped pages miss when the FILL runs again. */
    struct accel_stats s1 = afx_stats(f);
    assert_int_equal(run1(f, afx_cmd(ACCEL_OP_FILL, 0, INV_VA, 0x2222, INV_PAGES * PAGE_SIZE)),
                     AFX_ST(ACCEL_ST_DONE, 0));
    assert_int_equal(afx_stats(f).atc_misses - s1.atc_misses, 5);
    assert_true(afx_inv_all(f));
    assert_int_equal(accel_atc_entries(f->dev), 0);
    assert_int_equal(afx_stats(f).inv_dropped - s0.inv_dropped, 5 + INV_PAGES + 1);
    for (unsigned i = 0; i < INV_PAGES; i++)
        assert_int_equal(afx_rd64(f, INV_VA + i * PAGE_SIZE + 8), 0x2222);
}

static const struct CMUnitTest basic_tests[] = {
    cmocka_unit_test_setup_teardown(test_mmio_identity_and_junk, afx_setup, afx_teardown),
    cmocka_unit_test_setup_teardown(test_store_dword, afx_setup, afx_teardown),
    cmocka_unit_test_setup_teardown(test_copy, afx_setup, afx_teardown),
    cmocka_unit_test_setup_teardown(test_fill, afx_setup, afx_teardown),
    cmocka_unit_test_setup_teardown(test_chase, afx_setup, afx_teardown),
    cmocka_unit_test_setup_teardown(test_end_completion_and_msi, afx_setup, afx_teardown),
    cmocka_unit_test_setup_teardown(test_batch_from_va, afx_setup, afx_teardown),
    cmocka_unit_test_setup_teardown(test_atc_hits, afx_setup, afx_teardown),
    cmocka_unit_test(test_atc_small_table),
    cmocka_unit_test_setup_teardown(test_atc_range_invalidation, afx_setup, afx_teardown),
};

/* One group, so that the summary line counts every test. */
int main(void)
{
    const struct { const struct CMUnitTest *t; size_t n; } groups[] = {
        { basic_tests, sizeof(basic_tests) / sizeof(basic_tests[0]) },
        { accel_fault_tests, accel_fault_ntests },
        { accel_robust_tests, accel_robust_ntests },
    };
    size_t total = 0, k = 0;
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
        total += groups[g].n;
    struct CMUnitTest *all = calloc(total, sizeof(*all));
    assert_non_null(all);
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
        for (size_t i = 0; i < groups[g].n; i++)
            all[k++] = groups[g].t[i];
    int rc = _cmocka_run_group_tests("accel", all, total, NULL, NULL);
    free(all);
    return rc;
}
