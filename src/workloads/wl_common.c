/* Process set-up and batch execution shared by the workloads. */
#include <stdarg.h>
#include <stdio.h>

#include "workloads/workloads.h"

void wl_fail(struct wl_result *r, const char *fmt, ...)
{
    r->errors++;
    if (!r->passed)
        return;   /* keep the first failure */
    r->passed = false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
    va_end(ap);
}

int wl_proc_open(struct wl_proc *p, struct os_kernel *k, struct os_accel *a)
{
    *p = (struct wl_proc){ .k = k, .a = a };
    int rc = os_mm_init(&p->mm, k, 4);
    uint64_t zero = 0;
    rc = rc ? rc : os_mmap(&p->mm, 4096, OS_PROT_READ | OS_PROT_WRITE, &p->compl_va);
    rc = rc ? rc : os_mmap(&p->mm, WL_BATCH_MAX * sizeof(struct accel_cmd) + 32,
                           OS_PROT_READ | OS_PROT_WRITE, &p->batch_va);
    rc = rc ? rc : os_mm_write(&p->mm, p->compl_va, &zero, 8);
    rc = rc ? rc : os_accel_open(a, &p->mm, p->compl_va, &p->ctx);
    p->open = !rc;
    return rc;
}

void wl_proc_close(struct wl_proc *p)
{
    if (p->open)
        os_accel_close(&p->ctx);
    p->open = false;
    os_mm_destroy(&p->mm);
}

int wl_run(struct wl_proc *p, const struct accel_cmd *cmds, unsigned n, unsigned *err,
           uint64_t *fault_va)
{
    if (n >= WL_BATCH_MAX)
        return -22;
    p->seq = os_accel_next_seqno(&p->ctx);
    struct accel_cmd end = { .opcode = ACCEL_OP_END, .a = p->seq };
    int rc = os_mm_write(&p->mm, p->batch_va, cmds, n * sizeof(*cmds));
    rc = rc ? rc : os_mm_write(&p->mm, p->batch_va + n * sizeof(*cmds), &end, sizeof(end));
    rc = rc ? rc : os_accel_submit(&p->ctx, p->batch_va);
    return rc ? rc : os_accel_wait(&p->ctx, p->seq, 10000, err, fault_va);
}
