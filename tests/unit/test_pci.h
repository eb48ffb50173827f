/* Shared by tests/unit/test_pci.c and its companions pci_*.c: the SVM
 * accelerator's configuration used throughout, an event log, and the config
 * walks exactly as Linux 6.1 does them (drivers/pci/pci.c, ats.c,
 * probe.c), so the tests see the device the way the guest kernel will. */
#ifndef VSVM_TEST_PCI_H
#define VSVM_TEST_PCI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "pci/bus.h"
#include "pci/config.h"

/* ---- test groups, combined into one cmocka group by test_pci.c ---------- */
extern const struct CMUnitTest pci_golden_tests[];
extern const size_t pci_golden_ntests;
extern const struct CMUnitTest pci_header_tests[];
extern const size_t pci_header_ntests;
extern const struct CMUnitTest pci_caps_tests[];
extern const size_t pci_caps_ntests;
extern const struct CMUnitTest pci_enable_tests[];
extern const size_t pci_enable_ntests;
extern const struct CMUnitTest pci_bus_tests[];
extern const size_t pci_bus_ntests;

/* ---- event log ---------------------------------------------------------- */
#define EVLOG_MAX 64
struct evlog {
    struct pci_event ev[EVLOG_MAX];
    unsigned n;
};

static inline void evlog_cb(void *opaque, struct pci_func *f, const struct pci_event *ev)
{
    (void)f;
    struct evlog *l = opaque;
    assert_true(l->n < EVLOG_MAX);
    l->ev[l->n++] = *ev;
}

static inline unsigned evlog_count(const struct evlog *l, enum pci_event_kind k)
{
    unsigned n = 0;
    for (unsigned i = 0; i < l->n; i++)
        n += l->ev[i].kind == k;
    return n;
}

/* ---- config access shorthands (fail the test on a refused access) ------- */
static inline uint32_t rd(struct pci_func *f, unsigned off, unsigned len)
{
    uint32_t v = 0;
    assert_int_equal(pci_cfg_read(f, off, len, &v), 0);
    return v;
}

static inline void wr(struct pci_func *f, unsigned off, unsigned len, uint32_t v)
{
    assert_int_equal(pci_cfg_write(f, off, len, v), 0);
}

/* ---- the accelerator used by the tests ---------------------------------- */
#define TVENDOR 0x8086
#define TDEVICE 0x5A5A
#define TCLASS  0x038000           /* display controller, other */
#define TBAR0   (16ULL << 20)      /* 64-bit prefetchable */
#define TBAR2   (64ULL << 10)      /* 32-bit */
#define TPRICAP 4096u

static inline struct pci_func *tfunc_new(struct evlog *log)
{
    static const struct pci_func_ops ops = { .event = evlog_cb };
    struct pci_func *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(pci_func_init(f, TVENDOR, TDEVICE, TCLASS), 0);
    assert_int_equal(pci_add_bar(f, 0, TBAR0, true, true), 0);
    assert_int_equal(pci_add_bar(f, 2, TBAR2, false, false), 0);
    assert_int_equal(pci_add_pcie_rciep(f), 0);
    assert_int_equal(pci_add_msi(f, 1), 0);
    assert_int_equal(pci_add_ats(f, 32), 0);
    assert_int_equal(pci_add_pasid(f, 20, true, true), 0);
    assert_int_equal(pci_add_pri(f, TPRICAP), 0);
    if (log)
        pci_func_set_ops(f, &ops, log);
    return f;
}

/* ---- Linux 6.1 capability walks (drivers/pci/pci.c) --------------------- */
#define LINUX_PCI_FIND_CAP_TTL 48

/* pci_find_capability: Status.CAP_LIST, then the list from 0x34; each
 * pointer masked with ~3, entries below 0x40 end it, ID 0xff ends it, at
 * most 48 hops. */
static inline unsigned linux_find_capability(struct pci_func *f, unsigned cap)
{
    if (!(rd(f, 0x06, 2) & 0x10))
        return 0;
    unsigned hdr_type = rd(f, 0x0E, 1) & 0x7F;
    if (hdr_type != 0 && hdr_type != 1)
        return 0;
    unsigned pos = rd(f, 0x34, 1);
    int ttl = LINUX_PCI_FIND_CAP_TTL;
    while (ttl--) {
        if (pos < 0x40)
            break;
        pos &= ~3u;
        unsigned ent = rd(f, pos, 2), id = ent & 0xFF;
        if (id == 0xFF)
            break;
        if (id == cap)
            return pos;
        pos = ent >> 8;
    }
    return 0;
}

/* pci_find_next_ext_capability(dev, 0, cap): from 0x100, header 0 means
 * none, next = (header >> 20) & 0xffc, below 0x100 ends, (4096-256)/8 hops. */
static inline unsigned linux_find_ext_capability(struct pci_func *f, unsigned cap)
{
    int ttl = (4096 - 256) / 8;
    unsigned pos = 0x100;
    uint32_t header = rd(f, pos, 4);
    if (header == 0)
        return 0;
    while (ttl-- > 0) {
        if ((header & 0xFFFF) == cap)
            return pos;
        pos = (header >> 20) & 0xFFC;
        if (pos < 0x100)
            break;
        header = rd(f, pos, 4);
    }
    return 0;
}

/* pci_cfg_space_size_ext: 4096 unless 0x100 reads all-ones or every
 * 256-byte window above aliases the header. */
static inline unsigned linux_cfg_space_size(struct pci_func *f)
{
    uint32_t status = rd(f, 0x100, 4), hdr0 = rd(f, 0, 4);
    if (status == 0xFFFFFFFF)
        return 256;
    bool aliased = true;
    for (unsigned pos = 0x100; pos < 0x1000; pos += 0x100)
        aliased = aliased && rd(f, pos, 4) == hdr0;
    return aliased ? 256 : 4096;
}

#endif
