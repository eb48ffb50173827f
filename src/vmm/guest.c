/* Building, booting and stopping an in-process guest (guest.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hw.h"
#include "vmm/guest_internal.h"
#include "vmm/sched.h"

#define GUEST_FIRST_SLOT 4      /* automatic guest BDFs: 00:04.0, 00:05.0, ... */
#define GUEST_MEM_MIN (16ULL << 20)
#define GUEST_MEM_MAX (3ULL << 30)   /* RAM stays below the BARs at 3 GiB */

/* svm=on nests the guest's first level over the host's second level:
 * every host unit needs nesting, both levels, PASIDs and page requests
 * (vtd-reference §1.4 ECAP). */
#define SVM_HOST_ECAP (HW_FM(ECAP, NEST) | HW_FM(ECAP, SLTS) | HW_FM(ECAP, FLTS) | \
                       HW_FM(ECAP, PASID) | HW_FM(ECAP, PRS) | HW_FM(ECAP, QI))

void guest_config_default(struct guest_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "guest0");
    c->mem_size = 256ULL << 20;
    c->caching_mode = true;
    c->aw_bits = 48;
}

static int check_host(struct host *h, const struct guest_config *c, char *why, size_t n)
{
    for (unsigned i = 0; c->svm && i < h->cfg.nunits; i++) {
        if ((h->iommu[i].ecap & SVM_HOST_ECAP) != SVM_HOST_ECAP)
            return snprintf(why, n, "svm=on: host remapping unit dmar%u cannot nest first level "
                                    "over second level with page requests", i), -1;
        if (c->aw_bits == 57 && !HW_FV(CAP, FL5LP, h->iommu[i].cap))
            return snprintf(why, n, "aw-bits=57: host remapping unit dmar%u has no 5-level "
                                    "first level", i), -1;
    }
    return 0;
}

/* Refuses what cannot work, fills the automatic guest BDFs. */
static int check_config(struct host *h, struct guest_config *c, char *why, size_t n)
{
    if (c->mem_size < GUEST_MEM_MIN || c->mem_size > GUEST_MEM_MAX || c->mem_size % 4096)
        return snprintf(why, n, "%s: memory must be 16M..3G in pages", c->name), -1;
    if (c->aw_bits != 48 && c->aw_bits != 57)
        return snprintf(why, n, "%s: aw-bits must be 48 or 57", c->name), -1;
    if (c->ndevs > GUEST_MAX_DEVS)
        return snprintf(why, n, "%s: at most %d assigned devices", c->name, GUEST_MAX_DEVS), -1;
    if (c->external_kernel && !c->msi_sink)
        return snprintf(why, n, "%s: an external kernel needs an MSI sink", c->name), -1;
    if (c->ndevs && !c->caching_mode)
        return snprintf(why, n, "%s: caching-mode=off: assigned devices need caching mode "
                                "(the VMM shadows what the guest invalidates)", c->name), -1;
    unsigned slot = GUEST_FIRST_SLOT;
    for (unsigned i = 0; i < c->ndevs; i++) {
        if (!c->dev[i].guest_bdf) {
            for (bool used = true; used; slot++) {
                used = false;
                for (unsigned j = 0; j < c->ndevs; j++)
                    used |= c->dev[j].guest_bdf == pci_bdf(0, slot, 0);
            }
            c->dev[i].guest_bdf = pci_bdf(0, slot - 1, 0);
        }
        for (unsigned j = 0; j < i; j++)
            if (c->dev[j].guest_bdf == c->dev[i].guest_bdf || c->dev[j].host_bdf == c->dev[i].host_bdf)
                return snprintf(why, n, "%s: device %u collides with device %u", c->name, i, j), -1;
        if (pci_bdf_bus(c->dev[i].guest_bdf) || !pci_bdf_dev(c->dev[i].guest_bdf))
            return snprintf(why, n, "%s: guest address of device %u must be on bus 0, slot 1..31",
                            c->name, i), -1;
    }
    return check_host(h, c, why, n);
}

/* Firmware: one DRHD for the virtual unit, every guest device in scope. */
static int build_dmar(struct guest *g)
{
    g->info = (struct dmar_info){ .haw = (uint8_t)g->cfg.aw_bits, .nunits = 1 };
    struct dmar_unit *u = &g->info.unit[0];
    u->base = GUEST_UNIT_BASE;
    u->include_all = true;
    for (unsigned i = 0; i < g->ndev; i++)
        u->scope[u->nscope++] = (struct dmar_scope){ 1, g->dev[i].bdf };
    g->dmar_len = dmar_build(&g->info, g->dmar, sizeof(g->dmar));
    return g->dmar_len ? 0 : -1;
}

static int boot_kernel(struct guest *g, char *why, size_t n)
{
    struct os_ops ops;
    guest_ops(g, &ops);
    os_kernel_init(&g->k, &ops, g->cfg.name);
    g->k.log_level = g->cfg.verbose ? 2 : 0;
    if (os_iommu_probe(&g->k, g->dmar, g->dmar_len, g->iommu, &g->info) != 1)
        return snprintf(why, n, "%s kernel: the virtual IOMMU did not come up", g->cfg.name), -1;
    os_svm_init(&g->svm, &g->k, g->iommu, 1, &g->info);
    for (unsigned i = 0; i < g->ndev; i++)
        if (os_accel_probe(&g->drv[i], &g->k, &g->svm, g->dev[i].bdf))
            return snprintf(why, n, "%s kernel: device %u did not probe", g->cfg.name, i), -1;
    if (os_iommu_enable_translation(&g->iommu[0]))
        return snprintf(why, n, "%s kernel: translation enable failed", g->cfg.name), -1;
    return 0;
}

static void poll_faults(void *arg)
{
    viommu_poll(((struct guest *)arg)->v);
}

static void notify(void *arg)
{
    vmm_irq_raise(&((struct guest *)arg)->irq, VMM_IRQ_POLL);
}

static int build(struct guest *g, char *why, size_t n)
{
    struct host *h = g->h;
    if (!(g->ram = gpa_map_create(h->mem, g->cfg.mem_size)))
        return snprintf(why, n, "%s: host memory cannot back %llu MiB", g->cfg.name,
                        (unsigned long long)(g->cfg.mem_size >> 20)), -1;
    gpa_set_alloc_floor(g->ram, GUEST_QUEUE_HIGH);
    g->irq.poll = poll_faults, g->irq.poll_arg = g;
    if (vmm_irq_start(&g->irq, &g->k))
        return snprintf(why, n, "%s: cannot start the interrupt thread", g->cfg.name), -1;
    struct viommu_config vc = { .host = h, .guest_ram = g->ram, .svm = g->cfg.svm,
                                .aw_bits = g->cfg.aw_bits, .msi = guest_msi, .msi_opaque = g };
    if (!(g->ifd = vc.ifd = iommufd_open(h)) || !(g->v = viommu_create(&vc)))
        return snprintf(why, n, "%s: cannot create the virtual IOMMU", g->cfg.name), -1;
    iommufd_set_notify(g->ifd, notify, g);
    for (unsigned i = 0; i < g->cfg.ndevs; i++, g->ndev++) {
        g->dev[i] = (struct guest_dev){ .host_bdf = g->cfg.dev[i].host_bdf,
                                        .bdf = g->cfg.dev[i].guest_bdf };
        if (guest_dev_assign(g, &g->dev[i], why, n))
            return -1;
    }
    if (build_dmar(g))
        return snprintf(why, n, "%s: DMAR table too large", g->cfg.name), -1;
    return g->cfg.external_kernel ? 0 : boot_kernel(g, why, n);
}

struct guest *guest_create(struct host *h, const struct guest_config *c, char *why, size_t n)
{
    struct guest *g = calloc(1, sizeof(*g));
    if (!g) {
        snprintf(why, n, "out of memory");
        return NULL;
    }
    g->h = h, g->cfg = *c;
    g->queue_next = GUEST_QUEUE_LOW;
    pthread_mutex_init(&g->queue_lock, NULL);
    if (check_config(h, &g->cfg, why, n) || build(g, why, n)) {
        guest_destroy(g);
        return NULL;
    }
    return g;
}

/* Order matters: the devices stop first (nothing new from them), then the
 * VMM's event sources are cut, the guest's interrupt thread drains what is
 * queued (its handlers may still touch the viommu), then the viommu answers
 * every outstanding page request and detaches, and the devices go back to
 * the host. */
void guest_kill(struct guest *g)
{
    if (__atomic_load_n(&g->dead, __ATOMIC_ACQUIRE))
        return;   /* killed already (one killer: the VMM thread owning the guest) */
    g->dead_clock = vmm_now_ns(NULL);
    __atomic_store_n(&g->dead, true, __ATOMIC_SEQ_CST);
    for (unsigned i = 0; i < g->ndev; i++)
        if (g->dev[i].assigned)
            accel_reset(g->h->acc[g->dev[i].hidx].dev);
    if (g->ifd)
        iommufd_set_notify(g->ifd, NULL, NULL);
}

void guest_destroy(struct guest *g)
{
    if (!g)
        return;
    guest_kill(g);
    for (unsigned i = 0; i < g->ndev; i++)
        if (g->dev[i].assigned)
            guest_dev_irq_off(&g->dev[i]);
    vmm_irq_stop(&g->irq);
    viommu_destroy(g->v);
    iommufd_close(g->ifd);
    for (unsigned i = 0; i < g->ndev; i++)
        if (g->dev[i].assigned)
            guest_dev_release(&g->dev[i]);
    gpa_map_destroy(g->ram);
    pthread_mutex_destroy(&g->queue_lock);
    free(g);
}

struct os_kernel *guest_kernel(struct guest *g) { return &g->k; }
unsigned guest_naccels(const struct guest *g) { return g->ndev; }
struct os_accel *guest_accel(struct guest *g, unsigned i) { return i < g->ndev ? &g->drv[i] : NULL; }
const struct guest_config *guest_cfg(const struct guest *g) { return &g->cfg; }
void guest_viommu_stats(struct guest *g, struct viommu_stats *s) { viommu_stats(g->v, s); }
uint64_t guest_hpa(const struct guest *g, uint64_t gpa) { return gpa_to_hpa(g->ram, gpa); }
struct gpa_map *guest_ram(struct guest *g) { return g->ram; }

const uint8_t *guest_dmar(const struct guest *g, size_t *len)
{
    *len = g->dmar_len;
    return g->dmar;
}
