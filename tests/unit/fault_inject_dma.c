/* A guest flooding faulting DMA (issue 8 item 4; vtd-reference §5.2:
 * primary fault logging, PFO when a record is needed and none is free).
 *
 * The guest's kernel drives its device's contexts directly through its
 * BAR: each context bound to a PASID the guest never bound (the host PASID
 * table of the device has no entry: every request is blocked and recorded
 * at the host unit), or without PASID with its batch outside the guest's
 * RAM (the nest parent has nothing there), doorbell after doorbell,
 * thousands of faulting requests. The host must stay responsive (a host
 * process on the other device of the same unit passes its workloads during
 * the flood), its fault recording must overflow and recover as the spec
 * says (PFO set while the kernel is slow, cleared by its handler) and
 * nothing may grow without bound (the kernel's fault log keeps its last
 * OS_FAULT_LOG; host memory, interrupt rings, the guest's view). */
#include "fault_inject.h"

#include <stdio.h>
#include <string.h>

#include "lib/hw.h"
#include "lib/hw_regs.h"
#include "os/iommu.h"
#include "workloads/workloads.h"

#define FLOOD_ROUNDS 300u   /* x 16 contexts */
#define BAD_PASID 0x700u    /* + context: PASIDs the guest never bound */

struct counts {
    unsigned batches, unsupported, page_fault, other;
};

static void ctx_w(struct os_kernel *k, struct os_accel *a, unsigned c, uint32_t reg, unsigned size,
                  uint64_t v)
{
    k->ops.mmio_write(k->ops.ctx, a->bar0 + ACCEL_CTX_BASE + ACCEL_CTX_STRIDE * c + reg, size, v);
}

static uint32_t ctx_status(struct os_kernel *k, struct os_accel *a, unsigned c)
{
    return (uint32_t)k->ops.mmio_read(k->ops.ctx,
                                      a->bar0 + ACCEL_CTX_BASE + ACCEL_CTX_STRIDE * c +
                                          ACCEL_CTX_STATUS, 4);
}

static bool busy(uint32_t st)
{
    return (st & 0xFF) == ACCEL_ST_RUNNING || (st & 0xFF) == ACCEL_ST_PAGE_WAIT;
}

/* One round: every context of the guest's device runs a batch that faults
 * on its first access (the batch fetch); waits until each has stopped. */
static void flood_round(struct guest *g, unsigned round, struct counts *n)
{
    struct os_kernel *k = guest_kernel(g);
    struct os_accel *a = guest_accel(g, 0);
    for (unsigned c = 0; c < a->nctx; c++) {
        bool pasid = (c + round) % 2 == 0;
        ctx_w(k, a, c, ACCEL_CTX_CTRL, 4, ACCEL_CTRL_RESET);
        ctx_w(k, a, c, ACCEL_CTX_PASID, 4, BAD_PASID + c);
        ctx_w(k, a, c, ACCEL_CTX_COMPL_VA, 8, 0);
        /* with a PASID: any address; without: past the guest's 256 MiB */
        ctx_w(k, a, c, ACCEL_CTX_BATCH, 8, (1ULL << 30) + 0x1000ULL * ((round * 16 + c) % 4096));
        ctx_w(k, a, c, ACCEL_CTX_CTRL, 4, ACCEL_CTRL_ENABLE | (pasid ? ACCEL_CTRL_PASID : 0));
        ctx_w(k, a, c, ACCEL_CTX_DOORBELL, 4, 1);
    }
    for (unsigned c = 0; c < a->nctx; c++) {
        uint32_t st;
        WAIT_UNTIL(!busy(st = ctx_status(k, a, c)));
        n->batches++;
        unsigned e = (st >> 8) & 0xFF;
        if ((st & 0xFF) == ACCEL_ST_ERROR && e == ACCEL_ERR_UNSUPPORTED)
            n->unsupported++;
        else if ((st & 0xFF) == ACCEL_ST_ERROR && e == ACCEL_ERR_PAGE_FAULT)
            n->page_fault++;
        else
            n->other++;
    }
}

static void reset_contexts(struct guest *g)
{
    struct os_accel *a = guest_accel(g, 0);
    for (unsigned c = 0; c < a->nctx; c++)
        ctx_w(guest_kernel(g), a, c, ACCEL_CTX_CTRL, 4, ACCEL_CTRL_RESET);
}

void test_guest_faulting_dma_flood(void **state)
{
    (void)state;
    struct host *h = fi_host(2);
    struct guest *g = fi_guest(h, h->acc_bdf[0]);
    struct os_iommu *m = &h->iommu[0];
    uint32_t nfr = (uint32_t)HW_FV(CAP, NFR, m->cap) + 1;
    struct counts n = { 0 };

    /* The host kernel slow: its fault interrupt masked. The records fill
     * up, then PFO: further faults are dropped, nothing is overwritten. */
    uint64_t nfault0 = LD(m->nfault);
    fi_unit_wr(h, REG_OFF_FECTL, 4, HW_FM(ECTL, IM));
    for (unsigned r = 0; r < 4; r++)
        flood_round(g, r, &n);
    uint32_t fsts = (uint32_t)fi_unit_rd(h, REG_OFF_FSTS, 4);
    uint32_t fectl = (uint32_t)fi_unit_rd(h, REG_OFF_FECTL, 4);
    printf("  masked: %u faulting batches (%u unsupported request, %u page fault), FSTS %#x, "
           "FECTL %#x, %llu read by the kernel\n", n.batches, n.unsupported, n.page_fault, fsts,
           fectl, (unsigned long long)(LD(m->nfault) - nfault0));
    assert_true(n.unsupported >= nfr);
    assert_true(fsts & HW_FM(FSTS, PPF));
    assert_true(fsts & HW_FM(FSTS, PFO));
    assert_true(fectl & HW_FM(ECTL, IP));        /* the event is pending, not lost */
    assert_int_equal(LD(m->nfault), nfault0);
    fi_unit_wr(h, REG_OFF_FECTL, 4, 0);          /* the kernel catches up */
    WAIT_UNTIL(!(fi_unit_rd(h, REG_OFF_FSTS, 4) & (HW_FM(FSTS, PPF) | HW_FM(FSTS, PFO))));
    assert_int_equal(LD(m->nfault) - nfault0, nfr);  /* every record, once; the rest was dropped */

    /* The flood proper, with a host process on the other device. */
    memset(&n, 0, sizeof(n));
    uint64_t frames0 = mem_frames_free(h->mem), coal0 = LD(h->irq.coalesced), nfault1 = LD(m->nfault);
    struct viommu_stats v0 = fi_vstats(g);
    struct fi_bystander b;
    fi_bystander_start(&b, &h->k, &h->drv[1], "a host process on the other device");
    for (unsigned r = 0; r < FLOOD_ROUNDS; r++)
        flood_round(g, r, &n);
    fi_bystander_stop(&b, "the faulting-DMA flood");
    printf("  after the flood: FSTS %#x FECTL %#x, %llu faults read\n",
           (unsigned)fi_unit_rd(h, REG_OFF_FSTS, 4), (unsigned)fi_unit_rd(h, REG_OFF_FECTL, 4),
           (unsigned long long)(LD(m->nfault) - nfault1));
    WAIT_UNTIL(!(fi_unit_rd(h, REG_OFF_FSTS, 4) & (HW_FM(FSTS, PPF) | HW_FM(FSTS, PFO))));
    struct viommu_stats v1 = fi_vstats(g);
    uint64_t read = LD(m->nfault) - nfault1;
    printf("  flood: %u faulting batches (%u unsupported request, %u page fault, %u other), "
           "%llu faults read by the host kernel (log keeps %u), %llu interrupts coalesced, "
           "guest: %llu faults injected, %llu page requests\n",
           n.batches, n.unsupported, n.page_fault, n.other, (unsigned long long)read,
           OS_FAULT_LOG, (unsigned long long)(LD(h->irq.coalesced) - coal0),
           (unsigned long long)(v1.faults_injected - v0.faults_injected),
           (unsigned long long)(v1.page_requests - v0.page_requests));
    assert_int_equal(n.batches, FLOOD_ROUNDS * guest_accel(g, 0)->nctx);
    assert_int_equal(n.other, 0);                 /* every batch ended in a device error */
    assert_true(n.unsupported > 1000);
    assert_true(read > OS_FAULT_LOG && read <= n.unsupported);
    const struct os_fault *last = &m->fault[(LD(m->nfault) - 1) % OS_FAULT_LOG];
    assert_int_equal(last->sid, h->acc_bdf[0]);   /* the log holds the guest device's */
    assert_true(last->pasid_present && last->pasid >= BAD_PASID);
    /* Nothing of the host's grew, nothing was lost: faults in host-owned
     * structures are not the guest's to see. */
    assert_int_equal(mem_frames_free(h->mem), frames0);   /* (interrupts: never lost, irq.h) */
    assert_int_equal(v1.faults_injected, v0.faults_injected);

    reset_contexts(g);
    tm_run_all(guest_kernel(g), guest_accel(g, 0), "guest after its flood");
    guest_destroy(g);
    tm_run_all(&h->k, &h->drv[0], "host on the flooding guest's device");
    host_destroy(h);
}
