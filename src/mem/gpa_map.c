/* Guest physical maps (ARCHITECTURE.md §3): GPA [0, size) -> HPA through a
 * per-4 KiB table, every page backed by its own arena frame (taken from the
 * scrambled frame allocator, so no constant GPA-HPA offset exists), checked
 * GPA accessors, a guest-page allocator and the phys_view adapters. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mem/mem.h"

struct gpa_map {
    struct mem_arena *a;
    uint64_t size, npages;
    uint64_t *frame;            /* HPA backing each GPA page; fixed at create */
    pthread_mutex_t lock;       /* guards used[], floor, hint */
    uint64_t *used;             /* guest-page allocator bitmap */
    uint64_t floor;             /* first allocatable pfn */
    uint64_t hint;              /* no free page below max(hint, floor) */
};

struct gpa_map *gpa_map_create(struct mem_arena *a, uint64_t size)
{
    if (!a || size == 0 || size > mem_arena_size(a))
        return NULL;
    size = (size + PAGE_SIZE - 1) & PAGE_MASK;
    uint64_t npages = size >> PAGE_SHIFT;
    if (npages > mem_frames_free(a))
        return NULL;
    struct gpa_map *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->a = a;
    g->size = size;
    pthread_mutex_init(&g->lock, NULL);
    g->frame = malloc(npages * sizeof(*g->frame));
    g->used = calloc((npages + 63) / 64, sizeof(*g->used));
    if (!g->frame || !g->used) {
        gpa_map_destroy(g);
        return NULL;
    }
    for (; g->npages < npages; g->npages++) {
        g->frame[g->npages] = mem_frame_alloc(a);
        if (g->frame[g->npages] == HPA_INVALID) {
            gpa_map_destroy(g);
            return NULL;
        }
    }
    return g;
}

void gpa_map_destroy(struct gpa_map *g)
{
    if (!g)
        return;
    for (uint64_t i = 0; i < g->npages; i++)
        mem_frame_free(g->a, g->frame[i]);
    pthread_mutex_destroy(&g->lock);
    free(g->frame);
    free(g->used);
    free(g);
}

uint64_t gpa_map_size(const struct gpa_map *g) { return g->size; }
struct mem_arena *gpa_map_arena(const struct gpa_map *g) { return g->a; }

/* [gpa, gpa + len) inside the map, overflow-safe; zero length is valid at
 * any gpa in [0, size]. */
static bool gpa_valid(const struct gpa_map *g, uint64_t gpa, uint64_t len)
{
    return gpa <= g->size && len <= g->size - gpa;
}

uint64_t gpa_to_hpa(const struct gpa_map *g, uint64_t gpa)
{
    if (!g || gpa >= g->size)
        return HPA_INVALID;
    return g->frame[gpa >> PAGE_SHIFT] + (gpa & (PAGE_SIZE - 1));
}

/* Host pointer of the bytes at gpa (inside the map) up to the page end. */
static uint8_t *gpa_host(const struct gpa_map *g, uint64_t gpa, size_t *chunk, size_t len)
{
    uint64_t room = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
    *chunk = len < room ? len : (size_t)room;
    return mem_ptr(g->a, gpa_to_hpa(g, gpa), *chunk);
}

int gpa_read(const struct gpa_map *g, uint64_t gpa, void *buf, size_t len)
{
    if (!gpa_valid(g, gpa, len))
        return -EFAULT;
    for (uint8_t *out = buf; len; ) {
        size_t n;
        const uint8_t *src = gpa_host(g, gpa, &n, len);
        mem_copy(out, src, n);
        out += n;
        gpa += n;
        len -= n;
    }
    return 0;
}

int gpa_write(struct gpa_map *g, uint64_t gpa, const void *buf, size_t len)
{
    if (!gpa_valid(g, gpa, len))
        return -EFAULT;
    for (const uint8_t *in = buf; len; ) {
        size_t n;
        uint8_t *dst = gpa_host(g, gpa, &n, len);
        mem_copy(dst, in, n);
        in += n;
        gpa += n;
        len -= n;
    }
    return 0;
}

/* Qword accessors: -EINVAL when misaligned, then -EFAULT when outside; an
 * aligned qword never crosses a page. */
static int gpa_check64(const struct gpa_map *g, uint64_t gpa)
{
    if (gpa & 7)
        return -EINVAL;
    return gpa_valid(g, gpa, 8) ? 0 : -EFAULT;
}

int gpa_read64(const struct gpa_map *g, uint64_t gpa, uint64_t *v)
{
    int rc = gpa_check64(g, gpa);
    return rc ? rc : mem_read64(g->a, gpa_to_hpa(g, gpa), v);
}

int gpa_write64(struct gpa_map *g, uint64_t gpa, uint64_t v)
{
    int rc = gpa_check64(g, gpa);
    return rc ? rc : mem_write64(g->a, gpa_to_hpa(g, gpa), v);
}

int gpa_or64(struct gpa_map *g, uint64_t gpa, uint64_t bits, uint64_t *old)
{
    int rc = gpa_check64(g, gpa);
    return rc ? rc : mem_or64(g->a, gpa_to_hpa(g, gpa), bits, old);
}

int gpa_cmpxchg64(struct gpa_map *g, uint64_t gpa, uint64_t expect, uint64_t desired, bool *ok)
{
    int rc = gpa_check64(g, gpa);
    return rc ? rc : mem_cmpxchg64(g->a, gpa_to_hpa(g, gpa), expect, desired, ok);
}

/* ---- guest-page allocator -------------------------------------------- */

static bool page_used(const struct gpa_map *g, uint64_t pfn)
{
    return g->used[pfn / 64] >> (pfn % 64) & 1;
}

/* Lowest free pfn >= from, or npages; caller holds the lock. */
static uint64_t find_free_page(const struct gpa_map *g, uint64_t from)
{
    for (uint64_t pfn = from; pfn < g->npages; ) {
        uint64_t w = g->used[pfn / 64] | ((1ULL << (pfn % 64)) - 1);
        if (w != ~0ULL) {
            pfn = (pfn & ~63ULL) + (uint64_t)__builtin_ctzll(~w);
            return pfn < g->npages ? pfn : g->npages;
        }
        pfn = (pfn & ~63ULL) + 64;
    }
    return g->npages;
}

uint64_t gpa_page_alloc(struct gpa_map *g)
{
    pthread_mutex_lock(&g->lock);
    uint64_t from = g->hint > g->floor ? g->hint : g->floor;
    uint64_t pfn = find_free_page(g, from);
    if (pfn == g->npages) {
        g->hint = pfn;
        pthread_mutex_unlock(&g->lock);
        return ~0ULL;
    }
    g->used[pfn / 64] |= 1ULL << (pfn % 64);
    g->hint = pfn + 1;
    pthread_mutex_unlock(&g->lock);
    memset(mem_ptr(g->a, g->frame[pfn], PAGE_SIZE), 0, PAGE_SIZE);
    return pfn << PAGE_SHIFT;
}

/* Frees of pages that are not allocated (or not page aligned) are ignored. */
void gpa_page_free(struct gpa_map *g, uint64_t gpa)
{
    if (!g || (gpa & (PAGE_SIZE - 1)) || gpa >= g->size)
        return;
    uint64_t pfn = gpa >> PAGE_SHIFT;
    pthread_mutex_lock(&g->lock);
    if (page_used(g, pfn)) {
        g->used[pfn / 64] &= ~(1ULL << (pfn % 64));
        if (pfn < g->hint)
            g->hint = pfn;
    }
    pthread_mutex_unlock(&g->lock);
}

void gpa_set_alloc_floor(struct gpa_map *g, uint64_t reserved_low)
{
    uint64_t pfn = reserved_low >= g->size ? g->npages
                 : (reserved_low + PAGE_SIZE - 1) >> PAGE_SHIFT;
    pthread_mutex_lock(&g->lock);
    g->floor = pfn;
    g->hint = 0;
    pthread_mutex_unlock(&g->lock);
}

/* ---- physical views -------------------------------------------------- */

static int hpa_read64(void *ctx, uint64_t pa, uint64_t *v) { return mem_read64(ctx, pa, v); }
static int hpa_write64(void *ctx, uint64_t pa, uint64_t v) { return mem_write64(ctx, pa, v); }
static uint64_t hpa_alloc_page(void *ctx) { return mem_frame_alloc(ctx); }
static void hpa_free_page(void *ctx, uint64_t pa) { mem_frame_free(ctx, pa); }

static int hpa_cmpxchg64(void *ctx, uint64_t pa, uint64_t expect, uint64_t desired, bool *ok)
{
    return mem_cmpxchg64(ctx, pa, expect, desired, ok);
}

struct phys_view phys_view_hpa(struct mem_arena *a)
{
    return (struct phys_view){
        .ctx = a, .read64 = hpa_read64, .write64 = hpa_write64,
        .cmpxchg64 = hpa_cmpxchg64, .alloc_page = hpa_alloc_page,
        .free_page = hpa_free_page,
    };
}

static int gview_read64(void *ctx, uint64_t pa, uint64_t *v) { return gpa_read64(ctx, pa, v); }
static int gview_write64(void *ctx, uint64_t pa, uint64_t v) { return gpa_write64(ctx, pa, v); }
static uint64_t gview_alloc_page(void *ctx) { return gpa_page_alloc(ctx); }
static void gview_free_page(void *ctx, uint64_t pa) { gpa_page_free(ctx, pa); }

static int gview_cmpxchg64(void *ctx, uint64_t pa, uint64_t expect, uint64_t desired, bool *ok)
{
    return gpa_cmpxchg64(ctx, pa, expect, desired, ok);
}

struct phys_view phys_view_gpa(struct gpa_map *g)
{
    return (struct phys_view){
        .ctx = g, .read64 = gview_read64, .write64 = gview_write64,
        .cmpxchg64 = gview_cmpxchg64, .alloc_page = gview_alloc_page,
        .free_page = gview_free_page,
    };
}
