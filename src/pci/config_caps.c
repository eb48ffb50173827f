/* Builder: the type-0 header, BARs and capabilities, laid out and linked
 * the way software walks them (PCIe 5.0 §7.5.1.1.11: the PCI-compatible
 * list from the Capabilities Pointer, dword-aligned entries in 0x40-0xFF;
 * §7.6.3: the extended list from 0x100, dword-aligned, next offset 0 at
 * the end). Capabilities are linked in the order they are added. */
#include <errno.h>
#include <string.h>

#include "pci/internal.h"

/* Read-only contents decided at build time: current value and reset image. */
static void set_ro(struct pci_func *f, unsigned off, unsigned len, uint32_t v)
{
    pci_raw_put(f->cfg, off, len, v);
    pci_raw_put(f->rst, off, len, v);
}

static void or_ro(struct pci_func *f, unsigned off, unsigned len, uint32_t v)
{
    set_ro(f, off, len, pci_raw_get(f->cfg, off, len) | v);
}

static void install_reg(struct pci_func *f, enum pci_reg_id r, unsigned base)
{
    const struct pci_reg_desc *d = &pci_regs[r];
    unsigned off = base + d->off;
    set_ro(f, off, d->bytes, d->reset);
    pci_raw_put(f->wmask, off, d->bytes, d->wmask);
    pci_raw_put(f->w1c, off, d->bytes, d->w1c);
    pci_raw_put(f->wo, off, d->bytes, d->wo);
    f->regs[f->nregs] = (struct pci_reg_inst){ .id = (uint8_t)r, .off = (uint16_t)off };
    f->nregs++;
    memset(&f->reg_at[off], (int)f->nregs, d->bytes);
}

static void install_block(struct pci_func *f, enum pci_blk blk, unsigned base)
{
    for (unsigned r = 0; r < PCI_REG_COUNT; r++)
        if (pci_regs[r].blk == blk)
            install_reg(f, (enum pci_reg_id)r, base);
}

static const uint8_t blk_size[PCI_BLK_COUNT] = {
#define PCIB_SIZE(N, SZ, ID, EXT, D) [PCI_BLK_##N] = (SZ),
    PCI_BLKS(PCIB_SIZE)
#undef PCIB_SIZE
};

/* Places a PCI-compatible capability after the last one and links it. */
static int place_std(struct pci_func *f, enum pci_blk blk)
{
    unsigned off = f->std_free;
    if (f->cap[blk])
        return -EEXIST;
    if (off + blk_size[blk] > PCI_CFG_LEGACY_SIZE)
        return -ENOSPC;
    install_block(f, blk, off);
    if (!f->std_last) {
        set_ro(f, PCI_OFF_CAPPTR, 1, off);
        or_ro(f, PCI_OFF_STATUS, 2, PCI_M(PCI_STS, CAPL));
    } else {
        or_ro(f, f->std_last, 2, PCI_V(PCI_CAPHDR, NEXT, off));
    }
    f->std_last = (uint16_t)off;
    f->std_free = (uint16_t)(off + blk_size[blk]);
    f->cap[blk] = (uint16_t)off;
    return 0;
}

/* Places an extended capability (the first at 0x100) and links it. Only a
 * PCI Express function has extended configuration space (§7.6). */
static int place_ext(struct pci_func *f, enum pci_blk blk)
{
    unsigned off = f->ext_free;
    if (!f->cap[PCI_BLK_PCIE])
        return -EINVAL;
    if (f->cap[blk])
        return -EEXIST;
    if (off + blk_size[blk] > PCI_CFG_SIZE)
        return -ENOSPC;
    install_block(f, blk, off);
    if (f->ext_last)
        or_ro(f, f->ext_last, 4, (uint32_t)PCI_V(PCI_EXTHDR, NEXT, off));
    f->ext_last = (uint16_t)off;
    f->ext_free = (uint16_t)(off + blk_size[blk]);
    f->cap[blk] = (uint16_t)off;
    return 0;
}

int pci_func_init(struct pci_func *f, uint16_t vendor, uint16_t device, uint32_t class_code)
{
    if (!f || vendor == 0 || vendor == 0xFFFF || class_code > 0xFFFFFF)
        return -EINVAL;
    memset(f, 0, sizeof(*f));
    f->lock = (spinlock_t)SPINLOCK_INIT;
    install_block(f, PCI_BLK_HDR, 0);
    set_ro(f, PCI_OFF_VENDOR, 2, vendor);
    set_ro(f, PCI_OFF_DEVICE, 2, device);
    set_ro(f, PCI_OFF_REVCLASS, 4, class_code << 8);
    set_ro(f, PCI_OFF_SUBVENDOR, 2, vendor);
    set_ro(f, PCI_OFF_SUBSYSTEM, 2, device);
    f->std_free = PCI_CAP_START;
    f->ext_free = PCI_EXT_CAP_START;
    return 0;
}

static bool bar_used(const struct pci_func *f, unsigned idx)
{
    return f->bar_size[idx] || (idx > 0 && f->bar_64[idx - 1]);
}

/* §7.5.1.2.1: bits 3:0 read-only (memory, type, prefetchable); the address
 * bits below the size read 0, so writing all-ones reads back the size. */
int pci_add_bar(struct pci_func *f, unsigned idx, uint64_t size, bool is64, bool prefetch)
{
    if (idx >= PCI_NUM_BARS || (is64 && idx + 1 >= PCI_NUM_BARS))
        return -EINVAL;
    if (!is_pow2_u64(size) || size < 128 || (!is64 && size > (1ULL << 31)) ||
        size > (1ULL << 63))
        return -EINVAL;
    if (bar_used(f, idx) || (is64 && bar_used(f, idx + 1)))
        return -EEXIST;
    unsigned off = PCI_OFF_BAR0 + 4 * idx;
    uint64_t addr_mask = ~(size - 1);
    set_ro(f, off, 4, (uint32_t)(PCI_V(PCI_BAR, TYPE, is64 ? 2 : 0) | PCI_V(PCI_BAR, PREF, prefetch)));
    pci_raw_put(f->wmask, off, 4, (uint32_t)(addr_mask & PCI_M(PCI_BAR, ADDR)));
    if (is64)
        pci_raw_put(f->wmask, off + 4, 4, (uint32_t)(addr_mask >> 32));
    f->bar_size[idx] = size;
    f->bar_64[idx] = is64;
    return 0;
}

int pci_add_pcie_rciep(struct pci_func *f)
{
    return place_std(f, PCI_BLK_PCIE);
}

/* The Mask Bits of vectors the function does not have are reserved (§7.7.1.7). */
int pci_add_msi(struct pci_func *f, unsigned vectors)
{
    if (!vectors || vectors > 32 || (vectors & (vectors - 1)))
        return -EINVAL;
    int rc = place_std(f, PCI_BLK_MSI);
    if (rc)
        return rc;
    unsigned base = f->cap[PCI_BLK_MSI];
    unsigned mmc = (unsigned)__builtin_ctz(vectors);
    or_ro(f, base + PCI_OFF_MSI_CTL, 2, (uint32_t)PCI_V(PCI_MSICTL, MMC, mmc));
    uint32_t vec_mask = vectors == 32 ? 0xFFFFFFFFu : (1u << vectors) - 1;
    pci_raw_put(f->wmask, base + PCI_OFF_MSI_MASK, 4, vec_mask);
    return 0;
}

/* Decision: depth 32 is encoded as 0 (§10.5.1.2). */
int pci_add_ats(struct pci_func *f, unsigned invq_depth)
{
    if (invq_depth < 1 || invq_depth > 32)
        return -EINVAL;
    int rc = place_ext(f, PCI_BLK_ATS);
    if (rc)
        return rc;
    or_ro(f, f->cap[PCI_BLK_ATS] + PCI_OFF_ATS_CAP, 2,
          (uint32_t)PCI_V(PCI_ATSCAP, INVQD, invq_depth & 31));
    return 0;
}

/* §7.8.8.3: Execute / Privileged Mode Enable are hardwired 0 unless the
 * matching capability bit is set. */
int pci_add_pasid(struct pci_func *f, unsigned max_width, bool exec, bool priv)
{
    if (max_width > 20)
        return -EINVAL;
    int rc = place_ext(f, PCI_BLK_PASID);
    if (rc)
        return rc;
    unsigned base = f->cap[PCI_BLK_PASID];
    uint32_t cap = (uint32_t)(PCI_V(PCI_PASIDCAP, WIDTH, max_width) |
                              PCI_V(PCI_PASIDCAP, EXEC, exec) | PCI_V(PCI_PASIDCAP, PRIV, priv));
    or_ro(f, base + PCI_OFF_PASID_CAP, 2, cap);
    uint32_t wm = (uint32_t)(PCI_M(PCI_PASIDCTL, EN) | PCI_V(PCI_PASIDCTL, EXEC, exec) |
                             PCI_V(PCI_PASIDCTL, PRIV, priv));
    pci_raw_put(f->wmask, base + PCI_OFF_PASID_CTL, 2, wm);
    return 0;
}

int pci_add_pri(struct pci_func *f, uint32_t capacity)
{
    if (!capacity)
        return -EINVAL;
    int rc = place_ext(f, PCI_BLK_PRI);
    if (rc)
        return rc;
    set_ro(f, f->cap[PCI_BLK_PRI] + PCI_OFF_PRI_CAP, 4, capacity);
    return 0;
}
