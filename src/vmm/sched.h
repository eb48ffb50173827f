/* Scheduling services the VMM gives every kernel it runs (os.h ops:
 * relax, now_ns, wait_change, wake_all), on host threads and futexes. The
 * ctx argument is unused. */
#ifndef VSVM_VMM_SCHED_H
#define VSVM_VMM_SCHED_H

#include <stdint.h>

void vmm_relax(void *ctx);
uint64_t vmm_now_ns(void *ctx);
void vmm_wait_change(void *ctx, const uint32_t *addr, uint32_t old, uint64_t timeout_ns);
void vmm_wake_all(void *ctx, const uint32_t *addr);

#endif
