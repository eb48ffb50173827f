/* Capability layout and linking, seen through Linux's own walks
 * (pci_find_capability / pci_find_ext_capability), builder validation,
 * and the PCI Express capability an RCiEP needs for PASID. */
#include "test_pci.h"

#include <errno.h>

static struct pci_func *bare_func(void)
{
    struct pci_func *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(pci_func_init(f, 0x8086, 0x1111, 0x120000), 0);
    return f;
}

static void test_linux_walk_finds_all(void **state)
{
    (void)state;
    struct pci_func *f = tfunc_new(NULL);
    assert_int_equal(linux_find_capability(f, PCI_CAP_ID_EXP), 0x40);
    assert_int_equal(linux_find_capability(f, PCI_CAP_ID_MSI), 0x7C);
    assert_int_equal(linux_find_capability(f, 0x11), 0);            /* MSI-X */
    assert_int_equal(linux_find_capability(f, 0x01), 0);            /* PM */
    assert_int_equal(linux_find_ext_capability(f, PCI_EXT_CAP_ID_ATS), 0x100);
    assert_int_equal(linux_find_ext_capability(f, PCI_EXT_CAP_ID_PASID), 0x108);
    assert_int_equal(linux_find_ext_capability(f, PCI_EXT_CAP_ID_PRI), 0x110);
    assert_int_equal(linux_find_ext_capability(f, 0x01), 0);        /* AER */
    assert_int_equal(pci_func_cap(f, PCI_BLK_PRI), 0x110);
    assert_int_equal(pci_func_cap(f, PCI_BLK_HDR), 0);
    assert_int_equal(rd(f, 0x7D, 1), 0);                            /* MSI: list end */
    assert_int_equal(rd(f, 0x112, 2) >> 4, 0);                      /* PRI: list end */
    free(f);
}

/* Lists follow the order of the builder calls; every entry dword-aligned. */
static void test_cap_order_follows_adds(void **state)
{
    (void)state;
    struct pci_func *f = bare_func();
    assert_int_equal(pci_add_msi(f, 4), 0);
    assert_int_equal(pci_add_pcie_rciep(f), 0);
    assert_int_equal(pci_add_pri(f, 16), 0);
    assert_int_equal(pci_add_pasid(f, 8, false, false), 0);
    assert_int_equal(rd(f, 0x34, 1), 0x40);
    assert_int_equal(rd(f, 0x40, 2), 0x5805);                       /* MSI -> 0x58 */
    assert_int_equal(rd(f, 0x58, 2), 0x0010);                       /* PCIe, end */
    assert_int_equal(linux_find_capability(f, PCI_CAP_ID_EXP), 0x58);
    assert_int_equal(rd(f, 0x100, 4), 0x11010013);                  /* PRI -> 0x110 */
    assert_int_equal(rd(f, 0x110, 4), 0x0001001B);
    assert_int_equal(linux_find_ext_capability(f, PCI_EXT_CAP_ID_PASID), 0x110);
    assert_int_equal(linux_find_ext_capability(f, PCI_EXT_CAP_ID_ATS), 0);
    free(f);
}

static void test_no_caps(void **state)
{
    (void)state;
    struct pci_func *f = bare_func();
    assert_int_equal(rd(f, 0x06, 2) & 0x10, 0);
    assert_int_equal(rd(f, 0x34, 1), 0);
    assert_int_equal(linux_find_capability(f, PCI_CAP_ID_EXP), 0);
    assert_int_equal(linux_find_ext_capability(f, PCI_EXT_CAP_ID_ATS), 0);
    /* device-side accessors of absent capabilities read as disabled */
    uint64_t a;
    uint32_t d;
    assert_false(pci_msi_message(f, &a, &d));
    assert_int_equal(pci_msi_vectors(f), 0);
    assert_int_equal(pci_msi_signal(f, 0, &a, &d), PCI_MSI_BLOCKED);
    assert_false(pci_ats_enabled(f));
    assert_int_equal(pci_ats_invq_depth(f), 0);
    assert_false(pci_pasid_enabled(f));
    assert_int_equal(pci_pasid_width(f), 0);
    assert_false(pci_pri_enabled(f));
    assert_int_equal(pci_pri_acquire(f), -EPERM);
    pci_pri_report(f, PCI_PRI_RESPONSE_FAILURE);
    pci_pri_release(f, 1);
    assert_int_equal(rd(f, 0x100, 4), 0);
    free(f);
}

static void test_builder_validation(void **state)
{
    (void)state;
    struct pci_func *f = bare_func();
    /* extended capabilities exist only in PCI Express functions (§7.6) */
    assert_int_equal(pci_add_ats(f, 32), -EINVAL);
    assert_int_equal(pci_add_pasid(f, 20, true, true), -EINVAL);
    assert_int_equal(pci_add_pri(f, 64), -EINVAL);
    assert_int_equal(pci_add_msi(f, 0), -EINVAL);
    assert_int_equal(pci_add_msi(f, 3), -EINVAL);
    assert_int_equal(pci_add_msi(f, 64), -EINVAL);
    assert_int_equal(pci_add_pcie_rciep(f), 0);
    assert_int_equal(pci_add_pcie_rciep(f), -EEXIST);
    assert_int_equal(pci_add_ats(f, 0), -EINVAL);
    assert_int_equal(pci_add_ats(f, 33), -EINVAL);
    assert_int_equal(pci_add_pasid(f, 21, false, false), -EINVAL);
    assert_int_equal(pci_add_pri(f, 0), -EINVAL);
    assert_int_equal(pci_add_msi(f, 32), 0);
    assert_int_equal(pci_add_msi(f, 1), -EEXIST);
    assert_int_equal(pci_add_ats(f, 1), 0);
    assert_int_equal(pci_add_ats(f, 1), -EEXIST);
    assert_int_equal(pci_add_pasid(f, 0, false, false), 0);
    assert_int_equal(pci_add_pasid(f, 0, false, false), -EEXIST);
    assert_int_equal(pci_add_pri(f, 1), 0);
    assert_int_equal(pci_add_pri(f, 1), -EEXIST);
    free(f);
}

/* The walks are bounded even on a corrupt list (a self-loop poked in
 * behind the builder's back): Linux's TTLs, mirrored by the helpers. */
static void test_walk_bounds(void **state)
{
    (void)state;
    struct pci_func *f = tfunc_new(NULL);
    f->cfg[0x7D] = 0x7C;                                   /* MSI -> MSI */
    assert_int_equal(linux_find_capability(f, 0x11), 0);
    f->cfg[0x7D] = 0x02;                                   /* below 0x40: end */
    assert_int_equal(linux_find_capability(f, 0x11), 0);
    f->cfg[0x41] = 0x7F;                                   /* masked with ~3 */
    assert_int_equal(linux_find_capability(f, PCI_CAP_ID_MSI), 0x7C);
    f->cfg[0x113] = 0x11;                                  /* PRI -> PRI (0x110) */
    assert_int_equal(linux_find_ext_capability(f, 0x01), 0);
    f->cfg[0x112] = 0x31;                                  /* next 0x113 & 0xffc */
    assert_int_equal(linux_find_ext_capability(f, 0x01), 0);
    free(f);
}

/* probe.c pci_configure_eetlp_prefix: DEVCAP2.EE_PREFIX and type RC_END
 * (or a root port) give eetlp_prefix_path, without which pci_enable_pasid
 * returns -EINVAL (os-driver-behaviour.md §3). */
static void test_pcie_rciep_for_pasid(void **state)
{
    (void)state;
    struct pci_func *f = tfunc_new(NULL);
    unsigned pos = linux_find_capability(f, PCI_CAP_ID_EXP);
    uint16_t flags = (uint16_t)rd(f, pos + 2, 2);
    assert_int_equal(flags & 0xF, 2);                      /* PCI_EXP_FLAGS_VERS */
    assert_int_equal((flags & 0xF0) >> 4, 9);              /* PCI_EXP_TYPE_RC_END */
    uint32_t cap2 = rd(f, pos + 0x24, 4);
    assert_true(cap2 & 0x00200000);                        /* PCI_EXP_DEVCAP2_EE_PREFIX */
    assert_true(cap2 & 0x00100000);                        /* extended fmt */
    assert_int_equal((cap2 >> 22) & 3, 1);                 /* one prefix */
    /* RCiEP: Link registers are absent and read 0 (Linux skips them) */
    assert_int_equal(rd(f, pos + 0x0C, 4), 0);
    assert_int_equal(rd(f, pos + 0x10, 4), 0);
    free(f);
}

/* pci_configure_mps for an RCiEP: MPS = 128 << MPSS; MRRS, relaxed
 * ordering, no snoop and extended tags are RW, the rest hardwired. */
static void test_pcie_devctl(void **state)
{
    (void)state;
    struct pci_func *f = tfunc_new(NULL);
    unsigned pos = linux_find_capability(f, PCI_CAP_ID_EXP);
    unsigned mpss = rd(f, pos + 4, 4) & 7;
    assert_int_equal(128u << mpss, 256);
    uint16_t ctl = (uint16_t)rd(f, pos + 8, 2);
    ctl = (uint16_t)((ctl & ~0x00E0u) | mpss << 5);
    wr(f, pos + 8, 2, ctl);
    assert_int_equal((rd(f, pos + 8, 2) >> 5) & 7, 1);
    wr(f, pos + 8, 2, 0x8600 | ctl);                       /* FLR, aux PM, phantom */
    assert_int_equal(rd(f, pos + 8, 2), ctl);
    wr(f, pos + 0x28, 2, 0xFFFF);                          /* DEVCTL2 read-only */
    assert_int_equal(rd(f, pos + 0x28, 2), 0);
    free(f);
}

/* PASID control bits for unsupported features are hardwired 0 (§7.8.8.3). */
static void test_pasid_cap_variants(void **state)
{
    (void)state;
    struct pci_func *f = bare_func();
    assert_int_equal(pci_add_pcie_rciep(f), 0);
    assert_int_equal(pci_add_pasid(f, 0, false, true), 0);
    unsigned pos = linux_find_ext_capability(f, PCI_EXT_CAP_ID_PASID);
    assert_int_equal(rd(f, pos + 4, 2), 0x0004);
    wr(f, pos + 6, 2, 0xFFFF);
    assert_int_equal(rd(f, pos + 6, 2), 0x0005);
    assert_true(pci_pasid_priv_enabled(f));
    assert_false(pci_pasid_exec_enabled(f));
    assert_int_equal(pci_pasid_width(f), 0);
    free(f);
}

/* pci_ats_queue_depth: QDEP ? QDEP : 32. */
static void test_ats_invq_depth(void **state)
{
    (void)state;
    for (unsigned d = 1; d <= 32; d++) {
        struct pci_func *f = bare_func();
        assert_int_equal(pci_add_pcie_rciep(f), 0);
        assert_int_equal(pci_add_ats(f, d), 0);
        uint16_t cap = (uint16_t)rd(f, 0x104, 2);
        assert_int_equal(cap & 0x20, 0x20);                /* page aligned */
        assert_int_equal((cap & 0x1F) ? (cap & 0x1F) : 32, d);
        assert_int_equal(pci_ats_invq_depth(f), d);
        free(f);
    }
}

static void test_msi_cap_vectors(void **state)
{
    (void)state;
    struct pci_func *f = bare_func();
    assert_int_equal(pci_add_msi(f, 8), 0);
    assert_int_equal(rd(f, 0x42, 2), 0x0186);              /* MMC 3, A64, PVM */
    wr(f, 0x50, 4, 0xFFFFFFFF);
    assert_int_equal(rd(f, 0x50, 4), 0xFF);                /* 8 mask bits */
    wr(f, 0x54, 4, 0xFFFFFFFF);
    assert_int_equal(rd(f, 0x54, 4), 0);                   /* pending is RO */
    free(f);
}

const struct CMUnitTest pci_caps_tests[] = {
    cmocka_unit_test(test_linux_walk_finds_all), cmocka_unit_test(test_cap_order_follows_adds),
    cmocka_unit_test(test_no_caps),              cmocka_unit_test(test_builder_validation),
    cmocka_unit_test(test_walk_bounds),          cmocka_unit_test(test_pcie_rciep_for_pasid),
    cmocka_unit_test(test_pcie_devctl),          cmocka_unit_test(test_pasid_cap_variants),
    cmocka_unit_test(test_ats_invq_depth),       cmocka_unit_test(test_msi_cap_vectors),
};
const size_t pci_caps_ntests = sizeof(pci_caps_tests) / sizeof(pci_caps_tests[0]);
