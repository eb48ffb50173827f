/* PCIe Page Request Interface of the device (vtd-reference.md §6): the
 * page request group index allocator bounded by the PRI allocation, the
 * requests themselves, and the page group responses the unit routes back.
 *
 * Every request is a group of one page (LPIG=1), so one response answers
 * it. An index whose request was abandoned (context reset, function reset,
 * time-out) stays reserved until its late response arrives, which is then
 * dropped, or until one more time-out period has passed: indexes are handed
 * out round robin, so a late response cannot be taken for the answer to a
 * newer request unless software answers several hundred requests later
 * than the time-out. */
#include "lib/trace.h"
#include "dev/accel_internal.h"

static void prg_release(struct accel *d, struct accel_prg *p)
{
    if (p->state == PRG_ABANDONED)
        d->pri.abandoned--;
    p->state = PRG_FREE;
    d->pri.outstanding--;
    accel_kick(d);   /* a context may wait for a free index */
}

/* The unit calls this with its lock held: record and wake, nothing more.
 * Matching follows the PCIe PRG Response: same PRG index and, for a request
 * with PASID, the same PASID. */
void accel_page_response(void *opaque, const struct vtd_page_resp *r)
{
    struct accel *d = opaque;
    trace(dev_page_response, "sid=%#x prgi=%u rc=%u", d->cfg.sid, r->prgi, r->rc);
    pthread_mutex_lock(&d->lock);
    struct accel_prg *p = r->prgi < ACCEL_PRGI_N ? &d->pri.slot[r->prgi] : NULL;
    bool match = p && (p->state == PRG_WAITING || p->state == PRG_ABANDONED) &&
                 p->pv == r->pasid_present && (!p->pv || p->pasid == r->pasid);
    if (!match) {
        INC(&d->st.responses_unexpected, 1);
        d->pri.status |= ACCEL_PRI_ST_UPRGI;
    } else if (p->state == PRG_ABANDONED) {
        INC(&d->st.responses_late, 1);
        prg_release(d, p);
    } else {
        INC(&d->st.page_responses, 1);
        p->state = PRG_ANSWERED;
        p->rc = (uint8_t)r->rc;
        if (r->rc == VTD_PRG_FAILURE)
            d->pri.status |= ACCEL_PRI_ST_RF;
        accel_kick(d);
    }
    pthread_mutex_unlock(&d->lock);
}

static void prg_reclaim(struct accel *d, const struct timespec *now)
{
    for (unsigned i = 0; d->pri.abandoned && i < ACCEL_PRGI_N; i++) {
        struct accel_prg *p = &d->pri.slot[i];
        if (p->state == PRG_ABANDONED && !accel_ts_before(now, &p->expire))
            prg_release(d, p);
    }
}

/* PRI usable: enabled with a non-zero allocation, and no Response Failure
 * pending. Decision (PCIe PRI, [UNVERIFIED] here): after a Response Failure
 * the function sends no page request until software clears RF. */
static bool pri_usable(const struct accel *d)
{
    return d->pri.enabled && d->pri.allocation && !(d->pri.status & ACCEL_PRI_ST_RF);
}

int accel_prg_alloc(struct accel *d, unsigned i, const struct accel_xid *x)
{
    struct timespec now;
    if (!pri_usable(d))
        return -2;
    accel_now(&now);
    prg_reclaim(d, &now);
    if (d->pri.outstanding >= d->pri.allocation)
        return -1;
    for (unsigned k = 0; k < ACCEL_PRGI_N; k++) {
        unsigned idx = (d->pri.next + k) % ACCEL_PRGI_N;
        struct accel_prg *p = &d->pri.slot[idx];
        if (p->state != PRG_FREE)
            continue;
        *p = (struct accel_prg){ .state = PRG_WAITING, .ctx = (int8_t)i, .pv = x->pv,
                                 .pasid = x->pv ? x->pasid : 0, .sent = now };
        d->pri.outstanding++;
        d->pri.next = (idx + 1) % ACCEL_PRGI_N;
        return (int)idx;
    }
    return -1;
}

void accel_prg_free(struct accel *d, int prgi)
{
    if (prgi >= 0 && prgi < (int)ACCEL_PRGI_N && d->pri.slot[prgi].state != PRG_FREE)
        prg_release(d, &d->pri.slot[prgi]);
}

void accel_prg_abandon(struct accel *d, int prgi)
{
    if (prgi < 0 || prgi >= (int)ACCEL_PRGI_N)
        return;
    struct accel_prg *p = &d->pri.slot[prgi];
    if (p->state == PRG_ANSWERED) {
        prg_release(d, p);
    } else if (p->state == PRG_WAITING) {
        p->state = PRG_ABANDONED;
        accel_now(&p->expire);
        accel_ts_add_ms(&p->expire, d->cfg.timeout_ms);
        d->pri.abandoned++;
    }
}

bool accel_prg_available(struct accel *d, const struct timespec *now)
{
    if (!pri_usable(d))
        return true;    /* the retry fails at once with ACCEL_ERR_PAGE_FAULT */
    prg_reclaim(d, now);
    return d->pri.outstanding < d->pri.allocation;
}

bool accel_prg_next_expiry(struct accel *d, struct timespec *t)
{
    bool any = false;
    for (unsigned i = 0; d->pri.abandoned && i < ACCEL_PRGI_N; i++) {
        const struct accel_prg *p = &d->pri.slot[i];
        if (p->state == PRG_ABANDONED && (!any || accel_ts_before(&p->expire, t)))
            *t = p->expire, any = true;
    }
    return any;
}

/* PCIe Page Request message for the page of va. Decision: read access is
 * always requested (a write needs a readable page too: first-level pages
 * cannot be write-only, §3.5), write access when the access writes. The
 * unit may answer at once (auto-response, §6.3) from inside this call. */
void accel_send_page_request(struct accel *d, const struct accel_xid *x, int prgi, uint64_t va,
                             bool write)
{
    struct vtd_page_req pr = { .sid = d->cfg.sid, .pasid_present = x->pv,
                               .pasid = x->pv ? x->pasid : 0, .addr = va & PAGE_MASK,
                               .read = true, .write = write, .priv = x->priv, .lpig = true,
                               .prgi = (uint16_t)prgi };
    INC(&d->st.page_requests, 1);
    trace(dev_page_request, "sid=%#x pasid=%s%#x va=%#llx %s prgi=%d", d->cfg.sid,
          x->pv ? "" : "-", x->pv ? x->pasid : 0, (unsigned long long)va, write ? "write" : "read",
          prgi);
    vtd_page_request(d->cfg.iommu, &pr);
}
