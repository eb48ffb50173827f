/* `vsvm bench kvm` (issue 7 item 7): what a KVM guest costs on this
 * machine. Boot to the first program's exit; one trapped MMIO access (a
 * guest ring-0 read of the test page, timed by the VMM between exits); a
 * vMSI round trip (the guest asks through an MMIO write, the VMM injects
 * KVM_SIGNAL_MSI, the guest's IDT handler runs and EOIs, the guest asks
 * again) and the latency estimate it gives (round trip minus one exit);
 * ring-3 demand faults and int3 calls; a ring-3 loop against the same loop
 * run in the VMM process (where in-process guests run). Skipped with the
 * reason when /dev/kvm is unusable. Figures are this machine's (KVM here
 * is software-assisted: kvm-notes.md), not VT-x hardware's. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iommufd/iommufd.h"
#include "kvm/kvm.h"
#include "kvm/kvm_fw.h"
#include "kvm/kvm_machine.h"
#include "tools/bench.h"
#include "viommu/viommu.h"
#include "vmm/guest.h"
#include "vmm/host.h"
#include "workloads/workloads.h"

#define BK_SEC 1000000000ULL

struct bk {
    struct kvm_vm *vm;
    struct viommu *v;           /* the guest's virtual unit at GUEST_UNIT_BASE */
    uint64_t t_first, t_last;   /* the current series of test-page accesses */
    unsigned n;
    uint64_t create_ns, run_ns; /* VM creation (memory slots), boot and run */
    unsigned slots;
};

static uint64_t bk_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static void bk_note(struct bk *b)
{
    uint64_t t = bench_now_ns();
    if (!b->n++)
        b->t_first = t;
    b->t_last = t;
}

static bool bk_unit_page(uint64_t gpa, unsigned size)
{
    return gpa >= GUEST_UNIT_BASE && gpa + size <= GUEST_UNIT_BASE + 0x1000;
}

static void bk_vmsi(void *opaque, uint64_t addr, uint32_t data)
{
    struct bk *b = opaque;
    (void)addr;
    if (b->vm)
        kvm_vm_msi(b->vm, data & 0xFF);
}

static uint64_t bk_read(void *ctx, uint64_t gpa, unsigned size)
{
    struct bk *b = ctx;
    if (bk_unit_page(gpa, size))
        return viommu_mmio_read(b->v, (uint32_t)(gpa - GUEST_UNIT_BASE), size);
    if (gpa == KVM_TEST_MMIO_GPA + 0x40)
        bk_note(ctx);
    return 1;
}

static void bk_write(void *ctx, uint64_t gpa, unsigned size, uint64_t v)
{
    struct bk *b = ctx;
    if (bk_unit_page(gpa, size)) {
        viommu_mmio_write(b->v, (uint32_t)(gpa - GUEST_UNIT_BASE), size, v);
        return;
    }
    if (gpa == KVM_TEST_MMIO_GPA + KVM_TEST_MSI_REG) {
        bk_note(b);
        kvm_vm_msi(b->vm, (uint32_t)v);
    }
}

/* Boots the VM (zeroed RAM) with cmdline and runs it to its end. */
static int bk_run(struct bk *b, const char *cmdline, char *console, size_t cn,
                  struct kvm_report *r, char *why, size_t wn)
{
    b->n = 0;
    uint8_t dmar[256];
    size_t dlen = kvm_guest_dmar(NULL, 0, 48, dmar, sizeof(dmar));
    uint64_t t0 = bench_now_ns();
    if (kvm_vm_boot(b->vm, kvm_guest_image, (size_t)(kvm_guest_image_end - kvm_guest_image),
                    cmdline, dmar, dlen, why, wn))
        return -1;
    kvm_vm_run(b->vm, 120 * BK_SEC, r);
    b->run_ns = bench_now_ns() - t0;
    snprintf(console, cn, "%s", kvm_vm_console(b->vm));
    if (r->end != KVM_END_EXIT || r->status != 0)
        return snprintf(why, wn, "guest run '%s' ended: %s", cmdline, r->what), -1;
    return 0;
}

static double field(const char *con, const char *key)
{
    const char *p = strstr(con, key);
    return p ? strtod(p + strlen(key), NULL) : -1;
}

static double tsc_ghz(void)
{
    uint64_t t0 = bench_now_ns(), c0 = bk_rdtsc();
    struct timespec ts = { 0, 50 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    return (double)(bk_rdtsc() - c0) / (double)(bench_now_ns() - t0);
}

/* ---- trapped accesses per invalidation batch ----------------------------
 * For comparison with the KVM guest's counts (bk_svm): the same driver in
 * an in-process guest running the four SVM workloads; every access it
 * makes to the virtual unit's page, the BARs and configuration space is
 * one that traps (one KVM exit) in a KVM guest; a batch is one IQT write
 * (the driver queues many descriptors per IQT write). Counted by wrapping
 * the guest kernel's ops table. Then the in-process guest's device
 * throughput: store-dword batches of 8 and 64, submit to completion. */
static struct os_ops bk_orig;
static uint64_t bk_unit, bk_iqt, bk_bar, bk_cfg;

static void bk_count(uint64_t gpa, bool write)
{
    if (gpa >= GUEST_UNIT_BASE && gpa < GUEST_UNIT_BASE + 0x1000) {
        __atomic_add_fetch(&bk_unit, 1, __ATOMIC_RELAXED);
        if (write && gpa == GUEST_UNIT_BASE + 0x88)
            __atomic_add_fetch(&bk_iqt, 1, __ATOMIC_RELAXED);
    } else if (gpa >= GUEST_BAR_BASE && gpa < GUEST_BAR_BASE + 0x100000) {
        __atomic_add_fetch(&bk_bar, 1, __ATOMIC_RELAXED);
    }
}

static uint64_t bk_mmio_read(void *ctx, uint64_t pa, unsigned size)
{
    bk_count(pa, false);
    return bk_orig.mmio_read(ctx, pa, size);
}

static void bk_mmio_write(void *ctx, uint64_t pa, unsigned size, uint64_t v)
{
    bk_count(pa, true);
    bk_orig.mmio_write(ctx, pa, size, v);
}

static uint32_t bk_cfg_read(void *ctx, uint16_t bdf, unsigned off, unsigned size)
{
    __atomic_add_fetch(&bk_cfg, 1, __ATOMIC_RELAXED);
    return bk_orig.cfg_read(ctx, bdf, off, size);
}

static void bk_cfg_write(void *ctx, uint16_t bdf, unsigned off, unsigned size, uint32_t v)
{
    __atomic_add_fetch(&bk_cfg, 1, __ATOMIC_RELAXED);
    bk_orig.cfg_write(ctx, bdf, off, size, v);
}

struct bk_batches { uint64_t batches, unit, bar, cfg; bool passed; double b8_us, b64_us; };

static void bk_throughput(struct os_kernel *k, struct os_accel *a, struct bk_batches *out)
{
    struct wl_proc p;
    uint64_t buf;
    static const uint8_t zero[4096];
    out->b8_us = out->b64_us = -1;
    if (wl_proc_open(&p, k, a) || os_mmap(&p.mm, 64 * 4096, OS_PROT_READ | OS_PROT_WRITE, &buf)) {
        wl_proc_close(&p);
        return;
    }
    for (unsigned i = 0; i < 64; i++)
        os_mm_write(&p.mm, buf + i * 4096ULL, zero, sizeof(zero));
    static const unsigned per[2] = { 8, 64 }, batches[2] = { 1000, 200 };
    for (unsigned s = 0; s < 2; s++) {
        struct accel_cmd c[64];
        uint64_t t0 = bench_now_ns();
        for (unsigned b = 0; b < batches[s]; b++) {
            for (unsigned j = 0; j < per[s]; j++)
                c[j] = (struct accel_cmd){ .opcode = ACCEL_OP_STORE_DWORD, .arg = b,
                                           .a = buf + j * 4096ULL + (b % 1024) * 4 };
            unsigned err;
            uint64_t fva;
            if (wl_run(&p, c, per[s], &err, &fva)) {
                wl_proc_close(&p);
                return;
            }
        }
        double us = (double)(bench_now_ns() - t0) / batches[s] / 1e3;
        *(s ? &out->b64_us : &out->b8_us) = us;
    }
    wl_proc_close(&p);
}

static int bk_count_batches(struct bk_batches *out, char *why, size_t n)
{
    struct host_config hc;
    struct guest_config gc;
    host_config_default(&hc);
    hc.nunits = 1, hc.naccels = 1, hc.mem_size = 1ULL << 30;
    guest_config_default(&gc);
    gc.svm = true, gc.mem_size = 256ULL << 20, gc.ndevs = 1;
    struct host *h = host_create(&hc, why, n);
    struct guest *g = NULL;
    if (h) {
        gc.dev[0].host_bdf = h->acc_bdf[0];
        g = guest_create(h, &gc, why, n);
    }
    if (!g) {
        host_destroy(h);
        return -1;
    }
    struct os_kernel *k = guest_kernel(g);
    bk_orig = k->ops;
    bk_unit = bk_iqt = bk_bar = bk_cfg = 0;
    k->ops.mmio_read = bk_mmio_read, k->ops.mmio_write = bk_mmio_write;
    k->ops.cfg_read = bk_cfg_read, k->ops.cfg_write = bk_cfg_write;
    out->passed = true;
    for (unsigned i = 0; i < 4; i++) {
        struct wl_result r;
        memset(&r, 0, sizeof(r));
        wl_all[i].fn(k, guest_accel(g, 0), &r);
        out->passed &= r.passed;
    }
    k->ops = bk_orig;
    out->batches = bk_iqt, out->unit = bk_unit, out->bar = bk_bar, out->cfg = bk_cfg;
    bk_throughput(k, guest_accel(g, 0), out);
    guest_destroy(g);
    host_destroy(h);
    return 0;
}

/* ---- a KVM guest with an assigned accelerator ---------------------------
 * The guest image's kernel drives the device (kvm_machine.h): ring-3
 * store-dword batches of 8 and 64 (svmbench), then the four SVM workloads
 * as ring-3 programs, with the MMIO exits the VMM counted per guest
 * invalidation batch (IQT write) and the vMSIs it injected. */
struct bk_svm {
    double b8_us, b64_us, wl_ms;
    struct kvm_machine_stats st;
    bool passed;
};

/* A fresh machine per run: a VM boots once per guest machine (the virtual
 * unit and the device keep the state the last kernel left). */
static int bk_svm_run(const char *cmdline, struct kvm_machine **mo, struct host **ho,
                      struct kvm_report *r, char *why, size_t n)
{
    struct host_config hc;
    struct guest_config gc;
    host_config_default(&hc);
    hc.nunits = 1, hc.naccels = 1;
    guest_config_default(&gc);
    gc.svm = true, gc.mem_size = 32ULL << 20, gc.ndevs = 1;
    struct host *h = host_create(&hc, why, n);
    struct kvm_machine *m = NULL;
    if (h) {
        gc.dev[0].host_bdf = h->acc_bdf[0];
        m = kvm_machine_create(h, &gc, why, n);
    }
    if (!m) {
        host_destroy(h);
        return -1;
    }
    *mo = m, *ho = h;
    return kvm_machine_run(m, cmdline, 600 * BK_SEC, r, why, n);
}

static int bk_svm(struct bk_svm *o, double ghz, char *why, size_t n)
{
    struct kvm_machine *m = NULL;
    struct host *h = NULL;
    struct kvm_report r;
    int rc = bk_svm_run("iommu svmbench", &m, &h, &r, why, n);
    if (!rc) {
        const char *con = kvm_machine_console(m);
        o->b8_us = field(con, "batch8_cycles ") / (ghz * 1e3);
        o->b64_us = field(con, "batch64_cycles ") / (ghz * 1e3);
        if (o->b8_us < 0 || o->b64_us < 0 || r.status)
            rc = -1, snprintf(why, n, "svmbench failed in the KVM guest");
    }
    kvm_machine_destroy(m);
    host_destroy(h);
    m = NULL, h = NULL;
    if (!rc)
        rc = bk_svm_run("iommu svm_sanity svm_fault svm_storedw_loop svm_pointer_chase", &m, &h,
                        &r, why, n);
    if (!rc) {
        struct kvm_wl_result res[4];
        o->passed = kvm_machine_results(m, res, 4) == 4 && r.status == 0;
        kvm_machine_stats(m, &o->st);
        o->wl_ms = (double)r.run_ns / 1e6;
    }
    kvm_machine_destroy(m);
    host_destroy(h);
    return rc;
}

static void skip_report(FILE *out, bool json, const char *why)
{
    if (json)
        fprintf(out, "{\"name\": \"kvm\", \"mode\": \"in-process\", \"skipped\": \"%s\"}", why);
    else
        fprintf(out, "kvm: skipped: %s\n", why);
}

int bench_kvm(FILE *out, bool json)
{
    char why[200];
    if (kvm_usable(why, sizeof(why))) {
        skip_report(out, json, why);
        return 0;
    }
    struct host_config hc;
    host_config_default(&hc);
    hc.nunits = 1, hc.naccels = 1;
    struct host *h = host_create(&hc, why, sizeof(why));
    struct gpa_map *ram = h ? gpa_map_create(h->mem, 32ULL << 20) : NULL;
    struct iommufd *ifd = ram ? iommufd_open(h) : NULL;
    static char con[65536];
    static struct bk b;
    struct kvm_report r;
    memset(&b, 0, sizeof(b));
    struct viommu_config vc = { .host = h, .ifd = ifd, .guest_ram = ram, .svm = true,
                                .msi = bk_vmsi, .msi_opaque = &b };
    if (ifd)
        b.v = viommu_create(&vc);
    if (!b.v) {
        iommufd_close(ifd);
        gpa_map_destroy(ram);
        host_destroy(h);
        skip_report(out, json, "no host machine for the guest");
        return 1;
    }
    double ghz = tsc_ghz();
    struct kvm_vm_config c = { .ram = ram, .mmio = { &b, bk_read, bk_write }, .name = "bench" };
    uint64_t t0 = bench_now_ns();
    b.vm = kvm_vm_create(&c, why, sizeof(why));
    double create_ms = (double)(bench_now_ns() - t0) / 1e6;
    unsigned slots = b.vm ? kvm_vm_slots(b.vm) : 0;
    /* boot to the end of a one-line program */
    int rc = b.vm ? bk_run(&b, "hello", con, sizeof(con), &r, why, sizeof(why)) : -1;
    double boot_ms = (double)b.run_ns / 1e6;
    /* trapped MMIO: 2000 back-to-back reads */
    double mmio_us = -1, msi_us = -1;
    if (!rc && !(rc = bk_run(&b, "mmiobench", con, sizeof(con), &r, why, sizeof(why))) && b.n > 1)
        mmio_us = (double)(b.t_last - b.t_first) / (b.n - 1) / 1e3;
    if (!rc && !(rc = bk_run(&b, "irqbench", con, sizeof(con), &r, why, sizeof(why))) && b.n > 1)
        msi_us = (double)(b.t_last - b.t_first) / (b.n - 1) / 1e3;
    double qi_exits = -1, qi_cyc = -1;
    if (!rc && !(rc = bk_run(&b, "iommu qibench", con, sizeof(con), &r, why, sizeof(why)))) {
        qi_exits = field(con, "descriptors, ");
        qi_cyc = field(con, "trapped accesses per batch, ");
        if (qi_exits < 0 || qi_cyc < 0)
            rc = -1, snprintf(why, sizeof(why), "the guest's VT-d driver did not come up");
    }
    double fault_cyc = -1, call_cyc = -1, loop_cyc = -1;
    if (!rc && !(rc = bk_run(&b, "bench", con, sizeof(con), &r, why, sizeof(why)))) {
        fault_cyc = field(con, "fault_cycles ");
        call_cyc = field(con, "call_cycles ");
        loop_cyc = field(con, "loop10M_cycles ");
    }
    /* the same loop in the VMM process: where in-process guests run */
    volatile uint64_t x = 0;
    uint64_t c0 = bk_rdtsc();
    for (unsigned i = 0; i < 10000000; i++)
        x += i;
    double host_loop_cyc = (double)(bk_rdtsc() - c0);
    (void)x;
    kvm_vm_destroy(b.vm);
    b.vm = NULL;
    viommu_destroy(b.v);
    iommufd_close(ifd);
    gpa_map_destroy(ram);
    host_destroy(h);
    struct bk_batches bb = { 0 };
    if (!rc)
        rc = bk_count_batches(&bb, why, sizeof(why));
    if (!rc && (!bb.passed || !bb.batches))
        rc = -1, snprintf(why, sizeof(why), "the in-process SVM workloads failed");
    struct bk_svm ks;
    memset(&ks, 0, sizeof(ks));
    if (!rc)
        rc = bk_svm(&ks, ghz, why, sizeof(why));
    if (!rc && !ks.passed)
        rc = -1, snprintf(why, sizeof(why), "the SVM workloads failed in the KVM guest");
    double kb = ks.st.iqt_writes ? (double)ks.st.iqt_writes : 1;
    if (rc) {
        if (json)
            fprintf(out, "{\"name\": \"kvm\", \"mode\": \"kvm\", \"error\": \"%s\"}", why);
        else
            fprintf(out, "kvm: %s\n", why);
        return 1;
    }
    double us = 1.0 / (ghz * 1e3);
    if (json) {
        fprintf(out,
                "{\"name\": \"kvm\", \"mode\": \"kvm\", \"tsc_ghz\": %.3f, \"guest_ram_mib\": 32, "
                "\"memory_slots\": %u, \"vm_create_ms\": %.1f, \"boot_ms\": %.1f, "
                "\"mmio_exit_us\": %.2f, \"msi_round_trip_us\": %.2f, \"msi_latency_us_est\": %.2f, "
                "\"ring3_fault_us\": %.2f, \"ring3_call_us\": %.2f, \"ring3_loop_10M_ms\": %.2f, "
                "\"in_process_loop_10M_ms\": %.2f, \"ring3_vs_in_process\": %.3f, "
                "\"kvm_mmio_exits_per_inv_batch\": %.0f, \"kvm_inv_batch_us\": %.1f, "
                "\"in_process_inv_batches\": %llu, \"in_process_unit_accesses_per_inv_batch\": %.2f, "
                "\"in_process_bar_accesses_per_inv_batch\": %.2f, "
                "\"kvm_svm_batch8_us\": %.1f, \"kvm_svm_batch64_us\": %.1f, "
                "\"in_process_svm_batch8_us\": %.1f, \"in_process_svm_batch64_us\": %.1f, "
                "\"kvm_svm_batch8_vs_in_process\": %.2f, \"kvm_workloads_ms\": %.0f, "
                "\"kvm_workloads_inv_batches\": %llu, "
                "\"kvm_workloads_unit_exits_per_inv_batch\": %.2f, "
                "\"kvm_workloads_exits_per_inv_batch\": %.2f, \"kvm_workloads_vmsis\": %llu}",
                ghz, slots, create_ms, boot_ms, mmio_us, msi_us, msi_us - mmio_us, fault_cyc * us, call_cyc * us,
                loop_cyc * us / 1e3, host_loop_cyc * us / 1e3,
                loop_cyc > 0 ? host_loop_cyc / loop_cyc : 0, qi_exits, qi_cyc * us,
                (unsigned long long)bb.batches, (double)bb.unit / (double)bb.batches,
                (double)bb.bar / (double)bb.batches, ks.b8_us, ks.b64_us, bb.b8_us, bb.b64_us,
                bb.b8_us > 0 ? ks.b8_us / bb.b8_us : 0, ks.wl_ms,
                (unsigned long long)ks.st.iqt_writes, (double)ks.st.unit_accesses / kb,
                (double)(ks.st.unit_accesses + ks.st.bar_accesses + ks.st.cfg_accesses) / kb,
                (unsigned long long)ks.st.msis);
    } else {
        fprintf(out, "kvm (this machine's KVM: software-assisted, ring 0 slow)\n");
        fprintf(out, "  VM creation, 32 MiB RAM      %10.1f ms (%u memory slots)\n", create_ms, slots);
        fprintf(out, "  boot to first program exit   %10.1f ms\n", boot_ms);
        fprintf(out, "  trapped MMIO read (ring 0)   %10.2f us\n", mmio_us);
        fprintf(out, "  vMSI round trip              %10.2f us (latency ~%.2f us)\n", msi_us,
                msi_us - mmio_us);
        fprintf(out, "  ring-3 demand fault          %10.2f us\n", fault_cyc * us);
        fprintf(out, "  ring-3 int3 call             %10.2f us\n", call_cyc * us);
        fprintf(out, "  10M-iteration loop: ring 3 %.2f ms, in-process %.2f ms\n",
                loop_cyc * us / 1e3, host_loop_cyc * us / 1e3);
        fprintf(out, "  guest VT-d driver, 8-descriptor invalidation batch: %.0f MMIO exit(s), "
                     "%.1f us\n", qi_exits, qi_cyc * us);
        fprintf(out, "  SVM workloads (in-process guest driver): %llu invalidation batches, "
                     "%.2f unit-page and %.2f BAR accesses per batch (each one exit in KVM)\n",
                (unsigned long long)bb.batches, (double)bb.unit / (double)bb.batches,
                (double)bb.bar / (double)bb.batches);
        fprintf(out, "  ring-3 SVM batch of 8 / 64 stores: KVM %.1f / %.1f us, in-process guest "
                     "%.1f / %.1f us\n", ks.b8_us, ks.b64_us, bb.b8_us, bb.b64_us);
        fprintf(out, "  SVM workloads in the KVM guest: %.0f ms, %llu invalidation batches, "
                     "%.2f unit-page exits and %.2f exits in all per batch, %llu vMSIs\n",
                ks.wl_ms, (unsigned long long)ks.st.iqt_writes,
                (double)ks.st.unit_accesses / kb,
                (double)(ks.st.unit_accesses + ks.st.bar_accesses + ks.st.cfg_accesses) / kb,
                (unsigned long long)ks.st.msis);
    }
    return 0;
}
