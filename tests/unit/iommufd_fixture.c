/* The iommufd test guest (iommufd_fixture.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#include "iommufd_fixture.h"
#include "support/guest_dev.h"
#include "support/machines.h"

#define HANG_GUARD_MS 30000u   /* generous: a hang guard, not a timing check */
#define CTX(reg) (ACCEL_CTX_BASE + ACCEL_CTX_STRIDE * GX_CTX + (reg))

struct host *gx_host(unsigned naccels)
{
    return tm_host(1, naccels, 256ULL << 20);   /* every accelerator behind the one unit */
}

static void wr(struct gx *g, uint64_t off, uint64_t v, unsigned len)
{
    accel_mmio(g->h->acc[g->acc].dev, off, &v, len, true);
}

static uint64_t rd(struct gx *g, uint64_t off, unsigned len)
{
    uint64_t v = 0;
    accel_mmio(g->h->acc[g->acc].dev, off, &v, len, false);
    return v;
}

uint64_t gx_map(struct gx *g, uint64_t va)
{
    uint64_t gpa = gpa_page_alloc(g->ram);
    assert_true(gpa != ~0ULL);
    assert_int_equal(pt_map(&g->pt, va, gpa, PT_4K, PTE_RW | PTE_US), 0);
    return gpa;
}

void gx_init(struct gx *g, struct host *h, unsigned acc)
{
    *g = (struct gx){ .h = h, .acc = acc };
    g->ifd = iommufd_open(h);
    assert_non_null(g->ifd);
    g->ram = gpa_map_create(h->mem, 16ULL << 20);
    assert_non_null(g->ram);
    gpa_set_alloc_floor(g->ram, 1ULL << 20);
    assert_int_equal(pt_init(&g->pt, phys_view_gpa(g->ram), 4), 0);
    gx_map(g, GX_BATCH_VA);
    gx_map(g, GX_COMPL_VA);
    assert_int_equal(iommufd_bind(g->ifd, h->acc_bdf[acc], &g->dev), 0);
    assert_int_equal(iommufd_hwpt_alloc_parent(g->ifd, g->dev, g->ram, &g->parent), 0);
    struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_gpa = g->pt.root, .addr_width = 48 };
    assert_int_equal(iommufd_hwpt_alloc_nested(g->ifd, g->parent, &s1, &g->nested), 0);
    assert_int_equal(iommufd_attach(g->ifd, g->dev, GX_PASID, g->nested), 0);
    wr(g, CTX(ACCEL_CTX_CTRL), ACCEL_CTRL_RESET, 4);
    wr(g, CTX(ACCEL_CTX_PASID), GX_PASID, 4);
    wr(g, CTX(ACCEL_CTX_COMPL_VA), GX_COMPL_VA, 8);
    wr(g, CTX(ACCEL_CTX_CTRL), ACCEL_CTRL_ENABLE | ACCEL_CTRL_PASID, 4);
    g->seq = rd(g, CTX(ACCEL_CTX_SEQNO), 8);
}

void gx_fini(struct gx *g)
{
    wr(g, CTX(ACCEL_CTX_CTRL), ACCEL_CTRL_RESET, 4);
    iommufd_close(g->ifd);
    pt_destroy(&g->pt);
    gpa_map_destroy(g->ram);
}

uint32_t gx_submit(struct gx *g, const struct accel_cmd *cmd)
{
    return gdev_submit(g->h->acc[g->acc].dev, GX_CTX, g->ram, &g->pt, GX_BATCH_VA, ++g->seq, cmd);
}

/* Completion or error; an error resets the context for the next batch. */
uint32_t gx_wait(struct gx *g)
{
    return gdev_wait(g->h->acc[g->acc].dev, GX_CTX, g->seq);
}

uint32_t gx_store(struct gx *g, uint64_t va, uint32_t val)
{
    struct accel_cmd c = { .opcode = ACCEL_OP_STORE_DWORD, .arg = val, .a = va };
    gx_submit(g, &c);
    return gx_wait(g);
}

unsigned gx_fault_wait(struct gx *g, struct iommu_hwpt_pgfault *out)
{
    for (unsigned ms = 0; ms < HANG_GUARD_MS; ms++) {
        unsigned n = iommufd_fault_read(g->ifd, out, 1);
        if (n)
            return n;
        usleep(1000);
    }
    fail_msg("no page request");
    return 0;
}

unsigned gx_event_wait(struct gx *g, struct iommufd_event *out)
{
    for (unsigned ms = 0; ms < HANG_GUARD_MS; ms++) {
        unsigned n = iommufd_event_read(g->ifd, out, 1);
        if (n)
            return n;
        usleep(1000);
    }
    fail_msg("no event");
    return 0;
}

uint32_t gx_hpa_read32(struct gx *g, uint64_t gpa)
{
    uint32_t v = 0;
    assert_int_equal(mem_read32(g->h->mem, gpa_to_hpa(g->ram, gpa), &v), 0);
    return v;
}
