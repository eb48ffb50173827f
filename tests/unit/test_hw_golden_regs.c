/* Golden vectors for the register layouts (vtd-reference.md §1), typed by
 * hand; see test_hw_golden.h for what each vector checks. */
#include "test_hw_golden.h"

/* §1.2: version 3.1. */
static void test_ver(void **state)
{
    (void)state;
    GOLDEN(g, VER, "VER 3.1", 0x31);
    GF(g, VER, MAX, 3);
    GF(g, VER, MIN, 1);
    golden_done(&g);
}

/* os-driver-behaviour.md §1: "CAP = 0x01090080402f0482: ND=2, CM, SAGAW=4,
 * MGAW=47, FRO=0x40 (records at 0x400), PSI, MAMV=9, FL1GP". */
static void test_cap_linux(void **state)
{
    (void)state;
    GOLDEN(g, CAP, "CAP (os-driver §1)", 0x01090080402f0482ULL);
    GF(g, CAP, ND, 2);
    GF(g, CAP, CM, 1);
    GF(g, CAP, SAGAW, 0x4);
    GF(g, CAP, MGAW, 47);
    GF(g, CAP, FRO, 0x40);
    GF(g, CAP, PSI, 1);
    GF(g, CAP, MAMV, 9);
    GF(g, CAP, FL1GP, 1);
    golden_done(&g);
    /* What Linux derives from it (§1.3, os-driver §1). */
    assert_int_equal(1u << (4 + 2 * HW_GET(CAP, ND, g.raw)), 256);
    assert_int_equal(HW_GET(CAP, FRO, g.raw) * 16, 0x400);
    assert_int_equal(HW_GET(CAP, MGAW, g.raw) + 1, 48);
}

/* §1.3: every other CAP field, with the reserved bits 15:13, 23, 38 and
 * 58:57 left clear. Bytes, high to low: F9 FF 07 8C 22 78 0C 7E. */
static void test_cap_all_fields(void **state)
{
    (void)state;
    GOLDEN(g, CAP, "CAP all fields", 0xF9FF078C22780C7EULL);
    GF(g, CAP, ND, 6);          /* 2:0 = 110 */
    GF(g, CAP, AFL, 1);         /* 3 */
    GF(g, CAP, RWBF, 1);        /* 4 */
    GF(g, CAP, PLMR, 1);        /* 5 */
    GF(g, CAP, PHMR, 1);        /* 6 */
    GF(g, CAP, SAGAW, 0xC);     /* bits 10, 11: 4- and 5-level */
    GF(g, CAP, MGAW, 0x38);     /* 56 -> 57-bit */
    GF(g, CAP, ZLR, 1);         /* 22 */
    GF(g, CAP, FRO, 0x22);      /* QEMU: FRCD at 0x220 (§10.3) */
    GF(g, CAP, SLLPS, 3);       /* 34, 35: 2M + 1G */
    GF(g, CAP, PSI, 1);         /* 39 */
    GF(g, CAP, NFR, 7);         /* 47:40 */
    GF(g, CAP, MAMV, 0x3F);     /* 53:48 */
    GF(g, CAP, DWD, 1);         /* 54 */
    GF(g, CAP, DRD, 1);         /* 55 */
    GF(g, CAP, FL1GP, 1);       /* 56 */
    GF(g, CAP, PI, 1);          /* 59 */
    GF(g, CAP, FL5LP, 1);       /* 60 */
    GF(g, CAP, ECMDS, 1);       /* 61 */
    GF(g, CAP, ESIRTPS, 1);     /* 62 */
    GF(g, CAP, ESRTPS, 1);      /* 63 */
    golden_done(&g);
}

/* os-driver-behaviour.md §1: "ECAP = 0x0001cd9820003007: C, QI, DT,
 * IRO=0x30, PRS, PSS=19, PASID, PDS, SMTS, SLTS, FLTS, SMPWC". */
static void test_ecap_linux(void **state)
{
    (void)state;
    GOLDEN(g, ECAP, "ECAP (os-driver §1)", 0x0001cd9820003007ULL);
    GF(g, ECAP, C, 1);
    GF(g, ECAP, QI, 1);
    GF(g, ECAP, DT, 1);
    GF(g, ECAP, IRO, 0x30);
    GF(g, ECAP, PRS, 1);
    GF(g, ECAP, PSS, 19);
    GF(g, ECAP, PASID, 1);
    GF(g, ECAP, PDS, 1);
    GF(g, ECAP, SMTS, 1);
    GF(g, ECAP, SLTS, 1);
    GF(g, ECAP, FLTS, 1);
    GF(g, ECAP, SMPWCS, 1);
    golden_done(&g);
    /* intel_pasid_max_id = min(2 << PSS, 1 << 20) (os-driver §1). */
    assert_int_equal(2u << HW_GET(ECAP, PSS, g.raw), 1u << 20);
    assert_int_equal(HW_GET(ECAP, IRO, g.raw) * 16, 0x300);
}

/* §1.4: the remaining ECAP fields; reserved 5, 19:18, 24, 27, 28, 32, 50,
 * 63:54 clear. Bytes, high to low: 00 3A 32 06 C6 F0 0F D8. */
static void test_ecap_all_fields(void **state)
{
    (void)state;
    GOLDEN(g, ECAP, "ECAP all fields", 0x003A3206C6F00FD8ULL);
    GF(g, ECAP, IR, 1);         /* 3 */
    GF(g, ECAP, EIM, 1);        /* 4 */
    GF(g, ECAP, PT, 1);         /* 6 */
    GF(g, ECAP, SC, 1);         /* 7 */
    GF(g, ECAP, IRO, 0xF);      /* QEMU: IVA at 0xF0 */
    GF(g, ECAP, MHMV, 0xF);     /* 23:20 */
    GF(g, ECAP, MTS, 1);        /* 25 */
    GF(g, ECAP, NEST, 1);       /* 26 */
    GF(g, ECAP, ERS, 1);        /* 30 */
    GF(g, ECAP, SRS, 1);        /* 31 */
    GF(g, ECAP, NWFS, 1);       /* 33 */
    GF(g, ECAP, EAFS, 1);       /* 34 */
    GF(g, ECAP, DIT, 1);        /* 41 */
    GF(g, ECAP, VCS, 1);        /* 44 */
    GF(g, ECAP, SLADS, 1);      /* 45 */
    GF(g, ECAP, RPS, 1);        /* 49 */
    GF(g, ECAP, PMS, 1);        /* 51 */
    GF(g, ECAP, ADMS, 1);       /* 52 */
    GF(g, ECAP, RPRIVS, 1);     /* 53 */
    golden_done(&g);
}

/* §1.5: Linux's cached gcmd with TE and QIE plus the one-shot SRTP. */
static void test_gcmd(void **state)
{
    (void)state;
    GOLDEN(g, GCMD, "GCMD TE|SRTP|QIE", 0xC4000000);
    GF(g, GCMD, TE, 1);
    GF(g, GCMD, SRTP, 1);
    GF(g, GCMD, QIE, 1);
    golden_done(&g);
    GOLDEN(all, GCMD, "GCMD all", 0xFF800000);
    GF(all, GCMD, CFI, 1);
    GF(all, GCMD, SIRTP, 1);
    GF(all, GCMD, IRE, 1);
    GF(all, GCMD, QIE, 1);
    GF(all, GCMD, WBF, 1);
    GF(all, GCMD, EAFL, 1);
    GF(all, GCMD, SFL, 1);
    GF(all, GCMD, SRTP, 1);
    GF(all, GCMD, TE, 1);
    golden_done(&all);
}

/* §1.5: TES | QIES | IRES | IRTPS. */
static void test_gsts(void **state)
{
    (void)state;
    GOLDEN(g, GSTS, "GSTS", 0x87000000);
    GF(g, GSTS, TES, 1);
    GF(g, GSTS, QIES, 1);
    GF(g, GSTS, IRES, 1);
    GF(g, GSTS, IRTPS, 1);
    golden_done(&g);
    GOLDEN(all, GSTS, "GSTS all", 0xFF800000);
    GF(all, GSTS, CFIS, 1);
    GF(all, GSTS, IRTPS, 1);
    GF(all, GSTS, IRES, 1);
    GF(all, GSTS, QIES, 1);
    GF(all, GSTS, WBFS, 1);
    GF(all, GSTS, AFLS, 1);
    GF(all, GSTS, FLS, 1);
    GF(all, GSTS, RTPS, 1);
    GF(all, GSTS, TES, 1);
    golden_done(&all);
}

/* §1.6 / os-driver §2.1: RTADDR <- root_phys | SMT(bit 10). */
static void test_rtaddr(void **state)
{
    (void)state;
    GOLDEN(g, RTADDR, "RTADDR scalable", 0x12345400);
    GF(g, RTADDR, TTM, 1);
    GF(g, RTADDR, RTA, 0x12345);
    golden_done(&g);
    assert_int_equal(HW_RAW(RTADDR, RTA, g.raw), 0x12345000);
}

/* §1.7: device-selective, FM=1, SID 00:1f.0, DID 0x42, CAIG reported 3. */
static void test_ccmd(void **state)
{
    (void)state;
    GOLDEN(g, CCMD, "CCMD", 0xF800000100F80042ULL);
    GF(g, CCMD, ICC, 1);
    GF(g, CCMD, CIRG, 3);
    GF(g, CCMD, CAIG, 3);
    GF(g, CCMD, FM, 1);
    GF(g, CCMD, SID, 0x00F8);
    GF(g, CCMD, DID, 0x42);
    golden_done(&g);
}

/* §1.8: IVA = 4 pages (AM=2) at 0xABCDC000 (16 KiB aligned), IH. */
static void test_iva(void **state)
{
    (void)state;
    GOLDEN(g, IVA, "IVA", 0xABCDC042);
    GF(g, IVA, ADDR, 0xABCDC);
    GF(g, IVA, IH, 1);
    GF(g, IVA, AM, 2);
    golden_done(&g);
}

/* §1.8: IOTLB DSI for DID 0x1234 with draining, IAIG reported DSI. */
static void test_iotlb_reg(void **state)
{
    (void)state;
    GOLDEN(g, IOTLB, "IOTLB", 0xA403123400000000ULL);
    GF(g, IOTLB, IVT, 1);
    GF(g, IOTLB, IIRG, 2);
    GF(g, IOTLB, IAIG, 2);
    GF(g, IOTLB, DR, 1);
    GF(g, IOTLB, DW, 1);
    GF(g, IOTLB, DID, 0x1234);
    golden_done(&g);
}

/* §1.9: every status bit, FRI = 0xAB. */
static void test_fsts(void **state)
{
    (void)state;
    GOLDEN(g, FSTS, "FSTS", 0xAB7F);
    GF(g, FSTS, PFO, 1);
    GF(g, FSTS, PPF, 1);
    GF(g, FSTS, AFO, 1);
    GF(g, FSTS, APF, 1);
    GF(g, FSTS, IQE, 1);
    GF(g, FSTS, ICE, 1);
    GF(g, FSTS, ITE, 1);
    GF(g, FSTS, FRI, 0xAB);
    golden_done(&g);
}

/* §1.10: the event-interrupt quad. */
static void test_event_regs(void **state)
{
    (void)state;
    GOLDEN(c, ECTL, "xECTL IM|IP", 0xC0000000);
    GF(c, ECTL, IM, 1);
    GF(c, ECTL, IP, 1);
    golden_done(&c);
    GOLDEN(d, EDATA, "xEDATA", 0x12340041);
    GF(d, EDATA, IMD, 0x0041);
    GF(d, EDATA, EIMD, 0x1234);
    golden_done(&d);
    GOLDEN(a, EADDR, "xEADDR", 0xFEE01004);
    GF(a, EADDR, MA, 0x3FB80401);
    golden_done(&a);
    GOLDEN(u, EUADDR, "xEUADDR", 0xDEADBEEF);
    GF(u, EUADDR, MUA, 0xDEADBEEF);
    golden_done(&u);
}

/* §1.11: AFLOG and PMEN. */
static void test_aflog_pmen(void **state)
{
    (void)state;
    GOLDEN(a, AFLOG, "AFLOG", 0x7654321A00ULL);
    GF(a, AFLOG, FLA, 0x7654321);
    GF(a, AFLOG, FLS, 5);
    golden_done(&a);
    GOLDEN(p, PMEN, "PMEN", 0x80000001);
    GF(p, PMEN, EPM, 1);
    GF(p, PMEN, PRS, 1);
    golden_done(&p);
}

/* §1.12 / os-driver §2.1: IQA <- phys | DW | QS=1; IQT = index << 5. */
static void test_iq_regs(void **state)
{
    (void)state;
    GOLDEN(h, IQH, "IQH = slot 5 of 32 B", 0xA0);
    GF(h, IQH, QH, 0xA);
    golden_done(&h);
    GOLDEN(t, IQT, "IQT = 3 << 5", 0x60);
    GF(t, IQT, QT, 6);
    golden_done(&t);
    GOLDEN(a, IQA, "IQA Linux", 0x7F000801);
    GF(a, IQA, IQA, 0x7F000);
    GF(a, IQA, DW, 1);
    GF(a, IQA, QS, 1);
    golden_done(&a);
    GOLDEN(c, ICS, "ICS", 0x1);
    GF(c, ICS, IWC, 1);
    golden_done(&c);
    GOLDEN(e, IQERCD, "IQERCD", 0x010800F800000004ULL);
    GF(e, IQERCD, ICESID, 0x0108);
    GF(e, IQERCD, ITESID, 0x00F8);
    GF(e, IQERCD, IQEI, 4);
    golden_done(&e);
}

/* §1.13: 64K-entry table in x2APIC mode. */
static void test_irta(void **state)
{
    (void)state;
    GOLDEN(g, IRTA, "IRTA", 0x1234580F);
    GF(g, IRTA, IRTA, 0x12345);
    GF(g, IRTA, EIME, 1);
    GF(g, IRTA, S, 0xF);
    golden_done(&g);
}

/* §1.14 / os-driver §2.1: PQA <- phys | 4; 32-byte descriptors. */
static void test_pq_regs(void **state)
{
    (void)state;
    GOLDEN(h, PQH, "PQH", 0x1FE0);
    GF(h, PQH, PQH, 0xFF);
    golden_done(&h);
    GOLDEN(t, PQT, "PQT last slot of 64 KiB", 0xFFE0);
    GF(t, PQT, PQT, 0x7FF);
    golden_done(&t);
    GOLDEN(a, PQA, "PQA Linux", 0x89ABC004);
    GF(a, PQA, PQA, 0x89ABC);
    GF(a, PQA, PQS, 4);
    golden_done(&a);
    GOLDEN(s, PRS, "PRS", 0x3);
    GF(s, PRS, PPR, 1);
    GF(s, PRS, PRO, 1);
    golden_done(&s);
}

/* §1.15 / os-driver §2.7: a read fault, as Linux reads the record: dword 3
 * (+12) = F[31] T[30] PASID[27:8] FR[7:0]; dword 2 (+8) = PP[31] SID[15:0];
 * qword 0 = address. */
static void test_frcd_linux(void **state)
{
    (void)state;
    GOLDEN(g, FRCD, "FRCD Linux view", 0x7FFFF000, 0xC1234571800000F8ULL);
    GF(g, FRCD, FI, 0x7FFFF);
    GF(g, FRCD, SID, 0x00F8);
    GF(g, FRCD, PP, 1);
    GF(g, FRCD, FR, 0x71);
    GF(g, FRCD, PV, 0x12345);
    GF(g, FRCD, T1, 1);
    GF(g, FRCD, F, 1);
    golden_done(&g);
    uint32_t dw2 = (uint32_t)g.raw[1], dw3 = (uint32_t)(g.raw[1] >> 32);
    assert_int_equal(dw3 >> 31, HW_GET(FRCD, F, g.raw));
    assert_int_equal((dw3 >> 30) & 1, HW_GET(FRCD, T1, g.raw));
    assert_int_equal((dw3 >> 8) & 0xFFFFF, HW_GET(FRCD, PV, g.raw));
    assert_int_equal(dw3 & 0xFF, HW_GET(FRCD, FR, g.raw));
    assert_int_equal(dw2 >> 31, HW_GET(FRCD, PP, g.raw));
    assert_int_equal(dw2 & 0xFFFF, HW_GET(FRCD, SID, g.raw));
    assert_int_equal(g.raw[0] & ~0xFFFULL, HW_RAW(FRCD, FI, g.raw));
    /* Software clears the record by writing F (bit 31 of dword 3). */
    assert_int_equal(HW_FM(FRCD, F), 1ULL << 63);
    assert_int_equal(HW_FQ(FRCD, F), 1);
}

/* §1.15: T2/PRIV/EXE/AT, and an interrupt-remapping fault whose FI[63:48]
 * holds the interrupt index 0x0123 (a bit-layout vector). */
static void test_frcd_other_bits(void **state)
{
    (void)state;
    GOLDEN(g, FRCD, "FRCD T2/PRIV/EXE/AT", 0x0123000000000000ULL, 0xA000002270001234ULL);
    GF(g, FRCD, FI, 0x123000000000ULL);
    GF(g, FRCD, SID, 0x1234);
    GF(g, FRCD, T2, 1);
    GF(g, FRCD, PRIV, 1);
    GF(g, FRCD, EXE, 1);
    GF(g, FRCD, FR, 0x22);
    GF(g, FRCD, AT, 2);
    GF(g, FRCD, F, 1);
    golden_done(&g);
    assert_int_equal(g.raw[0] >> 48, 0x0123);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ver),
        cmocka_unit_test(test_cap_linux),
        cmocka_unit_test(test_cap_all_fields),
        cmocka_unit_test(test_ecap_linux),
        cmocka_unit_test(test_ecap_all_fields),
        cmocka_unit_test(test_gcmd),
        cmocka_unit_test(test_gsts),
        cmocka_unit_test(test_rtaddr),
        cmocka_unit_test(test_ccmd),
        cmocka_unit_test(test_iva),
        cmocka_unit_test(test_iotlb_reg),
        cmocka_unit_test(test_fsts),
        cmocka_unit_test(test_event_regs),
        cmocka_unit_test(test_aflog_pmen),
        cmocka_unit_test(test_iq_regs),
        cmocka_unit_test(test_irta),
        cmocka_unit_test(test_pq_regs),
        cmocka_unit_test(test_frcd_linux),
        cmocka_unit_test(test_frcd_other_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
