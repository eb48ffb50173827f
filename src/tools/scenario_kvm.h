/* `vsvm scenario NAME --kvm` (issue 7 item 4): test cases 2-4 with KVM
 * guests. */
#ifndef VSVM_TOOLS_SCENARIO_KVM_H
#define VSVM_TOOLS_SCENARIO_KVM_H

#include <stdbool.h>

/* Runs scenario `name` with KVM guests; the exit status of the command.
 * For now it refuses with the reason (exit 1): the guest image does not yet
 * carry the VT-d and accelerator drivers the workloads need. */
int scenario_kvm(const char *name, bool json);

#endif
