/* The device model's view of its configuration: enables, BAR decoding,
 * MSI delivery with per-vector masking, PRI credits, error status bits. */
#include <errno.h>

#include "pci/internal.h"

static uint32_t reg(struct pci_func *f, enum pci_reg_id r)
{
    spin_lock(&f->lock);
    uint32_t v = pci_reg_get(f, r);
    spin_unlock(&f->lock);
    return v;
}

#define REG_FIELD(f, R, S, F) ((unsigned)HW_FV(S, F, reg(f, PCI_REG_##R)))

bool pci_mem_enabled(struct pci_func *f) { return REG_FIELD(f, COMMAND, PCI_CMD, MEM); }
bool pci_bus_master(struct pci_func *f) { return REG_FIELD(f, COMMAND, PCI_CMD, BME); }

uint64_t pci_bar_size(const struct pci_func *f, unsigned idx)
{
    return idx < PCI_NUM_BARS ? f->bar_size[idx] : 0;
}

uint64_t pci_bar_addr(struct pci_func *f, unsigned idx)
{
    if (idx >= PCI_NUM_BARS || !f->bar_size[idx])
        return 0;
    spin_lock(&f->lock);
    uint64_t a = pci_bar_decode(f, idx);
    spin_unlock(&f->lock);
    return a;
}

/* Decision: a BAR at base 0 decodes nothing: no platform assigns it, and a
 * just-reset BAR must not claim low memory if memory space is enabled
 * before the BAR is programmed. (A base is size-aligned, so a range never
 * wraps; the check is defensive.) */
int pci_bar_lookup(struct pci_func *f, uint64_t addr, uint64_t len, uint64_t *offset)
{
    int hit = -1;
    if (!len)
        return -1;
    spin_lock(&f->lock);
    bool mem = pci_reg_get(f, PCI_REG_COMMAND) & PCI_M(PCI_CMD, MEM);
    for (unsigned i = 0; mem && i < PCI_NUM_BARS && hit < 0; i++) {
        uint64_t size = f->bar_size[i], base = pci_bar_decode(f, i);
        if (!size || !base || base - 1 > UINT64_MAX - size)
            continue;
        if (addr >= base && len <= size && addr - base <= size - len) {
            *offset = addr - base;
            hit = (int)i;
        }
    }
    spin_unlock(&f->lock);
    return hit;
}

/* ---- MSI (§7.7.1) ------------------------------------------------------ */
/* Decision: an MME above MMC (software error, §7.7.1.2) allocates MMC. */
static unsigned vectors_locked(const struct pci_func *f)
{
    uint32_t ctl = pci_reg_get(f, PCI_REG_MSI_CTL);
    unsigned mmc = (unsigned)HW_FV(PCI_MSICTL, MMC, ctl), mme = (unsigned)HW_FV(PCI_MSICTL, MME, ctl);
    return 1u << (mme < mmc ? mme : mmc);
}

static uint64_t msi_addr_locked(const struct pci_func *f)
{
    return (uint64_t)pci_reg_get(f, PCI_REG_MSI_UADDR) << 32 | pci_reg_get(f, PCI_REG_MSI_ADDR);
}

bool pci_msi_message(struct pci_func *f, uint64_t *addr, uint32_t *data)
{
    spin_lock(&f->lock);
    *addr = msi_addr_locked(f);
    *data = pci_reg_get(f, PCI_REG_MSI_DATA);
    bool en = pci_reg_get(f, PCI_REG_MSI_CTL) & PCI_M(PCI_MSICTL, EN);
    spin_unlock(&f->lock);
    return en;
}

unsigned pci_msi_vectors(struct pci_func *f)
{
    spin_lock(&f->lock);
    unsigned n = f->cap[PCI_BLK_MSI] ? vectors_locked(f) : 0;
    spin_unlock(&f->lock);
    return n;
}

bool pci_msi_masked(struct pci_func *f, unsigned vec)
{
    return vec < 32 && ((reg(f, PCI_REG_MSI_MASK) >> vec) & 1);
}

/* §7.5.1.1.3: MSI is a memory write, so Bus Master Enable gates it too.
 * Decision: vectors beyond the allocated count share the allocated ones
 * (vec mod 2^MME); the message data's low MME bits carry the vector. */
enum pci_msi_status pci_msi_signal(struct pci_func *f, unsigned vec, uint64_t *addr,
                                   uint32_t *data)
{
    enum pci_msi_status st = PCI_MSI_BLOCKED;
    spin_lock(&f->lock);
    bool en = pci_reg_get(f, PCI_REG_MSI_CTL) & PCI_M(PCI_MSICTL, EN);
    bool bme = pci_reg_get(f, PCI_REG_COMMAND) & PCI_M(PCI_CMD, BME);
    if (f->cap[PCI_BLK_MSI] && en && bme) {
        unsigned n = vectors_locked(f);
        uint32_t bit = 1u << (vec & (n - 1));
        uint32_t pend = pci_reg_get(f, PCI_REG_MSI_PEND);
        if (pci_reg_get(f, PCI_REG_MSI_MASK) & bit) {
            pci_reg_put(f, PCI_REG_MSI_PEND, pend | bit);
            st = PCI_MSI_PENDING;
        } else {
            pci_reg_put(f, PCI_REG_MSI_PEND, pend & ~bit);
            *addr = msi_addr_locked(f);
            *data = (pci_reg_get(f, PCI_REG_MSI_DATA) & ~(n - 1)) | (vec & (n - 1));
            st = PCI_MSI_SEND;
        }
    }
    spin_unlock(&f->lock);
    return st;
}

/* ---- ATS / PASID ------------------------------------------------------- */
bool pci_ats_enabled(struct pci_func *f) { return REG_FIELD(f, ATS_CTL, PCI_ATSCTL, EN); }
unsigned pci_ats_stu(struct pci_func *f) { return REG_FIELD(f, ATS_CTL, PCI_ATSCTL, STU); }

unsigned pci_ats_invq_depth(struct pci_func *f)
{
    if (!f->cap[PCI_BLK_ATS])
        return 0;
    unsigned d = REG_FIELD(f, ATS_CAP, PCI_ATSCAP, INVQD);
    return d ? d : 32;
}

bool pci_pasid_enabled(struct pci_func *f) { return REG_FIELD(f, PASID_CTL, PCI_PASIDCTL, EN); }
bool pci_pasid_exec_enabled(struct pci_func *f)
{
    return REG_FIELD(f, PASID_CTL, PCI_PASIDCTL, EXEC);
}
bool pci_pasid_priv_enabled(struct pci_func *f)
{
    return REG_FIELD(f, PASID_CTL, PCI_PASIDCTL, PRIV);
}
unsigned pci_pasid_width(struct pci_func *f) { return REG_FIELD(f, PASID_CAP, PCI_PASIDCAP, WIDTH); }

/* ---- PRI (§10.5.2) ------------------------------------------------------ */
bool pci_pri_enabled(struct pci_func *f) { return REG_FIELD(f, PRI_CTL, PCI_PRICTL, EN); }
uint32_t pci_pri_allocation(struct pci_func *f) { return reg(f, PCI_REG_PRI_ALLOC); }

uint32_t pci_pri_outstanding(struct pci_func *f)
{
    spin_lock(&f->lock);
    uint32_t n = f->pri_outstanding;
    spin_unlock(&f->lock);
    return n;
}

/* Decision: an Allocation above Capacity (undefined, §10.5.2.5) is clamped
 * to Capacity; the limit is read at each request, not latched at enable. */
int pci_pri_acquire(struct pci_func *f)
{
    int rc = 0;
    spin_lock(&f->lock);
    uint32_t cap = pci_reg_get(f, PCI_REG_PRI_CAP), alloc = pci_reg_get(f, PCI_REG_PRI_ALLOC);
    uint32_t limit = alloc < cap ? alloc : cap;
    if (!(pci_reg_get(f, PCI_REG_PRI_CTL) & PCI_M(PCI_PRICTL, EN)))
        rc = -EPERM;
    else if (f->pri_outstanding >= limit)
        rc = -EBUSY;
    else
        f->pri_outstanding++;
    spin_unlock(&f->lock);
    return rc;
}

void pci_pri_release(struct pci_func *f, uint32_t n)
{
    spin_lock(&f->lock);
    f->pri_outstanding -= n < f->pri_outstanding ? n : f->pri_outstanding;
    pci_pri_update_stopped(f);
    spin_unlock(&f->lock);
}

void pci_pri_report(struct pci_func *f, enum pci_pri_error e)
{
    uint32_t bit = e == PCI_PRI_RESPONSE_FAILURE ? (uint32_t)PCI_M(PCI_PRISTS, RF)
                                                 : (uint32_t)PCI_M(PCI_PRISTS, UPRGI);
    spin_lock(&f->lock);
    pci_reg_put(f, PCI_REG_PRI_STS, pci_reg_get(f, PCI_REG_PRI_STS) | bit);
    spin_unlock(&f->lock);
}

/* ---- error status ------------------------------------------------------- */
static void set_w1c_bits(struct pci_func *f, enum pci_reg_id r, uint16_t bits)
{
    spin_lock(&f->lock);
    pci_reg_put(f, r, pci_reg_get(f, r) | (bits & pci_regs[r].w1c));
    spin_unlock(&f->lock);
}

void pci_status_set(struct pci_func *f, uint16_t bits) { set_w1c_bits(f, PCI_REG_STATUS, bits); }
void pcie_devsta_set(struct pci_func *f, uint16_t bits) { set_w1c_bits(f, PCI_REG_DEVSTA, bits); }
