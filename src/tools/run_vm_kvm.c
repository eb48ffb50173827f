/* `vsvm run` with KVM guests (run_vm.h, issue 7 item 4): each guest is a
 * kvm_machine (src/kvm/kvm_machine.h) whose kernel brings up its virtual
 * unit and devices and runs the workloads named on its cmdline: for each
 * device ("dev=N" when the guest has several) the SVM workloads as ring-3
 * programs, `dma` in the kernel (svm=off). Each reports one console line,
 * which the VMM parses into the lane's results in the order asked. */
#include <stdio.h>
#include <string.h>

#include "tools/run_vm.h"

#define RUN_TIMEOUT_NS (600ULL * 1000000000ULL)

static int cmdline(const struct vm_lane *l, char *buf, size_t n)
{
    size_t len = (size_t)snprintf(buf, n, "iommu");
    for (unsigned d = 0; d < l->cfg->ndevs; d++) {
        if (l->cfg->ndevs > 1 && len < n)
            len += (size_t)snprintf(buf + len, n - len, " dev=%u", d);
        for (unsigned w = 0; w < VMCFG_NWL; w++)
            if (l->wl & 1u << w && len < n)
                len += (size_t)snprintf(buf + len, n - len, " %s", vmcfg_wl_name(w));
    }
    return len < n ? 0 : -1;
}

/* The console's results, matched in order to what the cmdline asked; a
 * workload without its line failed (the run's end says why). */
static void collect(struct vm_lane *l)
{
    struct kvm_wl_result got[GUEST_MAX_DEVS * VMCFG_NWL];
    unsigned ngot = kvm_machine_results(l->m, got, GUEST_MAX_DEVS * VMCFG_NWL), k = 0;
    bool clean = l->rep.end == KVM_END_EXIT && l->rep.status != KVM_EXIT_PANIC;
    for (unsigned d = 0; d < l->cfg->ndevs; d++)
        for (unsigned w = 0; w < VMCFG_NWL; w++) {
            if (!(l->wl & 1u << w))
                continue;
            struct wl_result *r = &l->res[l->nres].r;
            l->res[l->nres].dev = d, l->res[l->nres++].wl = w;
            *r = (struct wl_result){ .name = vmcfg_wl_name(w) };
            if (k < ngot && !strcmp(got[k].name, r->name)) {
                r->passed = got[k].passed, r->operations = got[k].operations;
                r->page_requests = got[k].page_requests, r->faults = got[k].faults;
                r->errors = got[k].errors;
                snprintf(r->detail, sizeof(r->detail), "%s", got[k++].detail);
            } else {
                r->errors = 1;
                snprintf(r->detail, sizeof(r->detail), "no result from the guest: %.120s",
                         clean ? "the program did not report" : l->rep.what);
            }
        }
}

int run_vm_kvm(struct host *h, const struct vmm_config *c, struct vm_lane *lanes, char *why,
               size_t n)
{
    static char cl[VMM_MAX_GUESTS][KVM_CMDLINE_MAX];
    char w[200];
    for (unsigned i = 0; i < c->nguests; i++) {
        if (cmdline(&lanes[i], cl[i], sizeof(cl[i])))
            return snprintf(why, n, "%s: its workloads do not fit a %d-byte kernel command line",
                            c->guest[i].name, KVM_CMDLINE_MAX), -1;
        if (!(lanes[i].m = kvm_machine_create(h, lanes[i].cfg, w, sizeof(w))))
            return snprintf(why, n, "%s: %s", c->guest[i].name, w), -1;
    }
    for (unsigned i = 0; i < c->nguests; i++)
        if (kvm_machine_start(lanes[i].m, cl[i], w, sizeof(w)))
            return snprintf(why, n, "%s: %s", c->guest[i].name, w), -1;
    for (unsigned i = 0; i < c->nguests; i++) {
        struct vm_lane *l = &lanes[i];
        memset(&l->rep, 0, sizeof(l->rep));
        kvm_machine_wait(l->m, RUN_TIMEOUT_NS, &l->rep, w, sizeof(w));
        kvm_machine_stats(l->m, &l->st);
        collect(l);
        bool ok = l->rep.end == KVM_END_EXIT && l->rep.status == 0;
        for (unsigned k = 0; k < l->nres; k++)
            ok &= l->res[k].r.passed;
        if (!ok || c->verbose) {
            char buf[1024];
            kvm_report_format(&l->rep, buf, sizeof(buf));
            fprintf(stderr, "%s (KVM): %s%s--- console ---\n%s---\n", c->guest[i].name,
                    ok ? "" : "FAILED\n", buf, kvm_machine_console(l->m));
        }
    }
    return 0;
}
