/* `vsvm decode`: decodes a register value, table entry, invalidation
 * descriptor or record given as raw qwords, by the field table in
 * lib/hw_fields.h (the same names the trace points print).
 *
 *   vsvm decode [--json] STRUCTURE QWORD...   QW0 first; missing qwords are 0
 *   vsvm decode [--json] --list               every structure
 *
 * STRUCTURE is a decode name or id from hw_structs[] (case-insensitive);
 * `inv-desc` takes the descriptor type from the descriptor's own bits
 * (vtd-reference.md §4.1) and decodes it as that descriptor.
 * Text output is hw_print's: one line per field (name, absolute bit range,
 * value, description) and one line per qword with reserved bits set.
 * --json prints one object with keys in this order:
 *   {"structure": "cap", ["type": N,] "qwords": ["0x..", ...],
 *    "fields": {"NAME": value, ...}, "reserved_set": ["0x..", ...]}
 * values as exact decimal integers, one reserved_set mask per qword; "type"
 * only for inv-desc; an unknown descriptor type gives {"structure":
 * "inv-desc", "type": N, "qwords": [...], "error": "..."}.
 * Exit status: 0 decoded, 1 unknown descriptor type, 2 bad input. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/hw.h"
#include "tools/cmds.h"
#include "tools/json.h"

#define MAX_QWORDS 8
#define QW_CHECK(ID, NAME, NQ, DESC) \
    _Static_assert((NQ) >= 1 && (NQ) <= MAX_QWORDS, NAME ": qword count out of range");
HW_STRUCTS(QW_CHECK)

struct decode_opts {
    bool json, list;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vsvm decode [--json] STRUCTURE QWORD...\n"
            "       vsvm decode [--json] --list\n"
            "  QWORDs are hex (0x optional, '_' separators allowed), QW0 first;\n"
            "  missing qwords are zero. STRUCTURE 'inv-desc' reads the descriptor\n"
            "  type from its bits. See --list for the structures.\n");
}

static int bad(const char *fmt, const char *arg)
{
    fputs("vsvm decode: ", stderr);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return 2;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses a 64-bit hex value: optional 0x, at least one digit, '_' allowed
 * between digits. Returns 0, or 2 after printing why the text is rejected. */
static int parse_qword(const char *text, uint64_t *out)
{
    const char *p = text;
    uint64_t v = 0;
    unsigned digits = 0;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        p += 2;
    for (; *p; p++) {
        if (*p == '_' && digits && p[1] && p[1] != '_')
            continue;
        int d = hex_digit(*p);
        if (d < 0)
            return bad("'%s' is not a hex number", text);
        if (v >> 60)
            return bad("'%s' does not fit in 64 bits", text);
        v = v << 4 | (uint64_t)d;
        digits++;
    }
    if (!digits)
        return bad("'%s' is not a hex number (no digits)", text);
    *out = v;
    return 0;
}

/* ---- output ------------------------------------------------------------ */

static int list_structs(bool json)
{
    if (json)
        printf("{\"structures\": [");
    for (unsigned i = 0; i < HWS_COUNT; i++) {
        const struct hw_struct_desc *s = &hw_structs[i];
        if (!json) {
            printf("%-18s %u  %s\n", s->name, s->qwords, s->desc);
            continue;
        }
        printf("%s{\"name\": ", i ? ", " : "");
        json_str(stdout, s->name);
        printf(", \"id\": ");
        json_str(stdout, s->id);
        printf(", \"qwords\": %u, \"description\": ", s->qwords);
        json_str(stdout, s->desc);
        putchar('}');
    }
    if (json)
        printf("]}\n");
    return 0;
}

static void json_qwords(const uint64_t *q, unsigned n)
{
    printf("\"qwords\": [");
    for (unsigned i = 0; i < n; i++)
        printf("%s\"0x%016llx\"", i ? ", " : "", (unsigned long long)q[i]);
    putchar(']');
}

/* {"structure", ["type",] "qwords", "fields", "reserved_set"}; type < 0
 * when the structure was named directly. */
static void print_json(enum hw_struct_id id, const uint64_t *q, int type)
{
    const struct hw_struct_desc *s = &hw_structs[id];
    printf("{\"structure\": ");
    json_str(stdout, s->name);
    if (type >= 0)
        printf(", \"type\": %d", type);
    printf(", ");
    json_qwords(q, s->qwords);
    printf(", \"fields\": {");
    for (unsigned i = 0; i < s->nfields; i++) {
        printf("%s", i ? ", " : "");
        json_str(stdout, s->fields[i].name);
        printf(": %llu", (unsigned long long)hw_field_value(&s->fields[i], q));
    }
    printf("}, \"reserved_set\": [");
    for (unsigned qi = 0; qi < s->qwords; qi++)
        printf("%s\"0x%016llx\"", qi ? ", " : "", (unsigned long long)(q[qi] & s->rsvd[qi]));
    printf("]}\n");
}

/* `inv-desc`: the type comes from the descriptor (§4.1, §4.2). */
static int decode_inv_desc(const uint64_t *q, bool json)
{
    unsigned type = inv_desc_type(q);
    enum hw_struct_id id = inv_desc_struct(type);
    if (id != HWS_INV_DESC) {
        if (json) {
            print_json(id, q, (int)type);
        } else {
            printf("type %#x (%s)\n", type, hw_structs[id].name);
            hw_print(stdout, id, q);
        }
        return 0;
    }
    if (json) {
        printf("{\"structure\": \"inv-desc\", \"type\": %u, ", type);
        json_qwords(q, hw_structs[HWS_INV_DESC].qwords);
        printf(", \"error\": \"unknown invalidation descriptor type\"}\n");
    } else {
        printf("type %#x (unknown invalidation descriptor type)\n  qwords (QW0 first):", type);
        for (unsigned qi = 0; qi < hw_structs[HWS_INV_DESC].qwords; qi++)
            printf(" 0x%016llx", (unsigned long long)q[qi]);
        putchar('\n');
    }
    return 1;
}

/* ---- command ------------------------------------------------------------ */

/* Consumes leading options; returns the index of the first operand, or -1
 * after printing a usage error, or -2 for --help. */
static int parse_opts(int argc, char **argv, struct decode_opts *o)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (!strcmp(argv[i], "--json"))
            o->json = true;
        else if (!strcmp(argv[i], "--list"))
            o->list = true;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return -2;
        else {
            bad("unknown option '%s'", argv[i]);
            return -1;
        }
    }
    return i;
}

int cmd_decode(int argc, char **argv)
{
    struct decode_opts o = { 0 };
    int i = parse_opts(argc, argv, &o);
    if (i == -2) {
        usage(stdout);
        return 0;
    }
    if (i < 0) {
        usage(stderr);
        return 2;
    }
    if (o.list)
        return i < argc ? bad("--list takes no operands (got '%s')", argv[i]) : list_structs(o.json);
    if (i >= argc) {
        bad("%s", "missing STRUCTURE (see --list)");
        usage(stderr);
        return 2;
    }
    const struct hw_struct_desc *s = hw_struct_find(argv[i]);
    if (!s)
        return bad("unknown structure '%s' (see vsvm decode --list)", argv[i]);
    for (int k = i + 1; k < argc; k++)
        if (argv[k][0] == '-' && argv[k][1] == '-')
            return bad("options go before STRUCTURE ('%s')", argv[k]);
    int nq = argc - i - 1;
    if (nq == 0)
        return bad("no QWORD given for '%s'", s->name);
    if ((unsigned)nq > s->qwords) {
        fprintf(stderr, "vsvm decode: %s has %u qword%s, %d given\n", s->name, s->qwords,
                s->qwords == 1 ? "" : "s", nq);
        return 2;
    }
    uint64_t q[MAX_QWORDS] = { 0 };
    for (int k = 0; k < nq; k++) {
        if (parse_qword(argv[i + 1 + k], &q[k]))
            return 2;
    }
    enum hw_struct_id id = (enum hw_struct_id)(s - hw_structs);
    if (id == HWS_INV_DESC)
        return decode_inv_desc(q, o.json);
    if (o.json)
        print_json(id, q, -1);
    else
        hw_print(stdout, id, q);
    return 0;
}
