/* A KVM guest with assigned accelerators (issue 7 items 3-5): the VMM's
 * guest machine (vmm/guest.h, built for an external kernel: RAM, the
 * virtual VT-d unit, the assigned devices with their virtual configuration
 * space, BARs and MSI forwarding, the DMAR table) run by the guest image on
 * a /dev/kvm vCPU:
 *   - KVM's memory slots are the guest machine's own RAM frames, so the
 *     vCPU, the viommu and the devices (through the host IOMMU's nested
 *     translation) see one memory;
 *   - MMIO exits: the ECAM window (KVM_ECAM_GPA, bus 0) goes to the virtual
 *     configuration space, everything else (the unit page, the BARs) to
 *     guest_mmio_*;
 *   - the machine's MSIs (the viommu's events, the devices' interrupts)
 *     become KVM_SIGNAL_MSI.
 * The image's kernel brings up the unit and the accelerators with the os
 * layer's drivers and runs ring-3 programs named on its command line; the
 * SVM workloads report one console line each ("wl NAME ..."). */
#ifndef VSVM_KVM_KVM_MACHINE_H
#define VSVM_KVM_KVM_MACHINE_H

#include "kvm/kvm.h"
#include "vmm/guest.h"

struct kvm_machine;

/* c->external_kernel and the MSI sink are set here; mem_size must fit the
 * KVM slots (kvm.h: just under 128 MiB). NULL and why on failure. */
struct kvm_machine *kvm_machine_create(struct host *h, const struct guest_config *c, char *why,
                                       size_t n);
/* Stops the vCPU, then the guest machine (devices reset and given back). */
void kvm_machine_destroy(struct kvm_machine *m);

/* Boots the image with cmdline (e.g. "iommu svm_sanity svm_fault") and runs
 * it to its end or timeout_ns. 0 when the guest exited (r->end ==
 * KVM_END_EXIT, r->status its last program's status), -1 otherwise (why
 * says what ended the run). */
int kvm_machine_run(struct kvm_machine *m, const char *cmdline, uint64_t timeout_ns,
                    struct kvm_report *r, char *why, size_t n);
/* The same in two steps (other work may run in between). When the run
 * ends in anything but the guest's own exit, or in a kernel panic, the
 * guest is contained at once: its machine is killed and its devices are
 * reset (r->what says so). A machine boots once: a second start is
 * refused (there is no power-on reset of the virtual unit and devices
 * between boots; a new run takes a new machine). */
int kvm_machine_start(struct kvm_machine *m, const char *cmdline, char *why, size_t n);
int kvm_machine_wait(struct kvm_machine *m, uint64_t timeout_ns, struct kvm_report *r, char *why,
                     size_t n);
bool kvm_machine_killed(const struct kvm_machine *m);
const char *kvm_machine_console(const struct kvm_machine *m);
struct guest *kvm_machine_guest(struct kvm_machine *m);
struct kvm_vm *kvm_machine_vm(struct kvm_machine *m);

/* What the VMM counted over the last run. */
struct kvm_machine_stats {
    uint64_t unit_accesses;     /* MMIO exits to the virtual unit's page */
    uint64_t bar_accesses;      /* to the assigned devices' BARs */
    uint64_t cfg_accesses;      /* to the ECAM window */
    uint64_t other_accesses;
    uint64_t msis;              /* KVM_SIGNAL_MSI injected */
    uint64_t iqt_writes;        /* invalidation queue tail writes (one per batch) */
};
void kvm_machine_stats(const struct kvm_machine *m, struct kvm_machine_stats *s);

/* One "wl" line of the console. */
struct kvm_wl_result {
    char name[32];
    bool passed;
    uint64_t operations, page_requests, faults, errors;
    char detail[160];
};
/* Parses the console's "wl" lines into out (at most max); their number. */
unsigned kvm_machine_results(const struct kvm_machine *m, struct kvm_wl_result *out,
                             unsigned max);

#endif
