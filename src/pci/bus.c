/* A PCI segment: functions by BDF, configuration routing (BDF / ECAM) and
 * memory routing to BARs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pci/bus.h"

struct pci_bus_slot {
    uint16_t bdf;
    struct pci_func *f;
};

struct pci_bus {
    spinlock_t lock;
    struct pci_bus_slot *slot;
    unsigned n, cap;
};

struct pci_bus *pci_bus_create(void)
{
    struct pci_bus *b = calloc(1, sizeof(*b));
    if (b)
        b->lock = (spinlock_t)SPINLOCK_INIT;
    return b;
}

void pci_bus_destroy(struct pci_bus *b)
{
    if (!b)
        return;
    free(b->slot);
    free(b);
}

static int find_locked(const struct pci_bus *b, uint16_t bdf)
{
    for (unsigned i = 0; i < b->n; i++)
        if (b->slot[i].bdf == bdf)
            return (int)i;
    return -1;
}

static int add_locked(struct pci_bus *b, uint16_t bdf, struct pci_func *f)
{
    if (find_locked(b, bdf) >= 0)
        return -EEXIST;
    for (unsigned i = 0; i < b->n; i++)
        if (b->slot[i].f == f)
            return -EEXIST;
    if (b->n == b->cap) {
        unsigned ncap = b->cap ? 2 * b->cap : 8;
        struct pci_bus_slot *s = realloc(b->slot, ncap * sizeof(*s));
        if (!s)
            return -ENOMEM;
        b->slot = s;
        b->cap = ncap;
    }
    b->slot[b->n++] = (struct pci_bus_slot){ bdf, f };
    return 0;
}

int pci_bus_add(struct pci_bus *b, uint16_t bdf, struct pci_func *f)
{
    if (!b || !f)
        return -EINVAL;
    spin_lock(&b->lock);
    int rc = add_locked(b, bdf, f);
    spin_unlock(&b->lock);
    return rc;
}

struct pci_func *pci_bus_remove(struct pci_bus *b, uint16_t bdf)
{
    struct pci_func *f = NULL;
    spin_lock(&b->lock);
    int i = find_locked(b, bdf);
    if (i >= 0) {
        f = b->slot[i].f;
        b->slot[i] = b->slot[--b->n];
    }
    spin_unlock(&b->lock);
    return f;
}

struct pci_func *pci_bus_find(struct pci_bus *b, uint16_t bdf)
{
    spin_lock(&b->lock);
    int i = find_locked(b, bdf);
    struct pci_func *f = i >= 0 ? b->slot[i].f : NULL;
    spin_unlock(&b->lock);
    return f;
}

unsigned pci_bus_count(struct pci_bus *b)
{
    spin_lock(&b->lock);
    unsigned n = b->n;
    spin_unlock(&b->lock);
    return n;
}

int pci_bus_cfg_read(struct pci_bus *b, uint16_t bdf, unsigned off, unsigned len, uint32_t *val)
{
    struct pci_func *f = pci_bus_find(b, bdf);
    if (f)
        return pci_cfg_read(f, off, len, val);
    *val = len >= 4 ? 0xFFFFFFFFu : (1u << (8 * len)) - 1;
    return -ENODEV;
}

int pci_bus_cfg_write(struct pci_bus *b, uint16_t bdf, unsigned off, unsigned len, uint32_t val)
{
    struct pci_func *f = pci_bus_find(b, bdf);
    return f ? pci_cfg_write(f, off, len, val) : -ENODEV;
}

int pci_bus_ecam_read(struct pci_bus *b, uint64_t off, unsigned len, uint32_t *val)
{
    if (off >= PCI_ECAM_SIZE) {
        *val = len >= 4 ? 0xFFFFFFFFu : (1u << (8 * len)) - 1;
        return -EINVAL;
    }
    return pci_bus_cfg_read(b, (uint16_t)(off >> 12), (unsigned)(off & 0xFFF), len, val);
}

int pci_bus_ecam_write(struct pci_bus *b, uint64_t off, unsigned len, uint32_t val)
{
    if (off >= PCI_ECAM_SIZE)
        return -EINVAL;
    return pci_bus_cfg_write(b, (uint16_t)(off >> 12), (unsigned)(off & 0xFFF), len, val);
}

/* Finds the claiming function and BAR under the bus lock. */
static struct pci_func *route(struct pci_bus *b, uint64_t addr, unsigned len, int *bar,
                              uint64_t *offset)
{
    struct pci_func *hit = NULL;
    spin_lock(&b->lock);
    for (unsigned i = 0; i < b->n && !hit; i++) {
        *bar = pci_bar_lookup(b->slot[i].f, addr, len, offset);
        if (*bar >= 0)
            hit = b->slot[i].f;
    }
    spin_unlock(&b->lock);
    return hit;
}

int pci_bus_mmio(struct pci_bus *b, uint64_t addr, void *data, unsigned len, bool is_write)
{
    int bar = -1;
    uint64_t offset = 0;
    if (!len || len > 8)
        return -EINVAL;
    struct pci_func *f = route(b, addr, len, &bar, &offset);
    if (f && f->ops && f->ops->mmio)
        return f->ops->mmio(f->opaque, (unsigned)bar, offset, data, len, is_write);
    if (!is_write)
        memset(data, 0xFF, len);
    return f ? 0 : PCI_MMIO_UNCLAIMED;
}
