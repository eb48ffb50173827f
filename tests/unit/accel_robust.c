/* The accelerator under resets and hostile input: context reset, disable
 * and function-level reset while a page request is outstanding (late
 * responses dropped), page-response time-out, destroy while busy,
 * unexpected responses, bad commands and batches, doorbells that cannot
 * run, a device that never completes an invalidation, ATS disabled,
 * privileged requests. Nothing may crash or hang. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/hw_regs.h"
#include "accel_fixture.h"

#define DATA_VA 0x60000000ULL

static void submit_store(struct afx *f, unsigned ctx, uint64_t va, uint32_t v)
{
    struct accel_cmd b[2] = { afx_cmd(ACCEL_OP_STORE_DWORD, v, va, 0, 0),
                              afx_cmd(ACCEL_OP_END, 0, 1, 0, 0) };
    afx_submit(f, ctx, AFX_BATCH_VA + ctx * 0x100000ULL, b, 2);
}

static uint32_t status(struct afx *f, unsigned ctx)
{
    return (uint32_t)afx_rd(f, afx_creg(ctx, ACCEL_CTX_STATUS), 4);
}

/* Context waiting for a page: RESET brings it back to IDLE at once; the
 * response that comes later is dropped (late, not unexpected: no UPRGI);
 * the context then works normally. */
static void test_ctx_reset_during_page_wait(void **state)
{
    struct afx *f = *state;
    afx_policy(f, AFX_HOLD);
    submit_store(f, 0, DATA_VA, 1);
    afx_wait_nreq(f, 1);
    afx_wait_state(f, 0, ACCEL_ST_PAGE_WAIT);
    afx_wr(f, afx_creg(0, ACCEL_CTX_CTRL), 4,
           ACCEL_CTRL_RESET | ACCEL_CTRL_ENABLE | ACCEL_CTRL_PASID);
    assert_int_equal(status(f, 0), AFX_ST(ACCEL_ST_IDLE, 0));
    assert_int_equal(afx_rd(f, afx_creg(0, ACCEL_CTX_CTRL), 4),
                     ACCEL_CTRL_ENABLE | ACCEL_CTRL_PASID);
    assert_int_equal(afx_release(f, VTD_PRG_SUCCESS, false), 1);
    struct accel_stats s = afx_stats(f);
    assert_int_equal(s.responses_late, 1);
    assert_int_equal(s.responses_unexpected, 0);
    assert_int_equal(accel_pri_status(f->dev), 0);
    assert_int_equal(status(f, 0), AFX_ST(ACCEL_ST_IDLE, 0));
    afx_policy(f, AFX_MAP);
    submit_store(f, 0, DATA_VA, 2);
    assert_int_equal(afx_wait(f, 0), AFX_ST(ACCEL_ST_DONE, 0));
    assert_int_equal(afx_rd64(f, DATA_VA) & 0xFFFFFFFF, 2);
}

/* Clearing ENABLE while busy drops the batch with ERROR / ACCEL_ERR_RESET. */
static void test_disable_while_busy(void **state)
{
    struct afx *f = *state;
    afx_policy(f, AFX_HOLD);
    submit_store(f, 0, DATA_VA, 1);
    afx_wait_state(f, 0, ACCEL_ST_PAGE_WAIT);
    afx_wr(f, afx_creg(0, ACCEL_CTX_CTRL), 4, ACCEL_CTRL_PASID);
    assert_int_equal(status(f, 0), AFX_ST(ACCEL_ST_ERROR, ACCEL_ERR_RESET));
    afx_wait_nreq(f, 1);
    afx_release(f, VTD_PRG_SUCCESS, true);
    assert_int_equal(afx_stats(f).responses_late, 1);
}

/* Function-level reset with two contexts waiting: registers to reset
 * values, both IDLE, their responses dropped. */
static void test_flr_during_page_wait(void **state)
{
    struct afx *f = *state;
    afx_policy(f, AFX_HOLD);
    afx_ctx(f, 7, AFX_PASID, 0);
    submit_store(f, 0, DATA_VA, 1);
    submit_store(f, 7, DATA_VA + PAGE_SIZE, 1);
    afx_wait_nreq(f, 2);
    afx_wait_state(f, 0, ACCEL_ST_PAGE_WAIT);
    afx_wait_state(f, 7, ACCEL_ST_PAGE_WAIT);
    accel_reset(f->dev);
    for (unsigned i = 0; i < ACCEL_NCTX; i++) {
        assert_int_equal(status(f, i), AFX_ST(ACCEL_ST_IDLE, 0));
        assert_int_equal(afx_rd(f, afx_creg(i, ACCEL_CTX_CTRL), 4), 0);
        assert_int_equal(afx_rd(f, afx_creg(i, ACCEL_CTX_PASID), 4), 0);
        assert_int_equal(afx_rd(f, afx_creg(i, ACCEL_CTX_BATCH), 8), 0);
        assert_int_equal(afx_rd(f, afx_creg(i, ACCEL_CTX_PRQS), 8), 0);
    }
    assert_int_equal(afx_rd(f, ACCEL_REG_INT_MASK, 4), (1u << ACCEL_NCTX) - 1);
    assert_int_equal(accel_atc_entries(f->dev), 0);
    assert_int_equal(afx_release(f, VTD_PRG_SUCCESS, true), 2);
    assert_int_equal(afx_stats(f).responses_late, 2);
    afx_policy(f, AFX_MAP);
    afx_ctx(f, 0, AFX_PASID, 0);
    submit_store(f, 0, DATA_VA + 2 * PAGE_SIZE, 5);
    assert_int_equal(afx_wait(f, 0), AFX_ST(ACCEL_ST_DONE, 0));
}

/* No response in time: ACCEL_ERR_TIMEOUT at the faulting address. */
static void test_page_response_timeout(void **state)
{
    struct afx *f = calloc(1, sizeof(*f));
    struct afx_opts o = { .timeout_ms = 50 };
    (void)state;
    afx_init(f, &o);
    afx_policy(f, AFX_HOLD);
    afx_ctx(f, 0, AFX_PASID, 0);
    submit_store(f, 0, DATA_VA + 0x10, 1);
    assert_int_equal(afx_wait(f, 0), AFX_ST(ACCEL_ST_ERROR, ACCEL_ERR_TIMEOUT));
    assert_int_equal(afx_rd(f, afx_creg(0, ACCEL_CTX_ERROR_VA), 8), DATA_VA + 0x10);
    afx_release(f, VTD_PRG_SUCCESS, true);
    assert_int_equal(afx_stats(f).responses_late, 1);
    afx_fini(f);
    free(f);
}

/* Destroy with one context waiting for a page that will never come and
 * another in a long FILL: returns, nothing left running. */
static void test_destroy_while_busy(void **state)
{
    struct afx *f = *state;
    afx_ctx(f, 1, AFX_PASID, 0);
    afx_policy(f, AFX_HOLD);
    submit_store(f, 0, DATA_VA, 1);
    afx_wait_state(f, 0, ACCEL_ST_PAGE_WAIT);
    afx_ensure(f, 0x90000000ULL, 8ULL << 20);
    struct accel_cmd b[2] = { afx_cmd(ACCEL_OP_FILL, 0, 0x90000000ULL, 0x42, 8ULL << 20),
                              afx_cmd(ACCEL_OP_END, 0, 1, 0, 0) };
    afx_submit(f, 1, AFX_BATCH_VA + 0x100000, b, 2);
    accel_destroy(f->dev);
    f->dev = NULL;
}

/* A response nobody asked for: counted, PRI status UPRGI (RW1C). */
static void test_unexpected_response(void **state)
{
    struct afx *f = *state;
    struct afx_req r = { .pasid = AFX_PASID, .pp = true, .lpig = true, .prgi = 77, .rid = AFX_SID };
    uint64_t d[1][4];
    afx_d_pgresp(d[0], &r, VTD_PRG_SUCCESS);
    assert_true(afx_qi(f, d, 1));
    assert_int_equal(afx_stats(f).responses_unexpected, 1);
    assert_int_equal(accel_pri_status(f->dev), ACCEL_PRI_ST_UPRGI);
    accel_pri_status_clear(f->dev, ACCEL_PRI_ST_UPRGI);
    assert_int_equal(accel_pri_status(f->dev), 0);
    accel_set_pri(f->dev, false, 0);
    assert_int_equal(accel_pri_status(f->dev), ACCEL_PRI_ST_STOPPED);
}

static void expect_error(struct afx *f, struct accel_cmd c, uint8_t err, uint64_t error_va)
{
    struct accel_cmd b[3] = { afx_cmd(ACCEL_OP_NOP, 0, 0, 0, 0), c,
                              afx_cmd(ACCEL_OP_END, 0, 1, 0, 0) };
    assert_int_equal(afx_run(f, 0, b, 3), AFX_ST(ACCEL_ST_ERROR, err));
    assert_int_equal(afx_rd(f, afx_creg(0, ACCEL_CTX_ERROR_VA), 8), error_va);
}

/* Unknown opcodes, lengths that wrap, huge lengths into nothing, wild and
 * non-canonical batch pointers. */
static void test_bad_commands(void **state)
{
    struct afx *f = *state;
    const uint64_t cmd1 = AFX_BATCH_VA + 32;
    afx_policy(f, AFX_INVALID);
    afx_ensure(f, DATA_VA, PAGE_SIZE);
    expect_error(f, afx_cmd(0x99, 0, 0, 0, 0), ACCEL_ERR_BAD_COMMAND, cmd1);
    expect_error(f, afx_cmd(0xFFFFFFFF, ~0u, ~0ULL, ~0ULL, ~0ULL), ACCEL_ERR_BAD_COMMAND, cmd1);
    expect_error(f, afx_cmd(ACCEL_OP_COPY, 0, DATA_VA, DATA_VA, ~0ULL), ACCEL_ERR_BAD_COMMAND,
                 cmd1);
    expect_error(f, afx_cmd(ACCEL_OP_COPY, 0, ~0ULL - 8, DATA_VA, 100), ACCEL_ERR_BAD_COMMAND,
                 cmd1);
    expect_error(f, afx_cmd(ACCEL_OP_FILL, 0, ~0ULL - 10, 0, 100), ACCEL_ERR_BAD_COMMAND, cmd1);
    expect_error(f, afx_cmd(ACCEL_OP_FILL, 0, DATA_VA, 0, 1ULL << 50), ACCEL_ERR_PAGE_FAULT,
                 DATA_VA + PAGE_SIZE);
    expect_error(f, afx_cmd(ACCEL_OP_COPY, 0, DATA_VA + PAGE_SIZE, DATA_VA, 1ULL << 40),
                 ACCEL_ERR_PAGE_FAULT, DATA_VA + PAGE_SIZE);
    expect_error(f, afx_cmd(ACCEL_OP_CHASE, 0, 0xDEAD0000ULL, DATA_VA, ~0ULL), ACCEL_ERR_PAGE_FAULT,
                 0xDEAD0000ULL);
    afx_wr(f, afx_creg(0, ACCEL_CTX_BATCH), 8, 0x7FFF00001000ULL);
    afx_wr(f, afx_creg(0, ACCEL_CTX_DOORBELL), 4, 0);
    assert_int_equal(afx_wait(f, 0), AFX_ST(ACCEL_ST_ERROR, ACCEL_ERR_PAGE_FAULT));
    assert_int_equal(afx_rd(f, afx_creg(0, ACCEL_CTX_ERROR_VA), 8), 0x7FFF00001000ULL);
    static const uint64_t wild[] = { 0x8000000000000000ULL, ~0ULL - 15, 0xFFFF800000000000ULL };
    for (unsigned i = 0; i < 3; i++) {
        afx_wr(f, afx_creg(0, ACCEL_CTX_BATCH), 8, wild[i]);
        afx_wr(f, afx_creg(0, ACCEL_CTX_DOORBELL), 4, 0);
        uint32_t st = afx_wait(f, 0);
        assert_true(st == AFX_ST(ACCEL_ST_ERROR, ACCEL_ERR_PAGE_FAULT) ||
                    st == AFX_ST(ACCEL_ST_ERROR, ACCEL_ERR_UNSUPPORTED));
    }
}

/* A translation to host memory that does not exist: Unsupported Request. */
static void test_hpa_outside_memory(void **state)
{
    struct afx *f = *state;
    afx_map_at(f, DATA_VA, 0x10000, PT_4K, AFX_USER);
    afx_map_at(f, DATA_VA + PAGE_SIZE, AFX_BASE + AFX_SIZE - PAGE_SIZE, PT_4K, AFX_USER);
    afx_map_at(f, DATA_VA + 2 * PAGE_SIZE, AFX_BASE + AFX_SIZE, PT_4K, AFX_USER);   /* just past */
    expect_error(f, afx_cmd(ACCEL_OP_STORE_DWORD, 1, DATA_VA + 8, 0, 0), ACCEL_ERR_UNSUPPORTED,
                 DATA_VA + 8);
    expect_error(f, afx_cmd(ACCEL_OP_FILL, 0, DATA_VA + PAGE_SIZE, 0x1111111111111111ULL,
                            2 * PAGE_SIZE),
                 ACCEL_ERR_UNSUPPORTED, DATA_VA + 2 * PAGE_SIZE);
    uint8_t *last = mem_ptr(f->mem, AFX_BASE + AFX_SIZE - PAGE_SIZE, PAGE_SIZE);
    assert_int_equal(last[0] & last[PAGE_SIZE - 1], 0x11);   /* the page before was filled */
    assert_int_equal(afx_nreq(f), 0);
}

/* Creation errors, and a device without IOMMU: bus addresses are host
 * physical, no PASID. */
static void test_create_and_no_iommu(void **state)
{
    struct afx *f = *state;
    struct accel_config c = { .mem = f->mem, .iommu = f->u, .sid = AFX_SID };
    assert_null(accel_create(NULL));
    assert_null(accel_create(&(struct accel_config){ .iommu = f->u, .sid = 0x500 }));
    assert_null(accel_create(&c));                 /* the requester id is taken */
    c.iommu = NULL;
    struct accel *d = accel_create(&c);
    assert_non_null(d);
    accel_set_bus_master(d, true);
    accel_set_ats(d, true);
    uint64_t batch = mem_frame_alloc(f->mem), data = mem_frame_alloc(f->mem), v = 0;
    struct accel_cmd b[2] = { afx_cmd(ACCEL_OP_STORE_DWORD, 0x600D, data + 12, 0, 0),
                              afx_cmd(ACCEL_OP_END, 0, 5, 0, 0) };
    assert_int_equal(mem_write(f->mem, batch, b, sizeof(b)), 0);
    uint64_t w = ACCEL_CTRL_ENABLE;
    accel_mmio(d, afx_creg(0, ACCEL_CTX_CTRL), &w, 4, true);
    accel_mmio(d, afx_creg(0, ACCEL_CTX_BATCH), &batch, 8, true);
    accel_mmio(d, afx_creg(0, ACCEL_CTX_DOORBELL), &w, 4, true);
    for (unsigned i = 0; i < AFX_HANG_S * 1000u && v != ACCEL_ST_DONE; i++) {
        accel_mmio(d, afx_creg(0, ACCEL_CTX_STATUS), &v, 4, false);
        if (v != ACCEL_ST_DONE)
            nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    }
    assert_int_equal(v, ACCEL_ST_DONE);
    assert_int_equal(mem_read(f->mem, data + 12, &v, 4), 0);
    assert_int_equal(v & 0xFFFFFFFF, 0x600D);
    accel_destroy(d);
    accel_destroy(NULL);
}

/* A batch without END stops after ACCEL_MAX_BATCH commands: 2 MiB of NOPs
 * (512 pages mapping one frame full of NOPs). */
static void test_batch_without_end(void **state)
{
    struct afx *f = *state;
    const uint64_t va = 0xA0000000ULL;
    uint64_t frame = mem_frame_alloc(f->mem);   /* zero: 128 NOPs */
    for (unsigned i = 0; i < ACCEL_MAX_BATCH / 128; i++)
        afx_map_at(f, va + i * PAGE_SIZE, frame, PT_4K, AFX_USER);
    afx_wr(f, afx_creg(0, ACCEL_CTX_BATCH), 8, va);
    afx_wr(f, afx_creg(0, ACCEL_CTX_DOORBELL), 4, 1);
    assert_int_equal(afx_wait(f, 0), AFX_ST(ACCEL_ST_ERROR, ACCEL_ERR_BAD_COMMAND));
    assert_int_equal(afx_rd(f, afx_creg(0, ACCEL_CTX_ERROR_VA), 8), va + 32ULL * ACCEL_MAX_BATCH);
    assert_int_equal(afx_rd(f, afx_creg(0, ACCEL_CTX_CMDS), 8), ACCEL_MAX_BATCH);
}

/* Doorbells that cannot run: disabled context, bus mastering off (and then
 * no MSI either), PASID requests with PASID disabled. */
static void test_doorbell_not_enabled(void **state)
{
    struct afx *f = *state;
    afx_wr(f, afx_creg(9, ACCEL_CTX_BATCH), 8, 0x1234000);
    afx_wr(f, afx_creg(9, ACCEL_CTX_DOORBELL), 4, 1);
    assert_int_equal(status(f, 9), AFX_ST(ACCEL_ST_ERROR, ACCEL_ERR_NOT_ENABLED));
    assert_int_equal(afx_rd(f, afx_creg(9, ACCEL_CTX_ERROR_VA), 8), 0x1234000);
    assert_int_equal(afx_rd(f, ACCEL_REG_INT_STATUS, 4), 1u << 9);
    assert_int_equal(afx_nmsi(f), 1);   /* sent by the MMIO write itself */
    afx_ctx(f, 9, AFX_PASID, 0);
    accel_set_bus_master(f->dev, false);
    afx_wr(f, afx_creg(9, ACCEL_CTX_DOORBELL), 4, 1);
    assert_int_equal(status(f, 9), AFX_ST(ACCEL_ST_ERROR, ACCEL_ERR_NOT_ENABLED));
    assert_int_equal(afx_nmsi(f), 1);
    accel_set_bus_master(f->dev, true);
    accel_set_pasid(f->dev, false);
    afx_wr(f, afx_creg(9, ACCEL_CTX_DOORBELL), 4, 1);
    assert_int_equal(status(f, 9), AFX_ST(ACCEL_ST_ERROR, ACCEL_ERR_NOT_ENABLED));
    accel_set_pasid(f->dev, true);
    afx_ensure(f, DATA_VA, 8);
    submit_store(f, 9, DATA_VA, 9);
    assert_int_equal(afx_wait(f, 9), AFX_ST(ACCEL_ST_DONE, 0));
}

/* The test knob: the device never sends the Invalidate Completion, so the
 * unit reports ITE (§4.9) and the wait descriptor is not completed. */
static void test_inv_never_completes(void **state)
{
    struct afx *f = *state;
    accel_test_inv_never_complete(f->dev, true);
    uint64_t d[1][4];
    afx_d_pdevtlb(d[0], AFX_PASID, DATA_VA, false, false);
    assert_false(afx_qi(f, d, 1));
    assert_true(afx_unit_rd(f, REG_OFF_FSTS) & HW_FM(FSTS, ITE));
    assert_int_equal(afx_stats(f).invalidations, 1);
}

/* ATS disabled: untranslated requests through the unit, no device TLB, no
 * page requests; a missing page is an Unsupported Request. */
static void test_ats_disabled(void **state)
{
    struct afx *f = *state;
    uint64_t hpa = afx_map(f, DATA_VA, AFX_USER);
    afx_ensure(f, AFX_BATCH_VA, 64);
    accel_set_ats(f->dev, false);
    submit_store(f, 0, DATA_VA + 4, 0x77);
    assert_int_equal(afx_wait(f, 0), AFX_ST(ACCEL_ST_DONE, 0));
    uint32_t v = 0;
    assert_int_equal(mem_read32(f->mem, hpa + 4, &v), 0);
    assert_int_equal(v, 0x77);
    submit_store(f, 0, DATA_VA + PAGE_SIZE, 1);
    assert_int_equal(afx_wait(f, 0), AFX_ST(ACCEL_ST_ERROR, ACCEL_ERR_UNSUPPORTED));
    struct accel_stats s = afx_stats(f);
    assert_int_equal(s.ats_requests + s.page_requests + s.atc_misses + s.atc_hits, 0);
}

/* Privileged requests reach supervisor pages (PASID entry SRE=1); a user
 * context gets no access there and the OS refuses its page request. The
 * device TLB keeps the two requesters apart. */
static void test_privileged(void **state)
{
    struct afx *f = *state;
    uint64_t hpa = afx_map(f, DATA_VA, PTE_RW);
    afx_ensure(f, AFX_BATCH_VA + 3 * 0x100000ULL, 64);
    afx_wr(f, afx_creg(3, ACCEL_CTX_PASID), 4, AFX_PASID);
    afx_wr(f, afx_creg(3, ACCEL_CTX_CTRL), 4,
           ACCEL_CTRL_ENABLE | ACCEL_CTRL_PASID | ACCEL_CTRL_PRIV);
    submit_store(f, 3, DATA_VA, 0x33);
    assert_int_equal(afx_wait(f, 3), AFX_ST(ACCEL_ST_DONE, 0));
    uint32_t v = 0;
    assert_int_equal(mem_read32(f->mem, hpa, &v), 0);
    assert_int_equal(v, 0x33);
    afx_policy(f, AFX_INVALID);
    submit_store(f, 0, DATA_VA, 0x44);
    assert_int_equal(afx_wait(f, 0), AFX_ST(ACCEL_ST_ERROR, ACCEL_ERR_PAGE_FAULT));
    assert_int_equal(afx_nreq(f), 1);
    assert_true(afx_req(f, 0).priv == false);
    assert_int_equal(mem_read32(f->mem, hpa, &v), 0);
    assert_int_equal(v, 0x33);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, afx_setup, afx_teardown)
const struct CMUnitTest accel_robust_tests[] = {
    T(test_ctx_reset_during_page_wait), T(test_disable_while_busy), T(test_flr_during_page_wait),
    cmocka_unit_test(test_page_response_timeout), T(test_destroy_while_busy),
    T(test_unexpected_response), T(test_bad_commands), T(test_hpa_outside_memory),
    T(test_create_and_no_iommu), T(test_batch_without_end),
    T(test_doorbell_not_enabled), T(test_inv_never_completes), T(test_ats_disabled),
    T(test_privileged),
};
const size_t accel_robust_ntests = sizeof(accel_robust_tests) / sizeof(accel_robust_tests[0]);
