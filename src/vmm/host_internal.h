/* Shared by the files of the host machine. */
#ifndef VSVM_VMM_HOST_INTERNAL_H
#define VSVM_VMM_HOST_INTERNAL_H

#include "vmm/host.h"

void host_ops(struct host *h, struct os_ops *ops);
void host_msi(void *opaque, uint64_t addr, uint32_t data);
void *host_irq_thread(void *arg);

#endif
