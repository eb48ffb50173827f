/* The fuzz harnesses' input reader: the input as a stream of
 * little-endian fields; past its end every field reads 0. */
#ifndef VSVM_FUZZ_INPUT_H
#define VSVM_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct rd { const uint8_t *p; size_t n; };

/* The next `bytes` bytes (at most 8) as a little-endian value. */
static inline uint64_t take(struct rd *r, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && r->n; i++, r->p++, r->n--)
        v |= (uint64_t)*r->p << (8 * i);
    return v;
}

#endif
