/* Guest-side accelerator driving shared by the tests (see guest_dev.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <unistd.h>

#include "support/guest_dev.h"

#define HANG_GUARD_MS 30000u   /* generous: a hang guard, not a timing check */

static uint64_t reg(unsigned ctx, uint64_t r) { return ACCEL_CTX_BASE + ACCEL_CTX_STRIDE * ctx + r; }

static void wr(struct accel *dev, uint64_t off, uint64_t v, unsigned len)
{
    accel_mmio(dev, off, &v, len, true);
}

static uint64_t rd(struct accel *dev, uint64_t off, unsigned len)
{
    uint64_t v = 0;
    accel_mmio(dev, off, &v, len, false);
    return v;
}

uint32_t gdev_submit(struct accel *dev, unsigned ctx, struct gpa_map *ram, const struct pt *pt,
                     uint64_t batch_va, uint64_t seq, const struct accel_cmd *cmd)
{
    struct accel_cmd c[2] = { *cmd, { .opcode = ACCEL_OP_END, .a = seq } };
    uint64_t pte;
    enum pt_page_size sz;
    assert_int_equal(pt_lookup(pt, batch_va, &pte, &sz), 0);
    assert_int_equal(gpa_write(ram, pte & PTE_ADDR_MASK, c, sizeof(c)), 0);
    wr(dev, reg(ctx, ACCEL_CTX_BATCH), batch_va, 8);
    wr(dev, reg(ctx, ACCEL_CTX_DOORBELL), 1, 4);
    return (uint32_t)rd(dev, reg(ctx, ACCEL_CTX_STATUS), 4);
}

uint32_t gdev_wait(struct accel *dev, unsigned ctx, uint64_t seq)
{
    for (unsigned ms = 0; ms < HANG_GUARD_MS; ms++) {
        uint32_t st = (uint32_t)rd(dev, reg(ctx, ACCEL_CTX_STATUS), 4);
        if (rd(dev, reg(ctx, ACCEL_CTX_SEQNO), 8) >= seq)
            return ACCEL_ST_DONE;
        if ((st & 0xFF) == ACCEL_ST_ERROR) {
            wr(dev, reg(ctx, ACCEL_CTX_CTRL),
               ACCEL_CTRL_RESET | ACCEL_CTRL_ENABLE | ACCEL_CTRL_PASID, 4);
            return st;
        }
        usleep(1000);
    }
    fail_msg("device hang");
    return 0;
}
