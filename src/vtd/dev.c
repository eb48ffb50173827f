/* The device side of the unit (vtd-reference.md §7): endpoints attached by
 * requester id, ATS translation requests. Page requests are in prq.c,
 * device-TLB invalidation delivery in qi.c. */
#include <errno.h>

#include "lib/trace.h"
#include "vtd/internal.h"

int vtd_dev_find(const struct vtd_unit *u, uint16_t sid)
{
    for (unsigned i = 0; i < u->ndev; i++)
        if (u->dev[i].sid == sid)
            return (int)i;
    return -1;
}

int vtd_device_attach(struct vtd_unit *u, uint16_t sid, const struct vtd_dev_ops *ops, void *opaque)
{
    int rc = 0;
    spin_lock(&u->lock);
    if (vtd_dev_find(u, sid) >= 0)
        rc = -EBUSY;
    else if (u->ndev >= VTD_MAX_DEVICES)
        rc = -ENOSPC;
    else
        u->dev[u->ndev].sid = sid, u->dev[u->ndev].ops = ops, u->dev[u->ndev++].opaque = opaque;
    spin_unlock(&u->lock);
    return rc;
}

void vtd_device_detach(struct vtd_unit *u, uint16_t sid)
{
    spin_lock(&u->lock);
    int i = vtd_dev_find(u, sid);
    if (i >= 0)
        u->dev[i] = u->dev[--u->ndev];
    spin_unlock(&u->lock);
}

/* Faults a page request can resolve: the page is not present or lacks the
 * rights (first level, second level, or the final second-level step of a
 * nested walk). Everything else is a programming error of the structures. */
static bool recoverable(uint8_t f)
{
    switch (f) {
    case VTD_FR_WRITE: case VTD_FR_READ: case VTD_FR_FL_NP: case VTD_FR_SM_US:
    case VTD_FR_SM_EXEC: case VTD_FR_SM_WRITE: case VTD_FR_SM_READ:
        return true;
    default:
        return false;
    }
}

/* A translation request without the no-write flag that may not write gets
 * a read-only translation (the device asks for write access with PRI). */
void vtd_ats_translate(struct vtd_unit *u, const struct vtd_req *req, struct vtd_ats_completion *c)
{
    struct vtd_req r = *req;
    struct vtd_result res;
    r.at = VTD_AT_TRANSLATION;
    vtd_translate_norecord(u, &r, &res);
    if (res.fault && r.write && (res.fault == VTD_FR_WRITE || res.fault == VTD_FR_SM_WRITE)) {
        r.write = false;
        vtd_translate_norecord(u, &r, &res);
    }
    *c = (struct vtd_ats_completion){ .fault = res.fault };
    if (!res.fault && !res.blocked) {
        c->status = VTD_ATS_OK;
        c->addr = res.addr & ~((1ULL << res.page_shift) - 1);
        c->page_shift = res.page_shift;
        c->perm = r.write ? res.perm : res.perm & (uint8_t)~VTD_PERM_W;
    } else if (res.fault && recoverable(res.fault)) {
        c->status = VTD_ATS_NO_ACCESS;
    } else {
        c->status = VTD_ATS_UNSUPPORTED;
        if (res.fault)
            vtd_translate(u, &r, &res);   /* record it as the hardware would */
    }
    trace(vtd_ats, "sid=%#x pasid=%s%#x addr=%#llx -> status %d addr=%#llx perm=%u fault=%#x",
          req->sid, req->pasid_present ? "" : "-", req->pasid, (unsigned long long)req->addr,
          c->status, (unsigned long long)c->addr, c->perm, c->fault);
}
