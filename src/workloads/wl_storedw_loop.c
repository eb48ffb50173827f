/* svm_storedw_loop: thousands of store-dword batches across many pages
 * while another thread of the process keeps replacing those pages with
 * fresh ones (mmap MAP_FIXED over them: unmap and remap in one step, so a
 * device fault never finds a hole — with munmap then mmap it could, and
 * the batch would rightly fail). Correct invalidation shows in two ways: every batch completes (an
 * unmapped page comes back through a device page fault), and no write
 * lands after munmap returned: the freed frames go straight back to the
 * process as scratch pages that nothing may write, and they stay zero. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "workloads/workloads.h"

#define PAGES    32
#define BATCHES  2000
#define PER      8
#define CHURN    400

struct churn {
    struct wl_proc *p;
    uint64_t region, scratch_base;
    uint64_t scratch[CHURN];
    unsigned nscratch, failures;
    unsigned batches_done;     /* paces the churn: one remap every few batches */
    bool stop;
};

static void *churn_thread(void *arg)
{
    struct churn *c = arg;
    static const uint8_t zero[4096];
    uint32_t seed = 12345u + (uint32_t)(c->region >> 12);
    for (unsigned i = 0; i < CHURN && !__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE); i++) {
        while (__atomic_load_n(&c->batches_done, __ATOMIC_ACQUIRE) < i * (BATCHES / CHURN) &&
               !__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE))
            sched_yield();
        seed = seed * 1103515245u + 12345u;
        uint64_t va = c->region + (uint64_t)((seed >> 16) % PAGES) * 4096;
        uint64_t q = c->scratch_base + (uint64_t)i * 4096;   /* first touch takes a free frame */
        if (os_mmap_replace(&c->p->mm, va, 4096, OS_PROT_READ | OS_PROT_WRITE) ||
            os_mm_write(&c->p->mm, q, zero, sizeof(zero))) {
            c->failures++;
            continue;
        }
        if (c->nscratch < CHURN)
            c->scratch[c->nscratch++] = q;
    }
    return NULL;
}

static void run_batches(struct wl_proc *p, uint64_t region, struct churn *ch,
                        struct wl_result *r)
{
    struct accel_cmd c[PER];
    for (unsigned b = 0; b < BATCHES && r->errors < 10; b++) {
        for (unsigned j = 0; j < PER; j++) {
            unsigned n = b * PER + j;
            c[j] = (struct accel_cmd){ .opcode = ACCEL_OP_STORE_DWORD, .arg = n,
                                       .a = region + (uint64_t)(n % PAGES) * 4096 + (b % 512) * 8 };
        }
        unsigned err = 0;
        uint64_t fva = 0;
        if (wl_run(p, c, PER, &err, &fva))
            wl_fail(r, "batch %u failed: error %u at %#llx", b, err, (unsigned long long)fva);
        else
            r->operations += PER;
        __atomic_store_n(&ch->batches_done, b + 1, __ATOMIC_RELEASE);
    }
}

static void check_scratch(struct wl_proc *p, struct churn *ch, struct wl_result *r)
{
    uint8_t buf[4096];
    for (unsigned i = 0; i < ch->nscratch; i++) {
        if (os_mm_read(&p->mm, ch->scratch[i], buf, sizeof(buf))) {
            wl_fail(r, "scratch page %#llx unreadable", (unsigned long long)ch->scratch[i]);
            continue;
        }
        for (unsigned o = 0; o < sizeof(buf); o++)
            if (buf[o]) {
                wl_fail(r, "stale device write in a freed page (scratch %#llx + %#x)",
                        (unsigned long long)ch->scratch[i], o);
                break;
            }
    }
}

/* After the churn: one pass over every page, read back by the CPU. */
static void final_pass(struct wl_proc *p, uint64_t region, struct wl_result *r)
{
    struct accel_cmd c[PAGES];
    for (unsigned i = 0; i < PAGES; i++)
        c[i] = (struct accel_cmd){ .opcode = ACCEL_OP_STORE_DWORD, .arg = 0x5EED0000u + i,
                                   .a = region + i * 4096ULL + 4092 };
    unsigned err = 0;
    uint64_t fva = 0;
    if (wl_run(p, c, PAGES, &err, &fva)) {
        wl_fail(r, "final pass failed: error %u at %#llx", err, (unsigned long long)fva);
        return;
    }
    for (unsigned i = 0; i < PAGES; i++) {
        uint32_t got = 0;
        if (os_mm_read(&p->mm, region + i * 4096ULL + 4092, &got, 4) || got != 0x5EED0000u + i)
            wl_fail(r, "page %u read back %#x after the final pass", i, got);
        else
            r->operations++;
    }
}

void wl_svm_storedw_loop(struct os_kernel *k, struct os_accel *a, struct wl_result *r)
{
    struct wl_proc p;
    struct churn ch;   /* per run: workloads run on several devices at once */
    uint64_t region;
    memset(r, 0, sizeof(*r));
    r->name = "svm_storedw_loop";
    r->passed = true;
    memset(&ch, 0, sizeof(ch));
    if (wl_proc_open(&p, k, a) ||
        os_mmap(&p.mm, PAGES * 4096, OS_PROT_READ | OS_PROT_WRITE, &region) ||
        os_mmap(&p.mm, CHURN * 4096, OS_PROT_READ | OS_PROT_WRITE, &ch.scratch_base)) {
        wl_fail(r, "process set-up failed");
        wl_proc_close(&p);
        return;
    }
    ch.p = &p, ch.region = region;
    pthread_t t;
    bool threaded = !pthread_create(&t, NULL, churn_thread, &ch);
    run_batches(&p, region, &ch, r);
    __atomic_store_n(&ch.stop, true, __ATOMIC_RELEASE);
    if (threaded)
        pthread_join(t, NULL);
    if (ch.failures)
        wl_fail(r, "%u munmap/remap steps failed", ch.failures);
    check_scratch(&p, &ch, r);
    final_pass(&p, region, r);
    r->page_requests = p.mm.faults_dev;
    wl_proc_close(&p);
    if (r->passed)
        snprintf(r->detail, sizeof(r->detail),
                 "%llu stores, %u remaps under load, %u freed frames clean",
                 (unsigned long long)r->operations, ch.nscratch, ch.nscratch);
}
