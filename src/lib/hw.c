/* Name tables and formatting derived from lib/hw_fields.h. */
#include "lib/hw.h"

#include <string.h>
#include <strings.h>

#define HWF_DESC(S, N, H, L, D) { #N, (H), (L), D },
#define HWS_FIELD_ARRAY(ID, NAME, NQ, DESC) \
    static const struct hw_field_desc hwf_##ID[] = { HW_FIELDS_##ID(HWF_DESC) };
HW_STRUCTS(HWS_FIELD_ARRAY)

#define HWS_ENTRY(ID, NAME, NQ, DESC) \
    [HWS_##ID] = { #ID, NAME, NQ, DESC, hwf_##ID, sizeof(hwf_##ID) / sizeof(hwf_##ID[0]), \
                   { HW_RSVD(ID, 0), HW_RSVD(ID, 1), HW_RSVD(ID, 2), HW_RSVD(ID, 3), \
                     HW_RSVD(ID, 4), HW_RSVD(ID, 5), HW_RSVD(ID, 6), HW_RSVD(ID, 7) } },
const struct hw_struct_desc hw_structs[HWS_COUNT] = { HW_STRUCTS(HWS_ENTRY) };

const struct hw_struct_desc *hw_struct_find(const char *name)
{
    for (unsigned i = 0; i < HWS_COUNT; i++)
        if (!strcasecmp(name, hw_structs[i].name) || !strcasecmp(name, hw_structs[i].id))
            return &hw_structs[i];
    return NULL;
}

uint64_t hw_field_value(const struct hw_field_desc *f, const uint64_t *q)
{
    return bits_get(q, f->hi, f->lo);
}

size_t hw_format(char *buf, size_t n, enum hw_struct_id id, const uint64_t *q, int nonzero_only)
{
    const struct hw_struct_desc *s = &hw_structs[id];
    size_t len = 0;
    for (unsigned i = 0; i < s->nfields; i++) {
        uint64_t v = hw_field_value(&s->fields[i], q);
        if (nonzero_only && !v)
            continue;
        int w = snprintf(len < n ? buf + len : NULL, len < n ? n - len : 0, "%s%s=%#llx",
                         len ? " " : "", s->fields[i].name, (unsigned long long)v);
        if (w > 0)
            len += (size_t)w;
    }
    for (unsigned qi = 0; qi < s->qwords; qi++) {
        uint64_t r = q[qi] & s->rsvd[qi];
        if (!r)
            continue;
        int w = snprintf(len < n ? buf + len : NULL, len < n ? n - len : 0, "%sRSVD[%u]=%#llx",
                         len ? " " : "", qi, (unsigned long long)r);
        if (w > 0)
            len += (size_t)w;
    }
    if (n && len >= n)
        buf[n - 1] = '\0';
    else if (n && !len)
        buf[0] = '\0';
    return len;
}

/* Prints the set bits of qword qi's mask m as absolute bit numbers / ranges
 * ("71, 127:88"), low to high. */
static void print_bit_ranges(FILE *out, uint64_t m, unsigned qi)
{
    const char *sep = "";
    for (unsigned b = 0; b < 64;) {
        if (!((m >> b) & 1)) {
            b++;
            continue;
        }
        unsigned lo = b;
        while (b < 64 && ((m >> b) & 1))
            b++;
        if (b - 1 == lo)
            fprintf(out, "%s%u", sep, qi * 64 + lo);
        else
            fprintf(out, "%s%u:%u", sep, qi * 64 + b - 1, qi * 64 + lo);
        sep = ", ";
    }
}

void hw_print(FILE *out, enum hw_struct_id id, const uint64_t *q)
{
    const struct hw_struct_desc *s = &hw_structs[id];
    fprintf(out, "%s: %s\n  qwords (QW0 first):", s->name, s->desc);
    for (unsigned qi = 0; qi < s->qwords; qi++)
        fprintf(out, " 0x%016llx", (unsigned long long)q[qi]);
    fputc('\n', out);
    for (unsigned i = 0; i < s->nfields; i++) {
        const struct hw_field_desc *f = &s->fields[i];
        uint64_t v = hw_field_value(f, q);
        char range[16], val[48];
        if (f->hi == f->lo)
            snprintf(range, sizeof(range), "%u", f->lo);
        else
            snprintf(range, sizeof(range), "%u:%u", f->hi, f->lo);
        /* Decimal too for small multi-bit fields (MGAW 0x2f = 47, PSS, ...). */
        if (f->hi - f->lo < 16 && v > 9)
            snprintf(val, sizeof(val), "%#llx (%llu)", (unsigned long long)v,
                     (unsigned long long)v);
        else
            snprintf(val, sizeof(val), "%#llx", (unsigned long long)v);
        fprintf(out, "  %-12s %-8s %-20s %s\n", f->name, range, val, f->desc);
    }
    int any = 0;
    for (unsigned qi = 0; qi < s->qwords; qi++) {
        uint64_t r = q[qi] & s->rsvd[qi];
        if (!r)
            continue;
        fprintf(out, "  QW%u reserved bits set: 0x%016llx (bits ", qi, (unsigned long long)r);
        print_bit_ranges(out, r, qi);
        fputs(")\n", out);
        any = 1;
    }
    if (!any)
        fputs("  reserved bits: none set\n", out);
}

enum hw_struct_id inv_desc_struct(unsigned type)
{
    switch (type) {
    case INV_TYPE_CC:      return HWS_INV_CC;
    case INV_TYPE_IOTLB:   return HWS_INV_IOTLB;
    case INV_TYPE_DEVTLB:  return HWS_INV_DEVTLB;
    case INV_TYPE_IEC:     return HWS_INV_IEC;
    case INV_TYPE_WAIT:    return HWS_INV_WAIT;
    case INV_TYPE_PIOTLB:  return HWS_INV_PIOTLB;
    case INV_TYPE_PC:      return HWS_INV_PC;
    case INV_TYPE_PDEVTLB: return HWS_INV_PDEVTLB;
    case INV_TYPE_PGRESP:  return HWS_INV_PGRESP;
    default:               return HWS_INV_DESC;
    }
}

#include "lib/hw_regs.h"

#define HWR_DESC(N, O, B, S, RST, WM, W1C, H) \
    [REG_##N] = { #N, (O), (B), HWS_##S, (RST), (WM), (W1C) },
const struct hw_reg_desc hw_regs[REG_COUNT] = { HW_REGS(HWR_DESC) };

/* Writable and W1C masks never reach reserved bits of the layout. */
#define HWR_CHECK(N, O, B, S, RST, WM, W1C, H) \
    _Static_assert(((0ULL | (WM) | (W1C) | (RST)) & ~HW_DEFINED(S, 0)) == 0, \
                   #N ": mask covers reserved bits"); \
    _Static_assert(((WM) & (W1C)) == 0, #N ": bit both RW and RW1C"); \
    _Static_assert((B) == 8 || ((0ULL | (WM) | (W1C) | (RST)) >> 32) == 0, #N ": 32-bit overflow");
HW_REGS(HWR_CHECK)
