/* Benchmarks (`vsvm bench [NAME] [--json]`): each fills a JSON object on
 * `out` when json, else prints a table. Return 0 or 1 on setup failure. */
#ifndef VSVM_TOOLS_BENCH_H
#define VSVM_TOOLS_BENCH_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

int bench_translate(FILE *out, bool json);
int bench_qi(FILE *out, bool json);
int bench_dma(FILE *out, bool json);
int bench_guest(FILE *out, bool json);
int bench_kvm(FILE *out, bool json);
int bench_viommu(FILE *out, bool json);

/* Monotonic clock in nanoseconds. */
uint64_t bench_now_ns(void);

#endif
