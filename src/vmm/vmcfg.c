/* The VMM command line (vmcfg.h; syntax and decisions in README "vsvm run
 * with guests", issue 6 item 1). Options are read group by group (the
 * first guest, then one group per -guest); checks that need the whole line
 * (the -host platform, assignments across guests, memory) run at the end,
 * naming the argument they refuse. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/hw.h"
#include "vmm/vmcfg.h"
#include "vmm/vmcfg_lex.h"

#define GROUPS   (VMM_MAX_GUESTS + 1)   /* a leading group without guest options is no guest */

static const char *const wl_names[VMCFG_NWL] = {
    "svm_sanity", "svm_fault", "svm_storedw_loop", "svm_pointer_chase", "dma",
};

const char *vmcfg_wl_name(unsigned i)
{
    return i < VMCFG_NWL ? wl_names[i] : NULL;
}

/* One guest's options; the values are kept to name them in late checks. */
struct group {
    struct guest_config c;
    bool any;                   /* holds a guest option */
    bool all;                   /* -workload all */
    unsigned wl;
    const char *m, *machine, *name, *iommu, *workload;
    const char *dev[GUEST_MAX_DEVS];
    bool addr[GUEST_MAX_DEVS];  /* guest address given */
};

struct ps {
    struct group g[GROUPS];
    unsigned ng;
    struct host_config host;
    const char *hostarg;
    bool mem_given, accels_given;
    const char *accel;          /* -accel value, or "kvm" for -enable-kvm */
    unsigned nlisted;           /* accel-units entries */
    char *why;
    size_t n;
};

__attribute__((format(printf, 2, 3))) static int fail(struct ps *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->why, p->n, fmt, ap);
    va_end(ap);
    return -1;
}

static int split(struct ps *p, const char *opt, const char *arg, struct vmcfg_props *pr)
{
    char r[64];
    return vmcfg_split(arg, pr, r, sizeof(r)) ? fail(p, "%s %.60s: %s", opt, arg, r) : 0;
}

static int opt_host(struct ps *p, const char *v)
{
    struct vmcfg_props pr;
    if (p->hostarg)
        return fail(p, "-host %s: -host given twice (first: -host %s)", v, p->hostarg);
    p->hostarg = v;
    if (split(p, "-host", v, &pr))
        return -1;
    for (unsigned i = 0; i < pr.n; i++) {
        const char *k = pr.key[i], *x = pr.val[i];
        if (!x)
            return fail(p, "-host %s: '%s' needs a value", v, k);
        if (!strcmp(k, "units")) {
            if (vmcfg_uint(x, HOST_MAX_UNITS, &p->host.nunits) || !p->host.nunits)
                return fail(p, "-host %s: units=%s: 1..%d remapping units", v, x, HOST_MAX_UNITS);
        } else if (!strcmp(k, "accels")) {
            if (vmcfg_uint(x, HOST_MAX_ACCELS, &p->host.naccels))
                return fail(p, "-host %s: accels=%s: 0..%d accelerators", v, x, HOST_MAX_ACCELS);
            p->accels_given = true;
        } else if (!strcmp(k, "mem")) {
            uint64_t sz;
            if (vmcfg_size(x, &sz) || sz < (16ULL << 20) || sz > VMCFG_HOST_MEM_MAX || sz & 0xFFF)
                return fail(p, "-host %s: mem=%s: 16M..16G in 4K pages", v, x);
            p->host.mem_size = sz, p->mem_given = true;
        } else if (!strcmp(k, "accel-units")) {
            const char *s = x;
            for (p->nlisted = 0;; s++) {
                char num[8];
                size_t len = strcspn(s, ":");
                unsigned u;
                snprintf(num, sizeof(num), "%.*s", (int)(len < 7 ? len : 7), s);
                if (p->nlisted == HOST_MAX_ACCELS || len > 6 || vmcfg_uint(num, 999, &u))
                    return fail(p, "-host %s: accel-units=%s: unit numbers U0:U1:... (at most %d)",
                                v, x, HOST_MAX_ACCELS);
                p->host.accel_unit[p->nlisted++] = u;
                if (!s[len])
                    break;
                s += len;
            }
        } else if (!strcmp(k, "nest")) {
            bool on;   /* nest=off: units without ECAP.NEST (vtd-reference §1.4) */
            if (vmcfg_bool(x, &on))
                return fail(p, "-host %s: nest=%s: on or off", v, x);
            p->host.unit_ecap_clear = on ? 0 : HW_FM(ECAP, NEST);
        } else
            return fail(p, "-host %s: unknown property '%s' (units, accels, mem, accel-units, "
                           "nest)", v, k);
    }
    return 0;
}

static int opt_machine(struct ps *p, struct group *g, const char *v)
{
    struct vmcfg_props pr;
    if (g->machine)
        return fail(p, "-machine %s: -machine given twice for one guest", v);
    g->machine = v;
    if (split(p, "-machine", v, &pr))
        return -1;
    for (unsigned i = 0; i < pr.n; i++) {
        const char *t = !pr.val[i] && !i ? pr.key[i] : !strcmp(pr.key[i], "type") ? pr.val[i] : NULL;
        if (!t)
            return fail(p, "-machine %s: unknown property '%s'", v, pr.key[i]);
        if (strcmp(t, "q35"))
            return fail(p, "-machine %s: machine type '%s' not supported (only q35)", v, t);
    }
    return 0;
}

static int opt_m(struct ps *p, struct group *g, const char *v)
{
    if (g->m)
        return fail(p, "-m %s: -m given twice for one guest (first: -m %s)", v, g->m);
    g->m = v;
    const char *s = strncmp(v, "size=", 5) ? v : v + 5;
    uint64_t sz;
    if (vmcfg_size(s, &sz))
        return fail(p, "-m %s: bad size (a number with K, M or G; no suffix means MiB)", v);
    if (sz < VMCFG_GUEST_MEM_MIN || sz > VMCFG_GUEST_MEM_MAX || sz & 0xFFF)
        return fail(p, "-m %s: guest memory must be 16M..3G in 4K pages", v);
    g->c.mem_size = sz;
    return 0;
}

static int opt_name(struct ps *p, struct group *g, const char *v)
{
    if (g->name)
        return fail(p, "-name %s: -name given twice for one guest", v);
    g->name = v;
    size_t len = strlen(v);
    if (!len || len >= sizeof(g->c.name) || strspn(v, "abcdefghijklmnopqrstuvwxyz"
                                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != len)
        return fail(p, "-name %s: 1..%zu letters, digits, '_', '-' or '.'", v, sizeof(g->c.name) - 1);
    memcpy(g->c.name, v, len + 1);
    return 0;
}

static int dev_iommu(struct ps *p, struct group *g, const char *v, const struct vmcfg_props *pr)
{
    if (g->iommu)
        return fail(p, "-device %s: one intel-iommu per guest (already -device %s)", v, g->iommu);
    g->iommu = v;
    for (unsigned i = 1; i < pr->n; i++) {
        const char *k = pr->key[i], *x = pr->val[i];
        if (!strcmp(k, "svm") || !strcmp(k, "caching-mode")) {
            if (vmcfg_bool(x, !strcmp(k, "svm") ? &g->c.svm : &g->c.caching_mode))
                return fail(p, "-device %s: %s=%s: expected on or off", v, k, x ? x : "");
        } else if (!strcmp(k, "aw-bits")) {
            if (vmcfg_uint(x, 99, &g->c.aw_bits) || (g->c.aw_bits != 48 && g->c.aw_bits != 57))
                return fail(p, "-device %s: aw-bits=%s: expected 48 or 57", v, x ? x : "");
        } else
            return fail(p, "-device %s: unknown intel-iommu property '%s' (svm, caching-mode, aw-bits)",
                        v, k);
    }
    return 0;
}

static int dev_vfio(struct ps *p, struct group *g, const char *v, const struct vmcfg_props *pr)
{
    unsigned d = g->c.ndevs, dom = 0;
    const char *host = NULL;
    if (d == GUEST_MAX_DEVS)
        return fail(p, "-device %s: at most %d vfio-pci devices per guest", v, GUEST_MAX_DEVS);
    struct guest_dev_config *dc = &g->c.dev[d];
    for (unsigned i = 1; i < pr->n; i++) {
        const char *k = pr->key[i], *x = pr->val[i] ? pr->val[i] : "";
        unsigned slot, fn;
        if (!strcmp(k, "host")) {
            if (vmcfg_bdf(x, &dom, &dc->host_bdf))
                return fail(p, "-device %s: host=%s: expected a PCI address DDDD:BB:DD.F", v, x);
            if (dom)
                return fail(p, "-device %s: no host device %s (the host has PCI domain 0000 only)", v, x);
            host = x;
        } else if (!strcmp(k, "addr")) {
            if (vmcfg_addr(x, &slot, &fn) || slot > 0x1F)
                return fail(p, "-device %s: addr=%s: expected a guest slot DD[.F] (hex, 01..1f)", v, x);
            if (!slot)
                return fail(p, "-device %s: addr=%s: slot 00 is the host bridge's (00:00.0)", v, x);
            dc->guest_bdf = (uint16_t)(slot << 3 | fn);
            for (unsigned j = 0; j < d; j++)
                if (g->addr[j] && g->c.dev[j].guest_bdf == dc->guest_bdf)
                    return fail(p, "-device %s: guest address 00:%02x.%u already used by -device %s",
                                v, slot, fn, g->dev[j]);
            g->addr[d] = true;
        } else
            return fail(p, "-device %s: unknown vfio-pci property '%s' (host, addr)", v, k);
    }
    if (!host)
        return fail(p, "-device %s: vfio-pci needs host=DDDD:BB:DD.F", v);
    g->dev[d] = v;
    g->c.ndevs++;
    return 0;
}

static int opt_device(struct ps *p, struct group *g, const char *v)
{
    struct vmcfg_props pr;
    if (split(p, "-device", v, &pr))
        return -1;
    const char *type = pr.val[0] && !strcmp(pr.key[0], "driver") ? pr.val[0]
                     : pr.val[0] ? NULL : pr.key[0];
    if (type && !strcmp(type, "intel-iommu"))
        return dev_iommu(p, g, v, &pr);
    if (type && !strcmp(type, "vfio-pci"))
        return dev_vfio(p, g, v, &pr);
    return fail(p, "-device %s: unknown device type '%s' (intel-iommu, vfio-pci)", v,
                type ? type : pr.key[0]);
}

static int opt_workload(struct ps *p, struct group *g, const char *v)
{
    struct vmcfg_props pr;
    if (g->workload)
        return fail(p, "-workload %s: -workload given twice for one guest", v);
    g->workload = v;
    if (split(p, "-workload", v, &pr))
        return -1;
    for (unsigned i = 0, w; i < pr.n; i++) {
        if (!pr.val[i] && !strcmp(pr.key[i], "all")) {
            g->all = true;
            continue;
        }
        for (w = 0; w < VMCFG_NWL && (pr.val[i] || strcmp(pr.key[i], wl_names[w])); w++)
            ;
        if (w == VMCFG_NWL)
            return fail(p, "-workload %s: unknown workload '%s' (svm_sanity, svm_fault, "
                        "svm_storedw_loop, svm_pointer_chase, dma, all)", v, pr.key[i]);
        g->wl |= 1u << w;
    }
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(struct ps *, struct group *, const char *);
} guest_opts[] = {
    { "-machine", opt_machine }, { "-m", opt_m }, { "-name", opt_name },
    { "-device", opt_device }, { "-workload", opt_workload },
};

/* The -host platform once the whole line is read. */
static int finish_host(struct ps *p)
{
    struct host_config *h = &p->host;
    if (p->nlisted) {
        if (p->accels_given && p->nlisted != h->naccels)
            return fail(p, "-host %s: accel-units lists %u units for %u accelerators", p->hostarg,
                        p->nlisted, h->naccels);
        h->naccels = p->nlisted;
        for (unsigned i = 0; i < h->naccels; i++)
            if (h->accel_unit[i] >= h->nunits)
                return fail(p, "-host %s: accel-units: accelerator %u behind unit %u, which does "
                            "not exist (units=%u)", p->hostarg, i, h->accel_unit[i], h->nunits);
    } else
        for (unsigned i = 0; i < HOST_MAX_ACCELS; i++)
            h->accel_unit[i] = i % h->nunits;
    return 0;
}

static int finish_guest(struct ps *p, struct group *g, unsigned idx, struct vmm_config *out)
{
    struct guest_config *c = &g->c;
    const struct host_config *h = &p->host;
    if (!g->name)
        snprintf(c->name, sizeof(c->name), "guest%u", idx);
    for (unsigned j = 0; j < idx; j++)
        if (!strcmp(out->guest[j].name, c->name))
            return fail(p, "-name %s: guest name already used", c->name);
    for (unsigned d = 0; d < c->ndevs; d++) {
        uint16_t b = c->dev[d].host_bdf;
        if (!g->iommu)
            return fail(p, "-device %s: vfio-pci needs -device intel-iommu in the same guest "
                        "(devices are assigned only behind the virtual IOMMU)", g->dev[d]);
        if (!c->caching_mode)
            return fail(p, "-device %s: caching-mode=off with an assigned device: shadowing the "
                        "guest's tables into the host needs caching mode", g->iommu);
        if ((b >> 8) || (b & 7) || (b >> 3) < 2 || (b >> 3) >= 2 + h->naccels) {
            if (!h->naccels)
                return fail(p, "-device %s: no host device 0000:%02x:%02x.%x (the host has no "
                            "accelerators)", g->dev[d], b >> 8, (b >> 3) & 0x1F, b & 7);
            return fail(p, "-device %s: no host device 0000:%02x:%02x.%x (host accelerators: "
                        "0000:00:02.0 .. 0000:00:%02x.0)", g->dev[d], b >> 8, (b >> 3) & 0x1F,
                        b & 7, 1 + h->naccels);
        }
        for (unsigned j = 0; j <= idx; j++)
            for (unsigned e = 0; e < (j < idx ? out->guest[j].ndevs : d); e++)
                if ((j < idx ? out->guest[j].dev[e].host_bdf : c->dev[e].host_bdf) == b)
                    return fail(p, "-device %s: host device 0000:00:%02x.0 is already assigned "
                                "to %s", g->dev[d], b >> 3, j < idx ? out->guest[j].name : c->name);
    }
    for (unsigned d = 0, slot = VMCFG_FIRST_SLOT; d < c->ndevs; d++) {
        for (unsigned e = 0; !g->addr[d] && e < c->ndevs; e++)
            if (g->addr[e] && c->dev[e].guest_bdf >> 3 == slot)
                slot++, e = (unsigned)-1;
        if (!g->addr[d])
            c->dev[d].guest_bdf = (uint16_t)(slot++ << 3);
    }
    unsigned set = c->svm ? VMCFG_WL_SVM_SET : VMCFG_WL_DMA_SET;
    if (g->wl & ~set)
        for (unsigned w = 0; w < VMCFG_NWL; w++)
            if (g->wl & ~set & 1u << w)
                return fail(p, "-workload %s: %s needs %s", g->workload, wl_names[w],
                            c->svm ? "svm=off (with svm=on the guest's unit translates first "
                                     "level only)" : "-device intel-iommu,svm=on");
    out->workloads[idx] = !g->workload || g->all ? set : g->wl;
    out->mem_given[idx] = g->m != NULL;
    c->verbose = out->verbose;
    out->guest[idx] = *c;
    return 0;
}

_Static_assert(VMM_MAX_GUESTS * VMCFG_GUEST_MEM_MAX + VMCFG_HOST_RESERVE <= VMCFG_HOST_MEM_MAX,
               "the largest guests fit the largest host");

static uint64_t guests_total(const struct vmm_config *c)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < c->nguests; i++)
        total += c->guest[i].mem_size;
    return total;
}

/* Without -host mem=: the default, grown to the guests' total plus the
 * host's reserve when that is more. */
static void size_host(struct vmm_config *c)
{
    struct host_config d;
    host_config_default(&d);
    uint64_t need = guests_total(c) + VMCFG_HOST_RESERVE;
    if (!c->host_mem_given)
        c->host.mem_size = need > d.mem_size ? need : d.mem_size;
}

static int finish(struct ps *p, struct vmm_config *out)
{
    unsigned first = p->ng > 1 && !p->g[0].any;
    if (p->ng - first > VMM_MAX_GUESTS)
        return fail(p, "-guest: at most %d guests", VMM_MAX_GUESTS);
    if (finish_host(p))
        return -1;
    out->host = p->host;
    out->host.verbose = out->verbose;
    out->host_mem_given = p->mem_given;
    out->nguests = p->ng - first;
    for (unsigned i = 0; i < out->nguests; i++)
        if (finish_guest(p, &p->g[first + i], i, out))
            return -1;
    char why[160];
    if (out->accel == VMCFG_ACCEL_KVM) {
        if (!vmcfg_kvm_fits(out, why, sizeof(why)))
            return fail(p, "-accel kvm: %s", why);
        vmcfg_use_kvm(out);
    }
    uint64_t total = guests_total(out);
    if (p->mem_given && total + VMCFG_HOST_RESERVE > p->host.mem_size)
        return fail(p, "-host %s: %lluM of host memory cannot hold the guests' %lluM plus %lluM "
                    "for the host", p->hostarg, (unsigned long long)(p->host.mem_size >> 20),
                    (unsigned long long)(total >> 20), VMCFG_HOST_RESERVE >> 20);
    size_host(out);
    return 0;
}

static int opt_accel(struct ps *p, struct vmm_config *out, const char *opt, const char *v)
{
    if (p->accel)
        return fail(p, "%s: the accelerator was chosen already (kvm or in-process, once)", opt);
    p->accel = v;
    if (!strcmp(v, "kvm"))
        out->accel = VMCFG_ACCEL_KVM;
    else if (!strcmp(v, "in-process"))
        out->accel = VMCFG_ACCEL_IN_PROCESS;
    else
        return fail(p, "%s %s: unknown accelerator (kvm or in-process)", opt, v);
    return 0;
}

bool vmcfg_kvm_fits(const struct vmm_config *c, char *why, size_t n)
{
    for (unsigned i = 0; i < c->nguests; i++)
        if (c->mem_given[i] && c->guest[i].mem_size > VMCFG_KVM_MEM_MAX)
            return snprintf(why, n, "%s has %lluM of RAM, a KVM guest at most %lluM here (one "
                            "memory slot per scattered frame)", c->guest[i].name,
                            (unsigned long long)(c->guest[i].mem_size >> 20),
                            VMCFG_KVM_MEM_MAX >> 20), false;
    return true;
}

void vmcfg_use_kvm(struct vmm_config *c)
{
    for (unsigned i = 0; i < c->nguests; i++)
        if (!c->mem_given[i])
            c->guest[i].mem_size = VMCFG_KVM_MEM_DEFAULT;
    size_host(c);
}

static void guest_defaults(struct guest_config *c)
{
    guest_config_default(c);
    c->name[0] = 0;             /* "guestN" once the guest's index is known */
}

int vmcfg_parse(int argc, char **argv, struct vmm_config *out, char *why, size_t n)
{
    struct ps p;
    memset(&p, 0, sizeof(p));
    memset(out, 0, sizeof(*out));
    p.why = why, p.n = n, p.ng = 1;
    host_config_default(&p.host);
    guest_defaults(&p.g[0].c);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i][0] == '-' && argv[i][1] == '-' ? argv[i] + 1 : argv[i];
        struct group *g = &p.g[p.ng - 1];
        if (!strcmp(o, "-guest")) {
            if (p.ng == GROUPS || (p.ng == VMM_MAX_GUESTS && p.g[0].any))
                return fail(&p, "%s: at most %d guests", argv[i], VMM_MAX_GUESTS);
            guest_defaults(&p.g[p.ng++].c);
            continue;
        }
        if (!strcmp(o, "-accel") || !strcmp(o, "-enable-kvm")) {
            const char *opt = argv[i];
            const char *v = o[1] == 'e' ? "kvm" : i + 1 < argc ? argv[++i] : NULL;
            if (!v)
                return fail(&p, "%s needs a value (kvm or in-process)", opt);
            if (opt_accel(&p, out, opt, v))
                return -1;
            continue;
        }
        if (!strcmp(o, "-json") || !strcmp(o, "-verbose")) {
            *(o[1] == 'j' ? &out->json : &out->verbose) = true;
            continue;
        }
        unsigned k = 0;
        for (; k < sizeof(guest_opts) / sizeof(guest_opts[0]) && strcmp(o, guest_opts[k].name); k++)
            ;
        bool host = !strcmp(o, "-host");
        if (!host && k == sizeof(guest_opts) / sizeof(guest_opts[0]))
            return fail(&p, o[0] == '-' ? "unknown option '%s'" : "unexpected argument '%s'",
                        argv[i]);
        if (i + 1 >= argc)
            return fail(&p, "%s needs a value", argv[i]);
        if (host ? opt_host(&p, argv[++i]) : guest_opts[k].fn(&p, g, argv[++i]))
            return -1;
        g->any |= !host;
    }
    return finish(&p, out);
}
