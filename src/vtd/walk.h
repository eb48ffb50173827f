/* Page-table walks of the unit (vtd-reference.md §3): second level (legacy
 * and scalable codes), first level (IA-32e) with optional nesting, and the
 * permission rules shared by the walks and the IOTLB hit path. */
#ifndef VSVM_VTD_WALK_H
#define VSVM_VTD_WALK_H

#include "vtd/internal.h"
#include "vtd/walk_params.h"

#define WALK_MAX_LEVELS 5

extern const struct sl_codes sl_codes_legacy, sl_codes_sm;

/* Access requested from a walk. */
#define ACC_R 1u
#define ACC_W 2u
#define ACC_X 4u

struct walk_out {
    uint64_t out;           /* output page base */
    unsigned shift;         /* 12, 21, 30 */
    uint8_t attr;           /* IOTLB_A_* accumulated */
};

/* Walks the second level for `in`, checking the `acc` rights. With set_ad
 * (and slade) a successful walk sets A on every entry and D on the leaf of
 * a write; without it the walk has no side effect. 0 or a fault reason. */
uint8_t sl_walk(struct vtd_unit *u, const struct sl_params *p, uint64_t in, unsigned acc,
                struct walk_out *o, bool set_ad);

/* The first-level entries a successful walk used, for the A/D updates that
 * are committed only once the whole request is known to succeed. */
struct fl_path {
    uint64_t ea[WALK_MAX_LEVELS];     /* HPA of each entry */
    uint64_t table[WALK_MAX_LEVELS];  /* table address as the walk saw it (GPA when nested) */
    uint64_t want[WALK_MAX_LEVELS];   /* A/D/EA bits the entry still lacks */
    unsigned n;
    uint64_t final_in;                /* nested: GPA of the final second-level step */
    unsigned final_acc;
};

/* Walks the first level (and, when nested, the second level for every
 * table and for the final address) for `req` without side effects,
 * checking that every A/D update the request needs can be made (0x77, 0x7C,
 * 0x90). Returns 0 or a reason; on success `path` says what to update. */
uint8_t fl_walk(struct vtd_unit *u, const struct fl_params *p, const struct vtd_req *req,
                bool priv, struct walk_out *o, struct fl_path *path);
/* Makes the A/D (and EA) updates of a successful fl_walk, on both levels
 * when nested. */
void fl_commit(struct vtd_unit *u, const struct fl_params *p, const struct fl_path *path);

/* Permission of a cached or freshly walked first-level/nested translation
 * for one requester: 0 if allowed, else the fault reason (§3.5); and the
 * rights (VTD_PERM_*) it grants. Inline: both run on every IOTLB hit. */
static inline uint8_t fl_check_perm(const struct fl_params *p, uint8_t attr, const struct vtd_req *req,
                      bool priv)
{
    bool rw = attr & IOTLB_A_FLRW, us = attr & IOTLB_A_FLUS, xd = attr & IOTLB_A_FLXD;
    if (!priv && !us)
        return VTD_FR_SM_US;
    if (req->write && !rw && (!priv || p->wpe))
        return VTD_FR_SM_WRITE;
    if (req->exec && ((p->nxe && xd) || (priv && p->smep && us)))
        return VTD_FR_SM_EXEC;
    return 0;
}

static inline uint8_t fl_granted(const struct fl_params *p, uint8_t attr, bool priv)
{
    bool rw = attr & IOTLB_A_FLRW, us = attr & IOTLB_A_FLUS, xd = attr & IOTLB_A_FLXD;
    uint8_t g = 0;
    if (priv || us) {
        g |= VTD_PERM_R;
        if (rw || (priv && !p->wpe))
            g |= VTD_PERM_W;
        if (!(p->nxe && xd) && !(priv && p->smep && us))
            g |= VTD_PERM_X;
    }
    if (!(attr & IOTLB_A_R))
        g &= (uint8_t)~VTD_PERM_R;
    if (!(attr & IOTLB_A_W))
        g &= (uint8_t)~VTD_PERM_W;
    if (!(attr & IOTLB_A_X))
        g &= (uint8_t)~VTD_PERM_X;
    return g;
}

uint8_t sl_check_perm(const struct sl_codes *c, uint8_t attr, unsigned acc);

#endif
