/* The SVM workloads as ring-3 programs of the KVM guest (issue 7 items 4,
 * 5): the same four as src/workloads (svm_sanity, svm_fault,
 * svm_storedw_loop, svm_pointer_chase), but the process is a real one: it
 * runs on the vCPU in ring 3, touches its memory with ordinary loads and
 * stores (demand faults are real #PFs), and the accelerator walks its page
 * tables through the guest's SVA binding. Plus `agree`, the CPU/IOMMU
 * agreement test, and `svmbench`. Each workload ends with one line the VMM
 * parses (kvm_machine.h):
 *   wl NAME PASSED ops N prq N faults N errors N : DETAIL
 */

#include "wl.h"

void wl_fail(struct wl *w, const char *what, uint64_t a, uint64_t b)
{
    w->errors++;
    if (!w->passed)
        return;
    w->passed = 0;
    w->detail.len = 0;
    ul_s(&w->detail, what);
    ul_s(&w->detail, " ");
    ul_x(&w->detail, a);
    ul_s(&w->detail, " ");
    ul_x(&w->detail, b);
}

int wl_begin(struct wl *w, const char *name)
{
    w->name = name, w->passed = 1, w->ops = w->faults = w->errors = 0, w->detail.len = 0;
    w->batch = u_mmap(BATCH_MAX * sizeof(struct accel_cmd), KVM_PROT_READ | KVM_PROT_WRITE);
    w->compl = u_mmap(4096, KVM_PROT_READ | KVM_PROT_WRITE);
    if ((long)w->batch < 0 || (long)w->compl < 0) {
        wl_fail(w, "mmap failed", (uint64_t)w->batch, (uint64_t)w->compl);
        return -1;
    }
    w->compl[0] = 0;            /* the CPU touches them first */
    for (unsigned i = 0; i < BATCH_MAX * sizeof(struct accel_cmd) / 4096; i++)
        ((volatile uint8_t *)w->batch)[i * 4096] = 0;
    w->pasid = u_bind(DEV, w->compl, &w->seq);
    if (w->pasid <= 0) {
        wl_fail(w, "bind failed", (uint64_t)w->pasid, 0);
        return -1;
    }
    return 0;
}

void wl_finish(struct wl *w)
{
    struct u_line l;
    l.len = 0;
    ul_s(&l, "wl ");
    ul_s(&l, w->name);
    ul_s(&l, w->passed ? " 1 ops " : " 0 ops ");
    ul_u(&l, w->ops);
    ul_s(&l, " prq ");
    ul_u(&l, u_stat(KVM_STAT_DEV_FAULTS));
    ul_s(&l, " faults ");
    ul_u(&l, w->faults);
    ul_s(&l, " errors ");
    ul_u(&l, w->errors);
    ul_s(&l, " : ");
    if (w->passed && !w->detail.len) {
        ul_u(&l, w->ops);
        ul_s(&l, " operations verified, pasid ");
        ul_u(&l, (uint64_t)w->pasid);
    } else {
        for (size_t i = 0; i < w->detail.len && l.len < sizeof(l.buf) - 2; i++)
            l.buf[l.len++] = w->detail.buf[i];
    }
    ul_end(&l);
    u_exit(w->passed ? 0 : 1);
}

/* Copies cmds into the batch area with an END, submits, then polls the
 * completion record in ring 3 (native speed) for a while before sleeping
 * in the kernel's wait (which also reports errors). 0, -KVM_EIO with
 * *err / *fva, or -KVM_ETIMEDOUT. */
long wl_submit(struct wl *w, const struct accel_cmd *cmds, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        w->batch[i].opcode = cmds[i].opcode, w->batch[i].arg = cmds[i].arg;
        w->batch[i].a = cmds[i].a, w->batch[i].b = cmds[i].b, w->batch[i].c = cmds[i].c;
    }
    uint64_t seq = ++w->seq;
    w->batch[n].opcode = ACCEL_OP_END, w->batch[n].arg = 0;
    w->batch[n].a = seq, w->batch[n].b = w->batch[n].c = 0;
    return u_submit(DEV, w->batch, seq);
}

long wl_complete(struct wl *w, unsigned *err, uint64_t *fva)
{
    uint64_t t0 = u_rdtsc();
    while (w->compl[0] < w->seq && u_rdtsc() - t0 < SPIN_CYCLES)
        __asm__ volatile("pause");
    if (w->compl[0] >= w->seq) {
        *err = 0, *fva = 0;
        return 0;
    }
    return u_wait(DEV, w->seq, TIMEOUT_MS, err, fva);
}

long wl_run(struct wl *w, const struct accel_cmd *cmds, unsigned n, unsigned *err,
                uint64_t *fva)
{
    long rc = wl_submit(w, cmds, n);
    return rc ? rc : wl_complete(w, err, fva);
}

/* ---- svm_sanity: a store-dword into a buffer the CPU allocated --------- */
void prog_svm_sanity(void);
void prog_svm_sanity(void)
{
    static struct wl w;
    unsigned err;
    uint64_t fva;
    if (!wl_begin(&w, "svm_sanity")) {
        volatile uint32_t *buf = u_mmap(4096, KVM_PROT_READ | KVM_PROT_WRITE);
        buf[0x10] = 0;
        struct accel_cmd c = { .opcode = ACCEL_OP_STORE_DWORD, .arg = 0xC0FFEE01,
                               .a = (uint64_t)&buf[0x10] };
        if (wl_run(&w, &c, 1, &err, &fva))
            wl_fail(&w, "batch failed: error, address", err, fva);
        else if (buf[0x10] != 0xC0FFEE01)
            wl_fail(&w, "read back, expected 0xc0ffee01", buf[0x10], 0);
        else
            w.ops = 1;
    }
    wl_finish(&w);
}

/* ---- svm_fault: stores into 16 untouched pages, then a wild store ------- */
#define FAULT_PAGES 16
void prog_svm_fault(void);
void prog_svm_fault(void)
{
    static struct wl w;
    static struct accel_cmd c[FAULT_PAGES];
    unsigned err;
    uint64_t fva;
    if (!wl_begin(&w, "svm_fault")) {
        uint64_t buf = (uint64_t)u_mmap(FAULT_PAGES * 4096, KVM_PROT_READ | KVM_PROT_WRITE);
        for (unsigned i = 0; i < FAULT_PAGES; i++) {
            c[i].opcode = ACCEL_OP_STORE_DWORD, c[i].arg = 0xFA000000u | i;
            c[i].a = buf + i * 4096 + 8 * i, c[i].b = c[i].c = 0;
        }
        if (wl_run(&w, c, FAULT_PAGES, &err, &fva))
            wl_fail(&w, "batch failed: error, address", err, fva);
        for (unsigned i = 0; w.passed && i < FAULT_PAGES; i++) {
            uint32_t got = *(volatile uint32_t *)(buf + i * 4096 + 8 * i);
            if (got != (0xFA000000u | i))
                wl_fail(&w, "page, read back", i, got);
            else
                w.ops++;
        }
        uint64_t dev_faults = u_stat(KVM_STAT_DEV_FAULTS);
        if (dev_faults < FAULT_PAGES)
            wl_fail(&w, "too few device faults for 16 untouched pages", dev_faults, FAULT_PAGES);
        uint64_t wild = buf + (FAULT_PAGES + 64) * 4096ULL;   /* past the guard: nothing */
        struct accel_cmd bad = { .opcode = ACCEL_OP_STORE_DWORD, .arg = 1, .a = wild };
        long rc = wl_run(&w, &bad, 1, &err, &fva);
        if (rc != -KVM_EIO || err != ACCEL_ERR_PAGE_FAULT || fva != wild)
            wl_fail(&w, "wild store: error, address (expected a page fault there)", err, fva);
        else
            w.ops++, w.faults++;
    }
    wl_finish(&w);
}

/* ---- svm_pointer_chase: the device sums a list the CPU built ------------ */
void prog_svm_pointer_chase(void);
void prog_svm_pointer_chase(void)
{
    enum { NODES = 500, STRIDE = 264 };
    static struct wl w;
    unsigned err;
    uint64_t fva;
    if (!wl_begin(&w, "svm_pointer_chase")) {
        uint64_t heap = (uint64_t)u_mmap(NODES * STRIDE, KVM_PROT_READ | KVM_PROT_WRITE);
        volatile uint64_t *out = u_mmap(4096, KVM_PROT_READ | KVM_PROT_WRITE);
        uint64_t prev = 0, sum = 0;
        for (unsigned i = 0; i < NODES; i++) {     /* node (i * 7919) % NODES: a shuffle */
            volatile uint64_t *node = (volatile uint64_t *)(heap + (uint64_t)((i * 7919u) % NODES) *
                                                            STRIDE + 16);
            node[0] = prev, node[1] = 1000 + i;
            sum += 1000 + i;
            prev = (uint64_t)node;
        }
        struct accel_cmd c = { .opcode = ACCEL_OP_CHASE, .arg = 0 | 8u << 16, .a = prev,
                               .b = (uint64_t)out, .c = NODES + 1 };
        if (wl_run(&w, &c, 1, &err, &fva))
            wl_fail(&w, "chase failed: error, address", err, fva);
        else if (out[0] != sum || out[1] != NODES)
            wl_fail(&w, "sum, count", out[0], out[1]);
        else
            w.ops = NODES;
    }
    wl_finish(&w);
}

/* ---- svm_storedw_loop --------------------------------------------------
 * Batches of 8 store-dwords across 32 pages while the process replaces
 * those pages (mmap MAP_FIXED over them) with the batch in flight: one
 * process, one thread, so the remap happens between submit and wait. The
 * frame a remap frees is the next one the kernel hands out (its free list
 * is LIFO): a scratch page touched right after gets it and must stay zero
 * (no stale device write lands after munmap returned). */
#define LOOP_PAGES 32
#define LOOP_BATCHES 2000
#define LOOP_PER 8
#define LOOP_EVERY 5            /* a remap every 5 batches: 400 */
void prog_svm_storedw_loop(void);
void prog_svm_storedw_loop(void)
{
    static struct wl w;
    static struct accel_cmd c[LOOP_PAGES];
    unsigned err, nscratch = 0;
    uint64_t fva;
    uint32_t seed = 12345u;
    if (wl_begin(&w, "svm_storedw_loop"))
        wl_finish(&w);
    uint64_t region = (uint64_t)u_mmap(LOOP_PAGES * 4096, KVM_PROT_READ | KVM_PROT_WRITE);
    uint64_t scratch = (uint64_t)u_mmap(LOOP_BATCHES / LOOP_EVERY * 4096,
                                        KVM_PROT_READ | KVM_PROT_WRITE);
    for (unsigned b = 0; b < LOOP_BATCHES && w.errors < 10; b++) {
        for (unsigned j = 0; j < LOOP_PER; j++) {
            unsigned n = b * LOOP_PER + j;
            c[j].opcode = ACCEL_OP_STORE_DWORD, c[j].arg = n;
            c[j].a = region + (uint64_t)(n % LOOP_PAGES) * 4096 + (b % 512) * 8;
            c[j].b = c[j].c = 0;
        }
        long rc = wl_submit(&w, c, LOOP_PER);
        if (!rc && b % LOOP_EVERY == 0) {
            seed = seed * 1103515245u + 12345u;
            uint64_t va = region + (uint64_t)((seed >> 16) % LOOP_PAGES) * 4096;
            if ((uint64_t)u_mmap_fixed((void *)va, 4096, KVM_PROT_READ | KVM_PROT_WRITE) != va)
                wl_fail(&w, "remap failed", va, 0);
            /* the first touch takes the frame the remap freed */
            volatile uint8_t *q = (volatile uint8_t *)(scratch + (uint64_t)nscratch++ * 4096);
            (void)q[0];
        }
        if (rc || (rc = wl_complete(&w, &err, &fva)))
            wl_fail(&w, "batch failed: batch, error", b, err);
        else
            w.ops += LOOP_PER;
    }
    for (unsigned i = 0; i < nscratch; i++) {
        const volatile uint64_t *q = (const volatile uint64_t *)(scratch + (uint64_t)i * 4096);
        for (unsigned o = 0; o < 512; o++)
            if (q[o]) {
                wl_fail(&w, "stale device write in a freed page: scratch, offset",
                     (uint64_t)q, o * 8);
                break;
            }
    }
    for (unsigned i = 0; i < LOOP_PAGES; i++) {       /* the final pass */
        c[i].opcode = ACCEL_OP_STORE_DWORD, c[i].arg = 0x5EED0000u + i;
        c[i].a = region + i * 4096ULL + 4092, c[i].b = c[i].c = 0;
    }
    if (wl_run(&w, c, LOOP_PAGES, &err, &fva))
        wl_fail(&w, "final pass failed: error, address", err, fva);
    else
        for (unsigned i = 0; i < LOOP_PAGES; i++) {
            uint32_t got = *(volatile uint32_t *)(region + i * 4096ULL + 4092);
            if (got != 0x5EED0000u + i)
                wl_fail(&w, "final pass: page, read back", i, got);
            else
                w.ops++;
        }
    if (w.passed) {
        w.detail.len = 0;
        ul_u(&w.detail, nscratch);
        ul_s(&w.detail, " remaps with a batch in flight, freed frames clean");
    }
    wl_finish(&w);
}
