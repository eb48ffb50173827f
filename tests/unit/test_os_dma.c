/* The kernel's DMA API (os/dma.h) and the non-SVM DMA workload: DMA
 * domains in every translation type (scalable second level, scalable
 * first level, legacy), with and without caching mode; map, device access,
 * unmap, access after unmap; the invalidations each operation sends
 * (counted on the unit through its descriptor hook); IOVA exhaustion; bad
 * arguments; the SVM API refusing devices without PASID; wl_dma on the
 * host machine and in an in-process guest with svm=off (its virtual unit
 * has first level only: the guest's DMA domain is a first-level table at
 * its RID_PASID, which the VMM nests over the guest's memory on the host).
 *
 * The platform here is a small machine like vmm/host.c's, but with one
 * remapping unit of a chosen configuration (host_create builds only
 * default units): memory, the unit, one accelerator behind it, the host
 * kernel booted on it with its interrupt thread. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev/accel_pci.h"
#include "lib/hw_regs.h"
#include "os/dma.h"
#include "pci/bus.h"
#include "vmm/guest.h"
#include "vmm/host.h"
#include "vmm/irq.h"
#include "vmm/sched.h"
#include "workloads/workloads.h"

#define MEM_BASE 0x100000000ULL
#define UNIT_PA  0xFED90000ULL
#define BAR_PA   0xE0000000ULL
#define BDF      0x0010          /* 00:02.0 */
#define NDESC    512

enum variant { SM, SM_CM, FL, FL_CM, LEGACY, LEGACY_CM, NOPASID, SM_NOPSI };

struct dp {
    struct mem_arena *mem;
    struct vtd_unit *unit;
    struct pci_bus *bus;
    struct accel_pci acc;
    uint8_t dmar[512];
    size_t dmar_len;
    struct os_kernel k;
    struct os_iommu iommu[DMAR_MAX_UNITS];
    struct dmar_info info;
    struct os_svm svm;
    struct os_accel drv;
    struct vmm_irq irq;
    /* every descriptor the unit executed */
    pthread_mutex_t lock;
    uint64_t desc[NDESC][4];
    unsigned ndesc;
};

static void desc_hook(void *opaque, struct vtd_unit *u, const uint64_t *d)
{
    (void)u;
    struct dp *p = opaque;
    pthread_mutex_lock(&p->lock);
    if (p->ndesc < NDESC)
        memcpy(p->desc[p->ndesc], d, 32);
    p->ndesc++;
    pthread_mutex_unlock(&p->lock);
}

static uint64_t d_mmio_read(void *ctx, uint64_t pa, unsigned size)
{
    struct dp *p = ctx;
    if (pa >= UNIT_PA && pa < UNIT_PA + 0x1000)
        return vtd_mmio_read(p->unit, (uint32_t)(pa - UNIT_PA), size);
    uint64_t v = 0;
    return pci_bus_mmio(p->bus, pa, &v, size, false) ? ~0ULL : v;
}
static void d_mmio_write(void *ctx, uint64_t pa, unsigned size, uint64_t v)
{
    struct dp *p = ctx;
    if (pa >= UNIT_PA && pa < UNIT_PA + 0x1000)
        vtd_mmio_write(p->unit, (uint32_t)(pa - UNIT_PA), size, v);
    else
        pci_bus_mmio(p->bus, pa, &v, size, true);
}
static uint32_t d_cfg_read(void *ctx, uint16_t bdf, unsigned off, unsigned size)
{
    uint32_t v = ~0u;
    pci_bus_cfg_read(((struct dp *)ctx)->bus, bdf, off, size, &v);
    return v;
}
static void d_cfg_write(void *ctx, uint16_t bdf, unsigned off, unsigned size, uint32_t v)
{
    pci_bus_cfg_write(((struct dp *)ctx)->bus, bdf, off, size, v);
}
static int d_read(void *ctx, uint64_t pa, void *b, size_t n) { return mem_read(((struct dp *)ctx)->mem, pa, b, n); }
static int d_write(void *ctx, uint64_t pa, const void *b, size_t n) { return mem_write(((struct dp *)ctx)->mem, pa, b, n); }
static int d_cmpxchg(void *ctx, uint64_t pa, uint64_t e, uint64_t d, bool *ok)
{
    return mem_cmpxchg64(((struct dp *)ctx)->mem, pa, e, d, ok);
}
static uint64_t d_page(void *ctx) { return mem_frame_alloc(((struct dp *)ctx)->mem); }
static void d_free(void *ctx, uint64_t pa) { mem_frame_free(((struct dp *)ctx)->mem, pa); }
static uint64_t d_pages(void *ctx, unsigned n)
{
    uint64_t align = 4096;
    while (align < 4096ULL * n)
        align <<= 1;
    return mem_frames_alloc_contig(((struct dp *)ctx)->mem, n, align);
}
static void d_log(void *ctx, const char *line)
{
    (void)ctx;
    if (getenv("OS_TEST_LOG"))
        fprintf(stderr, "%s\n", line);
}

static void unit_config(enum variant v, struct vtd_config *c)
{
    if (v == LEGACY || v == LEGACY_CM)
        vtd_config_legacy(c);
    else
        vtd_config_default(c);
    if (v == SM_CM || v == FL_CM || v == LEGACY_CM)
        c->cap |= HW_FM(CAP, CM);
    if (v == FL || v == FL_CM)
        c->ecap &= ~(HW_FM(ECAP, SLTS) | HW_FM(ECAP, NEST));
    if (v == NOPASID)
        c->ecap &= ~(HW_FM(ECAP, PASID) | HW_FM(ECAP, PRS) | HW_FM(ECAP, PDS));
    if (v == SM_NOPSI)
        c->cap &= ~HW_FM(CAP, PSI);
}

static struct dp *dp_create(enum variant v)
{
    struct dp *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    pthread_mutex_init(&p->lock, NULL);
    p->mem = mem_arena_create(MEM_BASE, 128ULL << 20);
    p->bus = pci_bus_create();
    assert_non_null(p->mem);
    assert_non_null(p->bus);
    assert_int_equal(vmm_irq_start(&p->irq, &p->k), 0);
    struct vtd_config vc;
    unit_config(v, &vc);
    vc.reg_base = UNIT_PA;
    vc.msi = vmm_irq_msi, vc.msi_opaque = &p->irq;
    vc.desc_hook = desc_hook, vc.desc_opaque = p;
    assert_non_null(p->unit = vtd_unit_create(&vc, p->mem));
    struct accel_config ac = { .mem = p->mem, .iommu = p->unit, .sid = BDF,
                               .msi = vmm_irq_msi, .msi_opaque = &p->irq };
    assert_int_equal(accel_pci_init(&p->acc, &ac), 0);
    assert_int_equal(pci_bus_add(p->bus, BDF, &p->acc.func), 0);
    pci_bus_cfg_write(p->bus, BDF, 0x10, 4, (uint32_t)BAR_PA);
    pci_bus_cfg_write(p->bus, BDF, 0x14, 4, (uint32_t)(BAR_PA >> 32));
    struct dmar_info info = { .haw = (uint8_t)vc.haw, .nunits = 1 };
    info.unit[0].base = UNIT_PA, info.unit[0].include_all = true;
    assert_true((p->dmar_len = dmar_build(&info, p->dmar, sizeof(p->dmar))) > 0);
    struct os_ops ops = { .ctx = p, .mmio_read = d_mmio_read, .mmio_write = d_mmio_write,
                          .phys_read = d_read, .phys_write = d_write, .phys_cmpxchg64 = d_cmpxchg,
                          .page_alloc = d_page, .page_free = d_free, .pages_alloc = d_pages,
                          .cfg_read = d_cfg_read, .cfg_write = d_cfg_write, .log = d_log,
                          .relax = vmm_relax, .now_ns = vmm_now_ns,
                          .wait_change = vmm_wait_change, .wake_all = vmm_wake_all };
    os_kernel_init(&p->k, &ops, "host");
    p->k.log_level = getenv("OS_TEST_LOG") ? 2 : 0;
    assert_int_equal(os_iommu_probe(&p->k, p->dmar, p->dmar_len, p->iommu, &p->info), 1);
    os_svm_init(&p->svm, &p->k, p->iommu, 1, &p->info);
    assert_int_equal(os_accel_probe(&p->drv, &p->k, &p->svm, BDF), 0);
    assert_int_equal(os_iommu_enable_translation(&p->iommu[0]), 0);
    return p;
}

static void dp_destroy(struct dp *p)
{
    vmm_irq_stop(&p->irq);
    accel_pci_fini(&p->acc);
    vtd_unit_destroy(p->unit);
    pci_bus_destroy(p->bus);
    mem_arena_destroy(p->mem);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* Descriptors executed since `from`, and of one type. */
static unsigned ndesc(struct dp *p)
{
    pthread_mutex_lock(&p->lock);
    unsigned n = p->ndesc;
    pthread_mutex_unlock(&p->lock);
    return n;
}
static unsigned dtype(const uint64_t *d)
{
    return (unsigned)(d[0] & 0xF) | (unsigned)((d[0] >> 9) & 7) << 4;
}
static unsigned count_type(struct dp *p, unsigned from, unsigned type)
{
    unsigned n = 0;
    pthread_mutex_lock(&p->lock);
    for (unsigned i = from; i < p->ndesc && i < NDESC; i++)
        n += dtype(p->desc[i]) == type;
    pthread_mutex_unlock(&p->lock);
    return n;
}
/* The first descriptor of a type since `from` (fails when there is none). */
static void find_type(struct dp *p, unsigned from, unsigned type, uint64_t *out)
{
    pthread_mutex_lock(&p->lock);
    for (unsigned i = from; i < p->ndesc && i < NDESC; i++)
        if (dtype(p->desc[i]) == type) {
            memcpy(out, p->desc[i], 32);
            pthread_mutex_unlock(&p->lock);
            return;
        }
    pthread_mutex_unlock(&p->lock);
    fail_msg("no descriptor of type %u", type);
}

/* A request without PASID from the device, as the unit sees it. */
static struct vtd_result xlate(struct dp *p, uint64_t iova, bool write)
{
    struct vtd_req r = { .sid = BDF, .addr = iova, .write = write };
    struct vtd_result res;
    vtd_translate_norecord(p->unit, &r, &res);
    return res;
}

static enum os_dma_kind kind_of(enum variant v)
{
    return v == FL || v == FL_CM ? OS_DMA_KIND_FL
         : v == LEGACY || v == LEGACY_CM ? OS_DMA_KIND_LEGACY : OS_DMA_KIND_SL;
}

/* ---- map, translate, unmap, fault; the invalidations of each step -------- */
static void map_unmap_cycle(enum variant v)
{
    struct dp *p = dp_create(v);
    struct os_iommu *m = &p->iommu[0];
    bool cm = v == SM_CM || v == FL_CM || v == LEGACY_CM;
    struct os_dma *d = calloc(1, sizeof(*d));
    unsigned t0 = ndesc(p);
    assert_int_equal(os_dma_attach(d, m, BDF, 0, 0), 0);
    assert_int_equal(d->kind, kind_of(v));
    assert_true(d->did >= 2);
    assert_true(d->ats);
    assert_ptr_equal(os_iommu_dev(m, BDF)->dma, d);
    assert_true(ndesc(p) > t0);                 /* the pass-through entry was torn down */

    uint64_t pa[3], iova = 0;
    for (unsigned i = 0; i < 3; i++)
        pa[i] = mem_frame_alloc(p->mem);
    unsigned t1 = ndesc(p);
    assert_int_equal(os_dma_map_pages(d, pa, 3, true, &iova), 0);
    assert_true(iova >= OS_DMA_IOVA_BASE && iova % (4 * 4096) == 0);   /* size-aligned */
    unsigned iotlb = kind_of(v) == OS_DMA_KIND_FL ? INV_TYPE_PIOTLB : INV_TYPE_IOTLB;
    if (!cm) {
        assert_int_equal(ndesc(p), t1);         /* CM=0: no flush on map */
    } else {                                    /* CM=1: page-selective + wait, no device TLB */
        assert_int_equal(ndesc(p) - t1, 2);
        uint64_t q[4];
        find_type(p, t1, iotlb, q);
        if (iotlb == INV_TYPE_IOTLB) {
            assert_int_equal(HW_GET(INV_IOTLB, G, q), 3);
            assert_int_equal(HW_GET(INV_IOTLB, DID, q), d->did);
            assert_int_equal(HW_GET(INV_IOTLB, AM, q), 2);
            assert_int_equal(HW_GET(INV_IOTLB, ADDR, q), iova >> 12);
        } else {
            assert_int_equal(HW_GET(INV_PIOTLB, G, q), 3);
            assert_int_equal(HW_GET(INV_PIOTLB, DID, q), d->did);
            assert_int_equal(HW_GET(INV_PIOTLB, PASID, q), 0);
            assert_int_equal(HW_GET(INV_PIOTLB, AM, q), 2);
            assert_int_equal(HW_GET(INV_PIOTLB, ADDR, q), iova >> 12);
        }
        assert_int_equal(count_type(p, t1, INV_TYPE_WAIT), 1);
    }
    for (unsigned i = 0; i < 3; i++) {          /* the device's view: IOVA -> scattered pages */
        struct vtd_result r = xlate(p, iova + i * 4096 + 0x123, true);
        assert_int_equal(r.fault, 0);
        assert_false(r.blocked);
        assert_int_equal(r.addr, pa[i] + 0x123);
        assert_int_equal(r.did, d->did);
    }
    assert_int_not_equal(xlate(p, iova + 3 * 4096, false).fault, 0);   /* past the mapping */
    uint64_t ro;                                /* a read-only mapping refuses writes */
    assert_int_equal(os_dma_map(d, pa[0], 100, false, &ro), 0);
    assert_int_equal(ro, iova + 3 * 4096);      /* next fit: right after the previous one */
    assert_int_equal(xlate(p, ro, false).fault, 0);
    assert_int_not_equal(xlate(p, ro, true).fault, 0);

    unsigned t2 = ndesc(p);
    assert_int_equal(os_dma_unmap(d, iova, 3 * 4096), 0);
    assert_int_equal(ndesc(p) - t2, 3);         /* IOTLB + device TLB + wait, always */
    assert_int_equal(count_type(p, t2, iotlb), 1);
    assert_int_equal(count_type(p, t2, INV_TYPE_DEVTLB), 1);
    uint64_t q[4];
    find_type(p, t2, INV_TYPE_DEVTLB, q);
    assert_int_equal(HW_GET(INV_DEVTLB, SID, q), BDF);
    assert_int_equal(HW_GET(INV_DEVTLB, S, q), 1);   /* 4 pages at iova: bit 12 set */
    assert_int_equal(HW_GET(INV_DEVTLB, ADDR, q), (iova >> 12) | 1);
    for (unsigned i = 0; i < 3; i++)
        assert_int_not_equal(xlate(p, iova + i * 4096, false).fault, 0);

    assert_int_equal(os_dma_unmap(d, ro, 100), 0);
    assert_int_equal(d->nmaps, 0);
    assert_int_equal(os_dma_detach(d), 0);
    assert_null(os_iommu_dev(m, BDF)->dma);
    struct vtd_result r = xlate(p, 0x123000, false);   /* pass-through again */
    assert_int_equal(r.fault, 0);
    assert_int_equal(r.addr, 0x123000);
    free(d);
    dp_destroy(p);
}

static void test_cycle_sm(void **s) { (void)s; map_unmap_cycle(SM); }
static void test_cycle_sm_cm(void **s) { (void)s; map_unmap_cycle(SM_CM); }
static void test_cycle_fl(void **s) { (void)s; map_unmap_cycle(FL); }
static void test_cycle_fl_cm(void **s) { (void)s; map_unmap_cycle(FL_CM); }
static void test_cycle_legacy(void **s) { (void)s; map_unmap_cycle(LEGACY); }
static void test_cycle_legacy_cm(void **s) { (void)s; map_unmap_cycle(LEGACY_CM); }

/* The entries the domain writes: RID_PASID PGTT=2 / PGTT=1 and the legacy
 * context entry TT=1 (the device uses ATS), each with its own DID. */
static void test_entries(void **state)
{
    (void)state;
    static const enum variant vs[] = { SM, FL, LEGACY };
    for (unsigned i = 0; i < 3; i++) {
        struct dp *p = dp_create(vs[i]);
        struct os_iommu *m = &p->iommu[0];
        struct os_dma *d = calloc(1, sizeof(*d));
        assert_int_equal(os_dma_attach(d, m, BDF, 0, 0), 0);
        uint64_t e[8] = { 0 };
        if (vs[i] == LEGACY) {
            uint64_t rt = os_rd64(&p->k, m->root) & ~0xFFFULL;
            mem_read(p->mem, rt + 16 * (BDF & 0xFF), e, 16);
            assert_int_equal(HW_GET(CTX, TT, e), 1);
            assert_int_equal(HW_GET(CTX, DID, e), d->did);
            assert_int_equal(HW_GET(CTX, AW, e), 2);   /* 4-level from SAGAW 39/48 */
            assert_int_equal(HW_GET(CTX, SLPTPTR, e), d->sl_root >> 12);
            assert_int_equal(HW_GET(CTX, TT, d->saved), 2);   /* what it replaced */
        } else {
            struct os_iommu_dev *dev = os_iommu_dev(m, BDF);
            uint64_t pt = os_rd64(&p->k, dev->pasid_dir) & ~0xFFFULL;
            mem_read(p->mem, pt, e, 64);
            assert_int_equal(HW_GET(PASID_PTE, P, e), 1);
            assert_int_equal(HW_GET(PASID_PTE, DID, e), d->did);
            assert_int_equal(HW_GET(PASID_PTE, PGTT, e), vs[i] == SM ? 2 : 1);
            if (vs[i] == SM) {
                assert_int_equal(HW_GET(PASID_PTE, AW, e), 2);
                assert_int_equal(HW_GET(PASID_PTE, SLPTPTR, e), d->sl_root >> 12);
            } else {
                assert_int_equal(HW_GET(PASID_PTE, FLPTPTR, e), d->fl.root >> 12);
                assert_int_equal(HW_GET(PASID_PTE, NXE, e), 1);
            }
            assert_int_equal(HW_GET(PASID_PTE, PGTT, d->saved), 4);
        }
        assert_int_equal(os_dma_detach(d), 0);
        free(d);
        dp_destroy(p);
    }
}

/* A first-level domain on a unit that has both: the flag. */
static void test_first_level_by_flag(void **state)
{
    (void)state;
    struct dp *p = dp_create(SM);
    struct os_dma *d = calloc(1, sizeof(*d));
    assert_int_equal(os_dma_attach(d, &p->iommu[0], BDF, OS_DMA_FIRST_LEVEL, 0), 0);
    assert_int_equal(d->kind, OS_DMA_KIND_FL);
    uint64_t pa = mem_frame_alloc(p->mem), iova;
    assert_int_equal(os_dma_map(d, pa, 4096, true, &iova), 0);
    assert_int_equal(xlate(p, iova + 8, true).addr, pa + 8);
    assert_int_equal(os_dma_unmap(d, iova, 4096), 0);
    assert_int_not_equal(xlate(p, iova + 8, true).fault, 0);
    assert_int_equal(os_dma_detach(d), 0);
    free(d);
    dp_destroy(p);
}

/* Ranges beyond MAMV (legacy: 9, i.e. 512 pages) or units without PSI get
 * a domain-selective flush. */
static void test_large_and_no_psi(void **state)
{
    (void)state;
    static const enum variant vs[] = { LEGACY, SM_NOPSI };
    for (unsigned i = 0; i < 2; i++) {
        struct dp *p = dp_create(vs[i]);
        struct os_dma *d = calloc(1, sizeof(*d));
        assert_int_equal(os_dma_attach(d, &p->iommu[0], BDF, 0, 0), 0);
        uint64_t iova, pages = vs[i] == LEGACY ? 1024 : 1;
        assert_int_equal(os_dma_map(d, MEM_BASE, pages * 4096, false, &iova), 0);
        assert_int_equal(xlate(p, iova + (pages - 1) * 4096, false).addr,
                         MEM_BASE + (pages - 1) * 4096);
        unsigned t = ndesc(p);
        assert_int_equal(os_dma_unmap(d, iova, pages * 4096), 0);
        uint64_t q[4];
        find_type(p, t, INV_TYPE_IOTLB, q);
        assert_int_equal(HW_GET(INV_IOTLB, G, q), 2);
        assert_int_equal(HW_GET(INV_IOTLB, DID, q), d->did);
        assert_int_not_equal(xlate(p, iova, false).fault, 0);
        assert_int_equal(os_dma_detach(d), 0);
        free(d);
        dp_destroy(p);
    }
}

/* ---- IOVA allocation --------------------------------------------------------- */
static void test_iova_exhaustion(void **state)
{
    (void)state;
    struct dp *p = dp_create(SM);
    struct os_dma *d = calloc(1, sizeof(*d));
    assert_int_equal(os_dma_attach(d, &p->iommu[0], BDF, 0, 8), 0);
    uint64_t pa = mem_frame_alloc(p->mem), iova[9];
    for (unsigned i = 0; i < 8; i++) {
        assert_int_equal(os_dma_map(d, pa, 4096, false, &iova[i]), 0);
        assert_true(iova[i] >= OS_DMA_IOVA_BASE && iova[i] < OS_DMA_IOVA_BASE + 8 * 4096);
        for (unsigned j = 0; j < i; j++)
            assert_int_not_equal(iova[i], iova[j]);
    }
    assert_int_equal(os_dma_map(d, pa, 4096, false, &iova[8]), -28);
    assert_int_equal(os_dma_unmap(d, iova[3], 4096), 0);
    assert_int_equal(os_dma_unmap(d, iova[6], 4096), 0);
    assert_int_equal(os_dma_map(d, pa, 2 * 4096, false, &iova[8]), -28);   /* fragmented */
    assert_int_equal(os_dma_map(d, pa, 9 * 4096, false, &iova[8]), -28);   /* > window */
    assert_int_equal(os_dma_map(d, pa, 4096, false, &iova[8]), 0);
    assert_true(iova[8] == iova[3] || iova[8] == iova[6]);
    for (unsigned i = 0; i < 9; i++)
        if (i != 3 && i != 6)
            assert_int_equal(os_dma_unmap(d, iova[i], 4096), 0);
    assert_int_equal(d->nmaps, 0);
    /* Next fit: a freed IOVA is not handed out again at once. */
    uint64_t a, b;
    assert_int_equal(os_dma_map(d, pa, 4096, false, &a), 0);
    assert_int_equal(os_dma_unmap(d, a, 4096), 0);
    assert_int_equal(os_dma_map(d, pa, 4096, false, &b), 0);
    assert_int_not_equal(a, b);
    assert_int_equal(os_dma_unmap(d, b, 4096), 0);
    assert_int_equal(os_dma_map(d, pa, 8 * 4096, true, &a), 0);   /* the whole window again */
    assert_int_equal(a, OS_DMA_IOVA_BASE);
    assert_int_equal(os_dma_unmap(d, a, 8 * 4096), 0);
    assert_int_equal(os_dma_detach(d), 0);

    /* The mapping table is bounded too. */
    assert_int_equal(os_dma_attach(d, &p->iommu[0], BDF, 0, 0), 0);
    uint64_t *v = calloc(OS_DMA_MAPS, sizeof(*v));
    for (unsigned i = 0; i < OS_DMA_MAPS; i++)
        assert_int_equal(os_dma_map(d, pa, 4096, false, &v[i]), 0);
    assert_int_equal(os_dma_map(d, pa, 4096, false, &a), -28);
    for (unsigned i = 0; i < OS_DMA_MAPS; i += 2)
        assert_int_equal(os_dma_unmap(d, v[i], 4096), 0);
    assert_int_equal(os_dma_detach(d), 0);   /* the rest goes with the domain */
    free(v);

    /* Domain ids: a unit with none left refuses, and nothing changes. */
    struct os_iommu *m = &p->iommu[0];
    uint8_t saved[sizeof(m->did_used)];
    memcpy(saved, m->did_used, sizeof(saved));
    memset(m->did_used, 0xFF, sizeof(m->did_used));
    assert_int_equal(os_dma_attach(d, m, BDF, 0, 0), -28);
    assert_null(os_iommu_dev(m, BDF)->dma);
    memcpy(m->did_used, saved, sizeof(saved));
    assert_int_equal(xlate(p, 0x5000, false).addr, 0x5000);   /* still pass-through */
    free(d);
    dp_destroy(p);
}

/* ---- bad arguments ------------------------------------------------------------- */
static void test_bad_arguments(void **state)
{
    (void)state;
    struct dp *p = dp_create(SM);
    struct os_iommu *m = &p->iommu[0];
    struct os_dma *d = calloc(1, sizeof(*d)), *d2 = calloc(1, sizeof(*d2));
    uint64_t iova = 0, pa = mem_frame_alloc(p->mem);
    assert_int_equal(os_dma_attach(d, m, 0x0500, 0, 0), -19);            /* not attached */
    assert_int_equal(os_dma_attach(d, m, BDF, 0x80, 0), -22);            /* unknown flag */
    assert_int_equal(os_dma_attach(d, m, BDF, 0, OS_DMA_IOVA_PAGES + 1), -22);
    assert_int_equal(os_dma_attach(NULL, m, BDF, 0, 0), -22);
    assert_int_equal(os_dma_attach(d, NULL, BDF, 0, 0), -22);
    assert_int_equal(os_dma_map(d, pa, 4096, false, &iova), -22);       /* never attached */
    assert_int_equal(os_dma_attach(d, m, BDF, 0, 0), 0);
    assert_int_equal(os_dma_attach(d2, m, BDF, 0, 0), -16);              /* one per device */

    assert_int_equal(os_dma_map(d, pa, 0, false, &iova), -22);           /* len 0 */
    assert_int_equal(os_dma_map(d, pa + 8, 4096, false, &iova), -22);    /* unaligned */
    assert_int_equal(os_dma_map(d, pa, 4096, false, NULL), -22);
    assert_int_equal(os_dma_map(d, 1ULL << 52, 4096, false, &iova), -22);   /* beyond 51:12 */
    assert_int_equal(os_dma_map(d, pa, ~0ULL - 100, false, &iova), -22);  /* wraps */
    assert_int_equal(os_dma_map(d, pa, (OS_DMA_IOVA_PAGES + 1) * 4096ULL, false, &iova), -28);
    uint64_t bad[2] = { pa, pa + 1 };
    assert_int_equal(os_dma_map_pages(d, bad, 2, false, &iova), -22);
    assert_int_equal(os_dma_map_pages(d, bad, 0, false, &iova), -22);
    assert_int_equal(os_dma_map_pages(d, NULL, 1, false, &iova), -22);
    assert_int_equal(d->nmaps, 0);

    assert_int_equal(os_dma_map(d, pa, 2 * 4096, true, &iova), 0);
    assert_int_equal(os_dma_unmap(d, iova, 0), -22);
    assert_int_equal(os_dma_unmap(d, iova + 1, 4096), -22);
    assert_int_equal(os_dma_unmap(d, iova + 4096, 4096), -2);            /* inside, not a mapping */
    assert_int_equal(os_dma_unmap(d, iova, 4096), -2);                   /* wrong length */
    assert_int_equal(os_dma_unmap(d, 0, 4096), -2);
    assert_int_equal(os_dma_unmap(d, 0x7FFFF000, 4096), -2);             /* never mapped */
    assert_int_equal(os_dma_unmap(d, iova, ~0ULL & ~0xFFFULL), -22);
    assert_int_equal(xlate(p, iova + 4096, true).fault, 0);              /* still mapped */
    assert_int_equal(os_dma_unmap(d, iova, 2 * 4096 - 100), 0);          /* same page count */
    assert_int_equal(os_dma_unmap(d, iova, 2 * 4096), -2);               /* twice */
    assert_int_equal(os_dma_detach(d), 0);
    assert_int_equal(os_dma_detach(d), -22);
    assert_int_equal(os_dma_unmap(d, iova, 4096), -22);
    assert_int_equal(os_dma_map(d, pa, 4096, false, &iova), -22);
    free(d), free(d2);
    dp_destroy(p);
}

/* ---- the accelerator without PASID ----------------------------------------- */
/* wl_dma on every kind of unit: a copy between scattered buffers, a store
 * into a read-only mapping and uses after unmap, all on the device. */
static void test_wl_dma_units(void **state)
{
    (void)state;
    static const enum variant vs[] = { SM, SM_CM, FL, LEGACY, LEGACY_CM, NOPASID };
    for (unsigned i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
        struct dp *p = dp_create(vs[i]);
        struct wl_result r;
        for (unsigned run = 0; run < 2; run++) {   /* the domain goes and comes back */
            wl_dma(&p->k, &p->drv, &r);
            if (!r.passed)
                fail_msg("variant %u run %u: %s", vs[i], run, r.detail);
            assert_int_equal(r.operations, 4);
            assert_int_equal(r.errors, 0);
            assert_int_equal(r.faults, 3);
        }
        assert_null(os_iommu_dev(&p->iommu[0], BDF)->dma);
        dp_destroy(p);
    }
}

/* A context without PASID times out and is reset in its own mode; the
 * context is usable again afterwards. */
static void test_dma_context_timeout(void **state)
{
    (void)state;
    struct dp *p = dp_create(SM);
    struct os_dma *d = calloc(1, sizeof(*d));
    assert_int_equal(os_dma_attach(d, &p->iommu[0], BDF, 0, 0), 0);
    uint64_t page = mem_frame_alloc(p->mem), iova;
    assert_int_equal(os_dma_map(d, page, 4096, true, &iova), 0);
    struct os_accel_ctx c;
    assert_int_equal(os_accel_open_dma(&p->drv, iova + 2048, &c), 0);
    assert_true(c.nopasid);
    uint64_t ctrl = BAR_PA + ACCEL_CTX_BASE + ACCEL_CTX_STRIDE * c.idx;
    assert_int_equal(d_mmio_read(p, ctrl + ACCEL_CTX_CTRL, 4), ACCEL_CTRL_ENABLE);
    unsigned err = 0;
    uint64_t fva = 0;
    assert_int_equal(os_accel_wait(&c, c.seqno + 5, 1, &err, &fva), -110);   /* nothing runs */
    assert_int_equal(err, ACCEL_ERR_TIMEOUT);
    assert_int_equal(d_mmio_read(p, ctrl + ACCEL_CTX_CTRL, 4), ACCEL_CTRL_ENABLE);
    struct accel_cmd b[2] = { { .opcode = ACCEL_OP_STORE_DWORD, .arg = 0x77, .a = iova + 64 },
                              { .opcode = ACCEL_OP_END, .a = os_accel_next_seqno(&c) } };
    mem_write(p->mem, page, b, sizeof(b));
    assert_int_equal(os_accel_submit(&c, iova), 0);
    assert_int_equal(os_accel_wait(&c, b[1].a, 10000, &err, &fva), 0);
    uint32_t got = 0;
    uint64_t seq = 0;
    mem_read(p->mem, page + 64, &got, 4);
    mem_read(p->mem, page + 2048, &seq, 8);
    assert_int_equal(got, 0x77);
    assert_int_equal(seq, b[1].a);
    os_accel_close(&c);
    assert_int_equal(p->drv.ctx_used, 0);
    assert_int_equal(os_dma_unmap(d, iova, 4096), 0);
    assert_int_equal(os_dma_detach(d), 0);
    free(d);
    dp_destroy(p);
}

/* The SVM API refuses devices whose unit gives them no PASID (a scalable
 * unit without ECAP.PASID, a legacy unit): -EINVAL, nothing bound, the
 * context free; the non-SVM path works on the same device. */
static void test_svm_refused_without_pasid(void **state)
{
    (void)state;
    static const enum variant vs[] = { NOPASID, LEGACY };
    for (unsigned i = 0; i < 2; i++) {
        struct dp *p = dp_create(vs[i]);
        assert_false(os_iommu_dev(&p->iommu[0], BDF)->pasid);
        struct os_mm mm;
        uint32_t pasid = 0;
        assert_int_equal(os_mm_init(&mm, &p->k, 4), 0);
        assert_int_equal(os_sva_bind(&p->svm, BDF, &mm, &pasid), -22);
        assert_int_equal(mm.pasid, 0);
        struct os_accel_ctx c;
        assert_int_equal(os_accel_open(&p->drv, &mm, 0, &c), -22);
        assert_int_equal(p->drv.ctx_used, 0);
        struct wl_result r;
        wl_svm_sanity(&p->k, &p->drv, &r);
        assert_false(r.passed);
        assert_non_null(strstr(r.detail, "set-up"));
        wl_dma(&p->k, &p->drv, &r);
        assert_true(r.passed);
        os_mm_destroy(&mm);
        dp_destroy(p);
    }
}

/* ---- the host machine ---------------------------------------------------------- */
/* wl_dma on both accelerators of the host of test case 1 (each behind its
 * own unit), at the same time as the SVM workloads of the other. */
struct par { struct host *h; unsigned i; struct wl_result r[2]; };
static void *run_svm(void *arg)
{
    struct par *x = arg;
    wl_svm_fault(&x->h->k, &x->h->drv[x->i], &x->r[0]);
    wl_svm_pointer_chase(&x->h->k, &x->h->drv[x->i], &x->r[1]);
    return NULL;
}

static void test_host_wl_dma(void **state)
{
    (void)state;
    struct host_config c;
    char why[160];
    host_config_default(&c);
    c.mem_size = 256ULL << 20;
    struct host *h = host_create(&c, why, sizeof(why));
    if (!h)
        fail_msg("host_create: %s", why);
    for (unsigned i = 0; i < 2; i++) {
        struct wl_result r;
        wl_dma(&h->k, &h->drv[i], &r);
        if (!r.passed)
            fail_msg("accelerator %u: %s", i, r.detail);
        assert_int_equal(r.operations, 4);
    }
    struct par x = { .h = h, .i = 1 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, run_svm, &x), 0);
    for (unsigned n = 0; n < 3; n++) {
        struct wl_result r;
        wl_dma(&h->k, &h->drv[0], &r);
        assert_true(r.passed);
    }
    pthread_join(t, NULL);
    assert_true(x.r[0].passed);
    assert_true(x.r[1].passed);
    assert_string_equal(wl_dma_entry.name, "dma");
    assert_ptr_equal(wl_dma_entry.fn, wl_dma);
    host_destroy(h);
}

/* ---- a guest with svm=off --------------------------------------------------- */
/* The guest kernel runs wl_dma on its assigned accelerator behind a
 * virtual unit without page requests (svm=off): its DMA domain's entries
 * and every map and unmap are invalidated (caching mode) and shadowed by
 * the VMM into the host. The SVM workloads are refused by the guest's SVM
 * API, cleanly. Then the device goes back to the host and works there. */
static void test_guest_svm_off(void **state)
{
    (void)state;
    struct host_config hc;
    char why[160];
    host_config_default(&hc);
    hc.mem_size = 1ULL << 30;
    struct host *h = host_create(&hc, why, sizeof(why));
    if (!h)
        fail_msg("host_create: %s", why);
    struct guest_config gc;
    guest_config_default(&gc);
    gc.svm = false, gc.ndevs = 1, gc.dev[0].host_bdf = h->acc_bdf[0];
    gc.verbose = getenv("OS_TEST_LOG") != NULL;
    struct guest *g = guest_create(h, &gc, why, sizeof(why));
    if (!g)
        fail_msg("guest_create: %s", why);
    struct os_kernel *k = guest_kernel(g);
    struct os_accel *a = guest_accel(g, 0);
    struct wl_result r;
    for (unsigned run = 0; run < 2; run++) {
        wl_dma(k, a, &r);
        if (!r.passed) {
            struct viommu_stats st;
            guest_viommu_stats(g, &st);
            fail_msg("guest run %u: %s (viommu: %llu binds, %llu bad entries)", run, r.detail,
                     (unsigned long long)st.binds, (unsigned long long)st.bad_entries);
        }
        assert_int_equal(r.operations, 4);
        assert_int_equal(r.faults, 3);
        assert_int_equal(r.errors, 0);
    }
    struct viommu_stats st;
    guest_viommu_stats(g, &st);
    assert_true(st.binds >= 2);                 /* the RID_PASID domain, each run */
    assert_true(st.host_invalidations >= 4);    /* the unmaps, forwarded */
    assert_int_equal(st.host_inv_errors, 0);
    assert_int_equal(st.bad_entries, 0);
    struct os_mm mm;                            /* no page requests: no SVA */
    uint32_t pasid = 0;
    assert_int_equal(os_mm_init(&mm, k, 4), 0);
    assert_int_equal(os_sva_bind(a->svm, a->bdf, &mm, &pasid), -22);
    os_mm_destroy(&mm);
    for (unsigned w = 0; w < 4; w++) {
        wl_all[w].fn(k, a, &r);
        assert_false(r.passed);
        assert_int_equal(r.operations, 0);
        assert_non_null(strstr(r.detail, "set-up"));
    }
    wl_dma(k, a, &r);
    assert_true(r.passed);
    guest_destroy(g);
    wl_dma(&h->k, &h->drv[0], &r);
    assert_true(r.passed);
    wl_svm_sanity(&h->k, &h->drv[0], &r);
    assert_true(r.passed);
    host_destroy(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cycle_sm),
        cmocka_unit_test(test_cycle_sm_cm),
        cmocka_unit_test(test_cycle_fl),
        cmocka_unit_test(test_cycle_fl_cm),
        cmocka_unit_test(test_cycle_legacy),
        cmocka_unit_test(test_cycle_legacy_cm),
        cmocka_unit_test(test_entries),
        cmocka_unit_test(test_first_level_by_flag),
        cmocka_unit_test(test_large_and_no_psi),
        cmocka_unit_test(test_iova_exhaustion),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_wl_dma_units),
        cmocka_unit_test(test_dma_context_timeout),
        cmocka_unit_test(test_svm_refused_without_pasid),
        cmocka_unit_test(test_host_wl_dma),
        cmocka_unit_test(test_guest_svm_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
