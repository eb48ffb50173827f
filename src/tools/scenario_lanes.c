/* Lanes, machines and reports of the scenarios (scenario.h). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "pci/bus.h"
#include "tools/scenario.h"

struct host *sc_host(unsigned nunits, unsigned naccels, const unsigned *accel_unit, bool verbose)
{
    struct host_config c;
    char why[160];
    host_config_default(&c);
    c.nunits = nunits, c.naccels = naccels, c.verbose = verbose;
    c.mem_size = 1ULL << 30;   /* the host kernel and up to two 256 MiB guests */
    for (unsigned i = 0; i < naccels; i++)
        c.accel_unit[i] = accel_unit ? accel_unit[i] : i % nunits;
    struct host *h = host_create(&c, why, sizeof(why));
    if (!h)
        fprintf(stderr, "vsvm scenario: host: %s\n", why);
    return h;
}

struct guest *sc_guest(struct host *h, const char *name, bool svm, unsigned acc, bool verbose)
{
    struct guest_config c;
    char why[160];
    guest_config_default(&c);
    snprintf(c.name, sizeof(c.name), "%s", name);
    c.svm = svm, c.verbose = verbose, c.ndevs = 1, c.dev[0].host_bdf = h->acc_bdf[acc];
    struct guest *g = guest_create(h, &c, why, sizeof(why));
    if (!g)
        fprintf(stderr, "vsvm scenario: %s\n", why);
    return g;
}

struct sc_lane *sc_host_lane(struct sc_report *r, struct host *h, unsigned acc)
{
    struct sc_lane *l = &r->lanes[r->nlanes++];
    *l = (struct sc_lane){ .machine = "host", .k = &h->k, .a = &h->drv[acc],
                           .device = h->acc_bdf[acc], .host_device = h->acc_bdf[acc],
                           .unit = h->cfg.accel_unit[acc] };
    return l;
}

void sc_guest_lanes(struct sc_report *r, struct guest *g, struct host *h)
{
    const struct guest_config *c = guest_cfg(g);
    for (unsigned i = 0; i < guest_naccels(g); i++) {
        unsigned unit = 0;
        for (unsigned j = 0; j < h->cfg.naccels; j++)
            if (h->acc_bdf[j] == c->dev[i].host_bdf)
                unit = h->cfg.accel_unit[j];
        struct sc_lane *l = &r->lanes[r->nlanes++];
        *l = (struct sc_lane){ .k = guest_kernel(g), .a = guest_accel(g, i),
                               .device = c->dev[i].guest_bdf, .host_device = c->dev[i].host_bdf,
                               .unit = unit };
        snprintf(l->machine, sizeof(l->machine), "%s", c->name);
    }
}

static void *lane_thread(void *arg)
{
    struct sc_lane *l = arg;
    if (l->fn) {
        l->fn(l);
        return NULL;
    }
    for (unsigned w = 0; w < 4; w++)
        wl_all[w].fn(l->k, l->a, &l->res[w]);
    l->nres = 4;
    return NULL;
}

void sc_run(struct sc_report *r, unsigned first)
{
    pthread_t t[3 * SC_MAX_LANES];
    for (unsigned i = first; i < r->nlanes; i++)
        if (pthread_create(&t[i], NULL, lane_thread, &r->lanes[i]))
            lane_thread(&r->lanes[i]), t[i] = 0;
    for (unsigned i = first; i < r->nlanes; i++)
        if (t[i])
            pthread_join(t[i], NULL);
}

void sc_note_guest(struct sc_report *r, struct guest *g)
{
    const struct guest_config *c = guest_cfg(g);
    unsigned i = 0;
    while (i < r->nguests && strcmp(r->guest[i].name, c->name))
        i++;
    if (i == SC_MAX_GUESTS * 2)
        return;
    struct viommu_stats st;
    guest_viommu_stats(g, &st);
    if (i == r->nguests) {
        r->nguests++;
        snprintf(r->guest[i].name, sizeof(r->guest[i].name), "%s", c->name);
        r->guest[i].svm = c->svm;
    }
    r->guest[i].st.page_requests += st.page_requests;
    r->guest[i].st.faults_injected += st.faults_injected;
    r->guest[i].st.binds += st.binds;
    r->guest[i].st.bad_entries += st.bad_entries;
}

void sc_note_host(struct sc_report *r, struct host *h)
{
    r->host_units = h->cfg.nunits;
    r->host_accels = h->cfg.naccels;
    for (unsigned u = 0; u < h->cfg.nunits; u++)
        r->host_faults += h->iommu[u].nfault;
}

static const char *bdf(uint16_t b, char *buf)
{
    pci_bdf_format(buf, PCI_BDF_STRLEN, b);
    return buf;
}

void sc_print_text(FILE *f, const struct sc_report *r)
{
    char b1[PCI_BDF_STRLEN], b2[PCI_BDF_STRLEN];
    fprintf(f, "%-11s %-7s %-11s %-8s %-8s %-4s %-18s %-4s %7s %6s %6s  %s\n", "scenario",
            "machine", "layout", "device", "host dev", "unit", "workload", "", "ops", "prq",
            "faults", "detail");
    for (unsigned i = 0; i < r->nlanes; i++) {
        const struct sc_lane *l = &r->lanes[i];
        for (unsigned w = 0; w < l->nres; w++) {
            const struct wl_result *x = &l->res[w];
            fprintf(f, "%-11s %-7s %-11s %-8s %-8s %-4u %-18s %-4s %7llu %6llu %6llu  %s\n",
                    r->name, l->machine, l->layout ? l->layout : "-", bdf(l->device, b1),
                    bdf(l->host_device, b2), l->unit, x->name, x->passed ? "PASS" : "FAIL",
                    (unsigned long long)x->operations, (unsigned long long)x->page_requests,
                    (unsigned long long)x->faults, x->detail);
        }
    }
    for (unsigned i = 0; i < r->nguests; i++)
        fprintf(f, "%-11s %-7s svm=%s: %llu page requests injected, %llu faults injected, "
                   "%llu PASID bindings shadowed, %llu guest entries refused\n", r->name,
                r->guest[i].name, r->guest[i].svm ? "on" : "off",
                (unsigned long long)r->guest[i].st.page_requests,
                (unsigned long long)r->guest[i].st.faults_injected,
                (unsigned long long)r->guest[i].st.binds,
                (unsigned long long)r->guest[i].st.bad_entries);
    fprintf(f, "%-11s %s\n", r->name, r->passed ? "PASSED" : "FAILED");
}

void sc_print_json(FILE *f, const struct sc_report *r)
{
    char b1[PCI_BDF_STRLEN], b2[PCI_BDF_STRLEN];
    unsigned n = 0;
    fprintf(f, "{\"scenario\": \"%s\", \"mode\": \"in-process\", \"passed\": %s, \"units\": %u, "
               "\"accelerators\": %u, \"faults_recorded\": %u, \"guests\": [", r->name,
            r->passed ? "true" : "false", r->host_units, r->host_accels, r->host_faults);
    for (unsigned i = 0; i < r->nguests; i++)
        fprintf(f, "%s{\"name\": \"%s\", \"svm\": %s, \"page_requests_injected\": %llu, "
                   "\"faults_injected\": %llu, \"bindings\": %llu, \"refused_entries\": %llu}",
                i ? ", " : "", r->guest[i].name, r->guest[i].svm ? "true" : "false",
                (unsigned long long)r->guest[i].st.page_requests,
                (unsigned long long)r->guest[i].st.faults_injected,
                (unsigned long long)r->guest[i].st.binds,
                (unsigned long long)r->guest[i].st.bad_entries);
    fprintf(f, "], \"workloads\": [");
    for (unsigned i = 0; i < r->nlanes; i++) {
        const struct sc_lane *l = &r->lanes[i];
        for (unsigned w = 0; w < l->nres; w++) {
            const struct wl_result *x = &l->res[w];
            fprintf(f, "%s{\"workload\": \"%s\", \"machine\": \"%s\", \"layout\": \"%s\", "
                       "\"device\": \"%s\", \"host_device\": \"%s\", \"unit\": %u, "
                       "\"passed\": %s, \"operations\": %llu, \"page_requests\": %llu, "
                       "\"faults\": %llu, \"errors\": %llu}", n++ ? ", " : "", x->name,
                    l->machine, l->layout ? l->layout : "", bdf(l->device, b1),
                    bdf(l->host_device, b2), l->unit, x->passed ? "true" : "false",
                    (unsigned long long)x->operations, (unsigned long long)x->page_requests,
                    (unsigned long long)x->faults, (unsigned long long)x->errors);
        }
    }
    fprintf(f, "]}\n");
}
