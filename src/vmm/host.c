/* Building the host machine and booting its kernel (see host.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/host_internal.h"

#define HOST_MEM_BASE 0x100000000ULL

void host_config_default(struct host_config *c)
{
    memset(c, 0, sizeof(*c));
    c->mem_size = 512ULL << 20;
    c->nunits = 2;
    c->naccels = 2;
    for (unsigned i = 0; i < HOST_MAX_ACCELS; i++)
        c->accel_unit[i] = i % 2;
}

static int check_config(const struct host_config *c, char *why, size_t n)
{
    if (!c->nunits || c->nunits > HOST_MAX_UNITS)
        return snprintf(why, n, "1..%d remapping units", HOST_MAX_UNITS), -1;
    if (c->naccels > HOST_MAX_ACCELS)
        return snprintf(why, n, "at most %d accelerators", HOST_MAX_ACCELS), -1;
    if (c->mem_size < (16ULL << 20) || c->mem_size > (16ULL << 30))
        return snprintf(why, n, "host memory must be 16M..16G"), -1;
    for (unsigned i = 0; i < c->naccels; i++)
        if (c->accel_unit[i] >= c->nunits)
            return snprintf(why, n, "accelerator %u behind unit %u, which does not exist", i,
                            c->accel_unit[i]), -1;
    return 0;
}

/* Firmware: places BAR0 and describes the units in the DMAR table (each
 * unit's scope lists its accelerators; the last unit also takes every
 * other device, INCLUDE_PCI_ALL). Accelerators sit on bus 0 as RCiEPs
 * (os-driver §3). */
static int build_platform(struct host *h, char *why, size_t n)
{
    struct dmar_info info = { .haw = 46, .nunits = h->cfg.nunits };
    for (unsigned i = 0; i < h->cfg.nunits; i++) {
        struct vtd_config vc;
        vtd_config_default(&vc);
        vc.reg_base = HOST_UNIT_BASE + 0x1000ULL * i;
        vc.ecap &= ~h->cfg.unit_ecap_clear;
        vc.msi = vmm_irq_msi, vc.msi_opaque = &h->irq;
        char bad[96];
        if (vtd_config_check(&vc, bad, sizeof(bad)))
            return snprintf(why, n, "remapping unit %u: %s", i, bad), -1;
        if (!(h->unit[i] = vtd_unit_create(&vc, h->mem)))
            return snprintf(why, n, "remapping unit %u", i), -1;
        info.unit[i].base = vc.reg_base;
        info.unit[i].include_all = i == h->cfg.nunits - 1;
    }
    for (unsigned i = 0; i < h->cfg.naccels; i++) {
        uint16_t bdf = h->acc_bdf[i] = (uint16_t)((2 + i) << 3);
        unsigned u = h->cfg.accel_unit[i];
        struct accel_config ac = { .mem = h->mem, .iommu = h->unit[u], .sid = bdf,
                                   .msi = vmm_irq_msi, .msi_opaque = &h->irq };
        uint64_t bar = HOST_BAR_BASE + (uint64_t)ACCEL_BAR0_SIZE * i;
        if (accel_pci_init(&h->acc[i], &ac) || pci_bus_add(h->bus, bdf, &h->acc[i].func))
            return snprintf(why, n, "accelerator %u", i), -1;
        pci_bus_cfg_write(h->bus, bdf, 0x10, 4, (uint32_t)bar);
        pci_bus_cfg_write(h->bus, bdf, 0x14, 4, (uint32_t)(bar >> 32));
        struct dmar_unit *du = &info.unit[u];
        du->scope[du->nscope++] = (struct dmar_scope){ 1, bdf };
    }
    h->dmar_len = dmar_build(&info, h->dmar, sizeof(h->dmar));
    return h->dmar_len ? 0 : (snprintf(why, n, "DMAR table too large"), -1);
}

static int boot_kernel(struct host *h, char *why, size_t n)
{
    struct os_ops ops;
    host_ops(h, &ops);
    os_kernel_init(&h->k, &ops, "host");
    h->k.log_level = h->cfg.verbose ? 2 : 0;
    int units = os_iommu_probe(&h->k, h->dmar, h->dmar_len, h->iommu, &h->info);
    if (units != (int)h->cfg.nunits)
        return snprintf(why, n, "host kernel: remapping units did not come up"), -1;
    os_svm_init(&h->svm, &h->k, h->iommu, (unsigned)units, &h->info);
    for (unsigned i = 0; i < h->cfg.naccels; i++)
        if (os_accel_probe(&h->drv[i], &h->k, &h->svm, h->acc_bdf[i]))
            return snprintf(why, n, "host kernel: accelerator %u did not probe", i), -1;
    for (int i = 0; i < units; i++)
        if (os_iommu_enable_translation(&h->iommu[i]))
            return snprintf(why, n, "host kernel: translation enable failed"), -1;
    return 0;
}

struct host *host_create(const struct host_config *c, char *why, size_t why_len)
{
    if (check_config(c, why, why_len))
        return NULL;
    struct host *h = calloc(1, sizeof(*h));
    if (!h) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    h->cfg = *c;
    if (!(h->mem = mem_arena_create(HOST_MEM_BASE, c->mem_size)) || !(h->bus = pci_bus_create())) {
        snprintf(why, why_len, "cannot allocate host memory");
        host_destroy(h);
        return NULL;
    }
    if (vmm_irq_start(&h->irq, &h->k)) {
        snprintf(why, why_len, "cannot start the interrupt thread");
        host_destroy(h);
        return NULL;
    }
    if (build_platform(h, why, why_len) || boot_kernel(h, why, why_len)) {
        host_destroy(h);
        return NULL;
    }
    return h;
}

void host_destroy(struct host *h)
{
    if (!h)
        return;
    vmm_irq_stop(&h->irq);
    for (unsigned i = 0; i < HOST_MAX_ACCELS; i++)
        if (h->acc[i].dev)
            accel_pci_fini(&h->acc[i]);
    for (unsigned i = 0; i < HOST_MAX_UNITS; i++)
        vtd_unit_destroy(h->unit[i]);
    if (h->bus)
        pci_bus_destroy(h->bus);
    mem_arena_destroy(h->mem);
    free(h);
}
