/* The host kernel's view of the machine: the os_ops table (MMIO to the
 * remapping units and PCI BARs, configuration space, host memory, pages,
 * log) and interrupt delivery through a thread. */
#include <linux/futex.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vmm/host.h"
#include "vmm/host_internal.h"

static struct vtd_unit *unit_at(struct host *h, uint64_t pa, uint32_t *off)
{
    if (pa < HOST_UNIT_BASE || pa >= HOST_UNIT_BASE + 0x1000ULL * h->cfg.nunits)
        return NULL;
    *off = (uint32_t)(pa - HOST_UNIT_BASE) & 0xFFF;
    return h->unit[(pa - HOST_UNIT_BASE) >> 12];
}

static uint64_t h_mmio_read(void *ctx, uint64_t pa, unsigned size)
{
    struct host *h = ctx;
    uint32_t off;
    struct vtd_unit *u = unit_at(h, pa, &off);
    if (u)
        return vtd_mmio_read(u, off, size);
    uint64_t v = 0;
    if (pci_bus_mmio(h->bus, pa, &v, size, false))
        return ~0ULL;   /* unclaimed: master abort reads all-ones */
    return v;
}

static void h_mmio_write(void *ctx, uint64_t pa, unsigned size, uint64_t v)
{
    struct host *h = ctx;
    uint32_t off;
    struct vtd_unit *u = unit_at(h, pa, &off);
    if (u)
        vtd_mmio_write(u, off, size, v);
    else
        pci_bus_mmio(h->bus, pa, &v, size, true);
}

static uint32_t h_cfg_read(void *ctx, uint16_t bdf, unsigned off, unsigned size)
{
    uint32_t v = ~0u;
    pci_bus_cfg_read(((struct host *)ctx)->bus, bdf, off, size, &v);
    return v;
}

static void h_cfg_write(void *ctx, uint16_t bdf, unsigned off, unsigned size, uint32_t v)
{
    pci_bus_cfg_write(((struct host *)ctx)->bus, bdf, off, size, v);
}

static int h_read(void *ctx, uint64_t pa, void *b, size_t n) { return mem_read(((struct host *)ctx)->mem, pa, b, n); }
static int h_write(void *ctx, uint64_t pa, const void *b, size_t n) { return mem_write(((struct host *)ctx)->mem, pa, b, n); }
static int h_cmpxchg(void *ctx, uint64_t pa, uint64_t e, uint64_t d, bool *ok)
{
    return mem_cmpxchg64(((struct host *)ctx)->mem, pa, e, d, ok);
}
static uint64_t h_page(void *ctx) { return mem_frame_alloc(((struct host *)ctx)->mem); }
static void h_free(void *ctx, uint64_t pa) { mem_frame_free(((struct host *)ctx)->mem, pa); }
static uint64_t h_pages(void *ctx, unsigned n)
{
    uint64_t align = 4096;
    while (align < 4096ULL * n)
        align <<= 1;
    return mem_frames_alloc_contig(((struct host *)ctx)->mem, n, align);
}
static void h_log(void *ctx, const char *line)
{
    if (((struct host *)ctx)->cfg.verbose)
        fprintf(stderr, "%s\n", line);
}
static void h_relax(void *ctx) { (void)ctx; sched_yield(); }
static uint64_t h_now(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Futexes: the host kernel's sleeping waits (os.h wait_change/wake_all). */
static void h_wait(void *ctx, const uint32_t *addr, uint32_t old, uint64_t timeout_ns)
{
    (void)ctx;
    struct timespec ts = { .tv_sec = (time_t)(timeout_ns / 1000000000ULL),
                           .tv_nsec = (long)(timeout_ns % 1000000000ULL) };
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, old, &ts, NULL, 0);
}

static void h_wake(void *ctx, const uint32_t *addr)
{
    (void)ctx;
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

void host_ops(struct host *h, struct os_ops *ops)
{
    *ops = (struct os_ops){ .ctx = h, .mmio_read = h_mmio_read, .mmio_write = h_mmio_write,
                            .phys_read = h_read, .phys_write = h_write,
                            .phys_cmpxchg64 = h_cmpxchg, .page_alloc = h_page,
                            .page_free = h_free, .pages_alloc = h_pages,
                            .cfg_read = h_cfg_read, .cfg_write = h_cfg_write, .log = h_log,
                            .relax = h_relax, .now_ns = h_now,
                            .wait_change = h_wait, .wake_all = h_wake };
}

/* An MSI from a unit or a device (possibly inside its lock): queued. */
void host_msi(void *opaque, uint64_t addr, uint32_t data)
{
    struct host *h = opaque;
    if (addr != OS_MSI_ADDR)
        return;
    pthread_mutex_lock(&h->irq_lock);
    if ((h->irq_tail + 1) % 1024 == h->irq_head)
        h->irq_lost++;
    else {
        h->irq_ring[h->irq_tail] = data & 0xFF;
        __atomic_store_n(&h->irq_tail, (h->irq_tail + 1) % 1024, __ATOMIC_RELEASE);
    }
    pthread_cond_signal(&h->irq_cv);
    pthread_mutex_unlock(&h->irq_lock);
}

/* How long the interrupt thread polls the ring before sleeping on irq_cv:
 * interrupts come in bursts (a page request, then the completion of the
 * batch that waited for it), and a condition-variable wake-up costs more
 * than handling one. Every IRQ_SPIN_FAST polls it yields the CPU (the
 * thread about to raise the interrupt may need it: pure spinning was
 * measured much slower on 2 cores). */
#define IRQ_SPIN_NS   50000ULL
#define IRQ_SPIN_FAST 16u        /* polls between two yields */

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* No lock held: true once the ring is not empty at `head`, false after
 * IRQ_SPIN_NS. Only host_msi moves the tail (atomic store, under irq_lock). */
static bool irq_spin(struct host *h, unsigned head)
{
    uint64_t start = h_now(h);
    for (unsigned k = 0;; k++) {
        if (__atomic_load_n(&h->irq_tail, __ATOMIC_ACQUIRE) != head)
            return true;
        if (k % IRQ_SPIN_FAST) {
            cpu_relax();
            continue;
        }
        uint64_t ns = h_now(h) - start;
        if (ns >= IRQ_SPIN_NS)
            return false;
        sched_yield();
    }
}

void *host_irq_thread(void *arg)
{
    struct host *h = arg;
    pthread_mutex_lock(&h->irq_lock);
    for (;;) {
        if (h->irq_head == h->irq_tail && !h->stopping) {
            unsigned head = h->irq_head;
            pthread_mutex_unlock(&h->irq_lock);
            irq_spin(h, head);
            pthread_mutex_lock(&h->irq_lock);
        }
        while (h->irq_head == h->irq_tail && !h->stopping)
            pthread_cond_wait(&h->irq_cv, &h->irq_lock);
        if (h->irq_head == h->irq_tail && h->stopping)
            break;
        uint32_t vec = h->irq_ring[h->irq_head];
        h->irq_head = (h->irq_head + 1) % 1024;
        pthread_mutex_unlock(&h->irq_lock);
        os_irq_deliver(&h->k, vec);
        __atomic_add_fetch(&h->irqs, 1, __ATOMIC_RELAXED);
        pthread_mutex_lock(&h->irq_lock);
    }
    pthread_mutex_unlock(&h->irq_lock);
    return NULL;
}
