/* Device assignment, VFIO-like (issue 6 item 2): the host kernel's driver
 * lets go of the accelerator, the function is reset, its MSI is pointed
 * at a host vector that forwards to the guest, and the viommu registers
 * guest BDF <-> host BDF. The guest sees a virtual configuration space:
 * BAR0 and the MSI capability are emulated (the guest cannot move the host
 * BAR or aim the device's MSI writes), every other register reaches the
 * device (PCIe, ATS, PASID, PRI: the guest's driver enables them). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "os/pci.h"
#include "vmm/guest_internal.h"

/* MSI capability layout (PCI Local Bus 3.0 §6.8.1, 64-bit with per-vector
 * masking): ctrl +2, address +4/+8, data +0x0C, mask +0x10, pending +0x14. */
#define MSI_CTRL 2
#define MSI_DATA 12
#define MSI_MASK 16
#define MSI_PEND 20
/* Guest-writable bits per byte of the capability: enable and Multiple
 * Message Enable (one vector is all the device has), address bits 63:2,
 * data 15:0, the mask bit of vector 0. */
static const uint8_t msi_wmask[GUEST_MSI_SIZE] = {
    [2] = 0x71, [4] = 0xFC, [5] = 0xFF, [6] = 0xFF, [7] = 0xFF,
    [8] = 0xFF, [9] = 0xFF, [10] = 0xFF, [11] = 0xFF, [12] = 0xFF, [13] = 0xFF, [16] = 0x01,
};

static pthread_mutex_t irqfd_lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t le(const uint8_t *p, unsigned n)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

/* Delivers the guest's MSI message, or holds it pending while masked
 * (§6.8.3.4); irqfd_lock held. */
static void msi_fire(struct guest_dev *d)
{
    if (!(d->msi[MSI_CTRL] & 1))
        return;   /* MSI disabled: the message is dropped */
    if (d->msi[MSI_MASK] & 1) {
        d->msi[MSI_PEND] |= 1;
        return;
    }
    uint64_t addr = le(&d->msi[4], 4) | (uint64_t)le(&d->msi[8], 4) << 32;
    guest_msi(d->g, addr, le(&d->msi[MSI_DATA], 2));
}

/* The host vector of an assigned device (host interrupt thread). */
static void irqfd(void *arg)
{
    struct host_irqfd *fd = arg;
    pthread_mutex_lock(&irqfd_lock);
    if (fd->target)
        msi_fire(fd->target);
    pthread_mutex_unlock(&irqfd_lock);
}

static int host_index(struct host *h, uint16_t bdf)
{
    for (unsigned i = 0; i < h->cfg.naccels; i++)
        if (h->acc_bdf[i] == bdf)
            return (int)i;
    return -1;
}

/* The host driver lets go (Linux's detach: pci_disable_pri, ATS and PASID
 * disabled) so the guest's driver finds the capabilities as after reset,
 * PRI Stopped (PCIe §10.5.2.3). Control registers: PRI +4, ATS and PASID
 * +6. */
static void sva_caps_off(struct host *h, uint16_t bdf)
{
    static const struct { uint16_t id; uint8_t ctl; } caps[] = {
        { OS_PCI_EXT_PRI, 4 }, { OS_PCI_EXT_ATS, 6 }, { OS_PCI_EXT_PASID, 6 } };
    for (unsigned i = 0; i < 3; i++) {
        unsigned pos = os_pci_find_ext_cap(&h->k, bdf, caps[i].id);
        if (pos)
            os_pci_write(&h->k, bdf, pos + caps[i].ctl, 2, 0);
    }
}

static void set_msi_data(struct guest_dev *d, uint32_t data)
{
    pci_cfg_write(d->f, d->msi_off + MSI_DATA, 2, data);
}

/* The guest's view right after reset: capability bits as the device has
 * them, nothing enabled or programmed. */
static void msi_shadow_init(struct guest_dev *d)
{
    for (unsigned i = 0; i < GUEST_MSI_SIZE; i += 4) {
        uint32_t v = 0;
        pci_cfg_read(d->f, d->msi_off + i, 4, &v);
        for (unsigned b = 0; b < 4; b++)
            d->msi[i + b] = (uint8_t)(v >> (8 * b));
    }
    for (unsigned i = 0; i < GUEST_MSI_SIZE; i++)
        d->msi[i] &= (uint8_t)~msi_wmask[i];
    d->msi[MSI_PEND] = 0;
}

int guest_dev_assign(struct guest *g, struct guest_dev *d, char *why, size_t n)
{
    struct host *h = g->h;
    char hb[PCI_BDF_STRLEN];
    pci_bdf_format_full(hb, sizeof(hb), 0, d->host_bdf);
    int i = host_index(h, d->host_bdf);
    if (i < 0)
        return snprintf(why, n, "host device %s: no accelerator there", hb), -1;
    if (__atomic_load_n(&h->irqfd[i].target, __ATOMIC_ACQUIRE))
        return snprintf(why, n, "host device %s is already assigned", hb), -1;
    if (os_accel_release(&h->drv[i]))
        return snprintf(why, n, "host device %s is in use by the host", hb), -1;
    d->g = g, d->hidx = (unsigned)i, d->f = &h->acc[i].func;
    d->msi_off = pci_func_cap(d->f, PCI_BLK_MSI);
    if (!h->irqfd[i].vec)
        h->irqfd[i].vec = os_irq_alloc(&h->k, irqfd, &h->irqfd[i]);
    if (!d->msi_off || !h->irqfd[i].vec) {
        os_accel_reclaim(&h->drv[i]);
        return snprintf(why, n, "host device %s: no MSI to forward", hb), -1;
    }
    accel_reset(h->acc[i].dev);   /* nothing of the host's work survives */
    sva_caps_off(h, d->host_bdf);
    pci_cfg_read(d->f, d->msi_off + MSI_DATA, 2, &d->host_msi_data);
    msi_shadow_init(d);
    pthread_mutex_lock(&irqfd_lock);
    h->irqfd[i].target = d;
    pthread_mutex_unlock(&irqfd_lock);
    set_msi_data(d, h->irqfd[i].vec);
    d->bar = GUEST_BAR_BASE + (uint64_t)ACCEL_BAR0_SIZE * (unsigned)(d - g->dev);
    int rc = viommu_assign(g->v, d->bdf, d->host_bdf);
    if (rc) {
        guest_dev_irq_off(d);
        guest_dev_release(d);
        return snprintf(why, n, "host device %s: %s", hb,
                        rc == -95 ? "its remapping unit cannot back the virtual IOMMU "
                                    "(nesting or a capability is missing)"
                                  : "the virtual IOMMU refused it"), -1;
    }
    d->assigned = true;
    return 0;
}

void guest_dev_irq_off(struct guest_dev *d)
{
    pthread_mutex_lock(&irqfd_lock);
    d->g->h->irqfd[d->hidx].target = NULL;
    pthread_mutex_unlock(&irqfd_lock);
}

/* Back to the host kernel: reset, the host driver's MSI, memory space and
 * bus master, its ATS/PASID/PRI enables (the guest may have changed them). */
void guest_dev_release(struct guest_dev *d)
{
    struct host *h = d->g->h;
    struct os_accel *a = &h->drv[d->hidx];
    accel_reset(h->acc[d->hidx].dev);
    sva_caps_off(h, d->host_bdf);
    set_msi_data(d, d->host_msi_data);
    os_pci_enable(&h->k, d->host_bdf);
    os_pci_enable_sva_caps(&h->k, d->host_bdf, &a->caps);
    d->assigned = false;
    os_accel_reclaim(a);
}

static struct guest_dev *dev_at(struct guest *g, uint16_t bdf)
{
    for (unsigned i = 0; i < g->ndev; i++)
        if (g->dev[i].bdf == bdf && g->dev[i].assigned)
            return &g->dev[i];
    return NULL;
}

/* BAR0: a 64-bit memory BAR of ACCEL_BAR0_SIZE; the type bits are the
 * device's, the address the guest's (all-ones sizing works as usual). */
static uint64_t bar_value(struct guest_dev *d)
{
    uint32_t lo = 0;
    pci_cfg_read(d->f, 0x10, 4, &lo);
    return (d->bar & ~((uint64_t)ACCEL_BAR0_SIZE - 1)) | (lo & 0xF);
}

/* A byte the VMM emulates: true with its value in *b. */
static bool vbyte(struct guest_dev *d, unsigned o, uint8_t *b)
{
    if (o >= 0x10 && o < 0x18) {
        *b = (uint8_t)(bar_value(d) >> (8 * (o - 0x10)));
        return true;
    }
    if (o >= d->msi_off && o < d->msi_off + GUEST_MSI_SIZE) {
        *b = d->msi[o - d->msi_off];
        return true;
    }
    return false;
}

uint32_t guest_cfg_read(struct guest *g, uint16_t bdf, unsigned off, unsigned size)
{
    struct guest_dev *d = dev_at(g, bdf);
    uint32_t v = 0;
    if (!d || (size != 1 && size != 2 && size != 4) || off % size || off >= 4096)
        return ~0u;   /* no function: Unsupported Request reads all-ones */
    if (pci_cfg_read(d->f, off, size, &v))
        return ~0u;
    pthread_mutex_lock(&irqfd_lock);
    for (unsigned i = 0; i < size; i++) {
        uint8_t b;
        if (vbyte(d, off + i, &b))
            v = (v & ~(0xFFu << (8 * i))) | (uint32_t)b << (8 * i);
    }
    pthread_mutex_unlock(&irqfd_lock);
    return v;
}

/* One emulated byte written (irqfd_lock held). */
static void vwrite(struct guest_dev *d, unsigned o, uint8_t b)
{
    if (o >= 0x10 && o < 0x18) {
        unsigned s = 8 * (o - 0x10);
        d->bar = (d->bar & ~(0xFFULL << s)) | (uint64_t)b << s;
        return;
    }
    unsigned i = o - d->msi_off;
    d->msi[i] = (uint8_t)((d->msi[i] & ~msi_wmask[i]) | (b & msi_wmask[i]));
    if (i == MSI_MASK && !(b & 1) && (d->msi[MSI_PEND] & 1)) {
        d->msi[MSI_PEND] &= (uint8_t)~1u;   /* unmasked with a message pending */
        msi_fire(d);
    }
}

void guest_cfg_write(struct guest *g, uint16_t bdf, unsigned off, unsigned size, uint32_t val)
{
    struct guest_dev *d = dev_at(g, bdf);
    if (!d || (size != 1 && size != 2 && size != 4) || off % size || off >= 4096)
        return;
    uint8_t b;
    bool virt = false;
    for (unsigned i = 0; i < size; i++)
        virt |= vbyte(d, off + i, &b);
    if (!virt) {
        pci_cfg_write(d->f, off, size, val);
        return;
    }
    pthread_mutex_lock(&irqfd_lock);
    for (unsigned i = 0; i < size; i++)
        if (vbyte(d, off + i, &b))
            vwrite(d, off + i, (uint8_t)(val >> (8 * i)));
    pthread_mutex_unlock(&irqfd_lock);
}

struct guest_dev *guest_bar_find(struct guest *g, uint64_t gpa, unsigned len, uint64_t *off)
{
    for (unsigned i = 0; i < g->ndev; i++) {
        struct guest_dev *d = &g->dev[i];
        uint64_t base = d->bar & ~((uint64_t)ACCEL_BAR0_SIZE - 1);
        if (d->assigned && gpa >= base && gpa + len <= base + ACCEL_BAR0_SIZE) {
            *off = gpa - base;
            return d;
        }
    }
    return NULL;
}
