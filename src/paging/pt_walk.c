/* The CPU's linear-address translation for 4- and 5-level paging (SDM vol. 3
 * §4.5): reserved-bit checks (Tables 4-15 to 4-20), access rights (§4.6),
 * accessed/dirty flags (§4.8) and the #PF error code (§4.7). */
#include "lib/bits.h"
#include "paging/pt.h"

#define PT_MAX_LEVELS 5
#define PT_AD_RETRIES 16        /* cmpxchg attempts per entry */
#define PT_WALK_TRIES 4         /* walks restarted after an entry changed */

bool pt_canonical(uint64_t va, int levels)
{
    if (levels != 4 && levels != 5)
        return false;
    /* Bits 63:47 (63:56 with 5-level paging) all equal (SDM vol. 1 §3.3.7.1). */
    int64_t s = (int64_t)va;
    unsigned top = levels == 5 ? 56 : 47;
    s >>= top;
    return s == 0 || s == -1;
}

struct walk_path {
    uint64_t ea[PT_MAX_LEVELS];     /* entry addresses, root level first */
    uint64_t e[PT_MAX_LEVELS];      /* entry values as read */
    int n;                          /* entries used; e[n - 1] is the leaf */
    int leaf_level;
    bool rw, us, xd;                /* AND of R/W, AND of U/S, OR of XD */
};

/* Bits that must be 0 in a present entry at `level` (SDM Tables 4-15 to
 * 4-20): 51:MAXPHYADDR everywhere; XD (63) unless IA32_EFER.NXE; PS in a
 * PML5E/PML4E; PS in a PDPTE without 1-GByte pages; 29:13 of a 1-GByte
 * leaf; 20:13 of a 2-MByte leaf. */
static uint64_t rsvd_mask(int level, uint64_t e, const struct pt_access *acc, unsigned m)
{
    uint64_t mask = m < 52 ? BITS_MASK(51, m) : 0;
    if (!acc->nxe)
        mask |= PTE_XD;
    if (level >= 4)
        mask |= PTE_PS;
    else if (level == 3 && (e & PTE_PS))
        mask |= acc->gbpages ? BITS_MASK(29, 13) : PTE_PS;
    else if (level == 2 && (e & PTE_PS))
        mask |= BITS_MASK(20, 13);
    return mask;
}

static unsigned maxphyaddr(const struct pt_access *acc)
{
    if (acc->maxphyaddr <= 0 || acc->maxphyaddr > 52)
        return 52;
    return acc->maxphyaddr < 12 ? 12 : (unsigned)acc->maxphyaddr;
}

/* Error-code bits describing the access itself (SDM §4.7): W for a data
 * write, U for a user-mode access, I for an instruction fetch when
 * CR4.SMEP = 1 or IA32_EFER.NXE = 1 (4-/5-level paging has CR4.PAE = 1). */
static uint32_t access_code(const struct pt_access *acc)
{
    uint32_t code = 0;
    if (acc->write && !acc->exec)
        code |= PF_W;
    if (acc->user)
        code |= PF_U;
    if (acc->exec && (acc->smep || acc->nxe))
        code |= PF_I;
    return code;
}

/* Access rights (SDM §4.6.1): rw/us are the AND over all levels, xd the OR
 * (only set with NXE, else it was a reserved-bit fault). */
static bool rights_ok(const struct pt_access *acc, const struct walk_path *w)
{
    if (acc->exec) {
        if (acc->nxe && w->xd)
            return false;
        return acc->user ? w->us : !(w->us && acc->smep);
    }
    if (acc->user)
        return w->us && (!acc->write || w->rw);
    if (w->us && acc->smap && !acc->ac)
        return false;
    return !(acc->write && acc->wp && !w->rw);
}

/* Reads the entries for va from the root to the leaf (at most pt->levels
 * reads). False with res filled on a not-present or reserved-bit fault or a
 * table outside memory. */
static bool walk_tables(const struct pt *pt, uint64_t va, const struct pt_access *acc,
                        uint32_t code, struct walk_path *w, struct pt_walk_result *res)
{
    unsigned m = maxphyaddr(acc);
    uint64_t table = pt->root & PTE_ADDR_MASK;
    *w = (struct walk_path){ .rw = true, .us = true };
    for (int l = pt->levels; l >= 1; l--) {
        uint64_t ea = table + ((va >> (12 + 9 * (l - 1))) & 511) * 8, e;
        if (pt->mem.read64(pt->mem.ctx, ea, &e)) {
            res->mem_error = true;
            return false;
        }
        if (!(e & PTE_P)) {
            res->pf_error = code;
            return false;
        }
        if (e & rsvd_mask(l, e, acc, m)) {
            res->pf_error = code | PF_P | PF_RSVD;
            return false;
        }
        w->ea[w->n] = ea;
        w->e[w->n++] = e;
        w->rw = w->rw && (e & PTE_RW);
        w->us = w->us && (e & PTE_US);
        w->xd = w->xd || (e & PTE_XD);
        if (l == 1 || (e & PTE_PS)) {   /* PS at levels 5/4 faulted above */
            w->leaf_level = l;
            return true;
        }
        table = e & PTE_ADDR_MASK;
    }
    return false;                       /* not reached: level 1 is a leaf */
}

/* Sets A in every entry used and D in the leaf of a write (SDM §4.8) with a
 * locked compare-and-exchange, as the CPU does. The same entry may appear at
 * several levels (recursive tables): a failed exchange whose entry differs
 * only in A/D is retried. Returns 0, 1 when an entry changed otherwise (walk
 * again) or -1 when an entry lies outside memory. */
static int update_ad(const struct pt *pt, struct walk_path *w, bool write)
{
    for (int i = 0; i < w->n; i++) {
        uint64_t need = PTE_A | (write && i == w->n - 1 ? PTE_D : 0);
        uint64_t e = w->e[i];
        for (int t = 0; (e & need) != need; t++) {
            bool ok = false;
            if (t == PT_AD_RETRIES)
                return 1;
            if (pt->mem.cmpxchg64(pt->mem.ctx, w->ea[i], e, e | need, &ok))
                return -1;
            if (ok) {
                e |= need;
                break;
            }
            if (pt->mem.read64(pt->mem.ctx, w->ea[i], &e))
                return -1;
            if ((e ^ w->e[i]) & ~(PTE_A | PTE_D))
                return 1;
        }
        w->e[i] = e;
    }
    return 0;
}

static void walk_done(uint64_t va, const struct walk_path *w, struct pt_walk_result *res)
{
    unsigned shift = 12 + 9 * (unsigned)(w->leaf_level - 1);
    uint64_t off = (1ULL << shift) - 1;
    res->ok = true;
    res->size = (enum pt_page_size)shift;
    res->leaf = w->e[w->n - 1];
    res->pa = (res->leaf & PTE_ADDR_MASK & ~off) | (va & off);
}

void pt_walk(const struct pt *pt, uint64_t va, const struct pt_access *acc,
             struct pt_walk_result *res)
{
    uint32_t code = access_code(acc);
    *res = (struct pt_walk_result){ .ok = false };
    if (!pt_canonical(va, pt->levels)) {
        res->noncanonical = true;
        return;
    }
    for (int attempt = 0; attempt < PT_WALK_TRIES; attempt++) {
        struct walk_path w;
        if (!walk_tables(pt, va, acc, code, &w, res))
            return;
        if (!rights_ok(acc, &w)) {
            res->pf_error = code | PF_P;
            return;
        }
        int rc = acc->set_ad ? update_ad(pt, &w, acc->write && !acc->exec) : 0;
        if (rc < 0) {
            res->mem_error = true;
            return;
        }
        if (rc == 0) {
            walk_done(va, &w, res);
            return;
        }
    }
    /* The tables kept changing under the walk: a spurious not-present fault,
     * which an OS resolves by finding the entry valid and retrying. */
    res->pf_error = code;
}
