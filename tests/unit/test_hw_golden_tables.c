/* Golden vectors for the translation structures, paging entries and the
 * IRTE (vtd-reference.md §2, §3, §9), typed by hand; see test_hw_golden.h. */
#include "test_hw_golden.h"

/* §2.2: present root entry -> context table at 0x12345000. */
static void test_root(void **state)
{
    (void)state;
    GOLDEN(g, ROOT, "root entry", 0x12345001, 0);
    GF(g, ROOT, P, 1);
    GF(g, ROOT, CTP, 0x12345);
    golden_done(&g);
    assert_int_equal(HW_RAW(ROOT, CTP, g.raw), 0x12345000);
}

/* §2.3: P, FPD, TT=01 (device-TLB allowed), SL table 0x23456000; QW1:
 * AW=2 (4-level, bits 66:64), AVAIL=0xA (70:67), DID=0x42 (87:72). */
static void test_context(void **state)
{
    (void)state;
    GOLDEN(g, CTX, "legacy context entry", 0x23456007, 0x4252);
    GF(g, CTX, P, 1);
    GF(g, CTX, FPD, 1);
    GF(g, CTX, TT, 1);
    GF(g, CTX, SLPTPTR, 0x23456);
    GF(g, CTX, AW, 2);
    GF(g, CTX, AVAIL, 0xA);
    GF(g, CTX, DID, 0x42);
    golden_done(&g);
    /* Levels = AW + 2, AGAW = 30 + 9 * AW (§2.3). */
    assert_int_equal(HW_GET(CTX, AW, g.raw) + 2, 4);
    assert_int_equal(30 + 9 * HW_GET(CTX, AW, g.raw), 48);
    /* Largest values: DID 0xFFFF is QW1 bits 23:8, AW 7 bits 2:0. */
    GOLDEN(m, CTX, "legacy context entry, full DID/AW", 0xFFFFFFFFFFFFF00BULL, 0xFFFF7FULL);
    GF(m, CTX, P, 1);
    GF(m, CTX, FPD, 1);
    GF(m, CTX, TT, 2);
    GF(m, CTX, SLPTPTR, 0xFFFFFFFFFFFFFULL);
    GF(m, CTX, AW, 7);
    GF(m, CTX, AVAIL, 0xF);
    GF(m, CTX, DID, 0xFFFF);
    golden_done(&m);
}

/* §2.7: both halves present. UCTP is abs 127:76 = QW1 63:12. */
static void test_sm_root(void **state)
{
    (void)state;
    GOLDEN(g, SM_ROOT, "scalable root entry", 0x11111001, 0x22222001);
    GF(g, SM_ROOT, LP, 1);
    GF(g, SM_ROOT, LCTP, 0x11111);
    GF(g, SM_ROOT, UP, 1);
    GF(g, SM_ROOT, UCTP, 0x22222);
    golden_done(&g);
}

/* §2.8 / os-driver §2.2: Linux writes lo = PASID-dir | PDTS<<9 | PRE |
 * PASIDE | DTE | P with PDTS=2 (one page, 512 entries), hi = RID_PASID 0. */
static void test_sm_context_linux(void **state)
{
    (void)state;
    GOLDEN(g, SM_CTX, "scalable context entry (Linux)", 0x3456741D, 0, 0, 0);
    GF(g, SM_CTX, P, 1);
    GF(g, SM_CTX, DTE, 1);
    GF(g, SM_CTX, PASIDE, 1);
    GF(g, SM_CTX, PRE, 1);
    GF(g, SM_CTX, PDTS, 2);
    GF(g, SM_CTX, PASIDDIRPTR, 0x34567);
    golden_done(&g);
    assert_int_equal(g.raw[0], 0x34567000ULL | 2 << 9 | 1 << 4 | 1 << 3 | 1 << 2 | 1);
    assert_int_equal(1u << (HW_GET(SM_CTX, PDTS, g.raw) + 7), 512);
}

/* §2.8: FPD, PDTS=7, RID_PASID=0xFFFFF (QW1 19:0), RID_PRIV (QW1 20). */
static void test_sm_context_rid(void **state)
{
    (void)state;
    GOLDEN(g, SM_CTX, "scalable context entry RID_PASID", 0x1E02, 0x1FFFFF, 0, 0);
    GF(g, SM_CTX, FPD, 1);
    GF(g, SM_CTX, PDTS, 7);
    GF(g, SM_CTX, PASIDDIRPTR, 1);
    GF(g, SM_CTX, RID_PASID, 0xFFFFF);
    GF(g, SM_CTX, RID_PRIV, 1);
    golden_done(&g);
}

/* §2.9 and its indexing: PASID 0x12345 -> directory index 0x48D, table
 * index 5. */
static void test_pasid_dir(void **state)
{
    (void)state;
    GOLDEN(g, PASID_DIR, "PASID directory entry", 0x45678003);
    GF(g, PASID_DIR, P, 1);
    GF(g, PASID_DIR, FPD, 1);
    GF(g, PASID_DIR, SMPTBLPTR, 0x45678);
    golden_done(&g);
    assert_int_equal(0x12345 >> 6, 0x48D);
    assert_int_equal(0x12345 & 0x3F, 5);
}

/* §2.10 / os-driver §2.2, §2.4: the PASID entry Linux writes for an SVA
 * bind: FLPTR = pgd (0x123456000), DID = 1 (FLPT_DEFAULT_DID), AW = agaw 2,
 * PWSNP (SMPWC), NXE, PGTT = 1 (first level), P; no SRE, FLPM = 0.
 * QW0 = P | 2<<2 | 1<<6; QW1 = DID | bit 23; QW2 = pgd | bit 5. */
static void test_pasid_entry_sva(void **state)
{
    (void)state;
    GOLDEN(g, PASID_PTE, "PASID entry (Linux SVA bind)", 0x49, 0x800001, 0x123456020ULL);
    GF(g, PASID_PTE, P, 1);
    GF(g, PASID_PTE, AW, 2);
    GF(g, PASID_PTE, PGTT, 1);
    GF(g, PASID_PTE, DID, 1);
    GF(g, PASID_PTE, PWSNP, 1);
    GF(g, PASID_PTE, NXE, 1);
    GF(g, PASID_PTE, FLPTPTR, 0x123456);
    golden_done(&g);
    assert_int_equal(HW_RAW(PASID_PTE, FLPTPTR, g.raw), 0x123456000ULL);
    assert_int_equal(HW_FQ(PASID_PTE, FLPTPTR), 2);
    assert_int_equal(HW_FQ(PASID_PTE, DID), 1);
}

/* §2.10: nested (PGTT=3) entry with every other field set.
 * QW0 = SLPTPTR 0xABCDE000 | SLADE 0x200 | PGTT 3<<6 | SLEE 0x20 | AW 3<<2
 *       | FPD | P;
 * QW1 = PAT 0x00070406 << 32 | PCD | PWT | EMT 6<<27 | EMTE | CD | PGSNP |
 *       PWSNP | DID 0xFFFF;
 * QW2 = FLPTPTR 0xFEDCBA9876543 << 12 | EAFE | SMEP | NXE | WPE | FLPM 1<<2
 *       | ERE | SRE. */
static void test_pasid_entry_all(void **state)
{
    (void)state;
    GOLDEN(g, PASID_PTE, "PASID entry all fields", 0xABCDE2EFULL, 0x00070406F780FFFFULL,
           0xFEDCBA98765430F7ULL);
    GF(g, PASID_PTE, P, 1);
    GF(g, PASID_PTE, FPD, 1);
    GF(g, PASID_PTE, AW, 3);
    GF(g, PASID_PTE, SLEE, 1);
    GF(g, PASID_PTE, PGTT, 3);
    GF(g, PASID_PTE, SLADE, 1);
    GF(g, PASID_PTE, SLPTPTR, 0xABCDE);
    GF(g, PASID_PTE, DID, 0xFFFF);
    GF(g, PASID_PTE, PWSNP, 1);
    GF(g, PASID_PTE, PGSNP, 1);
    GF(g, PASID_PTE, CD, 1);
    GF(g, PASID_PTE, EMTE, 1);
    GF(g, PASID_PTE, EMT, 6);
    GF(g, PASID_PTE, PWT, 1);
    GF(g, PASID_PTE, PCD, 1);
    GF(g, PASID_PTE, PAT, 0x00070406);
    GF(g, PASID_PTE, SRE, 1);
    GF(g, PASID_PTE, ERE, 1);
    GF(g, PASID_PTE, FLPM, 1);
    GF(g, PASID_PTE, WPE, 1);
    GF(g, PASID_PTE, NXE, 1);
    GF(g, PASID_PTE, SMEP, 1);
    GF(g, PASID_PTE, EAFE, 1);
    GF(g, PASID_PTE, FLPTPTR, 0xFEDCBA9876543ULL);
    golden_done(&g);
}

/* §3.4: a 4-KiB leaf as Linux writes DMA PTEs (P, RW, US, A, D, XD). */
static void test_fl_pte_linux(void **state)
{
    (void)state;
    GOLDEN(g, FL_PTE, "FL PTE (Linux DMA leaf)", 0x8000000123456067ULL);
    GF(g, FL_PTE, P, 1);
    GF(g, FL_PTE, RW, 1);
    GF(g, FL_PTE, US, 1);
    GF(g, FL_PTE, A, 1);
    GF(g, FL_PTE, D, 1);
    GF(g, FL_PTE, ADDR, 0x123456);
    GF(g, FL_PTE, XD, 1);
    golden_done(&g);
}

/* §3.4: the other bits: PWT 3, PCD 4, PS 7, G 8, ign 9, EA 10, ign 11,
 * ADDR 51:12 all ones, ign 62:52 all ones; P/RW/US/A/D/XD clear. */
static void test_fl_pte_other(void **state)
{
    (void)state;
    GOLDEN(g, FL_PTE, "FL PTE other bits", 0x7FFFFFFFFFFFFF98ULL);
    GF(g, FL_PTE, PWT, 1);
    GF(g, FL_PTE, PCD, 1);
    GF(g, FL_PTE, PS, 1);
    GF(g, FL_PTE, G, 1);
    GF(g, FL_PTE, IGN9, 1);
    GF(g, FL_PTE, EA, 1);
    GF(g, FL_PTE, IGN11, 1);
    GF(g, FL_PTE, ADDR, 0xFFFFFFFFFFULL);
    GF(g, FL_PTE, IGN, 0x7FF);
    golden_done(&g);
}

/* §3.2: Linux DMA_PTE_READ | DMA_PTE_WRITE leaf. */
static void test_sl_pte_linux(void **state)
{
    (void)state;
    GOLDEN(g, SL_PTE, "SL PTE (Linux R|W)", 0x87654003);
    GF(g, SL_PTE, R, 1);
    GF(g, SL_PTE, W, 1);
    GF(g, SL_PTE, ADDR, 0x87654);
    golden_done(&g);
}

/* §3.2: X 2, EMT 5:3 = 6, IPAT 6, PS 7, A 8, D 9, ign 10, SNP 11, ADDR 1,
 * ign 61:52 all ones, TM 62, ign 63. */
static void test_sl_pte_other(void **state)
{
    (void)state;
    GOLDEN(g, SL_PTE, "SL PTE other bits", 0xFFF0000000001FF4ULL);
    GF(g, SL_PTE, X, 1);
    GF(g, SL_PTE, EMT, 6);
    GF(g, SL_PTE, IPAT, 1);
    GF(g, SL_PTE, PS, 1);
    GF(g, SL_PTE, A, 1);
    GF(g, SL_PTE, D, 1);
    GF(g, SL_PTE, IGN10, 1);
    GF(g, SL_PTE, SNP, 1);
    GF(g, SL_PTE, ADDR, 1);
    GF(g, SL_PTE, IGN, 0x3FF);
    GF(g, SL_PTE, TM, 1);
    GF(g, SL_PTE, IGN63, 1);
    golden_done(&g);
    /* §3.2: QEMU's VTD_SL_IGN_COM = 0xBFF0_0000_0000_0000 = bit 63 + 61:52. */
    assert_int_equal(HW_FMK(SL_PTE, IGN, 0x3FF) | HW_FMK(SL_PTE, IGN63, 1),
                     0xBFF0000000000000ULL);
}

/* §9.2: remapped IRTE: P, DM, RH, fixed delivery, vector 0x31, xAPIC
 * destination 3 (DST bits 47:40 -> field 0x300), SID 00:1f.0, SVT=1. */
static void test_irte(void **state)
{
    (void)state;
    GOLDEN(g, IRTE, "IRTE remapped", 0x000003000031000DULL, 0x400F8);
    GF(g, IRTE, P, 1);
    GF(g, IRTE, DM, 1);
    GF(g, IRTE, RH, 1);
    GF(g, IRTE, V, 0x31);
    GF(g, IRTE, DST, 0x300);
    GF(g, IRTE, SID, 0x00F8);
    GF(g, IRTE, SVT, 1);
    golden_done(&g);
    GOLDEN(o, IRTE, "IRTE other fields", 0xFFFFFFFF00008FF2ULL, 0xBFFFF);
    GF(o, IRTE, FPD, 1);
    GF(o, IRTE, TM, 1);
    GF(o, IRTE, DLM, 7);
    GF(o, IRTE, AVAIL, 0xF);
    GF(o, IRTE, IM, 1);
    GF(o, IRTE, DST, 0xFFFFFFFF);
    GF(o, IRTE, SID, 0xFFFF);
    GF(o, IRTE, SQ, 3);
    GF(o, IRTE, SVT, 2);
    golden_done(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root),
        cmocka_unit_test(test_context),
        cmocka_unit_test(test_sm_root),
        cmocka_unit_test(test_sm_context_linux),
        cmocka_unit_test(test_sm_context_rid),
        cmocka_unit_test(test_pasid_dir),
        cmocka_unit_test(test_pasid_entry_sva),
        cmocka_unit_test(test_pasid_entry_all),
        cmocka_unit_test(test_fl_pte_linux),
        cmocka_unit_test(test_fl_pte_other),
        cmocka_unit_test(test_sl_pte_linux),
        cmocka_unit_test(test_sl_pte_other),
        cmocka_unit_test(test_irte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
