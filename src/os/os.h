/* The kernel core shared by the host kernel and guest kernels: the ops
 * table through which it reaches hardware, locks, logging, interrupt
 * vectors. Freestanding: no libc; the same code runs in the VMM process
 * (host, in-process guests) and in the KVM guest image. */
#ifndef VSVM_OS_OS_H
#define VSVM_OS_OS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OS_NO_PAGE (~0ULL)

struct os_ops {
    void *ctx;
    uint64_t (*mmio_read)(void *ctx, uint64_t pa, unsigned size);
    void (*mmio_write)(void *ctx, uint64_t pa, unsigned size, uint64_t val);
    /* Physical memory of this kernel (HPA for the host, GPA for a guest). */
    int (*phys_read)(void *ctx, uint64_t pa, void *buf, size_t len);
    int (*phys_write)(void *ctx, uint64_t pa, const void *buf, size_t len);
    int (*phys_cmpxchg64)(void *ctx, uint64_t pa, uint64_t expect, uint64_t desired, bool *ok);
    /* One zeroed 4 KiB page; OS_NO_PAGE when exhausted. */
    uint64_t (*page_alloc)(void *ctx);
    void (*page_free)(void *ctx, uint64_t pa);
    /* n contiguous zeroed pages aligned to their size (queues); OS_NO_PAGE. */
    uint64_t (*pages_alloc)(void *ctx, unsigned n);
    /* PCI configuration space (ECAM-style): all-ones for no function. */
    uint32_t (*cfg_read)(void *ctx, uint16_t bdf, unsigned off, unsigned size);
    void (*cfg_write)(void *ctx, uint16_t bdf, unsigned off, unsigned size, uint32_t val);
    void (*log)(void *ctx, const char *line);
    /* Called in every polling loop (pause / yield). */
    void (*relax)(void *ctx);
    /* Monotonic nanoseconds, for timeouts (optional: polls are then bounded
     * by iteration count). */
    uint64_t (*now_ns)(void *ctx);
    /* Blocks while *addr == old, for at most timeout_ns (may return early);
     * wake_all wakes every waiter on addr. Optional: without them waits
     * poll with relax(). */
    void (*wait_change)(void *ctx, const uint32_t *addr, uint32_t old, uint64_t timeout_ns);
    void (*wake_all)(void *ctx, const uint32_t *addr);
};

typedef struct { int locked; } os_lock_t;
#define OS_LOCK_INIT { 0 }

typedef void (*os_irq_fn)(void *arg);
#define OS_NR_VECTORS 256
#define OS_FIRST_VECTOR 0x40

struct os_kernel {
    struct os_ops ops;
    const char *name;             /* log prefix ("host", "guest0") */
    struct { os_irq_fn fn; void *arg; } irq[OS_NR_VECTORS];
    unsigned next_vector;
    os_lock_t irq_lock;
    unsigned log_level;           /* 0 errors, 1 info, 2 debug */
};

void os_kernel_init(struct os_kernel *k, const struct os_ops *ops, const char *name);

void os_lock(struct os_kernel *k, os_lock_t *l);
void os_unlock(os_lock_t *l);

/* Allocates an MSI vector bound to fn(arg); 0 when none is left. The MSI
 * address is 0xFEE00000 (destination APIC 0), the data the vector. */
unsigned os_irq_alloc(struct os_kernel *k, os_irq_fn fn, void *arg);
/* Runs the handler of a vector. The platform calls it from a context where
 * the handler may touch hardware (never from inside a device callback). */
void os_irq_deliver(struct os_kernel *k, unsigned vector);
#define OS_MSI_ADDR 0xFEE00000ULL

/* printk-style logging: %s %c %d %u %x %lu %lx %llu %llx %p with '#', '0'
 * and width; level 0 error, 1 info, 2 debug. */
void os_log(struct os_kernel *k, unsigned level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int os_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);

/* Physical-memory helpers over the ops. */
static inline uint64_t os_rd64(struct os_kernel *k, uint64_t pa)
{
    uint64_t v = 0;
    k->ops.phys_read(k->ops.ctx, pa, &v, 8);
    return v;
}
static inline void os_wr64(struct os_kernel *k, uint64_t pa, uint64_t v)
{
    k->ops.phys_write(k->ops.ctx, pa, &v, 8);
}
static inline uint32_t os_rd32(struct os_kernel *k, uint64_t pa)
{
    uint32_t v = 0;
    k->ops.phys_read(k->ops.ctx, pa, &v, 4);
    return v;
}

#endif
