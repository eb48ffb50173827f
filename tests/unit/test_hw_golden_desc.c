/* Golden vectors for invalidation descriptors (vtd-reference.md §4), the
 * page request descriptor and the page group response (§6, os-driver §2.5,
 * §2.6), typed by hand; see test_hw_golden.h. Where Linux's macros give the
 * layout, the literal is also compared with Linux's shift expression. */
#include "test_hw_golden.h"

/* §4.1: type = QW0 3:0 | QW0 11:9 << 4. */
static void test_inv_desc_type_bits(void **state)
{
    (void)state;
    const uint64_t wait[4] = { 0x0000000200000025ULL, 0x1000 };
    assert_int_equal(HW_GET(INV_DESC, TYPE_LO, wait), 5);
    assert_int_equal(HW_GET(INV_DESC, TYPE_HI, wait), 0);
    GOLDEN(h, INV_DESC, "type 0x7f", 0xE0F);
    GF(h, INV_DESC, TYPE_LO, 0xF);
    GF(h, INV_DESC, TYPE_HI, 7);
    golden_done(&h);
    assert_int_equal(inv_desc_type(h.raw), 0x7F);
    const uint64_t hi_only[4] = { 0x200 };
    assert_int_equal(inv_desc_type(hi_only), 0x10);
    assert_int_equal(inv_desc_struct(0x10), HWS_INV_DESC);
    /* Every descriptor carries the type in QW0 3:0 and 11:9 (§4.1). */
#define TYPE_BITS(S) \
    assert_int_equal(HW_FM(S, TYPE_LO) | (uint64_t)HW_FQ(S, TYPE_LO) << 32, 0xF); \
    assert_int_equal(HW_FM(S, TYPE_HI) | (uint64_t)HW_FQ(S, TYPE_HI) << 32, 0xE00)
    TYPE_BITS(INV_DESC);
    TYPE_BITS(INV_CC);
    TYPE_BITS(INV_IOTLB);
    TYPE_BITS(INV_DEVTLB);
    TYPE_BITS(INV_IEC);
    TYPE_BITS(INV_WAIT);
    TYPE_BITS(INV_PIOTLB);
    TYPE_BITS(INV_PC);
    TYPE_BITS(INV_PDEVTLB);
    TYPE_BITS(INV_PGRESP);
#undef TYPE_BITS
}

/* §4.3 / os-driver §2.6: FM<<48 | SID<<32 | DID<<16 | G<<4 | 1. */
static void test_inv_cc(void **state)
{
    (void)state;
    GOLDEN(g, INV_CC, "context-cache device-selective", 0x0003010800420031ULL, 0, 0, 0);
    GF(g, INV_CC, TYPE_LO, 1);
    GF(g, INV_CC, G, 3);
    GF(g, INV_CC, DID, 0x42);
    GF(g, INV_CC, SID, 0x0108);
    GF(g, INV_CC, FM, 3);
    golden_done(&g);
    assert_int_equal(g.raw[0], 3ULL << 48 | 0x0108ULL << 32 | 0x42 << 16 | 3 << 4 | 1);
    GOLDEN(gl, INV_CC, "context-cache global", 0x11);
    GF(gl, INV_CC, TYPE_LO, 1);
    GF(gl, INV_CC, G, 1);
    golden_done(&gl);
}

/* §4.4 / os-driver §2.6: PSI of 16 pages (AM=4) at 0x12340000, IH, DID 2,
 * DR, DW. qw0 = DID<<16 | DR<<7 | DW<<6 | G<<4 | 2; qw1 = ADDR | IH<<6 | AM. */
static void test_inv_iotlb(void **state)
{
    (void)state;
    GOLDEN(g, INV_IOTLB, "IOTLB PSI", 0x200F2, 0x12340044);
    GF(g, INV_IOTLB, TYPE_LO, 2);
    GF(g, INV_IOTLB, G, 3);
    GF(g, INV_IOTLB, DW, 1);
    GF(g, INV_IOTLB, DR, 1);
    GF(g, INV_IOTLB, DID, 2);
    GF(g, INV_IOTLB, AM, 4);
    GF(g, INV_IOTLB, IH, 1);
    GF(g, INV_IOTLB, ADDR, 0x12340);
    golden_done(&g);
    assert_int_equal(g.raw[0], 2 << 16 | 1 << 7 | 1 << 6 | 3 << 4 | 2);
    assert_int_equal(g.raw[1], 0x12340000 | 1 << 6 | 4);
}

/* §4.5 / os-driver §2.6: SID<<32 | QDEP<<16 | PFSID[3:0]<<12 |
 * PFSID[15:4]<<52 | 3; 8 pages at 0x40000000 in the ATS size encoding
 * (ADDR bits 13:12 set, bit 14 clear) with S=1. */
static void test_inv_devtlb(void **state)
{
    (void)state;
    GOLDEN(g, INV_DEVTLB, "device-TLB", 0xABC001000010D003ULL, 0x40003001);
    GF(g, INV_DEVTLB, TYPE_LO, 3);
    GF(g, INV_DEVTLB, PFSID_LO, 0xD);
    GF(g, INV_DEVTLB, MIP, 0x10);
    GF(g, INV_DEVTLB, SID, 0x0100);
    GF(g, INV_DEVTLB, PFSID_HI, 0xABC);
    GF(g, INV_DEVTLB, S, 1);
    GF(g, INV_DEVTLB, ADDR, 0x40003);
    golden_done(&g);
    const uint64_t pfsid = 0xABCD;
    assert_int_equal(g.raw[0], 0x0100ULL << 32 | 0x10 << 16 | (pfsid & 0xF) << 12 |
                               (pfsid >> 4) << 52 | 3);
}

/* §4.6: index-selective, IM=2, IIDX=0x40. */
static void test_inv_iec(void **state)
{
    (void)state;
    GOLDEN(g, INV_IEC, "IEC index-selective", 0x0000004010000014ULL);
    GF(g, INV_IEC, TYPE_LO, 4);
    GF(g, INV_IEC, G, 1);
    GF(g, INV_IEC, IM, 2);
    GF(g, INV_IEC, IIDX, 0x40);
    golden_done(&g);
}

/* §4.7 / os-driver §2.1: Linux's wait qw0 = 2<<32 | SW(bit 5) | 5, qw1 =
 * the status word's address (dword aligned). */
static void test_inv_wait_linux(void **state)
{
    (void)state;
    GOLDEN(g, INV_WAIT, "wait (Linux)", 0x0000000200000025ULL, 0x7F001230);
    GF(g, INV_WAIT, TYPE_LO, 5);
    GF(g, INV_WAIT, SW, 1);
    GF(g, INV_WAIT, STDATA, 2);
    GF(g, INV_WAIT, STADDR, 0x1FC0048C);
    golden_done(&g);
    assert_int_equal(g.raw[0], 2ULL << 32 | 1 << 5 | 5);
    assert_int_equal(HW_RAW(INV_WAIT, STADDR, g.raw), 0x7F001230);
    /* The drain wait (§4.7): IF | FN | PD, no status write. */
    GOLDEN(d, INV_WAIT, "wait IF|FN|PD", 0xD5);
    GF(d, INV_WAIT, TYPE_LO, 5);
    GF(d, INV_WAIT, IF, 1);
    GF(d, INV_WAIT, FN, 1);
    GF(d, INV_WAIT, PD, 1);
    golden_done(&d);
}

/* §4.8 / os-driver §2.4: SVA unmap: PASID-IOTLB page-selective-within-PASID
 * (G=3), DID 1, PASID 0x12345, one page at 0x7FFFF000, IH. */
static void test_inv_piotlb(void **state)
{
    (void)state;
    GOLDEN(g, INV_PIOTLB, "PASID-IOTLB PSI", 0x0001234500010036ULL, 0x7FFFF040);
    GF(g, INV_PIOTLB, TYPE_LO, 6);
    GF(g, INV_PIOTLB, G, 3);
    GF(g, INV_PIOTLB, DID, 1);
    GF(g, INV_PIOTLB, PASID, 0x12345);
    GF(g, INV_PIOTLB, IH, 1);
    GF(g, INV_PIOTLB, ADDR, 0x7FFFF);
    golden_done(&g);
    assert_int_equal(g.raw[0], 0x12345ULL << 32 | 1 << 16 | 3 << 4 | 6);
    GOLDEN(a, INV_PIOTLB, "PASID-IOTLB AM", 0x0000000000020026ULL, 0xFFFFFFFFFFFFF03FULL);
    GF(a, INV_PIOTLB, TYPE_LO, 6);
    GF(a, INV_PIOTLB, G, 2);
    GF(a, INV_PIOTLB, DID, 2);
    GF(a, INV_PIOTLB, AM, 0x3F);
    GF(a, INV_PIOTLB, ADDR, 0xFFFFFFFFFFFFFULL);
    golden_done(&a);
}

/* §4.8 / os-driver §2.6: PASID-cache PASID-selective (G=1) and global (3). */
static void test_inv_pc(void **state)
{
    (void)state;
    GOLDEN(g, INV_PC, "PASID-cache PASID-selective", 0x0001234500010017ULL);
    GF(g, INV_PC, TYPE_LO, 7);
    GF(g, INV_PC, G, 1);
    GF(g, INV_PC, DID, 1);
    GF(g, INV_PC, PASID, 0x12345);
    golden_done(&g);
    assert_int_equal(g.raw[0], 0x12345ULL << 32 | 1 << 16 | 1 << 4 | 7);
    GOLDEN(gl, INV_PC, "PASID-cache global", 0x37);
    GF(gl, INV_PC, TYPE_LO, 7);
    GF(gl, INV_PC, G, 3);
    golden_done(&gl);
}

/* §4.8 / os-driver §2.6: PASID<<32 | SID<<16 | QDEP<<4 | PFSID (3:0 at 15:12,
 * 15:4 at 63:52) | 8; qw1 = 16 pages at 0x7FF00000 in the ATS size encoding
 * (bits 14:12 set, 15 clear) | S (bit 11) | G (bit 0). */
static void test_inv_pdevtlb(void **state)
{
    (void)state;
    GOLDEN(g, INV_PDEVTLB, "PASID device-TLB", 0x1231234500F881F8ULL, 0x7FF07801);
    GF(g, INV_PDEVTLB, TYPE_LO, 8);
    GF(g, INV_PDEVTLB, MIP, 0x1F);
    GF(g, INV_PDEVTLB, PFSID_LO, 8);
    GF(g, INV_PDEVTLB, SID, 0x00F8);
    GF(g, INV_PDEVTLB, PASID, 0x12345);
    GF(g, INV_PDEVTLB, PFSID_HI, 0x123);
    GF(g, INV_PDEVTLB, G, 1);
    GF(g, INV_PDEVTLB, S, 1);
    GF(g, INV_PDEVTLB, ADDR, 0x7FF07);
    golden_done(&g);
    assert_int_equal(g.raw[0], 0x12345ULL << 32 | 0xF8 << 16 | 0x1F << 4 | 0x8 << 12 |
                               0x123ULL << 52 | 8);
    assert_int_equal(g.raw[1], 0x7FF07000 | 1 << 11 | 1);
}

/* §6.1 / os-driver §2.5: a page request as the device side writes it:
 * type 1 (QEMU's value), PASID present, RID 00:1f.0, PASID 0x12345; read +
 * write, last in group, PRGI 5, page 0x7FFFF000. */
static void test_page_request(void **state)
{
    (void)state;
    GOLDEN(g, PAGE_REQ, "page request", 0x0001234500F80101ULL, 0x7FFFF02F, 0, 0);
    GF(g, PAGE_REQ, TYPE, 1);
    GF(g, PAGE_REQ, PP, 1);
    GF(g, PAGE_REQ, RID, 0x00F8);
    GF(g, PAGE_REQ, PASID, 0x12345);
    GF(g, PAGE_REQ, RDR, 1);
    GF(g, PAGE_REQ, WRR, 1);
    GF(g, PAGE_REQ, LPIG, 1);
    GF(g, PAGE_REQ, PRGI, 5);
    GF(g, PAGE_REQ, ADDR, 0x7FFFF);
    golden_done(&g);
    /* A stop marker with EXE/PM and private data (bit layout). */
    GOLDEN(s, PAGE_REQ, "page request EXE/PM/PDP", 0x0030000000000201ULL, 0x4,
           0x1111111111111111ULL, 0x2222222222222222ULL);
    GF(s, PAGE_REQ, TYPE, 1);
    GF(s, PAGE_REQ, PDP, 1);
    GF(s, PAGE_REQ, EXE, 1);
    GF(s, PAGE_REQ, PRIV, 1);
    GF(s, PAGE_REQ, LPIG, 1);
    GF(s, PAGE_REQ, PRIV_DATA0, 0x1111111111111111ULL);
    GF(s, PAGE_REQ, PRIV_DATA1, 0x2222222222222222ULL);
    golden_done(&s);
}

/* §4.8 / os-driver §2.5: the response Linux sends: qw0 = PASID<<32 |
 * RID<<16 | code<<12 | PDP<<5 | PP<<4 | 9; qw1 = PRGI<<3 | LPIG<<2; qw2/qw3
 * = private data. Here code 1 (invalid), PDP, PP, PRGI 0x1FF, LPIG. */
static void test_page_group_response(void **state)
{
    (void)state;
    GOLDEN(g, INV_PGRESP, "page group response", 0x0001234500F81039ULL, 0xFFC,
           0x0123456789ABCDEFULL, 0xFEDCBA9876543210ULL);
    GF(g, INV_PGRESP, TYPE_LO, 9);
    GF(g, INV_PGRESP, PP, 1);
    GF(g, INV_PGRESP, PDP, 1);
    GF(g, INV_PGRESP, RC, 1);
    GF(g, INV_PGRESP, RID, 0x00F8);
    GF(g, INV_PGRESP, PASID, 0x12345);
    GF(g, INV_PGRESP, LPIG, 1);
    GF(g, INV_PGRESP, PRGI, 0x1FF);
    GF(g, INV_PGRESP, PRIV_DATA0, 0x0123456789ABCDEFULL);
    GF(g, INV_PGRESP, PRIV_DATA1, 0xFEDCBA9876543210ULL);
    golden_done(&g);
    assert_int_equal(g.raw[0], 0x12345ULL << 32 | 0xF8 << 16 | 1 << 12 | 1 << 5 | 1 << 4 | 9);
    assert_int_equal(g.raw[1], 0x1FF << 3 | 1 << 2);
}

/* §6.4: the response to the page request above echoes RID, PASID, PP,
 * PRGI and LPIG; built field by field it equals Linux's expression. */
static void test_response_echoes_request(void **state)
{
    (void)state;
    const uint64_t req[4] = { 0x0001234500F80101ULL, 0x7FFFF02F, 0, 0 };
    uint64_t resp[4] = { 0 };
    HW_SET(INV_PGRESP, TYPE_LO, resp, INV_TYPE_PGRESP);
    HW_SET(INV_PGRESP, PP, resp, HW_GET(PAGE_REQ, PP, req));
    HW_SET(INV_PGRESP, RID, resp, HW_GET(PAGE_REQ, RID, req));
    HW_SET(INV_PGRESP, PASID, resp, HW_GET(PAGE_REQ, PASID, req));
    HW_SET(INV_PGRESP, LPIG, resp, HW_GET(PAGE_REQ, LPIG, req));
    HW_SET(INV_PGRESP, PRGI, resp, HW_GET(PAGE_REQ, PRGI, req));
    assert_int_equal(resp[0], 0x0001234500F80019ULL);
    assert_int_equal(resp[1], 5 << 3 | 1 << 2);
    assert_int_equal(resp[2] | resp[3], 0);
}

/* §4.2: every Linux descriptor above reports its own type. */
static void test_inv_desc_type_all_nine(void **state)
{
    (void)state;
    static const struct { uint64_t qw0; unsigned type; enum hw_struct_id sid; } d[] = {
        { 0x0003010800420031ULL, 1, HWS_INV_CC },
        { 0x00000000000200F2ULL, 2, HWS_INV_IOTLB },
        { 0xABC001000010D003ULL, 3, HWS_INV_DEVTLB },
        { 0x0000004010000014ULL, 4, HWS_INV_IEC },
        { 0x0000000200000025ULL, 5, HWS_INV_WAIT },
        { 0x0001234500010036ULL, 6, HWS_INV_PIOTLB },
        { 0x0001234500010017ULL, 7, HWS_INV_PC },
        { 0x1231234500F881F8ULL, 8, HWS_INV_PDEVTLB },
        { 0x0001234500F81039ULL, 9, HWS_INV_PGRESP },
    };
    for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
        const uint64_t q[4] = { d[i].qw0 };
        assert_int_equal(inv_desc_type(q), d[i].type);
        assert_int_equal(inv_desc_struct(d[i].type), d[i].sid);
    }
    /* 0 and the rev-2.x page stream response 0xA are not descriptors here. */
    assert_int_equal(inv_desc_struct(0), HWS_INV_DESC);
    assert_int_equal(inv_desc_struct(0xA), HWS_INV_DESC);
    assert_int_equal(inv_desc_struct(0x7F), HWS_INV_DESC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inv_desc_type_bits),
        cmocka_unit_test(test_inv_cc),
        cmocka_unit_test(test_inv_iotlb),
        cmocka_unit_test(test_inv_devtlb),
        cmocka_unit_test(test_inv_iec),
        cmocka_unit_test(test_inv_wait_linux),
        cmocka_unit_test(test_inv_piotlb),
        cmocka_unit_test(test_inv_pc),
        cmocka_unit_test(test_inv_pdevtlb),
        cmocka_unit_test(test_page_request),
        cmocka_unit_test(test_page_group_response),
        cmocka_unit_test(test_response_echoes_request),
        cmocka_unit_test(test_inv_desc_type_all_nine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
