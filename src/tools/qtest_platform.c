/* The qtest platform (see qtest_platform.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hw.h"
#include "tools/qtest_platform.h"

static void qt_msi(void *opaque, uint64_t addr, uint32_t data)
{
    struct qt_unit *qu = opaque;
    struct qt_platform *p = qu->p;
    if (p->nmsi >= QT_MAX_MSI) {
        p->msi_lost++;
        return;
    }
    p->msi[p->nmsi].unit = qu->index, p->msi[p->nmsi].addr = addr, p->msi[p->nmsi++].data = data;
}

static void qt_event(struct qt_platform *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void qt_event(struct qt_platform *p, const char *fmt, ...)
{
    if (p->nevents >= QT_MAX_EVENTS) {
        p->events_lost++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->events[p->nevents++], QT_EVENT_LEN, fmt, ap);
    va_end(ap);
}

static enum vtd_ats_inv_status qt_ats_inv(void *opaque, uint16_t sid, bool pv, uint32_t pasid,
                                          bool global, uint64_t addr, uint64_t size)
{
    struct qt_dev *d = opaque;
    qt_event(d->p, "inv:sid=%#x,pasid=%s%#x,global=%d,addr=%#llx,size=%#llx%s", sid,
             pv ? "" : "-", pasid, global, (unsigned long long)addr, (unsigned long long)size,
             d->timeout ? ",timeout" : "");
    return d->timeout ? VTD_ATS_INV_TIMEOUT : VTD_ATS_INV_DONE;
}

static void qt_resp(void *opaque, const struct vtd_page_resp *r)
{
    struct qt_dev *d = opaque;
    qt_event(d->p, "resp:sid=%#x,pasid=%s%#x,prgi=%u,lpig=%d,rc=%#x", r->sid,
             r->pasid_present ? "" : "-", r->pasid, r->prgi, r->lpig, r->rc);
}

static const struct vtd_dev_ops qt_dev_ops = { qt_ats_inv, qt_resp };

static int set_u64(const char *v, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 0);
    if (errno || end == v || *end)
        return -1;
    *out = x;
    return 0;
}

static int parse_opt(const char *opt, struct vtd_config *cfg, unsigned *lo, unsigned *hi)
{
    const char *eq = strchr(opt, '=');
    if (!eq)
        return -1;
    size_t klen = (size_t)(eq - opt);
    const char *v = eq + 1;
    if (klen == 3 && !strncmp(opt, "cap", 3))
        return set_u64(v, &cfg->cap);
    if (klen == 4 && !strncmp(opt, "ecap", 4))
        return set_u64(v, &cfg->ecap);
    if (klen == 2 && !strncmp(opt, "cm", 2) && (!strcmp(v, "on") || !strcmp(v, "off"))) {
        cfg->cap = (cfg->cap & ~HW_FM(CAP, CM)) | HW_FMK(CAP, CM, !strcmp(v, "on"));
        return 0;
    }
    if (klen == 5 && !strncmp(opt, "buses", 5))
        return sscanf(v, "%u-%u", lo, hi) == 2 && *lo <= *hi && *hi <= 255 ? 0 : -1;
    return -1;
}

int qt_parse_unit(const char *spec, struct vtd_config *cfg, unsigned *lo, unsigned *hi,
                  char *why, unsigned why_len)
{
    char buf[256];
    if (strlen(spec) >= sizeof(buf)) {
        snprintf(why, why_len, "unit spec too long");
        return -1;
    }
    strcpy(buf, spec);
    char *save = NULL, *tok = strtok_r(buf, ",", &save);
    *lo = 0, *hi = 255;
    if (tok && !strcmp(tok, "scalable"))
        vtd_config_default(cfg);
    else if (tok && !strcmp(tok, "legacy"))
        vtd_config_legacy(cfg);
    else {
        snprintf(why, why_len, "unit spec must start with 'scalable' or 'legacy': '%s'", spec);
        return -1;
    }
    while ((tok = strtok_r(NULL, ",", &save)))
        if (parse_opt(tok, cfg, lo, hi)) {
            snprintf(why, why_len, "bad unit option '%s' (cap=HEX, ecap=HEX, cm=on|off, buses=LO-HI)", tok);
            return -1;
        }
    if (vtd_config_check(cfg, why, why_len))
        return -1;
    return 0;
}

int qt_platform_init(struct qt_platform *p, uint64_t mem_size, const struct vtd_config *cfgs,
                     const unsigned (*ranges)[2], unsigned n, char *why, unsigned why_len)
{
    memset(p, 0, sizeof(*p));
    if (n > QT_MAX_UNITS || !mem_size || mem_size > QT_UNIT_BASE) {
        snprintf(why, why_len, "need 1..%d units and memory below %#llx", QT_MAX_UNITS,
                 (unsigned long long)QT_UNIT_BASE);
        return -1;
    }
    p->mem_size = mem_size;
    if (!(p->mem = mem_arena_create(0, mem_size))) {
        snprintf(why, why_len, "cannot allocate %llu bytes of memory", (unsigned long long)mem_size);
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        struct qt_unit *qu = &p->units[i];
        qu->cfg = cfgs[i];
        qu->cfg.reg_base = qu->base = QT_UNIT_BASE + QT_UNIT_SIZE * i;
        qu->cfg.msi = qt_msi, qu->cfg.msi_opaque = qu;
        qu->bus_lo = ranges[i][0], qu->bus_hi = ranges[i][1], qu->p = p, qu->index = i;
        if (!(qu->u = vtd_unit_create(&qu->cfg, p->mem))) {
            snprintf(why, why_len, "unit %u: invalid configuration", i);
            return -1;
        }
        p->nunits++;
    }
    return 0;
}

void qt_platform_fini(struct qt_platform *p)
{
    for (unsigned i = 0; i < p->nunits; i++)
        vtd_unit_destroy(p->units[i].u);
    mem_arena_destroy(p->mem);
}

struct qt_unit *qt_unit_at(struct qt_platform *p, uint64_t addr, uint32_t *off)
{
    for (unsigned i = 0; i < p->nunits; i++)
        if (addr >= p->units[i].base && addr - p->units[i].base < QT_UNIT_SIZE) {
            *off = (uint32_t)(addr - p->units[i].base);
            return &p->units[i];
        }
    return NULL;
}

struct qt_unit *qt_unit_for_sid(struct qt_platform *p, uint16_t sid)
{
    unsigned bus = sid >> 8;
    for (unsigned i = 0; i < p->nunits; i++)
        if (bus >= p->units[i].bus_lo && bus <= p->units[i].bus_hi)
            return &p->units[i];
    return NULL;
}

int qt_attach(struct qt_platform *p, uint16_t sid, bool timeout)
{
    struct qt_unit *qu = qt_unit_for_sid(p, sid);
    if (!qu)
        return -ENODEV;
    if (p->ndevs >= VTD_MAX_DEVICES)
        return -ENOSPC;
    struct qt_dev *d = &p->devs[p->ndevs];
    d->sid = sid, d->timeout = timeout, d->p = p;
    int rc = vtd_device_attach(qu->u, sid, &qt_dev_ops, d);
    if (!rc)
        p->ndevs++;
    return rc;
}
