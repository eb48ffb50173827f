/* `vsvm run` with a VMM command line (src/vmm/vmcfg.h; README "vsvm run
 * with guests", issue 6 item 1). */
#ifndef VSVM_TOOLS_RUN_VM_H
#define VSVM_TOOLS_RUN_VM_H

#include "vmm/vmcfg.h"

/* Creates the host and the guests, runs every guest's workloads at the
 * same time (a thread per guest), prints the table or the JSON object and
 * tears everything down. The exit status: 0 all passed, 1 otherwise. */
int run_vm(const struct vmm_config *c);

#endif
