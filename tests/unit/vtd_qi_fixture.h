/* Fixture of the queued-invalidation, page-request and boot tests
 * (test_vtd_qi*.c, test_vtd_prq*.c, test_vtd_boot.c).
 *
 * HOW IT IS BUILT: each test binary that uses it does
 *
 *     #define VTD_QI_FIXTURE_IMPL
 *     #include "vtd_qi_fixture.c"
 *
 * once. The Makefile also links it into test_vtd_qi as a companion
 * (tests/unit/vtd_qi_*.c); compiled on its own it is empty, so nothing is
 * defined twice and every binary, test_vtd_qi included, gets the fixture
 * the same way.
 *
 * What it provides: a unit over a host arena with its three event quads
 * programmed (each with its own MSI address and data, counted per event),
 * the root table in the wanted mode with translation enabled, and the
 * invalidation queue enabled the way Linux 6.1 does it (IQT <- 0 as 32-bit,
 * IQA 64-bit, GCMD.QIE, poll GSTS.QIES); a software-side queue writer
 * (descriptors are written into arena memory at the software tail, IQT is
 * advanced with a 32-bit write as Linux does); descriptor builders that
 * start from zero and set every field with HW_SET; fake endpoints that log
 * device-TLB invalidations and page group responses; builders of the
 * translation structures used to show what an invalidation drops. */
#ifndef VSVM_TESTS_VTD_QI_FIXTURE_H
#define VSVM_TESTS_VTD_QI_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/hw_regs.h"
#include "mem/mem.h"
#include "paging/pt.h"
#include "vtd/fault.h"
#include "vtd/tables.h"
#include "vtd/unit.h"

#define QX_BASE    0x100000000ULL
#define QX_SIZE    (64ULL << 20)
#define QX_END     (QX_BASE + QX_SIZE)
#define QX_OUTSIDE 0x10000ULL          /* below the arena: every access fails */

/* Each event quad gets its own MSI address and data (§1.10). */
#define QX_FE_ADDR 0xFEE01000u
#define QX_FE_DATA 0x4031u
#define QX_IE_ADDR 0xFEE02000u
#define QX_IE_DATA 0x4032u
#define QX_PE_ADDR 0xFEE03000u
#define QX_PE_DATA 0x4033u
#define QX_EUADDR  0x00000000u
enum qx_ev { QX_EV_FAULT, QX_EV_INV, QX_EV_PRQ, QX_EV_OTHER, QX_EV_N };

/* Linux 6.1 descriptor status values (dmar.c: QI_FREE, QI_IN_USE, QI_DONE,
 * QI_ABORT); the wait descriptor writes QI_DONE. */
#define QX_QI_IN_USE 1u
#define QX_QI_DONE   2u

/* A non-fault translation result is its address; a fault is tagged. */
#define QX_FAULT(f) (0xFA17000000000000ULL | (f))

#define QX_LOG 64
struct qx_inv {
    uint16_t sid;
    bool pv, global;
    uint32_t pasid;
    uint64_t addr, size;
};
struct qx_dev {
    uint16_t sid;
    enum vtd_ats_inv_status answer;    /* what ats_invalidate returns */
    unsigned ninv, nresp;              /* calls (the logs keep the first QX_LOG) */
    struct qx_inv inv[QX_LOG];
    struct vtd_page_resp resp[QX_LOG];
};

struct qx_opts {
    bool legacy;                 /* vtd_config_legacy() instead of the default */
    uint64_t cap_clr, cap_set, ecap_clr, ecap_set;
    unsigned ttm;                /* root table mode programmed (with TE) */
    bool dw;                     /* 256-bit descriptors */
    unsigned qs;                 /* IQA.QS */
    bool no_qi;                  /* leave queued invalidation disabled */
    bool masked;                 /* leave the event quads masked (reset state) */
};

#define QX_MAXDEV 8
struct qx {
    struct mem_arena *mem;
    struct vtd_config cfg;
    struct vtd_unit *u;
    struct vtd_tables t;
    uint64_t iq;                 /* queue base */
    uint32_t qsize, dsz;         /* bytes */
    uint32_t tail;               /* software tail (byte offset) */
    bool dw;
    uint64_t status;             /* a page of 32-bit status words */
    unsigned nstatus;
    unsigned msi[QX_EV_N];
    uint64_t last_msi_addr;
    uint32_t last_msi_data;
    struct qx_dev dev[QX_MAXDEV];
    unsigned ndev;
};

/* Fails the current test naming the case. */
#define QX_EQ(c, what, got, want) \
    do { \
        unsigned long long got_ = (unsigned long long)(got), want_ = (unsigned long long)(want); \
        if (got_ != want_) \
            fail_msg("case %s: %s = %#llx, expected %#llx", (c), (what), got_, want_); \
    } while (0)
#define QX_TRUE(c, what, cond) \
    do { if (!(cond)) fail_msg("case %s: %s does not hold", (c), (what)); } while (0)
/* Set-up steps (builders, memory writes) name the case being built: tests
 * set qx_case before building. */
extern const char *qx_case;
#define QX_OK(expr)    QX_EQ(qx_case, #expr, (expr), 0)
#define QX_CHECK(cond) QX_TRUE(qx_case, #cond, (cond))

/* ---- unit and queue ---------------------------------------------------- */
void qx_init(struct qx *x, const struct qx_opts *o);
void qx_fini(struct qx *x);
uint64_t qx_rd(struct qx *x, uint32_t off, unsigned size);
void qx_wr(struct qx *x, uint32_t off, unsigned size, uint64_t v);
/* Linux __dmar_enable_qi: IQT <- 0 (32-bit), IQA <- base | DW | QS (64-bit),
 * GCMD <- status bits | QIE, poll QIES. Allocates a fresh queue. */
void qx_enable_qi(struct qx *x, unsigned qs, bool dw);
/* Writes a descriptor (16 or 32 bytes) at the software tail and advances
 * it (wrapping); qx_put_at writes a given slot without moving the tail. */
void qx_put(struct qx *x, const uint64_t d[4]);
void qx_put_at(struct qx *x, uint32_t off, const uint64_t d[4]);
void qx_ring(struct qx *x);                        /* IQT <- tail, 32-bit */
void qx_submit(struct qx *x, const uint64_t d[4]); /* put + ring */
uint32_t qx_iqh(struct qx *x);
/* A fresh 32-bit status word (set to QI_IN_USE) and its value. */
uint64_t qx_status_slot(struct qx *x);
uint32_t qx_rd32(struct qx *x, uint64_t hpa);
/* Queues a wait descriptor {SW, QI_DONE, fresh slot}, rings, and returns
 * true when the status was written (as Linux polls it). */
bool qx_sync(struct qx *x);
/* FSTS bits to clear (W1C); returns FSTS before. */
uint32_t qx_clear_fsts(struct qx *x, uint32_t bits);
/* IQE with IQEI = iqei and IQH = iqh, nothing else pending but IQE. */
void qx_expect_iqe(struct qx *x, const char *c, unsigned iqei, uint32_t iqh);

/* ---- descriptors (every field through HW_SET, from zero) ---------------- */
void qd_cc(uint64_t d[4], unsigned g, uint16_t did, uint16_t sid, unsigned fm);
void qd_iotlb(uint64_t d[4], unsigned g, uint16_t did, uint64_t addr, unsigned am, bool ih);
void qd_devtlb(uint64_t d[4], uint16_t sid, uint64_t addr, bool s);
void qd_iec(uint64_t d[4], bool index, unsigned im, uint16_t iidx);
#define QD_IF 1u
#define QD_SW 2u
#define QD_FN 4u
#define QD_PD 8u
void qd_wait(uint64_t d[4], unsigned flags, uint32_t data, uint64_t addr);
void qd_piotlb(uint64_t d[4], unsigned g, uint16_t did, uint32_t pasid, uint64_t addr,
               unsigned am, bool ih);
void qd_pc(uint64_t d[4], unsigned g, uint16_t did, uint32_t pasid);
void qd_pdevtlb(uint64_t d[4], uint16_t sid, uint32_t pasid, bool global, uint64_t addr, bool s);
void qd_pgresp(uint64_t d[4], const struct vtd_page_resp *r);

/* ---- endpoints ------------------------------------------------------------ */
struct qx_dev *qx_attach(struct qx *x, uint16_t sid);
extern const struct vtd_dev_ops qx_dev_ops;

/* ---- translation structures ------------------------------------------------ */
uint64_t qx_frame(struct qx *x);
/* Legacy context entry, 4-level second level (AW=2). */
void qx_ctx_legacy(struct qx *x, uint16_t sid, unsigned tt, uint16_t did, uint64_t slroot);
/* Scalable context entry with a fresh PASID directory (returned). */
#define QX_DTE    1u
#define QX_PASIDE 2u
#define QX_PRE    4u
#define QX_FPD    8u
uint64_t qx_ctx_sm(struct qx *x, uint16_t sid, unsigned flags, unsigned pdts);
/* PASID entry: PGTT 1 (FL 4-level at flroot), 2 (SL 4-level at slroot),
 * 3 (nested), 4 (pass-through); PWSNP set as Linux does with ECAP.SMPWC. */
void qx_pasid(struct qx *x, uint64_t dir, uint32_t pasid, unsigned pgtt, uint16_t did,
              uint64_t flroot, uint64_t slroot);
void qx_sl_map(struct qx *x, uint64_t *root, uint64_t iova, uint64_t hpa, unsigned shift);
/* Rewrites the 4 KiB second-level leaf of iova to point at hpa (R|W). */
void qx_sl_remap(struct qx *x, uint64_t root, uint64_t iova, uint64_t hpa);
/* Translates a read without recording a fault: the output address, or
 * QX_FAULT(reason). */
uint64_t qx_xl(struct qx *x, uint16_t sid, bool pv, uint32_t pasid, uint64_t addr);

#endif
