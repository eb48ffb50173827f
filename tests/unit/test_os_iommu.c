/* The os layer's VT-d driver against the unit model: discovery from the
 * DMAR table, the Linux boot sequence, device attach, SVA PASID entries,
 * invalidation and its error paths, the fault and page-request handlers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hw_regs.h"
#include "support/os_platform.h"
#include "paging/pt.h"

#define DEV   0x0300   /* behind unit 0 by scope */
#define DEV2  0x0500   /* behind the include-all unit 1 */
#define PASID 0x23

struct fx {
    struct plat p;
    struct os_iommu units[DMAR_MAX_UNITS];
    struct dmar_info info;
    struct pt mm;
    struct vtd_page_resp resp[8];
    unsigned nresp;
    bool ats_timeout;
    unsigned ninv;
};

static struct fx *F;

static void dev_resp(void *o, const struct vtd_page_resp *r)
{
    struct fx *f = o;
    if (f->nresp < 8)
        f->resp[f->nresp++] = *r;
}
static enum vtd_ats_inv_status dev_inv(void *o, uint16_t sid, bool pv, uint32_t pasid, bool g,
                                       uint64_t addr, uint64_t size)
{
    (void)sid, (void)pv, (void)pasid, (void)g, (void)addr, (void)size;
    struct fx *f = o;
    f->ninv++;
    return f->ats_timeout ? VTD_ATS_INV_TIMEOUT : VTD_ATS_INV_DONE;
}
static const struct vtd_dev_ops dev_ops = { dev_inv, dev_resp };

/* Faults the page in: maps a fresh frame at the requested address. */
static int iopf(void *arg, struct os_iommu *m, const struct os_page_req *pr)
{
    struct fx *f = arg;
    (void)m;
    if (pr->pasid != PASID || pr->addr >= 0x800000000ULL)
        return -1;
    uint64_t pte;
    enum pt_page_size sz;
    if (!pt_lookup(&f->mm, pr->addr, &pte, &sz))
        return 0;
    return pt_map(&f->mm, pr->addr, mem_frame_alloc(f->p.mem), PT_4K, PTE_RW | PTE_US);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    uint8_t dmar[512];
    uint16_t eps[] = { DEV };
    plat_init(&f->p, 2, NULL);
    size_t len = plat_dmar(&f->p, dmar, sizeof(dmar), eps, 1);
    assert_int_equal(os_iommu_probe(&f->p.k, dmar, len, f->units, &f->info), 2);
    assert_int_equal(pt_init(&f->mm, phys_view_hpa(f->p.mem), 4), 0);
    for (unsigned i = 0; i < 2; i++)
        f->units[i].iopf = iopf, f->units[i].iopf_arg = f;
    assert_int_equal(vtd_device_attach(f->p.unit[0], DEV, &dev_ops, f), 0);
    F = f;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    plat_fini(&f->p);
    free(f);
    return 0;
}

static uint64_t reg(struct fx *f, unsigned u, uint32_t off, unsigned size)
{
    return vtd_mmio_read(f->p.unit[u], off, size);
}

/* os-driver §2.1: after probe each unit has QI on with 256-bit descriptors
 * (QS=1), the root table latched in scalable mode, the page request queue
 * (PQS=4) and unmasked fault / page-request MSIs, translation still off;
 * the three global invalidations went through the queue. */
static void test_boot_state(void **state)
{
    struct fx *f = *state;
    for (unsigned u = 0; u < 2; u++) {
        uint64_t gsts = reg(f, u, REG_OFF_GSTS, 4);
        assert_int_equal(gsts, HW_FM(GSTS, QIES) | HW_FM(GSTS, RTPS));
        assert_int_equal(reg(f, u, REG_OFF_IQA, 8) & 0xFFF, HW_FM(IQA, DW) | 1);
        assert_int_equal(reg(f, u, REG_OFF_RTADDR, 8), f->units[u].root | (1 << 10));
        assert_int_equal(reg(f, u, REG_OFF_PQA, 8) & 0xFFF, 4);
        assert_int_equal(reg(f, u, REG_OFF_FECTL, 4), 0);
        assert_int_equal(reg(f, u, REG_OFF_PECTL, 4), 0);
        assert_int_equal(reg(f, u, REG_OFF_FSTS, 4), 0);
        assert_int_equal(f->units[u].qi_submits, 3);
        assert_int_equal(reg(f, u, REG_OFF_IQH, 8), reg(f, u, REG_OFF_IQT, 8));
        assert_true(f->units[u].sm);
    }
    assert_int_equal(dmar_unit_for(&f->info, 0, DEV), 0);
    assert_int_equal(dmar_unit_for(&f->info, 0, DEV2), 1);
}

static struct vtd_result dma(struct fx *f, uint16_t sid, bool pasid, uint64_t addr, bool write)
{
    struct vtd_req r = { .sid = sid, .pasid_present = pasid, .pasid = PASID, .addr = addr,
                         .write = write };
    struct vtd_result res;
    vtd_translate(f->p.unit[0], &r, &res);
    return res;
}

/* Attach (§2.2) + SVA bind (§2.4) + TE: requests without PASID pass
 * through, requests with the bound PASID walk the process page table. */
static void test_attach_bind_translate(void **state)
{
    struct fx *f = *state;
    uint64_t page = mem_frame_alloc(f->p.mem);
    assert_int_equal(pt_map(&f->mm, 0x40000, page, PT_4K, PTE_RW | PTE_US), 0);
    assert_int_equal(os_iommu_attach(&f->units[0], DEV, true, true, true, 0), 0);
    assert_int_equal(os_iommu_attach(&f->units[0], DEV, true, true, true, 0), -16);
    assert_int_equal(os_iommu_set_pasid_fl(&f->units[0], DEV, PASID, f->mm.root, 4, false), 0);
    assert_int_equal(os_iommu_set_pasid_fl(&f->units[0], DEV, 0, f->mm.root, 4, false), -22);
    assert_int_equal(os_iommu_enable_translation(&f->units[0]), 0);
    struct vtd_result r = dma(f, DEV, true, 0x40010, true);
    assert_int_equal(r.fault, 0);
    assert_int_equal(r.addr, page + 0x10);
    r = dma(f, DEV, false, 0x12345678, false);
    assert_int_equal(r.fault, 0);
    assert_int_equal(r.addr, 0x12345678);
}

/* The fault handler reads and clears every record (os-driver §2.7). */
static void test_fault_handler(void **state)
{
    struct fx *f = *state;
    assert_int_equal(os_iommu_attach(&f->units[0], DEV, true, true, true, 0), 0);
    assert_int_equal(os_iommu_set_pasid_fl(&f->units[0], DEV, PASID, f->mm.root, 4, false), 0);
    assert_int_equal(os_iommu_enable_translation(&f->units[0]), 0);
    assert_int_equal(dma(f, DEV, true, 0x99000, true).fault, VTD_FR_FL_NP);
    assert_int_equal(dma(f, 0x0301, false, 0x1000, false).fault, VTD_FR_SM_CTX_NP);
    plat_deliver(&f->p);
    assert_int_equal(f->units[0].nfault, 2);
    struct os_fault *a = &f->units[0].fault[0], *b = &f->units[0].fault[1];
    assert_int_equal(a->sid, DEV);
    assert_int_equal(a->reason, VTD_FR_FL_NP);
    assert_true(a->pasid_present && a->write);
    assert_int_equal(a->pasid, PASID);
    assert_int_equal(a->addr, 0x99000);
    assert_int_equal(b->sid, 0x0301);
    assert_int_equal(b->reason, VTD_FR_SM_CTX_NP);
    assert_false(b->write);
    assert_int_equal(reg(f, 0, REG_OFF_FSTS, 4), 0);
    assert_int_equal(dma(f, DEV, true, 0x9A000, false).fault, VTD_FR_FL_NP);
    plat_deliver(&f->p);                                   /* the event fires again */
    assert_int_equal(f->units[0].nfault, 3);
}

static void prq(struct fx *f, uint64_t addr, bool pasid, bool write, bool lpig, uint16_t prgi)
{
    struct vtd_page_req pr = { .sid = DEV, .pasid_present = pasid, .pasid = PASID, .addr = addr,
                               .read = !write, .write = write, .lpig = lpig, .prgi = prgi };
    vtd_page_request(f->p.unit[0], &pr);
}

/* The page request handler (§2.5): resolve, answer once per group at its
 * last request with the group's sticky status, ignore stop markers,
 * refuse requests without PASID; PQH catches up with PQT. */
static void test_page_requests(void **state)
{
    struct fx *f = *state;
    assert_int_equal(os_iommu_attach(&f->units[0], DEV, true, true, true, 0), 0);
    assert_int_equal(os_iommu_set_pasid_fl(&f->units[0], DEV, PASID, f->mm.root, 4, false), 0);
    assert_int_equal(os_iommu_enable_translation(&f->units[0]), 0);
    prq(f, 0x200000, true, true, true, 3);
    plat_deliver(&f->p);
    assert_int_equal(f->nresp, 1);
    assert_int_equal(f->resp[0].rc, VTD_PRG_SUCCESS);
    assert_int_equal(f->resp[0].prgi, 3);
    assert_true(f->resp[0].lpig && f->resp[0].pasid_present);
    assert_int_equal(dma(f, DEV, true, 0x200008, true).fault, 0);   /* the retry works */
    prq(f, 0x300000, true, false, false, 4);            /* group 4: first page fine */
    prq(f, 0x900000000ULL, true, false, false, 4);      /* second refused by iopf */
    prq(f, 0x301000, true, false, true, 4);             /* last: answers the group */
    prq(f, 0x302000, false, false, true, 5);            /* no PASID: invalid */
    struct vtd_page_req stop = { .sid = DEV, .pasid_present = true, .pasid = PASID, .lpig = true };
    vtd_page_request(f->p.unit[0], &stop);              /* stop marker: no answer */
    plat_deliver(&f->p);
    assert_int_equal(f->nresp, 3);
    assert_int_equal(f->resp[1].prgi, 4);
    assert_int_equal(f->resp[1].rc, VTD_PRG_INVALID);
    assert_int_equal(f->resp[2].prgi, 5);
    assert_int_equal(f->resp[2].rc, VTD_PRG_INVALID);
    assert_int_equal(reg(f, 0, REG_OFF_PQH, 8), reg(f, 0, REG_OFF_PQT, 8));
    assert_int_equal(reg(f, 0, REG_OFF_PRS, 4), 0);
    assert_int_equal(f->units[0].prq_handled, 6);
}

/* Overflow (§6.3, os-driver §2.5): with the queue full the unit sets PRO
 * and answers further requests itself; the handler serves what was queued,
 * and clears PRO once the queue is empty. */
static void test_page_request_overflow(void **state)
{
    struct fx *f = *state;
    assert_int_equal(os_iommu_attach(&f->units[0], DEV, true, true, true, 0), 0);
    assert_int_equal(os_iommu_set_pasid_fl(&f->units[0], DEV, PASID, f->mm.root, 4, false), 0);
    assert_int_equal(os_iommu_enable_translation(&f->units[0]), 0);
    unsigned slots = f->units[0].prq_bytes / 32;          /* 2048; one stays empty */
    for (unsigned i = 0; i < slots + 3; i++)
        prq(f, 0x400000 + 4096ULL * (i % 64), true, false, true, (uint16_t)(i & 0x1FF));
    assert_int_equal(reg(f, 0, REG_OFF_PRS, 4) & 2, 2);   /* PRO */
    assert_int_equal(f->nresp, 4);                        /* 4 dropped, answered by the unit */
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(f->resp[i].rc, VTD_PRG_SUCCESS);
    plat_deliver(&f->p);
    assert_int_equal(f->units[0].prq_handled, slots - 1);
    assert_int_equal(reg(f, 0, REG_OFF_PRS, 4), 0);       /* PPR and PRO cleared */
    assert_int_equal(reg(f, 0, REG_OFF_PQH, 8), reg(f, 0, REG_OFF_PQT, 8));
    prq(f, 0x500000, true, false, true, 1);                /* accepted again */
    assert_int_equal(reg(f, 0, REG_OFF_PRS, 4) & 1, 1);
}

/* A bad descriptor (IQE) is skipped and reported; the queue keeps working.
 * A device that never completes its device-TLB invalidation gives ITE
 * (-ETIMEDOUT); later submissions work. */
static void test_qi_error_recovery(void **state)
{
    struct fx *f = *state;
    uint64_t bad[1][4] = { { 0xF } };
    assert_int_equal(os_qi_submit(&f->units[0], bad, 1), -22);
    assert_int_equal(reg(f, 0, REG_OFF_FSTS, 4), 0);
    uint64_t cc[1][4] = { { 0 } };
    os_qi_cc(cc[0], 1, 0, 0, 0);
    assert_int_equal(os_qi_submit(&f->units[0], cc, 1), 0);
    assert_int_equal(os_iommu_attach(&f->units[0], DEV, true, true, true, 0), 0);
    f->ats_timeout = true;
    assert_int_equal(os_iommu_flush_pasid_range(&f->units[0], DEV, PASID, 0x1000, 1), -110);
    f->ats_timeout = false;
    assert_int_equal(os_iommu_flush_pasid_range(&f->units[0], DEV, PASID, 0x1000, 8), 0);
    assert_int_equal(f->ninv, 2);
    assert_int_equal(reg(f, 0, REG_OFF_FSTS, 4), 0);
    assert_int_equal(f->units[0].qi_errors, 2);
}

/* Unbind (§2.4): the PASID entry goes, its translations and the device's
 * TLB are flushed, pending page requests are answered. */
static void test_unbind(void **state)
{
    struct fx *f = *state;
    uint64_t page = mem_frame_alloc(f->p.mem);
    assert_int_equal(pt_map(&f->mm, 0x40000, page, PT_4K, PTE_RW | PTE_US), 0);
    assert_int_equal(os_iommu_attach(&f->units[0], DEV, true, true, true, 0), 0);
    assert_int_equal(os_iommu_set_pasid_fl(&f->units[0], DEV, PASID, f->mm.root, 4, false), 0);
    assert_int_equal(os_iommu_enable_translation(&f->units[0]), 0);
    assert_int_equal(dma(f, DEV, true, 0x40000, false).fault, 0);
    prq(f, 0x500000, true, false, true, 9);             /* pending, not yet delivered */
    assert_int_equal(os_iommu_clear_pasid(&f->units[0], DEV, PASID), 0);
    assert_int_equal(f->nresp, 1);                      /* drained */
    assert_int_equal(dma(f, DEV, true, 0x40000, false).fault, VTD_FR_SM_PTE_NP);
    assert_int_equal(f->ninv, 1);
}

/* A legacy unit: pass-through context entries, identity DMA. */
static void test_legacy_unit(void **state)
{
    (void)state;
    struct plat p;
    struct os_iommu units[DMAR_MAX_UNITS];
    struct dmar_info info;
    uint8_t dmar[256];
    bool legacy[1] = { true };
    plat_init(&p, 1, legacy);
    size_t len = plat_dmar(&p, dmar, sizeof(dmar), NULL, 0);
    assert_int_equal(os_iommu_probe(&p.k, dmar, len, units, &info), 1);
    assert_false(units[0].sm);
    assert_int_equal(vtd_mmio_read(p.unit[0], REG_OFF_IQA, 8) & HW_FM(IQA, DW), 0);
    assert_int_equal(os_iommu_attach(&units[0], 0x0010, false, false, false, 0), 0);
    assert_int_equal(os_iommu_enable_translation(&units[0]), 0);
    struct vtd_req r = { .sid = 0x0010, .addr = 0x123456 };
    struct vtd_result res;
    vtd_translate(p.unit[0], &r, &res);
    assert_int_equal(res.fault, 0);
    assert_int_equal(res.addr, 0x123456);
    assert_int_equal(units[0].qi_submits, 2);   /* no PASID cache in legacy mode */
    plat_fini(&p);
}

/* DMAR tables: build/parse round trip and every refusal. */
static void test_dmar_tables(void **state)
{
    (void)state;
    struct dmar_info in = { .haw = 46, .nunits = 2 }, out;
    uint8_t buf[256];
    const char *why = NULL;
    in.unit[0] = (struct dmar_unit){ .base = 0xFED91000, .include_all = true };
    in.unit[1] = (struct dmar_unit){ .base = 0xFED90000, .nscope = 2,
                                     .scope = { { 1, 0x0300 }, { 1, 0x0408 } } };
    size_t len = dmar_build(&in, buf, sizeof(buf));
    assert_int_equal(len, 48 + 16 + 16 + 16);
    assert_int_equal(dmar_parse(buf, len, &out, &why), 0);
    assert_int_equal(out.haw, 46);
    assert_int_equal(out.nunits, 2);
    assert_int_equal(out.unit[0].base, 0xFED90000);   /* include-all moved last */
    assert_int_equal(out.unit[0].scope[1].bdf, 0x0408);
    assert_true(out.unit[1].include_all);
    assert_int_equal(dmar_unit_for(&out, 0, 0x0408), 0);
    assert_int_equal(dmar_unit_for(&out, 0, 0x0409), 1);
    assert_int_equal(dmar_unit_for(&out, 1, 0x0408), -1);
    buf[40] ^= 1;
    assert_int_equal(dmar_parse(buf, len, &out, &why), -1);
    assert_string_equal(why, "bad checksum");
    buf[40] ^= 1;
    assert_int_equal(dmar_parse(buf, len - 1, &out, &why), -1);
    assert_int_equal(dmar_build(&in, buf, 50), 0);
    in.unit[1].include_all = true;
    len = dmar_build(&in, buf, sizeof(buf));
    assert_int_equal(dmar_parse(buf, len, &out, &why), -1);
    assert_string_equal(why, "two INCLUDE_PCI_ALL units in one segment");
}

static void test_klog_format(void **state)
{
    (void)state;
    char b[64];
    struct plat p;
    plat_init(&p, 1, NULL);
    os_log(&p.k, 1, "%s %d %u %#x %08llx %lx %c%%|%5u|%-3d|", "a", -5, 7u, 0x2au, 0x1234ULL,
           0xfUL, 'z', 42u, 1);
    assert_string_equal(p.lastlog, "host: a -5 7 0x2a 00001234 f z%|   42|1  |");
    va_list none;
    (void)none;
    snprintf(b, sizeof(b), "x");
    plat_fini(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_boot_state), T(test_attach_bind_translate), T(test_fault_handler),
        T(test_page_requests), T(test_page_request_overflow), T(test_qi_error_recovery),
        T(test_unbind),
        cmocka_unit_test(test_legacy_unit), cmocka_unit_test(test_dmar_tables),
        cmocka_unit_test(test_klog_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
