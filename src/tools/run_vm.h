/* `vsvm run` with a VMM command line (src/vmm/vmcfg.h; README "vsvm run
 * with guests", issue 6 item 1, issue 7 item 4). */
#ifndef VSVM_TOOLS_RUN_VM_H
#define VSVM_TOOLS_RUN_VM_H

#include "kvm/kvm_machine.h"
#include "vmm/vmcfg.h"
#include "workloads/workloads.h"

/* Creates the host and the guests, runs every guest's workloads at the
 * same time, prints the table or the JSON object and tears everything
 * down. The guests run on KVM vCPUs with -accel kvm, in-process with
 * -accel in-process, and otherwise on KVM when /dev/kvm is usable and
 * every guest fits a KVM VM; the output says which mode ran and why. The
 * exit status: 0 all passed, 1 otherwise. */
int run_vm(const struct vmm_config *c);

/* One guest's run: its workloads on each of its devices in turn. */
struct vm_lane {
    const struct guest_config *cfg;
    struct guest *g;                    /* in-process */
    struct kvm_machine *m;              /* KVM */
    unsigned wl;                        /* workloads to run (vmcfg bits) */
    unsigned nres;
    struct { unsigned dev, wl; struct wl_result r; } res[GUEST_MAX_DEVS * VMCFG_NWL];
    struct kvm_report rep;              /* KVM: how the run ended */
    struct kvm_machine_stats st;
};

/* run_vm_kvm.c: the guests of c as KVM machines over h, run at once;
 * lanes[i].cfg and .wl are set. 0 when every machine was created and
 * started (results, passed or not, are in the lanes), else -1 with why.
 * The machines stay in lanes[i].m for the caller to destroy. */
int run_vm_kvm(struct host *h, const struct vmm_config *c, struct vm_lane *lanes, char *why,
               size_t n);

#endif
