/* The accelerator's recoverable faults and device TLB (vtd-reference.md §6,
 * §7): page requests served by the test's OS thread and retried, refused
 * requests, blocked translations, device-TLB invalidation through the
 * unit's queue, and invalidation racing with a long FILL. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/hw_regs.h"
#include "accel_fixture.h"

#define DATA_VA 0x60000000ULL
#define PRI_RETRIES 4     /* the device's bound on requests for one access */

static uint32_t store(struct afx *f, unsigned ctx, uint64_t va, uint32_t v)
{
    struct accel_cmd b[2] = { afx_cmd(ACCEL_OP_STORE_DWORD, v, va, 0, 0),
                              afx_cmd(ACCEL_OP_END, 0, 1, 0, 0) };
    return afx_run(f, ctx, b, 2);
}

static uint32_t rd32(struct afx *f, uint64_t hpa)
{
    uint32_t v = 0;
    assert_int_equal(mem_read32(f->mem, hpa, &v), 0);
    return v;
}

/* A store to an unmapped page: one page request (PASID, write, LPIG), the
 * OS maps the page and answers Success, the device retries and completes. */
static void test_fault_served(void **state)
{
    struct afx *f = *state;
    afx_ensure(f, AFX_BATCH_VA, 64);
    assert_int_equal(store(f, 0, DATA_VA + 0x44, 0xBEEF), AFX_ST(ACCEL_ST_DONE, 0));
    assert_int_equal(rd32(f, afx_hpa(f, DATA_VA + 0x44)), 0xBEEF);
    assert_int_equal(afx_nreq(f), 1);
    struct afx_req r = afx_req(f, 0);
    assert_int_equal(r.addr, DATA_VA);
    assert_true(r.pp && r.wr && r.rd && r.lpig && !r.priv);
    assert_int_equal(r.pasid, AFX_PASID);
    assert_int_equal(r.rid, AFX_SID);
    assert_int_equal(afx_rd(f, afx_creg(0, ACCEL_CTX_PRQS), 8), 1);
    struct accel_stats s = afx_stats(f);
    assert_int_equal(s.page_requests, 1);
    assert_int_equal(s.page_responses, 1);
    assert_int_equal(s.responses_unexpected + s.responses_late, 0);
}

/* Read-only page: the ATS completion has no write right, the device asks
 * for write access, the OS upgrades the PTE (and the IOTLB). COPY from an
 * unmapped source asks for read access only. */
static void test_fault_rights(void **state)
{
    struct afx *f = *state;
    uint64_t hpa = afx_map(f, DATA_VA, PTE_US);
    assert_int_equal(store(f, 0, DATA_VA + 8, 0x5151), AFX_ST(ACCEL_ST_DONE, 0));
    assert_int_equal(rd32(f, hpa + 8), 0x5151);
    assert_int_equal(afx_nreq(f), 1);
    assert_true(afx_req(f, 0).wr);
    struct accel_cmd b[2] = { afx_cmd(ACCEL_OP_COPY, 0, DATA_VA + 0x10000, DATA_VA + 0x20000, 16),
                              afx_cmd(ACCEL_OP_END, 0, 1, 0, 0) };
    assert_int_equal(afx_run(f, 0, b, 2), AFX_ST(ACCEL_ST_DONE, 0));
    assert_int_equal(afx_nreq(f), 3);
    struct afx_req r1 = afx_req(f, 1), r2 = afx_req(f, 2);
    assert_int_equal(r1.addr, DATA_VA + 0x10000);
    assert_true(r1.rd && !r1.wr);
    assert_int_equal(r2.addr, DATA_VA + 0x20000);
    assert_true(r2.wr);
}

/* Invalid Request: the batch stops with PAGE_FAULT at the exact address. */
static void test_fault_invalid(void **state)
{
    struct afx *f = *state;
    afx_policy(f, AFX_INVALID);
    afx_ensure(f, AFX_BATCH_VA, 64);
    assert_int_equal(store(f, 0, DATA_VA + 0x123, 1), AFX_ST(ACCEL_ST_ERROR, ACCEL_ERR_PAGE_FAULT));
    assert_int_equal(afx_rd(f, afx_creg(0, ACCEL_CTX_ERROR_VA), 8), DATA_VA + 0x123);
    assert_int_equal(afx_rd(f, ACCEL_REG_INT_STATUS, 4), 1);
    assert_int_equal(afx_nreq(f), 1);
    assert_int_equal(afx_hpa(f, DATA_VA), HPA_INVALID);
}

/* Success without the page made present: asked again, a bounded number of
 * times, then PAGE_FAULT. */
static void test_fault_success_not_present(void **state)
{
    struct afx *f = *state;
    afx_policy(f, AFX_SUCCESS);
    afx_ensure(f, AFX_BATCH_VA, 64);
    assert_int_equal(store(f, 0, DATA_VA, 1), AFX_ST(ACCEL_ST_ERROR, ACCEL_ERR_PAGE_FAULT));
    assert_int_equal(afx_nreq(f), PRI_RETRIES);
    assert_int_equal(afx_rd(f, afx_creg(0, ACCEL_CTX_PRQS), 8), PRI_RETRIES);
    assert_int_equal(afx_stats(f).page_responses, PRI_RETRIES);
}

/* Response Failure: PAGE_FAULT, PRI status RF; no page request until
 * software clears RF. */
static void test_fault_response_failure(void **state)
{
    struct afx *f = *state;
    afx_policy(f, AFX_FAILURE);
    afx_ensure(f, AFX_BATCH_VA, 64);
    assert_int_equal(store(f, 0, DATA_VA, 1), AFX_ST(ACCEL_ST_ERROR, ACCEL_ERR_PAGE_FAULT));
    assert_int_equal(accel_pri_status(f->dev), ACCEL_PRI_ST_RF);
    afx_policy(f, AFX_MAP);
    assert_int_equal(store(f, 0, DATA_VA, 2), AFX_ST(ACCEL_ST_ERROR, ACCEL_ERR_PAGE_FAULT));
    assert_int_equal(afx_nreq(f), 1);
    accel_pri_status_clear(f->dev, ACCEL_PRI_ST_RF);
    assert_int_equal(accel_pri_status(f->dev), 0);
    assert_int_equal(store(f, 0, DATA_VA, 3), AFX_ST(ACCEL_ST_DONE, 0));
    assert_int_equal(afx_nreq(f), 2);
}

/* A PASID without a PASID entry: the translation is blocked by the
 * structures (non-recoverable, recorded by the unit), the device gets
 * Unsupported Request on the batch fetch. */
static void test_unsupported(void **state)
{
    struct afx *f = *state;
    afx_ctx(f, 4, AFX_NOPASID, 0);
    afx_ensure(f, AFX_BATCH_VA + 4 * 0x100000ULL, 64);
    assert_int_equal(store(f, 4, DATA_VA, 1), AFX_ST(ACCEL_ST_ERROR, ACCEL_ERR_UNSUPPORTED));
    assert_int_equal(afx_rd(f, afx_creg(4, ACCEL_CTX_ERROR_VA), 8), AFX_BATCH_VA + 4 * 0x100000ULL);
    assert_true(afx_unit_rd(f, REG_OFF_FSTS) & HW_FM(FSTS, PPF));
    assert_int_equal(afx_nreq(f), 0);
}

/* The device TLB serves a stale translation until a device-TLB invalidation
 * that covers it: not the IOTLB invalidation, not the non-PASID form, not
 * another PASID's; a PASID one with a range (S=1) does. */
static void test_devtlb_invalidation(void **state)
{
    struct afx *f = *state;
    uint64_t p1 = afx_map(f, DATA_VA + PAGE_SIZE, AFX_USER), p2 = mem_frame_alloc(f->mem), d[2][4];
    assert_int_equal(store(f, 0, DATA_VA + PAGE_SIZE, 1), AFX_ST(ACCEL_ST_DONE, 0));
    afx_unmap(f, DATA_VA + PAGE_SIZE);
    afx_map_at(f, DATA_VA + PAGE_SIZE, p2, PT_4K, AFX_USER);
    afx_d_piotlb(d[0], DATA_VA + PAGE_SIZE, 0);
    assert_true(afx_qi(f, d, 1));
    assert_int_equal(store(f, 0, DATA_VA + PAGE_SIZE, 2), AFX_ST(ACCEL_ST_DONE, 0));
    memset(d[0], 0, 32);
    HW_SET(INV_DEVTLB, TYPE_LO, d[0], INV_TYPE_DEVTLB);
    HW_SET(INV_DEVTLB, SID, d[0], AFX_SID);
    HW_SET(INV_DEVTLB, ADDR, d[0], (DATA_VA + PAGE_SIZE) >> 12);
    afx_d_pdevtlb(d[1], AFX_PASID + 1, DATA_VA + PAGE_SIZE, false, false);
    assert_true(afx_qi(f, d, 2));
    assert_int_equal(store(f, 0, DATA_VA + PAGE_SIZE, 3), AFX_ST(ACCEL_ST_DONE, 0));
    assert_int_equal(rd32(f, p1), 3);
    assert_int_equal(rd32(f, p2), 0);
    struct accel_stats s0 = afx_stats(f);
    assert_int_equal(s0.invalidations, 2);
    assert_int_equal(s0.inv_dropped, 0);
    /* Two pages from DATA_VA: ADDR bit 12 clear, S=1 (§4.5 size encoding). */
    afx_d_pdevtlb(d[0], AFX_PASID, DATA_VA, true, false);
    assert_true(afx_qi(f, d, 1));
    assert_int_equal(store(f, 0, DATA_VA + PAGE_SIZE, 4), AFX_ST(ACCEL_ST_DONE, 0));
    assert_int_equal(rd32(f, p1), 3);
    assert_int_equal(rd32(f, p2), 4);
    struct accel_stats s1 = afx_stats(f);
    assert_int_equal(s1.inv_dropped, 1);
    assert_int_equal(s1.atc_misses - s0.atc_misses, 1);
}

/* The guarantee: a page unmapped and invalidated (PASID-IOTLB + device-TLB
 * + wait) while a long FILL runs never receives a write afterwards. The
 * test follows the FILL by the dirty bits the unit sets in the process page
 * table and takes away the page being written and the next one; it marks
 * each old frame right after the invalidation completed and checks the
 * marks after the FILL (TSan also sees any such write as a race). Pages the
 * device had not finished are faulted in again through PRI. */
#define FILL_VA    0x70000000ULL
#define FILL_PAGES 1024u

struct race {
    uint64_t old[FILL_PAGES];
    bool victim[FILL_PAGES];
    unsigned nvictims;
};

static bool dirty(struct afx *f, unsigned i)
{
    uint64_t pte = 0;
    enum pt_page_size sz;
    pthread_mutex_lock(&f->mm_lock);
    int rc = pt_lookup(&f->mm, FILL_VA + i * PAGE_SIZE, &pte, &sz);
    pthread_mutex_unlock(&f->mm_lock);
    return rc == 0 && (pte & PTE_D);
}

static void take_away(struct afx *f, struct race *r, unsigned i)
{
    if (i >= FILL_PAGES || r->victim[i])
        return;
    afx_unmap(f, FILL_VA + i * PAGE_SIZE);
    assert_true(afx_inv_page(f, FILL_VA + i * PAGE_SIZE));
    memset(mem_ptr(f->mem, r->old[i], PAGE_SIZE), 0xEE, PAGE_SIZE);
    r->victim[i] = true;
    r->nvictims++;
}

static void race_check(struct afx *f, struct race *r, uint64_t pat)
{
    for (unsigned i = 0; i < FILL_PAGES; i++) {
        const uint8_t *o = mem_ptr(f->mem, r->old[i], PAGE_SIZE);
        uint64_t now = afx_hpa(f, FILL_VA + i * PAGE_SIZE);
        for (unsigned k = 0; r->victim[i] && k < PAGE_SIZE; k++)
            if (o[k] != 0xEE)
                fail_msg("page %u: byte %u of the old frame written after its invalidation", i, k);
        if (now == HPA_INVALID) {
            afx_map(f, FILL_VA + i * PAGE_SIZE, AFX_USER);   /* the device was done with it */
            continue;
        }
        const uint8_t *p = mem_ptr(f->mem, now, PAGE_SIZE);
        for (unsigned k = 0; k < PAGE_SIZE; k++)
            if (p[k] != (uint8_t)(pat >> (8 * (k % 8))))
                fail_msg("page %u byte %u not filled", i, k);
    }
}

static void test_unmap_during_fill(void **state)
{
    struct afx *f = *state;
    struct race *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    afx_ensure(f, AFX_BATCH_VA, 64);
    for (unsigned round = 0; round < 4; round++) {
        uint64_t pat = 0x0123456789ABCDEFULL + round;
        memset(r, 0, sizeof(*r));
        for (unsigned i = 0; i < FILL_PAGES; i++) {
            uint64_t va = FILL_VA + i * PAGE_SIZE;
            if (round)
                afx_unmap(f, va);          /* fresh frames, clean dirty bits */
            r->old[i] = afx_map(f, va, AFX_USER);
        }
        assert_true(afx_inv_all(f));
        struct accel_cmd b[2] = { afx_cmd(ACCEL_OP_FILL, 0, FILL_VA, pat, FILL_PAGES * PAGE_SIZE),
                                  afx_cmd(ACCEL_OP_END, 0, round, 0, 0) };
        afx_submit(f, 0, AFX_BATCH_VA, b, 2);
        for (unsigned next = 0; next < FILL_PAGES;) {
            unsigned from = next;
            while (next < FILL_PAGES && dirty(f, next))
                next++;
            if (next > from) {
                take_away(f, r, next - 1);
                take_away(f, r, next + round % 2);
            } else {
                uint64_t st = afx_rd(f, afx_creg(0, ACCEL_CTX_STATUS), 4) & 0xFF;
                if (st != ACCEL_ST_RUNNING && st != ACCEL_ST_PAGE_WAIT)
                    break;
            }
        }
        assert_int_equal(afx_wait(f, 0), AFX_ST(ACCEL_ST_DONE, 0));
        race_check(f, r, pat);
    }
    free(r);
}

/* While a context waits for a page, the engine runs the others. */
static void test_other_context_runs_during_page_wait(void **state)
{
    struct afx *f = *state;
    afx_ctx(f, 5, AFX_PASID, 0);
    afx_ensure(f, DATA_VA + 0x100000, 8);
    afx_policy(f, AFX_HOLD);
    struct accel_cmd b[2] = { afx_cmd(ACCEL_OP_STORE_DWORD, 0xAAAA, DATA_VA, 0, 0),
                              afx_cmd(ACCEL_OP_END, 0, 1, 0, 0) };
    afx_submit(f, 0, AFX_BATCH_VA, b, 2);
    afx_wait_nreq(f, 1);
    afx_wait_state(f, 0, ACCEL_ST_PAGE_WAIT);
    assert_int_equal(store(f, 5, DATA_VA + 0x100000, 0xBBBB), AFX_ST(ACCEL_ST_DONE, 0));
    assert_int_equal(afx_rd(f, afx_creg(0, ACCEL_CTX_STATUS), 4), AFX_ST(ACCEL_ST_PAGE_WAIT, 0));
    assert_int_equal(afx_release(f, VTD_PRG_SUCCESS, true), 1);
    assert_int_equal(afx_wait(f, 0), AFX_ST(ACCEL_ST_DONE, 0));
    assert_int_equal(rd32(f, afx_hpa(f, DATA_VA)), 0xAAAA);
}

/* PRI allocation 1: a second context that faults while the only PRG index
 * is taken sends nothing until that index is free again. */
static void test_pri_allocation_limit(void **state)
{
    (void)state;
    struct afx *f = calloc(1, sizeof(*f));
    struct afx_opts o = { .pri_alloc = 1 };
    afx_init(f, &o);
    afx_policy(f, AFX_HOLD);
    afx_ensure(f, AFX_BATCH_VA, 2ULL << 20);
    struct accel_cmd b[2] = { afx_cmd(ACCEL_OP_STORE_DWORD, 0xA0, DATA_VA, 0, 0),
                              afx_cmd(ACCEL_OP_END, 0, 1, 0, 0) };
    afx_submit(f, 0, AFX_BATCH_VA, b, 2);
    afx_wait_nreq(f, 1);
    afx_wait_state(f, 0, ACCEL_ST_PAGE_WAIT);
    b[0] = afx_cmd(ACCEL_OP_STORE_DWORD, 0xA1, DATA_VA + PAGE_SIZE, 0, 0);
    afx_submit(f, 1, AFX_BATCH_VA + 0x100000, b, 2);
    afx_wait_state(f, 1, ACCEL_ST_PAGE_WAIT);
    assert_int_equal(afx_nreq(f), 1);
    assert_int_equal(afx_rd(f, afx_creg(1, ACCEL_CTX_PRQS), 8), 0);
    afx_policy(f, AFX_MAP);
    assert_int_equal(afx_release(f, VTD_PRG_SUCCESS, true), 1);
    assert_int_equal(afx_wait(f, 0), AFX_ST(ACCEL_ST_DONE, 0));
    assert_int_equal(afx_wait(f, 1), AFX_ST(ACCEL_ST_DONE, 0));
    assert_int_equal(afx_nreq(f), 2);
    assert_int_equal(rd32(f, afx_hpa(f, DATA_VA + PAGE_SIZE)), 0xA1);
    afx_fini(f);
    free(f);
}

/* Large pages: one device-TLB entry covers the 2 MiB page. */
static void test_large_page(void **state)
{
    struct afx *f = *state;
    uint64_t big = mem_frames_alloc_contig(f->mem, 512, 2ULL << 20), va = 0x80000000ULL;
    assert_true(big != HPA_INVALID);
    afx_map_at(f, va, big, PT_2M, AFX_USER);
    struct accel_cmd b[3] = { afx_cmd(ACCEL_OP_STORE_DWORD, 1, va + 0x1000, 0, 0),
                              afx_cmd(ACCEL_OP_STORE_DWORD, 2, va + 0x1FF000, 0, 0),
                              afx_cmd(ACCEL_OP_END, 0, 1, 0, 0) };
    afx_ensure(f, AFX_BATCH_VA, 96);
    struct accel_stats s0 = afx_stats(f);
    assert_int_equal(afx_run(f, 0, b, 3), AFX_ST(ACCEL_ST_DONE, 0));
    assert_int_equal(afx_stats(f).atc_misses - s0.atc_misses, 2);   /* batch + the large page */
    assert_int_equal(rd32(f, big + 0x1000), 1);
    assert_int_equal(rd32(f, big + 0x1FF000), 2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, afx_setup, afx_teardown)
const struct CMUnitTest accel_fault_tests[] = {
    T(test_fault_served), T(test_fault_rights), T(test_fault_invalid),
    T(test_fault_success_not_present), T(test_fault_response_failure), T(test_unsupported),
    T(test_devtlb_invalidation), T(test_unmap_during_fill),
    T(test_other_context_runs_during_page_wait), cmocka_unit_test(test_pri_allocation_limit),
    T(test_large_page),
};
const size_t accel_fault_ntests = sizeof(accel_fault_tests) / sizeof(accel_fault_tests[0]);
