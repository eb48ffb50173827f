/* The machines the system tests build: a host with its units and
 * accelerators, and an in-process guest with one assigned accelerator;
 * whether KVM guests can run here.
 * Failures end the test (fail_msg with the reason). VSVM_VERBOSE in the
 * environment shows the kernels' logs. */
#ifndef VSVM_TESTS_SUPPORT_MACHINES_H
#define VSVM_TESTS_SUPPORT_MACHINES_H

#include <stdbool.h>
#include <stdint.h>

struct host;
struct guest;
struct kvm_machine;
struct os_kernel;
struct os_accel;

/* Accelerator i sits behind unit i % nunits. */
struct host *tm_host(unsigned nunits, unsigned naccels, uint64_t mem_size);
/* A guest (defaults of guest_config_default) with host_bdf assigned. */
struct guest *tm_guest(struct host *h, bool svm, uint16_t host_bdf);

/* The four SVM workloads (wl_all) run by kernel k's processes on a; each
 * must pass with work verified, else the test fails naming where. */
void tm_run_all(struct os_kernel *k, struct os_accel *a, const char *where);
/* A KVM guest machine (kvm/kvm_machine.h) named name (NULL: the default),
 * svm=on|off, mem_size of RAM, with the host's accelerators first ..
 * first + ndevs - 1 assigned as its 00:04.0, 00:05.0, ... */
struct kvm_machine *tm_kvm_machine(struct host *h, const char *name, bool svm, unsigned first,
                                   unsigned ndevs, uint64_t mem_size);
/* True, after printing why, when /dev/kvm cannot run a guest: the caller
 * skips (KVM tests skip with the reason, never fail, without KVM). */
bool tm_kvm_skip(void);

#endif
