/* A unit whose structures live in a guest's physical space (the register
 * model of a virtual IOMMU): boot, queued invalidation from guest memory
 * with the descriptor hook, the uncached PASID-entry lookup, fault
 * injection, and guest-memory bounds on every access. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hw_regs.h"
#include "vtd/unit.h"

#define ROOT  0x10000ULL
#define CTX   0x11000ULL
#define DIR   0x12000ULL
#define PTBL  0x13000ULL
#define IQ    0x20000ULL
#define STAT  0x30000ULL
#define SID   0x0008   /* 00:01.0 */

struct fx {
    struct mem_arena *mem;
    struct gpa_map *g;
    struct vtd_unit *u;
    uint64_t seen[16][4];
    unsigned nseen;
    uint8_t lookup_fault[16];
    unsigned msis;
};

static void hook(void *opaque, struct vtd_unit *u, const uint64_t *d)
{
    struct fx *f = opaque;
    if (f->nseen >= 16)
        return;
    memcpy(f->seen[f->nseen], d, 32);
    uint64_t pte[8];
    f->lookup_fault[f->nseen++] = vtd_lookup_pasid_entry(u, SID, 5, pte);
}

static void msi(void *opaque, uint64_t addr, uint32_t data)
{
    (void)addr, (void)data;
    ((struct fx *)opaque)->msis++;
}

static void w64(struct fx *f, uint64_t gpa, uint64_t v) { assert_int_equal(gpa_write64(f->g, gpa, v), 0); }

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct vtd_config c;
    vtd_config_default(&c);
    c.cap |= HW_FM(CAP, CM);
    c.desc_hook = hook, c.desc_opaque = f, c.msi = msi, c.msi_opaque = f;
    f->mem = mem_arena_create(0x100000000ULL, 64 << 20);
    f->g = gpa_map_create(f->mem, 1 << 20);
    f->u = vtd_unit_create_guest(&c, f->g);
    assert_non_null(f->u);
    /* Scalable tables in guest memory: bus 0 lower half -> context table;
     * devfn 8: P, PASIDE, PDTS 0 -> directory -> PASID table. */
    w64(f, ROOT, CTX | 1);
    w64(f, CTX + 32 * 8, DIR | HW_FM(SM_CTX, PASIDE) | 1);
    w64(f, DIR, PTBL | 1);
    vtd_mmio_write(f->u, REG_OFF_RTADDR, 8, ROOT | 1 << 10);
    vtd_mmio_write(f->u, REG_OFF_GCMD, 4, 1u << 30);
    vtd_mmio_write(f->u, REG_OFF_IQT, 4, 0);
    vtd_mmio_write(f->u, REG_OFF_IQA, 8, IQ | HW_FM(IQA, DW));
    vtd_mmio_write(f->u, REG_OFF_GCMD, 4, 1u << 26);
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

static void put_desc(struct fx *f, unsigned slot, uint64_t q0, uint64_t q1)
{
    w64(f, IQ + 32 * slot, q0);
    w64(f, IQ + 32 * slot + 8, q1);
}

/* Descriptors come from guest memory; the hook sees each one, in order,
 * and may read the guest's PASID structures as the unit would; the wait
 * writes its status into guest memory. */
static void test_queue_and_hook(void **state)
{
    struct fx *f = *state;
    uint64_t pte[8] = { 0 };
    put_desc(f, 0, 7 | 1 << 4 | 9ULL << 16 | 5ULL << 32, 0);             /* PASID cache, PASID 5 */
    w64(f, PTBL + 64 * 5, 1 | 1 << 6);                                   /* P, PGTT=1 */
    w64(f, PTBL + 64 * 5 + 8, 9);                                        /* DID 9 */
    put_desc(f, 1, 6 | 3 << 4 | 9ULL << 16 | 5ULL << 32, 0x40000);        /* PIOTLB page */
    put_desc(f, 2, 5 | 1 << 5 | 0xABCDULL << 32, STAT);                  /* wait, SW */
    vtd_mmio_write(f->u, REG_OFF_IQT, 4, 3 * 32);
    assert_int_equal(vtd_mmio_read(f->u, REG_OFF_FSTS, 4), 0);
    assert_int_equal(vtd_mmio_read(f->u, REG_OFF_IQH, 8), 3 * 32);
    assert_int_equal(f->nseen, 3);
    assert_int_equal(f->seen[0][0] & 0xF, 7);
    assert_int_equal(f->seen[1][1], 0x40000);
    assert_int_equal(f->seen[2][0] >> 32, 0xABCD);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(f->lookup_fault[i], 0);
    uint32_t st = 0;
    assert_int_equal(gpa_read(f->g, STAT, &st, 4), 0);
    assert_int_equal(st, 0xABCD);
    assert_int_equal(vtd_lookup_pasid_entry(f->u, SID, 5, pte), 0);
    assert_int_equal(HW_GET(PASID_PTE, DID, pte), 9);
    assert_int_equal(vtd_lookup_pasid_entry(f->u, SID, 6, pte), VTD_FR_SM_PTE_NP);
    assert_int_equal(vtd_lookup_pasid_entry(f->u, 0x0010, 5, pte), VTD_FR_SM_CTX_NP);
    assert_int_equal(vtd_lookup_pasid_entry(f->u, SID, 64, pte), VTD_FR_SM_PDIR_NP);
    assert_int_equal(vtd_lookup_pasid_entry(f->u, SID, 1u << 13, pte), VTD_FR_SM_CTX_PDTS);
}

/* Guest memory bounds: a queue or a table beyond the guest's RAM fails the
 * way hardware fails on missing memory, never touching anything else. */
static void test_guest_bounds(void **state)
{
    struct fx *f = *state;
    uint64_t pte[8];
    w64(f, DIR, 0x200000 | 1);                                           /* past 1 MiB of RAM */
    assert_int_equal(vtd_lookup_pasid_entry(f->u, SID, 5, pte), VTD_FR_SM_PTE_READ_ERR);
    vtd_mmio_write(f->u, REG_OFF_GCMD, 4, 0);                            /* QI off, on elsewhere */
    vtd_mmio_write(f->u, REG_OFF_IQT, 4, 0);
    vtd_mmio_write(f->u, REG_OFF_IQA, 8, 0x400000 | HW_FM(IQA, DW));
    vtd_mmio_write(f->u, REG_OFF_GCMD, 4, 1u << 26);
    vtd_mmio_write(f->u, REG_OFF_IQT, 4, 32);
    assert_int_equal(vtd_mmio_read(f->u, REG_OFF_FSTS, 4) & HW_FM(FSTS, IQE), HW_FM(FSTS, IQE));
    assert_int_equal(vtd_mmio_read(f->u, REG_OFF_IQERCD, 8) & 0xF, 2);   /* fetch error */
    assert_int_equal(f->nseen, 0);
}

/* A fault reported on the guest's behalf lands in its recording registers
 * and raises its fault event (unmasked here). */
static void test_fault_inject(void **state)
{
    struct fx *f = *state;
    vtd_mmio_write(f->u, REG_OFF_FECTL, 4, 0);
    struct vtd_req r = { .sid = SID, .pasid_present = true, .pasid = 5, .addr = 0x7000,
                         .write = true };
    assert_true(vtd_fault_inject(f->u, &r, VTD_FR_FL_NP));
    assert_int_equal(f->msis, 1);
    assert_int_equal(vtd_mmio_read(f->u, REG_OFF_FSTS, 4), HW_FM(FSTS, PPF));
    uint64_t hi = vtd_mmio_read(f->u, 0x608, 8);
    assert_int_equal(HW_FV(FRCD, FR, hi), VTD_FR_FL_NP);
    assert_int_equal(HW_FV(FRCD, PV, hi), 5);
    assert_int_equal(HW_FV(FRCD, SID, hi), SID);
    assert_int_equal(vtd_mmio_read(f->u, 0x600, 8), 0x7000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_queue_and_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guest_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_inject, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
