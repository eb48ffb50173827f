/* Kernel core: locks, interrupt vectors, logging (see os.h). */
#include "os/os.h"

void os_kernel_init(struct os_kernel *k, const struct os_ops *ops, const char *name)
{
    __builtin_memset(k, 0, sizeof(*k));
    k->ops = *ops;
    k->name = name;
    k->next_vector = OS_FIRST_VECTOR;
    k->log_level = 1;
}

void os_lock(struct os_kernel *k, os_lock_t *l)
{
    while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
            k->ops.relax(k->ops.ctx);
}

void os_unlock(os_lock_t *l)
{
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

unsigned os_irq_alloc(struct os_kernel *k, os_irq_fn fn, void *arg)
{
    unsigned v = 0;
    os_lock(k, &k->irq_lock);
    if (k->next_vector < OS_NR_VECTORS) {
        v = k->next_vector++;
        k->irq[v].arg = arg;
        __atomic_store_n(&k->irq[v].fn, fn, __ATOMIC_RELEASE);
    }
    os_unlock(&k->irq_lock);
    return v;
}

void os_irq_deliver(struct os_kernel *k, unsigned vector)
{
    if (vector >= OS_NR_VECTORS)
        return;
    os_irq_fn fn = __atomic_load_n(&k->irq[vector].fn, __ATOMIC_ACQUIRE);
    if (fn)
        fn(k->irq[vector].arg);
    else
        os_log(k, 0, "spurious interrupt on vector %u", vector);
}

void os_log(struct os_kernel *k, unsigned level, const char *fmt, ...)
{
    if (level > k->log_level || !k->ops.log)
        return;
    char line[256];
    size_t n = 0;
    for (const char *p = k->name; p && *p && n < 32; p++)
        line[n++] = *p;
    if (n) {
        line[n++] = ':';
        line[n++] = ' ';
    }
    va_list ap;
    va_start(ap, fmt);
    os_vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    k->ops.log(k->ops.ctx, line);
}
