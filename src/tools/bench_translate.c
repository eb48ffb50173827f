/* `vsvm bench translate`: ns per translation on IOTLB hit and miss for
 * first-level, second-level, nested and pass-through PASID entries, with
 * 4 KiB and 2 MiB pages. Misses: a sweep over 65536 pages, eight times the
 * IOTLB, so nearly every lookup misses (the measured hit ratio is
 * reported); context and PASID caches stay warm as in steady-state DMA.
 * Hits: a sweep over 64 pages. Each figure is the best of 5 runs. */
#include <string.h>

#include "lib/hw.h"
#include "paging/pt.h"
#include "tools/bench.h"
#include "vtd/tables.h"

#define NPAGES   65536u
#define HOTPAGES 64u
#define SID      0x0300
#define PASID    7
#define VA_BASE  0x10000000000ULL   /* 1 TiB: 2 MiB x 65536 fits below 2^47 */

enum bmode { B_FL, B_SL, B_NESTED, B_PT };
static const char *const mode_name[] = { "first-level", "second-level", "nested", "pass-through" };

struct bx {
    struct mem_arena *mem;
    struct vtd_unit *u;
    struct vtd_tables t;
    struct gpa_map *g;
    uint64_t dir;
};

static int map_fl(struct bx *b, struct pt *pt, unsigned shift, uint64_t target, bool guest)
{
    if (pt_init(pt, guest ? phys_view_gpa(b->g) : phys_view_hpa(b->mem), 4))
        return -1;
    for (uint64_t i = 0; i < NPAGES; i++)
        if (pt_map(pt, VA_BASE + (i << shift), target, (enum pt_page_size)shift,
                   PTE_RW | PTE_US))
            return -1;
    return 0;
}

static int map_sl(struct bx *b, uint64_t *root, unsigned shift, uint64_t target)
{
    for (uint64_t i = 0; i < NPAGES; i++)
        if (vtd_sl_map(b->mem, root, 4, VA_BASE + (i << shift), target, shift,
                       HW_FM(SL_PTE, R) | HW_FM(SL_PTE, W)))
            return -1;
    return 0;
}

static int build_pasid_entry(struct bx *b, enum bmode m, unsigned shift, uint64_t *pte)
{
    struct pt pt;
    uint64_t target = shift == 12 ? mem_frame_alloc(b->mem)
                                  : mem_frames_alloc_contig(b->mem, 512, 2 << 20);
    uint64_t sl = 0;
    memset(pte, 0, 64);
    HW_SET(PASID_PTE, P, pte, 1);
    HW_SET(PASID_PTE, PGTT, pte, m == B_FL ? 1 : m == B_SL ? 2 : m == B_NESTED ? 3 : 4);
    HW_SET(PASID_PTE, DID, pte, m == B_FL || m == B_PT ? 1 : 2);
    HW_SET(PASID_PTE, AW, pte, 2);
    HW_SET(PASID_PTE, PWSNP, pte, 1);   /* snooped walks: A/D updates allowed (§3.5) */
    if (m == B_FL && map_fl(b, &pt, shift, target, false))
        return -1;
    if (m == B_SL && map_sl(b, &sl, shift, target))
        return -1;
    if (m == B_NESTED) {
        if (!(b->g = gpa_map_create(b->mem, 64 << 20)) ||
            vtd_sl_map_gpa_space(b->mem, &sl, 4, b->g, HW_FM(SL_PTE, R) | HW_FM(SL_PTE, W)) ||
            map_fl(b, &pt, shift, 0x1000000, true))
            return -1;
    }
    if (m == B_FL || m == B_NESTED)
        HW_SET(PASID_PTE, FLPTPTR, pte, pt.root >> 12);
    HW_SET(PASID_PTE, SLPTPTR, pte, sl >> 12);
    return 0;
}

static int setup(struct bx *b, enum bmode m, unsigned shift)
{
    struct vtd_config c;
    uint64_t ctx[4] = { 0 }, pte[8];
    vtd_config_default(&c);
    memset(b, 0, sizeof(*b));
    if (!(b->mem = mem_arena_create(0x100000000ULL, 1ULL << 30)) ||
        !(b->u = vtd_unit_create(&c, b->mem)) || vtd_tables_init(&b->t, b->mem, true) ||
        vtd_tables_pasid_dir(&b->t, 0, &b->dir) || build_pasid_entry(b, m, shift, pte) ||
        vtd_tables_set_pasid(&b->t, b->dir, PASID, pte, false))
        return -1;
    HW_SET(SM_CTX, P, ctx, 1);
    HW_SET(SM_CTX, PASIDE, ctx, 1);
    HW_SET(SM_CTX, PASIDDIRPTR, ctx, b->dir >> 12);
    if (vtd_tables_set_ctx(&b->t, SID, ctx))
        return -1;
    return vtd_program_root(b->u, b->t.root, 1, true);
}

static void teardown(struct bx *b)
{
    vtd_unit_destroy(b->u);
    if (b->g)
        gpa_map_destroy(b->g);
    mem_arena_destroy(b->mem);
}

/* Best-of-5 ns per translation over `n` requests cycling through `pages`. */
static double run(struct bx *b, unsigned shift, unsigned pages, unsigned n, double *hit_ratio)
{
    struct vtd_req req = { .sid = SID, .pasid_present = true, .pasid = PASID };
    double best = 1e30;
    struct vtd_stats s0, s1;
    for (int rep = 0; rep < 5; rep++) {
        vtd_unit_stats(b->u, &s0);
        uint64_t t0 = bench_now_ns();
        for (unsigned i = 0; i < n; i++) {
            struct vtd_result r;
            req.addr = VA_BASE + ((uint64_t)(i % pages) << shift) + 0x18;
            vtd_translate(b->u, &req, &r);
            if (r.fault)
                return -1;
        }
        double ns = (double)(bench_now_ns() - t0) / n;
        best = ns < best ? ns : best;
        vtd_unit_stats(b->u, &s1);
        *hit_ratio = (double)(s1.iotlb_hits - s0.iotlb_hits) / n;
    }
    return best;
}

int bench_translate(FILE *out, bool json)
{
    static const unsigned shifts[] = { 12, 21 };
    if (json)
        fprintf(out, "{\"name\": \"translate\", \"unit\": \"ns_per_translation\", "
                     "\"targets\": {\"iotlb_hit_ns\": 25, \"nested_miss_ns\": 1000}, \"results\": [");
    else
        fprintf(out, "%-14s %-5s %10s %10s %10s\n", "mode", "page", "hit ns", "miss ns", "miss hit%");
    int first = 1;
    for (unsigned m = B_FL; m <= B_PT; m++)
        for (unsigned s = 0; s < 2; s++) {
            struct bx b;
            double hr_hit, hr_miss;
            if (setup(&b, m, shifts[s])) {
                fprintf(stderr, "bench translate: setup failed for %s\n", mode_name[m]);
                return 1;
            }
            double hit = run(&b, shifts[s], HOTPAGES, 1 << 20, &hr_hit);
            double miss = run(&b, shifts[s], NPAGES, NPAGES * 4, &hr_miss);
            teardown(&b);
            if (hit < 0 || miss < 0) {
                fprintf(stderr, "bench translate: unexpected fault in %s\n", mode_name[m]);
                return 1;
            }
            const char *pg = s ? "2M" : "4K";
            if (json)
                fprintf(out, "%s{\"mode\": \"%s\", \"page\": \"%s\", \"hit_ns\": %.1f, "
                             "\"miss_ns\": %.1f, \"miss_run_hit_ratio\": %.4f}",
                        first ? "" : ", ", mode_name[m], pg, hit, miss, hr_miss);
            else
                fprintf(out, "%-14s %-5s %10.1f %10.1f %9.2f%%\n", mode_name[m], pg, hit, miss,
                        100 * hr_miss);
            first = 0;
        }
    if (json)
        fprintf(out, "]}");
    return 0;
}
