/* Translation caches of one unit (vtd-reference.md §2.10 caching note,
 * §4.10): context cache, PASID cache and IOTLB. All are direct-mapped (an
 * entry may be evicted at any time, which the spec allows); none ever holds
 * a not-present or faulting translation, so CAP.CM=0 software is served
 * correctly and CM=1 software loses nothing. Callers hold the unit lock. */
#ifndef VSVM_VTD_CACHE_H
#define VSVM_VTD_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include "vtd/walk_params.h"

#define CTX_CACHE_SIZE   1024u
#define PASID_CACHE_SIZE 4096u
#define IOTLB_SIZE       8192u

/* A context entry as the translation path needs it, decoded once. */
struct ctx_cache_entry {
    bool valid;
    bool sm;             /* scalable-mode entry */
    bool fpd, dte;
    bool paside, pre, rid_priv;   /* scalable */
    uint8_t pdts;            /* scalable */
    uint8_t tt;              /* legacy */
    uint16_t sid;
    uint16_t did;            /* legacy */
    uint32_t rid_pasid;      /* scalable */
    uint64_t pasid_dir;      /* scalable */
    struct sl_params sl;     /* legacy */
};

/* A PASID-table entry (and its directory entry's FPD), decoded once. */
struct pasid_cache_entry {
    bool valid;
    bool fpd;            /* FPD of the directory or the table entry */
    bool sre, ere;
    uint16_t sid;
    uint16_t did;
    uint32_t pasid;
    enum xl_mode mode;
    struct sl_params sl;
    struct fl_params fl; /* fl.nest points at this entry's sl when nested */
};

enum iotlb_kind { IOTLB_SL = 0, IOTLB_FL = 1, IOTLB_NESTED = 2 };

/* Cached attributes are kept raw so permission is re-evaluated for each
 * requester (user/supervisor, read/write/execute). */
#define IOTLB_A_R     0x01u  /* second level: R on every level (or no SL) */
#define IOTLB_A_W     0x02u  /* second level: W on every level (or no SL) */
#define IOTLB_A_X     0x04u  /* second level: X on every level, or SLEE=0 */
#define IOTLB_A_FLRW  0x08u  /* first level: R/W on every level (or no FL) */
#define IOTLB_A_FLUS  0x10u  /* first level: U/S on every level (or no FL) */
#define IOTLB_A_FLXD  0x20u  /* first level: XD on some level */
#define IOTLB_A_DIRTY 0x40u  /* D bits already set: a write hit needs no walk */
#define IOTLB_A_GLOBAL 0x80u /* first-level G on the leaf */

struct iotlb_entry {
    uint64_t vpn;        /* input address >> shift; ~0 when invalid */
    uint64_t out;        /* output page base */
    uint32_t pasid;      /* PASID tag; IOTLB_NO_PASID in legacy mode */
    uint16_t did;
    uint8_t shift;
    uint8_t kind;
    uint8_t attr;
};
#define IOTLB_NO_PASID 0xFFFFFFFFu

struct vtd_caches {
    struct ctx_cache_entry ctx[CTX_CACHE_SIZE];
    struct pasid_cache_entry pasid[PASID_CACHE_SIZE];
    struct iotlb_entry iotlb[IOTLB_SIZE];
    unsigned shifts_present;  /* bit (shift - 12)/9 set while any entry of that size may exist */
};

void cache_init(struct vtd_caches *c);
struct ctx_cache_entry *ctx_cache_lookup(struct vtd_caches *c, uint16_t sid);
/* Stores *e in sid's slot and returns the slot. */
struct ctx_cache_entry *ctx_cache_fill(struct vtd_caches *c, const struct ctx_cache_entry *e);
struct pasid_cache_entry *pasid_cache_lookup(struct vtd_caches *c, uint16_t sid, uint32_t pasid);
struct pasid_cache_entry *pasid_cache_fill(struct vtd_caches *c, const struct pasid_cache_entry *e);
const struct iotlb_entry *iotlb_lookup(const struct vtd_caches *c, uint16_t did, uint32_t pasid,
                                       uint64_t addr);
void iotlb_fill(struct vtd_caches *c, const struct iotlb_entry *e);

/* Invalidation primitives; each returns the number of entries dropped. */
unsigned ctx_cache_inv(struct vtd_caches *c, int gran, uint16_t did, uint16_t sid, unsigned fm);
unsigned pasid_cache_inv(struct vtd_caches *c, int gran, uint16_t did, uint32_t pasid);
/* Drops IOTLB entries matching every given criterion: did (if has_did),
 * pasid (if has_pasid), kinds in kind_mask (bit per enum iotlb_kind),
 * overlapping [addr, addr + len) (if len), keeping global FL entries when
 * keep_global. */
struct iotlb_match {
    bool has_did, has_pasid, keep_global;
    uint16_t did;
    uint32_t pasid;
    unsigned kind_mask;
    uint64_t addr, len;
};
unsigned iotlb_inv(struct vtd_caches *c, const struct iotlb_match *m);

#endif
