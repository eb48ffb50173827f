/* Type-0 header semantics: builder validation, BAR sizing as Linux does it,
 * the access rule (inside one dword), read-only and reserved bits, RW1C
 * status bits, Command events, conventional reset. */
#include "test_pci.h"

#include <errno.h>

static void test_init_rejects(void **state)
{
    (void)state;
    struct pci_func *f = calloc(1, sizeof(*f));
    assert_int_equal(pci_func_init(f, 0x0000, 1, 0), -EINVAL);
    assert_int_equal(pci_func_init(f, 0xFFFF, 1, 0), -EINVAL);
    assert_int_equal(pci_func_init(f, 0x8086, 1, 0x1000000), -EINVAL);
    assert_int_equal(pci_func_init(NULL, 0x8086, 1, 0), -EINVAL);
    assert_int_equal(pci_func_init(f, 0x8086, 0xFFFF, 0xFFFFFF), 0);
    assert_int_equal(rd(f, 0x08, 4), 0xFFFFFF00);
    assert_int_equal(rd(f, 0x0E, 1), 0);          /* type 0, single function */
    assert_int_equal(rd(f, 0x3D, 1), 0);          /* no INTx pin */
    assert_int_equal(rd(f, 0x06, 2), 0);          /* no capabilities yet */
    free(f);
}

static void test_bar_add_validation(void **state)
{
    (void)state;
    struct pci_func *f = calloc(1, sizeof(*f));
    assert_int_equal(pci_func_init(f, 0x8086, 1, 0), 0);
    assert_int_equal(pci_add_bar(f, 6, 4096, false, false), -EINVAL);
    assert_int_equal(pci_add_bar(f, 5, 4096, true, false), -EINVAL);      /* needs BAR 6 */
    assert_int_equal(pci_add_bar(f, 0, 3000, false, false), -EINVAL);
    assert_int_equal(pci_add_bar(f, 0, 64, false, false), -EINVAL);       /* < 128 */
    assert_int_equal(pci_add_bar(f, 0, 0, false, false), -EINVAL);
    assert_int_equal(pci_add_bar(f, 0, 4ULL << 30, false, false), -EINVAL);
    assert_int_equal(pci_add_bar(f, 1, 4ULL << 30, true, false), 0);      /* BAR1+2 */
    assert_int_equal(pci_add_bar(f, 2, 4096, false, false), -EEXIST);
    assert_int_equal(pci_add_bar(f, 1, 4096, false, false), -EEXIST);
    assert_int_equal(pci_add_bar(f, 0, 4096, true, false), -EEXIST);      /* 0+1 */
    assert_int_equal(pci_add_bar(f, 0, 128, false, true), 0);
    assert_int_equal(pci_add_bar(f, 4, 1ULL << 63, true, true), 0);
    assert_int_equal(pci_bar_size(f, 1), 4ULL << 30);
    assert_int_equal(pci_bar_size(f, 2), 0);
    assert_int_equal(pci_bar_size(f, 9), 0);
    /* BAR3 is not implemented: reads 0 and ignores writes */
    wr(f, 0x1C, 4, 0xFFFFFFFF);
    assert_int_equal(rd(f, 0x1C, 4), 0);
    free(f);
}

/* __pci_read_base (drivers/pci/probe.c): decode off, save, write ~0, read
 * the size mask, restore, then the upper dword of a 64-bit BAR. */
static uint64_t linux_size_bar(struct pci_func *f, unsigned bar, bool *is64)
{
    unsigned pos = 0x10 + 4 * bar;
    uint16_t cmd = (uint16_t)rd(f, 0x04, 2);
    wr(f, 0x04, 2, cmd & ~0x3u);
    uint32_t l = rd(f, pos, 4);
    wr(f, pos, 4, 0xFFFFFFFF);
    uint32_t sz = rd(f, pos, 4);
    wr(f, pos, 4, l);
    uint64_t sz64 = sz & ~0xFu;
    *is64 = (l & 0x6) == 0x4;
    if (*is64) {
        uint32_t lh = rd(f, pos + 4, 4);
        wr(f, pos + 4, 4, 0xFFFFFFFF);
        sz64 |= (uint64_t)rd(f, pos + 4, 4) << 32;
        wr(f, pos + 4, 4, lh);
        assert_int_equal(rd(f, pos + 4, 4), lh);
    } else {
        sz64 |= 0xFFFFFFFF00000000ULL;
    }
    wr(f, 0x04, 2, cmd);
    assert_int_equal(rd(f, pos, 4), l);                 /* restored */
    return ~sz64 + 1;
}

static void test_bar_sizing_linux(void **state)
{
    (void)state;
    struct evlog log = { .n = 0 };
    struct pci_func *f = tfunc_new(&log);
    bool is64;
    assert_int_equal(linux_size_bar(f, 0, &is64), TBAR0);
    assert_true(is64);
    assert_int_equal(rd(f, 0x10, 4) & 0xF, 0xC);       /* 64-bit, prefetchable */
    assert_int_equal(linux_size_bar(f, 2, &is64), TBAR2);
    assert_false(is64);
    assert_int_equal(rd(f, 0x18, 4) & 0xF, 0x0);
    /* sizing moved each BAR away and back: two events per written dword
     * that changed the decoded base */
    assert_int_equal(evlog_count(&log, PCI_EV_BAR), 6);
    assert_int_equal(evlog_count(&log, PCI_EV_COMMAND), 0);   /* decode was off */
    assert_int_equal(pci_bar_addr(f, 0), 0);
    free(f);
}

static void test_bar_program_events(void **state)
{
    (void)state;
    struct evlog log = { .n = 0 };
    struct pci_func *f = tfunc_new(&log);
    wr(f, 0x10, 4, 0xC1000000);                         /* low dword */
    wr(f, 0x14, 4, 0x00000002);                         /* high dword */
    assert_int_equal(pci_bar_addr(f, 0), 0x2C1000000ULL);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.ev[1].kind, PCI_EV_BAR);
    assert_int_equal(log.ev[1].index, 0);
    assert_int_equal(log.ev[1].old_val, 0xC1000000ULL);
    assert_int_equal(log.ev[1].new_val, 0x2C1000000ULL);
    /* low bits below the size are not writable: same decoded base, no event */
    wr(f, 0x10, 4, 0xC1FFFFF0);
    assert_int_equal(log.n, 2);
    assert_int_equal(rd(f, 0x10, 4), 0xC100000C);
    /* 32-bit BAR2 */
    wr(f, 0x18, 4, 0xFE012345);
    assert_int_equal(pci_bar_addr(f, 2), 0xFE010000);
    assert_int_equal(log.n, 3);
    assert_int_equal(log.ev[2].index, 2);
    free(f);
}

/* A 64-bit BAR larger than 4 GiB has no writable bit in its low dword. */
static void test_bar_large_64(void **state)
{
    (void)state;
    struct pci_func *f = calloc(1, sizeof(*f));
    assert_int_equal(pci_func_init(f, 0x8086, 1, 0), 0);
    assert_int_equal(pci_add_bar(f, 0, 8ULL << 30, true, false), 0);
    wr(f, 0x10, 4, 0xFFFFFFFF);
    wr(f, 0x14, 4, 0xFFFFFFFF);
    assert_int_equal(rd(f, 0x10, 4), 0x00000004);
    assert_int_equal(rd(f, 0x14, 4), 0xFFFFFFFE);
    bool is64;
    wr(f, 0x10, 4, 0);
    wr(f, 0x14, 4, 0);
    assert_int_equal(linux_size_bar(f, 0, &is64), 8ULL << 30);
    free(f);
}

/* Inside one dword: any byte-enable pattern; across a dword: refused. */
static void test_access_rules(void **state)
{
    (void)state;
    struct pci_func *f = tfunc_new(NULL);
    uint32_t v = 0;
    assert_int_equal(rd(f, 0x01, 2), 0x5A80);           /* unaligned, same dword */
    assert_int_equal(rd(f, 0x01, 1), 0x80);
    assert_int_equal(rd(f, 0x03, 1), 0x5A);
    assert_int_equal(pci_cfg_read(f, 0x03, 2, &v), -EINVAL);
    assert_int_equal(v, 0xFFFF);
    assert_int_equal(pci_cfg_read(f, 0x02, 4, &v), -EINVAL);
    assert_int_equal(v, 0xFFFFFFFF);
    assert_int_equal(pci_cfg_read(f, 0x00, 3, &v), -EINVAL);
    assert_int_equal(v, 0xFFFFFF);
    assert_int_equal(pci_cfg_read(f, 0x00, 8, &v), -EINVAL);
    assert_int_equal(pci_cfg_read(f, 0x00, 0, &v), -EINVAL);
    assert_int_equal(pci_cfg_read(f, 0x1000, 1, &v), -EINVAL);
    assert_int_equal(pci_cfg_read(f, 0xFFF, 1, &v), 0);
    assert_int_equal(pci_cfg_read(f, 0xFFC, 4, &v), 0);
    /* a refused write changes nothing */
    assert_int_equal(pci_cfg_write(f, 0x03, 2, 0xFFFF), -EINVAL);   /* 0x03-0x04 */
    assert_int_equal(pci_cfg_write(f, 0x04, 8, 0xFFFF), -EINVAL);
    assert_int_equal(pci_cfg_write(f, 0x1000, 4, 0), -EINVAL);
    assert_int_equal(rd(f, 0x04, 2), 0);
    /* an unaligned word inside a dword: Command high byte + Status low byte */
    wr(f, 0x05, 2, 0xFF04);
    assert_int_equal(rd(f, 0x04, 4), 0x00100400);
    free(f);
}

static void test_readonly_ignore_writes(void **state)
{
    (void)state;
    static const unsigned ro[] = { 0x00, 0x08, 0x2C, 0x34, 0x40, 0x44, 0x64, 0x7C, 0x100,
                                   0x104, 0x108, 0x10C, 0x110, 0x118 };
    struct pci_func *f = tfunc_new(NULL);
    for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
        uint32_t before = rd(f, ro[i], 4);
        /* writes of zeros: only RW bits may change, and they reset to 0 */
        wr(f, ro[i], 4, 0);
        wr(f, ro[i], 2, 0x1234);
        wr(f, ro[i] + 3, 1, 0x5A);
        uint32_t after = rd(f, ro[i], 4);
        uint32_t rw = 0;                                /* RW parts of mixed dwords */
        if (ro[i] == 0x7C)
            rw = 0x00710000;
        if (ro[i] == 0x104 || ro[i] == 0x10C)
            rw = 0xFFFF0000;
        if ((after & ~rw) != (before & ~rw))
            fail_msg("%#x: %#x -> %#x", ro[i], before, after);
    }
    free(f);
}

/* Bit 4 of Status is RO 1; the error bits are RW1C (§7.5.1.1.4). */
static void test_status_rw1c(void **state)
{
    (void)state;
    struct pci_func *f = tfunc_new(NULL);
    pci_status_set(f, 0xFFFF);
    assert_int_equal(rd(f, 0x06, 2), 0xF910);
    wr(f, 0x06, 2, 0x2000);                             /* clear RMA only */
    assert_int_equal(rd(f, 0x06, 2), 0xD910);
    wr(f, 0x06, 2, 0x0000);                             /* 0s clear nothing */
    assert_int_equal(rd(f, 0x06, 2), 0xD910);
    wr(f, 0x04, 4, 0xFFFF0000);                         /* dword: Command 0, all W1C */
    assert_int_equal(rd(f, 0x04, 4), 0x00100000);
    pcie_devsta_set(f, 0xFFFF);
    assert_int_equal(rd(f, 0x4A, 2), 0x000F);
    wr(f, 0x48, 4, 0x00052810);                         /* DEVCTL kept, clear CED|FED */
    assert_int_equal(rd(f, 0x48, 4), 0x000A2810);
    free(f);
}

static void test_command_events(void **state)
{
    (void)state;
    struct evlog log = { .n = 0 };
    struct pci_func *f = tfunc_new(&log);
    wr(f, 0x04, 2, 0x0002);
    wr(f, 0x04, 2, 0x0002);                             /* no change */
    wr(f, 0x04, 2, 0x0003);                             /* IO is hardwired 0 */
    assert_int_equal(log.n, 1);
    assert_int_equal(log.ev[0].kind, PCI_EV_COMMAND);
    assert_int_equal(log.ev[0].old_val, 0);
    assert_int_equal(log.ev[0].new_val, 2);
    assert_true(pci_mem_enabled(f));
    assert_false(pci_bus_master(f));
    wr(f, 0x04, 1, 0x06);
    assert_true(pci_bus_master(f));
    wr(f, 0x05, 1, 0x04);                               /* INTx disable alone */
    assert_int_equal(log.n, 3);
    assert_int_equal(log.ev[2].old_val, 0x0006);
    assert_int_equal(log.ev[2].new_val, 0x0406);
    wr(f, 0x06, 2, 0xFFFF);                             /* Status: no event */
    assert_int_equal(log.n, 3);
    free(f);
}

/* Extended space is its own storage: nothing at 0x100+ mirrors the header. */
static void test_ext_space_not_aliased(void **state)
{
    (void)state;
    struct pci_func *f = tfunc_new(NULL);
    assert_int_equal(linux_cfg_space_size(f), 4096);
    assert_int_not_equal(rd(f, 0x100, 4), rd(f, 0x000, 4));
    for (unsigned off = 0x200; off < PCI_CFG_SIZE; off += 4) {
        wr(f, off, 4, 0xFFFFFFFF);
        assert_int_equal(rd(f, off, 4), 0);
    }
    free(f);
    f = calloc(1, sizeof(*f));
    assert_int_equal(pci_func_init(f, 0x8086, 1, 0), 0);
    assert_int_equal(rd(f, 0x100, 4), 0);               /* Linux: no ext caps */
    free(f);
}

static void test_reset(void **state)
{
    (void)state;
    struct evlog log = { .n = 0 };
    struct pci_func *f = tfunc_new(&log);
    struct pci_func *ref = tfunc_new(NULL);
    wr(f, 0x10, 4, 0xC0000000);
    wr(f, 0x04, 2, 0x0006);
    wr(f, 0x11C, 4, 16);
    wr(f, 0x114, 2, 0x0001);
    assert_int_equal(pci_pri_acquire(f), 0);
    pci_status_set(f, 0x2000);
    unsigned before = log.n;
    pci_func_reset(f);
    assert_int_equal(log.n, before);                    /* reset raises nothing */
    assert_memory_equal(f->cfg, ref->cfg, PCI_CFG_SIZE);
    assert_int_equal(pci_pri_outstanding(f), 0);
    assert_int_equal(pci_bar_addr(f, 0), 0);
    /* and after reset a BAR write compares against the reset base */
    wr(f, 0x10, 4, 0xC0000000);
    assert_int_equal(log.ev[log.n - 1].kind, PCI_EV_BAR);
    assert_int_equal(log.ev[log.n - 1].old_val, 0);
    free(f);
    free(ref);
}

const struct CMUnitTest pci_header_tests[] = {
    cmocka_unit_test(test_init_rejects),        cmocka_unit_test(test_bar_add_validation),
    cmocka_unit_test(test_bar_sizing_linux),    cmocka_unit_test(test_bar_program_events),
    cmocka_unit_test(test_bar_large_64),        cmocka_unit_test(test_access_rules),
    cmocka_unit_test(test_readonly_ignore_writes), cmocka_unit_test(test_status_rw1c),
    cmocka_unit_test(test_command_events),      cmocka_unit_test(test_ext_space_not_aliased),
    cmocka_unit_test(test_reset),
};
const size_t pci_header_ntests = sizeof(pci_header_tests) / sizeof(pci_header_tests[0]);
