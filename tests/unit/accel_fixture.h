/* Fixture of the accelerator tests (test_accel.c and its companions
 * accel_*.c, all linked into one binary).
 *
 * The platform: a host arena; a scalable-mode remapping unit
 * (vtd_config_default) with translation enabled, a root/context entry for
 * the device (DTE, PASIDE, PRE) and a first-level PASID entry (PGTT=1) over
 * a host process page table; the unit's invalidation queue (256-bit
 * descriptors) and page request queue, its page-request event unmasked; the
 * accelerator attached to the unit with bus mastering, MSI, ATS, PASID and
 * PRI enabled.
 *
 * A small "OS" runs on its own thread: woken by the page-request event (and
 * every 20 ms as a hang guard), it clears PRS.PPR, reads the descriptors
 * between PQH and PQT, handles each by the current policy (fault the page
 * in, answer without doing anything, refuse, or hold it for the test to
 * answer later) and answers with a page group response through the
 * invalidation queue, as Linux's PRQ thread does (vtd-reference.md §6.4).
 * Page-table edits are serialised by mm_lock, queue submissions by qlock.
 * The OS thread never calls cmocka: it counts problems in os_errors, which
 * afx_fini checks. */
#ifndef VSVM_TESTS_ACCEL_FIXTURE_H
#define VSVM_TESTS_ACCEL_FIXTURE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dev/accel.h"
#include "mem/mem.h"
#include "paging/pt.h"
#include "vtd/tables.h"
#include "vtd/unit.h"

#define AFX_BASE     0x100000000ULL
#define AFX_SIZE     (128ULL << 20)
#define AFX_SID      0x0310
#define AFX_PASID    0x77
#define AFX_NOPASID  0x78          /* same PASID table, entry not present */
#define AFX_DID      3
#define AFX_MSI_ADDR 0xFEE00000ULL /* the device's MSI */
#define AFX_MSI_DATA 0x4051u
#define AFX_PE_ADDR  0xFEE03000u   /* the unit's page-request event */
#define AFX_PE_DATA  0x4033u
#define AFX_BATCH_VA 0x10000000ULL /* where afx_run writes its batches */
#define AFX_USER     (PTE_RW | PTE_US)
#define AFX_LOG      256
#define AFX_HANG_S   60            /* hang guard of every wait (never a timing check) */

enum afx_policy {
    AFX_MAP,        /* map a fresh frame (or add write access), answer Success */
    AFX_SUCCESS,    /* answer Success without doing anything */
    AFX_INVALID,    /* answer Invalid Request */
    AFX_FAILURE,    /* answer Response Failure */
    AFX_HOLD,       /* keep the request unanswered until afx_release */
};

struct afx_req {
    uint64_t addr;
    uint32_t pasid;
    uint16_t rid, prgi;
    bool pp, rd, wr, lpig, priv;
};

struct afx_opts {
    unsigned timeout_ms;       /* 0: the device default */
    unsigned atc_entries;      /* 0: the device default */
    uint32_t pri_alloc;        /* 0: 32 */
};

struct afx {
    struct mem_arena *mem;
    struct vtd_unit *u;
    struct vtd_tables t;
    uint64_t dir;
    struct pt mm;
    pthread_mutex_t mm_lock;
    struct accel *dev;
    /* invalidation queue */
    pthread_mutex_t qlock;
    uint64_t iq, status;
    uint32_t qsize, tail;
    unsigned nstatus;
    /* page request queue and the OS thread */
    uint64_t prq;
    uint32_t prq_size;
    pthread_t os;
    pthread_mutex_t oslock;
    pthread_cond_t oscv;
    bool os_stop;
    unsigned prq_events;
    enum afx_policy policy;
    unsigned nreq, nheld, os_errors;
    struct afx_req req[AFX_LOG];
    struct afx_req held[AFX_LOG];
    /* device MSIs */
    pthread_mutex_t msilock;
    unsigned nmsi;
    uint64_t msi_addr;
    uint32_t msi_data;
};

void afx_init(struct afx *f, const struct afx_opts *o);
void afx_fini(struct afx *f);
int afx_setup(void **state);           /* cmocka: afx_init with defaults */
int afx_teardown(void **state);

/* ---- the process (CPU side); every edit under mm_lock ------------------------- */
uint64_t afx_map(struct afx *f, uint64_t va, uint64_t flags);   /* fresh frame; its HPA */
void afx_map_at(struct afx *f, uint64_t va, uint64_t hpa, enum pt_page_size sz, uint64_t flags);
void afx_unmap(struct afx *f, uint64_t va);
void afx_protect(struct afx *f, uint64_t va, uint64_t flags);
uint64_t afx_hpa(struct afx *f, uint64_t va);                   /* HPA_INVALID: unmapped */
void afx_ensure(struct afx *f, uint64_t va, uint64_t len);       /* maps what is missing */
void afx_write(struct afx *f, uint64_t va, const void *buf, uint64_t len);
void afx_read(struct afx *f, uint64_t va, void *buf, uint64_t len);
uint64_t afx_rd64(struct afx *f, uint64_t va);

/* ---- the device ---------------------------------------------------------------------- */
uint64_t afx_rd(struct afx *f, uint64_t off, unsigned len);
void afx_wr(struct afx *f, uint64_t off, unsigned len, uint64_t v);
uint64_t afx_creg(unsigned ctx, unsigned reg);                   /* BAR0 offset */
/* CTRL = ENABLE|PASID with PASID = pasid, COMPL_VA = compl_va. */
void afx_ctx(struct afx *f, unsigned ctx, uint32_t pasid, uint64_t compl_va);
struct accel_cmd afx_cmd(uint32_t op, uint32_t arg, uint64_t a, uint64_t b, uint64_t c);
/* Writes the commands at va (mapping what is missing), BATCH = va, rings. */
void afx_submit(struct afx *f, unsigned ctx, uint64_t va, const struct accel_cmd *c, unsigned n);
/* Waits while the context is RUNNING or PAGE_WAIT; returns STATUS. */
uint32_t afx_wait(struct afx *f, unsigned ctx);
void afx_wait_state(struct afx *f, unsigned ctx, unsigned state);
/* afx_submit at AFX_BATCH_VA + afx_wait. */
uint32_t afx_run(struct afx *f, unsigned ctx, const struct accel_cmd *c, unsigned n);
#define AFX_ST(state, err) ((uint32_t)(state) | (uint32_t)(err) << 8)
unsigned afx_nmsi(struct afx *f);
struct accel_stats afx_stats(struct afx *f);

/* ---- the OS ---------------------------------------------------------------------------- */
/* Submits the descriptors and a wait descriptor; true when the wait
 * completed (false: the queue stopped, e.g. ITE). */
bool afx_qi(struct afx *f, uint64_t (*d)[4], unsigned n);
void afx_d_pgresp(uint64_t d[4], const struct afx_req *r, enum vtd_prg_rc rc);
void afx_d_piotlb(uint64_t d[4], uint64_t va, unsigned am);
void afx_d_pdevtlb(uint64_t d[4], uint32_t pasid, uint64_t va, bool s, bool global);
/* What Linux does after changing a mapping: PASID-IOTLB (page) + PASID
 * device-TLB (page) + wait. */
bool afx_inv_page(struct afx *f, uint64_t va);
/* PASID-selective PASID-IOTLB + PASID device-TLB of the whole space + wait. */
bool afx_inv_all(struct afx *f);
void afx_policy(struct afx *f, enum afx_policy p);
unsigned afx_nreq(struct afx *f);
struct afx_req afx_req(struct afx *f, unsigned i);
void afx_wait_nreq(struct afx *f, unsigned n);     /* page requests seen >= n */
/* Answers every held request with rc (and maps them first for Success
 * when map). Returns how many. */
unsigned afx_release(struct afx *f, enum vtd_prg_rc rc, bool map);
uint32_t afx_unit_rd(struct afx *f, uint32_t off);

/* ---- the groups of the test binary (each companion exports one) -------- */
#include <stddef.h>
struct CMUnitTest;
extern const struct CMUnitTest accel_fault_tests[];
extern const size_t accel_fault_ntests;
extern const struct CMUnitTest accel_robust_tests[];
extern const size_t accel_robust_ntests;

#endif
