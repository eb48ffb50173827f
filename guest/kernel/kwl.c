/* The kernel's own workloads: the in-process scenarios' kernel-side lanes
 * (src/tools/cmd_scenario.c: dma_lane, attacker), run by this kernel on
 * its assigned device with the very same code (src/workloads/wl_dma.c,
 * wl_isolation.c, linked into the image). Command-line words (kvm_abi.h),
 * after "iommu":
 *   dma           — wl_dma: for a virtual unit with svm=off, the os layer's
 *                   DMA API (src/os/dma.c) maps scattered kernel pages in a
 *                   second-level domain of this kernel's own, which the VMM
 *                   shadows (src/viommu/sl.c); a copy through a context
 *                   without PASID, then a store into a read-only mapping
 *                   and two accesses to stale IOVAs after unmap, each of
 *                   which must end in a device error;
 *   probe:HEX,... — wl_isolation_probe: a hostile kernel's stores of
 *                   KVM_PROBE_MARKER through first-level PTEs it writes
 *                   itself, pointing at those addresses (the host physical
 *                   addresses of another guest's frames, as if learnt),
 *                   then with 8 PASIDs it never bound; every attempt must
 *                   end in a device error (the VMM checks the targets);
 *   dev=N         — the accelerator (index in probe order) that these and
 *                   the ring-3 programs created after it use (svm_dev).
 * Each workload reports one console line in the ring-3 programs' format,
 * the one kvm_machine_results parses:
 *   wl NAME PASSED ops N prq N faults N errors N : DETAIL
 * Ring 0 is slow on this machine's KVM (kvm-notes.md), but these are a few
 * dozen batches and a few thousand words of kernel memory. */
#include "kernel.h"

#include "workloads/workloads.h"

/* The C library calls of the linked workloads (their details): the os
 * layer's formatter, which has every conversion they use. */
int vsnprintf(char *s, size_t n, const char *fmt, va_list ap);
int snprintf(char *s, size_t n, const char *fmt, ...);

int vsnprintf(char *s, size_t n, const char *fmt, va_list ap)
{
    return os_vsnprintf(s, n, fmt, ap);
}

int snprintf(char *s, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = os_vsnprintf(s, n, fmt, ap);
    va_end(ap);
    return r;
}

static void report(const struct wl_result *r)
{
    kprintf("wl %s %d ops %llu prq %llu faults %llu errors %llu : %s\n", r->name,
            r->passed ? 1 : 0, (unsigned long long)r->operations,
            (unsigned long long)r->page_requests, (unsigned long long)r->faults,
            (unsigned long long)r->errors, r->detail);
}

/* The selected accelerator, or a failed result saying why there is none. */
static struct os_accel *device(struct wl_result *r, const char *name)
{
    if (svm_dev < naccels)
        return &accels[svm_dev];
    *r = (struct wl_result){ .name = name, .errors = 1 };
    snprintf(r->detail, sizeof(r->detail), "no accelerator %u (%u probed)", svm_dev, naccels);
    return NULL;
}

static void cmd_probe(const char *list)
{
    static uint64_t target[KVM_PROBE_MAX];
    static struct wl_result r;
    unsigned n = 0;
    const char *s = list;
    while (s && *s && n < KVM_PROBE_MAX) {
        s = parse_hex(s, &target[n++]);
        if (s && *s == ',')
            s++;
    }
    struct os_accel *a = device(&r, "isolation_probe");
    if (!a) {
        report(&r);
        return;
    }
    if (!s || *s || !n) {
        r = (struct wl_result){ .name = "isolation_probe", .errors = 1 };
        snprintf(r.detail, sizeof(r.detail), "bad target list '%s' (at most %d hex addresses)",
                 list, KVM_PROBE_MAX);
        report(&r);
        return;
    }
    wl_isolation_probe(&gk, a, target, n, KVM_PROBE_MARKER, &r);
    report(&r);
}

bool kcmd_workload(const char *word)
{
    static struct wl_result r;
    if (!strcmp(word, "dma")) {
        struct os_accel *a = device(&r, "dma");
        if (a)
            wl_dma(&gk, a, &r);
        report(&r);
        return true;
    }
    const char *arg;
    if ((arg = str_after(word, "probe:"))) {
        cmd_probe(arg);
        return true;
    }
    if ((arg = str_after(word, "dev="))) {
        unsigned n = 0;
        const char *s = arg;
        while (*s >= '0' && *s <= '9' && n < KVM_MAX_ACCELS)
            n = n * 10 + (unsigned)(*s++ - '0');
        if (*s || s == arg || n >= KVM_MAX_ACCELS)
            kprintf("kernel: bad device '%s' (dev=0 to dev=%d)\n", word, KVM_MAX_ACCELS - 1);
        else
            svm_dev = n;
        return true;
    }
    return false;
}
