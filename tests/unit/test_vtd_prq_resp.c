/* The device side beyond the page request queue (vtd-reference.md §4.8
 * type 9, §6.4, §6.5, §7; os-driver-behaviour.md §2.5): page group
 * responses submitted by software through the invalidation queue reach the
 * attached endpoint's page_response with every field, and ATS translation
 * requests (vtd_ats_translate) get the completion the device caches: OK
 * with address, rights and page size, a read-only completion for a write to
 * a read-only page, NO_ACCESS without a fault record for a page that is not
 * present, UNSUPPORTED with a fault record when the structures block the
 * request (a broken context entry, DTE = 0). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#define VTD_QI_FIXTURE_IMPL
#include "vtd_qi_fixture.c"

#define SID   0x0100
#define SID2  0x0208

/* Linux 6.1 intel_svm_page_response() / handle_bad_prq_event(): raw
 * layout, typed independently of lib/hw_fields.h:
 * qw0 = PASID<<32 | RID<<16 | code<<12 | PDP<<5 | PP<<4 | 9;
 * qw1 = PRGI<<3 | LPIG<<2; qw2/qw3 = private data. */
static void linux_pgresp(uint64_t d[4], const struct vtd_page_resp *r)
{
    d[0] = (uint64_t)r->pasid << 32 | (uint64_t)r->sid << 16 | (uint64_t)r->rc << 12 |
           (uint64_t)r->pdp << 5 | (uint64_t)r->pasid_present << 4 | 9;
    d[1] = (uint64_t)r->prgi << 3 | (uint64_t)r->lpig << 2;
    d[2] = r->pdp ? r->priv_data[0] : 0;
    d[3] = r->pdp ? r->priv_data[1] : 0;
}

static void check_resp(const char *c, const struct vtd_page_resp *got, const struct vtd_page_resp *w)
{
    QX_EQ(c, "sid (RID)", got->sid, w->sid);
    QX_EQ(c, "pasid_present", got->pasid_present, w->pasid_present);
    QX_EQ(c, "pasid", got->pasid, w->pasid);
    QX_EQ(c, "prgi", got->prgi, w->prgi);
    QX_EQ(c, "lpig", got->lpig, w->lpig);
    QX_EQ(c, "rc", got->rc, w->rc);
    QX_EQ(c, "pdp", got->pdp, w->pdp);
    QX_EQ(c, "private data 0", got->priv_data[0], w->pdp ? w->priv_data[0] : 0);
    QX_EQ(c, "private data 1", got->priv_data[1], w->pdp ? w->priv_data[1] : 0);
}

/* Type 9 through the queue, as Linux builds it: every field reaches the
 * endpoint whose requester id is RID; other endpoints see nothing; a
 * response to a requester nobody attached completes without error. The
 * same descriptor built with HW_SET is identical. */
static void test_page_group_response(void **state)
{
    (void)state;
    qx_case = "test_page_group_response";
    static const struct { const char *c; struct vtd_page_resp r; bool dw; } cases[] = {
        { "success, PASID, last page", { .sid = SID, .pasid_present = true, .pasid = 0xFFFFF,
                                         .prgi = 0x1FF, .lpig = true, .rc = VTD_PRG_SUCCESS }, true },
        { "invalid, no PASID", { .sid = SID, .pasid = 0, .prgi = 0, .lpig = true,
                                 .rc = VTD_PRG_INVALID }, true },
        { "response failure, not last", { .sid = SID, .pasid_present = true, .pasid = 0x42,
                                          .prgi = 0x0AA, .rc = VTD_PRG_FAILURE }, true },
        { "private data (256-bit queue)", { .sid = SID, .pasid_present = true, .pasid = 7,
                                            .prgi = 0x155, .lpig = false, .rc = VTD_PRG_SUCCESS,
                                            .pdp = true, .priv_data = { 0x0123456789ABCDEFULL,
                                                                        0x8877665544332211ULL } },
          true },
        { "second endpoint", { .sid = SID2, .pasid_present = true, .pasid = 9, .prgi = 3,
                               .lpig = true, .rc = VTD_PRG_INVALID }, true },
        { "128-bit queue, no private data", { .sid = SID, .pasid_present = true, .pasid = 0x321,
                                              .prgi = 0x101, .lpig = true, .rc = VTD_PRG_SUCCESS },
          false },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        qx_case = cases[i].c;
        const char *c = cases[i].c;
        struct qx x;
        struct qx_opts o = { .ttm = 1, .dw = cases[i].dw };
        uint64_t d[4], h[4] = { 0, 0, 0, 0 };
        qx_init(&x, &o);
        struct qx_dev *a = qx_attach(&x, SID), *b = qx_attach(&x, SID2);
        linux_pgresp(d, &cases[i].r);
        qd_pgresp(h, &cases[i].r);
        for (unsigned q = 0; q < x.dsz / 8; q++)
            QX_EQ(c, "HW_SET layout = Linux layout", h[q], d[q]);
        qx_put(&x, d);
        QX_TRUE(c, "wait after it", qx_sync(&x));
        QX_EQ(c, "FSTS", qx_rd(&x, REG_OFF_FSTS, 4), 0);
        struct qx_dev *to = cases[i].r.sid == SID ? a : b, *other = to == a ? b : a;
        QX_EQ(c, "responses at the addressed endpoint", to->nresp, 1);
        QX_EQ(c, "responses at the other endpoint", other->nresp, 0);
        check_resp(c, &to->resp[0], &cases[i].r);
        QX_EQ(c, "no device-TLB traffic", a->ninv + b->ninv, 0);
        qx_fini(&x);
    }
    struct qx x;
    struct qx_opts o = { .ttm = 1, .dw = true };
    struct vtd_page_resp r = { .sid = 0x0777, .lpig = true, .rc = VTD_PRG_SUCCESS };
    uint64_t d[4];
    qx_init(&x, &o);
    struct qx_dev *a = qx_attach(&x, SID);
    linux_pgresp(d, &r);
    qx_put(&x, d);
    QX_TRUE("response to nobody", "wait after it", qx_sync(&x));
    QX_EQ("response to nobody", "FSTS", qx_rd(&x, REG_OFF_FSTS, 4), 0);
    QX_EQ("response to nobody", "responses elsewhere", a->nresp, 0);
    qx_fini(&x);
}

/* ---- ATS translation requests (§7) ------------------------------------------ */
/* Requester SID: DTE|PASIDE|PRE, RID_PASID (PASID 0) first level (DID 3) with
 * 0x10000 RW, 0x11000 read-only, a 2 MiB page at 0x200000, 0x12000 not
 * present; PASID 0x33 second level (DID 4) with 0x10000 read-only. SID2:
 * DTE = 0. 0x0108: a context entry with a reserved bit. */
struct atsx {
    struct qx x;
    struct pt pt;
    uint64_t a, b, big, sl;
};

static void ats_init(struct atsx *t)
{
    struct qx_opts o = { .ttm = 1, .dw = true };
    qx_init(&t->x, &o);
    uint64_t dir = qx_ctx_sm(&t->x, SID, QX_DTE | QX_PASIDE | QX_PRE, 0);
    QX_OK(pt_init(&t->pt, phys_view_hpa(t->x.mem), 4));
    t->a = qx_frame(&t->x), t->b = qx_frame(&t->x), t->sl = qx_frame(&t->x);
    t->big = mem_frames_alloc_contig(t->x.mem, 512, 2ULL << 20);
    QX_CHECK(t->big != HPA_INVALID);
    QX_OK(pt_map(&t->pt, 0x10000, t->a, PT_4K, PTE_RW | PTE_US | PTE_A | PTE_D));
    QX_OK(pt_map(&t->pt, 0x11000, t->b, PT_4K, PTE_US));
    QX_OK(pt_map(&t->pt, 0x200000, t->big, PT_2M, PTE_RW | PTE_US));
    qx_pasid(&t->x, dir, 0, 1, 3, t->pt.root, 0);
    uint64_t slroot = 0;
    QX_OK(vtd_sl_map(t->x.mem, &slroot, 4, 0x10000, t->sl, 12, HW_FM(SL_PTE, R)));
    qx_pasid(&t->x, dir, 0x33, 2, 4, 0, slroot);
    uint64_t dir2 = qx_ctx_sm(&t->x, SID2, QX_PASIDE, 0);
    qx_pasid(&t->x, dir2, 0, 1, 3, t->pt.root, 0);
    uint64_t dir3 = qx_ctx_sm(&t->x, 0x0108, QX_DTE | QX_PASIDE, 0), ca = 0;
    qx_pasid(&t->x, dir3, 0, 1, 3, t->pt.root, 0);
    QX_OK(vtd_tables_ctx_addr(&t->x.t, 0x0108, &ca));
    QX_OK(mem_write64(t->x.mem, ca, (uint64_t)HW_FM(SM_CTX, P) | HW_FM(SM_CTX, DTE) |
                                 HW_FM(SM_CTX, PASIDE) | (dir3 & ~0xFFFULL) | 1ULL << 5));
}

struct acase {
    const char *c;
    uint16_t sid;
    bool pv;
    uint32_t pasid;
    uint64_t addr;
    bool write;             /* a translation request without the no-write flag */
    enum vtd_ats_status st;
    unsigned which;         /* OK: 1 = page a, 2 = b, 3 = big, 4 = sl */
    uint8_t shift, perm, fault;
};

#define R VTD_PERM_R
#define W VTD_PERM_W
#define X VTD_PERM_X
static const struct acase acases[] = {
    { "read of an RW page (no-write flag: no W)", SID, false, 0, 0x10123, false, VTD_ATS_OK, 1, 12,
      R | X, 0 },
    { "write of an RW page", SID, false, 0, 0x10FFF, true, VTD_ATS_OK, 1, 12, R | W | X, 0 },
    { "write of a read-only page: read-only completion", SID, false, 0, 0x11008, true, VTD_ATS_OK,
      2, 12, R | X, 0 },
    { "read inside the 2 MiB page", SID, false, 0, 0x3FF000, false, VTD_ATS_OK, 3, 21, R | X, 0 },
    { "read outside every mapping", SID, false, 0, 0x2345678, false, VTD_ATS_NO_ACCESS, 0, 0, 0,
      VTD_FR_FL_NP },
    { "write inside the 2 MiB page", SID, false, 0, 0x234567, true, VTD_ATS_OK, 3, 21, R | W | X, 0 },
    { "page not present", SID, false, 0, 0x12000, true, VTD_ATS_NO_ACCESS, 0, 0, 0, VTD_FR_FL_NP },
    { "second level, write to a read-only page", SID, true, 0x33, 0x10010, true, VTD_ATS_OK, 4, 12,
      R | X, 0 },
    { "second level, not mapped", SID, true, 0x33, 0x20000, false, VTD_ATS_NO_ACCESS, 0, 0, 0,
      VTD_FR_SM_READ },
    { "PASID entry not present", SID, true, 0x34, 0x10000, false, VTD_ATS_UNSUPPORTED, 0, 0, 0,
      VTD_FR_SM_PTE_NP },
    { "context with a reserved bit", 0x0108, false, 0, 0x10000, false, VTD_ATS_UNSUPPORTED, 0, 0, 0,
      VTD_FR_SM_CTX_RSVD },
    { "DTE = 0", SID2, false, 0, 0x10000, false, VTD_ATS_UNSUPPORTED, 0, 0, 0, VTD_FR_SM_CTX_DTE },
    { "DTE = 0, write with PASID", SID2, true, 0, 0x10000, true, VTD_ATS_UNSUPPORTED, 0, 0, 0,
      VTD_FR_SM_CTX_DTE },
    { "context not present", 0x0110, false, 0, 0x10000, false, VTD_ATS_UNSUPPORTED, 0, 0, 0,
      VTD_FR_SM_CTX_NP },
};

static void run_acase(const struct acase *k)
{
    qx_case = k->c;
    struct atsx t;
    ats_init(&t);
    struct vtd_req req = { .sid = k->sid, .pasid_present = k->pv, .pasid = k->pasid,
                           .addr = k->addr, .write = k->write };
    struct vtd_ats_completion cpl;
    vtd_ats_translate(t.x.u, &req, &cpl);
    QX_EQ(k->c, "status", cpl.status, k->st);
    QX_EQ(k->c, "fault", cpl.fault, k->fault);
    uint32_t frcd = (uint32_t)HW_FV(CAP, FRO, t.x.cfg.cap) * 16;
    uint64_t rec[2] = { qx_rd(&t.x, frcd, 8), qx_rd(&t.x, frcd + 8, 8) };
    if (k->st == VTD_ATS_OK) {
        uint64_t want = k->which == 1 ? t.a : k->which == 2 ? t.b : k->which == 3 ? t.big : t.sl;
        QX_EQ(k->c, "translated page", cpl.addr, want);
        QX_EQ(k->c, "page shift", cpl.page_shift, k->shift);
        QX_EQ(k->c, "rights", cpl.perm, k->perm);
    }
    if (k->st == VTD_ATS_UNSUPPORTED) {
        /* §1.15 typed here: SID | FR << 32 | AT (01) << 60 | T1 (read) << 62 | F. */
        uint64_t hi = (uint64_t)k->sid | (uint64_t)k->fault << 32 | 1ULL << 60 |
                      (uint64_t)!k->write << 62 | 1ULL << 63;
        if (k->pv)
            hi |= 1ULL << 31 | (uint64_t)k->pasid << 40;
        QX_EQ(k->c, "FSTS (PPF)", qx_rd(&t.x, REG_OFF_FSTS, 4), 2);
        QX_EQ(k->c, "FRCD lo", rec[0], k->addr & ~0xFFFULL);
        QX_EQ(k->c, "FRCD hi (AT = translation request)", rec[1], hi);
        QX_EQ(k->c, "fault MSIs", t.x.msi[QX_EV_FAULT], 1);
    } else {
        QX_EQ(k->c, "FSTS (nothing recorded)", qx_rd(&t.x, REG_OFF_FSTS, 4), 0);
        QX_EQ(k->c, "FRCD[0].F", rec[1] >> 63, 0);
        QX_EQ(k->c, "fault MSIs", t.x.msi[QX_EV_FAULT], 0);
    }
    pt_destroy(&t.pt);
    qx_fini(&t.x);
}

static void test_ats_translate(void **state)
{
    (void)state;
    qx_case = "test_ats_translate";
    for (unsigned i = 0; i < sizeof(acases) / sizeof(acases[0]); i++)
        run_acase(&acases[i]);
}

/* A NO_ACCESS completion is what makes the device send a page request;
 * after software maps the page (and answers the group), the retried
 * translation request succeeds without any invalidation (nothing
 * not-present is cached). */
static void test_ats_fault_then_page_request(void **state)
{
    (void)state;
    qx_case = "test_ats_fault_then_page_request";
    struct atsx t;
    const char *c = "ATS miss, PRI, retry";
    ats_init(&t);
    struct qx_dev *dev = qx_attach(&t.x, SID);
    uint64_t pqa = mem_frames_alloc_contig(t.x.mem, 1, 4096);
    QX_CHECK(pqa != HPA_INVALID);
    qx_wr(&t.x, REG_OFF_PQH, 8, 0);
    qx_wr(&t.x, REG_OFF_PQA, 8, pqa);
    struct vtd_req req = { .sid = SID, .addr = 0x12000, .write = true };
    struct vtd_ats_completion cpl;
    vtd_ats_translate(t.x.u, &req, &cpl);
    QX_EQ(c, "first: status", cpl.status, VTD_ATS_NO_ACCESS);
    struct vtd_page_req pr = { .sid = SID, .addr = 0x12000, .write = true, .lpig = true, .prgi = 4 };
    vtd_page_request(t.x.u, &pr);
    QX_EQ(c, "request queued", qx_rd(&t.x, REG_OFF_PQT, 8), 32);
    uint64_t page = qx_frame(&t.x);
    QX_OK(pt_map(&t.pt, 0x12000, page, PT_4K, PTE_RW | PTE_US));
    struct vtd_page_resp r = { .sid = SID, .prgi = 4, .lpig = true, .rc = VTD_PRG_SUCCESS };
    uint64_t d[4];
    linux_pgresp(d, &r);
    qx_put(&t.x, d);
    QX_TRUE(c, "response sent", qx_sync(&t.x));
    QX_EQ(c, "device got the response", dev->nresp, 1);
    vtd_ats_translate(t.x.u, &req, &cpl);
    QX_EQ(c, "retry: status", cpl.status, VTD_ATS_OK);
    QX_EQ(c, "retry: page", cpl.addr, page);
    QX_EQ(c, "retry: rights", cpl.perm, R | W | X);
    QX_EQ(c, "FSTS", qx_rd(&t.x, REG_OFF_FSTS, 4), 0);
    pt_destroy(&t.pt);
    qx_fini(&t.x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_group_response),
        cmocka_unit_test(test_ats_translate),
        cmocka_unit_test(test_ats_fault_then_page_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
