/* `agree`: the CPU/IOMMU agreement test (issue 7 item 5). One ring-3
 * process and its accelerator share AGREE_PAGES pages of one mapping:
 *   1. first touch split: even pages are first written by the CPU (real
 *      #PF demand paging), odd pages first written by the device (FILL:
 *      ATS miss, page request, the kernel's handler, page response);
 *   2. the CPU reads every qword of the device-written pages; the device
 *      copies the CPU-written pages into a second mapping (its pages, too,
 *      first touched by the device) which the CPU checks qword by qword;
 *   3. the reverse: the CPU rewrites the odd pages and the device copies
 *      them; the device refills the even pages and the CPU reads them;
 *   4. AGREE_ROUNDS times, a window of the mapping is replaced (mmap
 *      MAP_FIXED: munmap and a fresh demand-zero area in one call), after
 *      the device has cached translations of every page of it. The frames
 *      freed go straight back (LIFO), in another order, to the pages the
 *      CPU then touches first: a stale translation in the device would
 *      read or write another page's frame, and shows as a wrong value. The
 *      device first reads the fresh window (must be zero), the CPU writes
 *      the even pages and the device the odd ones, and both cross-check as
 *      in 2. Every other round the window is first munmapped alone: a
 *      device store into it must fail with a page fault at that address.
 * Every page carries a pattern of (generation, page index, qword index),
 * so a value from the wrong page or the wrong generation cannot match. */
#include "wl.h"

#define AGREE_PAGES 2048
#define AGREE_ROUNDS 4
#define CHUNK 256               /* commands per batch */

static inline uint64_t pat(uint64_t gen, uint64_t page, uint64_t q)
{
    return gen << 56 | page << 20 | q << 8 | 0xA5;
}

/* FILL writes one 64-bit pattern over the page: q is 0 for those. */
static inline uint64_t fillpat(uint64_t gen, uint64_t page) { return pat(gen, page, 0) | 0x5A00; }

static struct accel_cmd cmds[CHUNK];
/* what each page of the mapping holds now: its generation, and whether
 * the device filled it (one pattern) or the CPU wrote it (per qword) */
static uint8_t gen_of[AGREE_PAGES], fill_of[AGREE_PAGES];
static unsigned ncmd;

static void flush_cmds(struct wl *w)
{
    unsigned err = 0;
    uint64_t fva = 0;
    if (ncmd && wl_run(w, cmds, ncmd, &err, &fva))
        wl_fail(w, "device batch failed: error, address", err, fva);
    ncmd = 0;
}

static void add(struct wl *w, unsigned op, uint64_t a, uint64_t b, uint64_t c)
{
    cmds[ncmd].opcode = op, cmds[ncmd].arg = 0, cmds[ncmd].a = a, cmds[ncmd].b = b;
    cmds[ncmd].c = c;
    if (++ncmd == CHUNK)
        flush_cmds(w);
}

static void cpu_write(uint64_t base, unsigned page, uint64_t gen)
{
    volatile uint64_t *p = (volatile uint64_t *)(base + (uint64_t)page * 4096);
    for (unsigned q = 0; q < 512; q++)
        p[q] = pat(gen, page, q);
}

/* The CPU checks a page against a CPU pattern (fill = 0) or a fill. */
static void cpu_check(struct wl *w, uint64_t base, unsigned page, uint64_t gen, int fill,
                      const char *what)
{
    const volatile uint64_t *p = (const volatile uint64_t *)(base + (uint64_t)page * 4096);
    for (unsigned q = 0; q < 512; q++) {
        uint64_t want = fill < 0 ? 0 : fill ? fillpat(gen, page) : pat(gen, page, q);
        if (p[q] != want) {
            wl_fail(w, what, page, p[q]);
            return;
        }
    }
    w->ops++;
}

void prog_agree(void);
void prog_agree(void)
{
    static struct wl w;
    if (wl_begin(&w, "agree"))
        wl_finish(&w);
    const unsigned N = AGREE_PAGES;
    const uint64_t len = (uint64_t)N * 4096;
    uint64_t a = (uint64_t)u_mmap(len, KVM_PROT_READ | KVM_PROT_WRITE);
    uint64_t d = (uint64_t)u_mmap(len, KVM_PROT_READ | KVM_PROT_WRITE);
    uint64_t t0 = u_rdtsc(), cpu0 = u_stat(KVM_STAT_CPU_FAULTS);
    unsigned remapped = 0, refused = 0;

    /* 1. first touch: even pages by the CPU, odd pages by the device */
    for (unsigned i = 0; i < N; i += 2)
        cpu_write(a, i, 1);
    for (unsigned i = 1; i < N; i += 2)
        add(&w, ACCEL_OP_FILL, a + i * 4096ULL, fillpat(1, i), 4096);
    flush_cmds(&w);
    uint64_t cpu_first = u_stat(KVM_STAT_CPU_FAULTS) - cpu0;
    uint64_t dev_first = u_stat(KVM_STAT_DEV_FAULTS);
    /* 2. cross reads */
    for (unsigned i = 1; i < N; i += 2)
        cpu_check(&w, a, i, 1, 1, "CPU read of a device-written page: page, value");
    for (unsigned i = 0; i < N; i += 2)
        add(&w, ACCEL_OP_COPY, a + i * 4096ULL, d + i * 4096ULL, 4096);
    flush_cmds(&w);
    for (unsigned i = 0; i < N; i += 2)
        cpu_check(&w, d, i, 1, 0, "device read of a CPU-written page: page, value");
    /* 3. the reverse */
    for (unsigned i = 1; i < N; i += 2)
        cpu_write(a, i, 2);
    for (unsigned i = 1; i < N; i += 2)
        add(&w, ACCEL_OP_COPY, a + i * 4096ULL, d + i * 4096ULL, 4096);
    for (unsigned i = 0; i < N; i += 2)
        add(&w, ACCEL_OP_FILL, a + i * 4096ULL, fillpat(2, i), 4096);
    flush_cmds(&w);
    for (unsigned i = 1; i < N; i += 2)
        cpu_check(&w, d, i, 2, 0, "device read of a CPU-rewritten page: page, value");
    for (unsigned i = 0; i < N; i += 2)
        cpu_check(&w, a, i, 2, 1, "CPU read of a device-rewritten page: page, value");

    for (unsigned i = 0; i < N; i++)
        gen_of[i] = 2, fill_of[i] = !(i % 2);
    /* 4. munmap / remap rounds; gen 3 + r */
    for (unsigned r = 0; r < AGREE_ROUNDS && w.errors < 4; r++) {
        uint64_t gen = 3 + r;
        unsigned first = (N / 8) * (r % 4), n = N / 2;   /* a window of half the pages */
        uint64_t win = a + first * 4096ULL;
        /* the device caches a translation of every page of the window */
        for (unsigned i = first; i < first + n; i++)
            add(&w, ACCEL_OP_COPY, a + i * 4096ULL, d + i * 4096ULL, 64);
        flush_cmds(&w);
        if (r % 2) {            /* munmap alone: the device must fault, not write */
            if (u_munmap((void *)win, n * 4096ULL))
                wl_fail(&w, "munmap failed: round, address", r, win);
            unsigned err = 0;
            uint64_t fva = 0;
            struct accel_cmd st = { .opcode = ACCEL_OP_STORE_DWORD, .arg = 0xBAD,
                                    .a = win + 4096ULL * 3 + 16 };
            long rc = wl_run(&w, &st, 1, &err, &fva);
            if (rc != -KVM_EIO || err != ACCEL_ERR_PAGE_FAULT || fva != st.a)
                wl_fail(&w, "store after munmap did not fault: error, address", err, fva);
            else
                refused++, w.faults++, w.ops++;
        }
        if ((uint64_t)u_mmap_fixed((void *)win, n * 4096ULL, KVM_PROT_READ | KVM_PROT_WRITE) != win) {
            wl_fail(&w, "remap failed: round, address", r, win);
            break;
        }
        remapped += n;
        /* the fresh window reads zero from the device (COPY into d) */
        for (unsigned i = first; i < first + n; i += 2)
            add(&w, ACCEL_OP_COPY, a + i * 4096ULL, d + i * 4096ULL, 4096);
        flush_cmds(&w);
        for (unsigned i = first; i < first + n; i += 2)
            cpu_check(&w, d, i, 0, -1, "device read of a remapped page not zero: page, value");
        /* odd pages first touched by the CPU now (they take the freed frames), even
         * pages were touched by the device's read: the CPU writes them too */
        for (unsigned i = first; i < first + n; i++)
            if (i % 2)
                cpu_write(a, i, gen);
        for (unsigned i = first; i < first + n; i += 2)
            add(&w, ACCEL_OP_FILL, a + i * 4096ULL, fillpat(gen, i), 4096);
        for (unsigned i = first + 1; i < first + n; i += 2)
            add(&w, ACCEL_OP_COPY, a + i * 4096ULL, d + i * 4096ULL, 4096);
        flush_cmds(&w);
        for (unsigned i = first; i < first + n; i += 2)
            cpu_check(&w, a, i, gen, 1, "CPU read after remap: page, value");
        for (unsigned i = first + 1; i < first + n; i += 2)
            cpu_check(&w, d, i, gen, 0, "device read after remap: page, value");
        for (unsigned i = first; i < first + n; i++)
            gen_of[i] = (uint8_t)gen, fill_of[i] = !(i % 2);
        /* the pages outside the window hold what they held */
        for (unsigned i = 0; i < N; i++)
            if (i < first || i >= first + n)
                cpu_check(&w, a, i, gen_of[i], fill_of[i],
                          "page outside the window changed: page, value");
    }
    uint64_t cycles = u_rdtsc() - t0;
    if (w.passed) {
        w.detail.len = 0;
        ul_u(&w.detail, N);
        ul_s(&w.detail, " pages: ");
        ul_u(&w.detail, cpu_first);
        ul_s(&w.detail, " first touched by the CPU, ");
        ul_u(&w.detail, dev_first);
        ul_s(&w.detail, " by the device; ");
        ul_u(&w.detail, remapped);
        ul_s(&w.detail, " pages remapped in ");
        ul_u(&w.detail, AGREE_ROUNDS);
        ul_s(&w.detail, " rounds, ");
        ul_u(&w.detail, refused);
        ul_s(&w.detail, " stores after munmap faulted; ");
        ul_u(&w.detail, cycles / 1000000);
        ul_s(&w.detail, " Mcycles");
    }
    wl_finish(&w);
}

/* `svmbench`: ring-3 device throughput (store-dword batches of 8 and of
 * 64 commands, submit + completion) for `vsvm bench kvm`. */
void prog_svmbench(void);
void prog_svmbench(void)
{
    static struct wl w;
    static struct accel_cmd c[64];
    if (wl_begin(&w, "svmbench"))
        wl_finish(&w);
    volatile uint32_t *buf = u_mmap(64 * 4096, KVM_PROT_READ | KVM_PROT_WRITE);
    for (unsigned i = 0; i < 64; i++)
        buf[i * 1024] = 0;
    static const unsigned sizes[2] = { 8, 64 };
    struct u_line l;
    l.len = 0;
    ul_s(&l, "svmbench:");
    for (unsigned s = 0; s < 2; s++) {
        unsigned per = sizes[s], batches = s ? 200 : 1000;
        uint64_t t0 = u_rdtsc();
        for (unsigned b = 0; b < batches; b++) {
            for (unsigned j = 0; j < per; j++) {
                c[j].opcode = ACCEL_OP_STORE_DWORD, c[j].arg = b * per + j;
                c[j].a = (uint64_t)&buf[j * 1024 + b % 1024], c[j].b = c[j].c = 0;
            }
            unsigned err;
            uint64_t fva;
            if (wl_run(&w, c, per, &err, &fva))
                wl_fail(&w, "batch failed: error, address", err, fva);
            else
                w.ops += per;
        }
        ul_s(&l, " batch");
        ul_u(&l, per);
        ul_s(&l, "_cycles ");
        ul_u(&l, (u_rdtsc() - t0) / batches);
    }
    ul_end(&l);
    wl_finish(&w);
}
