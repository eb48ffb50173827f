/* The interrupt thread of a machine (irq.h). */
#include <sched.h>

#include "vmm/irq.h"
#include "vmm/sched.h"

/* How long the thread polls the ring before sleeping on cv: interrupts
 * come in bursts (a page request, then the completion of the batch that
 * waited for it), and a condition-variable wake-up costs more than
 * handling one. Every SPIN_FAST polls it yields the CPU (the thread about
 * to raise the interrupt may need it: pure spinning was measured much
 * slower on 2 cores). */
#define SPIN_NS   50000ULL
#define SPIN_FAST 16u

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* No lock held: true once the ring is not empty at `head`, false after
 * SPIN_NS. Only vmm_irq_raise moves the tail (atomic store, under lock). */
static bool spin(struct vmm_irq *q, unsigned head)
{
    uint64_t start = vmm_now_ns(NULL);
    for (unsigned i = 0;; i++) {
        if (__atomic_load_n(&q->tail, __ATOMIC_ACQUIRE) != head)
            return true;
        if (i % SPIN_FAST) {
            cpu_relax();
            continue;
        }
        if (vmm_now_ns(NULL) - start >= SPIN_NS)
            return false;
        sched_yield();
    }
}

static void *irq_thread(void *arg)
{
    struct vmm_irq *q = arg;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        if (q->head == q->tail && !q->stopping) {
            unsigned head = q->head;
            pthread_mutex_unlock(&q->lock);
            spin(q, head);
            pthread_mutex_lock(&q->lock);
        }
        while (q->head == q->tail && !q->stopping)
            pthread_cond_wait(&q->cv, &q->lock);
        if (q->head == q->tail && q->stopping)
            break;
        uint32_t vec = q->ring[q->head];
        q->head = (q->head + 1) % VMM_IRQ_RING;
        q->pending[vec / 64] &= ~(1ULL << (vec % 64));   /* a new one may queue again */
        pthread_mutex_unlock(&q->lock);
        if (vec == VMM_IRQ_POLL) {
            if (q->poll)
                q->poll(q->poll_arg);
        } else {
            os_irq_deliver(q->k, vec);
            __atomic_add_fetch(&q->delivered, 1, __ATOMIC_RELAXED);
        }
        pthread_mutex_lock(&q->lock);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

int vmm_irq_start(struct vmm_irq *q, struct os_kernel *k)
{
    q->k = k;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->cv, NULL);
    if (pthread_create(&q->thread, NULL, irq_thread, q)) {
        q->stopping = true;   /* never started: raises are dropped */
        return -1;
    }
    q->started = true;
    return 0;
}

void vmm_irq_stop(struct vmm_irq *q)
{
    if (!q->started)
        return;
    pthread_mutex_lock(&q->lock);
    q->stopping = true;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->lock);
    pthread_join(q->thread, NULL);
    q->started = false;   /* the lock stays usable: later raises are dropped */
}

/* A vector already queued is not queued twice (the LAPIC's IRR holds one
 * pending interrupt per vector; MSIs are edge-triggered): at most
 * VMM_IRQ_VECS entries are ever queued, so the ring never overflows and no
 * interrupt is lost. */
void vmm_irq_raise(struct vmm_irq *q, uint32_t vec)
{
    pthread_mutex_lock(&q->lock);
    uint64_t bit = 1ULL << (vec % 64);
    if (q->stopping || vec >= VMM_IRQ_VECS || (q->pending[vec / 64] & bit)) {
        q->coalesced += !q->stopping && vec < VMM_IRQ_VECS;
        pthread_mutex_unlock(&q->lock);
        return;
    }
    q->pending[vec / 64] |= bit;
    q->ring[q->tail] = vec;
    __atomic_store_n(&q->tail, (q->tail + 1) % VMM_IRQ_RING, __ATOMIC_RELEASE);
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->lock);
}

void vmm_irq_msi(void *q, uint64_t addr, uint32_t data)
{
    if (addr == OS_MSI_ADDR)
        vmm_irq_raise(q, data & 0xFF);
}
