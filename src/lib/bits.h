/* Bitfield helpers over 64-bit words and multi-qword hardware structures.
 * Bit numbers are absolute (LSB = 0) as in the VT-d specification; a field
 * never crosses a qword (checked at compile time in lib/hw.h). */
#ifndef VSVM_LIB_BITS_H
#define VSVM_LIB_BITS_H

#include <stdbool.h>
#include <stdint.h>

/* Mask of bits hi..lo (inclusive) within one 64-bit word, hi, lo < 64. */
#define BITS_MASK(hi, lo) \
    ((~0ULL >> (63 - (unsigned)(hi))) & (~0ULL << (unsigned)(lo)))
#define BIT64(n) (1ULL << (n))

static inline uint64_t bits_get64(uint64_t w, unsigned hi, unsigned lo)
{
    return (w & BITS_MASK(hi, lo)) >> lo;
}

static inline uint64_t bits_set64(uint64_t w, unsigned hi, unsigned lo, uint64_t v)
{
    uint64_t m = BITS_MASK(hi, lo);
    return (w & ~m) | ((v << lo) & m);
}

/* Absolute-bit access into a structure of qwords. */
static inline uint64_t bits_get(const uint64_t *q, unsigned hi, unsigned lo)
{
    return bits_get64(q[lo / 64], hi % 64, lo % 64);
}

static inline void bits_set(uint64_t *q, unsigned hi, unsigned lo, uint64_t v)
{
    q[lo / 64] = bits_set64(q[lo / 64], hi % 64, lo % 64, v);
}

/* True when v fits in a field of (hi - lo + 1) bits. */
static inline bool bits_fits(uint64_t v, unsigned hi, unsigned lo)
{
    unsigned w = hi - lo + 1;
    return w >= 64 || (v >> w) == 0;
}

static inline bool is_pow2_u64(uint64_t v) { return v && !(v & (v - 1)); }

#endif
