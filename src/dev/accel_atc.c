/* The device TLB (ATS, vtd-reference.md §7) and the one path every engine
 * access takes: look the translation up (ATS translation request on a
 * miss), then touch host memory at the translated address while holding
 * the translation, so that a device-TLB invalidation waits for the access.
 *
 * Entries are keyed by (PASID or none, privilege, page) and hold the
 * translated page base, the page size and the rights of the completion.
 * The completion carries no Global attribute in this model, so no entry is
 * known to be global: an invalidation with the global bit drops matching
 * entries of every PASID (over-invalidating is always safe). */
#include <errno.h>
#include <stdlib.h>

#include "dev/accel_internal.h"

int accel_atc_init(struct accel_atc *a, unsigned n)
{
    a->e = calloc(n, sizeof(*a->e));
    a->n = a->e ? n : 0;
    return a->e ? 0 : -ENOMEM;
}

void accel_atc_fini(struct accel_atc *a)
{
    free(a->e);
    a->e = NULL;
    a->n = 0;
}

static bool same_requester(const struct accel_atc_entry *e, const struct accel_xid *x)
{
    return e->pv == x->pv && e->priv == x->priv && (!x->pv || e->pasid == x->pasid);
}

static bool covers(const struct accel_atc_entry *e, uint64_t va)
{
    return ((va ^ e->va) >> e->shift) == 0;
}

/* atc.rw held (read or write). */
static struct accel_atc_entry *lookup(struct accel_atc *a, const struct accel_xid *x, uint64_t va)
{
    for (unsigned i = 0; i < a->n; i++) {
        struct accel_atc_entry *e = &a->e[i];
        if (e->valid && same_requester(e, x) && covers(e, va))
            return e;
    }
    return NULL;
}

static bool overlaps(const struct accel_atc_entry *e, uint64_t base, unsigned shift)
{
    unsigned m = e->shift > shift ? e->shift : shift;
    return ((e->va ^ base) >> m) == 0;
}

/* atc.rw held for writing: drops what the requester had overlapping the
 * page, then takes a free entry, else the least recently used one. */
static void insert(struct accel_atc *a, const struct accel_xid *x, uint64_t va,
                   const struct vtd_ats_completion *c)
{
    uint64_t mask = (1ULL << c->page_shift) - 1;
    struct accel_atc_entry *v = NULL;
    for (unsigned i = 0; i < a->n; i++) {
        struct accel_atc_entry *t = &a->e[i];
        if (t->valid && same_requester(t, x) && overlaps(t, va & ~mask, c->page_shift))
            t->valid = false;
        if (!v || (v->valid && (!t->valid || t->used < v->used)))
            v = t;
    }
    if (!v)
        return;
    *v = (struct accel_atc_entry){ .valid = true, .pv = x->pv, .priv = x->priv,
                                   .pasid = x->pv ? x->pasid : 0, .va = va & ~mask,
                                   .hpa = c->addr & ~mask, .shift = c->page_shift,
                                   .perm = c->perm, .used = ++a->clock };
}

void accel_atc_flush(struct accel *d)
{
    pthread_rwlock_wrlock(&d->atc.rw);
    for (unsigned i = 0; i < d->atc.n; i++)
        d->atc.e[i].valid = false;
    d->atc.gen++;
    pthread_rwlock_unlock(&d->atc.rw);
}

/* PCIe ATS Invalidate Request, delivered by the unit with its lock held
 * (vtd-reference.md §4.5, §4.8): drops every entry overlapping [addr, addr +
 * size) of the PASID (all PASIDs when global; entries without PASID for a
 * request without). Taking the write side waits for the engine's access in
 * flight, so the completion below is only sent once no access that used a
 * dropped translation can still land. */
enum vtd_ats_inv_status accel_ats_invalidate(void *opaque, uint16_t sid, bool pv, uint32_t pasid,
                                             bool global, uint64_t addr, uint64_t size)
{
    struct accel *d = opaque;
    (void)sid;
    uint64_t last = size && addr + (size - 1) >= addr ? addr + (size - 1) : UINT64_MAX;
    unsigned dropped = 0;
    pthread_rwlock_wrlock(&d->atc.rw);
    for (unsigned i = 0; i < d->atc.n; i++) {
        struct accel_atc_entry *e = &d->atc.e[i];
        uint64_t e_last = e->va + ((1ULL << e->shift) - 1);
        bool who = pv ? e->pv && (global || e->pasid == pasid) : !e->pv;
        if (e->valid && who && e->va <= last && addr <= e_last)
            e->valid = false, dropped++;
    }
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
        struct accel_atc_entry *e = lookup(&d->atc, x, s[i].va);
        if (!e || !(e->perm & (s[i].write ? VTD_PERM_W : VTD_PERM_R)))
            return (int)i;
        e->used = ++d->atc.clock;
        uint64_t hpa = e->hpa + (s[i].va & ((1ULL << e->shift) - 1));
        s[i].hva = mem_ptr(d->cfg.mem, hpa, s[i].len);
        if (!s[i].hva)
            return -1 - (int)i;
    }
    return (int)n;
}

enum accel_acc accel_io(struct accel *d, const struct accel_xid *x, struct accel_span *s,
                        unsigned n, accel_io_fn fn, void *arg, uint64_t *fva, bool *fwrite)
{
    unsigned filled = 0;
    *fwrite = false;
    if (!LD(&d->ats) || !d->cfg.iommu)
        return io_untranslated(d, x, s, n, fn, arg, fva);
    for (unsigned t = 0; t < ACCEL_XLATE_TRIES; t++) {
        pthread_rwlock_rdlock(&d->atc.rw);
        int k = resolve(d, x, s, n);
        if (k == (int)n)
            fn(s, n, arg);
        uint64_t gen = d->atc.gen;
        pthread_rwlock_unlock(&d->atc.rw);
        if (k == (int)n) {
            INC(&d->st.atc_hits, n - (unsigned)__builtin_popcount(filled));
            return ACC_OK;
        }
        if (k < 0) {
            *fva = s[-1 - k].va;
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
