/* Direct-mapped translation caches (see cache.h). */
#include "vtd/cache.h"

#include <string.h>


static inline unsigned ctx_index(uint16_t sid)
{
    return (sid ^ (sid >> 10)) & (CTX_CACHE_SIZE - 1);
}

static inline unsigned pasid_index(uint16_t sid, uint32_t pasid)
{
    uint32_t h = (uint32_t)sid * 0x9E3779B1u ^ pasid * 0x85EBCA77u;
    return (h ^ (h >> 15)) & (PASID_CACHE_SIZE - 1);
}

static inline unsigned iotlb_index(uint16_t did, uint32_t pasid, uint64_t vpn, unsigned shift)
{
    uint64_t h = vpn * 0x9E3779B97F4A7C15ull ^ ((uint64_t)did << 32 | pasid) * 0xC2B2AE3D27D4EB4Full
                 ^ shift;
    return (unsigned)(h >> 51) & (IOTLB_SIZE - 1);
}

void cache_init(struct vtd_caches *c)
{
    memset(c, 0, sizeof(*c));
    for (unsigned i = 0; i < IOTLB_SIZE; i++)
        c->iotlb[i].vpn = ~0ULL;
}

struct ctx_cache_entry *ctx_cache_lookup(struct vtd_caches *c, uint16_t sid)
{
    struct ctx_cache_entry *e = &c->ctx[ctx_index(sid)];
    return e->valid && e->sid == sid ? e : NULL;
}

struct ctx_cache_entry *ctx_cache_fill(struct vtd_caches *c, const struct ctx_cache_entry *e)
{
    struct ctx_cache_entry *x = &c->ctx[ctx_index(e->sid)];
    *x = *e;
    x->valid = true;
    return x;
}

struct pasid_cache_entry *pasid_cache_lookup(struct vtd_caches *c, uint16_t sid, uint32_t pasid)
{
    struct pasid_cache_entry *e = &c->pasid[pasid_index(sid, pasid)];
    return e->valid && e->sid == sid && e->pasid == pasid ? e : NULL;
}

struct pasid_cache_entry *pasid_cache_fill(struct vtd_caches *c, const struct pasid_cache_entry *e)
{
    struct pasid_cache_entry *x = &c->pasid[pasid_index(e->sid, e->pasid)];
    *x = *e;
    x->valid = true;
    x->fl.nest = x->mode == XL_NESTED ? &x->sl : NULL;
    return x;
}

const struct iotlb_entry *iotlb_lookup(const struct vtd_caches *c, uint16_t did, uint32_t pasid,
                                       uint64_t addr)
{
    for (unsigned s = 0; s < 3; s++) {
        if (!(c->shifts_present & (1u << s)))
            continue;
        unsigned shift = 12 + 9 * s;
        uint64_t vpn = addr >> shift;
        const struct iotlb_entry *e = &c->iotlb[iotlb_index(did, pasid, vpn, shift)];
        if (e->vpn == vpn && e->shift == shift && e->did == did && e->pasid == pasid)
            return e;
    }
    return NULL;
}

void iotlb_fill(struct vtd_caches *c, const struct iotlb_entry *e)
{
    c->iotlb[iotlb_index(e->did, e->pasid, e->vpn, e->shift)] = *e;
    c->shifts_present |= 1u << ((e->shift - 12) / 9);
}

unsigned ctx_cache_inv(struct vtd_caches *c, int gran, uint16_t did, uint16_t sid, unsigned fm)
{
    /* FM: ignore SID bits 2:0, 2:1 or 2 (§1.7): masks 0, 4, 6, 7. */
    static const uint16_t fm_ignore[4] = { 0, 0x4, 0x6, 0x7 };
    uint16_t care = (uint16_t)~fm_ignore[fm & 3];
    unsigned n = 0;
    for (unsigned i = 0; i < CTX_CACHE_SIZE; i++) {
        struct ctx_cache_entry *e = &c->ctx[i];
        if (!e->valid)
            continue;
        bool hit = gran == 1 ||
                   /* Scalable context entries carry no DID: a domain-selective
                    * request drops them all (over-invalidation is allowed). */
                   (gran == 2 && (e->sm || e->did == did)) ||
                   (gran == 3 && (e->sid & care) == (sid & care));
        if (hit) {
            e->valid = false;
            n++;
        }
    }
    return n;
}

unsigned pasid_cache_inv(struct vtd_caches *c, int gran, uint16_t did, uint32_t pasid)
{
    unsigned n = 0;
    for (unsigned i = 0; i < PASID_CACHE_SIZE; i++) {
        struct pasid_cache_entry *e = &c->pasid[i];
        if (!e->valid)
            continue;
        bool hit = gran == 3 || (gran == 0 && e->did == did) ||
                   (gran == 1 && e->did == did && e->pasid == pasid);
        if (hit) {
            e->valid = false;
            n++;
        }
    }
    return n;
}

static bool iotlb_matches(const struct iotlb_entry *e, const struct iotlb_match *m)
{
    if (m->has_did && e->did != m->did)
        return false;
    if (m->has_pasid && e->pasid != m->pasid)
        return false;
    if (!(m->kind_mask & (1u << e->kind)))
        return false;
    if (m->keep_global && (e->attr & IOTLB_A_GLOBAL))
        return false;
    if (m->len) {
        uint64_t base = e->vpn << e->shift, end = base + (1ULL << e->shift);
        if (end <= m->addr || base >= m->addr + m->len)
            return false;
    }
    return true;
}

/* Small ranges of one (DID, PASID) are dropped by probing the slots their
 * pages hash to, for each page size present; anything else scans. */
#define IOTLB_PROBE_MAX 512u

static unsigned iotlb_inv_probe(struct vtd_caches *c, const struct iotlb_match *m)
{
    unsigned n = 0;
    for (unsigned s = 0; s < 3; s++) {
        if (!(c->shifts_present & (1u << s)))
            continue;
        unsigned shift = 12 + 9 * s;
        uint64_t first = m->addr >> shift, last = (m->addr + m->len - 1) >> shift;
        for (uint64_t vpn = first; vpn <= last; vpn++) {
            struct iotlb_entry *e = &c->iotlb[iotlb_index(m->did, m->pasid, vpn, shift)];
            if (e->vpn == vpn && e->shift == shift && iotlb_matches(e, m)) {
                e->vpn = ~0ULL;
                n++;
            }
        }
    }
    return n;
}

unsigned iotlb_inv(struct vtd_caches *c, const struct iotlb_match *m)
{
    if (m->len && m->has_did && m->has_pasid && (m->len >> 12) <= IOTLB_PROBE_MAX / 3)
        return iotlb_inv_probe(c, m);
    unsigned n = 0;
    for (unsigned i = 0; i < IOTLB_SIZE; i++) {
        struct iotlb_entry *e = &c->iotlb[i];
        if (e->vpn != ~0ULL && iotlb_matches(e, m)) {
            e->vpn = ~0ULL;
            n++;
        }
    }
    return n;
}
