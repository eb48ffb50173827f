/* Shared fixture of the VT-d translation tests (test_vtd_xlate_*.c,
 * test_vtd_hostile.c).
 *
 * HOW IT IS BUILT: the Makefile turns every tests/unit/test_*.c into its own
 * binary linked against build/<cfg>/libvsvm.a only. This fixture is not part
 * of the library, so each test file includes the implementation once:
 *
 *     #include "vtd_fixture.c"      (which includes this header)
 *
 * giving one translation unit per binary. The file names do not start with
 * test_, so the Makefile never builds them on their own. Do not include
 * vtd_fixture.c twice in one binary.
 *
 * What it provides: a host arena (FX_SIZE bytes at FX_BASE), a unit created
 * from vtd_config_default() or vtd_config_legacy() with optional capability
 * edits, programmed with a root table in the wanted TTM; builders for legacy
 * and scalable context entries, PASID entries (every field through
 * HW_SET), second-level tables (vtd/tables.h), first-level tables (paging/
 * pt.h, host or guest physical), a nested set-up whose first-level tables
 * live in a guest physical space mapped through the second level; checks
 * of results, of the fault recording registers (read through MMIO) and of
 * a repeated request (IOTLB); and non-fatal failure accounting, so that a
 * table-driven group reports every failing case by name before failing. */
#ifndef VSVM_TESTS_VTD_FIXTURE_H
#define VSVM_TESTS_VTD_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/hw.h"
#include "mem/mem.h"
#include "paging/pt.h"
#include "vtd/fault.h"
#include "vtd/tables.h"
#include "vtd/unit.h"

#define FX_BASE     0x100000000ULL
#define FX_SIZE     (256ULL << 20)
#define FX_END      (FX_BASE + FX_SIZE)
/* Below the arena: every model read there fails. */
#define FX_OUTSIDE  0x10000ULL
#define FX_INTR     0xFEE00000ULL

/* SL entry rights (vtd-reference.md §3.2) and FL entry bits (§3.4). */
#define SL_R   HW_FM(SL_PTE, R)
#define SL_W   HW_FM(SL_PTE, W)
#define SL_X   HW_FM(SL_PTE, X)
#define SL_RW  (SL_R | SL_W)
#define SL_RWX (SL_R | SL_W | SL_X)

enum fx_cfg { FX_DEFAULT, FX_LEGACY };

/* Capability edits on top of a base configuration (0 = keep). */
struct fx_mod {
    uint64_t cap_clr, cap_set, ecap_clr, ecap_set;
    unsigned haw;
};

struct fx {
    struct mem_arena *mem;
    struct vtd_config cfg;
    struct vtd_unit *u;
    struct vtd_tables t;
    struct gpa_map *gpa;        /* nested set-up, freed by fx_fini */
};

/* Creates arena, unit and an empty root table (scalable layout when ttm is
 * not 0) and programs it with `ttm`, translation enabled. Fatal on error.
 * FX_TRACE=<glob> in the environment enables model trace points. */
void fx_init(struct fx *f, enum fx_cfg cfg, const struct fx_mod *mod, unsigned ttm);
void fx_fini(struct fx *f);
/* Reprograms RTADDR (root, ttm) + SRTP and invalidates every cache. */
void fx_reroot(struct fx *f, uint64_t root, unsigned ttm);
void fx_flush(struct fx *f);    /* global context, PASID-cache and IOTLB invalidation */

/* ---- failure accounting ----------------------------------------------- */
extern unsigned fx_failures;
void fx_fail(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Counts and prints a mismatch naming the case; never aborts. */
#define FX_EQ(name, what, got, want) \
    do { \
        unsigned long long got_ = (unsigned long long)(got), want_ = (unsigned long long)(want); \
        if (got_ != want_) \
            fx_fail((name), "%s = %#llx, expected %#llx", (what), got_, want_); \
    } while (0)
void fx_group_begin(void);
void fx_group_end(const char *group, unsigned ncases);   /* fails if any case failed */

/* ---- memory ------------------------------------------------------------- */
uint64_t fx_rd(struct fx *f, uint64_t hpa);
void fx_wr(struct fx *f, uint64_t hpa, uint64_t v);
void fx_set_bits(struct fx *f, uint64_t hpa, uint64_t bits);
void fx_clr_bits(struct fx *f, uint64_t hpa, uint64_t bits);
uint64_t fx_frame(struct fx *f);            /* a zeroed frame */

/* ---- legacy structures (§2.2, §2.3) -------------------------------------- */
void fx_ctx_legacy(struct fx *f, uint16_t sid, unsigned tt, unsigned aw, uint64_t slptptr,
                   uint16_t did, bool fpd);
uint64_t fx_root_addr(struct fx *f, uint16_t sid);   /* root entry (SM: its half) */
uint64_t fx_ctx_addr(struct fx *f, uint16_t sid);

/* ---- scalable-mode structures (§2.7-§2.10) --------------------------------- */
struct fx_smctx {
    bool fpd, dte, paside, pre, rid_priv;
    unsigned pdts;
    uint32_t rid_pasid;
};
/* Writes the context entry with a fresh PASID directory; returns the
 * directory's address. */
uint64_t fx_ctx_sm(struct fx *f, uint16_t sid, const struct fx_smctx *c);

struct fx_pasid {
    unsigned pgtt, aw, flpm;
    uint64_t slptptr, flptptr;
    uint16_t did;
    bool fpd, slee, slade, sre, ere, wpe, nxe, smep, eafe;
    bool no_pwsnp;          /* PWSNP is set unless this (Linux sets it with ECAP.SMPWCS) */
};
void fx_pasid_build(const struct fx_pasid *p, uint64_t e[8]);
void fx_pasid_set(struct fx *f, uint64_t dir, uint32_t pasid, const struct fx_pasid *p,
                  bool dir_fpd);
uint64_t fx_pasid_addr(struct fx *f, uint64_t dir, uint32_t pasid);

/* ---- second level (§3.2) ------------------------------------------------- */
void fx_sl_map(struct fx *f, uint64_t *root, unsigned levels, uint64_t iova, uint64_t hpa,
               unsigned shift, uint64_t flags);
uint64_t fx_sl_slot(struct fx *f, uint64_t root, unsigned levels, uint64_t iova, unsigned level);

/* ---- first level (§3.4), in any phys_view ----------------------------------- */
void fx_fl_init(struct pt *pt, struct phys_view v, int levels);
void fx_fl_map(struct pt *pt, uint64_t va, uint64_t pa, enum pt_page_size size, uint64_t flags);
uint64_t fx_fl_slot(const struct pt *pt, uint64_t va, int level);   /* address in pt's space */
uint64_t fx_fl_get(const struct pt *pt, uint64_t va, int level);
void fx_fl_put(const struct pt *pt, uint64_t va, int level, uint64_t v);

/* ---- nested (§3.6) ------------------------------------------------------------
 * A guest physical space of FX_GPA_SIZE bytes whose every page is mapped
 * through a second level (R|W, 4 KiB); first-level tables are allocated in
 * it from FX_GPA_FLOOR up. Data GPAs (outside the map) are mapped by the
 * tests themselves. */
#define FX_GPA_SIZE  (2ULL << 20)
#define FX_GPA_FLOOR (1ULL << 20)
struct fx_nest {
    struct gpa_map *g;
    uint64_t slroot;
    unsigned sl_levels;
    struct pt pt;
};
void fx_nest_init(struct fx *f, struct fx_nest *n, unsigned sl_levels, int fl_levels);
uint64_t fx_gpa_hpa(const struct fx_nest *n, uint64_t gpa);

/* ---- requests and checks ------------------------------------------------------ */
struct vtd_result fx_xl(struct fx *f, const struct vtd_req *r);
struct vtd_result fx_xl_norec(struct fx *f, const struct vtd_req *r);

struct fx_want {
    uint8_t fault;          /* 0: success */
    uint64_t out;           /* exact output address (success) */
    uint8_t shift, perm;    /* success */
    bool suppressed;        /* fault expected not recorded (FPD) */
};
/* Checks the result of a vtd_translate() of r in a fresh unit (no fault
 * recorded before): outcome, and for faults the qualified/recorded flags,
 * FRCD[0] (via MMIO at CAP.FRO*16) and FSTS. Then translates r again
 * (without recording) and checks the same outcome, served from the IOTLB
 * for successful remapped (not pass-through) requests when `cached`. */
void fx_check(struct fx *f, const char *name, const struct vtd_req *r,
              const struct vtd_result *got, const struct fx_want *w, bool cached);
/* FRCD[i] as two qwords, read through MMIO; FSTS. */
void fx_frcd(struct fx *f, unsigned i, uint64_t rec[2]);
uint32_t fx_fsts(struct fx *f);
/* The record the hardware must write for r (§1.15, bit positions typed
 * from the reference, independently of lib/hw_fields.h). */
void fx_frcd_expect(const struct vtd_req *r, uint8_t reason, uint64_t rec[2]);

/* ---- robustness helpers (hostile tests) --------------------------------------
 * fx_xl_timed translates and keeps the slowest time in fx_max_xl_s;
 * fx_check_sane checks the invariants every outcome must meet (a known
 * fault reason; or page_shift 12/21/30, output below 2^HAW and outside the
 * interrupt range, in-page offset kept, the requested access granted) and
 * counts outcomes in fx_seen[] ([0] successes); fx_xl_twice translates
 * (recording), checks sanity, and repeats without recording: same outcome. */
uint64_t fx_rng(uint64_t *state);            /* splitmix64 */
double fx_now(void);
extern double fx_max_xl_s;
extern unsigned fx_seen[256];
struct vtd_result fx_xl_timed(struct fx *f, const struct vtd_req *r, bool record);
void fx_check_sane(struct fx *f, const char *name, const struct vtd_req *r,
                   const struct vtd_result *res);
bool fx_same_outcome(const struct vtd_result *a, const struct vtd_result *b);
struct vtd_result fx_xl_twice(struct fx *f, const char *name, const struct vtd_req *r);
void fx_print_seen(const char *what);          /* prints and clears fx_seen */
/* The last page of the arena, checked to be all zero (no structure there:
 * call it after building, the allocator order is deterministic). */
uint64_t fx_last_page(struct fx *f);

#endif
