/* Side effects of configuration writes, one small hook per register (the
 * HOOK column of pci/pci_regs.h). Hooks run with the function's lock held
 * and only queue events; config.c delivers them after unlocking. Each hook
 * compares the register before and after, so a write that changes nothing
 * raises nothing. */
#include "pci/internal.h"

typedef void (*pci_hook_fn)(struct pci_func *f, const struct pci_reg_inst *ri, uint32_t old,
                            uint32_t wrote, struct pci_evq *q);

static uint32_t now(const struct pci_func *f, const struct pci_reg_inst *ri)
{
    return pci_raw_get(f->cfg, ri->off, pci_regs[ri->id].bytes);
}

static void hook_changed(struct pci_func *f, const struct pci_reg_inst *ri, uint32_t old,
                         enum pci_event_kind kind, struct pci_evq *q)
{
    uint32_t v = now(f, ri);
    if (v != old)
        pci_evq_push(q, kind, 0, old, v);
}

static void pci_hook_command(struct pci_func *f, const struct pci_reg_inst *ri, uint32_t old,
                             uint32_t wrote, struct pci_evq *q)
{
    (void)wrote;
    hook_changed(f, ri, old, PCI_EV_COMMAND, q);
}

/* Either dword of a 64-bit BAR moves the BAR as a whole. */
static void pci_hook_bar(struct pci_func *f, const struct pci_reg_inst *ri, uint32_t old,
                         uint32_t wrote, struct pci_evq *q)
{
    (void)old, (void)wrote;
    unsigned idx = ri->id - PCI_REG_BAR0;
    if (!f->bar_size[idx] && idx > 0 && f->bar_64[idx - 1])
        idx--;
    if (!f->bar_size[idx])
        return;
    uint64_t a = pci_bar_decode(f, idx);
    if (a != f->bar_addr[idx])
        pci_evq_push(q, PCI_EV_BAR, idx, f->bar_addr[idx], a);
    f->bar_addr[idx] = a;
}

static void pci_hook_msi_ctl(struct pci_func *f, const struct pci_reg_inst *ri, uint32_t old,
                             uint32_t wrote, struct pci_evq *q)
{
    (void)wrote;
    hook_changed(f, ri, old, PCI_EV_MSI_CTL, q);
}

/* The event carries the whole 64-bit address; the other half is unchanged. */
static void pci_hook_msi_addr(struct pci_func *f, const struct pci_reg_inst *ri, uint32_t old,
                              uint32_t wrote, struct pci_evq *q)
{
    (void)wrote;
    uint64_t lo = pci_reg_get(f, PCI_REG_MSI_ADDR), hi = pci_reg_get(f, PCI_REG_MSI_UADDR);
    uint64_t cur = hi << 32 | lo;
    uint64_t before = ri->id == PCI_REG_MSI_ADDR ? (hi << 32 | old) : ((uint64_t)old << 32 | lo);
    if (cur != before)
        pci_evq_push(q, PCI_EV_MSI_ADDR, 0, before, cur);
}

static void pci_hook_msi_data(struct pci_func *f, const struct pci_reg_inst *ri, uint32_t old,
                              uint32_t wrote, struct pci_evq *q)
{
    (void)wrote;
    hook_changed(f, ri, old, PCI_EV_MSI_DATA, q);
}

/* §7.7.1.8: unmasking a vector whose Pending bit is set obliges the
 * function to send the message; the model does so via pci_msi_signal. */
static void pci_hook_msi_mask(struct pci_func *f, const struct pci_reg_inst *ri, uint32_t old,
                              uint32_t wrote, struct pci_evq *q)
{
    (void)wrote;
    uint32_t mask = now(f, ri);
    if (mask == old)
        return;
    pci_evq_push(q, PCI_EV_MSI_MASK, 0, old, mask);
    uint32_t ready = old & ~mask & pci_reg_get(f, PCI_REG_MSI_PEND);
    if (ready && (pci_reg_get(f, PCI_REG_MSI_CTL) & PCI_M(PCI_MSICTL, EN)))
        pci_evq_push(q, PCI_EV_MSI_PENDING, 0, 0, ready);
}

static void pci_hook_ats_ctl(struct pci_func *f, const struct pci_reg_inst *ri, uint32_t old,
                             uint32_t wrote, struct pci_evq *q)
{
    (void)wrote;
    hook_changed(f, ri, old, PCI_EV_ATS, q);
}

static void pci_hook_pasid_ctl(struct pci_func *f, const struct pci_reg_inst *ri, uint32_t old,
                               uint32_t wrote, struct pci_evq *q)
{
    (void)wrote;
    hook_changed(f, ri, old, PCI_EV_PASID, q);
}

/* §10.5.2.2: enabling clears the status flags (Stopped follows Enable);
 * Reset acts only if Enable is clear after this write, and clears the
 * credit counter and the pending-request state. */
static void pci_hook_pri_ctl(struct pci_func *f, const struct pci_reg_inst *ri, uint32_t old,
                             uint32_t wrote, struct pci_evq *q)
{
    const uint32_t en = PCI_M(PCI_PRICTL, EN);
    uint32_t was = old & en, is = now(f, ri) & en;
    if (!was && is) {
        uint32_t sts = pci_reg_get(f, PCI_REG_PRI_STS);
        sts &= ~(uint32_t)(PCI_M(PCI_PRISTS, RF) | PCI_M(PCI_PRISTS, UPRGI));
        pci_reg_put(f, PCI_REG_PRI_STS, sts);
    }
    if (was != is)
        pci_evq_push(q, PCI_EV_PRI_ENABLE, 0, !!was, !!is);
    if ((wrote & PCI_M(PCI_PRICTL, RESET)) && !is) {
        f->pri_outstanding = 0;
        pci_evq_push(q, PCI_EV_PRI_RESET, 0, 0, 0);
    }
    pci_pri_update_stopped(f);
}

static void pci_hook_pri_alloc(struct pci_func *f, const struct pci_reg_inst *ri, uint32_t old,
                               uint32_t wrote, struct pci_evq *q)
{
    (void)wrote;
    hook_changed(f, ri, old, PCI_EV_PRI_ALLOC, q);
}

#define pci_hook_none NULL
static const pci_hook_fn hooks[PCI_REG_COUNT] = {
#define PCIR_HOOK(N, B, O, W, S, RST, WM, W1C, WO, H) [PCI_REG_##N] = pci_hook_##H,
    PCI_REGS(PCIR_HOOK)
#undef PCIR_HOOK
};

void pci_reg_hook(struct pci_func *f, const struct pci_reg_inst *ri, uint32_t old,
                  uint32_t wrote, struct pci_evq *q)
{
    if (hooks[ri->id])
        hooks[ri->id](f, ri, old, wrote, q);
}

void pci_pri_update_stopped(struct pci_func *f)
{
    const uint32_t stopped = PCI_M(PCI_PRISTS, STOPPED);
    if (!f->cap[PCI_BLK_PRI])
        return;
    bool en = pci_reg_get(f, PCI_REG_PRI_CTL) & PCI_M(PCI_PRICTL, EN);
    uint32_t sts = pci_reg_get(f, PCI_REG_PRI_STS) & ~stopped;
    if (!en && f->pri_outstanding == 0)
        sts |= stopped;
    pci_reg_put(f, PCI_REG_PRI_STS, sts);
}
