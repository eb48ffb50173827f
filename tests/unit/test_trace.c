/* lib/trace: glob enabling, output stream, decoded structures, and that a
 * disabled point prints (and evaluates) nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "lib/trace.h"

/* The names, from the same list the library uses, so that adding a point
 * does not break the counts below. */
static const char *const tp_names[TP_COUNT] = {
#define TP_NAME(name, desc) [TP_##name] = #name,
    TRACE_POINTS(TP_NAME)
#undef TP_NAME
};

static int expected_matches(const char *glob)
{
    int n = 0;
    for (unsigned i = 0; i < TP_COUNT; i++)
        n += !fnmatch(glob, tp_names[i], 0);
    return n;
}

static unsigned enabled_count(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < TP_COUNT; i++)
        n += trace_on[i];
    return n;
}

static FILE *out;

static int setup(void **state)
{
    (void)state;
    trace_disable_all();
    out = tmpfile();
    trace_set_output(out);
    return out ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    trace_disable_all();
    trace_set_output(NULL);
    fclose(out);
    return 0;
}

/* Everything written to the trace stream so far. */
static const char *captured(void)
{
    static char buf[4096];
    fflush(out);
    long len = ftell(out);
    rewind(out);
    size_t n = fread(buf, 1, len > 0 && (size_t)len < sizeof(buf) ? (size_t)len : 0, out);
    buf[n] = '\0';
    fseek(out, 0, SEEK_END);
    return buf;
}

static void test_enable_single(void **state)
{
    (void)state;
    assert_int_equal(trace_enable("vtd_reg_read"), 1);
    assert_true(trace_on[TP_vtd_reg_read]);
    assert_int_equal(enabled_count(), 1);
}

static void test_enable_glob(void **state)
{
    (void)state;
    int want = expected_matches("vtd_walk_*");
    assert_true(want >= 5);     /* root, ctx, pasid, fl, sl */
    assert_int_equal(trace_enable("vtd_walk_*"), want);
    assert_int_equal(enabled_count(), (unsigned)want);
    assert_true(trace_on[TP_vtd_walk_root]);
    assert_true(trace_on[TP_vtd_walk_sl]);
    assert_false(trace_on[TP_vtd_xlate]);
}

static void test_enable_comma_list(void **state)
{
    (void)state;
    int want = 1 + expected_matches("vtd_xlate*");
    assert_int_equal(trace_enable("vtd_gcmd,vtd_xlate*"), want);
    assert_int_equal(enabled_count(), (unsigned)want);
    assert_true(trace_on[TP_vtd_gcmd]);
    assert_true(trace_on[TP_vtd_xlate]);
    assert_true(trace_on[TP_vtd_xlate_fault]);
}

static void test_enable_all(void **state)
{
    (void)state;
    assert_int_equal(trace_enable("*"), TP_COUNT);
    assert_int_equal(enabled_count(), TP_COUNT);
    trace_disable_all();
    assert_int_equal(enabled_count(), 0);
}

static void test_enable_no_match(void **state)
{
    (void)state;
    assert_int_equal(trace_enable("nosuch_*"), -1);
    assert_int_equal(enabled_count(), 0);
    assert_int_equal(trace_enable("vtd_reg_read,nosuch"), -1);
    assert_int_equal(trace_enable("VTD_REG_READ"), -1);     /* case matters */
    char longglob[300];
    memset(longglob, '*', sizeof(longglob) - 1);
    longglob[sizeof(longglob) - 1] = '\0';
    assert_int_equal(trace_enable(longglob), -1);
}

static void test_output_goes_to_stream(void **state)
{
    (void)state;
    trace_enable("vtd_reg_write");
    trace(vtd_reg_write, "%s off %#x size %d", "GCMD", 0x18, 4);
    assert_string_equal(captured(), "vtd_reg_write: GCMD off 0x18 size 4\n");
}

/* trace_struct prints the non-zero fields by name, then reserved bits. */
static void test_struct_decoded(void **state)
{
    (void)state;
    trace_enable("vtd_walk_ctx");
    const uint64_t ctx[2] = { 0x23456007, 0x4252 };
    trace_struct(vtd_walk_ctx, HWS_CTX, ctx, "bus %u devfn %#x", 0u, 0xf8u);
    assert_string_equal(captured(), "vtd_walk_ctx: bus 0 devfn 0xf8 P=0x1 FPD=0x1 TT=0x1 "
                                    "SLPTPTR=0x23456 AW=0x2 AVAIL=0xa DID=0x42\n");
}

static void test_struct_zero_and_reserved(void **state)
{
    (void)state;
    trace_enable("vtd_walk_root");
    const uint64_t zero[2] = { 0 }, rsvd[2] = { 0x1, 0x80 };
    trace_struct(vtd_walk_root, HWS_ROOT, zero, "bus %d", 1);
    trace_struct(vtd_walk_root, HWS_ROOT, rsvd, "bus %d", 2);
    assert_string_equal(captured(), "vtd_walk_root: bus 1 (all zero)\n"
                                    "vtd_walk_root: bus 2 P=0x1 RSVD[1]=0x80\n");
}

static int evaluated;
static int side_effect(void) { return ++evaluated; }

/* A disabled point prints nothing and does not evaluate its arguments. */
static void test_disabled_prints_nothing(void **state)
{
    (void)state;
    trace_enable("vtd_walk_*");
    const uint64_t ctx[2] = { 0x23456007, 0x4252 };
    evaluated = 0;
    trace(vtd_xlate, "%d", side_effect());
    trace(vtd_reg_read, "x");
    trace_struct(vtd_fault_record, HWS_FRCD, ctx, "%d", side_effect());
    assert_int_equal(evaluated, 0);
    assert_false(TRACE_ON(vtd_xlate));
    assert_string_equal(captured(), "");
    trace_disable_all();
    trace_struct(vtd_walk_ctx, HWS_CTX, ctx, "after disable");
    assert_string_equal(captured(), "");
}

static void test_list(void **state)
{
    (void)state;
    trace_list(out);
    const char *text = captured();
    for (unsigned i = 0; i < TP_COUNT; i++) {
        char line_start[64];
        snprintf(line_start, sizeof(line_start), "%s ", tp_names[i]);
        const char *p = strstr(text, line_start);
        assert_non_null(p);
        assert_true(p == text || p[-1] == '\n');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_enable_single, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enable_glob, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enable_comma_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enable_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enable_no_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_goes_to_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_struct_decoded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_struct_zero_and_reserved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled_prints_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
