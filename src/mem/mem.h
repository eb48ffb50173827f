/* Host physical memory (HPA) of the modelled platform, guest physical maps
 * (GPA -> HPA through scattered frames) and the checked accessors through
 * which every model access goes (ARCHITECTURE.md §3).
 *
 * Every accessor returns 0 on success or -EFAULT when any byte of the access
 * lies outside the arena (or outside the guest's map); on error nothing is
 * read or written. Addresses are byte addresses; 8-byte accessors require
 * natural alignment (-EINVAL otherwise, checked first, nothing touched). A
 * zero-length access is valid at any address from the start to the end
 * (inclusive) of the arena or map. */
#ifndef VSVM_MEM_MEM_H
#define VSVM_MEM_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE  4096ULL
#define PAGE_MASK  (~(PAGE_SIZE - 1))
#define HPA_INVALID (~0ULL)

/* ---- host physical arena -------------------------------------------- */
struct mem_arena;

/* Creates an arena of `size` bytes (rounded up to 4 KiB) starting at host
 * physical address `base` (4 KiB aligned; HPA 0 can be excluded by using a
 * non-zero base). Frames are handed out by the allocator in a scrambled
 * order so consecutive allocations are not physically contiguous. */
struct mem_arena *mem_arena_create(uint64_t base, uint64_t size);
void mem_arena_destroy(struct mem_arena *a);
uint64_t mem_arena_base(const struct mem_arena *a);
uint64_t mem_arena_size(const struct mem_arena *a);

/* Frame allocator: one zeroed 4 KiB frame, or HPA_INVALID when exhausted.
 * Thread-safe. Freeing an address that is not an allocated frame is ignored;
 * frames from mem_frames_alloc_contig are freed one by one. */
uint64_t mem_frame_alloc(struct mem_arena *a);
void mem_frame_free(struct mem_arena *a, uint64_t hpa);
uint64_t mem_frames_free(const struct mem_arena *a);
/* `n` physically contiguous frames aligned to `align` bytes (power of two,
 * >= 4 KiB), zeroed; HPA_INVALID when not available. For large pages. */
uint64_t mem_frames_alloc_contig(struct mem_arena *a, uint64_t n, uint64_t align);

/* Checked accessors on HPA. */
bool mem_valid(const struct mem_arena *a, uint64_t hpa, uint64_t len);
int mem_read(const struct mem_arena *a, uint64_t hpa, void *buf, size_t len);
int mem_write(struct mem_arena *a, uint64_t hpa, const void *buf, size_t len);
int mem_read64(const struct mem_arena *a, uint64_t hpa, uint64_t *v);
int mem_write64(struct mem_arena *a, uint64_t hpa, uint64_t v);
int mem_read32(const struct mem_arena *a, uint64_t hpa, uint32_t *v);
int mem_write32(struct mem_arena *a, uint64_t hpa, uint32_t v);
/* Atomic OR into a naturally aligned qword; *old receives the prior value.
 * Used for hardware A/D-bit updates racing with CPU threads. */
int mem_or64(struct mem_arena *a, uint64_t hpa, uint64_t bits, uint64_t *old);
/* Atomic compare-and-exchange; returns 0 and sets *ok. */
int mem_cmpxchg64(struct mem_arena *a, uint64_t hpa, uint64_t expect, uint64_t desired, bool *ok);
/* Direct pointer for bulk model-internal use (device copy engines, tests);
 * NULL if the range is not wholly inside the arena. */
void *mem_ptr(struct mem_arena *a, uint64_t hpa, uint64_t len);
/* Copies len bytes between host pointers of which either or both may be
 * modelled memory (mem_ptr), with memmove semantics, the way a memory
 * system does it: when both sides have the same alignment modulo 8, every
 * naturally aligned qword is read and written in one atomic access (loads
 * acquire, stores release: x86's ordering), the other bytes one by one. CPU threads, devices and the units'
 * A/D updates touch modelled memory concurrently, as agents on a real bus
 * do; they never see a torn qword and never make a C data race. Every
 * accessor of this header copies with it; device engines use it directly.
 * Copies longer than 64 bytes are a plain memmove except under
 * ThreadSanitizer (speed; x86-64 moves aligned qwords whole either way). */
void mem_copy(void *dst, const void *src, size_t len);

/* ---- guest physical maps -------------------------------------------- */
struct gpa_map;

/* A guest physical space of `size` bytes at GPA 0, each 4 KiB page backed by
 * a separate frame of `a` (scattered, never a constant offset). NULL when
 * the arena cannot back it. */
struct gpa_map *gpa_map_create(struct mem_arena *a, uint64_t size);
void gpa_map_destroy(struct gpa_map *g);   /* frees its frames */
uint64_t gpa_map_size(const struct gpa_map *g);
struct mem_arena *gpa_map_arena(const struct gpa_map *g);
/* GPA -> HPA, or HPA_INVALID when outside the map. */
uint64_t gpa_to_hpa(const struct gpa_map *g, uint64_t gpa);
/* Checked accessors on GPA: a range crossing pages is split per page; any
 * byte outside the map fails the whole access before anything is touched. */
int gpa_read(const struct gpa_map *g, uint64_t gpa, void *buf, size_t len);
int gpa_write(struct gpa_map *g, uint64_t gpa, const void *buf, size_t len);
int gpa_read64(const struct gpa_map *g, uint64_t gpa, uint64_t *v);
int gpa_write64(struct gpa_map *g, uint64_t gpa, uint64_t v);
int gpa_or64(struct gpa_map *g, uint64_t gpa, uint64_t bits, uint64_t *old);
int gpa_cmpxchg64(struct gpa_map *g, uint64_t gpa, uint64_t expect, uint64_t desired, bool *ok);
/* ---- physical views ---------------------------------------------------
 * A uniform "physical memory" interface over either HPA (host) or a GPA map
 * (guest), used by the page-table builder/walker and by any code that must
 * work in both spaces. */
struct phys_view {
    void *ctx;
    int (*read64)(void *ctx, uint64_t pa, uint64_t *v);
    int (*write64)(void *ctx, uint64_t pa, uint64_t v);
    int (*cmpxchg64)(void *ctx, uint64_t pa, uint64_t expect, uint64_t desired, bool *ok);
    /* Allocates one zeroed 4 KiB page in this space; ~0ULL when exhausted. */
    uint64_t (*alloc_page)(void *ctx);
    void (*free_page)(void *ctx, uint64_t pa);
};

struct phys_view phys_view_hpa(struct mem_arena *a);
/* GPA view: page allocation takes guest pages from gpa_page_alloc (below). */
struct phys_view phys_view_gpa(struct gpa_map *g);

/* Guest-page allocator on a GPA map (page granular, over the map's GPA
 * range above `reserved_low` bytes; 0 until gpa_set_alloc_floor). Allocates
 * a zeroed guest page from the map's free GPA pages, lowest first (a simple
 * allocator the guest kernel may replace); returns its GPA, or ~0ULL when
 * none is left. Thread-safe. Freeing a page that is not allocated is
 * ignored. */
uint64_t gpa_page_alloc(struct gpa_map *g);
void gpa_page_free(struct gpa_map *g, uint64_t gpa);
void gpa_set_alloc_floor(struct gpa_map *g, uint64_t reserved_low);

#endif
