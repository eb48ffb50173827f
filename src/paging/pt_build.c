/* Building and editing x86-64 page tables (SDM vol. 3 §4.5, Tables 4-15 to
 * 4-20): 4- and 5-level hierarchies with 4 KiB, 2 MiB and 1 GiB leaves, in any
 * phys_view. The walker with CPU semantics is in pt_walk.c. */
#include <errno.h>

#include "lib/bits.h"
#include "paging/pt.h"

#define PT_ENTRIES      512
#define PT_MAX_LEVELS   5
/* Non-leaf entries grant everything; rights are restricted at the leaf. */
#define PT_TABLE_FLAGS  (PTE_P | PTE_RW | PTE_US)
/* Leaf bits a caller may give (SDM Table 4-19/4-20): P RW US PWT PCD A D G,
 * the software-available bits 11:9 and 62:52 (62:59 are the protection key
 * when CR4.PKE = 1, not modelled), XD. */
#define PT_LEAF_FLAGS   (PTE_P | PTE_RW | PTE_US | PTE_PWT | PTE_PCD | PTE_A | PTE_D | \
                         PTE_G | BITS_MASK(11, 9) | BITS_MASK(62, 52) | PTE_XD)

static unsigned level_shift(int level) { return 12u + 9u * (unsigned)(level - 1); }

static uint64_t entry_addr(uint64_t table, uint64_t va, int level)
{
    return (table & PTE_ADDR_MASK) + ((va >> level_shift(level)) & (PT_ENTRIES - 1)) * 8;
}

/* A leaf: any PTE, or a PDE/PDPTE with PS (SDM §4.5.4). PS in a PML4E/PML5E
 * is reserved; the editor treats such an entry as a table pointer. */
static bool is_leaf(uint64_t e, int level)
{
    return level == 1 || ((level == 2 || level == 3) && (e & PTE_PS));
}

static int rd(const struct pt *pt, uint64_t pa, uint64_t *v)
{
    return pt->mem.read64(pt->mem.ctx, pa, v) ? -EFAULT : 0;
}

static int wr(const struct pt *pt, uint64_t pa, uint64_t v)
{
    return pt->mem.write64(pt->mem.ctx, pa, v) ? -EFAULT : 0;
}

int pt_init(struct pt *pt, struct phys_view mem, int levels)
{
    if (levels != 4 && levels != 5)
        return -EINVAL;
    uint64_t root = mem.alloc_page(mem.ctx);
    if (root == ~0ULL)
        return -ENOMEM;
    pt->mem = mem;
    pt->root = root;
    pt->levels = levels;
    return 0;
}

static bool on_path(uint64_t table, const uint64_t *path, int depth)
{
    for (int i = 0; i < depth; i++)
        if (path[i] == table)
            return true;
    return false;
}

/* Frees the table at `table` (a level-`level` table) and the tables below
 * it, never following leaves. Each table pointer is cleared before it is
 * followed and pointers back to a table on the current path are not
 * followed, so malformed (cyclic) tables end after at most `level` steps. */
static void free_tables(const struct pt *pt, uint64_t table, int level,
                        uint64_t *path, int depth)
{
    path[depth] = table;
    for (int i = 0; level > 1 && i < PT_ENTRIES; i++) {
        uint64_t ea = table + 8 * (uint64_t)i, e;
        if (rd(pt, ea, &e))
            return;                     /* not memory: nothing to free */
        if (!(e & PTE_P) || is_leaf(e, level))
            continue;
        uint64_t child = e & PTE_ADDR_MASK;
        wr(pt, ea, 0);
        if (!on_path(child, path, depth + 1))
            free_tables(pt, child, level - 1, path, depth + 1);
    }
    uint64_t probe;
    if (rd(pt, table, &probe) == 0)
        pt->mem.free_page(pt->mem.ctx, table);
}

void pt_destroy(struct pt *pt)
{
    uint64_t path[PT_MAX_LEVELS];
    if (pt->root == ~0ULL || pt->levels < 4 || pt->levels > PT_MAX_LEVELS)
        return;
    free_tables(pt, pt->root & PTE_ADDR_MASK, pt->levels, path, 0);
    pt->root = ~0ULL;
}

/* Installs a new empty table in the non-present entry at ea (whose value is
 * *e) and returns the entry now there in *e. */
static int install_table(const struct pt *pt, uint64_t ea, uint64_t *e)
{
    uint64_t page = pt->mem.alloc_page(pt->mem.ctx);
    if (page == ~0ULL)
        return -ENOMEM;
    bool ok = false;
    if (pt->mem.cmpxchg64(pt->mem.ctx, ea, *e, page | PT_TABLE_FLAGS, &ok) || !ok) {
        pt->mem.free_page(pt->mem.ctx, page);   /* lost a race: use the winner's */
        return rd(pt, ea, e);
    }
    *e = page | PT_TABLE_FLAGS;
    return 0;
}

/* Address of the entry for va in its level-`level` table, descending from
 * the root and creating missing tables when `create`. -ENOENT (a table is
 * missing and !create), -EEXIST (a leaf above `level` covers va), -ENOMEM,
 * -EFAULT (a table lies outside memory). */
static int descend(const struct pt *pt, uint64_t va, int level, bool create, uint64_t *slot)
{
    uint64_t table = pt->root;
    for (int l = pt->levels; l > level; l--) {
        uint64_t ea = entry_addr(table, va, l), e;
        int rc = rd(pt, ea, &e);
        if (rc == 0 && !(e & PTE_P))
            rc = create ? install_table(pt, ea, &e) : -ENOENT;
        if (rc == 0 && !(e & PTE_P))
            rc = -EAGAIN;
        if (rc)
            return rc;
        if (is_leaf(e, l))
            return -EEXIST;
        table = e & PTE_ADDR_MASK;
    }
    *slot = entry_addr(table, va, level);
    return 0;
}

/* True when no leaf is reachable from the level-`level` table; an unreadable
 * table counts as not empty. */
static bool subtree_empty(const struct pt *pt, uint64_t table, int level)
{
    for (int i = 0; i < PT_ENTRIES; i++) {
        uint64_t e;
        if (rd(pt, table + 8 * (uint64_t)i, &e))
            return false;
        if (!(e & PTE_P))
            continue;
        if (is_leaf(e, level) || !subtree_empty(pt, e & PTE_ADDR_MASK, level - 1))
            return false;
    }
    return true;
}

/* Writes a leaf at level > 1 over nothing, or over a table subtree that maps
 * nothing (tables left behind by pt_unmap), which is then freed. */
static int install_leaf(const struct pt *pt, uint64_t ea, int level, uint64_t leaf)
{
    uint64_t e;
    bool ok = false;
    int rc = rd(pt, ea, &e);
    if (rc)
        return rc;
    if ((e & PTE_P) && (is_leaf(e, level) || !subtree_empty(pt, e & PTE_ADDR_MASK, level - 1)))
        return -EEXIST;
    if (pt->mem.cmpxchg64(pt->mem.ctx, ea, e, leaf, &ok))
        return -EFAULT;
    if (!ok)
        return -EEXIST;                 /* raced with another edit */
    if (e & PTE_P) {
        uint64_t path[PT_MAX_LEVELS];
        free_tables(pt, e & PTE_ADDR_MASK, level - 1, path, 0);
    }
    return 0;
}

static int size_level(enum pt_page_size size)
{
    switch (size) {
    case PT_4K: return 1;
    case PT_2M: return 2;
    case PT_1G: return 3;
    }
    return 0;
}

int pt_map(struct pt *pt, uint64_t va, uint64_t pa, enum pt_page_size size, uint64_t flags)
{
    int level = size_level(size);
    if (level == 0)
        return -EINVAL;
    uint64_t off = (1ULL << size) - 1;
    if (!pt_canonical(va, pt->levels) || (va & off) || (pa & off) ||
        (pa & ~PTE_ADDR_MASK) || (flags & ~PT_LEAF_FLAGS))
        return -EINVAL;
    uint64_t slot;
    int rc = descend(pt, va, level, true, &slot);
    if (rc)
        return rc;
    return install_leaf(pt, slot, level, pa | flags | PTE_P | (level > 1 ? PTE_PS : 0));
}

/* Finds the leaf covering va: its entry address, value and level. */
static int find_leaf(const struct pt *pt, uint64_t va, uint64_t *ea, uint64_t *e, int *level)
{
    if (!pt_canonical(va, pt->levels))
        return -ENOENT;
    uint64_t table = pt->root;
    for (int l = pt->levels; l >= 1; l--) {
        *ea = entry_addr(table, va, l);
        int rc = rd(pt, *ea, e);
        if (rc)
            return rc;
        if (!(*e & PTE_P))
            return -ENOENT;
        if (is_leaf(*e, l)) {
            *level = l;
            return 0;
        }
        table = *e & PTE_ADDR_MASK;
    }
    return -ENOENT;
}

int pt_unmap(struct pt *pt, uint64_t va)
{
    uint64_t ea, e;
    int level;
    int rc = find_leaf(pt, va, &ea, &e, &level);
    if (rc)
        return rc;
    if (va & ((1ULL << level_shift(level)) - 1))
        return -ENOENT;
    return wr(pt, ea, 0);
}

int pt_protect(struct pt *pt, uint64_t va, uint64_t flags)
{
    if (flags & ~PT_LEAF_FLAGS)
        return -EINVAL;
    uint64_t ea, e;
    int level;
    int rc = find_leaf(pt, va, &ea, &e, &level);
    if (rc)
        return rc;
    uint64_t keep = e & (PTE_ADDR_MASK | (level > 1 ? PTE_PS : 0));
    return wr(pt, ea, keep | flags | PTE_P);
}

int pt_lookup(const struct pt *pt, uint64_t va, uint64_t *pte, enum pt_page_size *size)
{
    uint64_t ea, e;
    int level;
    int rc = find_leaf(pt, va, &ea, &e, &level);
    if (rc)
        return rc;
    if (pte)
        *pte = e;
    if (size)
        *size = (enum pt_page_size)level_shift(level);
    return 0;
}

int pt_set_raw(struct pt *pt, uint64_t va, int level, uint64_t entry)
{
    if (level < 1 || level > pt->levels)
        return -EINVAL;
    uint64_t slot;
    int rc = descend(pt, va, level, true, &slot);
    return rc ? rc : wr(pt, slot, entry);
}
