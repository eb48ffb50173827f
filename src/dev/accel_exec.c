/* The commands of dev/accel_regs.h, executed one step at a time so that a
 * batch can stop at any access that needs a page request and resume there
 * after the response: a step is one command fetch, one small command, up
 * to ACCEL_PIECES page-bounded pieces of COPY/FILL (the first one, and those
 * after it whose translations are cached) or one CHASE node. A step either
 * completes or has no visible effect beyond rewriting the same bytes again, so it is
 * simply repeated after a page request (PCIe PRI: the device retries the
 * translation, then the access). Commands are little endian in memory. */
#include <string.h>

#include "dev/accel_internal.h"

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t in_page(uint64_t va)
{
    return (uint32_t)(PAGE_SIZE - (va & (PAGE_SIZE - 1)));
}

/* ---- small transfers (at most 32 bytes, possibly across a page) ---------------- */
struct xfer {
    uint8_t *buf;
    bool write;
};

static void xfer_fn(struct accel_span *s, unsigned n, void *arg)
{
    struct xfer *t = arg;
    size_t off = 0;
    for (unsigned i = 0; i < n; off += s[i].len, i++)
        mem_copy(t->write ? s[i].hva : t->buf + off, t->write ? t->buf + off : s[i].hva, s[i].len);
}

/* Maps an access outcome onto the step outcome; true when it succeeded. */
static bool io_ok(enum accel_acc r, uint64_t va, bool write, struct accel_out *o)
{
    switch (r) {
    case ACC_OK:
        return true;
    case ACC_PAGE:
        *o = (struct accel_out){ .kind = STEP_PAGE, .va = va, .write = write };
        return false;
    case ACC_UNSUPPORTED:
        *o = (struct accel_out){ .kind = STEP_ERROR, .err = ACCEL_ERR_UNSUPPORTED, .va = va };
        return false;
    default:
        *o = (struct accel_out){ .kind = STEP_CONT };   /* invalidation race: repeat the step */
        return false;
    }
}

static bool small_io(struct accel *d, struct accel_run *r, uint64_t va, void *buf, uint32_t len,
                     bool write, struct accel_out *o)
{
    struct accel_span s[2] = { { .va = va, .len = len, .write = write } };
    unsigned n = 1;
    if (in_page(va) < len) {
        s[0].len = in_page(va);
        s[1] = (struct accel_span){ .va = va + s[0].len, .len = len - s[0].len, .write = write };
        n = 2;
    }
    struct xfer t = { buf, write };
    uint64_t fva = va;
    bool fw = write;
    enum accel_acc res = accel_io(d, &r->x, s, n, xfer_fn, &t, &fva, &fw);
    return io_ok(res, fva, fw, o);
}

static void fail(struct accel_out *o, uint8_t err, uint64_t va)
{
    *o = (struct accel_out){ .kind = STEP_ERROR, .err = err, .va = va };
}

/* ---- steps ----------------------------------------------------------------------------- */
static void cmd_done(struct accel *d, struct accel_ctx *c, struct accel_out *o)
{
    c->run.have_cmd = false;
    c->run.pc += sizeof(struct accel_cmd);
    INC(&c->cmds, 1);
    INC(&d->st.cmds, 1);
    o->progress = true;
}

/* The batch is bounded by ACCEL_MAX_BATCH commands: one without END ends
 * with ACCEL_ERR_BAD_COMMAND at the first command beyond the bound. */
static void fetch(struct accel *d, struct accel_run *r, struct accel_out *o)
{
    uint8_t b[32];
    if (r->n >= ACCEL_MAX_BATCH) {
        fail(o, ACCEL_ERR_BAD_COMMAND, r->pc);
        return;
    }
    if (!small_io(d, r, r->pc, b, sizeof(b), false, o))
        return;
    r->cmd = (struct accel_cmd){ .opcode = (uint32_t)le64(b), .arg = (uint32_t)(le64(b) >> 32),
                                 .a = le64(b + 8), .b = le64(b + 16), .c = le64(b + 24) };
    r->have_cmd = true;
    r->n++;
    r->done = 0;
    r->node = r->mark = r->cmd.a;
    r->sum = r->lam = 0;
    r->power = 1;
    o->progress = true;
}

/* COPY/FILL pieces per step: the translations of up to this many pages are
 * held (atc.rw read) across one step's accesses, so an invalidation waits
 * at most for that much copying. */
#define ACCEL_PIECES 16u

static void copy_fn(struct accel_span *s, unsigned n, void *arg)
{
    (void)arg;
    for (unsigned i = 0; i + 1 < n; i += 2)
        mem_copy(s[i + 1].hva, s[i].hva, s[i].len);
}

/* memmove semantics in page-bounded pieces: forwards when the destination
 * is below the source, backwards when it overlaps above it, so that no
 * piece reads bytes an earlier piece has overwritten. A step copies up to
 * ACCEL_PIECES pieces, in that order. */
static void op_copy(struct accel *d, struct accel_ctx *c, struct accel_out *o)
{
    struct accel_run *r = &c->run;
    uint64_t src = r->cmd.a, dst = r->cmd.b, len = r->cmd.c;
    if (!len) {
        cmd_done(d, c, o);
        return;
    }
    if (src + (len - 1) < src || dst + (len - 1) < dst) {
        fail(o, ACCEL_ERR_BAD_COMMAND, r->pc);
        return;
    }
    bool back = dst > src && dst - src < len;
    struct accel_span sp[2 * ACCEL_PIECES];
    unsigned ng = 0;
    for (uint64_t done = r->done; ng < ACCEL_PIECES && done < len; ng++) {
        uint64_t left = len - done, n = left, s, t;
        if (!back) {
            s = src + done, t = dst + done;
            n = n < in_page(s) ? n : in_page(s);
            n = n < in_page(t) ? n : in_page(t);
        } else {
            uint64_t es = src + left, et = dst + left;
            uint64_t ms = ((es - 1) & (PAGE_SIZE - 1)) + 1, mt = ((et - 1) & (PAGE_SIZE - 1)) + 1;
            n = n < ms ? n : ms;
            n = n < mt ? n : mt;
            s = es - n, t = et - n;
        }
        sp[2 * ng] = (struct accel_span){ .va = s, .len = (uint32_t)n, .write = false };
        sp[2 * ng + 1] = (struct accel_span){ .va = t, .len = (uint32_t)n, .write = true };
        done += n;
    }
    uint64_t fva = sp[0].va;
    bool fw = false;
    unsigned k = 0;
    enum accel_acc res = accel_io_groups(d, &r->x, sp, ng, 2, copy_fn, NULL, &k, &fva, &fw);
    if (!io_ok(res, fva, fw, o))
        return;
    for (unsigned i = 0; i < k; i++)
        r->done += sp[2 * i].len;
    o->progress = true;
    if (r->done == len)
        cmd_done(d, c, o);
}

struct fill {
    uint64_t start;       /* the command's destination address */
    uint8_t pat[8];       /* the pattern, little endian */
};

/* Byte at address v is pat[(v - start) mod 8]. The pattern block starts at
 * the destination's alignment within a qword, so mem_copy stores whole
 * qwords. */
static void fill_fn(struct accel_span *s, unsigned n, void *arg)
{
    const struct fill *f = arg;
    for (unsigned i = 0; i < n; i++) {
        uint64_t blk[9];
        uint8_t *b = (uint8_t *)blk;
        unsigned ph = (unsigned)((s[i].va - f->start) & 7), mis = (unsigned)((uintptr_t)s[i].hva & 7);
        for (unsigned k = 0; k < sizeof(blk); k++)
            b[k] = f->pat[(ph + k - mis) & 7];
        for (uint32_t k = 0; k < s[i].len; k += 64)
            mem_copy(s[i].hva + k, b + mis, s[i].len - k < 64 ? s[i].len - k : 64);
    }
}

/* Byte k of the destination is byte (k mod 8) of the little-endian pattern,
 * counted from the start address a. */
static void op_fill(struct accel *d, struct accel_ctx *c, struct accel_out *o)
{
    struct accel_run *r = &c->run;
    uint64_t dst = r->cmd.a, len = r->cmd.c;
    if (!len) {
        cmd_done(d, c, o);
        return;
    }
    if (dst + (len - 1) < dst) {
        fail(o, ACCEL_ERR_BAD_COMMAND, r->pc);
        return;
    }
    struct fill f = { .start = dst };
    for (unsigned k = 0; k < 8; k++)
        f.pat[k] = (uint8_t)(r->cmd.b >> (8 * k));
    struct accel_span sp[ACCEL_PIECES];
    unsigned ng = 0;
    for (uint64_t done = r->done; ng < ACCEL_PIECES && done < len; ng++) {
        uint64_t t = dst + done, n = len - done;
        n = n < in_page(t) ? n : in_page(t);
        sp[ng] = (struct accel_span){ .va = t, .len = (uint32_t)n, .write = true };
        done += n;
    }
    uint64_t fva = sp[0].va;
    bool fw = true;
    unsigned k = 0;
    enum accel_acc res = accel_io_groups(d, &r->x, sp, ng, 1, fill_fn, &f, &k, &fva, &fw);
    if (!io_ok(res, fva, fw, o))
        return;
    for (unsigned i = 0; i < k; i++)
        r->done += sp[i].len;
    o->progress = true;
    if (r->done == len)
        cmd_done(d, c, o);
}

/* One node per step. More than c nodes is ACCEL_ERR_BAD_COMMAND at the
 * command, and so is a cycle, found by Brent's algorithm (a node address
 * seen again, within about twice the cycle's length) without further
 * reads: a hostile list with a huge c cannot keep the engine busy. */
static void op_chase(struct accel *d, struct accel_ctx *c, struct accel_out *o)
{
    struct accel_run *r = &c->run;
    uint8_t b[16];
    if (!r->node) {
        put_le64(b, r->sum);
        put_le64(b + 8, r->done);
        if (small_io(d, r, r->cmd.b, b, 16, true, o))
            cmd_done(d, c, o);
        return;
    }
    if (r->done >= r->cmd.c) {
        fail(o, ACCEL_ERR_BAD_COMMAND, r->pc);
        return;
    }
    if (!small_io(d, r, r->node + (r->cmd.arg >> 16), b, 8, false, o) ||
        !small_io(d, r, r->node + (r->cmd.arg & 0xFFFF), b + 8, 8, false, o))
        return;
    r->sum += le64(b);
    r->node = le64(b + 8);
    r->done++;
    o->progress = true;
    if (r->node && r->node == r->mark) {
        fail(o, ACCEL_ERR_BAD_COMMAND, r->pc);
        return;
    }
    if (++r->lam == r->power)
        r->mark = r->node, r->power <<= 1, r->lam = 0;
}

void accel_step(struct accel *d, struct accel_ctx *c, struct accel_out *o)
{
    struct accel_run *r = &c->run;
    uint8_t b[8];
    *o = (struct accel_out){ .kind = STEP_CONT };
    if (!r->have_cmd) {
        fetch(d, r, o);
        return;
    }
    switch (r->cmd.opcode) {
    case ACCEL_OP_NOP:
        cmd_done(d, c, o);
        return;
    case ACCEL_OP_END:
        put_le64(b, r->cmd.a);
        if (r->compl_va && !small_io(d, r, r->compl_va, b, 8, true, o))
            return;
        cmd_done(d, c, o);
        o->kind = STEP_END;
        return;
    case ACCEL_OP_STORE_DWORD:
        put_le64(b, r->cmd.arg);
        if (small_io(d, r, r->cmd.a, b, 4, true, o))
            cmd_done(d, c, o);
        return;
    case ACCEL_OP_COPY:
        op_copy(d, c, o);
        return;
    case ACCEL_OP_FILL:
        op_fill(d, c, o);
        return;
    case ACCEL_OP_CHASE:
        op_chase(d, c, o);
        return;
    default:
        fail(o, ACCEL_ERR_BAD_COMMAND, r->pc);
        return;
    }
}
