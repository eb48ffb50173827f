/* The device copy and page-fault measurements of `vsvm bench dma`, on any
 * machine (host or guest) whose kernel drives an accelerator. */
#ifndef VSVM_TOOLS_BENCH_DMA_H
#define VSVM_TOOLS_BENCH_DMA_H

#include "dev/accel.h"
#include "workloads/workloads.h"

struct dma_machine {
    struct os_kernel *k;
    struct os_accel *a;
    struct accel *dev;                          /* the device model (its RTT samples) */
    void *(*ptr)(void *ctx, uint64_t pa);       /* the kernel's physical page -> pointer */
    void *ctx;
};

struct dma_result {
    double memcpy_ns, cold_ns, warm_ns;         /* COPY_BYTES each */
    uint64_t rtt_med, rtt_p99, batch_med, batch_p99;   /* ns */
};

#define DMA_COPY_BYTES (64ULL << 20)
#define DMA_FAULTS     2000

/* 0, or -1 when a batch or the set-up failed. */
int dma_measure(const struct dma_machine *mc, struct dma_result *r);
/* The same for two machines in alternation (best of 5 warm copies each,
 * faults in alternating blocks of 100), for ratios on a noisy machine. */
int dma_measure_pair(const struct dma_machine *m[2], struct dma_result r[2]);

#endif
