/* What each invalidation drops (vtd-reference.md §4.10). There are no
 * paging-structure caches (the IOTLB hit path does not need them, see
 * README "Caches"), so the invalidation hint IH has nothing to keep. */
#include "lib/trace.h"
#include "vtd/internal.h"

#define KIND(k) (1u << (k))
#define KINDS_ALL (KIND(IOTLB_SL) | KIND(IOTLB_FL) | KIND(IOTLB_NESTED))

void inv_context_locked(struct vtd_unit *u, enum vtd_cc_gran g, uint16_t did, uint16_t sid,
                        unsigned fm)
{
    unsigned n = ctx_cache_inv(&u->cache, g, did, sid, fm);
    trace(vtd_cache_inv, "context gran=%d did=%u sid=%#x fm=%u dropped=%u", g, did, sid, fm, n);
}

void inv_pasid_cache_locked(struct vtd_unit *u, enum vtd_pc_gran g, uint16_t did, uint32_t pasid)
{
    unsigned n = pasid_cache_inv(&u->cache, g, did, pasid);
    trace(vtd_cache_inv, "pasid gran=%d did=%u pasid=%#x dropped=%u", g, did, pasid, n);
}

/* IOTLB descriptor/register (§4.4): global and domain-selective drop every
 * kind; page-selective drops the domain's second-level entries in the range
 * and, since a second-level change can alter any nested result (which is
 * tagged by first-level input address), all nested entries of the domain.
 * First-level-only entries are untouched (type 0x6 covers them). */
void inv_iotlb_locked(struct vtd_unit *u, enum vtd_iotlb_gran g, uint16_t did, uint64_t addr,
                      unsigned am, bool ih)
{
    (void)ih;
    struct iotlb_match m = { .kind_mask = KINDS_ALL, .has_did = g != VTD_IOTLB_GLOBAL, .did = did };
    unsigned n;
    if (g == VTD_IOTLB_PAGE) {
        m.kind_mask = KIND(IOTLB_SL);
        m.addr = addr & ~((4096ULL << am) - 1);
        m.len = 4096ULL << am;
        n = iotlb_inv(&u->cache, &m);
        struct iotlb_match nested = { .has_did = true, .did = did, .kind_mask = KIND(IOTLB_NESTED) };
        n += iotlb_inv(&u->cache, &nested);
    } else {
        n = iotlb_inv(&u->cache, &m);
    }
    trace(vtd_cache_inv, "iotlb gran=%d did=%u addr=%#llx am=%u dropped=%u", g, did,
          (unsigned long long)addr, am, n);
}

/* PASID-based IOTLB (§4.8): first-level and nested entries of (DID, PASID);
 * PASID-selective keeps global mappings (unless keep_global is false: a
 * page-selective request performed PASID-wide must still drop them, since
 * an invalidation may do more than asked, never less), page-selective drops
 * the range whether global or not (decision: the rev-3 descriptor has no GL
 * bit). */
void inv_piotlb_locked(struct vtd_unit *u, bool page, uint16_t did, uint32_t pasid,
                       uint64_t addr, unsigned am, bool ih, bool keep_global)
{
    (void)ih;
    struct iotlb_match m = { .has_did = true, .did = did, .has_pasid = true, .pasid = pasid,
                             .kind_mask = KIND(IOTLB_FL) | KIND(IOTLB_NESTED),
                             .keep_global = !page && keep_global };
    if (page) {
        m.addr = addr & ~((4096ULL << am) - 1);
        m.len = 4096ULL << am;
    }
    unsigned n = iotlb_inv(&u->cache, &m);
    trace(vtd_cache_inv, "piotlb %s did=%u pasid=%#x addr=%#llx am=%u dropped=%u",
          page ? "page" : "pasid", did, pasid, (unsigned long long)addr, am, n);
}

void vtd_inv_context(struct vtd_unit *u, enum vtd_cc_gran g, uint16_t did, uint16_t sid, unsigned fm)
{
    spin_lock(&u->lock);
    inv_context_locked(u, g, did, sid, fm);
    spin_unlock(&u->lock);
}

void vtd_inv_pasid_cache(struct vtd_unit *u, enum vtd_pc_gran g, uint16_t did, uint32_t pasid)
{
    spin_lock(&u->lock);
    inv_pasid_cache_locked(u, g, did, pasid);
    spin_unlock(&u->lock);
}

void vtd_inv_iotlb(struct vtd_unit *u, enum vtd_iotlb_gran g, uint16_t did, uint64_t addr,
                   unsigned am, bool ih)
{
    spin_lock(&u->lock);
    inv_iotlb_locked(u, g, did, addr, am, ih);
    spin_unlock(&u->lock);
}

void vtd_inv_piotlb(struct vtd_unit *u, bool page, uint16_t did, uint32_t pasid,
                    uint64_t addr, unsigned am, bool ih)
{
    spin_lock(&u->lock);
    inv_piotlb_locked(u, page, did, pasid, addr, am, ih, true);
    spin_unlock(&u->lock);
}
