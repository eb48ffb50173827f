/* Host physical arena (ARCHITECTURE.md §3): one mmap'd region standing for
 * the platform's RAM at HPA [base, base + size), a frame allocator that hands
 * frames out in a deterministic scrambled order, and the checked accessors.
 *
 * Allocator: the free frames form an indexed set (stack[] holds the free
 * frame numbers, pos[] each frame's slot or FRAME_USED), so single-frame
 * allocation and free are O(1) and a contiguous allocation can take frames
 * out of the middle. The initial stack order is a hierarchical shuffle:
 * random 512 GiB / 1 GiB / 2 MiB blocks in turn, random frames inside each
 * 2 MiB block. Consecutive allocations are therefore scattered, while 4 KiB
 * allocations stay clustered enough that aligned 2 MiB / 1 GiB runs remain
 * available for large pages. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mem/mem.h"

#define FRAME_USED   UINT32_MAX
#define MAX_FRAMES   ((uint64_t)UINT32_MAX - 1)
#define HPA_LIMIT    (1ULL << 52)      /* MAXPHYADDR: PTE address bits 51:12 */
#define SCRAMBLE_SEED 0x5653564d2d6d656dULL
#define MAX_CHUNKS   1024

struct mem_arena {
    uint8_t *host;
    uint64_t base, size, nframes;
    uint64_t nfree;             /* written under lock, read atomically */
    uint32_t *stack;            /* free frames; next to hand out at [nfree-1] */
    uint32_t *pos;              /* slot in stack[], or FRAME_USED */
    uint64_t *dirty;            /* bitmap: frame handed out since mmap */
    size_t host_page;
    pthread_mutex_t lock;
};

/* ---- deterministic scramble ------------------------------------------ */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void shuffle_u32(uint32_t *v, uint64_t n, uint64_t *rng)
{
    for (uint64_t i = n; i > 1; i--) {
        uint64_t j = splitmix64(rng) % i;
        uint32_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

/* First frame index of HPA chunk k (chunk = 2^shift bytes of HPA), clamped
 * to [lo, hi]. */
static uint64_t chunk_start(const struct mem_arena *a, uint64_t k, unsigned shift,
                            uint64_t lo, uint64_t hi)
{
    uint64_t hpa = k << shift;
    if (hpa <= a->base + (lo << PAGE_SHIFT))
        return lo;
    uint64_t f = (hpa - a->base) >> PAGE_SHIFT;
    return f > hi ? hi : f;
}

/* Appends frames [lo, hi) to out[*k...] in scrambled order: the HPA chunks
 * of 2^shift bytes in random order, each one recursively. */
static void scramble(const struct mem_arena *a, uint32_t *out, uint64_t *k,
                     uint64_t lo, uint64_t hi, unsigned shift, uint64_t *rng)
{
    if (shift <= PAGE_SHIFT) {          /* [lo, hi) inside one 2 MiB block */
        uint64_t start = *k;
        for (uint64_t f = lo; f < hi; f++)
            out[(*k)++] = (uint32_t)f;
        shuffle_u32(out + start, hi - lo, rng);
        return;
    }
    uint64_t c0 = (a->base + (lo << PAGE_SHIFT)) >> shift;
    uint64_t c1 = (a->base + ((hi - 1) << PAGE_SHIFT)) >> shift;
    uint64_t nc = c1 - c0 + 1;
    uint32_t order[MAX_CHUNKS];
    if (nc > MAX_CHUNKS) {              /* cannot happen below MAX_FRAMES */
        scramble(a, out, k, lo, hi, PAGE_SHIFT, rng);
        return;
    }
    for (uint64_t i = 0; i < nc; i++)
        order[i] = (uint32_t)i;
    shuffle_u32(order, nc, rng);
    for (uint64_t i = 0; i < nc; i++) {
        uint64_t c = c0 + order[i];
        uint64_t s = chunk_start(a, c, shift, lo, hi);
        uint64_t e = c == c1 ? hi : chunk_start(a, c + 1, shift, lo, hi);
        if (s < e)
            scramble(a, out, k, s, e, shift - 9, rng);
    }
}

static int build_free_set(struct mem_arena *a)
{
    uint32_t *order = malloc(a->nframes * sizeof(*order));
    if (!order)
        return -ENOMEM;
    uint64_t k = 0, rng = SCRAMBLE_SEED;
    scramble(a, order, &k, 0, a->nframes, PAGE_SHIFT + 27, &rng);
    for (uint64_t i = 0; i < a->nframes; i++) {
        uint64_t slot = a->nframes - 1 - i;   /* order[0] is popped first */
        a->stack[slot] = order[i];
        a->pos[order[i]] = (uint32_t)slot;
    }
    free(order);
    a->nfree = a->nframes;
    return 0;
}

/* ---- arena ----------------------------------------------------------- */

static void arena_free_meta(struct mem_arena *a)
{
    free(a->stack);
    free(a->pos);
    free(a->dirty);
    free(a);
}

struct mem_arena *mem_arena_create(uint64_t base, uint64_t size)
{
    if (base & (PAGE_SIZE - 1) || size == 0 || size > HPA_LIMIT)
        return NULL;
    size = (size + PAGE_SIZE - 1) & PAGE_MASK;
    if (base >= HPA_LIMIT || size > HPA_LIMIT - base || (size >> PAGE_SHIFT) > MAX_FRAMES)
        return NULL;
    struct mem_arena *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->base = base;
    a->size = size;
    a->nframes = size >> PAGE_SHIFT;
    a->stack = malloc(a->nframes * sizeof(*a->stack));
    a->pos = malloc(a->nframes * sizeof(*a->pos));
    a->dirty = calloc((a->nframes + 63) / 64, sizeof(*a->dirty));
    if (!a->stack || !a->pos || !a->dirty || build_free_set(a)) {
        arena_free_meta(a);
        return NULL;
    }
    long hp = sysconf(_SC_PAGESIZE);
    a->host_page = hp > 0 ? (size_t)hp : PAGE_SIZE;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        arena_free_meta(a);
        return NULL;
    }
    a->host = p;
    pthread_mutex_init(&a->lock, NULL);
    return a;
}

void mem_arena_destroy(struct mem_arena *a)
{
    if (!a)
        return;
    munmap(a->host, a->size);
    pthread_mutex_destroy(&a->lock);
    arena_free_meta(a);
}

uint64_t mem_arena_base(const struct mem_arena *a) { return a->base; }
uint64_t mem_arena_size(const struct mem_arena *a) { return a->size; }

/* ---- frame allocator ------------------------------------------------- */

static bool frame_dirty(const struct mem_arena *a, uint64_t f)
{
    return a->dirty[f / 64] >> (f % 64) & 1;
}

/* Takes frame f out of the free set (caller holds the lock). */
static void take_frame(struct mem_arena *a, uint64_t f)
{
    uint32_t slot = a->pos[f];
    uint32_t last = a->stack[a->nfree - 1];
    a->stack[slot] = last;
    a->pos[last] = slot;
    a->pos[f] = FRAME_USED;
    __atomic_store_n(&a->nfree, a->nfree - 1, __ATOMIC_RELAXED);
}

/* Zeroes frames [f, f + n) that may hold data (a never-used frame is still
 * the mmap's zero fill). Large runs are dropped with MADV_DONTNEED, which
 * refills a private anonymous mapping with zeroes without committing it.
 * Caller holds the lock (for the dirty bitmap). */
static void zero_frames(struct mem_arena *a, uint64_t f, uint64_t n)
{
    uint64_t off = f << PAGE_SHIFT, len = n << PAGE_SHIFT;
    if (n >= 16 && off % a->host_page == 0 && len % a->host_page == 0 &&
        madvise(a->host + off, len, MADV_DONTNEED) == 0) {
        for (uint64_t i = f; i < f + n; i++)
            a->dirty[i / 64] |= 1ULL << (i % 64);
        return;
    }
    for (uint64_t i = f; i < f + n; i++) {
        if (frame_dirty(a, i))
            memset(a->host + (i << PAGE_SHIFT), 0, PAGE_SIZE);
        a->dirty[i / 64] |= 1ULL << (i % 64);
    }
}

uint64_t mem_frame_alloc(struct mem_arena *a)
{
    pthread_mutex_lock(&a->lock);
    if (a->nfree == 0) {
        pthread_mutex_unlock(&a->lock);
        return HPA_INVALID;
    }
    uint64_t f = a->stack[a->nfree - 1];
    take_frame(a, f);
    zero_frames(a, f, 1);
    pthread_mutex_unlock(&a->lock);
    return a->base + (f << PAGE_SHIFT);
}

/* Frees of addresses that are not allocated frames are ignored. */
void mem_frame_free(struct mem_arena *a, uint64_t hpa)
{
    if (!a || (hpa & (PAGE_SIZE - 1)) || !mem_valid(a, hpa, PAGE_SIZE))
        return;
    uint64_t f = (hpa - a->base) >> PAGE_SHIFT;
    pthread_mutex_lock(&a->lock);
    if (a->pos[f] == FRAME_USED) {
        a->stack[a->nfree] = (uint32_t)f;
        a->pos[f] = (uint32_t)a->nfree;
        __atomic_store_n(&a->nfree, a->nfree + 1, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&a->lock);
}

uint64_t mem_frames_free(const struct mem_arena *a)
{
    return __atomic_load_n(&a->nfree, __ATOMIC_RELAXED);
}

/* First index >= f of a used frame in [f, f + n), or f + n. */
static uint64_t first_used(const struct mem_arena *a, uint64_t f, uint64_t n)
{
    for (uint64_t i = f; i < f + n; i++)
        if (a->pos[i] == FRAME_USED)
            return i;
    return f + n;
}

/* Lowest free run of n frames whose HPA is a multiple of align; caller holds
 * the lock. Returns the frame index or UINT64_MAX. */
static uint64_t find_run(const struct mem_arena *a, uint64_t n, uint64_t align)
{
    uint64_t end = a->base + a->size;
    uint64_t hpa = (a->base + align - 1) & ~(align - 1);
    while (hpa >= a->base && hpa < end && n <= (end - hpa) >> PAGE_SHIFT) {
        uint64_t f = (hpa - a->base) >> PAGE_SHIFT;
        uint64_t u = first_used(a, f, n);
        if (u == f + n)
            return f;
        uint64_t next = a->base + ((u + 1) << PAGE_SHIFT);
        hpa = (next + align - 1) & ~(align - 1);
    }
    return UINT64_MAX;
}

uint64_t mem_frames_alloc_contig(struct mem_arena *a, uint64_t n, uint64_t align)
{
    if (n == 0 || align < PAGE_SIZE || (align & (align - 1)) || align > HPA_LIMIT)
        return HPA_INVALID;
    pthread_mutex_lock(&a->lock);
    uint64_t f = n <= a->nfree ? find_run(a, n, align) : UINT64_MAX;
    if (f == UINT64_MAX) {
        pthread_mutex_unlock(&a->lock);
        return HPA_INVALID;
    }
    for (uint64_t i = f; i < f + n; i++)
        take_frame(a, i);
    zero_frames(a, f, n);
    pthread_mutex_unlock(&a->lock);
    return a->base + (f << PAGE_SHIFT);
}

/* ---- checked accessors ----------------------------------------------- */

/* [hpa, hpa + len) inside the arena, without overflowing; a zero-length
 * range is valid anywhere in [base, base + size]. */
bool mem_valid(const struct mem_arena *a, uint64_t hpa, uint64_t len)
{
    if (!a || hpa < a->base)
        return false;
    uint64_t off = hpa - a->base;
    return off <= a->size && len <= a->size - off;
}

void *mem_ptr(struct mem_arena *a, uint64_t hpa, uint64_t len)
{
    return mem_valid(a, hpa, len) ? a->host + (hpa - a->base) : NULL;
}

static uint8_t *host_at(const struct mem_arena *a, uint64_t hpa)
{
    return a->host + (hpa - a->base);
}

/* Loads acquire and stores release, as x86 orders them (TSO; plain moves
 * there): a table a CPU zeroes and then links in is seen zeroed by whoever
 * follows the link, as mem_read64/mem_write64 already guarantee. */
static void copy1(uint8_t *d, const uint8_t *s)
{
    __atomic_store_n(d, __atomic_load_n(s, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
}

static void copy8(uint8_t *d, const uint8_t *s)
{
    __atomic_store_n((uint64_t *)(void *)d, __atomic_load_n((const uint64_t *)(const void *)s,
                                                            __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
}

/* ThreadSanitizer checks the atomic path for every length. Elsewhere a
 * long copy (device COPY/FILL pieces, whole pages) is a memmove, which on
 * x86-64 moves aligned qwords whole too, at full speed (bench dma). */
#if defined(__SANITIZE_THREAD__)
#define MEM_COPY_ALL_ATOMIC 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MEM_COPY_ALL_ATOMIC 1
#endif
#endif
#ifndef MEM_COPY_ALL_ATOMIC
#define MEM_COPY_ALL_ATOMIC 0
#endif
#define MEM_COPY_SMALL 64

void mem_copy(void *dst, const void *src, size_t len)
{
    if (!MEM_COPY_ALL_ATOMIC && len > MEM_COPY_SMALL) {
        memmove(dst, src, len);
        return;
    }
    uint8_t *d = dst;
    const uint8_t *s = src;
    uintptr_t da = (uintptr_t)d, sa = (uintptr_t)s;
    bool words = ((da ^ sa) & 7) == 0;
    if (da <= sa || da - sa >= len) {           /* forwards */
        size_t i = 0;
        if (words) {
            for (; i < len && ((da + i) & 7); i++)
                copy1(d + i, s + i);
            for (; len - i >= 8; i += 8)
                copy8(d + i, s + i);
        }
        for (; i < len; i++)
            copy1(d + i, s + i);
    } else {                                    /* backwards: dst overlaps src from above */
        size_t i = len;
        if (words) {
            for (; i && ((da + i) & 7); i--)
                copy1(d + i - 1, s + i - 1);
            for (; i >= 8; i -= 8)
                copy8(d + i - 8, s + i - 8);
        }
        for (; i; i--)
            copy1(d + i - 1, s + i - 1);
    }
}

int mem_read(const struct mem_arena *a, uint64_t hpa, void *buf, size_t len)
{
    if (!mem_valid(a, hpa, len))
        return -EFAULT;
    mem_copy(buf, host_at(a, hpa), len);
    return 0;
}

int mem_write(struct mem_arena *a, uint64_t hpa, const void *buf, size_t len)
{
    if (!mem_valid(a, hpa, len))
        return -EFAULT;
    mem_copy(host_at(a, hpa), buf, len);
    return 0;
}

/* Qword accessors: -EINVAL when misaligned, then -EFAULT when outside. */
static int check64(const struct mem_arena *a, uint64_t hpa)
{
    if (hpa & 7)
        return -EINVAL;
    return mem_valid(a, hpa, 8) ? 0 : -EFAULT;
}

int mem_read64(const struct mem_arena *a, uint64_t hpa, uint64_t *v)
{
    int rc = check64(a, hpa);
    if (rc == 0)
        *v = __atomic_load_n((const uint64_t *)(const void *)host_at(a, hpa), __ATOMIC_ACQUIRE);
    return rc;
}

int mem_write64(struct mem_arena *a, uint64_t hpa, uint64_t v)
{
    int rc = check64(a, hpa);
    if (rc == 0)
        __atomic_store_n((uint64_t *)(void *)host_at(a, hpa), v, __ATOMIC_RELEASE);
    return rc;
}

int mem_read32(const struct mem_arena *a, uint64_t hpa, uint32_t *v)
{
    return mem_read(a, hpa, v, sizeof(*v));
}

int mem_write32(struct mem_arena *a, uint64_t hpa, uint32_t v)
{
    return mem_write(a, hpa, &v, sizeof(v));
}

int mem_or64(struct mem_arena *a, uint64_t hpa, uint64_t bits, uint64_t *old)
{
    int rc = check64(a, hpa);
    if (rc)
        return rc;
    uint64_t prev = __atomic_fetch_or((uint64_t *)(void *)host_at(a, hpa), bits, __ATOMIC_SEQ_CST);
    if (old)
        *old = prev;
    return 0;
}

int mem_cmpxchg64(struct mem_arena *a, uint64_t hpa, uint64_t expect, uint64_t desired, bool *ok)
{
    int rc = check64(a, hpa);
    if (rc)
        return rc;
    bool done = __atomic_compare_exchange_n((uint64_t *)(void *)host_at(a, hpa), &expect, desired,
                                            false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    if (ok)
        *ok = done;
    return 0;
}
