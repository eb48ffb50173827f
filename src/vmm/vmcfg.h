/* The VMM command line of `vsvm run` in QEMU's style (issue 6 item 1;
 * README "vsvm run with guests"): the host platform and up to
 * VMM_MAX_GUESTS guests, each with its virtual VT-d unit, assigned
 * accelerators and the workloads to run. Parsing is pure: nothing is
 * created, so every refusal is decided before anything starts. What only
 * guest_create can decide (svm=on on host units that cannot nest) it
 * reports itself. */
#ifndef VSVM_VMM_VMCFG_H
#define VSVM_VMM_VMCFG_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/guest.h"
#include "vmm/host.h"

#define VMM_MAX_GUESTS 4
#define VMCFG_GUEST_MEM_MIN (16ULL << 20)
#define VMCFG_GUEST_MEM_MAX (3ULL << 30)   /* guest RAM stays below the BARs (guest.h) */
#define VMCFG_HOST_RESERVE  (64ULL << 20)   /* host kernel, queues, guests' host tables */
#define VMCFG_HOST_MEM_MAX  (16ULL << 30)   /* host_create's limit */
#define VMCFG_FIRST_SLOT    4               /* guest addresses chosen from 00:04.0 */

enum vmcfg_wl {
    VMCFG_WL_SVM_SANITY,
    VMCFG_WL_SVM_FAULT,
    VMCFG_WL_SVM_STOREDW_LOOP,
    VMCFG_WL_SVM_POINTER_CHASE,
    VMCFG_WL_DMA,
    VMCFG_NWL
};
#define VMCFG_WL_SVM_SET ((1u << VMCFG_WL_DMA) - 1)   /* the four SVM workloads */
#define VMCFG_WL_DMA_SET (1u << VMCFG_WL_DMA)

/* Where the guests run (-accel, like QEMU's; one choice for all guests). */
enum vmcfg_accel {
    VMCFG_ACCEL_AUTO,           /* KVM when /dev/kvm is usable and the guests fit it */
    VMCFG_ACCEL_KVM,            /* -accel kvm, -enable-kvm */
    VMCFG_ACCEL_IN_PROCESS,     /* -accel in-process */
};
/* A KVM guest's RAM: one memory slot per run of adjacent frames, and a
 * guest's frames are scattered (src/kvm/kvm.h), so at most KVM's slot
 * count (32764 here) of pages, with a margin. */
#define VMCFG_KVM_MEM_MAX     (120ULL << 20)
#define VMCFG_KVM_MEM_DEFAULT (64ULL << 20)

struct vmm_config {
    struct host_config host;
    unsigned nguests;
    struct guest_config guest[VMM_MAX_GUESTS];  /* dev[].guest_bdf always set */
    unsigned workloads[VMM_MAX_GUESTS];         /* bit i = workload i (enum vmcfg_wl) */
    bool mem_given[VMM_MAX_GUESTS];             /* -m given (else the default) */
    bool host_mem_given;                        /* -host mem= given (else sized to the guests) */
    enum vmcfg_accel accel;
    bool json;
    bool verbose;                               /* host and guest kernel logs */
};

/* Whether every guest fits a KVM VM; when not, why (naming the guest). A
 * guest without -m is given VMCFG_KVM_MEM_DEFAULT by vmcfg_use_kvm. */
bool vmcfg_kvm_fits(const struct vmm_config *c, char *why, size_t n);
/* Switches the guests without -m to the KVM default memory size (and the
 * host's memory, unless -host mem= was given, to what they need). */
void vmcfg_use_kvm(struct vmm_config *c);

/* The name of workload i ("svm_sanity", ..., "dma"). */
const char *vmcfg_wl_name(unsigned i);

/* Parses the options after the command name (argv[0] is skipped). 0, or -1
 * with a one-line message naming the offending argument in why. */
int vmcfg_parse(int argc, char **argv, struct vmm_config *out, char *why, size_t n);

#endif
