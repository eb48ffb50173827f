/* The enable sequences Linux 6.1 performs (os-driver-behaviour.md §3;
 * drivers/pci/ats.c, msi/msi.c, intel/iommu.c iommu_enable_pci_caps), the
 * device model's view of them, and the events: one per change, none for a
 * write that changes nothing. */
#include "test_pci.h"

#include <errno.h>

/* ---- Linux's sequences, register by register ---------------------------- */
static int linux_enable_pasid(struct pci_func *f, uint16_t features)
{
    unsigned pasid = linux_find_ext_capability(f, PCI_EXT_CAP_ID_PASID);
    unsigned exp = linux_find_capability(f, PCI_CAP_ID_EXP);
    uint16_t flags = (uint16_t)rd(f, exp + 2, 2);
    bool eetlp = (rd(f, exp + 0x24, 4) & 0x00200000) &&
                 (((flags >> 4) & 0xF) == 9 || ((flags >> 4) & 0xF) == 4);
    if (!pasid || !eetlp)
        return -EINVAL;
    uint16_t supported = (uint16_t)rd(f, pasid + 4, 2) & 0x6;
    if ((supported & features) != features)
        return -EINVAL;
    wr(f, pasid + 6, 2, 0x1u | features);
    return 0;
}

static uint16_t linux_pasid_features(struct pci_func *f)
{
    return (uint16_t)rd(f, linux_find_ext_capability(f, PCI_EXT_CAP_ID_PASID) + 4, 2) & 0x6;
}

static int linux_reset_pri(struct pci_func *f)
{
    unsigned pri = linux_find_ext_capability(f, PCI_EXT_CAP_ID_PRI);
    if (!pri)
        return -EINVAL;
    wr(f, pri + 4, 2, 0x2);
    return 0;
}

static int linux_enable_pri(struct pci_func *f, uint32_t reqs)
{
    unsigned pri = linux_find_ext_capability(f, PCI_EXT_CAP_ID_PRI);
    if (!pri)
        return -EINVAL;
    if (!(rd(f, pri + 6, 2) & 0x100))                  /* PCI_PRI_STATUS_STOPPED */
        return -EBUSY;
    uint32_t max = rd(f, pri + 8, 4);
    wr(f, pri + 0xC, 4, reqs < max ? reqs : max);
    wr(f, pri + 4, 2, 0x1);
    return 0;
}

static bool linux_prg_resp_pasid_required(struct pci_func *f)
{
    return rd(f, linux_find_ext_capability(f, PCI_EXT_CAP_ID_PRI) + 6, 2) & 0x8000;
}

static int linux_enable_ats(struct pci_func *f, unsigned page_shift)
{
    unsigned ats = linux_find_ext_capability(f, PCI_EXT_CAP_ID_ATS);
    if (!ats || !(rd(f, ats + 4, 2) & 0x20))           /* pci_ats_page_aligned */
        return -EINVAL;
    wr(f, ats + 6, 2, 0x8000u | (page_shift - 12));
    return 0;
}

/* iommu_enable_pci_caps: PASID, then PRI reset/alloc/enable, then ATS. */
static void linux_iommu_enable_pci_caps(struct pci_func *f)
{
    assert_int_equal(linux_enable_pasid(f, linux_pasid_features(f)), 0);
    assert_true(linux_prg_resp_pasid_required(f));
    assert_int_equal(linux_reset_pri(f), 0);
    assert_int_equal(linux_enable_pri(f, 2048), 0);      /* PRQ_DEPTH */
    assert_int_equal(linux_enable_ats(f, 12), 0);
}

static void test_iommu_enable_pci_caps(void **state)
{
    (void)state;
    struct evlog log = { .n = 0 };
    struct pci_func *f = tfunc_new(&log);
    linux_iommu_enable_pci_caps(f);
    static const enum pci_event_kind want[] = { PCI_EV_PASID, PCI_EV_PRI_RESET, PCI_EV_PRI_ALLOC,
                                               PCI_EV_PRI_ENABLE, PCI_EV_ATS };
    assert_int_equal(log.n, 5);
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(log.ev[i].kind, want[i]);
    assert_int_equal(rd(f, 0x10E, 2), 0x0007);           /* PASID ctrl = 1 | EXEC | PRIV */
    assert_int_equal(log.ev[0].new_val, 7);
    assert_int_equal(rd(f, 0x11C, 4), 2048);             /* min(4096, 2048) */
    assert_int_equal(log.ev[2].new_val, 2048);
    assert_int_equal(rd(f, 0x114, 2), 0x0001);
    assert_int_equal(rd(f, 0x116, 2), 0x8000);           /* Stopped clear once enabled */
    assert_int_equal(rd(f, 0x106, 2), 0x8000);           /* ATS enable, STU 0 */
    assert_true(pci_pasid_enabled(f) && pci_pasid_exec_enabled(f) && pci_pasid_priv_enabled(f));
    assert_int_equal(pci_pasid_width(f), 20);
    assert_true(pci_pri_enabled(f));
    assert_int_equal(pci_pri_allocation(f), 2048);
    assert_true(pci_ats_enabled(f));
    assert_int_equal(pci_ats_stu(f), 0);
    /* a second identical pass changes nothing and raises nothing but the
     * PRI reset, which is ignored while enabled (§10.5.2.2) */
    unsigned n = log.n;
    assert_int_equal(linux_enable_pasid(f, 6), 0);
    wr(f, 0x11C, 4, 2048);
    wr(f, 0x114, 2, 0x1);
    wr(f, 0x106, 2, 0x8000);
    wr(f, 0x114, 2, 0x3);                                /* reset while enabled */
    assert_int_equal(log.n, n);
    free(f);
}

static void test_pasid_disable_and_features(void **state)
{
    (void)state;
    struct evlog log = { .n = 0 };
    struct pci_func *f = tfunc_new(&log);
    assert_int_equal(linux_enable_pasid(f, 0), 0);        /* enable only */
    assert_true(pci_pasid_enabled(f));
    assert_false(pci_pasid_exec_enabled(f));
    wr(f, 0x10E, 2, 0x0000);                              /* pci_disable_pasid */
    assert_false(pci_pasid_enabled(f));
    assert_int_equal(log.n, 2);
    assert_int_equal(log.ev[1].old_val, 1);
    assert_int_equal(log.ev[1].new_val, 0);
    wr(f, 0x10C, 2, 0xFFFF);                              /* capability is RO */
    assert_int_equal(rd(f, 0x10C, 2), 0x1406);
    assert_int_equal(log.n, 2);
    free(f);
}

/* ---- PRI ------------------------------------------------------------------ */
static void test_pri_credits_and_stopped(void **state)
{
    (void)state;
    struct pci_func *f = tfunc_new(NULL);
    assert_int_equal(pci_pri_acquire(f), -EPERM);         /* disabled */
    linux_iommu_enable_pci_caps(f);
    for (unsigned i = 0; i < 2048; i++)
        assert_int_equal(pci_pri_acquire(f), 0);
    assert_int_equal(pci_pri_acquire(f), -EBUSY);
    assert_int_equal(pci_pri_outstanding(f), 2048);
    pci_pri_release(f, 48);
    assert_int_equal(pci_pri_outstanding(f), 2000);
    /* disable with requests outstanding: Stopped stays clear */
    wr(f, 0x114, 2, 0x0);
    assert_int_equal(rd(f, 0x116, 2) & 0x100, 0);
    assert_int_equal(linux_enable_pri(f, 2048), -EBUSY);  /* Linux refuses */
    assert_int_equal(pci_pri_acquire(f), -EPERM);
    pci_pri_release(f, 1999);
    assert_int_equal(rd(f, 0x116, 2) & 0x100, 0);
    pci_pri_release(f, 5);                                /* more than outstanding */
    assert_int_equal(pci_pri_outstanding(f), 0);
    assert_int_equal(rd(f, 0x116, 2) & 0x100, 0x100);     /* now Stopped */
    assert_int_equal(linux_enable_pri(f, 2048), 0);
    free(f);
}

/* Reset acts only when Enable is clear after the write (§10.5.2.2). */
static void test_pri_reset_semantics(void **state)
{
    (void)state;
    struct evlog log = { .n = 0 };
    struct pci_func *f = tfunc_new(&log);
    wr(f, 0x11C, 4, 8);
    wr(f, 0x114, 2, 0x3);                 /* reset + enable: enable wins, no reset */
    assert_int_equal(evlog_count(&log, PCI_EV_PRI_RESET), 0);
    assert_int_equal(rd(f, 0x114, 2), 0x1);               /* Reset reads 0 */
    assert_int_equal(pci_pri_acquire(f), 0);
    assert_int_equal(pci_pri_acquire(f), 0);
    wr(f, 0x114, 2, 0x3);                                 /* while enabled: nothing */
    assert_int_equal(pci_pri_outstanding(f), 2);
    wr(f, 0x114, 2, 0x2);                 /* clearing Enable in the same write: acts */
    assert_int_equal(pci_pri_outstanding(f), 0);
    assert_int_equal(rd(f, 0x116, 2), 0x8100);
    assert_int_equal(log.n, 4);           /* ALLOC, ENABLE 0->1, ENABLE 1->0, RESET */
    assert_int_equal(log.ev[2].kind, PCI_EV_PRI_ENABLE);
    assert_int_equal(log.ev[2].new_val, 0);
    assert_int_equal(log.ev[3].kind, PCI_EV_PRI_RESET);
    wr(f, 0x114, 1, 0x2);                                 /* disabled: acts again */
    assert_int_equal(log.n, 5);
    wr(f, 0x115, 1, 0xFF);                                /* no writable bit there */
    assert_int_equal(log.n, 5);
    free(f);
}

static void test_pri_status_rw1c(void **state)
{
    (void)state;
    struct pci_func *f = tfunc_new(NULL);
    pci_pri_report(f, PCI_PRI_RESPONSE_FAILURE);
    pci_pri_report(f, PCI_PRI_UNEXPECTED_PRGI);
    assert_int_equal(rd(f, 0x116, 2), 0x8103);
    wr(f, 0x116, 2, 0x0001);                              /* clear RF */
    assert_int_equal(rd(f, 0x116, 2), 0x8102);
    wr(f, 0x116, 2, 0x8100);                              /* RO bits ignore writes */
    assert_int_equal(rd(f, 0x116, 2), 0x8102);
    wr(f, 0x116, 2, 0x0000);
    assert_int_equal(rd(f, 0x116, 2), 0x8102);
    pci_pri_report(f, PCI_PRI_RESPONSE_FAILURE);
    wr(f, 0x114, 2, 0x1);                                 /* enabling clears the flags */
    assert_int_equal(rd(f, 0x116, 2), 0x8000);
    free(f);
}

/* Decision: an Allocation above Capacity is clamped to Capacity. */
static void test_pri_alloc_over_capacity(void **state)
{
    (void)state;
    struct pci_func *f = calloc(1, sizeof(*f));
    assert_int_equal(pci_func_init(f, 0x8086, 1, 0), 0);
    assert_int_equal(pci_add_pcie_rciep(f), 0);
    assert_int_equal(pci_add_pri(f, 3), 0);
    wr(f, 0x10C, 4, 100);
    wr(f, 0x104, 2, 0x1);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(pci_pri_acquire(f), 0);
    assert_int_equal(pci_pri_acquire(f), -EBUSY);
    free(f);
}

/* ---- ATS ------------------------------------------------------------------ */
static void test_ats_events(void **state)
{
    (void)state;
    struct evlog log = { .n = 0 };
    struct pci_func *f = tfunc_new(&log);
    assert_int_equal(linux_enable_ats(f, 12), 0);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.ev[0].kind, PCI_EV_ATS);
    assert_int_equal(log.ev[0].old_val, 0);
    assert_int_equal(log.ev[0].new_val, 0x8000);
    wr(f, 0x106, 2, 0x8003);                              /* STU 32 KiB */
    assert_int_equal(pci_ats_stu(f), 3);
    wr(f, 0x106, 2, 0x7FE3);                              /* disable; reserved bits */
    assert_false(pci_ats_enabled(f));
    assert_int_equal(rd(f, 0x106, 2), 0x0003);
    assert_int_equal(log.n, 3);
    assert_int_equal(pci_ats_invq_depth(f), 32);
    free(f);
}

/* ---- MSI (msi_capability_init + __pci_write_msi_msg + unmask) ------------- */
static void linux_msi_setup(struct pci_func *f, uint64_t addr, uint16_t data)
{
    unsigned pos = linux_find_capability(f, PCI_CAP_ID_MSI);
    uint16_t ctl = (uint16_t)rd(f, pos + 2, 2);
    assert_true(ctl & 0x80);                              /* 64-bit */
    assert_true(ctl & 0x100);                             /* maskbit */
    wr(f, pos + 0x10, 4, 0x1);                            /* mask all (one vector) */
    wr(f, pos + 2, 2, ctl & ~0x70u);                      /* MME = 0 */
    wr(f, pos + 4, 4, (uint32_t)addr);
    wr(f, pos + 8, 4, (uint32_t)(addr >> 32));
    wr(f, pos + 0xC, 2, data);
    wr(f, pos + 2, 2, (rd(f, pos + 2, 2) & ~0x70u) | 0x1);   /* pci_msi_set_enable */
    wr(f, 0x04, 2, rd(f, 0x04, 2) | 0x400);               /* pci_intx_for_msi(0) */
}

static void test_msi_linux_setup(void **state)
{
    (void)state;
    struct evlog log = { .n = 0 };
    struct pci_func *f = tfunc_new(&log);
    uint64_t a = 0;
    uint32_t d = 0;
    wr(f, 0x04, 2, 0x0006);                               /* pci_set_master */
    log.n = 0;
    linux_msi_setup(f, 0xFEE01000, 0x4041);
    assert_int_equal(evlog_count(&log, PCI_EV_MSI_MASK), 1);
    assert_int_equal(evlog_count(&log, PCI_EV_MSI_ADDR), 1);   /* high dword stays 0 */
    assert_int_equal(evlog_count(&log, PCI_EV_MSI_DATA), 1);
    assert_int_equal(evlog_count(&log, PCI_EV_MSI_CTL), 1);    /* MME already 0 */
    assert_int_equal(evlog_count(&log, PCI_EV_COMMAND), 1);
    assert_true(pci_msi_message(f, &a, &d));
    assert_int_equal(a, 0xFEE01000);
    assert_int_equal(d, 0x4041);
    assert_true(pci_msi_masked(f, 0));
    assert_int_equal(pci_msi_signal(f, 0, &a, &d), PCI_MSI_PENDING);
    assert_int_equal(rd(f, 0x90, 4), 1);                  /* Pending bit */
    log.n = 0;
    wr(f, 0x8C, 4, 0);                                    /* unmask */
    assert_int_equal(log.n, 2);
    assert_int_equal(log.ev[1].kind, PCI_EV_MSI_PENDING);
    assert_int_equal(log.ev[1].new_val, 1);
    a = 0, d = 0;
    assert_int_equal(pci_msi_signal(f, 0, &a, &d), PCI_MSI_SEND);
    assert_int_equal(a, 0xFEE01000);
    assert_int_equal(d, 0x4041);
    assert_int_equal(rd(f, 0x90, 4), 0);                  /* sent: Pending clear */
    wr(f, 0x8C, 4, 1);
    wr(f, 0x8C, 4, 0);                                    /* nothing pending now */
    assert_int_equal(evlog_count(&log, PCI_EV_MSI_PENDING), 1);
    free(f);
}

static void test_msi_gating(void **state)
{
    (void)state;
    struct pci_func *f = tfunc_new(NULL);
    uint64_t a;
    uint32_t d;
    linux_msi_setup(f, 0xFEE00000, 0x30);
    wr(f, 0x8C, 4, 0);
    assert_int_equal(pci_msi_signal(f, 0, &a, &d), PCI_MSI_BLOCKED);   /* BME off */
    wr(f, 0x04, 2, 0x0406);
    assert_int_equal(pci_msi_signal(f, 0, &a, &d), PCI_MSI_SEND);
    wr(f, 0x7E, 2, 0x0180);                                             /* MSI off */
    assert_false(pci_msi_message(f, &a, &d));
    assert_int_equal(pci_msi_signal(f, 0, &a, &d), PCI_MSI_BLOCKED);
    wr(f, 0x84, 4, 0x1);                                  /* 64-bit address high */
    assert_int_equal(pci_msi_message(f, &a, &d), false);
    assert_int_equal(a, 0x1FEE00000ULL);
    free(f);
}

/* Multiple Message Enable: the low MME bits of the data carry the vector. */
static void test_msi_multi_vector(void **state)
{
    (void)state;
    struct pci_func *f = calloc(1, sizeof(*f));
    assert_int_equal(pci_func_init(f, 0x8086, 1, 0), 0);
    assert_int_equal(pci_add_msi(f, 8), 0);
    uint64_t a;
    uint32_t d;
    wr(f, 0x04, 2, 0x0004);
    wr(f, 0x44, 4, 0xFEE00000);
    wr(f, 0x4C, 2, 0x4060);
    wr(f, 0x42, 2, 0x0021);                               /* 4 vectors, enable */
    assert_int_equal(pci_msi_vectors(f), 4);
    assert_int_equal(pci_msi_signal(f, 3, &a, &d), PCI_MSI_SEND);
    assert_int_equal(d, 0x4063);
    assert_int_equal(pci_msi_signal(f, 5, &a, &d), PCI_MSI_SEND);   /* folded to 1 */
    assert_int_equal(d, 0x4061);
    wr(f, 0x50, 4, 0x4);
    assert_int_equal(pci_msi_signal(f, 2, &a, &d), PCI_MSI_PENDING);
    assert_int_equal(rd(f, 0x54, 4), 0x4);
    wr(f, 0x42, 2, 0x0071);                               /* MME 7 > MMC 3: 8 */
    assert_int_equal(pci_msi_vectors(f), 8);
    free(f);
}

/* A handler may call accessors (events are delivered unlocked). */
static void reentrant_cb(void *opaque, struct pci_func *f, const struct pci_event *ev)
{
    unsigned *seen = opaque;
    if (ev->kind == PCI_EV_ATS && pci_ats_enabled(f) && pci_bus_master(f))
        (*seen)++;
}

static void test_event_handler_reentrant(void **state)
{
    (void)state;
    static const struct pci_func_ops ops = { .event = reentrant_cb };
    unsigned seen = 0;
    struct pci_func *f = tfunc_new(NULL);
    pci_func_set_ops(f, &ops, &seen);
    wr(f, 0x04, 2, 0x0004);
    assert_int_equal(linux_enable_ats(f, 12), 0);
    assert_int_equal(seen, 1);
    free(f);
}

const struct CMUnitTest pci_enable_tests[] = {
    cmocka_unit_test(test_iommu_enable_pci_caps), cmocka_unit_test(test_pasid_disable_and_features),
    cmocka_unit_test(test_pri_credits_and_stopped), cmocka_unit_test(test_pri_reset_semantics),
    cmocka_unit_test(test_pri_status_rw1c),        cmocka_unit_test(test_pri_alloc_over_capacity),
    cmocka_unit_test(test_ats_events),             cmocka_unit_test(test_msi_linux_setup),
    cmocka_unit_test(test_msi_gating),             cmocka_unit_test(test_msi_multi_vector),
    cmocka_unit_test(test_event_handler_reentrant),
};
const size_t pci_enable_ntests = sizeof(pci_enable_tests) / sizeof(pci_enable_tests[0]);
