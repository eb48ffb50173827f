/* `vsvm scenario NAME --kvm` (scenario_kvm.h): test cases 2-4 with KVM
 * guests. Each guest is a kvm_machine (src/kvm/kvm_machine.h): the VMM's
 * guest machine (virtual VT-d unit, assigned accelerator) run by the guest
 * image on a /dev/kvm vCPU, whose kernel brings the unit and the device up
 * with the os layer's drivers and runs the four SVM workloads as ring-3
 * processes; each reports one console line the VMM parses.
 *   guest       — guest0 (svm=on) with accelerator 00:02.0 as its 00:04.0,
 *                 and at the same time guest1 (svm=off) with 00:03.0, whose
 *                 kernel runs the DMA workload (`dma`) and whose SVM API
 *                 must refuse svm_sanity;
 *   multi-guest — two KVM guests at once, one accelerator each, behind one
 *                 host unit, then behind two; guest0 then attacks guest1
 *                 through its device (`probe:`) and the VMM checks guest1's
 *                 frames;
 *   host-guest  — a KVM guest on 00:02.0 (dmar0) while host processes run
 *                 the workloads on 00:03.0 (dmar0) and 00:04.0 (dmar1).
 * `vsvm scenario` runs these whenever /dev/kvm is usable (cmd_scenario.c
 * picks the mode; --in-process forces the in-process cases); the JSON
 * "mode" says which ran. */
#include <stdio.h>
#include <string.h>

#include "kvm/kvm_machine.h"
#include "pci/bus.h"
#include "tools/scenario.h"
#include "tools/scenario_kvm.h"
#include "tools/json.h"

#define KVM_GUEST_MEM (64ULL << 20)     /* KVM slots: one per scattered frame (kvm.h) */
#define KVM_RUN_TIMEOUT (600ULL * 1000000000ULL)
#define KVM_PROGRAMS "iommu svm_sanity svm_fault svm_storedw_loop svm_pointer_chase"
#define MAX_ROWS 32
#define PROBE_TARGETS 16                /* the victim's frames the attacker aims at */

struct row {
    struct kvm_wl_result r;
    char machine[16];
    const char *layout;
    uint16_t device, host_device;
    unsigned unit;
    bool kvm;
};

struct kreport {
    const char *name;
    bool passed;
    unsigned units, accels;
    struct row row[MAX_ROWS];
    unsigned nrows;
    struct { char name[16]; bool svm; struct viommu_stats st; double run_ms; uint64_t exits, msis;
             char end[64]; } g[4];
    unsigned ng;
    char error[256];
};

struct kguest {
    struct kvm_machine *m;
    char name[16];
    unsigned acc;
    const char *layout;
    bool svm_off;               /* svm=off: the DMA workload, then the SVM API refused */
    const char *programs;       /* its cmdline (NULL: KVM_PROGRAMS) */
    unsigned nwl;               /* the "wl" lines it must report (0: the four workloads) */
};

static struct kvm_machine *mk(struct host *h, const char *name, unsigned acc, bool svm,
                              bool verbose, char *why, size_t n)
{
    struct guest_config c;
    guest_config_default(&c);
    snprintf(c.name, sizeof(c.name), "%s", name);
    c.svm = svm, c.verbose = verbose, c.ndevs = 1, c.dev[0].host_bdf = h->acc_bdf[acc];
    c.mem_size = KVM_GUEST_MEM;
    return kvm_machine_create(h, &c, why, n);
}

/* Creates the machines of k; false (and the error) when one fails. */
static bool mk_all(struct kreport *r, struct host *h, struct kguest *k, unsigned n, bool verbose)
{
    char why[160] = "";
    for (unsigned j = 0; j < n; j++)
        if (!(k[j].m = mk(h, k[j].name, k[j].acc, !k[j].svm_off, verbose, why, sizeof(why)))) {
            snprintf(r->error, sizeof(r->error), "%s: %s", k[j].name, why);
            return false;
        }
    return true;
}

/* An svm=off guest's svm_sanity as the in-process dma_lane reports it:
 * passed when the SVM API refused it cleanly (its bind failed, so it
 * never reached the device). */
static void svm_refused(struct kvm_wl_result *x)
{
    bool refused = !x->passed && !strncmp(x->detail, "bind failed", 11);
    *x = (struct kvm_wl_result){ .passed = refused, .faults = refused, .operations = 1,
                                 .errors = !refused };
    snprintf(x->name, sizeof(x->name), "svm_refused");
    snprintf(x->detail, sizeof(x->detail), "%s", refused ? "the SVM API refused cleanly"
                                                         : "svm_sanity was not refused");
}

/* The guest's results into the report; false when a workload is missing
 * or failed, or the run did not end with the guest's exit. */
static bool collect(struct kreport *r, struct host *h, struct kguest *k, int rc,
                    const struct kvm_report *kr, bool verbose)
{
    struct kvm_wl_result res[8];
    unsigned n = kvm_machine_results(k->m, res, 8), want = k->nwl ? k->nwl : 4;
    bool ok = rc == 0 && n == want;
    for (unsigned i = 0; i < n && r->nrows < MAX_ROWS; i++) {
        if (k->svm_off && !strcmp(res[i].name, "svm_sanity"))
            svm_refused(&res[i]);
        struct row *w = &r->row[r->nrows++];
        *w = (struct row){ .r = res[i], .layout = k->layout, .device = 0x20,
                           .host_device = h->acc_bdf[k->acc], .unit = h->cfg.accel_unit[k->acc],
                           .kvm = true };
        snprintf(w->machine, sizeof(w->machine), "%s", k->name);
        ok &= res[i].passed;
    }
    if (r->ng < 4) {
        guest_viommu_stats(kvm_machine_guest(k->m), &r->g[r->ng].st);
        snprintf(r->g[r->ng].name, sizeof(r->g[r->ng].name), "%s", k->name);
        r->g[r->ng].svm = !k->svm_off;
        r->g[r->ng].run_ms = (double)kr->run_ns / 1e6;
        r->g[r->ng].exits = kr->mmio_exits + kr->io_exits;
        struct kvm_machine_stats st;
        kvm_machine_stats(k->m, &st);
        r->g[r->ng].msis = st.msis;
        snprintf(r->g[r->ng].end, sizeof(r->g[r->ng].end), "%s", kvm_end_name(kr->end));
        r->ng++;
    }
    if (!ok || verbose) {
        char buf[1024];
        kvm_report_format(kr, buf, sizeof(buf));
        fprintf(stderr, "%s (KVM): %s%s--- console ---\n%s---\n", k->name,
                ok ? "" : "FAILED\n", buf, kvm_machine_console(k->m));
    }
    if (!ok && !r->error[0])
        snprintf(r->error, sizeof(r->error), "%s: %s", k->name,
                 rc ? kr->what : n != want ? "not every workload reported" : "a workload failed");
    return ok;
}

/* Runs the KVM guests at once (and the host lanes of rep, if any, on this
 * thread meanwhile). */
static bool run_guests(struct kreport *r, struct host *h, struct kguest *k, unsigned n,
                       struct sc_report *hostlanes, bool verbose)
{
    char why[160];
    int rc[4];
    bool ok = true;
    for (unsigned i = 0; i < n; i++)
        if ((rc[i] = kvm_machine_start(k[i].m, k[i].programs ? k[i].programs : KVM_PROGRAMS, why,
                                       sizeof(why)))) {
            snprintf(r->error, sizeof(r->error), "%s: %s", k[i].name, why);
            ok = false;
        }
    if (hostlanes)
        sc_run(hostlanes, 0);
    for (unsigned i = 0; i < n; i++) {
        struct kvm_report kr;
        memset(&kr, 0, sizeof(kr));
        if (!rc[i])
            rc[i] = kvm_machine_wait(k[i].m, KVM_RUN_TIMEOUT, &kr, why, sizeof(why));
        ok &= collect(r, h, &k[i], rc[i], &kr, verbose);
    }
    return ok;
}

static bool host_rows(struct kreport *r, struct sc_report *s)
{
    bool ok = true;
    for (unsigned i = 0; i < s->nlanes; i++)
        for (unsigned w = 0; w < s->lanes[i].nres && r->nrows < MAX_ROWS; w++) {
            const struct wl_result *x = &s->lanes[i].res[w];
            struct row *o = &r->row[r->nrows++];
            *o = (struct row){ .layout = s->lanes[i].layout, .device = s->lanes[i].device,
                               .host_device = s->lanes[i].host_device, .unit = s->lanes[i].unit };
            snprintf(o->machine, sizeof(o->machine), "%s", s->lanes[i].machine);
            snprintf(o->r.name, sizeof(o->r.name), "%s", x->name);
            o->r.passed = x->passed, o->r.operations = x->operations;
            o->r.page_requests = x->page_requests, o->r.faults = x->faults;
            o->r.errors = x->errors;
            snprintf(o->r.detail, sizeof(o->r.detail), "%s", x->detail);
            ok &= x->passed;
        }
    return ok;
}

/* guest0 (svm=on) runs the four SVM workloads while guest1 (svm=off, on
 * the other unit) runs the DMA workload in its kernel and then has its
 * SVM API refuse svm_sanity (cmd_scenario.c: dma_lane). */
static bool case_guest(struct kreport *r, bool verbose)
{
    struct host *h = sc_host(2, 2, NULL, verbose);
    if (!h)
        return snprintf(r->error, sizeof(r->error), "the host did not come up"), false;
    r->units = 2, r->accels = 2;
    struct kguest k[2] = { { .acc = 0, .name = "guest0" },
                           { .acc = 1, .name = "guest1", .layout = "svm=off", .svm_off = true,
                             .programs = "iommu dma svm_sanity", .nwl = 2 } };
    bool ok = mk_all(r, h, k, 2, verbose) && run_guests(r, h, k, 2, NULL, verbose);
    kvm_machine_destroy(k[1].m);
    kvm_machine_destroy(k[0].m);
    host_destroy(h);
    return ok;
}

static const unsigned three_accels[3] = { 0, 0, 1 };

/* The attacker's cmdline: its workloads, then the probe against the host
 * addresses of the victim's frames (cmd_scenario.c: attacker), which go to
 * target. */
static void probe_cmdline(struct kvm_machine *victim, uint64_t *target, char *cmd, size_t n)
{
    size_t len = (size_t)snprintf(cmd, n, "%s probe:", KVM_PROGRAMS);
    for (unsigned i = 0; i < PROBE_TARGETS && len < n; i++) {
        target[i] = guest_hpa(kvm_machine_guest(victim), 0x100000ULL + 0x40000ULL * i) + 0x80;
        len += (size_t)snprintf(cmd + len, n - len, "%s%llx", i ? "," : "",
                                (unsigned long long)target[i]);
    }
}

/* No victim frame holds the marker (cmd_scenario.c: check_probe): the
 * attacker's isolation_probe row among rows [first, nrows) fails if one does. */
static bool check_probe(struct kreport *r, unsigned first, const uint64_t *target, struct host *h)
{
    struct row *probe = NULL;
    for (unsigned i = first; i < r->nrows; i++)
        if (!strcmp(r->row[i].machine, "guest0") && !strcmp(r->row[i].r.name, "isolation_probe"))
            probe = &r->row[i];
    for (unsigned i = 0; probe && i < PROBE_TARGETS; i++) {
        uint32_t v = 0;
        if (!mem_read(h->mem, target[i], &v, 4) && v == KVM_PROBE_MARKER) {
            probe->r.errors++;
            if (probe->r.passed)
                snprintf(probe->r.detail, sizeof(probe->r.detail),
                         "the marker reached the other guest's frame %#llx",
                         (unsigned long long)target[i]);
            probe->r.passed = false;
        }
    }
    if (probe && !probe->r.passed && !r->error[0])
        snprintf(r->error, sizeof(r->error), "guest0: %s", probe->r.detail);
    return probe && probe->r.passed;
}

static bool case_multi_guest(struct kreport *r, bool verbose)
{
    static const struct { const char *name; unsigned a, b; } layout[2] = {
        { "one-unit", 0, 1 }, { "two-units", 0, 2 } };
    struct host *h = sc_host(2, 3, three_accels, verbose);
    if (!h)
        return snprintf(r->error, sizeof(r->error), "the host did not come up"), false;
    r->units = 2, r->accels = 3;
    bool ok = true;
    for (unsigned i = 0; ok && i < 2; i++) {
        /* guest0 also attacks guest1 through its device, after its workloads */
        char cmd[KVM_CMDLINE_MAX];
        uint64_t target[PROBE_TARGETS];
        struct kguest k[2] = { { .acc = layout[i].a, .name = "guest0", .layout = layout[i].name,
                                 .programs = cmd, .nwl = 5 },
                               { .acc = layout[i].b, .name = "guest1", .layout = layout[i].name } };
        unsigned first = r->nrows;
        if ((ok = mk_all(r, h, k, 2, verbose))) {
            probe_cmdline(k[1].m, target, cmd, sizeof(cmd));
            ok = run_guests(r, h, k, 2, NULL, verbose);
            ok &= check_probe(r, first, target, h);
        }
        kvm_machine_destroy(k[1].m);
        kvm_machine_destroy(k[0].m);
    }
    host_destroy(h);
    return ok;
}

static bool case_host_guest(struct kreport *r, bool verbose)
{
    char why[160] = "";
    struct host *h = sc_host(2, 3, three_accels, verbose);
    if (!h)
        return snprintf(r->error, sizeof(r->error), "the host did not come up"), false;
    r->units = 2, r->accels = 3;
    static struct sc_report s;
    memset(&s, 0, sizeof(s));
    struct kguest k = { .acc = 0, .name = "guest0", .layout = "shared-unit" };
    bool ok = (k.m = mk(h, "guest0", 0, true, verbose, why, sizeof(why))) != NULL;
    if (!ok) {
        snprintf(r->error, sizeof(r->error), "guest0: %s", why);
    } else {
        sc_host_lane(&s, h, 1)->layout = "shared-unit";
        sc_host_lane(&s, h, 2)->layout = "other-unit";
        ok = run_guests(r, h, &k, 1, &s, verbose);
        ok &= host_rows(r, &s);
    }
    kvm_machine_destroy(k.m);
    host_destroy(h);
    return ok;
}

static void print_json(const struct kreport *r)
{
    char b1[PCI_BDF_STRLEN], b2[PCI_BDF_STRLEN];
    printf("{\"scenario\": \"%s\", \"mode\": \"kvm\", \"passed\": %s, \"units\": %u, "
           "\"accelerators\": %u, \"guests\": [", r->name, r->passed ? "true" : "false", r->units,
           r->accels);
    for (unsigned i = 0; i < r->ng; i++)
        printf("%s{\"name\": \"%s\", \"svm\": %s, \"kvm\": true, \"end\": \"%s\", "
               "\"run_ms\": %.1f, \"exits\": %llu, \"vmsis\": %llu, "
               "\"page_requests_injected\": %llu, \"faults_injected\": %llu, "
               "\"bindings\": %llu, \"refused_entries\": %llu}", i ? ", " : "", r->g[i].name,
               r->g[i].svm ? "true" : "false", r->g[i].end, r->g[i].run_ms,
               (unsigned long long)r->g[i].exits,
               (unsigned long long)r->g[i].msis,
               (unsigned long long)r->g[i].st.page_requests,
               (unsigned long long)r->g[i].st.faults_injected,
               (unsigned long long)r->g[i].st.binds, (unsigned long long)r->g[i].st.bad_entries);
    printf("], \"workloads\": [");
    for (unsigned i = 0; i < r->nrows; i++) {
        const struct row *w = &r->row[i];
        pci_bdf_format(b1, sizeof(b1), w->device);
        pci_bdf_format(b2, sizeof(b2), w->host_device);
        printf("%s{\"workload\": \"%s\", \"machine\": \"%s\", \"kvm\": %s, \"layout\": \"%s\", "
               "\"device\": \"%s\", \"host_device\": \"%s\", \"unit\": %u, \"passed\": %s, "
               "\"operations\": %llu, \"page_requests\": %llu, \"faults\": %llu, "
               "\"errors\": %llu, \"detail\": ", i ? ", " : "", w->r.name, w->machine,
               w->kvm ? "true" : "false", w->layout ? w->layout : "", b1, b2, w->unit,
               w->r.passed ? "true" : "false", (unsigned long long)w->r.operations,
               (unsigned long long)w->r.page_requests, (unsigned long long)w->r.faults,
               (unsigned long long)w->r.errors);
        json_str(stdout, w->r.detail);
        putchar('}');
    }
    printf("]");
    if (r->error[0]) {
        printf(", \"error\": ");
        json_str(stdout, r->error);
    }
    printf("}\n");
}

static void print_text(const struct kreport *r)
{
    char b1[PCI_BDF_STRLEN], b2[PCI_BDF_STRLEN];
    printf("scenario %s (KVM guests): %s\n", r->name, r->passed ? "PASSED" : "FAILED");
    for (unsigned i = 0; i < r->nrows; i++) {
        const struct row *w = &r->row[i];
        pci_bdf_format(b1, sizeof(b1), w->device);
        pci_bdf_format(b2, sizeof(b2), w->host_device);
        printf("  %-8s%-4s %-12s %s <- %s (dmar%u)  %-18s %s  ops %llu prq %llu faults %llu "
               "errors %llu  %s\n", w->machine, w->kvm ? "kvm" : "", w->layout ? w->layout : "",
               b1, b2, w->unit, w->r.name, w->r.passed ? "ok  " : "FAIL",
               (unsigned long long)w->r.operations, (unsigned long long)w->r.page_requests,
               (unsigned long long)w->r.faults, (unsigned long long)w->r.errors, w->r.detail);
    }
    for (unsigned i = 0; i < r->ng; i++)
        printf("  %s: %.0f ms on the vCPU, %llu exits, %llu vMSIs, %llu page requests injected, "
               "%llu bindings\n", r->g[i].name, r->g[i].run_ms, (unsigned long long)r->g[i].exits,
               (unsigned long long)r->g[i].msis, (unsigned long long)r->g[i].st.page_requests,
               (unsigned long long)r->g[i].st.binds);
    if (r->error[0])
        printf("  error: %s\n", r->error);
}

int scenario_kvm(const char *name, bool json, bool verbose)
{
    static const struct { const char *name; bool (*fn)(struct kreport *, bool); } cases[] = {
        { "guest", case_guest }, { "multi-guest", case_multi_guest },
        { "host-guest", case_host_guest } };
    unsigned c = 0;
    while (c < 3 && strcmp(name, cases[c].name))
        c++;
    if (c == 3) {
        fprintf(stderr, "vsvm scenario: --kvm applies to the guest scenarios (guest, multi-guest, "
                        "host-guest), not '%s'\n", name);
        return 2;
    }
    static struct kreport r;
    memset(&r, 0, sizeof(r));
    r.name = cases[c].name;
    char kwhy[160];
    if (kvm_usable(kwhy, sizeof(kwhy))) {
        snprintf(r.error, sizeof(r.error), "KVM is not usable here: %s", kwhy);
        if (json)
            print_json(&r);
        fprintf(stderr, "vsvm scenario %s --kvm: %s; without --kvm it runs with in-process "
                        "guests\n", name, r.error);
        return 1;
    }
    r.passed = cases[c].fn(&r, verbose);
    if (json)
        print_json(&r);
    else
        print_text(&r);
    return r.passed ? 0 : 1;
}
