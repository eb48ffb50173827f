/* Unit tests for src/mem: the host arena (bounds, alignment, scrambled and
 * contiguous allocation, exhaustion) and guest physical maps (scattered
 * backing, cross-page access, failure atomicity, guest-page allocator). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "mem/mem.h"

#define BASE   0x100000000ULL           /* 4 GiB: HPA 0 is not in the arena */
#define MiB    (1ULL << 20)

/* ---- arena: creation and bounds --------------------------------------- */

static void test_arena_create_params(void **state)
{
    (void)state;
    assert_null(mem_arena_create(BASE + 8, MiB));           /* misaligned base */
    assert_null(mem_arena_create(BASE, 0));
    assert_null(mem_arena_create((1ULL << 52) - PAGE_SIZE, 2 * PAGE_SIZE));
    assert_null(mem_arena_create(UINT64_MAX & PAGE_MASK, PAGE_SIZE));
    struct mem_arena *a = mem_arena_create(BASE, 5000);
    assert_non_null(a);
    assert_int_equal(mem_arena_base(a), BASE);
    assert_int_equal(mem_arena_size(a), 8192);              /* rounded up */
    assert_int_equal(mem_frames_free(a), 2);
    mem_arena_destroy(a);
    mem_arena_destroy(NULL);
}

static void test_arena_bounds(void **state)
{
    (void)state;
    struct mem_arena *a = mem_arena_create(BASE, MiB);
    uint64_t end = BASE + MiB;
    assert_true(mem_valid(a, BASE, 1));
    assert_true(mem_valid(a, BASE, MiB));
    assert_false(mem_valid(a, BASE, MiB + 1));
    assert_false(mem_valid(a, BASE - 1, 1));
    assert_false(mem_valid(a, BASE - 1, 2));                /* straddles start */
    assert_true(mem_valid(a, end - 1, 1));
    assert_false(mem_valid(a, end - 1, 2));                 /* straddles end */
    assert_false(mem_valid(a, end, 1));
    /* zero length: valid from start to end inclusive */
    assert_true(mem_valid(a, BASE, 0));
    assert_true(mem_valid(a, end, 0));
    assert_false(mem_valid(a, end + 1, 0));
    assert_false(mem_valid(a, BASE - 1, 0));
    /* hpa + len overflows */
    assert_false(mem_valid(a, BASE + 8, UINT64_MAX));
    assert_false(mem_valid(a, BASE + 8, UINT64_MAX - BASE - 7));
    assert_false(mem_valid(a, UINT64_MAX, 2));
    assert_false(mem_valid(a, UINT64_MAX - 3, 8));

    uint8_t buf[16];
    memset(buf, 0xAB, sizeof(buf));
    assert_int_equal(mem_read(a, end - 8, buf, 16), -EFAULT);
    for (size_t i = 0; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0xAB);                     /* untouched */
    assert_int_equal(mem_read(a, end, buf, 0), 0);
    assert_int_equal(mem_write(a, end + 4096, buf, 0), -EFAULT);
    assert_int_equal(mem_read(a, BASE + 16, buf, SIZE_MAX), -EFAULT);
    assert_int_equal(mem_write(a, end - 8, buf, 8), 0);
    assert_null(mem_ptr(a, end - 8, 9));
    assert_null(mem_ptr(a, BASE - PAGE_SIZE, 8));
    assert_ptr_equal((uint8_t *)mem_ptr(a, BASE, 8) + MiB - 8, mem_ptr(a, end - 8, 8));
    mem_arena_destroy(a);
}

static void test_arena_failed_write_touches_nothing(void **state)
{
    (void)state;
    struct mem_arena *a = mem_arena_create(BASE, 2 * PAGE_SIZE);
    uint64_t end = BASE + 2 * PAGE_SIZE;
    uint8_t ones[32];
    memset(ones, 0xFF, sizeof(ones));
    assert_int_equal(mem_write(a, end - 16, ones, 32), -EFAULT);
    const uint8_t *p = mem_ptr(a, end - 16, 16);
    for (int i = 0; i < 16; i++)
        assert_int_equal(p[i], 0);
    mem_arena_destroy(a);
}

static void test_arena_alignment(void **state)
{
    (void)state;
    struct mem_arena *a = mem_arena_create(BASE, MiB);
    uint64_t v = 0x1122334455667788ULL, r = 0;
    bool ok = true;
    assert_int_equal(mem_write64(a, BASE + 0x100, v), 0);
    assert_int_equal(mem_read64(a, BASE + 0x104, &r), -EINVAL);
    assert_int_equal(r, 0);
    assert_int_equal(mem_write64(a, BASE + 0x104, 0), -EINVAL);
    assert_int_equal(mem_or64(a, BASE + 0x101, 1, NULL), -EINVAL);
    assert_int_equal(mem_cmpxchg64(a, BASE + 0x102, v, 0, &ok), -EINVAL);
    assert_true(ok);                                        /* untouched */
    assert_int_equal(mem_read64(a, BASE + 0x100, &r), 0);
    assert_int_equal(r, v);                                 /* nothing written */
    /* alignment is checked before bounds */
    assert_int_equal(mem_read64(a, BASE + MiB + 4, &r), -EINVAL);
    assert_int_equal(mem_read64(a, BASE + MiB, &r), -EFAULT);
    assert_int_equal(mem_read64(a, BASE - 8, &r), -EFAULT);
    assert_int_equal(mem_read64(a, BASE + MiB - 8, &r), 0);
    /* 32-bit accessors */
    uint32_t w = 0;
    assert_int_equal(mem_write32(a, BASE + 0x200, 0xCAFEF00Du), 0);
    assert_int_equal(mem_read32(a, BASE + 0x200, &w), 0);
    assert_int_equal(w, 0xCAFEF00Du);
    assert_int_equal(mem_read32(a, BASE + MiB - 2, &w), -EFAULT);
    mem_arena_destroy(a);
}

static void test_arena_atomics(void **state)
{
    (void)state;
    struct mem_arena *a = mem_arena_create(BASE, MiB);
    uint64_t hpa = BASE + 0x800, old = 0, r = 0;
    bool ok = false;
    assert_int_equal(mem_write64(a, hpa, 0x0F), 0);
    assert_int_equal(mem_or64(a, hpa, 0xF0, &old), 0);
    assert_int_equal(old, 0x0F);
    assert_int_equal(mem_cmpxchg64(a, hpa, 0xFF, 0x1234, &ok), 0);
    assert_true(ok);
    assert_int_equal(mem_cmpxchg64(a, hpa, 0xFF, 0x5678, &ok), 0);
    assert_false(ok);
    assert_int_equal(mem_read64(a, hpa, &r), 0);
    assert_int_equal(r, 0x1234);
    assert_int_equal(mem_or64(a, BASE + MiB, 1, &old), -EFAULT);
    mem_arena_destroy(a);
}

/* mem_copy has memmove semantics for every length (short copies word by
 * word, long ones too under ThreadSanitizer), alignment and overlap. */
static void test_mem_copy(void **state)
{
    (void)state;
    uint8_t buf[400], ref[400];
    for (size_t len = 0; len <= 140; len += len < 20 ? 1 : 7)
        for (unsigned so = 0; so < 16; so++)
            for (unsigned dof = 0; dof < 16; dof++)
                for (unsigned shift = 0; shift < 3; shift++) {
                    for (unsigned i = 0; i < sizeof(buf); i++)
                        buf[i] = ref[i] = (uint8_t)(i * 7 + 1);
                    /* shift 0: apart; 1: dst overlaps src from above; 2: from below */
                    size_t s = 64 + so, d = shift == 0 ? 200 + dof : shift == 1 ? s + dof : s - dof;
                    mem_copy(buf + d, buf + s, len);
                    memmove(ref + d, ref + s, len);
                    assert_memory_equal(buf, ref, sizeof(buf));
                }
}

struct or_race {
    struct mem_arena *a;
    uint64_t hpa;
};

static void *or_bits(void *arg)
{
    struct or_race *r = arg;
    for (unsigned i = 0; i < 20000; i++)
        mem_or64(r->a, r->hpa, 1ULL << (i % 64), NULL);
    return NULL;
}

/* A qword read through mem_read while another thread sets bits in it with
 * mem_or64 (a CPU reading a PTE while the unit sets A/D): the reader sees
 * old or new bits only, and under ThreadSanitizer this is no data race
 * (found by the CFG=tsan run of test_guest, issue 8). */
static void test_mem_read_vs_or64(void **state)
{
    (void)state;
    struct or_race r = { mem_arena_create(BASE, MiB), BASE + 0x1000 };
    assert_non_null(r.a);
    assert_int_equal(mem_write64(r.a, r.hpa, 0), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, or_bits, &r), 0);
    uint64_t last = 0;
    for (unsigned i = 0; i < 20000; i++) {
        uint64_t v = 0;
        uint32_t lo = 0;
        assert_int_equal(mem_read(r.a, r.hpa, &v, sizeof(v)), 0);
        assert_int_equal(mem_read32(r.a, r.hpa, &lo), 0);
        assert_true((v & last) == last);   /* bits are only ever added */
        last = v;
    }
    pthread_join(t, NULL);
    mem_arena_destroy(r.a);
}

/* ---- arena: frame allocator ------------------------------------------ */

static void test_frames_scrambled(void **state)
{
    (void)state;
    struct mem_arena *a = mem_arena_create(BASE, 8 * MiB);
    struct mem_arena *b = mem_arena_create(BASE, 8 * MiB);
    enum { N = 256 };
    uint64_t f[N];
    int adjacent = 0;
    for (int i = 0; i < N; i++) {
        f[i] = mem_frame_alloc(a);
        assert_true(mem_valid(a, f[i], PAGE_SIZE));
        assert_int_equal(f[i] & (PAGE_SIZE - 1), 0);
        assert_int_equal(mem_frame_alloc(b), f[i]);        /* deterministic */
        for (int j = 0; j < i; j++)
            assert_int_not_equal(f[i], f[j]);
        if (i && (f[i] == f[i - 1] + PAGE_SIZE || f[i] + PAGE_SIZE == f[i - 1]))
            adjacent++;
    }
    assert_true(adjacent < 8);
    assert_int_equal(mem_frames_free(a), 2048 - N);
    mem_arena_destroy(a);
    mem_arena_destroy(b);
}

static void test_frames_zeroed_and_reused(void **state)
{
    (void)state;
    struct mem_arena *a = mem_arena_create(BASE, MiB);
    uint64_t f = mem_frame_alloc(a);
    memset(mem_ptr(a, f, PAGE_SIZE), 0x5A, PAGE_SIZE);
    mem_frame_free(a, f);
    assert_int_equal(mem_frames_free(a), 256);
    uint64_t g = mem_frame_alloc(a);
    assert_int_equal(g, f);                                 /* last freed, first reused */
    const uint8_t *p = mem_ptr(a, g, PAGE_SIZE);
    for (uint64_t i = 0; i < PAGE_SIZE; i++)
        assert_int_equal(p[i], 0);
    mem_arena_destroy(a);
}

static void test_frames_exhaustion(void **state)
{
    (void)state;
    struct mem_arena *a = mem_arena_create(BASE, 16 * PAGE_SIZE);
    uint64_t seen = 0;
    for (int i = 0; i < 16; i++) {
        uint64_t f = mem_frame_alloc(a);
        assert_int_not_equal(f, HPA_INVALID);
        seen |= 1ULL << ((f - BASE) >> PAGE_SHIFT);
    }
    assert_int_equal(seen, 0xFFFF);                         /* every frame once */
    assert_int_equal(mem_frames_free(a), 0);
    assert_int_equal(mem_frame_alloc(a), HPA_INVALID);
    assert_int_equal(mem_frames_alloc_contig(a, 1, PAGE_SIZE), HPA_INVALID);
    mem_frame_free(a, BASE + 5 * PAGE_SIZE);
    assert_int_equal(mem_frames_free(a), 1);
    assert_int_equal(mem_frame_alloc(a), BASE + 5 * PAGE_SIZE);
    assert_int_equal(mem_frame_alloc(a), HPA_INVALID);
    mem_arena_destroy(a);
}

static void test_frames_bad_free_ignored(void **state)
{
    (void)state;
    struct mem_arena *a = mem_arena_create(BASE, 16 * PAGE_SIZE);
    uint64_t f = mem_frame_alloc(a);
    mem_frame_free(a, f + 8);                               /* misaligned */
    mem_frame_free(a, BASE + 16 * PAGE_SIZE);               /* past the end */
    mem_frame_free(a, BASE - PAGE_SIZE);
    assert_int_equal(mem_frames_free(a), 15);
    mem_frame_free(a, f);
    mem_frame_free(a, f);                                   /* double free */
    assert_int_equal(mem_frames_free(a), 16);
    mem_arena_destroy(a);
}

static void test_frames_contig(void **state)
{
    (void)state;
    /* base 4 KiB past a 2 MiB boundary, so alignment is not the base's */
    struct mem_arena *a = mem_arena_create(BASE + PAGE_SIZE, 8 * MiB);
    uint64_t before = mem_frames_free(a);
    uint64_t h = mem_frames_alloc_contig(a, 512, 2 * MiB);
    assert_int_not_equal(h, HPA_INVALID);
    assert_int_equal(h & (2 * MiB - 1), 0);
    assert_true(mem_valid(a, h, 2 * MiB));
    assert_int_equal(h, BASE + 2 * MiB);                    /* lowest aligned run */
    assert_int_equal(mem_frames_free(a), before - 512);
    for (uint64_t i = 0; i < before - 512; i++) {           /* none handed out twice */
        uint64_t f = mem_frame_alloc(a);
        assert_true(f < h || f >= h + 2 * MiB);
    }
    assert_int_equal(mem_frame_alloc(a), HPA_INVALID);
    mem_arena_destroy(a);
}

static void test_frames_contig_params_and_reuse(void **state)
{
    (void)state;
    struct mem_arena *a = mem_arena_create(BASE, 4 * MiB);
    uint64_t n = mem_frames_free(a);
    assert_int_equal(mem_frames_alloc_contig(a, 0, PAGE_SIZE), HPA_INVALID);
    assert_int_equal(mem_frames_alloc_contig(a, 1, 3 * PAGE_SIZE), HPA_INVALID);
    assert_int_equal(mem_frames_alloc_contig(a, 1, 2048), HPA_INVALID);
    assert_int_equal(mem_frames_alloc_contig(a, 1025, PAGE_SIZE), HPA_INVALID);
    assert_int_equal(mem_frames_alloc_contig(a, 1, 1ULL << 53), HPA_INVALID);
    assert_int_equal(mem_frames_free(a), n);
    uint64_t h = mem_frames_alloc_contig(a, 512, 2 * MiB);
    assert_int_equal(h, BASE);
    memset(mem_ptr(a, h, 2 * MiB), 0xC3, 2 * MiB);
    for (uint64_t i = 0; i < 512; i++)
        mem_frame_free(a, h + i * PAGE_SIZE);
    assert_int_equal(mem_frames_alloc_contig(a, 512, 2 * MiB), BASE);
    const uint8_t *p = mem_ptr(a, h, 2 * MiB);
    for (uint64_t i = 0; i < 2 * MiB; i += 511)
        assert_int_equal(p[i], 0);
    /* only the other 2 MiB half is left: a second run fits, a third does not */
    assert_int_equal(mem_frames_alloc_contig(a, 512, 2 * MiB), BASE + 2 * MiB);
    assert_int_equal(mem_frames_alloc_contig(a, 1, PAGE_SIZE), HPA_INVALID);
    mem_arena_destroy(a);
}

static void test_frames_contig_fragmented(void **state)
{
    (void)state;
    struct mem_arena *a = mem_arena_create(BASE, 4 * MiB);
    uint64_t hole = mem_frames_alloc_contig(a, 1, PAGE_SIZE);
    assert_int_equal(hole, BASE);
    /* [BASE, BASE + 2 MiB) is broken: the only 2 MiB run is the upper one */
    assert_int_equal(mem_frames_alloc_contig(a, 512, 2 * MiB), BASE + 2 * MiB);
    assert_int_equal(mem_frames_alloc_contig(a, 512, 2 * MiB), HPA_INVALID);
    /* unaligned runs still fit below */
    assert_int_equal(mem_frames_alloc_contig(a, 511, PAGE_SIZE), BASE + PAGE_SIZE);
    assert_int_equal(mem_frames_free(a), 0);
    mem_arena_destroy(a);
}

struct alloc_job { struct mem_arena *a; uint64_t f[256]; };

static void *alloc_thread(void *p)
{
    struct alloc_job *j = p;
    for (int i = 0; i < 256; i++)
        j->f[i] = mem_frame_alloc(j->a);
    return NULL;
}

static void test_frames_threads(void **state)
{
    (void)state;
    struct mem_arena *a = mem_arena_create(BASE, 4 * MiB);    /* 1024 frames */
    static struct alloc_job jobs[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        jobs[i].a = a;
        assert_int_equal(pthread_create(&t[i], NULL, alloc_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    static uint8_t seen[1024];
    memset(seen, 0, sizeof(seen));
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 256; k++) {
            uint64_t idx = (jobs[i].f[k] - BASE) >> PAGE_SHIFT;
            assert_true(idx < 1024);
            assert_int_equal(seen[idx]++, 0);
        }
    assert_int_equal(mem_frames_free(a), 0);
    mem_arena_destroy(a);
}

/* ---- guest physical maps --------------------------------------------- */

static void test_gpa_scattered(void **state)
{
    (void)state;
    struct mem_arena *a = mem_arena_create(BASE, 4 * MiB);
    struct gpa_map *g = gpa_map_create(a, 16 * PAGE_SIZE);
    assert_non_null(g);
    assert_int_equal(gpa_map_size(g), 16 * PAGE_SIZE);
    assert_ptr_equal(gpa_map_arena(g), a);
    assert_int_equal(mem_frames_free(a), 1024 - 16);
    uint64_t hpa[16];
    int offsets_differ = 0, contiguous = 0;
    for (int i = 0; i < 16; i++) {
        uint64_t gpa = (uint64_t)i * PAGE_SIZE;
        hpa[i] = gpa_to_hpa(g, gpa);
        assert_true(mem_valid(a, hpa[i], PAGE_SIZE));
        assert_int_equal(hpa[i] & (PAGE_SIZE - 1), 0);
        assert_int_equal(gpa_to_hpa(g, gpa + 0x123), hpa[i] + 0x123);
        assert_int_not_equal(hpa[i], gpa);                  /* never identity */
        for (int j = 0; j < i; j++)
            assert_int_not_equal(hpa[i], hpa[j]);
        if (i) {
            offsets_differ += hpa[i] - gpa != hpa[i - 1] - (gpa - PAGE_SIZE);
            contiguous += hpa[i] == hpa[i - 1] + PAGE_SIZE;
        }
    }
    /* not a single offset: most neighbouring page pairs differ in offset */
    assert_true(offsets_differ >= 12);
    assert_true(contiguous < 4);
    assert_int_equal(gpa_to_hpa(g, 16 * PAGE_SIZE), HPA_INVALID);
    assert_int_equal(gpa_to_hpa(g, UINT64_MAX), HPA_INVALID);
    gpa_map_destroy(g);
    assert_int_equal(mem_frames_free(a), 1024);
    mem_arena_destroy(a);
}

static void test_gpa_create_fails(void **state)
{
    (void)state;
    struct mem_arena *a = mem_arena_create(BASE, 16 * PAGE_SIZE);
    assert_null(gpa_map_create(a, 17 * PAGE_SIZE));
    assert_null(gpa_map_create(a, 0));
    assert_int_equal(mem_frames_free(a), 16);
    uint64_t f = mem_frame_alloc(a);
    assert_null(gpa_map_create(a, 16 * PAGE_SIZE));
    assert_int_equal(mem_frames_free(a), 15);               /* nothing leaked */
    struct gpa_map *g = gpa_map_create(a, 5000);            /* rounded up */
    assert_int_equal(gpa_map_size(g), 2 * PAGE_SIZE);
    gpa_map_destroy(g);
    mem_frame_free(a, f);
    mem_arena_destroy(a);
}

static void test_gpa_cross_page(void **state)
{
    (void)state;
    struct mem_arena *a = mem_arena_create(BASE, MiB);
    struct gpa_map *g = gpa_map_create(a, 4 * PAGE_SIZE);
    uint8_t in[200], out[200];
    for (int i = 0; i < 200; i++)
        in[i] = (uint8_t)(i + 1);
    uint64_t gpa = 2 * PAGE_SIZE - 50;                      /* 50 bytes + 150 bytes */
    assert_int_equal(gpa_write(g, gpa, in, sizeof(in)), 0);
    assert_int_equal(gpa_read(g, gpa, out, sizeof(out)), 0);
    assert_memory_equal(in, out, sizeof(in));
    /* each part landed in its own page's frame */
    assert_int_equal(mem_read(a, gpa_to_hpa(g, gpa), out, 50), 0);
    assert_memory_equal(in, out, 50);
    assert_int_equal(mem_read(a, gpa_to_hpa(g, 2 * PAGE_SIZE), out, 150), 0);
    assert_memory_equal(in + 50, out, 150);
    /* a whole-map read across every page */
    static uint8_t all[4 * PAGE_SIZE];
    assert_int_equal(gpa_read(g, 0, all, sizeof(all)), 0);
    assert_memory_equal(all + gpa, in, sizeof(in));
    gpa_map_destroy(g);
    mem_arena_destroy(a);
}

static void test_gpa_bounds_touch_nothing(void **state)
{
    (void)state;
    struct mem_arena *a = mem_arena_create(BASE, MiB);
    struct gpa_map *g = gpa_map_create(a, 2 * PAGE_SIZE);
    uint64_t end = 2 * PAGE_SIZE;
    uint8_t buf[64];
    memset(buf, 0xEE, sizeof(buf));
    /* crossing the end: the in-map part is not written either */
    assert_int_equal(gpa_write(g, end - 32, buf, 64), -EFAULT);
    const uint8_t *last = mem_ptr(a, gpa_to_hpa(g, end - 32), 32);
    for (int i = 0; i < 32; i++)
        assert_int_equal(last[i], 0);
    assert_int_equal(gpa_write(g, end - 32, buf, 32), 0);
    memset(buf, 0x11, sizeof(buf));
    assert_int_equal(gpa_read(g, end - 32, buf, 33), -EFAULT);
    for (int i = 0; i < 64; i++)
        assert_int_equal(buf[i], 0x11);                     /* not read into */
    assert_int_equal(gpa_read(g, end, buf, 0), 0);          /* zero length at end */
    assert_int_equal(gpa_read(g, end + 1, buf, 0), -EFAULT);
    assert_int_equal(gpa_read(g, 8, buf, SIZE_MAX), -EFAULT);   /* overflow */
    assert_int_equal(gpa_write(g, UINT64_MAX - 3, buf, 8), -EFAULT);
    uint64_t v = 7;
    bool ok = true;
    assert_int_equal(gpa_read64(g, end, &v), -EFAULT);
    assert_int_equal(gpa_read64(g, 4, &v), -EINVAL);
    assert_int_equal(v, 7);
    assert_int_equal(gpa_write64(g, end - 4, 1), -EINVAL);
    assert_int_equal(gpa_or64(g, end, 1, NULL), -EFAULT);
    assert_int_equal(gpa_cmpxchg64(g, 12, 0, 1, &ok), -EINVAL);
    assert_true(ok);
    gpa_map_destroy(g);
    mem_arena_destroy(a);
}

static void test_gpa_qwords(void **state)
{
    (void)state;
    struct mem_arena *a = mem_arena_create(BASE, MiB);
    struct gpa_map *g = gpa_map_create(a, 2 * PAGE_SIZE);
    uint64_t gpa = PAGE_SIZE + 0x18, v = 0, old = 0;
    bool ok = false;
    assert_int_equal(gpa_write64(g, gpa, 0x8000000000000001ULL), 0);
    assert_int_equal(mem_read64(a, gpa_to_hpa(g, gpa), &v), 0);
    assert_int_equal(v, 0x8000000000000001ULL);
    assert_int_equal(gpa_or64(g, gpa, 0x60, &old), 0);
    assert_int_equal(old, 0x8000000000000001ULL);
    assert_int_equal(gpa_cmpxchg64(g, gpa, 0x8000000000000061ULL, 5, &ok), 0);
    assert_true(ok);
    assert_int_equal(gpa_cmpxchg64(g, gpa, 0x8000000000000061ULL, 6, &ok), 0);
    assert_false(ok);
    assert_int_equal(gpa_read64(g, gpa, &v), 0);
    assert_int_equal(v, 5);
    gpa_map_destroy(g);
    mem_arena_destroy(a);
}

static void test_gpa_page_alloc(void **state)
{
    (void)state;
    struct mem_arena *a = mem_arena_create(BASE, MiB);
    struct gpa_map *g = gpa_map_create(a, 8 * PAGE_SIZE);
    assert_int_equal(gpa_page_alloc(g), 0);                 /* floor 0 by default */
    gpa_set_alloc_floor(g, 0x2001);                         /* rounds up to page 3 */
    uint64_t p3 = gpa_page_alloc(g);
    assert_int_equal(p3, 3 * PAGE_SIZE);
    assert_int_equal(gpa_write64(g, p3 + 8, 0xDEAD), 0);
    for (uint64_t i = 4; i < 8; i++)
        assert_int_equal(gpa_page_alloc(g), i * PAGE_SIZE);
    assert_int_equal(gpa_page_alloc(g), ~0ULL);             /* pages 1, 2 stay reserved */
    gpa_page_free(g, p3 + 8);                               /* not page aligned: ignored */
    gpa_page_free(g, 8 * PAGE_SIZE);                        /* outside: ignored */
    assert_int_equal(gpa_page_alloc(g), ~0ULL);
    gpa_page_free(g, p3);
    gpa_page_free(g, p3);                                   /* double free: ignored */
    assert_int_equal(gpa_page_alloc(g), p3);
    uint64_t v = 1;
    assert_int_equal(gpa_read64(g, p3 + 8, &v), 0);
    assert_int_equal(v, 0);                                 /* zeroed on alloc */
    assert_int_equal(gpa_page_alloc(g), ~0ULL);
    gpa_set_alloc_floor(g, PAGE_SIZE);
    assert_int_equal(gpa_page_alloc(g), PAGE_SIZE);
    gpa_map_destroy(g);
    mem_arena_destroy(a);
}

/* ---- physical views --------------------------------------------------- */

static void test_phys_views(void **state)
{
    (void)state;
    struct mem_arena *a = mem_arena_create(BASE, 4 * PAGE_SIZE);
    struct gpa_map *g = gpa_map_create(a, 2 * PAGE_SIZE);
    struct phys_view h = phys_view_hpa(a), v = phys_view_gpa(g);
    uint64_t x = 0;
    bool ok = false;

    uint64_t f1 = h.alloc_page(h.ctx), f2 = h.alloc_page(h.ctx);
    assert_true(mem_valid(a, f1, PAGE_SIZE) && mem_valid(a, f2, PAGE_SIZE));
    assert_int_equal(h.alloc_page(h.ctx), ~0ULL);           /* exhausted */
    assert_int_equal(h.write64(h.ctx, f1 + 8, 42), 0);
    assert_int_equal(h.cmpxchg64(h.ctx, f1 + 8, 42, 43, &ok), 0);
    assert_true(ok);
    assert_int_equal(h.read64(h.ctx, f1 + 8, &x), 0);
    assert_int_equal(x, 43);
    assert_int_equal(h.read64(h.ctx, BASE + 4 * PAGE_SIZE, &x), -EFAULT);
    h.free_page(h.ctx, f2);
    assert_int_equal(mem_frames_free(a), 1);

    uint64_t p0 = v.alloc_page(v.ctx), p1 = v.alloc_page(v.ctx);
    assert_int_equal(p0, 0);
    assert_int_equal(p1, PAGE_SIZE);
    assert_int_equal(v.alloc_page(v.ctx), ~0ULL);
    assert_int_equal(v.write64(v.ctx, p1 + 16, 99), 0);
    assert_int_equal(mem_read64(a, gpa_to_hpa(g, p1 + 16), &x), 0);
    assert_int_equal(x, 99);
    assert_int_equal(v.cmpxchg64(v.ctx, p1 + 16, 99, 100, &ok), 0);
    assert_int_equal(v.read64(v.ctx, p1 + 16, &x), 0);
    assert_int_equal(x, 100);
    assert_int_equal(v.read64(v.ctx, 2 * PAGE_SIZE, &x), -EFAULT);
    v.free_page(v.ctx, p0);
    assert_int_equal(v.alloc_page(v.ctx), p0);
    gpa_map_destroy(g);
    mem_arena_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_create_params),
        cmocka_unit_test(test_arena_bounds),
        cmocka_unit_test(test_arena_failed_write_touches_nothing),
        cmocka_unit_test(test_arena_alignment),
        cmocka_unit_test(test_arena_atomics),
        cmocka_unit_test(test_mem_copy),
        cmocka_unit_test(test_mem_read_vs_or64),
        cmocka_unit_test(test_frames_scrambled),
        cmocka_unit_test(test_frames_zeroed_and_reused),
        cmocka_unit_test(test_frames_exhaustion),
        cmocka_unit_test(test_frames_bad_free_ignored),
        cmocka_unit_test(test_frames_contig),
        cmocka_unit_test(test_frames_contig_params_and_reuse),
        cmocka_unit_test(test_frames_contig_fragmented),
        cmocka_unit_test(test_frames_threads),
        cmocka_unit_test(test_gpa_scattered),
        cmocka_unit_test(test_gpa_create_fails),
        cmocka_unit_test(test_gpa_cross_page),
        cmocka_unit_test(test_gpa_bounds_touch_nothing),
        cmocka_unit_test(test_gpa_qwords),
        cmocka_unit_test(test_gpa_page_alloc),
        cmocka_unit_test(test_phys_views),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
