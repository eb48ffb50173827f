/* `vsvm scenario NAME --kvm` (issue 7 item 4): test cases 2-4 with KVM
 * guests. */
#ifndef VSVM_TOOLS_SCENARIO_KVM_H
#define VSVM_TOOLS_SCENARIO_KVM_H

#include <stdbool.h>

/* Runs scenario `name` (guest, multi-guest, host-guest) with KVM guests
 * and prints its table or JSON ("mode": "kvm"); the exit status of the
 * command: 0 passed, 1 failed or KVM not usable (the reason on stderr),
 * 2 another scenario name. */
int scenario_kvm(const char *name, bool json, bool verbose);

#endif
