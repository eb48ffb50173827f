/* The accelerator as a PCIe function: creation and attachment to the IOMMU,
 * the configuration-space hooks, resets, interrupts and statistics. The
 * lock order is in accel_internal.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dev/accel_internal.h"

static const struct vtd_dev_ops accel_dev_ops = {
    .ats_invalidate = accel_ats_invalidate,
    .page_response = accel_page_response,
};

/* ---- time ------------------------------------------------------------------------ */
void accel_now(struct timespec *t)
{
    clock_gettime(CLOCK_MONOTONIC, t);
}

void accel_ts_add_ms(struct timespec *t, unsigned ms)
{
    t->tv_sec += ms / 1000;
    t->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L)
        t->tv_sec++, t->tv_nsec -= 1000000000L;
}

bool accel_ts_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* ---- life cycle -------------------------------------------------------------------- */
static void regs_reset_locked(struct accel *d)
{
    for (unsigned i = 0; i < ACCEL_NCTX; i++) {
        struct accel_ctx *c = &d->ctx[i];
        c->ctrl = c->pasid = 0;
        c->batch = c->compl_va = c->error_va = c->seqno = 0;
        c->state = ACCEL_ST_IDLE, c->err = ACCEL_ERR_NONE;
        ST(&c->cmds, 0);
        ST(&c->prqs, 0);
    }
    d->int_status = 0;
    d->int_mask = (1u << ACCEL_NCTX) - 1;
}

static int init_sync(struct accel *d)
{
    pthread_condattr_t ca;
    pthread_rwlockattr_t ra;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->work, &ca);
    pthread_cond_init(&d->idle, &ca);
    pthread_condattr_destroy(&ca);
    /* Writer preference: the engine re-takes the read side for every page,
     * an invalidation must not starve behind it. */
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&d->atc.rw, &ra);
    pthread_rwlockattr_destroy(&ra);
    return accel_atc_init(&d->atc, d->cfg.atc_entries);
}

static void fini_sync(struct accel *d)
{
    accel_atc_fini(&d->atc);
    pthread_rwlock_destroy(&d->atc.rw);
    pthread_cond_destroy(&d->idle);
    pthread_cond_destroy(&d->work);
    pthread_mutex_destroy(&d->lock);
}

struct accel *accel_create(const struct accel_config *cfg)
{
    if (!cfg || !cfg->mem)
        return NULL;
    struct accel *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->cfg = *cfg;
    if (!d->cfg.atc_entries)
        d->cfg.atc_entries = ACCEL_ATC_DEFAULT;
    if (!d->cfg.timeout_ms)
        d->cfg.timeout_ms = ACCEL_TIMEOUT_DEFAULT_MS;
    d->running = -1;
    for (unsigned i = 0; i < ACCEL_NCTX; i++)
        d->ctx[i].prgi = -1;
    regs_reset_locked(d);
    if (init_sync(d)) {
        fini_sync(d);
        free(d);
        return NULL;
    }
    if (d->cfg.iommu && vtd_device_attach(d->cfg.iommu, d->cfg.sid, &accel_dev_ops, d)) {
        fini_sync(d);
        free(d);
        return NULL;
    }
    if (pthread_create(&d->thread, NULL, accel_engine_main, d)) {
        if (d->cfg.iommu)
            vtd_device_detach(d->cfg.iommu, d->cfg.sid);
        fini_sync(d);
        free(d);
        return NULL;
    }
    return d;
}

/* Detach first: once vtd_device_detach returns (it takes the unit lock) no
 * callback runs or will run; the engine may still call the unit while it
 * stops, which the unit answers without reaching the device. */
void accel_destroy(struct accel *d)
{
    if (!d)
        return;
    if (d->cfg.iommu)
        vtd_device_detach(d->cfg.iommu, d->cfg.sid);
    pthread_mutex_lock(&d->lock);
    ST(&d->stop, true);
    accel_kick(d);
    pthread_mutex_unlock(&d->lock);
    pthread_join(d->thread, NULL);
    fini_sync(d);
    free(d);
}

/* ---- engine hand-off ------------------------------------------------------------- */
void accel_kick(struct accel *d)
{
    INC(&d->kick, 1);
    pthread_cond_broadcast(&d->work);
}

bool accel_on_engine(const struct accel *d)
{
    return pthread_equal(pthread_self(), d->thread);
}

/* The engine checks the context generation between accesses, so it leaves
 * abandoned work within one access; an MSI handler running on the engine
 * thread itself must not wait for it. */
void accel_wait_engine(struct accel *d, int i)
{
    if (accel_on_engine(d))
        return;
    while (d->running >= 0 && (i < 0 || d->running == i))
        pthread_cond_wait(&d->idle, &d->lock);
}

void accel_ctx_abandon(struct accel *d, unsigned i)
{
    struct accel_ctx *c = &d->ctx[i];
    ST(&c->gen, c->gen + 1);
    if (c->prgi >= 0)
        accel_prg_abandon(d, c->prgi);
    c->prgi = -1;
    c->slot_wait = false;
    c->pending = false;
    accel_kick(d);
}

/* ---- interrupts --------------------------------------------------------------------- */
/* MSI is a memory write: it needs MSI Enable and Bus Master Enable (PCIe). */
bool accel_irq_locked(struct accel *d, unsigned i, uint64_t *addr, uint32_t *data)
{
    d->int_status |= 1u << i;
    if (!d->msi_en || !LD(&d->bus_master) || (d->int_mask & (1u << i)))
        return false;
    *addr = d->msi_addr, *data = d->msi_data;
    return true;
}

void accel_send_msi(struct accel *d, uint64_t addr, uint32_t data)
{
    if (d->cfg.msi)
        d->cfg.msi(d->cfg.msi_opaque, addr, data);
}

/* ---- configuration-space hooks ---------------------------------------------------- */
void accel_set_bus_master(struct accel *d, bool enabled)
{
    ST(&d->bus_master, enabled);
}

void accel_set_dma_watch(struct accel *d, accel_dma_watch_fn fn, void *opaque)
{
    __atomic_store_n(&d->watch, NULL, __ATOMIC_RELEASE);
    d->watch_opaque = opaque;
    __atomic_store_n(&d->watch, fn, __ATOMIC_RELEASE);
}

void accel_set_msi(struct accel *d, bool enabled, uint64_t addr, uint32_t data)
{
    pthread_mutex_lock(&d->lock);
    d->msi_en = enabled, d->msi_addr = addr, d->msi_data = data;
    pthread_mutex_unlock(&d->lock);
}

void accel_set_ats(struct accel *d, bool enabled)
{
    bool was = __atomic_exchange_n(&d->ats, enabled, __ATOMIC_ACQ_REL);
    if (was && !enabled)
        accel_atc_flush(d);
}

void accel_set_pasid(struct accel *d, bool enabled)
{
    ST(&d->pasid_en, enabled);
}

void accel_set_pri(struct accel *d, bool enabled, uint32_t allocation)
{
    pthread_mutex_lock(&d->lock);
    d->pri.enabled = enabled;
    d->pri.allocation = allocation > ACCEL_PRGI_N ? ACCEL_PRGI_N : allocation;
    accel_kick(d);
    pthread_mutex_unlock(&d->lock);
}

void accel_reset(struct accel *d)
{
    pthread_mutex_lock(&d->lock);
    for (unsigned i = 0; i < ACCEL_NCTX; i++)
        accel_ctx_abandon(d, i);
    regs_reset_locked(d);
    d->pri.status = 0;
    accel_wait_engine(d, -1);
    INC(&d->st.resets, 1);
    pthread_mutex_unlock(&d->lock);
    accel_atc_flush(d);
}

uint32_t accel_pri_status(struct accel *d)
{
    pthread_mutex_lock(&d->lock);
    uint32_t s = d->pri.status;
    if (!d->pri.enabled && d->pri.outstanding == d->pri.abandoned)
        s |= ACCEL_PRI_ST_STOPPED;
    pthread_mutex_unlock(&d->lock);
    return s;
}

void accel_pri_status_clear(struct accel *d, uint32_t w1c)
{
    pthread_mutex_lock(&d->lock);
    d->pri.status &= ~(w1c & (ACCEL_PRI_ST_RF | ACCEL_PRI_ST_UPRGI));
    pthread_mutex_unlock(&d->lock);
}

/* ---- statistics ------------------------------------------------------------------------ */
void accel_get_stats(struct accel *d, struct accel_stats *s)
{
    const uint64_t *src = (const uint64_t *)&d->st;
    uint64_t *dst = (uint64_t *)s;
    for (size_t i = 0; i < sizeof(*s) / sizeof(uint64_t); i++)
        dst[i] = LD(&src[i]);
}

unsigned accel_atc_entries(struct accel *d)
{
    pthread_rwlock_rdlock(&d->atc.rw);
    unsigned n = accel_atc_count(&d->atc);
    pthread_rwlock_unlock(&d->atc.rw);
    return n;
}

void accel_test_inv_never_complete(struct accel *d, bool never)
{
    ST(&d->inv_never, never);
}

unsigned accel_fault_rtts(struct accel *d, uint64_t *out, unsigned max)
{
    pthread_mutex_lock(&d->lock);
    unsigned have = d->rtt_n < ACCEL_RTT_SAMPLES ? d->rtt_n : ACCEL_RTT_SAMPLES, n = 0;
    for (unsigned i = 0; i < have && n < max; i++)
        out[n++] = d->rtt_ns[(d->rtt_n - have + i) % ACCEL_RTT_SAMPLES];
    d->rtt_n = 0;
    pthread_mutex_unlock(&d->lock);
    return n;
}
