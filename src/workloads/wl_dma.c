/* dma: the non-SVM DMA path (issue 6 item 4, svm=off). A driver-style
 * program against the kernel's DMA API: kernel buffers of scattered
 * physical pages mapped to IOVAs, the device driven by a context without
 * PASID, and what must fail after unmap. */
#include <stdio.h>
#include <string.h>

#include "os/dma.h"
#include "workloads/workloads.h"

#define PAGES 8
#define WORDS (4096 / 8)

const struct wl_entry wl_dma_entry = { "dma", wl_dma };

struct dma_run {
    struct os_kernel *k;
    struct os_dma dom;
    struct os_accel_ctx ctx;
    bool attached, open;
    uint64_t compl_pa, batch_pa, src[PAGES], dst[PAGES];
    uint64_t compl_iova, batch_iova, src_iova, dst_iova;
    bool compl_mapped, batch_mapped, src_mapped, dst_mapped;
};

static uint64_t pattern(unsigned page, unsigned word)
{
    return 0xD3A0000000000000ULL | (uint64_t)page << 32 | (uint64_t)word * 0x9E37u;
}

/* Writes cmds + END into the batch page (CPU store to kernel memory),
 * rings the doorbell with its IOVA and waits. */
static int run(struct dma_run *d, const struct accel_cmd *cmds, unsigned n, unsigned *err,
               uint64_t *fva)
{
    struct accel_cmd b[4];
    if (n >= 4)
        return -22;
    memcpy(b, cmds, n * sizeof(*cmds));
    uint64_t seq = os_accel_next_seqno(&d->ctx);
    b[n] = (struct accel_cmd){ .opcode = ACCEL_OP_END, .a = seq };
    int rc = d->k->ops.phys_write(d->k->ops.ctx, d->batch_pa, b, (n + 1) * sizeof(*b));
    rc = rc ? rc : os_accel_submit(&d->ctx, d->batch_iova);
    *err = 0, *fva = 0;
    rc = rc ? rc : os_accel_wait(&d->ctx, seq, 10000, err, fva);
    if (!rc) {   /* the completion went through the IOMMU into the mapped page */
        uint64_t got = 0;
        d->k->ops.phys_read(d->k->ops.ctx, d->compl_pa, &got, 8);
        if (got != seq)
            return -71;   /* -EPROTO: completed, but no completion write */
    }
    return rc;
}

static bool expected_fault(int rc, unsigned err, uint64_t fva, uint64_t at)
{
    /* With ATS: no-access, page request without PASID refused (page
     * fault); without ATS: the unit refuses the untranslated request. */
    return rc == -5 && (err == ACCEL_ERR_PAGE_FAULT || err == ACCEL_ERR_UNSUPPORTED) && fva == at;
}

static int setup(struct dma_run *d, struct os_accel *a, struct wl_result *r)
{
    struct os_iommu *m = os_svm_iommu_for(a->svm, a->bdf);
    int rc = m ? os_dma_attach(&d->dom, m, a->bdf, 0, 0) : -19;
    if (rc)
        return wl_fail(r, "DMA domain: %d", rc), rc;
    d->attached = true;
    /* Interleaved allocations of frames the allocator hands out scrambled:
     * neither buffer is physically contiguous. */
    d->compl_pa = d->k->ops.page_alloc(d->k->ops.ctx);
    d->batch_pa = d->k->ops.page_alloc(d->k->ops.ctx);
    bool ok = d->compl_pa != OS_NO_PAGE && d->batch_pa != OS_NO_PAGE;
    for (unsigned i = 0; i < PAGES; i++) {
        d->src[i] = d->k->ops.page_alloc(d->k->ops.ctx);
        d->dst[i] = d->k->ops.page_alloc(d->k->ops.ctx);
        ok = ok && d->src[i] != OS_NO_PAGE && d->dst[i] != OS_NO_PAGE;
    }
    if (!ok)
        return wl_fail(r, "out of kernel pages"), -12;
    for (unsigned i = 0; i < PAGES; i++) {
        uint64_t w[WORDS];
        for (unsigned j = 0; j < WORDS; j++)
            w[j] = pattern(i, j);
        d->k->ops.phys_write(d->k->ops.ctx, d->src[i], w, sizeof(w));
    }
    if ((rc = os_dma_map(&d->dom, d->compl_pa, 4096, true, &d->compl_iova)) ||
        !(d->compl_mapped = true) ||
        (rc = os_dma_map(&d->dom, d->batch_pa, 4096, false, &d->batch_iova)) ||
        !(d->batch_mapped = true) ||
        (rc = os_dma_map_pages(&d->dom, d->src, PAGES, false, &d->src_iova)) ||
        !(d->src_mapped = true) ||
        (rc = os_dma_map_pages(&d->dom, d->dst, PAGES, true, &d->dst_iova)) ||
        !(d->dst_mapped = true))
        return wl_fail(r, "os_dma_map: %d", rc), rc;
    if ((rc = os_accel_open_dma(a, d->compl_iova, &d->ctx)))
        return wl_fail(r, "context without PASID: %d", rc), rc;
    d->open = true;
    return 0;
}

static void teardown(struct dma_run *d, struct wl_result *r)
{
    if (d->open)
        os_accel_close(&d->ctx);
    int rc = 0;
    if (d->dst_mapped && (rc = os_dma_unmap(&d->dom, d->dst_iova, PAGES * 4096)))
        wl_fail(r, "unmap dst: %d", rc);
    if (d->src_mapped && (rc = os_dma_unmap(&d->dom, d->src_iova, PAGES * 4096)))
        wl_fail(r, "unmap src: %d", rc);
    if (d->batch_mapped && (rc = os_dma_unmap(&d->dom, d->batch_iova, 4096)))
        wl_fail(r, "unmap batch: %d", rc);
    if (d->compl_mapped && (rc = os_dma_unmap(&d->dom, d->compl_iova, 4096)))
        wl_fail(r, "unmap completion: %d", rc);
    if (d->attached && (rc = os_dma_detach(&d->dom)))
        wl_fail(r, "detach: %d", rc);
    uint64_t *all[] = { &d->compl_pa, &d->batch_pa };
    for (unsigned i = 0; i < 2; i++)
        if (*all[i] && *all[i] != OS_NO_PAGE)
            d->k->ops.page_free(d->k->ops.ctx, *all[i]);
    for (unsigned i = 0; i < PAGES; i++) {
        if (d->src[i] && d->src[i] != OS_NO_PAGE)
            d->k->ops.page_free(d->k->ops.ctx, d->src[i]);
        if (d->dst[i] && d->dst[i] != OS_NO_PAGE)
            d->k->ops.page_free(d->k->ops.ctx, d->dst[i]);
    }
}

/* The copy: every destination page holds its source page. */
static void copy_and_verify(struct dma_run *d, struct wl_result *r)
{
    unsigned err;
    uint64_t fva;
    struct accel_cmd c = { .opcode = ACCEL_OP_COPY, .a = d->src_iova, .b = d->dst_iova,
                           .c = PAGES * 4096 };
    int rc = run(d, &c, 1, &err, &fva);
    if (rc) {
        wl_fail(r, "copy failed: rc %d error %u at %#llx", rc, err, (unsigned long long)fva);
        return;
    }
    for (unsigned i = 0; i < PAGES; i++) {
        uint64_t w[WORDS];
        d->k->ops.phys_read(d->k->ops.ctx, d->dst[i], w, sizeof(w));
        for (unsigned j = 0; j < WORDS; j++)
            if (w[j] != pattern(i, j)) {
                wl_fail(r, "page %u word %u: %#llx, expected %#llx", i, j,
                        (unsigned long long)w[j], (unsigned long long)pattern(i, j));
                return;
            }
    }
    r->operations++;
}

/* A store into the read-only source mapping must fail, the page intact. */
static void write_read_only(struct dma_run *d, struct wl_result *r)
{
    unsigned err;
    uint64_t fva, at = d->src_iova + 3 * 4096 + 0x40, got = 0;
    struct accel_cmd c = { .opcode = ACCEL_OP_STORE_DWORD, .arg = 0xBAD, .a = at };
    int rc = run(d, &c, 1, &err, &fva);
    d->k->ops.phys_read(d->k->ops.ctx, d->src[3] + 0x40, &got, 8);
    if (!expected_fault(rc, err, fva, at) || got != pattern(3, 8))
        wl_fail(r, "store to a read-only mapping: rc %d error %u at %#llx, word %#llx", rc, err,
                (unsigned long long)fva, (unsigned long long)got);
    else
        r->operations++, r->faults++;
}

/* After unmap the stale IOVAs lead nowhere: a store to the old destination
 * and a copy from the old source both fail at the stale address, and
 * nothing lands in the pages that were behind them. */
static void use_after_unmap(struct dma_run *d, struct wl_result *r)
{
    int rc = os_dma_unmap(&d->dom, d->dst_iova, PAGES * 4096);
    int rc2 = os_dma_unmap(&d->dom, d->src_iova, PAGES * 4096);
    d->dst_mapped = d->src_mapped = false;
    if (rc || rc2) {
        wl_fail(r, "unmap: %d / %d", rc, rc2);
        return;
    }
    unsigned err;
    uint64_t fva, at = d->dst_iova + 5 * 4096 + 0x10, got = 0;
    struct accel_cmd st = { .opcode = ACCEL_OP_STORE_DWORD, .arg = 0x5CA1AB1E, .a = at };
    rc = run(d, &st, 1, &err, &fva);
    d->k->ops.phys_read(d->k->ops.ctx, d->dst[5] + 0x10, &got, 8);
    if (!expected_fault(rc, err, fva, at) || got != pattern(5, 2))
        wl_fail(r, "store after unmap: rc %d error %u at %#llx (expected a fault at %#llx), "
                   "word %#llx", rc, err, (unsigned long long)fva, (unsigned long long)at,
                (unsigned long long)got);
    else
        r->operations++, r->faults++;
    uint64_t marker = 0x600DF00D600DF00DULL, after = 0;
    d->k->ops.phys_write(d->k->ops.ctx, d->compl_pa + 64, &marker, 8);
    at = d->src_iova + 2 * 4096;
    struct accel_cmd cp = { .opcode = ACCEL_OP_COPY, .a = at, .b = d->compl_iova + 64, .c = 8 };
    rc = run(d, &cp, 1, &err, &fva);
    d->k->ops.phys_read(d->k->ops.ctx, d->compl_pa + 64, &after, 8);
    if (!expected_fault(rc, err, fva, at) || after != marker)
        wl_fail(r, "copy from an unmapped source: rc %d error %u at %#llx (expected a fault at "
                   "%#llx)", rc, err, (unsigned long long)fva, (unsigned long long)at);
    else
        r->operations++, r->faults++;
}

void wl_dma(struct os_kernel *k, struct os_accel *a, struct wl_result *r)
{
    struct dma_run d;
    memset(r, 0, sizeof(*r));
    r->name = "dma";
    r->passed = true;
    memset(&d, 0, sizeof(d));
    d.k = k;
    if (!setup(&d, a, r)) {
        copy_and_verify(&d, r);
        if (r->passed)
            write_read_only(&d, r);
        if (r->passed)
            use_after_unmap(&d, r);
    }
    teardown(&d, r);
    if (r->passed)
        snprintf(r->detail, sizeof(r->detail),
                 "%llu operations verified (copy of %u scattered pages, 3 expected faults)",
                 (unsigned long long)r->operations, PAGES);
}
