/* Process address spaces and SVA (os/mm.c, os/svm.c) on the unit model:
 * demand paging by the CPU and by device page requests, munmap/mprotect
 * with the invalidations bound devices need, bind/unbind. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hw_regs.h"
#include "os/svm.h"
#include "support/os_platform.h"

#define DEV 0x0300

struct fx {
    struct plat p;
    struct os_iommu units[DMAR_MAX_UNITS];
    struct dmar_info info;
    struct os_svm svm;
    struct os_mm mm;
    struct vtd_page_resp resp[8];
    unsigned nresp, ninv;
};

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
    ((struct fx *)o)->ninv++;
    return VTD_ATS_INV_DONE;
}
static const struct vtd_dev_ops dev_ops = { dev_inv, dev_resp };

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    uint8_t dmar[256];
    plat_init(&f->p, 1, NULL);
    size_t len = plat_dmar(&f->p, dmar, sizeof(dmar), NULL, 0);
    assert_int_equal(os_iommu_probe(&f->p.k, dmar, len, f->units, &f->info), 1);
    os_svm_init(&f->svm, &f->p.k, f->units, 1, &f->info);
    assert_int_equal(os_iommu_attach(&f->units[0], DEV, true, true, true, 0), 0);
    assert_int_equal(os_iommu_enable_translation(&f->units[0]), 0);
    assert_int_equal(vtd_device_attach(f->p.unit[0], DEV, &dev_ops, f), 0);
    assert_int_equal(os_mm_init(&f->mm, &f->p.k, 4), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    os_mm_destroy(&f->mm);
    plat_fini(&f->p);
    free(f);
    return 0;
}

/* Where the CPU's page table maps va (to compare with the device's view). */
static uint64_t pt_walk_addr_for_test(const struct pt *pt, uint64_t va)
{
    uint64_t pte;
    enum pt_page_size sz;
    assert_int_equal(pt_lookup(pt, va, &pte, &sz), 0);
    return (pte & PTE_ADDR_MASK) | (va & 0xFFF);
}

static struct vtd_result dma(struct fx *f, uint32_t pasid, uint64_t va, bool write)
{
    struct vtd_req r = { .sid = DEV, .pasid_present = true, .pasid = pasid, .addr = va,
                         .write = write };
    struct vtd_result res;
    vtd_translate(f->p.unit[0], &r, &res);
    return res;
}

/* mmap reserves, the first touch maps a zeroed page; areas are separated
 * by guard pages; an access outside any area is a segmentation fault. */
static void test_cpu_demand_paging(void **state)
{
    struct fx *f = *state;
    uint64_t a, b, v = 0x1122334455667788ULL, r = 0;
    assert_int_equal(os_mmap(&f->mm, 3 * 4096, OS_PROT_READ | OS_PROT_WRITE, &a), 0);
    assert_int_equal(os_mmap(&f->mm, 4096, OS_PROT_READ, &b), 0);
    assert_true(b >= a + 4 * 4096);
    assert_int_equal(f->mm.pages, 0);
    assert_int_equal(os_mm_write(&f->mm, a + 4096 - 4, &v, 8), 0);   /* spans two pages */
    assert_int_equal(f->mm.pages, 2);
    assert_int_equal(os_mm_read(&f->mm, a + 4096 - 4, &r, 8), 0);
    assert_int_equal(r, v);
    assert_int_equal(os_mm_read(&f->mm, b, &r, 8), 0);
    assert_int_equal(r, 0);
    assert_int_equal(os_mm_write(&f->mm, b, &v, 8), -14);            /* read-only area */
    assert_int_equal(os_mm_read(&f->mm, a + 3 * 4096, &r, 8), -14);  /* guard page */
    assert_int_equal(os_munmap(&f->mm, a + 4096, 4096), 0);          /* a hole in the middle */
    assert_int_equal(os_mm_read(&f->mm, a + 4096, &r, 8), -14);
    assert_int_equal(os_mm_read(&f->mm, a + 8192, &r, 8), 0);
    assert_int_equal(f->mm.pages, 3);   /* a, b and a + 8192; a + 4096 went back */
    assert_int_equal(os_mmap(&f->mm, 0, 3, &b), -22);
    assert_int_equal(os_munmap(&f->mm, a + 1, 4096), -22);
}

/* SVA: a bound device reads what the CPU wrote; a page the CPU never
 * touched is faulted in by the page-request handler and the device
 * retries; an access outside the areas is refused (Invalid Request). */
static void test_bind_and_device_faults(void **state)
{
    struct fx *f = *state;
    uint64_t a, v = 42;
    uint32_t pasid;
    assert_int_equal(os_mmap(&f->mm, 8 * 4096, OS_PROT_READ | OS_PROT_WRITE, &a), 0);
    assert_int_equal(os_mm_write(&f->mm, a, &v, 8), 0);
    assert_int_equal(os_sva_bind(&f->svm, DEV, &f->mm, &pasid), 0);
    assert_int_equal(pasid, 1);
    assert_int_equal(os_sva_bind(&f->svm, 0x0301, &f->mm, &pasid), -22);   /* not attached */
    struct vtd_result r = dma(f, pasid, a, false);
    assert_int_equal(r.fault, 0);
    assert_int_equal(r.addr, pt_walk_addr_for_test(&f->mm.pt, a));
    assert_int_equal(dma(f, pasid, a + 4096, true).fault, VTD_FR_FL_NP);
    struct vtd_page_req pr = { .sid = DEV, .pasid_present = true, .pasid = pasid,
                               .addr = a + 4096, .write = true, .lpig = true, .prgi = 1 };
    vtd_page_request(f->p.unit[0], &pr);
    pr.addr = a + 64 * 4096, pr.prgi = 2;                     /* outside every area */
    vtd_page_request(f->p.unit[0], &pr);
    plat_deliver(&f->p);
    assert_int_equal(f->nresp, 2);
    assert_int_equal(f->resp[0].rc, VTD_PRG_SUCCESS);
    assert_int_equal(f->resp[1].rc, VTD_PRG_INVALID);
    assert_int_equal(dma(f, pasid, a + 4096, true).fault, 0);
    assert_int_equal(f->mm.faults_dev, 1);
    assert_int_equal(f->svm.faults_refused, 1);
    assert_int_equal(os_sva_unbind(&f->svm, DEV, &f->mm), 0);
    assert_int_equal(f->mm.pasid, 0);
    assert_int_equal(dma(f, pasid, a, false).fault, VTD_FR_SM_PTE_NP);
}

/* munmap and mprotect invalidate the device's translations (PASID IOTLB +
 * device TLB): the stale translation is gone the moment munmap returns. */
static void test_munmap_mprotect_invalidate(void **state)
{
    struct fx *f = *state;
    uint64_t a, v = 7;
    uint32_t pasid;
    assert_int_equal(os_mmap(&f->mm, 4 * 4096, OS_PROT_READ | OS_PROT_WRITE, &a), 0);
    assert_int_equal(os_mm_write(&f->mm, a, &v, 8), 0);
    assert_int_equal(os_mm_write(&f->mm, a + 4096, &v, 8), 0);
    assert_int_equal(os_sva_bind(&f->svm, DEV, &f->mm, &pasid), 0);
    assert_int_equal(dma(f, pasid, a, true).fault, 0);
    assert_true(dma(f, pasid, a, true).cached);
    unsigned inv = f->ninv;
    assert_int_equal(os_munmap(&f->mm, a, 4096), 0);
    assert_int_equal(f->ninv, inv + 1);
    assert_int_equal(dma(f, pasid, a, false).fault, VTD_FR_FL_NP);
    assert_int_equal(dma(f, pasid, a + 4096, true).fault, 0);
    assert_int_equal(os_mprotect(&f->mm, a + 4096, 4096, OS_PROT_READ), 0);
    assert_int_equal(dma(f, pasid, a + 4096, true).fault, VTD_FR_SM_WRITE);
    assert_int_equal(dma(f, pasid, a + 4096, false).fault, 0);
    assert_int_equal(os_mprotect(&f->mm, a + 4096, 4096, 0), 0);
    assert_int_equal(dma(f, pasid, a + 4096, false).fault, VTD_FR_FL_NP);
    assert_int_equal(os_mprotect(&f->mm, a, 4096, OS_PROT_READ), -12);  /* a hole */
    assert_int_equal(os_sva_unbind(&f->svm, DEV, &f->mm), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cpu_demand_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_and_device_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_munmap_mprotect_invalidate, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
