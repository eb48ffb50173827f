/* Everything derived from the field table in lib/hw_fields.h:
 *   - S_F_HI / S_F_LO constants for every field F of structure S;
 *   - accessors: HW_GET/HW_SET on qword arrays, HW_FV/HW_FMK on single
 *     qwords, HW_FM (mask within the field's qword), HW_RAW (in-place bits,
 *     for address fields);
 *   - reserved masks HW_RSVD(S, q) (bits of qword q covered by no field);
 *   - compile-time checks: every field lies inside one qword of its
 *     structure, and no two fields of a structure overlap;
 *   - name tables (hw_structs[]) for decoding and tracing. */
#ifndef VSVM_LIB_HW_H
#define VSVM_LIB_HW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "lib/bits.h"
#include "lib/hw_fields.h"

enum hw_struct_id {
#define HWS_ID(ID, NAME, NQ, DESC) HWS_##ID,
    HW_STRUCTS(HWS_ID)
#undef HWS_ID
    HWS_COUNT
};

enum {
#define HWS_QW(ID, NAME, NQ, DESC) ID##__QWORDS = NQ,
    HW_STRUCTS(HWS_QW)
#undef HWS_QW
};

#define HWF_POS(S, N, H, L, D) S##_##N##_HI = (H), S##_##N##_LO = (L),
#define HWS_POS(ID, NAME, NQ, DESC) HW_FIELDS_##ID(HWF_POS)
enum { HW_STRUCTS(HWS_POS) };

/* ---- accessors ------------------------------------------------------ */
#define HW_GET(S, F, q)    bits_get((q), S##_##F##_HI, S##_##F##_LO)
#define HW_SET(S, F, q, v) bits_set((q), S##_##F##_HI, S##_##F##_LO, (uint64_t)(v))
#define HW_FQ(S, F)        (S##_##F##_LO / 64)
#define HW_FM(S, F)        BITS_MASK(S##_##F##_HI % 64, S##_##F##_LO % 64)
#define HW_FV(S, F, v)     bits_get64((v), S##_##F##_HI % 64, S##_##F##_LO % 64)
#define HW_FMK(S, F, v)    ((((uint64_t)(v)) << (S##_##F##_LO % 64)) & HW_FM(S, F))
#define HW_RAW(S, F, q)    ((q)[HW_FQ(S, F)] & HW_FM(S, F))
#define HW_WIDTH(S, F)     (S##_##F##_HI - S##_##F##_LO + 1)

/* ---- reserved masks (compile-time constants; q is a literal 0..7) --- */
#define HWF_IN_Q(q, H, L)  ((L) / 64 == (q) ? BITS_MASK((H) % 64, (L) % 64) : 0ULL)
#define HWF_OR0(S, N, H, L, D) | HWF_IN_Q(0, H, L)
#define HWF_OR1(S, N, H, L, D) | HWF_IN_Q(1, H, L)
#define HWF_OR2(S, N, H, L, D) | HWF_IN_Q(2, H, L)
#define HWF_OR3(S, N, H, L, D) | HWF_IN_Q(3, H, L)
#define HWF_OR4(S, N, H, L, D) | HWF_IN_Q(4, H, L)
#define HWF_OR5(S, N, H, L, D) | HWF_IN_Q(5, H, L)
#define HWF_OR6(S, N, H, L, D) | HWF_IN_Q(6, H, L)
#define HWF_OR7(S, N, H, L, D) | HWF_IN_Q(7, H, L)
#define HW_DEFINED(S, q)   (0ULL HW_FIELDS_##S(HWF_OR##q))
#define HW_RSVD(S, q)      ((q) < S##__QWORDS ? ~HW_DEFINED(S, q) : 0ULL)

/* ---- compile-time checks ------------------------------------------- */
#define HWF_CHECK(S, N, H, L, D) \
    _Static_assert((H) >= (L) && (H) / 64 == (L) / 64 && (H) < 64 * S##__QWORDS, \
                   #S "." #N ": bit range crosses a qword or leaves the structure");
#define HWS_CHECK_FIELDS(ID, NAME, NQ, DESC) HW_FIELDS_##ID(HWF_CHECK)
HW_STRUCTS(HWS_CHECK_FIELDS)

/* Disjoint masks sum (without carry) to their union; any overlap makes the
 * sum strictly larger. */
typedef unsigned __int128 hw_u128;
#define HWF_SUMQ(q, H, L)  + (hw_u128)HWF_IN_Q(q, H, L)
#define HWF_SUM0(S, N, H, L, D) HWF_SUMQ(0, H, L)
#define HWF_SUM1(S, N, H, L, D) HWF_SUMQ(1, H, L)
#define HWF_SUM2(S, N, H, L, D) HWF_SUMQ(2, H, L)
#define HWF_SUM3(S, N, H, L, D) HWF_SUMQ(3, H, L)
#define HWF_SUM4(S, N, H, L, D) HWF_SUMQ(4, H, L)
#define HWF_SUM5(S, N, H, L, D) HWF_SUMQ(5, H, L)
#define HWF_SUM6(S, N, H, L, D) HWF_SUMQ(6, H, L)
#define HWF_SUM7(S, N, H, L, D) HWF_SUMQ(7, H, L)
#define HW_NO_OVERLAP_Q(S, q) \
    _Static_assert((hw_u128)0 HW_FIELDS_##S(HWF_SUM##q) == (hw_u128)HW_DEFINED(S, q), \
                   #S ": two fields overlap in qword " #q);
#define HWS_CHECK_OVERLAP(ID, NAME, NQ, DESC) \
    HW_NO_OVERLAP_Q(ID, 0) HW_NO_OVERLAP_Q(ID, 1) HW_NO_OVERLAP_Q(ID, 2) \
    HW_NO_OVERLAP_Q(ID, 3) HW_NO_OVERLAP_Q(ID, 4) HW_NO_OVERLAP_Q(ID, 5) \
    HW_NO_OVERLAP_Q(ID, 6) HW_NO_OVERLAP_Q(ID, 7)
HW_STRUCTS(HWS_CHECK_OVERLAP)

/* ---- name tables ----------------------------------------------------- */
struct hw_field_desc {
    const char *name;
    uint16_t hi, lo;
    const char *desc;
};

struct hw_struct_desc {
    const char *id;         /* "PASID_PTE" */
    const char *name;       /* "pasid-entry" (decode name) */
    unsigned qwords;
    const char *desc;
    const struct hw_field_desc *fields;
    unsigned nfields;
    uint64_t rsvd[8];       /* reserved mask per qword (0 beyond qwords) */
};

extern const struct hw_struct_desc hw_structs[HWS_COUNT];

/* Looks a structure up by decode name or id (case-insensitive); NULL if none. */
const struct hw_struct_desc *hw_struct_find(const char *name);
/* Value of a field (by descriptor) in a structure. */
uint64_t hw_field_value(const struct hw_field_desc *f, const uint64_t *q);
/* Formats "NAME=0x.. NAME=0x.." for every field (or only non-zero ones) and
 * "RSVD[q]=0x.." for set reserved bits; returns the length written (as
 * snprintf, truncated to n). */
size_t hw_format(char *buf, size_t n, enum hw_struct_id id, const uint64_t *q, int nonzero_only);
/* Prints one field per line: name, bit range, value, description. */
void hw_print(FILE *out, enum hw_struct_id id, const uint64_t *q);

/* ---- invalidation descriptor types (§4.2) ---------------------------- */
enum inv_type {
    INV_TYPE_CC = 0x1, INV_TYPE_IOTLB = 0x2, INV_TYPE_DEVTLB = 0x3, INV_TYPE_IEC = 0x4,
    INV_TYPE_WAIT = 0x5, INV_TYPE_PIOTLB = 0x6, INV_TYPE_PC = 0x7, INV_TYPE_PDEVTLB = 0x8,
    INV_TYPE_PGRESP = 0x9,
};
static inline unsigned inv_desc_type(const uint64_t *q)
{
    return (unsigned)(HW_GET(INV_DESC, TYPE_HI, q) << 4 | HW_GET(INV_DESC, TYPE_LO, q));
}
/* Structure describing a descriptor of the given type; HWS_INV_DESC if unknown. */
enum hw_struct_id inv_desc_struct(unsigned type);

#endif
