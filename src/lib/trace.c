#include "lib/trace.h"

#include <fnmatch.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>

bool trace_on[TP_COUNT];

static const struct { const char *name, *desc; } tp_info[TP_COUNT] = {
#define TP_INFO(name, desc) [TP_##name] = { #name, desc },
    TRACE_POINTS(TP_INFO)
#undef TP_INFO
};

static FILE *trace_out;
static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;

void trace_set_output(FILE *out) { trace_out = out; }

static void emit(enum trace_point tp, const char *tail, const char *fmt, va_list ap)
{
    FILE *out = trace_out ? trace_out : stderr;
    pthread_mutex_lock(&trace_lock);
    fprintf(out, "%s: ", tp_info[tp].name);
    vfprintf(out, fmt, ap);
    if (tail)
        fprintf(out, " %s", tail);
    fputc('\n', out);
    pthread_mutex_unlock(&trace_lock);
}

void trace_emit(enum trace_point tp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(tp, NULL, fmt, ap);
    va_end(ap);
}

void trace_emit_struct(enum trace_point tp, enum hw_struct_id sid, const uint64_t *q,
                       const char *fmt, ...)
{
    char buf[1024];
    hw_format(buf, sizeof(buf), sid, q, 1);
    va_list ap;
    va_start(ap, fmt);
    emit(tp, buf[0] ? buf : "(all zero)", fmt, ap);
    va_end(ap);
}

static int enable_one(const char *glob)
{
    int n = 0;
    for (unsigned i = 0; i < TP_COUNT; i++)
        if (!fnmatch(glob, tp_info[i].name, 0)) {
            trace_on[i] = true;
            n++;
        }
    return n;
}

int trace_enable(const char *globs)
{
    char buf[256];
    int total = 0;
    if (!globs[0] || strlen(globs) >= sizeof(buf))
        return -1;
    strcpy(buf, globs);
    for (char *save = NULL, *g = strtok_r(buf, ",", &save); g; g = strtok_r(NULL, ",", &save)) {
        int n = enable_one(g);
        if (!n)
            return -1;
        total += n;
    }
    return total ? total : -1;
}

void trace_disable_all(void) { memset(trace_on, 0, sizeof(trace_on)); }

void trace_list(FILE *out)
{
    for (unsigned i = 0; i < TP_COUNT; i++)
        fprintf(out, "%-20s %s\n", tp_info[i].name, tp_info[i].desc);
}
