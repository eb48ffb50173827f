/* The viommu test guest (viommu_fixture.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#include "lib/hw.h"
#include "lib/hw_regs.h"
#include "viommu_fixture.h"
#include "os/iommu.h"
#include "support/guest_dev.h"
#include "support/machines.h"

#define HANG_GUARD_MS 30000u   /* a hang guard, not a timing check */
#define ACTX(reg) (ACCEL_CTX_BASE + ACCEL_CTX_STRIDE * VG_CTX + (reg))

struct host *vg_host(unsigned naccels)
{
    return tm_host(1, naccels, 256ULL << 20);
}

static void msi(void *opaque, uint64_t addr, uint32_t data)
{
    (void)addr, (void)data;
    ((struct vg *)opaque)->msis++;
}

uint64_t vg_rd(struct vg *g, uint32_t off, unsigned size) { return viommu_mmio_read(g->v, off, size); }
void vg_wr(struct vg *g, uint32_t off, unsigned size, uint64_t val) { viommu_mmio_write(g->v, off, size, val); }
void vg_w64(struct vg *g, uint64_t gpa, uint64_t v) { assert_int_equal(gpa_write64(g->ram, gpa, v), 0); }

uint64_t vg_r64(struct vg *g, uint64_t gpa)
{
    uint64_t v = 0;
    assert_int_equal(gpa_read64(g->ram, gpa, &v), 0);
    return v;
}

static void awr(struct vg *g, uint64_t off, uint64_t v, unsigned len)
{
    accel_mmio(g->h->acc[g->acc].dev, off, &v, len, true);
}

static uint64_t ard(struct vg *g, uint64_t off, unsigned len)
{
    uint64_t v = 0;
    accel_mmio(g->h->acc[g->acc].dev, off, &v, len, false);
    return v;
}

void vg_qi(struct vg *g, const uint64_t (*d)[4], unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(gpa_write(g->ram, VG_IQ + g->iqt, d[i], 32), 0);
        g->iqt = (g->iqt + 32) % 4096;
    }
    vg_wr(g, REG_OFF_IQT, 8, g->iqt);
}

bool vg_qi_wait(struct vg *g)
{
    uint64_t d[1][4] = { { 0 } };
    uint32_t data = ++g->wait_seq, st = 0;
    HW_SET(INV_WAIT, TYPE_LO, d[0], INV_TYPE_WAIT);
    HW_SET(INV_WAIT, SW, d[0], 1);
    HW_SET(INV_WAIT, STDATA, d[0], data);
    HW_SET(INV_WAIT, STADDR, d[0], VG_STAT >> 2);
    vg_qi(g, d, 1);
    assert_int_equal(gpa_read(g->ram, VG_STAT, &st, 4), 0);
    return st == data;
}

/* Linux's scalable-mode boot (os-driver-behaviour §1): QI, root table with
 * SRTP, global context/PASID/IOTLB invalidations, PRQ, TE. */
static void boot(struct vg *g)
{
    vg_wr(g, REG_OFF_IQT, 8, 0);
    vg_wr(g, REG_OFF_IQA, 8, VG_IQ | HW_FM(IQA, DW));
    g->gcmd |= HW_FM(GCMD, QIE);
    vg_wr(g, REG_OFF_GCMD, 4, g->gcmd);
    vg_wr(g, REG_OFF_RTADDR, 8, VG_ROOT | HW_FMK(RTADDR, TTM, 1));
    vg_wr(g, REG_OFF_GCMD, 4, g->gcmd | HW_FM(GCMD, SRTP));
    uint64_t d[3][4] = { { 0 } };
    HW_SET(INV_CC, TYPE_LO, d[0], INV_TYPE_CC), HW_SET(INV_CC, G, d[0], 1);
    vg_desc_pc(d[1], 3, 0, 0);
    HW_SET(INV_IOTLB, TYPE_LO, d[2], INV_TYPE_IOTLB), HW_SET(INV_IOTLB, G, d[2], 1);
    vg_qi(g, d, 3);
    assert_true(vg_qi_wait(g));
    vg_wr(g, REG_OFF_PECTL, 4, 0);
    vg_wr(g, REG_OFF_PQH, 8, 0);
    vg_wr(g, REG_OFF_PQT, 8, 0);
    vg_wr(g, REG_OFF_PQA, 8, VG_PRQ);
    g->gcmd |= HW_FM(GCMD, TE);
    vg_wr(g, REG_OFF_GCMD, 4, g->gcmd);
}

/* Root (bus 0) -> context of devfn 8: P, DTE, PASIDE, PRE (svm=off: P,
 * DTE, the unit having neither PASID nor page requests), PDTS 0 ->
 * directory entry 0 -> PASID table (PASIDs 0..63). */
static void tables(struct vg *g, bool svm)
{
    vg_w64(g, VG_ROOT, VG_CTXT | 1);
    vg_w64(g, VG_CTXT + 32 * (VG_VBDF & 0xFF), VG_DIR | HW_FM(SM_CTX, DTE) | 1 |
           (svm ? HW_FM(SM_CTX, PASIDE) | HW_FM(SM_CTX, PRE) : 0));
    vg_w64(g, VG_DIR, VG_PTBL | 1);
}

void vg_ctx(struct vg *g, uint32_t ctrl, uint32_t pasid, uint64_t compl_va)
{
    awr(g, ACTX(ACCEL_CTX_CTRL), ACCEL_CTRL_RESET, 4);
    awr(g, ACTX(ACCEL_CTX_PASID), pasid, 4);
    awr(g, ACTX(ACCEL_CTX_COMPL_VA), compl_va, 8);
    awr(g, ACTX(ACCEL_CTX_CTRL), ctrl, 4);
    g->seq = ard(g, ACTX(ACCEL_CTX_SEQNO), 8);
}

static void device(struct vg *g)
{
    vg_map(g, VG_BATCH_VA);
    vg_map(g, VG_COMPL_VA);
    vg_ctx(g, ACCEL_CTRL_ENABLE | ACCEL_CTRL_PASID, VG_PASID, VG_COMPL_VA);
}

void vg_init(struct vg *g, struct host *h, unsigned acc, bool svm)
{
    *g = (struct vg){ .h = h, .acc = acc };
    g->ifd = iommufd_open(h);
    assert_non_null(g->ifd);
    g->ram = gpa_map_create(h->mem, 16ULL << 20);
    assert_non_null(g->ram);
    gpa_set_alloc_floor(g->ram, 1ULL << 20);
    assert_int_equal(pt_init(&g->pt, phys_view_gpa(g->ram), 4), 0);
    struct viommu_config c = { .host = h, .ifd = g->ifd, .guest_ram = g->ram, .svm = svm,
                               .msi = msi, .msi_opaque = g };
    g->v = viommu_create(&c);
    assert_non_null(g->v);
    assert_int_equal(viommu_assign(g->v, VG_VBDF, h->acc_bdf[acc]), 0);
    tables(g, svm);
    boot(g);
    device(g);
}

void vg_fini(struct vg *g)
{
    awr(g, ACTX(ACCEL_CTX_CTRL), ACCEL_CTRL_RESET, 4);
    viommu_destroy(g->v);
    iommufd_close(g->ifd);
    pt_destroy(&g->pt);
    gpa_map_destroy(g->ram);
}

void vg_pasid_entry(struct vg *g, uint32_t pasid, uint64_t q0, uint64_t q1, uint64_t q2)
{
    uint64_t e[8] = { q0, q1, q2 };
    assert_int_equal(gpa_write(g->ram, VG_PTBL + 64 * pasid, e, sizeof(e)), 0);
}

void vg_bind(struct vg *g, uint32_t pasid)
{
    uint64_t e[8] = { 0 };
    HW_SET(PASID_PTE, P, e, 1);
    HW_SET(PASID_PTE, PGTT, e, 1);
    HW_SET(PASID_PTE, DID, e, VG_DID);
    HW_SET(PASID_PTE, FLPTPTR, e, g->pt.root >> 12);
    vg_pasid_entry(g, pasid, e[0], e[1], e[2]);
    uint64_t d[2][4] = { { 0 } };
    vg_desc_pc(d[0], 1, VG_DID, pasid);
    vg_desc_piotlb(d[1], 2, VG_DID, pasid, 0, 0, false);
    vg_qi(g, d, 2);
    assert_true(vg_qi_wait(g));
}

uint64_t vg_map(struct vg *g, uint64_t va)
{
    uint64_t gpa = gpa_page_alloc(g->ram);
    assert_true(gpa != ~0ULL);
    assert_int_equal(pt_map(&g->pt, va, gpa, PT_4K, PTE_RW | PTE_US), 0);
    return gpa;
}

uint32_t vg_submit_at(struct vg *g, uint64_t batch_va, const struct accel_cmd *cmd)
{
    return gdev_submit(g->h->acc[g->acc].dev, VG_CTX, g->ram, &g->pt, batch_va, ++g->seq, cmd);
}

uint32_t vg_submit(struct vg *g, const struct accel_cmd *cmd)
{
    return vg_submit_at(g, VG_BATCH_VA, cmd);
}

uint32_t vg_wait(struct vg *g)
{
    return gdev_wait(g->h->acc[g->acc].dev, VG_CTX, g->seq);
}

uint32_t vg_store(struct vg *g, uint64_t va, uint32_t val)
{
    struct accel_cmd c = { .opcode = ACCEL_OP_STORE_DWORD, .arg = val, .a = va };
    vg_submit(g, &c);
    return vg_wait(g);
}

unsigned vg_poll_wait(struct vg *g)
{
    for (unsigned ms = 0; ms < HANG_GUARD_MS; ms++) {
        unsigned n = viommu_poll(g->v);
        if (n)
            return n;
        usleep(1000);
    }
    fail_msg("nothing from the host");
    return 0;
}

uint32_t vg_hpa_read32(struct vg *g, uint64_t gpa)
{
    uint32_t v = 0;
    assert_int_equal(mem_read32(g->h->mem, gpa_to_hpa(g->ram, gpa), &v), 0);
    return v;
}

/* The guest kernel's descriptors are the host kernel's builders (os/iommu_qi.c):
 * the same os code runs as the guest kernel (ARCHITECTURE.md §2). */
void vg_desc_pc(uint64_t *d, unsigned g, uint16_t did, uint32_t pasid)
{
    memset(d, 0, 32);
    os_qi_pc(d, g, did, pasid);
}

void vg_desc_piotlb(uint64_t *d, unsigned g, uint16_t did, uint32_t pasid, uint64_t addr,
                    unsigned am, bool ih)
{
    memset(d, 0, 32);
    os_qi_piotlb(d, g, did, pasid, addr, am, ih);
}

void vg_desc_pgresp(uint64_t *d, uint16_t rid, uint32_t pasid, uint16_t prgi, unsigned rc)
{
    struct os_page_req pr = { .sid = rid, .pasid_present = true, .pasid = pasid, .prgi = prgi,
                              .lpig = true };
    memset(d, 0, 32);
    os_qi_pgresp(d, &pr, rc);
}
