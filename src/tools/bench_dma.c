/* `vsvm bench dma`: the accelerator copying 64 MiB from one process buffer
 * to another (4 KiB pages, virtual addresses through the IOMMU: device TLB,
 * ATS, IOTLB, first-level walks), against a plain memcpy of the same pages
 * in the same run, as a ratio; cold = right after binding (every
 * translation cache empty), warm = best of 3 repeats. And the page-fault
 * round trip over 2000 stores to pages the process never touched: the
 * device times each from sending the page request to retrying after the
 * Success response (ATS no-access -> PRI -> the host kernel's page-request
 * handler -> page group response -> retry), and the whole one-store batch
 * is timed too (doorbell to completion seen by the process). */
#include <stdlib.h>
#include <string.h>

#include "tools/bench.h"
#include "tools/bench_dma.h"
#include "vmm/host.h"
#include "workloads/workloads.h"

#define COPY_BYTES DMA_COPY_BYTES
#define FAULTS     DMA_FAULTS

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* memcpy of the same physical pages the device copies (the limit). */
static double memcpy_ns(const struct dma_machine *mc, struct wl_proc *p, uint64_t src, uint64_t dst)
{
    uint64_t n = COPY_BYTES / 4096;
    void **s = malloc(n * sizeof(void *)), **d = malloc(n * sizeof(void *));
    double best = 1e30;
    for (uint64_t i = 0; s && d && i < n; i++) {
        uint64_t ps, pd;
        enum pt_page_size sz;
        pt_lookup(&p->mm.pt, src + i * 4096, &ps, &sz);
        pt_lookup(&p->mm.pt, dst + i * 4096, &pd, &sz);
        s[i] = mc->ptr(mc->ctx, ps & PTE_ADDR_MASK);
        d[i] = mc->ptr(mc->ctx, pd & PTE_ADDR_MASK);
    }
    for (int rep = 0; s && d && rep < 3; rep++) {
        uint64_t t0 = bench_now_ns();
        for (uint64_t i = 0; i < n; i++)
            memcpy(d[i], s[i], 4096);
        double ns = (double)(bench_now_ns() - t0);
        best = ns < best ? ns : best;
    }
    free(s), free(d);
    return best;
}

static double device_copy_ns(struct wl_proc *p, uint64_t src, uint64_t dst)
{
    struct accel_cmd c = { .opcode = ACCEL_OP_COPY, .a = src, .b = dst, .c = COPY_BYTES };
    unsigned err;
    uint64_t fva, t0 = bench_now_ns();
    if (wl_run(p, &c, 1, &err, &fva))
        return -1;
    return (double)(bench_now_ns() - t0);
}

static void percentiles(uint64_t *v, unsigned n, uint64_t *med, uint64_t *p99)
{
    qsort(v, n, sizeof(uint64_t), cmp_u64);
    *med = n ? v[n / 2] : 0, *p99 = n ? v[(uint64_t)n * 99 / 100] : 0;
}

/* n one-store batches on never-touched pages area + [from, from + n) pages;
 * lat[] gets each batch's doorbell-to-completion time. */
static int fault_block(struct wl_proc *p, uint64_t area, unsigned from, unsigned n, uint64_t *lat)
{
    for (unsigned i = from; i < from + n; i++) {
        struct accel_cmd c = { .opcode = ACCEL_OP_STORE_DWORD, .arg = i, .a = area + i * 4096ULL };
        unsigned err;
        uint64_t fva, t0 = bench_now_ns();
        if (wl_run(p, &c, 1, &err, &fva))
            return -1;
        lat[i] = bench_now_ns() - t0;
    }
    return 0;
}

static int fault_rtt(struct accel *dev, struct wl_proc *p, uint64_t *med, uint64_t *p99,
                     uint64_t *bmed, uint64_t *bp99)
{
    uint64_t area, *lat = calloc(FAULTS, sizeof(uint64_t));
    if (!lat || os_mmap(&p->mm, FAULTS * 4096ULL, OS_PROT_READ | OS_PROT_WRITE, &area) ||
        fault_block(p, area, 0, FAULTS, lat)) {
        free(lat);
        return -1;
    }
    percentiles(lat, FAULTS, bmed, bp99);
    unsigned n = accel_fault_rtts(dev, lat, FAULTS);
    percentiles(lat, n, med, p99);
    free(lat);
    return n >= FAULTS ? 0 : -1;
}

static int prepare(const struct dma_machine *mc, struct wl_proc *p, uint64_t *src, uint64_t *dst)
{
    static uint8_t page[4096];
    if (wl_proc_open(p, mc->k, mc->a) ||
        os_mmap(&p->mm, COPY_BYTES, OS_PROT_READ | OS_PROT_WRITE, src) ||
        os_mmap(&p->mm, COPY_BYTES, OS_PROT_READ | OS_PROT_WRITE, dst))
        return -1;
    for (uint64_t o = 0; o < COPY_BYTES; o += 4096) {   /* both present (warm pages) */
        memset(page, (int)(o >> 12), sizeof(page));
        if (os_mm_write(&p->mm, *src + o, page, sizeof(page)) ||
            os_mm_write(&p->mm, *dst + o, page, 8))
            return -1;
    }
    return 0;
}

int dma_measure(const struct dma_machine *mc, struct dma_result *r)
{
    struct wl_proc p;
    uint64_t src, dst;
    *r = (struct dma_result){ .warm_ns = 1e30 };
    if (prepare(mc, &p, &src, &dst)) {
        wl_proc_close(&p);
        return -1;
    }
    r->cold_ns = device_copy_ns(&p, src, dst);
    for (int rep = 0; rep < 3; rep++) {
        double ns = device_copy_ns(&p, src, dst);
        r->warm_ns = ns >= 0 && ns < r->warm_ns ? ns : r->warm_ns;
    }
    r->memcpy_ns = memcpy_ns(mc, &p, src, dst);
    accel_fault_rtts(mc->dev, NULL, 0);   /* forget the copies' samples */
    int frc = fault_rtt(mc->dev, &p, &r->rtt_med, &r->rtt_p99, &r->batch_med, &r->batch_p99);
    wl_proc_close(&p);
    return r->cold_ns < 0 || r->warm_ns >= 1e30 || frc ? -1 : 0;
}

static void *host_ptr(void *ctx, uint64_t pa)
{
    return mem_ptr(((struct host *)ctx)->mem, pa, 4096);
}

int bench_dma(FILE *out, bool json)
{
    struct host_config c;
    char why[160];
    host_config_default(&c);
    c.nunits = 1, c.naccels = 1, c.mem_size = 1ULL << 30;
    struct host *h = host_create(&c, why, sizeof(why));
    if (!h) {
        fprintf(stderr, "bench dma: set-up failed: %s\n", why);
        return 1;
    }
    struct dma_machine mc = { &h->k, &h->drv[0], h->acc[0].dev, host_ptr, h };
    struct dma_result res;
    int rc = dma_measure(&mc, &res);
    host_destroy(h);
    if (rc) {
        fprintf(stderr, "bench dma: a batch failed\n");
        return 1;
    }
    double limit = res.memcpy_ns, cold = res.cold_ns, warm = res.warm_ns;
    double med = (double)res.rtt_med, p99 = (double)res.rtt_p99;
    double bmed = (double)res.batch_med, bp99 = (double)res.batch_p99;
    double gbs = 1e9 / (1 << 30);
    if (json)
        fprintf(out, "{\"name\": \"dma\", \"bytes\": %llu, \"targets\": {\"warm_ratio\": 0.85, "
                     "\"fault_rtt_median_us\": 10}, \"memcpy_gib_s\": %.2f, \"cold_gib_s\": %.2f, "
                     "\"warm_gib_s\": %.2f, \"cold_ratio\": %.3f, \"warm_ratio\": %.3f, "
                     "\"fault_rtt_median_us\": %.2f, \"fault_rtt_p99_us\": %.2f, "
                     "\"fault_batch_median_us\": %.2f, \"fault_batch_p99_us\": %.2f, \"faults\": %d}",
                (unsigned long long)COPY_BYTES, COPY_BYTES / limit * gbs, COPY_BYTES / cold * gbs,
                COPY_BYTES / warm * gbs, limit / cold, limit / warm, med / 1e3, p99 / 1e3,
                bmed / 1e3, bp99 / 1e3, FAULTS);
    else
        fprintf(out, "dma: memcpy %.2f GiB/s, device cold %.2f GiB/s (ratio %.2f), warm %.2f GiB/s "
                     "(ratio %.2f); fault round trip (device: request -> retry) median %.1f us, p99 %.1f us; "
                     "one-store faulting batch median %.1f us, p99 %.1f us\n",
                COPY_BYTES / limit * gbs, COPY_BYTES / cold * gbs, limit / cold,
                COPY_BYTES / warm * gbs, limit / warm, med / 1e3, p99 / 1e3, bmed / 1e3, bp99 / 1e3);
    return 0;
}

/* Two machines measured in alternation (each copy and each block of 100
 * faults of one right after the other's), so that the noise of a shared
 * machine falls on both alike: their ratios are what the pair measures. */
int dma_measure_pair(const struct dma_machine *m[2], struct dma_result r[2])
{
    struct wl_proc p[2];
    uint64_t src[2], dst[2], area[2], *lat[2] = { calloc(FAULTS, 8), calloc(FAULTS, 8) };
    int rc = lat[0] && lat[1] ? 0 : -1;
    bool open[2] = { false, false };
    for (unsigned i = 0; i < 2 && !rc; i++) {
        r[i] = (struct dma_result){ .warm_ns = 1e30 };
        rc = prepare(m[i], &p[i], &src[i], &dst[i]);
        open[i] = true;
        rc = rc ? rc : os_mmap(&p[i].mm, FAULTS * 4096ULL, OS_PROT_READ | OS_PROT_WRITE, &area[i]);
    }
    for (unsigned i = 0; i < 2 && !rc; i++)
        rc = (r[i].cold_ns = device_copy_ns(&p[i], src[i], dst[i])) < 0 ? -1 : 0;
    for (int rep = 0; rep < 5 && !rc; rep++)
        for (unsigned i = 0; i < 2 && !rc; i++) {
            double ns = device_copy_ns(&p[i], src[i], dst[i]);
            rc = ns < 0 ? -1 : 0;
            r[i].warm_ns = ns < r[i].warm_ns ? ns : r[i].warm_ns;
        }
    for (unsigned i = 0; i < 2 && !rc; i++) {
        r[i].memcpy_ns = memcpy_ns(m[i], &p[i], src[i], dst[i]);
        accel_fault_rtts(m[i]->dev, NULL, 0);
    }
    for (unsigned b = 0; b < FAULTS && !rc; b += 100)
        for (unsigned i = 0; i < 2 && !rc; i++)
            rc = fault_block(&p[i], area[i], b, 100, lat[i]);
    for (unsigned i = 0; i < 2 && !rc; i++) {
        percentiles(lat[i], FAULTS, &r[i].batch_med, &r[i].batch_p99);
        unsigned n = accel_fault_rtts(m[i]->dev, lat[i], FAULTS);
        percentiles(lat[i], n, &r[i].rtt_med, &r[i].rtt_p99);
        rc = n >= FAULTS ? 0 : -1;
    }
    for (unsigned i = 0; i < 2; i++)
        if (open[i])
            wl_proc_close(&p[i]);
    free(lat[0]), free(lat[1]);
    return rc;
}
