/* viommu: creation, capabilities, the register page, device assignment
 * (viommu.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hw.h"
#include "lib/hw_regs.h"
#include "viommu/internal.h"

/* Capability bits the virtual unit may advertise, each only when every
 * host unit has it (§1.3, §1.4). */
#define CAP_BOOLS  (HW_FM(CAP, PSI) | HW_FM(CAP, DWD) | HW_FM(CAP, DRD) | HW_FM(CAP, ZLR) | \
                    HW_FM(CAP, FL1GP) | HW_FM(CAP, FL5LP))
#define ECAP_BOOLS (HW_FM(ECAP, C) | HW_FM(ECAP, QI) | HW_FM(ECAP, DT) | HW_FM(ECAP, SMTS) | \
                    HW_FM(ECAP, PASID) | HW_FM(ECAP, FLTS) | HW_FM(ECAP, PRS) | \
                    HW_FM(ECAP, PDS) | HW_FM(ECAP, SRS) | HW_FM(ECAP, ERS) | \
                    HW_FM(ECAP, EAFS) | HW_FM(ECAP, NWFS) | HW_FM(ECAP, SMPWCS))
/* svm=off: no PASID, page requests, first level or nesting (viommu.h). */
#define ECAP_SVM   (HW_FM(ECAP, PRS) | HW_FM(ECAP, PDS) | HW_FM(ECAP, SRS) | HW_FM(ECAP, ERS) | \
                    HW_FM(ECAP, PASID) | HW_FM(ECAP, PSS) | HW_FM(ECAP, FLTS) | \
                    HW_FM(ECAP, EAFS))
#define CAP_SVM    (HW_FM(CAP, FL1GP) | HW_FM(CAP, FL5LP))
#define SAGAW_SL   0x6u   /* svm=off: 3- and 4-level guest second levels (the host's 48 bits) */

/* The smaller of two values of the field selected by mask m (same shift). */
static uint64_t field_min(uint64_t a, uint64_t b, uint64_t m)
{
    return (a & m) < (b & m) ? a & m : b & m;
}

/* CAP/ECAP: the model's register layout (FRO/NFR, IRO), CM=1 (§1.3: the
 * guest invalidates after making entries present), and the intersection
 * of the host units for everything else. */
static void derive_caps(const struct viommu_config *c, struct vtd_config *vc)
{
    struct host *h = c->host;
    vtd_config_default(vc);
    uint64_t cap = vc->cap, ecap = vc->ecap;
    uint64_t ncap = ~0ULL, necap = ~0ULL;
    unsigned haw = vc->haw;
    bool slts = true;
    for (unsigned i = 0; i < h->cfg.nunits && i < HOST_MAX_UNITS; i++) {
        uint64_t hc = h->iommu[i].cap, he = h->iommu[i].ecap;
        slts &= HW_FV(ECAP, SLTS, he) != 0;
        ncap = (ncap & (CAP_BOOLS | HW_FM(CAP, SAGAW)) & hc) |
               field_min(ncap, hc, HW_FM(CAP, ND)) | field_min(ncap, hc, HW_FM(CAP, MGAW)) |
               field_min(ncap, hc, HW_FM(CAP, MAMV));
        necap = (necap & ECAP_BOOLS & he) | field_min(necap, he, HW_FM(ECAP, PSS));
        unsigned uh = vtd_unit_config(h->unit[i])->haw;
        haw = uh < haw ? uh : haw;
    }
    if (slts)
        necap |= HW_FM(ECAP, PT);   /* PGTT=4 is the nest parent, a host second level */
    if (!c->svm) {
        necap &= ~ECAP_SVM;
        necap |= slts ? HW_FM(ECAP, SLTS) : 0;
        uint64_t sagaw = HW_FV(CAP, SAGAW, ncap) & SAGAW_SL;
        uint64_t mgaw = HW_FV(CAP, MGAW, ncap) < 47 ? HW_FV(CAP, MGAW, ncap) : 47;
        ncap &= ~(CAP_SVM | HW_FM(CAP, SAGAW) | HW_FM(CAP, MGAW));
        ncap |= HW_FMK(CAP, SAGAW, sagaw) | HW_FMK(CAP, MGAW, mgaw);
    }
    if (c->aw_bits == 48) {   /* §1.3 MGAW = width - 1; FL5LP: 5-level first level */
        uint64_t mgaw = HW_FV(CAP, MGAW, ncap) < 47 ? HW_FV(CAP, MGAW, ncap) : 47;
        ncap = (ncap & ~(HW_FM(CAP, FL5LP) | HW_FM(CAP, MGAW))) | HW_FMK(CAP, MGAW, mgaw);
    }
    vc->cap = (cap & (HW_FM(CAP, FRO) | HW_FM(CAP, NFR))) | ncap | HW_FM(CAP, CM);
    vc->ecap = (ecap & HW_FM(ECAP, IRO)) | necap;
    vc->haw = haw;
}

struct viommu *viommu_create(const struct viommu_config *c)
{
    if (!c || !c->host || !c->ifd || !c->guest_ram)
        return NULL;
    struct viommu *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    v->cfg = *c;
    viommu_index_init(v);
    pthread_mutex_init(&v->lock, NULL);
    struct vtd_config vc;
    derive_caps(c, &vc);
    vc.msi = c->msi, vc.msi_opaque = c->msi_opaque;
    vc.desc_hook = viommu_desc_hook, vc.desc_pre_hook = viommu_desc_pre_hook;
    vc.desc_opaque = v;
    /* svm=off shadows into host second levels: without them nothing to offer */
    bool usable = c->svm || (HW_FV(ECAP, SLTS, vc.ecap) && HW_FV(CAP, SAGAW, vc.cap));
    if (!usable || vtd_config_check(&vc, NULL, 0) ||
        !(v->vu = vtd_unit_create_guest(&vc, c->guest_ram))) {
        pthread_mutex_destroy(&v->lock);
        free(v);
        return NULL;
    }
    return v;
}

void viommu_destroy(struct viommu *v)
{
    if (!v)
        return;
    for (unsigned i = 0; i < VIOMMU_MAX_DEVS; i++)
        if (v->dev[i].used)
            vtd_device_detach(v->vu, v->dev[i].vbdf);
    vtd_unit_destroy(v->vu);   /* no more hooks or callbacks after this */
    pthread_mutex_lock(&v->lock);
    viommu_pending_flush(v);
    for (unsigned i = 0; i < VIOMMU_MAX_BINDS; i++)
        if (v->bind[i].used)
            viommu_unbind(v, &v->bind[i]);
    for (unsigned i = 0; i < HOST_MAX_UNITS; i++)
        if (v->parent[i])
            iommufd_hwpt_free(v->cfg.ifd, v->parent[i]);
    for (unsigned i = 0; i < VIOMMU_MAX_DEVS; i++)
        if (v->dev[i].used && v->dev[i].dev_id)
            iommufd_unbind(v->cfg.ifd, v->dev[i].dev_id);
    pthread_mutex_unlock(&v->lock);
    pthread_mutex_destroy(&v->lock);
    free(v);
}

uint64_t viommu_mmio_read(struct viommu *v, uint32_t off, unsigned size)
{
    return vtd_mmio_read(v->vu, off, size);
}

/* A GCMD.SRTP write latches RTADDR (§1.9): the viommu keeps the latched
 * value for PASID discovery (discover.c), read back after the unit did. */
void viommu_mmio_write(struct viommu *v, uint32_t off, unsigned size, uint64_t val)
{
    vtd_mmio_write(v->vu, off, size, val);
    pthread_mutex_lock(&v->lock);
    viommu_acc_flush(v);   /* nothing stays buffered past the write that queued it */
    pthread_mutex_unlock(&v->lock);
    if (off == REG_OFF_GCMD && (val & HW_FM(GCMD, SRTP))) {
        uint64_t rta = vtd_mmio_read(v->vu, REG_OFF_RTADDR, 8);
        pthread_mutex_lock(&v->lock);
        v->rtaddr = rta;
        pthread_mutex_unlock(&v->lock);
    }
}

struct vtd_unit *viommu_unit(struct viommu *v)
{
    return v->vu;
}

void viommu_stats(struct viommu *v, struct viommu_stats *s)
{
    pthread_mutex_lock(&v->lock);
    *s = v->stats;
    pthread_mutex_unlock(&v->lock);
}

int viommu_dev_find(const struct viommu *v, uint16_t vbdf)
{
    for (unsigned i = 0; i < VIOMMU_MAX_DEVS; i++)
        if (v->dev[i].used && v->dev[i].vbdf == vbdf)
            return (int)i;
    return -1;
}

/* Host side of an assignment (v->lock held): bind, check the host unit
 * covers what the virtual unit advertises, share or make the nest parent. */
static int assign_host(struct viommu *v, struct viommu_dev *d)
{
    struct iommufd *ifd = v->cfg.ifd;
    struct iommu_hw_info_vtd info;
    int rc = iommufd_bind(ifd, d->host_bdf, &d->dev_id);
    if (rc)
        return rc;
    const struct vtd_config *vc = vtd_unit_config(v->vu);
    rc = iommufd_get_hw_info(ifd, d->dev_id, &info);
    if (!rc && (info.unit >= HOST_MAX_UNITS || (vc->cap & CAP_BOOLS & ~info.cap) ||
                (vc->ecap & ECAP_BOOLS & ~info.ecap) ||
                ((vc->ecap & (HW_FM(ECAP, PT) | HW_FM(ECAP, SLTS))) &&
                 !HW_FV(ECAP, SLTS, info.ecap))))
        rc = -EOPNOTSUPP;
    if (!rc && !v->parent[info.unit])
        rc = iommufd_hwpt_alloc_parent(ifd, d->dev_id, v->cfg.guest_ram, &v->parent[info.unit]);
    if (rc) {
        iommufd_unbind(ifd, d->dev_id);
        d->dev_id = 0;
        return rc;
    }
    d->hunit = info.unit;
    return 0;
}

static const struct vtd_dev_ops viommu_dev_ops = {
    .ats_invalidate = viommu_ats_invalidate,
    .page_response = viommu_page_response,
};

int viommu_assign(struct viommu *v, uint16_t vbdf, uint16_t host_bdf)
{
    pthread_mutex_lock(&v->lock);
    int slot = -1, rc = 0;
    for (unsigned i = 0; i < VIOMMU_MAX_DEVS && slot < 0; i++)
        if (!v->dev[i].used)
            slot = (int)i;
    if (viommu_dev_find(v, vbdf) >= 0)
        rc = -EEXIST;
    else if (slot < 0)
        rc = -ENOSPC;
    struct viommu_dev *d = slot >= 0 ? &v->dev[slot] : NULL;
    if (!rc) {
        *d = (struct viommu_dev){ .used = true, .vbdf = vbdf, .host_bdf = host_bdf };
        if ((rc = assign_host(v, d)))
            d->used = false;
    }
    pthread_mutex_unlock(&v->lock);
    if (rc)
        return rc;
    /* Outside v->lock: the unit lock comes first in the lock order. */
    rc = vtd_device_attach(v->vu, vbdf, &viommu_dev_ops, v);
    if (rc) {
        pthread_mutex_lock(&v->lock);
        iommufd_unbind(v->cfg.ifd, d->dev_id);
        d->used = false;
        pthread_mutex_unlock(&v->lock);
    }
    return rc;
}
