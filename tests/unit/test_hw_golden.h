/* Golden-vector helpers shared by tests/unit/test_hw_golden*.c.
 *
 * A golden vector is a structure's raw qwords typed as literal hex, worked
 * out by hand from the bit positions in ../shared/spec/vtd-reference.md (not
 * from lib/hw_fields.h), plus the value intended for every field. Each GF()
 * line (a) decodes the field from the literal with HW_GET and compares it to
 * the intended value, and (b) encodes the value with HW_SET into a
 * structure that starts at zero. golden_done() then checks that the encoded
 * structure equals the literal, that every field the vector does not name
 * decodes to 0 (so a field the table puts in the wrong place cannot hide),
 * and that no reserved bit is set. A bit position that the table and this
 * code might share wrongly cannot pass: the literal never comes from it. */
#ifndef VSVM_TEST_HW_GOLDEN_H
#define VSVM_TEST_HW_GOLDEN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "lib/hw.h"

#define GOLDEN_MAX_NAMED 48

struct golden {
    enum hw_struct_id id;
    const char *what;                 /* vector name, for messages */
    uint64_t raw[8];                  /* literal qwords, QW0 first */
    uint64_t enc[8];                  /* built from zero with HW_SET */
    const char *named[GOLDEN_MAX_NAMED];
    unsigned nnamed, errors;
};

/* struct golden g = literal qwords of structure S. */
#define GOLDEN(var, S, what_, ...) \
    struct golden var = { .id = HWS_##S, .what = (what_), .raw = { __VA_ARGS__ } }

/* Field F of S is meant to hold v in vector g: decode and encode it. */
#define GF(g, S, F, v) \
    do { \
        golden_field(&(g), HWS_##S, #F, HW_GET(S, F, (g).raw), (uint64_t)(v), \
                     bits_fits((uint64_t)(v), S##_##F##_HI, S##_##F##_LO)); \
        HW_SET(S, F, (g).enc, (v)); \
    } while (0)

static inline void golden_field(struct golden *g, enum hw_struct_id sid, const char *name,
                                uint64_t got, uint64_t want, bool fits)
{
    if (sid != g->id) {
        print_error("%s: field %s belongs to another structure\n", g->what, name);
        g->errors++;
    }
    if (got != want) {
        print_error("%s: %s decodes as %#llx, intended %#llx\n", g->what, name,
                    (unsigned long long)got, (unsigned long long)want);
        g->errors++;
    }
    if (!fits) {
        print_error("%s: intended %s = %#llx does not fit the field\n", g->what, name,
                    (unsigned long long)want);
        g->errors++;
    }
    if (g->nnamed < GOLDEN_MAX_NAMED)
        g->named[g->nnamed++] = name;
}

static inline bool golden_is_named(const struct golden *g, const char *name)
{
    for (unsigned i = 0; i < g->nnamed; i++)
        if (!strcmp(g->named[i], name))
            return true;
    return false;
}

/* Checks encode == literal, unnamed fields zero, no reserved bit set (unless
 * rsvd_ok), and fails the test with every problem listed. */
static inline void golden_check(struct golden *g, bool rsvd_ok)
{
    const struct hw_struct_desc *s = &hw_structs[g->id];
    for (unsigned q = 0; q < 8; q++) {
        if (q >= s->qwords && g->raw[q]) {
            print_error("%s: literal has QW%u but %s has %u qwords\n", g->what, q, s->name,
                        s->qwords);
            g->errors++;
        }
        if (q < s->qwords && g->enc[q] != g->raw[q]) {
            print_error("%s: HW_SET built QW%u = %#018llx, literal %#018llx\n", g->what, q,
                        (unsigned long long)g->enc[q], (unsigned long long)g->raw[q]);
            g->errors++;
        }
        if (!rsvd_ok && (g->raw[q] & s->rsvd[q])) {
            print_error("%s: literal sets reserved bits %#llx in QW%u\n", g->what,
                        (unsigned long long)(g->raw[q] & s->rsvd[q]), q);
            g->errors++;
        }
    }
    for (unsigned i = 0; i < s->nfields; i++) {
        uint64_t v = hw_field_value(&s->fields[i], g->raw);
        if (v && !golden_is_named(g, s->fields[i].name)) {
            print_error("%s: field %s = %#llx is not in the vector\n", g->what,
                        s->fields[i].name, (unsigned long long)v);
            g->errors++;
        }
    }
    if (g->errors)
        fail_msg("%s: %u mismatch(es) against the hand-typed vector", g->what, g->errors);
}

static inline void golden_done(struct golden *g) { golden_check(g, false); }

#endif
