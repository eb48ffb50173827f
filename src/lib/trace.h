/* Named trace points (lib/trace_points.h), enabled by glob
 * (`--trace 'vtd_qi_*'`). A disabled point costs one predictable branch on
 * a byte flag; output goes to the trace stream (stderr by default). */
#ifndef VSVM_LIB_TRACE_H
#define VSVM_LIB_TRACE_H

#include <stdbool.h>
#include <stdio.h>
#include "lib/hw.h"
#include "lib/trace_points.h"

enum trace_point {
#define TP_ID(name, desc) TP_##name,
    TRACE_POINTS(TP_ID)
#undef TP_ID
    TP_COUNT
};

extern bool trace_on[TP_COUNT];

#define TRACE_ON(name) __builtin_expect(trace_on[TP_##name], 0)
#define trace(name, ...) \
    do { if (TRACE_ON(name)) trace_emit(TP_##name, __VA_ARGS__); } while (0)
/* Emits "prefix" followed by every non-zero field of a decoded structure. */
#define trace_struct(name, sid, q, ...) \
    do { if (TRACE_ON(name)) trace_emit_struct(TP_##name, sid, q, __VA_ARGS__); } while (0)

void trace_emit(enum trace_point tp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void trace_emit_struct(enum trace_point tp, enum hw_struct_id sid, const uint64_t *q,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Enables every point whose name matches the glob (fnmatch); a
 * comma-separated list is accepted. Returns how many points matched, or -1
 * when a pattern matches none (the caller reports it). */
int trace_enable(const char *globs);
void trace_disable_all(void);
void trace_set_output(FILE *out);
void trace_list(FILE *out);

#endif
