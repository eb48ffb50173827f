/* PCI helpers (see pci.h); offsets per the PCIe base specification. */
#include "os/pci.h"

uint32_t os_pci_read(struct os_kernel *k, uint16_t bdf, unsigned off, unsigned size)
{
    return k->ops.cfg_read ? k->ops.cfg_read(k->ops.ctx, bdf, off, size) : ~0u;
}

void os_pci_write(struct os_kernel *k, uint16_t bdf, unsigned off, unsigned size, uint32_t v)
{
    if (k->ops.cfg_write)
        k->ops.cfg_write(k->ops.ctx, bdf, off, size, v);
}

unsigned os_pci_find_cap(struct os_kernel *k, uint16_t bdf, uint8_t id)
{
    if (!(os_pci_read(k, bdf, 0x06, 2) & 0x10))       /* Status: capabilities list */
        return 0;
    unsigned pos = os_pci_read(k, bdf, 0x34, 1) & ~3u;
    for (unsigned ttl = 48; pos >= 0x40 && ttl--; ) {
        uint32_t hdr = os_pci_read(k, bdf, pos, 2);
        if ((hdr & 0xFF) == 0xFF)
            return 0;
        if ((hdr & 0xFF) == id)
            return pos;
        pos = (hdr >> 8) & 0xFC;
    }
    return 0;
}

unsigned os_pci_find_ext_cap(struct os_kernel *k, uint16_t bdf, uint16_t id)
{
    unsigned pos = 0x100;
    for (unsigned ttl = (4096 - 256) / 8; ttl--; ) {
        uint32_t hdr = os_pci_read(k, bdf, pos, 4);
        if (!hdr || hdr == ~0u)
            return 0;
        if ((hdr & 0xFFFF) == id)
            return pos;
        pos = (hdr >> 20) & 0xFFC;
        if (pos < 0x100)
            return 0;
    }
    return 0;
}

uint64_t os_pci_bar(struct os_kernel *k, uint16_t bdf, unsigned idx)
{
    uint32_t lo = os_pci_read(k, bdf, 0x10 + 4 * idx, 4);
    uint64_t addr = lo & ~0xFULL;
    if ((lo & 0x6) == 0x4)                             /* 64-bit memory BAR */
        addr |= (uint64_t)os_pci_read(k, bdf, 0x14 + 4 * idx, 4) << 32;
    return addr;
}

void os_pci_enable(struct os_kernel *k, uint16_t bdf)
{
    uint32_t cmd = os_pci_read(k, bdf, 0x04, 2);
    os_pci_write(k, bdf, 0x04, 2, cmd | 0x2 | 0x4);    /* memory space, bus master */
}

int os_pci_enable_msi(struct os_kernel *k, uint16_t bdf, unsigned vector)
{
    unsigned pos = os_pci_find_cap(k, bdf, OS_PCI_CAP_MSI);
    if (!pos)
        return -19;
    uint32_t ctl = os_pci_read(k, bdf, pos + 2, 2);
    bool is64 = ctl & 0x80;
    os_pci_write(k, bdf, pos + 4, 4, (uint32_t)OS_MSI_ADDR);
    if (is64)
        os_pci_write(k, bdf, pos + 8, 4, 0);
    os_pci_write(k, bdf, pos + (is64 ? 12 : 8), 2, vector);
    os_pci_write(k, bdf, pos + 2, 2, (ctl & ~0x70u) | 1);   /* one vector, enable */
    return 0;
}

void os_pci_enable_sva_caps(struct os_kernel *k, uint16_t bdf, struct os_pci_sva_caps *out)
{
    *out = (struct os_pci_sva_caps){ 0 };
    unsigned pasid = os_pci_find_ext_cap(k, bdf, OS_PCI_EXT_PASID);
    unsigned pri = os_pci_find_ext_cap(k, bdf, OS_PCI_EXT_PRI);
    unsigned ats = os_pci_find_ext_cap(k, bdf, OS_PCI_EXT_ATS);
    if (pasid) {
        uint32_t cap = os_pci_read(k, bdf, pasid + 4, 2);
        os_pci_write(k, bdf, pasid + 6, 2, 1 | (cap & 0x6));
        out->pasid = os_pci_read(k, bdf, pasid + 6, 2) & 1;
        out->pasid_width = (cap >> 8) & 0x1F;
    }
    if (pri) {
        uint32_t sta = os_pci_read(k, bdf, pri + 6, 2);
        bool ok = (sta & 0x100) && (!out->pasid || (sta & 0x8000));
        if (ok) {
            uint32_t capacity = os_pci_read(k, bdf, pri + 8, 4);
            os_pci_write(k, bdf, pri + 4, 2, 0x2);                 /* reset */
            out->pri_alloc = capacity < 2048 ? capacity : 2048;
            os_pci_write(k, bdf, pri + 0xC, 4, out->pri_alloc);
            os_pci_write(k, bdf, pri + 4, 2, 0x1);                 /* enable */
            out->pri = os_pci_read(k, bdf, pri + 4, 2) & 1;
        }
    }
    if (ats && (os_pci_read(k, bdf, ats + 4, 2) & 0x20)) {          /* Page Aligned Request */
        unsigned q = os_pci_read(k, bdf, ats + 4, 2) & 0x1F;
        out->ats_qdep = q ? q : 32;
        os_pci_write(k, bdf, ats + 6, 2, 0x8000);                  /* enable, STU 0 (4 KiB) */
        out->ats = os_pci_read(k, bdf, ats + 6, 2) & 0x8000;
    }
}
