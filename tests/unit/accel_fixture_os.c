/* Fixture of the accelerator tests, platform half: the unit, its queues,
 * the OS thread answering page requests, set-up and tear-down (see
 * accel_fixture.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/hw_regs.h"
#include "lib/trace.h"
#include "accel_fixture.h"

#define QI_DONE 2u

uint32_t afx_unit_rd(struct afx *f, uint32_t off)
{
    return (uint32_t)vtd_mmio_read(f->u, off, 4);
}

/* ---- interrupt sinks ------------------------------------------------------------ */
/* Called by the unit with its lock held: only wake the OS thread. */
static void unit_msi(void *opaque, uint64_t addr, uint32_t data)
{
    struct afx *f = opaque;
    if (addr != AFX_PE_ADDR || data != AFX_PE_DATA)
        return;
    pthread_mutex_lock(&f->oslock);
    f->prq_events++;
    pthread_cond_signal(&f->oscv);
    pthread_mutex_unlock(&f->oslock);
}

static void dev_msi(void *opaque, uint64_t addr, uint32_t data)
{
    struct afx *f = opaque;
    pthread_mutex_lock(&f->msilock);
    f->nmsi++;
    f->msi_addr = addr;
    f->msi_data = data;
    pthread_mutex_unlock(&f->msilock);
}

/* ---- descriptors (every field through HW_SET, from zero) ----------------------- */
void afx_d_pgresp(uint64_t d[4], const struct afx_req *r, enum vtd_prg_rc rc)
{
    memset(d, 0, 32);
    HW_SET(INV_PGRESP, TYPE_LO, d, INV_TYPE_PGRESP);
    HW_SET(INV_PGRESP, PP, d, r->pp);
    HW_SET(INV_PGRESP, RC, d, rc);
    HW_SET(INV_PGRESP, RID, d, r->rid);
    HW_SET(INV_PGRESP, PASID, d, r->pasid);
    HW_SET(INV_PGRESP, LPIG, d, r->lpig);
    HW_SET(INV_PGRESP, PRGI, d, r->prgi);
}

void afx_d_piotlb(uint64_t d[4], uint64_t va, unsigned am)
{
    memset(d, 0, 32);
    HW_SET(INV_PIOTLB, TYPE_LO, d, INV_TYPE_PIOTLB);
    HW_SET(INV_PIOTLB, G, d, 3);
    HW_SET(INV_PIOTLB, DID, d, AFX_DID);
    HW_SET(INV_PIOTLB, PASID, d, AFX_PASID);
    HW_SET(INV_PIOTLB, AM, d, am);
    HW_SET(INV_PIOTLB, ADDR, d, va >> 12);
}

void afx_d_pdevtlb(uint64_t d[4], uint32_t pasid, uint64_t va, bool s, bool global)
{
    memset(d, 0, 32);
    HW_SET(INV_PDEVTLB, TYPE_LO, d, INV_TYPE_PDEVTLB);
    HW_SET(INV_PDEVTLB, SID, d, AFX_SID);
    HW_SET(INV_PDEVTLB, PASID, d, pasid);
    HW_SET(INV_PDEVTLB, G, d, global);
    HW_SET(INV_PDEVTLB, S, d, s);
    HW_SET(INV_PDEVTLB, ADDR, d, va >> 12);
}

static void d_wait(uint64_t d[4], uint64_t status)
{
    memset(d, 0, 32);
    HW_SET(INV_WAIT, TYPE_LO, d, INV_TYPE_WAIT);
    HW_SET(INV_WAIT, SW, d, 1);
    HW_SET(INV_WAIT, STDATA, d, QI_DONE);
    HW_SET(INV_WAIT, STADDR, d, status >> 2);
}

/* The queue is processed synchronously by the IQT write (with the unit
 * lock held), so the status is final when the write returns. */
bool afx_qi(struct afx *f, uint64_t (*d)[4], unsigned n)
{
    uint64_t w[4];
    bool ok = true;
    pthread_mutex_lock(&f->qlock);
    uint64_t st = f->status + 4 * (f->nstatus++ % (PAGE_SIZE / 4));
    ok &= mem_write32(f->mem, st, 1) == 0;
    for (unsigned i = 0; i <= n; i++) {
        if (i == n)
            d_wait(w, st);
        ok &= mem_write(f->mem, f->iq + f->tail, i < n ? d[i] : w, 32) == 0;
        f->tail = (f->tail + 32) % f->qsize;
    }
    vtd_mmio_write(f->u, REG_OFF_IQT, 4, f->tail);
    uint32_t v = 0;
    ok &= mem_read32(f->mem, st, &v) == 0 && v == QI_DONE;
    pthread_mutex_unlock(&f->qlock);
    return ok;
}

bool afx_inv_page(struct afx *f, uint64_t va)
{
    uint64_t d[2][4];
    afx_d_piotlb(d[0], va & PAGE_MASK, 0);
    afx_d_pdevtlb(d[1], AFX_PASID, va & PAGE_MASK, false, false);
    return afx_qi(f, d, 2);
}

bool afx_inv_all(struct afx *f)
{
    uint64_t d[2][4];
    afx_d_piotlb(d[0], 0, 0);
    HW_SET(INV_PIOTLB, G, d[0], 2);                    /* PASID-selective */
    afx_d_pdevtlb(d[1], AFX_PASID, ~0ULL, true, false); /* all ones, S=1: everything */
    return afx_qi(f, d, 2);
}

/* ---- the OS thread ------------------------------------------------------------------ */
static void os_error(struct afx *f)
{
    pthread_mutex_lock(&f->oslock);
    f->os_errors++;
    pthread_mutex_unlock(&f->oslock);
}

static struct afx_req decode(const uint64_t *q)
{
    return (struct afx_req){
        .addr = HW_GET(PAGE_REQ, ADDR, q) << 12, .pasid = (uint32_t)HW_GET(PAGE_REQ, PASID, q),
        .rid = (uint16_t)HW_GET(PAGE_REQ, RID, q), .prgi = (uint16_t)HW_GET(PAGE_REQ, PRGI, q),
        .pp = HW_GET(PAGE_REQ, PP, q), .rd = HW_GET(PAGE_REQ, RDR, q),
        .wr = HW_GET(PAGE_REQ, WRR, q), .lpig = HW_GET(PAGE_REQ, LPIG, q),
        .priv = HW_GET(PAGE_REQ, PRIV, q) };
}

/* Faults the page in as a kernel would: a fresh frame when unmapped, write
 * access added when asked for (then the IOTLB may hold the read-only
 * translation: invalidate it before answering, §6.4). */
static bool fault_in(struct afx *f, const struct afx_req *r, uint64_t (*d)[4], unsigned *n)
{
    uint64_t pte;
    enum pt_page_size sz;
    bool ok = true;
    pthread_mutex_lock(&f->mm_lock);
    if (pt_lookup(&f->mm, r->addr, &pte, &sz)) {
        uint64_t hpa = mem_frame_alloc(f->mem);
        ok = hpa != HPA_INVALID && pt_map(&f->mm, r->addr, hpa, PT_4K, AFX_USER) == 0;
    } else if (r->wr && !(pte & PTE_RW)) {
        ok = pt_protect(&f->mm, r->addr, (pte & (PTE_US | PTE_G)) | PTE_RW) == 0;
        afx_d_piotlb(d[(*n)++], r->addr, 0);
    }
    pthread_mutex_unlock(&f->mm_lock);
    return ok;
}

static void answer(struct afx *f, const struct afx_req *r, enum vtd_prg_rc rc, bool map)
{
    uint64_t d[2][4];
    unsigned n = 0;
    if (map && rc == VTD_PRG_SUCCESS && !fault_in(f, r, d, &n))
        os_error(f);
    afx_d_pgresp(d[n++], r, rc);
    if (!afx_qi(f, d, n))
        os_error(f);
}

static void handle(struct afx *f, const struct afx_req *r)
{
    pthread_mutex_lock(&f->oslock);
    enum afx_policy p = f->policy;
    if (f->nreq < AFX_LOG)
        f->req[f->nreq] = *r;
    f->nreq++;
    if (p == AFX_HOLD && f->nheld < AFX_LOG)
        f->held[f->nheld++] = *r;
    pthread_mutex_unlock(&f->oslock);
    if (!r->lpig && !r->rd && !r->wr)
        return;   /* a stop marker gets no response (§6.4) */
    switch (p) {
    case AFX_MAP:     answer(f, r, VTD_PRG_SUCCESS, true); break;
    case AFX_SUCCESS: answer(f, r, VTD_PRG_SUCCESS, false); break;
    case AFX_INVALID: answer(f, r, VTD_PRG_INVALID, false); break;
    case AFX_FAILURE: answer(f, r, VTD_PRG_FAILURE, false); break;
    case AFX_HOLD:    break;
    }
}

/* Linux's order (§6.4): clear PPR first, then read PQH..PQT, then PQH = PQT. */
static void service_prq(struct afx *f)
{
    vtd_mmio_write(f->u, REG_OFF_PRS, 4, HW_FM(PRS, PPR));
    uint32_t head = (uint32_t)vtd_mmio_read(f->u, REG_OFF_PQH, 8);
    uint32_t tail = (uint32_t)vtd_mmio_read(f->u, REG_OFF_PQT, 8);
    for (unsigned n = 0; head != tail && n < f->prq_size / 32; n++) {
        uint64_t q[4];
        if (mem_read(f->mem, f->prq + head, q, sizeof(q))) {
            os_error(f);
            break;
        }
        struct afx_req r = decode(q);
        handle(f, &r);
        head = (head + 32) % f->prq_size;
    }
    vtd_mmio_write(f->u, REG_OFF_PQH, 8, head);
}

static void *os_main(void *arg)
{
    struct afx *f = arg;
    pthread_mutex_lock(&f->oslock);
    while (!f->os_stop) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_nsec += 20000000L;
        if (t.tv_nsec >= 1000000000L)
            t.tv_sec++, t.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&f->oscv, &f->oslock, &t);
        pthread_mutex_unlock(&f->oslock);
        service_prq(f);
        pthread_mutex_lock(&f->oslock);
    }
    pthread_mutex_unlock(&f->oslock);
    return NULL;
}

void afx_policy(struct afx *f, enum afx_policy p)
{
    pthread_mutex_lock(&f->oslock);
    f->policy = p;
    pthread_mutex_unlock(&f->oslock);
}

unsigned afx_nreq(struct afx *f)
{
    pthread_mutex_lock(&f->oslock);
    unsigned n = f->nreq;
    pthread_mutex_unlock(&f->oslock);
    return n;
}

struct afx_req afx_req(struct afx *f, unsigned i)
{
    pthread_mutex_lock(&f->oslock);
    assert_true(i < f->nreq && i < AFX_LOG);
    struct afx_req r = f->req[i];
    pthread_mutex_unlock(&f->oslock);
    return r;
}

void afx_wait_nreq(struct afx *f, unsigned n)
{
    struct timespec ts = { 0, 200000 };
    for (unsigned i = 0; afx_nreq(f) < n; i++) {
        if (i > AFX_HANG_S * 5000u)
            fail_msg("only %u page requests seen, expected %u", afx_nreq(f), n);
        nanosleep(&ts, NULL);
    }
}

unsigned afx_release(struct afx *f, enum vtd_prg_rc rc, bool map)
{
    struct afx_req held[AFX_LOG];
    pthread_mutex_lock(&f->oslock);
    unsigned n = f->nheld;
    memcpy(held, f->held, n * sizeof(held[0]));
    f->nheld = 0;
    pthread_mutex_unlock(&f->oslock);
    for (unsigned i = 0; i < n; i++)
        answer(f, &held[i], rc, map);
    return n;
}

/* ---- set-up ------------------------------------------------------------------------------ */
static void unit_tables(struct afx *f)
{
    uint64_t c[4] = { 0 }, p[8] = { 0 };
    assert_int_equal(vtd_tables_init(&f->t, f->mem, true), 0);
    assert_int_equal(vtd_tables_pasid_dir(&f->t, 0, &f->dir), 0);
    HW_SET(SM_CTX, P, c, 1);
    HW_SET(SM_CTX, DTE, c, 1);
    HW_SET(SM_CTX, PASIDE, c, 1);
    HW_SET(SM_CTX, PRE, c, 1);
    HW_SET(SM_CTX, PASIDDIRPTR, c, f->dir >> 12);
    assert_int_equal(vtd_tables_set_ctx(&f->t, AFX_SID, c), 0);
    assert_int_equal(pt_init(&f->mm, phys_view_hpa(f->mem), 4), 0);
    HW_SET(PASID_PTE, P, p, 1);
    HW_SET(PASID_PTE, PGTT, p, 1);       /* first level only */
    HW_SET(PASID_PTE, DID, p, AFX_DID);
    HW_SET(PASID_PTE, AW, p, 2);
    HW_SET(PASID_PTE, SRE, p, 1);        /* supervisor requests allowed */
    HW_SET(PASID_PTE, PWSNP, p, 1);      /* snooped walks: A/D updates allowed (§2.10) */
    HW_SET(PASID_PTE, FLPTPTR, p, f->mm.root >> 12);
    assert_int_equal(vtd_tables_set_pasid(&f->t, f->dir, AFX_PASID, p, false), 0);
    assert_int_equal(vtd_program_root(f->u, f->t.root, 1, true), 0);
}

/* Queues as Linux sets them up: IQT <- 0, IQA, GCMD.QIE (§1.12); PQH = PQT
 * = 0 then PQA (§6.4); the page-request event unmasked (§1.10). */
static void unit_queues(struct afx *f)
{
    f->iq = mem_frame_alloc(f->mem);
    f->status = mem_frame_alloc(f->mem);
    f->prq = mem_frame_alloc(f->mem);
    f->qsize = f->prq_size = (uint32_t)PAGE_SIZE;
    uint32_t gsts = (uint32_t)vtd_mmio_read(f->u, REG_OFF_GSTS, 4) & (uint32_t)HW_FM(GSTS, TES);
    vtd_mmio_write(f->u, REG_OFF_IQT, 4, 0);
    vtd_mmio_write(f->u, REG_OFF_IQA, 8, f->iq | HW_FMK(IQA, DW, 1));
    vtd_mmio_write(f->u, REG_OFF_GCMD, 4, gsts | (uint32_t)HW_FM(GCMD, QIE));
    assert_true(vtd_mmio_read(f->u, REG_OFF_GSTS, 4) & HW_FM(GSTS, QIES));
    vtd_mmio_write(f->u, REG_OFF_PQH, 8, 0);
    vtd_mmio_write(f->u, REG_OFF_PQA, 8, f->prq);
    vtd_mmio_write(f->u, REG_OFF_PEDATA, 4, AFX_PE_DATA);
    vtd_mmio_write(f->u, REG_OFF_PEADDR, 4, AFX_PE_ADDR);
    vtd_mmio_write(f->u, REG_OFF_PEUADDR, 4, 0);
    vtd_mmio_write(f->u, REG_OFF_PECTL, 4, 0);
}

void afx_init(struct afx *f, const struct afx_opts *o)
{
    struct vtd_config c;
    const char *tr = getenv("AFX_TRACE");   /* e.g. AFX_TRACE='vtd_ats,vtd_prq*' */
    if (tr && *tr)
        trace_enable(tr);
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->mm_lock, NULL);
    pthread_mutex_init(&f->qlock, NULL);
    pthread_mutex_init(&f->oslock, NULL);
    pthread_mutex_init(&f->msilock, NULL);
    pthread_cond_init(&f->oscv, NULL);
    vtd_config_default(&c);
    c.msi = unit_msi;
    c.msi_opaque = f;
    f->mem = mem_arena_create(AFX_BASE, AFX_SIZE);
    assert_non_null(f->mem);
    f->u = vtd_unit_create(&c, f->mem);
    assert_non_null(f->u);
    unit_tables(f);
    unit_queues(f);
    struct accel_config dc = { .mem = f->mem, .iommu = f->u, .sid = AFX_SID, .msi = dev_msi,
                               .msi_opaque = f, .atc_entries = o ? o->atc_entries : 0,
                               .timeout_ms = o ? o->timeout_ms : 0 };
    f->dev = accel_create(&dc);
    assert_non_null(f->dev);
    accel_set_bus_master(f->dev, true);
    accel_set_msi(f->dev, true, AFX_MSI_ADDR, AFX_MSI_DATA);
    accel_set_ats(f->dev, true);
    accel_set_pasid(f->dev, true);
    accel_set_pri(f->dev, true, o && o->pri_alloc ? o->pri_alloc : 32);
    afx_wr(f, ACCEL_REG_INT_MASK, 4, 0);
    afx_ctx(f, 0, AFX_PASID, 0);
    afx_ctx(f, 1, AFX_PASID, 0);
    assert_int_equal(pthread_create(&f->os, NULL, os_main, f), 0);
}

void afx_fini(struct afx *f)
{
    pthread_mutex_lock(&f->oslock);
    f->os_stop = true;
    pthread_cond_signal(&f->oscv);
    pthread_mutex_unlock(&f->oslock);
    pthread_join(f->os, NULL);
    accel_destroy(f->dev);
    f->dev = NULL;
    unsigned errors = f->os_errors;
    pt_destroy(&f->mm);
    vtd_unit_destroy(f->u);
    mem_arena_destroy(f->mem);
    pthread_cond_destroy(&f->oscv);
    pthread_mutex_destroy(&f->msilock);
    pthread_mutex_destroy(&f->oslock);
    pthread_mutex_destroy(&f->qlock);
    pthread_mutex_destroy(&f->mm_lock);
    assert_int_equal(errors, 0);
}

int afx_setup(void **state)
{
    struct afx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    afx_init(f, NULL);
    *state = f;
    return 0;
}

int afx_teardown(void **state)
{
    struct afx *f = *state;
    afx_fini(f);
    free(f);
    return 0;
}
