/* The command engine: one thread per device. It takes ready contexts round
 * robin (a rung doorbell, an answered page request, a free PRG index, a
 * page wait past its deadline) and runs one until its batch ends or it has
 * to wait for a page: so other contexts run while one waits for software to
 * fault a page in (PCIe PRI), and the wait itself is on d->work with the
 * page-response time-out as deadline. Lock order: accel_internal.h. */
#include <sched.h>

#include "lib/trace.h"
#include "dev/accel_internal.h"

/* How long the idle engine polls d->kick before sleeping on d->work: the
 * page response usually comes back, and the next doorbell usually rings,
 * well within it, and a condition-variable wake-up costs more than the
 * whole round trip. Every ACCEL_SPIN_FAST polls it yields the CPU: with
 * fewer cores than busy threads (the driver polling for completion, the
 * host interrupt thread) the thread that will produce the event must get
 * to run; spinning without yielding was measured much slower on 2 cores. */
#define ACCEL_SPIN_NS   50000L
#define ACCEL_SPIN_FAST 16u      /* polls between two yields */

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* No lock held: true as soon as d->kick differs from `seen` (or the device
 * stops), false after ACCEL_SPIN_NS without that. */
static bool spin_for_kick(struct accel *d, unsigned seen)
{
    struct timespec start, now;
    accel_now(&start);
    for (unsigned k = 0;; k++) {
        if (LD(&d->kick) != seen || LD(&d->stop))
            return true;
        if (k % ACCEL_SPIN_FAST) {
            cpu_relax();
            continue;
        }
        accel_now(&now);
        long ns = (now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec);
        if (ns >= ACCEL_SPIN_NS)
            return false;
        sched_yield();
    }
}

/* ---- completion ----------------------------------------------------------------- */
/* d->lock held; dropped around the MSI (the interrupt sink may come back
 * into the device through MMIO). */
static void finish(struct accel *d, unsigned i, uint8_t state, uint8_t err, uint64_t va)
{
    struct accel_ctx *c = &d->ctx[i];
    uint64_t addr;
    uint32_t data;
    c->state = state, c->err = err;
    c->slot_wait = false;
    trace(dev_batch_end, "sid=%#x ctx=%u state=%u err=%u va=%#llx", d->cfg.sid, i, state, err,
          (unsigned long long)va);
    if (state == ACCEL_ST_ERROR)
        c->error_va = va;
    if (state == ACCEL_ST_DONE)
        INC(&d->st.batches, 1);
    if (accel_irq_locked(d, i, &addr, &data)) {
        pthread_mutex_unlock(&d->lock);
        accel_send_msi(d, addr, data);
        pthread_mutex_lock(&d->lock);
    }
}

/* d->lock held. Doorbell: the batch address is latched now; a doorbell on a
 * busy context is kept (one deep: a later one replaces it) and starts when
 * the current batch ends. */
bool accel_doorbell_locked(struct accel *d, unsigned i, uint64_t *addr, uint32_t *data)
{
    struct accel_ctx *c = &d->ctx[i];
    bool busy = c->state == ACCEL_ST_RUNNING || c->state == ACCEL_ST_PAGE_WAIT;
    bool ok = (c->ctrl & ACCEL_CTRL_ENABLE) && LD(&d->bus_master) &&
              (!(c->ctrl & ACCEL_CTRL_PASID) || LD(&d->pasid_en));
    if (!ok) {
        if (busy)
            return false;   /* the running batch reports the condition itself */
        c->state = ACCEL_ST_ERROR, c->err = ACCEL_ERR_NOT_ENABLED;
        c->error_va = c->batch;
        return accel_irq_locked(d, i, addr, data);
    }
    c->pending = true;
    c->pending_batch = c->batch;
    if (!busy)
        c->state = ACCEL_ST_RUNNING, c->err = ACCEL_ERR_NONE;
    accel_kick(d);
    return false;
}

/* ---- scheduling ------------------------------------------------------------------ */
static bool ready(struct accel *d, unsigned i, const struct timespec *now)
{
    const struct accel_ctx *c = &d->ctx[i];
    if (c->state != ACCEL_ST_PAGE_WAIT)
        return c->pending;
    if (c->prgi >= 0 && d->pri.slot[c->prgi].state == PRG_ANSWERED)
        return true;
    if (c->slot_wait && accel_prg_available(d, now))
        return true;
    return !accel_ts_before(now, &c->deadline);
}

static int pick(struct accel *d)
{
    struct timespec now;
    accel_now(&now);
    for (unsigned k = 1; k <= ACCEL_NCTX; k++) {
        unsigned i = (d->rr + k) % ACCEL_NCTX;
        if (ready(d, i, &now))
            return (int)i;
    }
    return -1;
}

/* Nothing ready (d->lock held): poll d->kick a moment, then sleep until
 * woken or until the earliest page-wait deadline (or PRG index reuse, for a
 * context waiting for an index). Every change that can make a context
 * ready bumps d->kick under d->lock, so when it has not moved since pick()
 * looked, sleeping loses nothing; when it has, the caller picks again. */
static void idle_wait(struct accel *d)
{
    unsigned seen = LD(&d->kick);
    pthread_mutex_unlock(&d->lock);
    bool kicked = spin_for_kick(d, seen);
    pthread_mutex_lock(&d->lock);
    if (kicked || LD(&d->kick) != seen || LD(&d->stop))
        return;
    struct timespec t = { 0, 0 }, e;
    bool timed = false, slots = false;
    for (unsigned i = 0; i < ACCEL_NCTX; i++) {
        const struct accel_ctx *c = &d->ctx[i];
        if (c->state != ACCEL_ST_PAGE_WAIT)
            continue;
        slots |= c->slot_wait;
        if (!timed || accel_ts_before(&c->deadline, &t))
            t = c->deadline, timed = true;
    }
    if (slots && accel_prg_next_expiry(d, &e) && accel_ts_before(&e, &t))
        t = e;
    if (timed)
        pthread_cond_timedwait(&d->work, &d->lock, &t);
    else
        pthread_cond_wait(&d->work, &d->lock);
}

static void start_batch(struct accel_ctx *c)
{
    struct accel_run *r = &c->run;
    *r = (struct accel_run){ .pc = c->pending_batch, .compl_va = c->compl_va,
                             .x = { .pv = (c->ctrl & ACCEL_CTRL_PASID) != 0,
                                    .priv = (c->ctrl & ACCEL_CTRL_PRIV) != 0,
                                    .pasid = c->pasid & 0xFFFFF } };
    c->pending = false;
}

/* d->lock held: prepares context i to run; false when it ended instead
 * (page request answered with an error, time-out, context not runnable). */
static bool begin(struct accel *d, unsigned i)
{
    struct accel_ctx *c = &d->ctx[i];
    struct timespec now;
    accel_now(&now);
    if (c->state == ACCEL_ST_PAGE_WAIT) {
        if (c->prgi >= 0 && d->pri.slot[c->prgi].state == PRG_ANSWERED) {
            uint8_t rc = d->pri.slot[c->prgi].rc;
            if (rc == VTD_PRG_SUCCESS)   /* the retry starts now: one round trip */
                d->rtt_ns[d->rtt_n++ % ACCEL_RTT_SAMPLES] =
                    accel_ts_ns(&now) - accel_ts_ns(&d->pri.slot[c->prgi].sent);
            accel_prg_free(d, c->prgi);
            c->prgi = -1;
            if (rc != VTD_PRG_SUCCESS) {
                finish(d, i, ACCEL_ST_ERROR, ACCEL_ERR_PAGE_FAULT, c->run.fault_va);
                return false;
            }
        } else if (!c->slot_wait || !accel_prg_available(d, &now)) {
            accel_prg_abandon(d, c->prgi);
            c->prgi = -1;
            finish(d, i, ACCEL_ST_ERROR, ACCEL_ERR_TIMEOUT, c->run.fault_va);
            return false;
        }
        c->slot_wait = false;
    } else {
        start_batch(c);
        if (!(c->ctrl & ACCEL_CTRL_ENABLE) || (c->run.x.pv && !LD(&d->pasid_en))) {
            finish(d, i, ACCEL_ST_ERROR, ACCEL_ERR_NOT_ENABLED, c->run.pc);
            return false;
        }
    }
    c->state = ACCEL_ST_RUNNING;
    d->running = (int)i;
    d->rr = i;
    return true;
}

/* ---- running ----------------------------------------------------------------------- */
/* No lock held. Steps until the batch ends, fails or needs a page; true
 * when the work was abandoned (device stopping, context reset). Bus Master
 * Enable and PASID Enable cleared under a running batch stop it before its
 * next request (PCIe: the function may not issue such requests). */
static bool run_steps(struct accel *d, struct accel_ctx *c, unsigned gen, struct accel_out *o)
{
    for (;;) {
        if (LD(&d->stop) || LD(&c->gen) != gen)
            return true;
        if (!LD(&d->bus_master) || (c->run.x.pv && !LD(&d->pasid_en))) {
            *o = (struct accel_out){ .kind = STEP_ERROR, .err = ACCEL_ERR_NOT_ENABLED,
                                     .va = c->run.pc };
            return false;
        }
        accel_step(d, c, o);
        if (o->kind != STEP_CONT)
            return false;
        if (o->progress)
            c->run.fault_tries = 0;
    }
}

/* d->lock held: a missing page. The same access failing again right after
 * a Success response asks again, up to ACCEL_PRI_RETRIES requests. */
static void page_fault(struct accel *d, unsigned i, const struct accel_out *o)
{
    struct accel_ctx *c = &d->ctx[i];
    struct accel_run *r = &c->run;
    bool same = r->fault_tries && ((r->fault_va ^ o->va) >> PAGE_SHIFT) == 0 &&
                r->fault_write == o->write;
    r->fault_va = o->va, r->fault_write = o->write;
    int prgi = same && r->fault_tries >= ACCEL_PRI_RETRIES ? -2 : accel_prg_alloc(d, i, &r->x);
    if (prgi == -2) {
        finish(d, i, ACCEL_ST_ERROR, ACCEL_ERR_PAGE_FAULT, o->va);
        return;
    }
    c->state = ACCEL_ST_PAGE_WAIT;
    if (prgi < 0) {
        if (!c->slot_wait) {
            c->slot_wait = true;
            accel_now(&c->deadline);
            accel_ts_add_ms(&c->deadline, d->cfg.timeout_ms);
        }
        return;
    }
    c->slot_wait = false;
    c->prgi = prgi;
    r->fault_tries = same ? r->fault_tries + 1 : 1;
    accel_now(&c->deadline);
    accel_ts_add_ms(&c->deadline, d->cfg.timeout_ms);
    INC(&c->prqs, 1);
    struct accel_xid x = r->x;
    pthread_mutex_unlock(&d->lock);
    accel_send_page_request(d, &x, prgi, o->va, o->write);
    pthread_mutex_lock(&d->lock);
}

static void slice(struct accel *d, unsigned i)
{
    struct accel_ctx *c = &d->ctx[i];
    unsigned gen = c->gen;
    struct accel_out o;
    pthread_mutex_unlock(&d->lock);
    bool abandoned = run_steps(d, c, gen, &o);
    pthread_mutex_lock(&d->lock);
    d->running = -1;
    pthread_cond_broadcast(&d->idle);
    if (abandoned || c->gen != gen)
        return;
    if (o.kind == STEP_END) {
        c->seqno = c->run.cmd.a;
        finish(d, i, ACCEL_ST_DONE, ACCEL_ERR_NONE, 0);
    } else if (o.kind == STEP_ERROR) {
        finish(d, i, ACCEL_ST_ERROR, o.err, o.va);
    } else {
        page_fault(d, i, &o);
    }
}

void *accel_engine_main(void *arg)
{
    struct accel *d = arg;
    pthread_mutex_lock(&d->lock);
    while (!LD(&d->stop)) {
        int i = pick(d);
        if (i < 0)
            idle_wait(d);
        else if (begin(d, (unsigned)i))
            slice(d, (unsigned)i);
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}
