/* `vsvm scenario NAME [--json] [--verbose] [--kvm|--in-process]`: the
 * RFC's test cases (§4) (README "Test cases"), with the guests on KVM
 * vCPUs when /dev/kvm is usable (scenario_kvm.c) and in-process otherwise
 * or with --in-process; this file holds the in-process cases:
 *   host        — 1: SVM in the host, two accelerators behind two units;
 *   guest       — 2: a guest with an assigned accelerator uses SVM (and
 *                 a second one with svm=off runs the DMA workload);
 *   multi-guest — 3: two guests with one accelerator each, behind one
 *                 host unit and then behind two, at the same time; the
 *                 first also attacks the second through its device;
 *   host-guest  — 4: host processes and a guest at the same time, sharing
 *                 a host unit;
 *   all         — 1 to 4. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cmds.h"
#include "tools/guest_mode.h"
#include "tools/json.h"
#include "tools/scenario.h"
#include "tools/scenario_kvm.h"

#define PROBE_MARKER 0x5EC0BAD5u
#define PROBE_TARGETS 16

struct probe {
    struct guest *victim;
    uint64_t target[PROBE_TARGETS];
};

/* The attacker's lane: its workloads, then the attack on the victim's
 * frames (whose host addresses it is handed), while the victim works. */
static void attacker(struct sc_lane *l)
{
    struct probe *p = l->arg;
    for (unsigned w = 0; w < 4; w++)
        wl_all[w].fn(l->k, l->a, &l->res[w]);
    for (unsigned i = 0; i < PROBE_TARGETS; i++)
        p->target[i] = guest_hpa(p->victim, 0x100000ULL + 0x40000ULL * i) + 0x80;
    wl_isolation_probe(l->k, l->a, p->target, PROBE_TARGETS, PROBE_MARKER, &l->res[4]);
    l->nres = 5;
}

/* No victim frame holds the marker. */
static void check_probe(struct host *h, struct sc_lane *l, const struct probe *p)
{
    for (unsigned i = 0; i < PROBE_TARGETS; i++) {
        uint32_t v = 0;
        if (!mem_read(h->mem, p->target[i], &v, 4) && v == PROBE_MARKER)
            wl_fail(&l->res[4], "the marker reached the other guest's frame %#llx",
                    (unsigned long long)p->target[i]);
    }
}

static bool finish(struct sc_report *r, unsigned first)
{
    bool ok = true;
    for (unsigned i = first; i < r->nlanes; i++)
        for (unsigned w = 0; w < r->lanes[i].nres; w++)
            ok &= r->lanes[i].res[w].passed;
    return ok;
}

static bool case_host(struct sc_report *r, bool verbose)
{
    struct host *h = sc_host(2, 2, NULL, verbose);
    if (!h)
        return false;
    sc_host_lane(r, h, 0);
    sc_host_lane(r, h, 1);
    sc_run(r, 0);
    sc_note_host(r, h);
    host_destroy(h);
    return finish(r, 0);
}

/* A guest with svm=off (issue 6 item 4): DMA remapping only. Its kernel's
 * DMA API maps buffers in its own second level, which the VMM shadows;
 * its SVM API refuses cleanly, without touching the device. */
static void dma_lane(struct sc_lane *l)
{
    wl_dma(l->k, l->a, &l->res[0]);
    struct wl_result *x = &l->res[1];
    wl_svm_sanity(l->k, l->a, x);
    bool refused = !x->passed && !strcmp(x->detail, "process set-up failed");
    *x = (struct wl_result){ .name = "svm_refused", .passed = refused, .faults = refused,
                             .operations = 1, .errors = !refused };
    snprintf(x->detail, sizeof(x->detail), "%s", refused ? "the SVM API refused cleanly"
                                                         : "svm_sanity was not refused");
    l->nres = 2;
}

static bool case_guest(struct sc_report *r, bool verbose)
{
    struct host *h = sc_host(2, 2, NULL, verbose);
    struct guest *g = h ? sc_guest(h, "guest0", true, 0, verbose) : NULL;
    struct guest *d = g ? sc_guest(h, "guest1", false, 1, verbose) : NULL;
    bool ok = d != NULL;
    if (d) {
        sc_guest_lanes(r, g, h);
        sc_guest_lanes(r, d, h);
        r->lanes[r->nlanes - 1].fn = dma_lane;
        r->lanes[r->nlanes - 1].layout = "svm=off";
        sc_run(r, 0);
        sc_note_guest(r, g);
        sc_note_guest(r, d);
    }
    guest_destroy(d);
    guest_destroy(g);
    if (h)
        sc_note_host(r, h);
    host_destroy(h);
    return ok && finish(r, 0);
}

/* Accelerators 0 and 1 behind unit 0, accelerator 2 behind unit 1. */
static const unsigned three_accels[3] = { 0, 0, 1 };

static bool case_multi_guest(struct sc_report *r, bool verbose)
{
    static const struct { const char *name; unsigned a, b; } layout[2] = {
        { "one-unit", 0, 1 }, { "two-units", 0, 2 } };
    struct host *h = sc_host(2, 3, three_accels, verbose);
    bool ok = h != NULL;
    for (unsigned i = 0; ok && i < 2; i++) {
        struct guest *ga = sc_guest(h, "guest0", true, layout[i].a, verbose);
        struct guest *gb = ga ? sc_guest(h, "guest1", true, layout[i].b, verbose) : NULL;
        struct probe p = { .victim = gb };
        unsigned first = r->nlanes;
        if ((ok = gb != NULL)) {
            sc_guest_lanes(r, ga, h);
            sc_guest_lanes(r, gb, h);
            r->lanes[first].fn = attacker, r->lanes[first].arg = &p;
            for (unsigned l = first; l < r->nlanes; l++)
                r->lanes[l].layout = layout[i].name;
            sc_run(r, first);
            check_probe(h, &r->lanes[first], &p);
            sc_note_guest(r, ga);
            sc_note_guest(r, gb);
        }
        guest_destroy(gb);
        guest_destroy(ga);
    }
    if (h)
        sc_note_host(r, h);
    host_destroy(h);
    return ok && finish(r, 0);
}

static bool case_host_guest(struct sc_report *r, bool verbose)
{
    struct host *h = sc_host(2, 3, three_accels, verbose);
    struct guest *g = h ? sc_guest(h, "guest0", true, 0, verbose) : NULL;
    bool ok = g != NULL;
    if (g) {
        sc_guest_lanes(r, g, h);
        sc_host_lane(r, h, 1)->layout = "shared-unit";
        sc_host_lane(r, h, 2)->layout = "other-unit";
        r->lanes[0].layout = "shared-unit";
        sc_run(r, 0);
        sc_note_guest(r, g);
    }
    guest_destroy(g);
    if (h)
        sc_note_host(r, h);
    host_destroy(h);
    return ok && finish(r, 0);
}

static const struct {
    const char *name;
    bool (*run)(struct sc_report *r, bool verbose);
} cases[] = {
    { "host", case_host },
    { "guest", case_guest },
    { "multi-guest", case_multi_guest },
    { "host-guest", case_host_guest },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static bool run_one(unsigned i, const struct guest_mode *m, bool json, bool verbose)
{
    if (m->kvm && i > 0)
        return scenario_kvm(cases[i].name, json, verbose) == 0;
    struct sc_report *r = calloc(1, sizeof(*r));
    if (!r)
        return false;
    r->name = cases[i].name;
    r->passed = cases[i].run(r, verbose);
    bool ok = r->passed;
    if (json)
        sc_print_json(stdout, r);
    else
        sc_print_text(stdout, r);
    free(r);
    return ok;
}

static int run_cases(unsigned first, unsigned last, const struct guest_mode *m, bool json,
                     bool verbose)
{
    bool all_ok = true, many = last - first > 1;
    const char *mode = m->kvm ? "kvm" : "in-process";
    if (json && many) {
        printf("{\"mode\": \"%s\", \"mode_reason\": ", mode);
        json_str(stdout, m->reason);
        printf(", \"scenarios\": [");
    } else if (!json && last > 1)
        printf("guests: %s (%s)\n", m->kvm ? "KVM" : "in-process", m->reason);
    for (unsigned i = first; i < last; i++) {
        if (json && i > first)
            printf(", ");
        fflush(stdout);
        all_ok &= run_one(i, m, json, verbose);
        fflush(stdout);
    }
    if (json && many)
        printf("], \"passed\": %s}\n", all_ok ? "true" : "false");
    else if (!json && many)
        printf("all scenarios: %s\n", all_ok ? "PASSED" : "FAILED");
    return all_ok ? 0 : 1;
}

int cmd_scenario(int argc, char **argv)
{
    bool json = false, verbose = false, kvm = false, in_process = false;
    const char *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!strcmp(argv[i], "--verbose"))
            verbose = true;
        else if (!strcmp(argv[i], "--kvm"))
            kvm = true;
        else if (!strcmp(argv[i], "--in-process"))
            in_process = true;
        else if (argv[i][0] != '-' && !name)
            name = argv[i];
        else {
            fprintf(stderr, "vsvm scenario: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!name) {
        fprintf(stderr, "usage: vsvm scenario host|guest|multi-guest|host-guest|all "
                        "[--json] [--verbose] [--kvm|--in-process]\n");
        return 2;
    }
    if (kvm && in_process) {
        fprintf(stderr, "vsvm scenario: --kvm and --in-process exclude each other\n");
        return 2;
    }
    unsigned first = 0, last = NCASES;
    if (strcmp(name, "all")) {
        while (first < NCASES && strcmp(name, cases[first].name))
            first++;
        if (first == NCASES) {
            fprintf(stderr, "vsvm scenario: unknown scenario '%s' (available: host, guest, "
                            "multi-guest, host-guest, all)\n", name);
            return 2;
        }
        last = first + 1;
    }
    if (kvm && first == 0 && last == 1) {
        fprintf(stderr, "vsvm scenario: --kvm applies to the guest scenarios (guest, "
                        "multi-guest, host-guest), not 'host'\n");
        return 2;
    }
    struct guest_mode m;      /* test case 1 has no guest: in-process whatever the mode */
    if (guest_mode_pick(&m, "scenario", kvm, "--kvm", in_process, "--in-process", " given"))
        return 1;
    return run_cases(first, last, &m, json, verbose);
}
