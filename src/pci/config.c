/* Configuration access with the register table's semantics (RO / RW /
 * RW1C / write-only, reserved bits 0), hook dispatch and event delivery. */
#include <errno.h>
#include <string.h>

#include "pci/internal.h"

_Static_assert(PCI_REG_COUNT <= PCI_MAX_REG_INST, "raise PCI_MAX_REG_INST");
_Static_assert(PCI_REG_COUNT < 256, "reg_at holds 1 + an instance index in a byte");

void pci_evq_push(struct pci_evq *q, enum pci_event_kind kind, unsigned index,
                  uint64_t old_val, uint64_t new_val)
{
    if (q->n < PCI_EVQ_MAX)
        q->ev[q->n++] = (struct pci_event){ kind, index, old_val, new_val };
}

static void deliver(struct pci_func *f, const struct pci_evq *q)
{
    if (!f->ops || !f->ops->event)
        return;
    for (unsigned i = 0; i < q->n; i++)
        f->ops->event(f->opaque, f, &q->ev[i]);
}

/* One configuration request: 1, 2 or 4 bytes inside one dword of the 4 KiB
 * space (config.h; PCIe §2.2.7, §7.2.2). */
static bool access_ok(unsigned off, unsigned len)
{
    return (len == 1 || len == 2 || len == 4) && off < PCI_CFG_SIZE && (off & 3u) + len <= 4;
}

static uint32_t ones(unsigned len)
{
    return len >= 4 ? 0xFFFFFFFFu : (1u << (8 * len)) - 1;
}

int pci_cfg_read(struct pci_func *f, unsigned off, unsigned len, uint32_t *val)
{
    if (!access_ok(off, len)) {
        *val = ones(len);
        return -EINVAL;
    }
    spin_lock(&f->lock);
    *val = pci_raw_get(f->cfg, off, len);
    spin_unlock(&f->lock);
    return 0;
}

/* Byte b takes v: RW bits from v, RW1C bits cleared where v has 1s, the
 * rest (RO, reserved, write-only) unchanged. */
static void write_byte(struct pci_func *f, unsigned b, uint8_t v)
{
    uint8_t keep = (uint8_t)(f->cfg[b] & ~f->wmask[b]);
    uint8_t nv = (uint8_t)(keep | (v & f->wmask[b]));
    f->cfg[b] = (uint8_t)(nv & ~(v & f->w1c[b]));
}

/* Calls the hook of every register that the write touched in dword dw. */
static void run_hooks(struct pci_func *f, unsigned dw, uint32_t old, uint32_t wrote,
                      uint32_t touched, struct pci_evq *q)
{
    unsigned last = 0;
    for (unsigned i = 0; i < 4; i++) {
        unsigned idx = f->reg_at[dw + i];
        if (!idx || idx == last || !((touched >> (8 * i)) & 0xFF))
            continue;
        last = idx;
        const struct pci_reg_inst *ri = &f->regs[idx - 1];
        unsigned shift = 8 * (ri->off - dw);
        uint32_t m = ones(pci_regs[ri->id].bytes);
        pci_reg_hook(f, ri, (old >> shift) & m, (wrote >> shift) & m, q);
    }
}

int pci_cfg_write(struct pci_func *f, unsigned off, unsigned len, uint32_t val)
{
    if (!access_ok(off, len))
        return -EINVAL;
    struct pci_evq q = { .n = 0 };
    unsigned dw = off & ~3u, sh = 8 * (off - dw);
    uint32_t wrote = (val & ones(len)) << sh, touched = ones(len) << sh;
    spin_lock(&f->lock);
    uint32_t old = pci_raw_get(f->cfg, dw, 4);
    for (unsigned i = 0; i < len; i++)
        write_byte(f, off + i, (uint8_t)(val >> (8 * i)));
    run_hooks(f, dw, old, wrote, touched, &q);
    spin_unlock(&f->lock);
    deliver(f, &q);
    return 0;
}

void pci_func_set_ops(struct pci_func *f, const struct pci_func_ops *ops, void *opaque)
{
    spin_lock(&f->lock);
    f->ops = ops;
    f->opaque = opaque;
    spin_unlock(&f->lock);
}

unsigned pci_func_cap(const struct pci_func *f, enum pci_blk blk)
{
    return blk == PCI_BLK_HDR || blk >= PCI_BLK_COUNT ? 0 : f->cap[blk];
}

void pci_func_reset(struct pci_func *f)
{
    spin_lock(&f->lock);
    memcpy(f->cfg, f->rst, sizeof(f->cfg));
    f->pri_outstanding = 0;
    for (unsigned i = 0; i < PCI_NUM_BARS; i++)
        f->bar_addr[i] = f->bar_size[i] ? pci_bar_decode(f, i) : 0;
    spin_unlock(&f->lock);
}

uint64_t pci_bar_decode(const struct pci_func *f, unsigned idx)
{
    unsigned off = PCI_OFF_BAR0 + 4 * idx;
    uint64_t a = pci_raw_get(f->cfg, off, 4) & (uint32_t)PCI_M(PCI_BAR, ADDR);
    if (f->bar_64[idx])
        a |= (uint64_t)pci_raw_get(f->cfg, off + 4, 4) << 32;
    return a;
}
