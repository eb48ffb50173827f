/* `vsvm run` with guests (run_vm.h): README "vsvm run with guests". Every
 * guest runs its workloads on each of its devices in turn, all guests at
 * the same time: in-process (a thread per guest, here) or on KVM vCPUs
 * (run_vm_kvm.c). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "tools/run_vm.h"
#include "tools/guest_mode.h"
#include "tools/json.h"

/* The workload named by vmcfg: the SVM set wl_all, or wl_dma. */
static wl_fn find_wl(unsigned w)
{
    for (unsigned i = 0; i < sizeof(wl_all) / sizeof(wl_all[0]); i++)
        if (!strcmp(wl_all[i].name, vmcfg_wl_name(w)))
            return wl_all[i].fn;
    return !strcmp(wl_dma_entry.name, vmcfg_wl_name(w)) ? wl_dma_entry.fn : NULL;
}

static void *run_lane(void *arg)
{
    struct vm_lane *l = arg;
    for (unsigned d = 0; d < guest_naccels(l->g); d++)
        for (unsigned w = 0; w < VMCFG_NWL; w++)
            if (l->wl & 1u << w) {
                struct wl_result *r = &l->res[l->nres].r;
                l->res[l->nres].dev = d, l->res[l->nres++].wl = w;
                find_wl(w)(guest_kernel(l->g), guest_accel(l->g, d), r);
            }
    return NULL;
}

/* Host accelerator index of a host BDF (00:02.0 is 0). */
static unsigned acc_index(uint16_t host_bdf)
{
    return (host_bdf >> 3) - 2u;
}

static void print_json(const struct vmm_config *c, struct vm_lane *lanes,
                       const struct guest_mode *m, bool ok)
{
    printf("{\"command\": \"run\", \"mode\": \"%s\", \"mode_reason\": ",
           m->kvm ? "kvm" : "in-process");
    json_str(stdout, m->reason);
    printf(", \"passed\": %s, \"units\": %u, \"accelerators\": %u, \"host_memory_mib\": %llu, "
           "\"guests\": [", ok ? "true" : "false", c->host.nunits, c->host.naccels,
           (unsigned long long)(c->host.mem_size >> 20));
    for (unsigned i = 0; i < c->nguests; i++) {
        const struct guest_config *g = lanes[i].cfg;
        printf("%s{\"name\": \"%s\", \"svm\": %s, \"memory_mib\": %llu, \"aw_bits\": %u, ",
               i ? ", " : "", g->name, g->svm ? "true" : "false",
               (unsigned long long)(g->mem_size >> 20), g->aw_bits);
        if (m->kvm)
            printf("\"end\": \"%s\", \"run_ms\": %.1f, \"exits\": %llu, \"vmsis\": %llu, ",
                   kvm_end_name(lanes[i].rep.end), (double)lanes[i].rep.run_ns / 1e6,
                   (unsigned long long)(lanes[i].rep.mmio_exits + lanes[i].rep.io_exits),
                   (unsigned long long)lanes[i].st.msis);
        printf("\"devices\": [");
        for (unsigned d = 0; d < g->ndevs; d++)
            printf("%s{\"guest_bdf\": \"00:%02x.%x\", \"host_bdf\": \"0000:00:%02x.0\", \"unit\": %u}",
                   d ? ", " : "", g->dev[d].guest_bdf >> 3, g->dev[d].guest_bdf & 7,
                   g->dev[d].host_bdf >> 3, c->host.accel_unit[acc_index(g->dev[d].host_bdf)]);
        printf("], \"workloads\": [");
        for (unsigned k = 0; k < lanes[i].nres; k++) {
            const struct wl_result *r = &lanes[i].res[k].r;
            uint16_t b = g->dev[lanes[i].res[k].dev].guest_bdf;
            printf("%s{\"workload\": \"%s\", \"device\": \"00:%02x.%x\", \"passed\": %s, "
                   "\"operations\": %llu, \"page_requests\": %llu, \"faults\": %llu, "
                   "\"errors\": %llu, \"detail\": ", k ? ", " : "", vmcfg_wl_name(lanes[i].res[k].wl),
                   b >> 3, b & 7, r->passed ? "true" : "false", (unsigned long long)r->operations,
                   (unsigned long long)r->page_requests, (unsigned long long)r->faults,
                   (unsigned long long)r->errors);
            json_str(stdout, r->detail);
            putchar('}');
        }
        printf("]}");
    }
    printf("]}\n");
}

static void print_text(const struct vmm_config *c, struct vm_lane *lanes,
                       const struct guest_mode *m, bool ok)
{
    printf("host: %u remapping unit%s, %u accelerator%s, %llu MiB; %u guest%s %s (%s)\n",
           c->host.nunits, c->host.nunits == 1 ? "" : "s", c->host.naccels,
           c->host.naccels == 1 ? "" : "s", (unsigned long long)(c->host.mem_size >> 20),
           c->nguests, c->nguests == 1 ? "" : "s", m->kvm ? "on KVM" : "in-process", m->reason);
    printf("%-15s %-31s %-18s %-6s %-8s %-13s %-6s %s\n", "guest", "device (guest <- host)",
           "workload", "result", "ops", "page requests", "faults", "detail");
    for (unsigned i = 0; i < c->nguests; i++) {
        const struct guest_config *g = lanes[i].cfg;
        if (m->kvm)
            printf("%-15s KVM: %s after %.0f ms on the vCPU, %llu exits, %llu vMSIs\n", g->name,
                   lanes[i].rep.what, (double)lanes[i].rep.run_ns / 1e6,
                   (unsigned long long)(lanes[i].rep.mmio_exits + lanes[i].rep.io_exits),
                   (unsigned long long)lanes[i].st.msis);
        if (!lanes[i].nres)
            printf("%-15s (svm=%s, %llu MiB) no assigned device: nothing to run\n", g->name,
                   g->svm ? "on" : "off", (unsigned long long)(g->mem_size >> 20));
        for (unsigned k = 0; k < lanes[i].nres; k++) {
            const struct wl_result *r = &lanes[i].res[k].r;
            const struct guest_dev_config *d = &g->dev[lanes[i].res[k].dev];
            char dev[40];
            snprintf(dev, sizeof(dev), "00:%02x.%x <- 0000:00:%02x.0 (dmar%u)", d->guest_bdf >> 3,
                     d->guest_bdf & 7, d->host_bdf >> 3, c->host.accel_unit[acc_index(d->host_bdf)]);
            printf("%-15s %-31s %-18s %-6s %-8llu %-13llu %-6llu %s\n", g->name, dev,
                   vmcfg_wl_name(lanes[i].res[k].wl), r->passed ? "PASS" : "FAIL",
                   (unsigned long long)r->operations, (unsigned long long)r->page_requests,
                   (unsigned long long)r->faults, r->detail);
        }
    }
    printf("%s\n", ok ? "PASSED" : "FAILED");
}

/* -accel: as asked, or KVM when usable and every guest fits it. */
static int pick_mode(const struct vmm_config *c, struct guest_mode *m)
{
    if (guest_mode_pick(m, "run", c->accel == VMCFG_ACCEL_KVM, "-accel kvm",
                        c->accel == VMCFG_ACCEL_IN_PROCESS, "-accel in-process", ""))
        return -1;
    if (c->accel == VMCFG_ACCEL_AUTO && m->kvm && !vmcfg_kvm_fits(c, m->reason, sizeof(m->reason)))
        m->kvm = false;
    return 0;
}

/* Every guest in-process, a thread each. */
static int run_in_process(struct host *h, const struct vmm_config *c, struct vm_lane *lanes)
{
    char why[256];
    for (unsigned n = 0; n < c->nguests; n++)
        if (!(lanes[n].g = guest_create(h, lanes[n].cfg, why, sizeof(why)))) {
            size_t len = strlen(c->guest[n].name);
            bool named = !strncmp(why, c->guest[n].name, len) && why[len] == ':';
            fprintf(stderr, "vsvm run: %s: %s\n", c->guest[n].name,
                    named ? why + len + 1 + (why[len + 1] == ' ') : why);
            return -1;
        }
    pthread_t t[VMM_MAX_GUESTS];
    bool started[VMM_MAX_GUESTS];
    for (unsigned i = 0; i < c->nguests; i++)
        started[i] = !pthread_create(&t[i], NULL, run_lane, &lanes[i]);
    for (unsigned i = 0; i < c->nguests; i++)
        if (started[i])
            pthread_join(t[i], NULL);
        else
            run_lane(&lanes[i]);
    return 0;
}

int run_vm(const struct vmm_config *c)
{
    for (unsigned i = 0; i < c->nguests; i++)
        for (unsigned w = 0; w < VMCFG_NWL; w++)
            if (c->workloads[i] & 1u << w && !find_wl(w)) {
                fprintf(stderr, "vsvm run: workload %s not available\n", vmcfg_wl_name(w));
                return 1;
            }
    struct guest_mode m;
    if (pick_mode(c, &m))
        return 1;
    struct vmm_config kc = *c;          /* the guests' memory as the mode has it */
    if (m.kvm)
        vmcfg_use_kvm(&kc);
    char why[256];
    struct host *h = host_create(&kc.host, why, sizeof(why));
    if (!h) {
        fprintf(stderr, "vsvm run: host: %s\n", why);
        return 1;
    }
    static struct vm_lane lanes[VMM_MAX_GUESTS];
    memset(lanes, 0, sizeof(lanes));
    for (unsigned i = 0; i < kc.nguests; i++)
        lanes[i].cfg = &kc.guest[i], lanes[i].wl = kc.workloads[i];
    int rc = m.kvm ? run_vm_kvm(h, &kc, lanes, why, sizeof(why)) : run_in_process(h, &kc, lanes);
    if (rc && m.kvm)
        fprintf(stderr, "vsvm run: %s\n", why);
    if (!rc) {
        bool ok = true;
        for (unsigned i = 0; i < kc.nguests; i++) {
            for (unsigned k = 0; k < lanes[i].nres; k++)
                ok &= lanes[i].res[k].r.passed;
            if (m.kvm)
                ok &= lanes[i].rep.end == KVM_END_EXIT && lanes[i].rep.status != KVM_EXIT_PANIC;
        }
        kc.json ? print_json(&kc, lanes, &m, ok) : print_text(&kc, lanes, &m, ok);
        rc = !ok;
    }
    for (unsigned i = kc.nguests; i--;) {
        kvm_machine_destroy(lanes[i].m);
        guest_destroy(lanes[i].g);
    }
    host_destroy(h);
    return rc ? 1 : 0;
}
