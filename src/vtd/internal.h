/* State of one remapping unit, shared by the files of src/vtd/ only. */
#ifndef VSVM_VTD_INTERNAL_H
#define VSVM_VTD_INTERNAL_H

#include "lib/hw_regs.h"
#include "lib/spinlock.h"
#include "vtd/cache.h"
#include "vtd/unit.h"

#define VTD_REG_PAGE   4096u
#define VTD_MAX_FRCD   256u

struct vtd_unit {
    struct vtd_config cfg;
    struct mem_arena *mem;
    struct gpa_map *gpa;           /* virtual unit: structures live in guest memory */
    spinlock_t lock;               /* registers, fault records, caches */

    uint64_t reg[REG_COUNT];
    uint64_t wmask[REG_COUNT];     /* table mask narrowed by capabilities */
    uint64_t w1c[REG_COUNT];
    uint16_t off[REG_COUNT];       /* resolved offsets (IVA/IOTLB from ECAP.IRO) */
    uint8_t reg_at[VTD_REG_PAGE / 4]; /* dword index -> REG id + 1, 0 = none */
    uint32_t frcd_off;             /* CAP.FRO * 16 */
    unsigned nfr;                  /* number of fault recording registers */
    uint64_t frcd[VTD_MAX_FRCD][2];
    unsigned frcd_next;            /* next record slot the hardware fills */

    /* Latched by GCMD.SRTP (§1.5, §1.6). */
    uint64_t root_table;
    unsigned ttm;

    struct {
        uint16_t sid;
        const struct vtd_dev_ops *ops;
        void *opaque;
    } dev[VTD_MAX_DEVICES];
    unsigned ndev;

    struct vtd_caches cache;
    struct vtd_stats stats;
};

/* Fault conditions whose presence suppresses a new fault event (§5.3). */
#define FSTS_PENDING_MASK (HW_FM(FSTS, PPF) | HW_FM(FSTS, PFO) | HW_FM(FSTS, IQE) | \
                           HW_FM(FSTS, ICE) | HW_FM(FSTS, ITE))

/* The memory the unit's structures, queues and walks use: host memory, or
 * for a virtual unit the guest's physical space (every access checked). */
static inline int um_read(struct vtd_unit *u, uint64_t pa, void *b, size_t n)
{
    return u->gpa ? gpa_read(u->gpa, pa, b, n) : mem_read(u->mem, pa, b, n);
}
static inline int um_write(struct vtd_unit *u, uint64_t pa, const void *b, size_t n)
{
    return u->gpa ? gpa_write(u->gpa, pa, b, n) : mem_write(u->mem, pa, b, n);
}
static inline int um_read64(struct vtd_unit *u, uint64_t pa, uint64_t *v)
{
    return u->gpa ? gpa_read64(u->gpa, pa, v) : mem_read64(u->mem, pa, v);
}
static inline int um_or64(struct vtd_unit *u, uint64_t pa, uint64_t bits)
{
    return u->gpa ? gpa_or64(u->gpa, pa, bits, NULL) : mem_or64(u->mem, pa, bits, NULL);
}

/* Capability helpers. */
#define CAP(u, F)  HW_FV(CAP, F, (u)->cfg.cap)
#define ECAP(u, F) HW_FV(ECAP, F, (u)->cfg.ecap)

static inline unsigned vtd_ndoms_bits(const struct vtd_unit *u)
{
    return 4 + 2 * (unsigned)CAP(u, ND);
}
/* Mask of address bits at or above the host address width (reserved in
 * every table pointer and output address field). */
static inline uint64_t vtd_haw_rsvd(const struct vtd_unit *u)
{
    return u->cfg.haw >= 64 ? 0 : ~0ULL << u->cfg.haw;
}
static inline bool vtd_gstatus(const struct vtd_unit *u, uint64_t gsts_mask)
{
    return (u->reg[REG_GSTS] & gsts_mask) != 0;
}

/* cache_inv.c: invalidation with the lock held. */
void inv_context_locked(struct vtd_unit *u, enum vtd_cc_gran g, uint16_t did, uint16_t sid,
                        unsigned fm);
void inv_pasid_cache_locked(struct vtd_unit *u, enum vtd_pc_gran g, uint16_t did, uint32_t pasid);
void inv_iotlb_locked(struct vtd_unit *u, enum vtd_iotlb_gran g, uint16_t did, uint64_t addr,
                      unsigned am, bool ih);
void inv_piotlb_locked(struct vtd_unit *u, bool page, uint16_t did, uint32_t pasid,
                       uint64_t addr, unsigned am, bool ih, bool keep_global);

/* dev.c: the attached endpoint with this requester id, or -1. */
int vtd_dev_find(const struct vtd_unit *u, uint16_t sid);
/* qi.c: processes the invalidation queue from IQH to IQT (lock held). */
void vtd_qi_process(struct vtd_unit *u);
/* Sets an invalidation error in FSTS (IQE/ICE/ITE) and raises the fault
 * event unless a fault condition was already pending (§4.9, §5.3). */
void vtd_inv_error(struct vtd_unit *u, uint64_t fsts_bit);
/* prq.c: sends a page group response to the device (lock held). */
void vtd_prq_respond(struct vtd_unit *u, const struct vtd_page_resp *r);

/* regs.c */
void vtd_regs_reset(struct vtd_unit *u);
/* fault_record.c: records a fault of a request (or a page request) with the
 * lock held; returns true if a record was written. */
bool vtd_fault_record(struct vtd_unit *u, const struct vtd_req *req, uint8_t reason, bool page_req);
/* Raises an event through an ECTL/EDATA/EADDR/EUADDR quad (§1.10) on the
 * condition's 0->1 transition: IM=1 -> IP, else MSI. */
void vtd_event_raise(struct vtd_unit *u, enum vtd_reg_id ectl);
/* Called after software unmasks an ECTL: a pending IP sends the MSI. */
void vtd_event_unmasked(struct vtd_unit *u, enum vtd_reg_id ectl);

#endif
