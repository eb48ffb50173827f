/* The accelerator as a PCI function: its configuration space (PCI Express
 * root-complex integrated endpoint, MSI, ATS, PASID, PRI as Linux requires
 * them, os-driver-behaviour.md §3) wired to the device model's hooks, and
 * BAR0 routed to its registers. */
#ifndef VSVM_DEV_ACCEL_PCI_H
#define VSVM_DEV_ACCEL_PCI_H

#include "dev/accel.h"
#include "pci/config.h"

#define ACCEL_ATS_INVQ   32
#define ACCEL_PRI_CAP    512     /* outstanding page requests: one per PRG index */
#define ACCEL_PASID_BITS 20

struct accel_pci {
    struct pci_func func;
    struct accel *dev;
};

/* Builds the function and creates the device model (cfg as accel_create;
 * the MSI callback is the platform's). 0 or -errno. */
int accel_pci_init(struct accel_pci *p, const struct accel_config *cfg);
void accel_pci_fini(struct accel_pci *p);

#endif
