/* The host kernel's fault handler under a fault flood, made deterministic
 * (regressions of what test_guest_faulting_dma_flood found): the kernel
 * runs on the test platform (support/os_platform.h), whose MMIO reads are
 * watched, and new faults are recorded by the unit exactly while the
 * handler is reading records — as a flooding device does on the real
 * machine, at random.
 *
 * A unit raises no fault event while PPF or PFO is set (vtd-reference
 * §5.3, §5.2 step 6). A handler that stops after one lap of the records
 * while records that arrived behind it are pending, or that clears only
 * the PFO it saw on entry, leaves the unit with PPF or PFO set and no
 * event to come: fault reporting stops for good (every later fault is
 * recorded silently, then dropped as overflow). Linux's dmar_fault reads
 * until it meets a clear F and clears what FSTS says at the end. */
#include "fault_inject.h"

#include <string.h>

#include "lib/hw.h"
#include "lib/hw_regs.h"
#include "os/iommu.h"
#include "support/os_platform.h"

#define NOBODY 0x0500   /* a requester id nothing is attached for: a fault */

static struct spy {
    struct plat p;
    struct os_iommu units[DMAR_MAX_UNITS];
    struct dmar_info info;
    uint64_t (*mmio_read)(void *ctx, uint64_t pa, unsigned size);
    uint32_t frcd_lo, frcd_hi;      /* offsets of the fault records */
    unsigned f_reads;               /* handler reads of a record's F dword */
    const unsigned *script;         /* faults to record at each of those reads */
    unsigned script_len, injected;
} S;

static void record_fault(void)
{
    struct vtd_req r = { .sid = NOBODY, .addr = 0x1000ULL * (S.injected + 1) };
    struct vtd_result res;
    vtd_translate(S.p.unit[0], &r, &res);
    assert_int_not_equal(res.fault, 0);
    S.injected++;
}

static uint64_t spy_read(void *ctx, uint64_t pa, unsigned size)
{
    uint32_t off = (uint32_t)(pa - PLAT_BASE);
    if (size == 4 && off >= S.frcd_lo && off < S.frcd_hi && off % 16 == 12) {
        unsigned n = S.f_reads < S.script_len ? S.script[S.f_reads] : 0;
        S.f_reads++;
        while (n--)
            record_fault();
    }
    return S.mmio_read(ctx, pa, size);
}

static void spy_boot(void)
{
    memset(&S, 0, sizeof(S));
    uint8_t dmar[256];
    plat_init(&S.p, 1, NULL);
    size_t len = plat_dmar(&S.p, dmar, sizeof(dmar), NULL, 0);
    assert_int_equal(os_iommu_probe(&S.p.k, dmar, len, S.units, &S.info), 1);
    assert_int_equal(os_iommu_enable_translation(&S.units[0]), 0);
    uint64_t cap = S.units[0].cap;
    S.frcd_lo = (uint32_t)HW_FV(CAP, FRO, cap) * 16;
    S.frcd_hi = S.frcd_lo + 16 * ((uint32_t)HW_FV(CAP, NFR, cap) + 1);
    S.mmio_read = S.p.k.ops.mmio_read;
    S.p.k.ops.mmio_read = spy_read;
}

/* Every pending fault read, nothing left set, and the next fault raises
 * an event again. */
static void spy_check_recovered(uint64_t expect_read)
{
    plat_deliver(&S.p);
    uint32_t fsts = (uint32_t)vtd_mmio_read(S.p.unit[0], REG_OFF_FSTS, 4);
    assert_int_equal(fsts & (HW_FM(FSTS, PPF) | HW_FM(FSTS, PFO)), 0);
    assert_int_equal(S.units[0].nfault, expect_read);
    S.script_len = 0;
    record_fault();
    assert_int_equal(S.p.npending, 1);   /* reported */
    plat_deliver(&S.p);
    assert_int_equal(S.units[0].nfault, expect_read + 1);
    plat_fini(&S.p);
}

/* The records full, and each one the handler frees is taken by a new
 * fault before it has gone round the ring. */
void test_fault_handler_records_behind_it(void **state)
{
    (void)state;
    spy_boot();
    unsigned nfr = (unsigned)HW_FV(CAP, NFR, S.units[0].cap) + 1;
    for (unsigned i = 0; i < nfr; i++)
        record_fault();
    assert_int_equal(S.p.npending, 1);
    /* from the second record's read on, one new fault per read (it lands
     * in the record the handler has just cleared), 12 in all */
    static const unsigned script[] = { 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };
    S.script = script, S.script_len = sizeof(script) / sizeof(script[0]);
    spy_check_recovered(nfr + 12);
}

/* A fault finds every record taken while the handler works: PFO is set
 * after the handler read FSTS. */
void test_fault_handler_overflow_during_pass(void **state)
{
    (void)state;
    spy_boot();
    unsigned nfr = (unsigned)HW_FV(CAP, NFR, S.units[0].cap) + 1;
    for (unsigned i = 0; i < nfr; i++)
        record_fault();
    /* at the second read: one fault into the freed record 0, and one that
     * finds record 1 (being read, not yet cleared) taken: PFO */
    static const unsigned script[] = { 0, 2 };
    S.script = script, S.script_len = 2;
    spy_check_recovered(nfr + 1);
}
