/* `vsvm bench guest`: the device copy and page-fault measurements of
 * `bench dma` in a guest (its process's VA -> GPA by the guest's first
 * level, GPA -> HPA by the host's second level: nested translation, page
 * requests through the virtual IOMMU) and on the host (first level) in the
 * same run, one accelerator each behind the same unit, measured in
 * alternation so the machine's noise falls on both alike. Targets (issue 6): guest/host warm throughput >= 0.95, guest
 * fault round trip <= 2x the host's. */
#include "tools/bench.h"
#include "tools/bench_dma.h"
#include "vmm/guest.h"
#include "vmm/host.h"

struct gctx {
    struct host *h;
    struct guest *g;
};

static void *host_ptr(void *ctx, uint64_t pa)
{
    return mem_ptr(((struct host *)ctx)->mem, pa, 4096);
}

static void *guest_ptr(void *ctx, uint64_t gpa)
{
    struct gctx *c = ctx;
    return mem_ptr(c->h->mem, guest_hpa(c->g, gpa), 4096);
}

static void print(FILE *out, bool json, const struct dma_result *g, const struct dma_result *h)
{
    double gbs = DMA_COPY_BYTES * 1e9 / (1 << 30);
    double ratio = h->warm_ns / g->warm_ns, rtt = (double)g->rtt_med / (double)h->rtt_med;
    if (json) {
        fprintf(out, "{\"name\": \"guest\", \"bytes\": %llu, \"targets\": {\"warm_ratio\": 0.95, "
                     "\"fault_rtt_ratio\": 2.0}, \"host_warm_gib_s\": %.2f, "
                     "\"guest_warm_gib_s\": %.2f, \"warm_ratio\": %.3f, \"host_cold_gib_s\": %.2f, "
                     "\"guest_cold_gib_s\": %.2f, \"host_fault_rtt_median_us\": %.2f, "
                     "\"guest_fault_rtt_median_us\": %.2f, \"host_fault_rtt_p99_us\": %.2f, "
                     "\"guest_fault_rtt_p99_us\": %.2f, \"fault_rtt_ratio\": %.3f, "
                     "\"host_fault_batch_median_us\": %.2f, \"guest_fault_batch_median_us\": %.2f}",
                (unsigned long long)DMA_COPY_BYTES, gbs / h->warm_ns, gbs / g->warm_ns, ratio,
                gbs / h->cold_ns, gbs / g->cold_ns, h->rtt_med / 1e3, g->rtt_med / 1e3,
                h->rtt_p99 / 1e3, g->rtt_p99 / 1e3, rtt, h->batch_med / 1e3, g->batch_med / 1e3);
        return;
    }
    fprintf(out, "guest: warm copy guest %.2f GiB/s vs host %.2f GiB/s (ratio %.3f, target 0.95); "
                 "cold guest %.2f vs host %.2f GiB/s; fault round trip median guest %.1f us vs "
                 "host %.1f us (ratio %.2f, target <= 2), p99 %.1f vs %.1f us; faulting batch "
                 "median guest %.1f vs host %.1f us\n", gbs / g->warm_ns, gbs / h->warm_ns, ratio,
            gbs / g->cold_ns, gbs / h->cold_ns, g->rtt_med / 1e3, h->rtt_med / 1e3, rtt,
            g->rtt_p99 / 1e3, h->rtt_p99 / 1e3, g->batch_med / 1e3, h->batch_med / 1e3);
}

int bench_guest(FILE *out, bool json)
{
    struct host_config hc;
    struct guest_config gc;
    char why[160] = "";
    host_config_default(&hc);
    hc.nunits = 1, hc.naccels = 2, hc.mem_size = 2ULL << 30;
    hc.accel_unit[1] = 0;
    guest_config_default(&gc);
    gc.svm = true, gc.mem_size = 512ULL << 20, gc.ndevs = 1;
    struct host *h = host_create(&hc, why, sizeof(why));
    struct guest *g = NULL;
    if (h) {
        gc.dev[0].host_bdf = h->acc_bdf[0];
        g = guest_create(h, &gc, why, sizeof(why));
    }
    struct gctx gx = { h, g };
    struct dma_result gr, hr;
    int rc = -1;
    if (g) {
        struct dma_machine gm = { guest_kernel(g), guest_accel(g, 0), h->acc[0].dev, guest_ptr, &gx };
        struct dma_machine hm = { &h->k, &h->drv[1], h->acc[1].dev, host_ptr, h };
        const struct dma_machine *m[2] = { &gm, &hm };
        struct dma_result res[2];
        rc = dma_measure_pair(m, res);
        gr = res[0], hr = res[1];
    }
    guest_destroy(g);
    host_destroy(h);
    if (rc) {
        fprintf(stderr, "bench guest: %s\n", *why ? why : "a batch failed");
        return 1;
    }
    print(out, json, &gr, &hr);
    return 0;
}
