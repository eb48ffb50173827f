/* A small test-and-test-and-set lock for short critical sections on hot
 * paths (an uncontended pthread mutex costs more than an IOTLB hit). After
 * a bounded spin it yields the CPU, so a preempted holder is not starved. */
#ifndef VSVM_LIB_SPINLOCK_H
#define VSVM_LIB_SPINLOCK_H

#include <sched.h>
#include <stdbool.h>

typedef struct { bool locked; } spinlock_t;
#define SPINLOCK_INIT { false }

static inline void spin_lock(spinlock_t *l)
{
    for (unsigned n = 0;; n++) {
        if (!__atomic_exchange_n(&l->locked, true, __ATOMIC_ACQUIRE))
            return;
        while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED)) {
            if (++n % 128 == 0)
                sched_yield();
            else
                __builtin_ia32_pause();
        }
    }
}

static inline void spin_unlock(spinlock_t *l)
{
    __atomic_store_n(&l->locked, false, __ATOMIC_RELEASE);
}

#endif
