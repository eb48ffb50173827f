/* DMA request translation: mode checks, the IOTLB, the walks, the
 * interrupt-range check and fault reporting (vtd-reference.md §1.6, §3, §5). */
#include "lib/trace.h"
#include "vtd/xlate.h"

#define INTR_BASE 0xFEE00000ULL
#define INTR_END  0xFEEFFFFFULL

/* Root-table mode latched by SRTP (§1.6): TTM=10, TTM=01 without SMTS and
 * TTM=11 without ADMS fault with 0x30; TTM=11 with ADMS blocks every
 * request without a record; legacy mode refuses requests with PASID. */
static uint8_t check_ttm(const struct vtd_unit *u, const struct vtd_req *req, bool *blocked)
{
    switch (u->ttm) {
    case 0:
        return req->pasid_present ? VTD_FR_SM_TTM_PASID : 0;
    case 1:
        return ECAP(u, SMTS) ? 0 : VTD_FR_SM_RTADDR_INVALID;
    case 3:
        if (!ECAP(u, ADMS))
            return VTD_FR_SM_RTADDR_INVALID;
        *blocked = true;
        return 0;
    default:
        return VTD_FR_SM_RTADDR_INVALID;
    }
}

static uint8_t kind_of(enum xl_mode m)
{
    return m == XL_FL ? IOTLB_FL : m == XL_NESTED ? IOTLB_NESTED : IOTLB_SL;
}

static unsigned req_acc(const struct vtd_req *req)
{
    return (req->write ? ACC_W : ACC_R) | (req->exec ? ACC_X : 0);
}

/* Legacy requests carry no execute (it exists only for requests with a
 * PASID), so a legacy translation grants read and write only. */
static uint8_t granted(const struct xl *x, uint8_t attr)
{
    if (x->mode == XL_SL)
        return (uint8_t)(((attr & IOTLB_A_R) ? VTD_PERM_R : 0) | ((attr & IOTLB_A_W) ? VTD_PERM_W : 0) |
                         ((attr & IOTLB_A_X) && x->sm ? VTD_PERM_X : 0));
    return fl_granted(x->fl, attr, x->priv);
}

/* An IOTLB entry serves the request if its rights allow it and, for a
 * write, the dirty bits it depends on are already set. */
static bool hit_usable(const struct xl *x, const struct iotlb_entry *e, const struct vtd_req *req)
{
    if (e->kind != kind_of(x->mode))
        return false;
    if (req->write && !(e->attr & IOTLB_A_DIRTY))
        return false;
    if (x->mode != XL_SL && fl_check_perm(x->fl, e->attr, req, x->priv))
        return false;
    return !sl_check_perm(x->sm ? &sl_codes_sm : &sl_codes_legacy, e->attr, req_acc(req));
}

/* Walks without side effects; commit() makes the A/D updates once the
 * request is known to succeed (no fault after the walk may leave them). */
static uint8_t walk(struct vtd_unit *u, const struct xl *x, const struct vtd_req *req,
                    struct walk_out *o, struct fl_path *path)
{
    if (x->mode == XL_SL)
        return sl_walk(u, x->sl, req->addr, req_acc(req), o, false);
    return fl_walk(u, x->fl, req, x->priv, o, path);
}

static void commit(struct vtd_unit *u, const struct xl *x, const struct vtd_req *req,
                   const struct fl_path *path)
{
    struct walk_out o;
    if (x->mode == XL_SL) {
        if (x->sl->slade)
            sl_walk(u, x->sl, req->addr, req_acc(req), &o, true);
    } else {
        fl_commit(u, x->fl, path);
    }
}

/* §3.3 step 7: an untranslated or translation request whose output page
 * overlaps 0xFEE00000-0xFEEFFFFF is blocked (decision: overlap, so a
 * large page containing the range is never handed out); so is a translated
 * request into it (decision: the model never lets a device DMA reach the
 * interrupt range). */
static bool in_intr_range(uint64_t page, unsigned shift)
{
    uint64_t end = page + ((1ULL << shift) - 1);
    return page <= INTR_END && end >= INTR_BASE;
}

/* Pass-through (§3.3): output = input, within the host address width. */
static uint8_t passthrough(const struct vtd_unit *u, const struct xl *x, uint64_t addr,
                           struct vtd_result *res)
{
    if (u->cfg.haw < 64 && (addr >> u->cfg.haw))
        return x->sm ? VTD_FR_SM_ADDR_WIDTH : VTD_FR_ADDR_WIDTH;
    res->addr = addr;
    res->page_shift = 12;
    res->perm = VTD_PERM_R | VTD_PERM_W | (x->sm ? VTD_PERM_X : 0);
    return 0;
}

static uint8_t intr_fault(const struct xl *x)
{
    return x->sm ? VTD_FR_SM_INTR_ADDR : VTD_FR_INTR_ADDR;
}

static uint8_t translate_mapped(struct vtd_unit *u, const struct xl *x, const struct vtd_req *req,
                                struct vtd_result *res)
{
    const struct iotlb_entry *e = iotlb_lookup(&u->cache, x->did, x->pasid, req->addr);
    struct walk_out o;
    struct fl_path path;
    if (e && hit_usable(x, e, req)) {
        u->stats.iotlb_hits++;
        res->cached = true;
        o = (struct walk_out){ .out = e->out, .shift = e->shift, .attr = e->attr };
        trace(vtd_iotlb_hit, "did=%u pasid=%#x addr=%#llx", x->did, x->pasid,
              (unsigned long long)req->addr);
    } else {
        u->stats.iotlb_misses++;
        uint8_t f = walk(u, x, req, &o, &path);
        if (f)
            return f;
        if (in_intr_range(o.out, o.shift))
            return intr_fault(x);
        commit(u, x, req, &path);
        struct iotlb_entry ne = { .vpn = req->addr >> o.shift, .out = o.out, .pasid = x->pasid,
                                  .did = x->did, .shift = (uint8_t)o.shift,
                                  .kind = kind_of(x->mode), .attr = o.attr };
        iotlb_fill(&u->cache, &ne);
    }
    res->addr = o.out | (req->addr & ((1ULL << o.shift) - 1));
    res->page_shift = (uint8_t)o.shift;
    res->perm = granted(x, o.attr);
    return 0;
}

static uint8_t translate_locked(struct vtd_unit *u, const struct vtd_req *req,
                                struct vtd_result *res, struct xl *x)
{
    bool blocked = false;
    uint8_t f = check_ttm(u, req, &blocked);
    if (f || blocked) {
        res->blocked = blocked;
        return f;
    }
    f = u->ttm == 1 ? xl_sm_context(u, req, x) : xl_legacy_context(u, req, x);
    if (f)
        return f;
    res->did = x->did;
    if (req->at == VTD_AT_TRANSLATED || x->mode == XL_PT)
        f = passthrough(u, x, req->addr, res);   /* translated: already an HPA */
    else
        f = translate_mapped(u, x, req, res);
    if (!f && in_intr_range(res->addr & ~((1ULL << res->page_shift) - 1), res->page_shift))
        f = intr_fault(x);
    return f;
}

/* Execute and privileged-mode are attributes of the PASID TLP prefix: a
 * request without PASID has neither (its privilege comes from RID_PRIV). */
static void translate(struct vtd_unit *u, const struct vtd_req *in, struct vtd_result *res,
                      bool record)
{
    struct vtd_req rq;
    const struct vtd_req *req = in;
    if (!in->pasid_present && (in->exec || in->priv)) {
        rq = *in;
        rq.exec = rq.priv = false;
        req = &rq;
    }
    struct xl x = { .sm = false };
    *res = (struct vtd_result){ .fault = 0 };
    spin_lock(&u->lock);
    u->stats.translations++;
    if (!vtd_gstatus(u, HW_FM(GSTS, TES))) {
        res->addr = req->addr;       /* translation disabled: untranslated pass */
        res->page_shift = 12;
        res->perm = VTD_PERM_R | VTD_PERM_W | VTD_PERM_X;
        spin_unlock(&u->lock);
        return;
    }
    uint8_t f = translate_locked(u, req, res, &x);
    if (f) {
        res->fault = f;
        res->qualified = vtd_fault_qualified(f);
        res->fpd = x.fpd;
        u->stats.faults++;
        if (res->qualified && x.fpd)
            u->stats.faults_suppressed++;
        else if (record)
            res->recorded = vtd_fault_record(u, req, f, false);
        trace(vtd_xlate_fault, "sid=%#x pasid=%s%#x addr=%#llx %s: reason %#x (%s)%s%s",
              req->sid, req->pasid_present ? "" : "-", req->pasid,
              (unsigned long long)req->addr, req->write ? "write" : "read", f,
              vtd_fault_name(f), res->qualified ? " qualified" : "",
              res->qualified && x.fpd ? " suppressed by FPD" : "");
    }
    spin_unlock(&u->lock);
    trace(vtd_xlate, "sid=%#x addr=%#llx -> %#llx shift=%u perm=%u fault=%#x%s", req->sid,
          (unsigned long long)req->addr, (unsigned long long)res->addr, res->page_shift,
          res->perm, res->fault, res->cached ? " (iotlb)" : "");
}

void vtd_translate(struct vtd_unit *u, const struct vtd_req *req, struct vtd_result *res)
{
    translate(u, req, res, true);
}

void vtd_translate_norecord(struct vtd_unit *u, const struct vtd_req *req, struct vtd_result *res)
{
    translate(u, req, res, false);
}
