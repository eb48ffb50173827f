/* libFuzzer harness for the accelerator's command parser and engine
 * (dev/accel_regs.h): batches of arbitrary 32-byte commands executed by the
 * device model for one process, behind a scalable-mode unit.
 *
 * The platform (built once): a 1 MiB arena; a unit with a context entry for
 * the device (DTE, PASIDE; PRE clear, so every page request is refused at
 * once by the unit and the engine never waits for software) and a
 * first-level PASID entry (PGTT=1, SRE, WPE: read-only pages stay read-only
 * for supervisor requests too) over a 4-level page table. The process owns
 * WIN_RW pages mapped read/write at WIN (its batches and data) followed by
 * WIN_RO read-only pages; the VAs after them are unmapped. Every other
 * frame of the arena is either a translation structure or free, and free
 * frames hold a canary pattern.
 *
 * Input: byte 0 flags (bit 0 ATS, bit 1 PRI, bit 2 CTRL.PRIV, bit 3 an
 * unbound PASID, bit 4 no CTRL.PASID, bits 5-6 completion address: none,
 * in the read/write window, in the read-only window, unmapped); u16 n and n
 * bytes copied into the window from its second page (list nodes, copy
 * sources); then batches: a byte (bits 0-5 commands - 1, bit 6 no END
 * appended, bit 7 context 1 without waiting: it runs while the next batch
 * of context 0 does), and per command a mode byte (bits 0/1: a/b are
 * window-relative, WIN + value mod WIN_SPAN; bit 2: c = value mod
 * 3 pages + 64) and the 32 command bytes (little endian). Context 0's
 * batches sit at WIN, context 1's at WIN + 16 pages.
 *
 * Invariants checked: no crash, no sanitizer report; every batch ends DONE
 * or ERROR (with a defined error code) within a hang guard; after each
 * input the free frames still hold the canary, the read-only pages their
 * contents and the translation structures theirs (Accessed/Dirty bits
 * aside): the device wrote nothing outside the process's writable pages. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dev/accel.h"
#include "lib/hw.h"
#include "lib/hw_regs.h"
#include "paging/pt.h"
#include "vtd/tables.h"

#include "fuzz_input.h"

#define ARENA_BASE 0x100000ULL
#define ARENA_SIZE (1ULL << 20)
#define NFRAMES    (ARENA_SIZE >> 12)
#define SID        0x0010
#define PASID      0x42
#define DID        3
#define WIN        0x40000000ULL
#define WIN_RW     32
#define WIN_RO     4
#define WIN_SPAN   ((WIN_RW + WIN_RO + 4) * PAGE_SIZE)
#define CTX1_BATCH (WIN + 16 * PAGE_SIZE)
#define HANG_S     20
#define CANARY     0xC5

enum kind { K_STRUCT, K_FREE, K_RW, K_RO };

static struct mem_arena *mem;
static struct vtd_unit *unit;
static struct accel *dev;
static uint8_t kind[NFRAMES];
static uint64_t rw_hpa[WIN_RW], ro_hpa[WIN_RO];
static uint8_t *snap;          /* the structure frames as built */

static uint8_t *frame(unsigned i) { return mem_ptr(mem, ARENA_BASE + ((uint64_t)i << 12), PAGE_SIZE); }
static unsigned frame_of(uint64_t hpa) { return (unsigned)((hpa - ARENA_BASE) >> 12); }

__attribute__((noreturn)) static void die(const char *what)
{
    fprintf(stderr, "fuzz_accel: %s\n", what);
    abort();
}

static void fz_msi(void *o, uint64_t a, uint32_t d) { (void)o, (void)a, (void)d; }

static void wr(uint64_t off, unsigned len, uint64_t v) { accel_mmio(dev, off, &v, len, true); }

static uint64_t rd(uint64_t off, unsigned len)
{
    uint64_t v = 0;
    accel_mmio(dev, off, &v, len, false);
    return v;
}

static uint64_t creg(unsigned ctx, unsigned reg)
{
    return ACCEL_CTX_BASE + (uint64_t)ACCEL_CTX_STRIDE * ctx + reg;
}

static void setup(void)
{
    struct vtd_config vc;
    struct vtd_tables t;
    struct pt mm;
    uint64_t dir, c[4] = { 0 }, p[8] = { 0 };
    if (!(mem = mem_arena_create(ARENA_BASE, ARENA_SIZE)))
        die("arena");
    vtd_config_default(&vc);
    vc.msi = fz_msi;
    if (!(unit = vtd_unit_create(&vc, mem)))
        die("unit");
    if (vtd_tables_init(&t, mem, true) || vtd_tables_pasid_dir(&t, 0, &dir))
        die("tables");
    HW_SET(SM_CTX, P, c, 1);
    HW_SET(SM_CTX, DTE, c, 1);
    HW_SET(SM_CTX, PASIDE, c, 1);
    HW_SET(SM_CTX, PASIDDIRPTR, c, dir >> 12);
    if (vtd_tables_set_ctx(&t, SID, c) || pt_init(&mm, phys_view_hpa(mem), 4))
        die("context");
    HW_SET(PASID_PTE, P, p, 1);
    HW_SET(PASID_PTE, PGTT, p, 1);
    HW_SET(PASID_PTE, DID, p, DID);
    HW_SET(PASID_PTE, AW, p, 2);
    HW_SET(PASID_PTE, SRE, p, 1);
    HW_SET(PASID_PTE, WPE, p, 1);
    HW_SET(PASID_PTE, PWSNP, p, 1);
    HW_SET(PASID_PTE, FLPTPTR, p, mm.root >> 12);
    if (vtd_tables_set_pasid(&t, dir, PASID, p, false))
        die("PASID entry");
    for (unsigned i = 0; i < WIN_RW + WIN_RO; i++) {
        uint64_t hpa = mem_frame_alloc(mem);
        if (hpa == HPA_INVALID ||
            pt_map(&mm, WIN + i * PAGE_SIZE, hpa, PT_4K, i < WIN_RW ? PTE_RW | PTE_US : PTE_US))
            die("window");
        if (i < WIN_RW)
            rw_hpa[i] = hpa;
        else
            ro_hpa[i - WIN_RW] = hpa;
    }
    if (vtd_program_root(unit, t.root, 1, true))
        die("root");
    /* What is still free is the canary; what is neither free nor the
     * process's is a translation structure. */
    memset(kind, K_STRUCT, sizeof(kind));
    for (uint64_t hpa; (hpa = mem_frame_alloc(mem)) != HPA_INVALID;)
        kind[frame_of(hpa)] = K_FREE;
    for (unsigned i = 0; i < WIN_RW; i++)
        kind[frame_of(rw_hpa[i])] = K_RW;
    for (unsigned i = 0; i < WIN_RO; i++)
        kind[frame_of(ro_hpa[i])] = K_RO;
    if (!(snap = malloc(ARENA_SIZE)))
        die("snapshot");
    for (unsigned i = 0; i < NFRAMES; i++) {
        if (kind[i] == K_FREE || kind[i] == K_RO)
            memset(frame(i), kind[i] == K_FREE ? CANARY : 0x3C, PAGE_SIZE);
        memcpy(snap + ((uint64_t)i << 12), frame(i), PAGE_SIZE);
    }
    struct accel_config ac = { .mem = mem, .iommu = unit, .sid = SID, .msi = fz_msi,
                               .atc_entries = 64 };
    if (!(dev = accel_create(&ac)))
        die("device");
    accel_set_bus_master(dev, true);
    accel_set_pasid(dev, true);
    wr(ACCEL_REG_INT_MASK, 4, 0);
}

/* Structures: identical but for A/D (bits 5, 6) of every qword, which the
 * unit's first-level walk sets. */
static void check_memory(void)
{
    for (unsigned i = 0; i < NFRAMES; i++) {
        const uint8_t *now = frame(i), *was = snap + ((uint64_t)i << 12);
        if (kind[i] == K_RW)
            continue;
        if (kind[i] != K_STRUCT) {
            if (memcmp(now, was, PAGE_SIZE)) {
                fprintf(stderr, "fuzz_accel: frame %#llx (%s) written\n",
                        (unsigned long long)(ARENA_BASE + ((uint64_t)i << 12)),
                        kind[i] == K_FREE ? "free" : "read-only");
                abort();
            }
            continue;
        }
        for (unsigned q = 0; q < PAGE_SIZE / 8; q++) {
            uint64_t a, b;
            memcpy(&a, now + 8 * q, 8);
            memcpy(&b, was + 8 * q, 8);
            if ((a ^ b) & ~(PTE_A | PTE_D)) {
                fprintf(stderr, "fuzz_accel: structure frame %#llx qword %u: %#llx -> %#llx\n",
                        (unsigned long long)(ARENA_BASE + ((uint64_t)i << 12)), q,
                        (unsigned long long)b, (unsigned long long)a);
                abort();
            }
        }
    }
}

/* Writes into the process's window as its CPU would. */
static void win_write(uint64_t va, const void *buf, size_t len)
{
    const uint8_t *b = buf;
    while (len) {
        uint64_t off = va - WIN, n = PAGE_SIZE - (off & (PAGE_SIZE - 1));
        unsigned pg = (unsigned)(off >> 12);
        n = n < len ? n : len;
        if (pg >= WIN_RW)
            die("window overrun");
        memcpy(frame(frame_of(rw_hpa[pg])) + (off & (PAGE_SIZE - 1)), b, n);
        va += n, b += n, len -= n;
    }
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static bool busy[2];
static bool verbose;   /* FUZZ_VERBOSE=1: each batch's end (seed checks) */

/* Every batch ends DONE or ERROR, never RUNNING/PAGE_WAIT for ever. */
static void wait_ctx(unsigned ctx)
{
    if (!busy[ctx])
        return;
    busy[ctx] = false;
    double end = now_s() + HANG_S;
    for (unsigned k = 0;; k++) {
        uint32_t st = (uint32_t)rd(creg(ctx, ACCEL_CTX_STATUS), 4), state = st & 0xFF;
        uint32_t err = (st >> 8) & 0xFF;
        if (state == ACCEL_ST_DONE || state == ACCEL_ST_ERROR) {
            if ((state == ACCEL_ST_DONE) != (err == ACCEL_ERR_NONE) || err > ACCEL_ERR_NOT_ENABLED)
                die("bad status at the end of a batch");
            if (verbose)
                fprintf(stderr, "ctx %u: %s err %u va %#llx cmds %llu\n", ctx,
                        state == ACCEL_ST_DONE ? "DONE" : "ERROR", err,
                        (unsigned long long)rd(creg(ctx, ACCEL_CTX_ERROR_VA), 8),
                        (unsigned long long)rd(creg(ctx, ACCEL_CTX_CMDS), 8));
            return;
        }
        if (state != ACCEL_ST_RUNNING && state != ACCEL_ST_PAGE_WAIT)
            die("batch neither running nor ended");
        if (k % 64 == 63 && now_s() > end)
            die("batch never ended (hang)");
        if (k > 16) {
            struct timespec ts = { 0, 20000 };
            nanosleep(&ts, NULL);
        }
    }
}

static uint64_t seq;

static void run_batch(struct rd *r, unsigned hdr)
{
    unsigned n = (hdr & 0x3F) + 1, ctx = hdr & 0x80 ? 1 : 0;
    struct accel_cmd cmds[65];
    for (unsigned i = 0; i < n; i++) {
        unsigned mode = (unsigned)take(r, 1);
        struct accel_cmd *c = &cmds[i];
        c->opcode = (uint32_t)take(r, 4);
        c->arg = (uint32_t)take(r, 4);
        c->a = take(r, 8), c->b = take(r, 8), c->c = take(r, 8);
        if (mode & 1)
            c->a = WIN + c->a % WIN_SPAN;
        if (mode & 2)
            c->b = WIN + c->b % WIN_SPAN;
        if (mode & 4)
            c->c %= 3 * PAGE_SIZE + 64;
    }
    if (!(hdr & 0x40))
        cmds[n++] = (struct accel_cmd){ .opcode = ACCEL_OP_END, .a = ++seq };
    uint64_t va = ctx ? CTX1_BATCH : WIN;
    if (ctx)
        wait_ctx(1);   /* one batch of context 1 in flight at a time */
    win_write(va, cmds, n * sizeof(cmds[0]));   /* little-endian host: the memory format */
    wr(creg(ctx, ACCEL_CTX_BATCH), 8, va);
    wr(creg(ctx, ACCEL_CTX_DOORBELL), 4, 1);
    busy[ctx] = true;
    if (!ctx)
        wait_ctx(0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rd r = { data, size };
    if (!dev) {
        setup();
        verbose = getenv("FUZZ_VERBOSE") != NULL;
    }
    unsigned flags = (unsigned)take(&r, 1);
    for (unsigned i = 0; i < WIN_RW; i++)
        memset(frame(frame_of(rw_hpa[i])), 0, PAGE_SIZE);
    size_t blob = (size_t)take(&r, 2);
    blob = blob < r.n ? blob : r.n;
    blob = blob < (WIN_RW - 1) * PAGE_SIZE ? blob : (WIN_RW - 1) * PAGE_SIZE;
    win_write(WIN + PAGE_SIZE, r.p, blob);
    r.p += blob, r.n -= blob;
    static const uint64_t compl[4] = { 0, WIN + (WIN_RW - 1) * PAGE_SIZE + 0xF00,
                                       WIN + WIN_RW * PAGE_SIZE, WIN + WIN_SPAN };
    accel_set_ats(dev, false);   /* empties the device TLB: every input starts cold */
    accel_set_ats(dev, flags & 1);
    accel_set_pri(dev, flags & 2, 32);
    accel_pri_status_clear(dev, ACCEL_PRI_ST_RF | ACCEL_PRI_ST_UPRGI);
    uint32_t ctrl = ACCEL_CTRL_ENABLE | (flags & 4 ? ACCEL_CTRL_PRIV : 0) |
                    (flags & 16 ? 0 : ACCEL_CTRL_PASID);
    for (unsigned c = 0; c < 2; c++) {
        wr(creg(c, ACCEL_CTX_CTRL), 4, ACCEL_CTRL_RESET);
        wr(creg(c, ACCEL_CTX_PASID), 4, flags & 8 ? PASID + 1 : PASID);
        wr(creg(c, ACCEL_CTX_COMPL_VA), 8, compl[(flags >> 5) & 3]);
        wr(creg(c, ACCEL_CTX_CTRL), 4, ctrl);
    }
    for (unsigned b = 0; r.n && b < 16; b++)
        run_batch(&r, (unsigned)take(&r, 1));
    wait_ctx(1);
    for (unsigned c = 0; c < 2; c++)
        wr(creg(c, ACCEL_CTX_CTRL), 4, ACCEL_CTRL_RESET);
    check_memory();
    return 0;
}
