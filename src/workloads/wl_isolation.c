/* A hostile guest kernel trying to reach memory that is not its own
 * through its assigned device (issue 6 item 5, test case 3): every attempt
 * must end in a device error, never in a completed batch.
 *   - first-level PTEs it writes itself, pointing at "guest physical"
 *     addresses outside its RAM (the caller passes the host physical
 *     addresses of another guest's pages, as if it had learnt them, and
 *     addresses just past its own RAM): the host second level has nothing
 *     there, so nested translation fails;
 *   - its device context switched to PASIDs it never bound (another
 *     guest's processes use such numbers on their own devices): the host
 *     PASID table of this device has no entry for them. */
#include <stdio.h>
#include <string.h>

#include "workloads/workloads.h"

#define PROBE_VA 0x7F0000000000ULL   /* outside every VMA of the process */
#define CTX_REG(c, reg) (ACCEL_CTX_BASE + ACCEL_CTX_STRIDE * (c)->idx + (reg))

/* One batch expected to fail; true when it did (with a device error). */
static bool attempt(struct wl_proc *p, const struct accel_cmd *c, struct wl_result *r,
                    const char *what, uint64_t target)
{
    unsigned err = 0;
    uint64_t fva = 0;
    int rc = wl_run(p, c, 1, &err, &fva);
    r->operations++;
    if (rc == -5 || rc == -110) {
        r->faults++;
        return true;
    }
    wl_fail(r, "%s %#llx: the batch completed (rc %d)", what, (unsigned long long)target, rc);
    return false;
}

/* Re-opens the process's device context (an attempt left it in error). */
static bool reopen(struct wl_proc *p, struct os_kernel *k, struct os_accel *a, struct wl_result *r)
{
    wl_proc_close(p);
    if (wl_proc_open(p, k, a)) {
        wl_fail(r, "process set-up failed");
        return false;
    }
    return true;
}

void wl_isolation_probe(struct os_kernel *k, struct os_accel *a, const uint64_t *targets,
                        unsigned n, uint32_t marker, struct wl_result *r)
{
    struct wl_proc p;
    memset(r, 0, sizeof(*r));
    r->name = "isolation_probe", r->passed = true;
    if (wl_proc_open(&p, k, a)) {
        wl_fail(r, "process set-up failed");
        wl_proc_close(&p);
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        uint64_t va = PROBE_VA + 0x1000ULL * i;
        if (pt_map(&p.mm.pt, va, targets[i] & ~0xFFFULL, PT_4K, PTE_RW | PTE_US)) {
            wl_fail(r, "cannot write the hostile PTE for %#llx", (unsigned long long)targets[i]);
            break;
        }
        struct accel_cmd c = { .opcode = ACCEL_OP_STORE_DWORD, .arg = marker,
                               .a = va + (targets[i] & 0xFFF) };
        if (!attempt(&p, &c, r, "store to foreign address", targets[i]) || !reopen(&p, k, a, r))
            break;
    }
    /* Unbound PASIDs on its own context: the next 8 after its own. */
    for (uint32_t d = 1; r->passed && d <= 8; d++) {
        uint64_t buf;
        if (os_mmap(&p.mm, 4096, OS_PROT_READ | OS_PROT_WRITE, &buf)) {
            wl_fail(r, "mmap failed");
            break;
        }
        k->ops.mmio_write(k->ops.ctx, a->bar0 + CTX_REG(&p.ctx, ACCEL_CTX_PASID), 4,
                          p.ctx.pasid + d);
        struct accel_cmd c = { .opcode = ACCEL_OP_STORE_DWORD, .arg = marker, .a = buf };
        if (!attempt(&p, &c, r, "store with unbound PASID", p.ctx.pasid + d) ||
            !reopen(&p, k, a, r))
            break;
    }
    r->page_requests = p.mm.faults_dev;
    wl_proc_close(&p);
    if (r->passed)
        snprintf(r->detail, sizeof(r->detail), "%llu hostile attempts, all refused",
                 (unsigned long long)r->operations);
}
