/* PCI glue of the accelerator (see accel_pci.h). */
#include <errno.h>

#include "dev/accel_pci.h"

static void on_event(void *opaque, struct pci_func *f, const struct pci_event *ev)
{
    struct accel_pci *p = opaque;
    uint64_t addr;
    uint32_t data;
    switch (ev->kind) {
    case PCI_EV_COMMAND:
        accel_set_bus_master(p->dev, pci_bus_master(f));
        break;
    case PCI_EV_MSI_CTL: case PCI_EV_MSI_ADDR: case PCI_EV_MSI_DATA: case PCI_EV_MSI_MASK: {
        bool on = pci_msi_message(f, &addr, &data) && !pci_msi_masked(f, 0);
        accel_set_msi(p->dev, on, addr, data);
        break;
    }
    case PCI_EV_ATS:
        accel_set_ats(p->dev, pci_ats_enabled(f));
        break;
    case PCI_EV_PASID:
        accel_set_pasid(p->dev, pci_pasid_enabled(f));
        break;
    case PCI_EV_PRI_ENABLE: case PCI_EV_PRI_ALLOC: case PCI_EV_PRI_RESET:
        accel_set_pri(p->dev, pci_pri_enabled(f), pci_pri_allocation(f));
        break;
    default:
        break;
    }
}

static int on_mmio(void *opaque, unsigned bar, uint64_t offset, void *data, unsigned len,
                   bool is_write)
{
    struct accel_pci *p = opaque;
    uint64_t v = 0;
    if (bar != 0)
        return -EINVAL;
    if (is_write)
        __builtin_memcpy(&v, data, len);
    accel_mmio(p->dev, offset, &v, len, is_write);
    if (!is_write)
        __builtin_memcpy(data, &v, len);
    return 0;
}

static const struct pci_func_ops accel_pci_ops = { on_event, on_mmio };

int accel_pci_init(struct accel_pci *p, const struct accel_config *cfg)
{
    int rc = pci_func_init(&p->func, ACCEL_VENDOR_ID, ACCEL_DEVICE_ID, ACCEL_CLASS);
    rc = rc ? rc : pci_add_bar(&p->func, 0, ACCEL_BAR0_SIZE, true, false);
    rc = rc ? rc : pci_add_pcie_rciep(&p->func);
    rc = rc ? rc : pci_add_msi(&p->func, 1);
    rc = rc ? rc : pci_add_ats(&p->func, ACCEL_ATS_INVQ);
    rc = rc ? rc : pci_add_pasid(&p->func, ACCEL_PASID_BITS, false, true);
    rc = rc ? rc : pci_add_pri(&p->func, ACCEL_PRI_CAP);
    if (rc)
        return rc;
    if (!(p->dev = accel_create(cfg)))
        return -ENOMEM;
    pci_func_set_ops(&p->func, &accel_pci_ops, p);
    return 0;
}

void accel_pci_fini(struct accel_pci *p)
{
    accel_destroy(p->dev);
    p->dev = NULL;
}
