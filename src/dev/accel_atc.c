/* The device TLB (ATS, vtd-reference.md §7) and the one path every engine
 * access takes: look the translation up (ATS translation request on a
 * miss), then touch host memory at the translated address while holding
 * the translation, so that a device-TLB invalidation waits for the access.
 *
 * Entries are keyed by (PASID or none, privilege, page) and hold the
 * translated page base, the page size and the rights of the completion.
 * The completion carries no Global attribute in this model, so no entry is
 * known to be global: an invalidation with the global bit drops matching
 * entries of every PASID (over-invalidating is always safe).
 *
 * The table is set associative (accel_internal.h): a lookup probes one set
 * per page size present (in practice one: 4 KiB), an insertion replaces the
 * least recently used way of its set. Invalidating a range probes the sets
 * of its pages when they are fewer than the sets, and otherwise (and for a
 * global invalidation, which matches every PASID) scans the table; either
 * way every matching entry is dropped before the write side is released. A
 * flush only bumps the epoch that makes entries valid. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/trace.h"
#include "dev/accel_internal.h"

int accel_atc_init(struct accel_atc *a, unsigned n)
{
    unsigned ways = n < ACCEL_ATC_WAYS ? (n ? n : 1) : ACCEL_ATC_WAYS, sets = 1;
    while (sets * 2 <= n / ways && sets * 2 <= (1u << 30) / ways)
        sets *= 2;
    size_t bytes = (size_t)sets * ways * sizeof(*a->e);
    a->e = aligned_alloc(64, (bytes + 63) & ~(size_t)63);   /* a 4-way set: two lines */
    if (a->e)
        memset(a->e, 0, bytes);
    a->n = a->e ? sets * ways : 0;
    a->ways = ways;
    a->set_mask = sets - 1;
    a->epoch = 1;
    a->shifts = 0;
    return a->e ? 0 : -ENOMEM;
}

void accel_atc_fini(struct accel_atc *a)
{
    free(a->e);
    a->e = NULL;
    a->n = 0;
}

static bool valid(const struct accel_atc *a, const struct accel_atc_entry *e)
{
    return e->epoch == a->epoch;
}

unsigned accel_atc_count(const struct accel_atc *a)
{
    unsigned k = 0;
    for (unsigned i = 0; i < a->n; i++)
        k += valid(a, &a->e[i]);
    return k;
}

/* First entry of the set holding page vpn of size 2^shift for the requester
 * (pv, pasid): the page number's low bits, XORed with a per-(requester,
 * size) constant, so that contiguous pages take consecutive sets. */
static struct accel_atc_entry *set_of(const struct accel_atc *a, bool pv, uint32_t pasid,
                                      unsigned shift, uint64_t vpn)
{
    uint64_t h = (pv ? (uint64_t)pasid + 1 : 0) * 0x9E3779B97F4A7C15ULL;
    h ^= shift * 0xC2B2AE3D27D4EB4FULL;
    return &a->e[(size_t)((vpn ^ (h >> 32)) & a->set_mask) * a->ways];
}

static bool same_requester(const struct accel_atc_entry *e, const struct accel_xid *x)
{
    return e->pv == x->pv && e->priv == x->priv && (!x->pv || e->pasid == x->pasid);
}

/* atc.rw held (read or write): an entry translating va with the rights
 * `perm`. Entries of several sizes may overlap (the same translation seen
 * at different times); any of them will do. */
static struct accel_atc_entry *lookup(struct accel_atc *a, const struct accel_xid *x, uint64_t va,
                                      uint8_t perm)
{
    for (uint64_t m = a->shifts; m; m &= m - 1) {
        unsigned s = (unsigned)__builtin_ctzll(m);
        struct accel_atc_entry *set = set_of(a, x->pv, x->pasid, s, va >> s);
        for (unsigned w = 0; w < a->ways; w++) {
            struct accel_atc_entry *e = &set[w];
            if (valid(a, e) && e->shift == s && (e->va >> s) == (va >> s) &&
                same_requester(e, x) && (e->perm & perm))
                return e;
        }
    }
    return NULL;
}

/* Which entries an insertion or an invalidation drops. */
struct who {
    bool pv;
    uint32_t pasid;
    bool any_pasid;       /* pv: every PASID (global invalidation) */
    bool match_priv;      /* insertion: only entries of the same privilege */
    bool priv;
};

static bool who_matches(const struct who *w, const struct accel_atc_entry *e)
{
    if (e->pv != w->pv)
        return false;
    if (w->pv && !w->any_pasid && e->pasid != w->pasid)
        return false;
    return !w->match_priv || e->priv == w->priv;
}

/* atc.rw held for writing: drops every valid entry of `w` overlapping
 * [first, last]; returns how many. Probes the sets of the range's pages of
 * every size present when they are fewer than the sets, else scans (and
 * then recomputes the sizes present). */
static unsigned drop_range(struct accel_atc *a, const struct who *w, uint64_t first, uint64_t last)
{
    unsigned dropped = 0;
    bool scan = w->pv && w->any_pasid;
    uint64_t probes = 0;
    for (uint64_t m = a->shifts; m && !scan; m &= m - 1) {
        unsigned s = (unsigned)__builtin_ctzll(m);
        probes += (last >> s) - (first >> s) + 1;
        scan = probes > a->set_mask;
    }
    if (scan) {
        uint64_t shifts = 0;
        for (unsigned i = 0; i < a->n; i++) {
            struct accel_atc_entry *e = &a->e[i];
            if (!valid(a, e))
                continue;
            uint64_t e_last = e->va + ((1ULL << e->shift) - 1);
            if (who_matches(w, e) && e->va <= last && first <= e_last)
                e->epoch = 0, dropped++;
            else
                shifts |= 1ULL << e->shift;
        }
        a->shifts = shifts;
        return dropped;
    }
    for (uint64_t m = a->shifts; m; m &= m - 1) {
        unsigned s = (unsigned)__builtin_ctzll(m);
        for (uint64_t vpn = first >> s; vpn <= last >> s; vpn++) {
            struct accel_atc_entry *set = set_of(a, w->pv, w->pasid, s, vpn);
            for (unsigned k = 0; k < a->ways; k++) {
                struct accel_atc_entry *e = &set[k];
                if (valid(a, e) && e->shift == s && (e->va >> s) == vpn && who_matches(w, e))
                    e->epoch = 0, dropped++;
            }
        }
    }
    return dropped;
}

/* atc.rw held for writing: drops what the requester had overlapping the
 * page, then takes a free way of the page's set, else its least recently
 * used one. */
static void insert(struct accel_atc *a, const struct accel_xid *x, uint64_t va,
                   const struct vtd_ats_completion *c)
{
    unsigned s = c->page_shift;
    uint64_t mask = (1ULL << s) - 1, base = va & ~mask;
    struct who w = { .pv = x->pv, .pasid = x->pv ? x->pasid : 0, .match_priv = true,
                     .priv = x->priv };
    drop_range(a, &w, base, base | mask);
    struct accel_atc_entry *set = set_of(a, x->pv, x->pasid, s, base >> s), *v = &set[0];
    for (unsigned k = 0; k < a->ways && valid(a, v); k++)
        if (!valid(a, &set[k]) || set[k].used < v->used)
            v = &set[k];
    *v = (struct accel_atc_entry){ .pv = x->pv, .priv = x->priv, .pasid = x->pv ? x->pasid : 0,
                                   .va = base, .hpa = c->addr & ~mask, .shift = (uint8_t)s,
                                   .perm = c->perm, .used = ++a->clock, .epoch = a->epoch };
    a->shifts |= 1ULL << s;
}

void accel_atc_flush(struct accel *d)
{
    pthread_rwlock_wrlock(&d->atc.rw);
    if (++d->atc.epoch == 0) {   /* wrapped: entries of epoch 1 could come back */
        memset(d->atc.e, 0, (size_t)d->atc.n * sizeof(*d->atc.e));
        d->atc.epoch = 1;
    }
    d->atc.shifts = 0;
    d->atc.gen++;
    pthread_rwlock_unlock(&d->atc.rw);
}

/* PCIe ATS Invalidate Request, delivered by the unit with its lock held
 * (vtd-reference.md §4.5, §4.8): drops every entry overlapping [addr, addr +
 * size) of the PASID (all PASIDs when global; entries without PASID for a
 * request without), of either privilege. Taking the write side waits for
 * the engine's access in flight, so the completion below is only sent once
 * no access that used a dropped translation can still land. */
enum vtd_ats_inv_status accel_ats_invalidate(void *opaque, uint16_t sid, bool pv, uint32_t pasid,
                                             bool global, uint64_t addr, uint64_t size)
{
    struct accel *d = opaque;
    trace(dev_atc_inv, "sid=%#x pasid=%s%#x global=%d addr=%#llx size=%#llx", sid, pv ? "" : "-",
          pasid, global, (unsigned long long)addr, (unsigned long long)size);
    (void)sid;
    uint64_t last = size && addr + (size - 1) >= addr ? addr + (size - 1) : UINT64_MAX;
    struct who w = { .pv = pv, .pasid = pv ? pasid : 0, .any_pasid = pv && global };
    pthread_rwlock_wrlock(&d->atc.rw);
    unsigned dropped = drop_range(&d->atc, &w, addr, last);
    d->atc.gen++;
    pthread_rwlock_unlock(&d->atc.rw);
    INC(&d->st.invalidations, 1);
    INC(&d->st.inv_dropped, dropped);
    return LD(&d->inv_never) ? VTD_ATS_INV_TIMEOUT : VTD_ATS_INV_DONE;
}

/* ATS translation request for one page; the completion is cached unless an
 * invalidation arrived since the caller sampled `gen` (the completion may
 * predate it: PCIe ATS requires such a completion to be discarded). */
static enum accel_acc atc_fill(struct accel *d, const struct accel_xid *x, uint64_t va,
                               bool write, uint64_t gen)
{
    struct vtd_req req = { .sid = d->cfg.sid, .pasid_present = x->pv, .pasid = x->pasid,
                           .addr = va & PAGE_MASK, .write = write, .priv = x->priv,
                           .at = VTD_AT_TRANSLATION };
    struct vtd_ats_completion c;
    INC(&d->st.ats_requests, 1);
    INC(&d->st.atc_misses, 1);
    vtd_ats_translate(d->cfg.iommu, &req, &c);
    trace(dev_ats_miss, "sid=%#x pasid=%s%#x va=%#llx -> status %d pa=%#llx perm=%u", d->cfg.sid,
          req.pasid_present ? "" : "-", req.pasid, (unsigned long long)req.addr, c.status,
          (unsigned long long)c.addr, c.perm);
    if (c.status == VTD_ATS_UNSUPPORTED)
        return ACC_UNSUPPORTED;
    if (c.status == VTD_ATS_NO_ACCESS)
        return ACC_PAGE;
    if (c.page_shift < PAGE_SHIFT || c.page_shift > 39)
        return ACC_UNSUPPORTED;   /* not a page size this device can hold */
    pthread_rwlock_wrlock(&d->atc.rw);
    if (d->atc.gen == gen)
        insert(&d->atc, x, va, &c);
    pthread_rwlock_unlock(&d->atc.rw);
    if (!(c.perm & (write ? VTD_PERM_W : VTD_PERM_R)))
        return ACC_PAGE;          /* read-only translation for a write: ask for the right */
    return ACC_OK;
}

static void watch(struct accel *d, uint64_t hpa, const struct accel_span *s)
{
    accel_dma_watch_fn fn = __atomic_load_n(&d->watch, __ATOMIC_ACQUIRE);
    if (fn)
        fn(d->watch_opaque, hpa, s->len, s->write);
}

/* Without ATS (or without an IOMMU) every access is an untranslated
 * request; the unit records any fault itself (non-recoverable). */
static enum accel_acc io_untranslated(struct accel *d, const struct accel_xid *x,
                                      struct accel_span *s, unsigned n, accel_io_fn fn,
                                      void *arg, uint64_t *fva)
{
    for (unsigned i = 0; i < n; i++) {
        uint64_t hpa = s[i].va;
        if (d->cfg.iommu) {
            struct vtd_req req = { .sid = d->cfg.sid, .pasid_present = x->pv, .pasid = x->pasid,
                                   .addr = s[i].va, .write = s[i].write, .priv = x->priv };
            struct vtd_result r;
            vtd_translate(d->cfg.iommu, &req, &r);
            hpa = r.addr;
            if (r.fault || r.blocked)
                hpa = HPA_INVALID;
        }
        s[i].hva = hpa == HPA_INVALID ? NULL : mem_ptr(d->cfg.mem, hpa, s[i].len);
        if (s[i].hva)
            watch(d, hpa, &s[i]);
        if (!s[i].hva) {
            *fva = s[i].va;
            return ACC_UNSUPPORTED;
        }
    }
    fn(s, n, arg);
    return ACC_OK;
}

/* atc.rw read held: fills every span's host pointer; the index of the first
 * span without a usable translation, n when all have one, or -1 when a
 * translation leads outside host memory. */
static int resolve(struct accel *d, const struct accel_xid *x, struct accel_span *s, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct accel_atc_entry *e =
            lookup(&d->atc, x, s[i].va, s[i].write ? VTD_PERM_W : VTD_PERM_R);
        if (!e)
            return (int)i;
        e->used = ++d->atc.clock;
        uint64_t hpa = e->hpa + (s[i].va & ((1ULL << e->shift) - 1));
        s[i].hva = mem_ptr(d->cfg.mem, hpa, s[i].len);
        if (!s[i].hva)
            return -1 - (int)i;
        watch(d, hpa, &s[i]);
    }
    return (int)n;
}

enum accel_acc accel_io_groups(struct accel *d, const struct accel_xid *x, struct accel_span *s,
                               unsigned ng, unsigned g, accel_io_fn fn, void *arg, unsigned *done,
                               uint64_t *fva, bool *fwrite)
{
    unsigned filled = 0;   /* spans of the first group translated by ATS */
    *fwrite = false;
    *done = 1;
    if (!LD(&d->ats) || !d->cfg.iommu)
        return io_untranslated(d, x, s, g, fn, arg, fva);
    for (unsigned t = 0; t < ACCEL_XLATE_TRIES; t++) {
        pthread_rwlock_rdlock(&d->atc.rw);
        int k = resolve(d, x, s, ng * g);
        unsigned first_bad = k < 0 ? (unsigned)(-1 - k) : (unsigned)k, groups = first_bad / g;
        if (groups)
            fn(s, groups * g, arg);
        uint64_t gen = d->atc.gen;
        pthread_rwlock_unlock(&d->atc.rw);
        if (groups) {
            INC(&d->st.atc_hits, groups * g - (unsigned)__builtin_popcount(filled));
            *done = groups;
            return ACC_OK;
        }
        if (k < 0) {
            *fva = s[first_bad].va;
            return ACC_UNSUPPORTED;
        }
        filled |= 1u << k;
        enum accel_acc r = atc_fill(d, x, s[k].va, s[k].write, gen);
        if (r != ACC_OK) {
            *fva = s[k].va, *fwrite = s[k].write;
            return r;
        }
    }
    return ACC_AGAIN;
}

enum accel_acc accel_io(struct accel *d, const struct accel_xid *x, struct accel_span *s,
                        unsigned n, accel_io_fn fn, void *arg, uint64_t *fva, bool *fwrite)
{
    unsigned done;
    return accel_io_groups(d, x, s, 1, n, fn, arg, &done, fva, fwrite);
}
