/* BDF numbers and text forms, and the bus: functions by BDF, configuration
 * routing by BDF and ECAM offset, all-ones for absent functions, memory
 * routing to enabled BARs and unclaimed accesses. */
#include "test_pci.h"

#include <errno.h>
#include <stdio.h>

static void test_bdf_pack(void **state)
{
    (void)state;
    assert_int_equal(pci_bdf(1, 2, 3), 0x0113);
    assert_int_equal(pci_bdf(0xFF, 0x1F, 7), 0xFFFF);
    assert_int_equal(pci_bdf(0, 0, 0), 0);
    uint16_t b = pci_bdf(0x3A, 0x15, 6);
    assert_int_equal(pci_bdf_bus(b), 0x3A);
    assert_int_equal(pci_bdf_dev(b), 0x15);
    assert_int_equal(pci_bdf_fn(b), 6);
    assert_int_equal(pci_bdf_devfn(b), 0x15 << 3 | 6);
    assert_int_equal(pci_ecam_offset(pci_bdf(1, 2, 3), 0x104), 1 << 20 | 2 << 15 | 3 << 12 | 0x104);
}

static void test_bdf_parse_good(void **state)
{
    (void)state;
    static const struct { const char *s; uint16_t seg, bdf; } good[] = {
        { "0000:01:00.0", 0, 0x0100 }, { "01:00.0", 0, 0x0100 },
        { "ff:1f.7", 0, 0xFFFF },      { "FF:1F.7", 0, 0xFFFF },
        { "abcd:12:0a.3", 0xABCD, 0x1253 }, { "00:00.0", 0, 0 },
        { "FFFF:00:02.1", 0xFFFF, 0x0011 },
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint16_t seg = 0x5555, bdf = 0x5555;
        if (pci_bdf_parse(good[i].s, &seg, &bdf) != 0)
            fail_msg("'%s' refused", good[i].s);
        assert_int_equal(seg, good[i].seg);
        assert_int_equal(bdf, good[i].bdf);
        assert_int_equal(pci_bdf_parse(good[i].s, NULL, &bdf), 0);
    }
}

static void test_bdf_parse_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "1:00.0", "01:0.0", "01:00", "01:00.8", "01:20.0", "01:ff.0", "0000:01:00.0 ",
        " 01:00.0", "0x1:00.0", "01:00.00", "00000:01:00.0", "000:01:00.0", "01-00.0",
        "01:00:0", "g1:00.0", "0000.01:00.0", "+1:00.0", "01:00.-", "0000:01:00", "0000::01:00.0",
        "0000:01:00.0\n", "01:00.a", "-001:00.0", "0000:1:00.0x",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint16_t seg = 0x5555, bdf = 0x5555;
        if (pci_bdf_parse(bad[i], &seg, &bdf) != -EINVAL)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(seg, 0x5555);                    /* outputs untouched */
        assert_int_equal(bdf, 0x5555);
    }
    uint16_t bdf;
    assert_int_equal(pci_bdf_parse(NULL, NULL, &bdf), -EINVAL);
    assert_int_equal(pci_bdf_parse("01:00.0", NULL, NULL), -EINVAL);
}

static void test_bdf_format_roundtrip(void **state)
{
    (void)state;
    char buf[PCI_BDF_STRLEN];
    assert_int_equal(pci_bdf_format(buf, sizeof(buf), 0x0100), 7);
    assert_string_equal(buf, "01:00.0");
    assert_int_equal(pci_bdf_format_full(buf, sizeof(buf), 0xABCD, 0xFFFF), 12);
    assert_string_equal(buf, "abcd:ff:1f.7");
    assert_int_equal(pci_bdf_format(buf, 4, 0x0100), 7);     /* truncated, as snprintf */
    assert_string_equal(buf, "01:");
    for (unsigned v = 0; v <= 0xFFFF; v++) {
        uint16_t seg = 1, bdf = 0;
        pci_bdf_format_full(buf, sizeof(buf), (uint16_t)(v ^ 0x1234), (uint16_t)v);
        assert_int_equal(pci_bdf_parse(buf, &seg, &bdf), 0);
        assert_int_equal(bdf, v);
        assert_int_equal(seg, v ^ 0x1234);
        pci_bdf_format(buf, sizeof(buf), (uint16_t)v);
        assert_int_equal(pci_bdf_parse(buf, &seg, &bdf), 0);
        assert_int_equal(bdf, v);
        assert_int_equal(seg, 0);
    }
}

static void test_bus_add_find_remove(void **state)
{
    (void)state;
    struct pci_bus *b = pci_bus_create();
    struct pci_func *f1 = tfunc_new(NULL), *f2 = tfunc_new(NULL);
    assert_int_equal(pci_bus_add(b, 0x0010, f1), 0);
    assert_int_equal(pci_bus_add(b, 0x0010, f2), -EEXIST);
    assert_int_equal(pci_bus_add(b, 0x0018, f1), -EEXIST);   /* already on the bus */
    assert_int_equal(pci_bus_add(b, 0x0018, NULL), -EINVAL);
    for (unsigned i = 0; i < 40; i++) {                      /* grows past 8 slots */
        struct pci_func *g = tfunc_new(NULL);
        assert_int_equal(pci_bus_add(b, (uint16_t)(0x100 + i), g), 0);
    }
    assert_int_equal(pci_bus_add(b, 0x0018, f2), 0);
    assert_int_equal(pci_bus_count(b), 42);
    assert_ptr_equal(pci_bus_find(b, 0x0010), f1);
    assert_ptr_equal(pci_bus_find(b, 0x0018), f2);
    assert_null(pci_bus_find(b, 0x0020));
    for (unsigned i = 0; i < 40; i++)
        free(pci_bus_remove(b, (uint16_t)(0x100 + i)));
    assert_ptr_equal(pci_bus_remove(b, 0x0010), f1);
    assert_null(pci_bus_remove(b, 0x0010));
    assert_int_equal(pci_bus_count(b), 1);
    pci_bus_destroy(b);
    pci_bus_destroy(NULL);
    free(f1);
    free(f2);
}

static void test_bus_cfg_routing(void **state)
{
    (void)state;
    struct pci_bus *b = pci_bus_create();
    struct pci_func *f = tfunc_new(NULL);
    struct pci_func *g = calloc(1, sizeof(*g));
    assert_int_equal(pci_func_init(g, 0x1AF4, 0x1041, 0x020000), 0);
    assert_int_equal(pci_bus_add(b, pci_bdf(0, 2, 0), f), 0);
    assert_int_equal(pci_bus_add(b, pci_bdf(1, 0, 0), g), 0);
    uint32_t v = 0;
    assert_int_equal(pci_bus_cfg_read(b, pci_bdf(0, 2, 0), 0, 4, &v), 0);
    assert_int_equal(v, 0x5A5A8086);
    assert_int_equal(pci_bus_cfg_read(b, pci_bdf(1, 0, 0), 0, 4, &v), 0);
    assert_int_equal(v, 0x10411AF4);
    assert_int_equal(pci_bus_cfg_write(b, pci_bdf(1, 0, 0), 0x04, 2, 0x2), 0);
    assert_true(pci_mem_enabled(g));
    assert_false(pci_mem_enabled(f));
    /* a refused access on a present function */
    assert_int_equal(pci_bus_cfg_read(b, pci_bdf(1, 0, 0), 0x02, 4, &v), -EINVAL);
    assert_int_equal(v, 0xFFFFFFFF);
    /* absent functions: all-ones for every size, writes dropped */
    static const struct { unsigned len; uint32_t ones; } sz[] = {
        { 1, 0xFF }, { 2, 0xFFFF }, { 4, 0xFFFFFFFF } };
    for (size_t i = 0; i < 3; i++) {
        v = 0;
        assert_int_equal(pci_bus_cfg_read(b, pci_bdf(0, 2, 1), 0, sz[i].len, &v), -ENODEV);
        assert_int_equal(v, sz[i].ones);
    }
    assert_int_equal(pci_bus_cfg_write(b, pci_bdf(0, 3, 0), 0x04, 2, 0x6), -ENODEV);
    pci_bus_destroy(b);
    free(f);
    free(g);
}

static void test_ecam_routing(void **state)
{
    (void)state;
    struct pci_bus *b = pci_bus_create();
    struct pci_func *f = tfunc_new(NULL);
    assert_int_equal(pci_bus_add(b, pci_bdf(0x12, 3, 5), f), 0);
    uint64_t base = (uint64_t)0x12 << 20 | 3 << 15 | 5 << 12;
    uint32_t v = 0;
    assert_int_equal(pci_bus_ecam_read(b, base, 4, &v), 0);
    assert_int_equal(v, 0x5A5A8086);
    assert_int_equal(pci_bus_ecam_read(b, base + 0x108, 4, &v), 0);   /* extended */
    assert_int_equal(v, 0x1101001B);
    assert_int_equal(pci_bus_ecam_read(b, base + 0x3, 1, &v), 0);
    assert_int_equal(v, 0x5A);
    assert_int_equal(pci_bus_ecam_write(b, base + 0x10E, 2, 0x1), 0);
    assert_true(pci_pasid_enabled(f));
    /* the neighbouring function and device are absent */
    assert_int_equal(pci_bus_ecam_read(b, base + 0x1000, 4, &v), -ENODEV);
    assert_int_equal(v, 0xFFFFFFFF);
    assert_int_equal(pci_bus_ecam_read(b, base - 0x1000, 2, &v), -ENODEV);
    assert_int_equal(v, 0xFFFF);
    /* beyond the 256-bus window */
    assert_int_equal(pci_bus_ecam_read(b, PCI_ECAM_SIZE, 4, &v), -EINVAL);
    assert_int_equal(v, 0xFFFFFFFF);
    assert_int_equal(pci_bus_ecam_write(b, PCI_ECAM_SIZE + base, 2, 0), -EINVAL);
    pci_bus_destroy(b);
    free(f);
}

/* ---- MMIO ------------------------------------------------------------------ */
struct mmio_log {
    unsigned n, bar, len;
    uint64_t offset;
    bool is_write;
    uint8_t last[8];
    int rc;
};

static int mmio_cb(void *opaque, unsigned bar, uint64_t offset, void *data, unsigned len,
                   bool is_write)
{
    struct mmio_log *l = opaque;
    l->n++, l->bar = bar, l->offset = offset, l->len = len, l->is_write = is_write;
    if (is_write)
        memcpy(l->last, data, len);
    else
        memset(data, 0xA5, len);
    return l->rc;
}

static struct pci_func *mmio_func(struct mmio_log *log, uint64_t bar0, uint32_t bar2)
{
    static const struct pci_func_ops ops = { .mmio = mmio_cb };
    struct pci_func *f = tfunc_new(NULL);
    pci_func_set_ops(f, &ops, log);
    wr(f, 0x10, 4, (uint32_t)bar0);
    wr(f, 0x14, 4, (uint32_t)(bar0 >> 32));
    wr(f, 0x18, 4, bar2);
    return f;
}

static void test_mmio_routing(void **state)
{
    (void)state;
    struct pci_bus *b = pci_bus_create();
    struct mmio_log l1 = { 0 }, l2 = { 0 };
    struct pci_func *f1 = mmio_func(&l1, 0x200000000ULL, 0xFE000000);
    struct pci_func *f2 = mmio_func(&l2, 0x201000000ULL, 0xFE010000);
    assert_int_equal(pci_bus_add(b, pci_bdf(0, 2, 0), f1), 0);
    assert_int_equal(pci_bus_add(b, pci_bdf(0, 3, 0), f2), 0);
    uint8_t buf[8];
    /* memory space disabled: nothing claims, reads are all-ones */
    memset(buf, 0, sizeof(buf));
    assert_int_equal(pci_bus_mmio(b, 0x200000000ULL, buf, 4, false), PCI_MMIO_UNCLAIMED);
    assert_int_equal(buf[0] & buf[3], 0xFF);
    assert_int_equal(l1.n, 0);
    wr(f1, 0x04, 2, 0x2);
    wr(f2, 0x04, 2, 0x2);
    assert_int_equal(pci_bus_mmio(b, 0x200000000ULL + 0x1238, buf, 8, false), 0);
    assert_int_equal(l1.n, 1);
    assert_int_equal(l1.bar, 0);
    assert_int_equal(l1.offset, 0x1238);
    assert_int_equal(l1.len, 8);
    assert_false(l1.is_write);
    assert_int_equal(buf[7], 0xA5);
    memcpy(buf, "\x11\x22\x33\x44", 4);
    assert_int_equal(pci_bus_mmio(b, 0xFE01FFFC, buf, 4, true), 0);   /* f2 BAR2 end */
    assert_int_equal(l2.n, 1);
    assert_int_equal(l2.bar, 2);
    assert_int_equal(l2.offset, 0xFFFC);
    assert_true(l2.is_write);
    assert_memory_equal(l2.last, "\x11\x22\x33\x44", 4);
    /* straddling a BAR's end, or outside every BAR: unclaimed */
    assert_int_equal(pci_bus_mmio(b, 0xFE01FFFE, buf, 4, true), PCI_MMIO_UNCLAIMED);
    assert_int_equal(pci_bus_mmio(b, 0x200FFFFFFULL + 0x1000000, buf, 2, false),
                     PCI_MMIO_UNCLAIMED);
    assert_int_equal(pci_bus_mmio(b, 0xFDFFFFFF, buf, 1, false), PCI_MMIO_UNCLAIMED);
    assert_int_equal(l1.n + l2.n, 2);
    /* the handler's result comes back */
    l1.rc = -EIO;
    assert_int_equal(pci_bus_mmio(b, 0xFE000000, buf, 4, false), -EIO);
    assert_int_equal(pci_bus_mmio(b, 0xFE000000, buf, 0, false), -EINVAL);
    assert_int_equal(pci_bus_mmio(b, 0xFE000000, buf, 9, false), -EINVAL);
    pci_bus_destroy(b);
    free(f1);
    free(f2);
}

static void test_mmio_bar_moves(void **state)
{
    (void)state;
    struct pci_bus *b = pci_bus_create();
    struct mmio_log l = { 0 };
    struct pci_func *f = mmio_func(&l, 0x300000000ULL, 0);
    assert_int_equal(pci_bus_add(b, pci_bdf(0, 2, 0), f), 0);
    wr(f, 0x04, 2, 0x2);
    uint8_t buf[4];
    assert_int_equal(pci_bus_mmio(b, 0x300000000ULL, buf, 4, false), 0);
    /* BAR2 unassigned (base 0): it decodes nothing, even at address 0 */
    assert_int_equal(pci_bus_mmio(b, 0, buf, 4, false), PCI_MMIO_UNCLAIMED);
    wr(f, 0x14, 4, 0x4);                                   /* BAR0 -> 0x4_0000_0000 */
    assert_int_equal(pci_bus_mmio(b, 0x300000000ULL, buf, 4, false), PCI_MMIO_UNCLAIMED);
    assert_int_equal(pci_bus_mmio(b, 0x400FFFFF0ULL, buf, 4, false), 0);
    assert_int_equal(l.offset, 0xFFFFF0);
    /* written all-ones (sizing with decode left on) the BAR sits at the top
     * of the address space, ending exactly at 2^64 - 1, and decodes there */
    wr(f, 0x10, 4, 0xFFFFFFFF);
    wr(f, 0x14, 4, 0xFFFFFFFF);
    assert_int_equal(pci_bar_addr(f, 0), 0xFFFFFFFFFF000000ULL);
    assert_int_equal(pci_bus_mmio(b, 0xFFFFFFFFFF000000ULL, buf, 4, false), 0);
    /* a function without an mmio handler claims and reads all-ones */
    pci_func_set_ops(f, NULL, NULL);
    buf[0] = 0;
    assert_int_equal(pci_bus_mmio(b, 0xFFFFFFFFFF000000ULL, buf, 4, false), 0);
    assert_int_equal(buf[0], 0xFF);
    assert_int_equal(pci_bus_mmio(b, 0xFFFFFFFFFF000000ULL, buf, 4, true), 0);
    pci_bus_destroy(b);
    free(f);
}

/* pci_bar_lookup directly: the range rule at the edges. */
static void test_bar_lookup_edges(void **state)
{
    (void)state;
    struct mmio_log l = { 0 };
    struct pci_func *f = mmio_func(&l, 0x200000000ULL, 0xFE000000);
    uint64_t off = 7;
    assert_int_equal(pci_bar_lookup(f, 0x200000000ULL, 4, &off), -1);   /* MEM off */
    wr(f, 0x04, 2, 0x2);
    assert_int_equal(pci_bar_lookup(f, 0x200000000ULL, 0, &off), -1);
    assert_int_equal(pci_bar_lookup(f, 0x200000000ULL, TBAR0, &off), 0);
    assert_int_equal(off, 0);
    assert_int_equal(pci_bar_lookup(f, 0x200000000ULL, TBAR0 + 1, &off), -1);
    assert_int_equal(pci_bar_lookup(f, 0x200000000ULL + TBAR0 - 1, 1, &off), 0);
    assert_int_equal(off, TBAR0 - 1);
    assert_int_equal(pci_bar_lookup(f, 0x200000000ULL + TBAR0, 1, &off), -1);
    assert_int_equal(pci_bar_lookup(f, 0xFE00FFFF, 1, &off), 2);
    assert_int_equal(pci_bar_lookup(f, UINT64_MAX, 1, &off), -1);
    free(f);
}

const struct CMUnitTest pci_bus_tests[] = {
    cmocka_unit_test(test_bdf_pack),            cmocka_unit_test(test_bdf_parse_good),
    cmocka_unit_test(test_bdf_parse_bad),       cmocka_unit_test(test_bdf_format_roundtrip),
    cmocka_unit_test(test_bus_add_find_remove), cmocka_unit_test(test_bus_cfg_routing),
    cmocka_unit_test(test_ecam_routing),        cmocka_unit_test(test_mmio_routing),
    cmocka_unit_test(test_mmio_bar_moves),      cmocka_unit_test(test_bar_lookup_edges),
};
const size_t pci_bus_ntests = sizeof(pci_bus_tests) / sizeof(pci_bus_tests[0]);
