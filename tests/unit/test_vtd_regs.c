/* Register semantics of the remapping unit (vtd-reference.md §1): reset
 * values, read-only / writable / write-1-to-clear bits, 32- and 64-bit
 * access, GCMD/GSTS handshakes, register-based invalidation, fault
 * recording registers and the fault event. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>

#include "lib/hw_regs.h"
#include "vtd/tables.h"

struct msi_log { unsigned n; uint64_t addr; uint32_t data; };

static void msi_sink(void *opaque, uint64_t addr, uint32_t data)
{
    struct msi_log *l = opaque;
    l->n++, l->addr = addr, l->data = data;
}

struct fx {
    struct mem_arena *mem;
    struct vtd_unit *u;
    struct vtd_config c;
    struct msi_log msi;
};

static struct fx *fx_new(bool legacy)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->mem = mem_arena_create(0x100000000ULL, 64 << 20);
    legacy ? vtd_config_legacy(&f->c) : vtd_config_default(&f->c);
    f->c.msi = msi_sink, f->c.msi_opaque = &f->msi;
    f->u = vtd_unit_create(&f->c, f->mem);
    assert_non_null(f->u);
    return f;
}

static int setup(void **state) { *state = fx_new(false); return 0; }
static int setup_legacy(void **state) { *state = fx_new(true); return 0; }
static int teardown(void **state)
{
    struct fx *f = *state;
    vtd_unit_destroy(f->u);
    mem_arena_destroy(f->mem);
    free(f);
    return 0;
}

static uint64_t rd(struct fx *f, uint32_t off, unsigned size) { return vtd_mmio_read(f->u, off, size); }
static void wr(struct fx *f, uint32_t off, unsigned size, uint64_t v) { vtd_mmio_write(f->u, off, size, v); }

/* Reset values (§1.2-§1.14; event controls reset masked, decision in
 * lib/hw_regs.h). */
static void test_reset_values(void **state)
{
    struct fx *f = *state;
    assert_int_equal(rd(f, REG_OFF_VER, 4), 0x30);
    assert_int_equal(rd(f, REG_OFF_CAP, 8), f->c.cap);
    assert_int_equal(rd(f, REG_OFF_ECAP, 8), f->c.ecap);
    assert_int_equal(rd(f, REG_OFF_CAP, 4), (uint32_t)f->c.cap);
    assert_int_equal(rd(f, REG_OFF_CAP + 4, 4), f->c.cap >> 32);
    assert_int_equal(rd(f, REG_OFF_GSTS, 4), 0);
    assert_int_equal(rd(f, REG_OFF_FECTL, 4), 0x80000000u);
    assert_int_equal(rd(f, REG_OFF_IECTL, 4), 0x80000000u);
    assert_int_equal(rd(f, REG_OFF_PECTL, 4), 0x80000000u);
    static const uint32_t zero[] = { REG_OFF_RTADDR, REG_OFF_CCMD, REG_OFF_FSTS, REG_OFF_IQH,
                                     REG_OFF_IQT, REG_OFF_IQA, REG_OFF_ICS, REG_OFF_IQERCD,
                                     REG_OFF_PQH, REG_OFF_PQT, REG_OFF_PQA, REG_OFF_PRS };
    for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
        assert_int_equal(rd(f, zero[i], 4), 0);
    uint32_t iro = (uint32_t)HW_FV(ECAP, IRO, f->c.ecap) * 16;
    assert_int_equal(iro, 0x500);
    assert_int_equal(rd(f, iro, 8), 0);
    assert_int_equal(rd(f, iro + 8, 8), 0);
}

static void test_read_only_registers_ignore_writes(void **state)
{
    struct fx *f = *state;
    wr(f, REG_OFF_CAP, 8, ~0ULL);
    wr(f, REG_OFF_ECAP, 4, 0);
    wr(f, REG_OFF_VER, 4, 0x77);
    wr(f, REG_OFF_GSTS, 4, ~0u);
    wr(f, REG_OFF_IQH, 8, 0x100);
    wr(f, REG_OFF_IQERCD, 8, ~0ULL);
    assert_int_equal(rd(f, REG_OFF_CAP, 8), f->c.cap);
    assert_int_equal(rd(f, REG_OFF_ECAP, 8), f->c.ecap);
    assert_int_equal(rd(f, REG_OFF_VER, 4), 0x30);
    assert_int_equal(rd(f, REG_OFF_GSTS, 4), 0);
    assert_int_equal(rd(f, REG_OFF_IQH, 8), 0);
    assert_int_equal(rd(f, REG_OFF_IQERCD, 8), 0);
}

/* Writable masks: reserved bits read back as 0 (§1.6, §1.10, §1.12, §1.14). */
static void test_writable_masks(void **state)
{
    struct fx *f = *state;
    static const struct { uint32_t off; unsigned size; uint64_t want; } cases[] = {
        { REG_OFF_RTADDR, 8, 0xFFFFFFFFFFFFFC00ULL },
        { REG_OFF_IQA,    8, 0xFFFFFFFFFFFFF807ULL },
        { REG_OFF_IQT,    8, 0x7FFF0ULL },
        { REG_OFF_PQH,    8, 0x7FFE0ULL },
        { REG_OFF_PQT,    8, 0x7FFE0ULL },   /* software resets it (lib/hw_regs.h) */
        { REG_OFF_PQA,    8, 0xFFFFFFFFFFFFF007ULL },
        { REG_OFF_FEDATA, 4, 0xFFFFFFFFULL },
        { REG_OFF_FEADDR, 4, 0xFFFFFFFCULL },
        { REG_OFF_FEUADDR,4, 0xFFFFFFFFULL },
        { REG_OFF_IEADDR, 4, 0xFFFFFFFCULL },
        { REG_OFF_PEADDR, 4, 0xFFFFFFFCULL },
        { 0x500,          8, 0xFFFFFFFFFFFFF07FULL },   /* IVA */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wr(f, cases[i].off, cases[i].size, ~0ULL);
        if (rd(f, cases[i].off, cases[i].size) != cases[i].want)
            fail_msg("offset %#x: got %#llx want %#llx", cases[i].off,
                     (unsigned long long)rd(f, cases[i].off, cases[i].size),
                     (unsigned long long)cases[i].want);
    }
}

/* A legacy unit has no 256-bit descriptors (IQA.DW reserved, §1.12) and no
 * page request queue (PQ registers absent without ECAP.PRS). */
static void test_capability_narrowed_masks(void **state)
{
    struct fx *f = *state;
    wr(f, REG_OFF_IQA, 8, ~0ULL);
    assert_int_equal(rd(f, REG_OFF_IQA, 8), 0xFFFFFFFFFFFFF007ULL);
    wr(f, REG_OFF_PQA, 8, ~0ULL);
    wr(f, REG_OFF_PECTL, 4, 0);
    assert_int_equal(rd(f, REG_OFF_PQA, 8), 0);
    assert_int_equal(rd(f, REG_OFF_PECTL, 4), 0x80000000u);
}

/* 32-bit halves of a 64-bit register merge (os-driver-behaviour §2.1). */
static void test_split_access(void **state)
{
    struct fx *f = *state;
    wr(f, REG_OFF_RTADDR, 4, 0x12345C00);
    wr(f, REG_OFF_RTADDR + 4, 4, 0xABCD);
    assert_int_equal(rd(f, REG_OFF_RTADDR, 8), 0x0000ABCD12345C00ULL);
    wr(f, REG_OFF_RTADDR + 4, 4, 0);
    assert_int_equal(rd(f, REG_OFF_RTADDR, 8), 0x12345C00ULL);
    assert_int_equal(rd(f, REG_OFF_RTADDR + 4, 4), 0);
}

/* Unknown offsets, unsupported sizes and misaligned accesses are ignored. */
static void test_bad_accesses_ignored(void **state)
{
    struct fx *f = *state;
    wr(f, REG_OFF_RTADDR, 8, 0x5000);
    static const struct { uint32_t off; unsigned size; } bad[] = {
        { 0x030, 4 }, { 0x04C, 4 }, { 0xF00, 8 }, { 0x1000, 4 }, { 0xFFFFFFF0, 8 },
        { REG_OFF_RTADDR, 2 }, { REG_OFF_RTADDR, 1 }, { REG_OFF_RTADDR + 2, 4 },
        { REG_OFF_RTADDR + 4, 8 }, { REG_OFF_GCMD, 8 }, { REG_OFF_RTADDR, 16 },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wr(f, bad[i].off, bad[i].size, ~0ULL);
        assert_int_equal(rd(f, bad[i].off, bad[i].size), 0);
    }
    assert_int_equal(rd(f, REG_OFF_RTADDR, 8), 0x5000);
    assert_int_equal(rd(f, REG_OFF_GSTS, 4), 0);
}

/* GCMD/GSTS (§1.5): persistent commands follow the written bit, one-shot
 * commands report completion synchronously, GCMD reads as 0. */
static void test_gcmd_handshakes(void **state)
{
    struct fx *f = *state;
    const uint32_t TE = 1u << 31, SRTP = 1u << 30, WBF = 1u << 27, QIE = 1u << 26,
                   IRE = 1u << 25, SIRTP = 1u << 24;
    wr(f, REG_OFF_RTADDR, 8, 0x123000 | (1 << 10));
    wr(f, REG_OFF_GCMD, 4, SRTP);
    assert_int_equal(rd(f, REG_OFF_GSTS, 4), SRTP);   /* RTPS */
    assert_int_equal(rd(f, REG_OFF_GCMD, 4), 0);
    wr(f, REG_OFF_GCMD, 4, QIE);
    assert_int_equal(rd(f, REG_OFF_GSTS, 4), SRTP | QIE);
    wr(f, REG_OFF_GCMD, 4, QIE | TE);
    assert_int_equal(rd(f, REG_OFF_GSTS, 4), SRTP | QIE | TE);
    wr(f, REG_OFF_GCMD, 4, QIE | TE | WBF);
    assert_int_equal(rd(f, REG_OFF_GSTS, 4) & WBF, 0);   /* flush already done */
    wr(f, REG_OFF_GCMD, 4, QIE | TE | IRE | SIRTP);      /* no ECAP.IR: ignored */
    assert_int_equal(rd(f, REG_OFF_GSTS, 4), SRTP | QIE | TE);
    wr(f, REG_OFF_GCMD, 4, QIE);                         /* TE off */
    assert_int_equal(rd(f, REG_OFF_GSTS, 4), SRTP | QIE);
    wr(f, REG_OFF_GCMD, 4, 0);                           /* QIE off */
    assert_int_equal(rd(f, REG_OFF_GSTS, 4), SRTP);
}

/* SRTP latches RTADDR: a later RTADDR write changes nothing until the next
 * SRTP (§1.5). Verified through translation: the unit keeps using the
 * latched table. */
static void test_srtp_latches_root(void **state)
{
    struct fx *f = *state;
    struct vtd_tables t;
    uint64_t sl = 0, page = mem_frame_alloc(f->mem), ctx[2] = { 0 };
    assert_int_equal(vtd_tables_init(&t, f->mem, false), 0);
    assert_int_equal(vtd_sl_map(f->mem, &sl, 3, 0x1000, page, 12, 3), 0);
    HW_SET(CTX, P, ctx, 1), HW_SET(CTX, SLPTPTR, ctx, sl >> 12), HW_SET(CTX, AW, ctx, 1);
    HW_SET(CTX, DID, ctx, 5);
    assert_int_equal(vtd_tables_set_ctx(&t, 0x10, ctx), 0);
    assert_int_equal(vtd_program_root(f->u, t.root, 0, true), 0);
    wr(f, REG_OFF_RTADDR, 8, mem_frame_alloc(f->mem));   /* empty table, not latched */
    struct vtd_req req = { .sid = 0x10, .addr = 0x1008 };
    struct vtd_result r;
    vtd_translate(f->u, &req, &r);
    assert_int_equal(r.fault, 0);
    assert_int_equal(r.addr, page + 8);
    wr(f, REG_OFF_GCMD, 4, 1u << 31 | 1u << 30);          /* SRTP with TE kept */
    vtd_inv_context(f->u, VTD_CC_GLOBAL, 0, 0, 0);
    vtd_inv_iotlb(f->u, VTD_IOTLB_GLOBAL, 0, 0, 0, false);
    vtd_translate(f->u, &req, &r);
    assert_int_equal(r.fault, VTD_FR_ROOT_NP);
}

/* A legacy device in domain 5 with IOVA 0x1000 -> page, programmed and
 * translation enabled; returns the leaf entry address for remapping. */
static uint64_t legacy_device(struct fx *f, uint64_t page, uint64_t *leaf)
{
    struct vtd_tables t;
    uint64_t sl = 0, ctx[2] = { 0 };
    assert_int_equal(vtd_tables_init(&t, f->mem, false), 0);
    assert_int_equal(vtd_sl_map(f->mem, &sl, 3, 0x1000, page, 12, 3), 0);
    assert_int_equal(vtd_sl_entry_addr(f->mem, sl, 3, 0x1000, 1, leaf), 0);
    HW_SET(CTX, P, ctx, 1), HW_SET(CTX, SLPTPTR, ctx, sl >> 12), HW_SET(CTX, AW, ctx, 1);
    HW_SET(CTX, DID, ctx, 5);
    assert_int_equal(vtd_tables_set_ctx(&t, 0x10, ctx), 0);
    assert_int_equal(vtd_program_root(f->u, t.root, 0, true), 0);
    return t.root;
}

static uint64_t xlate_addr(struct fx *f, uint64_t iova)
{
    struct vtd_req req = { .sid = 0x10, .addr = iova };
    struct vtd_result r;
    vtd_translate(f->u, &req, &r);
    return r.fault ? ~0ULL : r.addr;
}

/* Register-based context and IOTLB invalidation (§1.7, §1.8): ICC/IVT
 * clear on completion, CAIG/IAIG report the granularity performed. */
static void test_register_invalidation(void **state)
{
    struct fx *f = *state;
    uint64_t p1 = mem_frame_alloc(f->mem), p2 = mem_frame_alloc(f->mem), leaf;
    legacy_device(f, p1, &leaf);
    assert_int_equal(xlate_addr(f, 0x1000), p1);
    mem_write64(f->mem, leaf, p2 | 3);
    assert_int_equal(xlate_addr(f, 0x1000), p1);          /* stale IOTLB entry */
    const uint32_t iva = 0x500, iotlb = 0x508;
    wr(f, iva, 8, 0x2000);                                 /* another page */
    wr(f, iotlb, 8, 1ULL << 63 | 3ULL << 60 | 5ULL << 32);
    assert_int_equal(rd(f, iotlb, 8), 3ULL << 60 | 3ULL << 57 | 5ULL << 32);
    assert_int_equal(xlate_addr(f, 0x1000), p1);
    wr(f, iotlb, 8, 1ULL << 63 | 2ULL << 60 | 6ULL << 32); /* other domain */
    assert_int_equal(rd(f, iotlb, 8) >> 57 & 3, 2);
    assert_int_equal(xlate_addr(f, 0x1000), p1);
    wr(f, iva, 8, 0x1000);
    wr(f, iotlb, 8, 1ULL << 63 | 3ULL << 60 | 5ULL << 32);
    assert_int_equal(xlate_addr(f, 0x1000), p2);
    /* AM beyond MAMV (9 on the legacy unit): performed domain-selective. */
    mem_write64(f->mem, leaf, p1 | 3);
    wr(f, iva, 8, 0x1000 | 10);
    wr(f, iotlb, 8, 1ULL << 63 | 3ULL << 60 | 5ULL << 32);
    assert_int_equal(rd(f, iotlb, 8) >> 57 & 3, 2);
    assert_int_equal(xlate_addr(f, 0x1000), p1);
    /* Context cache: global (CIRG=1) reported in CAIG. */
    wr(f, REG_OFF_CCMD, 8, 1ULL << 63 | 1ULL << 61);
    assert_int_equal(rd(f, REG_OFF_CCMD, 8), 1ULL << 61 | 1ULL << 59);
}

/* While QI is enabled register invalidation is refused: the command
 * completes at once with actual granularity 0 (decision, gcmd.c). */
static void test_register_invalidation_refused_with_qi(void **state)
{
    struct fx *f = *state;
    uint64_t p1 = mem_frame_alloc(f->mem), p2 = mem_frame_alloc(f->mem), leaf;
    legacy_device(f, p1, &leaf);
    assert_int_equal(xlate_addr(f, 0x1000), p1);
    mem_write64(f->mem, leaf, p2 | 3);
    wr(f, REG_OFF_GCMD, 4, 1u << 31 | 1u << 26);
    wr(f, 0x508, 8, 1ULL << 63 | 1ULL << 60);
    assert_int_equal(rd(f, 0x508, 8), 1ULL << 60);
    wr(f, REG_OFF_CCMD, 8, 1ULL << 63 | 1ULL << 61);
    assert_int_equal(rd(f, REG_OFF_CCMD, 8), 1ULL << 61);
    assert_int_equal(xlate_addr(f, 0x1000), p1);
}

/* Fault recording (§5.2): records fill from index 0 as a ring; PPF and
 * FRI; F is RW1C; a full ring sets PFO; the fault event fires once, on
 * the first pending condition, honouring IM/IP (§1.10, §5.3). */
static void test_fault_ring(void **state)
{
    struct fx *f = *state;
    uint64_t leaf;
    legacy_device(f, mem_frame_alloc(f->mem), &leaf);
    const uint32_t fro = 0x600, nfr = 4;
    wr(f, REG_OFF_FEDATA, 4, 0x4021);
    wr(f, REG_OFF_FEADDR, 4, 0xFEE01000);
    for (unsigned i = 0; i < nfr; i++)
        assert_int_equal(xlate_addr(f, 0x100000 + 0x1000 * i), ~0ULL);
    assert_int_equal(rd(f, REG_OFF_FSTS, 4), 0x2);         /* PPF, FRI 0 */
    assert_int_equal(rd(f, REG_OFF_FECTL, 4), 0xC0000000u); /* masked: IP */
    assert_int_equal(f->msi.n, 0);
    for (unsigned i = 0; i < nfr; i++) {
        assert_int_equal(rd(f, fro + 16 * i, 8), 0x100000 + 0x1000 * i);
        uint64_t hi = rd(f, fro + 16 * i + 8, 8);
        assert_int_equal(HW_FV(FRCD, F, hi), 1);
        assert_int_equal(HW_FV(FRCD, FR, hi), VTD_FR_READ);
        assert_int_equal(HW_FV(FRCD, SID, hi), 0x10);
        assert_int_equal(HW_FV(FRCD, T1, hi), 1);
    }
    wr(f, REG_OFF_FECTL, 4, 0);                             /* unmask: pending MSI sent */
    assert_int_equal(f->msi.n, 1);
    assert_int_equal(f->msi.addr, 0xFEE01000);
    assert_int_equal(f->msi.data, 0x4021);
    assert_int_equal(rd(f, REG_OFF_FECTL, 4), 0);
    assert_int_equal(xlate_addr(f, 0x200000), ~0ULL);       /* ring full */
    assert_int_equal(rd(f, REG_OFF_FSTS, 4), 0x3);          /* PFO | PPF */
    assert_int_equal(f->msi.n, 1);                          /* already pending */
    assert_int_equal(xlate_addr(f, 0x201000), ~0ULL);       /* dropped while PFO */
    wr(f, fro + 12, 4, 0x80000000u);                        /* clear F of record 0 */
    assert_int_equal(HW_FV(FRCD, F, rd(f, fro + 8, 8)), 0);
    for (unsigned i = 1; i < nfr; i++)
        wr(f, fro + 16 * i + 8, 8, 1ULL << 63);
    assert_int_equal(rd(f, REG_OFF_FSTS, 4), 0x1);          /* PPF gone, PFO stays */
    wr(f, REG_OFF_FSTS, 4, 0x1);
    assert_int_equal(rd(f, REG_OFF_FSTS, 4), 0);
    assert_int_equal(xlate_addr(f, 0x300000), ~0ULL);       /* next slot continues the ring */
    assert_int_equal(rd(f, REG_OFF_FSTS, 4), 0x2);          /* FRI 0 */
    assert_int_equal(rd(f, fro, 8), 0x300000);
    assert_int_equal(f->msi.n, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_registers_ignore_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writable_masks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capability_narrowed_masks, setup_legacy, teardown),
        cmocka_unit_test_setup_teardown(test_split_access, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_accesses_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gcmd_handshakes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_srtp_latches_root, setup_legacy, teardown),
        cmocka_unit_test_setup_teardown(test_register_invalidation, setup_legacy, teardown),
        cmocka_unit_test_setup_teardown(test_register_invalidation_refused_with_qi, setup_legacy,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fault_ring, setup_legacy, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
