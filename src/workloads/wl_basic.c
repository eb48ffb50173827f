/* svm_sanity, svm_fault and svm_pointer_chase (see workloads.h). */
#include <stdio.h>
#include <string.h>

#include "workloads/workloads.h"

#define PAGES 16

static void begin(struct wl_result *r, const char *name)
{
    memset(r, 0, sizeof(*r));
    r->name = name;
    r->passed = true;
}

static void finish(struct wl_proc *p, struct wl_result *r)
{
    r->page_requests = p->mm.faults_dev;
    wl_proc_close(p);
    if (r->passed)
        snprintf(r->detail, sizeof(r->detail), "%llu operations verified",
                 (unsigned long long)r->operations);
}

/* A store-dword into a present buffer the CPU allocated and touched. */
void wl_svm_sanity(struct os_kernel *k, struct os_accel *a, struct wl_result *r)
{
    struct wl_proc p;
    uint64_t buf;
    uint32_t zero = 0, got = 0;
    unsigned err = 0;
    uint64_t fva = 0;
    begin(r, "svm_sanity");
    if (wl_proc_open(&p, k, a) || os_mmap(&p.mm, 4096, OS_PROT_READ | OS_PROT_WRITE, &buf) ||
        os_mm_write(&p.mm, buf + 0x40, &zero, 4)) {
        wl_fail(r, "process set-up failed");
        wl_proc_close(&p);
        return;
    }
    struct accel_cmd c = { .opcode = ACCEL_OP_STORE_DWORD, .arg = 0xC0FFEE01, .a = buf + 0x40 };
    if (wl_run(&p, &c, 1, &err, &fva))
        wl_fail(r, "batch failed: error %u at %#llx", err, (unsigned long long)fva);
    else if (os_mm_read(&p.mm, buf + 0x40, &got, 4) || got != 0xC0FFEE01)
        wl_fail(r, "read back %#x, expected 0xc0ffee01", got);
    else
        r->operations = 1;
    finish(&p, r);
}

/* The device writes into memory the CPU never touched: every page comes in
 * through a page request. Then an address outside every mapping must fail
 * cleanly (page fault reported, context usable again). */
void wl_svm_fault(struct os_kernel *k, struct os_accel *a, struct wl_result *r)
{
    struct wl_proc p;
    uint64_t buf;
    unsigned err = 0;
    uint64_t fva = 0;
    begin(r, "svm_fault");
    if (wl_proc_open(&p, k, a) || os_mmap(&p.mm, PAGES * 4096, OS_PROT_READ | OS_PROT_WRITE, &buf)) {
        wl_fail(r, "process set-up failed");
        wl_proc_close(&p);
        return;
    }
    struct accel_cmd c[PAGES];
    for (unsigned i = 0; i < PAGES; i++)
        c[i] = (struct accel_cmd){ .opcode = ACCEL_OP_STORE_DWORD, .arg = 0xFA000000u | i,
                                   .a = buf + i * 4096 + 8 * i };
    if (wl_run(&p, c, PAGES, &err, &fva))
        wl_fail(r, "batch failed: error %u at %#llx", err, (unsigned long long)fva);
    for (unsigned i = 0; r->passed && i < PAGES; i++) {
        uint32_t got = 0;
        if (os_mm_read(&p.mm, buf + i * 4096 + 8 * i, &got, 4) || got != (0xFA000000u | i))
            wl_fail(r, "page %u read back %#x", i, got);
        else
            r->operations++;
    }
    if (p.mm.faults_dev < PAGES)
        wl_fail(r, "only %llu device faults for %u untouched pages",
                (unsigned long long)p.mm.faults_dev, PAGES);
    uint64_t wild = buf + (PAGES + 64) * 4096ULL;   /* past the guard page: no mapping */
    struct accel_cmd bad = { .opcode = ACCEL_OP_STORE_DWORD, .arg = 1, .a = wild };
    int rc = wl_run(&p, &bad, 1, &err, &fva);
    if (rc != -5 || err != ACCEL_ERR_PAGE_FAULT || fva != wild)
        wl_fail(r, "wild store: rc %d error %u at %#llx (expected page fault at %#llx)", rc, err,
                (unsigned long long)fva, (unsigned long long)wild);
    else
        r->operations++, r->faults++;
    finish(&p, r);
}

/* The device sums a list the CPU built with ordinary pointers, nodes
 * scattered over pages in a shuffled order. */
void wl_svm_pointer_chase(struct os_kernel *k, struct os_accel *a, struct wl_result *r)
{
    enum { NODES = 500, STRIDE = 264 };   /* nodes cross page boundaries */
    struct wl_proc p;
    uint64_t heap, out, sum = 0;
    unsigned err = 0;
    uint64_t fva = 0;
    begin(r, "svm_pointer_chase");
    if (wl_proc_open(&p, k, a) || os_mmap(&p.mm, NODES * STRIDE, OS_PROT_READ | OS_PROT_WRITE, &heap) ||
        os_mmap(&p.mm, 4096, OS_PROT_READ | OS_PROT_WRITE, &out)) {
        wl_fail(r, "process set-up failed");
        wl_proc_close(&p);
        return;
    }
    uint64_t prev = 0;
    for (unsigned i = 0; i < NODES; i++) {   /* node j = i * 7919 % NODES: a shuffle */
        uint64_t node = heap + (uint64_t)((i * 7919u) % NODES) * STRIDE + 16;
        uint64_t rec[2] = { prev, 1000 + i };  /* next at +0, value at +8 */
        os_mm_write(&p.mm, node, rec, sizeof(rec));
        sum += 1000 + i;
        prev = node;
    }
    struct accel_cmd c = { .opcode = ACCEL_OP_CHASE, .arg = 0 | 8u << 16, .a = prev, .b = out,
                           .c = NODES + 1 };
    uint64_t res[2] = { 0, 0 };
    if (wl_run(&p, &c, 1, &err, &fva))
        wl_fail(r, "chase failed: error %u at %#llx", err, (unsigned long long)fva);
    else if (os_mm_read(&p.mm, out, res, sizeof(res)) || res[0] != sum || res[1] != NODES)
        wl_fail(r, "sum %llu over %llu nodes, expected %llu over %d", (unsigned long long)res[0],
                (unsigned long long)res[1], (unsigned long long)sum, NODES);
    else
        r->operations = NODES;
    finish(&p, r);
}
