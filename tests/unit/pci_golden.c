/* The field table and register table against values typed by hand from
 * the PCIe 5.0 register figures (never computed from pci/pci_fields.h):
 * field positions, reserved masks, the whole reset image of the test
 * function, and what every dword reads after software writes all-ones to
 * it (RW masks, RO bits, RW1C bits, BAR size masks, reserved space). */
#include "test_pci.h"

#include <strings.h>

/* ---- field positions (HI, LO) from the spec figures -------------------- */
#define POS(S, F, hi, lo) { #S "." #F, S##_##F##_HI, S##_##F##_LO, hi, lo }
static const struct { const char *name; int hi, lo, want_hi, want_lo; } positions[] = {
    POS(PCI_CMD, MEM, 1, 1),          POS(PCI_CMD, BME, 2, 2),
    POS(PCI_CMD, INTXD, 10, 10),      POS(PCI_STS, CAPL, 4, 4),
    POS(PCI_STS, RMA, 13, 13),        POS(PCI_HDRTYPE, MF, 7, 7),
    POS(PCI_BAR, TYPE, 2, 1),         POS(PCI_BAR, PREF, 3, 3),
    POS(PCI_BAR, ADDR, 31, 4),        POS(PCI_EXTHDR, ID, 15, 0),
    POS(PCI_EXTHDR, VER, 19, 16),     POS(PCI_EXTHDR, NEXT, 31, 20),
    POS(PCIE_CAPS, VER, 3, 0),        POS(PCIE_CAPS, TYPE, 7, 4),
    POS(PCIE_DEVCAP, MPSS, 2, 0),     POS(PCIE_DEVCTL, MPS, 7, 5),
    POS(PCIE_DEVCTL, MRRS, 14, 12),   POS(PCIE_DEVCAP2, EXTFMT, 20, 20),
    POS(PCIE_DEVCAP2, EETLP, 21, 21), POS(PCIE_DEVCAP2, MAXEETLP, 23, 22),
    POS(PCI_MSICTL, EN, 0, 0),        POS(PCI_MSICTL, MMC, 3, 1),
    POS(PCI_MSICTL, MME, 6, 4),       POS(PCI_MSICTL, A64, 7, 7),
    POS(PCI_MSICTL, PVM, 8, 8),       POS(PCI_ATSCAP, INVQD, 4, 0),
    POS(PCI_ATSCAP, PAR, 5, 5),       POS(PCI_ATSCTL, STU, 4, 0),
    POS(PCI_ATSCTL, EN, 15, 15),      POS(PCI_PASIDCAP, EXEC, 1, 1),
    POS(PCI_PASIDCAP, PRIV, 2, 2),    POS(PCI_PASIDCAP, WIDTH, 12, 8),
    POS(PCI_PASIDCTL, EN, 0, 0),      POS(PCI_PASIDCTL, EXEC, 1, 1),
    POS(PCI_PASIDCTL, PRIV, 2, 2),    POS(PCI_PRICTL, EN, 0, 0),
    POS(PCI_PRICTL, RESET, 1, 1),     POS(PCI_PRISTS, RF, 0, 0),
    POS(PCI_PRISTS, UPRGI, 1, 1),     POS(PCI_PRISTS, STOPPED, 8, 8),
    POS(PCI_PRISTS, PASIDREQ, 15, 15),
};

static void test_field_positions(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(positions) / sizeof(positions[0]); i++) {
        if (positions[i].hi != positions[i].want_hi || positions[i].lo != positions[i].want_lo)
            fail_msg("%s is %d:%d, spec %d:%d", positions[i].name, positions[i].hi,
                     positions[i].lo, positions[i].want_hi, positions[i].want_lo);
    }
}

/* ---- reserved masks: register width above, undefined bits inside ------- */
static const struct { enum pci_struct_id id; uint64_t defined; } defined_bits[] = {
    { PCIS_PCI_ID, 0xFFFF },          { PCIS_PCI_CMD, 0x0547 },
    { PCIS_PCI_STS, 0xF918 },         { PCIS_PCI_REVCLASS, 0xFFFFFFFF },
    { PCIS_PCI_CLS, 0xFF },           { PCIS_PCI_HDRTYPE, 0xFF },
    { PCIS_PCI_BAR, 0xFFFFFFFF },     { PCIS_PCI_CAPPTR, 0xFF },
    { PCIS_PCI_INTLINE, 0xFF },       { PCIS_PCI_INTPIN, 0xFF },
    { PCIS_PCI_CAPHDR, 0xFFFF },      { PCIS_PCI_EXTHDR, 0xFFFFFFFF },
    { PCIS_PCIE_CAPS, 0x3FFF },       { PCIS_PCIE_DEVCAP, 0x1FFD8FFF },
    { PCIS_PCIE_DEVCTL, 0xFFFF },     { PCIS_PCIE_DEVSTA, 0x003F },
    { PCIS_PCIE_DEVCAP2, 0x87FFFFFF },{ PCIS_PCIE_DEVCTL2, 0xFFFF },
    { PCIS_PCI_MSICTL, 0x07FF },      { PCIS_PCI_MSIADDR, 0xFFFFFFFC },
    { PCIS_PCI_MSIUADDR, 0xFFFFFFFF },{ PCIS_PCI_MSIDATA, 0xFFFF },
    { PCIS_PCI_MSIVEC, 0xFFFFFFFF },  { PCIS_PCI_ATSCAP, 0x00FF },
    { PCIS_PCI_ATSCTL, 0x801F },      { PCIS_PCI_PASIDCAP, 0x1F06 },
    { PCIS_PCI_PASIDCTL, 0x0007 },    { PCIS_PCI_PRICTL, 0x0003 },
    { PCIS_PCI_PRISTS, 0x8103 },      { PCIS_PCI_PRICAP, 0xFFFFFFFF },
    { PCIS_PCI_PRIALLOC, 0xFFFFFFFF },
};

static void test_reserved_masks(void **state)
{
    (void)state;
    assert_int_equal(sizeof(defined_bits) / sizeof(defined_bits[0]), PCIS_COUNT);
    for (size_t i = 0; i < PCIS_COUNT; i++) {
        const struct hw_struct_desc *s = &pci_structs[defined_bits[i].id];
        if (s->rsvd[0] != ~defined_bits[i].defined)
            fail_msg("%s reserved %#llx, spec %#llx", s->id, (unsigned long long)s->rsvd[0],
                     (unsigned long long)~defined_bits[i].defined);
        assert_int_equal(s->qwords, 1);
    }
}

static void test_struct_names(void **state)
{
    (void)state;
    assert_ptr_equal(pci_struct_find("pri-status"), &pci_structs[PCIS_PCI_PRISTS]);
    assert_ptr_equal(pci_struct_find("PCIE_DEVCAP2"), &pci_structs[PCIS_PCIE_DEVCAP2]);
    assert_null(pci_struct_find("no-such"));
    for (unsigned i = 0; i < PCIS_COUNT; i++)
        for (unsigned j = i + 1; j < PCIS_COUNT; j++) {
            assert_true(strcasecmp(pci_structs[i].name, pci_structs[j].name));
            assert_true(strcasecmp(pci_structs[i].id, pci_structs[j].id));
        }
    for (unsigned r = 0; r < PCI_REG_COUNT; r++)
        assert_non_null(pci_regs[r].name);
}

/* ---- whole-space images -------------------------------------------------- */
struct dw { unsigned off; uint32_t v; };

/* Every dword of the 4 KiB space is either listed or reads 0. */
static void check_image(struct pci_func *f, const struct dw *img, size_t n, const char *what)
{
    unsigned errors = 0;
    for (unsigned off = 0; off < PCI_CFG_SIZE; off += 4) {
        uint32_t want = 0;
        for (size_t i = 0; i < n; i++)
            if (img[i].off == off)
                want = img[i].v;
        uint32_t got = rd(f, off, 4);
        if (got != want) {
            print_error("%s: %#05x reads %#010x, expected %#010x\n", what, off, got, want);
            errors++;
        }
    }
    if (errors)
        fail_msg("%s: %u dword(s) differ", what, errors);
}

/* Layout: PCIe cap at 0x40 (60 bytes), MSI at 0x7C, ATS 0x100, PASID 0x108,
 * PRI 0x110; values from §7.5.1, §7.5.3, §7.7.1, §7.8.8, §10.5. */
static const struct dw reset_image[] = {
    { 0x000, 0x5A5A8086 }, { 0x004, 0x00100000 },  /* Status.CAPL */
    { 0x008, 0x03800000 }, { 0x010, 0x0000000C },  /* BAR0: 64-bit, prefetchable */
    { 0x02C, 0x5A5A8086 }, { 0x034, 0x00000040 },
    { 0x040, 0x00927C10 },                         /* ID 10, next 7C, v2 type 9 */
    { 0x044, 0x00008021 },                         /* MPSS 256, ext tag, RBER */
    { 0x048, 0x00002810 },                         /* RO, no snoop, MRRS 512 */
    { 0x064, 0x00700000 },                         /* ext fmt, EETLP, 1 prefix */
    { 0x07C, 0x01800005 },                         /* MSI: 64-bit, PVM, 1 vector */
    { 0x100, 0x1081000F }, { 0x104, 0x00000020 },  /* ATS: next 108, InvQD 32, PAR */
    { 0x108, 0x1101001B }, { 0x10C, 0x00001406 },  /* PASID: width 20, exec, priv */
    { 0x110, 0x00010013 }, { 0x114, 0x81000000 },  /* PRI: Stopped, PASID required */
    { 0x118, 0x00001000 },
};

static void test_reset_image(void **state)
{
    (void)state;
    struct pci_func *f = tfunc_new(NULL);
    check_image(f, reset_image, sizeof(reset_image) / sizeof(reset_image[0]), "reset");
    free(f);
}

/* After 0xFFFFFFFF is written to every dword, low to high. */
static const struct dw ones_image[] = {
    { 0x000, 0x5A5A8086 },
    { 0x004, 0x00100546 },   /* MEM BME PERR SERR INTXD; RW1C status stays 0 */
    { 0x008, 0x03800000 }, { 0x00C, 0x000000FF },   /* cache line size RW */
    { 0x010, 0xFF00000C }, { 0x014, 0xFFFFFFFF },   /* BAR0/1: 16 MiB, 64-bit */
    { 0x018, 0xFFFF0000 },                          /* BAR2: 64 KiB, 32-bit */
    { 0x02C, 0x5A5A8086 }, { 0x034, 0x00000040 }, { 0x03C, 0x000000FF },
    { 0x040, 0x00927C10 }, { 0x044, 0x00008021 },
    { 0x048, 0x000079FF },   /* DEVCTL: no phantom / aux PM / FLR; DEVSTA RW1C */
    { 0x064, 0x00700000 },   /* DEVCTL2 all read-only */
    { 0x07C, 0x01F10005 },   /* MSI enable + MME 7 */
    { 0x080, 0xFFFFFFFC }, { 0x084, 0xFFFFFFFF }, { 0x088, 0x0000FFFF },
    { 0x08C, 0x00000001 },   /* one vector: one mask bit */
    { 0x100, 0x1081000F }, { 0x104, 0x801F0020 },   /* ATS enable, STU 31 */
    { 0x108, 0x1101001B }, { 0x10C, 0x00071406 },
    { 0x110, 0x00010013 },
    { 0x114, 0x80000001 },   /* PRI enabled: Reset reads 0, Stopped clear */
    { 0x118, 0x00001000 }, { 0x11C, 0xFFFFFFFF },
};

static void test_all_ones_image(void **state)
{
    (void)state;
    struct pci_func *f = tfunc_new(NULL);
    for (unsigned off = 0; off < PCI_CFG_SIZE; off += 4)
        wr(f, off, 4, 0xFFFFFFFF);
    check_image(f, ones_image, sizeof(ones_image) / sizeof(ones_image[0]), "all-ones");
    pci_func_reset(f);
    check_image(f, reset_image, sizeof(reset_image) / sizeof(reset_image[0]), "after reset");
    free(f);
}

/* The same with byte writes: the semantics are per byte, not per access. */
static void test_all_ones_bytes(void **state)
{
    (void)state;
    struct pci_func *f = tfunc_new(NULL);
    for (unsigned off = 0; off < PCI_CFG_SIZE; off++)
        wr(f, off, 1, 0xFF);
    check_image(f, ones_image, sizeof(ones_image) / sizeof(ones_image[0]), "byte ones");
    free(f);
}

/* Decoding literals with the generated accessors. */
static void test_decode_literals(void **state)
{
    (void)state;
    assert_int_equal(HW_FV(PCIE_CAPS, TYPE, 0x0092), 9);
    assert_int_equal(HW_FV(PCIE_CAPS, VER, 0x0092), 2);
    assert_int_equal(HW_FV(PCIE_DEVCAP2, MAXEETLP, 0x00700000), 1);
    assert_int_equal(HW_FV(PCI_EXTHDR, NEXT, 0x1081000F), 0x108);
    assert_int_equal(HW_FV(PCI_PASIDCAP, WIDTH, 0x1406), 20);
    assert_int_equal(HW_FV(PCI_ATSCTL, EN, 0x8000), 1);
    assert_int_equal(HW_FV(PCI_ATSCTL, STU, 0x8000), 0);
    assert_int_equal(HW_FMK(PCI_PRISTS, STOPPED, 1), 0x100);
    assert_int_equal(HW_FMK(PCI_MSICTL, MME, 3), 0x30);
}

const struct CMUnitTest pci_golden_tests[] = {
    cmocka_unit_test(test_field_positions), cmocka_unit_test(test_reserved_masks),
    cmocka_unit_test(test_struct_names),    cmocka_unit_test(test_reset_image),
    cmocka_unit_test(test_all_ones_image),  cmocka_unit_test(test_all_ones_bytes),
    cmocka_unit_test(test_decode_literals),
};
const size_t pci_golden_ntests = sizeof(pci_golden_tests) / sizeof(pci_golden_tests[0]);
