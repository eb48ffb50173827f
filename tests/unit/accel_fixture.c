/* Fixture of the accelerator tests: see accel_fixture.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/hw_regs.h"
#include "accel_fixture.h"

static void nap(void)
{
    struct timespec ts = { 0, 200000 };
    nanosleep(&ts, NULL);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

unsigned afx_nmsi(struct afx *f)
{
    pthread_mutex_lock(&f->msilock);
    unsigned n = f->nmsi;
    assert_true(n == 0 || (f->msi_addr == AFX_MSI_ADDR && f->msi_data == AFX_MSI_DATA));
    pthread_mutex_unlock(&f->msilock);
    return n;
}

struct accel_stats afx_stats(struct afx *f)
{
    struct accel_stats s;
    accel_get_stats(f->dev, &s);
    return s;
}

/* ---- the process ------------------------------------------------------------------ */
uint64_t afx_hpa(struct afx *f, uint64_t va)
{
    uint64_t pte;
    enum pt_page_size sz;
    pthread_mutex_lock(&f->mm_lock);
    int rc = pt_lookup(&f->mm, va, &pte, &sz);
    pthread_mutex_unlock(&f->mm_lock);
    if (rc)
        return HPA_INVALID;
    uint64_t size = 1ULL << sz;
    return (pte & PTE_ADDR_MASK & ~(size - 1)) + (va & (size - 1));
}

void afx_map_at(struct afx *f, uint64_t va, uint64_t hpa, enum pt_page_size sz, uint64_t flags)
{
    pthread_mutex_lock(&f->mm_lock);
    int rc = pt_map(&f->mm, va, hpa, sz, flags);
    pthread_mutex_unlock(&f->mm_lock);
    assert_int_equal(rc, 0);
}

uint64_t afx_map(struct afx *f, uint64_t va, uint64_t flags)
{
    uint64_t hpa = mem_frame_alloc(f->mem);
    assert_true(hpa != HPA_INVALID);
    afx_map_at(f, va & PAGE_MASK, hpa, PT_4K, flags);
    return hpa;
}

void afx_unmap(struct afx *f, uint64_t va)
{
    pthread_mutex_lock(&f->mm_lock);
    int rc = pt_unmap(&f->mm, va);
    pthread_mutex_unlock(&f->mm_lock);
    assert_int_equal(rc, 0);
}

void afx_protect(struct afx *f, uint64_t va, uint64_t flags)
{
    pthread_mutex_lock(&f->mm_lock);
    int rc = pt_protect(&f->mm, va, flags);
    pthread_mutex_unlock(&f->mm_lock);
    assert_int_equal(rc, 0);
}

void afx_ensure(struct afx *f, uint64_t va, uint64_t len)
{
    for (uint64_t p = va & PAGE_MASK; p < va + len; p += PAGE_SIZE)
        if (afx_hpa(f, p) == HPA_INVALID)
            afx_map(f, p, AFX_USER);
}

static void cpu_access(struct afx *f, uint64_t va, void *buf, uint64_t len, bool write)
{
    uint8_t *b = buf;
    while (len) {
        uint64_t n = PAGE_SIZE - (va & (PAGE_SIZE - 1));
        n = n < len ? n : len;
        uint64_t hpa = afx_hpa(f, va);
        assert_true(hpa != HPA_INVALID);
        assert_int_equal(write ? mem_write(f->mem, hpa, b, n) : mem_read(f->mem, hpa, b, n), 0);
        va += n, b += n, len -= n;
    }
}

void afx_write(struct afx *f, uint64_t va, const void *buf, uint64_t len)
{
    cpu_access(f, va, (void *)(uintptr_t)buf, len, true);
}

void afx_read(struct afx *f, uint64_t va, void *buf, uint64_t len)
{
    cpu_access(f, va, buf, len, false);
}

uint64_t afx_rd64(struct afx *f, uint64_t va)
{
    uint64_t v;
    afx_read(f, va, &v, 8);
    return v;
}

/* ---- the device ---------------------------------------------------------------------- */
uint64_t afx_rd(struct afx *f, uint64_t off, unsigned len)
{
    uint64_t v = 0xDEAD;
    accel_mmio(f->dev, off, &v, len, false);
    return v;
}

void afx_wr(struct afx *f, uint64_t off, unsigned len, uint64_t v)
{
    accel_mmio(f->dev, off, &v, len, true);
}

uint64_t afx_creg(unsigned ctx, unsigned reg)
{
    return ACCEL_CTX_BASE + (uint64_t)ACCEL_CTX_STRIDE * ctx + reg;
}

void afx_ctx(struct afx *f, unsigned ctx, uint32_t pasid, uint64_t compl_va)
{
    afx_wr(f, afx_creg(ctx, ACCEL_CTX_PASID), 4, pasid);
    afx_wr(f, afx_creg(ctx, ACCEL_CTX_COMPL_VA), 8, compl_va);
    afx_wr(f, afx_creg(ctx, ACCEL_CTX_CTRL), 4, ACCEL_CTRL_ENABLE | ACCEL_CTRL_PASID);
}

struct accel_cmd afx_cmd(uint32_t op, uint32_t arg, uint64_t a, uint64_t b, uint64_t c)
{
    return (struct accel_cmd){ .opcode = op, .arg = arg, .a = a, .b = b, .c = c };
}

void afx_submit(struct afx *f, unsigned ctx, uint64_t va, const struct accel_cmd *c, unsigned n)
{
    afx_ensure(f, va, (uint64_t)n * sizeof(*c));
    afx_write(f, va, c, (uint64_t)n * sizeof(*c));   /* little-endian host = the format */
    afx_wr(f, afx_creg(ctx, ACCEL_CTX_BATCH), 8, va);
    afx_wr(f, afx_creg(ctx, ACCEL_CTX_DOORBELL), 4, 1);
}

uint32_t afx_wait(struct afx *f, unsigned ctx)
{
    double end = now_s() + AFX_HANG_S;
    for (;;) {
        uint32_t st = (uint32_t)afx_rd(f, afx_creg(ctx, ACCEL_CTX_STATUS), 4);
        if ((st & 0xFF) != ACCEL_ST_RUNNING && (st & 0xFF) != ACCEL_ST_PAGE_WAIT)
            return st;
        if (now_s() > end)
            fail_msg("context %u still busy (status %#x) after %d s", ctx, st, AFX_HANG_S);
        nap();
    }
}

void afx_wait_state(struct afx *f, unsigned ctx, unsigned state)
{
    double end = now_s() + AFX_HANG_S;
    while ((afx_rd(f, afx_creg(ctx, ACCEL_CTX_STATUS), 4) & 0xFF) != state) {
        if (now_s() > end)
            fail_msg("context %u never reached state %u", ctx, state);
        nap();
    }
}

uint32_t afx_run(struct afx *f, unsigned ctx, const struct accel_cmd *c, unsigned n)
{
    afx_submit(f, ctx, AFX_BATCH_VA + ctx * 0x100000ULL, c, n);
    return afx_wait(f, ctx);
}
