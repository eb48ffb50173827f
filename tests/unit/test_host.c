/* The host machine and the bad input of test case 1 (issue "SVM
 * accelerator, host kernel and test case 1", Bad input): configurations
 * refused with a message; a process that exits with page requests in
 * flight, a batch pointer into nothing, a batch without END: each ends in an
 * error status with the device usable afterwards, never a hang. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "vmm/host.h"
#include "workloads/workloads.h"
#include "support/machines.h"

static struct host *mk(unsigned nunits, unsigned naccels)
{
    return tm_host(nunits, naccels, 256ULL << 20);
}

static void test_bad_configs(void **state)
{
    (void)state;
    struct host_config c;
    char why[160];
    host_config_default(&c);
    c.nunits = 0;
    assert_null(host_create(&c, why, sizeof(why)));
    assert_non_null(strstr(why, "units"));
    host_config_default(&c);
    c.accel_unit[1] = 3;
    assert_null(host_create(&c, why, sizeof(why)));
    assert_non_null(strstr(why, "does not exist"));
    host_config_default(&c);
    c.mem_size = 1 << 20;
    assert_null(host_create(&c, why, sizeof(why)));
    host_config_default(&c);
    c.naccels = 99;
    assert_null(host_create(&c, why, sizeof(why)));
}

/* The process goes away while the device waits on page requests for it:
 * the context is reset, the PASID torn down with the page request queue
 * drained, and the device serves the next process normally. */
static void test_exit_with_requests_in_flight(void **state)
{
    (void)state;
    struct host *h = mk(1, 1);
    struct wl_proc p;
    uint64_t area;
    assert_int_equal(wl_proc_open(&p, &h->k, &h->drv[0]), 0);
    assert_int_equal(os_mmap(&p.mm, 4 << 20, OS_PROT_READ | OS_PROT_WRITE, &area), 0);
    struct accel_cmd c[2] = {
        { .opcode = ACCEL_OP_FILL, .a = area, .b = 0x5A5A5A5A5A5A5A5AULL, .c = 4 << 20 },
        { .opcode = ACCEL_OP_END, .a = os_accel_next_seqno(&p.ctx) },
    };
    assert_int_equal(os_mm_write(&p.mm, p.batch_va, c, sizeof(c)), 0);
    assert_int_equal(os_accel_submit(&p.ctx, p.batch_va), 0);
    wl_proc_close(&p);                                  /* exit: no wait */
    struct wl_result r;
    wl_svm_sanity(&h->k, &h->drv[0], &r);
    assert_true(r.passed);
    wl_svm_fault(&h->k, &h->drv[0], &r);
    assert_true(r.passed);
    host_destroy(h);
}

/* A batch address with nothing mapped, and a batch with no END: errors
 * reported in the context status; the context runs the next batch. */
static void test_bad_batches(void **state)
{
    (void)state;
    struct host *h = mk(1, 1);
    struct wl_proc p;
    unsigned err = 0;
    uint64_t fva = 0, area;
    assert_int_equal(wl_proc_open(&p, &h->k, &h->drv[0]), 0);
    uint64_t seq = os_accel_next_seqno(&p.ctx);
    assert_int_equal(os_accel_submit(&p.ctx, 0x7F0000000000ULL), 0);
    assert_int_equal(os_accel_wait(&p.ctx, seq, 10000, &err, &fva), -5);
    assert_int_equal(err, ACCEL_ERR_PAGE_FAULT);
    assert_int_equal(fva, 0x7F0000000000ULL);
    assert_int_equal(os_mmap(&p.mm, 4096, OS_PROT_READ | OS_PROT_WRITE, &area), 0);
    struct accel_cmd nop = { .opcode = ACCEL_OP_NOP };
    for (unsigned i = 0; i < 4096 / sizeof(nop); i++)   /* one page of NOPs, then nothing */
        assert_int_equal(os_mm_write(&p.mm, area + i * sizeof(nop), &nop, sizeof(nop)), 0);
    seq = os_accel_next_seqno(&p.ctx);
    assert_int_equal(os_accel_submit(&p.ctx, area), 0);
    assert_int_equal(os_accel_wait(&p.ctx, seq, 10000, &err, &fva), -5);
    assert_int_equal(err, ACCEL_ERR_PAGE_FAULT);        /* ran off the mapping */
    assert_int_equal(fva, area + 4096);
    struct accel_cmd st = { .opcode = ACCEL_OP_STORE_DWORD, .arg = 9, .a = area };
    assert_int_equal(wl_run(&p, &st, 1, &err, &fva), 0);
    uint32_t got = 0;
    assert_int_equal(os_mm_read(&p.mm, area, &got, 4), 0);
    assert_int_equal(got, 9);
    wl_proc_close(&p);
    host_destroy(h);
}

/* The device's own page-fault round-trip samples (bench dma reads them):
 * one per page request answered Success, then forgotten. */
static void test_fault_rtt_samples(void **state)
{
    (void)state;
    struct host *h = mk(1, 1);
    struct wl_result r;
    uint64_t s[64];
    accel_fault_rtts(h->acc[0].dev, NULL, 0);
    wl_svm_fault(&h->k, &h->drv[0], &r);
    assert_true(r.passed);
    unsigned n = accel_fault_rtts(h->acc[0].dev, s, 64);
    assert_int_equal(n, 16);           /* 16 pages faulted in; the wild store was refused */
    for (unsigned i = 0; i < n; i++)
        assert_true(s[i] > 0 && s[i] < 60000000000ULL);
    assert_int_equal(accel_fault_rtts(h->acc[0].dev, s, 64), 0);
    host_destroy(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_configs),
        cmocka_unit_test(test_exit_with_requests_in_flight),
        cmocka_unit_test(test_bad_batches),
        cmocka_unit_test(test_fault_rtt_samples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
