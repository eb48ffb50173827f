/* Private to src/pci: raw config-space helpers, the event queue a write
 * collects while the function's lock is held, and the per-register hooks. */
#ifndef VSVM_PCI_INTERNAL_H
#define VSVM_PCI_INTERNAL_H

#include "pci/config.h"

/* A dword write touches at most two registers with a hook, each of which
 * raises at most two events (MSI mask: MASK + PENDING; PRI control:
 * ENABLE + RESET). */
#define PCI_EVQ_MAX 8u

struct pci_evq {
    struct pci_event ev[PCI_EVQ_MAX];
    unsigned n;
};

void pci_evq_push(struct pci_evq *q, enum pci_event_kind kind, unsigned index,
                  uint64_t old_val, uint64_t new_val);

/* Little-endian raw bytes of the current contents (no semantics). */
static inline uint32_t pci_raw_get(const uint8_t *a, unsigned off, unsigned len)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < len; i++)
        v |= (uint32_t)a[off + i] << (8 * i);
    return v;
}

static inline void pci_raw_put(uint8_t *a, unsigned off, unsigned len, uint32_t v)
{
    for (unsigned i = 0; i < len; i++)
        a[off + i] = (uint8_t)(v >> (8 * i));
}

/* Absolute offset of register r, or -1 when its capability is absent. */
static inline int pci_reg_off(const struct pci_func *f, enum pci_reg_id r)
{
    const struct pci_reg_desc *d = &pci_regs[r];
    if (d->blk == PCI_BLK_HDR)
        return d->off;
    return f->cap[d->blk] ? f->cap[d->blk] + d->off : -1;
}

/* Current value of register r (0 when absent); caller holds the lock. */
static inline uint32_t pci_reg_get(const struct pci_func *f, enum pci_reg_id r)
{
    int off = pci_reg_off(f, r);
    return off < 0 ? 0 : pci_raw_get(f->cfg, (unsigned)off, pci_regs[r].bytes);
}

static inline void pci_reg_put(struct pci_func *f, enum pci_reg_id r, uint32_t v)
{
    int off = pci_reg_off(f, r);
    if (off >= 0)
        pci_raw_put(f->cfg, (unsigned)off, pci_regs[r].bytes, v);
}

/* Decoded base of BAR idx from its current contents. */
uint64_t pci_bar_decode(const struct pci_func *f, unsigned idx);
/* Recomputes PRI Stopped (§10.5.2.3): Enable clear and nothing outstanding. */
void pci_pri_update_stopped(struct pci_func *f);
/* Runs the side effect of the register instance ri after a write; old is
 * its value before, wrote the bits software wrote (0 in untouched bytes). */
void pci_reg_hook(struct pci_func *f, const struct pci_reg_inst *ri, uint32_t old,
                  uint32_t wrote, struct pci_evq *q);

#endif
