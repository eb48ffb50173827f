/* SVM accelerator driver (see accel_drv.h). */
#include "os/accel_drv.h"

#define CTX(c, reg) (ACCEL_CTX_BASE + ACCEL_CTX_STRIDE * (c)->idx + (reg))

/* Polls of os_accel_wait before it starts relaxing (yielding the CPU)
 * between polls. Kept short: on a machine with few cores a poller that does
 * not yield holds up the device model and the interrupt thread it waits
 * for (measured neutral to slightly worse beyond a few polls on 2 cores). */
#define ACCEL_WAIT_SPINS 4u
#define ACCEL_WAIT_POLL_NS 200000ULL   /* then sleep on the completion interrupt */

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static uint64_t rd(struct os_accel *a, uint32_t off, unsigned size)
{
    return a->k->ops.mmio_read(a->k->ops.ctx, a->bar0 + off, size);
}

static void wr(struct os_accel *a, uint32_t off, unsigned size, uint64_t v)
{
    a->k->ops.mmio_write(a->k->ops.ctx, a->bar0 + off, size, v);
}

/* A completion (or failure) interrupt: acknowledge, wake the waiters. */
static void accel_irq(void *arg)
{
    struct os_accel *a = arg;
    a->irqs++;
    wr(a, ACCEL_REG_INT_STATUS, 4, rd(a, ACCEL_REG_INT_STATUS, 4));
    __atomic_add_fetch(&a->completions, 1, __ATOMIC_RELEASE);
    if (a->k->ops.wake_all)
        a->k->ops.wake_all(a->k->ops.ctx, &a->completions);
}

int os_accel_probe(struct os_accel *a, struct os_kernel *k, struct os_svm *svm, uint16_t bdf)
{
    *a = (struct os_accel){ .k = k, .svm = svm, .bdf = bdf };
    uint32_t id = os_pci_read(k, bdf, 0, 4);
    if (id != ((uint32_t)ACCEL_DEVICE_ID << 16 | ACCEL_VENDOR_ID))
        return -19;
    a->bar0 = os_pci_bar(k, bdf, 0);
    os_pci_enable(k, bdf);
    if (!a->bar0 || rd(a, ACCEL_REG_MAGIC, 4) != ACCEL_MAGIC)
        return -19;
    a->nctx = (unsigned)rd(a, ACCEL_REG_NCTX, 4);
    a->nctx = a->nctx > 32 ? 32 : a->nctx;
    if (!(a->vector = os_irq_alloc(k, accel_irq, a)) || os_pci_enable_msi(k, bdf, a->vector))
        return -28;
    wr(a, ACCEL_REG_INT_MASK, 4, 0);
    os_pci_enable_sva_caps(k, bdf, &a->caps);
    struct os_iommu *m = os_svm_iommu_for(svm, bdf);
    if (!m)
        return -19;
    int rc = os_iommu_attach(m, bdf, a->caps.ats, a->caps.pasid, a->caps.pri, a->caps.ats_qdep);
    os_log(k, 1, "accel %02x:%02x.%u: %u contexts, PASID %s, PRI %s (%u), ATS %s, dmar%u",
           bdf >> 8, (bdf >> 3) & 0x1F, bdf & 7, a->nctx, a->caps.pasid ? "on" : "off",
           a->caps.pri ? "on" : "off", a->caps.pri_alloc, a->caps.ats ? "on" : "off", m->index);
    return rc;
}

int os_accel_release(struct os_accel *a)
{
    os_lock(a->k, &a->lock);
    int rc = a->ctx_used || a->released ? -16 : 0;
    if (!rc)
        a->released = true;
    os_unlock(&a->lock);
    return rc;
}

void os_accel_reclaim(struct os_accel *a)
{
    os_lock(a->k, &a->lock);
    a->released = false;
    os_unlock(&a->lock);
}

/* A free device context (ACCEL_NCTX per function, dev/accel_regs.h): its
 * index, marked used; a->nctx when every one is taken. */
static unsigned ctx_take(struct os_accel *a)
{
    os_lock(a->k, &a->lock);
    unsigned i = 0;
    while (i < a->nctx && (a->ctx_used & (1u << i)))
        i++;
    if (i < a->nctx)
        a->ctx_used |= 1u << i;
    os_unlock(&a->lock);
    return i;
}

/* Resets the context, programs its PASID and completion address, enables
 * it with ctrl. SEQNO survives context resets: new batches continue from
 * it. */
static void ctx_start(struct os_accel_ctx *c, uint32_t pasid, uint64_t compl, uint32_t ctrl)
{
    struct os_accel *a = c->a;
    wr(a, CTX(c, ACCEL_CTX_CTRL), 4, ACCEL_CTRL_RESET);
    wr(a, CTX(c, ACCEL_CTX_PASID), 4, pasid);
    wr(a, CTX(c, ACCEL_CTX_COMPL_VA), 8, compl);
    wr(a, CTX(c, ACCEL_CTX_CTRL), 4, ctrl);
    c->seqno = rd(a, CTX(c, ACCEL_CTX_SEQNO), 8);
}

int os_accel_open(struct os_accel *a, struct os_mm *mm, uint64_t compl_va, struct os_accel_ctx *c)
{
    uint32_t pasid;
    if (__atomic_load_n(&a->released, __ATOMIC_ACQUIRE))
        return -19;
    int rc = os_sva_bind(a->svm, a->bdf, mm, &pasid);
    if (rc)
        return rc;
    unsigned i = ctx_take(a);
    if (i == a->nctx) {
        os_sva_unbind(a->svm, a->bdf, mm);
        return -16;
    }
    *c = (struct os_accel_ctx){ .a = a, .idx = i, .mm = mm, .pasid = pasid };
    ctx_start(c, pasid, compl_va, ACCEL_CTRL_ENABLE | ACCEL_CTRL_PASID);
    return 0;
}

int os_accel_open_dma(struct os_accel *a, uint64_t compl_iova, struct os_accel_ctx *c)
{
    if (__atomic_load_n(&a->released, __ATOMIC_ACQUIRE))
        return -19;
    unsigned i = ctx_take(a);
    if (i == a->nctx)
        return -16;
    *c = (struct os_accel_ctx){ .a = a, .idx = i, .nopasid = true };
    ctx_start(c, 0, compl_iova, ACCEL_CTRL_ENABLE);
    return 0;
}

void os_accel_close(struct os_accel_ctx *c)
{
    struct os_accel *a = c->a;
    wr(a, CTX(c, ACCEL_CTX_CTRL), 4, ACCEL_CTRL_RESET);
    wr(a, CTX(c, ACCEL_CTX_CTRL), 4, 0);
    if (!c->nopasid)
        os_sva_unbind(a->svm, a->bdf, c->mm);
    os_lock(a->k, &a->lock);
    a->ctx_used &= ~(1u << c->idx);
    os_unlock(&a->lock);
}

uint64_t os_accel_next_seqno(struct os_accel_ctx *c)
{
    return ++c->seqno;
}

int os_accel_submit(struct os_accel_ctx *c, uint64_t batch_va)
{
    wr(c->a, CTX(c, ACCEL_CTX_BATCH), 8, batch_va);
    wr(c->a, CTX(c, ACCEL_CTX_DOORBELL), 4, 1);
    return 0;
}

int os_accel_wait(struct os_accel_ctx *c, uint64_t seqno, unsigned timeout_ms, unsigned *err,
                  uint64_t *fault_va)
{
    struct os_accel *a = c->a;
    struct os_kernel *k = a->k;
    uint64_t start = k->ops.now_ns ? k->ops.now_ns(k->ops.ctx) : 0;
    for (uint64_t spin = 0;; spin++) {
        uint32_t seen = __atomic_load_n(&a->completions, __ATOMIC_ACQUIRE);
        uint32_t st = (uint32_t)rd(a, CTX(c, ACCEL_CTX_STATUS), 4);
        if (rd(a, CTX(c, ACCEL_CTX_SEQNO), 8) >= seqno)
            return 0;
        if ((st & 0xFF) == ACCEL_ST_ERROR) {
            *err = (st >> 8) & 0xFF;
            *fault_va = rd(a, CTX(c, ACCEL_CTX_ERROR_VA), 8);
            return -5;
        }
        bool late = k->ops.now_ns ? k->ops.now_ns(k->ops.ctx) - start > timeout_ms * 1000000ULL
                                  : spin > timeout_ms * 100000ULL;
        if (late) {
            wr(a, CTX(c, ACCEL_CTX_CTRL), 4, ACCEL_CTRL_RESET | ACCEL_CTRL_ENABLE |
                                                 (c->nopasid ? 0 : ACCEL_CTRL_PASID));
            *err = ACCEL_ERR_TIMEOUT;
            *fault_va = 0;
            return -110;
        }
        /* Poll (yielding) while a short batch may still finish at once; then
         * sleep until the next completion interrupt, in 1 ms slices so a
         * lost interrupt costs a millisecond, not the timeout. */
        uint64_t waited = k->ops.now_ns ? k->ops.now_ns(k->ops.ctx) - start : 0;
        if (waited > ACCEL_WAIT_POLL_NS && k->ops.wait_change)
            k->ops.wait_change(k->ops.ctx, &a->completions, seen, 1000000);
        else if (spin >= ACCEL_WAIT_SPINS)
            k->ops.relax(k->ops.ctx);
        else
            cpu_relax();
    }
}
