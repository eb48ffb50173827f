/* BAR0 of the accelerator (dev/accel_regs.h). 32-bit registers take 4-byte
 * accesses, 64-bit registers an 8-byte access or 4-byte accesses to either
 * half. Anything else (sizes other than 4 and 8, misaligned accesses,
 * offsets without a register, an 8-byte access to a 32-bit register) is
 * ignored and reads 0: a guest can program nothing that hurts the model. */
#include "lib/trace.h"
#include "dev/accel_internal.h"

#define CTX_END (ACCEL_CTX_BASE + ACCEL_CTX_STRIDE * ACCEL_NCTX)
#define CTRL_RW (ACCEL_CTRL_ENABLE | ACCEL_CTRL_PASID | ACCEL_CTRL_PRIV)

/* Side effects carried out after d->lock is dropped. */
struct after {
    bool msi, flush;
    uint64_t addr;
    uint32_t data;
};

/* A 64-bit register at `base`: false when off/len do not address it. A
 * NULL reg makes it read-only with value *ro. */
static bool r64(uint64_t *reg, uint64_t ro, unsigned base, unsigned off, unsigned len,
                uint64_t *v, bool is_write)
{
    if (off < base || off >= base + 8 || (len == 8 && off != base))
        return false;
    unsigned sh = (off - base) * 8;
    uint64_t mask = len == 8 ? ~0ULL : 0xFFFFFFFFULL << sh;
    if (!is_write)
        *v = ((reg ? *reg : ro) & mask) >> sh;
    else if (reg)
        *reg = (*reg & ~mask) | ((*v << sh) & mask);
    return true;
}

static uint64_t sat32(uint64_t v)
{
    return v > 0xFFFFFFFFULL ? 0xFFFFFFFFULL : v;
}

static void global_reg(struct accel *d, unsigned off, unsigned len, uint64_t *v, bool is_write,
                       struct after *a)
{
    uint64_t stats = sat32(LD(&d->st.atc_hits)) | sat32(LD(&d->st.atc_misses)) << 32;
    if (r64(NULL, stats, ACCEL_REG_ATC_STATS, off, len, v, is_write) || len != 4)
        return;
    uint32_t all = (1u << ACCEL_NCTX) - 1;
    switch (off) {
    case ACCEL_REG_MAGIC:   *v = is_write ? *v : ACCEL_MAGIC; break;
    case ACCEL_REG_VERSION: *v = is_write ? *v : 1; break;
    case ACCEL_REG_NCTX:    *v = is_write ? *v : ACCEL_NCTX; break;
    case ACCEL_REG_CAPS:
        *v = is_write ? *v : ACCEL_CAP_ATS | ACCEL_CAP_PRI | ACCEL_CAP_PASID;
        break;
    case ACCEL_REG_INT_STATUS:
        if (is_write)
            d->int_status &= ~(uint32_t)*v;
        else
            *v = d->int_status;
        break;
    case ACCEL_REG_INT_MASK:
        if (is_write)
            d->int_mask = (uint32_t)*v & all;
        else
            *v = d->int_mask;
        break;
    case ACCEL_REG_ATC_FLUSH:
        a->flush = is_write && (*v & 1);
        break;
    default:
        break;
    }
}

/* CTRL (RW, ACCEL_CTRL_RESET self-clearing). RESET abandons whatever the
 * context was doing (pending doorbell, batch, page wait: a late response is
 * dropped) and leaves it IDLE with the other bits of the same write; the
 * other registers keep their values. Clearing ENABLE while the context is
 * busy abandons the batch the same way but leaves ERROR / ACCEL_ERR_RESET,
 * so that software sees its work was dropped. Both return only once the
 * engine is no longer inside an access of the abandoned batch. */
static void ctrl_write(struct accel *d, unsigned i, uint32_t v)
{
    struct accel_ctx *c = &d->ctx[i];
    bool busy = c->pending || c->state == ACCEL_ST_RUNNING || c->state == ACCEL_ST_PAGE_WAIT;
    bool disable = (c->ctrl & ACCEL_CTRL_ENABLE) && !(v & ACCEL_CTRL_ENABLE);
    c->ctrl = v & CTRL_RW;
    if (!(v & ACCEL_CTRL_RESET) && !(disable && busy))
        return;
    accel_ctx_abandon(d, i);
    if (v & ACCEL_CTRL_RESET)
        c->state = ACCEL_ST_IDLE, c->err = ACCEL_ERR_NONE;
    else
        c->state = ACCEL_ST_ERROR, c->err = ACCEL_ERR_RESET;
    accel_wait_engine(d, (int)i);
}

static void ctx_reg(struct accel *d, unsigned i, unsigned off, unsigned len, uint64_t *v,
                    bool is_write, struct after *a)
{
    struct accel_ctx *c = &d->ctx[i];
    if (r64(&c->batch, 0, ACCEL_CTX_BATCH, off, len, v, is_write) ||
        r64(&c->compl_va, 0, ACCEL_CTX_COMPL_VA, off, len, v, is_write) ||
        r64(NULL, c->error_va, ACCEL_CTX_ERROR_VA, off, len, v, is_write) ||
        r64(NULL, c->seqno, ACCEL_CTX_SEQNO, off, len, v, is_write) ||
        r64(NULL, LD(&c->cmds), ACCEL_CTX_CMDS, off, len, v, is_write) ||
        r64(NULL, LD(&c->prqs), ACCEL_CTX_PRQS, off, len, v, is_write) || len != 4)
        return;
    switch (off) {
    case ACCEL_CTX_CTRL:
        if (is_write)
            ctrl_write(d, i, (uint32_t)*v);
        else
            *v = c->ctrl;
        break;
    case ACCEL_CTX_PASID:
        if (is_write)
            c->pasid = (uint32_t)*v & 0xFFFFF;
        else
            *v = c->pasid;
        break;
    case ACCEL_CTX_DOORBELL:
        trace(dev_doorbell, "sid=%#x ctx=%u batch=%#llx", d->cfg.sid, i,
              (unsigned long long)c->batch);
        if (is_write)
            a->msi = accel_doorbell_locked(d, i, &a->addr, &a->data);
        break;
    case ACCEL_CTX_STATUS:
        if (!is_write)
            *v = c->state | (uint32_t)c->err << 8;
        break;
    default:
        break;
    }
}

void accel_mmio(void *opaque, uint64_t offset, uint64_t *data, unsigned len, bool is_write)
{
    struct accel *d = opaque;
    struct after a = { 0 };
    uint64_t v = 0;
    if (!is_write)
        *data = 0;
    if ((len != 4 && len != 8) || offset % len || offset >= CTX_END)
        return;
    if (is_write)
        v = len == 4 ? *data & 0xFFFFFFFFULL : *data;
    unsigned off = (unsigned)offset;
    pthread_mutex_lock(&d->lock);
    if (off < ACCEL_CTX_BASE)
        global_reg(d, off, len, &v, is_write, &a);
    else
        ctx_reg(d, (off - ACCEL_CTX_BASE) / ACCEL_CTX_STRIDE, off % ACCEL_CTX_STRIDE, len, &v,
                is_write, &a);
    pthread_mutex_unlock(&d->lock);
    if (!is_write)
        *data = v;
    if (a.flush)
        accel_atc_flush(d);
    if (a.msi)
        accel_send_msi(d, a.addr, a.data);
}
