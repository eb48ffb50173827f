/* Shared Virtual Memory in the KVM guest (issue 7 item 3): the ring-3
 * calls bind / submit / wait over the os layer's accelerator driver and
 * SVA code (src/os/accel_drv.c, svm.c: the same code the in-process
 * kernels run), and the hooks of os/mm.h that SVA needs, implemented over
 * this kernel's processes instead of the os layer's own address spaces:
 *
 * - the PASID entry os_sva_bind writes points at the process's PML4
 *   (mm.pt.root): the device walks, nested over the host's second level,
 *   the very tables the process runs on in ring 3;
 * - a device page request reaches os_mm_fault (from the os layer's page
 *   request handler), which hands it to the process's demand paging (the
 *   mm's fault hook), exactly as a CPU #PF is; binds are recorded by the
 *   os layer's own os_mm code (src/os/mm.c, linked for the kernel's own
 *   address spaces: the isolation probe's);
 * - munmap / mprotect flush the bound devices' translations (svm_flush)
 *   before the frames are freed;
 * - `dev=N` on the command line selects the accelerator (probe order) the
 *   processes created after it use: a process's device i in the calls is
 *   the kernel's accelerator svm_dev + i at its creation.
 */
#include "kernel.h"

#include "lib/hw_regs.h"

static struct proc *proc_of(struct os_mm *mm)
{
    return (struct proc *)((char *)mm - __builtin_offsetof(struct proc, mm));
}

unsigned svm_dev;

static int proc_mm_fault(struct os_mm *mm, uint64_t va, unsigned access, bool device);

void svm_proc_init(struct proc *p)
{
    p->mm.k = &gk;
    p->mm.pt.root = p->pml4;
    p->mm.pt.levels = 4;
    p->mm.fault = proc_mm_fault;
    p->dev = svm_dev;
}

void svm_proc_exit(struct proc *p)
{
    for (unsigned i = 0; i < KVM_MAX_ACCELS; i++)
        if (p->open[i]) {
            os_accel_close(&p->ctx[i]);
            p->open[i] = false;
        }
    p->mm.dead = true;
}

/* The bound devices' PASID IOTLB and device TLB entries of the range, in
 * naturally aligned power-of-two blocks (as Linux's intel_flush_svm_range
 * splits it), many descriptors per queued-invalidation submission: one
 * IQT write (one MMIO exit) per up to 32 descriptors. Not
 * os_iommu_flush_pasid_range: it aligns the start down to the block size
 * of the page count, so a range not aligned to it keeps its tail cached
 * (found by `agree`: a device store through a stale translation landed in
 * a frame the CPU had reused). */
void svm_flush(struct proc *p, uint64_t va, uint64_t pages)
{
    if (!p->mm.pasid || !pages)
        return;
    for (unsigned i = 0; i < OS_MM_BINDS; i++) {
        struct os_iommu *m = p->mm.bind[i].iommu;
        uint16_t bdf = p->mm.bind[i].bdf;
        struct os_iommu_dev *d = m ? os_iommu_dev(m, bdf) : NULL;
        if (!d)
            continue;
        static uint64_t q[32][4];
        unsigned n = 0, mamv = (unsigned)HW_FV(CAP, MAMV, m->cap);
        for (uint64_t at = va, left = pages; left;) {
            unsigned am = 0;        /* the largest aligned block at `at` within the range */
            while (am < mamv && !((at >> 12) & ((2ULL << am) - 1)) && (2ULL << am) <= left)
                am++;
            memset(q[n], 0, 32);
            os_qi_piotlb(q[n++], 3, OS_FLPT_DID, p->mm.pasid, at, am, false);
            if (d->ats) {
                memset(q[n], 0, 32);
                os_qi_pdevtlb(q[n++], bdf, p->mm.pasid, d->ats_qdep, at, 1ULL << am);
            }
            at += PAGE << am, left -= 1ULL << am;
            if (n + 2 > 32 || !left) {
                os_qi_submit(m, (const uint64_t (*)[4])q, n);
                n = 0;
            }
        }
    }
}

/* ---- os/mm.h's fault hook over this kernel's processes ---------------- */

/* A device page request (the os layer's handler runs it in the page
 * request interrupt, taken in ring 3 or while a call waits): the process's
 * demand paging with the access asked for, as a user-mode access. */
static int proc_mm_fault(struct os_mm *mm, uint64_t va, unsigned access, bool device)
{
    struct proc *p = proc_of(mm);
    if (mm->dead || !p->pml4 || va >= USER_TOP)
        return -KVM_EFAULT;
    uint64_t err = 4 | (access & OS_PROT_WRITE ? 2 : 0) | (access & OS_PROT_EXEC ? 16 : 0);
    int rc = proc_fault(p, va, err);
    if (rc < 0)
        return -KVM_EFAULT;
    if (device)
        mm->faults_dev++;
    else if (rc > 0)
        p->faults++;
    return 0;
}

/* ---- the calls ------------------------------------------------------- */

static struct os_accel_ctx *ctx_of(struct proc *p, uint64_t dev)
{
    return dev < KVM_MAX_ACCELS && p->open[dev] ? &p->ctx[dev] : NULL;
}

long svm_call(struct proc *p, struct trapframe *tf)
{
    /* the process's device rdi: the kernel's accelerator p->dev + rdi */
    uint64_t dev = tf->rdi < KVM_MAX_ACCELS ? p->dev + tf->rdi : KVM_MAX_ACCELS;
    struct os_accel_ctx *c = ctx_of(p, dev);
    switch (tf->rax) {
    case KVM_CALL_BIND: {
        if (dev >= naccels)
            return -KVM_ENODEV;
        if (!c) {
            int rc = os_accel_open(&accels[dev], &p->mm, tf->rsi, &p->ctx[dev]);
            if (rc)
                return rc;
            p->open[dev] = true;
            c = &p->ctx[dev];
        }
        tf->rdx = c->seqno;
        return (long)c->pasid;
    }
    case KVM_CALL_SUBMIT:
        if (!c)
            return -KVM_ENODEV;
        if (tf->rdx <= c->seqno)        /* sequence numbers only grow */
            return -KVM_EINVAL;
        c->seqno = tf->rdx;
        return os_accel_submit(c, tf->rsi);
    case KVM_CALL_WAIT: {
        if (!c)
            return -KVM_ENODEV;
        unsigned err = 0;
        uint64_t fva = 0;
        int rc = os_accel_wait(c, tf->rsi, (unsigned)tf->rdx, &err, &fva);
        tf->rdx = err;
        tf->rsi = fva;
        return rc;
    }
    case KVM_CALL_STAT:
        return (long)(tf->rdi == KVM_STAT_DEV_FAULTS ? p->mm.faults_dev : p->faults);
    default:
        return -KVM_ENOSYS;
    }
}
