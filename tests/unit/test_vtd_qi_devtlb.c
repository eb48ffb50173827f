/* Device-TLB invalidation through the queue (vtd-reference.md §4.5, §4.8
 * type 8, §4.9 ITE/ICE, §7): what the endpoint's ats_invalidate callback
 * receives for every size encoding (built as Linux 6.1 qi_flush_dev_iotlb
 * and qi_flush_dev_iotlb_pasid build them), the PASID form and its G bit,
 * descriptors for requesters nobody attached, invalidation time-outs (ITE:
 * IQERCD.ITESID, IQH past the device-TLB descriptor, nothing later
 * processed until ITE is cleared) and unexpected completions (ICE). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>

#define VTD_QI_FIXTURE_IMPL
#include "vtd_qi_fixture.c"

#define SID_A 0x0100
#define SID_B 0x0208

/* Linux: for 2^mask pages, address bits [12, 12 + mask - 1) are set
 * (addr |= (1 << (VTD_PAGE_SHIFT + mask - 1)) - 1) and S=1. */
static uint64_t linux_size_addr(uint64_t addr, unsigned mask)
{
    if (mask)
        addr |= (1ULL << (12 + mask - 1)) - 1;
    return addr & ~0xFFFULL;
}

struct enc { const char *c; uint64_t addr; unsigned mask; bool raw; uint64_t base, size; };
static const struct enc encs[] = {
    { "S=0: one page", 0x12345000, 0, false, 0x12345000, 0x1000 },
    { "S=1: 2 pages", 0x12344000, 1, false, 0x12344000, 0x2000 },
    { "S=1: 4 pages", 0x12344000, 2, false, 0x12344000, 0x4000 },
    { "S=1: 16 pages", 0x12340000, 4, false, 0x12340000, 0x10000 },
    { "S=1: 512 pages (2 MiB)", 0x40200000, 9, false, 0x40200000, 0x200000 },
    { "S=1: 2^18 pages (1 GiB)", 0x40000000, 18, false, 0x40000000, 0x40000000 },
    { "S=1: all ones (everything)", 0xFFFFFFFFFFFFF000ULL, 0, true, 0, ~0ULL },
    { "S=1: bits 62:12 set (everything)", 0x7FFFFFFFFFFFF000ULL, 0, true, 0, ~0ULL },
};
#define NENC (sizeof(encs) / sizeof(encs[0]))

static void check_inv(const char *c, const struct qx_dev *d, unsigned i, uint16_t sid, bool pv,
                      uint32_t pasid, bool global, uint64_t base, uint64_t size)
{
    const struct qx_inv *v = &d->inv[i];
    QX_EQ(c, "callback sid", v->sid, sid);
    QX_EQ(c, "callback pasid_valid", v->pv, pv);
    QX_EQ(c, "callback pasid", v->pasid, pasid);
    QX_EQ(c, "callback global", v->global, global);
    QX_EQ(c, "callback addr", v->addr, base);
    QX_EQ(c, "callback size", v->size, size);
}

/* Type 3 (§4.5): the range each encoding names. A request without PASID
 * reaches the device as a non-PASID invalidation; the model passes
 * global = true for it (it covers every PASID's entries, decision in
 * qi.c). MIP and (with ECAP.DIT) PFSID do not change what is delivered. */
static void test_devtlb_size_encoding(void **state)
{
    (void)state;
    qx_case = "test_devtlb_size_encoding";
    for (unsigned w = 0; w < 2; w++) {
        struct qx x;
        struct qx_opts o = { .legacy = !w, .ttm = w, .dw = w, .ecap_set = HW_FM(ECAP, DIT) };
        qx_init(&x, &o);
        struct qx_dev *dev = qx_attach(&x, SID_A);
        for (unsigned i = 0; i < NENC; i++) {
            char c[96];
            uint64_t d[4];
            snprintf(c, sizeof(c), "%s, type 3, %s", w ? "256-bit" : "128-bit", encs[i].c);
            bool s = encs[i].raw || encs[i].mask;
            qd_devtlb(d, SID_A, encs[i].raw ? encs[i].addr : linux_size_addr(encs[i].addr,
                                                                            encs[i].mask), s);
            HW_SET(INV_DEVTLB, MIP, d, i);
            HW_SET(INV_DEVTLB, PFSID_LO, d, i & 0xF);
            HW_SET(INV_DEVTLB, PFSID_HI, d, 0x123);
            qx_put(&x, d);
            QX_TRUE(c, "wait after it completes", qx_sync(&x));
            QX_EQ(c, "callbacks", dev->ninv, i + 1);
            check_inv(c, dev, i, SID_A, false, 0, true, encs[i].base, encs[i].size);
        }
        qx_fini(&x);
    }
}

/* Type 8 (§4.8): PASID, the G bit (QW1 bit 0, Linux 6.1 polarity: 1 =
 * also global translations), S at QW1 bit 11, the same size encoding. */
static void test_pasid_devtlb(void **state)
{
    (void)state;
    qx_case = "test_pasid_devtlb";
    struct qx x;
    struct qx_opts o = { .ttm = 1, .dw = true };
    qx_init(&x, &o);
    struct qx_dev *dev = qx_attach(&x, SID_B);
    for (unsigned i = 0; i < NENC; i++) {
        for (unsigned g = 0; g < 2; g++) {
            char c[96];
            uint64_t d[4];
            uint32_t pasid = 0xABCDE - i;
            snprintf(c, sizeof(c), "type 8, G=%u, %s", g, encs[i].c);
            bool s = encs[i].raw || encs[i].mask;
            qd_pdevtlb(d, SID_B, pasid, g, encs[i].raw ? encs[i].addr :
                       linux_size_addr(encs[i].addr, encs[i].mask), s);
            HW_SET(INV_PDEVTLB, MIP, d, 31);
            qx_put(&x, d);
            QX_TRUE(c, "wait after it completes", qx_sync(&x));
            QX_EQ(c, "callbacks", dev->ninv, 2 * i + g + 1);
            check_inv(c, dev, 2 * i + g, SID_B, true, pasid, g, encs[i].base, encs[i].size);
        }
    }
    qx_fini(&x);
}

/* A device-TLB invalidation for a requester no endpoint is attached at
 * completes at once (decision in qi.c: nothing is cached anywhere); other
 * endpoints are not called; a detached endpoint is not called either. */
static void test_unattached_and_routing(void **state)
{
    (void)state;
    qx_case = "test_unattached_and_routing";
    struct qx x;
    struct qx_opts o = { .ttm = 1, .dw = true };
    uint64_t d[4];
    qx_init(&x, &o);
    struct qx_dev *a = qx_attach(&x, SID_A), *b = qx_attach(&x, SID_B);
    b->answer = VTD_ATS_INV_TIMEOUT;           /* would stop the queue if called */
    qd_devtlb(d, 0x0900, 0x1000, false);
    qx_put(&x, d);
    qd_pdevtlb(d, 0x0900, 7, true, 0x1000, false);
    qx_put(&x, d);
    qd_devtlb(d, SID_A, 0x5000, false);
    qx_put(&x, d);
    const char *c = "unattached requester 0900 and device A";
    QX_TRUE(c, "wait completes", qx_sync(&x));
    QX_EQ(c, "FSTS", qx_rd(&x, REG_OFF_FSTS, 4), 0);
    QX_EQ(c, "device A calls", a->ninv, 1);
    QX_EQ(c, "device B calls", b->ninv, 0);
    check_inv(c, a, 0, SID_A, false, 0, true, 0x5000, 0x1000);
    vtd_device_detach(x.u, SID_B);
    qd_devtlb(d, SID_B, 0x5000, false);
    qx_put(&x, d);
    c = "detached device B";
    QX_TRUE(c, "wait completes", qx_sync(&x));
    QX_EQ(c, "device B calls", b->ninv, 0);
    QX_EQ(c, "FSTS", qx_rd(&x, REG_OFF_FSTS, 4), 0);
    QX_EQ("attach twice", "rc", vtd_device_attach(x.u, SID_A, &qx_dev_ops, a), -EBUSY);
    qx_fini(&x);
}

/* ITE (§4.9): [wait A][device-TLB (times out)][wait B] -> A done, FSTS.ITE,
 * IQERCD.ITESID = the device, IQEI untouched, IQH past the device-TLB
 * descriptor (at B), B not done, one fault event. Further IQT writes
 * process nothing. Clearing ITE resumes at IQH: B and later work complete;
 * the timed-out descriptor is not sent again. (The model processes one
 * descriptor at a time, so no wait was in flight to abort.) */
static void run_ite(const char *c, bool pasid_form)
{
    qx_case = c;
    struct qx x;
    struct qx_opts o = { .ttm = 1, .dw = true };
    qx_init(&x, &o);
    struct qx_dev *dev = qx_attach(&x, SID_B);
    dev->answer = VTD_ATS_INV_TIMEOUT;
    uint64_t a = qx_status_slot(&x), b = qx_status_slot(&x), st = qx_status_slot(&x), d[4];
    qd_wait(d, QD_SW, QX_QI_DONE, a);
    qx_put(&x, d);
    if (pasid_form)
        qd_pdevtlb(d, SID_B, 0x42, false, 0x7000, false);
    else
        qd_devtlb(d, SID_B, 0x7000, false);
    qx_put(&x, d);
    qd_wait(d, QD_SW, QX_QI_DONE, b);
    qx_put(&x, d);
    qx_ring(&x);
    QX_EQ(c, "wait before", qx_rd32(&x, a), QX_QI_DONE);
    QX_EQ(c, "device called", dev->ninv, 1);
    QX_EQ(c, "FSTS (ITE only)", qx_rd(&x, REG_OFF_FSTS, 4), HW_FM(FSTS, ITE));
    uint64_t iqercd = qx_rd(&x, REG_OFF_IQERCD, 8);
    QX_EQ(c, "IQERCD.ITESID", HW_FV(IQERCD, ITESID, iqercd), SID_B);
    QX_EQ(c, "IQERCD.IQEI", HW_FV(IQERCD, IQEI, iqercd), 0);
    QX_EQ(c, "IQERCD.ICESID", HW_FV(IQERCD, ICESID, iqercd), 0);
    QX_EQ(c, "IQERCD dword 1 (Linux reads ITESID there)", qx_rd(&x, REG_OFF_IQERCD + 4, 4), SID_B);
    QX_EQ(c, "IQH past the device-TLB descriptor", qx_iqh(&x), 2 * 32);
    QX_EQ(c, "wait after", qx_rd32(&x, b), QX_QI_IN_USE);
    QX_EQ(c, "fault MSIs", x.msi[QX_EV_FAULT], 1);
    qd_wait(d, QD_SW, QX_QI_DONE, st);
    qx_submit(&x, d);
    QX_EQ(c, "wait queued under ITE", qx_rd32(&x, st), QX_QI_IN_USE);
    QX_EQ(c, "IQH unchanged", qx_iqh(&x), 2 * 32);
    dev->answer = VTD_ATS_INV_DONE;
    qx_clear_fsts(&x, HW_FM(FSTS, ITE));
    QX_EQ(c, "after ITE cleared: FSTS", qx_rd(&x, REG_OFF_FSTS, 4), 0);
    QX_EQ(c, "after ITE cleared: wait B", qx_rd32(&x, b), QX_QI_DONE);
    QX_EQ(c, "after ITE cleared: later wait", qx_rd32(&x, st), QX_QI_DONE);
    QX_EQ(c, "after ITE cleared: IQH = IQT", qx_iqh(&x), x.tail);
    QX_EQ(c, "the timed-out descriptor is not resent", dev->ninv, 1);
    QX_EQ(c, "fault MSIs in all", x.msi[QX_EV_FAULT], 1);
    qx_fini(&x);
}

static void test_ite(void **state)
{
    (void)state;
    qx_case = "test_ite";
    run_ite("ITE on a device-TLB descriptor", false);
    run_ite("ITE on a PASID device-TLB descriptor", true);
}

/* ITE with the fault event masked: IP, then the MSI on unmask. Writing
 * FSTS.ITE when it is not set does not restart anything. */
static void test_ite_masked(void **state)
{
    (void)state;
    qx_case = "test_ite_masked";
    struct qx x;
    struct qx_opts o = { .legacy = true };
    const char *c = "ITE, FECTL masked";
    uint64_t d[4];
    qx_init(&x, &o);
    qx_wr(&x, REG_OFF_FECTL, 4, 0x80000000u);
    struct qx_dev *dev = qx_attach(&x, SID_A);
    dev->answer = VTD_ATS_INV_TIMEOUT;
    qd_devtlb(d, SID_A, 0, true);
    qx_submit(&x, d);
    QX_EQ(c, "FSTS", qx_rd(&x, REG_OFF_FSTS, 4), HW_FM(FSTS, ITE));
    QX_EQ(c, "FECTL (IM|IP)", qx_rd(&x, REG_OFF_FECTL, 4), 0xC0000000u);
    QX_EQ(c, "MSIs while masked", x.msi[QX_EV_FAULT], 0);
    qx_wr(&x, REG_OFF_FECTL, 4, 0);
    QX_EQ(c, "MSI on unmask", x.msi[QX_EV_FAULT], 1);
    dev->answer = VTD_ATS_INV_DONE;
    qx_clear_fsts(&x, HW_FM(FSTS, ITE));
    QX_TRUE(c, "queue works again", qx_sync(&x));
    qx_wr(&x, REG_OFF_FSTS, 4, HW_FM(FSTS, ITE));
    QX_EQ(c, "spurious ITE clear", qx_rd(&x, REG_OFF_FSTS, 4), 0);
    QX_EQ(c, "device calls", dev->ninv, 1);
    qx_fini(&x);
}

/* ICE (§4.9): an Invalidate Completion nobody asked for sets FSTS.ICE and
 * IQERCD.ICESID and raises the fault event; it does not stop the queue;
 * a second one while ICE is pending raises no event; W1C clears it.
 * ITESID and ICESID are independent fields. */
static void test_ice(void **state)
{
    (void)state;
    qx_case = "test_ice";
    struct qx x;
    struct qx_opts o = { .ttm = 1, .dw = true };
    const char *c = "unexpected completion";
    uint64_t d[4];
    qx_init(&x, &o);
    vtd_ats_unexpected_completion(x.u, 0x0123);
    QX_EQ(c, "FSTS", qx_rd(&x, REG_OFF_FSTS, 4), HW_FM(FSTS, ICE));
    QX_EQ(c, "IQERCD.ICESID", HW_FV(IQERCD, ICESID, qx_rd(&x, REG_OFF_IQERCD, 8)), 0x0123);
    QX_EQ(c, "fault MSIs", x.msi[QX_EV_FAULT], 1);
    QX_TRUE(c, "the queue still runs", qx_sync(&x));
    vtd_ats_unexpected_completion(x.u, 0x0456);
    QX_EQ(c, "second ICE: no event", x.msi[QX_EV_FAULT], 1);
    QX_EQ(c, "second ICE: ICESID", HW_FV(IQERCD, ICESID, qx_rd(&x, REG_OFF_IQERCD, 8)), 0x0456);
    struct qx_dev *dev = qx_attach(&x, SID_B);
    dev->answer = VTD_ATS_INV_TIMEOUT;
    qd_devtlb(d, SID_B, 0, false);
    qx_submit(&x, d);
    uint64_t iqercd = qx_rd(&x, REG_OFF_IQERCD, 8);
    c = "ITE while ICE is pending";
    QX_EQ(c, "FSTS", qx_rd(&x, REG_OFF_FSTS, 4), HW_FM(FSTS, ICE) | HW_FM(FSTS, ITE));
    QX_EQ(c, "ITESID", HW_FV(IQERCD, ITESID, iqercd), SID_B);
    QX_EQ(c, "ICESID kept", HW_FV(IQERCD, ICESID, iqercd), 0x0456);
    QX_EQ(c, "no event", x.msi[QX_EV_FAULT], 1);
    qx_clear_fsts(&x, HW_FM(FSTS, ICE));
    QX_EQ(c, "ICE cleared, ITE kept", qx_rd(&x, REG_OFF_FSTS, 4), HW_FM(FSTS, ITE));
    qx_fini(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_devtlb_size_encoding),
        cmocka_unit_test(test_pasid_devtlb),
        cmocka_unit_test(test_unattached_and_routing),
        cmocka_unit_test(test_ite),
        cmocka_unit_test(test_ite_masked),
        cmocka_unit_test(test_ice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
