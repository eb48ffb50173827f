/* Shared by the files of the host machine. */
#ifndef VSVM_VMM_HOST_INTERNAL_H
#define VSVM_VMM_HOST_INTERNAL_H

#include "vmm/host.h"

void host_ops(struct host *h, struct os_ops *ops);

#endif
