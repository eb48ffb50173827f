/* Second-level shadowing (svm=off, issue 6 item 4): a guest PASID entry
 * with PGTT=2 (vtd-reference §2.10) at the RID_PASID becomes a host paging
 * domain (iommufd_hwpt_alloc_paging) holding the guest's IOVA -> GPA
 * mappings, the host kernel turning each GPA into the host frame behind it.
 * Caching mode (§1.3) makes the guest invalidate after every change to its
 * tables; each IOTLB invalidation (§4.4) that covers a shadowed domain's
 * DID re-walks the guest's second-level table over the invalidated range
 * (page-selective) or entirely (domain-selective, global, a new binding)
 * and brings the host mappings in line: pages that appeared or changed are
 * mapped, pages gone or changed are unmapped (iommufd invalidates the host
 * IOTLB and device TLB then). The viommu keeps what it mapped (a hash of
 * IOVA page -> GPA page and write permission), as QEMU keeps its IOVA tree.
 *
 * Validation (§3.2, §3.3, with the virtual unit's capabilities): an entry
 * is present when R or W is set; permissions are ANDed down the walk; an
 * entry with a reserved bit set (address bits above the unit's HAW, SNP
 * without ECAP.SC, TM without ECAP.DT, PS in any non-leaf level since
 * CAP.SLLPS is 0) maps nothing below it; a table outside guest RAM maps
 * nothing; a leaf whose GPA is outside guest RAM is never mapped; a leaf
 * granting write without read is not mapped (a host second-level leaf
 * always grants read); nothing at or above 2^min(AGAW, MGAW + 1). These
 * leaves and subtrees are counted (viommu_stats.sl_refused), never host
 * state: a device can only ever reach the guest's own RAM.
 *
 * Bounds: a walk reads at most VIOMMU_SL_WALK_TABLES tables; when a guest's
 * tables need more (aliasing, absurd sizes) the mappings not reached are
 * dropped (fail closed), never kept stale. The shadow holds at most twice
 * the guest's RAM pages (at least 4096); iommufd bounds the host tables.
 *
 * Decision, an unmap the guest never invalidates (a guest bug): the host
 * mapping stays until an invalidation covering it arrives, as hardware may
 * keep using a cached translation until software invalidates (§1.3, §4.4).
 * The device can then still reach the old page, which is guest RAM. */
#include <stdlib.h>
#include <string.h>

#include "lib/hw.h"
#include "viommu/internal.h"

#define WALK_TABLES VIOMMU_SL_WALK_TABLES
#define ADDR_MASK   0x000FFFFFFFFFF000ULL
#define SL_R 1u
#define SL_W 2u

struct sl_ent {
    uint64_t key;            /* IOVA page number + 1; 0: empty slot */
    uint64_t val;            /* GPA page number << 1 | write */
    uint32_t gen;            /* the last walk that saw it */
};

struct viommu_sl {
    uint64_t root;           /* guest second-level root (GPA) */
    unsigned levels;         /* 3 or 4 (AW + 2) */
    struct sl_ent *tab;
    uint64_t cap, n, max;    /* slots (a power of two), entries, most entries */
    uint32_t gen;
};

/* ---- the shadow: open addressing, linear probing ------------------------ */
static uint64_t slot_of(const struct viommu_sl *s, uint64_t key)
{
    uint64_t h = key * 0x9E3779B97F4A7C15ULL;
    return (h ^ (h >> 29)) & (s->cap - 1);
}

static struct sl_ent *lookup(struct viommu_sl *s, uint64_t pfn)
{
    for (uint64_t i = slot_of(s, pfn + 1);; i = (i + 1) & (s->cap - 1)) {
        if (!s->tab[i].key)
            return NULL;
        if (s->tab[i].key == pfn + 1)
            return &s->tab[i];
    }
}

static bool grow(struct viommu_sl *s)
{
    struct viommu_sl t = *s;
    t.cap = s->cap * 2;
    if (!(t.tab = calloc(t.cap, sizeof(*t.tab))))
        return false;
    for (uint64_t i = 0; i < s->cap; i++)
        if (s->tab[i].key) {
            uint64_t j = slot_of(&t, s->tab[i].key);
            while (t.tab[j].key)
                j = (j + 1) & (t.cap - 1);
            t.tab[j] = s->tab[i];
        }
    free(s->tab);
    *s = t;
    return true;
}

static bool insert(struct viommu_sl *s, uint64_t pfn, uint64_t val)
{
    struct sl_ent *e = lookup(s, pfn);
    if (!e) {
        if (s->n >= s->max || (2 * (s->n + 1) > s->cap && !grow(s)))
            return false;
        uint64_t i = slot_of(s, pfn + 1);
        while (s->tab[i].key)
            i = (i + 1) & (s->cap - 1);
        e = &s->tab[i];
        e->key = pfn + 1;
        s->n++;
    }
    e->val = val, e->gen = s->gen;
    return true;
}

/* Backward-shift deletion keeps every probe sequence unbroken. */
static void erase(struct viommu_sl *s, uint64_t pfn)
{
    struct sl_ent *e = lookup(s, pfn);
    if (!e)
        return;
    uint64_t i = (uint64_t)(e - s->tab), j = i;
    for (;;) {
        j = (j + 1) & (s->cap - 1);
        if (!s->tab[j].key)
            break;
        uint64_t home = slot_of(s, s->tab[j].key);
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            s->tab[i] = s->tab[j];
            i = j;
        }
    }
    s->tab[i] = (struct sl_ent){ 0 };
    s->n--;
}

struct viommu_sl *viommu_sl_new(struct viommu *v, uint64_t root, unsigned levels)
{
    struct viommu_sl *s = calloc(1, sizeof(*s));
    uint64_t pages = gpa_map_size(v->cfg.guest_ram) / PAGE_SIZE;
    if (!s || !(s->tab = calloc(1024, sizeof(*s->tab)))) {
        free(s);
        return NULL;
    }
    s->root = root, s->levels = levels, s->cap = 1024;
    s->max = 2 * pages > 4096 ? 2 * pages : 4096;
    return s;
}

void viommu_sl_free(struct viommu_sl *s)
{
    if (s)
        free(s->tab);
    free(s);
}

bool viommu_sl_same(const struct viommu_sl *s, uint64_t root, unsigned levels)
{
    return s->root == root && s->levels == levels;
}

/* ---- the walk ------------------------------------------------------------ */
struct op {
    uint64_t pfn, gpfn;
    bool write;
};

struct ops {
    struct op *v;
    size_t n, cap;
};

static bool push(struct ops *o, uint64_t pfn, uint64_t gpfn, bool write)
{
    if (o->n == o->cap) {
        size_t c = o->cap ? 2 * o->cap : 64;
        struct op *nv = realloc(o->v, c * sizeof(*nv));
        if (!nv)
            return false;
        o->v = nv, o->cap = c;
    }
    o->v[o->n++] = (struct op){ pfn, gpfn, write };
    return true;
}

struct walk {
    struct viommu *v;
    struct viommu_sl *s;
    uint64_t lo, hi;             /* IOVA page range */
    uint64_t rsvd;               /* reserved in every entry */
    unsigned tables;             /* tables read so far */
    uint64_t (*buf)[512];        /* one table per level */
    struct ops map, unmap;
    bool oom, cut;               /* out of memory / of table reads */
};

/* A present, valid leaf: keep, or queue its (re)mapping. */
static void leaf(struct walk *w, uint64_t pfn, uint64_t gpa, unsigned perm)
{
    const struct gpa_map *ram = w->v->cfg.guest_ram;
    if (!(perm & SL_R) || gpa >= gpa_map_size(ram) || gpa_to_hpa(ram, gpa) == HPA_INVALID) {
        w->v->stats.sl_refused++;
        return;
    }
    uint64_t val = (gpa >> 12) << 1 | ((perm & SL_W) ? 1 : 0);
    struct sl_ent *e = lookup(w->s, pfn);
    if (e && e->val == val) {
        e->gen = w->s->gen;
        return;
    }
    if (e) {   /* changed: unmapped first, then mapped anew */
        e->gen = w->s->gen;
        w->oom |= !push(&w->unmap, pfn, 0, false);
    }
    w->oom |= !push(&w->map, pfn, gpa >> 12, perm & SL_W);
}

static void walk_table(struct walk *w, uint64_t table, unsigned level, uint64_t base,
                       unsigned perm)
{
    uint64_t *e = w->buf[level - 1];
    if (w->tables == WALK_TABLES) {
        w->cut = true;
        return;
    }
    if (gpa_read(w->v->cfg.guest_ram, table, e, 4096)) {
        w->v->stats.sl_refused++;   /* a table outside guest RAM: nothing below is mapped */
        return;
    }
    w->tables++;
    unsigned shift = 9 * (level - 1);   /* IOVA pages per entry: 1 << shift */
    uint64_t first = w->lo > base ? (w->lo - base) >> shift : 0;
    uint64_t last = ((w->hi - 1 - base) >> shift) + 1;
    for (uint64_t i = first; i < 512 && i < last; i++) {
        uint64_t x = e[i];
        if (!(x & (SL_R | SL_W)))
            continue;
        uint64_t rsvd = w->rsvd | (level >= 2 ? HW_FM(SL_PTE, PS) : 0);
        if (x & rsvd) {
            w->v->stats.sl_refused++;
            continue;
        }
        unsigned p = perm & (unsigned)(x & (SL_R | SL_W));
        uint64_t pfn = base + (i << shift);
        if (level == 1)
            leaf(w, pfn, x & ADDR_MASK, p);
        else
            walk_table(w, x & ADDR_MASK, level - 1, pfn, p);
    }
}

/* Entries the walk did not see (gone from the guest's table, or not
 * reached) within [lo, hi): queued for unmapping. */
static void sweep(struct walk *w)
{
    struct viommu_sl *s = w->s;
    if (w->hi - w->lo <= s->cap) {
        for (uint64_t pfn = w->lo; pfn < w->hi; pfn++) {
            struct sl_ent *e = lookup(s, pfn);
            if (e && e->gen != s->gen)
                w->oom |= !push(&w->unmap, pfn, 0, false);
        }
        return;
    }
    for (uint64_t i = 0; i < s->cap; i++) {
        uint64_t pfn = s->tab[i].key - 1;
        if (s->tab[i].key && s->tab[i].gen != s->gen && pfn >= w->lo && pfn < w->hi)
            w->oom |= !push(&w->unmap, pfn, 0, false);
    }
}

static int cmp_pfn(const void *a, const void *b)
{
    uint64_t x = ((const struct op *)a)->pfn, y = ((const struct op *)b)->pfn;
    return x < y ? -1 : x > y;
}

/* Runs of contiguous pages, one iommufd call each. */
static void apply_unmaps(struct walk *w, uint32_t hw)
{
    struct ops *u = &w->unmap;
    if (u->n > 1)
        qsort(u->v, u->n, sizeof(*u->v), cmp_pfn);
    for (size_t i = 0, j; i < u->n; i = j) {
        for (j = i + 1; j < u->n && u->v[j].pfn == u->v[j - 1].pfn + 1; j++)
            ;
        uint64_t bytes = 0;
        if (iommufd_unmap(w->v->cfg.ifd, hw, u->v[i].pfn << 12, (j - i) << 12, &bytes))
            w->v->stats.sl_errors++, w->v->stats.host_inv_errors++;
        w->v->stats.sl_unmaps += bytes >> 12;
        w->v->stats.host_invalidations += bytes != 0;   /* iommufd invalidated the host */
        for (size_t k = i; k < j; k++)
            erase(w->s, u->v[k].pfn);
    }
}

static bool map_run(struct walk *w, uint32_t hw, const struct op *o, size_t n)
{
    if (iommufd_map(w->v->cfg.ifd, hw, o->pfn << 12, o->gpfn << 12, n << 12, o->write))
        return false;
    for (size_t k = 0; k < n; k++)
        insert(w->s, o[k].pfn, o[k].gpfn << 1 | o[k].write);   /* room checked by the caller */
    w->v->stats.sl_maps += n;
    return true;
}

/* Runs of pages contiguous in IOVA and GPA with one permission; a run the
 * host refuses is retried page by page, and what still fails stays
 * unmapped (counted). */
static void apply_maps(struct walk *w, uint32_t hw)
{
    struct ops *m = &w->map;
    for (size_t i = 0, j; i < m->n; i = j) {
        for (j = i + 1; j < m->n && m->v[j].pfn == m->v[j - 1].pfn + 1 &&
                        m->v[j].gpfn == m->v[j - 1].gpfn + 1 && m->v[j].write == m->v[i].write;
             j++)
            ;
        if (w->s->n + (j - i) > w->s->max) {   /* the shadow is full: the rest stays out */
            w->v->stats.sl_refused += m->n - i;
            return;
        }
        if (map_run(w, hw, &m->v[i], j - i))
            continue;
        for (size_t k = i; k < j; k++)
            if (!map_run(w, hw, &m->v[k], 1))
                w->v->stats.sl_errors++;
    }
}

/* The guest's addressable IOVA pages: 2^min(AGAW, MGAW + 1) bytes. */
static uint64_t iova_pages(const struct viommu *v, const struct viommu_sl *s)
{
    unsigned agaw = 12 + 9 * s->levels;
    unsigned mgaw = (unsigned)HW_FV(CAP, MGAW, vtd_unit_config(v->vu)->cap) + 1;
    return 1ULL << ((agaw < mgaw ? agaw : mgaw) - 12);
}

void viommu_sl_sync(struct viommu *v, struct viommu_sl *s, uint32_t hw, uint64_t first,
                    uint64_t end)
{
    const struct vtd_config *vc = vtd_unit_config(v->vu);
    uint64_t top = iova_pages(v, s);
    struct walk w = { .v = v, .s = s, .lo = first, .hi = end < top ? end : top };
    if (w.lo >= w.hi)
        return;
    w.rsvd = (ADDR_MASK | 0xFFFULL) & ~((1ULL << vc->haw) - 1);
    if (!HW_FV(ECAP, SC, vc->ecap))
        w.rsvd |= HW_FM(SL_PTE, SNP);
    if (!HW_FV(ECAP, DT, vc->ecap))
        w.rsvd |= HW_FM(SL_PTE, TM);
    v->stats.sl_syncs++;
    s->gen++;
    if (!(w.buf = malloc(sizeof(*w.buf) * s->levels))) {
        w.oom = true;
    } else {
        walk_table(&w, s->root, s->levels, 0, SL_R | SL_W);
        v->stats.sl_refused += w.cut;   /* the rest was not reached: fails closed below */
    }
    if (w.oom) {   /* no memory to compare: drop everything in range, map nothing */
        w.map.n = w.unmap.n = 0;
        s->gen++;
    }
    sweep(&w);
    apply_unmaps(&w, hw);
    if (!w.oom)
        apply_maps(&w, hw);
    free(w.buf);
    free(w.map.v);
    free(w.unmap.v);
}
