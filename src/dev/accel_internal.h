/* State of the accelerator model, shared by src/dev/accel*.c only.
 *
 * LOCKING. Three locks are involved; the arrows give the only allowed
 * nesting order (hold the left one while taking the right one):
 *
 *     unit lock (vtd, external)  ->  d->lock          (page_response callback)
 *     unit lock (vtd, external)  ->  d->atc.rw write  (ats_invalidate callback)
 *
 *   d->lock    (mutex) registers, contexts, scheduling, the PRG table.
 *   d->atc.rw  (rwlock, writer preference) the device-TLB entries. The engine
 *              holds it for reading across "lookup + the memory access that
 *              uses the translation" (for COPY/FILL: the lookups and the
 *              copying of up to ACCEL_PIECES pages, one step); invalidation
 *              and insertion take it for writing. So when ats_invalidate returns, no access that used
 *              a dropped entry is still in flight (the guarantee behind
 *              "no write lands in a page after it was unmapped and the
 *              device TLB invalidated", PCIe ATS invalidation semantics).
 *
 * Consequences: nothing calls into the unit (vtd_ats_translate,
 * vtd_page_request, vtd_translate, vtd_device_*) while holding d->lock or
 * d->atc.rw, and d->lock and d->atc.rw are never held together. The device
 * MSI callback is called with no lock held. Flags the engine tests between
 * accesses (stop, bus master, ATS, PASID enable, context generation) are
 * atomics, as are the statistics.
 *
 * The idle engine polls d->kick (atomic; bumped under d->lock by whoever
 * broadcasts d->work) for a bounded moment with d->lock dropped, then
 * re-takes d->lock and sleeps on d->work only if d->kick has not moved
 * since it last looked under the lock, so no wake-up is lost. */
#ifndef VSVM_DEV_ACCEL_INTERNAL_H
#define VSVM_DEV_ACCEL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "dev/accel.h"

#define ACCEL_PRGI_N        512u   /* PRG index: 9 bits (PCIe PRI; vtd-reference §6.1) */
#define ACCEL_PRI_RETRIES   4u     /* page requests for one access before giving up */
#define ACCEL_XLATE_TRIES   8u     /* translation attempts per access (invalidation races) */

#define LD(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define ST(p, v)  __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define INC(p, n) ((void)__atomic_fetch_add((p), (n), __ATOMIC_RELAXED))

/* ---- device TLB ------------------------------------------------------------ */
/* Set associative, ACCEL_ATC_WAYS entries a set, a power-of-two number of
 * sets. An entry of page size 2^s for page number vpn lives in the set
 * (vpn ^ h(pv, pasid, s)) & set_mask: contiguous pages of one requester
 * fill consecutive sets, so a working set up to the table's size never
 * conflicts with itself. The privilege is not part of the index (an
 * invalidation drops both). */
#define ACCEL_ATC_WAYS 4u

struct accel_atc_entry {
    uint64_t va;          /* page base, aligned to 2^shift */
    uint64_t hpa;         /* translated page base */
    uint32_t used;        /* LRU stamp (within the set; wrapping only blurs the order) */
    uint32_t pasid;
    uint32_t epoch;       /* valid when equal to accel_atc.epoch (0: never) */
    uint8_t shift, perm;
    bool pv, priv;
};

struct accel_atc {
    pthread_rwlock_t rw;
    struct accel_atc_entry *e;
    unsigned n;           /* entries: sets * ways */
    unsigned ways;
    uint32_t set_mask;    /* sets - 1 */
    uint32_t epoch;       /* a flush bumps it: every entry invalid at once */
    uint64_t shifts;      /* bit s set: entries of page shift s may be valid */
    uint64_t gen;         /* bumped by every invalidation (under rw write) */
    uint32_t clock;       /* LRU clock */
};

/* Who a request comes from (latched when a batch starts). */
struct accel_xid {
    bool pv, priv;
    uint32_t pasid;
};

/* ---- PRI ----------------------------------------------------------------------- */
enum accel_prg_state { PRG_FREE, PRG_WAITING, PRG_ANSWERED, PRG_ABANDONED };

struct accel_prg {
    uint8_t state, rc;
    int8_t ctx;
    bool pv;
    uint32_t pasid;
    struct timespec expire;   /* ABANDONED: when the index may be reused */
    struct timespec sent;     /* when the page request went out (round-trip statistics) */
};

struct accel_pri {
    struct accel_prg slot[ACCEL_PRGI_N];
    unsigned outstanding;     /* slots not FREE */
    unsigned abandoned;
    unsigned next;            /* allocation cursor: indexes are reused as late as possible */
    uint32_t status;          /* ACCEL_PRI_ST_RF | ACCEL_PRI_ST_UPRGI */
    bool enabled;
    uint32_t allocation;
};

/* ---- contexts ------------------------------------------------------------------ */
/* Engine-private progress through a batch (only the engine thread touches it). */
struct accel_run {
    struct accel_xid x;
    uint64_t compl_va;
    uint64_t pc;              /* VA of the current command */
    uint32_t n;               /* commands fetched from this batch */
    bool have_cmd;
    struct accel_cmd cmd;
    uint64_t done;            /* COPY/FILL: bytes done; CHASE: nodes visited */
    uint64_t node, sum;       /* CHASE */
    uint64_t mark, power, lam;/* CHASE: Brent's cycle detection */
    uint64_t fault_va;        /* last page request: address, access, count */
    bool fault_write;
    unsigned fault_tries;
};

struct accel_ctx {
    /* registers (d->lock) */
    uint32_t ctrl, pasid;
    uint64_t batch, compl_va, error_va, seqno;
    uint8_t state, err;
    /* scheduling (d->lock) */
    bool pending;             /* doorbell not yet taken by the engine */
    uint64_t pending_batch;
    int prgi;                 /* PAGE_WAIT for this PRG index, or -1 */
    bool slot_wait;           /* PAGE_WAIT for a free PRG index */
    struct timespec deadline; /* PAGE_WAIT ends with ACCEL_ERR_TIMEOUT */
    unsigned gen;             /* bumped by resets (atomic): stale engine work is dropped */
    uint64_t cmds, prqs;      /* atomic */
    struct accel_run run;
};

struct accel {
    struct accel_config cfg;
    pthread_mutex_t lock;
    pthread_cond_t work;      /* engine: doorbell, response, stop */
    pthread_cond_t idle;      /* the engine left a context (resets wait for it) */
    pthread_t thread;
    bool stop;                /* atomic */
    unsigned kick;            /* atomic, bumped under d->lock with every d->work broadcast */
    int running;              /* context in the engine's hands, or -1 */
    unsigned rr;              /* round-robin cursor */
    struct accel_ctx ctx[ACCEL_NCTX];
    uint32_t int_status, int_mask;
    uint64_t rtt_ns[ACCEL_RTT_SAMPLES];   /* page request -> retry, last samples (d->lock) */
    unsigned rtt_n;
    bool bus_master, ats, pasid_en, inv_never;   /* atomic */
    bool msi_en;
    uint64_t msi_addr;
    uint32_t msi_data;
    struct accel_atc atc;
    struct accel_pri pri;
    struct accel_stats st;    /* atomic increments */
    accel_dma_watch_fn watch; /* atomic pointer; opaque set before it */
    void *watch_opaque;
};

/* accel.c */
bool accel_on_engine(const struct accel *d);
/* d->lock held: something may be ready for the engine (bumps d->kick, which
 * the idle engine polls for a moment before sleeping, and wakes it). */
void accel_kick(struct accel *d);
/* Waits (d->lock held) until the engine holds no work of context i (any
 * context when i < 0); returns at once on the engine thread itself. */
void accel_wait_engine(struct accel *d, int i);
/* Abandons context i's work (d->lock held): generation bump, page wait
 * cancelled, nothing pending; the caller sets the resulting state. */
void accel_ctx_abandon(struct accel *d, unsigned i);
/* Sets INT_STATUS bit i; true (and the message) when an MSI must be sent
 * (after dropping d->lock). */
bool accel_irq_locked(struct accel *d, unsigned i, uint64_t *addr, uint32_t *data);
void accel_send_msi(struct accel *d, uint64_t addr, uint32_t data);

/* accel_mmio.c: nothing beyond accel_mmio(). */

/* accel_engine.c */
void *accel_engine_main(void *arg);
/* A doorbell (d->lock held): true and the MSI to send when it failed. */
bool accel_doorbell_locked(struct accel *d, unsigned i, uint64_t *addr, uint32_t *data);

/* accel_exec.c: one step of a batch. */
enum accel_step {
    STEP_CONT,        /* progress (or a retry): keep going */
    STEP_END,         /* END executed: batch complete */
    STEP_PAGE,        /* a page is missing: send a page request */
    STEP_ERROR,       /* batch failed: err, va */
};
struct accel_out {
    enum accel_step kind;
    uint8_t err;
    uint64_t va;      /* failing / missing address */
    bool write;       /* STEP_PAGE: write access needed */
    bool progress;    /* STEP_CONT: something completed */
};
void accel_step(struct accel *d, struct accel_ctx *c, struct accel_out *o);

/* accel_atc.c: the translated access path. */
enum accel_acc { ACC_OK, ACC_PAGE, ACC_UNSUPPORTED, ACC_AGAIN };
struct accel_span {
    uint64_t va;
    uint32_t len;     /* within one 4 KiB page */
    bool write;
    uint8_t *hva;     /* filled for the callback */
};
typedef void (*accel_io_fn)(struct accel_span *s, unsigned n, void *arg);
/* Translates every span (device TLB, ATS on a miss) and calls fn with host
 * pointers while holding the translations (atc.rw read). ACC_PAGE /
 * ACC_UNSUPPORTED: *fva (and *fwrite) name the access that failed. */
enum accel_acc accel_io(struct accel *d, const struct accel_xid *x, struct accel_span *s,
                        unsigned n, accel_io_fn fn, void *arg, uint64_t *fva, bool *fwrite);
/* The same for `ng` groups of g spans (one group: the spans of one piece of
 * COPY/FILL), in order: translates the first group (ATS as needed), then
 * calls fn once on the leading groups whose translations are all cached,
 * holding them; *done (on ACC_OK, at least 1) is how many groups fn got. A
 * group beyond the first that misses or fails is simply left for the next
 * call. */
enum accel_acc accel_io_groups(struct accel *d, const struct accel_xid *x, struct accel_span *s,
                               unsigned ng, unsigned g, accel_io_fn fn, void *arg, unsigned *done,
                               uint64_t *fva, bool *fwrite);
/* n entries, rounded down to a power-of-two number of sets (at least one
 * entry). */
int accel_atc_init(struct accel_atc *a, unsigned n);
void accel_atc_fini(struct accel_atc *a);
/* Valid entries (atc.rw held). */
unsigned accel_atc_count(const struct accel_atc *a);
void accel_atc_flush(struct accel *d);
enum vtd_ats_inv_status accel_ats_invalidate(void *opaque, uint16_t sid, bool pv, uint32_t pasid,
                                             bool global, uint64_t addr, uint64_t size);

/* accel_pri.c */
void accel_page_response(void *opaque, const struct vtd_page_resp *r);
/* d->lock held: a PRG index for context i, or -1 (none free / PRI off). */
int accel_prg_alloc(struct accel *d, unsigned i, const struct accel_xid *x);
void accel_prg_free(struct accel *d, int prgi);
void accel_prg_abandon(struct accel *d, int prgi);
bool accel_prg_available(struct accel *d, const struct timespec *now);
/* Earliest moment an abandoned index may be reused (false: none). */
bool accel_prg_next_expiry(struct accel *d, struct timespec *t);
/* Sends the page request (no lock held). */
void accel_send_page_request(struct accel *d, const struct accel_xid *x, int prgi, uint64_t va,
                             bool write);

/* time helpers (accel.c) */
void accel_now(struct timespec *t);
static inline uint64_t accel_ts_ns(const struct timespec *t)
{
    return (uint64_t)t->tv_sec * 1000000000ULL + (uint64_t)t->tv_nsec;
}
void accel_ts_add_ms(struct timespec *t, unsigned ms);
bool accel_ts_before(const struct timespec *a, const struct timespec *b);

#endif
