/* iommufd objects: the instance, bound devices, hardware info, and the
 * domains (hwpts): nest parents built by the host kernel from the guest's
 * memory map (second level, vtd-reference §3.2) and nested stage-1 domains
 * (§3.6) validated against the unit's capabilities. */
#include <errno.h>
#include <stdlib.h>

#include "iommufd/internal.h"
#include "lib/hw_regs.h"

struct ifd_dev *ifd_dev_get(struct iommufd *ifd, uint32_t id)
{
    for (unsigned i = 0; id && i < IFD_DEVS; i++)
        if (ifd->dev[i].id == id)
            return &ifd->dev[i];
    return NULL;
}

struct ifd_hwpt *ifd_hwpt_get(struct iommufd *ifd, uint32_t id)
{
    uint32_t slot = (id & ((1u << IFD_SLOT_BITS) - 1)) - 1;
    return id && slot < IFD_HWPTS && ifd->hwpt[slot].id == id ? &ifd->hwpt[slot] : NULL;
}

struct iommufd *iommufd_open(struct host *h)
{
    struct iommufd *ifd = calloc(1, sizeof(*ifd));
    if (!ifd)
        return NULL;
    ifd->h = h;
    ifd->next_id = 1, ifd->next_cookie = 1;
    ifd_att_init(ifd);
    pthread_mutex_init(&ifd->op, NULL);
    pthread_mutex_init(&ifd->lock, NULL);
    if (ifd_hook(ifd)) {
        pthread_mutex_destroy(&ifd->op);
        pthread_mutex_destroy(&ifd->lock);
        free(ifd);
        return NULL;
    }
    return ifd;
}

static void hwpt_release(struct iommufd *ifd, struct ifd_hwpt *hp)
{
    if (!hp->nested) {
        ifd_did_retire(ifd, hp->m, hp->did);
        os_sl_free(&ifd->h->k, hp->sl_root, IFD_SL_LEVELS);
        os_iommu_did_free(hp->m, hp->did);
    } else {
        struct ifd_hwpt *parent = ifd_hwpt_get(ifd, hp->parent);
        if (parent)
            parent->users--;
    }
    *hp = (struct ifd_hwpt){ 0 };
}

void iommufd_close(struct iommufd *ifd)
{
    if (!ifd)
        return;
    ifd_unhook(ifd);   /* from here on no request or fault is routed here */
    pthread_mutex_lock(&ifd->op);
    ifd_detach_all(ifd);
    for (unsigned i = 0; i < IFD_HWPTS; i++)   /* children first, then parents */
        if (ifd->hwpt[i].id && ifd->hwpt[i].nested)
            hwpt_release(ifd, &ifd->hwpt[i]);
    for (unsigned i = 0; i < IFD_HWPTS; i++)
        if (ifd->hwpt[i].id)
            hwpt_release(ifd, &ifd->hwpt[i]);
    for (unsigned i = 0; i < IFD_DEVS; i++)
        if (ifd->dev[i].id)
            ifd_rid_pasid_restore(ifd, &ifd->dev[i]);
    pthread_mutex_unlock(&ifd->op);
    pthread_mutex_destroy(&ifd->op);
    pthread_mutex_destroy(&ifd->lock);
    free(ifd);
}

static bool is_accel(const struct host *h, uint16_t bdf)
{
    for (unsigned i = 0; i < h->cfg.naccels && i < HOST_MAX_ACCELS; i++)
        if (h->acc_bdf[i] == bdf)
            return true;
    return false;
}

int iommufd_bind(struct iommufd *ifd, uint16_t bdf, uint32_t *dev_id)
{
    struct os_iommu *m = os_svm_iommu_for(&ifd->h->svm, bdf);
    struct os_iommu_dev *d = m ? os_iommu_dev(m, bdf) : NULL;
    if (!d || !d->pasid || !is_accel(ifd->h, bdf))
        return -ENODEV;
    pthread_mutex_lock(&ifd->op);
    int rc = ifd_bdf_bound(ifd->h, bdf) ? -EBUSY : -ENOSPC;
    for (unsigned i = 0; rc == -ENOSPC && i < IFD_DEVS; i++)
        if (!ifd->dev[i].id) {
            struct ifd_dev nd = { .id = ifd->next_id++, .bdf = bdf, .m = m };
            if ((rc = ifd_rid_pasid_block(ifd, &nd))) {
                ifd_rid_pasid_restore(ifd, &nd);
                break;
            }
            rc = 0;
            pthread_mutex_lock(&ifd->lock);
            ifd->dev[i] = nd;
            pthread_mutex_unlock(&ifd->lock);
            *dev_id = nd.id;
        }
    pthread_mutex_unlock(&ifd->op);
    return rc;
}

int iommufd_unbind(struct iommufd *ifd, uint32_t dev_id)
{
    pthread_mutex_lock(&ifd->op);
    struct ifd_dev *d = ifd_dev_get(ifd, dev_id);
    int rc = d ? 0 : -ENOENT;
    for (unsigned i = 0; d && i < IFD_ATTACH; i++)
        if (ifd->att[i].used && ifd->att[i].dev_id == dev_id)
            rc = -EBUSY;
    if (!rc) {
        rc = ifd_rid_pasid_restore(ifd, d);
        pthread_mutex_lock(&ifd->lock);
        *d = (struct ifd_dev){ 0 };
        pthread_mutex_unlock(&ifd->lock);
    }
    pthread_mutex_unlock(&ifd->op);
    return rc;
}

int iommufd_get_hw_info(struct iommufd *ifd, uint32_t dev_id, struct iommu_hw_info_vtd *out)
{
    pthread_mutex_lock(&ifd->op);
    struct ifd_dev *d = ifd_dev_get(ifd, dev_id);
    if (d)
        *out = (struct iommu_hw_info_vtd){ d->m->cap, d->m->ecap, d->m->index };
    pthread_mutex_unlock(&ifd->op);
    return d ? 0 : -ENOENT;
}

struct ifd_hwpt *ifd_hwpt_slot(struct iommufd *ifd)
{
    for (unsigned i = 0; i < IFD_HWPTS; i++)
        if (!ifd->hwpt[i].id)
            return &ifd->hwpt[i];
    return NULL;
}

/* A new id for the hwpt in slot hp (never 0, never one in use). */
uint32_t ifd_hwpt_new_id(struct iommufd *ifd, const struct ifd_hwpt *hp)
{
    uint32_t serial = ifd->next_id++ & ((1u << (32 - IFD_SLOT_BITS)) - 1);
    return serial << IFD_SLOT_BITS | (uint32_t)(hp - ifd->hwpt + 1);
}

static int sl_map_range(struct iommufd *ifd, struct ifd_hwpt *hp, uint64_t gpa, uint64_t len)
{
    for (uint64_t a = gpa; a < gpa + len; a += PAGE_SIZE) {
        uint64_t hpa = gpa_to_hpa(hp->ram, a);
        if (hpa == HPA_INVALID)
            return -EINVAL;
        int rc = os_sl_map(&ifd->h->k, &hp->sl_root, IFD_SL_LEVELS, a, hpa, true);
        if (rc)
            return rc;
    }
    return 0;
}

int iommufd_hwpt_alloc_parent(struct iommufd *ifd, uint32_t dev_id,
                              const struct gpa_map *guest_ram, uint32_t *hwpt_id_out)
{
    pthread_mutex_lock(&ifd->op);
    struct ifd_dev *d = ifd_dev_get(ifd, dev_id);
    struct ifd_hwpt *hp = d && guest_ram ? ifd_hwpt_slot(ifd) : NULL;
    int rc = !d || !guest_ram ? -EINVAL : !hp ? -ENOSPC : 0;
    if (!rc) {
        *hp = (struct ifd_hwpt){ .m = d->m, .ram = guest_ram, .did = os_iommu_did_alloc(d->m),
                                 .att_head = -1 };
        rc = hp->did ? sl_map_range(ifd, hp, 0, gpa_map_size(guest_ram)) : -ENOSPC;
        if (rc) {
            os_sl_free(&ifd->h->k, hp->sl_root, IFD_SL_LEVELS);
            if (hp->did)
                os_iommu_did_free(d->m, hp->did);
            *hp = (struct ifd_hwpt){ 0 };
        } else {
            hp->id = *hwpt_id_out = ifd_hwpt_new_id(ifd, hp);
        }
    }
    pthread_mutex_unlock(&ifd->op);
    return rc;
}

/* §3.6: the first-level root must be a guest page; 5-level needs
 * CAP.FL5LP; SRE needs ECAP.SRS, EAFE needs ECAP.EAFS (§2.10). */
static bool s1_valid(const struct ifd_hwpt *parent, const struct iommu_hwpt_vtd_s1 *s1)
{
    uint32_t known = IOMMU_VTD_S1_SRE | IOMMU_VTD_S1_EAFE | IOMMU_VTD_S1_WPE;
    if ((s1->pgtbl_gpa & 0xFFF) || s1->pgtbl_gpa >= gpa_map_size(parent->ram))
        return false;
    if (s1->addr_width != 48 && !(s1->addr_width == 57 && HW_FV(CAP, FL5LP, parent->m->cap)))
        return false;
    if (s1->flags & ~known)
        return false;
    if ((s1->flags & IOMMU_VTD_S1_SRE) && !HW_FV(ECAP, SRS, parent->m->ecap))
        return false;
    return !(s1->flags & IOMMU_VTD_S1_EAFE) || HW_FV(ECAP, EAFS, parent->m->ecap);
}

int iommufd_hwpt_alloc_nested(struct iommufd *ifd, uint32_t parent_id,
                              const struct iommu_hwpt_vtd_s1 *s1, uint32_t *hwpt_id_out)
{
    pthread_mutex_lock(&ifd->op);
    struct ifd_hwpt *parent = ifd_hwpt_get(ifd, parent_id), *hp = NULL;
    int rc = !parent || parent->nested || parent->paging || !s1 || !s1_valid(parent, s1)
                 ? -EINVAL : 0;
    if (!rc && !(hp = ifd_hwpt_slot(ifd)))
        rc = -ENOSPC;
    if (!rc) {
        *hp = (struct ifd_hwpt){ .id = ifd_hwpt_new_id(ifd, hp), .nested = true, .m = parent->m,
                                 .parent = parent_id, .s1 = *s1, .att_head = -1 };
        parent->users++;
        *hwpt_id_out = hp->id;
    }
    pthread_mutex_unlock(&ifd->op);
    return rc;
}

int iommufd_hwpt_free(struct iommufd *ifd, uint32_t hwpt_id)
{
    pthread_mutex_lock(&ifd->op);
    struct ifd_hwpt *hp = ifd_hwpt_get(ifd, hwpt_id);
    int rc = !hp ? -ENOENT : hp->users ? -EBUSY : 0;
    if (!rc)
        hwpt_release(ifd, hp);
    pthread_mutex_unlock(&ifd->op);
    return rc;
}

static bool range_ok(const struct ifd_hwpt *hp, uint64_t gpa, uint64_t len)
{
    return hp && !hp->nested && !hp->paging && !((gpa | len) & 0xFFF) && len &&
           gpa + len > gpa && gpa + len <= gpa_map_size(hp->ram);
}

int iommufd_parent_map(struct iommufd *ifd, uint32_t hwpt_id, uint64_t gpa, uint64_t len)
{
    pthread_mutex_lock(&ifd->op);
    struct ifd_hwpt *hp = ifd_hwpt_get(ifd, hwpt_id);
    int rc = range_ok(hp, gpa, len) ? sl_map_range(ifd, hp, gpa, len) : -EINVAL;
    pthread_mutex_unlock(&ifd->op);
    return rc;
}

int iommufd_parent_unmap(struct iommufd *ifd, uint32_t hwpt_id, uint64_t gpa, uint64_t len)
{
    pthread_mutex_lock(&ifd->op);
    struct ifd_hwpt *hp = ifd_hwpt_get(ifd, hwpt_id);
    int rc = range_ok(hp, gpa, len) ? 0 : -EINVAL;
    for (uint64_t a = gpa; !rc && a < gpa + len; a += PAGE_SIZE)
        os_sl_unmap(&ifd->h->k, hp->sl_root, IFD_SL_LEVELS, a);   /* -ENOENT: already gone */
    rc = rc ? rc : ifd_parent_flush(ifd, hp, gpa, len);
    pthread_mutex_unlock(&ifd->op);
    return rc;
}

void iommufd_get_stats(struct iommufd *ifd, struct iommufd_stats *s)
{
    s->qi_submissions = __atomic_load_n(&ifd->qi_submissions, __ATOMIC_RELAXED);
    s->qi_descriptors = __atomic_load_n(&ifd->qi_descriptors, __ATOMIC_RELAXED);
}
