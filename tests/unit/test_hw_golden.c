/* Hand-typed expectations for what lib/hw.c derives from the field table:
 * the reserved mask of every structure (vtd-reference.md, section per
 * entry), hw_struct_find, hw_format and hw_print. The field-by-field golden
 * vectors are in test_hw_golden_regs.c, _tables.c and _desc.c. */
#include "test_hw_golden.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#define ALL ~0ULL

/* Reserved bits per qword, from the "rsvd" rows of the reference (and, for
 * 32-bit registers, bits 63:32 of the one-qword layout). */
static const struct {
    bool set;
    uint64_t q[8];
} spec_rsvd[HWS_COUNT] = {
    [HWS_VER]    = { 1, { 0xFFFFFFFFFFFFFF00ULL } },              /* §1.2 31:8 */
    [HWS_CAP]    = { 1, { 0x060000400080E000ULL } },              /* §1.3 15:13, 23, 38, 58:57 */
    /* §1.4: 5 (CH), 19:18, 24 (ECS), 27 (DIS), 28 (rev-2 PASID), 32 (POT),
     * 50 (TDXIO, one source only), 63:54. */
    [HWS_ECAP]   = { 1, { 0xFFC40001190C0020ULL } },
    [HWS_GCMD]   = { 1, { 0xFFFFFFFF007FFFFFULL } },              /* §1.5 22:0 */
    [HWS_GSTS]   = { 1, { 0xFFFFFFFF007FFFFFULL } },
    [HWS_RTADDR] = { 1, { 0x3FF } },                               /* §1.6 9:0 */
    [HWS_CCMD]   = { 1, { 0x07FFFFFC00000000ULL } },              /* §1.7 58:34 */
    [HWS_IVA]    = { 1, { 0xF80 } },                               /* §1.8 11:7 */
    [HWS_IOTLB]  = { 1, { 0x49FC0000FFFFFFFFULL } },              /* §1.8 31:0, 56:50, 59, 62 */
    [HWS_FSTS]   = { 1, { 0xFFFFFFFFFFFF0080ULL } },              /* §1.9 7 (PRO), 31:16 */
    [HWS_ECTL]   = { 1, { 0xFFFFFFFF3FFFFFFFULL } },              /* §1.10 29:0 */
    [HWS_EDATA]  = { 1, { 0xFFFFFFFF00000000ULL } },
    [HWS_EADDR]  = { 1, { 0xFFFFFFFF00000003ULL } },              /* §1.10 1:0 */
    [HWS_EUADDR] = { 1, { 0xFFFFFFFF00000000ULL } },
    [HWS_AFLOG]  = { 1, { 0x1FF } },                               /* §1.11 8:0 */
    [HWS_PMEN]   = { 1, { 0xFFFFFFFF7FFFFFFEULL } },              /* §1.11 30:1 */
    [HWS_IQH]    = { 1, { 0xFFFFFFFFFFF8000FULL } },              /* §1.12 3:0, 63:19 */
    [HWS_IQT]    = { 1, { 0xFFFFFFFFFFF8000FULL } },
    [HWS_IQA]    = { 1, { 0x7F8 } },                               /* §1.12 10:3 */
    [HWS_ICS]    = { 1, { 0xFFFFFFFFFFFFFFFEULL } },              /* §1.12 31:1 */
    [HWS_IQERCD] = { 1, { 0xFFFFFFF0ULL } },                       /* §1.12 31:4 */
    [HWS_IRTA]   = { 1, { 0x7F0 } },                               /* §1.13 10:4 */
    [HWS_PQH]    = { 1, { 0xFFFFFFFFFFF8001FULL } },              /* §1.14 4:0, 63:19 */
    [HWS_PQT]    = { 1, { 0xFFFFFFFFFFF8001FULL } },
    [HWS_PQA]    = { 1, { 0xFF8 } },                               /* §1.14 11:3 */
    [HWS_PRS]    = { 1, { 0xFFFFFFFFFFFFFFFCULL } },              /* §1.14 31:2 */
    [HWS_FRCD]   = { 1, { 0xFFF, 0x0FFF0000 } },                   /* §1.15 11:0, 91:80 */
    [HWS_ROOT]   = { 1, { 0xFFE, ALL } },                          /* §2.2 */
    [HWS_CTX]    = { 1, { 0xFF0, 0xFFFFFFFFFF000080ULL } },        /* §2.3, given explicitly */
    [HWS_SM_ROOT] = { 1, { 0xFFE, 0xFFE } },                       /* §2.7 */
    [HWS_SM_CTX] = { 1, { 0x1E0, 0xFFFFFFFFFFE00000ULL, ALL, ALL } }, /* §2.8 */
    [HWS_PASID_DIR] = { 1, { 0xFFC } },                            /* §2.9 11:2 */
    /* §2.10: 11:10, 86:80, 139:136, 511:192. */
    [HWS_PASID_PTE] = { 1, { 0xC00, 0x7F0000, 0xF00, ALL, ALL, ALL, ALL, ALL } },
    /* §3.4 / §3.2: every bit is named; PS/SNP/TM/address bits are reserved
     * only by level or capability, which the walkers check. */
    [HWS_FL_PTE] = { 1, { 0 } },
    [HWS_SL_PTE] = { 1, { 0 } },
    [HWS_INV_DESC] = { 1, { 0xFFFFFFFFFFFFF1F0ULL, ALL, ALL, ALL } }, /* type bits only */
    /* §4.3-§4.8 (QW2/QW3 reserved in 256-bit form, §4.1). */
    [HWS_INV_CC]     = { 1, { 0xFFFC00000000F1C0ULL, ALL, ALL, ALL } },
    [HWS_INV_IOTLB]  = { 1, { 0xFFFFFFFF0000F100ULL, 0xF80, ALL, ALL } },
    [HWS_INV_DEVTLB] = { 1, { 0x000F0000FFE001F0ULL, 0xFFE, ALL, ALL } },
    [HWS_INV_IEC]    = { 1, { 0xFFFF000007FFF1E0ULL, ALL, ALL, ALL } },
    [HWS_INV_WAIT]   = { 1, { 0x00000000FFFFF100ULL, 0x3, ALL, ALL } },
    [HWS_INV_PIOTLB] = { 1, { 0xFFF000000000F1C0ULL, 0xF80, ALL, ALL } },
    [HWS_INV_PC]     = { 1, { 0xFFF000000000F1C0ULL, ALL, ALL, ALL } },
    [HWS_INV_PDEVTLB] = { 1, { 0, 0x7FE, ALL, ALL } },
    /* §4.8: rev 3.x layout, private data in QW2/QW3. */
    [HWS_INV_PGRESP] = { 1, { 0xFFF00000000001C0ULL, 0xFFFFFFFFFFFFF003ULL, 0, 0 } },
    [HWS_PAGE_REQ]   = { 1, { 0xFFC000000000FC00ULL, 0, 0, 0 } },    /* §6.1 15:10, 63:54 */
    [HWS_IRTE]       = { 1, { 0xFF007000, 0xFFFFFFFFFFF00000ULL } }, /* §9.2 */
};

static void test_reserved_masks_every_structure(void **state)
{
    (void)state;
    unsigned bad = 0;
    for (unsigned i = 0; i < HWS_COUNT; i++) {
        const struct hw_struct_desc *s = &hw_structs[i];
        if (!spec_rsvd[i].set) {
            print_error("%s: no hand-typed reserved mask (add one and golden vectors)\n", s->id);
            bad++;
            continue;
        }
        for (unsigned q = 0; q < 8; q++)
            if (s->rsvd[q] != spec_rsvd[i].q[q]) {
                print_error("%s QW%u: table reserves %#018llx, reference %#018llx\n", s->id, q,
                            (unsigned long long)s->rsvd[q],
                            (unsigned long long)spec_rsvd[i].q[q]);
                bad++;
            }
    }
    assert_int_equal(bad, 0);
}

/* The compile-time HW_RSVD agrees with the run-time table (and is 0 past
 * the structure's end). */
static void test_reserved_macro(void **state)
{
    (void)state;
    assert_int_equal(HW_RSVD(CTX, 0), 0xFF0);
    assert_int_equal(HW_RSVD(CTX, 1), 0xFFFFFFFFFF000080ULL);
    assert_int_equal(HW_RSVD(CTX, 2), 0);
    assert_int_equal(HW_RSVD(SM_CTX, 1), 0xFFFFFFFFFFE00000ULL);
    assert_int_equal(HW_RSVD(SM_CTX, 3), ALL);
    assert_int_equal(HW_RSVD(PASID_PTE, 7), ALL);
    assert_int_equal(HW_RSVD(INV_WAIT, 0), 0xFFFFF100);
    assert_int_equal(HW_DEFINED(FL_PTE, 0), ALL);
}

/* QEMU's masks (§4.3-§4.8, §3.2) reserve extra bits for features it does
 * not implement; the difference is exactly those fields, which the spec
 * defines and we therefore do not reserve. */
static void test_qemu_masks(void **state)
{
    (void)state;
    /* Same as the spec. */
    assert_int_equal(hw_structs[HWS_INV_CC].rsvd[0], 0xFFFC00000000F1C0ULL);
    assert_int_equal(hw_structs[HWS_INV_IOTLB].rsvd[0], 0xFFFFFFFF0000F100ULL);
    assert_int_equal(hw_structs[HWS_INV_IOTLB].rsvd[1], 0xF80);
    assert_int_equal(hw_structs[HWS_INV_IEC].rsvd[0], 0xFFFF000007FFF1E0ULL);
    assert_int_equal(hw_structs[HWS_INV_PIOTLB].rsvd[1], 0xF80);
    assert_int_equal(hw_structs[HWS_INV_PC].rsvd[0], 0xFFF000000000F1C0ULL);
    assert_int_equal(hw_structs[HWS_INV_DEVTLB].rsvd[1], 0xFFE);
    assert_int_equal(hw_structs[HWS_INV_PDEVTLB].rsvd[1], 0x7FE);
    assert_int_equal(hw_structs[HWS_INV_PGRESP].rsvd[1], 0xFFFFFFFFFFFFF003ULL);
    assert_int_equal(hw_structs[HWS_INV_WAIT].rsvd[1], 0x3);
    /* Device-TLB (types 3 and 8): QEMU lacks PFSID (ECAP.DIT). */
    assert_int_equal(0xFFFF0000FFE0F1F0ULL ^ hw_structs[HWS_INV_DEVTLB].rsvd[0],
                     HW_FM(INV_DEVTLB, PFSID_LO) | HW_FM(INV_DEVTLB, PFSID_HI));
    assert_int_equal(0xFFF000000000F000ULL ^ hw_structs[HWS_INV_PDEVTLB].rsvd[0],
                     HW_FM(INV_PDEVTLB, PFSID_LO) | HW_FM(INV_PDEVTLB, PFSID_HI));
    /* Wait: QEMU's low-32 mask 0xFFFF_F180 adds PD (no ECAP.PDS). */
    assert_int_equal(0xFFFFF180ULL ^ (uint32_t)hw_structs[HWS_INV_WAIT].rsvd[0],
                     HW_FM(INV_WAIT, PD));
    /* Page group response: QEMU follows rev 4.x, where PDP is reserved. */
    assert_int_equal(0xFFF00000000001E0ULL ^ hw_structs[HWS_INV_PGRESP].rsvd[0],
                     HW_FM(INV_PGRESP, PDP));
    /* SL leaf: QEMU's 0x800 is SNP (no ECAP.SC). */
    assert_int_equal(HW_FM(SL_PTE, SNP), 0x800);
    assert_int_equal(HW_FM(SL_PTE, PS) | HW_FM(SL_PTE, SNP), 0x880);
    assert_int_equal(HW_FM(FL_PTE, PS), 0x80);
}

static void test_struct_find(void **state)
{
    (void)state;
    for (unsigned i = 0; i < HWS_COUNT; i++) {
        assert_ptr_equal(hw_struct_find(hw_structs[i].name), &hw_structs[i]);
        assert_ptr_equal(hw_struct_find(hw_structs[i].id), &hw_structs[i]);
    }
    static const struct { const char *name; enum hw_struct_id id; } k[] = {
        { "cap", HWS_CAP }, { "ECAP", HWS_ECAP }, { "gsts", HWS_GSTS }, { "fsts", HWS_FSTS },
        { "root-entry", HWS_ROOT }, { "context-entry", HWS_CTX }, { "CTX", HWS_CTX },
        { "sm-root-entry", HWS_SM_ROOT }, { "sm-context-entry", HWS_SM_CTX },
        { "pasid-dir-entry", HWS_PASID_DIR }, { "pasid-entry", HWS_PASID_PTE },
        { "Pasid-Entry", HWS_PASID_PTE }, { "pasid_pte", HWS_PASID_PTE },
        { "fl-pte", HWS_FL_PTE }, { "sl-pte", HWS_SL_PTE }, { "fault-record", HWS_FRCD },
        { "frcd", HWS_FRCD }, { "page-request", HWS_PAGE_REQ }, { "inv-cc", HWS_INV_CC },
        { "inv-desc", HWS_INV_DESC }, { "INV-WAIT", HWS_INV_WAIT }, { "irte", HWS_IRTE },
    };
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
        assert_ptr_equal(hw_struct_find(k[i].name), &hw_structs[k[i].id]);
    assert_null(hw_struct_find(""));
    assert_null(hw_struct_find("nosuch"));
    assert_null(hw_struct_find("pasid-entr"));
    assert_null(hw_struct_find("pasid-entry "));
}

/* Names are unique (case-insensitively), so lookups are unambiguous. */
static void test_struct_names_unique(void **state)
{
    (void)state;
    for (unsigned i = 0; i < HWS_COUNT; i++)
        for (unsigned j = 0; j < HWS_COUNT; j++) {
            if (i == j)
                continue;
            assert_true(strcasecmp(hw_structs[i].name, hw_structs[j].name) != 0);
            assert_true(strcasecmp(hw_structs[i].id, hw_structs[j].name) != 0);
            assert_true(strcasecmp(hw_structs[i].id, hw_structs[j].id) != 0);
        }
}

static void test_format_nonzero_only(void **state)
{
    (void)state;
    const uint64_t sva[8] = { 0x49, 0x800001, 0x123456020ULL };  /* as in _tables.c */
    char buf[256];
    size_t n = hw_format(buf, sizeof(buf), HWS_PASID_PTE, sva, 1);
    assert_string_equal(buf, "P=0x1 AW=0x2 PGTT=0x1 DID=0x1 PWSNP=0x1 NXE=0x1 FLPTPTR=0x123456");
    assert_int_equal(n, strlen(buf));
    const uint64_t zero[8] = { 0 };
    assert_int_equal(hw_format(buf, sizeof(buf), HWS_PASID_PTE, zero, 1), 0);
    assert_string_equal(buf, "");
}

static void test_format_all_fields(void **state)
{
    (void)state;
    const uint64_t root[2] = { 0x12345000, 0 };
    char buf[64];
    hw_format(buf, sizeof(buf), HWS_ROOT, root, 0);
    assert_string_equal(buf, "P=0 CTP=0x12345");
    hw_format(buf, sizeof(buf), HWS_ROOT, root, 1);
    assert_string_equal(buf, "CTP=0x12345");
}

/* Reserved bits are reported per qword after the fields: QW0 bit 4
 * (in 11:4) and QW1 bit 7 (abs 71) of a legacy context entry (§2.3). */
static void test_format_reserved_report(void **state)
{
    (void)state;
    const uint64_t ctx[2] = { 0x23456017, 0xC0 };
    char buf[256];
    hw_format(buf, sizeof(buf), HWS_CTX, ctx, 1);
    assert_string_equal(buf, "P=0x1 FPD=0x1 TT=0x1 SLPTPTR=0x23456 AVAIL=0x8 "
                             "RSVD[0]=0x10 RSVD[1]=0x80");
    const uint64_t only_rsvd[2] = { 0, 0x8000000000000000ULL };
    hw_format(buf, sizeof(buf), HWS_ROOT, only_rsvd, 1);
    assert_string_equal(buf, "RSVD[1]=0x8000000000000000");
}

/* Like snprintf: the full length is returned, the text is cut and ended. */
static void test_format_truncates(void **state)
{
    (void)state;
    const uint64_t ctx[2] = { 0x23456017, 0xC0 };
    char full[256], small[10];
    size_t n = hw_format(full, sizeof(full), HWS_CTX, ctx, 1);
    memset(small, 'x', sizeof(small));
    assert_int_equal(hw_format(small, sizeof(small), HWS_CTX, ctx, 1), n);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_memory_equal(small, full, sizeof(small) - 1);
    char one = 'x';
    assert_int_equal(hw_format(&one, 0, HWS_CTX, ctx, 1), n);
    assert_int_equal(one, 'x');
}

/* hw_print: one line per field (name, range, value) and the reserved
 * report with absolute bit numbers. */
static void test_print(void **state)
{
    (void)state;
    const uint64_t ctx[2] = { 0x23456007, 0xFFFFFFFFFF004280ULL };
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    hw_print(f, HWS_CTX, ctx);
    fclose(f);
    assert_non_null(strstr(text, "context-entry: Legacy context entry (§2.3)\n"));
    assert_non_null(strstr(text, "0x0000000023456007 0xffffffffff004280\n"));
    assert_non_null(strstr(text, "\n  SLPTPTR      63:12    0x23456 "));
    assert_non_null(strstr(text, "\n  DID          87:72    0x42 (66) "));
    assert_non_null(strstr(text, "\n  P            0        0x1 "));
    assert_non_null(strstr(text, "QW1 reserved bits set: 0xffffffffff000080 (bits 71, 127:88)\n"));
    assert_null(strstr(text, "QW0 reserved"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reserved_masks_every_structure),
        cmocka_unit_test(test_reserved_macro),
        cmocka_unit_test(test_qemu_masks),
        cmocka_unit_test(test_struct_find),
        cmocka_unit_test(test_struct_names_unique),
        cmocka_unit_test(test_format_nonzero_only),
        cmocka_unit_test(test_format_all_fields),
        cmocka_unit_test(test_format_reserved_report),
        cmocka_unit_test(test_format_truncates),
        cmocka_unit_test(test_print),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
