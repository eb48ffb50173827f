/* Translation in progress: what the context and PASID structures decided
 * (shared by xlate.c, xlate_ctx.c and xlate_pasid.c). The walk parameters
 * point into the context / PASID cache slots, which stay put while the
 * unit lock is held. */
#ifndef VSVM_VTD_XLATE_H
#define VSVM_VTD_XLATE_H

#include "vtd/walk.h"

struct xl {
    bool sm;                /* scalable mode */
    bool fpd;               /* an FPD bit on the path is set */
    bool dte;               /* device TLB enabled (translated requests pass) */
    bool priv;              /* effective privilege of the request */
    enum xl_mode mode;
    uint16_t did;
    uint32_t pasid;         /* IOTLB tag: PASID or RID_PASID; IOTLB_NO_PASID in legacy */
    const struct sl_params *sl;
    const struct fl_params *fl;
};

/* Fetch (or take from the caches) and validate the structures governing
 * `req`, filling `x`. Return 0 or a fault reason. Lock held. */
uint8_t xl_legacy_context(struct vtd_unit *u, const struct vtd_req *req, struct xl *x);
uint8_t xl_sm_context(struct vtd_unit *u, const struct vtd_req *req, struct xl *x);
/* The scalable context entry for sid, through the context cache; *fpd is
 * its FPD bit (also when the entry is not present). */
uint8_t xl_sm_ctx_entry(struct vtd_unit *u, uint16_t sid, const struct ctx_cache_entry **ce,
                        bool *fpd);
/* Reads and checks the scalable root and context entry of sid from memory
 * (no cache); 0 or a fault reason, *fpd the context's FPD. */
uint8_t sm_fetch_ctx_nocache(struct vtd_unit *u, uint16_t sid, uint64_t *c, bool *fpd);
/* Scalable-mode request checks and PASID entry, given the context. */
uint8_t xl_sm_pasid(struct vtd_unit *u, const struct vtd_req *req,
                    const struct ctx_cache_entry *ctx, struct xl *x);

#endif
