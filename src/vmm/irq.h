/* Interrupt delivery of one machine (host or guest): MSIs raised by units
 * and devices (possibly inside their locks) are queued in a ring and run
 * by the machine's interrupt thread through os_irq_deliver, never from
 * inside a device. The ring also carries VMM work tokens: VMM_IRQ_POLL
 * runs the poll callback on the same thread (a guest's iommufd fault
 * queue is drained there, like KVM's irqfd work). */
#ifndef VSVM_VMM_IRQ_H
#define VSVM_VMM_IRQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "os/os.h"

#define VMM_IRQ_POLL 0x100u   /* not a vector: run poll(poll_arg) */
#define VMM_IRQ_VECS (VMM_IRQ_POLL + 1)
#define VMM_IRQ_RING 512      /* > VMM_IRQ_VECS: each is queued at most once */

struct vmm_irq {
    struct os_kernel *k;
    void (*poll)(void *arg);
    void *poll_arg;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cv;
    uint32_t ring[VMM_IRQ_RING];
    unsigned head, tail;
    uint64_t pending[(VMM_IRQ_VECS + 63) / 64];   /* queued, not yet taken */
    bool started, stopping;
    uint64_t delivered, coalesced;
};

/* Starts the thread for kernel k (which may boot later: nothing is raised
 * before it does). 0 or -1. */
int vmm_irq_start(struct vmm_irq *q, struct os_kernel *k);
/* Runs what is queued, then joins the thread; later raises are dropped.
 * Safe when never started. */
void vmm_irq_stop(struct vmm_irq *q);
/* Queues a vector or VMM_IRQ_POLL; one already queued and not yet taken
 * is coalesced (counted), never lost. */
void vmm_irq_raise(struct vmm_irq *q, uint32_t vec);
/* An MSI write: accepted for the kernels' address (os.h OS_MSI_ADDR). */
void vmm_irq_msi(void *q, uint64_t addr, uint32_t data);

#endif
