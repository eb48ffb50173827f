/* vsvm command line: global options, then a sub-command. */
#include <stdio.h>
#include <string.h>

#include "lib/trace.h"
#include "tools/cmds.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    { "run",    cmd_run,    "run the main demonstration (see README)" },
    { "decode", cmd_decode, "decode a register, table entry, descriptor or record" },
    { "bench",  cmd_bench,  "run benchmarks: bench [NAME] [--json]" },
    { "qtest",  cmd_qtest,  "scripted platform access on stdin/stdout (qtest-style)" },
    { "scenario", cmd_scenario, "run an RFC test case: scenario host [--json]" },
};

static void usage(FILE *out)
{
    fprintf(out, "usage: vsvm [--trace GLOB[,GLOB...]] [--trace-list] COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--trace") && i + 1 < argc) {
            if (trace_enable(argv[++i]) < 0) {
                fprintf(stderr, "vsvm: --trace '%s' matches no trace point (see --trace-list)\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--trace-list")) {
            trace_list(stdout);
            return 0;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "vsvm: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
        if (!strcmp(argv[i], commands[c].name))
            return commands[c].fn(argc - i, argv + i);
    fprintf(stderr, "vsvm: unknown command '%s'\n", argv[i]);
    usage(stderr);
    return 2;
}
