/* Linux 6.1 boot against a default (scalable) and a legacy unit,
 * register by register (os-driver-behaviour.md §2.1, §2.2, §2.5, §2.7;
 * vtd-reference.md §1.5, §4.1, §4.7, §5.2). The "driver" below does what
 * drivers/iommu/intel/{dmar,iommu,pasid,svm}.c do, with descriptors and
 * table entries built from Linux's own shifts (not from lib/hw_fields.h):
 * QI enable, root table + SRTP, the global flushes each followed by a wait
 * descriptor polled for QI_DONE (2), the page request queue, the fault
 * interrupt, a device attach (RID_PASID entry, context entry, the flushes
 * caching mode asks for), TE; then DMA through the unit, a bad DMA decoded
 * by the dmar_fault() procedure and cleared by W1C, and a page request
 * handled as prq_event_thread() handles it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#define VTD_QI_FIXTURE_IMPL
#include "vtd_qi_fixture.c"

#define DEV_SID   0x0010          /* 00:02.0, a root-complex integrated endpoint */
#define QI_LENGTH 256
/* Linux register bits (include/linux/intel-iommu.h / iommu.h, 6.1) */
#define DMA_GCMD_TE    (1u << 31)
#define DMA_GCMD_SRTP  (1u << 30)
#define DMA_GCMD_QIE   (1u << 26)
#define DMA_GSTS_TES   (1u << 31)
#define DMA_GSTS_RTPS  (1u << 30)
#define DMA_GSTS_QIES  (1u << 26)
#define DMA_GSTS_IRES  (1u << 25)
#define DMA_RTADDR_SMT (1ULL << 10)
#define DMA_FSTS_PFO   (1u << 0)
#define DMA_FSTS_PPF   (1u << 1)
#define DMA_FSTS_IQE   (1u << 4)
#define DMA_FSTS_ICE   (1u << 5)
#define DMA_FSTS_ITE   (1u << 6)
#define DMA_FSTS_PRO   (1u << 7)
#define DMA_FRCD_F     (1u << 31)
#define DMA_PRS_PPR    1u
#define PRQ_ORDER      4
#define PRQ_RING_MASK  ((0x1000u << PRQ_ORDER) - 0x20)

struct drv {
    struct qx x;             /* the unit, arena, MSI counters and endpoints */
    uint64_t cap, ecap;
    uint32_t gcmd;           /* iommu->gcmd: Linux's shadow, GCMD is never read */
    bool sm;                 /* sm_supported() */
    unsigned shift;          /* qi_shift(): 4, or 5 with ECAP.SMTS */
    uint64_t desc, status;   /* qi->desc, qi->desc_status (int[QI_LENGTH]) */
    unsigned free_head;
    uint64_t root, prq;
    uint16_t did;
    uint64_t pgd;            /* the DMA domain's page table (FL 4-level, or SL) */
    struct pt fl;
};

static uint32_t readl(struct drv *d, uint32_t off) { return (uint32_t)qx_rd(&d->x, off, 4); }
static uint64_t readq(struct drv *d, uint32_t off) { return qx_rd(&d->x, off, 8); }
static void writel(struct drv *d, uint32_t v, uint32_t off) { qx_wr(&d->x, off, 4, v); }
static void writeq(struct drv *d, uint64_t v, uint32_t off) { qx_wr(&d->x, off, 8, v); }

/* IOMMU_WAIT_OP: Linux spins (and panics on time-out); status must be set
 * synchronously by the write. */
static void wait_gsts(struct drv *d, const char *c, uint32_t bit)
{
    for (int i = 0; i < 1000; i++)
        if (readl(d, REG_OFF_GSTS) & bit)
            return;
    fail_msg("case %s: GSTS bit %#x never set (\"DMAR hardware is malfunctioning\")", c, bit);
}

static uint64_t page(struct drv *d, unsigned order)
{
    uint64_t a = mem_frames_alloc_contig(d->x.mem, 1ULL << order, PAGE_SIZE << order);
    QX_CHECK(a != HPA_INVALID);
    return a;
}

static void wr64(struct drv *d, uint64_t pa, uint64_t v)
{
    QX_OK(mem_write64(d->x.mem, pa, v));
}

/* A unit straight from reset (no root table, no queue). */
static void power_on(struct drv *d, bool legacy, uint64_t cap_set)
{
    memset(d, 0, sizeof(*d));
    struct qx *x = &d->x;
    legacy ? vtd_config_legacy(&x->cfg) : vtd_config_default(&x->cfg);
    x->cfg.cap |= cap_set;
    x->cfg.msi = qx_msi, x->cfg.msi_opaque = x;
    x->mem = mem_arena_create(QX_BASE, QX_SIZE);
    QX_CHECK((x->mem) != NULL);
    x->u = vtd_unit_create(&x->cfg, x->mem);
    QX_CHECK((x->u) != NULL);
}

/* ---- dmar.c: queued invalidation -------------------------------------------- */
/* qi_submit_sync(): descriptors, then a wait descriptor {QI_DONE, SW}
 * whose status word is desc_status[wait_index]; IQT <- free_head << shift
 * (32-bit); spin until the status is QI_DONE, checking FSTS (IQE/ITE/ICE)
 * as qi_check_fault() does. */
static void qi_submit_sync(struct drv *d, const char *c, const uint64_t (*desc)[4], unsigned n)
{
    unsigned index = d->free_head, wait_index = (index + n) % QI_LENGTH;
    for (unsigned i = 0; i < n; i++) {
        QX_OK(mem_write(d->x.mem, d->desc + (((index + i) % QI_LENGTH) << d->shift),
                                   desc[i], 1u << d->shift));
        QX_OK(mem_write32(d->x.mem, d->status + 4 * ((index + i) % QI_LENGTH), 1));
    }
    uint64_t st = d->status + 4 * wait_index;
    QX_OK(mem_write32(d->x.mem, st, 1 /* QI_IN_USE */));
    uint64_t wait[4] = { (uint64_t)QX_QI_DONE << 32 | 1 << 5 | 5, st, 0, 0 };
    QX_OK(mem_write(d->x.mem, d->desc + (wait_index << d->shift), wait, 1u << d->shift));
    d->free_head = (d->free_head + n + 1) % QI_LENGTH;
    writel(d, d->free_head << d->shift, REG_OFF_IQT);
    for (int spin = 0; qx_rd32(&d->x, st) != QX_QI_DONE; spin++) {
        uint32_t fault = readl(d, REG_OFF_FSTS);
        if ((fault & (DMA_FSTS_IQE | DMA_FSTS_ITE | DMA_FSTS_ICE)) || spin > 100)
            fail_msg("case %s: wait descriptor %u not done (status %u, FSTS %#x, IQH %#x)", c,
                     wait_index, qx_rd32(&d->x, st), fault, readl(d, REG_OFF_IQH));
    }
    QX_EQ(c, "IQH after the wait", readl(d, REG_OFF_IQH), d->free_head << d->shift);
}

static void qi_one(struct drv *d, const char *c, uint64_t qw0, uint64_t qw1)
{
    const uint64_t desc[1][4] = { { qw0, qw1, 0, 0 } };
    qi_submit_sync(d, c, desc, 1);
}

/* QI_CC_*, QI_IOTLB_*, QI_PC_*, QI_EIOTLB_* (iommu.h 6.1) */
static void qi_flush_context(struct drv *d, const char *c, uint16_t did, uint16_t sid,
                             unsigned fm, uint64_t type /* DMA_CCMD_*_INVL */)
{
    qi_one(d, c, (uint64_t)fm << 48 | (uint64_t)sid << 32 | (uint64_t)did << 16 | type >> 57 | 1, 0);
}

static void qi_flush_iotlb(struct drv *d, const char *c, uint16_t did, uint64_t type /* DMA_TLB_* */)
{
    uint64_t dw = HW_FV(CAP, DWD, d->cap), dr = HW_FV(CAP, DRD, d->cap);
    qi_one(d, c, (uint64_t)did << 16 | dr << 7 | dw << 6 | type >> 56 | 2, 0);
}

static void qi_flush_pasid_cache(struct drv *d, const char *c, uint16_t did, unsigned granu,
                                 uint32_t pasid)
{
    qi_one(d, c, (uint64_t)pasid << 32 | (uint64_t)did << 16 | granu << 4 | 7, 0);
}

#define DMA_CCMD_GLOBAL_INVL (1ULL << 61)
#define DMA_CCMD_DEVICE_INVL (3ULL << 61)
#define DMA_TLB_GLOBAL_FLUSH (1ULL << 60)
#define DMA_TLB_DSI_FLUSH    (2ULL << 60)
#define QI_PC_PASID_SEL 1
#define QI_PC_GLOBAL    3

/* ---- boot (os-driver §2.1) ------------------------------------------------------ */
static void boot(struct drv *d, const char *c)
{
    /* 1-2: CAP/ECAP, VER, GSTS mirrored into gcmd */
    d->cap = readq(d, REG_OFF_CAP), d->ecap = readq(d, REG_OFF_ECAP);
    QX_EQ(c, "CAP", d->cap, d->x.cfg.cap);
    QX_EQ(c, "ECAP", d->ecap, d->x.cfg.ecap);
    QX_TRUE(c, "VER readable", readl(d, REG_OFF_VER) != 0);
    uint32_t sts = readl(d, REG_OFF_GSTS);
    QX_EQ(c, "GSTS at reset", sts, 0);
    d->gcmd = sts & (DMA_GSTS_IRES | DMA_GSTS_TES | DMA_GSTS_QIES);
    d->sm = HW_FV(ECAP, SMTS, d->ecap);
    d->shift = 4 + (unsigned)HW_FV(ECAP, SMTS, d->ecap);
    /* 3: dmar_fault() drains nothing; dmar_disable_qi() sees QIES = 0 */
    QX_EQ(c, "FSTS at reset", readl(d, REG_OFF_FSTS) & DMA_FSTS_PPF, 0);
    QX_EQ(c, "GSTS.QIES", readl(d, REG_OFF_GSTS) & DMA_GSTS_QIES, 0);
    /* __dmar_enable_qi */
    d->desc = page(d, d->sm ? 1 : 0);
    d->status = page(d, 0);
    writel(d, 0, REG_OFF_IQT);
    writeq(d, d->desc | (d->sm ? 1u << 11 | 1 : 0), REG_OFF_IQA);
    d->gcmd |= DMA_GCMD_QIE;
    writel(d, d->gcmd, REG_OFF_GCMD);
    wait_gsts(d, c, DMA_GSTS_QIES);
    QX_EQ(c, "IQA read back", readq(d, REG_OFF_IQA), d->desc | (d->sm ? 0x801 : 0));
    /* 4: translation not enabled by firmware */
    QX_EQ(c, "GSTS.TES", readl(d, REG_OFF_GSTS) & DMA_GSTS_TES, 0);
    /* 5: iommu_set_root_entry + the global flushes (no ESRTPS) */
    d->root = page(d, 0);
    writeq(d, d->root | (d->sm ? DMA_RTADDR_SMT : 0), REG_OFF_RTADDR);
    writel(d, d->gcmd | DMA_GCMD_SRTP, REG_OFF_GCMD);
    wait_gsts(d, c, DMA_GSTS_RTPS);
    QX_EQ(c, "GSTS after SRTP (TES, RTPS, QIES)",
          readl(d, REG_OFF_GSTS) & (DMA_GSTS_TES | DMA_GSTS_RTPS | DMA_GSTS_QIES),
          DMA_GSTS_QIES | DMA_GSTS_RTPS);
    QX_EQ(c, "CAP.ESRTPS", HW_FV(CAP, ESRTPS, d->cap), 0);
    qi_flush_context(d, c, 0, 0, 0, DMA_CCMD_GLOBAL_INVL);
    if (d->sm)
        qi_flush_pasid_cache(d, c, 0, QI_PC_GLOBAL, 0);
    qi_flush_iotlb(d, c, 0, DMA_TLB_GLOBAL_FLUSH);
    /* 6: intel_svm_enable_prq: MSI (data, address, upper), unmask, PQH/PQT/PQA */
    if (HW_FV(ECAP, PASID, d->ecap) && HW_FV(ECAP, PRS, d->ecap) && d->sm) {
        d->prq = page(d, PRQ_ORDER);
        writel(d, QX_PE_DATA, REG_OFF_PEDATA);
        writel(d, QX_PE_ADDR, REG_OFF_PEADDR);
        writel(d, QX_EUADDR, REG_OFF_PEUADDR);
        writel(d, 0, REG_OFF_PECTL);
        (void)readl(d, REG_OFF_PECTL);
        writeq(d, 0, REG_OFF_PQH);
        writeq(d, 0, REG_OFF_PQT);
        writeq(d, d->prq | PRQ_ORDER, REG_OFF_PQA);
        QX_EQ(c, "PQA read back", readq(d, REG_OFF_PQA), d->prq | PRQ_ORDER);
    }
    /* 7: dmar_set_interrupt */
    writel(d, QX_FE_DATA, REG_OFF_FEDATA);
    writel(d, QX_FE_ADDR, REG_OFF_FEADDR);
    writel(d, QX_EUADDR, REG_OFF_FEUADDR);
    writel(d, 0, REG_OFF_FECTL);
    (void)readl(d, REG_OFF_FECTL);
    QX_EQ(c, "no event during boot", d->x.msi[QX_EV_FAULT] + d->x.msi[QX_EV_INV] +
          d->x.msi[QX_EV_PRQ] + d->x.msi[QX_EV_OTHER], 0);
}

/* ---- device attach (os-driver §2.2), then TE ----------------------------------- */
static void attach_scalable(struct drv *d, const char *c)
{
    bool cm = HW_FV(CAP, CM, d->cap);
    d->did = 2;                                  /* 0 and 1 are reserved */
    QX_OK(pt_init(&d->fl, phys_view_hpa(d->x.mem), 4));
    d->pgd = d->fl.root;
    uint64_t dir = page(d, 0), ptbl = page(d, 0);
    unsigned pdts = 2;                           /* one page: 512 directory entries */
    wr64(d, dir, ptbl | 1);                      /* dir[0]: present, FPD = 0 */
    /* intel_pasid_setup_first_level, PASID 0 (RID2PASID) */
    unsigned agaw = 3;                           /* iommu->agaw: SAGAW 0xE & fl_sagaw */
    wr64(d, ptbl + 8, (uint64_t)d->did | 1ULL << 23 /* PWSNP (SMPWC) */);
    wr64(d, ptbl + 16, d->pgd | 1ULL << 5 /* NXE */ | 0ULL << 2 /* FLPM 4-level */);
    wr64(d, ptbl + 0, 1 /* P */ | (uint64_t)agaw << 2 | 1ULL << 6 /* PGTT FL */);
    if (cm) {                                    /* pasid_flush_caches */
        qi_flush_pasid_cache(d, c, d->did, QI_PC_PASID_SEL, 0);
        qi_one(d, c, 0ULL << 32 | (uint64_t)d->did << 16 | 2 << 4 | 6, 0);
    }
    /* domain_context_mapping_one: root lo -> context table, 32-byte entries */
    uint64_t ctbl = page(d, 0);
    wr64(d, d->root + 16 * (DEV_SID >> 8), ctbl | 1);
    uint64_t ce = ctbl + 32 * (DEV_SID & 0x7F);
    wr64(d, ce + 8, 0);                          /* RID_PASID = 0 */
    wr64(d, ce, dir | (uint64_t)pdts << 9 | 1 << 4 /* PRE */ | 1 << 3 /* PASIDE */ |
                    1 << 2 /* DTE */ | 1);
    if (cm) {
        qi_flush_context(d, c, 0, DEV_SID, 0, DMA_CCMD_DEVICE_INVL);
        qi_flush_iotlb(d, c, d->did, DMA_TLB_DSI_FLUSH);
    }
}

static void attach_legacy(struct drv *d, const char *c)
{
    (void)c;
    d->did = 2;
    unsigned agaw = 2;                           /* SAGAW 0x6: 48-bit, 4-level */
    d->pgd = page(d, 0);
    uint64_t ctbl = page(d, 0);
    wr64(d, d->root + 16 * (DEV_SID >> 8), ctbl | 1);
    uint64_t ce = ctbl + 16 * (DEV_SID & 0xFF);
    wr64(d, ce + 8, agaw | (uint64_t)d->did << 8);
    wr64(d, ce, d->pgd | 1 << 2 /* TT = device TLB (ATS) */ | 1);
}

static void enable_translation(struct drv *d, const char *c)
{
    d->gcmd |= DMA_GCMD_TE;
    writel(d, d->gcmd, REG_OFF_GCMD);
    wait_gsts(d, c, DMA_GSTS_TES);
    QX_EQ(c, "GSTS with TE (TES, QIES)", readl(d, REG_OFF_GSTS) & (DMA_GSTS_TES | DMA_GSTS_QIES),
          DMA_GSTS_TES | DMA_GSTS_QIES);
    QX_TRUE(c, "QI still works after TE", qx_rd(&d->x, REG_OFF_IQH, 4) == d->free_head << d->shift);
}

/* ---- dmar_fault() (os-driver §2.7) --------------------------------------------- */
struct lnx_fault { unsigned type, reason, pasid_present; uint32_t pasid; uint16_t sid; uint64_t addr; };

static unsigned dmar_fault(struct drv *d, struct lnx_fault *out, unsigned max)
{
    unsigned n = 0;
    uint32_t fault_status = readl(d, REG_OFF_FSTS);
    if (!(fault_status & DMA_FSTS_PPF))
        return 0;
    unsigned fault_index = (fault_status >> 8) & 0xFF;
    uint32_t reg = (uint32_t)((d->cap >> 24) & 0x3FF) * 16;
    unsigned nregs = (unsigned)((d->cap >> 40) & 0xFF) + 1;
    for (;;) {
        uint32_t data = readl(d, reg + fault_index * 16 + 12);
        if (!(data & DMA_FRCD_F))
            break;
        struct lnx_fault f = { .reason = data & 0xFF, .type = (data >> 30) & 1,
                               .pasid = (data >> 8) & 0xFFFFF };
        data = readl(d, reg + fault_index * 16 + 8);
        f.sid = data & 0xFFFF;
        f.pasid_present = (data >> 31) & 1;
        f.addr = readq(d, reg + fault_index * 16) & ~0xFFFULL;
        writel(d, DMA_FRCD_F, reg + fault_index * 16 + 12);
        if (n < max)
            out[n] = f;
        n++;
        if (++fault_index >= nregs)
            fault_index = 0;
    }
    writel(d, DMA_FSTS_PFO | DMA_FSTS_PPF | DMA_FSTS_PRO, REG_OFF_FSTS);
    return n;
}

static void check_lnx_fault(const char *c, const struct lnx_fault *f, unsigned type, unsigned reason,
                            uint64_t addr)
{
    QX_EQ(c, "decoded type (1 = read)", f->type, type);
    QX_EQ(c, "decoded reason", f->reason, reason);
    QX_EQ(c, "decoded source id", f->sid, DEV_SID);
    QX_EQ(c, "decoded pasid present", f->pasid_present, 0);
    QX_EQ(c, "decoded address", f->addr, addr);
}

static struct vtd_result dma(struct drv *d, uint64_t iova, bool write)
{
    struct vtd_req r = { .sid = DEV_SID, .addr = iova, .write = write };
    struct vtd_result res;
    vtd_translate(d->x.u, &r, &res);
    return res;
}

/* DMA that works, then two bad DMAs, the fault event, Linux's handler. */
static void dma_and_faults(struct drv *d, const char *c, uint64_t mapped, uint64_t hpa,
                           uint8_t read_reason, uint8_t write_reason)
{
    struct vtd_result r = dma(d, mapped + 0x123, true);
    QX_EQ(c, "DMA write: fault", r.fault, 0);
    QX_EQ(c, "DMA write: address", r.addr, hpa + 0x123);
    r = dma(d, mapped + 0xFF8, false);
    QX_EQ(c, "DMA read: address", r.addr, hpa + 0xFF8);
    QX_TRUE(c, "DMA read served from the IOTLB", r.cached);
    r = dma(d, 0x7700000, false);
    QX_EQ(c, "bad DMA read: reason", r.fault, read_reason);
    QX_TRUE(c, "bad DMA read recorded", r.recorded);
    r = dma(d, 0x7701000, true);
    QX_EQ(c, "bad DMA write: reason", r.fault, write_reason);
    QX_EQ(c, "fault MSIs (one event for both)", d->x.msi[QX_EV_FAULT], 1);
    QX_EQ(c, "fault MSI address", d->x.last_msi_addr, QX_FE_ADDR);
    QX_EQ(c, "fault MSI data", d->x.last_msi_data, QX_FE_DATA);
    struct lnx_fault f[4];
    QX_EQ(c, "records read by dmar_fault()", dmar_fault(d, f, 4), 2);
    check_lnx_fault(c, &f[0], 1, read_reason, 0x7700000);
    check_lnx_fault(c, &f[1], 0, write_reason, 0x7701000);
    QX_EQ(c, "FSTS after dmar_fault()", readl(d, REG_OFF_FSTS), 0);
    uint32_t reg = (uint32_t)((d->cap >> 24) & 0x3FF) * 16;
    QX_EQ(c, "FRCD[0] F cleared", readl(d, reg + 12) & DMA_FRCD_F, 0);
    QX_EQ(c, "FRCD[1] F cleared", readl(d, reg + 16 + 12) & DMA_FRCD_F, 0);
    r = dma(d, 0x7702000, false);
    QX_EQ(c, "next bad DMA: new event", d->x.msi[QX_EV_FAULT], 2);
    QX_EQ(c, "next bad DMA: FRI (next record)", (readl(d, REG_OFF_FSTS) >> 8) & 0xFF, 2);
    QX_EQ(c, "next bad DMA: one record", dmar_fault(d, f, 4), 1);
    QX_EQ(c, "next bad DMA: decoded", f[0].addr, 0x7702000);
}

/* prq_event_thread(): W1C PPR, PQT/PQH (64-bit, PRQ_RING_MASK), decode, a
 * request without PASID is answered Invalid (handle_bad_prq_event) with a
 * type 9 descriptor, PQH <- PQT. */
static void page_request_roundtrip(struct drv *d, const char *c, struct qx_dev *dev)
{
    struct vtd_page_req pr = { .sid = DEV_SID, .addr = 0x123456000, .read = true, .lpig = true,
                               .prgi = 0x17 };
    vtd_page_request(d->x.u, &pr);
    QX_EQ(c, "page-request MSI", d->x.msi[QX_EV_PRQ], 1);
    QX_EQ(c, "PRS.PPR", readl(d, REG_OFF_PRS), DMA_PRS_PPR);
    writel(d, DMA_PRS_PPR, REG_OFF_PRS);
    uint32_t tail = (uint32_t)readq(d, REG_OFF_PQT) & PRQ_RING_MASK;
    uint32_t head = (uint32_t)readq(d, REG_OFF_PQH) & PRQ_RING_MASK;
    QX_EQ(c, "one request between PQH and PQT", tail - head, 32);
    uint64_t q[4];
    QX_OK(mem_read(d->x.mem, d->prq + head, q, 32));
    QX_EQ(c, "req: pasid_present", (q[0] >> 8) & 1, 0);
    QX_EQ(c, "req: rid", (q[0] >> 16) & 0xFFFF, DEV_SID);
    QX_EQ(c, "req: rd_req", q[1] & 1, 1);
    QX_EQ(c, "req: lpig", (q[1] >> 2) & 1, 1);
    QX_EQ(c, "req: prg_index", (q[1] >> 3) & 0x1FF, 0x17);
    QX_EQ(c, "req: addr", q[1] >> 12 << 12, 0x123456000);
    uint64_t rid = (q[0] >> 16) & 0xFFFF, prgi = (q[1] >> 3) & 0x1FF, lpig = (q[1] >> 2) & 1;
    qi_one(d, c, rid << 16 | 1ULL << 12 /* QI_RESP_INVALID */ | 9, prgi << 3 | lpig << 2);
    writeq(d, tail, REG_OFF_PQH);
    QX_EQ(c, "device got the response", dev->nresp, 1);
    QX_EQ(c, "response rc", dev->resp[0].rc, VTD_PRG_INVALID);
    QX_EQ(c, "response prgi", dev->resp[0].prgi, 0x17);
    QX_EQ(c, "response lpig", dev->resp[0].lpig, 1);
    QX_EQ(c, "response pasid_present", dev->resp[0].pasid_present, 0);
}

static void test_boot_scalable(void **state)
{
    (void)state;
    qx_case = "test_boot_scalable";
    for (unsigned cm = 0; cm < 2; cm++) {
        struct drv d;
        const char *c = cm ? "scalable boot, CAP.CM=1" : "scalable boot, default unit";
        qx_case = c;
        power_on(&d, false, cm ? HW_FM(CAP, CM) : 0);
        boot(&d, c);
        QX_EQ(c, "descriptors after boot (3 flushes + 3 waits)", d.free_head, 6);
        struct qx_dev *dev = qx_attach(&d.x, DEV_SID);
        attach_scalable(&d, c);
        QX_EQ(c, "descriptors after attach", d.free_head, cm ? 14 : 6);
        enable_translation(&d, c);
        uint64_t hpa = qx_frame(&d.x);
        /* __domain_mapping, first level: P | RW | US | A | D | XD */
        QX_OK(pt_map(&d.fl, 0x10000, hpa, PT_4K,
                                PTE_RW | PTE_US | PTE_A | PTE_D | PTE_XD));
        dma_and_faults(&d, c, 0x10000, hpa, VTD_FR_FL_NP, VTD_FR_FL_NP);
        page_request_roundtrip(&d, c, dev);
        QX_EQ(c, "no device-TLB traffic", dev->ninv, 0);
        pt_destroy(&d.fl);
        qx_fini(&d.x);
    }
}

/* Legacy unit: 128-bit queue (DW=0, one page), RTADDR without SMT, context
 * and IOTLB global flushes only, no PRQ; legacy context entry (TT=01 for an
 * ATS-capable device) and second-level tables. */
static void test_boot_legacy(void **state)
{
    (void)state;
    qx_case = "test_boot_legacy";
    struct drv d;
    const char *c = "legacy boot";
    qx_case = c;
    power_on(&d, true, 0);
    boot(&d, c);
    QX_EQ(c, "IQA: DW=0, QS=0", readq(&d, REG_OFF_IQA) & 0xFFF, 0);
    QX_EQ(c, "descriptors after boot (2 flushes + 2 waits)", d.free_head, 4);
    QX_EQ(c, "IQH (16-byte descriptors)", readl(&d, REG_OFF_IQH), 4 * 16);
    QX_EQ(c, "PQA untouched", readq(&d, REG_OFF_PQA), 0);
    attach_legacy(&d, c);
    enable_translation(&d, c);
    uint64_t hpa = qx_frame(&d.x);
    QX_OK(vtd_sl_map(d.x.mem, &d.pgd, 4, 0x10000, hpa, 12,
                                HW_FM(SL_PTE, R) | HW_FM(SL_PTE, W)));
    dma_and_faults(&d, c, 0x10000, hpa, VTD_FR_READ, VTD_FR_WRITE);
    /* unmap: IOTLB page-selective flush, then the device TLB (ATS enabled) */
    QX_OK(vtd_sl_unmap(d.x.mem, d.pgd, 4, 0x10000));
    QX_EQ(c, "unmapped page still in the IOTLB", dma(&d, 0x10000, false).fault, 0);
    struct qx_dev *dev = qx_attach(&d.x, DEV_SID);
    qi_one(&d, c, (uint64_t)d.did << 16 | 3 << 4 | 2, 0x10000);
    qi_one(&d, c, (uint64_t)DEV_SID << 32 | 3, 0x10000);
    QX_EQ(c, "after the flush: fault", dma(&d, 0x10000, false).fault, VTD_FR_READ);
    QX_EQ(c, "device-TLB invalidation delivered", dev->ninv, 1);
    QX_EQ(c, "device-TLB address", dev->inv[0].addr, 0x10000);
    qx_fini(&d.x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boot_scalable),
        cmocka_unit_test(test_boot_legacy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
